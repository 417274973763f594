// The order saga's rules without actors: the forward path, the failures that compensate, and
// the buyer's cancel and return, each driven like the order actor drives it (event in, the
// commands out answered by the participants).
#include "actors/order/order_state_machine.hpp"
#include "tests/actors/order/saga_participants.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace souk::actors::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> timeline_statuses(const order_state_machine& m) {
  std::vector<std::string> out;
  for (const auto& t : m.timeline())
    if (out.empty() || out.back() != t.status)
      out.push_back(t.status);
  return out;
}

// -- the forward path ----------------------------------------------------------------------------

TEST(OrderSaga, HappyPathWalksEveryStatusWithTheExpectedCommands) {
  auto m = make_order(two_lines());
  EXPECT_EQ(m.status(), order_status::processing);
  EXPECT_EQ(m.total(), 5500);

  auto c = m.start(t0);
  EXPECT_EQ(m.phase(), saga_phase::reserving);
  EXPECT_FALSE(m.checkout_decided());
  EXPECT_EQ(m.hold_expires_at_ms(), t0 + hold_ms);
  ASSERT_THAT(describe(c), ElementsAre("reserve sku-a o-1/0 x3", "reserve sku-b o-1/1 x1"));
  for (const auto& r : c)
    EXPECT_EQ(r.at_ms, t0 + hold_ms + grace_ms) << "the SKU keeps the hold a grace longer";
  EXPECT_EQ(c[0].line, 0U);
  EXPECT_EQ(c[1].line, 1U);

  EXPECT_THAT(m.on_reserved(0, {{"w-north", 2}, {"w-south", 1}}, t0 + 10), IsEmpty());
  EXPECT_EQ(m.phase(), saga_phase::reserving);
  c = m.on_reserved(1, {{"w-north", 1}}, t0 + 20);
  EXPECT_THAT(describe(c), ElementsAre("create_payment  o-1:pay x5500"));
  EXPECT_EQ(m.phase(), saga_phase::creating_payment);
  EXPECT_EQ(m.status(), order_status::processing);

  c = m.on_payment_created("pay-1", "https://bank.example/3ds/pay-1", t0 + 30);
  EXPECT_THAT(describe(c), ElementsAre("publish order.pending_payment"));
  EXPECT_EQ(m.status(), order_status::pending_payment);
  EXPECT_EQ(m.phase(), saga_phase::awaiting_payment);
  EXPECT_TRUE(m.checkout_decided());
  EXPECT_EQ(m.failure_code(), "");
  EXPECT_EQ(m.payment().id, "pay-1");
  EXPECT_EQ(m.payment().status, "pending");
  EXPECT_EQ(m.next_timer(), t0 + hold_ms) << "only the hold's expiry is awaited";

  c = m.on_payment_status("captured", 5500, 0, t0 + 40);
  EXPECT_THAT(describe(c),
              ElementsAre("publish order.paid", "confirm sku-a o-1/0", "confirm sku-b o-1/1"));
  EXPECT_EQ(m.status(), order_status::paid);
  EXPECT_EQ(m.phase(), saga_phase::confirming);
  EXPECT_EQ(m.payment().captured, 5500);

  EXPECT_THAT(m.on_confirmed(1, true, t0 + 50), IsEmpty());
  c = m.on_confirmed(0, true, t0 + 60);
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("start_pick w-north o-1#0", "start_pick w-south o-1#0"))
      << "a line split over two warehouses gives two pick lists";
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_EQ(m.picks().size(), 2U);

  EXPECT_THAT(m.on_pick_started("w-south", t0 + 70), IsEmpty());
  c = m.on_pick_started("w-north", t0 + 80);
  EXPECT_THAT(describe(c), ElementsAre("publish order.picking"));
  EXPECT_EQ(m.status(), order_status::picking);
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
  EXPECT_EQ(m.next_timer(), std::nullopt) << "the warehouses drive the order now";

  EXPECT_THAT(m.on_pick_progress("w-north", "picking", t0 + 90), IsEmpty());
  EXPECT_THAT(m.on_pick_progress("w-north", "packed", t0 + 100), IsEmpty());
  EXPECT_EQ(m.status(), order_status::picking) << "w-south has not packed yet";
  EXPECT_THAT(describe(m.on_pick_progress("w-south", "packed", t0 + 110)),
              ElementsAre("publish order.packed"));
  EXPECT_EQ(m.status(), order_status::packed);

  EXPECT_THAT(m.on_pick_progress("w-north", "shipped", t0 + 120), IsEmpty());
  c = m.on_pick_progress("w-south", "shipped", t0 + 130);
  EXPECT_THAT(describe(c),
              ElementsAre("ship sku-a o-1/0", "ship sku-b o-1/1", "publish order.shipped"));
  EXPECT_EQ(m.status(), order_status::shipped);
  EXPECT_TRUE(m.next_timer().has_value()) << "the ship commands have a deadline";

  EXPECT_THAT(m.on_shipped(0, t0 + 140), IsEmpty());
  EXPECT_THAT(m.on_shipped(1, t0 + 150), IsEmpty());
  EXPECT_EQ(m.next_timer(), std::nullopt);
  EXPECT_THAT(m.on_pick_progress("w-north", "delivered", t0 + 160), IsEmpty());
  EXPECT_EQ(m.status(), order_status::shipped);
  c = m.on_pick_progress("w-south", "delivered", t0 + 170);
  EXPECT_THAT(describe(c), ElementsAre("publish order.delivered"));
  EXPECT_EQ(m.status(), order_status::delivered);
  EXPECT_EQ(m.phase(), saga_phase::done);
  EXPECT_FALSE(m.terminal()) << "a return may still reopen a delivered order";
  EXPECT_EQ(m.next_timer(), std::nullopt);
  EXPECT_EQ(m.updated_at_ms(), t0 + 170);

  EXPECT_THAT(timeline_statuses(m), ElementsAre("PROCESSING", "PENDING_PAYMENT", "PAID", "PICKING",
                                                "PACKED", "SHIPPED", "DELIVERED"));
  for (const auto& l : m.lines()) {
    EXPECT_TRUE(l.reserved && l.confirmed && l.shipped) << l.sku;
    EXPECT_FALSE(l.released) << l.sku;
  }
}

