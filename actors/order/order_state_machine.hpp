#pragma once

#include "actors/api/stock_types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace souk::actors {

/// Order status as clients see it (API.md).
enum class order_status {
  processing,
  pending_payment,
  paid,
  picking,
  packed,
  shipped,
  delivered,
  rejected,
  payment_failed,
  expired,
  cancelled,
  returned,
};

/// "PROCESSING", "PENDING_PAYMENT", ...
const char* to_string(order_status x);
std::optional<order_status> order_status_from(const std::string& text);

/// The saga's own step, finer than the status.
enum class saga_phase {
  reserving,        ///< reserve every line at its SKU (all or nothing)
  creating_payment, ///< create the payment at the bank
  awaiting_payment, ///< wait for the bank's callback until the hold expires
  expiring,         ///< the hold ran out: cancel the payment (the bank tells if it was captured)
  confirming,       ///< paid: confirm every reservation (holds stop expiring)
  assigning,        ///< hand pick lists to the warehouses
  fulfilling,       ///< warehouses pick, pack, ship and deliver
  cancelling_picks, ///< a cancel after payment: take the pick lists back first
  compensating,     ///< undo: cancel or refund the payment, release the stock, then end
  returning,        ///< a return: refund and put the units back on hand
  done,             ///< terminal (or delivered: a return may start later)
};

const char* to_string(saga_phase x);

/// Settings of the saga (config `[orders]`).
struct saga_settings {
  std::int64_t hold_ms = 900'000;       ///< reservations held unpaid
  std::int64_t stock_grace_ms = 60'000; ///< the SKU's own expiry comes this much after ours
  std::int64_t step_timeout_ms = 5'000; ///< deadline of one attempt of a step
  int max_attempts = 5;                 ///< attempts of a forward step before compensating
  std::int64_t backoff_max_ms = 60'000; ///< cap of the retry delay
  std::size_t max_timeline = 500;       ///< entries kept (the oldest are dropped)
  /// How long the saga resends a step after a payment on its own (assigning pick lists,
  /// returning stock and money). The participants remember a command's key only so long
  /// (released ids, pick lists, the bank's idempotency records): a resend after they forgot
  /// could put units back or hand out a pick list twice. Past it the saga stops and waits for
  /// an operator's `retry`. 0: no limit.
  std::int64_t retry_horizon_ms = 72'000'000;
};

/// A line of the order, with what its SKU actor said about it.
struct order_line {
  std::string sku;
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t qty = 0;
  std::int64_t unit_price = 0;
  std::string reservation_id;    ///< "<order id>/<index>": the reserve's idempotency key
  std::vector<allocation> parts; ///< where the units are reserved (nearest first)
  bool reserved = false;         ///< the SKU actor confirmed the hold
  bool short_of_stock = false;   ///< refused: not enough available
  std::int64_t available = 0;    ///< what the SKU actor had when it refused
  bool confirmed = false;        ///< hold turned into a paid reservation
  bool released = false;         ///< compensation acknowledged
  bool shipped = false;          ///< left the warehouse (stock acknowledged)
  bool restocked = false;        ///< every unit returned and back on hand (stock acknowledged)
  std::int64_t to_return = 0;    ///< units the buyer's returns asked back, in all
  std::int64_t returned = 0;     ///< units back on hand, in all (stock acknowledged)
};

/// Why `order_state_machine::request_return` refused a return (none: it started).
enum class return_refusal {
  none,
  not_returnable, ///< not DELIVERED, or a return is still in progress
  not_in_order,   ///< a SKU the order does not have
  too_many_units, ///< more units of a line than were delivered and not yet returned
  nothing,        ///< no units asked for (every unit is back already, or all quantities 0)
};

/// not_returnable, return_not_in_order, return_too_many_units, nothing_to_return ("" for none):
/// the problem codes of the HTTP edge.
const char* to_string(return_refusal x);

struct shipping_address {
  std::string region;
  std::string city;
  std::string address;
};

/// The payment as the saga knows it. `status`: pending, captured, declined, cancelled,
/// refunded, partially_refunded (API.md); empty before the bank created it.
struct payment_info {
  std::string id; ///< the bank's payment id
  std::string status;
  std::string redirect_url;
  std::int64_t captured = 0;
  std::int64_t refunded = 0;
  bool settled = false; ///< the compensation or refund of the current phase was acknowledged
};

