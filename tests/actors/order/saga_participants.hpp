// Test helpers for the order saga: orders built in one call, commands described as short
// strings, and `participants`, which plays stock, bank and warehouses by answering each command
// with the event the order actor would feed back.
#pragma once

#include "actors/order/order_state_machine.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors::test {

using cmd = saga_command;
using kind = saga_command::kind;

constexpr std::int64_t t0 = 1'700'000'000'000; // 2023-11-14T22:13:20Z
constexpr std::int64_t hold_ms = 900'000;
constexpr std::int64_t grace_ms = 60'000;

struct line_spec {
  std::string sku;
  std::int64_t qty;
  std::int64_t unit_price;
};

inline std::vector<order_line> make_lines(const std::vector<line_spec>& specs) {
  std::vector<order_line> out;
  std::int64_t product = 100;
  for (const auto& s : specs) {
    order_line l;
    l.sku = s.sku;
    l.product_id = product++;
    l.title = "Product " + s.sku;
    l.qty = s.qty;
    l.unit_price = s.unit_price;
    out.push_back(std::move(l));
  }
  return out;
}

/// Order "o-1" of user "u-1" in EUR, created at t0, not started.
inline order_state_machine make_order(const std::vector<line_spec>& specs,
                                      saga_settings settings = {}, const std::string& id = "o-1") {
  return order_state_machine(id, "u-1", "idem-1", make_lines(specs),
                             shipping_address{"north", "Oslo", "Storgata 1"}, "EUR", t0, settings);
}

/// "reserve sku-a o-1/0 x3", "publish order.paid", "start_pick w-north o-1#0", ...
inline std::string describe(const cmd& c) {
  std::string s = to_string(c.what);
  if (c.what == kind::publish)
    return s + " " + c.key;
  s += " " + c.target + " " + c.key;
  if (c.what == kind::reserve || c.what == kind::create_payment || c.what == kind::refund_payment ||
      c.what == kind::return_stock)
    s += " x" + std::to_string(c.qty);
  return s;
}

inline std::vector<std::string> describe(const std::vector<cmd>& cmds) {
  std::vector<std::string> out;
  for (const auto& c : cmds)
    out.push_back(describe(c));
  return out;
}

inline std::vector<cmd> of_kind(const std::vector<cmd>& cmds, kind k) {
  std::vector<cmd> out;
  std::copy_if(cmds.begin(), cmds.end(), std::back_inserter(out),
               [k](const cmd& c) { return c.what == k; });
  return out;
}

inline std::vector<std::string> published(const std::vector<cmd>& cmds) {
  std::vector<std::string> out;
  for (const auto& c : of_kind(cmds, kind::publish))
    out.push_back(c.key);
  return out;
}

/// Stock, bank and warehouses that answer every command at once, the way configured.
struct participants {
  /// Where each SKU reserves its units; a SKU missing here reserves everything in w-north.
  std::map<std::string, std::vector<allocation>> parts;
  /// SKUs that answer `insufficient` with this many available.
  std::map<std::string, std::int64_t> short_skus;
  std::string payment_id = "pay-1";
  /// What the bank says about a payment when asked to cancel it: "cancelled" or "captured".
  std::string status_on_cancel = "cancelled";
  /// Warehouses that have shipped: they refuse `cancel_pick`.
  std::set<std::string> shipped_warehouses;
  /// Lines whose confirm finds the hold gone.
  std::set<std::size_t> lost_holds;
  /// Commands left unanswered (by kind), e.g. to let a deadline pass.
  std::set<kind> silent;

  std::vector<cmd> seen;           ///< every command handed to `answer`
  std::vector<std::string> events; ///< published event types, in order
  std::int64_t captured = 0;       ///< what the bank holds
  std::int64_t refunded = 0;