TEST(OrderSaga, ParticipantsThatAnswerEverythingDeliverTheOrderWithEveryEventOnce) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  for (const char* stage : {"picking", "packed", "shipped"})
    p.settle(m, p.progress_all(m, stage, t0 + 5000), t0 + 5000);
  p.settle(m, p.progress_all(m, "delivered", t0 + 9000), t0 + 9000);
  EXPECT_EQ(m.status(), order_status::delivered);
  EXPECT_THAT(p.events, ElementsAre("order.pending_payment", "order.paid", "order.picking",
                                    "order.packed", "order.shipped", "order.delivered"));
  EXPECT_TRUE(of_kind(p.seen, kind::release).empty()) << "nothing to compensate";
}

TEST(OrderSaga, LinesInOneWarehouseShareOnePickList) {
  auto m = make_order({{"sku-a", 1, 100}, {"sku-b", 2, 200}});
  participants p; // everything in w-north
  to_pending_payment(m, p);
  auto all = p.settle(m, p.approve(m, t0 + 1000), t0 + 1000);
  EXPECT_THAT(describe(of_kind(all, kind::start_pick)), ElementsAre("start_pick w-north o-1#0"));
}

// -- failures before payment -------------------------------------------------------------------

TEST(OrderSaga, OneShortLineOfThreeRejectsTheOrderAndReleasesTheOtherTwo) {
  auto m = make_order({{"sku-a", 1, 100}, {"sku-b", 5, 200}, {"sku-c", 2, 300}});
  auto c = m.start(t0);
  ASSERT_EQ(c.size(), 3U);
  EXPECT_THAT(m.on_reserved(0, {{"w-north", 1}}, t0 + 1), IsEmpty());
  c = m.on_insufficient(1, 3, t0 + 2);
  EXPECT_THAT(describe(c), UnorderedElementsAre("release sku-a o-1/0", "release sku-c o-1/2"))
      << "all or nothing: the unanswered line is released too (unknown outcome)";
  EXPECT_TRUE(m.checkout_decided());
  EXPECT_EQ(m.failure_code(), "insufficient_stock");
  EXPECT_EQ(m.lines()[1].available, 3);
  EXPECT_TRUE(m.lines()[1].short_of_stock);
  EXPECT_EQ(m.phase(), saga_phase::compensating);
  EXPECT_FALSE(m.terminal());

  EXPECT_THAT(m.on_reserved(2, {{"w-north", 2}}, t0 + 3), IsEmpty())
      << "a late reserve needs nothing: its release is already on the way";
  EXPECT_THAT(m.on_released(0, t0 + 4), IsEmpty());
  c = m.on_released(2, t0 + 5);
  EXPECT_THAT(describe(c), ElementsAre("publish order.rejected"));
  EXPECT_EQ(m.status(), order_status::rejected);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(m.next_timer(), std::nullopt);
  EXPECT_EQ(m.payment().status, "") << "no payment was ever asked for";
  EXPECT_TRUE(m.to_view()["payment"].is_null());
}

