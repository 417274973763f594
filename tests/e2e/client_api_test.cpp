// The client HTTP API (API.md "Conventions", "Accounts", "Cart and wishlist", "Checkout and
// orders", "Payments") end to end against a real soukd process: whole buyer journeys through
// the simulated bank's 3-DS page and the simulated warehouses, idempotency, bad input and
// access, and order pagination. Every error is checked by status AND problem `code`, every
// wait is bounded, and the node must still answer /healthz after each test.
//
// One soukd per fixture (SetUpTestSuite); tests use fresh users and SKUs of their own, so they
// do not see each other's carts, orders or stock. Under ctest every test runs in its own
// process and so gets a node of its own.
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr auto ready_timeout = 30s;   ///< soukd start-up (ASan build, other tests in parallel)
constexpr auto poll_deadline = 20s;   ///< every wait for an order or stock change
constexpr auto request_timeout = 20s; ///< one HTTP round trip (checkout waits for the saga)
constexpr auto exit_timeout = 15s;

const std::string admin_email = "admin@e2e.test";
const std::string admin_password = "e2e-admin-password-0123";
const std::string buyer_password = "correct horse battery";
const std::string shipping =
    R"({"shipping":{"region":"msk","city":"Moskva","address":"Tverskaya 1"}})";

json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json{} : j;
}

std::uint16_t port_of(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  return colon == std::string::npos
             ? 0
             : static_cast<std::uint16_t>(std::stoul(endpoint.substr(colon + 1)));
}

/// A problem body's members other than `trace_id` (which differs per request).
json without_trace(json problem) {
  if (problem.is_object())
    problem.erase("trace_id");
  return problem;
}

/// `reply` is an RFC 9457 problem with this status and code.
::testing::AssertionResult is_problem(const test::http_reply& reply, int status,
                                      const std::string& code) {
  auto body = parse(reply.body);
  if (reply.status != status || !body.is_object() || body.value("code", "") != code ||
      body.value("status", 0) != status ||
      reply.header("content-type").rfind("application/problem+json", 0) != 0)
    return ::testing::AssertionFailure()
           << "expected problem " << status << " " << code << ", got " << reply.status << " "
           << reply.header("content-type") << " " << reply.body;
  return ::testing::AssertionSuccess();
}

/// `reply` is a 422 validation_failed problem whose errors[] name `pointer`.
::testing::AssertionResult is_invalid(const test::http_reply& reply, const std::string& pointer) {
  auto base = is_problem(reply, 422, "validation_failed");
  if (!base)
    return base;
  auto body = parse(reply.body);
  if (body.contains("errors") && body["errors"].is_array())
    for (auto& e : body["errors"])
      if (e.is_object() && e.value("pointer", "~") == pointer)
        return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no errors[] entry with pointer \"" << pointer << "\": " << reply.body;
}

/// True when `wanted` appears in `seen` in this order (other entries may come between).
bool in_order(const std::vector<std::string>& seen, const std::vector<std::string>& wanted) {
  std::size_t i = 0;
  for (auto& s : seen)
    if (i < wanted.size() && s == wanted[i])
      ++i;
  return i == wanted.size();
}

// -- a soukd process --------------------------------------------------------------------------

class soukd_node {
public:
  explicit soukd_node(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--data",    tmp_ / "data", "--http",         "127.0.0.1:0",
                                  "--cluster", "127.0.0.1:0", "--demo-catalog", "50"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto env = test::current_environment();
    for (auto it = env.begin(); it != env.end();)
      it = it->first.rfind("SOUK_", 0) == 0 ? env.erase(it) : std::next(it);
    env["SOUK_ADMIN_EMAIL"] = admin_email;
    env["SOUK_ADMIN_PASSWORD"] = admin_password;
    // The lowest KDF cost: many logins under ASan; the KDF itself is tested in tests/http.
    env["SOUK_AUTH_PASSWORD_ITERATIONS"] = "1000";
    // Checkout answers 201 (not 202 PROCESSING) even on a loaded machine.
    env["SOUK_ORDERS_CHECKOUT_WAIT_MS"] = "15000";
    proc_ = std::make_unique<test::process>(SOUK_SOUKD_PATH, args, env);
    auto line = proc_->wait_for_stderr_line(
        [](const std::string& l) { return parse(l).value("message", "") == "node ready"; },
        std::chrono::duration_cast<std::chrono::milliseconds>(ready_timeout));
    if (line)
      port_ = port_of(parse(*line).value("http", ""));
  }
  soukd_node(const soukd_node&) = delete;
  soukd_node& operator=(const soukd_node&) = delete;

  /// 0 when the node did not start.
  std::uint16_t port() const { return port_; }
  /// True once `stop` was called.
  bool stopped() const { return stopped_; }

  /// Reads what soukd wrote to stderr so far: its access log must never fill the pipe.
  void drain() {
    while (proc_->next_stderr_line(0ms)) {
    }
  }

  /// The last `n` stderr lines, for failure messages.
  std::string log_tail(std::size_t n = 30) {
    drain();
    auto& lines = proc_->stderr_lines();
    std::string out;
    for (auto i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
      out += lines[i] + "\n";
    return out;
  }

  /// The first sanitizer report (its first lines), else the last lines of stderr.
  std::string log_excerpt() {
    drain();
    auto& lines = proc_->stderr_lines();
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find("ERROR: AddressSanitizer") != std::string::npos ||
          lines[i].find("runtime error:") != std::string::npos) {
        std::string out;
        for (auto j = i; j < lines.size() && j < i + 40; ++j)
          out += lines[j].substr(0, 300) + "\n";
        return out;
      }
    return log_tail();
  }

  /// SIGTERM and the exit code; nullopt when it did not exit in time.
  std::optional<int> stop(steady::duration limit = exit_timeout) {
    stopped_ = true;
    if (!proc_->running())
      return proc_->wait_exit(0ms);
    proc_->signal(SIGTERM);
    return proc_->wait_exit(std::chrono::duration_cast<std::chrono::milliseconds>(limit));
  }

private:
  test::temp_dir tmp_;
  std::unique_ptr<test::process> proc_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

// -- the client -------------------------------------------------------------------------------

struct user {
  std::string email;
  std::string id;
  std::string token;
};

/// A SKU a test has to itself, with the stock it had when picked.
struct stock_pick {
  std::int64_t product = 0;
  std::string sku;
  std::int64_t available = -1;
};

/// The fixtures' common part: talking to `node()` as a client would.
class ClientApiBase : public ::testing::Test {
protected:
  virtual soukd_node& node() = 0;

  void SetUp() override {
    ASSERT_NE(node().port(), 0) << "soukd did not start:\n" << node().log_tail(60);
  }

  void TearDown() override {
    if (node().port() == 0 || node().stopped())
      return;
    // Whatever the test sent, the node still answers.
    auto health = call("GET", "/healthz");
    EXPECT_EQ(health.status, 200) << "/healthz after the test: " << health.body << "\n"
                                  << node().log_tail();
  }

  /// One request on a fresh connection: `method target`, a JSON body unless empty, the bearer
  /// token unless empty, and `headers` (each line ending in CRLF). Status 0 when no answer.
  test::http_reply call(const std::string& method, const std::string& target,
                        const std::string& body = {}, const std::string& token = {},
                        const std::string& headers = {}) {
    node().drain();
    test::http_reply none;
    none.reason = "no answer";
    test::http_connection conn{node().port()};
    if (!conn.connected())
      return none;
    auto extra = headers;
    if (!body.empty())
      extra += "Content-Type: application/json\r\n";
    if (!token.empty())
      extra += "Authorization: Bearer " + token + "\r\n";
    auto reply =
        conn.round_trip(test::make_request(method, target, extra, body, false),
                        std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout));
    return reply ? *reply : none;
  }

  static std::string unique_email(const std::string& tag) {
    static int counter = 0;
    return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "@e2e.test";
  }

  test::http_reply register_user(const std::string& email,
                                 const std::string& password = buyer_password) {
    return call(
        "POST", "/v1/users",
        json{{"email", email}, {"password", password}, {"name", "E2E"}, {"region", "msk"}}.dump());
  }

  test::http_reply login(const std::string& email, const std::string& password = buyer_password,
                         const std::string& guest_token = {}) {
    json body{{"email", email}, {"password", password}};
    if (!guest_token.empty())
      body["guest_token"] = guest_token;
    return call("POST", "/v1/sessions", body.dump());
  }

  /// A registered and logged-in buyer; empty token when either step failed (reported).
  user new_user(const std::string& tag) {
    user u;
    u.email = unique_email(tag);
    auto created = register_user(u.email);
    EXPECT_EQ(created.status, 201) << created.body;
    u.id = parse(created.body).value("id", "");
    auto session = login(u.email);
    EXPECT_EQ(session.status, 201) << session.body;
    u.token = parse(session.body).value("token", "");
    return u;
  }

  json product(std::int64_t id) {
    auto page = call("GET", "/v1/products/" + std::to_string(id) + "?region=msk");
    return page.status == 200 ? parse(page.body) : json{};
  }

  /// A SKU no other test of this process uses, with `min`..`max` units available.
  std::optional<stock_pick> pick_sku(std::int64_t min, std::int64_t max = 1'000'000) {
    static std::set<std::string> claimed;
    for (std::int64_t id = 1; id <= 50; ++id) {
      auto page = product(id);
      if (!page.is_object() || !page["skus"].is_array())
        continue;
      for (auto& s : page["skus"]) {
        auto sku = s.value("sku", "");
        auto available = s.value("available", std::int64_t{-1});
        if (sku.empty() || claimed.count(sku) || available < min || available > max)
          continue;
        claimed.insert(sku);
        return stock_pick{id, sku, available};
      }
    }
    return std::nullopt;
  }

