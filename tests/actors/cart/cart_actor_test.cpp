// The cart actor through the real directory, SKU stock, order saga and bank on CAF's
// deterministic scheduler over a real SQLite store.

#include "actors/api/cart_api.hpp"
#include "actors/api/directory.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp" // test_node.hpp uses it
#include "actors/api/stock_api.hpp"
#include "actors/cart/cart.hpp"
#include "persistence/writer.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using actors::cart_add_atom;
using actors::cart_add_cmd;
using actors::cart_answer;
using actors::cart_checkout_atom;
using actors::cart_checkout_cmd;
using actors::cart_clear_atom;
using actors::cart_get_atom;
using actors::cart_merge_atom;
using actors::cart_merge_cmd;
using actors::cart_remove_atom;
using actors::cart_remove_cmd;
using actors::cart_set_atom;
using actors::cart_set_cmd;
using actors::order_answer;

class CartActorTest : public ::testing::Test {
protected:
  static test::node_options options() {
    test::node_options o;
    o.stock = {{"sku-a", {{"wh-msk", 10}}}, {"sku-b", {{"wh-spb", 5}}}, {"sku-c", {{"wh-ekb", 1}}}};
    o.saga.hold_ms = 60'000;
    o.saga.step_timeout_ms = 2'000;
    return o;
  }

  static cart_add_cmd item(const std::string& sku, std::int64_t qty, std::int64_t price = 1000,
                           std::int64_t expected_version = 0) {
    return {sku, 7, "Item " + sku, qty, price, expected_version};
  }

  static cart_checkout_cmd checkout(const std::string& order_id) {
    return {order_id, "k-" + order_id, "RUB", "msk", "Moscow", "Tverskaya 1"};
  }

  static json body(const cart_answer& a) { return json::parse(a.body); }

  static cart_answer add(test::test_node& node, const std::string& user, cart_add_cmd c) {
    return node.ask<cart_answer>("cart", user, cart_add_atom::value, std::move(c));
  }
  static cart_answer get(test::test_node& node, const std::string& user) {
    return node.ask<cart_answer>("cart", user, cart_get_atom::value);
  }

  static std::optional<json> stored_cart(test::test_node& node, const std::string& user) {
    auto r = node.store().load_snapshot("cart", user);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || !*r)
      return std::nullopt;
    return json::parse((*r)->state);
  }

  static json stats(test::test_node& node) {
    caf::scoped_actor me{node.system(), true};
    auto h = me->request(node.directory(), caf::infinite, actors::stats_atom::value);
    node.settle();
    json out;
    h.receive([&](std::string& s) { out = json::parse(s); },
              [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
    return out;
  }

  static std::int64_t reserved(test::test_node& node, const std::string& sku) {
    auto j = json::parse(node.ask<std::string>("sku", sku, actors::stock_view_atom::value));
    return j.at("reserved").get<std::int64_t>();
  }

  test::temp_dir dir_;
};

/// A request through the directory that is not settled: the test decides what runs.
template <class... Ts>
auto route(caf::scoped_actor& me, test::test_node& node, const std::string& user, Ts&&... xs) {
  return me->request(node.directory(), caf::infinite, actors::route_atom::value,
                     actors::entity_ref{"cart", user}, caf::make_message(std::forward<Ts>(xs)...));
}

TEST_F(CartActorTest, AddSetRemoveAndClearAnswerTheCartWithANewVersionEachTime) {
  test::test_node node{dir_.path(), options()};
  auto empty = body(get(node, "u1"));
  EXPECT_EQ(empty["version"], 0);
  EXPECT_TRUE(empty["items"].empty());

  auto a = add(node, "u1", item("sku-a", 2, 1500));
  ASSERT_EQ(a.code, "");
  auto j = body(a);
  EXPECT_EQ(j["version"], 1);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["sku"], "sku-a");
  EXPECT_EQ(j["items"][0]["product_id"], 7);
  EXPECT_EQ(j["items"][0]["title"], "Item sku-a");
  EXPECT_EQ(j["items"][0]["qty"], 2);
  EXPECT_EQ(j["items"][0]["unit_price"], (json{{"amount", 1500}, {"currency", "RUB"}}));
  EXPECT_EQ(j["items"][0]["line_total"], (json{{"amount", 3000}, {"currency", "RUB"}}));
  EXPECT_EQ(j["subtotal"]["amount"], 3000);

  EXPECT_EQ(body(add(node, "u1", item("sku-b", 1, 500)))["subtotal"]["amount"], 3500);
  auto set = node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{"sku-a", 5, 0});
  EXPECT_EQ(set.code, "");
  EXPECT_EQ(body(set)["items"][0]["qty"], 5);
  EXPECT_EQ(body(set)["version"], 3);
  auto removed =
      node.ask<cart_answer>("cart", "u1", cart_remove_atom::value, cart_remove_cmd{"sku-b", 0});
  EXPECT_EQ(body(removed)["items"].size(), 1u);
  EXPECT_EQ(body(removed)["subtotal"]["amount"], 7500);
  auto zero =
      node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{"sku-a", 0, 0});
  EXPECT_TRUE(body(zero)["items"].empty()) << "qty 0 removes the line";
  add(node, "u1", item("sku-c", 1));
  auto cleared = node.ask<cart_answer>("cart", "u1", cart_clear_atom::value, std::int64_t{0});
  EXPECT_EQ(cleared.code, "");
  EXPECT_TRUE(body(cleared)["items"].empty());
  EXPECT_EQ(body(cleared)["version"], 7);
  EXPECT_EQ(body(get(node, "u1"))["version"], 7);
  // Carts are per key.
  EXPECT_EQ(body(get(node, "u2"))["version"], 0);
}