TEST(OrderSaga, ShortLineAnsweredWhileCompensatingLetsTheSagaEnd) {
  // Two lines short: the second refusal arrives while the saga already releases it.
  auto m = make_order({{"sku-a", 1, 100}, {"sku-b", 5, 200}, {"sku-c", 2, 300}});
  m.start(t0);
  m.on_reserved(0, {{"w-north", 1}}, t0 + 1);
  auto c = m.on_insufficient(1, 0, t0 + 2);
  ASSERT_EQ(c.size(), 2U);
  EXPECT_THAT(m.on_released(0, t0 + 3), IsEmpty());
  // Line 2 was refused too: nothing is held there, so nothing is left to release.
  c = m.on_insufficient(2, 1, t0 + 4);
  EXPECT_THAT(describe(c), ElementsAre("publish order.rejected"));
  EXPECT_EQ(m.status(), order_status::rejected);
  EXPECT_TRUE(m.terminal());
}

TEST(OrderSaga, DeclinedPaymentFailsTheOrderAndReleasesEveryLine) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto c = m.on_payment_status("declined", 0, 0, t0 + 1000);
  EXPECT_THAT(describe(c), UnorderedElementsAre("release sku-a o-1/0", "release sku-b o-1/1"))
      << "a declined payment needs no cancel";
  EXPECT_EQ(m.phase(), saga_phase::compensating);
  p.settle(m, c, t0 + 1001);
  EXPECT_EQ(m.status(), order_status::payment_failed);
  EXPECT_TRUE(m.terminal());
  EXPECT_THAT(p.events, ElementsAre("order.pending_payment", "order.payment_failed"));
  for (const auto& l : m.lines())
    EXPECT_TRUE(l.released) << l.sku;
}

TEST(OrderSaga, RefusedPaymentFailsTheOrderBeforeCheckoutAnswers) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  ASSERT_EQ(m.phase(), saga_phase::creating_payment);
  auto c = m.on_payment_refused("card blocked", t0 + 10);
  EXPECT_THAT(describe(c), UnorderedElementsAre("release sku-a o-1/0", "release sku-b o-1/1"));
  EXPECT_EQ(m.failure_code(), "payment_refused");
  EXPECT_TRUE(m.checkout_decided());
  p.settle(m, c, t0 + 20);
  EXPECT_EQ(m.status(), order_status::payment_failed);
}

// -- the hold ---------------------------------------------------------------------------------

TEST(OrderSaga, HoldExpiryCancelsThePaymentThenReleasesAndEndsExpired) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto expiry = t0 + hold_ms;
  ASSERT_EQ(m.next_timer(), expiry);
  EXPECT_THAT(m.on_timer(expiry - 1), IsEmpty()) << "not yet";
  EXPECT_EQ(m.phase(), saga_phase::awaiting_payment);

  auto c = m.on_timer(expiry);
  EXPECT_THAT(describe(c), ElementsAre("cancel_payment pay-1 o-1:cancel"))
      << "stock stays held until the bank says the payment is not captured";
  EXPECT_EQ(m.phase(), saga_phase::expiring);
  EXPECT_EQ(m.status(), order_status::pending_payment);

  c = m.on_payment_status("cancelled", 0, 0, expiry + 10);
  EXPECT_THAT(describe(c), UnorderedElementsAre("release sku-a o-1/0", "release sku-b o-1/1"));
  p.settle(m, c, expiry + 20);
  EXPECT_EQ(m.status(), order_status::expired);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(m.payment().status, "cancelled");
  EXPECT_EQ(p.events.back(), "order.expired");
}

TEST(OrderSaga, HoldExpiryWhereTheBankAnswersCapturedContinuesThePaidOrder) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto expiry = t0 + hold_ms;
  auto c = m.on_timer(expiry);
  ASSERT_EQ(m.phase(), saga_phase::expiring);
  c = m.on_payment_status("captured", 5500, 0, expiry + 5);
  EXPECT_THAT(describe(c),
              ElementsAre("publish order.paid", "confirm sku-a o-1/0", "confirm sku-b o-1/1"));
  EXPECT_EQ(m.status(), order_status::paid);
  EXPECT_EQ(m.phase(), saga_phase::confirming);
  p.captured = 5500;
  p.settle(m, c, expiry + 6);
  EXPECT_EQ(m.status(), order_status::picking);
  EXPECT_TRUE(of_kind(p.seen, kind::release).empty());
  EXPECT_TRUE(of_kind(p.seen, kind::refund_payment).empty());
}

