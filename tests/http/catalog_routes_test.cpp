// The catalog routes over real sockets: a real http::server on 127.0.0.1 (port 0) serving a
// sqlite_catalog with 2,000 demo products. Shapes follow API.md "Catalog and search"; hostile
// input gets a clear 4xx problem+json, never a 500 and never SQL in the body.
#include "actors/catalog/sqlite_catalog.hpp"
#include "http/router.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/server.hpp"
#include "persistence/store.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using actors::catalog::sqlite_catalog;

constexpr std::int64_t demo_count = 2000;

class CatalogRoutes : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::temp_dir>();
    auto opened = persistence::store::open(dir_->path() + "/data", config::store_settings{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    auto cat = sqlite_catalog::open(*store_, config::store_settings{});
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    catalog_ = std::move(*cat);
    ASSERT_TRUE(catalog_->load_demo(demo_count, 7).ok());

    routes_ = std::make_unique<router>();
    add_catalog_routes(*routes_, *catalog_);
    config::http_settings settings;
    settings.listen = {"127.0.0.1", 0};
    settings.threads = 2;
    settings.max_header_bytes = 32 * 1024; // a 10 KB query reaches the catalog
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

  static sqlite_catalog& catalog() { return *catalog_; }

  /// GET `target` on a fresh connection; fails the test when there is no answer.
  static test::http_reply get(const std::string& target) {
    auto reply = test::http_get(server_->port(), target);
    EXPECT_TRUE(reply) << "no answer to " << target;
    return reply ? *reply : test::http_reply{};
  }

  /// GET `target`, expecting 200 and JSON; the parsed body.
  static json get_json(const std::string& target) {
    auto reply = get(target);
    EXPECT_EQ(reply.status, 200) << target << ": " << reply.body;
    EXPECT_EQ(reply.header("content-type"), "application/json; charset=utf-8") << target;
    auto body = json::parse(reply.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << target << ": " << reply.body;
    return body;
  }

  static std::unique_ptr<test::temp_dir> dir_;
  static std::unique_ptr<persistence::store> store_;
  static std::unique_ptr<sqlite_catalog> catalog_;
  static std::unique_ptr<router> routes_;
  static std::unique_ptr<server> server_;
};

std::unique_ptr<test::temp_dir> CatalogRoutes::dir_;
std::unique_ptr<persistence::store> CatalogRoutes::store_;
std::unique_ptr<sqlite_catalog> CatalogRoutes::catalog_;
std::unique_ptr<router> CatalogRoutes::routes_;
std::unique_ptr<server> CatalogRoutes::server_;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// True when `body` shows anything of the store's internals.
bool leaks_sql(const std::string& body) {
  auto b = lower(body);
  for (const char* word : {"sqlite", "select ", "insert ", "fts5", "syntax error", "no such",
                           "products_fts", "match ", "malformed"})
    if (b.find(word) != std::string::npos)
      return true;
  return false;
}

void expect_money(const json& m, const std::string& what) {
  ASSERT_TRUE(m.is_object()) << what << ": " << m.dump();
  ASSERT_TRUE(m.contains("amount") && m["amount"].is_number_integer()) << what;
  EXPECT_GT(m["amount"].get<std::int64_t>(), 0) << what;
  EXPECT_EQ(m["currency"], "RUB") << what;
}

void expect_summary_shape(const json& p) {
  ASSERT_TRUE(p.is_object());
  EXPECT_TRUE(p["id"].is_number_integer());
  EXPECT_TRUE(p["title"].is_string());
  EXPECT_TRUE(p["brand"].is_string());
  EXPECT_TRUE(p["category"].is_string());
  expect_money(p["price"], "price of " + p.value("title", std::string{}));
  EXPECT_TRUE(p["rating"].is_number());
  EXPECT_TRUE(p["image_url"].is_string());
  EXPECT_TRUE(p["in_stock"].is_boolean());
}

/// Checks the shape of a problem+json answer with a 4xx status and returns its body.
json expect_problem(const test::http_reply& reply, int status, const std::string& code,
                    const std::string& target) {
  EXPECT_EQ(reply.status, status) << target << ": " << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/problem+json") << target;
  EXPECT_FALSE(leaks_sql(reply.body)) << target << ": " << reply.body;
  auto body = json::parse(reply.body, nullptr, false);
  EXPECT_TRUE(body.is_object()) << target << ": " << reply.body;
  if (!body.is_object())
    return body;
  EXPECT_EQ(body.value("code", std::string{}), code) << target << ": " << reply.body;
  EXPECT_EQ(body.value("status", 0), status) << target;
  EXPECT_TRUE(body["type"].is_string()) << target;
  EXPECT_TRUE(body["title"].is_string()) << target;
  EXPECT_FALSE(body.value("detail", std::string{}).empty()) << target;
  EXPECT_EQ(body.value("trace_id", std::string{}).size(), 32U) << target;
  if (code == "validation_failed") {
    EXPECT_TRUE(body["errors"].is_array() && !body["errors"].empty())
        << target << ": " << reply.body;
    for (auto& e : body["errors"]) {
      EXPECT_TRUE(e["pointer"].is_string()) << target;
      EXPECT_TRUE(e["code"].is_string()) << target;
      EXPECT_TRUE(e["detail"].is_string()) << target;
    }
  }
  return body;
}

// -- GET /v1/products -----------------------------------------------------------------------------

TEST_F(CatalogRoutes, SearchAnswersDataCursorTotalAndFacets) {
  auto body = get_json("/v1/products?q=krossovki&limit=5");
  ASSERT_TRUE(body["data"].is_array());
  EXPECT_EQ(body["data"].size(), 5U);
  for (auto& p : body["data"])
    expect_summary_shape(p);
  ASSERT_TRUE(body["next_cursor"].is_string());
  ASSERT_TRUE(body["total_estimate"].is_number_integer());
  actors::search_request req;
  req.q = "krossovki";
  req.limit = 5;
  auto direct = catalog().search(req);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(body["total_estimate"], direct.value->total_estimate);
  for (std::size_t i = 0; i < direct.value->data.size(); ++i) {
    EXPECT_EQ(body["data"][i]["id"], direct.value->data[i].id);
    EXPECT_EQ(body["data"][i]["price"]["amount"], direct.value->data[i].price);
  }

  auto& facets = body["facets"];
  ASSERT_TRUE(facets.is_object());
  for (const char* name : {"category", "brand"}) {
    ASSERT_TRUE(facets[name].is_array()) << name;
    std::int64_t sum = 0;
    for (auto& f : facets[name]) {
      EXPECT_TRUE(f["value"].is_string()) << name;
      EXPECT_TRUE(f["count"].is_number_integer()) << name;
      sum += f["count"].get<std::int64_t>();
    }
    EXPECT_EQ(sum, body["total_estimate"].get<std::int64_t>()) << name;
  }
  ASSERT_TRUE(facets["price"].is_array());
  ASSERT_FALSE(facets["price"].empty());
  std::int64_t sum = 0;
  for (auto& b : facets["price"]) {
    EXPECT_TRUE(b["min"].is_number_integer());
    EXPECT_TRUE(b["max"].is_number_integer() || b["max"].is_null());
    sum += b["count"].get<std::int64_t>();
  }
  EXPECT_TRUE(facets["price"].back()["max"].is_null()); // the open top bucket
  EXPECT_EQ(sum, body["total_estimate"].get<std::int64_t>());
}

TEST_F(CatalogRoutes, BrowsingWithoutParametersGivesTwentyOfAll) {
  auto body = get_json("/v1/products");
  EXPECT_EQ(body["data"].size(), 20U); // the default limit
  EXPECT_EQ(body["total_estimate"], demo_count);
  EXPECT_TRUE(body["next_cursor"].is_string());
  body = get_json("/v1/products?q=");
  EXPECT_EQ(body["total_estimate"], demo_count);
}

TEST_F(CatalogRoutes, TheLastPageHasANullCursor) {
  auto body = get_json("/v1/products?q=zzzzzzzzzz");
  EXPECT_TRUE(body["data"].empty());
  EXPECT_TRUE(body["next_cursor"].is_null());
  EXPECT_EQ(body["total_estimate"], 0);
}

TEST_F(CatalogRoutes, CursorsWalkEveryPageOverHttp) {
  for (std::string query : {"q=dlya&sort=price_asc", "category=shoes/boots&sort=new",
                            "brand=Apple&sort=rating", "q=krossovki"}) {
    SCOPED_TRACE(query);
    std::vector<std::int64_t> ids;
    std::string cursor;
    std::int64_t total = -1;
    for (int pages = 0; pages < 500; ++pages) {
      auto body = get_json("/v1/products?" + query + "&limit=7" +
                           (cursor.empty() ? std::string{} : "&cursor=" + cursor));
      if (total < 0)
        total = body["total_estimate"].get<std::int64_t>();
      for (auto& p : body["data"])
        ids.push_back(p["id"].get<std::int64_t>());
      if (body["next_cursor"].is_null())
        break;
      cursor = body["next_cursor"].get<std::string>();
    }
    EXPECT_GT(total, 7);
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), total);
    EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
  }
}

