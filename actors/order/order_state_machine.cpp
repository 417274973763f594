#include "actors/order/order_state_machine.hpp"

#include "base/json_writer.hpp"
#include "base/time.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

constexpr const char* status_names[] = {
    "PROCESSING", "PENDING_PAYMENT", "PAID",           "PICKING", "PACKED",    "SHIPPED",
    "DELIVERED",  "REJECTED",        "PAYMENT_FAILED", "EXPIRED", "CANCELLED", "RETURNED"};

constexpr const char* phase_names[] = {
    "reserving",  "creating_payment", "awaiting_payment", "expiring",  "confirming", "assigning",
    "fulfilling", "cancelling_picks", "compensating",     "returning", "done"};

/// Payment statuses only move forward; a late duplicate callback must not move one back.
int payment_rank(const std::string& s) {
  if (s == "pending")
    return 1;
  if (s == "captured" || s == "declined" || s == "cancelled")
    return 2;
  if (s == "partially_refunded")
    return 3;
  if (s == "refunded")
    return 4;
  return 0;
}

/// Pick stages in the order a warehouse moves them; cancelled is outside the order.
int stage_rank(const std::string& s) {
  static const char* stages[] = {"requested", "picking", "packed", "shipped", "delivered"};
  for (int i = 0; i < 5; ++i)
    if (s == stages[i])
      return i;
  return -1;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

/// A deterministic value in [0, n) from the order id and the attempt: retries of many sagas
/// spread out without a shared random generator, and a replay of the events repeats them.
std::int64_t jitter(const std::string& id, int attempt, std::int64_t n) {
  if (n <= 0)
    return 0;
  std::uint64_t h = 1469598103934665603ULL; // FNV-1a: stable across builds, unlike std::hash
  for (unsigned char c : id)
    h = (h ^ c) * 1099511628211ULL;
  h = (h ^ static_cast<std::uint64_t>(attempt)) * 1099511628211ULL;
  return static_cast<std::int64_t>(h % static_cast<std::uint64_t>(n));
}

using cmd = saga_command;

} // namespace

const char* to_string(order_status x) {
  return status_names[static_cast<int>(x)];
}

std::optional<order_status> order_status_from(const std::string& text) {
  for (int i = 0; i < 12; ++i)
    if (text == status_names[i])
      return static_cast<order_status>(i);
  return std::nullopt;
}

const char* to_string(return_refusal x) {
  static constexpr const char* names[] = {"", "not_returnable", "return_not_in_order",
                                          "return_too_many_units", "nothing_to_return"};
  return names[static_cast<int>(x)];
}

const char* to_string(saga_phase x) {
  return phase_names[static_cast<int>(x)];
}

const char* to_string(saga_command::kind x) {
  static const char* names[] = {"reserve",        "release",        "confirm",
                                "ship",           "return_stock",   "create_payment",
                                "cancel_payment", "refund_payment", "start_pick",
                                "cancel_pick",    "publish"};
  return names[static_cast<int>(x)];
}

order_state_machine::order_state_machine(std::string id, std::string user_id,
                                         std::string idempotency_key, std::vector<order_line> lines,
                                         shipping_address shipping, std::string currency,
                                         std::int64_t now_ms, saga_settings settings)
    : id_(std::move(id)), user_id_(std::move(user_id)),
      idempotency_key_(std::move(idempotency_key)), lines_(std::move(lines)),
      shipping_(std::move(shipping)), currency_(std::move(currency)), settings_(settings),
      created_at_ms_(now_ms), updated_at_ms_(now_ms) {
  for (std::size_t i = 0; i < lines_.size(); ++i)
    lines_[i].reservation_id = id_ + "/" + std::to_string(i);
}

std::int64_t order_state_machine::total() const {
  std::int64_t sum = 0;
  for (auto& l : lines_)
    sum += l.qty * l.unit_price;
  return sum;
}

bool order_state_machine::terminal() const {
  return phase_ == saga_phase::done && status_ != order_status::delivered;
}

bool order_state_machine::checkout_decided() const {
  return status_ != order_status::processing || !failure_code_.empty();
}

// -- bookkeeping --

void order_state_machine::note(std::int64_t now_ms, std::string text) {
  updated_at_ms_ = std::max(updated_at_ms_, now_ms);
  ++version_;
  timeline_.push_back({now_ms, to_string(status_), to_string(phase_), std::move(text)});
  if (timeline_.size() > settings_.max_timeline && settings_.max_timeline > 0) {
    timeline_.erase(timeline_.begin(),
                    timeline_.begin() +
                        static_cast<std::ptrdiff_t>(timeline_.size() - settings_.max_timeline));
    timeline_text_.clear(); // its first entries are gone
    timeline_encoded_ = 0;
  }
}

void order_state_machine::enter(saga_phase p, std::int64_t now_ms, const std::string& why) {
  phase_ = p;
  attempt_ = 1;
  stuck_ = false;
  waiting_since_ms_ = now_ms;
  note(now_ms, std::string{"step "} + to_string(p) + (why.empty() ? "" : ": " + why));
  arm_deadline(now_ms);
}

std::int64_t order_state_machine::backoff_ms() const {
  std::int64_t delay = settings_.step_timeout_ms;
  for (int i = 1; i < attempt_ && delay < settings_.backoff_max_ms; ++i)
    delay *= 2;
  delay = std::min(delay, settings_.backoff_max_ms);
  return delay + jitter(id_, attempt_, settings_.step_timeout_ms / 2);
}

void order_state_machine::arm_deadline(std::int64_t now_ms) {
  auto was_waiting = deadline_ms_ != 0;
  deadline_ms_ = outstanding().empty() ? 0 : now_ms + backoff_ms();
  if (deadline_ms_ != 0 && !was_waiting)
    waiting_since_ms_ = now_ms;
}

namespace {

/// The steps after payment whose resend adds something, or takes back what may have left: a
/// pick list, units on hand, money back, a pick list taken back (a warehouse that shipped and
/// pruned the list would answer "taken back"). Forward steps give up after max_attempts long
/// before; compensations release (a forgotten id becomes a tombstone) and refund at most what
/// is left to refund.
bool horizon_applies(saga_phase p) {
  return p == saga_phase::assigning || p == saga_phase::cancelling_picks ||
         p == saga_phase::returning;
}

} // namespace

