// The order saga through real actors (directory, SKU stock, order, payment, bank, warehouse) on
// CAF's deterministic scheduler over a real SQLite store.

#include "actors/api/events.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/api/warehouse_api.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::checkout_atom;
using actors::checkout_cmd;
using actors::order_answer;

/// The order events the node published, in order.
struct event_log final : actors::order_event_listener {
  std::mutex mtx;
  std::vector<actors::order_event> seen;
  void publish(const actors::order_event& e) override {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back(e);
  }
  /// "type status returned_units" of each event (the type `order.<status>` when not set).
  std::vector<std::string> described() {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<std::string> out;
    for (auto& e : seen) {
      std::string status;
      for (char c : e.status)
        status += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back((e.type.empty() ? "order." + status : e.type) + " " + e.status + " " +
                    std::to_string(e.returned_units));
    }
    return out;
  }
};

struct sku_levels {
  std::int64_t on_hand = 0, reserved = 0, available = 0, sold = 0;
};

class SagaTest : public ::testing::Test {
protected:
  test::node_options options() {
    test::node_options o;
    o.stock = {{"sku-a", {{"wh-msk", 10}}},
               {"sku-b", {{"wh-msk", 1}, {"wh-spb", 5}}},
               {"sku-c", {{"wh-ekb", 1}}}};
    o.saga.hold_ms = 60'000;
    o.saga.step_timeout_ms = 2'000;
    return o;
  }

  static checkout_cmd order(const std::string& id,
                            std::vector<std::pair<std::string, std::int64_t>> lines) {
    checkout_cmd c;
    c.order_id = id;
    c.user_id = "u1";
    c.idempotency_key = "k-" + id;
    for (auto& [sku, qty] : lines)
      c.lines.push_back({sku, 1, "Item " + sku, qty, 1000});
    c.region = "msk";
    c.city = "Moscow";
    c.address = "Tverskaya 1";
    return c;
  }

  static nlohmann::json body(const order_answer& a) { return nlohmann::json::parse(a.body); }

  sku_levels levels(test::test_node& node, const std::string& sku) {
    auto j =
        nlohmann::json::parse(node.ask<std::string>("sku", sku, actors::stock_view_atom::value));
    return {j.at("on_hand").get<std::int64_t>(), j.at("reserved").get<std::int64_t>(),
            j.at("available").get<std::int64_t>(), j.at("sold").get<std::int64_t>()};
  }

  test::temp_dir dir_;
};

TEST_F(SagaTest, HappyPathGoesFromCheckoutToDeliveredAndSellsTheStock) {
  test::test_node node{dir_.path(), options()};
  auto placed =
      node.ask<order_answer>("order", "o1", checkout_atom::value, order("o1", {{"sku-a", 2}}));
  ASSERT_EQ(placed.code, "");
  ASSERT_EQ(placed.status, "PENDING_PAYMENT");
  auto view = body(placed);
  auto payment_id = view["payment"]["id"].get<std::string>();
  EXPECT_EQ(view["payment"]["redirect_url"], "/bank/3ds/" + payment_id);
  EXPECT_EQ(view["lines"][0]["warehouse_id"], "wh-msk");
  auto held = levels(node, "sku-a");
  EXPECT_EQ(held.reserved, 2);
  EXPECT_EQ(held.available, 8);

  ASSERT_TRUE(node.decide(payment_id, true));
  auto paid = node.ask<order_answer>("order", "o1", actors::order_view_atom::value);
  EXPECT_EQ(paid.status, "PICKING");
  EXPECT_EQ(body(paid)["payment"]["status"], "captured");
  EXPECT_EQ(body(paid)["payment"]["captured"]["amount"], 2000);

  node.advance(1s);
  EXPECT_EQ(node.ask<order_answer>("order", "o1", actors::order_view_atom::value).status, "PACKED");
  node.advance(1s);
  EXPECT_EQ(node.ask<order_answer>("order", "o1", actors::order_view_atom::value).status,
            "SHIPPED");
  node.advance(1s);
  auto done = node.ask<order_answer>("order", "o1", actors::order_view_atom::value);
  EXPECT_EQ(done.status, "DELIVERED");
  auto after = levels(node, "sku-a");
  EXPECT_EQ(after.on_hand, 8);
  EXPECT_EQ(after.reserved, 0);
  EXPECT_EQ(after.sold, 2);
  EXPECT_GE(body(done)["timeline"].size(), 10u);
}