TEST_F(CatalogRoutes, FiltersAndSortsAreApplied) {
  auto both = get_json("/v1/products?brand=Nike,Adidas&limit=100");
  auto repeated = get_json("/v1/products?brand=Nike&brand=Adidas&limit=100");
  EXPECT_EQ(both["total_estimate"], repeated["total_estimate"]);
  EXPECT_GT(both["total_estimate"].get<std::int64_t>(), 0);
  for (auto& p : both["data"])
    EXPECT_TRUE(p["brand"] == "Nike" || p["brand"] == "Adidas") << p.dump();

  auto shoes = get_json("/v1/products?category=shoes&in_stock=true&min_price=300000&max_price="
                        "900000&sort=price_desc&limit=100");
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  for (auto& p : shoes["data"]) {
    EXPECT_EQ(p["category"].get<std::string>().rfind("shoes/", 0), 0U);
    EXPECT_TRUE(p["in_stock"].get<bool>());
    auto price = p["price"]["amount"].get<std::int64_t>();
    EXPECT_GE(price, 300000);
    EXPECT_LE(price, 900000);
    EXPECT_LE(price, previous);
    previous = price;
  }
  for (const char* in_stock : {"in_stock=1", "in_stock=true"})
    EXPECT_EQ(get_json(std::string{"/v1/products?"} + in_stock)["total_estimate"],
              get_json("/v1/products?in_stock=true")["total_estimate"]);
  for (const char* not_in_stock : {"in_stock=0", "in_stock=false"})
    EXPECT_EQ(get_json(std::string{"/v1/products?"} + not_in_stock)["total_estimate"], demo_count);
  for (const char* sort : {"relevance", "price_asc", "price_desc", "rating", "new"})
    EXPECT_EQ(get_json(std::string{"/v1/products?q=nike&sort="} + sort)["total_estimate"],
              get_json("/v1/products?q=nike")["total_estimate"])
        << sort;
}