bool order_state_machine::held() const {
  return horizon_applies(phase_) && deadline_ms_ == 0 && !outstanding().empty();
}

void order_state_machine::take_picks_back(std::int64_t now_ms, const std::string& why) {
  // A list unanswered since assigning began may have been handed out then: the cancel's
  // horizon counts from there, not from now.
  auto since = phase_ == saga_phase::assigning ? waiting_since_ms_ : now_ms;
  enter(saga_phase::cancelling_picks, now_ms, why);
  waiting_since_ms_ = since;
}

bool order_state_machine::hold_at_horizon(std::int64_t now_ms) {
  if (settings_.retry_horizon_ms <= 0 || !horizon_applies(phase_) ||
      now_ms - waiting_since_ms_ < settings_.retry_horizon_ms || outstanding().empty())
    return false;
  if (deadline_ms_ != 0)
    note(now_ms, "step " + std::string{to_string(phase_)} + " unanswered for " +
                     std::to_string((now_ms - waiting_since_ms_) / 1000) +
                     " s, past orders.retry_horizon_ms: the participants may have forgotten its "
                     "keys, so it is not sent again on its own; an operator checks them and "
                     "retries, stuck");
  stuck_ = true;
  deadline_ms_ = 0;
  return true;
}

std::optional<std::int64_t> order_state_machine::next_timer() const {
  std::optional<std::int64_t> t;
  if (deadline_ms_ > 0)
    t = deadline_ms_;
  if (phase_ == saga_phase::awaiting_payment && (!t || hold_expires_at_ms_ < *t))
    t = hold_expires_at_ms_;
  return t;
}

std::vector<saga_command> order_state_machine::publish(const char* type) const {
  return {cmd{cmd::kind::publish, 0, id_, type, 0, 0}};
}

// -- what each step still waits for --

std::vector<saga_command> order_state_machine::outstanding() const {
  std::vector<saga_command> out;
  auto each_line = [&](auto wanted, cmd::kind k) {
    for (std::size_t i = 0; i < lines_.size(); ++i)
      if (wanted(lines_[i]))
        out.push_back(cmd{k, i, lines_[i].sku, lines_[i].reservation_id, lines_[i].qty,
                          hold_expires_at_ms_ + settings_.stock_grace_ms});
  };
  auto payment_compensation = [&] {
    if (payment_.settled)
      return;
    auto captured = payment_.status == "captured" || payment_.status == "partially_refunded";
    if (captured)
      out.push_back(cmd{cmd::kind::refund_payment, 0, payment_.id, id_ + ":refund",
                        payment_.captured - payment_.refunded, 0});
    else
      out.push_back(cmd{cmd::kind::cancel_payment, 0, payment_.id, id_ + ":cancel", 0, 0});
  };
  switch (phase_) {
  case saga_phase::reserving:
    each_line([](const order_line& l) { return !l.reserved && !l.short_of_stock; },
              cmd::kind::reserve);
    break;
  case saga_phase::creating_payment:
    if (payment_.id.empty())
      out.push_back(cmd{cmd::kind::create_payment, 0, "", id_ + ":pay", total(), 0});
    break;
  case saga_phase::expiring:
    payment_compensation();
    break;
  case saga_phase::confirming:
    each_line([](const order_line& l) { return !l.confirmed; }, cmd::kind::confirm);
    break;
  case saga_phase::assigning:
  case saga_phase::cancelling_picks:
    for (auto& [wh, p] : picks_)
      if (!p.acknowledged)
        out.push_back(
            cmd{phase_ == saga_phase::assigning ? cmd::kind::start_pick : cmd::kind::cancel_pick, 0,
                wh, id_ + "#" + std::to_string(pick_generation_), 0, 0});
    break;
  case saga_phase::fulfilling: {
    bool all_shipped = !picks_.empty();
    for (auto& [wh, p] : picks_)
      all_shipped = all_shipped && stage_rank(p.stage) >= stage_rank("shipped");
    if (all_shipped)
      each_line([](const order_line& l) { return !l.shipped; }, cmd::kind::ship);
    break;
  }
  case saga_phase::compensating:
    payment_compensation();
    each_line(
        [](const order_line& l) {
          return !l.released && (!l.short_of_stock || l.reserved) && !l.shipped;
        },
        cmd::kind::release);
    break;
  case saga_phase::returning:
    // Each return refunds its own units' price under its own key (the first keeps the key of
    // the whole-order return it once was); the bank answers a repeat by the key.
    if (!payment_.settled && payment_.refunded < return_refund_)
      out.push_back(cmd{cmd::kind::refund_payment, 0, payment_.id,
                        id_ + ":return" + (returns_ > 1 ? ":" + std::to_string(returns_) : ""),
                        return_refund_ - payment_.refunded, 0});
    for (std::size_t i = 0; i < lines_.size(); ++i)
      if (lines_[i].returned < lines_[i].to_return)
        out.push_back(cmd{cmd::kind::return_stock, i, lines_[i].sku, lines_[i].reservation_id,
                          lines_[i].to_return, 0});
    break;
  case saga_phase::awaiting_payment:
  case saga_phase::done:
    break;
  }
  return out;
}

// -- moving on --

std::vector<saga_command> order_state_machine::begin_compensation(order_status target,
                                                                  std::string code,
                                                                  std::int64_t now_ms,
                                                                  const std::string& why) {
  target_ = target;
  if (status_ == order_status::processing && failure_code_.empty())
    failure_code_ = std::move(code);
  // A payment that was asked for but never answered is an unknown outcome: ask the bank (a
  // cancel by the idempotency key answers what really happened) before anything is final.
  bool needs_action =
      payment_.status.empty()
          ? phase_ != saga_phase::reserving
          : payment_.status == "pending" || payment_.status == "captured" ||
                (payment_.status == "partially_refunded" && payment_.refunded < payment_.captured);
  payment_.settled = !needs_action;
  enter(saga_phase::compensating, now_ms, why + " (will end " + to_string(target) + ")");
  auto out = outstanding();
  if (out.empty())
    return advance(now_ms);
  return out;
}