TEST(OrderSaga, ConfirmFindingTheHoldGoneRefundsReleasesAndEndsExpired) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  EXPECT_THAT(m.on_confirmed(1, true, t0 + 2000), IsEmpty());
  auto c = m.on_confirmed(0, false, t0 + 2001);
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("refund_payment pay-1 o-1:refund x5500", "release sku-b o-1/1"))
      << "line 0's hold is gone at the SKU; the confirmed line 1 is released";
  EXPECT_EQ(m.phase(), saga_phase::compensating);
  p.settle(m, c, t0 + 2002);
  EXPECT_EQ(m.status(), order_status::expired);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(m.payment().status, "refunded");
  EXPECT_EQ(m.payment().refunded, 5500);
  EXPECT_TRUE(m.picks().empty()) << "no pick list was handed out";
}

// -- the buyer cancels --------------------------------------------------------------------------

TEST(OrderSaga, CancelInPendingPaymentCancelsThePaymentReleasesAndEndsCancelled) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 1000, c));
  EXPECT_THAT(describe(c), ElementsAre("cancel_payment pay-1 o-1:cancel", "release sku-a o-1/0",
                                       "release sku-b o-1/1"));
  EXPECT_EQ(m.cancel_outcome(), std::nullopt) << "decided once compensated";
  p.settle(m, c, t0 + 1001);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.cancel_outcome(), true);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(p.events.back(), "order.cancelled");
}

TEST(OrderSaga, CancelThatFindsThePaymentCapturedRefundsIt) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 1000, c));
  auto r = m.on_payment_status("captured", 5500, 0, t0 + 1001);
  EXPECT_THAT(describe(of_kind(r, kind::refund_payment)),
              ElementsAre("refund_payment pay-1 o-1:refund x5500"));
  p.captured = 5500;
  p.settle(m, r, t0 + 1002);
  p.settle(m, of_kind(c, kind::release), t0 + 1003);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.payment().status, "refunded");
}

TEST(OrderSaga, CancelInPaidBeforePickListsRefundsAndReleases) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 2000, c));
  EXPECT_THAT(describe(c), ElementsAre("refund_payment pay-1 o-1:refund x5500",
                                       "release sku-a o-1/0", "release sku-b o-1/1"));
  EXPECT_THAT(m.on_confirmed(0, true, t0 + 2001), IsEmpty()) << "late confirm changes nothing";
  p.settle(m, c, t0 + 2002);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.cancel_outcome(), true);
  EXPECT_EQ(m.payment().refunded, 5500);
  EXPECT_TRUE(of_kind(p.seen, kind::cancel_pick).empty());
}

TEST(OrderSaga, CancelWhilePickingTakesEveryPickListBackThenRefundsAndReleases) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("cancel_pick w-north o-1#0", "cancel_pick w-south o-1#0"));
  EXPECT_EQ(m.phase(), saga_phase::cancelling_picks);
  EXPECT_THAT(m.on_pick_cancelled("w-north", true, t0 + 3001), IsEmpty());
  c = m.on_pick_cancelled("w-south", true, t0 + 3002);
  EXPECT_THAT(describe(c), ElementsAre("refund_payment pay-1 o-1:refund x5500",
                                       "release sku-a o-1/0", "release sku-b o-1/1"));
  p.settle(m, c, t0 + 3003);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.cancel_outcome(), true);
  EXPECT_EQ(m.picks().at("w-north").stage, "cancelled");
  EXPECT_EQ(m.picks().at("w-south").stage, "cancelled");
}

TEST(OrderSaga, LateWarehouseProgressDoesNotUndoATakenBackPickList) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  EXPECT_THAT(m.on_pick_cancelled("w-north", true, t0 + 3001), IsEmpty());
  // w-north's "picking" notice was sent before it took the list back and arrives after.
  auto v = m.version();
  EXPECT_THAT(m.on_pick_progress("w-north", "picking", t0 + 3002), IsEmpty());
  EXPECT_EQ(m.picks().at("w-north").stage, "cancelled");
  EXPECT_EQ(m.version(), v);
  c = m.on_pick_cancelled("w-south", true, t0 + 3003);
  p.settle(m, c, t0 + 3004);
  EXPECT_EQ(m.status(), order_status::cancelled) << "no warehouse shipped: the cancel holds";
  EXPECT_EQ(m.cancel_outcome(), true);
}

