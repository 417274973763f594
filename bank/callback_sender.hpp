#pragma once

#include "bank/ledger.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace souk::bank {

/// How the bank sends its callbacks.
struct sender_options {
  std::string secret;                     ///< HMAC key of `Souk-Signature`
  int attempts = 8;                       ///< per callback copy, then it is given up
  std::chrono::milliseconds backoff{200}; ///< wait before the 2nd attempt; doubles after
  std::chrono::milliseconds backoff_max{30'000};
  std::chrono::milliseconds timeout{5'000}; ///< of one attempt (connect, write, read)
  bool duplicate = false;                   ///< send every callback twice (a fault knob)
  std::chrono::milliseconds delay{0};       ///< send every callback this late (a fault knob)
};

/// Counters, for tests and logs.
struct sender_stats {
  std::uint64_t attempts = 0;
  std::uint64_t delivered = 0; ///< copies answered 2xx
  std::uint64_t given_up = 0;  ///< copies that ran out of attempts
};

/// Sends callbacks with Beast's HTTP client on its own Asio thread: `POST callback_url` with
/// the event's JSON body and a fresh `Souk-Signature` per attempt, retried with exponential
/// backoff until a 2xx answer or `attempts` run out. Also runs the bank's timers (late
/// answers). Thread-safe.
class callback_sender {
public:
  /// `delivered` is called on the sender's thread after the first 2xx of an event.
  callback_sender(sender_options options, std::function<void(const event&)> delivered);
  callback_sender(const callback_sender&) = delete;
  callback_sender& operator=(const callback_sender&) = delete;
  /// Stops (see `stop`).
  ~callback_sender();

  /// Queues `e` (honouring `delay` and `duplicate`).
  void send(event e);

  /// Runs `fn` on the sender's thread after `delay`; `stop` runs it at once instead, so a
  /// held-back answer is never lost.
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);

  /// Runs the pending `run_after` functions now, abandons callbacks in flight (they stay in
  /// the ledger's outbox) and joins the thread. Idempotent.
  void stop();

  sender_stats stats() const;

  class impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace souk::bank
