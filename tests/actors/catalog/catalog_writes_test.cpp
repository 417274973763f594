// Small hand-made catalogs where exact answers are known: ranking, stock and availability,
// seller writes reaching the search index at once, and a reopened store keeping everything.
#include "actors/catalog/sqlite_catalog.hpp"
#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace souk::actors::catalog {
namespace {

using namespace std::chrono_literals;

product_change make_product(std::string title, std::string brand, std::string category,
                            std::vector<std::pair<std::string, std::int64_t>> skus,
                            std::string description = {}) {
  product_change c;
  c.title = std::move(title);
  c.brand = std::move(brand);
  c.category = std::move(category);
  if (!description.empty())
    c.description = std::move(description);
  for (auto& [sku, price] : skus) {
    sku_view s;
    s.sku = sku;
    s.price = price;
    c.skus.push_back(std::move(s));
  }
  return c;
}

class CatalogWrites : public ::testing::Test {
protected:
  void SetUp() override { open(); }

  void open() {
    auto opened = persistence::store::open(dir_.path() + "/data", config::store_settings{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    auto cat = sqlite_catalog::open(*store_, config::store_settings{});
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    catalog_ = std::move(*cat);
  }

  void reopen() {
    catalog_.reset();
    store_.reset();
    open();
  }

  sqlite_catalog& catalog() { return *catalog_; }

  std::int64_t create(const product_change& c) {
    auto r = catalog().create_product(c);
    EXPECT_TRUE(r.ok()) << r.error.code << " " << r.error.pointer << ": " << r.error.detail;
    return r.ok() ? r.value->summary.id : 0;
  }

  void stock(const std::string& sku, const std::string& warehouse, std::int64_t on_hand) {
    auto r = catalog().set_stock(sku, warehouse, on_hand);
    ASSERT_TRUE(r.ok()) << r.error.code << ": " << r.error.detail;
  }

  search_result find(search_request req) {
    if (req.limit == 20)
      req.limit = 100;
    auto r = catalog().search(req);
    EXPECT_TRUE(r.ok()) << r.error.code << ": " << r.error.detail;
    return r.ok() ? *r.value : search_result{};
  }

  std::vector<std::int64_t> ids(const std::string& q) {
    search_request req;
    req.q = q;
    std::vector<std::int64_t> out;
    for (auto& p : find(req).data)
      out.push_back(p.id);
    return out;
  }

  std::vector<std::int64_t> in_stock_ids() {
    search_request req;
    req.in_stock = true;
    std::vector<std::int64_t> out;
    for (auto& p : find(req).data)
      out.push_back(p.id);
    std::sort(out.begin(), out.end());
    return out;
  }

  test::temp_dir dir_;
  std::unique_ptr<persistence::store> store_;
  std::unique_ptr<sqlite_catalog> catalog_;
};

using id_list = std::vector<std::int64_t>;

// -- ranking and text -----------------------------------------------------------------------------

TEST_F(CatalogWrites, TitleMatchRanksAboveDescriptionMatch) {
  // The description matches come first by id, so only the ranking can put the title first.
  auto d1 = create(make_product("Plashch dozhdevik", "Zolla", "clothing/men/jackets",
                                {{"D1", 500000}}, "Khorosho sochetaetsya s zontik"));
  auto d2 = create(make_product("Kurtka vetrovka", "Sela", "clothing/men/jackets", {{"D2", 400000}},
                                "Vmesto zontik v dozhd"));
  auto t = create(
      make_product("Zontik skladnoy", "Fissman", "home/storage", {{"T1", 90000}}, "Ot dozhdya"));
  create(make_product("Kruzhka", "Fissman", "home/kitchen", {{"X1", 30000}}, "Dlya chaya"));
  search_request req;
  req.q = "zontik";
  req.sort = product_sort::relevance;
  auto r = find(req);
  ASSERT_EQ(r.total_estimate, 3);
  ASSERT_EQ(r.data.size(), 3U);
  EXPECT_EQ(r.data[0].id, t);
  std::set<std::int64_t> rest{r.data[1].id, r.data[2].id};
  EXPECT_EQ(rest, (std::set<std::int64_t>{d1, d2}));
}

TEST_F(CatalogWrites, BrandMatchRanksBetweenTitleAndDescription) {
  auto in_description = create(
      make_product("Kovrik", "Torneo", "sports/fitness", {{"A", 100000}}, "Pokhozh na Starfit"));
  auto in_brand =
      create(make_product("Ganteli", "Starfit", "sports/fitness", {{"B", 200000}}, "Razbornye"));
  auto in_title = create(
      make_product("Fitbol Starfit", "Demix", "sports/fitness", {{"C", 300000}}, "Dlya doma"));
  EXPECT_EQ(ids("starfit"), (id_list{in_title, in_brand, in_description}));
}

TEST_F(CatalogWrites, PrefixSearchFindsKrossovkiTitles) {
  auto a = create(
      make_product("Krossovki begovye Nike A100", "Nike", "shoes/sneakers", {{"K1", 590000}}));
  auto b = create(
      make_product("Krossovki zimnie Puma B200", "Puma", "shoes/sneakers", {{"K2", 690000}}));
  create(make_product("Kedy povsednevnye Puma C300", "Puma", "shoes/sneakers", {{"K3", 390000}}));
  for (std::string q : {"krossov", "Krossov", "KROSSOVKI", "kr", "kro"}) {
    auto got = ids(q);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (id_list{a, b})) << q;
  }
  EXPECT_EQ(ids("krossovki!!!").size(), 2U);
  EXPECT_TRUE(ids("krossovkiz").size() == 2U); // a typo at the end of a long word still finds
  EXPECT_TRUE(ids("zzkrossovki").empty());     // but only at the end
}

TEST_F(CatalogWrites, TwoWordQueriesRequireBothWords) {
  auto kn = create(make_product("Krossovki Nike Air", "Nike", "shoes/sneakers", {{"S1", 590000}}));
  create(make_product("Krossovki Puma Fly", "Puma", "shoes/sneakers", {{"S2", 590000}}));
  create(make_product("Futbolka Nike Dry", "Nike", "clothing/men/tshirts", {{"S3", 190000}}));
  EXPECT_EQ(ids("krossovki nike"), id_list{kn});
  EXPECT_EQ(ids("nike krossovki"), id_list{kn});
  EXPECT_EQ(ids("kros nik"), id_list{kn});
  EXPECT_EQ(ids("krossovki adidas"), id_list{});
}

TEST_F(CatalogWrites, CyrillicTitlesAreFoundInAnyCase) {
  auto id =
      create(make_product("Кроссовки беговые", "Демикс", "shoes/sneakers", {{"RU1", 390000}}));
  EXPECT_EQ(ids("кроссовки"), id_list{id});
  EXPECT_EQ(ids("КРОССОВКИ"), id_list{id}); // unicode61 folds Cyrillic case
  EXPECT_EQ(ids("кросс"), id_list{id});
  EXPECT_EQ(ids("беговые демикс"), id_list{id});
}

// -- stock and availability -----------------------------------------------------------------------

TEST_F(CatalogWrites, InStockFollowsSetStock) {
  auto other =
      create(make_product("Termos Stanley", "Stanley", "sports/outdoor", {{"OTHER", 300000}}));
  stock("OTHER", "wh-msk", 4);
  auto id = create(make_product("Palatka Tramp", "Tramp", "sports/outdoor",
                                {{"TENT-1", 900000}, {"TENT-2", 950000}}));
  EXPECT_EQ(in_stock_ids(), id_list{other}); // a new product has no stock
  EXPECT_FALSE(catalog().product(id, "msk").value->summary.in_stock);

  stock("TENT-1", "wh-msk", 5);
  EXPECT_EQ(in_stock_ids(), (id_list{other, id}));
  EXPECT_TRUE(catalog().product(id, "msk").value->summary.in_stock);
  stock("TENT-2", "wh-spb", 2);
  stock("TENT-1", "wh-msk", 0);
  EXPECT_EQ(in_stock_ids(), (id_list{other, id})); // TENT-2 still has some
  stock("TENT-2", "wh-spb", 0);
  EXPECT_EQ(in_stock_ids(), id_list{other}); // zero in every warehouse: it drops out
  EXPECT_FALSE(catalog().product(id, "msk").value->summary.in_stock);
  stock("TENT-2", "wh-kzn", 1);
  EXPECT_EQ(in_stock_ids(), (id_list{other, id})); // back
}

TEST_F(CatalogWrites, InStockFlagAppearsInSummaries) {
  auto id = create(make_product("Velosiped Stels", "Stels", "sports/cycling", {{"BIKE", 2500000}}));
  search_request req;
  req.q = "stels";
  EXPECT_FALSE(find(req).data.at(0).in_stock);
  stock("BIKE", "wh-krd", 3);
  auto r = find(req);
  ASSERT_EQ(r.data.size(), 1U);
  EXPECT_EQ(r.data[0].id, id);
  EXPECT_TRUE(r.data[0].in_stock);
}

TEST_F(CatalogWrites, AvailabilityComesFromTheNearestWarehouseWithStock) {
  auto id = create(make_product("Noutbuk ASUS", "ASUS", "electronics/laptops", {{"NB", 6490000}}));
  stock("NB", "wh-spb", 3);
  stock("NB", "wh-nsk", 10);

  auto at = [&](const std::string& region) {
    auto r = catalog().product(id, region);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.value->skus.size(), 1U);
    return r.value->skus.at(0).delivery;
  };
  auto d = at("nsk");
  EXPECT_EQ(d.available, 13);
  EXPECT_EQ(d.warehouse_id, "wh-nsk");
  EXPECT_EQ(d.days, 1);
  d = at("msk");
  EXPECT_EQ(d.available, 13);
  EXPECT_EQ(d.warehouse_id, "wh-spb"); // 2 days against 6 from Novosibirsk
  EXPECT_EQ(d.days, 2);
  d = at("khv");
  EXPECT_EQ(d.warehouse_id, "wh-nsk"); // 5 days against 10
  EXPECT_EQ(d.days, 5);
  d = at("spb");
  EXPECT_EQ(d.warehouse_id, "wh-spb");
  EXPECT_EQ(d.days, 1);

