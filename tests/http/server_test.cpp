// The HTTP edge over real sockets on 127.0.0.1: routing, keep-alive, pipelining, limits,
// timeouts, the connection cap, handler failures and the drain on stop.
#include "http/problem.hpp"
#include "http/routes/health.hpp"
#include "http/server.hpp"
#include "tests/support/http_client.hpp"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::http_connection;
using test::make_request;
using clock_type = std::chrono::steady_clock;

/// A gate a handler thread waits on (bounded), opened by the test.
class gate {
public:
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }
  /// True when opened within `timeout`.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool open_ = false;
};

class ServerTest : public ::testing::Test {
protected:
  ServerTest() {
    settings_.listen = {"127.0.0.1", 0};
    settings_.threads = 2;
    settings_.max_header_bytes = 2048;
    settings_.max_body_bytes = 1024;
    settings_.read_timeout = 5s;
    settings_.idle_timeout = 10s;
    settings_.drain_timeout = 2s;
    add_test_routes();
  }

  ~ServerTest() override {
    gate_.open(); // no handler thread waits past the test
    join_helpers();
    server_.reset();
  }

  void start() {
    server_ = std::make_unique<server>(settings_, routes_);
    ASSERT_EQ(server_->start(), "");
    ASSERT_NE(server_->port(), 0);
  }

  std::uint16_t port() const { return server_->port(); }

  /// Answers `res` through `respond` from another thread after `delay`.
  void answer_later(responder respond, std::chrono::milliseconds delay, response res) {
    std::lock_guard<std::mutex> guard{helpers_mtx_};
    helpers_.emplace_back([respond = std::move(respond), delay, res = std::move(res)]() mutable {
      std::this_thread::sleep_for(delay);
      respond(std::move(res));
    });
  }

  void join_helpers() {
    std::vector<std::thread> helpers;
    {
      std::lock_guard<std::mutex> guard{helpers_mtx_};
      helpers.swap(helpers_);
    }
    for (auto& t : helpers)
      t.join();
  }

  /// Waits (bounded) until the server counts `n` requests in flight.
  bool wait_in_flight(std::uint64_t n, std::chrono::milliseconds timeout = 3s) {
    auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
      if (server_->stats().requests_in_flight == n)
        return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  void add_test_routes() {
    routes_.add(bhttp::verb::get, "/echo/{id}", [](const request_context& ctx, responder r) {
      r(make_json(200, {{"id", ctx.params.at("id")},
                        {"route", ctx.route},
                        {"trace_id", ctx.trace_id},
                        {"target", std::string{ctx.req.target()}}}));
    });
    routes_.add(bhttp::verb::post, "/echo", [](const request_context& ctx, responder r) {
      r(make_json(200, {{"size", ctx.req.body().size()}}));
    });
    // Answers later, from another thread: /later/{ms}/{tag}.
    routes_.add(bhttp::verb::get, "/later/{ms}/{tag}",
                [this](const request_context& ctx, responder r) {
                  auto ms = std::chrono::milliseconds{std::stoi(ctx.params.at("ms"))};
                  answer_later(std::move(r), ms, make_json(200, {{"tag", ctx.params.at("tag")}}));
                });
    routes_.add(bhttp::verb::get, "/throw", [](const request_context&, responder) {
      throw std::runtime_error{"handler failed on purpose"};
    });
    routes_.add(bhttp::verb::get, "/twice", [](const request_context&, responder r) {
      r(make_json(200, {{"answer", "first"}}));
      r(make_json(200, {{"answer", "second"}}));
    });
    // Answers from another thread once the test opens the gate.
    routes_.add(bhttp::verb::get, "/gate", [this](const request_context&, responder r) {
      std::lock_guard<std::mutex> guard{helpers_mtx_};
      helpers_.emplace_back([this, r = std::move(r)] {
        gate_.wait(10s);
        r(make_json(200, {{"gate", "open"}}));
      });
    });
    add_health_routes(routes_, "t1", [] { return readiness{true, {}}; });
  }

  config::http_settings settings_;
  router routes_;
  gate gate_;
  std::mutex helpers_mtx_;
  std::vector<std::thread> helpers_;
  std::unique_ptr<server> server_;
};

TEST_F(ServerTest, HealthzAnswers200Json) {
  start();
  auto reply = test::http_get(port(), "/healthz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "application/json; charset=utf-8");
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["status"], "alive");
  EXPECT_EQ(body["node"], "t1");
  EXPECT_EQ(reply->header("server"), "souk");
}

TEST_F(ServerTest, RouteParametersAndTheTemplateReachTheHandler) {
  start();
  auto reply = test::http_get(port(), "/echo/abc?x=1");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["id"], "abc");
  EXPECT_EQ(body["route"], "/echo/{id}");
  EXPECT_EQ(body["target"], "/echo/abc?x=1");
}

