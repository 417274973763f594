#pragma once

#include "actors/api/catalog_api.hpp"
#include "actors/api/product_text.hpp"
#include "actors/catalog/catalog_index.hpp"
#include "actors/catalog/query_text.hpp"
#include "config/settings.hpp"
#include "persistence/store.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace souk::actors::catalog {

/// Receives stock levels; the catalog's availability view implements it. Today the catalog's own
/// stock writes feed it; the SKU stock actors will publish `available = on_hand - reserved` here.
class availability_sink {
public:
  virtual ~availability_sink() = default;
  /// The stock of `sku` in `warehouse_id` is now `on_hand`, of which `reserved` are held.
  virtual void stock_changed(const std::string& sku, const std::string& warehouse_id,
                             std::int64_t on_hand, std::int64_t reserved) = 0;
};

/// The catalog read model on the node's SQLite file: products, SKUs, categories, regions,
/// warehouses and stock in tables, an FTS5 index for text, and a `catalog_index` in memory for
/// filters, facets and sorting. Reads use a pool of read connections; writes go through the
/// store's group-commit writer and reach the search index before the call returns.
class sqlite_catalog : public catalog_service, public availability_sink {
public:
  /// Opens the catalog of `store` (schema from the store's migrations) and loads the index.
  /// Seeds regions, warehouses and categories when the catalog is empty. `catalog` bounds the
  /// product page cache (`page_cache_entries`, 0: none).
  static persistence::result<std::unique_ptr<sqlite_catalog>>
  open(persistence::store& store, const config::store_settings& settings,
       const config::catalog_settings& catalog = {});

  /// Generates `count` demo products (generate_demo_products with `seed`) into the store and
  /// the index, in batches through the writer. Returns the error of the first failed batch.
  persistence::status load_demo(std::int64_t count, std::uint64_t seed);

  /// Number of products.
  std::size_t product_count() const { return index_.size(); }

  // -- catalog_service ---------------------------------------------------------------------------
  catalog_result<search_result> search(const search_request& req) override;
  catalog_result<std::vector<suggestion>> suggest(const std::string& prefix, int limit) override;
  catalog_result<product_view> product(std::int64_t id, const std::string& region) override;
  catalog_result<std::string> product_page(std::int64_t id, const std::string& region) override;
  catalog_result<sku_offer> offer(const std::string& sku) override;
  std::vector<category_view> categories() override;
  std::vector<region_view> regions() override;
  bool has_region(const std::string& id) override;
  std::vector<warehouse_view> warehouses() override;
  catalog_result<product_view> create_product(const product_change& change) override;
  catalog_result<product_view> update_product(std::int64_t id,
                                              const product_change& change) override;
  catalog_result<sku_view> set_stock(const std::string& sku, const std::string& warehouse_id,
                                     std::int64_t on_hand) override;

  // -- availability_sink -------------------------------------------------------------------------
  void stock_changed(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand,
                     std::int64_t reserved) override;

  /// Availability of `sku` for a buyer in `region`.
  sku_delivery delivery(const std::string& sku, const std::string& region) const;

  // -- the SKU stock actors' side ----------------------------------------------------------------
  /// Who owns stock once the SKU stock actors run: `set_stock` validates its input here, then
  /// asks `owner` (the SKU's actor) instead of writing the table itself. The owner answers a
  /// catalog_error (code empty on success) and reports the new levels through `record_stock`.
  using stock_owner = std::function<catalog_error(
      const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand)>;
  void set_stock_owner(stock_owner owner);

  /// On-hand units of `sku` per warehouse as the catalog knows them (the stock table, kept as a
  /// projection of the SKU actors' state): a SKU actor's initial stock when it has no snapshot.
  std::vector<std::pair<std::string, std::int64_t>> on_hand_of(const std::string& sku) const;

  /// A SKU actor's new levels: updates availability at once and the stock table through the
  /// writer (not awaited), so availability is right after a restart too. False when the writer
  /// refused the write (its queue is full, or it is closed): the table row was not updated.
  /// Any thread.
  bool record_stock(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand,
                    std::int64_t reserved);

  ~sqlite_catalog() override;

private:
  struct reader; // a read connection with its prepared statements
  class reader_lease;

  sqlite_catalog(persistence::store& store, const config::store_settings& settings,
                 const config::catalog_settings& catalog);
  persistence::status load();
  reader_lease lease();
  persistence::status write(persistence::custom_write op);
  bool product_in_stock(std::int64_t id) const;
  text_hits match(const std::vector<std::string>& tokens);
  catalog_result<product_view> read_product(std::int64_t id, const std::string& region);

  persistence::store& store_;
  config::store_settings settings_;
  config::catalog_settings catalog_settings_;
  text_limits limits_;
  catalog_index index_;

  std::mutex pool_mtx_;
  std::vector<std::unique_ptr<reader>> pool_;

  // Availability: sku → warehouse → (on_hand, reserved), and sku → product.
  struct stock_level {
    std::string warehouse_id;
    std::int64_t on_hand = 0;
    std::int64_t reserved = 0;
  };
  mutable std::mutex stock_mtx_;
  std::unordered_map<std::string, std::vector<stock_level>> stock_;
  std::unordered_map<std::string, std::int64_t> product_of_sku_;
  std::unordered_map<std::int64_t, std::vector<std::string>> skus_of_product_;
  std::unordered_map<std::string, std::string> region_of_warehouse_;
  std::vector<region_view> regions_;
  std::vector<warehouse_view> warehouses_;
  // The search vocabulary (term → documents), sorted by term, for word completion: counting
  // documents through fts5vocab at every keystroke costs milliseconds for short prefixes.
  mutable std::shared_mutex terms_mtx_;
  std::vector<std::pair<std::string, std::int64_t>> terms_;
  persistence::status load_terms();
  void add_terms(const std::string& text);
  void remove_terms(const std::string& text); ///< undoes add_terms of a text no longer indexed

  /// Availability of one SKU from its stock levels, for a buyer in `region`; stock_mtx_ held.
  sku_delivery delivery_of(const std::vector<stock_level>& levels, const std::string& region) const;

  // Static parts of product pages already read (availability is computed per request), at most
  // catalog_settings_.page_cache_entries. A write bumps the generation when it drops a page, so
  // that a read that began before the write cannot put the old page back.
  struct cached_page {
    explicit cached_page(product_view v) : view(std::move(v)), text(view) {}
    product_view view;
    /// The page's JSON text but for its availability, written once.
    product_text text;
    /// The stock levels of view.skus, in order: entries of stock_, which are never erased, so
    /// the pointers stay valid; read under stock_mtx_.
    std::vector<const std::vector<stock_level>*> stock;
  };
  std::mutex pages_mtx_;
  std::unordered_map<std::int64_t, std::shared_ptr<const cached_page>> pages_;
  std::uint64_t pages_generation_ = 0;
  void forget_page(std::int64_t id);
  /// The page of product `id`, from the cache or read (and cached when the cache is on).
  catalog_result<std::shared_ptr<const cached_page>> page_of(std::int64_t id);
  /// The availability of each SKU of `page` for `region`, in order (under stock_mtx_).
  std::vector<sku_delivery> deliveries_of(const cached_page& page, const std::string& region);

  std::mutex owner_mtx_;
  stock_owner stock_owner_;

  std::mutex write_mtx_; // one catalog write at a time: ids and index stay consistent
  std::int64_t next_id_ = 1;
};

} // namespace souk::actors::catalog
