#include "fuzz/targets.hpp"

#include "actors/api/catalog_api.hpp"
#include "actors/api/gateway.hpp"
#include "http/event_hub.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/routes/client_routes.hpp"
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

/// Entities that answer at once, on the calling thread (the fuzzer needs every answer inside
/// the handler): the client routes' decoding, validation and answer mapping run for real.
class fake_gateway final : public actors::entity_gateway {
public:
  void cart_get(const std::string&, millis, callback<actors::cart_answer> cb) override {
    cb({}, cart());
  }
  void cart_add(const std::string&, actors::cart_add_cmd c, millis,
                callback<actors::cart_answer> cb) override {
    cb({}, cart(c.qty > 50               ? "invalid_quantity"
                : c.expected_version > 1 ? "version_mismatch"
                                         : ""));
  }
  void cart_set(const std::string&, actors::cart_set_cmd c, millis,
                callback<actors::cart_answer> cb) override {
    cb({}, cart(c.sku == "sku-1" ? "" : "not_in_cart"));
  }
  void cart_remove(const std::string&, actors::cart_remove_cmd c, millis,
                   callback<actors::cart_answer> cb) override {
    cb({}, cart(c.sku == "sku-1" ? "" : "not_in_cart"));
  }
  void cart_clear(const std::string&, std::int64_t v, millis,
                  callback<actors::cart_answer> cb) override {
    cb({}, cart(v > 1 ? "version_mismatch" : ""));
  }
  void cart_merge(const std::string&, actors::cart_merge_cmd, millis,
                  callback<actors::cart_answer> cb) override {
    cb({}, cart());
  }
  void checkout(const std::string&, actors::cart_checkout_cmd c, millis,
                callback<actors::order_answer> cb) override {
    if (c.city.size() % 3 == 0)
      return cb({"timeout", ""}, {});
    if (c.city.size() % 3 == 1)
      return cb({}, {"insufficient_stock", "REJECTED", order(c.order_id, "REJECTED"), ""});
    cb({}, {"", "PENDING_PAYMENT", order(c.order_id, "PENDING_PAYMENT"), ""});
  }
  void order_view(const std::string& id, millis, callback<actors::order_answer> cb) override {
    cb({}, {"", "PAID", order(id, "PAID"), ""});
  }
  void order_cancel(const std::string& id, millis, callback<actors::order_answer> cb) override {
    cb({}, {"not_cancellable", "SHIPPED", order(id, "SHIPPED"), ""});
  }
  void order_return(const std::string& id, std::vector<actors::checkout_line>, std::string, millis,
                    callback<actors::order_answer> cb) override {
    cb({}, {"", "RETURNED", order(id, "RETURNED"), ""});
  }
  void user_create(actors::user_profile p, millis, callback<actors::user_answer> cb) override {
    cb({}, {"", std::move(p)});
  }
  void user_get(const std::string&, millis, callback<actors::user_answer> cb) override {
    cb({}, {"unknown_entity", {}});
  }
  void user_add_order(const std::string&, const std::string&, millis, callback<bool> cb) override {
    cb({}, true);
  }
  void user_orders(const std::string&, std::int64_t before, std::int64_t, millis,
                   callback<actors::user_orders_page> cb) override {
    cb({}, {{"o_1", "o_2"}, before > 2 ? before - 2 : -1});
  }
  void user_owns(const std::string&, const std::string& id, millis, callback<bool> cb) override {
    cb({}, id == "o_1");
  }
  void wishlist(const std::string&, millis, callback<actors::wishlist_answer> cb) override {
    cb({}, {"", {1}});
  }
  void wish_add(const std::string&, std::int64_t, millis,
                callback<actors::wishlist_answer> cb) override {
    cb({}, {"", {1}});
  }
  void wish_remove(const std::string&, std::int64_t id, millis,
                   callback<actors::wishlist_answer> cb) override {
    cb({}, {id == 1 ? "" : "not_in_wishlist", {}});
  }
  void idem_begin(const std::string&, const std::string&, bool, millis,
                  callback<actors::idem_answer> cb) override {
    cb({}, {"new", {}, 1});
  }
  void idem_finish(const std::string&, const std::string&, std::int64_t, actors::stored_response,
                   millis, callback<bool> cb) override {
    cb({}, true);
  }
  void idem_abort(const std::string&, const std::string&, std::int64_t, millis,
                  callback<bool> cb) override {
    cb({}, true);
  }

private:
  static actors::cart_answer cart(std::string code = {}) {
    return {std::move(code), R"({"items":[{"line_total":{"amount":129900,"currency":"RUB"},)"
                             R"("product_id":1,"qty":1,"sku":"sku-1","title":"Phone",)"
                             R"("unit_price":{"amount":129900,"currency":"RUB"}}],)"
                             R"("subtotal":{"amount":129900,"currency":"RUB"},"version":1})"};
  }
  static std::string order(const std::string& id, const std::string& status) {
    return R"({"id":")" + id + R"(","user_id":"u_fuzz","status":")" + status +
           R"(","lines":[{"sku":"sku-1","qty":2,"available":1}]})";
  }
};

} // namespace

void register_targets(http::router& routes) {
  static fake_catalog catalog; // the routes keep a reference: it lives as long as the process
  http::add_health_routes(routes, "fuzz", [] { return http::readiness{false, "fuzzing"}; });
  http::add_catalog_routes(routes, catalog);
  http::add_seller_routes(routes, catalog, token_secret);
  // The client routes but accounts (their password derivation answers from its own thread).
  auto env = std::make_shared<http::client_env>();
  env->gateway = std::make_shared<fake_gateway>();
  env->catalog = &catalog;
  env->token_secret = token_secret;
  http::add_cart_routes(routes, env);
  http::add_order_routes(routes, env);
  http::add_event_routes(routes, env, std::make_shared<http::event_hub>(10, 100));
}

} // namespace souk::fuzz
