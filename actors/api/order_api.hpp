#pragma once

#include "actors/api/money.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The order saga actor's contract (kind "order", key: the order id). Answers are sent only
// after the state they report is durable.

/// `(checkout_atom, checkout_cmd)` → `order_answer` once the checkout is decided
/// (PENDING_PAYMENT, or a failure code such as insufficient_stock). A repeated checkout of the
/// same order id answers the order as it stands (the saga runs once).
using checkout_atom = caf::atom_constant<caf::atom("checkout")>;
/// `(order_view_atom)` → `order_answer` (code unknown_entity when the order does not exist).
using order_view_atom = caf::atom_constant<caf::atom("orderview")>;
/// `(cancel_atom)` → `order_answer` once CANCELLED, or code not_cancellable.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
/// `(return_atom)` → `order_answer` once RETURNED, or code not_returnable.
/// `(return_atom, std::vector<checkout_line> lines, std::string reason)` → `order_answer` once
/// the return of `lines` (sku, qty; none: every unit not returned yet) is refunded and back on
/// hand: RETURNED with the last unit, else still DELIVERED. Codes (`to_string(return_refusal)`):
/// not_returnable, return_not_in_order, return_too_many_units, nothing_to_return.
using return_atom = caf::atom_constant<caf::atom("return")>;
/// Payment actor → order: `(payment_update_atom, payment_answer)` (one-way).
using payment_update_atom = caf::atom_constant<caf::atom("payupdate")>;
/// Warehouse → order: `(pick_update_atom, warehouse_id, stage)` (one-way).
using pick_update_atom = caf::atom_constant<caf::atom("pickupdate")>;
/// Operator: `(saga_retry_atom)` / `(saga_compensate_atom)` → `order_answer`.
using saga_retry_atom = caf::atom_constant<caf::atom("sagaretry")>;
using saga_compensate_atom = caf::atom_constant<caf::atom("sagacomp")>;

struct checkout_line {
  std::string sku;
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t qty = 0;
  std::int64_t unit_price = 0; ///< minor units
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkout_line& x) {
  return f(caf::meta::type_name("checkout_line"), x.sku, x.product_id, x.title, x.qty,
           x.unit_price);
}

struct checkout_cmd {
  std::string order_id;
  std::string user_id;
  std::string idempotency_key;
  std::string currency = shop_currency;
  std::vector<checkout_line> lines;
  std::string region;
  std::string city;
  std::string address;
  /// Which freeze of the cart sends this (opaque to the order, which keeps the one it was
  /// created from and names it in its answers): a cart that froze again for an order that
  /// already exists learns from it that the order holds other lines than its own.
  std::string cart_token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkout_cmd& x) {
  return f(caf::meta::type_name("checkout_cmd"), x.order_id, x.user_id, x.idempotency_key,
           x.currency, x.lines, x.region, x.city, x.address, x.cart_token);
}

/// An order as the API shows it. `code` is empty on success, otherwise a stable snake_case
/// reason (insufficient_stock, payment_declined, not_cancellable, unknown_entity, ...);
/// `body` is the order's JSON view (API.md `GET /v1/orders/{id}`) whenever the order exists.
struct order_answer {
  std::string code;
  std::string status;
  std::string body;
  std::string cart_token; ///< the checkout_cmd::cart_token the order was created from
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_answer& x) {
  return f(caf::meta::type_name("order_answer"), x.code, x.status, x.body, x.cart_token);
}

} // namespace souk::actors