/// A warehouse's pick list for this order. `stage`: requested, picking, packed, shipped,
/// delivered, cancelled.
struct pick_info {
  std::string stage = "requested";
  bool acknowledged = false;
};

/// One line of the timeline: every step, attempt, timeout and compensation.
struct timeline_entry {
  std::int64_t at_ms = 0;
  std::string status;
  std::string phase;
  std::string note;
};

/// Something the saga wants done; the actor turns it into a message (and the answer into an
/// event). Each carries the idempotency key the participant deduplicates on.
struct saga_command {
  enum class kind {
    reserve,        ///< line: reserve `qty` of `target` (SKU) under `key` until `at_ms`
    release,        ///< line: release reservation `key` at SKU `target`
    confirm,        ///< line: confirm reservation `key` at SKU `target`
    ship,           ///< line: reservation `key` left the warehouse
    return_stock,   ///< line: `qty` units of reservation `key` are back in all
    create_payment, ///< `amount` under `key`
    cancel_payment, ///< cancel the pending payment, answering its status (key)
    refund_payment, ///< refund `amount` under `key`
    start_pick,     ///< warehouse `target`: pick the order's parts stored there (key
                    ///< "<order id>#<generation>")
    cancel_pick,    ///< warehouse `target`: take the order's pick list back
    publish,        ///< an order event for subscribers: `key` is its type ("order.paid")
  };
  kind what;
  std::size_t line = 0;
  std::string target;
  std::string key;
  std::int64_t qty = 0;   ///< units (reserve) or money (payments)
  std::int64_t at_ms = 0; ///< reserve: when the SKU may expire the hold by itself
};

const char* to_string(saga_command::kind x);

/// The order saga of DESIGN.md as a pure state machine: events in (answers of participants,
/// timers, buyer requests), commands out. No actors, no clock, no I/O: the order actor owns one,
/// persists `to_json()` after every event that returned commands or changed state, and executes
/// the commands. Deterministic: the same events give the same state and commands (the retry
/// jitter comes from the order id and the attempt, not from a global generator).
///
/// Every forward step has a deadline; when it passes, the commands of the participants that
/// have not answered are sent again (they are idempotent), with backoff; after `max_attempts`
/// the saga compensates. Compensations retry until acknowledged. A timed-out payment is an
/// unknown outcome: the saga asks the bank (cancel answers the payment's real status) before it
/// releases stock, and a payment found captured continues the order instead of failing it.
class order_state_machine {
public:
  /// A new order in PROCESSING with its lines, priced. `id` must be unique; `lines` non-empty.
  order_state_machine(std::string id, std::string user_id, std::string idempotency_key,
                      std::vector<order_line> lines, shipping_address shipping,
                      std::string currency, std::int64_t now_ms, saga_settings settings = {});

  /// Begins the saga: reserve every line.
  std::vector<saga_command> start(std::int64_t now_ms);

  // -- answers of participants ---------------------------------------------------------------
  std::vector<saga_command> on_reserved(std::size_t line, std::vector<allocation> parts,
                                        std::int64_t now_ms);
  std::vector<saga_command> on_insufficient(std::size_t line, std::int64_t available,
                                            std::int64_t now_ms);
  /// The SKU had a tombstone for the reservation (released before): treated as not reserved.
  std::vector<saga_command> on_already_released(std::size_t line, std::int64_t now_ms);
  std::vector<saga_command> on_released(std::size_t line, std::int64_t now_ms);
  /// `ok` false: the hold was gone (expired at the SKU) — the paid order must be compensated.
  std::vector<saga_command> on_confirmed(std::size_t line, bool ok, std::int64_t now_ms);
  std::vector<saga_command> on_shipped(std::size_t line, std::int64_t now_ms);
  /// `units` of the line are back on hand in all (the stock's answer to return_stock; a late
  /// answer to an earlier return carries fewer and changes nothing). Without `units`: the units
  /// asked back so far.
  std::vector<saga_command> on_restocked(std::size_t line, std::int64_t units, std::int64_t now_ms);
  std::vector<saga_command> on_restocked(std::size_t line, std::int64_t now_ms);

  std::vector<saga_command> on_payment_created(const std::string& payment_id,
                                               const std::string& redirect_url,
                                               std::int64_t now_ms);
  /// The bank refused to create the payment (a definite answer, not a timeout).
  std::vector<saga_command> on_payment_refused(const std::string& reason, std::int64_t now_ms);
  /// The payment's status from a callback, a cancel, a refund or a query.
  std::vector<saga_command> on_payment_status(const std::string& status, std::int64_t captured,
                                              std::int64_t refunded, std::int64_t now_ms);