  /// `available` of the pick's SKU now; -1 when the page or the SKU is missing.
  std::int64_t available(const stock_pick& pick) {
    auto page = product(pick.product);
    if (page.is_object() && page["skus"].is_array())
      for (auto& s : page["skus"])
        if (s.value("sku", "") == pick.sku)
          return s.value("available", std::int64_t{-1});
    return -1;
  }

  /// Polls until the pick's SKU has `want` available, at most `limit`; the last value seen.
  std::int64_t wait_available(const stock_pick& pick, std::int64_t want,
                              steady::duration limit = poll_deadline) {
    auto deadline = steady::now() + limit;
    auto now = available(pick);
    while (now != want && steady::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      now = available(pick);
    }
    return now;
  }

  test::http_reply add_to_cart(const std::string& token, const std::string& sku, std::int64_t qty) {
    return call("POST", "/v1/cart/items", json{{"sku", sku}, {"qty", qty}}.dump(), token);
  }

  test::http_reply checkout(const std::string& token, const std::string& key,
                            const std::string& body = shipping) {
    return call("POST", "/v1/checkout", body, token, "Idempotency-Key: " + key + "\r\n");
  }

  /// A new buyer with `qty` of the pick in the cart and a 201 checkout; the order body (null
  /// when a step failed, reported).
  json buy(const user& u, const stock_pick& pick, std::int64_t qty, const std::string& key) {
    auto added = add_to_cart(u.token, pick.sku, qty);
    EXPECT_EQ(added.status, 200) << added.body;
    auto order = checkout(u.token, key);
    EXPECT_EQ(order.status, 201) << order.body << "\n" << node().log_tail();
    return order.status == 201 ? parse(order.body) : json{};
  }

  /// Polls GET /v1/orders/{id} until its status is one of `statuses`; the last body seen.
  json wait_status(const std::string& token, const std::string& id,
                   const std::set<std::string>& statuses,
                   std::vector<std::string>* seen = nullptr) {
    auto deadline = steady::now() + poll_deadline;
    json last;
    for (;;) {
      auto reply = call("GET", "/v1/orders/" + id, {}, token);
      if (reply.status == 200) {
        last = parse(reply.body);
        auto status = last.value("status", "");
        if (seen && (seen->empty() || seen->back() != status))
          seen->push_back(status);
        if (statuses.count(status))
          return last;
      }
      if (steady::now() >= deadline)
        return last;
      std::this_thread::sleep_for(100ms);
    }
  }

  /// POST /bank/3ds/{payment_id} as the buyer's browser would after the redirect.
  test::http_reply three_ds(const std::string& payment_id, bool approve) {
    return call("POST", "/bank/3ds/" + payment_id, json{{"approve", approve}}.dump());
  }
};

/// Declares a fixture with its own soukd started with `args`.
#define SOUK_CLIENT_FIXTURE(Name, ...)                                                             \
  class Name : public ClientApiBase {                                                              \
  public:                                                                                          \
    static void SetUpTestSuite() {                                                                 \
      node_ = std::make_unique<soukd_node>(std::vector<std::string>{__VA_ARGS__});                 \
    }                                                                                              \
    static void TearDownTestSuite() {                                                              \
      if (!node_)                                                                                  \
        return;                                                                                    \
      /* a clean stop is tested on its own (ClientApiShutdownTest); a node that does not stop      \
         is killed when node_ goes */                                                              \
      node_->stop(5s);                                                                             \
      node_.reset();                                                                               \
    }                                                                                              \
                                                                                                   \
  protected:                                                                                       \
    soukd_node& node() override { return *node_; }                                                 \
    static std::unique_ptr<soukd_node> node_;                                                      \
  };                                                                                               \
  std::unique_ptr<soukd_node> Name::node_

// Orders stay where payment leaves them (warehouse steps only by ops calls): cancellable.
SOUK_CLIENT_FIXTURE(ClientApiTest, "--wms-step-seconds", "0");
// Warehouse steps of one second: PAID to DELIVERED in about four.
SOUK_CLIENT_FIXTURE(ClientApiLifecycleTest, "--wms-step-seconds", "1");
// A node of its own, stopped by the test.
SOUK_CLIENT_FIXTURE(ClientApiShutdownTest, "--wms-step-seconds", "0");
// Unpaid holds end after three seconds.
SOUK_CLIENT_FIXTURE(ClientApiHoldTest, "--hold-seconds", "3", "--wms-step-seconds", "0");

// -- 1. scenarios -----------------------------------------------------------------------------

