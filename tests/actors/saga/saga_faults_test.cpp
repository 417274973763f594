// The order saga through the real actors when things go wrong: for every step, the answer that
// comes after the step's deadline and a duplicate of it; answers that are lost; a participant
// that is down for a while, or never answers; a disk that refuses an entity's snapshot; late
// and repeated bank callbacks. Deterministic: CAF's test scheduler, a message filter of the test
// node (tests/support/test_node.hpp) that holds back, drops or duplicates chosen messages, and
// writes made durable when the test says so.

#include "actors/api/directory.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/api/warehouse_api.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::checkout_atom;
using actors::checkout_cmd;
using actors::order_answer;
using actors::payment_answer;
using json = nlohmann::json;

struct sku_levels {
  std::int64_t on_hand = 0, reserved = 0, available = 0, sold = 0;
};

/// Holds back, at the requester, the answers to the first `hold` requests of `atom` routed to
/// (`kind`, `key`) (any key when empty), and lets the participant handle the first request
/// twice. Counts the requests the participant was sent (copies not included). A participant that
/// also tells the order what happened (the payment actor's `payupdate`) has those notices held
/// back as well while `open`.
struct late_answers {
  std::string kind;
  std::string key;
  std::string atom;
  int hold = 1;
  bool duplicate_first = true;
  std::string notice_atom;
  bool open = true;

  int requests = 0;
  int held = 0;
  std::set<std::pair<caf::actor_id, std::uint64_t>> watched; // requester, answer id

  test::fate operator()(const test::message_view& v) {
    if (v.routed && v.target.kind == kind && (key.empty() || v.target.key == key) &&
        v.atom == atom && !v.copy) {
      ++requests;
      if (requests <= hold && v.element->sender) {
        watched.emplace(v.element->sender->id(), v.element->mid.response_id().integer_value());
        if (requests == 1 && duplicate_first)
          return test::fate::duplicate;
      }
      return test::fate::deliver;
    }
    if (v.response && watched.count({v.receiver, v.element->mid.integer_value()}) > 0) {
      ++held;
      return test::fate::hold;
    }
    if (open && requests > 0 && v.routed && v.target.kind == "order" && !notice_atom.empty() &&
        v.atom == notice_atom)
      return test::fate::hold;
    return test::fate::deliver;
  }
};

class SagaFaultsTest : public ::testing::Test {
protected:
  static test::node_options options() {
    test::node_options o;
    o.stock = {{"sku-a", {{"wh-msk", 10}}},
               {"sku-b", {{"wh-msk", 1}, {"wh-spb", 5}}},
               {"sku-c", {{"wh-ekb", 1}}}};
    o.saga.hold_ms = 60'000;
    o.saga.stock_grace_ms = 60'000;
    o.saga.step_timeout_ms = 2'000;
    o.saga.max_attempts = 3;
    o.saga.backoff_max_ms = 8'000;
    o.wms_step = 0ms; // warehouses move only when a test tells them to
    return o;
  }

  static checkout_cmd order(const std::string& id,
                            std::vector<std::pair<std::string, std::int64_t>> lines,
                            std::int64_t unit_price = 1000) {
    checkout_cmd c;
    c.order_id = id;
    c.user_id = "u1";
    c.idempotency_key = "k-" + id;
    for (auto& [sku, qty] : lines)
      c.lines.push_back({sku, 1, "Item " + sku, qty, unit_price});
    c.region = "msk";
    c.city = "Moscow";
    c.address = "Tverskaya 1";
    return c;
  }

  /// Two lines, three parts, two warehouses: sku-a x2 from wh-msk; sku-b x3 split as wh-msk x1
  /// and wh-spb x2. Total 2*1000 + 3*500.
  static checkout_cmd two_line_order(const std::string& id) {
    auto c = order(id, {{"sku-a", 2}, {"sku-b", 3}});
    c.lines[1].unit_price = 500;
    return c;
  }
  static constexpr std::int64_t two_line_total = 3'500;

  static json body(const order_answer& a) { return json::parse(a.body); }

  static order_answer view(test::test_node& node, const std::string& id) {
    return node.ask<order_answer>("order", id, actors::order_view_atom::value);
  }

  static sku_levels levels(test::test_node& node, const std::string& sku) {
    auto j = json::parse(node.ask<std::string>("sku", sku, actors::stock_view_atom::value));
    return {j.at("on_hand").get<std::int64_t>(), j.at("reserved").get<std::int64_t>(),
            j.at("available").get<std::int64_t>(), j.at("sold").get<std::int64_t>()};
  }

  static payment_answer payment(test::test_node& node, const std::string& id) {
    return node.ask<payment_answer>("payment", id, actors::payment_view_atom::value);
  }

  static json warehouse(test::test_node& node, const std::string& id) {
    return json::parse(node.ask<std::string>("warehouse", id, actors::warehouse_view_atom::value));
  }

  /// Timeline entries whose note is exactly `note`.
  static int notes(const json& v, const std::string& note) {
    int n = 0;
    for (auto& t : v["timeline"])
      n += t["note"] == note;
    return n;
  }
  /// `notes` in the stored order, whose timeline entries are [at, status, phase, note].
  static int stored_notes(test::test_node& node, const std::string& id, const std::string& note) {
    auto stored = node.store().load_snapshot("order", id);
    if (!stored.ok() || !stored->has_value())
      return -1;
    auto state = json::parse((*stored)->state);
    int n = 0;
    for (auto& t : state.at("timeline"))
      n += t.at(3) == note;
    return n;
  }
  /// Index of the first timeline entry whose note contains `text`, or -1.
  static int first_note(const json& v, const std::string& text) {
    int i = 0;
    for (auto& t : v["timeline"]) {
      if (t["note"].get<std::string>().find(text) != std::string::npos)
        return i;
      ++i;
    }
    return -1;
  }

  static std::string payment_id(test::test_node& node, const std::string& order_id) {
    auto p = body(view(node, order_id))["payment"];
    return p.is_null() ? std::string{} : p["id"].get<std::string>();
  }

  /// Drops every message routed to warehouse wh-spb while `down` is true; then places order
  /// "o1" (two lines, one from wh-spb) and pays it, so the saga is assigning its pick lists.
  static void paid_with_spb_silent(test::test_node& node, const bool& down) {
    node.set_filter([&down](const test::message_view& v) {
      return down && v.routed && v.target == actors::entity_ref{"warehouse", "wh-spb"}
                 ? test::fate::drop
                 : test::fate::deliver;
    });
    node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
    node.run_for(1s);
    ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  }

  /// Every warehouse moves its open pick lists one stage.
  static void move_warehouses(test::test_node& node) {
    for (auto wh : {"wh-msk", "wh-spb", "wh-ekb"})
      node.tell("warehouse", wh, actors::advance_atom::value);
  }

  /// The answer to the directory's `stats_atom`.
  static json directory_stats(test::test_node& node) {
    caf::scoped_actor self{node.system()};
    auto h = self->request(node.directory(), caf::infinite, actors::stats_atom::value);
    node.settle();
    json out;
    h.receive([&](std::string& s) { out = json::parse(s); }, [](caf::error&) {});
    return out;
  }

  test::temp_dir dir_;
};

