#include "http/router.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace souk::http {
namespace {

using strings = std::vector<std::string>;

/// A handler that records which route ran, so a test can tell targets apart.
handler tagged(std::string tag, std::string& last) {
  return [tag = std::move(tag), &last](const request_context&, responder) { last = tag; };
}

/// Runs the matched handler (with a dummy request) and returns the tag it recorded.
std::string run(const router::match_result& m, std::string& last) {
  last.clear();
  request req;
  request_context ctx{req, m.params, std::string(32, 'a'), m.route};
  (*m.target)(ctx, [](response) {});
  return last;
}

TEST(SplitPath, SplitsOnSlashesAndDropsEmptySegments) {
  EXPECT_EQ(split_path("/a/b/c"), (strings{"a", "b", "c"}));
  EXPECT_EQ(split_path("a/b"), (strings{"a", "b"}));
  EXPECT_EQ(split_path(""), strings{});
  EXPECT_EQ(split_path("/"), strings{});
  EXPECT_EQ(split_path("//"), strings{});
  EXPECT_EQ(split_path("/a//b/"), (strings{"a", "b"}));
  EXPECT_EQ(split_path("/v1/orders/"), (strings{"v1", "orders"}));
  EXPECT_EQ(split_path("/{id}"), strings{"{id}"});
}

TEST(Router, MatchesLiteralRoutes) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/healthz", tagged("health", last));
  r.add(bhttp::verb::get, "/v1/products", tagged("products", last));
  auto m = r.match(bhttp::verb::get, "/v1/products");
  ASSERT_NE(m.target, nullptr);
  EXPECT_EQ(m.route, "/v1/products");
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(run(m, last), "products");
  auto h = r.match(bhttp::verb::get, "/healthz");
  ASSERT_NE(h.target, nullptr);
  EXPECT_EQ(run(h, last), "health");
}

TEST(Router, ExtractsTemplateParameters) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/orders/{id}", tagged("order", last));
  r.add(bhttp::verb::get, "/admin/v1/actors/{kind}/{key}", tagged("actor", last));
  auto m = r.match(bhttp::verb::get, "/v1/orders/o-42");
  ASSERT_NE(m.target, nullptr);
  EXPECT_EQ(m.route, "/v1/orders/{id}");
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"id", "o-42"}}));
  EXPECT_EQ(run(m, last), "order");
  auto two = r.match(bhttp::verb::get, "/admin/v1/actors/cart/u7");
  ASSERT_NE(two.target, nullptr);
  EXPECT_EQ(two.route, "/admin/v1/actors/{kind}/{key}");
  EXPECT_EQ(two.params, (std::map<std::string, std::string>{{"kind", "cart"}, {"key", "u7"}}));
  EXPECT_EQ(run(two, last), "actor");
}

TEST(Router, ParametersMatchExactlyOneNonEmptySegment) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/orders/{id}", tagged("order", last));
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/orders").target, nullptr);
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/orders/").target, nullptr);
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/orders/a/b").target, nullptr);
  // Repeated or trailing slashes do not create empty segments.
  auto m = r.match(bhttp::verb::get, "/v1//orders/x/");
  ASSERT_NE(m.target, nullptr);
  EXPECT_EQ(m.params.at("id"), "x");
}

TEST(Router, LiteralSegmentsMustMatchExactly) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/orders/{id}", tagged("order", last));
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/order/1").target, nullptr);
  EXPECT_EQ(r.match(bhttp::verb::get, "/V1/orders/1").target, nullptr);
  EXPECT_EQ(r.match(bhttp::verb::get, "/v2/orders/1").target, nullptr);
}

TEST(Router, SeparatesRoutesOfTheSameTemplateByMethod) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/cart", tagged("get", last));
  r.add(bhttp::verb::post, "/v1/cart", tagged("post", last));
  auto g = r.match(bhttp::verb::get, "/v1/cart");
  auto p = r.match(bhttp::verb::post, "/v1/cart");
  ASSERT_NE(g.target, nullptr);
  ASSERT_NE(p.target, nullptr);
  EXPECT_EQ(run(g, last), "get");
  EXPECT_EQ(run(p, last), "post");
}