TEST_F(ClientApiLifecycleTest, RegisterLoginBuyPayDeliverAndReturn) {
  // Register: 201 with the id derived from the address, and a Location.
  auto email = unique_email("journey");
  auto created = register_user(email);
  ASSERT_EQ(created.status, 201) << created.body;
  auto account = parse(created.body);
  auto id = account.value("id", "");
  EXPECT_EQ(id.size(), 26U) << created.body;
  EXPECT_EQ(id.rfind("u_", 0), 0U) << created.body;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 2), std::string::npos) << id;
  EXPECT_EQ(account.value("email", ""), email);
  EXPECT_EQ(account.value("name", ""), "E2E");
  EXPECT_EQ(account.value("region", ""), "msk");
  EXPECT_FALSE(account.contains("password")) << created.body;
  EXPECT_FALSE(account.contains("password_hash")) << created.body;

  // Login: a v1 bearer token for that user.
  auto session = login(email);
  ASSERT_EQ(session.status, 201) << session.body;
  auto s = parse(session.body);
  auto token = s.value("token", "");
  EXPECT_EQ(token.rfind("v1.", 0), 0U) << session.body;
  EXPECT_EQ(s.value("user_id", ""), id);
  EXPECT_EQ(s.value("role", ""), "buyer");
  EXPECT_TRUE(s.contains("expires_at") && s["expires_at"].is_string()) << session.body;

  auto pick = pick_sku(3);
  ASSERT_TRUE(pick) << "no SKU with stock in the demo catalog";

  // Cart: the line, its prices and an ETag of the version.
  auto added = add_to_cart(token, pick->sku, 2);
  ASSERT_EQ(added.status, 200) << added.body;
  auto cart = parse(added.body);
  ASSERT_EQ(cart["items"].size(), 1U) << added.body;
  auto& line = cart["items"][0];
  EXPECT_EQ(line.value("sku", ""), pick->sku);
  EXPECT_EQ(line.value("product_id", std::int64_t{0}), pick->product);
  EXPECT_EQ(line.value("qty", 0), 2);
  auto unit = line["unit_price"].value("amount", std::int64_t{0});
  EXPECT_GT(unit, 0);
  EXPECT_EQ(line["line_total"].value("amount", std::int64_t{0}), 2 * unit);
  EXPECT_EQ(cart["subtotal"].value("amount", std::int64_t{0}), 2 * unit);
  EXPECT_EQ(added.header("etag"), "\"" + cart["version"].dump() + "\"");
  auto got = call("GET", "/v1/cart", {}, token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(parse(got.body), cart);

  // Checkout: 201 PENDING_PAYMENT with the bank's payment and its 3-DS page.
  auto placed = checkout(token, "journey-1");
  ASSERT_EQ(placed.status, 201) << placed.body << "\n" << node().log_tail();
  auto order = parse(placed.body);
  auto order_id = order.value("id", "");
  ASSERT_FALSE(order_id.empty()) << placed.body;
  EXPECT_EQ(placed.header("location"), "/v1/orders/" + order_id);
  EXPECT_EQ(order.value("status", ""), "PENDING_PAYMENT");
  EXPECT_EQ(order["total"].value("amount", std::int64_t{0}), 2 * unit);
  ASSERT_TRUE(order["payment"].is_object()) << placed.body;
  auto payment_id = order["payment"].value("id", "");
  ASSERT_FALSE(payment_id.empty()) << placed.body;
  EXPECT_EQ(order["payment"].value("status", ""), "pending");
  auto redirect = order["payment"].value("redirect_url", "");
  EXPECT_NE(redirect.find("/bank/3ds/" + payment_id), std::string::npos) << redirect;
  EXPECT_EQ(wait_available(*pick, pick->available - 2), pick->available - 2)
      << "checkout did not reserve the stock";

  auto page = call("GET", "/bank/3ds/" + payment_id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Approve"), std::string::npos) << page.body;

  // 3-DS approve: the bank captures and calls back; the order is paid in full.
  auto approved = three_ds(payment_id, true);
  ASSERT_EQ(approved.status, 200) << approved.body;
  auto paid = wait_status(token, order_id, {"PAID", "PICKING", "PACKED", "SHIPPED", "DELIVERED"});
  ASSERT_NE(paid.value("status", ""), "") << node().log_tail();
  ASSERT_TRUE(paid["payment"].is_object()) << paid.dump();
  EXPECT_EQ(paid["payment"].value("status", ""), "captured") << paid.dump();
  EXPECT_EQ(paid["payment"]["captured"], paid["total"]) << paid.dump();
  EXPECT_TRUE(paid["payment"]["redirect_url"].is_null()) << paid.dump();

  // The warehouse steps, one a second, to DELIVERED.
  std::vector<std::string> seen;
  auto delivered = wait_status(token, order_id, {"DELIVERED"}, &seen);
  ASSERT_EQ(delivered.value("status", ""), "DELIVERED") << delivered.dump() << "\n"
                                                        << node().log_tail();
  std::vector<std::string> timeline;
  for (auto& t : delivered["timeline"])
    if (timeline.empty() || timeline.back() != t.value("status", ""))
      timeline.push_back(t.value("status", ""));
  EXPECT_TRUE(
      in_order(timeline, {"PENDING_PAYMENT", "PAID", "PICKING", "PACKED", "SHIPPED", "DELIVERED"}))
      << delivered["timeline"].dump();

  // Delivered: no cancel any more, but a return.
  auto cancel = call("POST", "/v1/orders/" + order_id + "/cancel", {}, token);
  EXPECT_TRUE(is_problem(cancel, 409, "not_cancellable"));
  auto return_path = "/v1/orders/" + order_id + "/return";
  // Returns the order cannot take: a SKU it does not have, more units than it delivered, and a
  // quantity that is not one. Each is refused and changes nothing.
  auto returning = [&](const std::string& sku, std::int64_t qty) {
    return call(
        "POST", return_path,
        json{{"lines", json::array({{{"sku", sku}, {"qty", qty}}})}, {"reason", "e2e"}}.dump(),
        token);
  };
  EXPECT_TRUE(is_problem(returning("no-such-sku", 1), 422, "return_not_in_order"));
  EXPECT_TRUE(is_problem(returning(pick->sku, 3), 422, "return_too_many_units"));
  EXPECT_TRUE(is_problem(returning(pick->sku, 0), 422, "validation_failed"));
  EXPECT_TRUE(
      is_problem(call("POST", return_path, json{{"reason", std::string(501, 'x')}}.dump(), token),
                 422, "validation_failed"))
      << "orders.return_reason_max is 500 bytes";
  EXPECT_TRUE(is_problem(call("POST", return_path, R"({"lines":[{"sku":1,"qty":1}]})", token), 422,
                         "validation_failed"));

  // A partial return: one of the two units. Refunded and back on the shelf; the order stays
  // DELIVERED with the line's returned count.
  auto partly = returning(pick->sku, 1);
  ASSERT_EQ(partly.status, 200) << partly.body << "\n" << node().log_tail();
  auto part = parse(partly.body);
  EXPECT_EQ(part.value("status", ""), "DELIVERED") << partly.body;
  EXPECT_EQ(part["lines"][0].value("returned", 0), 1) << partly.body;
  EXPECT_EQ(part["payment"].value("status", ""), "partially_refunded") << partly.body;
  EXPECT_EQ(part["payment"]["refunded"].value("amount", std::int64_t{0}), unit) << partly.body;
  EXPECT_EQ(wait_available(*pick, pick->available - 1), pick->available - 1);
  auto too_many = returning(pick->sku, 2);
  EXPECT_TRUE(is_problem(too_many, 422, "return_too_many_units")) << "one unit is left to return";
  // The problem names the line and what may still come back.
  auto named = parse(too_many.body)["errors"];
  ASSERT_EQ(named.size(), 1U) << too_many.body;
  EXPECT_EQ(named[0].value("pointer", ""), "/lines/0/qty");
  EXPECT_EQ(named[0].value("returnable", -1), 1);
  EXPECT_EQ(named[0].value("sku", ""), pick->sku);
  auto unknown = parse(returning("no-such-sku", 1).body)["errors"];
  ASSERT_EQ(unknown.size(), 1U);
  EXPECT_EQ(unknown[0].value("pointer", ""), "/lines/0");
  EXPECT_EQ(unknown[0].value("code", ""), "return_not_in_order");

  // The rest (no lines: every unit not returned yet) ends the order RETURNED.
  auto returned = call("POST", return_path, {}, token);
  ASSERT_EQ(returned.status, 200) << returned.body << "\n" << node().log_tail();
  auto back = parse(returned.body);
  EXPECT_EQ(back.value("status", ""), "RETURNED") << returned.body;
  auto final_view = wait_status(token, order_id, {"RETURNED"});
  EXPECT_EQ(final_view.value("status", ""), "RETURNED");
  EXPECT_EQ(final_view["payment"].value("status", ""), "refunded") << final_view.dump();
  EXPECT_EQ(final_view["payment"]["refunded"], final_view["total"]) << final_view.dump();
  // The units are back on the shelf.
  EXPECT_EQ(wait_available(*pick, pick->available), pick->available);
  // A second return is refused.
  auto again = call("POST", "/v1/orders/" + order_id + "/return", {}, token);
  EXPECT_TRUE(is_problem(again, 409, "not_returnable"));
}

/// `GET /v1/events` opened on `conn` with `auth` (a header line, or empty) after `target`.
bool open_events(test::http_connection& conn, const std::string& target, const std::string& auth,
                 const std::string& last_event_id = {}) {
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth;
  if (!last_event_id.empty())
    req += "Last-Event-ID: " + last_event_id + "\r\n";
  return conn.send_all(req + "\r\n") && conn.read_until("order events of", 5s);
}

/// The id of the SSE event of `type` in `stream` ("" when absent).
std::string event_id_of(const std::string& stream, const std::string& type) {
  auto at = stream.find("event: " + type + "\n");
  if (at == std::string::npos)
    return {};
  auto id = stream.rfind("id: ", at);
  return id == std::string::npos ? std::string{}
                                 : stream.substr(id + 4, stream.find('\n', id) - id - 4);
}

TEST_F(ClientApiTest, OrderEventsStreamToTheBuyerAndResumeAfterLastEventId) {
  auto u = new_user("events");
  auto other = new_user("events-other");
  ASSERT_FALSE(u.token.empty());
  test::http_connection stream{node().port()};
  ASSERT_TRUE(open_events(stream, "/v1/events", "Authorization: Bearer " + u.token + "\r\n"))
      << stream.pending();
  EXPECT_NE(stream.pending().find("text/event-stream"), std::string::npos) << stream.pending();
  test::http_connection others{node().port()};
  ASSERT_TRUE(open_events(others, "/v1/events", "Authorization: Bearer " + other.token + "\r\n"));

  auto pick = pick_sku(2);
  ASSERT_TRUE(pick);
  auto order = buy(u, *pick, 1, "events-1");
  ASSERT_TRUE(order.is_object());
  auto order_id = order.value("id", "");
  ASSERT_TRUE(stream.read_until("event: order.pending_payment\n", 10s)) << stream.pending();
  ASSERT_EQ(three_ds(order["payment"].value("id", ""), true).status, 200);
  ASSERT_TRUE(stream.read_until("event: order.paid\n", 10s)) << stream.pending();
  EXPECT_NE(stream.pending().find("\"order_id\":\"" + order_id + "\""), std::string::npos);
  auto pending_id = event_id_of(stream.pending(), "order.pending_payment");
  ASSERT_FALSE(pending_id.empty()) << stream.pending();

  // A browser's EventSource sends no header: the token as access_token, resuming after the
  // first event gets the later ones only.
  test::http_connection resumed{node().port()};
  ASSERT_TRUE(open_events(resumed, "/v1/events?access_token=" + u.token, "", pending_id))
      << resumed.pending();
  ASSERT_TRUE(resumed.read_until("event: order.paid\n", 5s)) << resumed.pending();
  EXPECT_EQ(resumed.pending().find("event: order.pending_payment"), std::string::npos)
      << resumed.pending();

  // Another buyer's stream heard nothing of this order.
  EXPECT_EQ(others.pending().find(order_id), std::string::npos) << others.pending();

  // No token, a bad header, or a bad access_token: 401 with WWW-Authenticate.
  for (std::string target : {"/v1/events", "/v1/events?access_token=v1.forged"}) {
    auto r = call("GET", target);
    EXPECT_TRUE(is_problem(r, 401, "unauthorized")) << target << " " << r.body;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer") << target;
  }
  EXPECT_TRUE(is_problem(call("GET", "/v1/events", {}, "v1.forged"), 401, "unauthorized"));
  // Two access_tokens: which buyer's stream would that be? Neither.
  EXPECT_TRUE(
      is_invalid(call("GET", "/v1/events?access_token=" + u.token + "&access_token=" + u.token),
                 "access_token"));
  // An empty Authorization header and a second one do not hand the choice to the query's
  // token: the headers decide, and two of them are refused.
  auto sneaky = call("GET", "/v1/events?access_token=" + u.token, {}, {},
                     "Authorization: \r\nAuthorization: Bearer v1.x.y\r\n");
  EXPECT_TRUE(is_problem(sneaky, 401, "unauthorized")) << sneaky.body;
}

TEST_F(ClientApiTest, AProductPageAnswersForTheRegionOfTheCallersAccount) {
  // API.md: `available` and `delivery` are for the caller's region.
  auto email = unique_email("spb");
  auto created =
      call("POST", "/v1/users",
           json{{"email", email}, {"password", buyer_password}, {"name", "S"}, {"region", "spb"}}
               .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto session = login(email);
  ASSERT_EQ(session.status, 201) << session.body;
  auto token = parse(session.body).value("token", "");
  auto mine = call("GET", "/v1/products/1", {}, token);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(parse(mine.body).value("region", ""), "spb");
  auto spb = call("GET", "/v1/products/1?region=spb");
  ASSERT_EQ(spb.status, 200);
  EXPECT_EQ(parse(mine.body)["skus"], parse(spb.body)["skus"]) << "the same as asking for spb";
  // No token, or one that does not verify (the route needs none): the default region.
  EXPECT_EQ(parse(call("GET", "/v1/products/1").body).value("region", ""), "msk");
  EXPECT_EQ(parse(call("GET", "/v1/products/1", {}, "v1.garbage.token").body).value("region", ""),
            "msk");
  // An explicit region wins over the account's.
  EXPECT_EQ(parse(call("GET", "/v1/products/1?region=msk", {}, token).body).value("region", ""),
            "msk");
}

TEST_F(ClientApiTest, EveryWrongShippingFieldIsNamedAtOnce) {
  auto u = new_user("ship");
  ASSERT_FALSE(u.token.empty());
  auto reply = call("POST", "/v1/checkout", R"({"shipping":{"region":"atlantis","city":7}})",
                    u.token, "Idempotency-Key: ship-1\r\n");
  ASSERT_TRUE(is_invalid(reply, "/shipping/region"));
  EXPECT_TRUE(is_invalid(reply, "/shipping/city"));
  EXPECT_TRUE(is_invalid(reply, "/shipping/address"));
  EXPECT_EQ(parse(reply.body)["errors"].size(), 3U) << reply.body;
}

TEST_F(ClientApiTest, TheWishlistKeepsTheNewestFirstAndItsDeleteIsIdempotent) {
  auto u = new_user("wish");
  ASSERT_FALSE(u.token.empty());
  for (auto id : {1, 2})
    ASSERT_EQ(call("POST", "/v1/wishlist/items", json{{"product_id", id}}.dump(), u.token).status,
              200);
  auto ids = [](const test::http_reply& r) {
    std::vector<std::int64_t> out;
    auto body = parse(r.body);
    for (auto& item : body["items"])
      out.push_back(item.value("product_id", std::int64_t{0}));
    return out;
  };
  auto list = call("GET", "/v1/wishlist/items", {}, u.token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(ids(list), (std::vector<std::int64_t>{2, 1})) << list.body;
  auto removed = call("DELETE", "/v1/wishlist/items/2", {}, u.token);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(ids(removed), (std::vector<std::int64_t>{1}));
  // Again (a retry after a lost answer): the list as it is, not a 404.
  auto again = call("DELETE", "/v1/wishlist/items/2", {}, u.token);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(ids(again), (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(is_invalid(call("DELETE", "/v1/wishlist/items/abc", {}, u.token), "product_id"));
}

TEST_F(ClientApiTest, HeadOfTheEventStreamAnswersItsHeadWithoutStreaming) {
  auto u = new_user("head");
  ASSERT_FALSE(u.token.empty());
  auto head = call("HEAD", "/v1/events", {}, u.token);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "text/event-stream");
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), "") << "a stream has no length";
}

TEST_F(ClientApiTest, AnUnknownRegionInACatalogQueryIsRefused) {
  EXPECT_TRUE(is_invalid(call("GET", "/v1/products/1?region=zzz"), "region"));
  EXPECT_TRUE(is_invalid(call("GET", "/v1/products?q=phone&region=zzz"), "region"));
  EXPECT_EQ(call("GET", "/v1/products?q=phone&region=spb").status, 200);
}

TEST_F(ClientApiTest, DeclineAtThreeDsFailsThePaymentAndReleasesTheStock) {
  auto u = new_user("decline");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(3);
  ASSERT_TRUE(pick);
  auto order = buy(u, *pick, 3, "decline-1");
  ASSERT_TRUE(order.is_object());
  EXPECT_EQ(wait_available(*pick, pick->available - 3), pick->available - 3)
      << "checkout did not reserve the stock";
  auto payment_id = order["payment"].value("id", "");
  ASSERT_FALSE(payment_id.empty()) << order.dump();

  auto declined = three_ds(payment_id, false);
  ASSERT_EQ(declined.status, 200) << declined.body;
  EXPECT_EQ(parse(declined.body).value("status", ""), "declined") << declined.body;
  auto failed = wait_status(u.token, order.value("id", ""), {"PAYMENT_FAILED"});
  ASSERT_EQ(failed.value("status", ""), "PAYMENT_FAILED") << failed.dump() << "\n"
                                                          << node().log_tail();
  EXPECT_EQ(failed["payment"].value("status", ""), "declined") << failed.dump();
  EXPECT_EQ(failed["payment"]["captured"].value("amount", std::int64_t{-1}), 0) << failed.dump();
  EXPECT_EQ(wait_available(*pick, pick->available), pick->available)
      << "the reservation was not released";
  // A second decision at the bank changes nothing.
  auto late = three_ds(payment_id, true);
  EXPECT_TRUE(is_problem(late, 409, "not_pending"));
  std::this_thread::sleep_for(500ms);
  auto after = call("GET", "/v1/orders/" + order.value("id", ""), {}, u.token);
  EXPECT_EQ(parse(after.body).value("status", ""), "PAYMENT_FAILED") << after.body;
}

TEST_F(ClientApiHoldTest, UnpaidHoldExpiresAndTheStockComesBack) {
  auto u = new_user("hold");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(2);
  ASSERT_TRUE(pick);
  auto order = buy(u, *pick, 2, "hold-1");
  ASSERT_TRUE(order.is_object());
  EXPECT_TRUE(order.contains("hold_expires_at") && order["hold_expires_at"].is_string())
      << order.dump();
  // Seen before the hold ends (three seconds).
  EXPECT_EQ(wait_available(*pick, pick->available - 2, 2s), pick->available - 2)
      << "checkout did not reserve the stock";

  auto expired = wait_status(u.token, order.value("id", ""), {"EXPIRED"});
  ASSERT_EQ(expired.value("status", ""), "EXPIRED") << expired.dump() << "\n" << node().log_tail();
  EXPECT_TRUE(expired["payment"].is_null() || expired["payment"]["redirect_url"].is_null())
      << expired.dump();
  EXPECT_EQ(wait_available(*pick, pick->available), pick->available)
      << "the expired hold did not give the stock back";

  // Approving at the bank after the hold ended does not bring the order back.
  auto payment_id = order["payment"].value("id", "");
  if (!payment_id.empty()) {
    auto late = three_ds(payment_id, true);
    EXPECT_LT(late.status, 500) << late.body;
    std::this_thread::sleep_for(1s);
    auto view = call("GET", "/v1/orders/" + order.value("id", ""), {}, u.token);
    EXPECT_EQ(parse(view.body).value("status", ""), "EXPIRED") << view.body;
    EXPECT_EQ(available(*pick), pick->available);
  }
}

TEST_F(ClientApiTest, PaidOrderCancelRefundsThePaymentAndReleasesTheStock) {
  auto u = new_user("cancel");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto order = buy(u, *pick, 1, "cancel-1");
  ASSERT_TRUE(order.is_object());
  auto id = order.value("id", "");
  ASSERT_EQ(three_ds(order["payment"].value("id", ""), true).status, 200);
  auto paid = wait_status(u.token, id, {"PAID", "PICKING"});
  ASSERT_TRUE(paid.value("status", "") == "PAID" || paid.value("status", "") == "PICKING")
      << paid.dump() << "\n"
      << node().log_tail();
  EXPECT_EQ(paid["payment"].value("status", ""), "captured") << paid.dump();

  auto cancelled = call("POST", "/v1/orders/" + id + "/cancel", {}, u.token);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body << "\n" << node().log_tail();
  auto body = parse(cancelled.body);
  EXPECT_EQ(body.value("status", ""), "CANCELLED") << cancelled.body;
  EXPECT_EQ(body["payment"].value("status", ""), "refunded") << cancelled.body;
  EXPECT_EQ(body["payment"]["refunded"], body["total"]) << cancelled.body;
  auto view = wait_status(u.token, id, {"CANCELLED"});
  EXPECT_EQ(view.value("status", ""), "CANCELLED");
  EXPECT_EQ(wait_available(*pick, pick->available), pick->available)
      << "the cancelled order kept its stock";
  // Cancelled is final: neither a second cancel nor a return changes it.
  auto twice = call("POST", "/v1/orders/" + id + "/cancel", {}, u.token);
  EXPECT_TRUE(is_problem(twice, 409, "not_cancellable"));
  auto ret = call("POST", "/v1/orders/" + id + "/return", {}, u.token);
  EXPECT_TRUE(is_problem(ret, 409, "not_returnable"));
}

TEST_F(ClientApiTest, GuestCartIsMergedIntoTheUsersCartAtLogin) {
  auto guest = call("POST", "/v1/sessions/guest");
  ASSERT_EQ(guest.status, 201) << guest.body;
  auto g = parse(guest.body);
  auto guest_token = g.value("token", "");
  EXPECT_EQ(guest_token.rfind("v1.", 0), 0U) << guest.body;
  EXPECT_EQ(g.value("user_id", "").rfind("g_", 0), 0U) << guest.body;

  auto u = new_user("merge");
  ASSERT_FALSE(u.token.empty());
  auto only_guest = pick_sku(2);
  auto both = pick_sku(3);
  ASSERT_TRUE(only_guest && both);
  ASSERT_EQ(add_to_cart(u.token, both->sku, 1).status, 200);
  ASSERT_EQ(add_to_cart(guest_token, only_guest->sku, 2).status, 200);
  auto guest_cart = add_to_cart(guest_token, both->sku, 2);
  ASSERT_EQ(guest_cart.status, 200) << guest_cart.body;
  EXPECT_EQ(parse(guest_cart.body)["items"].size(), 2U) << guest_cart.body;

  auto session = login(u.email, buyer_password, guest_token);
  ASSERT_EQ(session.status, 201) << session.body;
  auto token = parse(session.body).value("token", "");
  EXPECT_EQ(parse(session.body).value("user_id", ""), u.id);
  auto cart = call("GET", "/v1/cart", {}, token);
  ASSERT_EQ(cart.status, 200) << cart.body;
  std::map<std::string, std::int64_t> lines;
  auto merged = parse(cart.body);
  for (auto& item : merged["items"])
    lines[item.value("sku", "")] = item.value("qty", std::int64_t{0});
  EXPECT_EQ(lines, (std::map<std::string, std::int64_t>{{only_guest->sku, 2}, {both->sku, 3}}))
      << cart.body;
  // The guest's lines moved: the guest cart is empty now.
  auto left = call("GET", "/v1/cart", {}, guest_token);
  ASSERT_EQ(left.status, 200) << left.body;
  EXPECT_TRUE(parse(left.body)["items"].empty()) << left.body;

  // A token that is not a guest's is refused as guest_token.
  auto bad = login(u.email, buyer_password, u.token);
  EXPECT_TRUE(is_invalid(bad, "/guest_token"));
}

TEST_F(ClientApiTest, EmptyCartAndShortStockAre409) {
  auto u = new_user("short");
  ASSERT_FALSE(u.token.empty());
  EXPECT_TRUE(is_problem(checkout(u.token, "empty-1"), 409, "cart_empty"));

  auto pick = pick_sku(1, 99);
  ASSERT_TRUE(pick) << "no SKU with 1 to 99 units in the demo catalog";
  ASSERT_EQ(add_to_cart(u.token, pick->sku, pick->available + 1).status, 200);
  auto refused = checkout(u.token, "short-1");
  ASSERT_TRUE(is_problem(refused, 409, "insufficient_stock"));
  auto errors = parse(refused.body)["errors"];
  ASSERT_EQ(errors.size(), 1U) << refused.body;
  EXPECT_EQ(errors[0].value("sku", ""), pick->sku) << refused.body;
  EXPECT_EQ(errors[0].value("available", std::int64_t{-1}), pick->available) << refused.body;
  EXPECT_EQ(available(*pick), pick->available) << "a refused checkout holds stock";

  // With the quantity lowered to what there is, a new key goes through.
  auto patched =
      call("PATCH", "/v1/cart/items/" + pick->sku, json{{"qty", pick->available}}.dump(), u.token);
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto placed = checkout(u.token, "short-2");
  EXPECT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(wait_available(*pick, 0), 0);
}

// -- 2. idempotency ---------------------------------------------------------------------------

TEST_F(ClientApiTest, CheckoutReplayIsByteForByteWithNoSecondOrder) {
  auto u = new_user("replay");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(2);
  ASSERT_TRUE(pick);
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 1).status, 200);
  auto first = checkout(u.token, "replay-key-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.header("idempotent-replayed"), "");
  EXPECT_EQ(wait_available(*pick, pick->available - 1), pick->available - 1);

  // The buyer puts something in the cart again: a replay must not order it.
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 1).status, 200);
  auto second = checkout(u.token, "replay-key-1");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("idempotent-replayed"), "true");
  EXPECT_EQ(second.header("location"), first.header("location"));
  EXPECT_EQ(second.header("content-type"), first.header("content-type"));

  auto orders = call("GET", "/v1/orders", {}, u.token);
  ASSERT_EQ(orders.status, 200) << orders.body;
  EXPECT_EQ(parse(orders.body)["data"].size(), 1U) << orders.body;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(available(*pick), pick->available - 1) << "the replay reserved stock again";
}