TEST_F(CatalogRoutes, Fts5SyntaxInQIsSearchedAsWordsNotRefused) {
  // Sanitised into words: these are ordinary searches, answered 200 with no trace of SQL.
  for (std::string q : {"%22",
                        "%22%22%22",
                        "*",
                        "kro*",
                        "NEAR(",
                        "NEAR(nike%20adidas)",
                        "OR",
                        "nike+OR+adidas",
                        "-",
                        "-nike",
                        "nike+-adidas",
                        "title:nike",
                        "%5Enike",
                        "(nike)",
                        "nike%22+OR+1%3D1+--",
                        "%27%3B+DROP+TABLE+products%3B+--",
                        "AND",
                        "NOT",
                        "%7Btitle%7D:nike",
                        "%00",
                        "%C2%AB%C2%BB"}) {
    auto target = "/v1/products?q=" + q;
    auto reply = get(target);
    EXPECT_EQ(reply.status, 200) << target << ": " << reply.body;
    EXPECT_FALSE(leaks_sql(reply.body)) << target;
    auto body = json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << target;
    EXPECT_TRUE(body["data"].is_array()) << target;
  }
}

TEST_F(CatalogRoutes, HostileInputsGetClearProblems) {
  struct hostile {
    std::string target;
    int status;
    std::string code;
    std::string pointer; ///< of errors[0], when validation_failed
  };
  std::vector<hostile> cases = {
      {"/v1/products?q=" + std::string(10 * 1024, 'a'), 422, "validation_failed", "q"},
      {"/v1/products?q=" + std::string(201, 'k'), 422, "validation_failed", "q"},
      {"/v1/products?q=%FF", 422, "validation_failed", "q"},
      {"/v1/products?q=nike%C0%AF", 422, "validation_failed", "q"}, // an overlong '/'
      {"/v1/products?q=%ED%A0%80", 422, "validation_failed", "q"},  // a surrogate
      {"/v1/products?foo=1", 422, "validation_failed", "foo"},
      {"/v1/products?Q=nike", 422, "validation_failed", "Q"},
      {"/v1/products?%FF=1", 422, "validation_failed", ""},
      {"/v1/products?min_price=-1", 422, "validation_failed", "min_price"},
      {"/v1/products?max_price=-5", 422, "validation_failed", "max_price"},
      {"/v1/products?min_price=500000&max_price=100000", 422, "validation_failed", "min_price"},
      {"/v1/products?min_price=abc", 422, "validation_failed", "min_price"},
      {"/v1/products?min_price=", 422, "validation_failed", "min_price"},
      {"/v1/products?min_price=1.5", 422, "validation_failed", "min_price"},
      {"/v1/products?min_price=%201", 422, "validation_failed", "min_price"},
      {"/v1/products?min_price=1e3", 422, "validation_failed", "min_price"},
      {"/v1/products?max_price=99999999999999999999", 422, "validation_failed", "max_price"},
      {"/v1/products?limit=0", 422, "validation_failed", "limit"},
      {"/v1/products?limit=101", 422, "validation_failed", "limit"},
      {"/v1/products?limit=1000", 422, "validation_failed", "limit"},
      {"/v1/products?limit=-1", 422, "validation_failed", "limit"},
      {"/v1/products?limit=ten", 422, "validation_failed", "limit"},
      {"/v1/products?sort=bogus", 422, "validation_failed", "sort"},
      {"/v1/products?sort=", 422, "validation_failed", "sort"},
      {"/v1/products?sort=PRICE_ASC", 422, "validation_failed", "sort"},
      {"/v1/products?in_stock=maybe", 422, "validation_failed", "in_stock"},
      {"/v1/products?category=weapons", 422, "validation_failed", "category"},
      {"/v1/products?category=%FF", 422, "validation_failed", "category"},
      {"/v1/products?category=shoes'%20OR%20'1'='1", 422, "validation_failed", "category"},
      {"/v1/products?limit=5&limit=50", 422, "validation_failed", "limit"},
      {"/v1/products?q=nike&sort=price_asc&q=adidas", 422, "validation_failed", "q"},
      {"/v1/products/1?region=msk&region=spb", 422, "validation_failed", "region"},
      {"/v1/suggest?q=ni&q=ad", 422, "validation_failed", "q"},
      {"/v1/products?cursor=garbage", 400, "invalid_cursor", ""},
      {"/v1/products?cursor=" + std::string(2000, 'A'), 400, "invalid_cursor", ""},
      {"/v1/products?cursor=%00%00", 400, "invalid_cursor", ""},
      {"/v1/products?q=%ZZ", 400, "bad_query", ""},
      {"/v1/products?q=abc%", 400, "bad_query", ""},
      {"/v1/products?q=%4", 400, "bad_query", ""},
      {"/v1/suggest?q=%ZZ", 400, "bad_query", ""},
      {"/v1/suggest?q=%FF", 422, "validation_failed", "q"},
      {"/v1/suggest?q=" + std::string(10 * 1024, 'k'), 422, "validation_failed", "q"},
      {"/v1/products/abc", 404, "not_found", ""},
      {"/v1/products/0", 404, "not_found", ""},
      {"/v1/products/-1", 404, "not_found", ""},
      {"/v1/products/1.0", 404, "not_found", ""},
      {"/v1/products/+1", 404, "not_found", ""},
      {"/v1/products/99999", 404, "not_found", ""},
      {"/v1/products/99999999999999999999999", 404, "not_found", ""},
      {"/v1/products/1%27%20OR%201=1", 404, "not_found", ""},
  };
  std::string brands = "/v1/products?brand=";
  for (int i = 0; i < 51; ++i)
    brands += "b" + std::to_string(i) + ",";
  cases.push_back({brands, 422, "validation_failed", "brand"});
  // A cursor of another query.
  auto first = get_json("/v1/products?q=nike&limit=3");
  ASSERT_TRUE(first["next_cursor"].is_string());
  cases.push_back(
      {"/v1/products?q=adidas&limit=3&cursor=" + first["next_cursor"].get<std::string>(), 400,
       "invalid_cursor", ""});
  cases.push_back(
      {"/v1/products?q=nike&sort=price_asc&cursor=" + first["next_cursor"].get<std::string>(), 400,
       "invalid_cursor", ""});

  for (auto& c : cases) {
    SCOPED_TRACE(c.target.substr(0, 120));
    auto reply = get(c.target);
    EXPECT_NE(reply.status, 500);
    auto body = expect_problem(reply, c.status, c.code, c.target.substr(0, 120));
    if (!c.pointer.empty() && body.is_object() && body["errors"].is_array() &&
        !body["errors"].empty()) {
      EXPECT_EQ(body["errors"][0]["pointer"], c.pointer);
    }
  }

  // The server is still well after all of that.
  auto regions = get("/v1/regions");
  EXPECT_EQ(regions.status, 200);
}

