#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace souk::actors::catalog {

/// A delivery region (a city with its area).
struct region {
  std::string id;
  std::string name;
};

/// A warehouse in a region.
struct warehouse {
  std::string id;
  std::string name;
  std::string region;
};

/// A node of the category tree; `id` is the slash-separated path ("clothing/men/jeans").
struct category {
  std::string id;
  std::string name;
  std::string parent; ///< empty for a root
};

/// One variant of a product: its own price, attributes (size, colour, memory) and stock.
struct sku_spec {
  std::string sku;
  std::int64_t price = 0; ///< minor units (kopecks)
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<std::pair<std::string, std::int64_t>> stock; ///< warehouse id → on hand
};

/// A product as the generator makes it.
struct product_spec {
  std::int64_t id = 0;
  std::string title;
  std::string description;
  std::string brand;
  std::string category; ///< a leaf category id
  std::vector<std::pair<std::string, std::string>> attributes;
  double rating = 0;           ///< 1.0 .. 5.0, one decimal
  std::int64_t reviews = 0;    ///< number of ratings (popularity)
  std::int64_t created_ms = 0; ///< Unix milliseconds
  std::vector<sku_spec> skus;
};

/// The regions the demo marketplace delivers to.
const std::vector<region>& demo_regions();
/// Its warehouses (five, in different regions).
const std::vector<warehouse>& demo_warehouses();
/// Days to deliver from a warehouse's region to a buyer's region (symmetric, 1 within a region).
int demo_delivery_days(const std::string& from_region, const std::string& to_region);
/// The category tree, parents before children.
const std::vector<category>& demo_categories();

/// Generates products 1..count deterministically for `seed`: product i is the same whatever
/// `count` is, on every platform (the generator uses no std distributions, whose output is
/// implementation-defined). Calls `sink` once per product, in id order; memory stays constant,
/// so a million products stream straight into the store.
void generate_demo_products(std::int64_t count, std::uint64_t seed,
                            const std::function<void(product_spec&&)>& sink);

} // namespace souk::actors::catalog