/// The fixture's helpers for free functions.
struct SagaFaultsTestAccess : SagaFaultsTest {
  using SagaFaultsTest::order;
  void TestBody() override {}
};

// -- for every step: the answer after the deadline, and a duplicate of it ----------------------

/// Where a step is, how to fault it, and what it must have done exactly once.
struct step_case {
  const char* name;
  const char* journey; ///< buy, decline, expire, cancel, return
  const char* kind;
  const char* key;
  const char* atom;
  const char* phase;     ///< the saga's phase while it waits for the step
  const char* once_note; ///< the timeline note of the step's effect, exactly once
  /// The first order write of the step (when the slow disk starts): phase, plus a condition.
  std::function<bool(const json&)> starts;
};

bool in_phase(const json& j, const char* phase) {
  return j.at("phase") == phase;
}

const std::vector<step_case>& step_cases() {
  static const std::vector<step_case> cases = {
      {"reserve", "buy", "sku", "sku-a", "reserve", "reserving",
       "line 0 (sku-a) reserved: wh-msk x2",
       [](const json& j) { return in_phase(j, "reserving"); }},
      {"create_payment", "buy", "payment", "o1", "paycreate", "creating_payment",
       "payment pay_1 created", [](const json& j) { return in_phase(j, "creating_payment"); }},
      {"confirm", "buy", "sku", "sku-a", "confirm", "confirming", "line 0 confirmed",
       [](const json& j) { return in_phase(j, "confirming"); }},
      {"start_pick", "buy", "warehouse", "wh-msk", "pick", "assigning", "pick list at wh-msk",
       [](const json& j) { return in_phase(j, "assigning"); }},
      {"ship", "buy", "sku", "sku-a", "ship", "fulfilling", "line 0 left stock",
       [](const json& j) {
         if (!in_phase(j, "fulfilling"))
           return false;
         for (auto& [wh, p] : j.at("picks").items())
           if (p.at("stage") != "shipped")
             return false;
         return true;
       }},
      {"release", "decline", "sku", "sku-a", "release", "compensating", "line 0 (sku-a) released",
       [](const json& j) { return in_phase(j, "compensating"); }},
      {"cancel_payment", "expire", "payment", "o1", "paycancel", "expiring", "payment cancelled",
       [](const json& j) { return in_phase(j, "expiring"); }},
      {"cancel_pick", "cancel", "warehouse", "wh-msk", "pickcancel", "cancelling_picks",
       "pick list at wh-msk cancelled",
       [](const json& j) { return in_phase(j, "cancelling_picks"); }},
      {"refund", "cancel", "payment", "o1", "payrefund", "compensating", "payment refunded",
       [](const json& j) { return in_phase(j, "compensating"); }},
      {"return_stock", "return", "sku", "sku-a", "restock", "returning",
       "line 0 back on hand: 2 of 2 units", [](const json& j) { return in_phase(j, "returning"); }},
      {"return_refund", "return", "payment", "o1", "payrefund", "returning", "payment refunded",
       [](const json& j) { return in_phase(j, "returning"); }},
  };
  return cases;
}

/// `late`: the order's disk is slow when the step starts (its commands go out two seconds late,
/// after the step's deadline armed), so the answers reach the saga after the deadline passed and
/// the retry went out; both the answer and the retry's duplicate are handled. `lost`: the first
/// answer is held until its request timed out (CAF drops it): the participant acted, the saga
/// never heard, and the retry is a duplicate for the participant.
enum class lateness { late, lost };

struct step_param {
  std::size_t index;
  lateness mode;
};

std::string step_param_name(const ::testing::TestParamInfo<step_param>& info) {
  return std::string{step_cases()[info.param.index].name} +
         (info.param.mode == lateness::late ? "_AnsweredAfterTheDeadline" : "_AnswerLost");
}

