// Search over 2,000 demo products in a real store: filters, facets, sorts, keyset pagination,
// suggestions and product pages, each checked against an oracle computed from the generator.
#include "actors/catalog/demo_catalog.hpp"
#include "actors/catalog/query_text.hpp"
#include "actors/catalog/sqlite_catalog.hpp"
#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace souk::actors::catalog {
namespace {

constexpr std::int64_t demo_count = 2000;
constexpr std::uint64_t demo_seed = 42;

/// What the catalog should know of a demo product, computed from the generator alone.
struct expected {
  product_spec spec;
  std::int64_t price = 0;
  bool in_stock = false;
  std::set<std::string> words; ///< title, brand and description as search words
};

bool in_subtree(const std::string& category, const std::string& root) {
  return root.empty() || category == root || category.rfind(root + "/", 0) == 0;
}

/// True when every token is the prefix of some word of `e` (FTS5 `"t"*` AND `"u"*`).
bool text_matches(const expected& e, const std::vector<std::string>& tokens) {
  for (auto& t : tokens) {
    auto it = e.words.lower_bound(t);
    if (it == e.words.end() || it->compare(0, t.size(), t) != 0)
      return false;
  }
  return true;
}

class CatalogSearch : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::temp_dir>();
    auto opened = persistence::store::open(dir_->path() + "/data", config::store_settings{});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    auto cat = sqlite_catalog::open(*store_, config::store_settings{});
    ASSERT_TRUE(cat.ok()) << cat.error().message;
    catalog_ = std::move(*cat);
    auto st = catalog_->load_demo(demo_count, demo_seed);
    ASSERT_TRUE(st.ok()) << st.message;

    oracle_ = std::make_unique<std::vector<expected>>();
    generate_demo_products(demo_count, demo_seed, [](product_spec&& p) {
      expected e;
      e.price = p.skus.front().price;
      for (auto& s : p.skus) {
        e.price = std::min(e.price, s.price);
        e.in_stock = e.in_stock || !s.stock.empty();
      }
      text_limits wide{~std::size_t{0}, 1000, 1000};
      for (auto& w : search_tokens(p.title + " " + p.brand + " " + p.description, wide))
        e.words.insert(w);
      e.spec = std::move(p);
      oracle_->push_back(std::move(e));
    });
  }

  static void TearDownTestSuite() {
    catalog_.reset();
    store_.reset();
    dir_.reset();
    oracle_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(catalog_) << "the suite's catalog failed to open";
    ASSERT_EQ(catalog_->product_count(), static_cast<std::size_t>(demo_count));
  }

  static sqlite_catalog& catalog() { return *catalog_; }
  static const std::vector<expected>& oracle() { return *oracle_; }
  static const expected& product_spec_of(std::int64_t id) {
    return (*oracle_)[static_cast<std::size_t>(id - 1)];
  }

  /// The oracle's products that `req` selects (ignoring sort, limit and cursor).
  static std::vector<const expected*> select(const search_request& req) {
    text_limits limits;
    auto tokens = search_tokens(req.q, limits);
    std::vector<const expected*> out;
    for (auto& e : oracle()) {
      if (!tokens.empty() && !text_matches(e, tokens))
        continue;
      if (!in_subtree(e.spec.category, req.category))
        continue;
      if (!req.brands.empty() &&
          std::find(req.brands.begin(), req.brands.end(), e.spec.brand) == req.brands.end())
        continue;
      if ((req.min_price && e.price < *req.min_price) ||
          (req.max_price && e.price > *req.max_price))
        continue;
      if (req.in_stock && !e.in_stock)
        continue;
      out.push_back(&e);
    }
    return out;
  }

  /// The oracle's order for a browse (no text) request: the sort key, then the id.
  static std::vector<std::int64_t> expected_order(const search_request& req) {
    auto rows = select(req);
    auto key = [&](const expected* e) -> std::tuple<double, std::int64_t> {
      auto& p = e->spec;
      switch (req.sort) {
      case product_sort::relevance:
        return {-static_cast<double>(p.reviews), p.id};
      case product_sort::price_asc:
        return {static_cast<double>(e->price), p.id};
      case product_sort::price_desc:
        return {-static_cast<double>(e->price), p.id};
      case product_sort::rating:
        return {-(p.rating * 1e7 + static_cast<double>(p.reviews)), p.id};
      case product_sort::newest:
        return {-static_cast<double>(p.created_ms), p.id};
      }
      return {0, p.id};
    };
    std::sort(rows.begin(), rows.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
    std::vector<std::int64_t> ids;
    for (auto* e : rows)
      ids.push_back(e->spec.id);
    return ids;
  }

  static search_result must_search(const search_request& req) {
    auto r = catalog().search(req);
    EXPECT_TRUE(r.ok()) << r.error.code << " " << r.error.pointer << ": " << r.error.detail;
    return r.ok() ? *r.value : search_result{};
  }

  /// Walks every page of `req` with `limit`; checks each page's size and total on the way.
  static std::vector<product_summary> walk(search_request req, int limit) {
    req.limit = limit;
    req.cursor.clear();
    std::vector<product_summary> all;
    std::int64_t total = -1;
    for (int pages = 0; pages < 10'000; ++pages) {
      auto r = catalog().search(req);
      EXPECT_TRUE(r.ok()) << r.error.code << ": " << r.error.detail;
      if (!r.ok())
        break;
      if (total < 0)
        total = r.value->total_estimate;
      EXPECT_EQ(r.value->total_estimate, total); // facets and totals ignore the cursor
      EXPECT_LE(r.value->data.size(), static_cast<std::size_t>(limit));
      all.insert(all.end(), r.value->data.begin(), r.value->data.end());
      if (r.value->next_cursor.empty())
        break;
      EXPECT_EQ(r.value->data.size(), static_cast<std::size_t>(limit)); // only the last is short
      req.cursor = r.value->next_cursor;
    }
    EXPECT_EQ(static_cast<std::int64_t>(all.size()), total);
    return all;
  }

  static std::vector<std::int64_t> ids_of(const std::vector<product_summary>& list) {
    std::vector<std::int64_t> out;
    for (auto& p : list)
      out.push_back(p.id);
    return out;
  }

  static std::int64_t count_of(const std::vector<facet_count>& facet, const std::string& value) {
    for (auto& f : facet)
      if (f.value == value)
        return f.count;
    return 0;
  }

  static std::unique_ptr<test::temp_dir> dir_;
  static std::unique_ptr<persistence::store> store_;
  static std::unique_ptr<sqlite_catalog> catalog_;
  static std::unique_ptr<std::vector<expected>> oracle_;
};

