// The HTTP payment provider against a real simulated bank on 127.0.0.1: the same provider
// calls as bank_sim (create, decide, refund, cancel) over Beast, idempotent by key, and an
// error answer within the call timeout when the bank is down or silent.
#include "actors/api/errors.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/register.hpp"
#include "actors/payment/bank_http_client.hpp"
#include "bank/routes.hpp"
#include "bank/service.hpp"
#include "http/problem.hpp"
#include "http/server.hpp"
#include "http/signature.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* secret = "provider-test-secret-0123456789";

caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", std::size_t{2});
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  return cfg;
}

class BankHttpClientTest : public ::testing::Test {
protected:
  BankHttpClientTest() : sys_(make_config(cfg_)) {
    // The merchant: records the callbacks.
    merchant_routes_.add(http::bhttp::verb::post, "/cb",
                         [this](const http::request_context& ctx, http::responder respond) {
                           {
                             std::lock_guard<std::mutex> guard{mtx_};
                             callbacks_.emplace_back(std::string{ctx.req[http::signature_header]},
                                                     ctx.req.body());
                             cv_.notify_all();
                           }
                           respond(http::make_json(200, {{"status", "ok"}}));
                         });
    config::http_settings hs;
    hs.listen = {"127.0.0.1", 0};
    merchant_ = std::make_unique<http::server>(hs, merchant_routes_);
    EXPECT_EQ(merchant_->start(), "");
  }

  ~BankHttpClientTest() override {
    if (client_)
      caf::anon_send_exit(client_, caf::exit_reason::user_shutdown);
    if (svc_)
      svc_->stop();
    if (bank_)
      bank_->stop(1s);
    merchant_->stop(1s);
  }

  void start_bank(config::bank_settings s = {}) {
    s.callback_backoff = 20ms;
    auto svc = bank::service::open(tmp_ / "bank.db", s, secret);
    ASSERT_TRUE(svc) << svc.error().message;
    svc_ = std::move(*svc);
    bank::add_bank_routes(bank_routes_, *svc_);
    config::http_settings hs;
    hs.listen = {"127.0.0.1", 0};
    bank_ = std::make_unique<http::server>(hs, bank_routes_);
    ASSERT_EQ(bank_->start(), "");
    start_client("http://127.0.0.1:" + std::to_string(bank_->port()));
  }

  void start_client(std::string base, std::chrono::milliseconds timeout = 1s,
                    std::size_t max_connections = 64) {
    if (client_)
      caf::anon_send_exit(client_, caf::exit_reason::user_shutdown);
    bank_http_options o;
    o.max_connections = max_connections;
    o.base_url = [base] { return base; };
    auto cb = "http://127.0.0.1:" + std::to_string(merchant_->port()) + "/cb";
    o.callback_url = [cb] { return cb; };
    o.call_timeout = timeout;
    client_ = spawn_bank_http_client(sys_, o);
  }

  /// One provider call; the answer or the error.
  template <class... Ts>
  std::pair<std::optional<payment_answer>, caf::error> call(Ts... xs) {
    caf::scoped_actor self{sys_};
    std::pair<std::optional<payment_answer>, caf::error> out;
    self->request(client_, 10s, xs...)
        .receive([&](payment_answer& a) { out.first = std::move(a); },
                 [&](caf::error& e) { out.second = std::move(e); });
    return out;
  }

