#include "actors/common/entity_context.hpp"

#include <algorithm>
#include <utility>

namespace souk::actors {

std::vector<std::string> nearest_warehouses(const entity_context& ctx, const std::string& region) {
  std::vector<std::pair<int, std::string>> ranked;
  for (auto& w : ctx.warehouses)
    ranked.emplace_back(ctx.delivery_days ? ctx.delivery_days(w.region, region) : 0, w.id);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (auto& r : ranked)
    out.push_back(r.second);
  return out;
}

} // namespace souk::actors