class SagaStepFaultTest : public SagaFaultsTest, public ::testing::WithParamInterface<step_param> {
protected:
  /// After an action: past the step's deadline (the earliest is 2 s after the step began, the
  /// latest 3 s), then the held answers arrive, then everything settles.
  void pass(test::test_node& node) {
    node.run_for(3'100ms);
    if (fault_ && fault_->requests > 0)
      fault_->open = false;
    node.release_held();
    node.run_for(12s);
  }

  std::shared_ptr<late_answers> fault_;
};

TEST_P(SagaStepFaultTest, ChangesNothingTwice) {
  auto& c = step_cases()[GetParam().index];
  auto mode = GetParam().mode;
  SCOPED_TRACE(std::string{"step "} + c.name);
  test::test_node node{dir_.path(), options()};
  auto fault = fault_ = std::make_shared<late_answers>();
  fault->kind = c.kind;
  if (fault->kind == "payment")
    fault->notice_atom = "payupdate";
  fault->key = c.key;
  fault->atom = c.atom;
  fault->hold = mode == lateness::late ? 2 : 1;
  node.set_filter([fault](const test::message_view& v) { return (*fault)(v); });
  std::int64_t slow_until = -1;
  if (mode == lateness::late)
    node.sink().gate = [&node, &c, &slow_until](const persistence::snapshot& s) {
      if (s.kind != "order")
        return true;
      if (slow_until < 0) {
        if (!c.starts(json::parse(s.state)))
          return true;
        slow_until = node.now_ms() + 2'000;
      }
      return node.now_ms() >= slow_until;
    };

  std::string journey = c.journey;
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  pass(node);
  auto placed = view(node, "o1");
  ASSERT_EQ(placed.status, "PENDING_PAYMENT") << placed.body;
  auto pay_id = body(placed)["payment"]["id"].get<std::string>();
  EXPECT_EQ(pay_id, "pay_1") << "one payment at the bank";

  if (journey == "expire") {
    auto at = body(placed)["hold_expires_at_ms"].get<std::int64_t>();
    node.run_for(std::chrono::milliseconds(at - node.now_ms()));
    pass(node);
  } else {
    ASSERT_TRUE(node.decide(pay_id, journey != "decline"));
    pass(node);
  }
  if (journey == "buy" || journey == "return" || journey == "cancel") {
    ASSERT_EQ(view(node, "o1").status, "PICKING") << view(node, "o1").body;
  }
  if (journey == "cancel") {
    node.post("order", "o1", actors::cancel_atom::value);
    pass(node);
  }
  if (journey == "buy" || journey == "return")
    for (int stage = 0; stage < 3; ++stage) {
      move_warehouses(node);
      pass(node);
    }
  if (journey == "return") {
    ASSERT_EQ(view(node, "o1").status, "DELIVERED");
    node.post("order", "o1", actors::return_atom::value);
    pass(node);
  }

  auto final_view = view(node, "o1");
  auto v = body(final_view);
  // The fault happened: the participant was asked again, an answer was held back, and the saga
  // saw its deadline pass before it learned the step's outcome, which it took exactly once.
  EXPECT_GE(fault->requests, 2) << "the participant handled a repeated request";
  EXPECT_GE(fault->held, 1);
  auto deadline = first_note(v, std::string{"deadline passed: attempt 2 of "} + c.phase);
  EXPECT_GE(deadline, 0) << v["timeline"].dump(1);
  EXPECT_EQ(notes(v, c.once_note), 1) << v["timeline"].dump(1);
  EXPECT_GT(first_note(v, c.once_note), deadline) << "learned after the deadline";
  if (mode == lateness::late) {
    EXPECT_GT(slow_until, 0) << "the slow disk held the step's first write";
  }

  auto a = levels(node, "sku-a");
  auto b = levels(node, "sku-b");
  auto p = payment(node, "o1");
  EXPECT_EQ(v["saga"]["step"], "done");
  if (journey == "buy") {
    EXPECT_EQ(final_view.status, "DELIVERED");
    EXPECT_EQ(a.on_hand, 8);
    EXPECT_EQ(a.sold, 2);
    EXPECT_EQ(b.on_hand, 3);
    EXPECT_EQ(b.sold, 3);
    EXPECT_EQ(p.status, "captured");
    EXPECT_EQ(p.captured, two_line_total);
    EXPECT_EQ(p.refunded, 0);
  } else {
    static const std::map<std::string, std::string> ends = {{"decline", "PAYMENT_FAILED"},
                                                            {"expire", "EXPIRED"},
                                                            {"cancel", "CANCELLED"},
                                                            {"return", "RETURNED"}};
    EXPECT_EQ(final_view.status, ends.at(journey));
    EXPECT_EQ(a.on_hand, 10);
    EXPECT_EQ(a.sold, 0);
    EXPECT_EQ(b.on_hand, 6);
    EXPECT_EQ(b.sold, 0);
    if (journey == "cancel" || journey == "return") {
      EXPECT_EQ(p.status, "refunded");
      EXPECT_EQ(p.captured, two_line_total);
      EXPECT_EQ(p.refunded, two_line_total) << "refunded once";
    } else {
      EXPECT_EQ(p.status, journey == "decline" ? "declined" : "cancelled");
      EXPECT_EQ(p.captured, 0);
    }
  }
  EXPECT_EQ(a.reserved, 0);
  EXPECT_EQ(b.reserved, 0);
  EXPECT_EQ(a.available, a.on_hand);
  EXPECT_EQ(b.available, b.on_hand);
  // The order's view of its payment is the payment's.
  if (!v["payment"].is_null()) {
    EXPECT_EQ(v["payment"]["captured"]["amount"], p.captured);
    EXPECT_EQ(v["payment"]["refunded"]["amount"], p.refunded);
  }
  // A warehouse holds one pick list per order, whatever was repeated.
  if (journey != "decline" && journey != "expire") {
    auto msk = warehouse(node, "wh-msk");
    ASSERT_TRUE(msk.contains("o1"));
    EXPECT_EQ(msk["o1"]["lines"].size(), 2u) << msk.dump();
    EXPECT_EQ(msk["o1"]["cancelled"], journey == "cancel");
  }
}

std::vector<step_param> all_step_params() {
  std::vector<step_param> out;
  for (std::size_t i = 0; i < step_cases().size(); ++i)
    for (auto m : {lateness::late, lateness::lost})
      out.push_back({i, m});
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, SagaStepFaultTest, ::testing::ValuesIn(all_step_params()),
                         step_param_name);

// -- answers to repeated requests that disagree ------------------------------------------------

TEST_F(SagaFaultsTest, AReserveRetriedAfterARefusalThatSucceedsLaterIsReleased) {
  // The checkout's write is slow, so the first reserve goes out late and the deadline sends a
  // second one while the first is still in flight. The first finds the SKU empty (refused: the
  // saga rejects the order); stock arrives; the second, a copy of the first, then reserves.
  // Nobody else may be kept from buying these units until the SKU's own expiry.
  auto opts = options();
  opts.stock["sku-c"] = {{"wh-ekb", 0}};
  test::test_node node{dir_.path(), opts};
  node.set_filter([](const test::message_view& v) {
    return v.routed && v.atom == "reserve" ? test::fate::hold : test::fate::deliver;
  });
  std::int64_t slow_until = node.now_ms() + 2'000;
  node.sink().gate = [&node, slow_until](const persistence::snapshot& s) {
    return s.kind != "order" || node.now_ms() >= slow_until;
  };
  node.post("order", "o1", checkout_atom::value, order("o1", {{"sku-c", 1}}));
  node.run_for(3'100ms); // the first reserve went out at 2 s, the deadline's copy by 3 s
  ASSERT_EQ(node.held_messages(), 2u);
  node.release_held(1);
  node.settle();
  auto rejected = body(view(node, "o1"));
  EXPECT_EQ(rejected["status"], "REJECTED");
  EXPECT_EQ(rejected["saga"]["failure_code"], "insufficient_stock");
  node.tell("sku", "sku-c", actors::set_stock_atom::value, std::string{"wh-ekb"}, std::int64_t{1});
  node.release_held();
  node.run_for(10s);
  auto c = levels(node, "sku-c");
  EXPECT_EQ(c.reserved, 0) << "the copy's hold is given back";
  EXPECT_EQ(c.available, 1);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "REJECTED");
  EXPECT_EQ(v["saga"]["step"], "done");
  EXPECT_EQ(notes(v, "line 0 (sku-c) released"), 1) << v["timeline"].dump(1);
}

// -- the bank: callbacks, a bank that is down, lost answers ------------------------------------

TEST_F(SagaFaultsTest, ABankCallbackIsAcknowledgedWithoutStoppingThePaymentActor) {
  test::test_node node{dir_.path(), options()};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(1s);
  ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  node.run_for(1s);
  EXPECT_EQ(view(node, "o1").status, "PICKING");
  auto stats = directory_stats(node);
  EXPECT_EQ(stats["crashes"], 0) << "no entity stopped on an error: " << stats.dump();
  EXPECT_EQ(payment(node, "o1").captured, two_line_total);
  // The bank is still there for the next order.
  node.post("order", "o2", checkout_atom::value, order("o2", {{"sku-a", 1}}));
  node.run_for(1s);
  EXPECT_EQ(view(node, "o2").status, "PENDING_PAYMENT");
}

TEST_F(SagaFaultsTest, APaymentThatCannotStoreACallbackStopsAndTheSagaLearnsThePaymentLater) {
  test::test_node node{dir_.path(), options()};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(1s);
  auto pay = payment_id(node, "o1");
  // The payment actor's write of the "captured" callback fails: it stops, the callback is lost.
  node.sink().gate = [](const persistence::snapshot& s) { return s.kind != "payment"; };
  ASSERT_TRUE(node.decide(pay, true));
  ASSERT_EQ(node.sink().held(), 1u);
  node.sink().gate = nullptr;
  node.sink().fail = true;
  EXPECT_EQ(node.sink().drain(), 1u);
  node.sink().fail = false;
  node.settle();
  EXPECT_GE(directory_stats(node)["crashes"].get<int>(), 1) << "the payment actor stopped";
  EXPECT_EQ(view(node, "o1").status, "PENDING_PAYMENT") << "the saga did not hear of it";
  // The bank still serves other orders.
  node.post("order", "o2", checkout_atom::value, order("o2", {{"sku-a", 1}}));
  node.run_for(1s);
  EXPECT_EQ(view(node, "o2").status, "PENDING_PAYMENT") << "the bank is still up";
  // When the hold runs out the saga asks the bank, which says the money is captured: the order
  // is paid after all and goes on, with the payment captured once.
  node.run_for(61s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PICKING") << v["timeline"].dump(1);
  EXPECT_GE(first_note(v, "paid just before the hold ran out"), 0);
  auto p = payment(node, "o1");
  EXPECT_EQ(p.status, "captured");
  EXPECT_EQ(p.captured, two_line_total);
  EXPECT_EQ(levels(node, "sku-a").reserved, 2);
}

TEST_F(SagaFaultsTest, ABankWhoseAnswersAreLostForAWhileCreatesOnePaymentOnly) {
  test::test_node node{dir_.path(), options()};
  auto bank = node.entities().bank;
  std::int64_t back_at = node.now_ms() + 6'000;
  int lost = 0;
  // The bank does what it is asked, but its answers do not arrive for six seconds.
  node.set_filter([&](const test::message_view& v) {
    if (v.response && v.element->sender && v.element->sender->id() == bank.id() &&
        node.now_ms() < back_at) {
      ++lost;
      return test::fate::drop;
    }
    return test::fate::deliver;
  });
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(20s);
  auto v = body(view(node, "o1"));
  EXPECT_GE(lost, 2);
  EXPECT_EQ(v["status"], "PENDING_PAYMENT") << v["timeline"].dump(1);
  EXPECT_GE(first_note(v, "deadline passed: attempt 3 of creating_payment"), 0);
  EXPECT_EQ(v["payment"]["id"], "pay_1") << "every attempt found the same payment";
  ASSERT_TRUE(node.decide("pay_1", true));
  node.run_for(1s);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(1s);
  }
  EXPECT_EQ(view(node, "o1").status, "DELIVERED");
  EXPECT_EQ(payment(node, "o1").captured, two_line_total);
  // A payment the bank created for another order would be pay_2: none was created in between.
  node.post("order", "o2", checkout_atom::value, order("o2", {{"sku-a", 1}}));
  node.run_for(1s);
  EXPECT_EQ(payment_id(node, "o2"), "pay_2");
}

TEST_F(SagaFaultsTest, ABankDownForLongerThanEveryAttemptFailsThePaymentOnlyAfterItCanTell) {
  test::test_node node{dir_.path(), options()};
  auto bank = node.entities().bank;
  bool bank_up = false;
  // The bank creates the payment but no answer arrives until it is back.
  node.set_filter([&](const test::message_view& v) {
    bool from_bank = v.response && v.element->sender && v.element->sender->id() == bank.id();
    return from_bank && !bank_up ? test::fate::drop : test::fate::deliver;
  });
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(60s);
  auto v = body(view(node, "o1"));
  // Out of attempts: the saga gives the stock back but does not call the payment failed while
  // the bank may hold a payment (the unknown-outcome rule): it keeps asking to cancel it.
  EXPECT_EQ(v["status"], "PROCESSING") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "compensating");
  EXPECT_EQ(v["saga"]["failure_code"], "payment_unavailable");
  EXPECT_GE(first_note(v, "the bank did not answer in 3 attempts"), 0);
  EXPECT_EQ(levels(node, "sku-a").reserved, 0);
  EXPECT_EQ(levels(node, "sku-b").reserved, 0);
  bank_up = true;
  node.run_for(30s);
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PAYMENT_FAILED") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "done");
  auto p = payment(node, "o1");
  EXPECT_EQ(p.payment_id, "pay_1") << "the payment the bank had created";
  EXPECT_EQ(p.status, "cancelled");
  // The buyer who finds the bank's page now cannot pay for a failed order.
  EXPECT_FALSE(node.decide("pay_1", true));
  node.run_for(5s);
  EXPECT_EQ(payment(node, "o1").captured, 0);
}

