#pragma once

#include "actors/api/events.hpp"
#include "actors/cart/cart.hpp"
#include "actors/order/order_state_machine.hpp"
#include "persistence/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

namespace souk::actors {

/// Where entity actors keep their snapshots. `save` may complete on any thread; `done` is
/// called exactly once, after the snapshot is durable (`true`) or could not be written.
class snapshot_sink {
public:
  virtual ~snapshot_sink() = default;
  virtual void save(persistence::snapshot s, std::function<void(bool ok)> done) = 0;
  /// The latest snapshot of (kind, key); nullopt when there is none. Throws nothing; a read
  /// error is reported as nullopt and logged by the implementation.
  virtual std::optional<persistence::snapshot> load(const std::string& kind,
                                                    const std::string& key) = 0;
  /// Keys of `kind` whose snapshot state contains `needle` (recovery scans), in key order.
  virtual std::vector<std::string> keys_with(const std::string& kind,
                                             const std::string& needle) = 0;
};

/// Receives stock levels (the catalog's availability view implements it).
class stock_listener {
public:
  virtual ~stock_listener() = default;
  /// False when the level could not be recorded (the store refused the write): the SKU then
  /// publishes it again with its next change.
  virtual bool stock_changed(const std::string& sku, const std::string& warehouse_id,
                             std::int64_t on_hand, std::int64_t reserved) = 0;
};

/// Initial stock of a SKU that has no snapshot yet (from the catalog's stock table).
struct initial_stock {
  std::string warehouse_id;
  std::int64_t on_hand = 0;
};

class timer_wheel;

/// A warehouse and how many days it takes to deliver to each region.
struct warehouse_site {
  std::string id;
  std::string region;
};

/// What every entity actor of a node shares: the directory, the store, the clock and the
/// settings. Built once by the runtime (or a test) and passed to every spawn.
struct entity_context {
  caf::actor directory; ///< route_atom target (actors/api/directory.hpp)
  caf::actor bank;      ///< the payment provider
  std::shared_ptr<snapshot_sink> store;
  std::shared_ptr<stock_listener> availability;       ///< may be null
  std::shared_ptr<order_event_listener> order_events; ///< may be null
  /// Keeps the entities' timers (idle checks, saga deadlines, write-behind) off CAF's clock;
  /// null: each timer is a CAF delayed message (deterministic tests drive those).
  std::shared_ptr<timer_wheel> timers;
  /// Unix milliseconds now. Tests derive it from CAF's test clock.
  std::function<std::int64_t()> now_ms;
  std::int64_t epoch = 0;                         ///< membership epoch for snapshot fencing
  std::chrono::milliseconds idle_timeout{60'000}; ///< passivate an entity idle this long
  /// On a stop, how long the entities have to write what is unwritten (then the directory
  /// kills the rest).
  std::chrono::milliseconds stop_timeout{30'000};
  saga_settings saga;
  std::vector<warehouse_site> warehouses;
  /// Delivery days from a warehouse's region to a buyer's region.
  std::function<int(const std::string& from, const std::string& to)> delivery_days;
  /// Initial stock for a SKU without a snapshot (empty: the SKU has none).
  std::function<std::vector<initial_stock>(const std::string& sku)> initial_stock_of;
  std::chrono::milliseconds wms_step{30'000}; ///< simulated warehouse step; 0: only by advance
  std::chrono::milliseconds stock_tombstone_ttl{86'400'000}; ///< keep released ids this long
  cart_limits cart;                                          ///< per-line quantity, lines
  std::chrono::milliseconds cart_write_behind{100}; ///< a cart change is written within this
  std::chrono::milliseconds cart_ttl{7LL * 24 * 3'600'000};    ///< an untouched cart empties
  std::size_t wishlist_max = 500;                              ///< products on one wishlist
  std::chrono::milliseconds idempotency_ttl{24LL * 3'600'000}; ///< keep an idempotency key
  /// A request marked running this long may be taken over by a retry with the same key.
  std::chrono::milliseconds idempotency_lease{60'000};
};

/// Warehouse ids ordered nearest-first for a buyer in `region` (ties by id).
std::vector<std::string> nearest_warehouses(const entity_context& ctx, const std::string& region);

} // namespace souk::actors
