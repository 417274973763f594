#pragma once

#include "actors/api/stock_types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace souk::actors {

/// Where a reservation stands. `held` and `confirmed` count in `reserved`; the others are
/// terminal and kept as tombstones (see `stock_ledger::prune`) so that a late or duplicate
/// message with the same reservation id has no second effect.
enum class hold_state {
  held,      ///< unpaid, expires at `expires_at_ms`
  confirmed, ///< paid, no expiry, still on hand until shipped
  shipped,   ///< left the warehouse: removed from on_hand and reserved, counted as sold
  returned,  ///< shipped, then came back (every unit): added to on_hand again
  released,  ///< given back before shipping (cancel, failed saga, or a release of an unknown id)
  expired,   ///< a hold whose time ran out unpaid
};

/// Stable lower-case name of `x` ("held", "confirmed", ...).
const char* to_string(hold_state x);

/// One reservation, by its id (the saga's idempotency key, e.g. "o_123/0").
struct reservation {
  std::string id;
  std::string order_id;
  std::vector<allocation> parts; ///< nearest warehouse first; quantities sum to the line's qty
  hold_state state = hold_state::held;
  std::int64_t expires_at_ms = 0; ///< Unix ms; meaningful while `held`
  std::int64_t changed_at_ms = 0; ///< Unix ms of the last state change (for pruning tombstones)
  /// Units of a shipped reservation that came back so far (a partial return keeps it shipped;
  /// the last unit makes it returned). They go back to the parts in order, nearest first.
  std::int64_t returned = 0;

  std::int64_t qty() const;
};

/// Stock of one SKU in one warehouse.
struct warehouse_stock {
  std::int64_t on_hand = 0;  ///< physically in the warehouse (includes reserved units)
  std::int64_t reserved = 0; ///< held or confirmed, not yet shipped

  std::int64_t available() const { return on_hand - reserved; }
};

/// What `reserve` did.
enum class reserve_outcome {
  reserved,         ///< the reservation exists (now or from an earlier call with the same id)
  insufficient,     ///< not enough available in all warehouses together; nothing changed
  already_released, ///< the id was released or expired before: a late duplicate, nothing changed
};

struct reserve_result {
  reserve_outcome outcome = reserve_outcome::insufficient;
  std::vector<allocation> parts; ///< when reserved
  std::int64_t available = 0;    ///< total available after the call (for "409 insufficient_stock")
  std::int64_t expires_at_ms = 0;
};

/// Errors of the state-changing calls other than reserve.
enum class ledger_error {
  none,
  unknown_reservation, ///< no reservation (nor tombstone) with that id
  wrong_state,         ///< e.g. confirm of an expired hold, ship of an unconfirmed one
  below_reserved,      ///< set_on_hand lower than what that warehouse has reserved
  invalid_quantity,    ///< zero or negative quantity, or negative on_hand
  unknown_warehouse,   ///< the warehouse has no stock record and the call needs one
};

/// Stable snake_case name of `x`.
const char* to_string(ledger_error x);

/// The stock of one SKU over all warehouses with its reservations: the rules of the SKU stock
/// actor (DESIGN.md), with no actors and no I/O. Every call is idempotent by reservation id.
///
/// Invariants after every call (`check` verifies them): per warehouse
/// `0 <= reserved <= on_hand` and `reserved` equals the sum of the parts of held and confirmed
/// reservations in it; over all warehouses `on_hand = received - written_off - sold`, so
/// `sold <= received`. Not thread-safe (one actor owns it).
class stock_ledger {
public:
  /// Sets the on-hand count of `warehouse_id` (creating its record). Units added count as
  /// received, units removed as written off. Errors: invalid_quantity (negative),
  /// below_reserved.
  ledger_error set_on_hand(const std::string& warehouse_id, std::int64_t on_hand);

  /// Adds `qty` received units to `warehouse_id` (creating its record). Error: invalid_quantity.
  ledger_error restock(const std::string& warehouse_id, std::int64_t qty);

  /// Reserves `qty` units for `order_id` under `id`, all or nothing: warehouses are taken in the
  /// order of `nearest` (ids, the buyer's nearest first; warehouses missing from it come after,
  /// by id), each giving what it has available, so one line may be split. A repeated `id`
  /// returns the existing reservation's result unchanged (or already_released for a tombstone).
  /// `qty <= 0` gives insufficient with nothing changed.
  reserve_result reserve(const std::string& id, const std::string& order_id, std::int64_t qty,
                         const std::vector<std::string>& nearest, std::int64_t now_ms,
                         std::int64_t expires_at_ms);

  /// Marks a held reservation paid: it no longer expires. Idempotent on confirmed and shipped.
  /// Errors: unknown_reservation; wrong_state for released, expired or returned.
  ledger_error confirm(const std::string& id, std::int64_t now_ms);

