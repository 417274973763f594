// The defaults of catalog_service's derived calls, for implementations that have nothing
// faster (the SQLite catalog overrides both with its caches).
#include "actors/api/catalog_api.hpp"

#include "actors/api/product_text.hpp"

#include <algorithm>

namespace souk::actors {

catalog_result<std::string> catalog_service::product_page(std::int64_t id,
                                                          const std::string& region) {
  auto page = product(id, region);
  if (!page.ok())
    return {std::nullopt, std::move(page.error)};
  return {product_body(*page.value, region), {}};
}

bool catalog_service::has_region(const std::string& id) {
  auto all = regions();
  return std::any_of(all.begin(), all.end(), [&id](auto& r) { return r.id == id; });
}

} // namespace souk::actors
