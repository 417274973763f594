// Deadlines, retries with backoff, compensation after too many attempts, late and duplicate
// answers, stuck sagas and the operator's retry and compensate.
#include "actors/order/order_state_machine.hpp"
#include "tests/actors/order/saga_participants.hpp"

#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace souk::actors::test {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

/// Fires the deadline `times` times, each exactly when `next_timer` says, and checks that each
/// firing re-sends exactly `expected` and that the wait before each firing grows until it
/// reaches the default `backoff_max_ms`. Returns the time of the last firing.
std::int64_t fire_deadlines(order_state_machine& m, int times,
                            const std::vector<std::string>& expected) {
  auto prev_at = m.updated_at_ms();
  std::int64_t prev_wait = 0;
  std::int64_t at = 0;
  for (int i = 0; i < times; ++i) {
    auto next = m.next_timer();
    if (!next) {
      ADD_FAILURE() << "no deadline armed at firing " << i;
      return at;
    }
    at = *next;
    auto wait = at - prev_at;
    if (prev_wait < saga_settings{}.backoff_max_ms)
      EXPECT_GT(wait, prev_wait) << "backoff grows at firing " << i;
    else
      EXPECT_GE(wait, saga_settings{}.backoff_max_ms) << "backoff stays at its cap, firing " << i;
    EXPECT_THAT(m.on_timer(at - 1), IsEmpty()) << "nothing before the deadline";
    auto attempt = m.attempt();
    EXPECT_THAT(describe(m.on_timer(at)), ElementsAreArray(expected)) << "firing " << i;
    EXPECT_EQ(m.attempt(), attempt + 1);
    EXPECT_GT(m.next_timer().value_or(0), at) << "the next deadline moved later";
    prev_wait = wait;
    prev_at = at;
  }
  return at;
}

// -- each forward step re-sends what is unanswered --------------------------------------------

TEST(OrderSagaDeadlines, ReservingResendsOnlyTheUnansweredReserveWithGrowingBackoff) {
  auto m = make_order(two_lines());
  m.start(t0);
  m.on_reserved(0, {{"w-north", 3}}, t0 + 10);
  auto first = m.next_timer();
  ASSERT_TRUE(first.has_value());
  EXPECT_GE(*first, t0 + 5000) << "one step timeout";
  EXPECT_LT(*first, t0 + 7500) << "plus at most half a timeout of jitter";
  auto at = fire_deadlines(m, 4, {"reserve sku-b o-1/1 x1"});
  EXPECT_EQ(m.attempt(), 5);
  EXPECT_EQ(m.phase(), saga_phase::reserving);
  EXPECT_FALSE(m.stuck());
  auto again = m.retry(at + 1);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].at_ms, t0 + hold_ms + grace_ms) << "a retry does not extend the hold";
  EXPECT_EQ(again[0].qty, 1);
}

TEST(OrderSagaDeadlines, RetryJitterComesFromTheOrderIdSoReplaysRepeatAndSagasSpreadOut) {
  std::set<std::int64_t> first_deadlines;
  for (int i = 0; i < 20; ++i) {
    auto id = "o-" + std::to_string(i);
    auto a = make_order(two_lines(), {}, id);
    auto b = make_order(two_lines(), {}, id);
    EXPECT_EQ(describe(a.start(t0)), describe(b.start(t0)));
    ASSERT_TRUE(a.next_timer().has_value());
    EXPECT_EQ(a.next_timer(), b.next_timer());
    first_deadlines.insert(*a.next_timer());
    EXPECT_EQ(describe(a.on_timer(*a.next_timer())), describe(b.on_timer(*b.next_timer())));
    EXPECT_EQ(a.to_json(), b.to_json()) << id;
  }
  EXPECT_GT(first_deadlines.size(), 10U) << "retries of many sagas do not all fire together";
}

TEST(OrderSagaDeadlines, ReservingGivesUpAfterMaxAttemptsAndRejectsStockUnavailable) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  m.start(t0);
  m.on_reserved(0, {{"w-north", 3}}, t0 + 10);
  auto at = fire_deadlines(m, 4, {"reserve sku-b o-1/1 x1"});
  auto give_up = *m.next_timer();
  EXPECT_GT(give_up, at);
  auto c = m.on_timer(give_up);
  EXPECT_THAT(describe(c), UnorderedElementsAre("release sku-a o-1/0", "release sku-b o-1/1"))
      << "the silent line is an unknown outcome: released too";
  EXPECT_EQ(m.failure_code(), "stock_unavailable");
  EXPECT_TRUE(m.checkout_decided());
  EXPECT_EQ(m.status(), order_status::processing);
  p.settle(m, c, give_up + 1);
  EXPECT_EQ(m.status(), order_status::rejected);
  EXPECT_TRUE(m.terminal());
}

TEST(OrderSagaDeadlines, CreatingPaymentResendsWithGrowingBackoff) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  ASSERT_EQ(m.phase(), saga_phase::creating_payment);
  fire_deadlines(m, 4, {"create_payment  o-1:pay x5500"});
  EXPECT_EQ(m.status(), order_status::processing);
}