TEST_F(SagaFaultsTest, LostAndUnansweredBankCallsAtRandomStillEndEverySagaOnce) {
  auto opts = options();
  opts.bank.lost_reply_rate = 0.4;
  opts.bank.no_answer_rate = 0.3;
  opts.bank.seed = 7;
  opts.saga.max_attempts = 6;
  test::test_node node{dir_.path(), opts};
  std::vector<std::string> ids = {"o1", "o2", "o3", "o4"};
  for (auto& id : ids)
    node.post("order", id, checkout_atom::value, order(id, {{"sku-a", 1}}));
  node.run_for(40s);
  int paid = 0;
  for (auto& id : ids) {
    auto pay = payment_id(node, id);
    if (!pay.empty() && view(node, id).status == "PENDING_PAYMENT") {
      ASSERT_TRUE(node.decide(pay, id != "o4"));
      paid += id != "o4";
    }
  }
  node.run_for(120s);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(60s);
  }
  EXPECT_GE(paid, 2) << "most checkouts got through the faults";
  std::int64_t sold = 0;
  for (auto& id : ids) {
    SCOPED_TRACE(id);
    auto a = view(node, id);
    auto v = body(a);
    EXPECT_EQ(v["saga"]["step"], "done") << v["timeline"].dump(1);
    auto p = payment(node, id);
    if (a.status == "DELIVERED") {
      EXPECT_EQ(p.captured, 1000);
      ++sold;
    } else {
      EXPECT_EQ(p.captured - p.refunded, 0) << a.status;
    }
  }
  auto s = levels(node, "sku-a");
  EXPECT_EQ(s.sold, sold);
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(s.on_hand, 10 - sold);
}

TEST_F(SagaFaultsTest, LateAndRepeatedCallbacksChangeNothingTwice) {
  auto opts = options();
  opts.bank.duplicate_callbacks = true;
  opts.bank.callback_delay = 90s; // later than the hold
  test::test_node node{dir_.path(), opts};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(10s);
  ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  node.run_for(40s);
  EXPECT_EQ(view(node, "o1").status, "PENDING_PAYMENT") << "no callback yet";
  // The hold runs out: the saga asks the bank to cancel and learns the payment is captured.
  node.run_for(20s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PICKING") << v["timeline"].dump(1);
  EXPECT_GE(first_note(v, "paid just before the hold ran out"), 0);
  // The callbacks arrive, twice each: nothing changes.
  node.run_for(60s);
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PICKING");
  EXPECT_EQ(notes(v, "payment captured"), 1) << v["timeline"].dump(1);
  EXPECT_EQ(notes(v, "line 0 confirmed"), 1);
  // A cancel now: one refund, whose callbacks (late, twice) change nothing either.
  node.post("order", "o1", actors::cancel_atom::value);
  node.run_for(200s);
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "CANCELLED") << v["timeline"].dump(1);
  EXPECT_EQ(notes(v, "payment refunded"), 1) << v["timeline"].dump(1);
  auto p = payment(node, "o1");
  EXPECT_EQ(p.status, "refunded");
  EXPECT_EQ(p.captured, two_line_total);
  EXPECT_EQ(p.refunded, two_line_total);
  EXPECT_EQ(levels(node, "sku-a").available, 10);
  EXPECT_EQ(levels(node, "sku-b").available, 6);
}

// -- participants that are down, or whose disk fails ----------------------------------------

