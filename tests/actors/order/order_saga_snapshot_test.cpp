// The saga's snapshot (to_json / from_json) in every phase, and the API view of an order.
#include "actors/order/order_state_machine.hpp"
#include "tests/actors/order/saga_participants.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors::test {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;

/// A saga brought to one phase, and what to do with it next.
struct mid_saga {
  std::string name;
  std::function<order_state_machine()> make;
};

std::vector<mid_saga> every_phase() {
  std::vector<mid_saga> out;
  out.push_back({"reserving", [] {
                   auto m = make_order(two_lines());
                   m.start(t0);
                   m.on_reserved(0, {{"w-north", 2}, {"w-south", 1}}, t0 + 1);
                   return m;
                 }});
  out.push_back({"creating_payment", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   p.silent = {kind::create_payment};
                   p.settle(m, m.start(t0), t0);
                   m.on_timer(*m.next_timer());
                   return m;
                 }});
  out.push_back({"awaiting_payment", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   p.settle(m, m.start(t0), t0);
                   return m;
                 }});
  out.push_back({"expiring", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   p.settle(m, m.start(t0), t0);
                   m.on_timer(t0 + hold_ms);
                   return m;
                 }});
  out.push_back({"confirming", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   to_paid_unconfirmed(m, p);
                   m.on_confirmed(1, true, t0 + 1500);
                   return m;
                 }});
  out.push_back({"assigning", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   p.silent = {kind::start_pick};
                   p.settle(m, m.start(t0), t0);
                   p.settle(m, p.approve(m, t0 + 1000), t0 + 1000);
                   m.on_pick_started("w-south", t0 + 1001);
                   return m;
                 }});
  out.push_back({"fulfilling", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   to_picking(m, p);
                   m.on_pick_progress("w-north", "packed", t0 + 2000);
                   p.progress_all(m, "shipped", t0 + 3000); // the ship commands wait
                   m.on_shipped(0, t0 + 3001);
                   return m;
                 }});
  out.push_back({"cancelling_picks", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   to_picking(m, p);
                   m.on_pick_progress("w-north", "shipped", t0 + 2000);
                   std::vector<cmd> c;
                   m.request_cancel(t0 + 3000, c);
                   m.on_pick_cancelled("w-south", true, t0 + 3001);
                   return m;
                 }});
  out.push_back({"compensating", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   to_paid_unconfirmed(m, p);
                   std::vector<cmd> c;
                   m.request_cancel(t0 + 2000, c);
                   m.on_released(1, t0 + 2001);
                   return m;
                 }});
  out.push_back({"returning", [] {
                   auto m = make_order(two_lines());
                   auto p = two_warehouses();
                   to_picking(m, p);
                   p.settle(m, p.progress_all(m, "shipped", t0 + 3000), t0 + 3000);
                   p.settle(m, p.progress_all(m, "delivered", t0 + 4000), t0 + 4000);
                   std::vector<cmd> c;
                   m.request_return(t0 + 5000, c);
                   m.on_restocked(0, t0 + 5001);
                   return m;
                 }});
  out.push_back({"done", [] {
                   auto m = make_order(two_lines());
                   participants p;
                   p.short_skus["sku-b"] = 1;
                   p.settle(m, m.start(t0), t0);
                   return m;
                 }});
  return out;
}

TEST(OrderSagaSnapshot, EveryPhaseIsCovered) {
  std::vector<std::string> phases;
  for (const auto& s : every_phase()) {
    auto m = s.make();
    EXPECT_EQ(to_string(m.phase()), s.name);
    phases.push_back(to_string(m.phase()));
  }
  EXPECT_EQ(phases.size(), static_cast<std::size_t>(saga_phase::done) + 1);
}

TEST(OrderSagaSnapshot, RoundTripInEveryPhaseGivesTheSameStateAndTheSameNextCommands) {
  for (const auto& s : every_phase()) {
    SCOPED_TRACE(s.name);
    auto a = s.make();
    auto j = a.to_json();
    // Through text too, as the snapshot store keeps it.
    auto b = order_state_machine::from_json(json::parse(j.dump()));
    ASSERT_EQ(b.to_json(), j);
    EXPECT_EQ(b.to_view(), a.to_view());
    EXPECT_EQ(b.status(), a.status());
    EXPECT_EQ(b.phase(), a.phase());
    EXPECT_EQ(b.version(), a.version());
    EXPECT_EQ(b.next_timer(), a.next_timer());
    EXPECT_EQ(b.checkout_decided(), a.checkout_decided());
    EXPECT_EQ(b.cancel_outcome(), a.cancel_outcome());

    // The same events give the same commands and the same state.
    auto at = a.next_timer().value_or(t0 + 10'000'000);
    EXPECT_EQ(describe(b.on_timer(at)), describe(a.on_timer(at)));
    EXPECT_EQ(describe(b.retry(at + 1)), describe(a.retry(at + 1)));
    participants pa = two_warehouses();
    participants pb = two_warehouses();
    pa.captured = pb.captured = a.payment().captured;
    auto ca = pa.settle(a, a.retry(at + 2), at + 2);
    auto cb = pb.settle(b, b.retry(at + 2), at + 2);
    EXPECT_EQ(describe(cb), describe(ca));
    std::vector<cmd> xa, xb;
    EXPECT_EQ(b.request_cancel(at + 3, xb), a.request_cancel(at + 3, xa));
    EXPECT_EQ(describe(xb), describe(xa));
    EXPECT_EQ(b.to_json(), a.to_json());
  }
}