TEST(OrderSagaDeadlines, CreatingPaymentGivesUpWithACancelFirstAndFailsPaymentUnavailable) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  fire_deadlines(m, 4, {"create_payment  o-1:pay x5500"});
  auto c = m.on_timer(*m.next_timer());
  EXPECT_THAT(describe(c), ElementsAre("cancel_payment  o-1:cancel", "release sku-a o-1/0",
                                       "release sku-b o-1/1"))
      << "a payment that never answered may exist: the bank is asked to cancel it by key";
  EXPECT_EQ(m.failure_code(), "payment_unavailable");
  EXPECT_TRUE(m.checkout_decided());
  p.settle(m, of_kind(c, kind::release), t0 + 400'000);
  EXPECT_EQ(m.phase(), saga_phase::compensating) << "waits for the bank's answer";
  p.settle(m, of_kind(c, kind::cancel_payment), t0 + 400'001);
  EXPECT_EQ(m.status(), order_status::payment_failed);
  EXPECT_TRUE(m.terminal());
}

TEST(OrderSagaDeadlines, ConfirmingResendsTheUnconfirmedLineAndNeverGivesUpAPaidOrder) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  m.on_confirmed(0, true, t0 + 1500);
  auto at = fire_deadlines(m, 4, {"confirm sku-b o-1/1"});
  EXPECT_FALSE(m.stuck());
  // Past max_attempts: a paid order is not compensated; it keeps trying and is marked stuck.
  for (int i = 0; i < 3; ++i) {
    at = *m.next_timer();
    EXPECT_THAT(describe(m.on_timer(at)), ElementsAre("confirm sku-b o-1/1"));
    EXPECT_TRUE(m.stuck());
    EXPECT_EQ(m.phase(), saga_phase::confirming);
    EXPECT_EQ(m.status(), order_status::paid);
  }
  EXPECT_TRUE(m.to_view()["saga"]["stuck"].get<bool>());
  auto c = m.on_confirmed(1, true, at + 1);
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("start_pick w-north o-1#0", "start_pick w-south o-1#0"));
  EXPECT_FALSE(m.stuck()) << "the next step starts fresh";
  EXPECT_EQ(m.attempt(), 1);
}

TEST(OrderSagaDeadlines, AssigningResendsTheUnacknowledgedPickList) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::start_pick};
  to_pending_payment(m, p);
  p.settle(m, p.approve(m, t0 + 1000), t0 + 1000);
  ASSERT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_THAT(m.on_pick_started("w-north", t0 + 1001), IsEmpty());
  fire_deadlines(m, 6, {"start_pick w-south o-1#0"});
  EXPECT_TRUE(m.stuck());
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_THAT(describe(m.on_pick_started("w-south", t0 + 900'000)),
              ElementsAre("publish order.picking"));
}

TEST(OrderSagaDeadlines, ProgressFromAWarehouseWhoseStartReplyWasLostAcknowledgesItsList) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::start_pick};
  to_pending_payment(m, p);
  p.settle(m, p.approve(m, t0 + 1000), t0 + 1000);
  ASSERT_EQ(m.phase(), saga_phase::assigning);
  EXPECT_THAT(m.on_pick_started("w-north", "o-1#0", t0 + 1001), IsEmpty());
  auto c = m.on_pick_progress("w-south", "picking", t0 + 1002);
  EXPECT_THAT(describe(c), ElementsAre("publish order.picking"));
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);
  EXPECT_TRUE(m.picks().at("w-south").acknowledged);
  EXPECT_EQ(m.picks().at("w-south").stage, "picking");
  EXPECT_EQ(m.next_timer(), std::nullopt) << "no start_pick is re-sent";
}