/// The cart `model` as the actor's answer and snapshot must show it.
json expected_lines(const actors::cart& model, bool api) {
  json lines = json::array();
  for (auto& l : model.lines()) {
    if (api)
      lines.push_back({{"sku", l.sku},
                       {"product_id", l.product_id},
                       {"title", l.title},
                       {"qty", l.qty},
                       {"unit_price", {{"amount", l.unit_price}, {"currency", "RUB"}}},
                       {"line_total", {{"amount", l.line_total()}, {"currency", "RUB"}}}});
    else
      lines.push_back({{"sku", l.sku},
                       {"product_id", l.product_id},
                       {"title", l.title},
                       {"qty", l.qty},
                       {"unit_price", l.unit_price}});
  }
  return lines;
}

TEST_F(CartActorTest, RandomChangesAnswerAndStoreExactlyTheCartAModelHolds) {
  // The actor keeps each line's JSON text and rewrites only lines that changed: lines that
  // move, change quantity, price or title, and lines that go, must all show as they are now.
  test::test_node node{dir_.path(), options()};
  actors::cart model;
  std::mt19937 rng{20261202};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> skus = {"sku-a", "sku-b", "sku-c", "sku-d", "sku-e", "sku-f"};
  for (int step = 0; step < 400; ++step) {
    auto sku = skus[static_cast<std::size_t>(pick(6))];
    cart_answer a;
    switch (pick(8)) {
    case 0:
    case 1:
    case 2: { // add, sometimes at a new price or under a new title
      auto c = item(sku, 1 + pick(3), 1000 + 100 * pick(3));
      if (pick(4) == 0)
        c.title = "Renamed " + sku + " " + std::to_string(step);
      model.add({c.sku, c.product_id, c.title, c.qty, c.unit_price}, 0);
      a = add(node, "u1", c);
      break;
    }
    case 3:
    case 4: {
      auto qty = pick(6);
      model.set(sku, qty, 0);
      a = node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{sku, qty, 0});
      break;
    }
    case 5:
    case 6:
      model.remove(sku, 0);
      a = node.ask<cart_answer>("cart", "u1", cart_remove_atom::value, cart_remove_cmd{sku, 0});
      break;
    default:
      if (pick(4) == 0) {
        model.clear(0);
        a = node.ask<cart_answer>("cart", "u1", cart_clear_atom::value, std::int64_t{0});
      } else {
        a = get(node, "u1");
      }
    }
    auto j = body(a);
    ASSERT_EQ(j["items"], expected_lines(model, true)) << "step " << step;
    ASSERT_EQ(j["subtotal"]["amount"], model.subtotal()) << "step " << step;
    ASSERT_EQ(j["version"], model.version()) << "step " << step;
    if (step % 7 == 0 && model.version() > 0) {
      node.advance(150ms); // past the write-behind window
      auto saved = stored_cart(node, "u1");
      ASSERT_TRUE(saved) << "step " << step;
      ASSERT_EQ((*saved)["lines"], expected_lines(model, false)) << "step " << step;
      ASSERT_EQ((*saved)["version"], model.version()) << "step " << step;
    }
  }
}

