// POST /v1/payments/callback over real sockets: a refused signature (missing, forged, wrong
// secret, too old, in the future) or body changes nothing and says why with a stable code;
// a good one reaches the payment exactly once per event id.
#include "http/routes/health.hpp"
#include "http/routes/payment_routes.hpp"
#include "http/server.hpp"
#include "http/signature.hpp"
#include "tests/support/http_client.hpp"

#include <mutex>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* secret = "callback-secret-for-tests-0123456789";
constexpr std::int64_t now = 1'700'000'000; // the route's clock in these tests

class PaymentRoutesTest : public ::testing::Test {
protected:
  PaymentRoutesTest() {
    add_health_routes(routes_, "t1", [] { return readiness{true, {}}; });
    add_payment_routes(
        routes_, secret,
        [this](actors::bank_event ev, std::function<void(delivery_outcome)> done) {
          std::lock_guard<std::mutex> guard{mtx_};
          if (ev.order_id == "o-unknown")
            return done(delivery_outcome::unknown);
          if (ev.order_id == "o-slow")
            return done(delivery_outcome::timeout);
          delivered_.push_back(ev);
          done(seen_.insert(ev.event_id).second ? delivery_outcome::applied
                                                : delivery_outcome::duplicate);
        },
        [] { return now; });
    config::http_settings hs;
    hs.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<server>(hs, routes_);
    EXPECT_EQ(server_->start(), "");
  }

