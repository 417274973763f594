// Concurrent checkouts through the real actors under a random schedule: four to eight orders of
// one to three lines on two or three hot SKUs with little stock, random cancels, returns,
// repeated checkouts and restocks, buyers who approve or decline at the bank's page, a bank with
// random faults (declines, refusals, lost and unanswered calls, slow answers, late and repeated
// callbacks), timers moving at random moments, snapshot writes becoming durable at random
// moments and in random order, sometimes a crash of the node (its actors and every write not yet
// durable are lost; the bank stays up) and its restart, and the next message to handle chosen at
// random among every actor that has one.
//
// After every step that made something durable, every SKU's snapshot must keep its invariants
// (on_hand = available + reserved per warehouse and in total, nothing negative, never more sold
// than received, the ledger's own check). At the end, with a fair schedule and time moving,
// every saga must end (terminal, or DELIVERED); the stock must add up with the orders; no money
// may stay captured, neither in souk's payment records nor at the bank, for an order that did
// not become PAID or later (or was refunded).
//
// A failing seed is printed. `SOUK_SAGA_SEED=<n>` runs that seed alone; `SOUK_SAGA_TRACE=1`
// adds the log of its random actions, `SOUK_SAGA_TRACE=2` every message as well;
// `SOUK_SAGA_SEEDS=<n>` runs the first n seeds (at most 1,000) instead of all 1,000.

#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/directory/node_entities.hpp"
#include "actors/stock/stock_actor.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::order_answer;
using json = nlohmann::json;

const std::vector<std::string> warehouse_ids = {"wh-msk", "wh-spb", "wh-ekb"};
const std::vector<std::string> regions = {"msk", "spb", "ekb"};

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : fallback;
}

/// What the seeds of a case did, so that a schedule that stopped exercising something shows.
struct run_stats {
  std::map<std::string, int> ends; ///< final order status → orders
  int crashes = 0;
  int late_holds = 0; ///< unpaid holds left to the SKU's own expiry
  int max_events = 0;
};

struct planned_order {
  actors::checkout_cmd cmd;
  bool sent = false;
};

/// One seed: a node, a plan, and the random schedule that runs it.
class random_run {
public:
  random_run(std::uint64_t seed, const std::string& dir, run_stats& stats)
      : stats_(stats), seed_(seed), rng_(seed), opts_(choose_options()), node_(dir, opts_) {
    plan_orders();
    trace_messages();
  }

  /// Runs the seed; returns a description of the first broken rule, or "".
  std::string run() {
    auto steps = pick(100, 280);
    auto crash_at = coin(30) ? pick(10, steps) : -1;
    for (int i = 0; i < steps && failure_.empty(); ++i) {
      if (i == crash_at)
        crash_and_restart();
      random_action();
    }
    for (auto& o : orders_) // every planned checkout happens
      if (!o.sent)
        send_checkout(o);
    // Still under the random schedule until the mailboxes are empty once.
    for (int i = 0; i < 5'000 && failure_.empty() && !node_.sched().jobs.empty(); ++i)
      run_random_job();
    if (failure_.empty())
      drain(false);
    if (failure_.empty())
      finish();
    return failure_;
  }

  const std::string& header() const { return header_; }
  const std::string& log() const { return log_; }

private:
  // -- the plan --

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>{lo, hi}(rng_); }
  bool coin(int percent) { return pick(1, 100) <= percent; }
  template <class T>
  const T& any_of(const std::vector<T>& xs) {
    return xs[static_cast<std::size_t>(pick(0, static_cast<int>(xs.size()) - 1))];
  }