  // Reservations published by the stock actors lower what is available; a warehouse whose
  // stock is all reserved is not chosen.
  catalog().stock_changed("NB", "wh-spb", 3, 3);
  d = at("msk");
  EXPECT_EQ(d.available, 10);
  EXPECT_EQ(d.warehouse_id, "wh-nsk");
  EXPECT_EQ(d.days, 6);
  catalog().stock_changed("NB", "wh-nsk", 10, 4);
  d = at("msk");
  EXPECT_EQ(d.available, 6);
  catalog().stock_changed("NB", "wh-nsk", 10, 10);
  d = at("msk");
  EXPECT_EQ(d.available, 0);
  EXPECT_EQ(d.warehouse_id, "");
  EXPECT_EQ(in_stock_ids(), id_list{}); // everything reserved: not in stock
  EXPECT_FALSE(catalog().product(id, "msk").value->summary.in_stock);
  catalog().stock_changed("NB", "wh-spb", 3, 1);
  EXPECT_EQ(in_stock_ids(), id_list{id});
  EXPECT_EQ(catalog().delivery("NB", "msk").available, 2);
}

TEST_F(CatalogWrites, DeliveryOfAnUnknownSkuIsNothing) {
  auto d = catalog().delivery("NO-SUCH-SKU", "msk");
  EXPECT_EQ(d.available, 0);
  EXPECT_EQ(d.warehouse_id, "");
}

TEST_F(CatalogWrites, SetStockAnswersTheNewAvailability) {
  create(make_product("Pled teplyy", "Togas", "home/bedding", {{"PLED", 290000}}));
  auto r = catalog().set_stock("PLED", "wh-kzn", 7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->sku, "PLED");
  EXPECT_EQ(r.value->delivery.available, 7);
  EXPECT_EQ(r.value->delivery.warehouse_id, "wh-kzn");
  r = catalog().set_stock("PLED", "wh-kzn", 2); // sets, does not add
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->delivery.available, 2);
}