TEST(OrderSaga, CancelRefusedWhenOneWarehouseShippedReassignsTheOtherAndDelivers) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  m.on_pick_progress("w-north", "shipped", t0 + 2900);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  ASSERT_EQ(c.size(), 2U);
  EXPECT_THAT(m.on_pick_cancelled("w-north", false, t0 + 3001), IsEmpty());
  c = m.on_pick_cancelled("w-south", true, t0 + 3002);
  EXPECT_THAT(describe(c), ElementsAre("start_pick w-south o-1#1"))
      << "w-south's tombstone refuses the old key: the list comes back under a new one";
  EXPECT_EQ(m.cancel_outcome(), false);
  EXPECT_EQ(m.status(), order_status::picking);
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_FALSE(m.terminal());

  EXPECT_THAT(m.on_pick_started("w-south", "o-1#1", t0 + 3003), IsEmpty());
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
  c = m.on_pick_progress("w-south", "shipped", t0 + 4000);
  EXPECT_THAT(describe(c),
              ElementsAre("ship sku-a o-1/0", "ship sku-b o-1/1", "publish order.shipped"));
  p.settle(m, c, t0 + 4001);
  p.settle(m, p.progress_all(m, "delivered", t0 + 5000), t0 + 5000);
  EXPECT_EQ(m.status(), order_status::delivered);
  EXPECT_TRUE(of_kind(p.seen, kind::refund_payment).empty());
  EXPECT_TRUE(of_kind(p.seen, kind::release).empty());
}

