#include "bank/service.hpp"

#include "base/log.hpp"

namespace souk::bank {

persistence::result<std::unique_ptr<service>>
service::open(const std::string& ledger_path, const config::bank_settings& settings,
              std::string secret, std::function<std::string()> public_url) {
  auto books = ledger::open(ledger_path);
  if (!books)
    return books.error();
  std::unique_ptr<service> out{
      new service{std::move(*books), settings, std::move(secret), std::move(public_url)}};
  std::vector<event> owed;
  {
    std::lock_guard<std::mutex> guard{out->mtx_};
    owed = out->ledger_->undelivered();
  }
  if (!owed.empty())
    base::log_info("bank: sending callbacks owed from the last run", {{"events", owed.size()}});
  for (auto& e : owed)
    out->sender_->send(e);
  out->schedule_sweep();
  return out;
}

service::service(std::unique_ptr<ledger> books, const config::bank_settings& settings,
                 std::string secret, std::function<std::string()> public_url)
    : ledger_(std::move(books)), settings_(settings), secret_(std::move(secret)),
      public_url_(std::move(public_url)), rng_(settings.seed) {
  sender_options opts;
  opts.secret = secret_;
  opts.attempts = settings.callback_attempts;
  opts.backoff = settings.callback_backoff;
  opts.timeout = settings.call_timeout;
  opts.duplicate = settings.duplicate_callbacks;
  opts.delay = settings.callback_delay;
  sender_ = std::make_unique<callback_sender>(opts, [this](const event& e) {
    std::lock_guard<std::mutex> guard{mtx_};
    ledger_->mark_delivered(e.event_id);
  });
}

service::~service() {
  stop();
}

void service::stop() {
  stopping_ = true; // the sweep the sender runs at its stop neither sweeps nor comes again
  sender_->stop();
}

void service::schedule_sweep() {
  run_after(settings_.sweep_every, [this] {
    if (stopping_)
      return;
    sweep();
    schedule_sweep();
  });
}

ledger::pruned service::sweep() {
  ledger::pruned total;
  auto cutoff = wall_clock_ms() - settings_.retention.count();
  for (;;) {
    ledger::pruned one;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      one = ledger_->prune(cutoff, settings_.sweep_batch);
    }
    total.idempotency_keys += one.idempotency_keys;
    total.events += one.events;
    if ((one.idempotency_keys < settings_.sweep_batch && one.events < settings_.sweep_batch) ||
        stopping_)
      break;
  }
  if (total.idempotency_keys > 0 || total.events > 0)
    base::log_info("bank: forgot old records",
                   {{"idempotency_keys", total.idempotency_keys}, {"callbacks", total.events}});
  return total;
}

bool service::draw(int percent) {
  if (percent <= 0)
    return false;
  return std::uniform_int_distribution<int>{0, 99}(rng_) < percent;
}

fate service::draw_fate() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (draw(settings_.no_answer_percent))
    return fate::no_answer;
  if (draw(settings_.lost_reply_percent))
    return fate::lost_reply;
  return fate::answer;
}

void service::send(const outcome& o) {
  for (auto& e : o.events)
    sender_->send(e);
}

outcome service::create(const std::string& order_id, std::int64_t amount,
                        const std::string& currency, const std::string& callback_url,
                        const std::string& key) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  outcome o;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    o = ledger_->create(order_id, amount, currency, callback_url, key,
                        draw(settings_.refuse_percent), now);
  }
  if (o.code.empty() && !o.replayed && settings_.auto_approve && o.pay.status == "pending") {
    // The buyer approves at once (benchmarks, demo scripts); the create still answers pending,
    // as a real bank answers before the buyer has seen the page.
    auto decided = decide(o.pay.payment_id, true);
    (void)decided;
  }
  return o;
}

outcome service::decide(const std::string& payment_id, bool approve) {
  outcome o;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    o = ledger_->decide(payment_id, approve, approve && draw(settings_.decline_percent));
  }
  send(o);
  return o;
}

outcome service::refund(const std::string& payment_id, std::int64_t amount,
                        const std::string& key) {
  outcome o;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    o = ledger_->refund(payment_id, amount, key);
  }
  send(o);
  return o;
}

outcome service::cancel(const std::string& payment_id, const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  return ledger_->cancel(payment_id, key);
}

outcome service::cancel_order(const std::string& order_id, const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  return ledger_->cancel_order(order_id, key);
}

std::optional<payment> service::find(const std::string& payment_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return ledger_->find(payment_id);
}

std::optional<payment> service::find_by_order(const std::string& order_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return ledger_->find_by_order(order_id);
}

std::string service::redirect_url(const std::string& payment_id) const {
  return (public_url_ ? public_url_() : std::string{}) + "/bank/3ds/" + payment_id;
}

void service::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  sender_->run_after(delay, std::move(fn));
}

std::chrono::milliseconds service::hang_time() const {
  return std::max(settings_.call_timeout * 2, std::chrono::milliseconds{1000});
}

} // namespace souk::bank