TEST_F(CartActorTest, AStaleIfMatchIsAVersionMismatchAndChangesNothing) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 1));
  auto stale = add(node, "u1", item("sku-b", 1, 1000, 5));
  EXPECT_EQ(stale.code, "version_mismatch");
  EXPECT_EQ(body(stale)["version"], 1);
  EXPECT_EQ(body(stale)["items"].size(), 1u);
  auto set = node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{"sku-a", 3, 2});
  EXPECT_EQ(set.code, "version_mismatch");
  auto removed =
      node.ask<cart_answer>("cart", "u1", cart_remove_atom::value, cart_remove_cmd{"sku-a", 9});
  EXPECT_EQ(removed.code, "version_mismatch");
  auto cleared = node.ask<cart_answer>("cart", "u1", cart_clear_atom::value, std::int64_t{3});
  EXPECT_EQ(cleared.code, "version_mismatch");
  EXPECT_EQ(body(cleared)["items"].size(), 1u);

  auto matching = add(node, "u1", item("sku-b", 1, 1000, 1));
  EXPECT_EQ(matching.code, "");
  EXPECT_EQ(body(matching)["version"], 2);
}

TEST_F(CartActorTest, QuantitiesLinesAndMissingSkusAreRefusedByTheLimits) {
  test::test_node node{dir_.path(), options()};
  EXPECT_EQ(add(node, "u1", item("sku-a", 0)).code, "invalid_quantity");
  EXPECT_EQ(add(node, "u1", item("sku-a", 101)).code, "invalid_quantity");
  EXPECT_EQ(add(node, "u1", item("sku-a", 100)).code, "");
  EXPECT_EQ(add(node, "u1", item("sku-a", 1)).code, "invalid_quantity") << "past 100 on the line";
  EXPECT_EQ(
      node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{"sku-x", 1, 0}).code,
      "not_in_cart");
  EXPECT_EQ(
      node.ask<cart_answer>("cart", "u1", cart_remove_atom::value, cart_remove_cmd{"sku-x", 0})
          .code,
      "not_in_cart");
  for (int i = 1; i < 100; ++i)
    ASSERT_EQ(add(node, "u1", item("sku-" + std::to_string(i), 1)).code, "");
  auto full = add(node, "u1", item("sku-one-too-many", 1));
  EXPECT_EQ(full.code, "too_many_lines");
  EXPECT_EQ(body(full)["items"].size(), 100u);
  EXPECT_EQ(body(full)["version"], 100);
}

TEST_F(CartActorTest, AnswersAtOnceAndWritesTheSnapshotWithinTheWriteBehindWindow) {
  test::test_node node{dir_.path(), options()};
  auto writes = node.sink().writes;
  auto first = add(node, "u1", item("sku-a", 1));
  ASSERT_EQ(first.code, "");
  add(node, "u1", item("sku-b", 2));
  // The answers came while nothing was written.
  EXPECT_EQ(node.sink().writes, writes);
  EXPECT_EQ(node.sink().held(), 0u);
  EXPECT_FALSE(stored_cart(node, "u1"));
  node.advance(50ms);
  EXPECT_FALSE(stored_cart(node, "u1"));
  node.advance(60ms);
  auto saved = stored_cart(node, "u1");
  ASSERT_TRUE(saved);
  EXPECT_EQ((*saved)["version"], 2);
  EXPECT_EQ((*saved)["lines"].size(), 2u);
  EXPECT_EQ(node.sink().writes, writes + 1) << "both changes go out in one write";
  // A refused change writes nothing.
  EXPECT_EQ(add(node, "u1", item("sku-a", 0)).code, "invalid_quantity");
  node.advance(200ms);
  EXPECT_EQ(node.sink().writes, writes + 1);
}

TEST_F(CartActorTest, ACrashLosesOnlyTheUnwrittenWindow) {
  {
    test::test_node node{dir_.path(), options()};
    add(node, "u1", item("sku-a", 2));
    add(node, "u1", item("sku-b", 1));
    node.advance(150ms);
    // Inside the next window when the process dies: it loses at most this change.
    add(node, "u1", item("sku-c", 1));
    node.crash();
  }
  test::test_node again{dir_.path(), options(), test::test_node::origin_ms + 1'000};
  auto j = body(get(again, "u1"));
  EXPECT_EQ(j["version"], 2);
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["sku"], "sku-a");
  EXPECT_EQ(j["items"][0]["qty"], 2);
  EXPECT_EQ(j["items"][1]["sku"], "sku-b");
  EXPECT_EQ(add(again, "u1", item("sku-a", 1, 1000, 2)).code, "") << "the version carries on";
}

