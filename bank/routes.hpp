#pragma once

#include "bank/service.hpp"
#include "http/router.hpp"

namespace souk::bank {

/// Registers the simulated bank's HTTP API (API.md "Payments") on `routes`, served by `svc`
/// (which must outlive the server):
///
/// - `POST /bank/v1/payments` `{order_id, amount, currency?, callback_url, idempotency_key}` →
///   201 the payment with its `redirect_url` (402 `refused` when the refuse knob draws it);
/// - `GET /bank/v1/payments/{id}`, `GET /bank/v1/orders/{order_id}/payment` → the payment;
/// - `GET /bank/3ds/{id}` → the 3-DS page (HTML, Approve / Decline);
/// - `POST /bank/3ds/{id}` `{approve: bool}` (or the page's form, `approve=true|false`) →
///   captured or declined, and the signed callback goes out (409 `not_pending` once decided);
/// - `POST /bank/v1/payments/{id}/refund` `{amount, idempotency_key}`;
/// - `POST /bank/v1/payments/{id}/cancel` `{idempotency_key}`;
/// - `POST /bank/v1/orders/{order_id}/cancel` `{idempotency_key}`: cancels the order's payment,
///   or, when the create has not arrived yet, makes it be born cancelled (status `none`).
///
/// Payments answer `{payment_id, order_id, status, amount, currency, captured, refunded,
/// redirect_url, created}`. Errors are problem+json: 400 `malformed_json`, 422
/// `validation_failed`, 404 `unknown_payment`, 503 `store_failed`. The provider calls (create,
/// refund, cancel) go through the fault knobs: late, lost or unanswered (a 504 long after the
/// caller's timeout).
void add_bank_routes(http::router& routes, service& svc);

} // namespace souk::bank