TEST(OrderSagaSnapshot, RoundTripKeepsEveryField) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  m.on_pick_progress("w-north", "shipped", t0 + 2000);
  std::vector<cmd> c;
  m.request_cancel(t0 + 3000, c);
  m.on_pick_cancelled("w-north", false, t0 + 3001);
  m.on_pick_cancelled("w-south", true, t0 + 3002); // refused: w-south gets generation 1
  auto b = order_state_machine::from_json(m.to_json());
  EXPECT_EQ(b.id(), "o-1");
  EXPECT_EQ(b.user_id(), "u-1");
  EXPECT_EQ(b.idempotency_key(), "idem-1");
  EXPECT_EQ(b.currency(), "EUR");
  EXPECT_EQ(b.shipping().city, "Oslo");
  EXPECT_EQ(b.created_at_ms(), t0);
  EXPECT_EQ(b.updated_at_ms(), t0 + 3002);
  EXPECT_EQ(b.hold_expires_at_ms(), t0 + hold_ms);
  EXPECT_EQ(b.cancel_outcome(), false);
  EXPECT_EQ(b.payment().id, "pay-1");
  EXPECT_EQ(b.payment().captured, 5500);
  EXPECT_EQ(b.lines()[0].title, "Product sku-a");
  EXPECT_EQ(b.lines()[0].parts, (std::vector<allocation>{{"w-north", 2}, {"w-south", 1}}));
  EXPECT_TRUE(b.lines()[0].confirmed);
  EXPECT_EQ(b.picks().at("w-north").stage, "shipped");
  EXPECT_TRUE(b.picks().at("w-north").acknowledged);
  EXPECT_FALSE(b.picks().at("w-south").acknowledged);
  EXPECT_EQ(b.timeline().size(), m.timeline().size());
  EXPECT_EQ(b.timeline().back().note, m.timeline().back().note);
  EXPECT_THAT(describe(b.retry(t0 + 4000)), ElementsAre("start_pick w-south o-1#1"))
      << "the pick generation survives the snapshot";
}

TEST(OrderSagaSnapshot, FromJsonThrowsOnMalformedInput) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  const auto good = m.to_json();
  ASSERT_NO_THROW(order_state_machine::from_json(good));

  std::vector<std::pair<std::string, std::function<void(json&)>>> breakages = {
      {"not an object",
       [](json& j) {
         j = json::array({1, 2});
       }},
      {"null", [](json& j) { j = nullptr; }},
      {"no id", [](json& j) { j.erase("id"); }},
      {"id is a number", [](json& j) { j["id"] = 5; }},
      {"unknown status", [](json& j) { j["status"] = "SHIPPING"; }},
      {"unknown target", [](json& j) { j["target"] = "nope"; }},
      {"unknown phase", [](json& j) { j["phase"] = "dancing"; }},
      {"phase is a number", [](json& j) { j["phase"] = 3; }},
      {"lines missing", [](json& j) { j.erase("lines"); }},
      {"line without sku", [](json& j) { j["lines"][0].erase("sku"); }},
      {"short flags",
       [](json& j) {
         j["lines"][0]["flags"] = json::array({true, false});
       }},
      {"flag not a bool", [](json& j) { j["lines"][1]["flags"][2] = "yes"; }},
      {"part without qty", [](json& j) { j["lines"][0]["parts"][0].erase("qty"); }},
      {"shipping as object", [](json& j) { j["shipping"] = json::object(); }},
      {"attempt is text", [](json& j) { j["attempt"] = "1"; }},
      {"payment missing", [](json& j) { j.erase("payment"); }},
      {"cancel outcome is text", [](json& j) { j["cancel_outcome"] = "yes"; }},
      {"pick without stage",
       [](json& j) {
         j["picks"]["w-x"] = json::object({{"ack", true}});
       }},
      {"timeline entry too short", [](json& j) { j["timeline"][0] = json::array({1}); }},
  };
  for (auto& [what, breakage] : breakages) {
    auto j = good;
    breakage(j);
    EXPECT_THROW(order_state_machine::from_json(j), json::exception) << what;
  }
}