TEST(OrderSagaDeadlines, ShippingResendsTheUnacknowledgedShipment) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  auto c = p.progress_all(m, "shipped", t0 + 2000);
  ASSERT_EQ(of_kind(c, kind::ship).size(), 2U);
  EXPECT_THAT(m.on_shipped(1, t0 + 2001), IsEmpty());
  fire_deadlines(m, 4, {"ship sku-a o-1/0"});
  EXPECT_THAT(m.on_shipped(0, t0 + 200'000), IsEmpty());
  EXPECT_EQ(m.next_timer(), std::nullopt);
  p.settle(m, p.progress_all(m, "delivered", t0 + 300'000), t0 + 300'000);
  EXPECT_EQ(m.status(), order_status::delivered);
}

TEST(OrderSagaDeadlines, ExpiringRetriesTheCancelUntilTheBankAnswers) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  m.on_timer(t0 + hold_ms);
  ASSERT_EQ(m.phase(), saga_phase::expiring);
  fire_deadlines(m, 7, {"cancel_payment pay-1 o-1:cancel"});
  EXPECT_TRUE(m.stuck());
  EXPECT_EQ(m.phase(), saga_phase::expiring) << "never gives up the stock without an answer";
}

TEST(OrderSagaDeadlines, BackoffStopsGrowingAtItsCap) {
  saga_settings s;
  s.step_timeout_ms = 1000;
  s.backoff_max_ms = 4000;
  s.max_attempts = 3;
  auto m = make_order(two_lines(), s);
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  std::int64_t at = m.updated_at_ms();
  for (int i = 0; i < 8; ++i) {
    auto next = *m.next_timer();
    auto wait = next - at;
    EXPECT_GE(wait, std::min<std::int64_t>(1000LL << i, 4000)) << i;
    EXPECT_LT(wait, std::min<std::int64_t>(1000LL << i, 4000) + 500) << i;
    at = next;
    EXPECT_EQ(m.on_timer(at).size(), 2U);
  }
}

// -- compensations never give up ---------------------------------------------------------------

TEST(OrderSagaDeadlines, CompensationKeepsResendingPastMaxAttemptsAndIsMarkedStuck) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto c = m.on_payment_status("declined", 0, 0, t0 + 1000);
  ASSERT_EQ(c.size(), 2U);
  EXPECT_THAT(m.on_released(0, t0 + 1001), IsEmpty());
  fire_deadlines(m, 4, {"release sku-b o-1/1"});
  EXPECT_FALSE(m.stuck());
  std::int64_t at = 0;
  for (int i = 0; i < 5; ++i) {
    at = *m.next_timer();
    EXPECT_THAT(describe(m.on_timer(at)), ElementsAre("release sku-b o-1/1"));
    EXPECT_TRUE(m.stuck());
    EXPECT_FALSE(m.terminal());
  }
  EXPECT_EQ(m.phase(), saga_phase::compensating);
  EXPECT_THAT(describe(m.on_released(1, at + 1)), ElementsAre("publish order.payment_failed"));
  EXPECT_TRUE(m.terminal());
  EXPECT_FALSE(m.stuck()) << "an ended saga is not being retried";
  EXPECT_FALSE(m.to_view()["saga"]["stuck"].get<bool>());
}

TEST(OrderSagaDeadlines, RefundOfACancelledPaidOrderRetriesUntilAcknowledged) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 2000, c));
  p.settle(m, of_kind(c, kind::release), t0 + 2001);
  fire_deadlines(m, 7, {"refund_payment pay-1 o-1:refund x5500"});
  EXPECT_TRUE(m.stuck());
  EXPECT_EQ(m.status(), order_status::paid);
  p.captured = 5500;
  p.settle(m, of_kind(c, kind::refund_payment), t0 + 9'000'000);
  EXPECT_EQ(m.status(), order_status::cancelled);
}

// -- late and duplicate answers ----------------------------------------------------------------

TEST(OrderSagaDeadlines, AnswerToTheFirstAttemptAfterTheDeadlineCountsAndTheSecondIsIgnored) {
  auto m = make_order(two_lines());
  m.start(t0);
  m.on_reserved(0, {{"w-north", 3}}, t0 + 1);
  auto at = *m.next_timer();
  ASSERT_THAT(describe(m.on_timer(at)), ElementsAre("reserve sku-b o-1/1 x1"));
  // The first attempt's answer arrives after its deadline: still the answer.
  auto c = m.on_reserved(1, {{"w-north", 1}}, at + 1);
  EXPECT_THAT(describe(c), ElementsAre("create_payment  o-1:pay x5500"));
  // The retry's answer is a duplicate.
  auto v = m.version();
  auto j = m.to_json();
  EXPECT_THAT(m.on_reserved(1, {{"w-south", 1}}, at + 2), IsEmpty());
  EXPECT_THAT(m.on_insufficient(1, 0, at + 3), IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_EQ(m.to_json(), j);
  EXPECT_EQ(m.lines()[1].parts, (std::vector<allocation>{{"w-north", 1}}));
}

TEST(OrderSagaDeadlines, DuplicateAnswersInEveryStepChangeNothing) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  auto unchanged = [&m](const char* what, auto&& event) {
    auto j = m.to_json();
    auto v = m.version();
    auto c = event();
    EXPECT_THAT(describe(c), IsEmpty()) << what;
    EXPECT_EQ(m.version(), v) << what;
    EXPECT_EQ(m.to_json(), j) << what;
  };
  to_pending_payment(m, p);
  unchanged("reserved again", [&] { return m.on_reserved(0, {{"w-north", 3}}, t0 + 1); });
  unchanged("created again", [&] { return m.on_payment_created("pay-2", "u", t0 + 2); });
  unchanged("unknown line", [&] { return m.on_released(7, t0 + 3); });
  unchanged("pending again", [&] { return m.on_payment_status("pending", 0, 0, t0 + 4); });
  unchanged("unknown payment status",
            [&] { return m.on_payment_status("weird", 5500, 0, t0 + 4); });

  p.approve(m, t0 + 5);
  ASSERT_EQ(m.phase(), saga_phase::confirming);
  unchanged("captured again", [&] { return m.on_payment_status("captured", 5500, 0, t0 + 6); });
  unchanged("pending after captured", [&] { return m.on_payment_status("pending", 0, 0, t0 + 7); });
  unchanged("pick before assigning", [&] { return m.on_pick_started("w-north", t0 + 8); });

  p.settle(m, m.on_confirmed(0, true, t0 + 9), t0 + 9);
  p.settle(m, m.on_confirmed(1, true, t0 + 9), t0 + 9);
  ASSERT_EQ(m.status(), order_status::picking);
  unchanged("confirmed again", [&] { return m.on_confirmed(0, true, t0 + 10); });
  unchanged("confirm lost late", [&] { return m.on_confirmed(1, false, t0 + 10); });
  unchanged("pick started again", [&] { return m.on_pick_started("w-north", t0 + 11); });
  unchanged("unknown warehouse", [&] { return m.on_pick_progress("w-x", "packed", t0 + 12); });
  unchanged("captured again, later",
            [&] { return m.on_payment_status("captured", 5500, 0, t0 + 13); });

  m.on_pick_progress("w-north", "packed", t0 + 14);
  unchanged("older stage", [&] { return m.on_pick_progress("w-north", "picking", t0 + 15); });
  unchanged("same stage", [&] { return m.on_pick_progress("w-north", "packed", t0 + 15); });

  p.settle(m, p.progress_all(m, "shipped", t0 + 16), t0 + 16);
  ASSERT_EQ(m.status(), order_status::shipped);
  unchanged("shipped again", [&] { return m.on_shipped(0, t0 + 17); });
  p.settle(m, p.progress_all(m, "delivered", t0 + 18), t0 + 18);
  ASSERT_EQ(m.status(), order_status::delivered);
  unchanged("delivered again", [&] { return m.on_pick_progress("w-south", "delivered", t0 + 19); });
  unchanged("callback after delivery",
            [&] { return m.on_payment_status("captured", 5500, 0, t0 + 20); });
  unchanged("timer after delivery", [&] { return m.on_timer(t0 + 100'000'000); });
}