TEST_F(CatalogWrites, SetStockRefusesBadInput) {
  create(make_product("Chaynik Polaris", "Polaris", "home/kitchen", {{"TEA", 250000}}));
  auto r = catalog().set_stock("NO-SUCH", "wh-msk", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "unknown_sku");
  r = catalog().set_stock("TEA", "wh-mars", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "unknown_warehouse");
  r = catalog().set_stock("TEA", "msk", 1); // a region is not a warehouse
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "unknown_warehouse");
  r = catalog().set_stock("TEA", "wh-msk", -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  r = catalog().set_stock("TEA", "wh-msk", 1'000'000'001);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  EXPECT_EQ(catalog().delivery("TEA", "msk").available, 0); // nothing was written
}

TEST_F(CatalogWrites, SetStockBelowReservedIsRefused) {
  create(make_product("Shampun Estel", "Estel", "beauty/haircare", {{"SH", 59000}}));
  stock("SH", "wh-msk", 5);
  catalog().stock_changed("SH", "wh-msk", 5, 3);
  auto r = catalog().set_stock("SH", "wh-msk", 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "below_reserved");
  EXPECT_EQ(catalog().delivery("SH", "msk").available, 2);
  stock("SH", "wh-msk", 3); // exactly what is reserved
  EXPECT_EQ(catalog().delivery("SH", "msk").available, 0);
  stock("SH", "wh-msk", 9);
  EXPECT_EQ(catalog().delivery("SH", "msk").available, 6);
}

// -- create and update ----------------------------------------------------------------------------

TEST_F(CatalogWrites, CreateProductValidatesItsInput) {
  create(make_product("Existing", "Brand", "home/kitchen", {{"TAKEN", 10000}}));
  auto count = catalog().product_count();
  struct bad_case {
    std::string name;
    product_change change;
    std::string code;
    std::string pointer;
  };
  std::vector<bad_case> cases;
  auto base = make_product("Skovoroda Tefal", "Tefal", "home/kitchen", {{"NEW-1", 240000}});
  auto c = base;
  c.title.reset();
  cases.push_back({"no title", c, "validation_failed", "/title"});
  c = base;
  c.title = "";
  cases.push_back({"empty title", c, "validation_failed", "/title"});
  c = base;
  c.title = std::string(301, 't');
  cases.push_back({"long title", c, "validation_failed", "/title"});
  c = base;
  c.brand.reset();
  cases.push_back({"no brand", c, "validation_failed", "/brand"});
  c = base;
  c.brand = "";
  cases.push_back({"empty brand", c, "validation_failed", "/brand"});
  c = base;
  c.category.reset();
  cases.push_back({"no category", c, "validation_failed", "/category"});
  c = base;
  c.category = "home/garden";
  cases.push_back({"unknown category", c, "unknown_category", "/category"});
  c = base;
  c.description = std::string(20'001, 'd');
  cases.push_back({"long description", c, "validation_failed", "/description"});
  c = base;
  c.skus.clear();
  cases.push_back({"no skus", c, "validation_failed", "/skus"});
  c = base;
  c.skus[0].price = 0;
  cases.push_back({"zero price", c, "validation_failed", "/skus/0/price"});
  c = base;
  c.skus[0].price = -100;
  cases.push_back({"negative price", c, "validation_failed", "/skus/0/price"});
  c = base;
  c.skus.push_back(c.skus[0]);
  c.skus[1].sku = "";
  cases.push_back({"empty sku", c, "validation_failed", "/skus/1/sku"});
  c = base;
  c.skus[0].sku = std::string(65, 's');
  cases.push_back({"long sku", c, "validation_failed", "/skus/0/sku"});
  c = base;
  c.skus[0].sku = "TAKEN";
  cases.push_back({"sku taken", c, "sku_taken", "/skus"});
  c = base;
  c.skus.push_back(c.skus[0]); // the same SKU twice in one product
  cases.push_back({"sku twice", c, "validation_failed", "/skus/1/sku"});
  for (auto& bad : cases) {
    auto r = catalog().create_product(bad.change);
    ASSERT_FALSE(r.ok()) << bad.name;
    EXPECT_EQ(r.error.code, bad.code) << bad.name;
    EXPECT_EQ(r.error.pointer, bad.pointer) << bad.name;
    EXPECT_FALSE(r.error.detail.empty()) << bad.name;
  }
  EXPECT_EQ(catalog().product_count(), count); // nothing was created
  search_request req;
  req.q = "tefal";
  EXPECT_EQ(find(req).total_estimate, 0);
  // The valid one goes through.
  EXPECT_NE(create(base), 0);
}

TEST_F(CatalogWrites, CreatedProductIsImmediatelySearchable) {
  auto before = catalog().categories();
  product_change c =
      make_product("Girlyanda svetodiodnaya Gauss", "Gauss", "home/lighting",
                   {{"LIGHT-1", 129000}, {"LIGHT-2", 99000}}, "Teplyy belyy svet, 10 metrov");
  c.attributes = std::vector<std::pair<std::string, std::string>>{{"length", "10 m"}};
  c.skus[0].attributes = {{"color", "warm"}};
  auto r = catalog().create_product(c);
  ASSERT_TRUE(r.ok()) << r.error.detail;
  auto& v = *r.value;
  EXPECT_GT(v.summary.id, 0);
  EXPECT_EQ(v.summary.title, *c.title);
  EXPECT_EQ(v.summary.brand, "Gauss");
  EXPECT_EQ(v.summary.category, "home/lighting");
  EXPECT_EQ(v.summary.price, 99000); // the lowest SKU price
  EXPECT_EQ(v.description, *c.description);
  EXPECT_EQ(v.attributes, *c.attributes);
  ASSERT_EQ(v.skus.size(), 2U);
  EXPECT_EQ(v.skus[0].sku, "LIGHT-1");
  EXPECT_EQ(v.skus[0].attributes, c.skus[0].attributes);
  EXPECT_EQ(v.skus[1].sku, "LIGHT-2");
  EXPECT_GT(v.created_ms, 0);

  auto id = v.summary.id;
  EXPECT_EQ(ids("girlyanda"), id_list{id});
  EXPECT_EQ(ids("metrov"), id_list{id}); // description words too
  EXPECT_EQ(ids("gauss"), id_list{id});
  search_request req;
  req.category = "home";
  req.brands = {"Gauss"};
  req.max_price = 99000;
  EXPECT_EQ(find(req).total_estimate, 1);
  req.max_price = 98999;
  EXPECT_EQ(find(req).total_estimate, 0);

  auto after = catalog().categories();
  for (std::size_t i = 0; i < after.size(); ++i) {
    auto grew = after[i].id == "home" || after[i].id == "home/lighting";
    EXPECT_EQ(after[i].product_count, before[i].product_count + (grew ? 1 : 0)) << after[i].id;
  }

  auto s = catalog().suggest("girl", 10);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.value->size(), 2U);
  EXPECT_EQ(s.value->at(0).text, "girlyanda");
  EXPECT_FALSE(s.value->at(0).product_id.has_value());
  EXPECT_EQ(s.value->at(1).product_id, id);

  auto page = catalog().product(id, "msk");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page.value->summary.title, *c.title);
}