TEST(Router, UnknownPathGivesNoTargetAndNoAllow) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/cart", tagged("get", last));
  auto m = r.match(bhttp::verb::get, "/v1/nothing");
  EXPECT_EQ(m.target, nullptr);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_TRUE(m.route.empty());
  auto root = r.match(bhttp::verb::get, "/");
  EXPECT_EQ(root.target, nullptr);
  EXPECT_TRUE(root.allow.empty());
}

TEST(Router, KnownPathWithOtherMethodsListsThemInAllow) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/cart/items/{sku}", tagged("get", last));
  r.add(bhttp::verb::put, "/v1/cart/items/{sku}", tagged("put", last));
  r.add(bhttp::verb::delete_, "/v1/cart/items/{sku}", tagged("delete", last));
  r.add(bhttp::verb::post, "/v1/cart/items", tagged("post", last));
  auto m = r.match(bhttp::verb::patch, "/v1/cart/items/s1");
  EXPECT_EQ(m.target, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD, PUT, DELETE"); // a GET route answers HEAD too
  // The collection path has only POST.
  auto c = r.match(bhttp::verb::get, "/v1/cart/items");
  EXPECT_EQ(c.target, nullptr);
  EXPECT_EQ(c.allow, "POST");
}

TEST(Router, AllowNamesEachMethodOnceEvenWhenTwoTemplatesMatch) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/orders/{id}", tagged("by id", last));
  r.add(bhttp::verb::get, "/v1/orders/recent", tagged("recent", last));
  auto m = r.match(bhttp::verb::post, "/v1/orders/recent");
  EXPECT_EQ(m.target, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD");
}

TEST(Router, HeadTakesTheGetRouteAndNoOther) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/cart", tagged("get", last));
  r.add(bhttp::verb::post, "/v1/cart/items", tagged("post", last));
  auto head = r.match(bhttp::verb::head, "/v1/cart");
  ASSERT_NE(head.target, nullptr);
  EXPECT_EQ(head.route, "/v1/cart");
  auto none = r.match(bhttp::verb::head, "/v1/cart/items");
  EXPECT_EQ(none.target, nullptr);
  EXPECT_EQ(none.allow, "POST");
}

TEST(Router, FirstRegisteredRouteWinsWhenTemplatesOverlap) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/v1/orders/recent", tagged("recent", last));
  r.add(bhttp::verb::get, "/v1/orders/{id}", tagged("by id", last));
  auto recent = r.match(bhttp::verb::get, "/v1/orders/recent");
  ASSERT_NE(recent.target, nullptr);
  EXPECT_EQ(recent.route, "/v1/orders/recent");
  EXPECT_EQ(run(recent, last), "recent");
  auto other = r.match(bhttp::verb::get, "/v1/orders/o-1");
  ASSERT_NE(other.target, nullptr);
  EXPECT_EQ(other.route, "/v1/orders/{id}");
}

TEST(Router, BracesAloneAreALiteralSegment) {
  std::string last;
  router r;
  r.add(bhttp::verb::get, "/odd/{}", tagged("odd", last));
  EXPECT_EQ(r.match(bhttp::verb::get, "/odd/x").target, nullptr);
  auto m = r.match(bhttp::verb::get, "/odd/{}");
  ASSERT_NE(m.target, nullptr);
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, RoutesListsEveryRegisteredMethodAndTemplate) {
  std::string last;
  router r;
  EXPECT_TRUE(r.routes().empty());
  r.add(bhttp::verb::get, "/healthz", tagged("a", last));
  r.add(bhttp::verb::post, "/v1/sessions", tagged("b", last));
  r.add(bhttp::verb::delete_, "/v1/cart/items/{sku}", tagged("c", last));
  using pair = std::pair<std::string, std::string>;
  EXPECT_EQ(r.routes(), (std::vector<pair>{{"GET", "/healthz"},
                                           {"POST", "/v1/sessions"},
                                           {"DELETE", "/v1/cart/items/{sku}"}}));
}

} // namespace
} // namespace souk::http