  static std::string event(const std::string& id, const std::string& order = "o-1") {
    return json{{"event_id", id},
                {"payment_id", "pay_1"},
                {"order_id", order},
                {"status", "captured"},
                {"amount", 12'900}}
        .dump();
  }

  std::optional<test::http_reply> post(const std::string& body,
                                       const std::optional<std::string>& signature) {
    std::string headers = "Content-Type: application/json\r\n";
    if (signature)
      headers += "Souk-Signature: " + *signature + "\r\n";
    test::http_connection c{server_->port()};
    return c.round_trip(test::make_request("POST", "/v1/payments/callback", headers, body, false));
  }

  std::optional<test::http_reply> post_signed(const std::string& body, std::int64_t t = now,
                                              const std::string& key = secret) {
    return post(body, sign_callback(key, t, body));
  }

  /// The status and problem code of `r` (code empty for a non-problem body).
  static std::pair<int, std::string> outcome(const std::optional<test::http_reply>& r) {
    if (!r)
      return {0, "no answer"};
    auto j = json::parse(r->body, nullptr, false);
    if (!j.is_object())
      return {r->status, ""};
    if (j.contains("code"))
      return {r->status, j["code"].get<std::string>()};
    return {r->status, j.value("status", "")};
  }

  std::size_t delivered() {
    std::lock_guard<std::mutex> guard{mtx_};
    return delivered_.size();
  }

  void expect_still_healthy() {
    auto h = test::http_get(server_->port(), "/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  }

  router routes_;
  std::unique_ptr<server> server_;
  std::mutex mtx_;
  std::vector<actors::bank_event> delivered_;
  std::set<std::string> seen_;
};

TEST_F(PaymentRoutesTest, ASignedCallbackIsDeliveredAndAnsweredOk) {
  auto r = post_signed(event("ev_1"));
  EXPECT_EQ(outcome(r), (std::pair<int, std::string>{200, "ok"}));
  ASSERT_EQ(delivered(), 1U);
  EXPECT_EQ(delivered_[0].event_id, "ev_1");
  EXPECT_EQ(delivered_[0].payment_id, "pay_1");
  EXPECT_EQ(delivered_[0].order_id, "o-1");
  EXPECT_EQ(delivered_[0].status, "captured");
  EXPECT_EQ(delivered_[0].amount, 12'900);
  EXPECT_EQ(delivered_[0].refunded, -1) << "not a refund: no total";
}

TEST_F(PaymentRoutesTest, ARefundCallbackPassesTheRefundedTotalOn) {
  auto refund = json::parse(event("ev_9"));
  refund["status"] = "refunded";
  refund["amount"] = 300;
  refund["refunded"] = 1'300;
  EXPECT_EQ(outcome(post_signed(refund.dump())).second, "ok");
  ASSERT_EQ(delivered(), 1U);
  EXPECT_EQ(delivered_[0].amount, 300);
  EXPECT_EQ(delivered_[0].refunded, 1'300);
}

TEST_F(PaymentRoutesTest, ADuplicateEventIdIsAnswered200Duplicate) {
  EXPECT_EQ(outcome(post_signed(event("ev_1"))).second, "ok");
  auto r = post_signed(event("ev_1"), now + 5); // signed again later, same event
  EXPECT_EQ(outcome(r), (std::pair<int, std::string>{200, "duplicate"}));
  expect_still_healthy();
}

TEST_F(PaymentRoutesTest, AMissingSignatureIsRefusedAndChangesNothing) {
  EXPECT_EQ(outcome(post(event("ev_1"), std::nullopt)),
            (std::pair<int, std::string>{400, "bad_signature"}));
  EXPECT_EQ(delivered(), 0U);
  expect_still_healthy();
}

TEST_F(PaymentRoutesTest, AForgedSignatureIsRefused) {
  auto body = event("ev_1");
  auto sig = sign_callback(secret, now, body);
  sig.back() = sig.back() == '0' ? '1' : '0'; // one hex digit off
  EXPECT_EQ(outcome(post(body, sig)), (std::pair<int, std::string>{400, "bad_signature"}));
  // A signature of another body does not fit this one.
  EXPECT_EQ(outcome(post(event("ev_2"), sign_callback(secret, now, event("ev_3")))),
            (std::pair<int, std::string>{400, "bad_signature"}));
  EXPECT_EQ(outcome(post(body, "t=1700000000")),
            (std::pair<int, std::string>{400, "bad_signature"}));
  EXPECT_EQ(outcome(post(body, "garbage")), (std::pair<int, std::string>{400, "bad_signature"}));
  EXPECT_EQ(delivered(), 0U);
  expect_still_healthy();
}

TEST_F(PaymentRoutesTest, TheWrongSecretIsRefused) {
  EXPECT_EQ(outcome(post_signed(event("ev_1"), now, "not-the-secret-at-all-0123456789")),
            (std::pair<int, std::string>{400, "bad_signature"}));
  EXPECT_EQ(delivered(), 0U);
}

TEST_F(PaymentRoutesTest, ASignatureOlderOrNewerThan300SecondsIsExpired) {
  EXPECT_EQ(outcome(post_signed(event("ev_1"), now - 301)),
            (std::pair<int, std::string>{400, "signature_expired"}));
  EXPECT_EQ(outcome(post_signed(event("ev_2"), now + 301)),
            (std::pair<int, std::string>{400, "signature_expired"}));
  EXPECT_EQ(delivered(), 0U);
  // 300 s either way is still fine.
  EXPECT_EQ(outcome(post_signed(event("ev_3"), now - 300)).second, "ok");
  EXPECT_EQ(outcome(post_signed(event("ev_4"), now + 300)).second, "ok");
  expect_still_healthy();
}

TEST_F(PaymentRoutesTest, AMalformedOrInvalidBodyIsRefused) {
  EXPECT_EQ(outcome(post_signed("{not json")),
            (std::pair<int, std::string>{400, "malformed_json"}));
  EXPECT_EQ(outcome(post_signed("[1, 2]")),
            (std::pair<int, std::string>{422, "validation_failed"}));
  // Signed, but saying two things: which status would the signer have meant?
  auto twice = event("ev_twice");
  twice.insert(twice.size() - 1, R"(,"status":"captured")");
  EXPECT_EQ(outcome(post_signed(twice)), (std::pair<int, std::string>{400, "malformed_json"}));
  EXPECT_EQ(delivered(), 0U);
  auto bad_status = json::parse(event("ev_1"));
  bad_status["status"] = "stolen";
  auto r = post_signed(bad_status.dump());
  EXPECT_EQ(outcome(r), (std::pair<int, std::string>{422, "validation_failed"}));
  EXPECT_EQ(json::parse(r->body)["errors"][0]["pointer"], "/status");
  auto no_id = json::parse(event("ev_1"));
  no_id.erase("event_id");
  r = post_signed(no_id.dump());
  EXPECT_EQ(outcome(r), (std::pair<int, std::string>{422, "validation_failed"}));
  EXPECT_EQ(json::parse(r->body)["errors"][0]["pointer"], "/event_id");
  auto negative = json::parse(event("ev_1"));
  negative["amount"] = -1;
  EXPECT_EQ(outcome(post_signed(negative.dump())),
            (std::pair<int, std::string>{422, "validation_failed"}));
  for (auto total : {json(-5), json("1300"), json(1.5)}) {
    auto bad_total = json::parse(event("ev_1"));
    bad_total["refunded"] = total;
    r = post_signed(bad_total.dump());
    EXPECT_EQ(outcome(r), (std::pair<int, std::string>{422, "validation_failed"})) << total;
    EXPECT_EQ(json::parse(r->body)["errors"][0]["pointer"], "/refunded");
  }
  EXPECT_EQ(delivered(), 0U);
  expect_still_healthy();
}

TEST_F(PaymentRoutesTest, AnUnknownPaymentIs404AndASlowOneIs503) {
  EXPECT_EQ(outcome(post_signed(event("ev_1", "o-unknown"))),
            (std::pair<int, std::string>{404, "unknown_payment"}));
  auto r = post_signed(event("ev_2", "o-slow"));
  EXPECT_EQ(outcome(r), (std::pair<int, std::string>{503, "payment_unavailable"}));
  EXPECT_EQ(r->header("retry-after"), "1");
  expect_still_healthy();
}

TEST(CallbackSignature, SignAndVerifyAgree) {
  auto sig = sign_callback("k", 42, "{}");
  EXPECT_EQ(sig.rfind("t=42,v1=", 0), 0U);
  EXPECT_EQ(sig.size(), std::string{"t=42,v1="}.size() + 64);
  signature_error why{};
  EXPECT_TRUE(verify_callback(sig, "{}", "k", 42, why));
  EXPECT_FALSE(verify_callback(sig, "{ }", "k", 42, why));
  EXPECT_EQ(why, signature_error::bad_signature);
  EXPECT_FALSE(verify_callback("", "{}", "k", 42, why));
  EXPECT_EQ(why, signature_error::missing);
  EXPECT_FALSE(verify_callback("t=x,v1=" + std::string(64, 'a'), "{}", "k", 42, why));
  EXPECT_EQ(why, signature_error::malformed);
}

} // namespace
} // namespace souk::http
