#include "actors/order/order_actor.hpp"

#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/api/warehouse_api.hpp"
#include "actors/common/entity.hpp"
#include "actors/order/order_state_machine.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

/// Self-sent at the saga's next deadline: `(saga_timer_atom, generation)`.
using saga_timer_atom = caf::atom_constant<caf::atom("sagatimer")>;

struct order_actor_state : entity_base {
  std::optional<order_state_machine> saga;
  std::vector<caf::response_promise> checkout_waiters;
  std::vector<caf::response_promise> cancel_waiters;
  std::vector<caf::response_promise> return_waiters;
  /// The saga's next deadline (0: none), and when the self-message armed for it fires (0: none
  /// armed). A later deadline does not re-arm: the armed message fires first and re-arms for
  /// what is due then, so a saga whose steps each push the deadline out sets one CAF timer, not
  /// one per step (each costs a wake-up of CAF's clock thread).
  std::int64_t timer_at = 0;
  std::int64_t armed_at = 0;
  std::uint64_t timer_generation = 0;
  std::optional<order_status> published; ///< the status last told to ctx.order_events
  int published_returns = 0;             ///< the finished returns told to ctx.order_events

  std::string encode() const { return saga->encode(); }
  bool can_passivate() const {
    // A running saga keeps its timers; only a finished (or never created) order may sleep.
    return (!saga || saga->phase() == saga_phase::done) && checkout_waiters.empty() &&
           cancel_waiters.empty() && return_waiters.empty();
  }
};

using self_t = caf::stateful_actor<order_actor_state>;

order_answer answer_of(const order_state_machine& m, std::string code = {}) {
  return {std::move(code), to_string(m.status()), m.view_text(), m.cart_token()};
}

void handle(self_t* self, std::vector<saga_command> cmds);

/// Returns refunded and back on hand (the one in progress is not).
int finished_returns(const order_state_machine& m) {
  return m.phase() == saga_phase::returning ? m.returns() - 1 : m.returns();
}

std::int64_t returned_units(const order_state_machine& m) {
  std::int64_t n = 0;
  for (auto& l : m.lines())
    n += l.returned;
  return n;
}

/// Arms the saga's timer for `at` (a newer arming makes the older message stale).
void arm_timer(self_t* self, std::int64_t at) {
  auto& st = self->state;
  st.armed_at = at;
  auto delay = std::max<std::int64_t>(0, at - st.ctx->now_ms());
  send_later(self, std::chrono::milliseconds(delay), saga_timer_atom::value, ++st.timer_generation);
}

/// After every event: write the state, answer whoever waits for a decision (once durable), and
/// arm the timer for the next deadline.
void settle(self_t* self, std::vector<saga_command> cmds, bool changed) {
  auto& st = self->state;
  auto& m = *st.saga;
  if (changed)
    st.dur.changed();
  auto deliver_all = [self](std::vector<caf::response_promise> waiters, order_answer a) {
    if (waiters.empty())
      return;
    when_durable(self, [waiters = std::move(waiters), a = std::move(a)](bool ok) mutable {
      for (auto& rp : waiters)
        ok ? rp.deliver(a) : rp.deliver(caf::make_error(errc::store_failed));
    });
  };
  // The view is built only for someone waiting: most events have nobody to answer.
  if (!st.checkout_waiters.empty() && m.checkout_decided())
    deliver_all(std::move(st.checkout_waiters), answer_of(m, m.failure_code()));
  if (auto c = m.cancel_outcome(); c && !st.cancel_waiters.empty()) {
    if (*c || m.terminal())
      deliver_all(std::move(st.cancel_waiters), answer_of(m));
    else
      deliver_all(std::move(st.cancel_waiters), answer_of(m, "not_cancellable"));
  }
  if (!st.return_waiters.empty() && m.phase() != saga_phase::returning)
    deliver_all(std::move(st.return_waiters), answer_of(m)); // RETURNED, or DELIVERED (partial)
  // Buyers' event streams hear of a new status once it is durable, and of a partial return
  // once it is refunded and back on hand (the order stays DELIVERED).
  if (st.ctx->order_events) {
    auto finished = finished_returns(m);
    auto partial = finished > st.published_returns && m.status() == order_status::delivered;
    if (st.published != m.status() || partial) {
      st.published = m.status();
      st.published_returns = finished;
      auto returning = partial || m.status() == order_status::returned;
      order_event ev{m.user_id(),
                     m.id(),
                     to_string(m.status()),
                     m.payment().status,
                     st.ctx->now_ms(),
                     partial ? "order.partially_returned" : "",
                     returning ? returned_units(m) : -1};
      when_durable(self, [self, ev = std::move(ev)](bool ok) {
        if (ok)
          self->state.ctx->order_events->publish(ev);
      });
    }
  }
  // A change that issues no command, answers nobody and publishes nothing (one line reserved
  // or confirmed while others are still out, a late answer noted) is not written on its own:
  // it goes with the next write, which the next command, answer or status change starts (each
  // of them waits for durability). Losing it in a crash loses nothing: the saga resumes from
  // its last durable step and asks again, and every participant answers a repeated step by
  // its idempotency key as it did the first time. This saves the order a write per extra line
  // in each of reserving and confirming.
  // Commands go out only once the state that issued them is durable: a crash before the write
  // must not leave a participant holding something the saga does not remember asking for.
  if (!cmds.empty())
    when_durable(self, [self, cmds = std::move(cmds)](bool ok) mutable {
      if (ok)
        handle(self, std::move(cmds));
    });
  auto next = m.next_timer();
  st.timer_at = next ? *next : 0;
  if (next && (st.armed_at == 0 || *next < st.armed_at))
    arm_timer(self, *next);
}