TEST(OrderSagaDeadlines, DuplicateCompensationAnswersChangeNothing) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 1, c));
  EXPECT_THAT(m.on_payment_status("cancelled", 0, 0, t0 + 2), IsEmpty());
  EXPECT_THAT(m.on_released(0, t0 + 3), IsEmpty());
  auto v = m.version();
  EXPECT_THAT(m.on_payment_status("cancelled", 0, 0, t0 + 4), IsEmpty());
  EXPECT_THAT(m.on_released(0, t0 + 5), IsEmpty());
  EXPECT_THAT(m.on_payment_status("pending", 0, 0, t0 + 6), IsEmpty());
  EXPECT_EQ(m.version(), v);
  EXPECT_THAT(describe(m.on_released(1, t0 + 7)), ElementsAre("publish order.cancelled"));
  v = m.version();
  EXPECT_THAT(m.on_released(1, t0 + 8), IsEmpty());
  EXPECT_EQ(m.version(), v);
}

TEST(OrderSagaDeadlines, CallbackOvertakingTheCreateReplyIsKeptAndAppliedWhenTheReplyComes) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  ASSERT_EQ(m.phase(), saga_phase::creating_payment);
  EXPECT_THAT(m.on_payment_status("captured", 5500, 0, t0 + 10), IsEmpty());
  EXPECT_EQ(m.status(), order_status::processing);
  auto c = m.on_payment_created("pay-1", "https://bank.example/3ds/pay-1", t0 + 20);
  EXPECT_THAT(describe(c), ElementsAre("publish order.pending_payment", "publish order.paid",
                                       "confirm sku-a o-1/0", "confirm sku-b o-1/1"));
  EXPECT_EQ(m.status(), order_status::paid);
  EXPECT_EQ(m.payment().status, "captured");
}

