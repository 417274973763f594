#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace souk::base {
class json_writer;
}

namespace souk::actors {

/// One line of a cart: a SKU with its quantity and the price and title it was added with
/// (checkout prices the order from the catalog again; these are what the buyer saw).
struct cart_line {
  std::string sku;
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t qty = 0;
  std::int64_t unit_price = 0; ///< minor units

  std::int64_t line_total() const { return qty * unit_price; }
};

/// What the change that made `version` did to the lines, so that a renderer can patch a cached
/// text of them instead of writing every line again: line `line` was updated, appended (it is
/// the last) or removed, or `several` lines changed (or nothing is known, e.g. after loading).
struct cart_change {
  enum class kind { updated, appended, removed, several };
  kind what = kind::several;
  std::size_t line = 0;
  std::int64_t version = 0;
};

/// Limits of a cart, from the config (`[cart]`).
struct cart_limits {
  std::int64_t max_qty_per_line = 100;
  std::size_t max_lines = 100;
};

/// Why a cart change was refused.
enum class cart_error {
  none,
  invalid_quantity, ///< qty out of 1..max_qty_per_line (0 is allowed only to remove, in `set`)
  too_many_lines,   ///< adding a new SKU would pass max_lines
  not_in_cart,      ///< `set` or `remove` of a SKU the cart does not have
  version_mismatch, ///< the caller's expected version is not the cart's
  frozen,           ///< a checkout is taking the cart; no changes until it ends
};

/// Stable snake_case name of `x`.
const char* to_string(cart_error x);

/// A buyer's cart: the rules of the cart actor, with no actors and no I/O. Every change that
/// succeeds increases `version` by one (the HTTP `ETag`); a refused change leaves the cart as
/// it was. A change may carry the version the caller expects (`If-Match`): 0 means "any".
/// A change is checked in this order: `frozen`, then `version_mismatch`, then its arguments
/// (quantity before presence or line count). Every change that succeeds sets `touched_at_ms`.
/// Not thread-safe (one actor owns it).
class cart {
public:
  explicit cart(cart_limits limits = {}) : limits_(limits) {}

  /// Adds `qty` to the line of `line.sku` (a new line at the end when absent; title, product
  /// and price are updated to the given ones). The resulting quantity must stay within limits.
  cart_error add(const cart_line& line, std::int64_t now_ms, std::int64_t expected_version = 0);

  /// Sets the quantity of an existing line; 0 removes it.
  cart_error set(const std::string& sku, std::int64_t qty, std::int64_t now_ms,
                 std::int64_t expected_version = 0);

  /// Removes a line.
  cart_error remove(const std::string& sku, std::int64_t now_ms, std::int64_t expected_version = 0);

  /// Removes every line (an empty cart still gets a new version).
  cart_error clear(std::int64_t now_ms, std::int64_t expected_version = 0);

  /// Adds every line of `other` (a guest's cart at login): quantities add up and are capped at
  /// max_qty_per_line; lines past max_lines are dropped. One new version when anything changed.
  /// Existing lines keep their title and price. While frozen the cart is left as it is.
  void merge(const cart& other, std::int64_t now_ms);

  /// A checkout takes the cart: changes are refused with `frozen` until `unfreeze` (the saga
  /// failed: the buyer keeps the cart) or `checked_out` (the order exists: the cart empties).
  /// Freezing a frozen cart for the same order is a no-op; for another order it is refused
  /// (`order_id` must not be empty: an empty one is refused with `frozen` too). Freezing and
  /// unfreezing keep the version (the lines are the same) but count as a touch; `checked_out`
  /// is a change (new version). `unfreeze` and `checked_out` for any other order, or when not
  /// frozen, do nothing.
  cart_error freeze(const std::string& order_id, std::int64_t now_ms);
  void unfreeze(const std::string& order_id, std::int64_t now_ms);
  void checked_out(const std::string& order_id, std::int64_t now_ms);

  /// Empties the cart when it was untouched for `ttl_ms` (and is not frozen); true when it did
  /// (an empty cart has nothing to empty: false). Emptying is a change (new version).
  bool expire_if_idle(std::int64_t now_ms, std::int64_t ttl_ms);

  const std::vector<cart_line>& lines() const { return lines_; }
  std::int64_t subtotal() const;
  std::int64_t version() const { return version_; }
  /// The change that made the current version.
  const cart_change& last_change() const { return last_change_; }
  std::int64_t touched_at_ms() const { return touched_at_ms_; }
  const std::string& frozen_for() const { return frozen_for_; } ///< empty when not frozen
  bool empty() const { return lines_.empty(); }

  /// The cart as JSON (the cart actor's snapshot state), and back. `from_json` throws
  /// nlohmann::json::exception on a malformed document (a missing field, a wrong type, a
  /// quantity below 1, a repeated SKU, a negative version). Limits are not checked: a cart
  /// saved under wider limits loads as it was, and its next change is checked.
  nlohmann::json to_json() const;
  static cart from_json(const nlohmann::json& j, cart_limits limits = {});
  /// The members of `to_json`'s object, written into an object `w` has open (the cart actor
  /// adds its own members to the same snapshot).
  void write_fields(base::json_writer& w) const;
  /// The same, each line written by `line(w, index, line)` (which may copy a cached text).
  template <class LineWriter>
  void write_fields(base::json_writer& w, LineWriter line) const {
    write_head(w);
    for (std::size_t i = 0; i < lines_.size(); ++i)
      line(w, i, lines_[i]);
    write_tail(w);
  }
  /// One line as the snapshot document holds it.
  static void write_line(base::json_writer& w, const cart_line& line);

private:
  void write_head(base::json_writer& w) const;  ///< the fields up to `"lines":[`
  static void write_tail(base::json_writer& w); ///< `]`
  cart_error check_version(std::int64_t expected) const;
  void touch(std::int64_t now_ms, cart_change::kind what = cart_change::kind::several,
             std::size_t line = 0);

  cart_limits limits_;
  std::vector<cart_line> lines_;
  std::int64_t version_ = 0;
  std::int64_t touched_at_ms_ = 0;
  std::string frozen_for_;
  cart_change last_change_;
};

} // namespace souk::actors