/// Feeds one event to the saga: `f(machine, now)` returns its commands.
template <class F>
void feed(self_t* self, F f) {
  auto& st = self->state;
  if (!st.saga)
    return;
  auto before = st.saga->version();
  auto cmds = f(*st.saga, st.ctx->now_ms());
  settle(self, std::move(cmds), st.saga->version() != before);
}

payment_cmd payment_of(const order_state_machine& m, const saga_command& c) {
  return {m.id(), c.key, c.qty, m.currency(), m.payment().id};
}

void feed_payment(self_t* self, const payment_answer& a) {
  feed(self, [&](order_state_machine& m, std::int64_t now) {
    std::vector<saga_command> out;
    if (!a.payment_id.empty() && m.payment().id.empty())
      out = m.on_payment_created(a.payment_id, a.redirect_url, now);
    // "none": the bank never had it, so there is nothing left to cancel.
    auto status = a.status == "none" ? std::string{"cancelled"} : a.status;
    auto more = m.on_payment_status(status, a.captured, a.refunded, now);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  });
}

/// Sends one command to its participant. Failures and timeouts are not events: the saga's own
/// deadline re-sends what stays unanswered. So the request has no CAF timeout (each would cost
/// two wake-ups of CAF's clock thread): an answer that never comes leaves its handler until the
/// order stops, at most one per attempt of a step.
void send_command(self_t* self, const saga_command& c) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto& m = *st.saga;
  auto route = [&](std::string kind, std::string key, caf::message msg) {
    return self->request(ctx.directory, caf::infinite, route_atom::value,
                         entity_ref{std::move(kind), std::move(key)}, std::move(msg));
  };
  auto ignore = [](caf::error&) {};
  auto line = c.line;
  auto code_event = [self, line](auto event) {
    return [self, line, event](const std::string& code) {
      feed(self,
           [&](order_state_machine& sm, std::int64_t now) { return event(sm, line, code, now); });
    };
  };
  using k = saga_command::kind;
  switch (c.what) {
  case k::reserve:
    route("sku", c.target,
          caf::make_message(reserve_atom::value,
                            reserve_cmd{c.key, m.id(), c.qty, m.shipping().region, c.at_ms}))
        .then(
            [self, line](reserve_answer& a) {
              feed(self, [&](order_state_machine& sm, std::int64_t now) {
                if (a.outcome == "reserved")
                  return sm.on_reserved(line, std::move(a.parts), now);
                if (a.outcome == "insufficient")
                  return sm.on_insufficient(line, a.available, now);
                return sm.on_already_released(line, now);
              });
            },
            ignore);
    break;
  case k::release:
    route("sku", c.target, caf::make_message(release_atom::value, c.key, m.id()))
        .then(code_event([](order_state_machine& sm, std::size_t i, const std::string& code,
                            std::int64_t now) {
                // wrong_state: the units were shipped; nothing to give back.
                (void)code;
                return sm.on_released(i, now);
              }),
              ignore);
    break;
  case k::confirm:
    route("sku", c.target, caf::make_message(confirm_atom::value, c.key))
        .then(code_event([](order_state_machine& sm, std::size_t i, const std::string& code,
                            std::int64_t now) { return sm.on_confirmed(i, code.empty(), now); }),
              ignore);
    break;
  case k::ship:
    route("sku", c.target, caf::make_message(ship_atom::value, c.key))
        .then(code_event([](order_state_machine& sm, std::size_t i, const std::string&,
                            std::int64_t now) { return sm.on_shipped(i, now); }),
              ignore);
    break;
  case k::return_stock:
    route("sku", c.target,
          caf::make_message(restock_atom::value, c.key, c.qty, m.id(), m.lines()[line].returned,
                            m.lines()[line].parts))
        .then(code_event([units = c.qty](order_state_machine& sm, std::size_t i,
                                         const std::string& code, std::int64_t now) {
                return code.empty() ? sm.on_restocked(i, units, now) : std::vector<saga_command>{};
              }),
              ignore);
    break;
  case k::create_payment:
  case k::cancel_payment:
  case k::refund_payment: {
    auto cmd = payment_of(m, c);
    auto msg = c.what == k::create_payment   ? caf::make_message(pay_create_atom::value, cmd)
               : c.what == k::cancel_payment ? caf::make_message(pay_cancel_atom::value, cmd)
                                             : caf::make_message(pay_refund_atom::value, cmd);
    route("payment", m.id(), std::move(msg))
        .then(
            [self](payment_answer& a) {
              // A definite refusal ends the payment step (the saga ignores it in other steps);
              // other errors are like no answer: the step's deadline asks again.
              if (a.code == "declined" || a.code == "refused")
                feed(self, [&](order_state_machine& sm, std::int64_t now) {
                  return sm.on_payment_refused(a.code, now);
                });
              else if (a.code.empty())
                feed_payment(self, a);
            },
            ignore);
    break;
  }
  case k::start_pick: {
    pick_cmd p{m.id(), c.key, {}};
    for (auto& l : m.lines())
      for (auto& part : l.parts)
        if (part.warehouse_id == c.target)
          p.lines.push_back({l.sku, l.reservation_id, part.qty});
    auto wh = c.target;
    auto key = c.key;
    route("warehouse", c.target, caf::make_message(pick_atom::value, std::move(p)))
        .then(
            [self, wh, key](const std::string& stage) {
              feed(self, [&](order_state_machine& sm, std::int64_t now) {
                // Keyed: an answer to an older generation of the list is ignored.
                auto out = sm.on_pick_started(wh, key, now);
                if (stage != "cancelled") {
                  auto more = sm.on_pick_progress(wh, stage, now);
                  out.insert(out.end(), more.begin(), more.end());
                }
                return out;
              });
            },
            ignore);
    break;
  }
  case k::cancel_pick: {
    auto wh = c.target;
    auto key = c.key;
    route("warehouse", c.target, caf::make_message(pick_cancel_atom::value, m.id(), c.key))
        .then(
            [self, wh, key](const std::string& answer) {
              if (answer == "stale")
                return; // the warehouse holds a newer list than this cancel was for
              feed(self, [&](order_state_machine& sm, std::int64_t now) {
                return sm.on_pick_cancelled(wh, key, answer == "cancelled", now);
              });
            },
            ignore);
    break;
  }
  case k::publish:
    // Order events for subscribers (SSE, the admin console) arrive with the HTTP edge and
    // the outbox; the timeline already records every status change.
    break;
  }
}

