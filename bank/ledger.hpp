#pragma once

#include "persistence/checkpointer.hpp"
#include "persistence/sqlite.hpp"
#include "persistence/status.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace souk::bank {

/// Unix milliseconds now (the system clock).
std::int64_t wall_clock_ms();

/// One payment as the bank keeps it. `status`: pending, captured, declined, cancelled,
/// refunded, partially_refunded ("none" only in answers about an order that has no payment).
struct payment {
  std::string payment_id;
  std::string order_id;
  std::int64_t amount = 0;
  std::string currency = "RUB";
  std::string status = "pending";
  std::int64_t captured = 0;
  std::int64_t refunded = 0;
  std::string callback_url;
  std::int64_t created = 0; ///< Unix milliseconds
};

/// A callback the bank owes a merchant (its outbox): kept until delivered, so a restart sends
/// it again.
struct event {
  std::string event_id;
  std::string payment_id;
  std::string order_id;
  std::string status; ///< captured, declined, refunded
  std::int64_t amount = 0;
  std::string callback_url;
  std::int64_t refunded = -1; ///< refunded events: the payment's refunded total after it

  /// The callback body: `{event_id, payment_id, order_id, status, amount}` (API.md), and
  /// `refunded` (the total) on a refund.
  std::string body() const;
};

/// What a ledger call did. `code` is empty on success, else one of: unknown_payment, refused,
/// not_pending, invalid_amount, store_failed. `pay` is the payment as the call left it (for a
/// repeated idempotency key: as the first call with that key left it). `events` are the
/// callbacks this call created (none for a replay); they are already in the outbox.
struct outcome {
  std::string code;
  payment pay;
  std::vector<event> events;
  bool replayed = false; ///< answered from the idempotency record
};

/// The simulated bank's books: payments, idempotency records, cancels that came before their
/// create, and the callback outbox, in one SQLite file (WAL). Plain C++, no actors, no I/O but
/// the file; fault draws are the caller's (the flags below). Not thread-safe: one caller at a
/// time (bank::service holds a mutex).
class ledger {
public:
  /// Opens (creating when missing) the ledger file at `path`.
  static persistence::result<std::unique_ptr<ledger>> open(const std::string& path);

  /// Creates the payment of `order_id`. Idempotent by `key` (the first answer is replayed) and
  /// by order (an order has one payment: a second create answers it). When a cancel of the
  /// order came first, the payment is created cancelled. `refuse` (a fault draw) refuses it:
  /// code `refused`, nothing stored but the key's answer. `now_ms`: the creation time.
  outcome create(const std::string& order_id, std::int64_t amount, const std::string& currency,
                 const std::string& callback_url, const std::string& key, bool refuse,
                 std::int64_t now_ms);

  /// The buyer's answer on the 3-DS page: a pending payment is captured whole (one-step card
  /// payment) when `approve` and not `decline_anyway` (a fault draw), else declined; one
  /// callback event either way. Code `not_pending` when it was decided already,
  /// `unknown_payment` when there is no such payment.
  outcome decide(const std::string& payment_id, bool approve, bool decline_anyway);

  /// Refunds up to `amount` of a captured payment (at most what is left) with one `refunded`
  /// event; a payment that is not captured is answered as it is. Idempotent by `key` (per
  /// payment).
  outcome refund(const std::string& payment_id, std::int64_t amount, const std::string& key);

  /// Cancels a pending payment; any other is answered as it is. Idempotent by `key`.
  outcome cancel(const std::string& payment_id, const std::string& key);

  /// Cancels the payment of `order_id`; when there is none yet, remembers the cancel so that a
  /// late create is born cancelled, and answers status `none`. Idempotent by `key`.
  outcome cancel_order(const std::string& order_id, const std::string& key);

  std::optional<payment> find(const std::string& payment_id);
  std::optional<payment> find_by_order(const std::string& order_id);

  /// Callbacks not yet delivered, oldest first.
  std::vector<event> undelivered();
  /// Marks a callback delivered (the merchant answered 2xx).
  void mark_delivered(const std::string& event_id);

  /// What `prune` deleted.
  struct pruned {
    std::int64_t idempotency_keys = 0;
    std::int64_t events = 0;
  };
  /// Forgets idempotency records and delivered callbacks written before `older_than_ms`
  /// (Unix ms), looking at most at the `max_rows` oldest of each (call again while a count
  /// equals `max_rows`). A key forgotten is a new key again. Payments are the bank's books and
  /// stay; so do undelivered callbacks (the outbox) and the newest callback. All zero on a
  /// store error (nothing deleted).
  pruned prune(std::int64_t older_than_ms, std::int64_t max_rows);

  /// The clock that stamps idempotency records and callbacks (Unix ms); tests move it.
  void set_clock(std::function<std::int64_t()> clock) { clock_ = std::move(clock); }

  /// A value kept in the ledger file (e.g. the webhook secret of a bank-only process).
  std::optional<std::string> meta(const std::string& key);
  persistence::status set_meta(const std::string& key, const std::string& value);

  /// Stops the checkpointer before the connection closes.
  ~ledger();
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

private:
  explicit ledger(persistence::connection db) : db_(std::move(db)) {}
  std::optional<payment> load(const char* where, const std::string& value);
  std::optional<outcome> replay(const char* op, const std::string& key);
  persistence::status remember(const char* op, const std::string& key, const outcome& o);
  persistence::status save(const payment& p);
  persistence::status add_event(event& e);
  std::string next_id(const char* prefix, const char* table);
  /// Runs `body` in one transaction; a failed write rolls back and answers `store_failed`.
  template <class Body>
  outcome transact(Body body);

  persistence::connection db_;
  /// Copies the WAL back on a thread of its own: the bank's calls run on the edge's threads,
  /// and a checkpoint inside one of their commits held up the client requests behind it.
  std::unique_ptr<persistence::checkpointer> checkpointer_;
  std::string tag_; ///< this ledger's random id part: ids stay unique if the file is replaced
  std::function<std::int64_t()> clock_ = wall_clock_ms;
};

} // namespace souk::bank