TEST_F(CatalogWrites, NewProductsGetIncreasingIds) {
  auto a = create(make_product("Odin", "B", "kids/toys", {{"ID-1", 100}}));
  auto b = create(make_product("Dva", "B", "kids/toys", {{"ID-2", 100}}));
  EXPECT_GT(a, 0);
  EXPECT_EQ(b, a + 1);
  EXPECT_FALSE(
      catalog().create_product(make_product("Tri", "B", "kids/toys", {{"ID-1", 100}})).ok());
  auto c = create(make_product("Tri", "B", "kids/toys", {{"ID-3", 100}}));
  EXPECT_GT(c, b);
}

TEST_F(CatalogWrites, NewestSortShowsTheLatestFirst) {
  auto a = create(make_product("Pervyy", "B", "kids/toys", {{"N-1", 100}}));
  std::this_thread::sleep_for(3ms);
  auto b = create(make_product("Vtoroy", "B", "kids/toys", {{"N-2", 100}}));
  std::this_thread::sleep_for(3ms);
  auto c = create(make_product("Tretiy", "B", "kids/toys", {{"N-3", 100}}));
  search_request req;
  req.sort = product_sort::newest;
  id_list got;
  for (auto& p : find(req).data)
    got.push_back(p.id);
  EXPECT_EQ(got, (id_list{c, b, a}));
}