std::vector<saga_command> order_state_machine::fulfilment_progress(std::int64_t now_ms) {
  int lowest = 4;
  for (auto& [wh, p] : picks_)
    lowest = std::min(lowest, stage_rank(p.stage));
  auto before = status_;
  static const order_status by_rank[] = {order_status::picking, order_status::picking,
                                         order_status::packed, order_status::shipped,
                                         order_status::shipped};
  auto next = by_rank[std::max(lowest, 0)];
  bool lines_shipped = std::all_of(lines_.begin(), lines_.end(), [](auto& l) { return l.shipped; });
  if (lowest == 4 && lines_shipped)
    next = order_status::delivered;
  std::vector<saga_command> out;
  if (next > status_) {
    status_ = next;
    note(now_ms, std::string{"order "} + to_string(next));
  }
  if (status_ == order_status::delivered) {
    phase_ = saga_phase::done;
    deadline_ms_ = 0;
    stuck_ = false;
    note(now_ms, "saga complete");
  } else if (deadline_ms_ == 0) {
    arm_deadline(now_ms);
    out = outstanding();
  }
  if (status_ != before)
    for (auto& c : publish(("order." + lower(to_string(status_))).c_str()))
      out.push_back(c);
  return out;
}

std::vector<saga_command> order_state_machine::advance(std::int64_t now_ms) {
  std::vector<saga_command> out;
  auto all = [&](auto pred) { return std::all_of(lines_.begin(), lines_.end(), pred); };
  switch (phase_) {
  case saga_phase::reserving: {
    for (auto& l : lines_)
      if (l.short_of_stock)
        return begin_compensation(order_status::rejected, "insufficient_stock", now_ms,
                                  "line " + l.sku + " is short of stock");
    if (!all([](auto& l) { return l.reserved; }))
      return out;
    enter(saga_phase::creating_payment, now_ms, "every line reserved");
    return outstanding();
  }
  case saga_phase::creating_payment:
    if (payment_.id.empty())
      return out;
    status_ = order_status::pending_payment;
    enter(saga_phase::awaiting_payment, now_ms, "payment " + payment_.id + " created");
    out = publish("order.pending_payment");
    // A callback may have overtaken the create reply (lost reply, then a retry).
    if (payment_.status == "captured" || payment_.status == "declined") {
      auto more = on_payment_status(payment_.status, payment_.captured, payment_.refunded, now_ms);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  case saga_phase::confirming: {
    if (!all([](auto& l) { return l.confirmed; }))
      return out;
    for (auto& l : lines_)
      for (auto& part : l.parts)
        picks_.emplace(part.warehouse_id, pick_info{});
    enter(saga_phase::assigning, now_ms, "every reservation confirmed");
    return outstanding();
  }
  case saga_phase::assigning: {
    for (auto& [wh, p] : picks_)
      if (!p.acknowledged)
        return out;
    enter(saga_phase::fulfilling, now_ms,
          "pick lists at " + std::to_string(picks_.size()) + " warehouse(s)");
    return fulfilment_progress(now_ms);
  }
  case saga_phase::fulfilling:
    return fulfilment_progress(now_ms);
  case saga_phase::cancelling_picks: {
    bool refused = false;
    for (auto& [wh, p] : picks_) {
      if (!p.acknowledged)
        return out;
      refused = refused || p.stage != "cancelled";
    }
    if (!refused)
      return begin_compensation(order_status::cancelled, "cancelled", now_ms,
                                "pick lists taken back");
    // A warehouse had shipped: the cancel is refused, and the warehouses that did take their
    // list back get it again under a new generation (their tombstone refuses the old one).
    cancel_outcome_ = false;
    status_ = resume_status_;
    bool reassign = false;
    for (auto& [wh, p] : picks_) {
      p.acknowledged = p.stage != "cancelled";
      if (p.stage == "cancelled") {
        p.stage = "requested";
        reassign = true;
      }
    }
    if (reassign) {
      ++pick_generation_;
      enter(saga_phase::assigning, now_ms, "cancel refused: a warehouse had shipped");
      return outstanding();
    }
    enter(saga_phase::fulfilling, now_ms, "cancel refused: a warehouse had shipped");
    return fulfilment_progress(now_ms);
  }
  case saga_phase::compensating:
  case saga_phase::returning: {
    if (!outstanding().empty())
      return out;
    auto before = status_;
    auto all_back = std::all_of(lines_.begin(), lines_.end(),
                                [](const order_line& l) { return l.returned >= l.qty; });
    if (phase_ == saga_phase::returning)
      status_ = all_back ? order_status::returned : order_status::delivered;
    else
      status_ = target_;
    if (status_ == order_status::cancelled)
      cancel_outcome_ = true;
    phase_ = saga_phase::done;
    deadline_ms_ = 0;
    stuck_ = false;
    if (status_ == order_status::delivered)
      note(now_ms, "return " + std::to_string(returns_) + " done: refunded and back on hand");
    else
      note(now_ms, std::string{"saga ended "} + to_string(status_));
    if (status_ != before)
      out = publish(("order." + lower(to_string(status_))).c_str());
    return out;
  }
  case saga_phase::awaiting_payment:
  case saga_phase::expiring:
  case saga_phase::done:
    return out;
  }
  return out;
}

// -- events --

std::vector<saga_command> order_state_machine::start(std::int64_t now_ms) {
  hold_expires_at_ms_ = now_ms + settings_.hold_ms;
  note(now_ms, "checkout: " + std::to_string(lines_.size()) + " line(s), total " +
                   std::to_string(total()) + " " + currency_);
  enter(saga_phase::reserving, now_ms, "");
  return outstanding();
}

std::vector<saga_command> order_state_machine::on_reserved(std::size_t line,
                                                           std::vector<allocation> parts,
                                                           std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].reserved)
    return {};
  auto& l = lines_[line];
  l.reserved = true;
  l.parts = std::move(parts);
  std::string where;
  for (auto& p : l.parts)
    where += (where.empty() ? "" : ", ") + p.warehouse_id + " x" + std::to_string(p.qty);
  note(now_ms, "line " + std::to_string(line) + " (" + l.sku + ") reserved: " + where);
  if (phase_ == saga_phase::reserving)
    return advance(now_ms);
  // A late answer after the saga gave the line up needs nothing more when the release that is
  // outstanding for it covers it (the SKU answers it after the reserve). A line refused before
  // had none: this answer is to another copy of the reserve (a retry) that found stock later,
  // so those units must be given back, even when the saga has ended meanwhile.
  if (!l.short_of_stock || l.released)
    return {};
  if (phase_ == saga_phase::done) {
    target_ = status_;
    enter(saga_phase::compensating, now_ms, "line " + std::to_string(line) + " was reserved late");
    return outstanding();
  }
  if (phase_ != saga_phase::compensating)
    return {};
  if (deadline_ms_ == 0)
    arm_deadline(now_ms);
  std::vector<saga_command> out;
  for (auto& c : outstanding())
    if (c.what == cmd::kind::release && c.line == line)
      out.push_back(c);
  return out;
}