TEST_F(CartActorTest, AStopWritesTheUnwrittenWindowBeforeTheCartStops) {
  {
    test::test_node node{dir_.path(), options()};
    add(node, "u1", item("sku-a", 2));
    node.advance(150ms);
    // Answered, not written yet (the write-behind is due in 100 ms) when the node stops.
    ASSERT_EQ(add(node, "u1", item("sku-c", 1)).code, "");
    EXPECT_EQ((*stored_cart(node, "u1"))["version"], 1);
  } // the node's stop
  test::test_node again{dir_.path(), options(), test::test_node::origin_ms + 1'000};
  auto j = body(get(again, "u1"));
  EXPECT_EQ(j["version"], 2);
  ASSERT_EQ(j["items"].size(), 2u) << j.dump();
  EXPECT_EQ(j["items"][1]["sku"], "sku-c");
}

TEST_F(CartActorTest, CheckoutPlacesTheOrderAndEmptiesTheCart) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 2));
  auto before = body(add(node, "u1", item("sku-b", 1, 2500)))["version"].get<std::int64_t>();
  auto placed = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o1"));
  ASSERT_EQ(placed.code, "");
  EXPECT_EQ(placed.status, "PENDING_PAYMENT");
  auto order = json::parse(placed.body);
  EXPECT_EQ(order["lines"].size(), 2u);
  EXPECT_EQ(order["lines"][0]["sku"], "sku-a");
  EXPECT_EQ(order["lines"][0]["qty"], 2);

  auto cart = body(get(node, "u1"));
  EXPECT_TRUE(cart["items"].empty());
  EXPECT_EQ(cart["version"], before + 1);
  EXPECT_EQ(node.ask<order_answer>("order", "o1", actors::order_view_atom::value).status,
            "PENDING_PAYMENT");
  EXPECT_EQ(reserved(node, "sku-a"), 2);
  EXPECT_EQ(reserved(node, "sku-b"), 1);
  // The emptied cart is written behind like any change.
  node.advance(200ms);
  auto saved = stored_cart(node, "u1");
  ASSERT_TRUE(saved);
  EXPECT_TRUE((*saved)["lines"].empty());
  EXPECT_EQ((*saved)["frozen_for"], "");
  // A new cart can be filled at once.
  EXPECT_EQ(add(node, "u1", item("sku-a", 1)).code, "");
}

TEST_F(CartActorTest, TheFreezeIsDurableBeforeTheOrderHearsOfTheCheckout) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 1));
  caf::scoped_actor me{node.system(), true};
  auto h = route(me, node, "u1", cart_checkout_atom::value, checkout("o1"));
  node.sched().run();
  // Only the cart's freeze is waiting to be written: the order has not been created.
  EXPECT_EQ(node.sink().held(), 1u);
  EXPECT_FALSE(*node.store().load_snapshot("order", "o1"));
  EXPECT_TRUE(me->mailbox().empty());
  node.sink().drain();
  auto frozen = stored_cart(node, "u1");
  ASSERT_TRUE(frozen);
  EXPECT_EQ((*frozen)["frozen_for"], "o1");
  EXPECT_EQ((*frozen)["checkout"]["address"], "Tverskaya 1");
  node.settle();
  ASSERT_FALSE(me->mailbox().empty());
  h.receive([](order_answer& a) { EXPECT_EQ(a.status, "PENDING_PAYMENT"); },
            [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
}

TEST_F(CartActorTest, ACheckoutWithAShortLineKeepsTheCartAndUnfreezesIt) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 1));
  auto version = body(add(node, "u1", item("sku-c", 5)))["version"];
  auto failed = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o2"));
  EXPECT_EQ(failed.code, "insufficient_stock");
  auto cart = body(get(node, "u1"));
  EXPECT_EQ(cart["items"].size(), 2u);
  EXPECT_EQ(cart["version"], version) << "freezing and unfreezing keep the version";
  EXPECT_EQ(
      node.ask<cart_answer>("cart", "u1", cart_set_atom::value, cart_set_cmd{"sku-c", 1, 0}).code,
      "")
      << "unfrozen: the buyer can fix the cart";
  node.settle();
  EXPECT_EQ(reserved(node, "sku-a"), 0);
  // The fixed cart checks out under a new order id.
  auto placed = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o3"));
  EXPECT_EQ(placed.status, "PENDING_PAYMENT");
  EXPECT_TRUE(body(get(node, "u1"))["items"].empty());
}

