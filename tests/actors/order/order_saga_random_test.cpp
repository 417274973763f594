// The saga against participants that misbehave at random (FoundationDB's Cycle workload in
// small): stock, bank and warehouses keep their own state and answer in any order, drop, repeat
// or delay answers; timers fire at random; the buyer pays, declines, cancels and returns at
// random. Afterwards every participant behaves and the timers run until the saga ends; then the
// invariants of DESIGN.md must hold on both sides.
#include "actors/order/order_state_machine.hpp"
#include "tests/actors/order/saga_participants.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors::test {
namespace {

const std::vector<std::string> warehouses = {"w-north", "w-south", "w-east"};

class random_world {
public:
  explicit random_world(unsigned seed)
      : rng_(seed), seed_(seed), settings_(choose_settings()), m_(build()) {}

  void run(int events) {
    take(m_.start(now_));
    for (int i = 0; i < events; ++i)
      step();
  }

  /// Everyone behaves from now on: every message arrives, once, in order; warehouses work; the
  /// timers fire. Returns false when the saga stalled.
  bool finish() {
    if (coin(50) && bank_.exists && bank_.status == "pending" && !m_.payment().id.empty())
      buyer_pays(true);
    bool announced = false;
    for (int i = 0; i < 20'000; ++i) {
      if (!commands_.empty()) {
        auto c = commands_.front();
        commands_.erase(commands_.begin());
        handle(c);
        continue;
      }
      if (!replies_.empty()) {
        auto r = replies_.front();
        replies_.erase(replies_.begin());
        apply(r);
        continue;
      }
      if (progress_some_list()) {
        announced = false;
        continue;
      }
      if (saga_finished())
        return true;
      if (!announced) { // a warehouse's notice may have been lost: it tells its stage again
        announced = true;
        for (auto& [wh, l] : lists_)
          if (l.stage != "cancelled")
            progress_reply(wh, l.stage);
        continue;
      }
      auto t = m_.next_timer();
      if (!t)
        return false;
      now_ = std::max(now_, *t);
      take(m_.on_timer(now_));
      announced = false;
    }
    return false;
  }

