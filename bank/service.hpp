#pragma once

#include "bank/callback_sender.hpp"
#include "bank/ledger.hpp"
#include "config/settings.hpp"
#include "persistence/status.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace souk::bank {

/// What the fault knobs decided for one call's answer.
enum class fate {
  answer,     ///< performed and answered (after `bank.delay_ms`)
  no_answer,  ///< neither performed nor answered in time (the caller times out)
  lost_reply, ///< performed, but the answer does not come in time
};

/// The simulated bank behind its HTTP routes: the ledger under a mutex, the fault draws
/// (seeded with `bank.seed`, so a run repeats), and the callback sender. Every call is
/// thread-safe (the edge's Asio threads call it).
class service {
public:
  /// Opens the ledger at `ledger_path` and starts the sender; callbacks still owed from an
  /// earlier run are sent again. `secret` signs the callbacks. `public_url` gives the base of
  /// the 3-DS redirect URLs ("" means relative `/bank/3ds/{id}`); it may be empty.
  static persistence::result<std::unique_ptr<service>>
  open(const std::string& ledger_path, const config::bank_settings& settings, std::string secret,
       std::function<std::string()> public_url = {});

  service(const service&) = delete;
  service& operator=(const service&) = delete;
  /// Stops the sender.
  ~service();

  /// Draws the fate of one call's answer (no_answer, lost_reply, or answer).
  fate draw_fate();

  outcome create(const std::string& order_id, std::int64_t amount, const std::string& currency,
                 const std::string& callback_url, const std::string& key);
  /// The 3-DS decision (the decline knob applies to approvals).
  outcome decide(const std::string& payment_id, bool approve);
  outcome refund(const std::string& payment_id, std::int64_t amount, const std::string& key);
  outcome cancel(const std::string& payment_id, const std::string& key);
  outcome cancel_order(const std::string& order_id, const std::string& key);
  std::optional<payment> find(const std::string& payment_id);
  std::optional<payment> find_by_order(const std::string& order_id);

  /// The 3-DS page of `payment_id`.
  std::string redirect_url(const std::string& payment_id) const;

  /// Runs `fn` after `delay` on the sender's thread (late answers); at once on stop.
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);

  /// Answers held back (no_answer / lost_reply) come this late, as a 504: long after the
  /// caller's own timeout.
  std::chrono::milliseconds hang_time() const;
  std::chrono::milliseconds answer_delay() const { return settings_.delay; }

  /// Stops the sender and the sweeps; held-back answers go out now. Idempotent.
  void stop();

  /// Forgets idempotency records and delivered callbacks older than `bank.retention_ms`, in
  /// transactions of `bank.sweep_batch` rows (bank calls run between them). Runs every
  /// `bank.sweep_every_ms` on the sender's thread; public for tests.
  ledger::pruned sweep();

  sender_stats callback_stats() const { return sender_->stats(); }
  const std::string& secret() const { return secret_; }

private:
  service(std::unique_ptr<ledger> books, const config::bank_settings& settings, std::string secret,
          std::function<std::string()> public_url);
  bool draw(int percent);
  void send(const outcome& o);
  void schedule_sweep();

  std::mutex mtx_;
  std::unique_ptr<ledger> ledger_;
  config::bank_settings settings_;
  std::string secret_;
  std::function<std::string()> public_url_;
  std::mt19937_64 rng_;
  std::unique_ptr<callback_sender> sender_;
  std::atomic<bool> stopping_{false};
};

} // namespace souk::bank
