#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace souk::actors {

// The catalog read model's contract: what the HTTP edge may ask of it. Every node holds the
// whole catalog (DESIGN.md, CQRS), so these calls are local and synchronous; implementations
// are thread-safe and answer in milliseconds.

/// Orders of a product list.
enum class product_sort { relevance, price_asc, price_desc, rating, newest };

/// A search or browse request, already parsed but not yet validated.
struct search_request {
  std::string q;                         ///< free text; empty means browse
  std::string category;                  ///< a category id: the whole subtree matches
  std::vector<std::string> brands;       ///< any of these brands (exact names)
  std::optional<std::int64_t> min_price; ///< minor units, inclusive
  std::optional<std::int64_t> max_price; ///< minor units, inclusive
  bool in_stock = false;                 ///< only products with some SKU available
  product_sort sort = product_sort::relevance;
  int limit = 20;     ///< 1..100
  std::string cursor; ///< from a previous page's `next_cursor`
};

/// One product in a list.
struct product_summary {
  std::int64_t id = 0;
  std::string title;
  std::string brand;
  std::string category;
  std::int64_t price = 0; ///< the lowest SKU price, minor units
  double rating = 0;
  std::int64_t reviews = 0;
  bool in_stock = false;
};

/// A facet value with the number of products in the filtered set that have it.
struct facet_count {
  std::string value;
  std::int64_t count = 0;
};

/// A price range [min, max) in minor units; `max` is nullopt for the open top bucket.
struct price_bucket {
  std::int64_t min = 0;
  std::optional<std::int64_t> max;
  std::int64_t count = 0;
};

/// A page of results with facets computed on the whole filtered set.
struct search_result {
  std::vector<product_summary> data;
  std::string next_cursor; ///< empty on the last page
  std::int64_t total_estimate = 0;
  std::vector<facet_count> category_facet; ///< children of the filtered category (or roots)
  std::vector<facet_count> brand_facet;    ///< most frequent first, at most 20
  std::vector<price_bucket> price_facet;
};

/// A completion for `GET /v1/suggest`.
struct suggestion {
  std::string text;
  std::optional<std::int64_t> product_id; ///< set when the suggestion is one product
};

/// Where and when a SKU can come from, for a buyer's region.
struct sku_delivery {
  std::int64_t available = 0; ///< units available in all warehouses
  std::string warehouse_id;   ///< the nearest warehouse with stock; empty when none
  int days = 0;               ///< delivery estimate from that warehouse
};

/// One variant of a product with its availability for the caller's region.
struct sku_view {
  std::string sku;
  std::int64_t price = 0;
  std::vector<std::pair<std::string, std::string>> attributes;
  sku_delivery delivery;
};

/// A product page.
struct product_view {
  product_summary summary;
  std::string description;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::int64_t created_ms = 0;
  std::vector<sku_view> skus;
};

/// A category with the number of products in its subtree.
struct category_view {
  std::string id;
  std::string name;
  std::string parent;
  std::int64_t product_count = 0;
};

/// A region or a warehouse, for `GET /v1/regions`.
struct region_view {
  std::string id;
  std::string name;
};
struct warehouse_view {
  std::string id;
  std::string name;
  std::string region;
};

/// What a cart line needs to know of a SKU: its product, title and current price.
struct sku_offer {
  std::string sku;
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t price = 0; ///< minor units
};

/// A refusal of the catalog: a stable code, the JSON pointer of the bad input (may be empty),
/// and a human sentence. The edge maps codes to statuses (validation_failed → 422, ...).
struct catalog_error {
  std::string code;
  std::string pointer;
  std::string detail;
};

/// A value or a catalog_error.
template <class T>
struct catalog_result {
  std::optional<T> value;
  catalog_error error;

  bool ok() const { return value.has_value(); }
  static catalog_result fail(std::string code, std::string pointer, std::string detail) {
    return {std::nullopt, {std::move(code), std::move(pointer), std::move(detail)}};
  }
};

/// A seller's new product or change. Unset fields of a change are left as they are.
struct product_change {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> brand;
  std::optional<std::string> category;
  std::optional<std::vector<std::pair<std::string, std::string>>> attributes;
  /// New SKUs (on create: all of them). An existing SKU id updates its price and attributes.
  std::vector<sku_view> skus;
};

/// The catalog read model. Thread-safe; every call is local to the node.
class catalog_service {
public:
  virtual ~catalog_service() = default;

  virtual catalog_result<search_result> search(const search_request& req) = 0;
  /// At most `limit` completions of `prefix`, most popular first.
  virtual catalog_result<std::vector<suggestion>> suggest(const std::string& prefix, int limit) = 0;
  /// The product with `id`, availability computed for `region`; error code `not_found`.
  virtual catalog_result<product_view> product(std::int64_t id, const std::string& region) = 0;
  /// The same page as API.md's JSON text (`product_text.hpp`). The default writes what
  /// `product` returns; a catalog may keep the fixed parts of the text instead.
  virtual catalog_result<std::string> product_page(std::int64_t id, const std::string& region);
  /// The SKU's product, title and price; error code `unknown_sku`.
  virtual catalog_result<sku_offer> offer(const std::string& sku) = 0;
  virtual std::vector<category_view> categories() = 0;
  virtual std::vector<region_view> regions() = 0;
  /// Whether `id` is one of `regions()`. The default asks `regions()`; a catalog that keeps
  /// them answers without the copy.
  virtual bool has_region(const std::string& id);
  virtual std::vector<warehouse_view> warehouses() = 0;

  /// Creates a product; returns it. Errors: validation_failed, unknown_category, sku_taken.
  virtual catalog_result<product_view> create_product(const product_change& change) = 0;
  /// Changes a product; returns it. Errors: not_found, validation_failed, unknown_category.
  virtual catalog_result<product_view> update_product(std::int64_t id,
                                                      const product_change& change) = 0;
  /// Sets on-hand stock of a SKU in a warehouse. Errors: unknown_sku, unknown_warehouse,
  /// validation_failed, below_reserved (on_hand lower than what is reserved).
  virtual catalog_result<sku_view>
  set_stock(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand) = 0;
};

} // namespace souk::actors