std::vector<saga_command> order_state_machine::on_insufficient(std::size_t line,
                                                               std::int64_t available,
                                                               std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].short_of_stock || lines_[line].reserved)
    return {};
  auto& l = lines_[line];
  l.short_of_stock = true;
  l.available = available;
  note(now_ms, "line " + std::to_string(line) + " (" + l.sku + ") short: " +
                   std::to_string(available) + " available of " + std::to_string(l.qty));
  // While compensating, a refused line needs no release: it may have been the last one awaited.
  if (phase_ != saga_phase::reserving && phase_ != saga_phase::compensating)
    return {};
  return advance(now_ms);
}

std::vector<saga_command> order_state_machine::on_already_released(std::size_t line,
                                                                   std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].released)
    return {};
  lines_[line].released = true;
  note(now_ms, "line " + std::to_string(line) + " was released before (late duplicate)");
  if (phase_ == saga_phase::reserving) {
    // Our own earlier release won the race: the line is not reserved and cannot be.
    lines_[line].short_of_stock = true;
    return advance(now_ms);
  }
  return phase_ == saga_phase::compensating ? advance(now_ms) : std::vector<saga_command>{};
}

std::vector<saga_command> order_state_machine::on_released(std::size_t line, std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].released)
    return {};
  lines_[line].released = true;
  note(now_ms, "line " + std::to_string(line) + " (" + lines_[line].sku + ") released");
  return phase_ == saga_phase::compensating ? advance(now_ms) : std::vector<saga_command>{};
}

std::vector<saga_command> order_state_machine::on_confirmed(std::size_t line, bool ok,
                                                            std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].confirmed || phase_ != saga_phase::confirming)
    return {};
  if (!ok) {
    lines_[line].released = true; // the SKU expired the hold: nothing left to release there
    note(now_ms, "line " + std::to_string(line) + " lost its hold before the payment arrived");
    return begin_compensation(order_status::expired, "hold_lost", now_ms,
                              "a hold expired at its SKU: refund");
  }
  lines_[line].confirmed = true;
  note(now_ms, "line " + std::to_string(line) + " confirmed");
  return advance(now_ms);
}

std::vector<saga_command> order_state_machine::on_shipped(std::size_t line, std::int64_t now_ms) {
  if (line >= lines_.size() || lines_[line].shipped)
    return {};
  lines_[line].shipped = true;
  note(now_ms, "line " + std::to_string(line) + " left stock");
  if (phase_ != saga_phase::fulfilling)
    return {};
  if (std::all_of(lines_.begin(), lines_.end(), [](auto& l) { return l.shipped; }))
    deadline_ms_ = 0;
  return advance(now_ms);
}

std::vector<saga_command> order_state_machine::on_restocked(std::size_t line, std::int64_t now_ms) {
  if (line >= lines_.size())
    return {};
  return on_restocked(line, lines_[line].to_return, now_ms);
}

std::vector<saga_command> order_state_machine::on_restocked(std::size_t line, std::int64_t units,
                                                            std::int64_t now_ms) {
  if (line >= lines_.size())
    return {};
  auto& l = lines_[line];
  units = std::min(units, l.to_return);
  if (units <= l.returned)
    return {}; // a late answer to an earlier return, or a repeat
  l.returned = units;
  l.restocked = l.returned >= l.qty;
  note(now_ms, "line " + std::to_string(line) + " back on hand: " + std::to_string(l.returned) +
                   " of " + std::to_string(l.qty) + " units");
  return phase_ == saga_phase::returning ? advance(now_ms) : std::vector<saga_command>{};
}

std::vector<saga_command> order_state_machine::on_payment_created(const std::string& payment_id,
                                                                  const std::string& redirect_url,
                                                                  std::int64_t now_ms) {
  if (!payment_.id.empty() || payment_id.empty())
    return {};
  payment_.id = payment_id;
  payment_.redirect_url = redirect_url;
  if (payment_.status.empty())
    payment_.status = "pending";
  note(now_ms, "payment " + payment_id + " created");
  if (phase_ == saga_phase::creating_payment)
    return advance(now_ms);
  if (phase_ == saga_phase::compensating && payment_.settled) {
    // Created after we gave up (a late reply): it must be cancelled too.
    payment_.settled = false;
    arm_deadline(now_ms);
    return outstanding();
  }
  return {};
}

std::vector<saga_command> order_state_machine::on_payment_refused(const std::string& reason,
                                                                  std::int64_t now_ms) {
  if (phase_ != saga_phase::creating_payment)
    return {};
  payment_.status = "declined";
  note(now_ms, "the bank refused the payment: " + reason);
  return begin_compensation(order_status::payment_failed, "payment_refused", now_ms,
                            "payment refused");
}

