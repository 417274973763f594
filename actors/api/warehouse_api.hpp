#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The warehouse actor's contract (kind "warehouse", key: the warehouse id). A pick list moves
// picking → packed → shipped → delivered on the warehouse's timer (or by `advance`), and every
// move is told to the order: `(pick_update_atom, warehouse_id, stage)` routed to ("order", id).

/// `(pick_atom, pick_cmd)` → `std::string`: the list's stage ("picking", ...) or "cancelled"
/// when the order was cancelled at this warehouse before the list arrived.
using pick_atom = caf::atom_constant<caf::atom("pick")>;
/// `(pick_cancel_atom, order_id, pick_key)` → `std::string`: "cancelled", "too_late" (shipped)
/// or "stale" (the warehouse holds a newer generation of the list than `pick_key`; untouched).
using pick_cancel_atom = caf::atom_constant<caf::atom("pickcancel")>;
/// `(advance_atom)` → `std::int64_t`: moves every open list one stage; how many moved.
using advance_atom = caf::atom_constant<caf::atom("advance")>;
/// `(warehouse_view_atom)` → `std::string`: the warehouse's state as JSON.
using warehouse_view_atom = caf::atom_constant<caf::atom("whview")>;

struct pick_line {
  std::string sku;
  std::string reservation_id;
  std::int64_t qty = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pick_line& x) {
  return f(caf::meta::type_name("pick_line"), x.sku, x.reservation_id, x.qty);
}

struct pick_cmd {
  std::string order_id;
  std::string pick_key; ///< "<order id>#<generation>": a new generation replaces a cancelled list
  std::vector<pick_line> lines;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pick_cmd& x) {
  return f(caf::meta::type_name("pick_cmd"), x.order_id, x.pick_key, x.lines);
}

} // namespace souk::actors
