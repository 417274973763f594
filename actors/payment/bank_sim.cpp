#include "actors/payment/bank_sim.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/payment_api.hpp"

#include <map>
#include <random>
#include <set>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace souk::actors {

namespace {

/// Self-sent to answer late: `(reply_later_atom)` carries nothing; the promise is in state.
using reply_later_atom = caf::atom_constant<caf::atom("replylater")>;
using callback_atom = caf::atom_constant<caf::atom("callback")>;

struct bank_payment {
  std::string id;
  std::string order_id;
  std::int64_t amount = 0;
  std::string status = "pending";
  std::int64_t captured = 0;
  std::int64_t refunded = 0;
};

struct bank_state {
  caf::actor directory;
  bank_faults faults;
  std::mt19937_64 rng;
  std::map<std::string, bank_payment> payments; // by id
  std::map<std::string, std::string> by_order;  // order id → payment id
  std::set<std::string> cancelled_orders;       // cancelled before the create arrived
  std::set<std::string> refund_keys;
  std::uint64_t next_id = 1;
  std::uint64_t next_event = 1;
  std::uint64_t next_reply = 1;
  std::map<std::uint64_t, std::pair<caf::response_promise, payment_answer>> late;
};

using self_t = caf::stateful_actor<bank_state>;

bool draw(self_t* self, double p) {
  if (p <= 0)
    return false;
  return std::uniform_real_distribution<double>{0, 1}(self->state.rng) < p;
}

payment_answer answer_of(const bank_payment& p) {
  return {"", p.id, p.status, "/bank/3ds/" + p.id, p.captured, p.refunded};
}

void callback(self_t* self, const bank_payment& p, const std::string& status, std::int64_t amount) {
  auto& st = self->state;
  bank_event ev{"ev_" + std::to_string(st.next_event++), p.id, p.order_id, status, amount,
                status == "refunded" ? p.refunded : -1};
  auto copies = st.faults.duplicate_callbacks ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (st.faults.callback_delay.count() > 0)
      self->delayed_send(self, st.faults.callback_delay, callback_atom::value, ev);
    else
      self->send(st.directory, route_atom::value, entity_ref{"payment", p.order_id},
                 caf::make_message(bank_event_atom::value, ev));
  }
}

bool decide(self_t* self, const std::string& payment_id, bool approve) {
  auto& st = self->state;
  auto it = st.payments.find(payment_id);
  if (it == st.payments.end() || it->second.status != "pending")
    return false;
  auto& p = it->second;
  if (approve && !draw(self, st.faults.decline_rate)) {
    p.status = "captured";
    p.captured = p.amount;
  } else {
    p.status = "declined";
  }
  callback(self, p, p.status, p.amount);
  return true;
}

/// Answers `a` through the fault knobs: lost, late, or now.
caf::response_promise answer(self_t* self, payment_answer a) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (draw(self, st.faults.lost_reply_rate))
    return rp; // performed, never answered
  if (st.faults.delay.count() > 0) {
    auto id = st.next_reply++;
    st.late.emplace(id, std::make_pair(rp, std::move(a)));
    self->delayed_send(self, st.faults.delay, reply_later_atom::value, id);
    return rp;
  }
  rp.deliver(std::move(a));
  return rp;
}

caf::behavior bank(self_t* self, caf::actor directory, bank_faults faults) {
  self->state.directory = std::move(directory);
  self->state.faults = faults;
  self->state.rng.seed(faults.seed);
  // A payment actor answers a callback ("" or "duplicate", or an error when it could not store
  // it); the callback was sent one-way, so the answer arrives as a plain message. Take it and
  // move on, as a bank reads the HTTP status of its callback: unhandled, CAF would send an
  // error back, and an error message stops the actor that gets it (this one, or the payment).
  self->set_error_handler([](caf::error&) {});
  return {
      [](const std::string&) {},
      [self](bank_create_atom, const payment_cmd& c) {
        auto& st = self->state;
        if (draw(self, st.faults.no_answer_rate))
          return self->make_response_promise();
        auto known = st.by_order.find(c.order_id);
        if (known != st.by_order.end())
          return answer(self, answer_of(st.payments[known->second]));
        if (draw(self, st.faults.refuse_rate))
          return answer(self, payment_answer{"refused", "", "declined", "", 0, 0});
        bank_payment p;
        p.id = "pay_" + std::to_string(st.next_id++);
        p.order_id = c.order_id;
        p.amount = c.amount;
        // A cancel that overtook this create (the unknown-outcome rule) wins.
        if (st.cancelled_orders.count(c.order_id) > 0)
          p.status = "cancelled";
        st.by_order[c.order_id] = p.id;
        auto& stored = st.payments[p.id] = p;
        auto out = answer_of(stored);
        if (st.faults.auto_approve && stored.status == "pending")
          decide(self, stored.id, true);
        return answer(self, out);
      },
      [self](bank_decide_atom, const std::string& payment_id, bool approve) {
        return decide(self, payment_id, approve);
      },
      [self](bank_cancel_atom, const payment_cmd& c) {
        auto& st = self->state;
        if (draw(self, st.faults.no_answer_rate))
          return self->make_response_promise();
        auto known = st.by_order.find(c.order_id);
        if (known == st.by_order.end()) {
          st.cancelled_orders.insert(c.order_id);
          return answer(self, payment_answer{"", "", "none", "", 0, 0});
        }
        auto& p = st.payments[known->second];
        if (p.status == "pending")
          p.status = "cancelled";
        return answer(self, answer_of(p));
      },
      [self](bank_refund_atom, const payment_cmd& c) {
        auto& st = self->state;
        if (draw(self, st.faults.no_answer_rate))
          return self->make_response_promise();
        auto known = st.by_order.find(c.order_id);
        if (known == st.by_order.end())
          return answer(self, payment_answer{"unknown_payment", "", "none", "", 0, 0});
        auto& p = st.payments[known->second];
        if (st.refund_keys.insert(c.idempotency_key).second &&
            (p.status == "captured" || p.status == "partially_refunded")) {
          auto amount = std::min(c.amount, p.captured - p.refunded);
          p.refunded += amount;
          p.status = p.refunded >= p.captured ? "refunded" : "partially_refunded";
          callback(self, p, "refunded", amount);
        }
        return answer(self, answer_of(p));
      },
      [self](reply_later_atom, std::uint64_t id) {
        auto it = self->state.late.find(id);
        if (it == self->state.late.end())
          return;
        it->second.first.deliver(std::move(it->second.second));
        self->state.late.erase(it);
      },
      [self](callback_atom, const bank_event& ev) {
        self->send(self->state.directory, route_atom::value, entity_ref{"payment", ev.order_id},
                   caf::make_message(bank_event_atom::value, ev));
      },
  };
}

} // namespace

caf::actor spawn_bank_sim(caf::actor_system& sys, caf::actor directory, bank_faults faults) {
  return sys.spawn(bank, std::move(directory), faults);
}

} // namespace souk::actors
