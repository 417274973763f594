// The product page cache (catalog.page_cache_entries): a page read once is served from memory,
// yet every write is visible on the next read; availability stays live; a tiny cache evicts
// and a cache of 0 entries reads every page from SQLite.
#include "actors/api/product_text.hpp"
#include "actors/catalog/sqlite_catalog.hpp"
#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors::catalog {
namespace {

product_change make_product(const std::string& title, const std::string& sku, std::int64_t price) {
  product_change c;
  c.title = title;
  c.brand = "Tramp";
  c.category = "sports/outdoor";
  c.description = "Dlya pokhoda";
  sku_view s;
  s.sku = sku;
  s.price = price;
  c.skus.push_back(std::move(s));
  return c;
}

/// One catalog per test, opened with the page cache size of the test's parameter.
class PageCache : public ::testing::TestWithParam<std::size_t> {
protected:
  void SetUp() override {
    auto opened = persistence::store::open(dir_.path() + "/data", config::store_settings{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    config::catalog_settings settings;
    settings.page_cache_entries = GetParam();
    auto cat = sqlite_catalog::open(*store_, config::store_settings{}, settings);
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    catalog_ = std::move(*cat);
  }

  sqlite_catalog& catalog() { return *catalog_; }

  std::int64_t create(const product_change& c) {
    auto r = catalog().create_product(c);
    EXPECT_TRUE(r.ok()) << r.error.code << ": " << r.error.detail;
    return r.ok() ? r.value->summary.id : 0;
  }

  product_view read(std::int64_t id, const std::string& region = "msk") {
    auto r = catalog().product(id, region);
    EXPECT_TRUE(r.ok()) << id << ": " << r.error.code << ": " << r.error.detail;
    return r.ok() ? *r.value : product_view{};
  }

  test::temp_dir dir_;
  std::unique_ptr<persistence::store> store_;
  std::unique_ptr<sqlite_catalog> catalog_;
};

TEST_P(PageCache, RepeatedReadsAnswerTheSamePage) {
  auto id = create(make_product("Palatka 2-mestnaya", "TENT", 900000));
  auto first = read(id);
  auto second = read(id);
  EXPECT_EQ(first.summary.title, "Palatka 2-mestnaya");
  EXPECT_EQ(second.summary.title, first.summary.title);
  EXPECT_EQ(second.description, first.description);
  ASSERT_EQ(second.skus.size(), 1U);
  EXPECT_EQ(second.skus[0].sku, "TENT");
  EXPECT_EQ(second.skus[0].price, 900000);
}

TEST_P(PageCache, AnUpdateIsVisibleOnTheNextRead) {
  auto id = create(make_product("Palatka 2-mestnaya", "TENT", 900000));
  ASSERT_EQ(read(id).summary.title, "Palatka 2-mestnaya"); // now in the cache, if there is one
  ASSERT_EQ(read(id).summary.price, 900000);

  product_change change;
  change.title = "Palatka 3-mestnaya";
  change.description = "Dlya semi";
  sku_view cheaper;
  cheaper.sku = "TENT";
  cheaper.price = 850000;
  sku_view added;
  added.sku = "TENT-XL";
  added.price = 990000;
  change.skus = {cheaper, added};
  ASSERT_TRUE(catalog().update_product(id, change).ok());

  auto page = read(id);
  EXPECT_EQ(page.summary.title, "Palatka 3-mestnaya");
  EXPECT_EQ(page.description, "Dlya semi");
  EXPECT_EQ(page.summary.price, 850000);
  ASSERT_EQ(page.skus.size(), 2U);
  EXPECT_EQ(page.skus[0].price, 850000);
  EXPECT_EQ(page.skus[1].sku, "TENT-XL");
  EXPECT_EQ(read(id).summary.title, "Palatka 3-mestnaya"); // and it stays so
}

TEST_P(PageCache, AvailabilityIsLiveOnACachedPage) {
  auto id = create(make_product("Termos", "THERMOS", 290000));
  EXPECT_FALSE(read(id).summary.in_stock);
  ASSERT_TRUE(catalog().set_stock("THERMOS", "wh-msk", 4).ok());
  auto page = read(id);
  EXPECT_TRUE(page.summary.in_stock);
  EXPECT_EQ(page.skus.at(0).delivery.available, 4);
  EXPECT_EQ(page.skus.at(0).delivery.warehouse_id, "wh-msk");
  catalog().stock_changed("THERMOS", "wh-msk", 4, 4); // all reserved
  page = read(id);
  EXPECT_FALSE(page.summary.in_stock);
  EXPECT_EQ(page.skus.at(0).delivery.available, 0);
  // The region is the caller's, not the one of the read that filled the cache.
  ASSERT_TRUE(catalog().set_stock("THERMOS", "wh-nsk", 1).ok());
  EXPECT_EQ(read(id, "nsk").skus.at(0).delivery.warehouse_id, "wh-nsk");
  EXPECT_EQ(read(id, "nsk").skus.at(0).delivery.days, 1);
  EXPECT_EQ(read(id, "msk").skus.at(0).delivery.days, 6);
}

TEST_P(PageCache, MorePagesThanEntriesAreAllServedRight) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(create(
        make_product("Ryukzak " + std::to_string(i), "BAG-" + std::to_string(i), 100000 + i)));
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto page = read(ids[i]);
      EXPECT_EQ(page.summary.title, "Ryukzak " + std::to_string(i));
      EXPECT_EQ(page.summary.price, static_cast<std::int64_t>(100000 + i));
    }
}

TEST_P(PageCache, UnknownProductStaysNotFound) {
  for (int i = 0; i < 2; ++i) {
    auto r = catalog().product(424242, "msk");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.code, "not_found");
  }
}