TEST(OrderSagaDeadlines, PaymentCreatedAfterTheCancelWasAnsweredIsCancelledToo) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  fire_deadlines(m, 4, {"create_payment  o-1:pay x5500"});
  auto c = m.on_timer(*m.next_timer());
  ASSERT_EQ(m.phase(), saga_phase::compensating);
  // The bank knew no payment under the key yet; the stock is still being released.
  EXPECT_THAT(m.on_payment_status("cancelled", 0, 0, t0 + 500'000), IsEmpty());
  // The first create's reply arrives at last: that payment must not be left open.
  c = m.on_payment_created("pay-9", "https://bank.example/3ds/pay-9", t0 + 500'001);
  EXPECT_THAT(describe(of_kind(c, kind::cancel_payment)),
              ElementsAre("cancel_payment pay-9 o-1:cancel"));
  EXPECT_EQ(m.payment().id, "pay-9");
  p.settle(m, of_kind(c, kind::release), t0 + 500'002);
  EXPECT_EQ(m.phase(), saga_phase::compensating) << "waits for the second cancel's answer";
  p.settle(m, of_kind(c, kind::cancel_payment), t0 + 500'003);
  EXPECT_EQ(m.status(), order_status::payment_failed);
}

TEST(OrderSagaDeadlines, PaymentCreatedWhileTheCancelIsUnansweredRetriesTheCancelByItsId) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::create_payment};
  p.settle(m, m.start(t0), t0);
  fire_deadlines(m, 4, {"create_payment  o-1:pay x5500"});
  auto at = *m.next_timer();
  m.on_timer(at);
  m.on_payment_created("pay-9", "https://bank.example/3ds/pay-9", at + 1);
  auto next = *m.next_timer();
  auto c = m.on_timer(next);
  EXPECT_THAT(describe(of_kind(c, kind::cancel_payment)),
              ElementsAre("cancel_payment pay-9 o-1:cancel"));
  p.settle(m, c, next + 1);
  EXPECT_EQ(m.status(), order_status::payment_failed);
}

TEST(OrderSagaDeadlines, LateReserveAfterTheGiveUpIsCoveredByItsRelease) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  m.start(t0);
  fire_deadlines(m, 4, {"reserve sku-a o-1/0 x3", "reserve sku-b o-1/1 x1"});
  auto c = m.on_timer(*m.next_timer());
  ASSERT_EQ(c.size(), 2U);
  EXPECT_THAT(m.on_reserved(0, {{"w-north", 3}}, t0 + 400'000), IsEmpty());
  EXPECT_THAT(m.on_already_released(1, t0 + 400'001), IsEmpty())
      << "the SKU took the release first: nothing was held";
  p.settle(m, of_kind(c, kind::release), t0 + 400'002);
  EXPECT_EQ(m.status(), order_status::rejected);
  EXPECT_EQ(m.failure_code(), "stock_unavailable");
}

// -- operator -----------------------------------------------------------------------------------

TEST(OrderSagaDeadlines, OperatorRetryResendsTheOutstandingCommandsNow) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  auto now = t0 + 2000;
  auto c = m.retry(now);
  EXPECT_THAT(describe(c), ElementsAre("confirm sku-a o-1/0", "confirm sku-b o-1/1"));
  EXPECT_GT(m.next_timer().value_or(0), now) << "a fresh deadline";
  p.settle(m, c, now + 1);
  EXPECT_EQ(m.status(), order_status::picking);
  EXPECT_THAT(m.retry(now + 2), IsEmpty()) << "nothing outstanding while warehouses pick";
}

TEST(OrderSagaDeadlines, OperatorCompensateInPendingPaymentCancelsAndReleases) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_pending_payment(m, p);
  auto c = m.compensate(t0 + 1000);
  EXPECT_THAT(describe(c), ElementsAre("cancel_payment pay-1 o-1:cancel", "release sku-a o-1/0",
                                       "release sku-b o-1/1"));
  p.settle(m, c, t0 + 1001);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_TRUE(m.terminal());
}

TEST(OrderSagaDeadlines, OperatorCompensateOfAStuckConfirmRefundsAndReleases) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_paid_unconfirmed(m, p);
  for (int i = 0; i < 6; ++i)
    m.on_timer(*m.next_timer());
  ASSERT_TRUE(m.stuck());
  auto c = m.compensate(t0 + 10'000'000);
  EXPECT_THAT(describe(c), ElementsAre("refund_payment pay-1 o-1:refund x5500",
                                       "release sku-a o-1/0", "release sku-b o-1/1"));
  EXPECT_FALSE(m.stuck());
  p.captured = 5500;
  p.settle(m, c, t0 + 10'000'001);
  EXPECT_EQ(m.status(), order_status::cancelled);
}

TEST(OrderSagaDeadlines, OperatorCompensateWhilePickingTakesThePickListsBackFirst) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  auto c = m.compensate(t0 + 3000);
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("cancel_pick w-north o-1#0", "cancel_pick w-south o-1#0"))
      << "stock released while a warehouse still picks would ship refunded goods";
  EXPECT_TRUE(of_kind(c, kind::release).empty());
  p.captured = 5500;
  p.settle(m, c, t0 + 3001);
  EXPECT_EQ(m.status(), order_status::cancelled);
  EXPECT_EQ(m.payment().status, "refunded");
}

TEST(OrderSagaDeadlines, OperatorCompensateAfterARefusedCancelDecidesAgain) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  m.on_pick_progress("w-north", "shipped", t0 + 2900);
  p.shipped_warehouses = {"w-north"};
  std::vector<cmd> c;
  ASSERT_TRUE(m.request_cancel(t0 + 3000, c));
  p.settle(m, c, t0 + 3001);
  ASSERT_EQ(m.cancel_outcome(), false);
  ASSERT_EQ(m.phase(), saga_phase::fulfilling);

  c = m.compensate(t0 + 4000);
  EXPECT_THAT(describe(c),
              UnorderedElementsAre("cancel_pick w-north o-1#1", "cancel_pick w-south o-1#1"));
  EXPECT_EQ(m.cancel_outcome(), std::nullopt) << "the old refusal does not answer this round";
  std::vector<cmd> more;
  EXPECT_TRUE(m.request_cancel(t0 + 4001, more));
  EXPECT_THAT(more, IsEmpty());
  EXPECT_EQ(m.cancel_outcome(), std::nullopt);
  p.settle(m, c, t0 + 4002);
  EXPECT_EQ(m.cancel_outcome(), false) << "w-north has shipped: refused again";
  EXPECT_TRUE(of_kind(p.seen, kind::refund_payment).empty());
}

