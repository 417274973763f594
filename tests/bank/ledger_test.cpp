// The simulated bank's books: one payment per order, idempotency by key, the 3-DS decision,
// refunds and cancels, the callback outbox, and that all of it survives a reopen.
#include "bank/ledger.hpp"
#include "persistence/sqlite.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::bank {
namespace {

class LedgerTest : public ::testing::Test {
protected:
  LedgerTest() { reopen(); }

  void reopen() {
    books_.reset();
    auto opened = ledger::open(tmp_ / "bank.db");
    ASSERT_TRUE(opened) << opened.error().message;
    books_ = std::move(*opened);
  }

  outcome create(const std::string& order, std::int64_t amount, const std::string& key,
                 bool refuse = false) {
    return books_->create(order, amount, "RUB", "http://127.0.0.1:1/cb", key, refuse, 1000);
  }

  test::temp_dir tmp_;
  std::unique_ptr<ledger> books_;
};

TEST_F(LedgerTest, CreateStoresAPendingPayment) {
  auto o = create("o-1", 12'900, "k1");
  ASSERT_EQ(o.code, "");
  EXPECT_FALSE(o.replayed);
  EXPECT_EQ(o.pay.status, "pending");
  EXPECT_EQ(o.pay.order_id, "o-1");
  EXPECT_EQ(o.pay.amount, 12'900);
  EXPECT_EQ(o.pay.currency, "RUB");
  EXPECT_EQ(o.pay.created, 1000);
  EXPECT_EQ(o.pay.payment_id.rfind("pay_", 0), 0U);
  EXPECT_TRUE(o.events.empty());
  auto found = books_->find(o.pay.payment_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->order_id, "o-1");
  EXPECT_EQ(books_->find_by_order("o-1")->payment_id, o.pay.payment_id);
}

TEST_F(LedgerTest, ARepeatedCreateKeyAnswersTheFirstResult) {
  auto first = create("o-1", 500, "k1");
  auto again = create("o-1", 999, "k1");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.pay.payment_id, first.pay.payment_id);
  EXPECT_EQ(again.pay.amount, 500);
  // Even after the payment moved on, the key replays the answer it first got.
  ASSERT_EQ(books_->decide(first.pay.payment_id, true, false).code, "");
  auto later = create("o-1", 500, "k1");
  EXPECT_EQ(later.pay.status, "pending");
  EXPECT_EQ(books_->find(first.pay.payment_id)->status, "captured");
}

TEST_F(LedgerTest, AnOrderHasOnePaymentWhateverTheKey) {
  auto first = create("o-1", 500, "k1");
  auto second = create("o-1", 500, "k2");
  EXPECT_EQ(second.code, "");
  EXPECT_EQ(second.pay.payment_id, first.pay.payment_id);
  auto other = create("o-2", 500, "k3");
  EXPECT_NE(other.pay.payment_id, first.pay.payment_id);
}

TEST_F(LedgerTest, ARefusedCreateStoresNoPaymentAndReplaysTheRefusal) {
  auto o = create("o-1", 500, "k1", true);
  EXPECT_EQ(o.code, "refused");
  EXPECT_FALSE(books_->find_by_order("o-1"));
  EXPECT_EQ(create("o-1", 500, "k1").code, "refused");
  EXPECT_EQ(create("o-1", 500, "k2").code, ""); // a new attempt with a new key
}

TEST_F(LedgerTest, ANonPositiveAmountIsRefused) {
  EXPECT_EQ(create("o-1", 0, "k1").code, "invalid_amount");
  EXPECT_FALSE(books_->find_by_order("o-1"));
}

TEST_F(LedgerTest, ApproveCapturesWholeAndQueuesOneCallback) {
  auto id = create("o-1", 700, "k1").pay.payment_id;
  auto o = books_->decide(id, true, false);
  ASSERT_EQ(o.code, "");
  EXPECT_EQ(o.pay.status, "captured");
  EXPECT_EQ(o.pay.captured, 700);
  ASSERT_EQ(o.events.size(), 1U);
  EXPECT_EQ(o.events[0].status, "captured");
  EXPECT_EQ(o.events[0].amount, 700);
  EXPECT_EQ(o.events[0].order_id, "o-1");
  EXPECT_EQ(o.events[0].callback_url, "http://127.0.0.1:1/cb");
  auto body = nlohmann::json::parse(o.events[0].body());
  EXPECT_EQ(body["event_id"], o.events[0].event_id);
  EXPECT_EQ(body["payment_id"], id);
  EXPECT_EQ(body["status"], "captured");
  EXPECT_EQ(body["amount"], 700);
  auto owed = books_->undelivered();
  ASSERT_EQ(owed.size(), 1U);
  books_->mark_delivered(owed[0].event_id);
  EXPECT_TRUE(books_->undelivered().empty());
}

TEST_F(LedgerTest, DeclineAndTheDeclineKnobBothDecline) {
  auto a = create("o-1", 700, "k1").pay.payment_id;
  auto b = create("o-2", 700, "k2").pay.payment_id;
  EXPECT_EQ(books_->decide(a, false, false).pay.status, "declined");
  auto o = books_->decide(b, true, true);
  EXPECT_EQ(o.pay.status, "declined");
  EXPECT_EQ(o.pay.captured, 0);
  ASSERT_EQ(o.events.size(), 1U);
  EXPECT_EQ(o.events[0].status, "declined");
}

TEST_F(LedgerTest, ADecidedPaymentCannotBeDecidedAgain) {
  auto id = create("o-1", 700, "k1").pay.payment_id;
  books_->decide(id, true, false);
  auto again = books_->decide(id, false, false);
  EXPECT_EQ(again.code, "not_pending");
  EXPECT_EQ(again.pay.status, "captured");
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(books_->decide("pay_nope", true, false).code, "unknown_payment");
}

TEST_F(LedgerTest, RefundsArePartialThenWholeAndIdempotentByKey) {
  auto id = create("o-1", 1000, "k1").pay.payment_id;
  books_->decide(id, true, false);
  auto part = books_->refund(id, 300, "r1");
  ASSERT_EQ(part.code, "");
  EXPECT_EQ(part.pay.status, "partially_refunded");
  EXPECT_EQ(part.pay.refunded, 300);
  ASSERT_EQ(part.events.size(), 1U);
  EXPECT_EQ(part.events[0].status, "refunded");
  EXPECT_EQ(part.events[0].amount, 300);
  auto replay = books_->refund(id, 300, "r1");
  EXPECT_TRUE(replay.replayed);
  EXPECT_TRUE(replay.events.empty());
  EXPECT_EQ(replay.pay.refunded, 300);
  // More than is left refunds what is left.
  auto rest = books_->refund(id, 5000, "r2");
  EXPECT_EQ(rest.pay.status, "refunded");
  EXPECT_EQ(rest.pay.refunded, 1000);
  EXPECT_EQ(rest.events.at(0).amount, 700);
  EXPECT_EQ(books_->find(id)->refunded, 1000);
  // Each refund's callback carries the refunded total after it, also from the outbox: the
  // receiver cannot count a refund twice (its answer and its callback both tell of it).
  EXPECT_EQ(part.events[0].refunded, 300);
  EXPECT_EQ(rest.events[0].refunded, 1000);
  EXPECT_EQ(nlohmann::json::parse(rest.events[0].body())["refunded"], 1000);
  std::vector<std::int64_t> totals;
  for (auto& e : books_->undelivered())
    if (e.status == "refunded")
      totals.push_back(e.refunded);
  EXPECT_EQ(totals, (std::vector<std::int64_t>{300, 1000}));
}

TEST_F(LedgerTest, ABankFileFromBeforeRefundTotalsIsUpgradedOnOpen) {
  books_.reset();
  auto path = tmp_ / "old-bank.db";
  {
    auto conn = persistence::connection::open(path, true);
    ASSERT_TRUE(conn) << conn.error().message;
    ASSERT_TRUE(
        conn->exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
                   "payment_id TEXT NOT NULL, order_id TEXT NOT NULL, status TEXT NOT NULL, "
                   "amount INTEGER NOT NULL, callback_url TEXT NOT NULL, delivered INTEGER "
                   "NOT NULL DEFAULT 0);"
                   "INSERT INTO events(id, payment_id, order_id, status, amount, "
                   "callback_url) VALUES ('ev_old', 'pay_x', 'o-x', 'refunded', 50, 'cb')")
            .ok());
  }
  auto opened = ledger::open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  auto owed = (*opened)->undelivered();
  ASSERT_EQ(owed.size(), 1U);
  EXPECT_EQ(owed[0].refunded, -1) << "an old event does not know the total";
  EXPECT_FALSE(nlohmann::json::parse(owed[0].body()).contains("refunded"));
}

TEST_F(LedgerTest, APaymentNotCapturedIsNotRefunded) {
  auto id = create("o-1", 1000, "k1").pay.payment_id;
  auto o = books_->refund(id, 100, "r1");
  EXPECT_EQ(o.code, "");
  EXPECT_EQ(o.pay.status, "pending");
  EXPECT_EQ(o.pay.refunded, 0);
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(books_->refund("pay_nope", 100, "r2").code, "unknown_payment");
}

TEST_F(LedgerTest, CancelStopsAPendingPaymentOnly) {
  auto a = create("o-1", 1000, "k1").pay.payment_id;
  auto b = create("o-2", 1000, "k2").pay.payment_id;
  books_->decide(b, true, false);
  EXPECT_EQ(books_->cancel(a, "c1").pay.status, "cancelled");
  EXPECT_EQ(books_->decide(a, true, false).code, "not_pending");
  EXPECT_EQ(books_->cancel(b, "c2").pay.status, "captured");
  EXPECT_EQ(books_->cancel("pay_nope", "c3").code, "unknown_payment");
}

TEST_F(LedgerTest, ACancelBeforeTheCreateMakesTheCreateBornCancelled) {
  auto o = books_->cancel_order("o-9", "c1");
  EXPECT_EQ(o.code, "");
  EXPECT_EQ(o.pay.status, "none");
  auto created = create("o-9", 1000, "k1");
  EXPECT_EQ(created.code, "");
  EXPECT_EQ(created.pay.status, "cancelled");
  // With a payment, cancelling by order cancels it.
  create("o-10", 1000, "k2");
  EXPECT_EQ(books_->cancel_order("o-10", "c2").pay.status, "cancelled");
}

TEST_F(LedgerTest, EverythingSurvivesAReopen) {
  auto id = create("o-1", 1000, "k1").pay.payment_id;
  books_->decide(id, true, false);
  books_->cancel_order("o-2", "c1");
  ASSERT_TRUE(books_->set_meta("webhook_secret", "s3cret").ok());
  reopen();
  auto p = books_->find(id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, "captured");
  EXPECT_EQ(p->captured, 1000);
  EXPECT_TRUE(create("o-1", 1000, "k1").replayed);
  EXPECT_EQ(create("o-2", 1000, "k9").pay.status, "cancelled");
  EXPECT_EQ(books_->undelivered().size(), 1U); // the capture callback is still owed
  EXPECT_EQ(books_->meta("webhook_secret").value_or(""), "s3cret");
  // New ids do not repeat old ones.
  auto next = create("o-3", 1000, "k3").pay.payment_id;
  EXPECT_NE(next, id);
}

TEST_F(LedgerTest, PruneForgetsOldKeysAndDeliveredCallbacksButKeepsRecentOnesAndPayments) {
  std::int64_t now = 1'000'000;
  books_->set_clock([&now] { return now; });
  auto id = create("o-1", 1000, "k1").pay.payment_id;
  books_->decide(id, true, false); // a callback, delivered below
  ASSERT_EQ(books_->refund(id, 100, "r1").code, "");
  auto owed = books_->undelivered();
  ASSERT_EQ(owed.size(), 2U);
  books_->mark_delivered(owed[0].event_id); // the capture's; the refund's stays owed
  now = 2'000'000;
  auto id2 = create("o-2", 1000, "k2").pay.payment_id;
  books_->decide(id2, true, false); // the newest callback, delivered
  books_->mark_delivered(books_->undelivered().back().event_id);

  // A cutoff before everything deletes nothing.
  auto none = books_->prune(1'000'000, 100);
  EXPECT_EQ(none.idempotency_keys, 0);
  EXPECT_EQ(none.events, 0);
  EXPECT_TRUE(books_->refund(id, 100, "r1").replayed);

  auto some = books_->prune(1'500'000, 100);
  EXPECT_EQ(some.idempotency_keys, 2) << "k1's create and r1's refund";
  EXPECT_EQ(some.events, 1) << "only the delivered capture callback of o-1";
  // r1 is a new key now: the same refund counts again, as any key past its retention.
  auto again = books_->refund(id, 100, "r1");
  EXPECT_FALSE(again.replayed);
  EXPECT_EQ(again.pay.refunded, 200);
  // The payment is still there, and its order still has only it.
  EXPECT_EQ(books_->find(id)->refunded, 200);
  EXPECT_EQ(create("o-1", 1000, "k-new").pay.payment_id, id);
  // The owed refund callbacks stay until delivered; k2 is recent and still replays.
  EXPECT_EQ(books_->undelivered().size(), 2U);
  EXPECT_TRUE(create("o-2", 1000, "k2").replayed);

  // Everything old and delivered goes, but the newest callback, whose seq numbers the next.
  for (auto& e : books_->undelivered())
    books_->mark_delivered(e.event_id);
  auto rest = books_->prune(9'000'000, 100);
  EXPECT_EQ(rest.events, 2);
  now = 3'000'000;
  books_->decide(create("o-3", 1000, "k3").pay.payment_id, true, false);
  auto newest = books_->undelivered();
  ASSERT_EQ(newest.size(), 1U);
  for (auto* old : {&owed[0], &owed[1]})
    EXPECT_NE(newest[0].event_id, old->event_id) << "an event id was given out twice";
}

TEST_F(LedgerTest, PruneLooksAtMostAtTheOldestRowsItIsGiven) {
  std::int64_t now = 1'000;
  books_->set_clock([&now] { return now; });
  for (int i = 0; i < 5; ++i)
    create("o-" + std::to_string(i), 100, "k" + std::to_string(i));
  EXPECT_EQ(books_->prune(2'000, 2).idempotency_keys, 2);
  EXPECT_EQ(books_->prune(2'000, 2).idempotency_keys, 2);
  EXPECT_EQ(books_->prune(2'000, 2).idempotency_keys, 1);
  EXPECT_EQ(books_->prune(2'000, 2).idempotency_keys, 0);
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(create("o-" + std::to_string(i), 100, "k" + std::to_string(i)).replayed);
}

TEST_F(LedgerTest, ABankFileFromBeforeRetentionKeepsItsOldKeysAFullRetention) {
  books_.reset();
  auto path = tmp_ / "old-bank.db";
  {
    auto conn = persistence::connection::open(path, true);
    ASSERT_TRUE(conn) << conn.error().message;
    ASSERT_TRUE(conn->exec("CREATE TABLE idempotency(op TEXT NOT NULL, key TEXT NOT NULL, "
                           "answer TEXT NOT NULL, PRIMARY KEY(op, key));"
                           "INSERT INTO idempotency VALUES ('refund', 'pay_x\nr1', "
                           "'{\"code\":\"\",\"payment\":{}}')")
                    .ok());
  }
  auto before = wall_clock_ms();
  auto opened = ledger::open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ((*opened)->prune(before - 1, 100).idempotency_keys, 0)
      << "an old key counts as written at the upgrade";
  EXPECT_EQ((*opened)->prune(wall_clock_ms() + 1, 100).idempotency_keys, 1);
}

} // namespace
} // namespace souk::bank