std::vector<saga_command> order_state_machine::on_payment_status(const std::string& status,
                                                                 std::int64_t captured,
                                                                 std::int64_t refunded,
                                                                 std::int64_t now_ms) {
  auto rank = payment_rank(status);
  if (rank == 0)
    return {};
  // Amounts only grow: a late notice of an earlier partial refund changes nothing.
  bool newer =
      rank > payment_rank(payment_.status) ||
      (status == payment_.status && (captured > payment_.captured || refunded > payment_.refunded));
  if (newer) {
    payment_.status = status;
    payment_.captured = std::max(payment_.captured, captured);
    payment_.refunded = std::max(payment_.refunded, refunded);
    note(now_ms, "payment " + status);
  }
  switch (phase_) {
  case saga_phase::awaiting_payment:
  case saga_phase::expiring:
    if (payment_.status == "captured") {
      status_ = order_status::paid;
      enter(saga_phase::confirming, now_ms,
            phase_ == saga_phase::expiring ? "paid just before the hold ran out" : "paid");
      auto out = publish("order.paid");
      auto more = outstanding();
      out.insert(out.end(), more.begin(), more.end());
      return out;
    }
    if (payment_.status == "declined")
      return begin_compensation(order_status::payment_failed, "payment_declined", now_ms,
                                "payment declined");
    if (phase_ == saga_phase::expiring && payment_.status == "cancelled")
      return begin_compensation(order_status::expired, "hold_expired", now_ms,
                                "payment cancelled after the hold ran out");
    return {};
  case saga_phase::compensating:
  case saga_phase::returning: {
    auto done = phase_ == saga_phase::returning
                    ? payment_.status == "refunded" || payment_.refunded >= return_refund_
                    : payment_.status == "declined" || payment_.status == "cancelled" ||
                          payment_.status == "refunded" ||
                          (payment_.status == "partially_refunded" &&
                           payment_.refunded >= payment_.captured);
    if (done && !payment_.settled) {
      payment_.settled = true;
      return advance(now_ms);
    }
    if (!done && payment_.status == "captured" && newer) {
      // The cancel found the payment captured: refund it instead.
      arm_deadline(now_ms);
      return outstanding();
    }
    return {};
  }
  default:
    return {}; // a duplicate or old notice changes nothing (not even the version)
  }
}

std::vector<saga_command> order_state_machine::on_pick_started(const std::string& warehouse_id,
                                                               std::int64_t now_ms) {
  auto it = picks_.find(warehouse_id);
  if (it == picks_.end() || it->second.acknowledged || phase_ != saga_phase::assigning)
    return {};
  it->second.acknowledged = true;
  note(now_ms, "pick list at " + warehouse_id);
  return advance(now_ms);
}

std::vector<saga_command> order_state_machine::on_pick_cancelled(const std::string& warehouse_id,
                                                                 bool taken_back,
                                                                 std::int64_t now_ms) {
  auto it = picks_.find(warehouse_id);
  if (it == picks_.end() || it->second.acknowledged || phase_ != saga_phase::cancelling_picks)
    return {};
  it->second.acknowledged = true;
  if (taken_back)
    it->second.stage = "cancelled";
  note(now_ms, "pick list at " + warehouse_id + (taken_back ? " cancelled" : " already shipped"));
  return advance(now_ms);
}

std::vector<saga_command> order_state_machine::on_pick_started(const std::string& warehouse_id,
                                                               const std::string& key,
                                                               std::int64_t now_ms) {
  if (key != id_ + "#" + std::to_string(pick_generation_))
    return {}; // answers a command of an older generation
  return on_pick_started(warehouse_id, now_ms);
}

std::vector<saga_command> order_state_machine::on_pick_cancelled(const std::string& warehouse_id,
                                                                 const std::string& key,
                                                                 bool taken_back,
                                                                 std::int64_t now_ms) {
  if (key != id_ + "#" + std::to_string(pick_generation_))
    return {}; // answers a command of an older generation
  return on_pick_cancelled(warehouse_id, taken_back, now_ms);
}

std::vector<saga_command> order_state_machine::on_pick_progress(const std::string& warehouse_id,
                                                                const std::string& stage,
                                                                std::int64_t now_ms) {
  auto it = picks_.find(warehouse_id);
  // A list taken back stays cancelled: a notice sent before the cancel may arrive after it.
  if (it == picks_.end() || it->second.stage == "cancelled" ||
      stage_rank(stage) <= stage_rank(it->second.stage))
    return {};
  it->second.stage = stage;
  note(now_ms, "warehouse " + warehouse_id + ": " + stage);
  // A notice carries no generation: after a refused cancel it may come from the list taken
  // back, so only the first generation's lists count a notice as the start_pick's answer.
  if (phase_ == saga_phase::assigning && !it->second.acknowledged && pick_generation_ == 0) {
    it->second.acknowledged = true;
    return advance(now_ms);
  }
  return phase_ == saga_phase::fulfilling ? advance(now_ms) : std::vector<saga_command>{};
}

std::vector<saga_command> order_state_machine::on_timer(std::int64_t now_ms) {
  if (phase_ == saga_phase::awaiting_payment && now_ms >= hold_expires_at_ms_) {
    enter(saga_phase::expiring, now_ms, "hold expired unpaid: ask the bank to cancel");
    return outstanding();
  }
  if (deadline_ms_ == 0 || now_ms < deadline_ms_)
    return {};
  auto pending = outstanding();
  if (pending.empty()) {
    deadline_ms_ = 0;
    return {};
  }
  if (hold_at_horizon(now_ms))
    return {};
  ++attempt_;
  bool forward = phase_ == saga_phase::reserving || phase_ == saga_phase::creating_payment;
  if (attempt_ > settings_.max_attempts && forward)
    return phase_ == saga_phase::reserving
               ? begin_compensation(order_status::rejected, "stock_unavailable", now_ms,
                                    "stock did not answer in " +
                                        std::to_string(settings_.max_attempts) + " attempts")
               : begin_compensation(order_status::payment_failed, "payment_unavailable", now_ms,
                                    "the bank did not answer in " +
                                        std::to_string(settings_.max_attempts) + " attempts");
  if (attempt_ > settings_.max_attempts && !stuck_) {
    // Paid orders and compensations never give up; they keep retrying and ops are told.
    stuck_ = true;
  }
  note(now_ms, "deadline passed: attempt " + std::to_string(attempt_) + " of " + to_string(phase_) +
                   " (" + std::to_string(pending.size()) + " unanswered)" +
                   (stuck_ ? ", stuck" : ""));
  arm_deadline(now_ms);
  return pending;
}