TEST_F(CartActorTest, WhileFrozenChangesAreRefusedAndARetryGetsTheSameAnswer) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 3));
  caf::scoped_actor me{node.system(), true};
  auto first = route(me, node, "u1", cart_checkout_atom::value, checkout("o4"));
  node.sched().run(); // frozen; the freeze is not durable yet
  auto change = route(me, node, "u1", cart_add_atom::value, item("sku-b", 1));
  auto merge = route(me, node, "u1", cart_merge_atom::value,
                     cart_merge_cmd{"g1", {{"sku-b", 1, "Item sku-b", 1, 1000}}});
  auto clear = route(me, node, "u1", cart_clear_atom::value, std::int64_t{0});
  auto other = route(me, node, "u1", cart_checkout_atom::value, checkout("o5"));
  auto retry = route(me, node, "u1", cart_checkout_atom::value, checkout("o4"));
  node.sched().run();
  for (auto* h : {&change, &merge, &clear})
    h->receive(
        [](cart_answer& a) {
          EXPECT_EQ(a.code, "frozen");
          EXPECT_EQ(json::parse(a.body)["items"].size(), 1u);
        },
        [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
  other.receive([](order_answer& a) { EXPECT_EQ(a.code, "frozen"); },
                [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
  node.settle();
  std::string first_body;
  first.receive(
      [&](order_answer& a) {
        EXPECT_EQ(a.status, "PENDING_PAYMENT");
        first_body = a.body;
      },
      [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
  retry.receive([&](order_answer& a) { EXPECT_EQ(a.body, first_body); },
                [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
  EXPECT_EQ(reserved(node, "sku-a"), 3) << "one order, reserved once";
  EXPECT_FALSE(*node.store().load_snapshot("order", "o5"));

  // A retry after the answer gets the order as it stands and leaves the new cart alone.
  add(node, "u1", item("sku-b", 2));
  auto late = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o4"));
  EXPECT_EQ(late.code, "");
  EXPECT_EQ(late.status, "PENDING_PAYMENT");
  EXPECT_EQ(body(get(node, "u1"))["items"].size(), 1u);
  EXPECT_EQ(reserved(node, "sku-b"), 0);
}

TEST_F(CartActorTest, AnOldCheckoutRetriedAfterANewerOneLeavesTheNewCartAlone) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 1));
  ASSERT_EQ(node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o4")).code,
            "");
  add(node, "u1", item("sku-b", 1));
  ASSERT_EQ(node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o5")).code,
            "");
  // The client retries its first key (its answer was a 202, so the key was released) after
  // the second checkout, with new lines in the cart. The cart does not remember o4 as its
  // last order, so it freezes for o4 and asks it: o4 exists and answers as it stands, and must
  // not take the new lines with it.
  add(node, "u1", item("sku-c", 1));
  auto late = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o4"));
  EXPECT_EQ(late.code, "");
  EXPECT_EQ(late.status, "PENDING_PAYMENT");
  EXPECT_EQ(json::parse(late.body)["lines"].size(), 1u);
  auto cart = body(get(node, "u1"));
  ASSERT_EQ(cart["items"].size(), 1u) << "the new line stays in the cart";
  EXPECT_EQ(cart["items"][0]["sku"], "sku-c");
  EXPECT_EQ(reserved(node, "sku-c"), 0) << "the new line is not reserved";
  EXPECT_EQ(add(node, "u1", item("sku-a", 1)).code, "") << "not frozen";

  // The same after a restart: the order keeps which freeze created it in its snapshot.
  ASSERT_EQ(node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o6")).code,
            "");
  add(node, "u1", item("sku-a", 3));
  node.advance(200ms); // the cart's write-behind
  node.restart_in_place(1s);
  auto again = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o4"));
  EXPECT_EQ(again.status, "PENDING_PAYMENT");
  EXPECT_EQ(json::parse(again.body)["lines"][0]["sku"], "sku-a");
  cart = body(get(node, "u1"));
  ASSERT_EQ(cart["items"].size(), 1u);
  EXPECT_EQ(cart["items"][0]["qty"], 3);
}

TEST_F(CartActorTest, CheckoutOfAnEmptyCartIsCartEmpty) {
  test::test_node node{dir_.path(), options()};
  auto a = node.ask<order_answer>("cart", "u1", cart_checkout_atom::value, checkout("o6"));
  EXPECT_EQ(a.code, "cart_empty");
  EXPECT_FALSE(*node.store().load_snapshot("order", "o6"));
  EXPECT_EQ(add(node, "u1", item("sku-a", 1)).code, "") << "an empty cart is not frozen";
}

TEST_F(CartActorTest, MergingAGuestCartAddsItsLinesWithinTheLimits) {
  test::test_node node{dir_.path(), options()};
  add(node, "u1", item("sku-a", 1, 1000));
  add(node, "u1", item("sku-c", 99));
  cart_merge_cmd guest{"g-42",
                       {{"sku-a", 7, "Guest title", 2, 900},
                        {"sku-b", 8, "Item sku-b", 3, 500},
                        {"sku-b", 8, "Item sku-b", 1, 500},
                        {"sku-c", 9, "Item sku-c", 5, 1000},
                        {"sku-d", 9, "Item sku-d", 0, 1000}}};
  auto merged = node.ask<cart_answer>("cart", "u1", cart_merge_atom::value, guest);
  ASSERT_EQ(merged.code, "");
  auto j = body(merged);
  EXPECT_EQ(j["version"], 3) << "one new version for the whole merge";
  ASSERT_EQ(j["items"].size(), 3u);
  EXPECT_EQ(j["items"][0]["qty"], 3);
  EXPECT_EQ(j["items"][0]["title"], "Item sku-a") << "existing lines keep title and price";
  EXPECT_EQ(j["items"][0]["unit_price"]["amount"], 1000);
  EXPECT_EQ(j["items"][1]["qty"], 100) << "capped at the per-line limit";
  EXPECT_EQ(j["items"][2]["sku"], "sku-b");
  EXPECT_EQ(j["items"][2]["qty"], 4);
  // Merging nothing changes nothing.
  auto again =
      node.ask<cart_answer>("cart", "u1", cart_merge_atom::value, cart_merge_cmd{"g-0", {}});
  EXPECT_EQ(body(again)["version"], 3);
  // A guest cart merges into an empty (never seen) user cart too.
  auto fresh = node.ask<cart_answer>("cart", "u9", cart_merge_atom::value, guest);
  EXPECT_EQ(body(fresh)["items"].size(), 3u);
}

TEST_F(CartActorTest, AnIdleCartPassivatesAndComesBackWithItsState) {
  auto opts = options();
  opts.idle_timeout = 1s;
  test::test_node node{dir_.path(), opts};
  add(node, "u1", item("sku-a", 2));
  add(node, "u1", item("sku-b", 1));
  EXPECT_EQ(stats(node)["active"].value("cart", 0), 1);
  node.advance(5s);
  auto s = stats(node);
  EXPECT_EQ(s["active"].value("cart", 0), 0);
  EXPECT_GE(s["passivations"].get<int>(), 1);
  ASSERT_TRUE(stored_cart(node, "u1")) << "written before it stopped";
  auto j = body(get(node, "u1"));
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(stats(node)["active"].value("cart", 0), 1);
}

TEST_F(CartActorTest, ACartUntouchedForTheTtlIsEmptiedOnActivation) {
  auto opts = options();
  opts.idle_timeout = 60s;
  test::test_node node{dir_.path(), opts};
  add(node, "u1", item("sku-a", 2));
  node.advance(6 * 24h, 1h);
  EXPECT_EQ(body(get(node, "u1"))["items"].size(), 1u) << "six days: still there";
  node.advance(7 * 24h + 1h, 1h);
  auto j = body(get(node, "u1"));
  EXPECT_TRUE(j["items"].empty());
  EXPECT_EQ(j["version"], 2) << "emptying is a change";
  node.advance(1s);
  ASSERT_TRUE(stored_cart(node, "u1"));
  EXPECT_TRUE((*stored_cart(node, "u1"))["lines"].empty());
}

TEST_F(CartActorTest, ACartThatStaysActiveIsEmptiedByTheIdleCheck) {
  auto opts = options();
  opts.idle_timeout = 8 * 24h; // never passivated within the test
  test::test_node node{dir_.path(), opts};
  add(node, "u1", item("sku-a", 2));
  node.advance(8 * 24h + 1h, 6h);
  EXPECT_EQ(stats(node)["activations"], 1) << "the same activation";
  EXPECT_TRUE(body(get(node, "u1"))["items"].empty());
}

TEST_F(CartActorTest, AFrozenCartAsksItsOrderAgainWhenActivated) {
  test::test_node node{dir_.path(), options()};
  // A snapshot as a crash leaves it: the freeze is durable, the order never heard of it.
  json frozen{
      {"version", 3},
      {"touched_at_ms", node.now_ms()},
      {"frozen_for", "o7"},
      {"lines",
       {{{"sku", "sku-a"}, {"product_id", 7}, {"title", "A"}, {"qty", 2}, {"unit_price", 1000}}}},
      {"checkout",
       {{"order_id", "o7"},
        {"idempotency_key", "k-o7"},
        {"currency", "RUB"},
        {"region", "msk"},
        {"city", "Moscow"},
        {"address", "Tverskaya 1"}}}};
  persistence::write_request req;
  req.ops.emplace_back(persistence::put_snapshot{{"cart", "u1", 1, 0, frozen.dump(), 0}});
  ASSERT_TRUE(node.store().writer().submit(std::move(req)).ok());
  node.store().writer().flush();

  get(node, "u1"); // activates it
  node.settle();
  auto cart = body(get(node, "u1"));
  EXPECT_TRUE(cart["items"].empty());
  EXPECT_EQ(cart["version"], 4);
  auto order = node.ask<order_answer>("order", "o7", actors::order_view_atom::value);
  EXPECT_EQ(order.status, "PENDING_PAYMENT");
  EXPECT_EQ(json::parse(order.body)["shipping"]["address"], "Tverskaya 1");
  EXPECT_EQ(reserved(node, "sku-a"), 2);
}

TEST_F(CartActorTest, AnOrderThatMissesTheDeadlineIsAskedAgainAndItsLateAnswerIsIgnored) {
  test::test_node node{dir_.path(), options()};
  ASSERT_EQ(add(node, "u1", item("sku-a", 2)).code, "");
  // The cart's first checkout request reaches the order only after the cart gave up on it.
  bool held = false;
  node.set_filter([&held](const test::message_view& v) {
    if (!held && v.routed && v.target.kind == "order" && v.atom == "checkout") {
      held = true;
      return test::fate::hold;
    }
    return test::fate::deliver;
  });
  caf::scoped_actor me{node.system(), true};
  auto h = route(me, node, "u1", cart_checkout_atom::value, checkout("o1"));
  node.settle();
  ASSERT_TRUE(held);
  // The cart's deadline for the order's answer: step_timeout × (max_attempts + 1).
  auto saga = options().saga;
  node.run_for(std::chrono::milliseconds(saga.step_timeout_ms * (saga.max_attempts + 1)));
  bool timed_out = false;
  h.receive([](order_answer&) { ADD_FAILURE() << "the order never heard of the checkout"; },
            [&](caf::error& e) { timed_out = e == caf::sec::request_timeout; });
  EXPECT_TRUE(timed_out);
  // The cart asks again after its backoff; this time the order hears it and places the order.
  node.run_for(std::chrono::milliseconds(saga.step_timeout_ms));
  EXPECT_TRUE(body(get(node, "u1"))["items"].empty()) << "the retry placed the order";
  EXPECT_EQ(reserved(node, "sku-a"), 2);
  // The first request arrives now: the order answers it as the retry (same order id), and the
  // cart, no longer asking, ignores that answer.
  EXPECT_EQ(node.release_held(), 1u);
  node.settle();
  auto cart = body(get(node, "u1"));
  EXPECT_TRUE(cart["items"].empty());
  EXPECT_EQ(reserved(node, "sku-a"), 2) << "one order, reserved once";
  auto order = node.ask<order_answer>("order", "o1", actors::order_view_atom::value);
  EXPECT_EQ(order.status, "PENDING_PAYMENT");
  // The cart takes new lines again: nothing is left frozen or waiting.
  EXPECT_EQ(add(node, "u1", item("sku-b", 1)).code, "");
}

} // namespace
} // namespace souk