  std::vector<saga_command> on_pick_started(const std::string& warehouse_id, std::int64_t now_ms);
  /// `taken_back` false: the warehouse had shipped already.
  std::vector<saga_command> on_pick_cancelled(const std::string& warehouse_id, bool taken_back,
                                              std::int64_t now_ms);
  /// The same two answers with the `key` of the command they answer ("<order id>#<generation>").
  /// Prefer these: after a refused cancel the pick lists go out again under a new generation,
  /// and a late or repeated answer to an older generation's command is then ignored (without
  /// the key it would count, e.g. an old "taken back" would hand a warehouse a second list).
  std::vector<saga_command> on_pick_started(const std::string& warehouse_id, const std::string& key,
                                            std::int64_t now_ms);
  std::vector<saga_command> on_pick_cancelled(const std::string& warehouse_id,
                                              const std::string& key, bool taken_back,
                                              std::int64_t now_ms);
  /// The warehouse moved the pick list to `stage` (picking, packed, shipped, delivered).
  std::vector<saga_command> on_pick_progress(const std::string& warehouse_id,
                                             const std::string& stage, std::int64_t now_ms);

  // -- time and requests ---------------------------------------------------------------------
  /// Deadlines and the hold's expiry; call at or after `next_timer()`.
  std::vector<saga_command> on_timer(std::int64_t now_ms);
  /// When `on_timer` has something to do next, if ever.
  std::optional<std::int64_t> next_timer() const;

  /// The buyer cancels. Refused (returns false, no commands) once shipped or ended.
  bool request_cancel(std::int64_t now_ms, std::vector<saga_command>& out);
  /// The buyer returns every unit of a delivered order not returned yet. Refused (false)
  /// unless DELIVERED with no return in progress.
  bool request_return(std::int64_t now_ms, std::vector<saga_command>& out);
  /// The buyer returns some units (a partial return): `units` by SKU (none: every unit not
  /// returned yet), each at most what was
  /// delivered and not returned yet. The return refunds their price and puts them back on hand
  /// at their warehouses; the order stays DELIVERED until its last unit comes back, then it is
  /// RETURNED. `reason` goes into the timeline. Several returns may follow one another, not
  /// overlap.
  return_refusal request_return(std::int64_t now_ms,
                                const std::map<std::string, std::int64_t>& units,
                                const std::string& reason, std::vector<saga_command>& out);

  /// Operator: send the current step's outstanding commands again now (a stuck saga), also one
  /// held at the retry horizon (the operator checked the participants); the horizon starts
  /// over.
  std::vector<saga_command> retry(std::int64_t now_ms);
  /// After a restart (the snapshot was loaded into a new actor): the current step's outstanding
  /// commands again, and whatever deadline or hold passed while the node was down.
  std::vector<saga_command> resume(std::int64_t now_ms);
  /// Operator: give up the current forward step and compensate. Pick lists handed out are
  /// taken back first; if a warehouse has shipped, that is refused like a buyer's cancel.
  std::vector<saga_command> compensate(std::int64_t now_ms);