  test::node_options choose_options() {
    test::node_options o;
    int n_skus = pick(2, 3);
    for (int s = 0; s < n_skus; ++s) {
      std::map<std::string, std::int64_t> stock;
      for (auto& wh : warehouse_ids)
        if (coin(70))
          stock[wh] = pick(0, 5);
      if (std::all_of(stock.begin(), stock.end(), [](auto& x) { return x.second == 0; }))
        stock[any_of(warehouse_ids)] = pick(1, 3);
      skus_.push_back("h" + std::to_string(s));
      o.stock[skus_.back()] = stock;
    }
    o.saga.hold_ms = pick(4, 20) * 1'000;
    o.saga.stock_grace_ms = pick(1, 5) * 1'000;
    o.saga.step_timeout_ms = pick(1, 3) * 1'000;
    o.saga.max_attempts = pick(2, 4);
    o.saga.backoff_max_ms = 8'000;
    o.wms_step = std::chrono::milliseconds(pick(2, 8) * 250);
    o.idle_timeout = std::chrono::milliseconds(pick(3, 30) * 1'000);
    auto& b = o.bank;
    b.seed = seed_ + 1;
    b.decline_rate = coin(30) ? 0.3 : 0.0;
    b.refuse_rate = coin(15) ? 0.15 : 0.0;
    b.no_answer_rate = coin(25) ? 0.1 : 0.0;
    b.lost_reply_rate = coin(30) ? 0.2 : 0.0;
    // Slower than a step's deadline the bank never answers in time, and no saga could end.
    b.delay = std::chrono::milliseconds(
        coin(30) ? pick(1, static_cast<int>(o.saga.step_timeout_ms / 250) - 1) * 250 : 0);
    b.duplicate_callbacks = coin(40);
    b.callback_delay = std::chrono::milliseconds(coin(30) ? pick(1, 16) * 250 : 0);
    std::ostringstream out;
    out << "seed " << seed_ << ": hold " << o.saga.hold_ms << " ms, grace " << o.saga.stock_grace_ms
        << " ms, step timeout " << o.saga.step_timeout_ms << " ms, attempts " << o.saga.max_attempts
        << ", wms step " << o.wms_step.count() << " ms, idle " << o.idle_timeout.count()
        << " ms; bank decline " << b.decline_rate << " refuse " << b.refuse_rate << " no-answer "
        << b.no_answer_rate << " lost " << b.lost_reply_rate << " delay " << b.delay.count()
        << " ms, dup " << b.duplicate_callbacks << ", callback delay " << b.callback_delay.count()
        << " ms; stock";
    for (auto& [sku, by_wh] : o.stock)
      for (auto& [wh, n] : by_wh)
        out << " " << sku << "@" << wh << "=" << n;
    header_ = out.str();
    return o;
  }

  void plan_orders() {
    int n = pick(4, 8);
    for (int i = 0; i < n; ++i) {
      planned_order o;
      auto& c = o.cmd;
      c.order_id = "o" + std::to_string(i);
      c.user_id = "u" + std::to_string(i % 3);
      c.idempotency_key = "k-" + c.order_id;
      c.region = any_of(regions);
      c.city = "City";
      c.address = "Street 1";
      int lines = pick(1, 3);
      for (int l = 0; l < lines; ++l) {
        auto& sku = any_of(skus_);
        c.lines.push_back({sku, 1, "Item " + sku, pick(1, 2), 100 * pick(1, 9)});
      }
      orders_.push_back(std::move(o));
    }
  }

  void note(const std::string& what) {
    if (trace_ > 0)
      log_ +=
          "[" + std::to_string(node_.now_ms() - test::test_node::origin_ms) + "] " + what + "\n";
  }

  void trace_messages() {
    if (trace_ < 2)
      return;
    node_.set_filter([this](const test::message_view& v) {
      note(std::to_string(v.receiver) + (v.response ? " <- " : " <= ") +
           caf::to_string(v.element->content()).substr(0, 200));
      return test::fate::deliver;
    });
  }

  // -- the random schedule --

  void random_action() {
    int r = pick(1, 100);
    if (r <= 55) {
      if (!node_.sched().jobs.empty())
        run_random_job();
      else
        drain(coin(50));
    } else if (r <= 67) {
      drain(coin(50));
    } else if (r <= 76) {
      auto d = std::chrono::milliseconds(pick(1, 30) * 50);
      note("advance " + std::to_string(d.count()) + " ms");
      node_.sched().advance_time(d);
    } else if (r <= 82) {
      auto it = std::find_if(orders_.begin(), orders_.end(), [](auto& o) { return !o.sent; });
      if (it != orders_.end())
        send_checkout(*it);
    } else if (r <= 84) {
      auto& o = random_order();
      if (o.sent && coin(50)) {
        note("cancel " + o.cmd.order_id);
        node_.post("order", o.cmd.order_id, actors::cancel_atom::value);
      }
    } else if (r <= 93) {
      buyer_decides(random_order(), coin(75));
    } else if (r <= 96) {
      auto& sku = any_of(skus_);
      auto& wh = any_of(warehouse_ids);
      auto n = static_cast<std::int64_t>(pick(0, 5));
      note("set stock " + sku + "@" + wh + " = " + std::to_string(n));
      node_.post("sku", sku, actors::set_stock_atom::value, wh, n);
    } else if (r <= 97) {
      auto& o = random_order();
      if (o.sent) {
        note("return " + o.cmd.order_id);
        node_.post("order", o.cmd.order_id, actors::return_atom::value);
      }
    } else {
      // The client repeats a checkout with the same key: no second saga.
      auto& o = random_order();
      if (o.sent) {
        note("checkout again " + o.cmd.order_id);
        node_.post("order", o.cmd.order_id, actors::checkout_atom::value, o.cmd);
      }
    }
  }

  planned_order& random_order() {
    return orders_[static_cast<std::size_t>(pick(0, static_cast<int>(orders_.size()) - 1))];
  }

  void send_checkout(planned_order& o) {
    note("checkout " + o.cmd.order_id);
    o.sent = true;
    node_.post("order", o.cmd.order_id, actors::checkout_atom::value, o.cmd);
  }

  std::optional<std::string> durable_state(const std::string& kind, const std::string& key) {
    auto snap = node_.store().load_snapshot(kind, key);
    if (!snap.ok() || !*snap)
      return std::nullopt;
    return (*snap)->state;
  }

  /// The buyer at the bank's page, knowing the payment id from the order's last durable state.
  void buyer_decides(planned_order& o, bool approve) {
    if (!o.sent)
      return;
    auto state = durable_state("order", o.cmd.order_id);
    if (!state)
      return;
    // {"payment":{"captured":..,"id":"pay_3",...}: keys are written in order.
    auto at = state->find("\"payment\":{");
    at = at == std::string::npos ? at : state->find("\"id\":\"", at);
    if (at == std::string::npos)
      return;
    at += 6;
    auto id = state->substr(at, state->find('"', at) - at);
    if (id.empty())
      return;
    note(std::string{approve ? "approve " : "decline "} + o.cmd.order_id + " " + id);
    node_.post_to_bank(actors::bank_decide_atom::value, id, approve);
  }

  void run_random_job() {
    auto& jobs = node_.sched().jobs;
    auto i = static_cast<std::size_t>(pick(0, static_cast<int>(jobs.size()) - 1));
    std::swap(jobs[0], jobs[i]);
    node_.step();
  }

  /// Makes held writes durable (all of them, or a random part), then checks the SKUs.
  void drain(bool partly) {
    std::size_t n = 0;
    if (partly)
      n = node_.sink().drain_if([this](const persistence::snapshot&) { return coin(50); });
    else
      n = node_.sink().drain();
    if (n == 0)
      return;
    note("durable: " + std::to_string(n) + " write(s)");
    check_stock("after a write");
  }

  /// The node dies (its actors, their timers, every write not yet durable and every message
  /// between them are lost; the bank stays up) and starts again a little later, waking its
  /// unfinished sagas. Clients whose checkout never became durable send it again.
  void crash_and_restart() {
    auto downtime = std::chrono::milliseconds(pick(1, 60) * 500);
    note("crash, " + std::to_string(node_.sink().held()) + " write(s) lost; back after " +
         std::to_string(downtime.count()) + " ms");
    node_.restart_in_place(downtime);
    ++stats_.crashes;
    trace_messages();
    check_stock("after a restart");
    actors::resume_unfinished_sagas(node_.entities());
    for (auto& o : orders_)
      if (o.sent && !durable_state("order", o.cmd.order_id))
        o.sent = false;
  }

  // -- the rules --

  void fail(const std::string& what) {
    if (failure_.empty())
      failure_ = what;
  }

  /// The SKU's last durable snapshot, head and parts (its reservations).
  std::optional<persistence::snapshot> durable_sku(const std::string& sku) {
    auto snap = node_.store().load_snapshot("sku", sku);
    if (!snap.ok() || !*snap)
      return std::nullopt;
    return **snap;
  }

  actors::stock_ledger ledger_of(const std::string& sku) {
    auto snap = durable_sku(sku);
    return snap ? actors::decode_stock_snapshot(*snap) : actors::stock_ledger{};
  }

  void check_stock(const std::string& when) {
    for (auto& sku : skus_) {
      auto snap = durable_sku(sku);
      if (!snap || checked_[sku] == snap->version)
        continue; // unchanged since the last check
      checked_[sku] = snap->version;
      actors::stock_ledger l;
      auto name = when + ": SKU " + sku + ": ";
      try {
        l = actors::decode_stock_snapshot(*snap);
      } catch (const std::exception& e) {
        fail(name + "its snapshot does not load: " + e.what());
        return;
      }
      if (auto broken = l.check(); !broken.empty())
        fail(name + broken);
      if (l.on_hand() != l.available() + l.reserved())
        fail(name + "on_hand " + std::to_string(l.on_hand()) + " != available " +
             std::to_string(l.available()) + " + reserved " + std::to_string(l.reserved()));
      for (auto& [wh, s] : l.warehouses())
        if (s.on_hand < 0 || s.reserved < 0 || s.available() < 0)
          fail(name + wh + " goes negative: on_hand " + std::to_string(s.on_hand) + ", reserved " +
               std::to_string(s.reserved));
      if (l.sold() < 0 || l.sold() > l.received())
        fail(name + "sold " + std::to_string(l.sold()) + " of " + std::to_string(l.received()) +
             " received");
      // Every reservation is a line of one of this run's orders.
      for (auto& [id, r] : l.reservations()) {
        auto it = std::find_if(orders_.begin(), orders_.end(),
                               [&](auto& o) { return o.cmd.order_id == r.order_id; });
        if (it == orders_.end() || id.rfind(r.order_id + "/", 0) != 0)
          fail(name + "reservation " + id + " of unknown order " + r.order_id);
      }
    }
  }

  order_answer view(const std::string& id) {
    return node_.ask<order_answer>("order", id, actors::order_view_atom::value);
  }

  bool saga_done(const std::string& id) {
    auto state = durable_state("order", id);
    return state && state->find("\"phase\":\"done\"") != std::string::npos;
  }

  /// What the bank itself says about each order's payment (a create with a known order answers
  /// the payment as it stands). The bank may lose or delay answers: ask until it answers.
  std::map<std::string, actors::payment_answer> bank_truth(std::vector<std::string> ids) {
    std::map<std::string, actors::payment_answer> out;
    for (int attempt = 0; attempt < 40 && !ids.empty(); ++attempt) {
      std::vector<std::pair<std::unique_ptr<caf::scoped_actor>, std::string>> asks;
      for (auto& id : ids) {
        auto self = std::make_unique<caf::scoped_actor>(node_.system());
        (*self)->send(node_.entities().bank, actors::bank_create_atom::value,
                      actors::payment_cmd{id, id + ":pay", 0, "RUB", ""});
        asks.emplace_back(std::move(self), id);
      }
      node_.run_for(4s); // the bank answers, late with `delay`
      ids.clear();
      for (auto& [self, id] : asks) {
        bool got = false;
        while (!(*self)->mailbox().empty())
          (*self)->receive([&](actors::payment_answer& a) { out[id] = a, got = true; },
                           [](caf::error&) {});
        if (!got)
          ids.push_back(id);
      }
    }
    return out;
  }

  /// A fair schedule from now on; time moves until every saga has ended; then the rules.
  void finish() {
    for (int round = 0; round < 450; ++round) {
      node_.run_for(2s);
      check_stock("while finishing");
      if (!failure_.empty())
        return;
      bool all_done = true;
      for (auto& o : orders_) {
        auto& id = o.cmd.order_id;
        if (!saga_done(id)) {
          all_done = false;
          // A buyer who had not decided yet sometimes pays (or declines) late.
          if (round % 2 == 1 && coin(35))
            buyer_decides(o, coin(80));
        } else if (returns_considered_.insert(id).second && coin(20) &&
                   durable_state("order", id)->find("\"status\":\"DELIVERED\"") !=
                       std::string::npos) {
          note("return " + id);
          node_.post("order", id, actors::return_atom::value);
          all_done = false;
        }
      }
      if (all_done)
        break;
    }
    std::map<std::string, order_answer> last;
    std::vector<std::string> ids;
    for (auto& o : orders_) {
      last[o.cmd.order_id] = view(o.cmd.order_id);
      ids.push_back(o.cmd.order_id);
    }
    auto truth = bank_truth(ids);
    std::map<std::string, std::int64_t> sold_by_orders;
    std::set<std::string> ended_unsold; // ended without a delivery: no hold of theirs may stay
    for (auto& o : orders_) {
      auto& a = last[o.cmd.order_id];
      auto id = o.cmd.order_id;
      if (a.code == "unknown_entity") {
        fail("order " + id + " was checked out but does not exist");
        continue;
      }
      auto v = json::parse(a.body);
      if (v["saga"]["step"] != "done") {
        fail("order " + id + " never ended: " + a.status + " in step " +
             v["saga"]["step"].get<std::string>() + "\n" + v["timeline"].dump(1));
        continue;
      }
      bool delivered = a.status == "DELIVERED";
      ++stats_.ends[a.status];
      stats_.max_events = std::max(stats_.max_events, static_cast<int>(v["timeline"].size()));
      // The saga's own record: an order that ended without a delivery knows of no units it
      // still holds (a line it was told is reserved has been released since).
      if (!delivered && a.status != "RETURNED")
        if (auto state = durable_state("order", id)) {
          auto saved = json::parse(*state);
          for (auto& l : saved["lines"]) {
            auto& f = l["flags"]; // reserved, short, confirmed, released, shipped, restocked
            if (f[0].get<bool>() && !f[3].get<bool>() && !f[4].get<bool>())
              fail("order " + id + " ended " + a.status + " holding line " +
                   l["reservation_id"].get<std::string>() + "\n" + v["timeline"].dump(1));
          }
        }
      static const std::set<std::string> ends = {"DELIVERED", "REJECTED",  "PAYMENT_FAILED",
                                                 "EXPIRED",   "CANCELLED", "RETURNED"};
      if (ends.count(a.status) == 0)
        fail("order " + id + " ended in " + a.status);
      if (delivered)
        for (auto& l : o.cmd.lines)
          sold_by_orders[l.sku] += l.qty;
      else
        ended_unsold.insert(id);
      // The payment: souk's record, and the bank's own.
      auto p = node_.ask<actors::payment_answer>("payment", id, actors::payment_view_atom::value);
      if (p.refunded > p.captured)
        fail("payment of " + id + " refunded " + std::to_string(p.refunded) + " of " +
             std::to_string(p.captured) + " captured");
      if (p.captured > p.refunded && !delivered)
        fail("payment of " + id + " keeps " + std::to_string(p.captured - p.refunded) +
             " captured but the order ended " + a.status);
      if (delivered && (p.captured != v["total"]["amount"].get<std::int64_t>() || p.refunded != 0))
        fail("order " + id + " was delivered but its payment captured " +
             std::to_string(p.captured) + ", refunded " + std::to_string(p.refunded));
      auto& vp = v["payment"];
      if (!vp.is_null() && (vp["captured"]["amount"].get<std::int64_t>() != p.captured ||
                            vp["refunded"]["amount"].get<std::int64_t>() != p.refunded))
        fail("order " + id + " shows payment " + vp.dump() + " but the payment actor has " +
             std::to_string(p.captured) + "/" + std::to_string(p.refunded));
      // Asked for every order: one souk never heard of must not hold money either.
      auto t = truth.find(id);
      if (t == truth.end())
        fail("the bank never answered about " + id);
      else if (t->second.captured > t->second.refunded && !delivered)
        fail("the bank holds " + std::to_string(t->second.captured - t->second.refunded) +
             " captured for " + id + " which ended " + a.status);
      else if (!p.payment_id.empty() &&
               (t->second.captured != p.captured || t->second.refunded != p.refunded))
        fail("the bank has " + std::to_string(t->second.captured) + "/" +
             std::to_string(t->second.refunded) + " for " + id + " but souk has " +
             std::to_string(p.captured) + "/" + std::to_string(p.refunded));
    }
    if (!failure_.empty())
      return;
    // Every saga ended. A paid (confirmed) unit is never left behind; an unpaid hold of an order
    // that ended may be, when the answer to a retried reserve never reached the saga, but only
    // until the SKU's own expiry of it (hold + grace after the checkout).
    std::int64_t last_expiry = 0;
    for (auto& sku : skus_) {
      auto ledger = ledger_of(sku);
      for (auto& [rid, r] : ledger.reservations()) {
        bool live = r.state == actors::hold_state::held || r.state == actors::hold_state::confirmed;
        if (!live)
          continue;
        if (r.state == actors::hold_state::confirmed || ended_unsold.count(r.order_id) == 0) {
          auto& a = last[r.order_id];
          fail("SKU " + sku + " keeps reservation " + rid + " " + actors::to_string(r.state) +
               " of order " + r.order_id + " which ended " + a.status + "\n" +
               json::parse(a.body)["timeline"].dump(1));
        }
        last_expiry = std::max(last_expiry, r.expires_at_ms);
        ++stats_.late_holds;
      }
    }
    if (last_expiry >= node_.now_ms())
      node_.run_for(std::chrono::milliseconds(last_expiry - node_.now_ms() + 1'000));
    for (auto& sku : skus_) {
      auto l = ledger_of(sku);
      if (l.reserved() != 0)
        fail("SKU " + sku + " still reserves " + std::to_string(l.reserved()) +
             " after every saga ended and every hold's time passed");
      if (l.sold() != sold_by_orders[sku])
        fail("SKU " + sku + " sold " + std::to_string(l.sold()) + " but delivered orders hold " +
             std::to_string(sold_by_orders[sku]));
    }
    check_stock("at the end");
  }

  run_stats& stats_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<std::string> skus_;
  std::string header_;
  test::node_options opts_;
  test::test_node node_;
  std::vector<planned_order> orders_;
  std::map<std::string, std::int64_t> checked_; // SKU → the snapshot version checked last
  std::set<std::string> returns_considered_;
  std::string failure_;
  std::int64_t trace_ = env_int("SOUK_SAGA_TRACE", 0);
  std::string log_;
};

/// 1,000 seeds in eight cases of 125, so that ctest runs them side by side.
class SagaRandomTest : public ::testing::TestWithParam<int> {};

constexpr int seeds_per_case = 125;
constexpr int cases = 8;

TEST_P(SagaRandomTest, ConcurrentCheckoutsUnderARandomScheduleKeepTheInvariants) {
  auto total = std::min<std::int64_t>(env_int("SOUK_SAGA_SEEDS", seeds_per_case * cases),
                                      seeds_per_case * cases);
  auto only = env_int("SOUK_SAGA_SEED", -1);
  std::int64_t first = GetParam() * seeds_per_case;
  std::int64_t last = std::min<std::int64_t>(first + seeds_per_case, total);
  if (only >= 0) {
    if (GetParam() != 0)
      GTEST_SKIP() << "SOUK_SAGA_SEED runs in the first case only";
    first = only;
    last = only + 1;
  }
  if (first >= last)
    GTEST_SKIP() << "no seeds in this case";
  int failures = 0;
  int ran = 0;
  run_stats stats;
  for (auto seed = first; seed < last && failures < 3; ++seed, ++ran) {
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (rerun: SOUK_SAGA_SEED=" + std::to_string(seed) + ")");
    test::temp_dir dir;
    random_run r{static_cast<std::uint64_t>(seed), dir.path(), stats};
    auto broken = r.run();
    if (!broken.empty()) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " breaks a rule (rerun alone with SOUK_SAGA_SEED=" << seed
                    << ", SOUK_SAGA_TRACE=1 for its log):\n  " << r.header() << "\n  " << broken
                    << "\n"
                    << r.log();
    }
  }
  RecordProperty("seeds", ran);
  std::ostringstream out;
  out << ran << " seed(s): " << stats.crashes << " crash(es), " << stats.late_holds
      << " hold(s) left to the SKU's expiry, up to " << stats.max_events
      << " timeline entries; orders ended";
  for (auto& [status, n] : stats.ends)
    out << " " << status << "=" << n;
  std::cout << out.str() << "\n";
  if (ran >= 100 && failures == 0) {
    // The mix still reaches every way a saga can end, and crashes happen.
    for (auto status :
         {"DELIVERED", "REJECTED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED", "RETURNED"})
      EXPECT_GE(stats.ends[status], 3) << status << "; " << out.str();
    EXPECT_GE(stats.crashes, 10) << out.str();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, SagaRandomTest, ::testing::Range(0, cases));

} // namespace
} // namespace souk