TEST_F(ServerTest, UnknownRouteAnswers404ProblemJson) {
  start();
  auto reply = test::http_get(port(), "/no/such/route");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["trace_id"].get<std::string>().size(), 32U);
}

TEST_F(ServerTest, WrongMethodAnswers405WithAllow) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(make_request("DELETE", "/echo/1"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET, HEAD");
  EXPECT_EQ(json::parse(reply->body)["code"], "method_not_allowed");
}

TEST_F(ServerTest, HeadAnswersAsGetWithoutTheBodyAndTheConnectionGoesOn) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto get = conn.get("/echo/abc");
  ASSERT_TRUE(get);
  ASSERT_EQ(get->status, 200);
  // HEAD: the same status and length, no body. read_reply would wait for the body the length
  // announces, so read the head alone, then a GET on the same connection must parse cleanly.
  ASSERT_TRUE(conn.send_all(make_request("HEAD", "/echo/abc")));
  ASSERT_TRUE(conn.read_until("\r\n\r\n", 5s));
  auto head = conn.pending();
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0U) << head;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(get->body.size()) + "\r\n"),
            std::string::npos)
      << head;
  EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4) << "no body after the head";
  conn.discard_pending();
  auto after = conn.get("/echo/xyz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(json::parse(after->body)["id"], "xyz");
  // HEAD of a route without GET is 405 like any other method (its problem's body dropped).
  conn.discard_pending();
  ASSERT_TRUE(conn.send_all(make_request("HEAD", "/echo")));
  ASSERT_TRUE(conn.read_until("\r\n\r\n", 5s));
  EXPECT_EQ(conn.pending().rfind("HTTP/1.1 405", 0), 0U) << conn.pending();
}

TEST_F(ServerTest, TraceparentIsHonouredInProblemsAndEchoed) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(
      make_request("GET", "/nowhere",
                   "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(json::parse(reply->body)["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  auto tp = reply->header("traceparent");
  EXPECT_EQ(tp.rfind("00-4bf92f3577b34da6a3ce929d0e0e4736-", 0), 0U) << tp;
  EXPECT_EQ(tp.size(), 55U) << tp;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  for (int i = 0; i < 5; ++i) {
    auto reply = conn.get("/echo/" + std::to_string(i));
    ASSERT_TRUE(reply) << "request " << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(json::parse(reply->body)["id"], std::to_string(i));
    EXPECT_NE(reply->header("connection"), "close");
  }
  EXPECT_FALSE(conn.peer_closed());
  auto stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, 1U);
  EXPECT_EQ(stats.requests, 5U);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(make_request("GET", "/echo/1", {}, {}, false));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(conn.wait_closed(2s));
}

TEST_F(ServerTest, Http10RequestIsAnsweredAndClosed) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip("GET /echo/old HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(json::parse(reply->body)["id"], "old");
  EXPECT_TRUE(conn.wait_closed(2s));
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInRequestOrder) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  // One send: the first answer takes longest, the second is immediate, the third in between.
  std::string three = make_request("GET", "/later/30/a") + make_request("GET", "/later/0/b") +
                      make_request("GET", "/later/10/c");
  ASSERT_TRUE(conn.send_all(three));
  for (auto tag : {"a", "b", "c"}) {
    auto reply = conn.read_reply(5s);
    ASSERT_TRUE(reply) << "no answer for " << tag;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(json::parse(reply->body)["tag"], tag);
  }
  // And the connection is still usable.
  auto after = conn.get("/echo/next");
  ASSERT_TRUE(after);
  EXPECT_EQ(json::parse(after->body)["id"], "next");
}

