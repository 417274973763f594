#include "http/routes/health.hpp"
#include "http/server.hpp"
#include "tests/support/http_client.hpp"

#include <atomic>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class HealthRoutesTest : public ::testing::Test {
protected:
  HealthRoutesTest() {
    settings_.listen = {"127.0.0.1", 0};
    settings_.threads = 1;
    add_health_routes(routes_, "n7", [this] {
      return ready_ ? readiness{true, {}} : readiness{false, "draining"};
    });
    server_ = std::make_unique<server>(settings_, routes_);
  }

  void SetUp() override { ASSERT_EQ(server_->start(), ""); }

  config::http_settings settings_;
  router routes_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<server> server_;
};

TEST_F(HealthRoutesTest, RegistersHealthzAndReadyz) {
  using pair = std::pair<std::string, std::string>;
  EXPECT_EQ(routes_.routes(), (std::vector<pair>{{"GET", "/healthz"}, {"GET", "/readyz"}}));
}

TEST_F(HealthRoutesTest, HealthzAnswers200WithTheNodeName) {
  auto reply = test::http_get(server_->port(), "/healthz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["status"], "alive");
  EXPECT_EQ(body["node"], "n7");
}

TEST_F(HealthRoutesTest, ReadyzAnswers200WhenTheProbeSaysReady) {
  auto reply = test::http_get(server_->port(), "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["node"], "n7");
}

TEST_F(HealthRoutesTest, ReadyzAnswers503NotReadyWhenTheProbeSaysNotReady) {
  ready_ = false;
  auto reply = test::http_get(server_->port(), "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  EXPECT_EQ(reply->header("retry-after"), "1");
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["code"], "not_ready");
  EXPECT_EQ(body["status"], 503);
  EXPECT_EQ(body["reason"], "draining");
  EXPECT_EQ(body["node"], "n7");
  EXPECT_NE(body["detail"].get<std::string>().find("draining"), std::string::npos);
  // Healthz does not depend on readiness.
  auto alive = test::http_get(server_->port(), "/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
  // And readiness comes back.
  ready_ = true;
  auto again = test::http_get(server_->port(), "/readyz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(HealthRoutesTest, HealthRoutesRefuseOtherMethods) {
  test::http_connection conn{server_->port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(test::make_request("POST", "/readyz", {}, "{}"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET, HEAD");
}

} // namespace
} // namespace souk::http