TEST_F(CatalogWrites, UpdatedTitleIsSearchedByItsNewWordsOnly) {
  auto id = create(make_product("Lampa nastolnaya", "IKEA", "home/lighting", {{"LAMP", 190000}},
                                "Svetodiodnaya"));
  auto other =
      create(make_product("Lampa potolochnaya", "Gauss", "home/lighting", {{"LAMP-2", 290000}}));
  product_change change;
  change.title = "Svetilnik nastennyy";
  auto r = catalog().update_product(id, change);
  ASSERT_TRUE(r.ok()) << r.error.detail;
  EXPECT_EQ(r.value->summary.title, "Svetilnik nastennyy");
  EXPECT_EQ(r.value->description, "Svetodiodnaya"); // unset fields stay
  EXPECT_EQ(r.value->summary.brand, "IKEA");

  EXPECT_EQ(ids("nastolnaya"), id_list{});
  EXPECT_EQ(ids("lampa"), id_list{other});
  EXPECT_EQ(ids("svetilnik"), id_list{id});
  EXPECT_EQ(ids("nastennyy"), id_list{id});
  EXPECT_EQ(ids("svetodiodnaya"), id_list{id}); // the unchanged description is still indexed
  search_request req;
  req.q = "svetilnik";
  EXPECT_EQ(find(req).data.at(0).title, "Svetilnik nastennyy"); // the list shows the new title

  // A second change removes the words of the first.
  change.title = "Torsher";
  ASSERT_TRUE(catalog().update_product(id, change).ok());
  EXPECT_EQ(ids("svetilnik"), id_list{});
  EXPECT_EQ(ids("torsher"), id_list{id});

  // Suggestions follow: the old word is gone, the new one is offered.
  auto s = catalog().suggest("svetil", 10);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.value->empty());
  s = catalog().suggest("torsh", 10);
  ASSERT_TRUE(s.ok());
  ASSERT_FALSE(s.value->empty());
  EXPECT_EQ(s.value->at(0).text, "torsher");
}

