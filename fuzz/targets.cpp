#include "fuzz/targets.hpp"

#include "actors/api/catalog_api.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/routes/health.hpp"
#include "http/routes/seller_routes.hpp"

namespace souk::fuzz {
namespace {

/// A catalog of one product (id 1, SKU "sku-1") that accepts every valid change: the routes'
/// parsing, validation and JSON encoding run for real, the store does not.
class fake_catalog final : public actors::catalog_service {
public:
  actors::catalog_result<actors::search_result> search(const actors::search_request& req) override {
    if (req.cursor == "bad")
      return actors::catalog_result<actors::search_result>::fail("bad_cursor", "/cursor",
                                                                 "not a cursor");
    actors::search_result out;
    out.data.push_back(page().summary);
    out.total_estimate = 1;
    out.category_facet.push_back({"phones", 1});
    out.brand_facet.push_back({"Acme", 1});
    out.price_facet.push_back({0, std::nullopt, 1});
    return {out, {}};
  }
  actors::catalog_result<std::vector<actors::suggestion>> suggest(const std::string& prefix,
                                                                  int) override {
    return {std::vector<actors::suggestion>{{prefix + "phone", 1}}, {}};
  }
  actors::catalog_result<actors::product_view> product(std::int64_t id,
                                                       const std::string&) override {
    if (id != 1)
      return actors::catalog_result<actors::product_view>::fail("not_found", "", "no product");
    return {page(), {}};
  }
  actors::catalog_result<actors::sku_offer> offer(const std::string& sku) override {
    if (sku != "sku-1")
      return actors::catalog_result<actors::sku_offer>::fail("unknown_sku", "", "no such SKU");
    return {actors::sku_offer{"sku-1", 1, "Phone", 129900}, {}};
  }
  std::vector<actors::category_view> categories() override { return {{"phones", "Phones", "", 1}}; }
  std::vector<actors::region_view> regions() override { return {{"msk", "Moscow"}}; }
  std::vector<actors::warehouse_view> warehouses() override {
    return {{"wh-msk", "Moscow 1", "msk"}};
  }
  actors::catalog_result<actors::product_view>
  create_product(const actors::product_change& change) override {
    return {apply(page(), change), {}};
  }
  actors::catalog_result<actors::product_view>
  update_product(std::int64_t id, const actors::product_change& change) override {
    if (id != 1)
      return actors::catalog_result<actors::product_view>::fail("not_found", "", "no product");
    return {apply(page(), change), {}};
  }
  actors::catalog_result<actors::sku_view> set_stock(const std::string& sku,
                                                     const std::string& warehouse_id,
                                                     std::int64_t on_hand) override {
    if (sku != "sku-1")
      return actors::catalog_result<actors::sku_view>::fail("unknown_sku", "", "no such SKU");
    if (warehouse_id != "wh-msk")
      return actors::catalog_result<actors::sku_view>::fail("unknown_warehouse", "/warehouse_id",
                                                            "no such warehouse");
    auto out = page().skus.front();
    out.delivery.available = on_hand;
    return {out, {}};
  }

private:
  static actors::product_view page() {
    actors::product_view p;
    p.summary = {1, "Phone", "Acme", "phones", 129900, 4.5, 10, true};
    p.description = "A phone.";
    p.attributes = {{"color", "black"}};
    p.skus.push_back({"sku-1", 129900, {{"memory", "128"}}, {5, "wh-msk", 1}});
    return p;
  }
  static actors::product_view apply(actors::product_view p, const actors::product_change& c) {
    if (c.title)
      p.summary.title = *c.title;
    if (c.description)
      p.description = *c.description;
    if (c.brand)
      p.summary.brand = *c.brand;
    if (c.category)
      p.summary.category = *c.category;
    if (c.attributes)
      p.attributes = *c.attributes;
    for (auto& sku : c.skus)
      p.skus.push_back(sku);
    return p;
  }
};

} // namespace

void register_targets(http::router& routes) {
  static fake_catalog catalog; // the routes keep a reference: it lives as long as the process
  http::add_health_routes(routes, "fuzz", [] { return http::readiness{false, "fuzzing"}; });
  http::add_catalog_routes(routes, catalog);
  http::add_seller_routes(routes, catalog, token_secret);
}

} // namespace souk::fuzz