TEST_F(SagaTest, OneOfThreeLinesShortRejectsTheOrderAndReleasesTheOtherTwo) {
  test::test_node node{dir_.path(), options()};
  auto placed = node.ask<order_answer>("order", "o2", checkout_atom::value,
                                       order("o2", {{"sku-a", 1}, {"sku-b", 2}, {"sku-c", 5}}));
  EXPECT_EQ(placed.code, "insufficient_stock");
  node.settle();
  auto final_view = node.ask<order_answer>("order", "o2", actors::order_view_atom::value);
  EXPECT_EQ(final_view.status, "REJECTED");
  EXPECT_EQ(body(final_view)["lines"][2]["sku"], "sku-c");
  EXPECT_EQ(levels(node, "sku-a").available, 10);
  EXPECT_EQ(levels(node, "sku-b").available, 6);
  EXPECT_EQ(levels(node, "sku-c").available, 1);
  EXPECT_EQ(levels(node, "sku-b").reserved, 0);
}

TEST_F(SagaTest, DeclinedPaymentFailsTheOrderAndGivesTheStockBack) {
  test::test_node node{dir_.path(), options()};
  auto placed =
      node.ask<order_answer>("order", "o3", checkout_atom::value, order("o3", {{"sku-b", 3}}));
  ASSERT_EQ(placed.status, "PENDING_PAYMENT");
  // One unit from Moscow, two from St Petersburg: the line is split, nearest first.
  auto parts = body(placed)["lines"][0]["parts"];
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]["warehouse_id"], "wh-msk");
  EXPECT_EQ(levels(node, "sku-b").available, 3);
  ASSERT_TRUE(node.decide(body(placed)["payment"]["id"].get<std::string>(), false));
  auto failed = node.ask<order_answer>("order", "o3", actors::order_view_atom::value);
  EXPECT_EQ(failed.status, "PAYMENT_FAILED");
  EXPECT_EQ(levels(node, "sku-b").available, 6);
}

TEST_F(SagaTest, HoldExpiryCancelsThePaymentAndReleasesTheStock) {
  test::test_node node{dir_.path(), options()};
  auto placed =
      node.ask<order_answer>("order", "o4", checkout_atom::value, order("o4", {{"sku-a", 4}}));
  ASSERT_EQ(placed.status, "PENDING_PAYMENT");
  node.advance(59s, 5s);
  EXPECT_EQ(node.ask<order_answer>("order", "o4", actors::order_view_atom::value).status,
            "PENDING_PAYMENT");
  node.advance(2s);
  auto expired = node.ask<order_answer>("order", "o4", actors::order_view_atom::value);
  EXPECT_EQ(expired.status, "EXPIRED");
  EXPECT_EQ(body(expired)["payment"]["status"], "cancelled");
  EXPECT_EQ(levels(node, "sku-a").available, 10);
  // The buyer approving after the expiry changes nothing: the bank has cancelled it.
  EXPECT_FALSE(node.decide(body(placed)["payment"]["id"].get<std::string>(), true));
}

TEST_F(SagaTest, RepeatedCheckoutOfTheSameOrderRunsTheSagaOnce) {
  test::test_node node{dir_.path(), options()};
  auto first =
      node.ask<order_answer>("order", "o5", checkout_atom::value, order("o5", {{"sku-a", 3}}));
  auto second =
      node.ask<order_answer>("order", "o5", checkout_atom::value, order("o5", {{"sku-a", 3}}));
  EXPECT_EQ(first.status, "PENDING_PAYMENT");
  EXPECT_EQ(second.status, "PENDING_PAYMENT");
  EXPECT_EQ(body(first)["payment"]["id"], body(second)["payment"]["id"]);
  EXPECT_EQ(levels(node, "sku-a").reserved, 3);
}

TEST_F(SagaTest, CancelWhilePickingRefundsAndReleases) {
  test::test_node node{dir_.path(), options()};
  auto placed =
      node.ask<order_answer>("order", "o6", checkout_atom::value, order("o6", {{"sku-a", 1}}));
  ASSERT_TRUE(node.decide(body(placed)["payment"]["id"].get<std::string>(), true));
  auto cancelled = node.ask<order_answer>("order", "o6", actors::cancel_atom::value);
  EXPECT_EQ(cancelled.code, "");
  EXPECT_EQ(cancelled.status, "CANCELLED");
  EXPECT_EQ(body(cancelled)["payment"]["status"], "refunded");
  EXPECT_EQ(body(cancelled)["payment"]["refunded"]["amount"], 1000);
  auto sku = levels(node, "sku-a");
  EXPECT_EQ(sku.available, 10);
  EXPECT_EQ(sku.sold, 0);
  // The warehouse does not move a cancelled list.
  node.advance(5s);
  EXPECT_EQ(node.ask<order_answer>("order", "o6", actors::order_view_atom::value).status,
            "CANCELLED");
}