bool order_state_machine::request_cancel(std::int64_t now_ms, std::vector<saga_command>& out) {
  // Held at the retry horizon (or past it, the timer not yet run): a cancel would take the
  // pick lists back under keys the warehouses may have forgotten (one that shipped and pruned
  // the list would answer "taken back", and the saga would refund goods on their way). The
  // operator decides first.
  hold_at_horizon(now_ms);
  if (held())
    return false;
  switch (phase_) {
  case saga_phase::done:
  case saga_phase::returning:
    return false;
  case saga_phase::cancelling_picks:
    return true;
  case saga_phase::compensating:
    // Ends in a failure or cancelled anyway: the cancel is accepted now, or whoever waits for
    // `cancel_outcome` would wait forever when the compensation ends in a failure.
    cancel_outcome_ = true;
    return true;
  case saga_phase::fulfilling:
    if (status_ >= order_status::shipped)
      return false;
    break;
  default:
    break;
  }
  cancel_outcome_.reset();
  note(now_ms, "buyer cancels");
  if (picks_.empty()) {
    out = begin_compensation(order_status::cancelled, "cancelled", now_ms, "cancelled");
    return true;
  }
  resume_status_ = status_;
  for (auto& [wh, p] : picks_)
    p.acknowledged = false;
  take_picks_back(now_ms, "take the pick lists back");
  out = outstanding();
  return true;
}

bool order_state_machine::request_return(std::int64_t now_ms, std::vector<saga_command>& out) {
  return request_return(now_ms, {}, "", out) == return_refusal::none;
}

return_refusal order_state_machine::request_return(std::int64_t now_ms,
                                                   const std::map<std::string, std::int64_t>& units,
                                                   const std::string& reason,
                                                   std::vector<saga_command>& out) {
  if (status_ != order_status::delivered || phase_ != saga_phase::done)
    return return_refusal::not_returnable;
  if (units.empty()) { // every unit not returned yet
    std::map<std::string, std::int64_t> rest;
    for (auto& l : lines_)
      rest[l.sku] += l.qty - l.to_return;
    return request_return(now_ms, rest, reason, out);
  }
  // Units by line; a SKU on several lines fills them in order.
  std::vector<std::int64_t> add(lines_.size(), 0);
  for (auto& [sku, n] : units) {
    if (std::none_of(lines_.begin(), lines_.end(),
                     [&sku = sku](const order_line& l) { return l.sku == sku; }))
      return return_refusal::not_in_order;
    auto left = n;
    for (std::size_t i = 0; i < lines_.size() && left > 0; ++i) {
      if (lines_[i].sku != sku)
        continue;
      add[i] = std::min(left, lines_[i].qty - lines_[i].to_return);
      left -= add[i];
    }
    if (left > 0)
      return return_refusal::too_many_units;
  }
  std::int64_t amount = 0;
  std::string what;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (add[i] <= 0)
      continue;
    amount += add[i] * lines_[i].unit_price;
    what += (what.empty() ? "" : ", ") + std::to_string(add[i]) + " x " + lines_[i].sku;
  }
  if (what.empty())
    return return_refusal::nothing;
  for (std::size_t i = 0; i < lines_.size(); ++i)
    lines_[i].to_return += std::max<std::int64_t>(add[i], 0);
  ++returns_;
  return_refund_ += amount;
  payment_.settled = payment_.refunded >= return_refund_;
  enter(saga_phase::returning, now_ms,
        "buyer returns " + what + " (refund " + std::to_string(amount) + " " + currency_ + ")" +
            (reason.empty() ? "" : ": " + reason));
  out = outstanding();
  return return_refusal::none;
}

std::vector<saga_command> order_state_machine::retry(std::int64_t now_ms) {
  // Past the horizon but not yet held (its timer has not run): hold now and send nothing, so
  // that a routine retry cannot resend under forgotten keys; a retry of the held saga does.
  if (!held() && hold_at_horizon(now_ms))
    return {};
  auto pending = outstanding();
  note(now_ms, "operator retry (" + std::to_string(pending.size()) + " unanswered)");
  // Held (no deadline): the operator checked the participants, and arm_deadline starts the
  // horizon over. Any other retry keeps it: a retry of a saga that is only stuck must not buy
  // it another retry_horizon_ms of resends.
  arm_deadline(now_ms);
  return pending;
}

std::vector<saga_command> order_state_machine::resume(std::int64_t now_ms) {
  if (phase_ == saga_phase::done)
    return {};
  if (hold_at_horizon(now_ms))
    return {};
  auto pending = outstanding();
  note(now_ms, "resumed after a restart (" + std::to_string(pending.size()) + " unanswered)");
  arm_deadline(now_ms);
  auto due = on_timer(now_ms);
  pending.insert(pending.end(), due.begin(), due.end());
  return pending;
}

std::vector<saga_command> order_state_machine::compensate(std::int64_t now_ms) {
  if (phase_ == saga_phase::done || phase_ == saga_phase::compensating ||
      phase_ == saga_phase::returning || status_ >= order_status::shipped) {
    note(now_ms, "operator compensate refused in step " + std::string{to_string(phase_)});
    return {};
  }
  if (!picks_.empty()) {
    // Warehouses hold pick lists: take them back first (as a buyer's cancel does), or stock
    // released and money refunded would still leave the building.
    if (phase_ == saga_phase::cancelling_picks)
      return outstanding();
    cancel_outcome_.reset();
    resume_status_ = status_;
    for (auto& [wh, p] : picks_)
      p.acknowledged = false;
    take_picks_back(now_ms, "operator compensates: take the pick lists back");
    return outstanding();
  }
  return begin_compensation(order_status::cancelled, "operator", now_ms, "operator compensates");
}

// -- views and snapshots --

namespace {

std::string rfc3339(std::int64_t ms) {
  return base::format_rfc3339(std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}});
}

void write_money(base::json_writer& w, std::int64_t amount, const std::string& currency) {
  w.begin_object().key("amount").value(amount).key("currency").value(currency).end_object();
}