  /// Checks the invariants; records what is broken in `problems`.
  void check() {
    auto st = m_.status();
    bool delivered = st == order_status::delivered;
    bool returned = st == order_status::returned;
    bool paid_or_later = st >= order_status::paid && st <= order_status::delivered;
    expect(m_.terminal() || (delivered && m_.phase() == saga_phase::done),
           std::string{"the saga ended in "} + to_string(st) + "/" + to_string(m_.phase()));

    expect(!cancel_waiting_, "a cancel the saga accepted was never decided");
    if (cancel_accepted_)
      expect(!delivered && !returned, "a cancel was accepted, yet the order was delivered");

    // The saga's own books: whatever it reserved it released, or it shipped it.
    for (std::size_t i = 0; i < m_.lines().size(); ++i) {
      const auto& l = m_.lines()[i];
      auto name = "line " + std::to_string(i) + ": ";
      if (l.reserved)
        expect(l.released || (l.confirmed && l.shipped),
               name + "reserved but neither released nor shipped");
      if (delivered || returned)
        expect(l.confirmed && l.shipped, name + "delivered without being shipped");
      if (returned)
        expect(l.restocked && l.returned == l.qty, name + "returned without being restocked");
      expect(0 <= l.returned && l.returned <= l.to_return && l.to_return <= l.qty &&
                 (l.returned == 0 || delivered || returned),
             name + std::to_string(l.returned) + " of " + std::to_string(l.qty) +
                 " units back in a " + to_string(st) + " order");
      if (!delivered && !returned)
        expect(!l.shipped, name + "shipped in a failed order");
    }

    // The SKUs' books: no hold left behind, nothing sold for an order that did not deliver.
    for (auto& [key, r] : stock_) {
      expect(r.state != hold::held, key + ": hold left behind");
      expect(r.state != hold::confirmed, key + ": paid reservation never shipped nor released");
      if (r.state == hold::shipped)
        expect(delivered, key + ": shipped for a " + to_string(st) + " order");
      if (r.state == hold::returned) // a delivered order may have some lines returned
        expect(returned || delivered, key + ": returned for a " + to_string(st) + " order");
      if (delivered || returned)
        expect(r.state == hold::returned || (delivered && r.state == hold::shipped) ||
                   r.state == hold::released || r.state == hold::expired,
               key + ": not shipped in a delivered order");
    }
    if (delivered || returned)
      for (std::size_t i = 0; i < m_.lines().size(); ++i) {
        auto it = stock_.find(m_.lines()[i].reservation_id);
        const auto& l = m_.lines()[i];
        expect(it != stock_.end() &&
                   it->second.state == (l.returned == l.qty ? hold::returned : hold::shipped) &&
                   it->second.back == l.returned,
               "line " + std::to_string(i) + " is not " + (delivered ? "shipped" : "returned") +
                   " at its SKU with " + std::to_string(l.returned) + " units back");
      }

    // Subscribers heard of every status once, the last one last.
    std::string last = "order.";
    for (const char* c = to_string(st); *c; ++c)
      last += static_cast<char>(*c == '_' ? '_' : *c - 'A' + 'a');
    expect(!events_.empty() && events_.back() == last, "the last event is not " + last);
    auto sorted = events_;
    std::sort(sorted.begin(), sorted.end());
    expect(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
           "an order event was published twice");

    // Units: all back on hand, except what a delivered order took.
    for (std::size_t i = 0; i < m_.lines().size(); ++i) {
      const auto& l = m_.lines()[i];
      auto expected = received_[l.sku] - (delivered ? l.qty - l.returned : 0);
      expect(available_[l.sku] == expected, l.sku + ": " + std::to_string(available_[l.sku]) +
                                                " available, expected " + std::to_string(expected));
    }

    // Warehouses: nothing left the building for an order that did not deliver.
    for (auto& [wh, l] : lists_)
      if (l.stage == "shipped" || l.stage == "delivered")
        expect(delivered || returned, wh + " shipped for a " + to_string(st) + " order");
    if (delivered)
      for (auto& [wh, p] : m_.picks()) {
        auto it = lists_.find(wh);
        expect(it != lists_.end() && it->second.stage == "delivered",
               wh + ": the order is delivered but its pick list is not");
      }

    // Money: a captured payment belongs to an order that is PAID or later, or it was refunded.
    bool bank_holds_money = bank_.status == "captured" || (bank_.status == "partially_refunded" &&
                                                           bank_.refunded < bank_.captured);
    if (bank_holds_money)
      expect(paid_or_later,
             std::string{"the bank kept the money of a "} + to_string(st) + " order");
    if (m_.payment().status == "captured")
      expect(paid_or_later, std::string{"saga sees a captured payment in "} + to_string(st));
    if (delivered)
      expect(bank_.status == (m_.return_refund_due() == 0 ? "captured" : "partially_refunded") &&
                 bank_.captured == m_.total() && bank_.refunded == m_.return_refund_due(),
             "delivered without being paid in full (less what returns refunded)");
    if (returned)
      expect(bank_.status == "refunded" && bank_.refunded == bank_.captured,
             "returned without a full refund");
  }

  const order_state_machine& saga() const { return m_; }

  /// The saga's timeline, one entry a line (for the failure message).
  std::string timeline_text() const {
    std::string out;
    for (const auto& t : m_.timeline())
      out += "  +" + std::to_string(t.at_ms - t0) + " " + t.status + "/" + t.phase + ": " + t.note +
             "\n";
    return out;
  }
  std::vector<std::string> problems;

private:
  enum class hold { held, confirmed, shipped, returned, released, expired };
  struct reservation {
    hold state = hold::held;
    std::vector<allocation> parts;
    std::int64_t qty = 0;
    std::int64_t expires_at = 0;
    std::int64_t back = 0; ///< units returned so far
  };
  struct bank_payment {
    bool exists = false;
    bool refused = false;
    bool key_cancelled = false; ///< a cancel by key came before the create
    std::string id;
    std::string status;
    std::int64_t amount = 0;
    std::int64_t captured = 0;
    std::int64_t refunded = 0;
    std::set<std::string> refund_keys; ///< a refund is made once per key
  };
  struct pick_list {
    int generation = 0;
    std::string stage;
  };
  struct reply {
    std::string what;
    std::function<std::vector<cmd>(order_state_machine&, std::int64_t)> apply;
  };

