#pragma once

#include "actors/api/catalog_api.hpp"

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace souk::actors::catalog {

/// A category as the index needs it.
struct category_def {
  std::string id;
  std::string name;
  std::string parent;
};

/// What the index keeps of a product: enough to filter, facet, sort and list it.
struct index_entry {
  std::int64_t id = 0;
  std::string title;
  std::string brand;
  std::string category;
  std::int64_t price = 0;
  double rating = 0;
  std::int64_t reviews = 0;
  std::int64_t created_ms = 0;
  bool in_stock = false;
};

/// Text matches: product id → bm25 score (lower is better, as FTS5 reports it).
using text_hits = std::vector<std::pair<std::int64_t, double>>;

/// The in-memory side of the catalog: every product's filterable fields, so that filters,
/// facets, sorting and keyset pagination run over arrays instead of SQL, and browse pages cost
/// no query at all. Thread-safe (readers share, writers exclude).
class catalog_index {
public:
  /// Replaces the category tree (parents before children).
  void set_categories(const std::vector<category_def>& cats);

  /// Adds or replaces a product. Its category must be known.
  void upsert(index_entry entry);
  /// Sets the in-stock flag of a product (availability changed).
  void set_in_stock(std::int64_t id, bool in_stock);

  /// Filters (category subtree, brands, price, stock), facets, sorts and pages. `hits` holds the
  /// text matches of `req.q`, or is null to browse everything. Errors: validation_failed for a
  /// bad range, limit or category; invalid_cursor for a cursor of another query or a damaged one.
  catalog_result<search_result> query(const search_request& req, const text_hits* hits) const;

  /// The tree with product counts per subtree.
  std::vector<category_view> categories() const;
  bool has_category(const std::string& id) const;
  /// The `k` most reviewed of `ids` (unknown ids are skipped), most reviewed first.
  std::vector<product_summary> most_reviewed(const std::vector<std::int64_t>& ids,
                                             std::size_t k) const;
  std::optional<index_entry> get(std::int64_t id) const;
  std::size_t size() const;

private:
  struct node {
    category_def def;
    int parent = -1;
    int depth = 0;
    std::vector<int> ancestors; ///< root first, self last
  };
  struct row {
    std::int64_t id;
    std::uint32_t brand;
    std::uint32_t category; ///< index into nodes_
    std::int64_t price;
    double rating;
    std::int64_t reviews;
    std::int64_t created_ms;
    bool in_stock;
    std::string title;
  };

  std::uint32_t brand_id(const std::string& name);
  product_summary summary(const row& r) const;

  mutable std::shared_mutex mtx_;
  std::vector<node> nodes_;
  std::unordered_map<std::string, int> node_by_id_;
  std::vector<std::string> brands_;
  std::unordered_map<std::string, std::uint32_t> brand_by_name_;
  std::vector<row> rows_;
  std::unordered_map<std::int64_t, std::size_t> row_by_id_;
};

/// The price buckets of the price facet, in minor units: [edge[i], edge[i+1]), the last open.
const std::vector<std::int64_t>& price_bucket_edges();

} // namespace souk::actors::catalog