  /// Gives a held or confirmed reservation back. An unknown id becomes a released tombstone,
  /// so a reserve with that id arriving later has no effect (the saga's unknown-outcome rule).
  /// Idempotent on released and expired. Error: wrong_state for shipped or returned.
  ledger_error release(const std::string& id, const std::string& order_id, std::int64_t now_ms);

  /// A confirmed reservation left the warehouse: its units leave on_hand and reserved and count
  /// as sold. Idempotent on shipped. Errors: unknown_reservation, wrong_state.
  ledger_error ship(const std::string& id, std::int64_t now_ms);

  /// A shipped reservation came back (a return): its units are on hand again in the warehouses
  /// they left. Idempotent on returned. Errors: unknown_reservation, wrong_state.
  ledger_error return_to_stock(const std::string& id, std::int64_t now_ms);
  /// A partial return: `units` is how many units of the reservation have come back in all, so
  /// far (not this return's share), which makes a repeated or late call harmless: only units
  /// past those already back are added, to the parts in order (nearest first). The reservation
  /// becomes returned with its last unit; after that every call is a no-op. Errors:
  /// unknown_reservation, wrong_state (not shipped), invalid_quantity (`units` not in 1..qty).
  ///
  /// A shipped reservation is a tombstone and is pruned like one, long before a buyer may return
  /// it. `pruned`, when given, is what the caller (the order) knows of it: the reservation is
  /// then recreated as shipped with `already_back` units returned, and the return goes on from
  /// there. Refused (wrong_state) when those facts do not fit: no parts, fewer units than asked,
  /// or more coming back than this SKU ever sold.
  struct pruned_reservation {
    std::string order_id;
    std::vector<allocation> parts;
    std::int64_t already_back = 0; ///< units the order knows are back from earlier returns
  };
  ledger_error return_to_stock(const std::string& id, std::int64_t units, std::int64_t now_ms,
                               const pruned_reservation* pruned = nullptr);

  /// Expires every held reservation with `expires_at_ms <= now_ms`; returns their ids.
  std::vector<std::string> expire(std::int64_t now_ms);

  /// The earliest `expires_at_ms` of a held reservation, if any (when to call `expire` next).
  std::optional<std::int64_t> next_expiry() const;

  /// Drops tombstones (released, expired, returned) whose state changed at or before
  /// `older_than_ms`. Shipped reservations are kept until returned or pruned the same way.
  /// Returns how many were dropped.
  std::size_t prune(std::int64_t older_than_ms);

  /// The reservation with `id` (also tombstones), or nullptr.
  const reservation* find(const std::string& id) const;

  /// Units available (on_hand - reserved) over all warehouses.
  std::int64_t available() const;
  /// Units reserved (held or confirmed) over all warehouses.
  std::int64_t reserved() const;
  /// Units on hand over all warehouses.
  std::int64_t on_hand() const;

  /// Per-warehouse stock, by warehouse id.
  const std::map<std::string, warehouse_stock>& warehouses() const { return warehouses_; }
  /// Every reservation and tombstone, by id.
  const std::map<std::string, reservation>& reservations() const { return reservations_; }

  std::int64_t received() const { return received_; }       ///< units ever added to on_hand
  std::int64_t sold() const { return sold_; }               ///< units ever shipped (less returns)
  std::int64_t written_off() const { return written_off_; } ///< units removed by set_on_hand

  /// Empty when every invariant holds, otherwise a sentence naming the first one broken.
  std::string check() const;

  /// The whole ledger as JSON (the SKU actor's stock view), and back. `from_json` throws
  /// nlohmann::json::exception on a malformed document.
  nlohmann::json to_json() const;
  static stock_ledger from_json(const nlohmann::json& j);

  /// The ledger as the SKU actor stores it: a small head (warehouses and counters, no
  /// reservations) plus one part per reservation, so that a write carries only the reservations
  /// that changed (`take_changed`). `from_parts` throws like `from_json`, also when the head
  /// still embeds reservations.
  nlohmann::json head_json() const;
  static nlohmann::json reservation_json(const reservation& r);
  /// `reservation_json` as text, written directly (every reservation writes one).
  static std::string reservation_text(const reservation& r);
  static stock_ledger from_parts(const nlohmann::json& head,
                                 const std::vector<nlohmann::json>& reservations);

  /// Ids of the reservations added, changed or dropped since the last call (each once, in id
  /// order), and forgets them: what the next write must carry. `mark_all_changed` makes every
  /// reservation count as changed (after loading a ledger stored whole).
  std::vector<std::string> take_changed();
  void mark_all_changed();

private:
  static stock_ledger load(const nlohmann::json& head, const nlohmann::json* embedded,
                           const std::vector<nlohmann::json>* parts);
  void touched(const std::string& id) { changed_.push_back(id); }

  std::vector<std::string> changed_; ///< ids touched since `take_changed`, with repeats

  std::map<std::string, warehouse_stock> warehouses_;
  std::map<std::string, reservation> reservations_;
  std::int64_t received_ = 0;
  std::int64_t sold_ = 0;
  std::int64_t written_off_ = 0;
};

} // namespace souk::actors