std::unique_ptr<test::temp_dir> CatalogSearch::dir_;
std::unique_ptr<persistence::store> CatalogSearch::store_;
std::unique_ptr<sqlite_catalog> CatalogSearch::catalog_;
std::unique_ptr<std::vector<expected>> CatalogSearch::oracle_;

search_request browse() {
  search_request req;
  req.limit = 100;
  return req;
}

search_request text(std::string q) {
  search_request req;
  req.q = std::move(q);
  req.limit = 100;
  return req;
}

// -- browsing and text
// ------------------------------------------------------------------------------

TEST_F(CatalogSearch, BrowsingWithoutFiltersCountsEveryProduct) {
  auto r = must_search(browse());
  EXPECT_EQ(r.total_estimate, demo_count);
  EXPECT_EQ(r.data.size(), 100U);
  EXPECT_FALSE(r.next_cursor.empty());
}

TEST_F(CatalogSearch, SummariesMatchTheGeneratedProducts) {
  for (auto& p : must_search(browse()).data) {
    auto& e = product_spec_of(p.id);
    EXPECT_EQ(p.title, e.spec.title);
    EXPECT_EQ(p.brand, e.spec.brand);
    EXPECT_EQ(p.category, e.spec.category);
    EXPECT_EQ(p.price, e.price);
    EXPECT_DOUBLE_EQ(p.rating, e.spec.rating);
    EXPECT_EQ(p.reviews, e.spec.reviews);
    EXPECT_EQ(p.in_stock, e.in_stock);
  }
}

TEST_F(CatalogSearch, TextQueryFindsExactlyTheProductsWithThoseWordPrefixes) {
  for (std::string q : {"krossovki", "krossov", "kro", "nike", "Krossovki NIKE", "smartfon apple",
                        "dlya", "o'stin", "15.6"}) {
    SCOPED_TRACE(q);
    std::vector<std::int64_t> expected_ids;
    for (auto* e : select(text(q)))
      expected_ids.push_back(e->spec.id);
    ASSERT_FALSE(expected_ids.empty());
    auto got = ids_of(walk(text(q), 100));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected_ids);
  }
}

TEST_F(CatalogSearch, PrefixFindsKrossovkiTitles) {
  auto r = must_search(text("krossov"));
  ASSERT_FALSE(r.data.empty());
  std::size_t titles = 0;
  for (auto& p : r.data)
    if (p.title.rfind("Krossovki", 0) == 0)
      ++titles;
  EXPECT_GT(titles, 0U);
  // Every product whose title starts with Krossovki is found.
  std::int64_t krossovki = 0;
  for (auto& e : oracle())
    if (e.spec.title.rfind("Krossovki", 0) == 0)
      ++krossovki;
  EXPECT_GE(r.total_estimate, krossovki);
}

TEST_F(CatalogSearch, TwoWordQueriesRequireBothWords) {
  auto both = must_search(text("krossovki nike"));
  auto one = must_search(text("krossovki"));
  ASSERT_GT(both.total_estimate, 0);
  EXPECT_LT(both.total_estimate, one.total_estimate);
  for (auto& p : walk(text("krossovki nike"), 50)) {
    auto& e = product_spec_of(p.id);
    EXPECT_TRUE(text_matches(e, {"krossovki"})) << p.title;
    EXPECT_TRUE(text_matches(e, {"nike"})) << p.title;
  }
}