TEST_F(SagaTest, CancelAfterShipmentIsRefusedAndReturnAfterDeliveryRestocks) {
  test::test_node node{dir_.path(), options()};
  auto placed =
      node.ask<order_answer>("order", "o7", checkout_atom::value, order("o7", {{"sku-a", 2}}));
  ASSERT_TRUE(node.decide(body(placed)["payment"]["id"].get<std::string>(), true));
  node.advance(2s);
  auto refused = node.ask<order_answer>("order", "o7", actors::cancel_atom::value);
  EXPECT_EQ(refused.code, "not_cancellable");
  EXPECT_EQ(refused.status, "SHIPPED");
  node.advance(1s);
  auto returned = node.ask<order_answer>("order", "o7", actors::return_atom::value);
  EXPECT_EQ(returned.code, "");
  EXPECT_EQ(returned.status, "RETURNED");
  EXPECT_EQ(body(returned)["payment"]["status"], "refunded");
  auto sku = levels(node, "sku-a");
  EXPECT_EQ(sku.on_hand, 10);
  EXPECT_EQ(sku.sold, 0);
}

/// Asks order `id` to return `lines` (sku, qty); none: every unit not returned yet.
order_answer give_back(test::test_node& node, const std::string& id,
                       std::vector<std::pair<std::string, std::int64_t>> lines) {
  std::vector<actors::checkout_line> out;
  for (auto& [sku, qty] : lines)
    out.push_back({sku, 0, "", qty, 0});
  return node.ask<order_answer>("order", id, actors::return_atom::value, std::move(out),
                                std::string{"e2e"});
}

TEST_F(SagaTest, PartialReturnsRefundAndRestockTheirUnitsUntilTheLastEndsReturned) {
  auto events = std::make_shared<event_log>();
  auto opts = options();
  opts.order_events = events;
  test::test_node node{dir_.path(), opts};
  auto placed =
      node.ask<order_answer>("order", "o10", checkout_atom::value, order("o10", {{"sku-a", 3}}));
  ASSERT_TRUE(node.decide(body(placed)["payment"]["id"].get<std::string>(), true));
  node.advance(5s);
  ASSERT_EQ(node.ask<order_answer>("order", "o10", actors::order_view_atom::value).status,
            "DELIVERED");
  ASSERT_EQ(levels(node, "sku-a").sold, 3);

  auto one = give_back(node, "o10", {{"sku-a", 1}});
  EXPECT_EQ(one.code, "");
  EXPECT_EQ(one.status, "DELIVERED");
  EXPECT_EQ(body(one)["payment"]["status"], "partially_refunded");
  EXPECT_EQ(body(one)["payment"]["refunded"]["amount"], 1000);
  EXPECT_EQ(body(one)["lines"][0]["returned"], 1);
  auto sku = levels(node, "sku-a");
  EXPECT_EQ(sku.on_hand, 8);
  EXPECT_EQ(sku.sold, 2);

  EXPECT_EQ(give_back(node, "o10", {{"sku-a", 3}}).code, "return_too_many_units");
  EXPECT_EQ(give_back(node, "o10", {{"sku-z", 1}}).code, "return_not_in_order");
  EXPECT_EQ(levels(node, "sku-a").on_hand, 8) << "a refused return changes nothing";

  auto rest = give_back(node, "o10", {});
  EXPECT_EQ(rest.code, "");
  EXPECT_EQ(rest.status, "RETURNED");
  EXPECT_EQ(body(rest)["payment"]["status"], "refunded");
  EXPECT_EQ(body(rest)["payment"]["refunded"]["amount"], 3000);
  sku = levels(node, "sku-a");
  EXPECT_EQ(sku.on_hand, 10);
  EXPECT_EQ(sku.sold, 0);
  EXPECT_EQ(give_back(node, "o10", {}).code, "not_returnable");
  // Buyers' streams hear of each return: the partial one though the status stayed DELIVERED,
  // the refused ones not at all.
  auto seen = events->described();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen.back(), "order.returned RETURNED 3");
  EXPECT_EQ(seen[seen.size() - 2], "order.partially_returned DELIVERED 1");
  EXPECT_EQ(seen[seen.size() - 3], "order.delivered DELIVERED -1");
}