  /// Feeds the answer to `c` into `m`; returns what `m` asked for next.
  std::vector<cmd> answer(order_state_machine& m, const cmd& c, std::int64_t now) {
    seen.push_back(c);
    if (c.what == kind::publish) {
      events.push_back(c.key);
      return {};
    }
    if (silent.count(c.what))
      return {};
    switch (c.what) {
    case kind::reserve: {
      auto s = short_skus.find(c.target);
      if (s != short_skus.end())
        return m.on_insufficient(c.line, s->second, now);
      auto p = parts.find(c.target);
      return m.on_reserved(
          c.line, p != parts.end() ? p->second : std::vector<allocation>{{"w-north", c.qty}}, now);
    }
    case kind::release:
      return m.on_released(c.line, now);
    case kind::confirm:
      return m.on_confirmed(c.line, lost_holds.count(c.line) == 0, now);
    case kind::ship:
      return m.on_shipped(c.line, now);
    case kind::return_stock:
      return m.on_restocked(c.line, c.qty, now);
    case kind::create_payment:
      return m.on_payment_created(payment_id, "https://bank.example/3ds/" + payment_id, now);
    case kind::cancel_payment:
      if (status_on_cancel == "captured") {
        captured = m.total();
        return m.on_payment_status("captured", captured, refunded, now);
      }
      return m.on_payment_status(status_on_cancel, 0, 0, now);
    case kind::refund_payment:
      refunded += c.qty;
      return m.on_payment_status(refunded >= captured ? "refunded" : "partially_refunded", captured,
                                 refunded, now);
    case kind::start_pick:
      return m.on_pick_started(c.target, c.key, now);
    case kind::cancel_pick:
      return m.on_pick_cancelled(c.target, c.key, shipped_warehouses.count(c.target) == 0, now);
    case kind::publish:
      break;
    }
    return {};
  }

  /// The buyer approves at the bank: the callback says captured.
  std::vector<cmd> approve(order_state_machine& m, std::int64_t now) {
    captured = m.total();
    return m.on_payment_status("captured", captured, 0, now);
  }

  /// Answers `cmds` and everything they lead to until nothing is left; returns every command
  /// the machine issued on the way (including `cmds`).
  std::vector<cmd> settle(order_state_machine& m, std::vector<cmd> cmds, std::int64_t now) {
    std::vector<cmd> all;
    std::deque<cmd> queue(cmds.begin(), cmds.end());
    for (int guard = 0; !queue.empty(); ++guard) {
      if (guard > 1000) {
        ADD_FAILURE() << "the saga keeps issuing commands";
        break;
      }
      auto c = queue.front();
      queue.pop_front();
      all.push_back(c);
      for (auto& next : answer(m, c, now))
        queue.push_back(next);
    }
    return all;
  }

  /// Every warehouse of the order reports `stage`; returns the machine's commands.
  std::vector<cmd> progress_all(order_state_machine& m, const std::string& stage,
                                std::int64_t now) {
    std::vector<cmd> out;
    std::vector<std::string> whs;
    for (const auto& [wh, p] : m.picks())
      whs.push_back(wh);
    for (const auto& wh : whs)
      for (auto& c : m.on_pick_progress(wh, stage, now))
        out.push_back(c);
    return out;
  }
};

/// Two lines: sku-a x3 at 1000 split over w-north (2) and w-south (1), sku-b x1 at 2500 in
/// w-north. Total 5500.
inline std::vector<line_spec> two_lines() {
  return {{"sku-a", 3, 1000}, {"sku-b", 1, 2500}};
}

inline participants two_warehouses() {
  participants p;
  p.parts["sku-a"] = {{"w-north", 2}, {"w-south", 1}};
  p.parts["sku-b"] = {{"w-north", 1}};
  return p;
}

/// Drives `m` (from two_lines) with `p` to PENDING_PAYMENT.
inline void to_pending_payment(order_state_machine& m, participants& p, std::int64_t now = t0) {
  p.settle(m, m.start(now), now);
  ASSERT_EQ(m.status(), order_status::pending_payment);
  ASSERT_EQ(m.phase(), saga_phase::awaiting_payment);
}

/// ... to PAID with every confirm still unanswered; returns the confirms.
inline std::vector<cmd> to_paid_unconfirmed(order_state_machine& m, participants& p,
                                            std::int64_t now = t0) {
  to_pending_payment(m, p, now);
  auto out = p.approve(m, now + 1000);
  EXPECT_EQ(m.status(), order_status::paid);
  EXPECT_EQ(m.phase(), saga_phase::confirming);
  return of_kind(out, kind::confirm);
}

/// ... to PICKING: every pick list acknowledged.
inline void to_picking(order_state_machine& m, participants& p, std::int64_t now = t0) {
  to_pending_payment(m, p, now);
  p.settle(m, p.approve(m, now + 1000), now + 1000);
  ASSERT_EQ(m.status(), order_status::picking);
  ASSERT_EQ(m.phase(), saga_phase::fulfilling);
}

} // namespace souk::actors::test