TEST_P(PageCache, ReadsDuringUpdatesNeverKeepAnOldPage) {
  // Readers fill the cache while titles change: a page read before an update must not be put
  // back after the update dropped it, so once an update returns every read shows it.
  auto id = create(make_product("Fonar v0", "LAMP", 50000));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    while (!stop.load())
      if (!catalog().product(id, "msk").ok())
        ++failures;
  };
  std::thread r1{reader};
  std::thread r2{reader};
  for (int k = 1; k <= 30; ++k) {
    product_change change;
    change.title = "Fonar v" + std::to_string(k);
    if (!catalog().update_product(id, change).ok()) {
      ADD_FAILURE() << "update " << k << " failed";
      break;
    }
    EXPECT_EQ(read(id).summary.title, "Fonar v" + std::to_string(k));
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(read(id).summary.title, "Fonar v30");
}

// 0: no cache; 1: a cache that evicts on every new page; the default.
TEST_P(PageCache, ThePageTextIsThePageWrittenWithLiveAvailability) {
  // product_page splices the live availability into the page's text kept with the cache: it
  // must say exactly what product() says, for every region, after writes and stock changes.
  auto c = make_product("Fonar' \"Luch\" — 300 lm", "LAMP", 149000);
  c.attributes = {{"colour", "chernyy"}, {"note", "tab\there"}};
  sku_view second;
  second.sku = "LAMP-2";
  second.price = 199000;
  second.attributes = {{"size", "XL"}};
  c.skus.push_back(second);
  auto id = create(c);
  auto same = [&](const std::string& region) {
    auto text = catalog().product_page(id, region);
    ASSERT_TRUE(text.ok()) << text.error.code;
    auto view = catalog().product(id, region);
    ASSERT_TRUE(view.ok());
    auto parsed = nlohmann::json::parse(*text.value);
    EXPECT_EQ(parsed, nlohmann::json::parse(product_body(*view.value, region))) << region;
    EXPECT_EQ(parsed["in_stock"], view.value->summary.in_stock) << region;
    if (region.empty())
      EXPECT_FALSE(parsed.contains("region"));
    else
      EXPECT_EQ(parsed["region"], region);
  };
  for (auto region : {"msk", "nsk", ""})
    same(region);
  ASSERT_TRUE(catalog().set_stock("LAMP-2", "wh-msk", 3).ok());
  ASSERT_TRUE(catalog().set_stock("LAMP-2", "wh-nsk", 1).ok());
  for (auto region : {"msk", "nsk", "spb", ""})
    same(region);
  product_change rename;
  rename.title = "Fonar' 2";
  ASSERT_TRUE(catalog().update_product(id, rename).ok());
  same("msk");
  auto parsed = nlohmann::json::parse(*catalog().product_page(id, "msk").value);
  EXPECT_EQ(parsed["title"], "Fonar' 2");
  EXPECT_EQ(parsed["skus"][1]["available"], 4);
  EXPECT_EQ(parsed["skus"][1]["delivery"]["warehouse_id"], "wh-msk");
  EXPECT_EQ(parsed["skus"][0]["delivery"], nullptr);
  auto missing = catalog().product_page(id + 1000, "msk");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error.code, "not_found");
}

INSTANTIATE_TEST_SUITE_P(Sizes, PageCache,
                         ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{100'000}),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           return "entries_" + std::to_string(param_info.param);
                         });

} // namespace
} // namespace souk::actors::catalog
