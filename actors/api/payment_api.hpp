#pragma once

#include "actors/api/money.hpp"

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The payment actor's contract (kind "payment", key: the order id) and the payment provider's
// (the bank: an external system, reached through a handle the runtime gives the payment actors).
// Every call carries an idempotency key; the provider answers a repeated key with the first
// result.

/// Order → payment: `(pay_create_atom, payment_cmd)` → `payment_answer`.
using pay_create_atom = caf::atom_constant<caf::atom("paycreate")>;
/// Order → payment: `(pay_cancel_atom, payment_cmd)` → `payment_answer` with the payment's real
/// status (cancelled, or captured when the buyer paid meanwhile; "none" if it never existed).
using pay_cancel_atom = caf::atom_constant<caf::atom("paycancel")>;
/// Order → payment: `(pay_refund_atom, payment_cmd)` → `payment_answer`.
using pay_refund_atom = caf::atom_constant<caf::atom("payrefund")>;
/// Bank → payment: `(bank_event_atom, bank_event)` → `std::string` ("" or "duplicate").
using bank_event_atom = caf::atom_constant<caf::atom("bankevent")>;
/// `(payment_view_atom)` → `payment_answer`.
using payment_view_atom = caf::atom_constant<caf::atom("payview")>;

/// Provider calls (payment actor → bank), same payloads:
using bank_create_atom = caf::atom_constant<caf::atom("bcreate")>;
using bank_cancel_atom = caf::atom_constant<caf::atom("bcancel")>;
using bank_refund_atom = caf::atom_constant<caf::atom("brefund")>;
/// Buyer at the 3-DS page → bank: `(bank_decide_atom, payment_id, bool approve)` → `bool`.
using bank_decide_atom = caf::atom_constant<caf::atom("bdecide")>;

struct payment_cmd {
  std::string order_id;
  std::string idempotency_key;
  std::int64_t amount = 0;
  std::string currency = shop_currency;
  std::string payment_id; ///< the bank's id, for cancel and refund when known
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_cmd& x) {
  return f(caf::meta::type_name("payment_cmd"), x.order_id, x.idempotency_key, x.amount, x.currency,
           x.payment_id);
}

/// `status`: pending, captured, declined, cancelled, refunded, partially_refunded, none.
/// `code` is empty on success, else why the call failed (declined, unknown_payment, ...).
struct payment_answer {
  std::string code;
  std::string payment_id;
  std::string status;
  std::string redirect_url;
  std::int64_t captured = 0;
  std::int64_t refunded = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_answer& x) {
  return f(caf::meta::type_name("payment_answer"), x.code, x.payment_id, x.status, x.redirect_url,
           x.captured, x.refunded);
}

/// The bank's notification (API.md "Payments": the signed callback's body).
struct bank_event {
  std::string event_id;
  std::string payment_id;
  std::string order_id;
  std::string status; ///< authorized, captured, declined, refunded
  std::int64_t amount = 0;
  /// The payment's refunded total after this event (refunded events), -1 when the bank did not
  /// say: a partial refund's callback and the refund's own answer then cannot count it twice.
  std::int64_t refunded = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bank_event& x) {
  return f(caf::meta::type_name("bank_event"), x.event_id, x.payment_id, x.order_id, x.status,
           x.amount, x.refunded);
}

} // namespace souk::actors