void write_parts(base::json_writer& w, const std::vector<allocation>& parts) {
  w.begin_array();
  for (auto& p : parts)
    w.begin_object().key("warehouse_id").value(p.warehouse_id).key("qty").value(p.qty).end_object();
  w.end_array();
}

} // namespace

std::string order_state_machine::view_text() const {
  std::string out;
  out.reserve(1024 + 160 * timeline_.size());
  base::json_writer w{out};
  w.begin_object();
  w.key("id").value(id_).key("user_id").value(user_id_).key("status").value(to_string(status_));
  w.key("lines").begin_array();
  for (auto& l : lines_) {
    w.begin_object();
    w.key("sku").value(l.sku).key("product_id").value(l.product_id).key("title").value(l.title);
    w.key("qty").value(l.qty).key("unit_price");
    write_money(w, l.unit_price, currency_);
    w.key("warehouse_id");
    if (l.parts.empty())
      w.null();
    else
      w.value(l.parts[0].warehouse_id);
    w.key("parts");
    write_parts(w, l.parts);
    if (l.short_of_stock)
      w.key("available").value(l.available);
    w.key("returned").value(l.returned).key("returning").value(l.to_return - l.returned);
    w.end_object();
  }
  w.end_array();
  w.key("total");
  write_money(w, total(), currency_);
  w.key("shipping").begin_object();
  w.key("region").value(shipping_.region).key("city").value(shipping_.city);
  w.key("address").value(shipping_.address).end_object();
  w.key("payment");
  if (!payment_.id.empty() || !payment_.status.empty()) {
    w.begin_object().key("id").value(payment_.id).key("status").value(payment_.status);
    w.key("captured");
    write_money(w, payment_.captured, currency_);
    w.key("refunded");
    write_money(w, payment_.refunded, currency_);
    w.key("redirect_url");
    if (status_ == order_status::pending_payment)
      w.value(payment_.redirect_url);
    else
      w.null();
    w.end_object();
  } else {
    w.null();
  }
  w.key("timeline").begin_array();
  for (auto& t : timeline_) {
    w.begin_object().key("at").value(rfc3339(t.at_ms)).key("at_ms").value(t.at_ms);
    w.key("status").value(t.status).key("step").value(t.phase).key("note").value(t.note);
    w.end_object();
  }
  w.end_array();
  w.key("created_at_ms").value(created_at_ms_).key("created_at").value(rfc3339(created_at_ms_));
  w.key("hold_expires_at").value(rfc3339(hold_expires_at_ms_));
  w.key("hold_expires_at_ms").value(hold_expires_at_ms_);
  w.key("saga").begin_object();
  w.key("step").value(to_string(phase_)).key("attempt").value(std::int64_t{attempt_});
  w.key("stuck").value(stuck_).key("deadline_ms").value(deadline_ms_);
  // Since when the step's commands have gone unanswered (0: nothing awaited); a step held at
  // orders.retry_horizon_ms has no deadline but still waits.
  w.key("waiting_since_ms").value(deadline_ms_ != 0 || stuck_ ? waiting_since_ms_ : 0);
  w.key("held").value(held());
  w.key("failure_code").value(failure_code_).end_object();
  w.end_object();
  return out;
}

nlohmann::json order_state_machine::to_view() const {
  return nlohmann::json::parse(view_text());
}

std::string order_state_machine::encode() const {
  std::string out;
  out.reserve(1024 + 120 * timeline_.size());
  base::json_writer w{out};
  w.begin_object();
  w.key("schema").value(std::int64_t{1});
  w.key("id").value(id_).key("user_id").value(user_id_);
  w.key("idempotency_key").value(idempotency_key_);
  if (!cart_token_.empty())
    w.key("cart_token").value(cart_token_);
  w.key("lines").begin_array();
  for (auto& l : lines_) {
    w.begin_object();
    w.key("sku").value(l.sku).key("product_id").value(l.product_id).key("title").value(l.title);
    w.key("qty").value(l.qty).key("unit_price").value(l.unit_price);
    w.key("reservation_id").value(l.reservation_id).key("parts");
    write_parts(w, l.parts);
    w.key("flags").begin_array().value(l.reserved).value(l.short_of_stock).value(l.confirmed);
    w.value(l.released).value(l.shipped).value(l.restocked).end_array();
    w.key("available").value(l.available);
    if (l.to_return != 0)
      w.key("return").begin_array().value(l.to_return).value(l.returned).end_array();
    w.end_object();
  }
  w.end_array();
  w.key("returns").value(std::int64_t{returns_}).key("return_refund").value(return_refund_);
  w.key("shipping").begin_array().value(shipping_.region).value(shipping_.city);
  w.value(shipping_.address).end_array();
  w.key("currency").value(currency_).key("status").value(to_string(status_));
  w.key("phase").value(to_string(phase_)).key("target").value(to_string(target_));
  w.key("resume_status").value(to_string(resume_status_));
  w.key("attempt").value(std::int64_t{attempt_}).key("stuck").value(stuck_);
  w.key("deadline_ms").value(deadline_ms_).key("hold_expires_at_ms").value(hold_expires_at_ms_);
  w.key("waiting_since_ms").value(waiting_since_ms_);
  w.key("created_at_ms").value(created_at_ms_).key("updated_at_ms").value(updated_at_ms_);
  w.key("version").value(version_).key("failure_code").value(failure_code_);
  w.key("pick_generation").value(std::int64_t{pick_generation_});
  w.key("cancel_outcome");
  if (cancel_outcome_)
    w.value(*cancel_outcome_);
  else
    w.null();
  w.key("payment").begin_object();
  w.key("id").value(payment_.id).key("status").value(payment_.status);
  w.key("redirect_url").value(payment_.redirect_url).key("captured").value(payment_.captured);
  w.key("refunded").value(payment_.refunded).key("settled").value(payment_.settled);
  w.end_object();
  w.key("picks").begin_object();
  for (auto& [wh, p] : picks_)
    w.key(wh)
        .begin_object()
        .key("stage")
        .value(p.stage)
        .key("ack")
        .value(p.acknowledged)
        .end_object();
  w.end_object();
  // The timeline only grows at its end: entries encoded for an earlier write are kept as text.
  for (; timeline_encoded_ < timeline_.size(); ++timeline_encoded_) {
    auto& t = timeline_[timeline_encoded_];
    if (!timeline_text_.empty())
      timeline_text_ += ',';
    base::json_writer tw{timeline_text_};
    tw.begin_array().value(t.at_ms).value(t.status).value(t.phase).value(t.note).end_array();
  }
  w.key("timeline").begin_array().raw(timeline_text_).end_array();
  w.end_object();
  if (phase_ == saga_phase::done) { // few writes follow: not worth the memory
    std::string{}.swap(timeline_text_);
    timeline_encoded_ = 0;
  }
  return out;
}