TEST_F(CatalogRoutes, AQueryPastTheHeaderLimitIsRefusedByTheEdge) {
  auto reply = get("/v1/products?q=" + std::string(40 * 1024, 'a'));
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(reply.header("content-type"), "application/problem+json");
  EXPECT_EQ(get("/v1/regions").status, 200);
}

TEST_F(CatalogRoutes, ManyRequestsOnOneConnection) {
  test::http_connection conn{server_->port()};
  ASSERT_TRUE(conn.connected());
  for (const char* target :
       {"/v1/products?q=nike", "/v1/products?q=%22", "/v1/products?limit=0", "/v1/products/1",
        "/v1/products/abc", "/v1/suggest?q=kro", "/v1/categories", "/v1/regions"}) {
    auto reply = conn.get(target);
    ASSERT_TRUE(reply) << target;
    EXPECT_LT(reply->status, 500) << target;
  }
}

// -- GET /v1/products/{id} ------------------------------------------------------------------------

TEST_F(CatalogRoutes, ProductPageShowsSkusWithDeliveryForTheRegion) {
  for (std::int64_t id : {1, 2, 3, 500, 2000}) {
    for (std::string region : {"msk", "khv"}) {
      auto body = get_json("/v1/products/" + std::to_string(id) + "?region=" + region);
      auto direct = catalog().product(id, region);
      ASSERT_TRUE(direct.ok());
      auto& v = *direct.value;
      EXPECT_EQ(body["id"], id);
      EXPECT_EQ(body["title"], v.summary.title);
      EXPECT_EQ(body["description"], v.description);
      EXPECT_EQ(body["brand"], v.summary.brand);
      EXPECT_EQ(body["category"], v.summary.category);
      EXPECT_TRUE(body["attributes"].is_object());
      EXPECT_TRUE(body["rating"].is_number());
      expect_money(body["price"], "product price");
      ASSERT_TRUE(body["skus"].is_array());
      ASSERT_EQ(body["skus"].size(), v.skus.size());
      for (std::size_t k = 0; k < v.skus.size(); ++k) {
        auto& s = body["skus"][k];
        EXPECT_EQ(s["sku"], v.skus[k].sku);
        expect_money(s["price"], v.skus[k].sku);
        EXPECT_EQ(s["price"]["amount"], v.skus[k].price);
        EXPECT_TRUE(s["attributes"].is_object());
        EXPECT_EQ(s["available"], v.skus[k].delivery.available);
        if (v.skus[k].delivery.warehouse_id.empty()) {
          EXPECT_TRUE(s["delivery"].is_null());
        } else {
          EXPECT_EQ(s["delivery"]["warehouse_id"], v.skus[k].delivery.warehouse_id);
          EXPECT_EQ(s["delivery"]["days"], v.skus[k].delivery.days);
        }
      }
    }
  }
  // Without a region, Moscow.
  EXPECT_EQ(get_json("/v1/products/1"), get_json("/v1/products/1?region=msk"));
}

