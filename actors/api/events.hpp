#pragma once

#include <cstdint>
#include <string>

namespace souk::actors {

/// An order's status changed (durably). What buyers see on `GET /v1/events`.
struct order_event {
  std::string user_id;
  std::string order_id;
  std::string status;         ///< the new status (PAID, SHIPPED, ...)
  std::string payment_status; ///< pending, captured, refunded, ... ("" before a payment)
  std::int64_t at_ms = 0;
  /// The event's type when it is not `order.<status>`: `order.partially_returned` (a return of
  /// some units finished, refunded and back on hand; the order stays DELIVERED).
  std::string type;
  /// Units returned so far over all lines, on return events (-1: not told).
  std::int64_t returned_units = -1;
};

/// Receives order events; the HTTP edge's event hub implements it. Called from CAF workers:
/// implementations must be thread-safe and must not block.
class order_event_listener {
public:
  virtual ~order_event_listener() = default;
  virtual void publish(const order_event& e) = 0;
};

} // namespace souk::actors