TEST_F(CatalogWrites, UpdateChangesBrandCategoryPriceAndSkus) {
  auto id = create(make_product("Ryukzak", "Berlingo", "kids/school", {{"BAG-1", 150000}}));
  product_change change;
  change.brand = "Tramp";
  change.category = "sports/outdoor";
  sku_view cheaper;
  cheaper.sku = "BAG-1";
  cheaper.price = 120000;
  sku_view added;
  added.sku = "BAG-2";
  added.price = 180000;
  added.attributes = {{"volume", "40 l"}};
  change.skus = {cheaper, added};
  auto r = catalog().update_product(id, change);
  ASSERT_TRUE(r.ok()) << r.error.detail;
  EXPECT_EQ(r.value->summary.brand, "Tramp");
  EXPECT_EQ(r.value->summary.category, "sports/outdoor");
  EXPECT_EQ(r.value->summary.price, 120000);
  ASSERT_EQ(r.value->skus.size(), 2U);
  EXPECT_EQ(r.value->skus[0].sku, "BAG-1");
  EXPECT_EQ(r.value->skus[0].price, 120000);
  EXPECT_EQ(r.value->skus[1].sku, "BAG-2");
  EXPECT_EQ(r.value->skus[1].attributes, added.attributes);

  search_request req;
  req.category = "kids";
  EXPECT_EQ(find(req).total_estimate, 0);
  req.category = "sports";
  req.brands = {"Tramp"};
  req.min_price = 120000;
  req.max_price = 120000;
  EXPECT_EQ(find(req).total_estimate, 1);
  req = {};
  req.brands = {"Berlingo"};
  EXPECT_EQ(find(req).total_estimate, 0);
  EXPECT_EQ(ids("tramp"), id_list{id});
  EXPECT_EQ(ids("berlingo"), id_list{});
  for (auto& c : catalog().categories()) {
    if (c.id == "kids" || c.id == "kids/school") {
      EXPECT_EQ(c.product_count, 0) << c.id;
    }
    if (c.id == "sports" || c.id == "sports/outdoor") {
      EXPECT_EQ(c.product_count, 1) << c.id;
    }
  }
  // The new SKU takes stock.
  stock("BAG-2", "wh-msk", 2);
  EXPECT_EQ(in_stock_ids(), id_list{id});
}