TEST_F(CatalogSearch, ATypoAtTheEndOfALongWordStillFinds) {
  auto exact = must_search(text("krossovki"));
  auto typo = must_search(text("krossovkx")); // no such word: retried as "krossov"
  EXPECT_GT(typo.total_estimate, 0);
  EXPECT_GE(typo.total_estimate, exact.total_estimate);
  auto nothing = must_search(text("zzzzzzzzzz"));
  EXPECT_EQ(nothing.total_estimate, 0);
  EXPECT_TRUE(nothing.data.empty());
  EXPECT_TRUE(nothing.next_cursor.empty());
}

TEST_F(CatalogSearch, PunctuationOnlyQueryBrowses) {
  auto r = must_search(text("\"*()-:^"));
  EXPECT_EQ(r.total_estimate, demo_count);
}

TEST_F(CatalogSearch, Fts5SyntaxInTheQueryIsSearchedAsWords) {
  for (std::string q : {"krossovki\" OR \"1", "NEAR(krossovki nike)", "krossovki*", "-krossovki",
                        "title:krossovki", "^krossovki", "krossovki AND nike", "krossovki OR"}) {
    SCOPED_TRACE(q);
    auto r = catalog().search(text(q));
    ASSERT_TRUE(r.ok()) << r.error.code << ": " << r.error.detail;
    EXPECT_EQ(r.value->total_estimate, static_cast<std::int64_t>(select(text(q)).size()));
  }
}