TEST_F(SagaFaultsTest, ASkuThatCannotStoreItsSnapshotComesBackFromItsLastDurableState) {
  test::test_node node{dir_.path(), options()};
  node.tell("sku", "sku-a", actors::set_stock_atom::value, std::string{"wh-msk"}, std::int64_t{9});
  ASSERT_EQ(levels(node, "sku-a").on_hand, 9);
  node.sink().gate = [](const persistence::snapshot& s) { return s.kind != "sku"; };
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.settle();
  ASSERT_EQ(node.sink().held(), 2u) << "both SKUs reserved, neither write is durable";
  node.sink().gate = nullptr;
  node.sink().fail = true;
  node.sink().drain();
  node.sink().fail = false;
  node.settle();
  EXPECT_GE(directory_stats(node)["crashes"].get<int>(), 2) << "both SKU actors stopped";
  // Activated again from what was durable: nothing reserved, the restock kept.
  auto a = levels(node, "sku-a");
  EXPECT_EQ(a.on_hand, 9);
  EXPECT_EQ(a.reserved, 0);
  // The saga's deadline asks again; this time it is written.
  node.run_for(10s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PENDING_PAYMENT") << v["timeline"].dump(1);
  EXPECT_EQ(notes(v, "line 0 (sku-a) reserved: wh-msk x2"), 1);
  a = levels(node, "sku-a");
  EXPECT_EQ(a.reserved, 2);
  EXPECT_EQ(a.available, 7);
  EXPECT_EQ(levels(node, "sku-b").reserved, 3);
}

TEST_F(SagaFaultsTest, AWarehouseThatNeverAnswersKeepsAPaidOrderWaitingAndFlaggedUntilItDoes) {
  test::test_node node{dir_.path(), options()};
  bool down = true;
  paid_with_spb_silent(node, down);
  node.run_for(120s);
  auto v = body(view(node, "o1"));
  // Paid orders never give up: the step is retried and flagged for ops.
  EXPECT_EQ(v["status"], "PAID") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "assigning");
  EXPECT_TRUE(v["saga"]["stuck"].get<bool>());
  EXPECT_EQ(levels(node, "sku-b").reserved, 3) << "still held for the paid order";
  down = false;
  node.run_for(60s);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(1s);
  }
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "DELIVERED") << v["timeline"].dump(1);
  EXPECT_FALSE(v["saga"]["stuck"].get<bool>());
  EXPECT_EQ(notes(v, "pick list at wh-spb"), 1);
  EXPECT_EQ(levels(node, "sku-b").sold, 3);
  EXPECT_EQ(levels(node, "sku-a").sold, 2);
}

TEST_F(SagaFaultsTest, AWarehouseSilentPastTheRetryHorizonHoldsThePaidOrderForAnOperator) {
  auto o = options();
  o.saga.retry_horizon_ms = 300'000; // five minutes here; 20 h by default
  test::test_node node{dir_.path(), o};
  bool down = true;
  paid_with_spb_silent(node, down);
  node.run_for(400s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["saga"]["step"], "assigning") << v["timeline"].dump(1);
  EXPECT_TRUE(v["saga"]["held"].get<bool>()) << v["saga"];
  EXPECT_GE(first_note(v, "past orders.retry_horizon_ms"), 0) << v["timeline"].dump(1);
  auto stored = node.store().load_snapshot("order", "o1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(json::parse((*stored)->state)["deadline_ms"], 0)
      << "the hold is durable: no deadline in the snapshot";
  // Nothing goes to the warehouse on its own any more.
  auto dropped = node.dropped;
  node.run_for(1800s);
  EXPECT_EQ(node.dropped, dropped);
  // A buyer's cancel is refused for now ("held", not "not_cancellable"): the pick list may
  // have shipped from a warehouse that has forgotten it.
  auto refused = node.ask<order_answer>("order", "o1", actors::cancel_atom::value);
  EXPECT_EQ(refused.code, "held");
  EXPECT_EQ(refused.status, "PAID");
  // The operator checked the warehouse and retries: the order goes on to the end.
  down = false;
  auto retried = node.ask<order_answer>("order", "o1", actors::saga_retry_atom::value);
  EXPECT_EQ(retried.code, "");
  node.run_for(1s);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(1s);
  }
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "DELIVERED") << v["timeline"].dump(1);
  EXPECT_FALSE(v["saga"]["held"].get<bool>());
  EXPECT_EQ(levels(node, "sku-b").sold, 3);
}

TEST_F(SagaFaultsTest, ASkuDownThroughEveryAttemptRejectsTheOrderAndItsLateReservesAreUndone) {
  test::test_node node{dir_.path(), options()};
  // sku-c's actor takes nothing in while it is down; what was sent waits in order.
  bool down = true;
  node.set_filter([&](const test::message_view& v) {
    return down && v.routed && v.target == actors::entity_ref{"sku", "sku-c"} ? test::fate::hold
                                                                              : test::fate::deliver;
  });
  node.post("order", "o1", checkout_atom::value, order("o1", {{"sku-a", 1}, {"sku-c", 1}}));
  node.run_for(60s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["saga"]["failure_code"], "stock_unavailable") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "compensating") << "sku-c has not confirmed its release";
  EXPECT_TRUE(v["saga"]["stuck"].get<bool>());
  EXPECT_EQ(levels(node, "sku-a").reserved, 0) << "the line that answered is released";
  // Back: every reserve that waited is handled, then the releases: nothing stays reserved.
  down = false;
  EXPECT_GE(node.release_held(), 4u);
  node.run_for(30s);
  v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "REJECTED") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "done");
  auto c = levels(node, "sku-c");
  EXPECT_EQ(c.reserved, 0);
  EXPECT_EQ(c.available, 1);
}

TEST_F(SagaFaultsTest, AnOrderThatCannotStoreItsSnapshotStillFinishes) {
  test::test_node node{dir_.path(), options()};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(1s);
  // The order's write of "paid" fails: it stops, and what the callback told it is lost.
  node.sink().gate = [](const persistence::snapshot& s) { return s.kind != "order"; };
  ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  ASSERT_EQ(node.sink().held(), 1u);
  node.sink().gate = nullptr;
  node.sink().fail = true;
  node.sink().drain();
  node.sink().fail = false;
  node.settle();
  EXPECT_GE(directory_stats(node)["crashes"].get<int>(), 1);
  node.run_for(120s);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(1s);
  }
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["saga"]["step"], "done") << v["timeline"].dump(1);
  EXPECT_EQ(v["status"], "DELIVERED") << v["timeline"].dump(1);
  EXPECT_EQ(payment(node, "o1").captured, two_line_total);
  EXPECT_EQ(levels(node, "sku-a").sold, 2);
}

TEST_F(SagaFaultsTest, AWarehouseThatCannotStoreAMoveStillDeliversOnItsTimer) {
  auto opts = options();
  opts.wms_step = 1s;
  test::test_node node{dir_.path(), opts};
  node.post("order", "o1", checkout_atom::value, order("o1", {{"sku-a", 1}}));
  node.run_for(100ms);
  ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  node.run_for(100ms);
  ASSERT_EQ(view(node, "o1").status, "PICKING");
  // The warehouse's next move (picking → packed) is not written: it stops.
  node.sink().gate = [](const persistence::snapshot& s) { return s.kind != "warehouse"; };
  node.run_for(1s);
  ASSERT_EQ(node.sink().held(), 1u);
  node.sink().gate = nullptr;
  node.sink().fail = true;
  node.sink().drain();
  node.sink().fail = false;
  node.settle();
  node.run_for(60s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "DELIVERED") << v["timeline"].dump(1);
  EXPECT_EQ(levels(node, "sku-a").sold, 1);
}