TEST(OrderSagaDeadlines, OperatorCompensateIsRefusedOnceShippedOrEnded) {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  to_picking(m, p);
  p.settle(m, p.progress_all(m, "shipped", t0 + 4000), t0 + 4000);
  ASSERT_EQ(m.status(), order_status::shipped);
  EXPECT_THAT(m.compensate(t0 + 4001), IsEmpty());
  EXPECT_EQ(m.status(), order_status::shipped);
  EXPECT_EQ(m.phase(), saga_phase::fulfilling);

  auto r = make_order(two_lines());
  participants q;
  q.short_skus["sku-a"] = 0;
  q.settle(r, r.start(t0), t0);
  ASSERT_TRUE(r.terminal());
  EXPECT_THAT(r.compensate(t0 + 1), IsEmpty());
  EXPECT_EQ(r.status(), order_status::rejected);
}

// -- the retry horizon: no resend after the participants may have forgotten the keys ----------

/// Fires every deadline until the saga stops arming one (or `limit` passes); returns the
/// commands of each firing.
std::vector<std::vector<cmd>> fire_until_quiet(order_state_machine& m, std::int64_t limit) {
  std::vector<std::vector<cmd>> out;
  while (auto next = m.next_timer()) {
    if (*next > limit)
      break;
    out.push_back(m.on_timer(*next));
  }
  return out;
}

/// Delivered (sku-a x3, sku-b x1, paid 5500), then a return of every unit requested at
/// `at` with the stock's answers lost; the bank refunds at once. The return_stock commands
/// are `sent`.
order_state_machine returning_unanswered(std::int64_t at, std::vector<cmd>& sent) {
  auto p = two_warehouses();
  auto m = make_order(two_lines());
  to_picking(m, p);
  p.settle(m, p.progress_all(m, "shipped", t0 + 4000), t0 + 4000);
  p.settle(m, p.progress_all(m, "delivered", t0 + 5000), t0 + 5000);
  EXPECT_EQ(m.status(), order_status::delivered);
  std::vector<cmd> c;
  EXPECT_TRUE(m.request_return(at, c));
  EXPECT_THAT(m.on_payment_status("refunded", 5500, 5500, at + 1), IsEmpty());
  sent = of_kind(c, kind::return_stock);
  EXPECT_EQ(sent.size(), 2U);
  return m;
}

bool timeline_mentions(const order_state_machine& m, const std::string& text) {
  for (auto& e : m.timeline())
    if (e.note.find(text) != std::string::npos)
      return true;
  return false;
}

TEST(OrderSagaRetryHorizon, AReturnIsResentUntilTheHorizonThenHeldForAnOperator) {
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  auto firings = fire_until_quiet(m, at + 2 * horizon);
  ASSERT_GT(firings.size(), 100U) << "a day of resends every minute or so";
  for (std::size_t i = 0; i + 1 < firings.size(); ++i)
    ASSERT_THAT(describe(firings[i]),
                ElementsAre("return_stock sku-a o-1/0 x3", "return_stock sku-b o-1/1 x1"))
        << "firing " << i;
  EXPECT_THAT(firings.back(), IsEmpty()) << "the firing past the horizon sends nothing";
  EXPECT_FALSE(m.next_timer().has_value()) << "and arms no further deadline";
  EXPECT_TRUE(m.held());
  EXPECT_TRUE(m.stuck());
  EXPECT_EQ(m.phase(), saga_phase::returning);
  EXPECT_TRUE(timeline_mentions(m, "past orders.retry_horizon_ms"));
  EXPECT_THAT(m.on_timer(at + 3 * horizon), IsEmpty());
  auto saga = m.to_view()["saga"];
  EXPECT_EQ(saga["waiting_since_ms"], at) << saga;
  EXPECT_EQ(saga["deadline_ms"], 0) << saga;
  EXPECT_EQ(saga["held"], true) << saga;

  // An answer that comes after all still finishes the return.
  EXPECT_THAT(m.on_restocked(0, at + 3 * horizon), IsEmpty());
  EXPECT_THAT(describe(m.on_restocked(1, at + 3 * horizon + 1)),
              ElementsAre("publish order.returned"));
  EXPECT_EQ(m.status(), order_status::returned);
  EXPECT_FALSE(m.held());
}

TEST(OrderSagaRetryHorizon, TheOperatorsRetryResendsAndStartsTheHorizonOver) {
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  fire_until_quiet(m, at + 2 * horizon);
  ASSERT_TRUE(m.stuck());
  const auto checked = at + 2 * horizon;
  EXPECT_THAT(describe(m.retry(checked)),
              ElementsAre("return_stock sku-a o-1/0 x3", "return_stock sku-b o-1/1 x1"));
  ASSERT_TRUE(m.next_timer().has_value());
  auto firings = fire_until_quiet(m, checked + horizon / 2);
  ASSERT_FALSE(firings.empty());
  EXPECT_EQ(firings.back().size(), 2U) << "resent again on its own within the new horizon";
  EXPECT_THAT(m.on_restocked(0, checked + horizon / 2), IsEmpty());
  EXPECT_THAT(describe(m.on_restocked(1, checked + horizon / 2)),
              ElementsAre("publish order.returned"));
}

