#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Where and how the HTTP provider reaches the bank.
struct bank_http_options {
  /// The bank's base URL, `http://host:port` (no trailing slash), read at every call: the
  /// runtime learns its own edge's port only after the entities start. Empty: not reachable
  /// yet (the call fails like a timeout).
  std::function<std::string()> base_url;
  /// The merchant's callback URL sent with every create (read at every call).
  std::function<std::string()> callback_url;
  /// Deadline of one call (connect, send, answer); keep it below the saga's step timeout.
  std::chrono::milliseconds call_timeout{3'000};
  /// Connections open to the bank at once at most, kept alive for reuse; a call that finds
  /// them all busy waits for one to come free, within its `call_timeout`.
  std::size_t max_connections = 64;
};

/// Spawns the payment provider that speaks HTTP to the simulated bank (bank/routes.hpp): the
/// same contract as spawn_bank_sim (actors/api/payment_api.hpp: bank_create / bank_cancel /
/// bank_refund with a `payment_cmd` → `payment_answer`, bank_decide → `bool`), so the payment
/// actor cannot tell them apart. Calls run on the client's own Asio thread with Beast, reuse
/// keep-alive connections, and carry the command's idempotency key. A refusal the bank states
/// (refused, unknown_payment) is a `payment_answer` with that `code`; a call that fails or
/// times out (connection refused, 5xx, no answer within `call_timeout`) answers an error
/// (`errc::timeout`): an unknown outcome, which the saga asks about again with the same key.
caf::actor spawn_bank_http_client(caf::actor_system& sys, bank_http_options options);

} // namespace souk::actors