TEST_F(ServerTest, PipelinedMixOfImmediateAndLateAnswersKeepsOrder) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  std::string batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 8; ++i) {
    auto tag = "t" + std::to_string(i);
    batch += i % 2 == 0 ? make_request("GET", "/later/" + std::to_string(20 - 2 * i) + "/" + tag)
                        : make_request("GET", "/echo/" + tag);
    expected.push_back(tag);
  }
  ASSERT_TRUE(conn.send_all(batch));
  for (int i = 0; i < 8; ++i) {
    auto reply = conn.read_reply(5s);
    ASSERT_TRUE(reply) << "answer " << i;
    auto body = json::parse(reply->body);
    EXPECT_EQ(i % 2 == 0 ? body["tag"] : body["id"], expected[static_cast<std::size_t>(i)]);
  }
}

TEST_F(ServerTest, HeadersOverTheLimitAnswer431) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto big = "X-Filler: " + std::string(settings_.max_header_bytes + 100, 'h') + "\r\n";
  auto reply = conn.round_trip(make_request("GET", "/echo/1", big));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["code"], "header_too_large");
  EXPECT_EQ(body["status"], 431);
  EXPECT_TRUE(conn.wait_closed(2s));
  // The server carries on.
  auto ok = test::http_get(port(), "/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, HeadersJustUnderTheLimitAreAccepted) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto filler = "X-Filler: " + std::string(settings_.max_header_bytes / 2, 'h') + "\r\n";
  auto reply = conn.round_trip(make_request("GET", "/echo/1", filler));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, BodyOverTheLimitAnswers413) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  // Only the header is sent: the declared length alone is refused.
  auto head = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Content-Length: " +
              std::to_string(settings_.max_body_bytes + 1) + "\r\n\r\n";
  auto reply = conn.round_trip(head);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  EXPECT_EQ(json::parse(reply->body)["code"], "body_too_large");
  EXPECT_TRUE(conn.wait_closed(2s));
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitAnswers413) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  // A chunk larger than the limit is refused on its size line.
  auto head = std::string{"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"} +
              "800\r\n" + std::string(100, 'c');
  auto reply = conn.round_trip(head);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(json::parse(reply->body)["code"], "body_too_large");
}

TEST_F(ServerTest, BodyWithinTheLimitReachesTheHandler) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip(
      make_request("POST", "/echo", {}, std::string(settings_.max_body_bytes, 'b')));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(json::parse(reply->body)["size"], settings_.max_body_bytes);
}

TEST_F(ServerTest, GarbageRequestLineAnswers400) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.round_trip("NOT A REQUEST AT ALL\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  EXPECT_EQ(json::parse(reply->body)["code"], "bad_request");
  EXPECT_TRUE(conn.wait_closed(2s));
  auto ok = test::http_get(port(), "/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, SlowClientIsCutOffAfterTheReadTimeout) {
  settings_.read_timeout = 300ms;
  settings_.idle_timeout = 10s;
  start();
  http_connection slow{port()};
  ASSERT_TRUE(slow.connected());
  auto began = clock_type::now();
  ASSERT_TRUE(slow.send_all("GET /echo/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "));
  EXPECT_TRUE(slow.wait_closed(5s));
  auto took = clock_type::now() - began;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 4s);
  EXPECT_EQ(slow.pending(), ""); // cut off without an answer
  // Others are still served.
  auto ok = test::http_get(port(), "/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  settings_.idle_timeout = 300ms;
  settings_.read_timeout = 10s;
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.get("/echo/1");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  auto began = clock_type::now();
  EXPECT_TRUE(conn.wait_closed(5s));
  auto took = clock_type::now() - began;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 4s);
}

