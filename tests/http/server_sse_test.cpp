// Event streams (Server-Sent Events) over real sockets on 127.0.0.1: order, headers, the
// on-closed callback, the slow-consumer bound, heartbeats, the idle limit and the drain.
#include "http/problem.hpp"
#include "http/server.hpp"
#include "http/sse.hpp"
#include "tests/support/http_client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using test::http_connection;
using test::make_request;
using clock_type = std::chrono::steady_clock;

std::size_t count_of(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

/// Reads until `needle` was received `count` times (true), or the time ran out or the server
/// closed first (false).
bool read_until(http_connection& conn, std::string_view needle,
                std::chrono::milliseconds timeout = 3s, std::size_t count = 1) {
  auto deadline = clock_type::now() + timeout;
  while (count_of(conn.pending(), needle) < count) {
    if (clock_type::now() >= deadline || conn.peer_closed())
      return false;
    conn.wait_closed(20ms); // reads what arrives meanwhile
  }
  return true;
}

/// The stream a handler opened, handed to the test thread, and how it ended.
class stream_slot {
public:
  void put(std::shared_ptr<event_stream> s, std::optional<std::uint64_t> last) {
    std::lock_guard<std::mutex> guard{mtx_};
    stream_ = std::move(s);
    last_ = last;
    cv_.notify_all();
  }
  void ended(stream_end why) {
    std::lock_guard<std::mutex> guard{mtx_};
    end_ = why;
    ++ends_;
    cv_.notify_all();
  }
  std::shared_ptr<event_stream> wait_stream(std::chrono::milliseconds timeout = 3s) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, timeout, [this] { return stream_ != nullptr; });
    return stream_;
  }
  std::optional<stream_end> wait_end(std::chrono::milliseconds timeout = 3s) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, timeout, [this] { return end_.has_value(); });
    return end_;
  }
  int ends() {
    std::lock_guard<std::mutex> guard{mtx_};
    return ends_;
  }
  std::optional<std::uint64_t> last() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::shared_ptr<event_stream> stream_;
  std::optional<std::uint64_t> last_;
  std::optional<stream_end> end_;
  int ends_ = 0;
};

class ServerSseTest : public ::testing::Test {
protected:
  ServerSseTest() {
    settings_.listen = {"127.0.0.1", 0};
    settings_.threads = 2;
    settings_.read_timeout = 2s;
    settings_.idle_timeout = 10s;
    settings_.drain_timeout = 5s;
    settings_.sse_heartbeat = 60s;
    // Opens the stream inside the handler.
    routes_.add(bhttp::verb::get, "/events", [this](const request_context& ctx, responder) {
      auto s = ctx.open_stream();
      ASSERT_NE(s, nullptr);
      s->on_closed([this](stream_end why) { slot_.ended(why); });
      slot_.put(s, last_event_number(ctx.req));
    });
    // Opens the stream later, from another thread.
    routes_.add(bhttp::verb::get, "/events/later", [this](const request_context& ctx, responder) {
      std::lock_guard<std::mutex> guard{helpers_mtx_};
      helpers_.emplace_back([this, open = ctx.open_stream, last = last_event_number(ctx.req)] {
        std::this_thread::sleep_for(50ms);
        auto s = open();
        s->on_closed([this](stream_end why) { slot_.ended(why); });
        slot_.put(s, last);
      });
    });
    // Answers, then tries to open a stream: the opener refuses.
    routes_.add(bhttp::verb::get, "/answered", [this](const request_context& ctx, responder r) {
      r(make_json(200, {{"ok", true}}));
      opened_after_answer_ = ctx.open_stream() != nullptr ? 1 : 0;
    });
    routes_.add(bhttp::verb::get, "/plain", [](const request_context&, responder r) {
      r(make_json(200, {{"ok", true}}));
    });
  }

  ~ServerSseTest() override {
    server_.reset();
    std::vector<std::thread> helpers;
    {
      std::lock_guard<std::mutex> guard{helpers_mtx_};
      helpers.swap(helpers_);
    }
    for (auto& t : helpers)
      t.join();
  }

  void start() {
    server_ = std::make_unique<server>(settings_, routes_);
    ASSERT_EQ(server_->start(), "");
  }

