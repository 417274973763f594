// `soukd --bank-only` as a real process: the simulated bank alone on its own port and data
// folder; a payment is created and approved over HTTP, and the bank remembers it after a
// restart.
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::map<std::string, std::string> clean_env() {
  auto env = test::current_environment();
  for (auto it = env.begin(); it != env.end();)
    it = it->first.rfind("SOUK_", 0) == 0 ? env.erase(it) : std::next(it);
  return env;
}

/// Starts `soukd --bank-only` on `data` and returns it with its HTTP port (0 on failure).
std::pair<std::unique_ptr<test::process>, std::uint16_t> start_bank(const std::string& data) {
  auto p = std::make_unique<test::process>(
      SOUK_SOUKD_PATH,
      std::vector<std::string>{"--bank-only", "--data", data, "--http", "127.0.0.1:0",
                               "--bank-webhook-secret", "e2e-webhook-secret-0123456789",
                               "--bank-callback-attempts", "2", "--bank-callback-backoff-ms", "50"},
      clean_env());
  auto line = p->wait_for_stderr_line(
      [](const std::string& l) {
        auto j = json::parse(l, nullptr, false);
        return j.is_object() && j.value("message", "") == "node ready";
      },
      20'000ms);
  if (!line)
    return {std::move(p), 0};
  auto j = json::parse(*line);
  EXPECT_EQ(j.value("mode", ""), "bank-only");
  auto http = j.value("http", "");
  return {std::move(p), static_cast<std::uint16_t>(std::stoul(http.substr(http.rfind(':') + 1)))};
}

std::optional<test::http_reply> post(std::uint16_t port, const std::string& target,
                                     const std::string& body, const std::string& type) {
  test::http_connection c{port};
  return c.round_trip(
      test::make_request("POST", target, "Content-Type: " + type + "\r\n", body, false));
}

TEST(SoukdBankOnly, CreatesAndApprovesAPaymentOverHttpAndRemembersItAfterARestart) {
  test::temp_dir tmp;
  auto data = tmp / "bank";
  std::string payment_id;
  {
    auto [p, port] = start_bank(data);
    ASSERT_NE(port, 0) << p->stderr_text();
    auto health = test::http_get(port, "/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    // Only the bank: souk's catalog is not served here.
    auto catalog = test::http_get(port, "/v1/products");
    ASSERT_TRUE(catalog);
    EXPECT_EQ(catalog->status, 404);

    auto created = post(port, "/bank/v1/payments",
                        json{{"order_id", "o-e2e"},
                             {"amount", 12'900},
                             {"callback_url", "http://127.0.0.1:1/v1/payments/callback"},
                             {"idempotency_key", "e2e-1"}}
                            .dump(),
                        "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    auto c = json::parse(created->body);
    payment_id = c.value("payment_id", "");
    ASSERT_FALSE(payment_id.empty());
    EXPECT_EQ(c["status"], "pending");
    // Standing alone, the bank gives an absolute 3-DS URL on its own port.
    EXPECT_EQ(c["redirect_url"],
              "http://127.0.0.1:" + std::to_string(port) + "/bank/3ds/" + payment_id);

    auto page = test::http_get(port, "/bank/3ds/" + payment_id);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("Approve"), std::string::npos);
    auto approved =
        post(port, "/bank/3ds/" + payment_id, "approve=true", "application/x-www-form-urlencoded");
    ASSERT_TRUE(approved);
    EXPECT_EQ(approved->status, 200) << approved->body;
    auto got = test::http_get(port, "/bank/v1/payments/" + payment_id);
    ASSERT_TRUE(got);
    EXPECT_EQ(json::parse(got->body)["status"], "captured");
    EXPECT_EQ(json::parse(got->body)["captured"], 12'900);

    ASSERT_TRUE(p->signal(SIGTERM));
    auto code = p->wait_exit(10'000ms);
    ASSERT_TRUE(code) << p->stderr_text();
    EXPECT_EQ(*code, 0) << p->stderr_text();
  }
  EXPECT_TRUE(std::filesystem::exists(data + "/bank.db"));
  auto [p, port] = start_bank(data);
  ASSERT_NE(port, 0) << p->stderr_text();
  auto got = test::http_get(port, "/bank/v1/payments/" + payment_id);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(json::parse(got->body)["status"], "captured");
  // The same idempotency key still answers the first result.
  auto again = post(port, "/bank/v1/payments",
                    json{{"order_id", "o-e2e"},
                         {"amount", 12'900},
                         {"callback_url", "http://127.0.0.1:1/v1/payments/callback"},
                         {"idempotency_key", "e2e-1"}}
                        .dump(),
                    "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["payment_id"], payment_id);
  ASSERT_TRUE(p->signal(SIGTERM));
  EXPECT_TRUE(p->wait_exit(10'000ms));
}

} // namespace
} // namespace souk