TEST_F(ServerTest, IdleTimeoutCountsFromTheLastRequest) {
  settings_.idle_timeout = 400ms;
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  // Five requests 100 ms apart: longer in total than the idle limit, never idle that long.
  for (int i = 0; i < 5; ++i) {
    auto reply = conn.get("/echo/" + std::to_string(i));
    ASSERT_TRUE(reply) << "request " << i;
    EXPECT_EQ(reply->status, 200);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
}

TEST_F(ServerTest, ConnectionWithoutARequestIsClosedAfterTheIdleTimeout) {
  settings_.idle_timeout = 300ms;
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  EXPECT_TRUE(conn.wait_closed(5s));
  EXPECT_EQ(conn.pending(), "");
}

TEST_F(ServerTest, ConnectionsOverMaxConnectionsAreClosedAtOnce) {
  settings_.max_connections = 2;
  start();
  http_connection first{port()};
  http_connection second{port()};
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(second.connected());
  // A request on each makes sure both were accepted before the third arrives.
  ASSERT_TRUE(first.get("/echo/1"));
  ASSERT_TRUE(second.get("/echo/2"));
  http_connection third{port()};
  ASSERT_TRUE(third.connected()); // the kernel completes the handshake; the server then closes
  EXPECT_TRUE(third.wait_closed(2s));
  EXPECT_EQ(third.pending(), "");
  // The first two still work.
  auto one = first.get("/echo/a");
  auto two = second.get("/echo/b");
  ASSERT_TRUE(one);
  ASSERT_TRUE(two);
  EXPECT_EQ(json::parse(one->body)["id"], "a");
  EXPECT_EQ(json::parse(two->body)["id"], "b");
  auto stats = server_->stats();
  EXPECT_EQ(stats.connections_refused, 1U);
  EXPECT_EQ(stats.connections_accepted, 2U);
  EXPECT_EQ(stats.connections_open, 2U);
}

TEST_F(ServerTest, FreedConnectionSlotIsUsableAgain) {
  settings_.max_connections = 1;
  start();
  {
    http_connection only{port()};
    ASSERT_TRUE(only.connected());
    ASSERT_TRUE(only.get("/echo/1"));
  }
  // The slot frees once the server sees the close: retry for a bounded time.
  std::optional<test::http_reply> reply;
  for (int i = 0; i < 100 && !reply; ++i) {
    reply = test::http_get(port(), "/healthz", 1s);
    if (!reply)
      std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, ThousandsOfIdleConnectionsDoNotKeepOthersFromBeingServed) {
  start();
  constexpr std::size_t idle = 2'000;
  std::vector<std::unique_ptr<http_connection>> quiet;
  for (std::size_t i = 0; i < idle; ++i) {
    quiet.push_back(std::make_unique<http_connection>(port()));
    ASSERT_TRUE(quiet.back()->connected())
        << "connection " << i << ": errno " << quiet.back()->error();
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server_->stats().connections_open < idle && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(server_->stats().connections_open, idle);
  // A client that does send requests is served at once, several times over.
  for (int i = 0; i < 20; ++i) {
    auto reply = test::http_get(port(), "/echo/" + std::to_string(i), 2s);
    ASSERT_TRUE(reply) << "request " << i;
    EXPECT_EQ(reply->status, 200);
  }
  quiet.clear();
  deadline = std::chrono::steady_clock::now() + 10s;
  while (server_->stats().connections_open > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->stats().connections_open, 0U) << "closed connections are let go";
}

TEST_F(ServerTest, AHalfClosedClientStillGetsItsAnswers) {
  start();
  // At once, and from another thread after the client has already half-closed.
  for (auto target : {"/echo/half", "/later/200/half"}) {
    http_connection conn{port()};
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send_all(test::make_request("GET", target)));
    conn.shutdown_write();
    auto reply = conn.read_reply(5s);
    ASSERT_TRUE(reply) << target;
    EXPECT_EQ(reply->status, 200) << target;
    EXPECT_NE(reply->body.find("half"), std::string::npos) << reply->body;
    EXPECT_TRUE(conn.wait_closed(5s)) << "the server closes once the client said it is done";
  }
  auto health = test::http_get(port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerTest, HandlerThatThrowsAnswers500AndTheServerCarriesOn) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.get("/throw");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  auto body = json::parse(reply->body);
  EXPECT_EQ(body["code"], "internal_error");
  EXPECT_EQ(body["detail"], "the server failed to answer"); // no exception text leaks out
  // The same connection and new ones still work.
  auto again = conn.get("/echo/after");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  auto other = test::http_get(port(), "/healthz");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST_F(ServerTest, HandlerThatAnswersTwiceSendsOnlyOneResponse) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  auto reply = conn.get("/twice");
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->body)["answer"], "first");
  // The next response on the connection belongs to the next request, not a second answer.
  auto next = conn.get("/echo/next");
  ASSERT_TRUE(next);
  EXPECT_EQ(json::parse(next->body)["id"], "next");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(conn.wait_closed(100ms));
  EXPECT_EQ(conn.pending(), "");
  EXPECT_EQ(server_->stats().requests_in_flight, 0U);
}