  /// `n` creates sent at once (orders "<prefix>-0" ...); their answers and errors.
  std::pair<std::vector<payment_answer>, std::vector<caf::error>>
  creates_at_once(const std::string& prefix, int n) {
    caf::scoped_actor self{sys_};
    for (int i = 0; i < n; ++i) {
      auto id = prefix + "-" + std::to_string(i);
      self->send(client_, bank_create_atom::value, cmd(id, 1000, "key-" + id));
    }
    std::pair<std::vector<payment_answer>, std::vector<caf::error>> out;
    auto until = std::chrono::steady_clock::now() + 10s;
    for (int i = 0; i < n; ++i) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      bool late = false;
      self->receive([&](payment_answer& a) { out.first.push_back(std::move(a)); },
                    [&](caf::error& e) { out.second.push_back(std::move(e)); },
                    caf::after(std::max(left, std::chrono::milliseconds{0})) >>
                        [&] {
                          ADD_FAILURE() << "answers missing after 10 s: " << n - i;
                          late = true;
                        });
      if (late)
        break;
    }
    return out;
  }

  std::string bank_url() const { return "http://127.0.0.1:" + std::to_string(bank_->port()); }

  bool decide(const std::string& payment_id, bool approve) {
    caf::scoped_actor self{sys_};
    bool out = false;
    self->request(client_, 10s, bank_decide_atom::value, payment_id, approve)
        .receive([&](bool ok) { out = ok; }, [&](caf::error&) {});
    return out;
  }

  std::vector<std::pair<std::string, std::string>> wait_callbacks(std::size_t n) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, 5s, [&] { return callbacks_.size() >= n; });
    return callbacks_;
  }

  static payment_cmd cmd(const std::string& order, std::int64_t amount, const std::string& key,
                         const std::string& payment_id = {}) {
    return {order, key, amount, "RUB", payment_id};
  }

  test::temp_dir tmp_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::string>> callbacks_;
  http::router merchant_routes_;
  std::unique_ptr<http::server> merchant_;
  http::router bank_routes_;
  std::unique_ptr<bank::service> svc_;
  std::unique_ptr<http::server> bank_;
  caf::actor client_;
};