// -- suggest, categories, regions -----------------------------------------------------------------

TEST_F(CatalogRoutes, SuggestCompletesPrefixes) {
  auto body = get_json("/v1/suggest?q=kro");
  ASSERT_TRUE(body["suggestions"].is_array());
  ASSERT_FALSE(body["suggestions"].empty());
  EXPECT_LE(body["suggestions"].size(), 10U);
  EXPECT_EQ(body["suggestions"][0]["text"], "krossovki");
  EXPECT_FALSE(body["suggestions"][0].contains("product_id"));
  bool products = false;
  for (auto& s : body["suggestions"]) {
    EXPECT_TRUE(s["text"].is_string());
    if (s.contains("product_id")) {
      products = true;
      EXPECT_TRUE(s["product_id"].is_number_integer());
    }
  }
  EXPECT_TRUE(products);
  for (const char* empty :
       {"/v1/suggest", "/v1/suggest?q=", "/v1/suggest?q=%22%2A%28", "/v1/suggest?q=+++"})
    EXPECT_TRUE(get_json(empty)["suggestions"].empty()) << empty;
}

TEST_F(CatalogRoutes, CategoriesAreATreeWithCounts) {
  auto body = get_json("/v1/categories");
  ASSERT_TRUE(body["categories"].is_array());
  std::int64_t roots = 0;
  std::size_t nodes = 0;
  std::function<void(const json&)> check = [&](const json& node) {
    ++nodes;
    ASSERT_TRUE(node["id"].is_string());
    ASSERT_TRUE(node["name"].is_string());
    ASSERT_TRUE(node["count"].is_number_integer());
    ASSERT_TRUE(node["children"].is_array());
    if (!node["children"].empty()) {
      std::int64_t sum = 0;
      for (auto& child : node["children"]) {
        EXPECT_EQ(child["id"].get<std::string>().rfind(node["id"].get<std::string>() + "/", 0), 0U);
        sum += child["count"].get<std::int64_t>();
        check(child);
      }
      EXPECT_EQ(sum, node["count"].get<std::int64_t>())
          << node["id"]; // demo products are in leaves
    }
  };
  for (auto& root : body["categories"]) {
    roots += root["count"].get<std::int64_t>();
    check(root);
  }
  EXPECT_EQ(roots, demo_count);
  EXPECT_EQ(nodes, catalog().categories().size());
}

TEST_F(CatalogRoutes, RegionsListRegionsAndWarehouses) {
  auto body = get_json("/v1/regions");
  ASSERT_TRUE(body["regions"].is_array());
  ASSERT_TRUE(body["warehouses"].is_array());
  EXPECT_EQ(body["regions"].size(), 7U);
  EXPECT_EQ(body["warehouses"].size(), 5U);
  std::set<std::string> region_ids;
  for (auto& r : body["regions"]) {
    EXPECT_TRUE(r["name"].is_string());
    region_ids.insert(r["id"].get<std::string>());
  }
  EXPECT_EQ(region_ids.count("msk"), 1U);
  for (auto& w : body["warehouses"]) {
    EXPECT_TRUE(w["id"].is_string());
    EXPECT_TRUE(w["name"].is_string());
    EXPECT_EQ(region_ids.count(w["region"].get<std::string>()), 1U) << w.dump();
  }
}

TEST_F(CatalogRoutes, WritesAreNotRoutedHere) {
  test::http_connection conn{server_->port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(test::make_request("POST", "/v1/regions", {}, "{}"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET, HEAD");
}

} // namespace
} // namespace souk::http