TEST_F(ClientApiTest, SameKeyWithAnotherBodyIs422IdempotencyKeyReused) {
  auto u = new_user("reused");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  ASSERT_TRUE(buy(u, *pick, 1, "reused-key").is_object());
  auto other = checkout(u.token, "reused-key",
                        R"({"shipping":{"region":"msk","city":"Moskva","address":"Arbat 2"}})");
  EXPECT_TRUE(is_problem(other, 422, "idempotency_key_reused"));
  EXPECT_EQ(other.header("idempotent-replayed"), "");
  // Also on a POST where the key is optional.
  auto a = call("POST", "/v1/cart/items", json{{"sku", pick->sku}, {"qty", 1}}.dump(), u.token,
                "Idempotency-Key: cart-key\r\n");
  ASSERT_EQ(a.status, 200) << a.body;
  auto b = call("POST", "/v1/cart/items", json{{"sku", pick->sku}, {"qty", 1}}.dump(), u.token,
                "Idempotency-Key: cart-key\r\n");
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.body, a.body);
  EXPECT_EQ(b.header("idempotent-replayed"), "true");
  auto c = call("POST", "/v1/cart/items", json{{"sku", pick->sku}, {"qty", 2}}.dump(), u.token,
                "Idempotency-Key: cart-key\r\n");
  EXPECT_TRUE(is_problem(c, 422, "idempotency_key_reused"));
  auto cart = call("GET", "/v1/cart", {}, u.token);
  EXPECT_EQ(parse(cart.body)["items"][0].value("qty", 0), 1) << "a replay added again";
}