TEST(OrderSaga, AnswersToAnOlderPickGenerationAreIgnored) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  m.on_pick_progress("w-north", "shipped", t0 + 2900);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  EXPECT_THAT(m.on_pick_cancelled("w-north", "o-1#0", false, t0 + 3001), IsEmpty());
  c = m.on_pick_cancelled("w-south", "o-1#0", true, t0 + 3002);
  ASSERT_THAT(describe(c), ElementsAre("start_pick w-south o-1#1"));

  // A repeated answer to the first start_pick does not answer o-1#1, which may have been lost.
  auto v = m.version();
  EXPECT_THAT(m.on_pick_started("w-south", "o-1#0", t0 + 3003), IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_THAT(describe(m.on_timer(*m.next_timer())), ElementsAre("start_pick w-south o-1#1"));
  EXPECT_THAT(m.on_pick_started("w-south", "o-1#1", t0 + 20'000), IsEmpty());
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
  m.on_pick_progress("w-south", "packed", t0 + 21'000);
  ASSERT_EQ(m.status(), order_status::packed);

  // The buyer cancels again; the first round's "taken back" from w-south arrives once more.
  ASSERT_TRUE(m.request_cancel(t0 + 22'000, c));
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("cancel_pick w-north o-1#1", "cancel_pick w-south o-1#1"));
  EXPECT_THAT(m.on_pick_cancelled("w-south", "o-1#0", true, t0 + 22'001), IsEmpty());
  EXPECT_EQ(m.picks().at("w-south").stage, "packed");
  // In truth w-south had shipped its second list meanwhile: nobody takes anything back.
  EXPECT_THAT(m.on_pick_cancelled("w-north", "o-1#1", false, t0 + 22'002), IsEmpty());
  c = m.on_pick_cancelled("w-south", "o-1#1", false, t0 + 22'003);
  EXPECT_THAT(of_kind(c, kind::start_pick), IsEmpty()) << "no second list for w-south";
  EXPECT_EQ(m.cancel_outcome(), false);
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
  c = m.on_pick_progress("w-south", "shipped", t0 + 23'000);
  EXPECT_THAT(describe(c),
              ElementsAre("ship sku-a o-1/0", "ship sku-b o-1/1", "publish order.shipped"));
}

TEST(OrderSaga, OldProgressNoticeDoesNotStandInForAReassignedPickList) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  m.on_pick_progress("w-north", "shipped", t0 + 2900);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  m.on_pick_cancelled("w-north", "o-1#0", false, t0 + 3001);
  c = m.on_pick_cancelled("w-south", "o-1#0", true, t0 + 3002);
  ASSERT_THAT(describe(c), ElementsAre("start_pick w-south o-1#1"));
  // w-south's "picking" of its first list (sent before it took that list back) arrives now,
  // and start_pick o-1#1 was lost: w-south holds no list at all.
  m.on_pick_progress("w-south", "picking", t0 + 3003);
  EXPECT_EQ(m.phase(), saga_phase::assigning) << "only the answer to o-1#1 acknowledges it";
  ASSERT_TRUE(m.next_timer().has_value()) << "or nothing would ever send o-1#1 again";
  EXPECT_THAT(describe(m.on_timer(*m.next_timer())), ElementsAre("start_pick w-south o-1#1"));
  EXPECT_THAT(describe(m.on_pick_started("w-south", "o-1#1", t0 + 20'000)), IsEmpty());
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
}

TEST(OrderSaga, CancelIsRefusedOnceShippedOrDelivered) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  p.settle(m, p.progress_all(m, "shipped", t0 + 4000), t0 + 4000);
  ASSERT_EQ(m.status(), order_status::shipped);
  std::vector<cmd> c;
  auto v = m.version();
  EXPECT_FALSE(m.request_cancel(t0 + 4001, c));
  EXPECT_THAT(c, IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_EQ(m.status(), order_status::shipped);

  p.settle(m, p.progress_all(m, "delivered", t0 + 5000), t0 + 5000);
  ASSERT_EQ(m.status(), order_status::delivered);
  EXPECT_FALSE(m.request_cancel(t0 + 5001, c));
  EXPECT_THAT(c, IsEmpty());
  EXPECT_EQ(m.status(), order_status::delivered);
}

TEST(OrderSaga, CancelIsRefusedOnceTheSagaEnded) {
  auto m = make_order(two_lines());
  participants p;
  p.short_skus["sku-b"] = 0;
  p.settle(m, m.start(t0), t0);
  ASSERT_EQ(m.status(), order_status::rejected);
  std::vector<cmd> c;
  EXPECT_FALSE(m.request_cancel(t0 + 1, c));
  EXPECT_THAT(c, IsEmpty());
  EXPECT_EQ(m.status(), order_status::rejected);
}

TEST(OrderSaga, CancelWhileReservingReleasesEveryLineAndDecidesCheckout) {
  auto m = make_order(two_lines());
  participants p;
  auto c = m.start(t0);
  std::vector<cmd> out;
  ASSERT_TRUE(m.request_cancel(t0 + 1, out));
  EXPECT_THAT(describe(out), ElementsAre("release sku-a o-1/0", "release sku-b o-1/1"));
  EXPECT_TRUE(m.checkout_decided());
  EXPECT_EQ(m.failure_code(), "cancelled");
  EXPECT_THAT(p.settle(m, c, t0 + 2), ::testing::SizeIs(2)) << "late reserves change nothing";
  p.settle(m, out, t0 + 3);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.cancel_outcome(), true);
}

TEST(OrderSaga, CancelDuringAFailureCompensationIsDecidedAtOnce) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto c = m.on_payment_status("declined", 0, 0, t0 + 1000);
  ASSERT_EQ(m.phase(), saga_phase::compensating);
  std::vector<cmd> out;
  ASSERT_TRUE(m.request_cancel(t0 + 1001, out));
  EXPECT_THAT(out, IsEmpty()) << "the compensation under way undoes everything already";
  EXPECT_EQ(m.cancel_outcome(), true) << "the order actor answers the buyer once decided";
  p.settle(m, c, t0 + 1002);
  EXPECT_EQ(m.status(), order_status::payment_failed);
  EXPECT_EQ(m.cancel_outcome(), true);
}

// -- returns ------------------------------------------------------------------------------------

TEST(OrderSaga, ReturnAfterDeliveryRefundsRestocksEveryLineAndEndsReturned) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  p.settle(m, p.progress_all(m, "shipped", t0 + 4000), t0 + 4000);
  p.settle(m, p.progress_all(m, "delivered", t0 + 5000), t0 + 5000);
  ASSERT_EQ(m.status(), order_status::delivered);

  std::vector<cmd> c;
  ASSERT_TRUE(m.request_return(t0 + 6000, c));
  EXPECT_THAT(describe(c),
              ElementsAre("refund_payment pay-1 o-1:return x5500", "return_stock sku-a o-1/0 x3",
                          "return_stock sku-b o-1/1 x1"));
  EXPECT_EQ(m.phase(), saga_phase::returning);
  EXPECT_FALSE(m.terminal());
  EXPECT_THAT(m.on_payment_status("refunded", 5500, 5500, t0 + 6001), IsEmpty());
  EXPECT_THAT(m.on_restocked(0, t0 + 6002), IsEmpty());
  c = m.on_restocked(1, t0 + 6003);
  EXPECT_THAT(describe(c), ElementsAre("publish order.returned"));
  EXPECT_EQ(m.status(), order_status::returned);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(m.payment().refunded, 5500);
  std::vector<cmd> again;
  EXPECT_FALSE(m.request_return(t0 + 7000, again)) << "returned once";
  EXPECT_THAT(again, IsEmpty());
}

/// A two-line order (sku-a x3 at 1000, sku-b x1 at 2500) delivered and paid 5500.
order_state_machine delivered_order(participants& p) {
  auto m = make_order(two_lines());
  to_picking(m, p);
  p.settle(m, p.progress_all(m, "shipped", t0 + 4000), t0 + 4000);
  p.settle(m, p.progress_all(m, "delivered", t0 + 5000), t0 + 5000);
  EXPECT_EQ(m.status(), order_status::delivered);
  return m;
}

TEST(OrderSaga, APartialReturnRefundsItsUnitsAndTheOrderStaysDelivered) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> c;
  ASSERT_EQ(m.request_return(t0 + 6000, {{"sku-a", 2}}, "too small", c), return_refusal::none);
  EXPECT_THAT(describe(c),
              ElementsAre("refund_payment pay-1 o-1:return x2000", "return_stock sku-a o-1/0 x2"));
  EXPECT_EQ(m.phase(), saga_phase::returning);
  EXPECT_EQ(m.status(), order_status::delivered);
  EXPECT_EQ(m.return_refund_due(), 2000);
  EXPECT_NE(m.timeline().back().note.find("2 x sku-a (refund 2000 EUR): too small"),
            std::string::npos)
      << m.timeline().back().note;
  // A second return while the first is under way is refused, not merged.
  std::vector<cmd> none;
  EXPECT_EQ(m.request_return(t0 + 6001, {{"sku-b", 1}}, "", none), return_refusal::not_returnable);
  EXPECT_THAT(none, IsEmpty());
  auto all = p.settle(m, c, t0 + 6002);
  EXPECT_THAT(published(all), IsEmpty()) << "the status did not change";
  EXPECT_EQ(m.phase(), saga_phase::done);
  EXPECT_EQ(m.status(), order_status::delivered);
  EXPECT_FALSE(m.terminal()) << "more may be returned";
  EXPECT_EQ(m.payment().status, "partially_refunded");
  EXPECT_EQ(m.payment().refunded, 2000);
  EXPECT_EQ(m.lines()[0].returned, 2);
  EXPECT_FALSE(m.lines()[0].restocked);
  auto view = m.to_view();
  EXPECT_EQ(view["lines"][0]["returned"], 2);
  EXPECT_EQ(view["lines"][0]["returning"], 0);
  EXPECT_EQ(view["lines"][1]["returned"], 0);
}

TEST(OrderSaga, ReturnsThatTogetherTakeEveryUnitBackEndReturned) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> c;
  ASSERT_EQ(m.request_return(t0 + 6000, {{"sku-a", 1}}, "", c), return_refusal::none);
  p.settle(m, c, t0 + 6001);
  ASSERT_EQ(m.status(), order_status::delivered);
  // The rest: two of sku-a and sku-b, under the second return's own refund key; the stock
  // hears how many units of each line are back in all.
  ASSERT_EQ(m.request_return(t0 + 7000, {{"sku-a", 2}, {"sku-b", 1}}, "", c), return_refusal::none);
  EXPECT_THAT(describe(c),
              ElementsAre("refund_payment pay-1 o-1:return:2 x4500", "return_stock sku-a o-1/0 x3",
                          "return_stock sku-b o-1/1 x1"));
  auto all = p.settle(m, c, t0 + 7001);
  EXPECT_THAT(published(all), ElementsAre("order.returned"));
  EXPECT_EQ(m.status(), order_status::returned);
  EXPECT_TRUE(m.terminal());
  EXPECT_EQ(m.payment().status, "refunded");
  EXPECT_EQ(m.payment().refunded, 5500);
  EXPECT_TRUE(m.lines()[0].restocked && m.lines()[1].restocked);
  std::vector<cmd> again;
  EXPECT_EQ(m.request_return(t0 + 8000, {{"sku-a", 1}}, "", again), return_refusal::not_returnable);
}

TEST(OrderSaga, AReturnOfUnitsTheOrderDoesNotHaveIsRefusedAndChangesNothing) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> c;
  ASSERT_EQ(m.request_return(t0 + 6000, {{"sku-a", 2}}, "", c), return_refusal::none);
  p.settle(m, c, t0 + 6001);
  auto v = m.version();
  auto state = m.encode();
  c.clear();
  EXPECT_EQ(m.request_return(t0 + 7000, {{"sku-z", 1}}, "", c), return_refusal::not_in_order);
  EXPECT_EQ(m.request_return(t0 + 7000, {{"sku-a", 2}}, "", c), return_refusal::too_many_units)
      << "only one unit of sku-a is left to return";
  EXPECT_EQ(m.request_return(t0 + 7000, {{"sku-b", 1}, {"sku-z", 1}}, "", c),
            return_refusal::not_in_order)
      << "all or nothing";
  EXPECT_EQ(m.request_return(t0 + 7000, {{"sku-a", 0}}, "", c), return_refusal::nothing);
  EXPECT_THAT(c, IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_EQ(m.encode(), state);
  EXPECT_STREQ(to_string(return_refusal::too_many_units), "return_too_many_units");
}

TEST(OrderSaga, ALateStockAnswerToAnEarlierReturnDoesNotCountForTheNextOne) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> first;
  ASSERT_EQ(m.request_return(t0 + 6000, {{"sku-a", 1}}, "", first), return_refusal::none);
  p.settle(m, first, t0 + 6001);
  std::vector<cmd> second;
  ASSERT_EQ(m.request_return(t0 + 7000, {{"sku-a", 2}}, "", second), return_refusal::none);
  // The first return's stock answer, repeated late: one unit back in all, which is old news.
  EXPECT_THAT(m.on_restocked(0, 1, t0 + 7001), IsEmpty());
  EXPECT_EQ(m.lines()[0].returned, 1);
  EXPECT_EQ(m.phase(), saga_phase::returning);
  p.settle(m, second, t0 + 7002);
  EXPECT_EQ(m.lines()[0].returned, 3);
  EXPECT_EQ(m.status(), order_status::delivered) << "sku-b is still with the buyer";
}

TEST(OrderSaga, APartialReturnInProgressSurvivesARestart) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> c;
  ASSERT_EQ(m.request_return(t0 + 6000, {{"sku-a", 1}}, "", c), return_refusal::none);
  p.settle(m, c, t0 + 6001);
  ASSERT_EQ(m.request_return(t0 + 7000, {{"sku-b", 1}}, "", c), return_refusal::none);
  auto copy = order_state_machine::from_json(nlohmann::json::parse(m.encode()));
  EXPECT_EQ(copy.encode(), m.encode());
  EXPECT_EQ(copy.returns(), 2);
  EXPECT_EQ(copy.return_refund_due(), 3500);
  auto again = copy.resume(t0 + 8000);
  EXPECT_THAT(describe(again), ElementsAre("refund_payment pay-1 o-1:return:2 x2500",
                                           "return_stock sku-b o-1/1 x1"));
  p.settle(copy, again, t0 + 8001);
  EXPECT_EQ(copy.status(), order_status::delivered);
  EXPECT_EQ(copy.payment().refunded, 3500);
}

TEST(OrderSaga, AWholeOrderReturnStoredBeforePartialReturnsLoadsAndFinishes) {
  auto p = two_warehouses();
  auto m = delivered_order(p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_return(t0 + 6000, c));
  // The snapshot as it was written before partial returns: no counts, no return numbers.
  auto j = nlohmann::json::parse(m.encode());
  j.erase("returns");
  j.erase("return_refund");
  for (auto& l : j["lines"])
    l.erase("return");
  auto old = order_state_machine::from_json(j);
  EXPECT_EQ(old.return_refund_due(), 5500);
  auto again = old.resume(t0 + 7000);
  EXPECT_THAT(describe(again),
              ElementsAre("refund_payment pay-1 o-1:return x5500", "return_stock sku-a o-1/0 x3",
                          "return_stock sku-b o-1/1 x1"));
  p.settle(old, again, t0 + 7001);
  EXPECT_EQ(old.status(), order_status::returned);
}

TEST(OrderSaga, ReturnIsRefusedBeforeDelivery) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  std::vector<cmd> c;
  EXPECT_FALSE(m.request_return(t0, c));
  to_pending_payment(m, p);
  EXPECT_FALSE(m.request_return(t0 + 1, c));
  p.settle(m, p.approve(m, t0 + 2), t0 + 2);
  ASSERT_EQ(m.status(), order_status::picking);
  EXPECT_FALSE(m.request_return(t0 + 3, c));
  p.settle(m, p.progress_all(m, "shipped", t0 + 4), t0 + 4);
  ASSERT_EQ(m.status(), order_status::shipped);
  auto v = m.version();
  EXPECT_FALSE(m.request_return(t0 + 5, c));
  EXPECT_THAT(c, IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
}

// -- names --------------------------------------------------------------------------------------

TEST(OrderSaga, StatusNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(order_status::returned); ++i) {
    auto s = static_cast<order_status>(i);
    EXPECT_EQ(order_status_from(to_string(s)), s) << to_string(s);
  }
  EXPECT_EQ(order_status_from("paid"), std::nullopt) << "names are upper case";
  EXPECT_EQ(order_status_from(""), std::nullopt);
  EXPECT_STREQ(to_string(order_status::pending_payment), "PENDING_PAYMENT");
  EXPECT_STREQ(to_string(saga_phase::cancelling_picks), "cancelling_picks");
  EXPECT_STREQ(to_string(kind::return_stock), "return_stock");
}

} // namespace
} // namespace souk::actors::test