TEST_F(ServerTest, StopAnswersTheRequestInFlightWhenItCompletesWithinTheDrainTime) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.send_all(make_request("GET", "/later/300/drained")));
  ASSERT_TRUE(wait_in_flight(1));
  auto began = clock_type::now();
  auto left = server_->stop(5s);
  auto took = clock_type::now() - began;
  EXPECT_EQ(left, 0U);
  EXPECT_LT(took, 4s); // it did not wait for the whole drain time
  auto reply = conn.read_reply(2s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(json::parse(reply->body)["tag"], "drained");
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(conn.wait_closed(2s));
}

TEST_F(ServerTest, NewConnectionsAreRefusedOnceStopBegins) {
  start();
  http_connection idle{port()};
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.get("/echo/1"));
  http_connection busy{port()};
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.send_all(make_request("GET", "/gate")));
  ASSERT_TRUE(wait_in_flight(1));
  auto stopping = std::async(std::launch::async, [this] { return server_->stop(5s); });
  // The drain closes the idle connection: stop has begun.
  ASSERT_TRUE(idle.wait_closed(3s));
  // From now on no new connection gets an answer; soon connecting fails outright.
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    http_connection late{port(), 1s};
    if (!late.connected()) {
      EXPECT_EQ(late.error(), ECONNREFUSED);
      refused = true;
      break;
    }
    late.send_all(make_request("GET", "/healthz"));
    EXPECT_FALSE(late.read_reply(1s)) << "a connection made after stop began was served";
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused);
  // The request in flight is still answered once it completes.
  gate_.open();
  auto reply = busy.read_reply(3s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(json::parse(reply->body)["gate"], "open");
  ASSERT_EQ(stopping.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(stopping.get(), 0U);
}

TEST_F(ServerTest, StopClosesIdleKeepAliveConnections) {
  start();
  http_connection idle{port()};
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.get("/echo/1"));
  auto began = clock_type::now();
  EXPECT_EQ(server_->stop(5s), 0U);
  EXPECT_LT(clock_type::now() - began, 2s);
  EXPECT_TRUE(idle.wait_closed(2s));
}

TEST_F(ServerTest, StopCountsRequestsStillInFlightWhenTheDrainTimeRunsOut) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.send_all(make_request("GET", "/gate")));
  ASSERT_TRUE(wait_in_flight(1));
  auto began = clock_type::now();
  EXPECT_EQ(server_->stop(200ms), 1U);
  auto took = clock_type::now() - began;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(conn.wait_closed(2s)); // closed without an answer
  EXPECT_EQ(conn.pending(), "");
  EXPECT_EQ(server_->stop(1s), 0U); // idempotent
  gate_.open();                     // the late answer goes nowhere and harms nothing
  join_helpers();
}

TEST_F(ServerTest, AnswerAfterTheServerIsGoneIsDropped) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.send_all(make_request("GET", "/gate")));
  ASSERT_TRUE(wait_in_flight(1));
  server_->stop(50ms);
  server_.reset();
  gate_.open(); // the handler answers after the server's destruction
  join_helpers();
  EXPECT_TRUE(conn.wait_closed(2s));
  EXPECT_EQ(conn.pending(), "");
  // LeakSanitizer checks at exit that the connection and the server's state were released.
}

TEST_F(ServerTest, BusyPortIsAnErrorNamingTheAddress) {
  test::busy_port taken;
  ASSERT_NE(taken.port(), 0);
  settings_.listen = {"127.0.0.1", taken.port()};
  server s{settings_, routes_};
  auto err = s.start();
  EXPECT_NE(err.find("http.listen"), std::string::npos) << err;
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(taken.port())), std::string::npos) << err;
}

TEST_F(ServerTest, StopWithoutStartReturnsZero) {
  server s{settings_, routes_};
  EXPECT_EQ(s.stop(1s), 0U);
}

} // namespace
} // namespace souk::http