TEST_F(ClientApiTest, RegistrationWithAKeyIsReplayedNotRefusedAsTaken) {
  auto body = json{
      {"email", unique_email("signup")},
      {"password", buyer_password},
      {"name", "E2E"},
      {"region",
       "msk"}}.dump();
  auto first = call("POST", "/v1/users", body, {}, "Idempotency-Key: signup-1\r\n");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.header("idempotent-replayed"), "");
  auto again = call("POST", "/v1/users", body, {}, "Idempotency-Key: signup-1\r\n");
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(again.header("location"), first.header("location"));
  // Without the key the second attempt is a second registration: refused.
  EXPECT_TRUE(is_problem(call("POST", "/v1/users", body), 409, "email_taken"));
}

TEST_F(ClientApiTest, IdempotencyKeysAreScopedToThePrincipal) {
  auto a = new_user("scope-a");
  auto b = new_user("scope-b");
  ASSERT_FALSE(a.token.empty() || b.token.empty());
  auto pick = pick_sku(2);
  ASSERT_TRUE(pick);
  auto first = buy(a, *pick, 1, "the-same-key");
  auto second = buy(b, *pick, 1, "the-same-key");
  ASSERT_TRUE(first.is_object() && second.is_object());
  EXPECT_NE(first.value("id", ""), second.value("id", ""));
  EXPECT_EQ(first.value("user_id", ""), a.id);
  EXPECT_EQ(second.value("user_id", ""), b.id);
  EXPECT_EQ(wait_available(*pick, pick->available - 2), pick->available - 2);
}

TEST_F(ClientApiTest, ConcurrentCheckoutsWithOneKeyMakeOneOrder) {
  auto u = new_user("race");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(2);
  ASSERT_TRUE(pick);
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 1).status, 200);
  // Both requests are on the wire before either is answered.
  auto request = test::make_request("POST", "/v1/checkout",
                                    "Content-Type: application/json\r\nAuthorization: Bearer " +
                                        u.token + "\r\nIdempotency-Key: race-key\r\n",
                                    shipping, false);
  test::http_connection first{node().port()};
  test::http_connection second{node().port()};
  ASSERT_TRUE(first.connected() && second.connected());
  ASSERT_TRUE(first.send_all(request));
  ASSERT_TRUE(second.send_all(request));
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout);
  auto a = first.read_reply(timeout);
  auto b = second.read_reply(timeout);
  ASSERT_TRUE(a && b);
  // One order: each answer is that order (the second a replay) or "still running".
  std::set<std::string> ids;
  for (auto* r : {&*a, &*b}) {
    if (r->status == 409) {
      EXPECT_TRUE(is_problem(*r, 409, "idempotency_in_flight"));
      EXPECT_FALSE(r->header("retry-after").empty());
      continue;
    }
    ASSERT_EQ(r->status, 201) << r->body;
    ids.insert(parse(r->body).value("id", ""));
  }
  EXPECT_EQ(ids.size(), 1U);
  if (a->status == 201 && b->status == 201) {
    EXPECT_EQ(a->body, b->body);
  }
  auto orders = call("GET", "/v1/orders", {}, u.token);
  EXPECT_EQ(parse(orders.body)["data"].size(), 1U) << orders.body;
  EXPECT_EQ(wait_available(*pick, pick->available - 1), pick->available - 1);
}

TEST_F(ClientApiTest, CheckoutWithoutIdempotencyKeyIs400) {
  auto u = new_user("nokey");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 1).status, 200);
  auto reply = call("POST", "/v1/checkout", shipping, u.token);
  EXPECT_TRUE(is_problem(reply, 400, "idempotency_key_required"));
  auto orders = call("GET", "/v1/orders", {}, u.token);
  EXPECT_TRUE(parse(orders.body)["data"].empty()) << orders.body;
}

TEST_F(ClientApiTest, InvalidIdempotencyKeysAre400) {
  auto u = new_user("badkey");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 1).status, 200);
  for (auto key : {std::string(256, 'k'), std::string{"tab\tinside"}, std::string{"caf\xc3\xa9"},
                   std::string{"space inside"}, std::string{}}) {
    SCOPED_TRACE("key of " + std::to_string(key.size()) + " bytes: " + key);
    EXPECT_TRUE(is_problem(checkout(u.token, key), 400, "invalid_idempotency_key"));
  }
  // A control character the HTTP parser refuses on its own is still a 400.
  auto ctl = checkout(u.token, std::string{"ctl\x01key"});
  EXPECT_EQ(ctl.status, 400) << ctl.body;
  auto orders = call("GET", "/v1/orders", {}, u.token);
  EXPECT_TRUE(parse(orders.body)["data"].empty()) << orders.body;
  // 255 visible characters is the longest key there is.
  EXPECT_EQ(checkout(u.token, std::string(255, 'k')).status, 201);
}

// -- 3. bad input and access ------------------------------------------------------------------