TEST_F(BankHttpClientTest, CreateDecideAndTheSignedCallbackArrives) {
  start_bank();
  auto created = call(bank_create_atom::value, cmd("o-1", 12'900, "create-1"));
  ASSERT_TRUE(created.first) << sys_.render(created.second);
  auto& a = *created.first;
  EXPECT_EQ(a.code, "");
  EXPECT_EQ(a.status, "pending");
  ASSERT_FALSE(a.payment_id.empty());
  EXPECT_EQ(a.redirect_url, "/bank/3ds/" + a.payment_id);
  // The same key again: the same payment, no second one.
  auto again = call(bank_create_atom::value, cmd("o-1", 12'900, "create-1"));
  ASSERT_TRUE(again.first);
  EXPECT_EQ(again.first->payment_id, a.payment_id);

  EXPECT_TRUE(decide(a.payment_id, true));
  EXPECT_FALSE(decide(a.payment_id, true)); // decided already
  auto got = wait_callbacks(1);
  ASSERT_EQ(got.size(), 1U);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  http::signature_error why{};
  EXPECT_TRUE(http::verify_callback(got[0].first, got[0].second, secret, now, why));
  auto body = json::parse(got[0].second);
  EXPECT_EQ(body["status"], "captured");
  EXPECT_EQ(body["payment_id"], a.payment_id);
  EXPECT_EQ(body["order_id"], "o-1");
  EXPECT_EQ(body["amount"], 12'900);
}

TEST_F(BankHttpClientTest, RefundIsIdempotentByKeyAndFindsThePaymentByOrder) {
  start_bank();
  auto id = call(bank_create_atom::value, cmd("o-1", 1000, "c1")).first->payment_id;
  ASSERT_TRUE(decide(id, true));
  auto r1 = call(bank_refund_atom::value, cmd("o-1", 300, "r1", id));
  ASSERT_TRUE(r1.first) << sys_.render(r1.second);
  EXPECT_EQ(r1.first->status, "partially_refunded");
  EXPECT_EQ(r1.first->refunded, 300);
  auto r2 = call(bank_refund_atom::value, cmd("o-1", 300, "r1", id));
  ASSERT_TRUE(r2.first);
  EXPECT_EQ(r2.first->refunded, 300); // the same key: no second refund
  // Without the bank's id the provider looks the payment up by order.
  auto r3 = call(bank_refund_atom::value, cmd("o-1", 700, "r2"));
  ASSERT_TRUE(r3.first) << sys_.render(r3.second);
  EXPECT_EQ(r3.first->status, "refunded");
  EXPECT_EQ(r3.first->refunded, 1000);
  auto unknown = call(bank_refund_atom::value, cmd("o-none", 700, "r3"));
  ASSERT_TRUE(unknown.first);
  EXPECT_EQ(unknown.first->code, "unknown_payment");
}

TEST_F(BankHttpClientTest, CancelBeforeCreateAnswersNoneAndTheCreateIsBornCancelled) {
  start_bank();
  auto cancelled = call(bank_cancel_atom::value, cmd("o-1", 1000, "x1"));
  ASSERT_TRUE(cancelled.first) << sys_.render(cancelled.second);
  EXPECT_EQ(cancelled.first->status, "none");
  auto created = call(bank_create_atom::value, cmd("o-1", 1000, "c1"));
  ASSERT_TRUE(created.first);
  EXPECT_EQ(created.first->status, "cancelled");
  auto other = call(bank_create_atom::value, cmd("o-2", 1000, "c2")).first->payment_id;
  auto by_id = call(bank_cancel_atom::value, cmd("o-2", 1000, "x2", other));
  ASSERT_TRUE(by_id.first);
  EXPECT_EQ(by_id.first->status, "cancelled");
}

TEST_F(BankHttpClientTest, ARefusalIsAnAnswerWithItsCode) {
  config::bank_settings s;
  s.refuse_percent = 100;
  start_bank(s);
  auto r = call(bank_create_atom::value, cmd("o-1", 1000, "c1"));
  ASSERT_TRUE(r.first) << sys_.render(r.second);
  EXPECT_EQ(r.first->code, "refused");
  EXPECT_EQ(r.first->status, "declined");
}

TEST_F(BankHttpClientTest, ABankThatIsDownAnswersAnErrorWithinTheTimeout) {
  start_client("http://127.0.0.1:1", 500ms);
  auto began = std::chrono::steady_clock::now();
  auto r = call(bank_create_atom::value, cmd("o-1", 1000, "c1"));
  EXPECT_FALSE(r.first);
  EXPECT_EQ(r.second, errc::timeout) << sys_.render(r.second);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
}

TEST_F(BankHttpClientTest, ASilentBankAnswersAnErrorAfterTheCallTimeout) {
  config::bank_settings s;
  s.no_answer_percent = 100;
  s.call_timeout = 5s; // the bank holds its answer well past the client's deadline
  start_bank(s);
  start_client("http://127.0.0.1:" + std::to_string(bank_->port()), 300ms);
  auto began = std::chrono::steady_clock::now();
  auto r = call(bank_create_atom::value, cmd("o-1", 1000, "c1"));
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_FALSE(r.first);
  EXPECT_EQ(r.second, errc::timeout) << sys_.render(r.second);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(svc_->find_by_order("o-1")); // not performed
}

TEST_F(BankHttpClientTest, CallsBeyondTheConnectionCapWaitForAConnectionInsteadOfOpeningOne) {
  start_bank();
  start_client(bank_url(), 2s, 3);
  for (int round = 0; round < 2; ++round) {
    auto [answers, errors] = creates_at_once("o" + std::to_string(round), 24);
    EXPECT_EQ(answers.size(), 24u);
    for (auto& e : errors)
      ADD_FAILURE() << sys_.render(e);
    for (auto& a : answers)
      EXPECT_EQ(a.status, "pending") << a.code;
  }
  // 48 calls, 24 of them at once, over the same three kept-alive connections.
  EXPECT_EQ(bank_->stats().connections_accepted, 3u);
}

TEST_F(BankHttpClientTest, ACallThatFindsEveryConnectionBusyAnswersAnErrorAtItsDeadline) {
  config::bank_settings s;
  s.no_answer_percent = 100;
  s.call_timeout = 5s; // the bank holds its answers well past the client's deadline
  start_bank(s);
  start_client(bank_url(), 300ms, 1);
  auto began = std::chrono::steady_clock::now();
  auto [answers, errors] = creates_at_once("o", 2);
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_TRUE(answers.empty());
  ASSERT_EQ(errors.size(), 2u);
  for (auto& e : errors)
    EXPECT_EQ(e, errc::timeout) << sys_.render(e);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(bank_->stats().connections_accepted, 1u) << "the waiting call opened none";
}

} // namespace
} // namespace souk::actors