TEST_F(SagaTest, AReturnAfterTheSkuPrunedTheShippedReservationStillRestocks) {
  auto opts = options();
  opts.tombstone_ttl = 10s; // shipped reservations are pruned like tombstones
  test::test_node node{dir_.path(), opts};
  // sku-b has one unit in wh-msk and five in wh-spb: the line is split over both.
  auto placed =
      node.ask<order_answer>("order", "o11", checkout_atom::value, order("o11", {{"sku-b", 3}}));
  ASSERT_TRUE(node.decide(body(placed)["payment"]["id"].get<std::string>(), true));
  node.advance(5s);
  ASSERT_EQ(node.ask<order_answer>("order", "o11", actors::order_view_atom::value).status,
            "DELIVERED");
  // Idle long enough to be passivated: the SKU loads again and prunes the shipped reservation.
  node.advance(3min, 1s);
  auto stock =
      nlohmann::json::parse(node.ask<std::string>("sku", "sku-b", actors::stock_view_atom::value));
  EXPECT_TRUE(stock["reservations"].empty()) << stock.dump();
  ASSERT_EQ(levels(node, "sku-b").on_hand, 3);

  // The order knows the parts: the first unit goes back to wh-msk, the nearest part.
  auto one = give_back(node, "o11", {{"sku-b", 1}});
  EXPECT_EQ(one.code, "");
  EXPECT_EQ(one.status, "DELIVERED");
  stock =
      nlohmann::json::parse(node.ask<std::string>("sku", "sku-b", actors::stock_view_atom::value));
  EXPECT_EQ(stock["warehouses"]["wh-msk"]["on_hand"], 1) << stock.dump();
  EXPECT_EQ(stock["warehouses"]["wh-spb"]["on_hand"], 3) << stock.dump();
  // Pruned again before the rest comes back: the recreated reservation starts from the unit
  // the order knows is back, so that unit is not counted twice.
  node.advance(3min, 1s);
  auto rest = give_back(node, "o11", {});
  EXPECT_EQ(rest.status, "RETURNED");
  auto sku = levels(node, "sku-b");
  EXPECT_EQ(sku.on_hand, 6);
  EXPECT_EQ(sku.sold, 0);
}

TEST_F(SagaTest, ABankThatNeverAnswersFailsThePaymentStepAfterItsAttempts) {
  auto opts = options();
  opts.bank.no_answer_rate = 1.0;
  test::test_node node{dir_.path(), opts};
  auto h = node.ask<order_answer>("order", "o8", actors::order_view_atom::value);
  EXPECT_EQ(h.code, "unknown_entity");
  node.tell("order", "o8", checkout_atom::value, order("o8", {{"sku-a", 1}}));
  EXPECT_EQ(levels(node, "sku-a").reserved, 1);
  node.advance(10min, 1s);
  auto failed = node.ask<order_answer>("order", "o8", actors::order_view_atom::value);
  // The payment's outcome stays unknown (the bank answers nothing, not even the cancel), so
  // the saga keeps asking before it releases anything, and says it is stuck.
  auto view = body(failed);
  EXPECT_EQ(view["saga"]["step"], "compensating");
  EXPECT_TRUE(view["saga"]["stuck"].get<bool>());
  EXPECT_EQ(levels(node, "sku-a").reserved, 0) << "stock is released while the bank is asked";
}

TEST_F(SagaTest, ARestartInTheMiddleOfTheSagaResumesFromTheLastDurableStep) {
  std::string payment_id;
  {
    test::test_node node{dir_.path(), options()};
    auto placed =
        node.ask<order_answer>("order", "o9", checkout_atom::value, order("o9", {{"sku-a", 2}}));
    payment_id = body(placed)["payment"]["id"].get<std::string>();
    ASSERT_TRUE(node.decide(payment_id, true));
    EXPECT_EQ(node.ask<order_answer>("order", "o9", actors::order_view_atom::value).status,
              "PICKING");
  }
  test::test_node again{dir_.path(), options(), test::test_node::origin_ms + 1'000};
  // The runtime wakes unfinished sagas at start; the warehouse's snapshot holds the pick list.
  EXPECT_EQ(again.resume(), 1u);
  again.advance(3s);
  auto done = again.ask<order_answer>("order", "o9", actors::order_view_atom::value);
  EXPECT_EQ(done.status, "DELIVERED");
  EXPECT_EQ(levels(again, "sku-a").sold, 2);
  EXPECT_EQ(levels(again, "sku-a").on_hand, 8);
}

} // namespace
} // namespace souk