TEST_F(ClientApiTest, MalformedJsonIs400MalformedJson) {
  auto u = new_user("malformed");
  ASSERT_FALSE(u.token.empty());
  for (auto body :
       {R"({"sku": "A", "qty": 1)", R"({sku: 1})", "not json", R"({"a":1}})", "\xff\xfe{}"}) {
    SCOPED_TRACE(body);
    EXPECT_TRUE(is_problem(call("POST", "/v1/cart/items", body, u.token), 400, "malformed_json"));
    EXPECT_TRUE(is_problem(call("POST", "/v1/users", body), 400, "malformed_json"));
    EXPECT_TRUE(is_problem(call("POST", "/v1/sessions", body), 400, "malformed_json"));
    EXPECT_TRUE(is_problem(call("POST", "/v1/checkout", body, u.token, "Idempotency-Key: m\r\n"),
                           400, "malformed_json"));
    EXPECT_TRUE(
        is_problem(call("PATCH", "/v1/cart/items/X", body, u.token), 400, "malformed_json"));
  }
}

TEST_F(ClientApiTest, AMemberNamedTwiceIs400AndChangesNothing) {
  // Parsers disagree on which of two "qty"s wins; souk takes neither.
  auto u = new_user("twice");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto twice = call("POST", "/v1/cart/items",
                    R"({"sku":)" + json(pick->sku).dump() + R"(,"qty":1,"qty":100})", u.token);
  ASSERT_TRUE(is_problem(twice, 400, "malformed_json")) << twice.body;
  EXPECT_NE(parse(twice.body)["detail"].get<std::string>().find("\"qty\""), std::string::npos);
  auto cart = call("GET", "/v1/cart", {}, u.token);
  EXPECT_EQ(cart.status, 200);
  EXPECT_TRUE(parse(cart.body)["items"].empty()) << cart.body;
  EXPECT_TRUE(is_problem(call("POST", "/v1/checkout", R"({"shipping":{"city":"A","city":"B"}})",
                              u.token, "Idempotency-Key: twice\r\n"),
                         400, "malformed_json"));
}

TEST_F(ClientApiTest, WrongTypesMissingAndUnknownFieldsAre422WithPointers) {
  auto u = new_user("types");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto sku = json(pick->sku).dump();
  struct bad {
    std::string method, target, body, pointer;
  };
  std::vector<bad> cases = {
      {"POST", "/v1/cart/items", R"({"sku":5,"qty":1})", "/sku"},
      {"POST", "/v1/cart/items", R"({"qty":1})", "/sku"},
      {"POST", "/v1/cart/items", R"({"sku":"","qty":1})", "/sku"},
      {"POST", "/v1/cart/items", R"({"sku":)" + sku + "}", "/qty"},
      {"POST", "/v1/cart/items", R"({"sku":)" + sku + R"(,"qty":1,"color":"red"})", "/color"},
      {"POST", "/v1/cart/items", R"([{"sku":"A","qty":1}])", ""},
      {"POST", "/v1/cart/items", R"("text")", ""},
      {"PATCH", "/v1/cart/items/" + pick->sku, R"({})", "/qty"},
      {"PATCH", "/v1/cart/items/" + pick->sku, R"({"qty":1,"sku":"B"})", "/sku"},
      {"POST", "/v1/checkout", R"({})", "/shipping"},
      {"POST", "/v1/checkout", R"({"shipping":"msk"})", "/shipping"},
      {"POST", "/v1/checkout", R"({"shipping":{"city":"Moskva","address":"A 1"}})",
       "/shipping/region"},
      {"POST", "/v1/checkout", R"({"shipping":{"region":"atlantis","city":"M","address":"A"}})",
       "/shipping/region"},
      {"POST", "/v1/checkout", R"({"shipping":{"region":"msk","city":7,"address":"A"}})",
       "/shipping/city"},
      {"POST", "/v1/checkout", R"({"shipping":{"region":"msk","city":"M"}})", "/shipping/address"},
      {"POST", "/v1/checkout",
       R"({"shipping":{"region":"msk","city":"M","address":"A"},"coupon":"X"})", "/coupon"},
      {"POST", "/v1/wishlist/items", R"({"product_id":"1"})", "/product_id"},
      {"POST", "/v1/wishlist/items", R"({"product_id":-3})", "/product_id"},
      {"POST", "/v1/orders/o_x/return", R"({"lines":"all"})", "/lines"},
      {"POST", "/v1/orders/o_x/return", R"({"lines":[]})", "/lines"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body);
    EXPECT_TRUE(is_invalid(call(c.method, c.target, c.body, u.token, "Idempotency-Key: t1\r\n"),
                           c.pointer));
  }
  std::vector<std::pair<std::string, std::string>> accounts = {
      {R"({"password":"long enough 1","name":"N","region":"msk"})", "/email"},
      {R"({"email":"not-an-address","password":"long enough 1","name":"N","region":"msk"})",
       "/email"},
      {R"({"email":42,"password":"long enough 1","name":"N","region":"msk"})", "/email"},
      {R"({"email":"a@b.test","password":"short","name":"N","region":"msk"})", "/password"},
      {R"({"email":"a@b.test","password":"long enough 1","region":"msk"})", "/name"},
      {R"({"email":"a@b.test","password":"long enough 1","name":"N","region":"mars"})", "/region"},
      {R"({"email":"a@b.test","password":"long enough 1","name":"N","region":"msk","admin":true})",
       "/admin"},
  };
  for (auto& [body, pointer] : accounts) {
    SCOPED_TRACE("POST /v1/users " + body);
    EXPECT_TRUE(is_invalid(call("POST", "/v1/users", body), pointer));
  }
  EXPECT_TRUE(is_invalid(call("POST", "/v1/sessions", R"({"email":"a@b.test"})"), "/password"));
  EXPECT_TRUE(is_invalid(call("POST", "/v1/sessions", R"({"email":"a@b.test","password":1})"),
                         "/password"));
  EXPECT_TRUE(is_invalid(call("POST", "/v1/sessions/guest", R"({"x":1})"), "/x"));
  // Nothing of it reached the cart.
  auto cart = call("GET", "/v1/cart", {}, u.token);
  EXPECT_TRUE(parse(cart.body)["items"].empty()) << cart.body;
}

// errors[].pointer is a JSON Pointer into the whole body (RFC 9457/6901): an unknown member
// inside `shipping` is /shipping/<name>, not /<name> (which would name a top-level member).
TEST_F(ClientApiTest, UnknownFieldInsideShippingIsPointedToByItsFullPath) {
  auto u = new_user("nested");
  ASSERT_FALSE(u.token.empty());
  auto reply = call("POST", "/v1/checkout",
                    R"({"shipping":{"region":"msk","city":"M","address":"A","gift_wrap":true}})",
                    u.token, "Idempotency-Key: nested-1\r\n");
  EXPECT_TRUE(is_invalid(reply, "/shipping/gift_wrap"));
}

TEST_F(ClientApiTest, QuantitiesOutOfRangeAre422) {
  auto u = new_user("qty");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto sku = json(pick->sku).dump();
  for (std::string qty : {"0", "-1", "101", "1e12", "1000000000000", "\"2\"", "2.5", "null", "true",
                          "18446744073709551615", "-9223372036854775808", "[1]"}) {
    SCOPED_TRACE("qty " + qty);
    EXPECT_TRUE(is_invalid(
        call("POST", "/v1/cart/items", R"({"sku":)" + sku + R"(,"qty":)" + qty + "}", u.token),
        "/qty"));
  }
  // In range it is taken, and PATCH has the same bounds except that 0 removes the line.
  ASSERT_EQ(add_to_cart(u.token, pick->sku, 100).status, 200);
  for (std::string qty : {"-1", "101", "1e12", "\"2\""}) {
    SCOPED_TRACE("PATCH qty " + qty);
    EXPECT_TRUE(is_invalid(
        call("PATCH", "/v1/cart/items/" + pick->sku, R"({"qty":)" + qty + "}", u.token), "/qty"));
  }
  // One more unit than the line may hold.
  EXPECT_TRUE(is_invalid(add_to_cart(u.token, pick->sku, 1), "/qty"));
  auto removed = call("PATCH", "/v1/cart/items/" + pick->sku, R"({"qty":0})", u.token);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(parse(removed.body)["items"].empty()) << removed.body;
}

TEST_F(ClientApiTest, UnknownSkuIs404UnknownSku) {
  auto u = new_user("unknown");
  ASSERT_FALSE(u.token.empty());
  auto reply = add_to_cart(u.token, "NO-SUCH-SKU-E2E", 1);
  EXPECT_TRUE(is_problem(reply, 404, "unknown_sku"));
  EXPECT_TRUE(is_problem(call("PATCH", "/v1/cart/items/NO-SUCH-SKU-E2E", R"({"qty":1})", u.token),
                         404, "not_in_cart"));
  // DELETE is idempotent (API.md: 200 cart): a line that is not there is the cart as it is.
  auto gone = call("DELETE", "/v1/cart/items/NO-SUCH-SKU-E2E", {}, u.token);
  EXPECT_EQ(gone.status, 200) << gone.body;
  EXPECT_TRUE(parse(gone.body)["items"].empty()) << gone.body;
  auto cart = call("GET", "/v1/cart", {}, u.token);
  EXPECT_TRUE(parse(cart.body)["items"].empty()) << cart.body;
  // Unknown routes are 404 too.
  EXPECT_TRUE(is_problem(call("GET", "/v1/no-such-route", {}, u.token), 404, "not_found"));
}