  std::uint16_t port() const { return server_->port(); }

  /// Connects, asks for `target` and reads the head of the stream.
  std::unique_ptr<http_connection> subscribe(const std::string& target = "/events",
                                             const std::string& extra = {}) {
    auto conn = std::make_unique<http_connection>(port());
    EXPECT_TRUE(conn->connected());
    EXPECT_TRUE(conn->send_all(make_request("GET", target, extra)));
    EXPECT_TRUE(read_until(*conn, "\r\n\r\n"));
    return conn;
  }

  bool wait_for(std::function<bool()> pred, std::chrono::milliseconds timeout = 3s) {
    auto deadline = clock_type::now() + timeout;
    while (!pred()) {
      if (clock_type::now() >= deadline)
        return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  config::http_settings settings_;
  router routes_;
  stream_slot slot_;
  std::atomic<int> opened_after_answer_{-1}; ///< -1 until the handler tried
  std::mutex helpers_mtx_;
  std::vector<std::thread> helpers_;
  std::unique_ptr<server> server_;
};

TEST_F(ServerSseTest, StreamHeadHasEventStreamTypeNoStoreAndNoLength) {
  start();
  auto conn = subscribe();
  auto head = conn->pending().substr(0, conn->pending().find("\r\n\r\n") + 2);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-store\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
  ASSERT_TRUE(slot_.wait_stream());
  EXPECT_EQ(server_->stats().streams_open, 1U);
  EXPECT_EQ(server_->stats().requests_in_flight, 0U);
}

TEST_F(ServerSseTest, EventsFromAnotherThreadArriveInOrder) {
  start();
  auto conn = subscribe();
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  std::thread producer{[stream] {
    for (int i = 1; i <= 200; ++i)
      ASSERT_TRUE(stream->send(
          format_sse_event("{\"n\":" + std::to_string(i) + "}", "tick", std::to_string(i))));
  }};
  producer.join();
  ASSERT_TRUE(read_until(*conn, "id: 200\n"));
  auto body = conn->pending().substr(conn->pending().find("\r\n\r\n") + 4);
  std::size_t pos = 0;
  for (int i = 1; i <= 200; ++i) {
    auto event =
        "id: " + std::to_string(i) + "\nevent: tick\ndata: {\"n\":" + std::to_string(i) + "}\n\n";
    ASSERT_EQ(body.compare(pos, event.size(), event), 0) << "event " << i << " at " << pos;
    pos += event.size();
  }
  EXPECT_EQ(pos, body.size());
}

TEST_F(ServerSseTest, StreamOpenedLaterFromAnotherThreadGetsLastEventId) {
  start();
  auto conn = subscribe("/events/later", "Last-Event-ID: 41\r\n");
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  EXPECT_EQ(slot_.last(), 41U);
  ASSERT_TRUE(stream->send(format_sse_event("resumed", {}, "42")));
  EXPECT_TRUE(read_until(*conn, "id: 42\ndata: resumed\n\n"));
}

TEST_F(ServerSseTest, HandlerCloseWritesWhatIsQueuedThenClosesTheConnection) {
  start();
  auto conn = subscribe();
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->send(format_sse_event("one")));
  ASSERT_TRUE(stream->send(format_sse_event("two")));
  stream->close();
  EXPECT_FALSE(stream->is_open());
  EXPECT_FALSE(stream->send(format_sse_event("three")));
  EXPECT_TRUE(conn->wait_closed(3s));
  EXPECT_NE(conn->pending().find("data: one\n\ndata: two\n\n"), std::string::npos);
  EXPECT_EQ(conn->pending().find("three"), std::string::npos);
  EXPECT_EQ(slot_.wait_end(), stream_end::closed);
  EXPECT_TRUE(wait_for([this] { return server_->stats().connections_open == 0; }));
}

TEST_F(ServerSseTest, ClientDisconnectFiresOnClosedAndSendFailsAfterwards) {
  start();
  auto conn = subscribe();
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->send(format_sse_event("hello")));
  ASSERT_TRUE(read_until(*conn, "data: hello"));
  conn.reset(); // the client goes away
  EXPECT_EQ(slot_.wait_end(), stream_end::client_gone);
  EXPECT_FALSE(stream->is_open());
  EXPECT_FALSE(stream->send(format_sse_event("nobody listens")));
  EXPECT_EQ(slot_.ends(), 1);
  EXPECT_TRUE(wait_for([this] {
    auto st = server_->stats();
    return st.streams_open == 0 && st.connections_open == 0;
  }));
}