TEST_F(CatalogWrites, UpdateRefusesBadInput) {
  auto id = create(make_product("Kukla", "Mattel", "kids/toys", {{"DOLL", 150000}}));
  create(make_product("Mashinka", "Hasbro", "kids/toys", {{"CAR", 50000}}));
  product_change change;
  change.title = "Kukla Barbie";
  auto r = catalog().update_product(id + 100, change);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "not_found");

  change = {};
  change.title = "";
  r = catalog().update_product(id, change);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");

  change = {};
  change.category = "kids/pets";
  r = catalog().update_product(id, change);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "unknown_category");

  change = {};
  sku_view stolen;
  stolen.sku = "CAR";
  stolen.price = 1;
  change.skus = {stolen};
  r = catalog().update_product(id, change);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "sku_taken");

  change = {};
  sku_view free;
  free.sku = "DOLL";
  free.price = 0;
  change.skus = {free};
  r = catalog().update_product(id, change);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");

  // Nothing changed.
  auto page = catalog().product(id, "msk");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page.value->summary.title, "Kukla");
  EXPECT_EQ(page.value->summary.category, "kids/toys");
  EXPECT_EQ(page.value->skus.at(0).price, 150000);
  EXPECT_EQ(ids("kukla"), id_list{id});
}

TEST_F(CatalogWrites, UnknownProductIsNotFound) {
  auto r = catalog().product(1, "msk");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "not_found");
}

// -- durability -----------------------------------------------------------------------------------

TEST_F(CatalogWrites, ReopeningKeepsCreatedProductsAndStock) {
  auto a = create(make_product("Termos Stanley Classic", "Stanley", "sports/outdoor",
                               {{"THERMOS-1", 390000}, {"THERMOS-2", 420000}}, "Stalnoy"));
  auto b = create(make_product("Spalnyy meshok", "Nova Tour", "sports/outdoor", {{"BAG", 590000}}));
  stock("THERMOS-1", "wh-msk", 4);
  stock("THERMOS-2", "wh-nsk", 6);
  stock("BAG", "wh-kzn", 1);
  stock("BAG", "wh-kzn", 0);
  product_change change;
  change.title = "Termos Stanley Adventure";
  ASSERT_TRUE(catalog().update_product(a, change).ok());

  reopen();

  EXPECT_EQ(catalog().product_count(), 2U);
  auto page = catalog().product(a, "nsk");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page.value->summary.title, "Termos Stanley Adventure");
  EXPECT_EQ(page.value->description, "Stalnoy");
  ASSERT_EQ(page.value->skus.size(), 2U);
  EXPECT_EQ(page.value->skus[0].delivery.available, 4);
  EXPECT_EQ(page.value->skus[1].delivery.available, 6);
  EXPECT_EQ(page.value->skus[1].delivery.warehouse_id, "wh-nsk");
  EXPECT_EQ(in_stock_ids(), id_list{a}); // BAG was set back to zero
  EXPECT_EQ(ids("adventure"), id_list{a});
  EXPECT_EQ(ids("classic"), id_list{});
  EXPECT_EQ(ids("meshok"), id_list{b});
  auto s = catalog().suggest("advent", 10);
  ASSERT_TRUE(s.ok());
  ASSERT_FALSE(s.value->empty());
  EXPECT_EQ(s.value->at(0).text, "adventure");

  // Ids and SKUs continue where they were.
  EXPECT_EQ(
      catalog().create_product(make_product("X", "Y", "kids/toys", {{"BAG", 100}})).error.code,
      "sku_taken");
  auto c = create(make_product("Fonar", "Tramp", "sports/outdoor", {{"LAMP", 90000}}));
  EXPECT_GT(c, b);
  // The store's regions and categories were not seeded twice.
  EXPECT_EQ(catalog().regions().size(), 7U);
  EXPECT_EQ(catalog().warehouses().size(), 5U);
}