TEST_F(CatalogSearch, LongOrInvalidQueriesAreRefused) {
  auto r = catalog().search(text(std::string(201, 'a')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  EXPECT_EQ(r.error.pointer, "q");
  EXPECT_TRUE(catalog().search(text(std::string(200, 'a'))).ok());

  r = catalog().search(text("nike \xff"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  EXPECT_EQ(r.error.pointer, "q");
}

TEST_F(CatalogSearch, CyrillicQueryIsAcceptedAndFindsNothingInATransliteratedCatalog) {
  auto r = catalog().search(text("Кроссовки"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->total_estimate, 0);
}

// -- filters --------------------------------------------------------------------------------------

TEST_F(CatalogSearch, CategoryFilterIncludesTheWholeSubtree) {
  for (std::string cat : {"shoes", "clothing", "clothing/men", "shoes/sneakers"}) {
    SCOPED_TRACE(cat);
    auto req = browse();
    req.category = cat;
    auto r = must_search(req);
    EXPECT_EQ(r.total_estimate, static_cast<std::int64_t>(select(req).size()));
    EXPECT_GT(r.total_estimate, 0);
    for (auto& p : r.data)
      EXPECT_TRUE(in_subtree(p.category, cat)) << p.category;
  }
  // A parent counts exactly its children.
  auto req = browse();
  req.category = "shoes";
  auto parent = must_search(req).total_estimate;
  std::int64_t children = 0;
  for (std::string leaf : {"shoes/sneakers", "shoes/boots", "shoes/sandals"}) {
    req.category = leaf;
    children += must_search(req).total_estimate;
  }
  EXPECT_EQ(parent, children);
}

TEST_F(CatalogSearch, CategoryIsMatchedByWholeSegments) {
  // "cloth" is not a category, and "clothing/me" is not "clothing/men".
  for (std::string cat : {"cloth", "clothing/me", "clothing/", "/clothing", "CLOTHING"}) {
    auto req = browse();
    req.category = cat;
    auto r = catalog().search(req);
    ASSERT_FALSE(r.ok()) << cat;
    EXPECT_EQ(r.error.code, "validation_failed");
    EXPECT_EQ(r.error.pointer, "category");
  }
}

TEST_F(CatalogSearch, UnknownCategoryIsValidationFailed) {
  auto req = browse();
  req.category = "weapons";
  auto r = catalog().search(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  EXPECT_EQ(r.error.pointer, "category");
}

TEST_F(CatalogSearch, BrandFilterTakesOneOrSeveralBrands) {
  auto req = browse();
  req.brands = {"Nike"};
  auto nike = must_search(req);
  EXPECT_EQ(nike.total_estimate, static_cast<std::int64_t>(select(req).size()));
  EXPECT_GT(nike.total_estimate, 0);
  for (auto& p : nike.data)
    EXPECT_EQ(p.brand, "Nike");

  req.brands = {"Adidas"};
  auto adidas = must_search(req).total_estimate;
  req.brands = {"Nike", "Adidas"};
  auto both = must_search(req);
  EXPECT_EQ(both.total_estimate, nike.total_estimate + adidas);
  for (auto& p : both.data)
    EXPECT_TRUE(p.brand == "Nike" || p.brand == "Adidas") << p.brand;

  // Order and repetition do not matter; an unknown brand matches nothing.
  req.brands = {"Adidas", "Nike", "Nike"};
  EXPECT_EQ(must_search(req).total_estimate, both.total_estimate);
  req.brands = {"Nike", "No Such Brand"};
  EXPECT_EQ(must_search(req).total_estimate, nike.total_estimate);
  req.brands = {"No Such Brand"};
  EXPECT_EQ(must_search(req).total_estimate, 0);
  req.brands = {"nike"}; // exact names
  EXPECT_EQ(must_search(req).total_estimate, 0);
}

TEST_F(CatalogSearch, PriceBoundsAreInclusive) {
  // A price some product has exactly.
  auto price = oracle()[10].price;
  std::int64_t exactly = 0;
  for (auto& e : oracle())
    if (e.price == price)
      ++exactly;
  ASSERT_GT(exactly, 0);
  auto req = browse();
  req.min_price = price;
  req.max_price = price;
  auto r = must_search(req);
  EXPECT_EQ(r.total_estimate, exactly);
  for (auto& p : r.data)
    EXPECT_EQ(p.price, price);

  req.min_price = price;
  req.max_price.reset();
  auto above = must_search(req);
  EXPECT_EQ(above.total_estimate, static_cast<std::int64_t>(select(req).size()));
  req.min_price.reset();
  req.max_price = price;
  auto below = must_search(req);
  EXPECT_EQ(below.total_estimate, static_cast<std::int64_t>(select(req).size()));
  // Both sides include the products at `price`.
  EXPECT_EQ(above.total_estimate + below.total_estimate, demo_count + exactly);

  req.min_price = 0;
  req.max_price.reset();
  EXPECT_EQ(must_search(req).total_estimate, demo_count);
  req.min_price = 1'000'000'000'000;
  EXPECT_EQ(must_search(req).total_estimate, 0);
}

TEST_F(CatalogSearch, BadPriceRangesAndLimitsAreValidationFailed) {
  auto check = [](search_request req, const std::string& pointer) {
    auto r = catalog().search(req);
    ASSERT_FALSE(r.ok()) << pointer;
    EXPECT_EQ(r.error.code, "validation_failed");
    EXPECT_EQ(r.error.pointer, pointer);
  };
  auto req = browse();
  req.min_price = -1;
  check(req, "min_price");
  req = browse();
  req.max_price = -1;
  check(req, "max_price");
  req = browse();
  req.min_price = 200'000;
  req.max_price = 100'000;
  check(req, "min_price");
  req = browse();
  req.limit = 0;
  check(req, "limit");
  req.limit = 101;
  check(req, "limit");
  req.limit = -5;
  check(req, "limit");
  // Text queries validate the same way.
  req = text("krossovki");
  req.limit = 0;
  check(req, "limit");

  req = browse();
  req.limit = 1;
  EXPECT_EQ(must_search(req).data.size(), 1U);
  req.limit = 100;
  EXPECT_EQ(must_search(req).data.size(), 100U);
}

TEST_F(CatalogSearch, InStockDropsSoldOutProducts) {
  auto req = browse();
  req.in_stock = true;
  auto r = must_search(req);
  std::int64_t stocked = 0;
  for (auto& e : oracle())
    if (e.in_stock)
      ++stocked;
  EXPECT_EQ(r.total_estimate, stocked);
  EXPECT_LT(stocked, demo_count); // some demo products are sold out everywhere
  for (auto& p : walk(req, 100))
    EXPECT_TRUE(p.in_stock) << p.id;
}

TEST_F(CatalogSearch, FiltersCombine) {
  search_request req = text("krossovki");
  req.category = "shoes";
  req.brands = {"Nike", "Puma", "Adidas"};
  req.min_price = 300'000;
  req.max_price = 900'000;
  req.in_stock = true;
  auto expected_rows = select(req);
  ASSERT_FALSE(expected_rows.empty());
  std::vector<std::int64_t> expected_ids;
  for (auto* e : expected_rows)
    expected_ids.push_back(e->spec.id);
  auto got = ids_of(walk(req, 7));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected_ids);

  search_request wide = browse();
  wide.category = "electronics";
  wide.brands = {"Apple", "Samsung"};
  wide.max_price = 5'000'000;
  wide.sort = product_sort::price_desc;
  EXPECT_EQ(ids_of(walk(wide, 7)), expected_order(wide));
}

// -- facets ---------------------------------------------------------------------------------------

TEST_F(CatalogSearch, FacetsAreComputedOnTheFilteredSet) {
  auto req = browse();
  req.category = "shoes";
  req.in_stock = true;
  auto r = must_search(req);
  auto rows = select(req);
  ASSERT_EQ(r.total_estimate, static_cast<std::int64_t>(rows.size()));

  std::map<std::string, std::int64_t> brands;
  std::map<std::string, std::int64_t> children;
  for (auto* e : rows) {
    ++brands[e->spec.brand];
    ++children[e->spec.category];
  }
  ASSERT_LE(brands.size(), 20U); // shoes have fewer than 20 brands: the facet is complete
  std::int64_t sum = 0;
  for (auto& f : r.brand_facet) {
    EXPECT_EQ(f.count, brands[f.value]) << f.value;
    sum += f.count;
  }
  EXPECT_EQ(r.brand_facet.size(), brands.size());
  EXPECT_EQ(sum, r.total_estimate);
  for (std::size_t i = 1; i < r.brand_facet.size(); ++i)
    EXPECT_GE(r.brand_facet[i - 1].count, r.brand_facet[i].count); // most frequent first

  // The category facet lists the children of the selected category.
  sum = 0;
  for (auto& f : r.category_facet) {
    EXPECT_EQ(f.count, children[f.value]) << f.value;
    EXPECT_EQ(f.value.rfind("shoes/", 0), 0U) << f.value;
    sum += f.count;
  }
  EXPECT_EQ(r.category_facet.size(), children.size());
  EXPECT_EQ(sum, r.total_estimate);

  std::int64_t buckets = 0;
  for (auto& b : r.price_facet)
    buckets += b.count;
  EXPECT_EQ(buckets, r.total_estimate);
}

TEST_F(CatalogSearch, PriceBucketsCoverEveryPriceOnce) {
  for (auto req : {browse(), text("krossovki"), text("smartfon")}) {
    auto r = must_search(req);
    ASSERT_EQ(r.price_facet.size(), price_bucket_edges().size());
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < r.price_facet.size(); ++i) {
      auto& b = r.price_facet[i];
      EXPECT_EQ(b.min, price_bucket_edges()[i]);
      if (i + 1 < r.price_facet.size()) {
        ASSERT_TRUE(b.max.has_value());
        EXPECT_EQ(*b.max, r.price_facet[i + 1].min);
      } else {
        EXPECT_FALSE(b.max.has_value()); // the open top bucket
      }
      std::int64_t expected_count = 0;
      for (auto* e : select(req))
        if (e->price >= b.min && (!b.max || e->price < *b.max))
          ++expected_count;
      EXPECT_EQ(b.count, expected_count) << "bucket " << b.min;
      sum += b.count;
    }
    EXPECT_EQ(sum, r.total_estimate);
  }
}

TEST_F(CatalogSearch, BrandFacetKeepsTheTwentyMostFrequent) {
  auto r = must_search(browse());
  std::map<std::string, std::int64_t> brands;
  for (auto& e : oracle())
    ++brands[e.spec.brand];
  ASSERT_GT(brands.size(), 20U);
  ASSERT_EQ(r.brand_facet.size(), 20U);
  std::set<std::string> listed;
  for (auto& f : r.brand_facet) {
    EXPECT_EQ(f.count, brands[f.value]) << f.value;
    listed.insert(f.value);
  }
  auto smallest = r.brand_facet.back().count;
  for (auto& [brand, n] : brands)
    if (listed.count(brand) == 0) {
      EXPECT_LE(n, smallest) << brand;
    }
}

TEST_F(CatalogSearch, CategoryFacetListsRootsWithoutACategory) {
  auto r = must_search(text("dlya"));
  std::map<std::string, std::int64_t> roots;
  auto rows = select(text("dlya"));
  for (auto* e : rows)
    ++roots[e->spec.category.substr(0, e->spec.category.find('/'))];
  std::int64_t sum = 0;
  for (auto& f : r.category_facet) {
    EXPECT_EQ(f.value.find('/'), std::string::npos) << f.value;
    EXPECT_EQ(f.count, roots[f.value]) << f.value;
    sum += f.count;
  }
  EXPECT_EQ(r.category_facet.size(), roots.size());
  EXPECT_EQ(sum, r.total_estimate);

  auto req = browse();
  req.category = "clothing";
  auto clothing = must_search(req);
  EXPECT_EQ(clothing.category_facet.size(), 2U);
  EXPECT_GT(count_of(clothing.category_facet, "clothing/women"), 0);
  EXPECT_GT(count_of(clothing.category_facet, "clothing/men"), 0);
  EXPECT_EQ(count_of(clothing.category_facet, "clothing/women") +
                count_of(clothing.category_facet, "clothing/men"),
            clothing.total_estimate);

  req.category = "shoes/boots"; // a leaf has no children to list
  EXPECT_TRUE(must_search(req).category_facet.empty());
}

// -- sorts ----------------------------------------------------------------------------------------

TEST_F(CatalogSearch, EverySortOrdersTheWholeList) {
  for (auto sort : {product_sort::relevance, product_sort::price_asc, product_sort::price_desc,
                    product_sort::rating, product_sort::newest}) {
    SCOPED_TRACE(static_cast<int>(sort));
    auto req = browse();
    req.category = "electronics";
    req.sort = sort;
    auto got = walk(req, 100);
    EXPECT_EQ(ids_of(got), expected_order(req));
    for (std::size_t i = 1; i < got.size(); ++i) {
      auto& a = got[i - 1];
      auto& b = got[i];
      switch (sort) {
      case product_sort::price_asc:
        EXPECT_LE(a.price, b.price);
        break;
      case product_sort::price_desc:
        EXPECT_GE(a.price, b.price);
        break;
      case product_sort::rating:
        EXPECT_TRUE(a.rating > b.rating || (a.rating == b.rating && a.reviews >= b.reviews));
        break;
      case product_sort::newest:
        EXPECT_GE(product_spec_of(a.id).spec.created_ms, product_spec_of(b.id).spec.created_ms);
        break;
      case product_sort::relevance: // browsing: the most reviewed first
        EXPECT_GE(a.reviews, b.reviews);
        break;
      }
    }
  }
}

TEST_F(CatalogSearch, TextQueriesSortByTheRequestedKeyToo) {
  for (auto sort : {product_sort::price_asc, product_sort::price_desc, product_sort::rating,
                    product_sort::newest}) {
    auto req = text("krossovki");
    req.sort = sort;
    auto got = walk(req, 100);
    // Same products as relevance, in the browse order of that key.
    auto expected_ids = expected_order(req);
    EXPECT_EQ(ids_of(got), expected_ids) << static_cast<int>(sort);
  }
}

// -- pagination -----------------------------------------------------------------------------------

TEST_F(CatalogSearch, WalkingPagesGivesTheWholeListWithoutDuplicatesOrGaps) {
  std::vector<search_request> requests;
  requests.push_back(text("krossovki"));
  requests.push_back(text("nike"));
  auto r = text("dlya");
  r.sort = product_sort::price_asc;
  requests.push_back(r);
  r = browse();
  r.category = "home";
  r.sort = product_sort::price_asc; // many equal prices: ties are broken by id
  requests.push_back(r);
  r = browse();
  r.brands = {"Xiaomi", "Apple"};
  r.sort = product_sort::rating;
  requests.push_back(r);
  r = browse();
  r.in_stock = true;
  r.sort = product_sort::newest;
  requests.push_back(r);
  r = browse(); // the whole catalog by popularity
  requests.push_back(r);

  for (auto& req : requests) {
    SCOPED_TRACE(req.q + " / " + req.category + " / sort " +
                 std::to_string(static_cast<int>(req.sort)));
    auto pages = ids_of(walk(req, 7));
    std::set<std::int64_t> unique(pages.begin(), pages.end());
    EXPECT_EQ(unique.size(), pages.size()) << "duplicates";
    EXPECT_EQ(static_cast<std::int64_t>(pages.size()), must_search(req).total_estimate);
    // The same list as big pages give.
    EXPECT_EQ(pages, ids_of(walk(req, 100)));
    if (req.q.empty()) {
      EXPECT_EQ(pages, expected_order(req));
    }
  }
}

TEST_F(CatalogSearch, LastPageHasNoCursor) {
  auto req = browse();
  req.category = "shoes/boots";
  auto total = must_search(req).total_estimate;
  ASSERT_GT(total, 0);
  ASSERT_LE(total, 100);
  req.limit = static_cast<int>(total);
  auto r = must_search(req);
  EXPECT_EQ(static_cast<std::int64_t>(r.data.size()), total);
  EXPECT_TRUE(r.next_cursor.empty()); // an exactly full last page ends the list
  req.limit = static_cast<int>(total) - 1;
  r = must_search(req);
  ASSERT_FALSE(r.next_cursor.empty());
  req.cursor = r.next_cursor;
  r = must_search(req);
  EXPECT_EQ(r.data.size(), 1U);
  EXPECT_TRUE(r.next_cursor.empty());
}

TEST_F(CatalogSearch, ACursorWorksWithAnotherPageSize) {
  auto req = browse();
  req.limit = 10;
  auto first = must_search(req);
  ASSERT_FALSE(first.next_cursor.empty());
  req.cursor = first.next_cursor;
  req.limit = 20;
  auto second = must_search(req);
  auto all = ids_of(walk(browse(), 100));
  ASSERT_GE(all.size(), 30U);
  EXPECT_EQ(ids_of(second.data), std::vector<std::int64_t>(all.begin() + 10, all.begin() + 30));
}

TEST_F(CatalogSearch, ACursorOfAnotherQueryIsInvalid) {
  auto req = text("krossovki");
  req.limit = 5;
  auto first = must_search(req);
  ASSERT_FALSE(first.next_cursor.empty());
  auto cursor = first.next_cursor;

  std::vector<search_request> others;
  auto o = req;
  o.q = "nike";
  others.push_back(o);
  o = req;
  o.sort = product_sort::price_asc;
  others.push_back(o);
  o = req;
  o.category = "shoes";
  others.push_back(o);
  o = req;
  o.brands = {"Nike"};
  others.push_back(o);
  o = req;
  o.min_price = 1;
  others.push_back(o);
  o = req;
  o.max_price = 100'000'000;
  others.push_back(o);
  o = req;
  o.in_stock = true;
  others.push_back(o);
  o = req;
  o.q.clear();
  others.push_back(o);
  for (auto& other : others) {
    other.cursor = cursor;
    auto r = catalog().search(other);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.code, "invalid_cursor");
    EXPECT_EQ(r.error.pointer, "cursor");
  }
  req.cursor = cursor;
  EXPECT_TRUE(catalog().search(req).ok());
}

TEST_F(CatalogSearch, AGarbageCursorIsInvalid) {
  auto req = browse();
  req.limit = 5;
  auto good = must_search(req).next_cursor;
  ASSERT_FALSE(good.empty());
  std::vector<std::string> garbage = {
      "garbage!",
      "x",
      "AAAA",
      "eyJmIjoiYSJ9",                  // {"f":"a"} without k and i
      good.substr(0, good.size() / 2), // truncated
      good + "AAAA",                   // extended: not JSON any more
      std::string(600, 'A'),           // longer than any cursor
      "e30",                           // {}
      "W10",                           // []
      "bnVsbA",                        // null
      std::string("\0\0\0", 3),
  };
  // A cursor with the right fingerprint but values of the wrong type.
  auto flipped = good;
  flipped[flipped.size() / 3] = flipped[flipped.size() / 3] == 'A' ? 'B' : 'A';
  garbage.push_back(flipped);
  for (auto& c : garbage) {
    SCOPED_TRACE(c);
    req.cursor = c;
    auto r = catalog().search(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.code, "invalid_cursor");
  }
}

// -- suggest --------------------------------------------------------------------------------------

TEST_F(CatalogSearch, SuggestCompletesWordsThenProductsByReviews) {
  auto r = catalog().suggest("kro", 10);
  ASSERT_TRUE(r.ok());
  auto& list = *r.value;
  ASSERT_FALSE(list.empty());
  EXPECT_LE(list.size(), 10U);
  // Words first (no product id), then products.
  std::size_t words = 0;
  while (words < list.size() && !list[words].product_id)
    ++words;
  ASSERT_GT(words, 0U);
  for (std::size_t i = words; i < list.size(); ++i)
    EXPECT_TRUE(list[i].product_id.has_value()) << list[i].text;
  bool krossovki = false;
  for (std::size_t i = 0; i < words; ++i) {
    EXPECT_EQ(list[i].text.rfind("kro", 0), 0U) << list[i].text;
    krossovki = krossovki || list[i].text == "krossovki";
  }
  EXPECT_TRUE(krossovki);

  // The products are the most reviewed of those matching "kro", most reviewed first.
  auto rows = select(text("kro"));
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    return a->spec.reviews > b->spec.reviews ||
           (a->spec.reviews == b->spec.reviews && a->spec.id < b->spec.id);
  });
  ASSERT_GE(rows.size(), list.size() - words);
  EXPECT_EQ(list.size(), 10U);
  for (std::size_t i = words; i < list.size(); ++i) {
    auto& e = *rows[i - words];
    EXPECT_EQ(*list[i].product_id, e.spec.id);
    EXPECT_EQ(list[i].text, e.spec.title);
    EXPECT_EQ(list[i].text.rfind("Krossovki", 0), 0U) << list[i].text;
    if (i > words) {
      EXPECT_GE(product_spec_of(*list[i - 1].product_id).spec.reviews, e.spec.reviews);
    }
  }
}

TEST_F(CatalogSearch, SuggestKeepsTheWordsAlreadyTyped) {
  auto r = catalog().suggest("Krossovki ni", 10);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r.value->empty());
  bool nike = false;
  for (auto& s : *r.value) {
    if (!s.product_id) {
      EXPECT_EQ(s.text.rfind("krossovki ni", 0), 0U) << s.text;
      nike = nike || s.text == "krossovki nike";
    } else {
      auto& e = product_spec_of(*s.product_id);
      EXPECT_TRUE(text_matches(e, {"krossovki", "ni"})) << s.text;
    }
  }
  EXPECT_TRUE(nike);
}