// -- a restart in the middle of every step --------------------------------------------------

/// Where the node stops, relative to the step's first request.
enum class crash_point {
  request_unsent,   ///< the participant never got it
  answer_unwritten, ///< the participant handled it, its write was not durable yet
  answer_lost,      ///< the participant handled it durably; its answer never arrived
  step_unwritten,   ///< the order's own write that starts the step was not durable yet
};

/// How the node comes back: a new process on the same folder (the in-process bank is new and
/// knows nothing), or the node's actors only, with the bank (an outside system) still up.
enum class restart_kind { new_node, bank_stays_up };

struct restart_param {
  std::size_t step;
  crash_point point;
  restart_kind how;
};

const char* to_string(crash_point p) {
  switch (p) {
  case crash_point::request_unsent:
    return "RequestUnsent";
  case crash_point::answer_unwritten:
    return "AnswerUnwritten";
  case crash_point::answer_lost:
    return "AnswerLost";
  case crash_point::step_unwritten:
    return "StepUnwritten";
  }
  return "?";
}

std::string restart_param_name(const ::testing::TestParamInfo<restart_param>& info) {
  return std::string{step_cases()[info.param.step].name} + "_" + to_string(info.param.point) +
         (info.param.how == restart_kind::new_node ? "_NewNode" : "_BankStaysUp");
}

/// The crash trigger: watches the step's first request and says when the node is to stop.
struct crash_plan {
  const step_case* step = nullptr;
  crash_point point = crash_point::request_unsent;
  bool delivered = false; ///< the participant got the step's request
  bool triggered = false; ///< the node is in the state to crash in
  std::set<std::pair<caf::actor_id, std::uint64_t>> watched;

  bool is_request(const test::message_view& v) const {
    return v.routed && v.target.kind == step->kind && v.target.key == step->key &&
           v.atom == step->atom;
  }

  test::fate filter(const test::message_view& v) {
    if (triggered)
      return test::fate::hold; // nothing moves until the crash
    if (is_request(v) && !delivered) {
      if (point == crash_point::request_unsent) {
        triggered = true;
        return test::fate::hold;
      }
      delivered = true;
      if (point == crash_point::answer_lost && v.element->sender)
        watched.emplace(v.element->sender->id(), v.element->mid.response_id().integer_value());
      return test::fate::deliver;
    }
    if (point == crash_point::answer_lost && v.response &&
        watched.count({v.receiver, v.element->mid.integer_value()}) > 0) {
      triggered = true;
      return test::fate::hold;
    }
    return test::fate::deliver;
  }

  bool gate(const persistence::snapshot& s) {
    if (point == crash_point::answer_unwritten && delivered && s.kind == step->kind &&
        s.key == step->key) {
      triggered = true;
      return false;
    }
    if (point == crash_point::step_unwritten && s.kind == "order" &&
        step->starts(json::parse(s.state))) {
      triggered = true;
      return false;
    }
    return !triggered;
  }
};

class SagaRestartTest : public SagaFaultsTest, public ::testing::WithParamInterface<restart_param> {
protected:
  std::unique_ptr<test::test_node> node_;
  crash_plan plan_;
  int restarts_ = 0;

  void start(std::int64_t at_ms) {
    node_ = std::make_unique<test::test_node>(dir_.path(), options(), at_ms);
  }

  void arm() {
    node_->set_filter([this](const test::message_view& v) { return plan_.filter(v); });
    node_->sink().gate = [this](const persistence::snapshot& s) { return plan_.gate(s); };
  }

  /// After an action: when the step was reached, the node dies there and comes back. `again`
  /// is what the client does when its request got no answer before the crash (it repeats it).
  void after_action(const std::function<void()>& again = {}) {
    node_->run_for(10s);
    if (!plan_.triggered || restarts_ > 0)
      return;
    ++restarts_;
    auto held_writes = node_->sink().held();
    if (plan_.point == crash_point::answer_unwritten ||
        plan_.point == crash_point::step_unwritten) {
      EXPECT_GE(held_writes, 1u) << "a write is lost with the crash";
    }
    auto later = node_->now_ms() + 5'000;
    if (GetParam().how == restart_kind::new_node) {
      node_->crash();
      node_.reset();
      start(later);
    } else {
      node_->set_filter(nullptr);
      node_->sink().gate = nullptr;
      node_->restart_in_place(5s);
    }
    node_->resume();
    if (again)
      again();
    node_->run_for(10s);
  }

  /// Time passes until the order shows `status` (at most `max`).
  void wait_for(const std::string& status, std::chrono::seconds max = 120s) {
    for (auto waited = 0s; waited < max && view(*node_, "o1").status != status; waited += 5s)
      node_->run_for(5s);
    ASSERT_EQ(view(*node_, "o1").status, status) << view(*node_, "o1").body;
  }

  /// The warehouses move their lists until the order is delivered (a move whose write was lost
  /// in the crash is made again).
  void deliver() {
    for (int i = 0; i < 6 && view(*node_, "o1").status != "DELIVERED"; ++i) {
      move_warehouses(*node_);
      after_action();
    }
  }
};

TEST_P(SagaRestartTest, TheSagaFinishesFromItsLastDurableStep) {
  auto& c = step_cases()[GetParam().step];
  SCOPED_TRACE(std::string{"step "} + c.name + ", " + to_string(GetParam().point));
  plan_.step = &c;
  plan_.point = GetParam().point;
  start(test::test_node::origin_ms);
  arm();
  std::string journey = c.journey;

  auto checkout = [this] {
    if (view(*node_, "o1").code == "unknown_entity")
      node_->post("order", "o1", checkout_atom::value, two_line_order("o1"));
  };
  node_->post("order", "o1", checkout_atom::value, two_line_order("o1"));
  after_action(checkout);
  wait_for("PENDING_PAYMENT");
  if (journey == "expire") {
    node_->run_for(61s);
    after_action();
  } else {
    ASSERT_TRUE(node_->decide(payment_id(*node_, "o1"), journey != "decline"));
    after_action();
  }
  if (journey == "buy" || journey == "return" || journey == "cancel")
    wait_for("PICKING"); // a payment the crash kept from the saga is found when the hold ends
  if (journey == "cancel") {
    auto cancel = [this] { node_->post("order", "o1", actors::cancel_atom::value); };
    cancel();
    after_action(cancel);
  }
  if (journey == "buy" || journey == "return")
    deliver();
  if (journey == "return") {
    wait_for("DELIVERED");
    auto give_back = [this] { node_->post("order", "o1", actors::return_atom::value); };
    give_back();
    after_action(give_back);
  }
  node_->run_for(60s);

  EXPECT_EQ(restarts_, 1) << "the node stopped in the step";
  auto& node = *node_;
  auto final_view = view(node, "o1");
  auto v = body(final_view);
  EXPECT_EQ(v["saga"]["step"], "done") << v["timeline"].dump(1);
  EXPECT_EQ(notes(v, c.once_note), 1) << v["timeline"].dump(1);
  auto a = levels(node, "sku-a");
  auto b = levels(node, "sku-b");
  auto p = payment(node, "o1");
  static const std::map<std::string, std::string> ends = {{"buy", "DELIVERED"},
                                                          {"decline", "PAYMENT_FAILED"},
                                                          {"expire", "EXPIRED"},
                                                          {"cancel", "CANCELLED"},
                                                          {"return", "RETURNED"}};
  EXPECT_EQ(final_view.status, ends.at(journey)) << v["timeline"].dump(1);
  if (journey == "buy") {
    EXPECT_EQ(a.sold, 2);
    EXPECT_EQ(b.sold, 3);
    EXPECT_EQ(p.captured, two_line_total);
    EXPECT_EQ(p.refunded, 0);
  } else {
    EXPECT_EQ(a.sold, 0);
    EXPECT_EQ(b.sold, 0);
    EXPECT_EQ(p.captured, p.refunded) << "nothing stays captured";
  }
  if (journey == "cancel" || journey == "return") {
    EXPECT_EQ(p.refunded, two_line_total) << "refunded once";
  }
  EXPECT_EQ(a.reserved, 0);
  EXPECT_EQ(b.reserved, 0);
  EXPECT_EQ(a.on_hand + a.sold, 10);
  EXPECT_EQ(b.on_hand + b.sold, 6);
}