TEST_F(CatalogWrites, DemoLoadsStackAfterExistingProducts) {
  auto own = create(make_product("Sobstvennyy tovar", "Souk", "kids/toys", {{"OWN", 100}}));
  ASSERT_TRUE(catalog().load_demo(30, 1).ok());
  ASSERT_TRUE(catalog().load_demo(20, 2).ok());
  EXPECT_EQ(catalog().product_count(), 51U);
  EXPECT_EQ(ids("sobstvennyy"), id_list{own}); // the rebuild keeps the FTS row of `own`
  search_request req;
  req.limit = 100;
  auto all = find(req);
  EXPECT_EQ(all.total_estimate, 51);
  std::set<std::int64_t> seen;
  for (auto& p : all.data)
    seen.insert(p.id);
  EXPECT_EQ(seen.size(), 51U);
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), 51);
  std::set<std::string> skus;
  for (auto id : seen) {
    auto page = catalog().product(id, "msk");
    ASSERT_TRUE(page.ok()) << id;
    for (auto& s : page.value->skus)
      EXPECT_TRUE(skus.insert(s.sku).second) << s.sku;
  }
  auto next = create(make_product("Posle demo", "Souk", "kids/toys", {{"AFTER", 100}}));
  EXPECT_EQ(next, 52);

  reopen();
  EXPECT_EQ(catalog().product_count(), 52U);
  EXPECT_EQ(ids("posle"), id_list{next});
}

// -- threads --------------------------------------------------------------------------------------

TEST_F(CatalogWrites, ReadsRunWhileWritesHappen) {
  ASSERT_TRUE(catalog().load_demo(200, 9).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> reads{0};
  auto reader = [&](int seed) {
    int i = seed;
    while (!stop.load()) {
      search_request req;
      req.q = (i % 3 == 0) ? "krossovki" : (i % 3 == 1) ? "nov" : "";
      req.in_stock = i % 2 == 0;
      req.limit = 10;
      auto r = catalog().search(req);
      if (!r.ok())
        ++failures;
      else if (!r.value->next_cursor.empty()) {
        req.cursor = r.value->next_cursor;
        if (!catalog().search(req).ok())
          ++failures;
      }
      if (!catalog().suggest("kr", 10).ok())
        ++failures;
      if (!catalog().product(1 + i % 200, "msk").ok())
        ++failures;
      ++reads;
      ++i;
    }
  };
  std::thread r1{reader, 0};
  std::thread r2{reader, 1};
  for (int k = 0; k < 20; ++k) {
    auto sku = "THREAD-" + std::to_string(k);
    auto id = create(
        make_product("Novinka " + std::to_string(k), "Souk", "kids/toys", {{sku, 1000 + k}}));
    stock(sku, "wh-msk", k % 3);
    product_change change;
    change.title = "Novinka obnovlennaya " + std::to_string(k);
    EXPECT_TRUE(catalog().update_product(id, change).ok());
  }
  while (reads.load() < 20)
    std::this_thread::sleep_for(1ms);
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(catalog().product_count(), 220U);
  EXPECT_EQ(ids("obnovlennaya").size(), 20U);
}

} // namespace
} // namespace souk::actors::catalog
