#pragma once

#include "actors/api/payment_api.hpp"
#include "http/router.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace souk::http {

/// What became of a bank event handed to its payment entity.
enum class delivery_outcome {
  applied,   ///< recorded (200 {"status": "ok"})
  duplicate, ///< its event_id was seen before: no second effect (200 {"status": "duplicate"})
  unknown,   ///< no such order or payment here (404 unknown_payment)
  timeout,   ///< the payment entity did not answer in time (503 payment_unavailable)
  failed,    ///< it answered with an error, e.g. its store failed (503 payment_unavailable)
};

/// Hands `event` to the payment entity of `event.order_id` and calls `done` once, from any
/// thread, with the outcome. Supplied by the runtime (no actors in http/).
using bank_event_sink =
    std::function<void(actors::bank_event event, std::function<void(delivery_outcome)> done)>;

/// Registers `POST /v1/payments/callback` (API.md "Payments"): the `Souk-Signature` header is
/// checked against `webhook_secret` first (constant time, 300 s tolerance; 400 `bad_signature`
/// or `signature_expired`), then the body (400 `malformed_json`, 422 `validation_failed`), and
/// only then is the event given to `deliver`: a refused callback changes nothing. `now` gives
/// Unix seconds (tests pass their own clock); empty means the system clock.
void add_payment_routes(router& routes, std::string webhook_secret, bank_event_sink deliver,
                        std::function<std::int64_t()> now = {});

} // namespace souk::http
