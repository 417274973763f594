// The simulated bank over real sockets on 127.0.0.1: its HTTP API, the 3-DS page and form,
// and the signed callbacks it sends to a merchant server (retries, duplicates, faults).
#include "bank/routes.hpp"
#include "bank/service.hpp"
#include "http/problem.hpp"
#include "http/server.hpp"
#include "http/signature.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::bank {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* secret = "test-webhook-secret-0123456789";

/// A merchant's callback endpoint: records every callback and answers the statuses it is
/// told (200 once they run out).
class merchant {
public:
  merchant() {
    config::http_settings hs;
    hs.listen = {"127.0.0.1", 0};
    hs.threads = 1;
    routes_.add(http::bhttp::verb::post, "/cb",
                [this](const http::request_context& ctx, http::responder respond) {
                  unsigned status = 200;
                  {
                    std::lock_guard<std::mutex> guard{mtx_};
                    got_.push_back({std::string{ctx.req[http::signature_header]}, ctx.req.body()});
                    if (!statuses_.empty()) {
                      status = statuses_.front();
                      statuses_.erase(statuses_.begin());
                    }
                    cv_.notify_all();
                  }
                  respond(http::make_json(status, {{"status", "ok"}}));
                });
    server_ = std::make_unique<http::server>(hs, routes_);
    EXPECT_EQ(server_->start(), "");
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/cb"; }

  void answer_first(std::vector<unsigned> statuses) {
    std::lock_guard<std::mutex> guard{mtx_};
    statuses_ = std::move(statuses);
  }

  struct callback {
    std::string signature;
    std::string body;
  };

  /// Waits (bounded) until `n` callbacks came; returns those that came.
  std::vector<callback> wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
    return got_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<callback> got_;
  std::vector<unsigned> statuses_;
  http::router routes_;
  std::unique_ptr<http::server> server_;
};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class BankRoutesTest : public ::testing::Test {
protected:
  void start(config::bank_settings settings = {}) {
    settings.callback_backoff = 20ms;
    settings.call_timeout = 500ms;
    auto svc = service::open(tmp_ / "bank.db", settings, secret);
    ASSERT_TRUE(svc) << svc.error().message;
    svc_ = std::move(*svc);
    add_bank_routes(routes_, *svc_);
    config::http_settings hs;
    hs.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<http::server>(hs, routes_);
    ASSERT_EQ(server_->start(), "");
  }

  ~BankRoutesTest() override {
    if (svc_)
      svc_->stop();
    if (server_)
      server_->stop(1s);
  }

  std::optional<test::http_reply> post(const std::string& target, const std::string& body,
                                       const std::string& type = "application/json",
                                       std::chrono::milliseconds timeout = 5s) {
    test::http_connection c{server_->port()};
    return c.round_trip(
        test::make_request("POST", target, "Content-Type: " + type + "\r\n", body, false), timeout);
  }

  json create(const std::string& order, std::int64_t amount, const std::string& key) {
    auto r = post("/bank/v1/payments", json{{"order_id", order},
                                            {"amount", amount},
                                            {"callback_url", merchant_.url()},
                                            {"idempotency_key", key}}
                                           .dump());
    EXPECT_TRUE(r);
    if (!r)
      return {};
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body, nullptr, false);
  }

  test::temp_dir tmp_;
  merchant merchant_;
  http::router routes_;
  std::unique_ptr<service> svc_;
  std::unique_ptr<http::server> server_;
};