TEST_F(CatalogSearch, SuggestNeverExceedsTheLimit) {
  for (std::string prefix : {"k", "kr", "s", "sm", "a", "nike", "dlya", "z"}) {
    for (int limit : {1, 2, 5, 10}) {
      auto r = catalog().suggest(prefix, limit);
      ASSERT_TRUE(r.ok()) << prefix;
      EXPECT_LE(r.value->size(), static_cast<std::size_t>(limit)) << prefix << " " << limit;
    }
  }
  for (int limit : {0, -1}) {
    auto r = catalog().suggest("kro", limit);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value->empty()) << limit;
  }
  auto one_letter = catalog().suggest("k", 10);
  ASSERT_TRUE(one_letter.ok());
  for (auto& s : *one_letter.value)
    EXPECT_FALSE(s.product_id.has_value()) << s.text; // one letter completes words only
}

TEST_F(CatalogSearch, SuggestOfNothingIsEmpty) {
  for (std::string prefix : {"", " ", "\"*()", "-", "   ...   ", "qqqqqqq"}) {
    auto r = catalog().suggest(prefix, 10);
    ASSERT_TRUE(r.ok()) << prefix;
    EXPECT_TRUE(r.value->empty()) << prefix;
  }
}

TEST_F(CatalogSearch, SuggestRefusesLongOrInvalidPrefixes) {
  auto r = catalog().suggest(std::string(1000, 'k'), 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
  r = catalog().suggest("kro\xff", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.code, "validation_failed");
}

// -- product pages, categories, geography ------------------------------------------------------

TEST_F(CatalogSearch, ProductPageShowsSkusWithAvailabilityForTheRegion) {
  std::map<std::string, std::string> region_of;
  for (auto& w : demo_warehouses())
    region_of[w.id] = w.region;
  for (std::int64_t id = 1; id <= 60; ++id) {
    auto& e = product_spec_of(id);
    for (std::string region : {"msk", "khv", "nsk"}) {
      auto r = catalog().product(id, region);
      ASSERT_TRUE(r.ok()) << id;
      auto& v = *r.value;
      EXPECT_EQ(v.summary.id, id);
      EXPECT_EQ(v.summary.title, e.spec.title);
      EXPECT_EQ(v.description, e.spec.description);
      EXPECT_EQ(v.summary.price, e.price);
      EXPECT_EQ(v.summary.in_stock, e.in_stock);
      EXPECT_EQ(v.attributes, e.spec.attributes);
      EXPECT_EQ(v.created_ms, e.spec.created_ms);
      ASSERT_EQ(v.skus.size(), e.spec.skus.size());
      for (std::size_t k = 0; k < v.skus.size(); ++k) {
        auto& got = v.skus[k];
        auto& want = e.spec.skus[k];
        EXPECT_EQ(got.sku, want.sku);
        EXPECT_EQ(got.price, want.price);
        EXPECT_EQ(got.attributes, want.attributes);
        std::int64_t available = 0;
        int best_days = 1 << 20;
        std::string best;
        for (auto& [wh, qty] : want.stock) {
          available += qty;
          auto days = demo_delivery_days(region_of[wh], region);
          if (days < best_days || (days == best_days && wh < best)) {
            best_days = days;
            best = wh;
          }
        }
        EXPECT_EQ(got.delivery.available, available) << got.sku;
        EXPECT_EQ(got.delivery.warehouse_id, best) << got.sku << " " << region;
        if (!best.empty()) {
          EXPECT_EQ(got.delivery.days, best_days);
        }
      }
    }
  }
}

TEST_F(CatalogSearch, UnknownProductIsNotFound) {
  for (std::int64_t id :
       {std::int64_t{0}, std::int64_t{-1}, demo_count + 1, std::int64_t{1} << 60}) {
    auto r = catalog().product(id, "msk");
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error.code, "not_found");
  }
}