nlohmann::json order_state_machine::to_json() const {
  return nlohmann::json::parse(encode());
}

order_state_machine order_state_machine::from_json(const nlohmann::json& j,
                                                   saga_settings settings) {
  order_state_machine m;
  m.settings_ = settings;
  j.at("id").get_to(m.id_);
  j.at("user_id").get_to(m.user_id_);
  j.at("idempotency_key").get_to(m.idempotency_key_);
  m.cart_token_ = j.value("cart_token", std::string{});
  for (auto& x : j.at("lines")) {
    order_line l;
    x.at("sku").get_to(l.sku);
    x.at("product_id").get_to(l.product_id);
    x.at("title").get_to(l.title);
    x.at("qty").get_to(l.qty);
    x.at("unit_price").get_to(l.unit_price);
    x.at("reservation_id").get_to(l.reservation_id);
    for (auto& p : x.at("parts"))
      l.parts.push_back({p.at("warehouse_id").get<std::string>(), p.at("qty").get<std::int64_t>()});
    auto& f = x.at("flags");
    l.reserved = f.at(0).get<bool>();
    l.short_of_stock = f.at(1).get<bool>();
    l.confirmed = f.at(2).get<bool>();
    l.released = f.at(3).get<bool>();
    l.shipped = f.at(4).get<bool>();
    l.restocked = f.at(5).get<bool>();
    x.at("available").get_to(l.available);
    if (auto r = x.find("return"); r != x.end()) {
      r->at(0).get_to(l.to_return);
      r->at(1).get_to(l.returned);
    } else if (l.restocked) { // a whole-order return, before partial returns
      l.to_return = l.returned = l.qty;
    }
    if (l.to_return < 0 || l.to_return > l.qty || l.returned < 0 || l.returned > l.to_return)
      throw nlohmann::json::other_error::create(501, "returned units out of range", &x);
    m.lines_.push_back(std::move(l));
  }
  auto& s = j.at("shipping");
  m.shipping_ = {s.at(0).get<std::string>(), s.at(1).get<std::string>(),
                 s.at(2).get<std::string>()};
  j.at("currency").get_to(m.currency_);
  auto status = [](const nlohmann::json& v) {
    auto st = order_status_from(v.get<std::string>());
    if (!st)
      throw nlohmann::json::other_error::create(501, "unknown order status", &v);
    return *st;
  };
  m.status_ = status(j.at("status"));
  m.target_ = status(j.at("target"));
  m.resume_status_ = status(j.at("resume_status"));
  auto phase = j.at("phase").get<std::string>();
  auto it = std::find(std::begin(phase_names), std::end(phase_names), phase);
  if (it == std::end(phase_names))
    throw nlohmann::json::other_error::create(501, "unknown saga phase", &j);
  m.phase_ = static_cast<saga_phase>(it - std::begin(phase_names));
  j.at("attempt").get_to(m.attempt_);
  j.at("stuck").get_to(m.stuck_);
  j.at("deadline_ms").get_to(m.deadline_ms_);
  j.at("hold_expires_at_ms").get_to(m.hold_expires_at_ms_);
  j.at("created_at_ms").get_to(m.created_at_ms_);
  j.at("updated_at_ms").get_to(m.updated_at_ms_);
  j.at("version").get_to(m.version_);
  j.at("failure_code").get_to(m.failure_code_);
  j.at("pick_generation").get_to(m.pick_generation_);
  if (!j.at("cancel_outcome").is_null())
    m.cancel_outcome_ = j.at("cancel_outcome").get<bool>();
  auto& p = j.at("payment");
  p.at("id").get_to(m.payment_.id);
  p.at("status").get_to(m.payment_.status);
  p.at("redirect_url").get_to(m.payment_.redirect_url);
  p.at("captured").get_to(m.payment_.captured);
  p.at("refunded").get_to(m.payment_.refunded);
  p.at("settled").get_to(m.payment_.settled);
  if (j.contains("returns")) {
    j.at("returns").get_to(m.returns_);
    j.at("return_refund").get_to(m.return_refund_);
  } else if (m.phase_ == saga_phase::returning || m.status_ == order_status::returned) {
    // A whole-order return started before partial returns: every unit, the whole capture.
    m.returns_ = 1;
    m.return_refund_ = m.payment_.captured;
    for (auto& l : m.lines_)
      l.to_return = l.qty;
  }
  for (auto& [wh, x] : j.at("picks").items())
    m.picks_[wh] = {x.at("stage").get<std::string>(), x.at("ack").get<bool>()};
  for (auto& t : j.at("timeline"))
    m.timeline_.push_back({t.at(0).get<std::int64_t>(), t.at(1).get<std::string>(),
                           t.at(2).get<std::string>(), t.at(3).get<std::string>()});
  if (j.contains("waiting_since_ms")) {
    j.at("waiting_since_ms").get_to(m.waiting_since_ms_);
  } else {
    // A snapshot from before the retry horizon. The wait began when the step did: its "step
    // <phase>" note. Without one (the timeline keeps only its newest entries) the order's
    // creation, which is earlier still: a horizon reached early asks an operator, one reached
    // late could put units back twice.
    m.waiting_since_ms_ = m.created_at_ms_;
    auto step = std::string{"step "} + to_string(m.phase_);
    for (auto e = m.timeline_.rbegin(); e != m.timeline_.rend(); ++e)
      if (e->note == step || e->note.rfind(step + ":", 0) == 0) {
        m.waiting_since_ms_ = e->at_ms;
        break;
      }
  }
  return m;
}

} // namespace souk::actors