TEST_F(BankRoutesTest, CreateAnswersThePaymentIdAndTheRedirectUrl) {
  start();
  auto p = create("o-1", 12'900, "k1");
  ASSERT_TRUE(p.is_object());
  auto id = p.value("payment_id", "");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(p["redirect_url"], "/bank/3ds/" + id);
  EXPECT_EQ(p["status"], "pending");
  EXPECT_EQ(p["amount"], 12'900);
  EXPECT_EQ(p["currency"], "RUB");
  auto again = create("o-1", 12'900, "k1");
  EXPECT_EQ(again["payment_id"], id);
  auto got = test::http_get(server_->port(), "/bank/v1/payments/" + id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(json::parse(got->body)["order_id"], "o-1");
  auto by_order = test::http_get(server_->port(), "/bank/v1/orders/o-1/payment");
  ASSERT_TRUE(by_order);
  EXPECT_EQ(json::parse(by_order->body)["payment_id"], id);
}

TEST_F(BankRoutesTest, BadCreatesAreProblemsWithStableCodes) {
  start();
  auto r = post("/bank/v1/payments", "{not json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("content-type"), "application/problem+json");
  EXPECT_EQ(json::parse(r->body)["code"], "malformed_json");
  r = post("/bank/v1/payments", json{{"order_id", "o"},
                                     {"amount", -5},
                                     {"callback_url", merchant_.url()},
                                     {"idempotency_key", "k"}}
                                    .dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(json::parse(r->body)["code"], "validation_failed");
  EXPECT_EQ(json::parse(r->body)["errors"][0]["pointer"], "/amount");
  r = post("/bank/v1/payments",
           json{{"order_id", "o"}, {"amount", 5}, {"callback_url", merchant_.url()}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(json::parse(r->body)["errors"][0]["pointer"], "/idempotency_key");
  auto unknown = test::http_get(server_->port(), "/bank/v1/payments/pay_nope");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["code"], "unknown_payment");
}

TEST_F(BankRoutesTest, TheThreeDsPageOffersApproveAndDecline) {
  start();
  auto id = create("o-1", 12'900, "k1")["payment_id"].get<std::string>();
  auto page = test::http_get(server_->port(), "/bank/3ds/" + id);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("action=\"/bank/3ds/" + id + "\""), std::string::npos) << page->body;
  EXPECT_NE(page->body.find("value=\"true\">Approve"), std::string::npos);
  EXPECT_NE(page->body.find("value=\"false\">Decline"), std::string::npos);
  EXPECT_NE(page->body.find("129.00 RUB"), std::string::npos);
  auto missing = test::http_get(server_->port(), "/bank/3ds/pay_nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(BankRoutesTest, AThreeDsAnswerThatIsNotJsonIs400MalformedJson) {
  start();
  auto id = create("o-1", 1000, "k1")["payment_id"].get<std::string>();
  auto bad = post("/bank/3ds/" + id, "{bad");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_EQ(json::parse(bad->body)["code"], "malformed_json");
  auto twice = post("/bank/3ds/" + id, R"({"approve": true, "approve": false})");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400) << twice->body;
  EXPECT_EQ(json::parse(twice->body)["code"], "malformed_json");
  ASSERT_TRUE(svc_->find(id));
  EXPECT_EQ(svc_->find(id)->status, "pending") << "neither approved nor declined";
  auto wrong = post("/bank/3ds/" + id, R"({"approve": "yes"})");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 422) << wrong->body;
  EXPECT_EQ(json::parse(wrong->body)["code"], "validation_failed");
  EXPECT_EQ(svc_->find(id)->status, "pending") << "neither decided the payment";
}

TEST_F(BankRoutesTest, ApprovingCapturesAndSendsASignedCallback) {
  start();
  auto id = create("o-1", 12'900, "k1")["payment_id"].get<std::string>();
  auto r = post("/bank/3ds/" + id, R"({"approve": true})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["status"], "captured");
  EXPECT_EQ(json::parse(r->body)["captured"], 12'900);
  auto got = merchant_.wait_for(1);
  ASSERT_EQ(got.size(), 1U);
  http::signature_error why{};
  EXPECT_TRUE(http::verify_callback(got[0].signature, got[0].body, secret, now_seconds(), why))
      << got[0].signature;
  EXPECT_FALSE(http::verify_callback(got[0].signature, got[0].body, "another-secret-xxxxxxxx",
                                     now_seconds(), why));
  auto body = json::parse(got[0].body);
  EXPECT_EQ(body["payment_id"], id);
  EXPECT_EQ(body["order_id"], "o-1");
  EXPECT_EQ(body["status"], "captured");
  EXPECT_EQ(body["amount"], 12'900);
  EXPECT_FALSE(body.value("event_id", "").empty());
  // Decided once only.
  r = post("/bank/3ds/" + id, R"({"approve": false})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(json::parse(r->body)["code"], "not_pending");
}

TEST_F(BankRoutesTest, TheHtmlFormDeclinesWithoutScript) {
  start();
  auto id = create("o-1", 500, "k1")["payment_id"].get<std::string>();
  auto r = post("/bank/3ds/" + id, "approve=false", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<b id=\"status\">declined</b>"), std::string::npos) << r->body;
  auto got = merchant_.wait_for(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(json::parse(got[0].body)["status"], "declined");
}

TEST_F(BankRoutesTest, RefundAndCancelAreIdempotentByKey) {
  start();
  auto id = create("o-1", 1000, "k1")["payment_id"].get<std::string>();
  ASSERT_EQ(post("/bank/3ds/" + id, R"({"approve": true})")->status, 200);
  auto refund = json{{"amount", 400}, {"idempotency_key", "r1"}}.dump();
  auto r = post("/bank/v1/payments/" + id + "/refund", refund);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["status"], "partially_refunded");
  EXPECT_EQ(json::parse(r->body)["refunded"], 400);
  r = post("/bank/v1/payments/" + id + "/refund", refund);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["refunded"], 400); // no second effect
  auto got = merchant_.wait_for(2);
  ASSERT_EQ(got.size(), 2U); // captured, then one refunded
  EXPECT_EQ(json::parse(got[1].body)["status"], "refunded");
  EXPECT_EQ(json::parse(got[1].body)["amount"], 400);

  auto other = create("o-2", 1000, "k2")["payment_id"].get<std::string>();
  r = post("/bank/v1/payments/" + other + "/cancel", R"({"idempotency_key": "c1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "cancelled");
  r = post("/bank/v1/orders/o-3/cancel", R"({"idempotency_key": "c2"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["status"], "none");
  EXPECT_EQ(create("o-3", 1000, "k3")["status"], "cancelled");
  r = post("/bank/v1/payments/pay_nope/refund", refund);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["code"], "unknown_payment");
}

TEST_F(BankRoutesTest, KeysAreForgottenAfterTheRetentionByThePeriodicSweep) {
  config::bank_settings s;
  s.retention = 2s;
  s.sweep_every = 100ms;
  start(s);
  auto id = create("o-1", 1000, "k1")["payment_id"].get<std::string>();
  ASSERT_EQ(post("/bank/3ds/" + id, R"({"approve": true})")->status, 200);
  auto refund = json{{"amount", 400}, {"idempotency_key", "r1"}}.dump();
  auto before_first = std::chrono::steady_clock::now();
  auto first = post("/bank/v1/payments/" + id + "/refund", refund);
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(first->body)["refunded"], 400);
  auto again = post("/bank/v1/payments/" + id + "/refund", refund);
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["refunded"], 400) << "within the retention: a replay";
  // Past the retention the key is new again: the same body is a second refund. Until the
  // sweep forgot it, asking again is a replay (no second effect), so ask until it counts.
  auto started = std::chrono::steady_clock::now();
  std::optional<test::http_reply> later;
  while (std::chrono::steady_clock::now() - started < 10s) {
    std::this_thread::sleep_for(100ms);
    later = post("/bank/v1/payments/" + id + "/refund", refund);
    ASSERT_TRUE(later);
    ASSERT_EQ(later->status, 200) << later->body;
    if (json::parse(later->body)["refunded"] != 400)
      break;
  }
  EXPECT_EQ(json::parse(later->body)["refunded"], 800);
  EXPECT_GE(std::chrono::steady_clock::now() - before_first, 2s) << "not before the retention";
  EXPECT_EQ(svc_->sweep().idempotency_keys, 0) << "the periodic sweep left nothing old";
}

TEST_F(BankRoutesTest, ACallbackIsRetriedUntilTheMerchantAnswers2xx) {
  start();
  merchant_.answer_first({500, 503});
  auto id = create("o-1", 1000, "k1")["payment_id"].get<std::string>();
  ASSERT_EQ(post("/bank/3ds/" + id, R"({"approve": true})")->status, 200);
  auto got = merchant_.wait_for(3);
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0].body, got[2].body); // the same event, signed again
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (svc_->callback_stats().delivered < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(svc_->callback_stats().delivered, 1U);
  EXPECT_EQ(svc_->callback_stats().attempts, 3U);
}

TEST_F(BankRoutesTest, DuplicateCallbacksSendTheSameEventTwice) {
  config::bank_settings s;
  s.duplicate_callbacks = true;
  start(s);
  auto id = create("o-1", 1000, "k1")["payment_id"].get<std::string>();
  ASSERT_EQ(post("/bank/3ds/" + id, R"({"approve": true})")->status, 200);
  auto got = merchant_.wait_for(2);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(json::parse(got[0].body)["event_id"], json::parse(got[1].body)["event_id"]);
}

TEST_F(BankRoutesTest, AutoApproveCapturesWithoutThePage) {
  config::bank_settings s;
  s.auto_approve = true;
  start(s);
  auto p = create("o-1", 1000, "k1");
  EXPECT_EQ(p["status"], "pending"); // answered before the (simulated) buyer approved
  auto got = merchant_.wait_for(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(json::parse(got[0].body)["status"], "captured");
}

TEST_F(BankRoutesTest, NoAnswerLeavesTheCallerWaitingAndCreatesNothing) {
  config::bank_settings s;
  s.no_answer_percent = 100;
  start(s);
  auto r = post("/bank/v1/payments",
                json{{"order_id", "o-1"},
                     {"amount", 5},
                     {"callback_url", merchant_.url()},
                     {"idempotency_key", "k"}}
                    .dump(),
                "application/json", 300ms);
  EXPECT_FALSE(r); // nothing within the caller's deadline
  EXPECT_FALSE(svc_->find_by_order("o-1"));
}

TEST_F(BankRoutesTest, ARefusedCreateIsA402) {
  config::bank_settings s;
  s.refuse_percent = 100;
  start(s);
  auto r = post("/bank/v1/payments", json{{"order_id", "o-1"},
                                          {"amount", 5},
                                          {"callback_url", merchant_.url()},
                                          {"idempotency_key", "k"}}
                                         .dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 402);
  EXPECT_EQ(json::parse(r->body)["code"], "refused");
}

} // namespace
} // namespace souk::bank