  saga_settings choose_settings() {
    saga_settings s;
    s.hold_ms = 20'000 + static_cast<std::int64_t>(pick(600'000));
    s.stock_grace_ms = coin(50) ? 60'000 : 500;
    s.max_attempts = 2 + static_cast<int>(pick(4));
    return s;
  }

  order_state_machine build() {
    auto n = 1 + pick(3);
    std::vector<line_spec> lines;
    for (std::size_t i = 0; i < n; ++i) {
      auto sku = "sku-" + std::to_string(i);
      auto qty = 1 + static_cast<std::int64_t>(pick(3));
      lines.push_back({sku, qty, 100 * (1 + static_cast<std::int64_t>(pick(50)))});
      available_[sku] = coin(93) ? qty + static_cast<std::int64_t>(pick(3))
                                 : static_cast<std::int64_t>(pick(static_cast<unsigned>(qty)));
    }
    received_ = available_;
    return make_order(lines, settings_, "o-" + std::to_string(seed_));
  }

  // -- randomness --
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
  bool coin(int percent) { return static_cast<int>(pick(100)) < percent; }

  void expect(bool ok, const std::string& what) {
    if (!ok)
      problems.push_back(what);
  }

  // -- the saga's side --
  void take(const std::vector<cmd>& out) {
    if (m_.version() < last_version_)
      problems.push_back("the version went back");
    last_version_ = m_.version();
    // The order actor answers a waiting cancel as soon as its outcome is decided.
    if (cancel_waiting_ && m_.cancel_outcome()) {
      cancel_waiting_ = false;
      cancel_accepted_ = cancel_accepted_ || *m_.cancel_outcome();
    }
    for (const auto& c : out) {
      if (c.what == kind::publish)
        events_.push_back(c.key);
      else
        commands_.push_back(c);
    }
  }

  void apply(const reply& r) { take(r.apply(m_, now_)); }

  void push(std::string what,
            std::function<std::vector<cmd>(order_state_machine&, std::int64_t)> f) {
    replies_.push_back({std::move(what), std::move(f)});
  }

  // -- one random event --
  void step() {
    now_ += static_cast<std::int64_t>(pick(200));
    auto r = pick(100);
    if (r < 30) {
      if (commands_.empty())
        return;
      auto i = pick(commands_.size());
      auto c = commands_[i];
      commands_.erase(commands_.begin() + static_cast<std::ptrdiff_t>(i));
      if (coin(5))
        return; // lost on the way
      handle(c);
      if (coin(5))
        handle(c); // delivered twice
    } else if (r < 60) {
      if (replies_.empty())
        return;
      auto i = pick(replies_.size());
      auto rep = replies_[i];
      if (!coin(10)) // else: it will come again
        replies_.erase(replies_.begin() + static_cast<std::ptrdiff_t>(i));
      if (coin(5))
        return; // lost
      apply(rep);
    } else if (r < 70) {
      auto t = m_.next_timer();
      now_ = t && coin(85) ? std::max(now_, *t) + static_cast<std::int64_t>(pick(1000))
                           : now_ + static_cast<std::int64_t>(pick(60'000));
      take(m_.on_timer(now_));
    } else if (r < 77) {
      if (bank_.exists && bank_.status == "pending" && !m_.payment().id.empty())
        buyer_pays(coin(80));
    } else if (r < 87) {
      progress_some_list();
    } else if (r < 89) {
      if (!coin(15))
        return;
      std::vector<cmd> out;
      if (m_.request_cancel(now_, out))
        cancel_waiting_ = true;
      take(out);
    } else if (r < 90) {
      take(m_.retry(now_));
    } else if (r < 91) {
      if (coin(30))
        take(m_.compensate(now_));
    } else if (r < 93) {
      if (!coin(25))
        return;
      std::vector<cmd> out;
      std::map<std::string, std::int64_t> some; // a partial return, or (none picked) all
      for (const auto& l : m_.lines())
        if (l.qty > l.to_return && coin(50))
          some[l.sku] +=
              1 + static_cast<std::int64_t>(pick(static_cast<std::size_t>(l.qty - l.to_return)));
      if (some.empty())
        m_.request_return(now_, out);
      else
        m_.request_return(now_, some, "", out);
      take(out);
    } else if (r < 95) {
      stale_callback();
    } else if (r < 97) {
      auto j = m_.to_json();
      auto copy = order_state_machine::from_json(nlohmann::json::parse(j.dump()), settings_);
      if (copy.to_json() != j)
        problems.push_back("snapshot round trip changed the state");
      m_ = std::move(copy);
    } else {
      now_ += static_cast<std::int64_t>(pick(5000));
    }
  }

  void buyer_pays(bool approve) {
    if (approve) {
      bank_.status = "captured";
      bank_.captured = bank_.amount;
    } else {
      bank_.status = "declined";
    }
    auto status = bank_.status;
    auto captured = bank_.captured;
    push("callback " + status, [status, captured](order_state_machine& m, std::int64_t now) {
      return m.on_payment_status(status, captured, 0, now);
    });
  }

  void stale_callback() {
    if (!bank_.exists)
      return;
    if (coin(50)) {
      push("stale pending", [](order_state_machine& m, std::int64_t now) {
        return m.on_payment_status("pending", 0, 0, now);
      });
      return;
    }
    auto b = bank_;
    push("repeat " + b.status, [b](order_state_machine& m, std::int64_t now) {
      return m.on_payment_status(b.status, b.captured, b.refunded, now);
    });
  }

  void progress_reply(const std::string& wh, const std::string& stage) {
    push("progress " + wh + " " + stage, [wh, stage](order_state_machine& m, std::int64_t now) {
      return m.on_pick_progress(wh, stage, now);
    });
  }

  /// A warehouse moves one pick list one stage on. Returns false when none can move.
  bool progress_some_list() {
    static const std::vector<std::string> stages = {"requested", "picking", "packed", "shipped",
                                                    "delivered"};
    std::vector<std::string> movable;
    for (auto& [wh, l] : lists_)
      if (l.stage != "cancelled" && l.stage != "delivered")
        movable.push_back(wh);
    if (movable.empty())
      return false;
    auto wh = movable[pick(movable.size())];
    auto& l = lists_[wh];
    auto at = std::find(stages.begin(), stages.end(), l.stage);
    l.stage = *(at + 1);
    progress_reply(wh, l.stage);
    return true;
  }

  bool saga_finished() const {
    return (m_.terminal() ||
            (m_.status() == order_status::delivered && m_.phase() == saga_phase::done)) &&
           commands_.empty() && replies_.empty();
  }

  // -- the participants --
  void expire_holds() {
    for (auto& [key, r] : stock_)
      if (r.state == hold::held && r.expires_at <= now_) {
        r.state = hold::expired;
        available_[sku_of(key)] += r.qty;
      }
  }

  std::string sku_of(const std::string& key) const {
    auto line = static_cast<std::size_t>(std::stoul(key.substr(key.find('/') + 1)));
    return m_.lines().at(line).sku;
  }

  std::vector<allocation> split(std::int64_t qty) {
    auto first = warehouses[pick(warehouses.size())];
    if (qty < 2 || coin(50))
      return {{first, qty}};
    auto second = warehouses[pick(warehouses.size())];
    if (second == first)
      return {{first, qty}};
    auto a = 1 + static_cast<std::int64_t>(pick(static_cast<std::size_t>(qty - 1)));
    return {{first, a}, {second, qty - a}};
  }

  static int generation_of(const std::string& key) {
    return std::stoi(key.substr(key.find('#') + 1));
  }

  void handle(const cmd& c) {
    auto line = c.line;
    switch (c.what) {
    case kind::reserve: {
      expire_holds();
      auto it = stock_.find(c.key);
      if (it != stock_.end()) {
        if (it->second.state == hold::released || it->second.state == hold::expired) {
          push("already released", [line](order_state_machine& m, std::int64_t now) {
            return m.on_already_released(line, now);
          });
        } else {
          auto parts = it->second.parts;
          push("reserved", [line, parts](order_state_machine& m, std::int64_t now) {
            return m.on_reserved(line, parts, now);
          });
        }
        return;
      }
      auto& avail = available_[c.target];
      if (avail < c.qty) {
        auto a = avail;
        push("insufficient", [line, a](order_state_machine& m, std::int64_t now) {
          return m.on_insufficient(line, a, now);
        });
        return;
      }
      avail -= c.qty;
      auto parts = split(c.qty);
      stock_[c.key] = {hold::held, parts, c.qty, c.at_ms};
      push("reserved", [line, parts](order_state_machine& m, std::int64_t now) {
        return m.on_reserved(line, parts, now);
      });
      return;
    }
    case kind::release: {
      expire_holds();
      auto it = stock_.find(c.key);
      if (it == stock_.end()) {
        stock_[c.key] = {hold::released, {}, 0, 0}; // a tombstone: a later reserve is refused
      } else if (it->second.state == hold::held || it->second.state == hold::confirmed) {
        it->second.state = hold::released;
        available_[c.target] += it->second.qty;
      } else if (it->second.state == hold::shipped || it->second.state == hold::returned) {
        problems.push_back(c.key + ": release after shipping");
        return;
      }
      push("released",
           [line](order_state_machine& m, std::int64_t now) { return m.on_released(line, now); });
      return;
    }
    case kind::confirm: {
      expire_holds();
      auto it = stock_.find(c.key);
      bool ok = false;
      if (it != stock_.end()) {
        if (it->second.state == hold::held)
          it->second.state = hold::confirmed;
        ok = it->second.state == hold::confirmed || it->second.state == hold::shipped;
      }
      push(ok ? "confirmed" : "confirm failed",
           [line, ok](order_state_machine& m, std::int64_t now) {
             return m.on_confirmed(line, ok, now);
           });
      return;
    }
    case kind::ship: {
      auto it = stock_.find(c.key);
      if (it != stock_.end() && it->second.state == hold::returned)
        return; // a stale ship after the return: wrong_state at the SKU, nothing changes
      if (it == stock_.end() ||
          (it->second.state != hold::confirmed && it->second.state != hold::shipped)) {
        problems.push_back(c.key + ": ship of a reservation that is not paid");
        return;
      }
      it->second.state = hold::shipped;
      push("shipped",
           [line](order_state_machine& m, std::int64_t now) { return m.on_shipped(line, now); });
      return;
    }
    case kind::return_stock: {
      auto it = stock_.find(c.key);
      if (it == stock_.end() ||
          (it->second.state != hold::shipped && it->second.state != hold::returned)) {
        problems.push_back(c.key + ": return of a reservation that was not shipped");
        return;
      }
      auto& r = it->second;
      if (c.qty <= 0 || c.qty > r.qty) {
        problems.push_back(c.key + ": return of " + std::to_string(c.qty) + " units");
        return;
      }
      if (r.state == hold::shipped && c.qty > r.back) {
        available_[c.target] += c.qty - r.back; // back on hand
        r.back = c.qty;
        if (r.back == r.qty)
          r.state = hold::returned;
      }
      auto units = c.qty;
      push("restocked", [line, units](order_state_machine& m, std::int64_t now) {
        return m.on_restocked(line, units, now);
      });
      return;
    }
    case kind::create_payment: {
      if (!bank_.exists && !bank_.refused) {
        if (!bank_.key_cancelled && coin(5)) {
          bank_.refused = true;
        } else {
          bank_.exists = true;
          bank_.id = "pay-" + std::to_string(seed_);
          bank_.amount = c.qty;
          bank_.status = bank_.key_cancelled ? "cancelled" : "pending";
        }
      }
      if (bank_.refused) {
        push("refused", [](order_state_machine& m, std::int64_t now) {
          return m.on_payment_refused("declined by issuer", now);
        });
        return;
      }
      auto id = bank_.id;
      push("created", [id](order_state_machine& m, std::int64_t now) {
        return m.on_payment_created(id, "https://bank.example/3ds/" + id, now);
      });
      return;
    }
    case kind::cancel_payment:
    case kind::refund_payment: {
      if (!bank_.exists) {
        bank_.key_cancelled = !bank_.refused;
        auto status = bank_.refused ? "declined" : "cancelled";
        push(status, [status](order_state_machine& m, std::int64_t now) {
          return m.on_payment_status(status, 0, 0, now);
        });
        return;
      }
      if (c.what == kind::cancel_payment && bank_.status == "pending")
        bank_.status = "cancelled";
      if (c.what == kind::refund_payment &&
          (bank_.status == "captured" || bank_.status == "partially_refunded") &&
          bank_.refund_keys.insert(c.key).second) {
        auto whole = c.key.size() > 7 && c.key.compare(c.key.size() - 7, 7, ":refund") == 0;
        if (whole && c.qty != bank_.captured - bank_.refunded)
          problems.push_back("refund of " + std::to_string(c.qty) + " of " +
                             std::to_string(bank_.captured));
        bank_.refunded += std::min(c.qty, bank_.captured - bank_.refunded);
        bank_.status = bank_.refunded >= bank_.captured ? "refunded" : "partially_refunded";
      }
      auto b = bank_;
      push("payment " + b.status, [b](order_state_machine& m, std::int64_t now) {
        return m.on_payment_status(b.status, b.captured, b.refunded, now);
      });
      return;
    }
    case kind::start_pick: {
      auto gen = generation_of(c.key);
      auto wh = c.target;
      auto it = lists_.find(wh);
      if (it == lists_.end() || it->second.generation < gen) {
        if (it != lists_.end() && it->second.stage != "cancelled")
          problems.push_back(wh + ": a new pick list over one that was not taken back");
        lists_[wh] = {gen, "requested"};
      } else if (it->second.generation > gen || it->second.stage == "cancelled") {
        return; // an old key, or a tombstone: refused, no answer
      }
      push("pick started", [wh, key = c.key](order_state_machine& m, std::int64_t now) {
        return m.on_pick_started(wh, key, now);
      });
      return;
    }
    case kind::cancel_pick: {
      auto wh = c.target;
      auto it = lists_.find(wh);
      bool taken_back = true;
      auto gen = generation_of(c.key);
      if (it == lists_.end()) {
        lists_[wh] = {gen, "cancelled"}; // a tombstone: the start_pick with this key is refused
      } else if (it->second.generation > gen) {
        // A stale cancel of a list taken back before: the warehouse keeps the new one.
      } else if (it->second.stage == "shipped" || it->second.stage == "delivered") {
        taken_back = false;
      } else {
        it->second.stage = "cancelled";
      }
      push("pick cancelled",
           [wh, key = c.key, taken_back](order_state_machine& m, std::int64_t now) {
             return m.on_pick_cancelled(wh, key, taken_back, now);
           });
      return;
    }
    case kind::publish:
      return;
    }
  }

  std::mt19937 rng_;
  unsigned seed_;
  saga_settings settings_;
  std::int64_t now_ = t0;
  std::map<std::string, std::int64_t> available_; ///< per SKU, never below zero
  std::map<std::string, std::int64_t> received_;  ///< what each SKU had at the start
  order_state_machine m_;
  std::int64_t last_version_ = 0;
  bool cancel_waiting_ = false;  ///< a buyer's cancel was accepted and awaits its outcome
  bool cancel_accepted_ = false; ///< ... and its outcome was "cancelled"
  std::vector<cmd> commands_;
  std::vector<reply> replies_;
  std::vector<std::string> events_;
  std::map<std::string, reservation> stock_;
  bank_payment bank_;
  std::map<std::string, pick_list> lists_;
};

TEST(OrderSagaRandom, EverySagaEndsCompensatedOrDeliveredWhateverTheParticipantsDo) {
  std::map<order_status, int> outcomes;
  int cancels_refused = 0;
  int partly_returned = 0; // delivered orders with some units returned
  for (unsigned seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    try {
      random_world w(seed);
      w.run(300);
      auto finished = w.finish();
      EXPECT_TRUE(finished) << "the saga stalled in " << to_string(w.saga().status()) << "/"
                            << to_string(w.saga().phase());
      w.check();
      for (const auto& p : w.problems)
        ADD_FAILURE() << p;
      if (!finished || !w.problems.empty())
        ADD_FAILURE() << "the saga's timeline:\n" << w.timeline_text();
      ++outcomes[w.saga().status()];
      if (w.saga().cancel_outcome() == false)
        ++cancels_refused;
      if (w.saga().status() == order_status::delivered && w.saga().returns() > 0)
        ++partly_returned;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    }
  }
  // The schedules must reach the interesting ends, or the test checks little.
  for (auto s : {order_status::delivered, order_status::rejected, order_status::payment_failed,
                 order_status::expired, order_status::cancelled, order_status::returned})
    EXPECT_GT(outcomes[s], 0) << to_string(s);
  EXPECT_GT(cancels_refused, 0) << "no cancel met a warehouse that had shipped";
  EXPECT_GT(partly_returned, 0) << "no delivered order kept some units after a partial return";
  for (auto& [s, n] : outcomes)
    std::printf("  %-16s %d\n", to_string(s), n);
  std::printf("  cancels refused  %d\n", cancels_refused);
  std::printf("  partly returned  %d\n", partly_returned);
}

} // namespace
} // namespace souk::actors::test
