// product_text: the product page's JSON text in fixed parts plus what each request splices in.
// Compared with the page built as a JSON value field by field, for awkward strings too.
#include "actors/api/product_text.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using json = nlohmann::json;

product_view page() {
  product_view p;
  p.summary = {42, "Krossovki \"Veter\" — 42", "Nike\\Air", "shoes/sport", 519900, 4.7, 12, false};
  p.description = "Line one\nline two\ttab \x01 end";
  p.attributes = {{"material", "setka"}, {"tsvet", "чёрный"}};
  sku_view a;
  a.sku = "KR-42-black";
  a.price = 519900;
  a.attributes = {{"size", "42"}};
  sku_view b;
  b.sku = "KR-43-black";
  b.price = 529900;
  p.skus = {a, b};
  return p;
}

json money(std::int64_t amount) {
  return {{"amount", amount}, {"currency", "RUB"}};
}

json expected(const product_view& p, const std::vector<sku_delivery>& d,
              const std::string& region) {
  json skus = json::array();
  bool in_stock = false;
  for (std::size_t i = 0; i < p.skus.size(); ++i) {
    json attrs = json::object();
    for (auto& [k, v] : p.skus[i].attributes)
      attrs[k] = v;
    json delivery = nullptr;
    if (!d[i].warehouse_id.empty())
      delivery = {{"warehouse_id", d[i].warehouse_id}, {"days", d[i].days}};
    skus.push_back({{"sku", p.skus[i].sku},
                    {"price", money(p.skus[i].price)},
                    {"attributes", attrs},
                    {"available", d[i].available},
                    {"delivery", delivery}});
    in_stock = in_stock || d[i].available > 0;
  }
  json attrs = json::object();
  for (auto& [k, v] : p.attributes)
    attrs[k] = v;
  auto& s = p.summary;
  json out = {{"id", s.id},
              {"title", s.title},
              {"brand", s.brand},
              {"category", s.category},
              {"price", money(s.price)},
              {"rating", s.rating},
              {"reviews", s.reviews},
              {"image_url", "https://img.souk.local/products/42.jpg"},
              {"in_stock", in_stock},
              {"description", p.description},
              {"attributes", attrs},
              {"skus", skus}};
  if (!region.empty())
    out["region"] = region;
  return out;
}

TEST(ProductText, SplicesEachRequestsAvailabilityIntoTheFixedParts) {
  auto p = page();
  product_text text{p};
  std::vector<std::vector<sku_delivery>> cases = {
      {{0, "", 0}, {0, "", 0}},
      {{5, "wh-msk", 1}, {0, "", 0}},
      {{1, "wh-\"odd\"", 3}, {7, "wh-nsk", 5}},
  };
  for (auto& d : cases)
    for (std::string region : {"", "msk", "Sankt \"Peterburg\""}) {
      std::string out;
      text.write(out, d, region);
      auto parsed = json::parse(out); // valid JSON, whatever the strings hold
      EXPECT_EQ(parsed, expected(p, d, region)) << out;
      // One text serves many requests: writing again appends the same page.
      std::string twice = out;
      text.write(twice, d, region);
      EXPECT_EQ(twice, out + out);
    }
}

TEST(ProductText, APageWithoutSkusHasAnEmptyListAndIsNotInStock) {
  auto p = page();
  p.skus.clear();
  p.attributes.clear();
  std::string out;
  product_text{p}.write(out, {}, "msk");
  auto parsed = json::parse(out);
  EXPECT_EQ(parsed["skus"], json::array());
  EXPECT_EQ(parsed["attributes"], json::object());
  EXPECT_EQ(parsed["in_stock"], false);
  EXPECT_EQ(parsed, expected(p, {}, "msk"));
}

TEST(ProductText, ProductBodyWritesTheAvailabilityHeldInTheView) {
  auto p = page();
  p.skus[1].delivery = {2, "wh-spb", 2};
  auto parsed = json::parse(product_body(p, "spb"));
  EXPECT_EQ(parsed, expected(p, {p.skus[0].delivery, p.skus[1].delivery}, "spb"));
  EXPECT_EQ(parsed["in_stock"], true) << "derived from the SKUs, not the summary's flag";
}

} // namespace
} // namespace souk::actors