  // -- what the order looks like --------------------------------------------------------------
  const std::string& id() const { return id_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& idempotency_key() const { return idempotency_key_; }
  /// The freeze of the cart the order was created from (checkout_cmd::cart_token); empty for
  /// orders created before souk kept it. Set once, before the first snapshot.
  const std::string& cart_token() const { return cart_token_; }
  void set_cart_token(std::string token) { cart_token_ = std::move(token); }
  order_status status() const { return status_; }
  saga_phase phase() const { return phase_; }
  int attempt() const { return attempt_; }
  /// True when a step failed `max_attempts` times and is still being retried (ops should look).
  bool stuck() const { return stuck_; }
  /// True when the step waited past `retry_horizon_ms` and is no longer resent: only an
  /// operator's `retry` (or a late answer) moves it on, and a buyer's cancel is refused.
  bool held() const;
  const std::vector<order_line>& lines() const { return lines_; }
  /// Returns requested so far (a return in progress counts).
  int returns() const { return returns_; }
  /// What the returns refund in all (minor units); the refunds of a failed or cancelled order
  /// are not in it.
  std::int64_t return_refund_due() const { return return_refund_; }
  const payment_info& payment() const { return payment_; }
  const std::map<std::string, pick_info>& picks() const { return picks_; }
  const std::vector<timeline_entry>& timeline() const { return timeline_; }
  const shipping_address& shipping() const { return shipping_; }
  const std::string& currency() const { return currency_; }
  std::int64_t total() const;
  std::int64_t created_at_ms() const { return created_at_ms_; }
  std::int64_t hold_expires_at_ms() const { return hold_expires_at_ms_; }
  std::int64_t updated_at_ms() const { return updated_at_ms_; }
  /// Incremented by every event that changed the state (the snapshot version).
  std::int64_t version() const { return version_; }
  /// The saga ended for good (not DELIVERED, which a return may reopen).
  bool terminal() const;
  /// Checkout can be answered: the order reached PENDING_PAYMENT, or it is failing (then
  /// `failure_code` says why: insufficient_stock, payment_unavailable, ...).
  bool checkout_decided() const;
  const std::string& failure_code() const { return failure_code_; }
  /// A cancel was requested and is now decided: accepted (CANCELLED) or refused.
  std::optional<bool> cancel_outcome() const { return cancel_outcome_; }

  /// The order as API.md's `GET /v1/orders/{id}` shows it, plus `saga` (phase, attempt, stuck):
  /// as JSON text (written directly, as every answer carries it) and as a document.
  std::string view_text() const;
  nlohmann::json to_view() const;
  /// The whole state (the snapshot): as JSON text (written directly, as every saga event writes
  /// it), as a document, and back; `from_json` throws nlohmann::json::exception.
  std::string encode() const;
  nlohmann::json to_json() const;
  static order_state_machine from_json(const nlohmann::json& j, saga_settings settings = {});

private:
  order_state_machine() = default;

  void note(std::int64_t now_ms, std::string text);
  void enter(saga_phase p, std::int64_t now_ms, const std::string& why);
  void arm_deadline(std::int64_t now_ms);
  std::vector<saga_command> outstanding() const; ///< the current phase's unanswered commands
  std::vector<saga_command> advance(std::int64_t now_ms); ///< move on when a phase is complete
  std::vector<saga_command> begin_compensation(order_status target, std::string code,
                                               std::int64_t now_ms, const std::string& why);
  std::vector<saga_command> fulfilment_progress(std::int64_t now_ms);
  std::vector<saga_command> publish(const char* type) const;
  std::int64_t backoff_ms() const;
  /// The step has waited past `retry_horizon_ms` in a phase whose resends are not safe then:
  /// stop resending, mark the saga stuck and say so (once). True when it held.
  bool hold_at_horizon(std::int64_t now_ms);
  /// Enters cancelling_picks (every list taken back), the horizon counting from assigning's.
  void take_picks_back(std::int64_t now_ms, const std::string& why);

  std::string id_;
  std::string user_id_;
  std::string idempotency_key_;
  std::string cart_token_;
  std::vector<order_line> lines_;
  shipping_address shipping_;
  std::string currency_;
  saga_settings settings_;

  order_status status_ = order_status::processing;
  saga_phase phase_ = saga_phase::reserving;
  order_status target_ = order_status::processing; ///< where compensation ends
  int attempt_ = 0;
  bool stuck_ = false;
  std::int64_t deadline_ms_ = 0; ///< of the current attempt; 0 when nothing is awaited
  /// Since when the current step's commands have been awaited (the first send, not the latest).
  std::int64_t waiting_since_ms_ = 0;
  std::int64_t hold_expires_at_ms_ = 0;
  std::int64_t created_at_ms_ = 0;
  std::int64_t updated_at_ms_ = 0;
  std::int64_t version_ = 0;
  std::string failure_code_;
  std::optional<bool> cancel_outcome_;
  order_status resume_status_ = order_status::paid; ///< where a refused cancel goes back to
  int pick_generation_ = 0; ///< pick lists handed out again after a refused cancel get a new key
  int returns_ = 0;         ///< returns requested (the refund key of each is numbered)
  std::int64_t return_refund_ = 0; ///< what all returns refund, in all
  payment_info payment_;
  std::map<std::string, pick_info> picks_;
  std::vector<timeline_entry> timeline_;
  /// `encode`'s text of timeline_[0, timeline_encoded_), comma-separated: each write encodes
  /// only the entries added since the last (the timeline is most of an order's snapshot).
  /// Cleared when old entries are dropped, and once the saga is done.
  mutable std::string timeline_text_;
  mutable std::size_t timeline_encoded_ = 0;
};

} // namespace souk::actors