TEST_F(ClientApiTest, BodyOverTheLimitIs413AndJustUnderIsParsed) {
  auto u = new_user("big");
  ASSERT_FALSE(u.token.empty());
  // Just under 1 MiB is read and judged on its content.
  std::string pad(1024 * 1024 - 200, 'a');
  auto under =
      call("POST", "/v1/cart/items", R"({"sku":"X","qty":1,"pad":")" + pad + "\"}", u.token);
  EXPECT_TRUE(is_invalid(under, "/pad"));

  // Over it: 413 as soon as the length is announced.
  {
    test::http_connection conn{node().port()};
    ASSERT_TRUE(conn.connected());
    auto head =
        "POST /v1/cart/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + u.token +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(1024 * 1024 + 1) +
        "\r\n\r\n";
    auto reply = conn.round_trip(head);
    ASSERT_TRUE(reply) << "no answer to an announced oversized body";
    EXPECT_TRUE(is_problem(*reply, 413, "body_too_large"));
  }
  // Over it, sent whole: the answer is still 413 (read before the server closes).
  {
    test::http_connection conn{node().port()};
    ASSERT_TRUE(conn.connected());
    std::string body = R"({"sku":"X","qty":1,"pad":")" + std::string(1024 * 1024 + 16, 'a') + "\"}";
    auto head = "POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n";
    ASSERT_TRUE(conn.send_all(head));
    conn.send_all(body); // the server may stop reading (and close) part way: not an error
    auto reply = conn.read_reply();
    ASSERT_TRUE(reply) << "no answer to an oversized body";
    EXPECT_TRUE(is_problem(*reply, 413, "body_too_large"));
  }
}

TEST_F(ClientApiTest, HeadersOverTheLimitAre431) {
  auto u = new_user("headers");
  ASSERT_FALSE(u.token.empty());
  auto reply =
      call("GET", "/v1/cart", {}, u.token, "X-Padding: " + std::string(9000, 'h') + "\r\n");
  EXPECT_TRUE(is_problem(reply, 431, "header_too_large"));
  // Below the limit it is served.
  auto fine = call("GET", "/v1/cart", {}, u.token, "X-Padding: " + std::string(4000, 'h') + "\r\n");
  EXPECT_EQ(fine.status, 200) << fine.body;
}

// The limit is on the whole header block, not on one field: many small fields adding up past
// 8 KiB are refused as well (API.md "Conventions"; issue 5: "header limit (8 KiB)").
TEST_F(ClientApiTest, ManySmallHeadersOverTheLimitAre431) {
  auto u = new_user("manyheaders");
  ASSERT_FALSE(u.token.empty());
  for (int count : {170, 200, 280}) {
    std::string many;
    for (int i = 0; i < count; ++i)
      many += "X-H" + std::to_string(i) + ": " + std::string(48, 'v') + "\r\n";
    SCOPED_TRACE(std::to_string(count) + " fields, " + std::to_string(many.size()) + " bytes");
    EXPECT_TRUE(is_problem(call("GET", "/v1/cart", {}, u.token, many), 431, "header_too_large"));
  }
}

