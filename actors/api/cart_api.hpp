#pragma once

#include "actors/api/money.hpp"
#include "actors/api/order_api.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The cart actor's contract (kind "cart", key: the user id, or the guest id of an anonymous
// buyer). Carts are write-behind: an answer goes out at once and the snapshot follows within
// `entity_context::cart_write_behind`, except that a checkout makes the cart's freeze durable
// before it asks the order. A cart untouched for `cart_ttl` is emptied.
//
// Every cart call answers a `cart_answer`; a checkout answers the order's `order_answer`.
// A change may carry `expected_version` (the HTTP `If-Match`): 0 means "any version".

/// `(cart_get_atom)` → `cart_answer` (code always empty).
using cart_get_atom = caf::atom_constant<caf::atom("cartget")>;
/// `(cart_add_atom, cart_add_cmd)` → `cart_answer`: adds to the line of the SKU (a new line at
/// the end when absent). Codes: frozen, version_mismatch, invalid_quantity, too_many_lines.
using cart_add_atom = caf::atom_constant<caf::atom("cartadd")>;
/// `(cart_set_atom, cart_set_cmd)` → `cart_answer`: sets a line's quantity; 0 removes it.
/// Codes: frozen, version_mismatch, invalid_quantity, not_in_cart.
using cart_set_atom = caf::atom_constant<caf::atom("cartset")>;
/// `(cart_remove_atom, cart_remove_cmd)` → `cart_answer`. Codes: frozen, version_mismatch,
/// not_in_cart.
using cart_remove_atom = caf::atom_constant<caf::atom("cartremove")>;
/// `(cart_clear_atom, std::int64_t expected_version)` → `cart_answer` (empty cart, new version).
/// Codes: frozen, version_mismatch.
using cart_clear_atom = caf::atom_constant<caf::atom("cartclear")>;
/// `(cart_merge_atom, cart_merge_cmd)` → `cart_answer`: adds a guest cart's lines at login
/// (quantities add up, capped per line; lines past the line limit are dropped). Code frozen
/// when a checkout holds the cart: nothing was merged, so the caller keeps the guest cart.
using cart_merge_atom = caf::atom_constant<caf::atom("cartmerge")>;
/// `(cart_checkout_atom, cart_checkout_cmd)` → `order_answer`: freezes the cart (durably),
/// sends `(checkout_atom, checkout_cmd)` with the cart's lines to ("order", order_id) through
/// the directory and passes the order's answer through. An answer with an empty code (the order
/// exists: PENDING_PAYMENT, or PROCESSING) empties the cart; a failure code (insufficient_stock,
/// ...) unfreezes it and the buyer keeps it. A retry with the same order id while the cart is
/// frozen waits for the same answer; after it, it gets the order as it stands without touching
/// the cart. Cart codes: cart_empty, frozen (another checkout holds the cart, or an empty order
/// id). Errors: `errc::timeout` and others when the order did not answer: the outcome is
/// unknown, the cart stays frozen and asks the order again (the checkout is idempotent by order
/// id) until it answers.
using cart_checkout_atom = caf::atom_constant<caf::atom("cartchkout")>;

struct cart_add_cmd {
  std::string sku;
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t qty = 0;
  std::int64_t unit_price = 0; ///< minor units
  std::int64_t expected_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_add_cmd& x) {
  return f(caf::meta::type_name("cart_add_cmd"), x.sku, x.product_id, x.title, x.qty, x.unit_price,
           x.expected_version);
}

struct cart_set_cmd {
  std::string sku;
  std::int64_t qty = 0;
  std::int64_t expected_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_set_cmd& x) {
  return f(caf::meta::type_name("cart_set_cmd"), x.sku, x.qty, x.expected_version);
}

struct cart_remove_cmd {
  std::string sku;
  std::int64_t expected_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_remove_cmd& x) {
  return f(caf::meta::type_name("cart_remove_cmd"), x.sku, x.expected_version);
}

/// A guest's cart merged into the user's at login. `lines` are the guest cart's lines (same
/// fields as an order's lines); `from` is the guest id, for logs.
struct cart_merge_cmd {
  std::string from;
  std::vector<checkout_line> lines;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_merge_cmd& x) {
  return f(caf::meta::type_name("cart_merge_cmd"), x.from, x.lines);
}

/// A checkout of the whole cart. The order gets the cart's lines and the cart's key as user id.
struct cart_checkout_cmd {
  std::string order_id;
  std::string idempotency_key;
  std::string currency = shop_currency;
  std::string region;
  std::string city;
  std::string address;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_checkout_cmd& x) {
  return f(caf::meta::type_name("cart_checkout_cmd"), x.order_id, x.idempotency_key, x.currency,
           x.region, x.city, x.address);
}

/// `code` is empty on success, else a cart error's name (invalid_quantity, too_many_lines,
/// not_in_cart, version_mismatch, frozen). `body` is always the cart as it stands after the
/// call, as JSON (API.md `GET /v1/cart`): `{items: [{sku, product_id, title, qty, unit_price:
/// {amount, currency}, line_total: {...}}], subtotal: {...}, version}`.
struct cart_answer {
  std::string code;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_answer& x) {
  return f(caf::meta::type_name("cart_answer"), x.code, x.body);
}

} // namespace souk::actors