std::vector<restart_param> all_restart_params() {
  // A new node has a new in-process bank that knows none of the old payments: only steps that
  // need nothing from the bank after the restart run that way; all run with the bank up.
  static const std::set<std::string> without_bank = {"reserve", "confirm", "start_pick",
                                                     "ship",    "release", "cancel_payment"};
  std::vector<restart_param> out;
  for (std::size_t i = 0; i < step_cases().size(); ++i)
    for (auto p : {crash_point::request_unsent, crash_point::answer_unwritten,
                   crash_point::answer_lost, crash_point::step_unwritten}) {
      out.push_back({i, p, restart_kind::bank_stays_up});
      if (without_bank.count(step_cases()[i].name) > 0)
        out.push_back({i, p, restart_kind::new_node});
    }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, SagaRestartTest, ::testing::ValuesIn(all_restart_params()),
                         restart_param_name);

TEST_F(SagaFaultsTest, ALineAnsweredWhileAnotherIsOutIsWrittenWithTheNextStepOrAskedAgain) {
  // An answer that issues no command (line 0 reserved while line 1 is still out) is not
  // written on its own: the order's next step carries it, or a read of the order. The saga,
  // resumed after a crash, asks again what its durable state does not show answered; a SKU
  // answers a repeated reserve by its reservation id, so the units are held once.
  {
    test::test_node node{dir_.path(), options()};
    node.set_filter([](const test::message_view& v) {
      return v.routed && v.atom == "reserve" && v.target.key == "sku-b" ? test::fate::hold
                                                                        : test::fate::deliver;
    });
    node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
    node.settle();
    ASSERT_EQ(node.held_messages(), 1u);
    ASSERT_EQ(levels(node, "sku-a").reserved, 2);
    EXPECT_EQ(stored_notes(node, "o1", "line 0 (sku-a) reserved: wh-msk x2"), 0)
        << "written only with the next step";
    node.crash(); // (not read first: a read waits until what it shows is durable)
  }
  test::test_node node{dir_.path(), options(), test::test_node::origin_ms + 1'000};
  EXPECT_EQ(node.resume(), 1u);
  node.run_for(1s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PENDING_PAYMENT") << v["timeline"].dump(1);
  EXPECT_EQ(levels(node, "sku-a").reserved, 2) << "asked again, held once";
  EXPECT_EQ(levels(node, "sku-b").reserved, 3);
  // Now durable: the step that created the payment carried both lines.
  EXPECT_EQ(stored_notes(node, "o1", "line 0 (sku-a) reserved: wh-msk x2"), 1);
}

TEST_F(SagaFaultsTest, AChangeNobodyWaitedForIsWrittenByTheNextIdleCheck) {
  // Line 1's reserve is lost and its deadline is far off: the idle check, not the retry, is
  // the first to write line 0's answer (and an order with an unwritten change never sleeps).
  auto opts = options();
  opts.idle_timeout = 500ms;
  test::test_node node{dir_.path(), opts};
  node.set_filter([](const test::message_view& v) {
    return v.routed && v.atom == "reserve" && v.target.key == "sku-b" ? test::fate::drop
                                                                      : test::fate::deliver;
  });
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.settle();
  auto line0 = [&] { return stored_notes(node, "o1", "line 0 (sku-a) reserved: wh-msk x2"); };
  EXPECT_EQ(line0(), 0);
  node.run_for(600ms); // the idle check at 500 ms; the step's deadline is at 2 s
  EXPECT_EQ(line0(), 1);
  EXPECT_EQ(view(node, "o1").status, "PROCESSING");
}

TEST_F(SagaFaultsTest, ARestartAfterTheHoldRanOutExpiresTheOrderAndFreesTheStock) {
  {
    test::test_node node{dir_.path(), options()};
    node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
    node.run_for(1s);
    ASSERT_EQ(view(node, "o1").status, "PENDING_PAYMENT");
    ASSERT_EQ(levels(node, "sku-a").reserved, 2);
  }
  // Down for longer than the hold and the SKU's grace: both expiries passed meanwhile.
  test::test_node node{dir_.path(), options(), test::test_node::origin_ms + 10 * 60'000};
  EXPECT_EQ(node.resume(), 1u);
  node.run_for(10s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "EXPIRED") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "done");
  EXPECT_EQ(levels(node, "sku-a").reserved, 0);
  EXPECT_EQ(levels(node, "sku-a").available, 10);
  EXPECT_EQ(levels(node, "sku-b").reserved, 0);
  EXPECT_EQ(payment(node, "o1").captured, 0);
}

TEST_F(SagaFaultsTest, APaymentWhoseCallbackWasLostInACrashIsFoundWhenTheHoldRunsOut) {
  test::test_node node{dir_.path(), options()};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(1s);
  auto pay = payment_id(node, "o1");
  // The buyer pays; the node dies before the bank's callback is handled.
  node.set_filter([](const test::message_view& v) {
    return v.routed && v.atom == "bankevent" ? test::fate::hold : test::fate::deliver;
  });
  ASSERT_TRUE(node.decide(pay, true));
  ASSERT_EQ(node.held_messages(), 1u);
  node.set_filter(nullptr);
  node.restart_in_place(10s);
  node.resume();
  node.run_for(10s);
  EXPECT_EQ(view(node, "o1").status, "PENDING_PAYMENT") << "the saga does not know yet";
  node.run_for(60s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "PICKING") << v["timeline"].dump(1);
  EXPECT_GE(first_note(v, "paid just before the hold ran out"), 0);
  EXPECT_EQ(payment(node, "o1").captured, two_line_total);
  for (int i = 0; i < 3; ++i) {
    move_warehouses(node);
    node.run_for(1s);
  }
  EXPECT_EQ(view(node, "o1").status, "DELIVERED");
  EXPECT_EQ(levels(node, "sku-a").sold, 2);
}

TEST_F(SagaFaultsTest, APaymentFoundAfterItsHoldsExpiredAtTheSkusIsRefunded) {
  test::test_node node{dir_.path(), options()};
  node.post("order", "o1", checkout_atom::value, two_line_order("o1"));
  node.run_for(1s);
  node.set_filter([](const test::message_view& v) {
    return v.routed && v.atom == "bankevent" ? test::fate::hold : test::fate::deliver;
  });
  ASSERT_TRUE(node.decide(payment_id(node, "o1"), true));
  node.set_filter(nullptr);
  // Down for longer than the hold and the SKUs' grace: the units went back on sale.
  node.restart_in_place(5min);
  node.resume();
  node.run_for(30s);
  auto v = body(view(node, "o1"));
  EXPECT_EQ(v["status"], "EXPIRED") << v["timeline"].dump(1);
  EXPECT_EQ(v["saga"]["step"], "done");
  EXPECT_GE(first_note(v, "lost its hold"), 0) << v["timeline"].dump(1);
  auto p = payment(node, "o1");
  EXPECT_EQ(p.captured, two_line_total);
  EXPECT_EQ(p.refunded, two_line_total) << "money taken for stock that is gone goes back";
  EXPECT_EQ(levels(node, "sku-a").reserved, 0);
  EXPECT_EQ(levels(node, "sku-b").reserved, 0);
}

/// Six sagas in different steps when the node stops: o1 awaits payment, o2 is paid and
/// picking, o3 is packed, o4 is being cancelled (paid: its refund is in flight), o5 was
/// declined (its releases are in flight), o6 is reserving (its reserve is in flight).
void six_sagas_then_crash(test::test_node& node) {
  auto pay = [&node](const char* id) {
    auto v = json::parse(node.ask<order_answer>("order", id, actors::order_view_atom::value).body);
    return v["payment"]["id"].get<std::string>();
  };
  for (auto id : {"o1", "o2", "o3", "o4", "o5"}) {
    auto c = SagaFaultsTestAccess::order(id, {{"sku-a", 2}});
    node.post("order", id, checkout_atom::value, c);
  }
  node.run_for(1s);
  ASSERT_TRUE(node.decide(pay("o3"), true));
  node.run_for(1s);
  node.tell("warehouse", "wh-msk", actors::advance_atom::value);
  ASSERT_TRUE(node.decide(pay("o2"), true));
  ASSERT_TRUE(node.decide(pay("o4"), true));
  node.run_for(1s);
  node.set_filter([](const test::message_view& v) {
    bool held = (v.routed && (v.atom == "payrefund" || v.atom == "release")) ||
                (v.routed && v.atom == "reserve" && v.target.key == "sku-b");
    return held ? test::fate::hold : test::fate::deliver;
  });
  node.post("order", "o4", actors::cancel_atom::value);
  ASSERT_TRUE(node.decide(pay("o5"), false));
  node.post("order", "o6", checkout_atom::value, SagaFaultsTestAccess::order("o6", {{"sku-b", 1}}));
  node.run_for(1s);
  EXPECT_GE(node.held_messages(), 4u);
}

/// After the restart: the buyer of o1 pays if the bank still knows the payment, the warehouses
/// work, time passes; then every saga has ended as `expected`.
void finish_six_sagas(test::test_node& node, const std::map<std::string, std::string>& expected,
                      bool bank_remembers) {
  node.run_for(5s);
  if (bank_remembers) {
    auto v =
        json::parse(node.ask<order_answer>("order", "o1", actors::order_view_atom::value).body);
    EXPECT_TRUE(node.decide(v["payment"]["id"].get<std::string>(), true));
  }
  node.run_for(5s);
  for (int i = 0; i < 4; ++i) {
    for (auto wh : {"wh-msk", "wh-spb", "wh-ekb"})
      node.tell("warehouse", wh, actors::advance_atom::value);
    node.run_for(5s);
  }
  node.run_for(120s); // o6 waits for a payment until its hold runs out
  std::int64_t sold = 0;
  for (auto& [id, status] : expected) {
    auto v = json::parse(node.ask<order_answer>("order", id, actors::order_view_atom::value).body);
    EXPECT_EQ(v["status"], status) << id << "\n" << v["timeline"].dump(1);
    EXPECT_EQ(v["saga"]["step"], "done") << id;
    auto p = node.ask<payment_answer>("payment", id, actors::payment_view_atom::value);
    if (status == "DELIVERED") {
      sold += 2;
      EXPECT_EQ(p.captured, 2'000) << id;
      EXPECT_EQ(p.refunded, 0) << id;
    } else {
      EXPECT_EQ(p.captured, p.refunded) << id << " keeps money for an order that ended " << status;
    }
  }
  auto a = json::parse(node.ask<std::string>("sku", "sku-a", actors::stock_view_atom::value));
  EXPECT_EQ(a["sold"], sold);
  EXPECT_EQ(a["reserved"], 0);
  EXPECT_EQ(a["on_hand"], 20 - sold);
  auto b = json::parse(node.ask<std::string>("sku", "sku-b", actors::stock_view_atom::value));
  EXPECT_EQ(b["reserved"], 0);
  EXPECT_EQ(b["available"], 6);
}

TEST_F(SagaFaultsTest, ARestartWithSagasInEveryStepFinishesAllOfThem) {
  auto opts = options();
  opts.stock["sku-a"] = {{"wh-msk", 20}};
  test::test_node node{dir_.path(), opts};
  six_sagas_then_crash(node);
  node.set_filter(nullptr);
  node.restart_in_place(20s);
  EXPECT_EQ(node.resume(), 6u) << "every unfinished saga is woken";
  finish_six_sagas(node,
                   {{"o1", "DELIVERED"},
                    {"o2", "DELIVERED"},
                    {"o3", "DELIVERED"},
                    {"o4", "CANCELLED"},
                    {"o5", "PAYMENT_FAILED"},
                    {"o6", "EXPIRED"}},
                   true);
}

TEST_F(SagaFaultsTest, ANewNodeOnTheSameFolderFinishesEverySagaItCan) {
  auto opts = options();
  opts.stock["sku-a"] = {{"wh-msk", 20}};
  std::int64_t restart_at = 0;
  {
    test::test_node node{dir_.path(), opts};
    six_sagas_then_crash(node);
    restart_at = node.now_ms() + 20'000;
    node.crash();
  }
  // The new process has a new in-process bank that knows no payment of the old one: o1 cannot
  // be paid any more and expires; o4's refund finds no payment to refund (see the report), so
  // o4 is left out; everything else ends as with the bank up.
  test::test_node node{dir_.path(), opts, restart_at};
  EXPECT_EQ(node.resume(), 6u) << "every unfinished saga is woken";
  finish_six_sagas(node,
                   {{"o1", "EXPIRED"},
                    {"o2", "DELIVERED"},
                    {"o3", "DELIVERED"},
                    {"o5", "PAYMENT_FAILED"},
                    {"o6", "EXPIRED"}},
                   false);
}

} // namespace
} // namespace souk
