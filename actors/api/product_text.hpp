#pragma once

#include "actors/api/catalog_api.hpp"

#include <string>
#include <vector>

namespace souk::actors {

/// A product page as API.md shows it (`GET /v1/products/{id}`), as JSON text in parts: what is
/// the same for every caller is written once (the catalog keeps it with its cached page), and
/// each request only splices in the parts that depend on the stock and the caller's region:
/// `in_stock`, each SKU's `available` and `delivery`, and `region`.
class product_text {
public:
  explicit product_text(const product_view& p);

  /// The page with `deliveries` (one per SKU of the page, in order) for `region` (empty: none
  /// given), appended to `out`. `in_stock` is true when any SKU has units available.
  void write(std::string& out, const std::vector<sku_delivery>& deliveries,
             const std::string& region) const;

  /// Bytes of the fixed parts (to size the output).
  std::size_t size() const { return size_; }

private:
  std::string head_;                   ///< `{"id":…,…,"in_stock":`
  std::string middle_;                 ///< `,"description":…,"attributes":{…},"skus":[`
  std::vector<std::string> sku_heads_; ///< `{"sku":…,"price":{…},"attributes":{…},"available":`
  std::size_t size_ = 0;
};

/// The whole page in one call (the availability inside `p`).
std::string product_body(const product_view& p, const std::string& region = {});

} // namespace souk::actors
