// The seller/ops catalog writes over real sockets: a real http::server on 127.0.0.1 (port 0)
// serving the catalog routes and the seller routes over one sqlite_catalog with a small demo
// catalog. API.md "Catalog and search" (sellers/ops) and "Conventions": a bearer token with role
// seller or admin, problem+json refusals with stable codes and JSON pointers, and a write that
// the search sees as soon as it is answered.
#include "actors/catalog/sqlite_catalog.hpp"
#include "http/auth.hpp"
#include "http/router.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/routes/seller_routes.hpp"
#include "http/server.hpp"
#include "persistence/store.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using actors::catalog::sqlite_catalog;

constexpr std::int64_t demo_count = 200;
constexpr std::size_t body_limit = 16 * 1024;
const std::string token_secret = "seller-routes-test-secret-0123456789abcdef";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A bearer header value for `role`, valid for an hour (or `ttl` seconds, negative: expired).
std::string bearer(const std::string& role, std::int64_t ttl = 3600,
                   const std::string& key = token_secret) {
  return "Bearer " + sign_token({"u-test-" + role, role, unix_now() + ttl}, key);
}

class SellerRoutes : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::temp_dir>();
    auto opened = persistence::store::open(dir_->path() + "/data", config::store_settings{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    auto cat = sqlite_catalog::open(*store_, config::store_settings{});
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    catalog_ = std::move(*cat);
    ASSERT_TRUE(catalog_->load_demo(demo_count, 11).ok());

    routes_ = std::make_unique<router>();
    add_catalog_routes(*routes_, *catalog_);
    add_seller_routes(*routes_, *catalog_, token_secret);
    config::http_settings settings;
    settings.listen = {"127.0.0.1", 0};
    settings.threads = 2;
    settings.max_body_bytes = body_limit;
    settings.read_timeout = 5s;
    settings.idle_timeout = 10s;
    settings.drain_timeout = 2s;
    server_ = std::make_unique<server>(settings, *routes_);
    ASSERT_EQ(server_->start(), "");
    ASSERT_NE(server_->port(), 0);
  }

  static void TearDownTestSuite() {
    if (server_)
      server_->stop(2s);
    server_.reset();
    routes_.reset();
    catalog_.reset();
    store_.reset();
    dir_.reset();
  }

  void SetUp() override { ASSERT_TRUE(server_) << "the suite's server failed to start"; }

  // Whatever a test sent, the server stays healthy: a plain read still answers 200.
  void TearDown() override {
    if (!server_)
      return;
    auto reply = test::http_get(server_->port(), "/v1/products?limit=1");
    ASSERT_TRUE(reply) << "the server no longer answers";
    EXPECT_EQ(reply->status, 200) << reply->body;
  }

  /// `method target` with a JSON `body` and an `Authorization: <auth>` header (none when empty)
  /// on a fresh connection; fails the test when there is no answer.
  static test::http_reply call(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& auth) {
    test::http_connection conn{server_->port()};
    EXPECT_TRUE(conn.connected()) << "cannot connect: errno " << conn.error();
    std::string extra = "Content-Type: application/json\r\n";
    if (!auth.empty())
      extra += "Authorization: " + auth + "\r\n";
    auto reply = conn.round_trip(test::make_request(method, target, extra, body, false));
    EXPECT_TRUE(reply) << "no answer to " << method << " " << target;
    return reply ? *reply : test::http_reply{};
  }

  static test::http_reply as_seller(const std::string& method, const std::string& target,
                                    const json& body) {
    return call(method, target, body.dump(), bearer("seller"));
  }

  static test::http_reply get(const std::string& target) {
    auto reply = test::http_get(server_->port(), target);
    EXPECT_TRUE(reply) << "no answer to " << target;
    return reply ? *reply : test::http_reply{};
  }

  /// GET `target`, expecting 200 and JSON; the parsed body.
  static json get_json(const std::string& target) {
    auto reply = get(target);
    EXPECT_EQ(reply.status, 200) << target << ": " << reply.body;
    auto body = json::parse(reply.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << target << ": " << reply.body;
    return body;
  }

  /// The summary of product `id` in `GET /v1/products?q=<word>`, or null when it is not listed.
  static json find_by_word(const std::string& word, std::int64_t id) {
    auto body = get_json("/v1/products?limit=100&q=" + word);
    if (!body["data"].is_array())
      return nullptr;
    for (auto& p : body["data"])
      if (p["id"] == id)
        return p;
    return nullptr;
  }

  /// The titles `GET /v1/products?q=<word>` lists.
  static std::vector<std::string> titles_for(const std::string& word) {
    std::vector<std::string> out;
    auto body = get_json("/v1/products?limit=100&q=" + word);
    for (auto& p : body["data"])
      out.push_back(p["title"].get<std::string>());
    return out;
  }

  /// Creates a product (as a seller) with one SKU; its id, or 0 after a failed expectation.
  static std::int64_t create(const std::string& title, const std::string& sku,
                             std::int64_t amount = 100'000) {
    auto reply = as_seller("POST", "/v1/products", product(title, sku, amount));
    EXPECT_EQ(reply.status, 201) << reply.body;
    auto body = json::parse(reply.body, nullptr, false);
    return body.is_object() && body["id"].is_number_integer() ? body["id"].get<std::int64_t>() : 0;
  }

  static json product(const std::string& title, const std::string& sku,
                      std::int64_t amount = 100'000) {
    return {{"title", title},
            {"brand", "Souktest"},
            {"category", "sports/outdoor"},
            {"description", "Made for the seller route tests."},
            {"attributes", {{"color", "green"}}},
            {"skus",
             {{{"sku", sku},
               {"price", {{"amount", amount}, {"currency", "RUB"}}},
               {"attributes", {{"size", "L"}}}}}}};
  }

  /// A SKU id of the demo catalog.
  static std::string demo_sku() {
    auto page = get_json("/v1/products/1");
    EXPECT_TRUE(page["skus"].is_array() && !page["skus"].empty()) << page.dump();
    return page["skus"].empty() ? std::string{} : page["skus"][0]["sku"].get<std::string>();
  }

  static std::unique_ptr<test::temp_dir> dir_;
  static std::unique_ptr<persistence::store> store_;
  static std::unique_ptr<sqlite_catalog> catalog_;
  static std::unique_ptr<router> routes_;
  static std::unique_ptr<server> server_;
};

std::unique_ptr<test::temp_dir> SellerRoutes::dir_;
std::unique_ptr<persistence::store> SellerRoutes::store_;
std::unique_ptr<sqlite_catalog> SellerRoutes::catalog_;
std::unique_ptr<router> SellerRoutes::routes_;
std::unique_ptr<server> SellerRoutes::server_;

/// Checks a problem+json answer and returns its body.
json expect_problem(const test::http_reply& reply, int status, const std::string& code,
                    const std::string& what) {
  EXPECT_EQ(reply.status, status) << what << ": " << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/problem+json") << what;
  auto body = json::parse(reply.body, nullptr, false);
  EXPECT_TRUE(body.is_object()) << what << ": " << reply.body;
  if (!body.is_object())
    return json::object();
  EXPECT_EQ(body.value("code", std::string{}), code) << what << ": " << reply.body;
  EXPECT_EQ(body.value("status", 0), status) << what;
  EXPECT_TRUE(body["type"].is_string()) << what;
  EXPECT_TRUE(body["title"].is_string()) << what;
  EXPECT_FALSE(body.value("detail", std::string{}).empty()) << what;
  EXPECT_EQ(body.value("trace_id", std::string{}).size(), 32U) << what;
  if (code == "validation_failed") {
    EXPECT_TRUE(body["errors"].is_array() && !body["errors"].empty()) << what << ": " << reply.body;
    for (auto& e : body["errors"]) {
      EXPECT_TRUE(e["pointer"].is_string()) << what;
      EXPECT_TRUE(e["code"].is_string()) << what;
      EXPECT_TRUE(e["detail"].is_string()) << what;
    }
  }
  return body;
}

/// A 422 validation_failed whose first error points at `pointer`; returns that error.
json expect_invalid(const test::http_reply& reply, const std::string& pointer,
                    const std::string& what) {
  auto body = expect_problem(reply, 422, "validation_failed", what);
  if (!body["errors"].is_array() || body["errors"].empty())
    return json::object();
  EXPECT_EQ(body["errors"][0].value("pointer", std::string{"<none>"}), pointer)
      << what << ": " << reply.body;
  return body["errors"][0];
}

/// The three writes, each with a body that would be accepted with a good token.
struct write_call {
  std::string method;
  std::string target;
  std::string body;
};

std::vector<write_call> writes() {
  return {{"POST", "/v1/products",
           R"({"title":"Unauthorised","brand":"B","category":"sports/outdoor",)"
           R"("skus":[{"sku":"ST-AUTH-1","price":{"amount":100,"currency":"RUB"}}]})"},
          {"PATCH", "/v1/products/1", R"({"title":"Renamed without permission"})"},
          {"PUT", "/v1/skus/ST-AUTH-1/stock", R"({"warehouse_id":"wh-msk","on_hand":5})"}};
}

// -- authorisation --------------------------------------------------------------------------------

TEST_F(SellerRoutes, NoTokenAnswers401WithWwwAuthenticateAndChangesNothing) {
  auto before = catalog_->product_count();
  auto title_before = get_json("/v1/products/1")["title"];
  for (auto& w : writes()) {
    for (std::string auth : {"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer "}) {
      auto what = w.method + " " + w.target + " with '" + auth + "'";
      auto reply = call(w.method, w.target, w.body, auth);
      auto body = expect_problem(reply, 401, "unauthorized", what);
      EXPECT_EQ(reply.header("www-authenticate"), "Bearer") << what;
    }
    // The token is checked before the body: a broken body without a token is still a 401.
    expect_problem(call(w.method, w.target, "{broken", ""), 401, "unauthorized", w.target);
  }
  EXPECT_EQ(catalog_->product_count(), before);
  EXPECT_EQ(get_json("/v1/products/1")["title"], title_before);
}

TEST_F(SellerRoutes, ExpiredForgedOrGarbageTokenAnswers401) {
  auto before = catalog_->product_count();
  auto good = bearer("seller");
  auto tampered = good;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (auto& w : writes()) {
    for (auto& [name, auth] : std::vector<std::pair<std::string, std::string>>{
             {"expired", bearer("seller", -10)},
             {"forged", bearer("admin", 3600, "some other secret")},
             {"tampered", tampered},
             {"garbage", "Bearer not-a-token"},
             {"5 KB", "Bearer v1." + std::string(5000, 'A') + ".AAAA"},
             // Two Authorization headers, both good: RFC 9110 allows one.
             {"second header's", good + "\r\nAuthorization: " + good}}) {
      auto what = w.method + " " + w.target + " with a " + name + " token";
      auto reply = call(w.method, w.target, w.body, auth);
      expect_problem(reply, 401, "unauthorized", what);
      EXPECT_EQ(reply.header("www-authenticate"), "Bearer") << what;
    }
  }
  // The detail says why, so that a client can tell "log in again" from "wrong token".
  auto expired = json::parse(call("PATCH", "/v1/products/1", "{}", bearer("seller", -10)).body);
  EXPECT_NE(expired.value("detail", "").find("expired"), std::string::npos) << expired.dump();
  EXPECT_EQ(catalog_->product_count(), before);
}

TEST_F(SellerRoutes, BuyerRoleAnswers403Forbidden) {
  auto before = catalog_->product_count();
  for (auto& w : writes())
    for (std::string role : {"buyer", "", "Seller", "sellers"}) {
      auto what = w.method + " " + w.target + " as '" + role + "'";
      auto reply = call(w.method, w.target, w.body, bearer(role));
      expect_problem(reply, 403, "forbidden", what);
      EXPECT_EQ(reply.header("www-authenticate"), "") << what;
    }
  EXPECT_EQ(catalog_->product_count(), before);
}

TEST_F(SellerRoutes, AdminRoleMayWriteTheCatalogToo) {
  auto reply = call("POST", "/v1/products", product("Admintrelloq lantern", "ST-ADMIN-1").dump(),
                    bearer("admin"));
  EXPECT_EQ(reply.status, 201) << reply.body;
}

// -- POST /v1/products ----------------------------------------------------------------------------

TEST_F(SellerRoutes, SellerCreatesAProductThatSearchFindsAtOnce) {
  auto before = catalog_->product_count();
  auto reply = as_seller("POST", "/v1/products",
                         product("Zyxquorbit trail backpack", "ST-CREATE-1", 459'900));
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/json; charset=utf-8");
  auto body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.body;
  ASSERT_TRUE(body["id"].is_number_integer()) << reply.body;
  auto id = body["id"].get<std::int64_t>();
  EXPECT_GT(id, demo_count);
  EXPECT_EQ(reply.header("location"), "/v1/products/" + std::to_string(id));
  EXPECT_EQ(catalog_->product_count(), before + 1);

  // The body is the product page of API.md.
  EXPECT_EQ(body["title"], "Zyxquorbit trail backpack");
  EXPECT_EQ(body["brand"], "Souktest");
  EXPECT_EQ(body["category"], "sports/outdoor");
  EXPECT_EQ(body["description"], "Made for the seller route tests.");
  EXPECT_EQ(body["attributes"], (json{{"color", "green"}}));
  EXPECT_EQ(body["price"], (json{{"amount", 459'900}, {"currency", "RUB"}}));
  EXPECT_TRUE(body["rating"].is_number());
  EXPECT_TRUE(body["image_url"].is_string());
  EXPECT_EQ(body["in_stock"], false);
  ASSERT_TRUE(body["skus"].is_array());
  ASSERT_EQ(body["skus"].size(), 1U);
  auto& sku = body["skus"][0];
  EXPECT_EQ(sku["sku"], "ST-CREATE-1");
  EXPECT_EQ(sku["price"], (json{{"amount", 459'900}, {"currency", "RUB"}}));
  EXPECT_EQ(sku["attributes"], (json{{"size", "L"}}));
  EXPECT_EQ(sku["available"], 0);
  EXPECT_TRUE(sku.contains("delivery"));

  // The Location answers, and the search finds the product at once (no waiting, no retry).
  auto page = get_json(reply.header("location"));
  EXPECT_EQ(page["id"], id);
  EXPECT_EQ(page["title"], "Zyxquorbit trail backpack");
  auto found = find_by_word("zyxquorbit", id);
  ASSERT_FALSE(found.is_null()) << "the new product is not in the search";
  EXPECT_EQ(found["title"], "Zyxquorbit trail backpack");
  EXPECT_EQ(found["price"], (json{{"amount", 459'900}, {"currency", "RUB"}}));
  EXPECT_EQ(found["in_stock"], false);
}

TEST_F(SellerRoutes, MissingRequiredFieldsAnswer422WithTheirPointer) {
  auto full = product("Requiredfield tent", "ST-REQ-1");
  for (std::string field : {"title", "brand", "category", "skus"}) {
    auto body = full;
    body.erase(field);
    expect_invalid(as_seller("POST", "/v1/products", body), "/" + field, "without " + field);
  }
  auto empty_skus = full;
  empty_skus["skus"] = json::array();
  expect_invalid(as_seller("POST", "/v1/products", empty_skus), "/skus", "no SKUs");
  auto unknown_category = full;
  unknown_category["category"] = "no/such/category";
  auto err = expect_invalid(as_seller("POST", "/v1/products", unknown_category), "/category",
                            "unknown category");
  EXPECT_EQ(err.value("code", ""), "unknown_category");
  auto long_title = full;
  long_title["title"] = std::string(301, 't');
  expect_invalid(as_seller("POST", "/v1/products", long_title), "/title", "a 301-character title");
  auto zero_price = full;
  zero_price["skus"][0]["price"]["amount"] = 0;
  expect_invalid(as_seller("POST", "/v1/products", zero_price), "/skus/0/price", "a zero price");
}

// -- PATCH /v1/products/{id} ----------------------------------------------------------------------

TEST_F(SellerRoutes, PatchChangesTheTitleForTheSearchAndAddsASku) {
  auto id = create("Quombrilax folding chair", "ST-PATCH-1", 250'000);
  ASSERT_GT(id, 0);
  ASSERT_FALSE(find_by_word("quombrilax", id).is_null());

  auto target = "/v1/products/" + std::to_string(id);
  auto reply = as_seller(
      "PATCH", target,
      {{"title", "Vextrimolo folding chair"},
       {"skus", {{{"sku", "ST-PATCH-2"}, {"price", {{"amount", 199'900}, {"currency", "RUB"}}}}}}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.body;
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["title"], "Vextrimolo folding chair");
  EXPECT_EQ(body["brand"], "Souktest") << "fields left out of a PATCH stay as they were";
  EXPECT_EQ(body["description"], "Made for the seller route tests.");
  EXPECT_EQ(body["price"]["amount"], 199'900) << "the price is the lowest SKU price";
  ASSERT_EQ(body["skus"].size(), 2U) << reply.body;
  std::vector<std::string> skus;
  for (auto& s : body["skus"])
    skus.push_back(s["sku"].get<std::string>());
  EXPECT_EQ(skus, (std::vector<std::string>{"ST-PATCH-1", "ST-PATCH-2"}));

  EXPECT_TRUE(find_by_word("quombrilax", id).is_null()) << "the old title still finds it";
  auto found = find_by_word("vextrimolo", id);
  ASSERT_FALSE(found.is_null()) << "the new title does not find it";
  EXPECT_EQ(found["title"], "Vextrimolo folding chair");
  EXPECT_EQ(found["price"]["amount"], 199'900);
  auto page = get_json(target);
  EXPECT_EQ(page["skus"].size(), 2U) << page.dump();

  // Changing an existing SKU's price keeps the SKU count.
  auto again = as_seller("PATCH", target,
                         {{"skus", {{{"sku", "ST-PATCH-2"}, {"price", {{"amount", 299'900}}}}}}});
  ASSERT_EQ(again.status, 200) << again.body;
  auto changed = json::parse(again.body);
  EXPECT_EQ(changed["skus"].size(), 2U);
  EXPECT_EQ(changed["price"]["amount"], 250'000);
}

TEST_F(SellerRoutes, PatchOfAnUnknownProductAnswers404) {
  expect_problem(as_seller("PATCH", "/v1/products/987654321", {{"title", "Nobody"}}), 404,
                 "not_found", "an id that does not exist");
  for (std::string id : {"abc", "0", "-1", "1.5", "99999999999999999999"})
    expect_problem(as_seller("PATCH", "/v1/products/" + id, {{"title", "Nobody"}}), 404,
                   "not_found", "id " + id);
}

// -- PUT /v1/skus/{sku}/stock ---------------------------------------------------------------------

TEST_F(SellerRoutes, PutStockAnswersAvailableAndTheProductBecomesInStock) {
  auto id = create("Glorbentrax camping stove", "ST-STOCK-1");
  ASSERT_GT(id, 0);
  ASSERT_EQ(find_by_word("glorbentrax", id)["in_stock"], false);

  auto reply =
      as_seller("PUT", "/v1/skus/ST-STOCK-1/stock", {{"warehouse_id", "wh-msk"}, {"on_hand", 7}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/json; charset=utf-8");
  auto body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply.body;
  EXPECT_EQ(body["sku"], "ST-STOCK-1");
  EXPECT_EQ(body["warehouse_id"], "wh-msk");
  EXPECT_EQ(body["on_hand"], 7);
  EXPECT_EQ(body["available"], 7);

  auto found = find_by_word("glorbentrax", id);
  ASSERT_FALSE(found.is_null());
  EXPECT_EQ(found["in_stock"], true);
  auto in_stock_only = get_json("/v1/products?in_stock=true&limit=100&q=glorbentrax");
  ASSERT_EQ(in_stock_only["data"].size(), 1U) << in_stock_only.dump();
  EXPECT_EQ(in_stock_only["data"][0]["id"], id);

  // A second warehouse adds up; setting one back to zero takes only its units away.
  auto more =
      as_seller("PUT", "/v1/skus/ST-STOCK-1/stock", {{"warehouse_id", "wh-nsk"}, {"on_hand", 3}});
  ASSERT_EQ(more.status, 200) << more.body;
  EXPECT_EQ(json::parse(more.body)["available"], 10);
  for (std::string wh : {"wh-msk", "wh-nsk"}) {
    auto zero =
        as_seller("PUT", "/v1/skus/ST-STOCK-1/stock", {{"warehouse_id", wh}, {"on_hand", 0}});
    ASSERT_EQ(zero.status, 200) << zero.body;
  }
  EXPECT_EQ(find_by_word("glorbentrax", id)["in_stock"], false) << "sold out again";
}

TEST_F(SellerRoutes, PutStockRefusesUnknownSkusWarehousesAndBadCounts) {
  auto id = create("Plinkostrum headlamp", "ST-STOCK-2");
  ASSERT_GT(id, 0);
  const std::string target = "/v1/skus/ST-STOCK-2/stock";

  expect_problem(
      as_seller("PUT", "/v1/skus/NO-SUCH-SKU/stock", {{"warehouse_id", "wh-msk"}, {"on_hand", 1}}),
      404, "unknown_sku", "an unknown SKU");
  auto wh =
      expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-nowhere"}, {"on_hand", 1}}),
                     "/warehouse_id", "an unknown warehouse");
  EXPECT_EQ(wh.value("code", ""), "unknown_warehouse");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-msk"}, {"on_hand", -1}}),
                 "/on_hand", "a negative count");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-msk"}, {"on_hand", "5"}}),
                 "/on_hand", "on_hand as a string");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-msk"}, {"on_hand", 1.5}}),
                 "/on_hand", "on_hand as a fraction");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-msk"}, {"on_hand", nullptr}}),
                 "/on_hand", "on_hand null");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", "wh-msk"}}), "/on_hand",
                 "without on_hand");
  expect_invalid(as_seller("PUT", target, {{"on_hand", 1}}), "/warehouse_id",
                 "without warehouse_id");
  expect_invalid(as_seller("PUT", target, {{"warehouse_id", 5}, {"on_hand", 1}}), "/warehouse_id",
                 "warehouse_id as a number");
  auto extra = expect_invalid(
      as_seller("PUT", target, {{"warehouse_id", "wh-msk"}, {"on_hand", 1}, {"reserved", 0}}),
      "/reserved", "an unknown field");
  EXPECT_NE(extra.value("detail", "").find("reserved"), std::string::npos) << extra.dump();

  // None of these changed the stock.
  EXPECT_EQ(find_by_word("plinkostrum", id)["in_stock"], false);
}

// -- bodies that are not what the API takes -------------------------------------------------------

TEST_F(SellerRoutes, MalformedJsonAnswers400OnEveryWrite) {
  for (auto& w : writes())
    for (std::string body : {"{broken", "{\"title\": ", "not json at all", "{\"a\":1}}", "\xff\xfe",
                             "{\"title\":\"A\",\"title\":\"B\"}"}) {
      auto what = w.method + " " + w.target + " with '" + body + "'";
      expect_problem(call(w.method, w.target, body, bearer("seller")), 400, "malformed_json", what);
    }
}

TEST_F(SellerRoutes, ABodyThatIsNotAnObjectAnswers422) {
  for (auto& w : writes())
    for (std::string body : {"[]", "[{\"title\":\"x\"}]", "\"text\"", "42", "null", "true"}) {
      auto what = w.method + " " + w.target + " with " + body;
      auto reply = call(w.method, w.target, body, bearer("seller"));
      auto err = expect_invalid(reply, "", what);
      EXPECT_FALSE(err.value("detail", "").empty()) << what;
    }
}

TEST_F(SellerRoutes, UnknownFieldsAnswer422NamingThem) {
  auto body = product("Unknownfield kettle", "ST-UNKNOWN-1");
  body["colour"] = "red";
  auto err =
      expect_invalid(as_seller("POST", "/v1/products", body), "/colour", "a top-level field");
  EXPECT_NE(err.value("detail", "").find("colour"), std::string::npos) << err.dump();

  // Inside a SKU and inside a price too: a misspelt field is never silently dropped.
  auto in_sku = product("Unknownfield kettle", "ST-UNKNOWN-1");
  in_sku["skus"][0]["stock"] = 5;
  err = expect_invalid(as_seller("POST", "/v1/products", in_sku), "/skus/0/stock", "a SKU field");
  EXPECT_NE(err.value("detail", "").find("stock"), std::string::npos) << err.dump();
  auto in_price = product("Unknownfield kettle", "ST-UNKNOWN-1");
  in_price["skus"][0]["price"]["amout"] = 5;
  err = expect_invalid(as_seller("POST", "/v1/products", in_price), "/skus/0/price/amout",
                       "a price field");
  EXPECT_NE(err.value("detail", "").find("amout"), std::string::npos) << err.dump();

  // A name with '/' or '~' is escaped in the pointer (RFC 6901).
  auto odd = product("Unknownfield kettle", "ST-UNKNOWN-1");
  odd["a/b~c"] = 1;
  expect_invalid(as_seller("POST", "/v1/products", odd), "/a~1b~0c", "an odd name");

  auto patch = expect_invalid(as_seller("PATCH", "/v1/products/1", {{"titel", "Typo"}}), "/titel",
                              "a PATCH field");
  EXPECT_NE(patch.value("detail", "").find("titel"), std::string::npos) << patch.dump();
  for (auto& title : titles_for("unknownfield"))
    EXPECT_EQ(title.find("Unknownfield"), std::string::npos) << "created anyway: " << title;
}

TEST_F(SellerRoutes, WrongFieldTypesAnswer422WithTheirPointer) {
  auto base = product("Wrongtype lamp", "ST-TYPE-1");
  struct bad_case {
    std::string what;
    json body;
    std::string pointer;
  };
  std::vector<bad_case> cases;
  auto with = [&](const std::string& what, auto change, const std::string& pointer) {
    auto b = base;
    change(b);
    cases.push_back({what, b, pointer});
  };
  with(
      "title as a number", [](json& b) { b["title"] = 5; }, "/title");
  with(
      "brand null", [](json& b) { b["brand"] = nullptr; }, "/brand");
  with(
      "description as an array", [](json& b) { b["description"] = json::array(); }, "/description");
  with(
      "attributes as a string", [](json& b) { b["attributes"] = "red"; }, "/attributes");
  with(
      "an attribute value as a number", [](json& b) { b["attributes"]["weight"] = 3; },
      "/attributes/weight");
  with(
      "skus as an object", [](json& b) { b["skus"] = json::object(); }, "/skus");
  with(
      "a SKU without sku", [](json& b) { b["skus"][0].erase("sku"); }, "/skus/0/sku");
  with(
      "a SKU as a string", [](json& b) { b["skus"][0] = "ST-1"; }, "/skus/0");
  with(
      "a SKU's attributes as a list",
      [](json& b) {
        b["skus"][0]["attributes"] = {1, 2};
      },
      "/skus/0/attributes");
  for (auto& c : cases)
    expect_invalid(as_seller("POST", "/v1/products", c.body), c.pointer, c.what);
  for (auto& title : titles_for("wrongtype"))
    EXPECT_EQ(title.find("Wrongtype"), std::string::npos) << "created anyway: " << title;
}

TEST_F(SellerRoutes, APriceWithoutAmountOrInAnotherCurrencyAnswers422) {
  auto base = product("Pricecheck lamp", "ST-PRICE-1");
  auto no_amount = base;
  no_amount["skus"][0]["price"] = {{"currency", "RUB"}};
  expect_invalid(as_seller("POST", "/v1/products", no_amount), "/skus/0/price", "no amount");
  auto usd = base;
  usd["skus"][0]["price"]["currency"] = "USD";
  auto err = expect_invalid(as_seller("POST", "/v1/products", usd), "/skus/0/price/currency",
                            "currency USD");
  EXPECT_NE(err.value("detail", "").find("RUB"), std::string::npos) << err.dump();
  auto number = base;
  number["skus"][0]["price"] = 100;
  expect_invalid(as_seller("POST", "/v1/products", number), "/skus/0/price", "a bare number");
  auto text = base;
  text["skus"][0]["price"]["amount"] = "100";
  expect_invalid(as_seller("POST", "/v1/products", text), "/skus/0/price", "amount as text");
  auto fraction = base;
  fraction["skus"][0]["price"]["amount"] = 99.5;
  expect_invalid(as_seller("POST", "/v1/products", fraction), "/skus/0/price", "a fraction");
  auto negative = base;
  negative["skus"][0]["price"]["amount"] = -100;
  expect_invalid(as_seller("POST", "/v1/products", negative), "/skus/0/price", "a negative price");
  // The second SKU is named by its index.
  auto second = base;
  second["skus"].push_back(
      {{"sku", "ST-PRICE-2"}, {"price", {{"currency", "EUR"}, {"amount", 1}}}});
  expect_invalid(as_seller("POST", "/v1/products", second), "/skus/1/price/currency",
                 "the second SKU in EUR");
  // Without a currency the amount is taken as roubles.
  auto roubles = base;
  roubles["skus"][0]["price"] = {{"amount", 12'300}};
  auto ok = as_seller("POST", "/v1/products", roubles);
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["price"], (json{{"amount", 12'300}, {"currency", "RUB"}}));
}

TEST_F(SellerRoutes, ASkuOfAnotherProductAnswers409SkuTaken) {
  auto first = create("Duplisku canteen", "ST-DUP-1");
  ASSERT_GT(first, 0);
  auto second = create("Duplisku flask", "ST-DUP-2");
  ASSERT_GT(second, 0);
  auto before = catalog_->product_count();

  expect_problem(as_seller("POST", "/v1/products", product("Duplisku bottle", "ST-DUP-1")), 409,
                 "sku_taken", "POST with another product's SKU");
  expect_problem(as_seller("POST", "/v1/products", product("Duplisku bottle", demo_sku())), 409,
                 "sku_taken", "POST with a demo product's SKU");
  auto patch = as_seller(
      "PATCH", "/v1/products/" + std::to_string(second),
      {{"skus", {{{"sku", "ST-DUP-1"}, {"price", {{"amount", 5}, {"currency", "RUB"}}}}}}});
  expect_problem(patch, 409, "sku_taken", "PATCH with another product's SKU");
  EXPECT_EQ(catalog_->product_count(), before);
  // The SKU still belongs to the first product, at its old price.
  auto page = get_json("/v1/products/" + std::to_string(first));
  ASSERT_EQ(page["skus"].size(), 1U);
  EXPECT_EQ(page["skus"][0]["price"]["amount"], 100'000);
  EXPECT_EQ(get_json("/v1/products/" + std::to_string(second))["skus"].size(), 1U);
  // The same SKU twice in one body is a validation error, not a server error.
  auto twice = product("Duplisku jug", "ST-DUP-3");
  twice["skus"].push_back(twice["skus"][0]);
  expect_invalid(as_seller("POST", "/v1/products", twice), "/skus/1/sku", "one SKU twice");
}

// -- the edge's limits ----------------------------------------------------------------------------

TEST_F(SellerRoutes, ABodyOverTheServersLimitAnswers413) {
  test::http_connection conn{server_->port()};
  ASSERT_TRUE(conn.connected());
  // The declared length alone is refused, before the body is read (the server then closes, so
  // sending the rest would only race its reset).
  auto head = "POST /v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Authorization: " +
              bearer("seller") + "\r\nContent-Length: " + std::to_string(body_limit + 1) +
              "\r\n\r\n";
  auto reply = conn.round_trip(head);
  ASSERT_TRUE(reply);
  expect_problem(*reply, 413, "body_too_large", "a body one byte over the limit");
  EXPECT_TRUE(conn.wait_closed(2s));

  // A product body padded to exactly the limit is still read and created.
  auto body = product("Limitedge poncho", "ST-LIMIT-1").dump();
  ASSERT_LT(body.size(), body_limit);
  body.insert(body.size() - 1, std::string(body_limit - body.size(), ' '));
  ASSERT_EQ(body.size(), body_limit);
  auto at_limit = call("POST", "/v1/products", body, bearer("seller"));
  EXPECT_EQ(at_limit.status, 201) << at_limit.body;
}

TEST_F(SellerRoutes, TheServerStaysHealthyAfterEveryRefusal) {
  // Runs after the others in file order; TearDown checks the same after every test.
  auto health = get("/v1/products?q=zyxquorbit");
  EXPECT_EQ(health.status, 200) << health.body;
  auto page = get("/v1/products/1");
  EXPECT_EQ(page.status, 200) << page.body;
  auto stats = server_->stats();
  EXPECT_GT(stats.requests, 0U);
}

} // namespace
} // namespace souk::http