TEST(OrderSagaSnapshot, ViewHasTheApiFields) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  auto v = m.to_view();
  EXPECT_EQ(v["status"], "PROCESSING");
  EXPECT_TRUE(v["payment"].is_null()) << "no payment yet";
  EXPECT_TRUE(v["lines"][0]["warehouse_id"].is_null()) << "not reserved yet";

  to_pending_payment(m, p);
  v = m.to_view();
  EXPECT_EQ(v["id"], "o-1");
  EXPECT_EQ(v["status"], "PENDING_PAYMENT");
  ASSERT_EQ(v["lines"].size(), 2U);
  EXPECT_EQ(v["lines"][0]["sku"], "sku-a");
  EXPECT_EQ(v["lines"][0]["qty"], 3);
  EXPECT_EQ(v["lines"][0]["unit_price"], (json{{"amount", 1000}, {"currency", "EUR"}}));
  EXPECT_EQ(v["lines"][0]["warehouse_id"], "w-north") << "the nearest part";
  EXPECT_EQ(v["lines"][1]["sku"], "sku-b");
  EXPECT_EQ(v["lines"][1]["unit_price"]["amount"], 2500);
  EXPECT_EQ(v["total"], (json{{"amount", 5500}, {"currency", "EUR"}}));
  EXPECT_EQ(v["shipping"],
            (json{{"region", "north"}, {"city", "Oslo"}, {"address", "Storgata 1"}}));
  EXPECT_EQ(v["payment"]["id"], "pay-1");
  EXPECT_EQ(v["payment"]["status"], "pending");
  EXPECT_EQ(v["payment"]["captured"], (json{{"amount", 0}, {"currency", "EUR"}}));
  EXPECT_EQ(v["payment"]["refunded"], (json{{"amount", 0}, {"currency", "EUR"}}));
  EXPECT_EQ(v["payment"]["redirect_url"], "https://bank.example/3ds/pay-1");
  EXPECT_EQ(v["hold_expires_at"], "2023-11-14T22:28:20.000000Z");
  ASSERT_FALSE(v["timeline"].empty());
  EXPECT_EQ(v["timeline"][0]["at"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(v["timeline"][0]["status"], "PROCESSING");
  EXPECT_TRUE(v["timeline"][0]["note"].is_string());
  EXPECT_EQ(v["timeline"].back()["status"], "PENDING_PAYMENT");
  EXPECT_EQ(v["timeline"].size(), m.timeline().size());
  EXPECT_EQ(v["saga"]["step"], "awaiting_payment");

  p.settle(m, p.approve(m, t0 + 61'500), t0 + 61'500);
  v = m.to_view();
  EXPECT_EQ(v["status"], "PICKING");
  EXPECT_EQ(v["payment"]["status"], "captured");
  EXPECT_EQ(v["payment"]["captured"]["amount"], 5500);
  EXPECT_TRUE(v["payment"]["redirect_url"].is_null()) << "kept only while PENDING_PAYMENT";
  EXPECT_EQ(v["timeline"].back()["at"], "2023-11-14T22:14:21.500000Z");
}

TEST(OrderSagaSnapshot, TimelineKeepsOnlyTheNewestEntries) {
  saga_settings s;
  s.max_timeline = 5;
  auto m = make_order(two_lines(), s);
  m.start(t0);
  for (int i = 0; i < 10; ++i)
    m.on_timer(*m.next_timer());
  ASSERT_EQ(m.timeline().size(), 5U);
  EXPECT_EQ(m.timeline().back().at_ms, m.updated_at_ms());
  EXPECT_GT(m.timeline().front().at_ms, t0) << "the checkout entry was dropped";
  EXPECT_GT(m.version(), 5) << "the version counts every change, not the entries kept";
}

TEST(OrderSagaSnapshot, TheStoredTimelineIsTheTimelineAfterEveryChangeAndEveryTrim) {
  // encode() keeps the entries it wrote before as text: after each event, and across the
  // trims of a short timeline, what it writes must be exactly the timeline's entries.
  saga_settings s;
  s.max_timeline = 4;
  auto m = make_order(two_lines(), s);
  auto expect_stored = [&](const char* when) {
    json want = json::array();
    for (auto& t : m.timeline())
      want.push_back({t.at_ms, t.status, t.phase, t.note});
    EXPECT_EQ(json::parse(m.encode())["timeline"], want) << when;
  };
  m.start(t0);
  expect_stored("checkout");
  for (int i = 0; i < 2; ++i) { // every retry adds an entry; past 4 the oldest go
    ASSERT_TRUE(m.next_timer());
    m.on_timer(*m.next_timer());
    expect_stored("retry");
  }
  ASSERT_EQ(m.timeline().size(), 4U);
  auto p = two_warehouses();
  p.settle(m, m.resume(m.updated_at_ms()), m.updated_at_ms());
  expect_stored("settled");
  auto copy = m; // a copy carries the text along and goes on on its own
  std::vector<saga_command> out;
  copy.request_cancel(copy.updated_at_ms() + 1, out);
  EXPECT_NE(json::parse(copy.encode())["timeline"], json::parse(m.encode())["timeline"]);
  expect_stored("after the copy moved on");
  auto again = order_state_machine::from_json(json::parse(m.encode()), s);
  EXPECT_EQ(again.encode(), m.encode()) << "a loaded saga writes what it was loaded from";
}

} // namespace
} // namespace souk::actors::test