TEST_F(CatalogSearch, CategoriesCountTheirSubtrees) {
  auto cats = catalog().categories();
  ASSERT_EQ(cats.size(), demo_categories().size());
  for (std::size_t i = 0; i < cats.size(); ++i) {
    auto& c = cats[i];
    EXPECT_EQ(c.id, demo_categories()[i].id);
    EXPECT_EQ(c.name, demo_categories()[i].name);
    EXPECT_EQ(c.parent, demo_categories()[i].parent);
    std::int64_t expected_count = 0;
    for (auto& e : oracle())
      if (in_subtree(e.spec.category, c.id))
        ++expected_count;
    EXPECT_EQ(c.product_count, expected_count) << c.id;
  }
  std::int64_t roots = 0;
  for (auto& c : cats)
    if (c.parent.empty())
      roots += c.product_count;
  EXPECT_EQ(roots, demo_count);
}

TEST_F(CatalogSearch, RegionsAndWarehousesAreTheDemoGeography) {
  auto regions = catalog().regions();
  ASSERT_EQ(regions.size(), demo_regions().size());
  for (auto& r : demo_regions())
    EXPECT_TRUE(std::any_of(regions.begin(), regions.end(), [&](auto& x) {
      return x.id == r.id && x.name == r.name;
    })) << r.id;
  auto whs = catalog().warehouses();
  ASSERT_EQ(whs.size(), demo_warehouses().size());
  for (auto& w : demo_warehouses())
    EXPECT_TRUE(std::any_of(whs.begin(), whs.end(), [&](auto& x) {
      return x.id == w.id && x.name == w.name && x.region == w.region;
    })) << w.id;
}

TEST_F(CatalogSearch, HasRegionKnowsExactlyTheRegionsOfTheList) {
  for (auto& r : catalog().regions())
    EXPECT_TRUE(catalog().has_region(r.id)) << r.id;
  EXPECT_FALSE(catalog().has_region(""));
  EXPECT_FALSE(catalog().has_region("atlantis"));
  EXPECT_FALSE(catalog().has_region("MSK")); // ids are compared exactly
  // The interface's default, asking regions(), gives the same answers.
  auto& base = static_cast<actors::catalog_service&>(catalog());
  EXPECT_TRUE(base.catalog_service::has_region("msk"));
  EXPECT_FALSE(base.catalog_service::has_region("atlantis"));
}

} // namespace
} // namespace souk::actors::catalog