void handle(self_t* self, std::vector<saga_command> cmds) {
  for (auto& c : cmds)
    send_command(self, c);
}

/// A buyer's return of `units` by SKU (none: every unit not returned yet): answered once the
/// return is refunded and back on hand, or at once with the refusal's code.
caf::result<order_answer> start_return(self_t* self,
                                       const std::map<std::string, std::int64_t>& units,
                                       const std::string& reason) {
  auto& s = self->state;
  ++s.routed;
  if (!s.saga)
    return order_answer{"unknown_entity", "", "", ""};
  std::vector<saga_command> cmds;
  auto refusal = s.saga->request_return(s.ctx->now_ms(), units, reason, cmds);
  if (refusal != return_refusal::none)
    return reply_when_durable(self, answer_of(*s.saga, to_string(refusal)), false);
  auto rp = self->make_response_promise();
  s.return_waiters.push_back(rp);
  settle(self, std::move(cmds), true);
  return rp;
}

caf::behavior order_actor(self_t* self, std::string order_id,
                          std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"order", order_id};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st)) {
    st.saga = order_state_machine::from_json(nlohmann::json::parse(snap->state), st.ctx->saga);
    st.published = st.saga->status(); // told before it was written, or a restart resyncs
    st.published_returns = finished_returns(*st.saga);
    // Resume: whatever the last durable step was waiting for is asked again (idempotent), and
    // a deadline or hold that passed while the node was down fires at once.
    if (st.saga->phase() != saga_phase::done)
      settle(self, st.saga->resume(st.ctx->now_ms()), true);
  }
  start_entity(self);
  return {
      [self](checkout_atom, checkout_cmd& c) {
        auto& s = self->state;
        ++s.routed;
        auto rp = self->make_response_promise();
        if (!s.saga) {
          if (c.lines.empty()) {
            rp.deliver(order_answer{"cart_empty", "", "", ""});
            return rp;
          }
          std::vector<order_line> lines;
          for (auto& l : c.lines) {
            order_line ol;
            ol.sku = l.sku;
            ol.product_id = l.product_id;
            ol.title = l.title;
            ol.qty = l.qty;
            ol.unit_price = l.unit_price;
            lines.push_back(std::move(ol));
          }
          auto now = s.ctx->now_ms();
          s.saga.emplace(c.order_id.empty() ? s.ref.key : c.order_id, c.user_id, c.idempotency_key,
                         std::move(lines), shipping_address{c.region, c.city, c.address},
                         c.currency, now, s.ctx->saga);
          s.saga->set_cart_token(std::move(c.cart_token));
          s.checkout_waiters.push_back(rp);
          auto cmds = s.saga->start(now);
          settle(self, std::move(cmds), true);
          return rp;
        }
        s.checkout_waiters.push_back(rp);
        settle(self, {}, false);
        return rp;
      },
      [self](order_view_atom) -> caf::result<order_answer> {
        auto& s = self->state;
        ++s.routed;
        if (!s.saga)
          return order_answer{"unknown_entity", "", "", ""};
        return reply_when_durable(self, answer_of(*s.saga), false);
      },
      [self](cancel_atom) -> caf::result<order_answer> {
        auto& s = self->state;
        ++s.routed;
        if (!s.saga)
          return order_answer{"unknown_entity", "", "", ""};
        std::vector<saga_command> cmds;
        auto before = s.saga->version();
        if (!s.saga->request_cancel(s.ctx->now_ms(), cmds)) {
          // "held": the saga waits for an operator (retry horizon), so the refusal is for now.
          // The hold itself may be new (noted in the timeline): written before the answer.
          auto code = s.saga->held() ? "held" : "not_cancellable";
          return reply_when_durable(self, answer_of(*s.saga, code), s.saga->version() != before);
        }
        auto rp = self->make_response_promise();
        s.cancel_waiters.push_back(rp);
        settle(self, std::move(cmds), s.saga->version() != before);
        return rp;
      },
      [self](return_atom) { return start_return(self, {}, {}); },
      [self](return_atom, const std::vector<checkout_line>& lines, const std::string& reason) {
        std::map<std::string, std::int64_t> units;
        for (auto& l : lines)
          units[l.sku] += l.qty;
        return start_return(self, units, reason);
      },
      [self](payment_update_atom, const payment_answer& a) {
        ++self->state.routed;
        feed_payment(self, a);
      },
      [self](pick_update_atom, const std::string& warehouse_id, const std::string& stage) {
        ++self->state.routed;
        feed(self, [&](order_state_machine& m, std::int64_t now) {
          return m.on_pick_progress(warehouse_id, stage, now);
        });
      },
      [self](saga_retry_atom) -> caf::result<order_answer> {
        ++self->state.routed;
        if (!self->state.saga)
          return order_answer{"unknown_entity", "", "", ""};
        feed(self, [](order_state_machine& m, std::int64_t now) { return m.retry(now); });
        return reply_when_durable(self, answer_of(*self->state.saga), false);
      },
      [self](saga_compensate_atom) -> caf::result<order_answer> {
        ++self->state.routed;
        if (!self->state.saga)
          return order_answer{"unknown_entity", "", "", ""};
        feed(self, [](order_state_machine& m, std::int64_t now) { return m.compensate(now); });
        return reply_when_durable(self, answer_of(*self->state.saga), false);
      },
      [self](saga_timer_atom, std::uint64_t generation) {
        auto& s = self->state;
        if (generation != s.timer_generation)
          return; // an earlier deadline armed another
        s.armed_at = 0;
        if (s.timer_at == 0)
          return; // nothing is due any more
        if (s.timer_at > s.ctx->now_ms())
          return arm_timer(self, s.timer_at); // the deadline moved out since this was armed
        s.timer_at = 0;
        feed(self, [](order_state_machine& m, std::int64_t now) { return m.on_timer(now); });
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

caf::actor spawn_order_actor(caf::actor_system& sys, const std::string& order_id,
                             std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(order_actor, order_id, std::move(ctx));
}

} // namespace souk::actors