TEST_F(ClientApiTest, MissingInvalidOrForgedTokensAre401WithWwwAuthenticate) {
  auto u = new_user("tokens");
  ASSERT_FALSE(u.token.empty());
  auto other = new_user("tokens-other");
  ASSERT_FALSE(other.token.empty());
  auto dot = u.token.rfind('.');
  ASSERT_NE(dot, std::string::npos);
  // A signature character in the middle changed (every bit of it counts).
  auto flipped = u.token;
  auto& c = flipped[dot + 10];
  c = c == 'A' ? 'B' : 'A';
  // Claims of one token with the signature of another.
  auto swapped = u.token.substr(0, dot) + other.token.substr(other.token.rfind('.'));
  // Claims rewritten (an admin for ten years) and the old signature kept.
  auto admin_claims = json{{"sub", u.id}, {"role", "admin"}, {"exp", 4'000'000'000LL}}.dump();
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string b64;
  std::uint32_t val = 0;
  int bits = -6;
  for (unsigned char ch : admin_claims) {
    val = ((val << 8) | ch) & 0xffffffU; // only the low bits not yet written matter
    bits += 8;
    while (bits >= 0) {
      b64 += alphabet[(val >> bits) & 0x3f];
      bits -= 6;
    }
  }
  if (bits > -6)
    b64 += alphabet[((val << 8) >> (bits + 8)) & 0x3f];
  auto escalated = "v1." + b64 + u.token.substr(dot);

  std::vector<std::pair<std::string, std::string>> bad_headers = {
      {"none", ""},
      {"garbage", "Authorization: Bearer garbage\r\n"},
      {"empty bearer", "Authorization: Bearer \r\n"},
      {"basic scheme", "Authorization: Basic dXNlcjpwYXNz\r\n"},
      {"token without scheme", "Authorization: " + u.token + "\r\n"},
      {"flipped signature", "Authorization: Bearer " + flipped + "\r\n"},
      {"swapped signature", "Authorization: Bearer " + swapped + "\r\n"},
      {"rewritten claims", "Authorization: Bearer " + escalated + "\r\n"},
      // Two headers, each valid: RFC 9110 allows one, and which would count is not ours to
      // guess (a proxy may have added one).
      {"two headers",
       "Authorization: Bearer " + u.token + "\r\nAuthorization: Bearer " + other.token + "\r\n"},
      {"truncated", "Authorization: Bearer " + u.token.substr(0, u.token.size() - 5) + "\r\n"},
      {"huge", "Authorization: Bearer v1." + std::string(5000, 'A') + ".AAAA\r\n"},
  };
  std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/v1/cart"},
      {"DELETE", "/v1/cart"},
      {"POST", "/v1/cart/items"},
      {"PATCH", "/v1/cart/items/X"},
      {"DELETE", "/v1/cart/items/X"},
      {"GET", "/v1/wishlist/items"},
      {"POST", "/v1/wishlist/items"},
      {"POST", "/v1/checkout"},
      {"GET", "/v1/orders"},
      {"GET", "/v1/orders/o_x"},
      {"POST", "/v1/orders/o_x/cancel"},
      {"POST", "/v1/orders/o_x/return"},
  };
  for (auto& [what, header] : bad_headers)
    for (auto& [method, target] : routes) {
      SCOPED_TRACE(what + ": " + method + " " + target);
      auto body = method == "POST" || method == "PATCH" ? std::string{R"({"qty":1})"} : "";
      auto reply = call(method, target, body, {}, header + "Idempotency-Key: k\r\n");
      EXPECT_TRUE(is_problem(reply, 401, "unauthorized"));
      EXPECT_EQ(reply.header("www-authenticate"), "Bearer");
    }
  // The real token still works: none of the above did anything to the account.
  auto cart = call("GET", "/v1/cart", {}, u.token);
  EXPECT_EQ(cart.status, 200) << cart.body;
}

TEST_F(ClientApiTest, AnotherUsersOrderIs404OnEveryOrderRoute) {
  auto owner = new_user("owner");
  auto intruder = new_user("intruder");
  ASSERT_FALSE(owner.token.empty() || intruder.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto order = buy(owner, *pick, 1, "owned-1");
  ASSERT_TRUE(order.is_object());
  auto id = order.value("id", "");
  auto guest = parse(call("POST", "/v1/sessions/guest").body).value("token", "");
  ASSERT_FALSE(guest.empty());

  // What an order id that does not exist at all gets: the same as someone else's.
  auto missing = call("GET", "/v1/orders/o_000000000000000000000000", {}, intruder.token);
  ASSERT_TRUE(is_problem(missing, 404, "not_found"));
  auto line = R"({"lines":[{"sku":)" + json(pick->sku).dump() + R"(,"qty":1}]})";
  for (auto& token : {intruder.token, guest}) {
    for (auto [method, target, body] :
         {std::tuple{"GET", "/v1/orders/" + id, std::string{}},
          std::tuple{"POST", "/v1/orders/" + id + "/cancel", std::string{}},
          std::tuple{"POST", "/v1/orders/" + id + "/cancel", std::string{R"({"reason":"x"})"}},
          std::tuple{"POST", "/v1/orders/" + id + "/return", std::string{}},
          std::tuple{"POST", "/v1/orders/" + id + "/return", line}}) {
      SCOPED_TRACE(std::string{method} + " " + target + " " + body);
      auto reply = call(method, target, body, token);
      EXPECT_TRUE(is_problem(reply, 404, "not_found"));
      EXPECT_NE(reply.status, 403);
      EXPECT_EQ(without_trace(parse(reply.body)), without_trace(parse(missing.body)));
      EXPECT_EQ(reply.body.find(owner.id), std::string::npos) << reply.body;
      EXPECT_EQ(reply.body.find(pick->sku), std::string::npos) << reply.body;
    }
    // Nor is it in their list.
    auto list = call("GET", "/v1/orders", {}, token);
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.body.find(id), std::string::npos) << list.body;
  }
  // The owner's order is untouched by all that.
  auto view = call("GET", "/v1/orders/" + id, {}, owner.token);
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_EQ(parse(view.body).value("status", ""), "PENDING_PAYMENT") << view.body;
  // And the owner's own actions on it work.
  auto cancelled = call("POST", "/v1/orders/" + id + "/cancel", {}, owner.token);
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(parse(cancelled.body).value("status", ""), "CANCELLED") << cancelled.body;
}

TEST_F(ClientApiTest, StaleIfMatchIs412VersionMismatch) {
  auto u = new_user("ifmatch");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  auto first = add_to_cart(u.token, pick->sku, 1);
  ASSERT_EQ(first.status, 200) << first.body;
  auto v1 = first.header("etag");
  ASSERT_FALSE(v1.empty());
  // The current version is accepted...
  auto second = call("POST", "/v1/cart/items", json{{"sku", pick->sku}, {"qty", 1}}.dump(), u.token,
                     "If-Match: " + v1 + "\r\n");
  ASSERT_EQ(second.status, 200) << second.body;
  auto v2 = second.header("etag");
  EXPECT_NE(v2, v1);
  // ...an old one is not, on any cart change.
  auto stale = "If-Match: " + v1 + "\r\n";
  EXPECT_TRUE(is_problem(
      call("POST", "/v1/cart/items", json{{"sku", pick->sku}, {"qty", 1}}.dump(), u.token, stale),
      412, "version_mismatch"));
  EXPECT_TRUE(
      is_problem(call("PATCH", "/v1/cart/items/" + pick->sku, R"({"qty":5})", u.token, stale), 412,
                 "version_mismatch"));
  EXPECT_TRUE(is_problem(call("DELETE", "/v1/cart/items/" + pick->sku, {}, u.token, stale), 412,
                         "version_mismatch"));
  EXPECT_TRUE(is_problem(call("DELETE", "/v1/cart", {}, u.token, stale), 412, "version_mismatch"));
  EXPECT_TRUE(is_problem(call("DELETE", "/v1/cart", {}, u.token, "If-Match: \"999999\"\r\n"), 412,
                         "version_mismatch"));
  EXPECT_TRUE(is_problem(call("DELETE", "/v1/cart", {}, u.token, "If-Match: banana\r\n"), 412,
                         "version_mismatch"));
  // None of them changed the cart.
  auto cart = call("GET", "/v1/cart", {}, u.token);
  ASSERT_EQ(cart.status, 200);
  EXPECT_EQ(cart.header("etag"), v2);
  EXPECT_EQ(parse(cart.body)["items"][0].value("qty", 0), 2) << cart.body;
  // With the current version the change goes through.
  auto cleared = call("DELETE", "/v1/cart", {}, u.token, "If-Match: " + v2 + "\r\n");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(parse(cleared.body)["items"].empty());
}

TEST_F(ClientApiTest, WrongMethodIs405WithAllow) {
  auto u = new_user("method");
  ASSERT_FALSE(u.token.empty());
  struct wrong {
    std::string method, target;
    std::vector<std::string> allowed;
  };
  for (auto& w : std::vector<wrong>{{"PUT", "/v1/cart", {"GET", "DELETE"}},
                                    {"GET", "/v1/checkout", {"POST"}},
                                    {"DELETE", "/v1/checkout", {"POST"}},
                                    {"GET", "/v1/users", {"POST"}},
                                    {"GET", "/v1/sessions", {"POST"}},
                                    {"PUT", "/v1/orders/o_x", {"GET"}},
                                    {"GET", "/v1/orders/o_x/cancel", {"POST"}},
                                    {"DELETE", "/v1/orders", {"GET"}},
                                    {"GET", "/v1/cart/items/X", {"PATCH", "DELETE"}}}) {
    SCOPED_TRACE(w.method + " " + w.target);
    auto reply = call(w.method, w.target, {}, u.token);
    EXPECT_TRUE(is_problem(reply, 405, "method_not_allowed"));
    auto allow = reply.header("allow");
    for (auto& m : w.allowed)
      EXPECT_NE(allow.find(m), std::string::npos) << "Allow: " << allow;
    EXPECT_EQ(allow.find(w.method), std::string::npos) << "Allow: " << allow;
  }
}

TEST_F(ClientApiTest, TakenEmailIs409EmailTaken) {
  auto email = unique_email("taken");
  ASSERT_EQ(register_user(email).status, 201);
  EXPECT_TRUE(is_problem(register_user(email, "another password"), 409, "email_taken"));
  // The same address in other letters and with blanks around it is the same account.
  std::string upper = email;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  EXPECT_TRUE(is_problem(register_user(" " + upper + " "), 409, "email_taken"));
  // The first password still logs in, with the address in any letters; the second never took.
  EXPECT_EQ(login(email).status, 201);
  EXPECT_EQ(login(upper).status, 201);
  EXPECT_TRUE(is_problem(login(email, "another password"), 401, "invalid_credentials"));
}

TEST_F(ClientApiTest, WrongPasswordAndUnknownEmailAre401InvalidCredentials) {
  auto email = unique_email("creds");
  ASSERT_EQ(register_user(email).status, 201);
  auto wrong = login(email, "not the password");
  auto unknown = login(unique_email("nobody"), buyer_password);
  EXPECT_TRUE(is_problem(wrong, 401, "invalid_credentials"));
  EXPECT_TRUE(is_problem(unknown, 401, "invalid_credentials"));
  // The two are indistinguishable: nobody learns which addresses have accounts.
  EXPECT_EQ(without_trace(parse(wrong.body)), without_trace(parse(unknown.body)));
  EXPECT_EQ(parse(wrong.body).value("token", ""), "");
  EXPECT_EQ(login(email).status, 201);
}

// -- 4. pagination ----------------------------------------------------------------------------

TEST_F(ClientApiTest, OrdersPaginateNewestFirstWithoutDuplicatesOrGaps) {
  auto u = new_user("pages");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(5);
  ASSERT_TRUE(pick);
  std::vector<std::string> placed;
  for (int i = 0; i < 5; ++i) {
    auto order = buy(u, *pick, 1, "page-" + std::to_string(i));
    ASSERT_TRUE(order.is_object()) << "order " << i;
    placed.push_back(order.value("id", ""));
  }
  std::vector<std::string> newest_first(placed.rbegin(), placed.rend());

  std::vector<std::string> listed;
  std::vector<std::size_t> sizes;
  std::string target = "/v1/orders?limit=2";
  std::int64_t last_created = std::numeric_limits<std::int64_t>::max();
  for (int page = 0; page < 10; ++page) {
    auto reply = call("GET", target, {}, u.token);
    ASSERT_EQ(reply.status, 200) << target << " " << reply.body;
    auto body = parse(reply.body);
    ASSERT_TRUE(body["data"].is_array()) << reply.body;
    sizes.push_back(body["data"].size());
    for (auto& o : body["data"]) {
      listed.push_back(o.value("id", ""));
      EXPECT_EQ(o.value("user_id", ""), u.id);
      auto created = o.value("created_at_ms", std::int64_t{0});
      EXPECT_LE(created, last_created) << "not newest first: " << reply.body;
      last_created = created;
    }
    ASSERT_TRUE(body.contains("next_cursor")) << reply.body;
    if (body["next_cursor"].is_null())
      break;
    ASSERT_TRUE(body["next_cursor"].is_string()) << reply.body;
    target = "/v1/orders?limit=2&cursor=" + body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(listed, newest_first);
  // Without a limit (20) one page holds all.
  auto all = call("GET", "/v1/orders", {}, u.token);
  ASSERT_EQ(all.status, 200);
  auto body = parse(all.body);
  EXPECT_EQ(body["data"].size(), 5U);
  EXPECT_TRUE(body["next_cursor"].is_null()) << all.body;
}

TEST_F(ClientApiTest, BadCursorIs400AndBadLimitIs422) {
  auto u = new_user("cursor");
  ASSERT_FALSE(u.token.empty());
  for (auto cursor : {"garbage", "p0", "p-1", "p", "", "1", "p1x", "%00"}) {
    SCOPED_TRACE(std::string{"cursor="} + cursor);
    EXPECT_TRUE(is_problem(call("GET", std::string{"/v1/orders?cursor="} + cursor, {}, u.token),
                           400, "invalid_cursor"));
  }
  for (auto limit : {"0", "101", "-1", "abc", "", "1.5", "99999999999999999999"}) {
    SCOPED_TRACE(std::string{"limit="} + limit);
    EXPECT_TRUE(
        is_invalid(call("GET", std::string{"/v1/orders?limit="} + limit, {}, u.token), "limit"));
  }
  // An unknown parameter is refused as in the catalog's queries: 422 naming it.
  EXPECT_TRUE(is_invalid(call("GET", "/v1/orders?colour=red", {}, u.token), "colour"));
  // A parameter given twice: one layer may read the first, another the last.
  EXPECT_TRUE(is_invalid(call("GET", "/v1/orders?limit=1&limit=100", {}, u.token), "limit"));
  EXPECT_TRUE(
      is_invalid(call("GET", "/v1/orders?cursor=p5&limit=2&cursor=p9", {}, u.token), "cursor"));
  EXPECT_EQ(call("GET", "/v1/orders?limit=%31", {}, u.token).status, 200) << "%31 is 1";
  EXPECT_TRUE(is_problem(call("GET", "/v1/orders?limit=%G1", {}, u.token), 400, "bad_query"));
  EXPECT_EQ(call("GET", "/v1/orders?limit=1", {}, u.token).status, 200);
  EXPECT_EQ(call("GET", "/v1/orders?limit=100", {}, u.token).status, 200);
}

// -- 5. the node after serving buyers --------------------------------------------------------

// API.md "Running a node": SIGTERM stops a node cleanly (finishes requests, flushes, exits 0),
// also after it created accounts and orders, not only when idle (tests/e2e/soukd_test.cpp).
TEST_F(ClientApiShutdownTest, StopsCleanlyOnSigtermAfterServingBuyers) {
  auto u = new_user("shutdown");
  ASSERT_FALSE(u.token.empty());
  auto pick = pick_sku(1);
  ASSERT_TRUE(pick);
  ASSERT_TRUE(buy(u, *pick, 1, "shutdown-1").is_object());
  auto began = steady::now();
  auto code = node().stop();
  EXPECT_EQ(code, std::optional<int>{0})
      << "soukd did not exit 0 within " << exit_timeout.count() << " s of SIGTERM:\n"
      << node().log_excerpt();
  EXPECT_LT(steady::now() - began, exit_timeout);
}

} // namespace
} // namespace souk
