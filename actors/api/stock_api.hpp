#pragma once

#include "actors/api/stock_types.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The SKU stock actor's contract (kind "sku", key: the SKU id). Every call is idempotent by
// reservation id, and every answer is sent only after the state it reports is durable.

/// `(reserve_atom, reserve_cmd)` → `reserve_answer`.
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
/// `(confirm_atom, reservation_id)` → `std::string` code ("" when done; else a ledger error:
/// unknown_reservation, wrong_state).
using confirm_atom = caf::atom_constant<caf::atom("confirm")>;
/// `(release_atom, reservation_id, order_id)` → code.
using release_atom = caf::atom_constant<caf::atom("release")>;
/// `(ship_atom, reservation_id)` → code.
using ship_atom = caf::atom_constant<caf::atom("ship")>;
/// `(restock_atom, reservation_id)` → code: a shipped reservation came back (a return).
/// `(restock_atom, reservation_id, std::int64_t units, order_id, std::int64_t already_back,
/// std::vector<allocation> parts)` → code: a return, perhaps partial; `units` counts every unit
/// back so far, so a repeat is harmless; the rest recreates a reservation pruned since it
/// shipped (`stock_ledger::return_to_stock`).
using restock_atom = caf::atom_constant<caf::atom("restock")>;
/// `(set_stock_atom, warehouse_id, on_hand)` → code (below_reserved, invalid_quantity).
using set_stock_atom = caf::atom_constant<caf::atom("setstock")>;
/// `(stock_view_atom)` → `std::string`: the SKU's state as JSON.
using stock_view_atom = caf::atom_constant<caf::atom("stockview")>;

/// Reserve `qty` units for a line of `order_id`; warehouses nearest to `region` first.
struct reserve_cmd {
  std::string reservation_id;
  std::string order_id;
  std::int64_t qty = 0;
  std::string region;
  std::int64_t expires_at_ms = 0; ///< Unix ms after which the SKU may expire the hold itself
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_cmd& x) {
  return f(caf::meta::type_name("reserve_cmd"), x.reservation_id, x.order_id, x.qty, x.region,
           x.expires_at_ms);
}

/// `outcome`: reserved, insufficient, already_released.
struct reserve_answer {
  std::string outcome;
  std::vector<allocation> parts;
  std::int64_t available = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, allocation& x) {
  return f(caf::meta::type_name("allocation"), x.warehouse_id, x.qty);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_answer& x) {
  return f(caf::meta::type_name("reserve_answer"), x.outcome, x.parts, x.available);
}

} // namespace souk::actors
