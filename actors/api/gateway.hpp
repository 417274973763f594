#pragma once

#include "actors/api/cart_api.hpp"
#include "actors/api/idempotency_api.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/user_api.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace souk::actors {

/// How a call through the gateway ended on the transport side: `error` is empty when the entity
/// answered (its answer may still carry its own `code`), else `timeout` (no answer within the
/// deadline: the outcome is unknown), `store_failed`, `unavailable` or another stable name, with
/// a human-readable `detail`.
struct call_status {
  std::string error;
  std::string detail;
  bool ok() const { return error.empty(); }
};

/// The entities as the HTTP edge sees them: plain C++ calls whose callbacks run later on some
/// other thread (never inside the call). The implementation routes each call as a message to
/// the entity's (kind, key) through the directory; it keeps no state per caller. Every call
/// takes its own deadline.
class entity_gateway {
public:
  template <class T>
  using callback = std::function<void(call_status, T)>;
  using millis = std::chrono::milliseconds;

  virtual ~entity_gateway() = default;

  // Carts (kind "cart", key: the owner's user or guest id).
  virtual void cart_get(const std::string& owner, millis deadline, callback<cart_answer> cb) = 0;
  virtual void cart_add(const std::string& owner, cart_add_cmd cmd, millis deadline,
                        callback<cart_answer> cb) = 0;
  virtual void cart_set(const std::string& owner, cart_set_cmd cmd, millis deadline,
                        callback<cart_answer> cb) = 0;
  virtual void cart_remove(const std::string& owner, cart_remove_cmd cmd, millis deadline,
                           callback<cart_answer> cb) = 0;
  virtual void cart_clear(const std::string& owner, std::int64_t expected_version, millis deadline,
                          callback<cart_answer> cb) = 0;
  virtual void cart_merge(const std::string& owner, cart_merge_cmd cmd, millis deadline,
                          callback<cart_answer> cb) = 0;
  /// Checks the cart of `owner` out as order `cmd.order_id` (cart_api.hpp).
  virtual void checkout(const std::string& owner, cart_checkout_cmd cmd, millis deadline,
                        callback<order_answer> cb) = 0;

  // Orders (kind "order").
  virtual void order_view(const std::string& order_id, millis deadline,
                          callback<order_answer> cb) = 0;
  virtual void order_cancel(const std::string& order_id, millis deadline,
                            callback<order_answer> cb) = 0;
  /// Returns `lines` (sku and qty each; the other fields are not used) of a delivered order,
  /// or with no lines every unit not returned yet; `reason` goes into the timeline.
  virtual void order_return(const std::string& order_id, std::vector<checkout_line> lines,
                            std::string reason, millis deadline, callback<order_answer> cb) = 0;

  // Users (kind "user").
  virtual void user_create(user_profile profile, millis deadline, callback<user_answer> cb) = 0;
  virtual void user_get(const std::string& user_id, millis deadline, callback<user_answer> cb) = 0;
  virtual void user_add_order(const std::string& user_id, const std::string& order_id,
                              millis deadline, callback<bool> cb) = 0;
  virtual void user_orders(const std::string& user_id, std::int64_t before, std::int64_t limit,
                           millis deadline, callback<user_orders_page> cb) = 0;
  virtual void user_owns(const std::string& user_id, const std::string& order_id, millis deadline,
                         callback<bool> cb) = 0;
  virtual void wishlist(const std::string& user_id, millis deadline,
                        callback<wishlist_answer> cb) = 0;
  virtual void wish_add(const std::string& user_id, std::int64_t product_id, millis deadline,
                        callback<wishlist_answer> cb) = 0;
  virtual void wish_remove(const std::string& user_id, std::int64_t product_id, millis deadline,
                           callback<wishlist_answer> cb) = 0;

  // Idempotency records (kind "idem", idempotency_api.hpp). `scope` is the record's key;
  // `durable_mark` false keeps a new request's running mark in memory (see idem_begin_atom).
  virtual void idem_begin(const std::string& scope, const std::string& fingerprint,
                          bool durable_mark, millis deadline, callback<idem_answer> cb) = 0;
  virtual void idem_finish(const std::string& scope, const std::string& fingerprint,
                           std::int64_t attempt, stored_response response, millis deadline,
                           callback<bool> cb) = 0;
  virtual void idem_abort(const std::string& scope, const std::string& fingerprint,
                          std::int64_t attempt, millis deadline, callback<bool> cb) = 0;
};

} // namespace souk::actors
