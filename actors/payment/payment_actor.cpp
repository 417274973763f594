#include "actors/payment/payment_actor.hpp"

#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/common/entity.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

/// Self-sent when provider call `n` is past its deadline: `(bank_call_due_atom, n)`.
using bank_call_due_atom = caf::atom_constant<caf::atom("bankdue")>;

/// Callback event ids remembered per payment (a payment sees a handful of events).
constexpr std::size_t max_seen_events = 64;

struct payment_state : entity_base {
  payment_answer payment; ///< code always empty; status "" before the bank created it
  std::deque<std::string> seen_events;
  /// Provider calls without an answer yet, by number; each answers its caller once: with the
  /// bank's answer or, at its deadline, `request_timeout`.
  std::map<std::uint64_t, caf::response_promise> open_calls;
  std::uint64_t last_call = 0;

  std::string encode() const {
    return nlohmann::json{{"payment_id", payment.payment_id},     {"status", payment.status},
                          {"redirect_url", payment.redirect_url}, {"captured", payment.captured},
                          {"refunded", payment.refunded},         {"seen_events", seen_events}}
        .dump();
  }
  bool can_passivate() const { return open_calls.empty(); }
};

using self_t = caf::stateful_actor<payment_state>;

int rank(const std::string& s) {
  if (s == "pending")
    return 1;
  if (s == "captured" || s == "declined" || s == "cancelled" || s == "none")
    return 2;
  if (s == "partially_refunded")
    return 3;
  if (s == "refunded")
    return 4;
  return 0;
}

/// Merges what the bank said; true when the record changed.
bool merge(payment_answer& p, const payment_answer& a) {
  bool changed = false;
  if (p.payment_id.empty() && !a.payment_id.empty()) {
    p.payment_id = a.payment_id;
    p.redirect_url = a.redirect_url;
    changed = true;
  }
  // Amounts only grow: a late notice of an earlier partial refund does not lower the total.
  if (rank(a.status) > rank(p.status) ||
      (a.status == p.status && (a.captured > p.captured || a.refunded > p.refunded))) {
    p.status = a.status;
    p.captured = std::max(p.captured, a.captured);
    p.refunded = std::max(p.refunded, a.refunded);
    changed = true;
  }
  return changed;
}

void tell_order(self_t* self) {
  auto& st = self->state;
  tell(self, *st.ctx, "order", st.ref.key, payment_update_atom::value, st.payment);
}

/// One provider call: the answer is merged, made durable, then given to the caller and (when
/// the status changed) to the order. A call the bank does not answer in time fails with
/// `timeout`; the saga asks again with the same key.
/// Takes call `n` out of the open calls: its promise, or nullopt when it was answered already
/// (a late answer after the deadline, or the deadline after the answer).
std::optional<caf::response_promise> close_call(self_t* self, std::uint64_t n) {
  auto& calls = self->state.open_calls;
  auto it = calls.find(n);
  if (it == calls.end())
    return std::nullopt;
  auto rp = std::move(it->second);
  calls.erase(it);
  return rp;
}

template <class Atom>
caf::response_promise call_bank(self_t* self, Atom atom, payment_cmd cmd) {
  auto& st = self->state;
  ++st.routed;
  auto rp = self->make_response_promise();
  if (cmd.payment_id.empty())
    cmd.payment_id = st.payment.payment_id;
  auto n = ++st.last_call;
  st.open_calls.emplace(n, rp);
  // The deadline is a self-message (the timer wheel's) rather than a CAF request timeout, which
  // costs two wake-ups of CAF's clock thread per call and is never cancelled.
  self->request(st.ctx->bank, caf::infinite, atom, std::move(cmd))
      .then(
          [self, n](payment_answer& a) {
            auto caller = close_call(self, n);
            if (!caller)
              return;
            if (!a.code.empty()) {
              caller->deliver(a);
              return;
            }
            bool changed = merge(self->state.payment, a);
            change_or_wait(self, changed, [self, to = *caller, changed](bool ok) mutable {
              if (!ok) {
                to.deliver(caf::make_error(errc::store_failed));
                return;
              }
              to.deliver(self->state.payment);
              if (changed)
                tell_order(self);
            });
          },
          [self, n](caf::error& e) {
            if (auto caller = close_call(self, n))
              caller->deliver(std::move(e));
          });
  send_later(self, std::chrono::milliseconds(st.ctx->saga.step_timeout_ms),
             bank_call_due_atom::value, n);
  return rp;
}

caf::behavior payment_actor(self_t* self, std::string order_id,
                            std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"payment", order_id};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st)) {
    auto j = nlohmann::json::parse(snap->state);
    st.payment.payment_id = j.at("payment_id").get<std::string>();
    st.payment.status = j.at("status").get<std::string>();
    st.payment.redirect_url = j.at("redirect_url").get<std::string>();
    st.payment.captured = j.at("captured").get<std::int64_t>();
    st.payment.refunded = j.at("refunded").get<std::int64_t>();
    for (auto& e : j.at("seen_events"))
      st.seen_events.push_back(e.get<std::string>());
  }
  start_entity(self);
  return {
      [self](bank_call_due_atom, std::uint64_t n) {
        if (auto rp = close_call(self, n))
          rp->deliver(caf::make_error(caf::sec::request_timeout));
      },
      [self](pay_create_atom, payment_cmd& c) {
        return call_bank(self, bank_create_atom::value, std::move(c));
      },
      [self](pay_cancel_atom, payment_cmd& c) {
        return call_bank(self, bank_cancel_atom::value, std::move(c));
      },
      [self](pay_refund_atom, payment_cmd& c) {
        return call_bank(self, bank_refund_atom::value, std::move(c));
      },
      [self](bank_event_atom, const bank_event& ev) {
        auto& s = self->state;
        ++s.routed;
        auto rp = self->make_response_promise();
        if (std::find(s.seen_events.begin(), s.seen_events.end(), ev.event_id) !=
            s.seen_events.end()) {
          when_durable(self, [rp](bool) mutable { rp.deliver(std::string{"duplicate"}); });
          return rp;
        }
        s.seen_events.push_back(ev.event_id);
        if (s.seen_events.size() > max_seen_events)
          s.seen_events.pop_front();
        payment_answer a{"", ev.payment_id,      ev.status == "authorized" ? "pending" : ev.status,
                         "", s.payment.captured, s.payment.refunded};
        if (ev.status == "captured")
          a.captured = ev.amount;
        else if (ev.status == "refunded") // the total when the bank says it, else add the part
          a.refunded = std::min(s.payment.captured,
                                ev.refunded >= 0 ? ev.refunded : s.payment.refunded + ev.amount);
        if (ev.status == "refunded" && a.refunded < a.captured)
          a.status = "partially_refunded";
        bool changed = merge(s.payment, a);
        change_then(self, [self, rp, changed](bool ok) mutable {
          if (!ok) {
            rp.deliver(caf::make_error(errc::store_failed));
            return;
          }
          rp.deliver(std::string{});
          if (changed)
            tell_order(self);
        });
        return rp;
      },
      [self](payment_view_atom) {
        ++self->state.routed;
        return self->state.payment;
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

caf::actor spawn_payment_actor(caf::actor_system& sys, const std::string& order_id,
                               std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(payment_actor, order_id, std::move(ctx));
}

} // namespace souk::actors