TEST_F(ServerSseTest, ConsumerThatDoesNotReadIsCutOffAtTheQueueBound) {
  settings_.sse_max_queued_bytes = 64 * 1024;
  start();
  auto conn = subscribe(); // and never reads again
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  // The kernel's socket buffers take a few MiB; past them the queue fills and the stream ends.
  const std::string chunk = format_sse_event(std::string(16 * 1024, 'x'));
  std::size_t sent = 0;
  auto deadline = clock_type::now() + 10s;
  while (stream->send(chunk) && clock_type::now() < deadline && sent < (256U << 20))
    sent += chunk.size();
  EXPECT_LT(sent, 256U << 20) << "the queue grew without bound";
  EXPECT_EQ(slot_.wait_end(), stream_end::too_slow);
  EXPECT_FALSE(stream->is_open());
  EXPECT_TRUE(wait_for([this] { return server_->stats().streams_open == 0; }));
  // The server is still healthy.
  auto ok = test::http_get(port(), "/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerSseTest, HeartbeatCommentsArriveEveryInterval) {
  settings_.sse_heartbeat = 100ms;
  start();
  auto began = clock_type::now();
  auto conn = subscribe();
  ASSERT_TRUE(read_until(*conn, ": ping\n", 3s, 3));
  EXPECT_GE(clock_type::now() - began, 250ms);
}

TEST_F(ServerSseTest, StreamOutlivesTheIdleTimeout) {
  settings_.idle_timeout = 200ms;
  start();
  auto conn = subscribe();
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  EXPECT_FALSE(conn->wait_closed(700ms)); // three idle limits pass
  ASSERT_TRUE(stream->send(format_sse_event("still here")));
  EXPECT_TRUE(read_until(*conn, "data: still here"));
}

TEST_F(ServerSseTest, StreamCountsAsAConnection) {
  settings_.max_connections = 1;
  start();
  auto conn = subscribe();
  ASSERT_TRUE(slot_.wait_stream());
  http_connection second{port()};
  ASSERT_TRUE(second.connected());
  EXPECT_TRUE(second.wait_closed(2s));
  EXPECT_EQ(second.pending(), "");
  EXPECT_EQ(server_->stats().connections_refused, 1U);
}

TEST_F(ServerSseTest, StopEndsStreamsAtOnceInsteadOfWaitingOutTheDrain) {
  settings_.drain_timeout = 5s;
  start();
  auto conn = subscribe();
  ASSERT_TRUE(slot_.wait_stream());
  auto began = clock_type::now();
  EXPECT_EQ(server_->stop(settings_.drain_timeout), 0U);
  EXPECT_LT(clock_type::now() - began, 1s);
  EXPECT_EQ(slot_.wait_end(), stream_end::server_stopping);
  EXPECT_TRUE(conn->wait_closed(2s));
}

TEST_F(ServerSseTest, OpenerAfterTheResponseReturnsNull) {
  start();
  auto reply = test::http_get(port(), "/answered");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  ASSERT_TRUE(wait_for([this] { return opened_after_answer_ != -1; }));
  EXPECT_EQ(opened_after_answer_, 0);
}

TEST_F(ServerSseTest, PipelinedRequestBehindAStreamIsNotServed) {
  start();
  http_connection conn{port()};
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.send_all(make_request("GET", "/events") + make_request("GET", "/plain")));
  auto stream = slot_.wait_stream();
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->send(format_sse_event("only")));
  ASSERT_TRUE(read_until(conn, "data: only\n\n"));
  stream->close();
  EXPECT_TRUE(conn.wait_closed(2s));
  EXPECT_EQ(count_of(conn.pending(), "HTTP/1.1"), 1U);
}

} // namespace
} // namespace souk::http