TEST(OrderSagaRetryHorizon, ARetryOfASagaThatIsOnlyStuckKeepsTheHorizon) {
  // Stuck after max_attempts, resending every minute or so: an operator's retry then is
  // routine, and must not buy the step another horizon.
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  fire_until_quiet(m, at + horizon - 3'600'000);
  ASSERT_TRUE(m.stuck());
  ASSERT_FALSE(m.held());
  EXPECT_EQ(of_kind(m.retry(at + horizon - 3'600'000), kind::return_stock).size(), 2U);
  auto firings = fire_until_quiet(m, at + 2 * horizon);
  ASSERT_FALSE(firings.empty());
  EXPECT_THAT(firings.back(), IsEmpty());
  EXPECT_TRUE(m.held());
  EXPECT_LT(m.timeline().back().at_ms, at + horizon + 120'000)
      << "held at the first deadline past the horizon counted from the first send";
}

TEST(OrderSagaRetryHorizon, ARestartPastTheHorizonResendsNothingAndSaysSoOnce) {
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  // The node goes down a minute into the return and comes back after the horizon.
  auto down = order_state_machine::from_json(nlohmann::json::parse(m.encode()));
  EXPECT_THAT(down.resume(at + horizon + 60'000), IsEmpty());
  EXPECT_TRUE(down.stuck());
  EXPECT_FALSE(down.next_timer().has_value());
  auto notes = down.timeline().size();
  auto again = order_state_machine::from_json(nlohmann::json::parse(down.encode()));
  EXPECT_THAT(again.resume(at + horizon + 120'000), IsEmpty());
  EXPECT_EQ(again.timeline().size(), notes) << "a second restart adds no second note";
  // Back within the horizon, the same restart resends.
  auto soon = order_state_machine::from_json(nlohmann::json::parse(m.encode()));
  auto resent = of_kind(soon.resume(at + horizon / 2), kind::return_stock);
  EXPECT_EQ(resent.size(), 2U);
}

TEST(OrderSagaRetryHorizon, TheWaitCountsFromTheFirstSendNotTheLatestResend) {
  // A snapshot written at every resend must not move the start of the wait.
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  fire_until_quiet(m, at + horizon - 600'000);
  ASSERT_TRUE(m.next_timer().has_value()) << "still resending on its own";
  auto copy = order_state_machine::from_json(nlohmann::json::parse(m.encode()));
  EXPECT_THAT(copy.resume(at + horizon + 1), IsEmpty());
  EXPECT_FALSE(copy.next_timer().has_value());
  EXPECT_TRUE(timeline_mentions(copy, "past orders.retry_horizon_ms"));
}

TEST(OrderSagaRetryHorizon, ASnapshotFromBeforeTheHorizonCountsFromTheStepsStart) {
  // Written by a build without waiting_since_ms after hours of resends; each resend moved
  // updated_at, so the wait counts from the "step returning" note instead.
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  fire_until_quiet(m, at + 5 * 3'600'000); // about 300 resends: the step's note is still kept
  ASSERT_GT(m.updated_at_ms(), at + 4 * 3'600'000);
  auto j = nlohmann::json::parse(m.encode());
  ASSERT_TRUE(j.contains("waiting_since_ms"));
  j.erase("waiting_since_ms");
  auto old = order_state_machine::from_json(j);
  EXPECT_EQ(of_kind(old.resume(at + horizon - 1), kind::return_stock).size(), 2U);
  auto older = order_state_machine::from_json(j);
  EXPECT_THAT(older.resume(at + horizon), IsEmpty()) << "not updated_at + horizon";
  EXPECT_TRUE(older.held());
}

TEST(OrderSagaRetryHorizon, WithoutTheStepsNoteASnapshotCountsFromTheOrdersCreation) {
  const std::int64_t at = t0 + 10'000;
  const auto horizon = saga_settings{}.retry_horizon_ms;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at + horizon, sent); // a return long after the order
  auto j = nlohmann::json::parse(m.encode());
  j.erase("waiting_since_ms");
  for (auto& e : j["timeline"])
    if (e.at(3).get<std::string>().rfind("step returning", 0) == 0)
      e[3] = "(dropped from the timeline)";
  auto old = order_state_machine::from_json(j);
  EXPECT_THAT(old.resume(at + horizon + 60'000), IsEmpty())
      << "earlier than the truth: held for an operator rather than resent too late";
  EXPECT_TRUE(old.held());
  // Not another step's note (reserving, assigning, ... all come before the return).
  EXPECT_EQ(old.to_view()["saga"]["waiting_since_ms"], old.created_at_ms());
}

/// An order stuck in assigning (both start_pick answers lost) since t0 + 1000.
order_state_machine assigning_unanswered() {
  auto m = make_order(two_lines());
  auto p = two_warehouses();
  p.silent = {kind::start_pick};
  to_pending_payment(m, p);
  p.settle(m, p.approve(m, t0 + 1000), t0 + 1000);
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  return m;
}

TEST(OrderSagaRetryHorizon, AssigningIsHeldAndABuyersCancelThenRefused) {
  auto m = assigning_unanswered();
  const auto horizon = saga_settings{}.retry_horizon_ms;
  auto firings = fire_until_quiet(m, t0 + 2 * horizon);
  ASSERT_GT(firings.size(), 100U);
  EXPECT_EQ(of_kind(firings.front(), kind::start_pick).size(), 2U);
  EXPECT_THAT(firings.back(), IsEmpty());
  EXPECT_TRUE(m.held());
  // A cancel would take the lists back under keys the warehouses may have forgotten.
  std::vector<cmd> out;
  EXPECT_FALSE(m.request_cancel(t0 + 2 * horizon, out));
  EXPECT_THAT(out, IsEmpty());
  EXPECT_EQ(m.phase(), saga_phase::assigning);
  // The operator checked the warehouses: the lists go out again, and a cancel is possible.
  EXPECT_EQ(of_kind(m.retry(t0 + 2 * horizon + 1), kind::start_pick).size(), 2U);
  EXPECT_FALSE(m.held());
  EXPECT_TRUE(m.request_cancel(t0 + 2 * horizon + 2, out));
  EXPECT_EQ(m.phase(), saga_phase::cancelling_picks);
}

/// assigning_unanswered() resent until just before its horizon, not held yet.
order_state_machine assigning_at_the_horizon() {
  auto m = assigning_unanswered();
  fire_until_quiet(m, t0 + 1000 + saga_settings{}.retry_horizon_ms - 1);
  EXPECT_FALSE(m.held());
  return m;
}

TEST(OrderSagaRetryHorizon, PastTheHorizonBeforeTheTimerRanACancelIsAlreadyRefused) {
  // The deadline after the horizon is up to a backoff away: in between, the saga is past the
  // horizon but not yet held, and a cancel must not slip through.
  auto m = assigning_at_the_horizon();
  ASSERT_FALSE(m.held());
  const auto horizon = saga_settings{}.retry_horizon_ms;
  auto next = m.next_timer();
  ASSERT_TRUE(next.has_value());
  ASSERT_GT(*next, t0 + 1000 + horizon) << "the next firing is past the horizon";
  std::vector<cmd> out;
  EXPECT_FALSE(m.request_cancel(t0 + 1000 + horizon, out));
  EXPECT_THAT(out, IsEmpty());
  EXPECT_TRUE(m.held());
  EXPECT_EQ(m.phase(), saga_phase::assigning);
}

TEST(OrderSagaRetryHorizon, PastTheHorizonBeforeTheTimerRanARetryHoldsFirst) {
  auto m = assigning_at_the_horizon();
  ASSERT_FALSE(m.held());
  const auto horizon = saga_settings{}.retry_horizon_ms;
  EXPECT_THAT(m.retry(t0 + 1000 + horizon), IsEmpty()) << "a routine retry sends nothing now";
  EXPECT_TRUE(m.held());
  EXPECT_EQ(of_kind(m.retry(t0 + 1000 + horizon + 1), kind::start_pick).size(), 2U)
      << "the retry of the held saga, deliberately, does";
}

TEST(OrderSagaRetryHorizon, TakingPickListsBackCountsFromWhenTheyWereHandedOut) {
  // A cancel accepted late in assigning: the lists may have gone out when assigning began, so
  // cancel_pick is resent only until assigning's horizon, not for a new one.
  auto m = assigning_unanswered();
  const auto horizon = saga_settings{}.retry_horizon_ms;
  fire_until_quiet(m, t0 + 1000 + horizon / 2);
  std::vector<cmd> out;
  ASSERT_TRUE(m.request_cancel(t0 + 1000 + horizon / 2, out));
  ASSERT_EQ(m.phase(), saga_phase::cancelling_picks);
  EXPECT_EQ(of_kind(out, kind::cancel_pick).size(), 2U);
  auto firings = fire_until_quiet(m, t0 + 2 * horizon);
  ASSERT_FALSE(firings.empty());
  EXPECT_THAT(firings.back(), IsEmpty());
  EXPECT_TRUE(m.held());
  EXPECT_EQ(m.phase(), saga_phase::cancelling_picks);
  EXPECT_LT(m.timeline().back().at_ms, t0 + 1000 + horizon + 120'000)
      << "held at assigning's horizon, not half a horizon later";
}

TEST(OrderSagaRetryHorizon, ZeroTurnsItOffAndForwardStepsAreNotHeld) {
  const std::int64_t at = t0 + 10'000;
  std::vector<cmd> sent;
  auto m = returning_unanswered(at, sent);
  saga_settings off;
  off.retry_horizon_ms = 0;
  auto unlimited = order_state_machine::from_json(nlohmann::json::parse(m.encode()), off);
  EXPECT_EQ(of_kind(unlimited.resume(at + 10 * off.backoff_max_ms + 30LL * 86'400'000),
                    kind::return_stock)
                .size(),
            2U);
  // A reserve unanswered across a long outage is resent, then compensated after max_attempts,
  // as before: no operator needed for an order nobody paid.
  auto r = make_order(two_lines());
  r.start(t0);
  auto back = order_state_machine::from_json(nlohmann::json::parse(r.encode()));
  EXPECT_EQ(of_kind(back.resume(t0 + 3 * saga_settings{}.retry_horizon_ms), kind::reserve).size(),
            2U);
  EXPECT_FALSE(back.stuck());
}

} // namespace
} // namespace souk::actors::test
