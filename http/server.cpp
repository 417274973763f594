#include "http/server.hpp"

#include "base/log.hpp"
#include "base/thread.hpp"
#include "http/problem.hpp"
#include "http/sse.hpp"
#include "http/stream_queue.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace souk::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes * 2, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i % 16 == 0)
      bits = rng(); // 16 hex digits per draw
    out[i] = digits[bits & 0xf];
    bits >>= 4;
  }
  return out;
}

} // namespace

response read_error_problem(const boost::system::error_code& ec,
                            const config::http_settings& settings, const std::string& trace_id) {
  if (ec == bhttp::error::header_limit)
    return make_problem(
        431, "header_too_large",
        "request headers exceed " + std::to_string(settings.max_header_bytes) + " bytes", trace_id);
  if (ec == bhttp::error::body_limit)
    return make_problem(
        413, "body_too_large",
        "request body exceeds " + std::to_string(settings.max_body_bytes) + " bytes", trace_id);
  return make_problem(400, "bad_request", "malformed HTTP request: " + ec.message(), trace_id);
}

response unmatched_problem(const router::match_result& match, const request& req,
                           std::string_view path, const std::string& trace_id) {
  if (match.allow.empty())
    return make_problem(404, "not_found", "no route for " + std::string{path}, trace_id);
  auto res = make_problem(
      405, "method_not_allowed",
      std::string{req.method_string()} + " is not allowed on " + std::string{path}, trace_id);
  res.set(bhttp::field::allow, match.allow);
  return res;
}

std::string trace_id_from(std::string_view tp) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2); an all-zero trace id is invalid.
  if (tp.size() >= 55 && tp[2] == '-' && tp[35] == '-' && tp[52] == '-') {
    auto id = tp.substr(3, 32);
    if (is_hex(tp.substr(0, 2)) && tp.substr(0, 2) != "ff" && is_hex(id) &&
        id != std::string(32, '0'))
      return std::string{id};
  }
  return random_hex(16);
}

/// What the server knows of a connection, whatever its stream type.
class connection {
public:
  virtual ~connection() = default;
  /// Called at drain: close now if waiting for a request or streaming, otherwise after the
  /// response in flight.
  virtual void drain() = 0;
  /// Called after the drain time: close whatever it does.
  virtual void kill() = 0;

  std::list<std::weak_ptr<connection>>::iterator registration;
};

/// The connection whose handler runs on this thread now, if any: a handler that answers before
/// it returns (the common case) is answered at once, without a hop through the loop.
thread_local const void* handler_running = nullptr;

// -- the server's shared state --------------------------------------------------------------------

class server::impl : public std::enable_shared_from_this<server::impl> {
public:
  impl(const config::http_settings& settings, const router& routes)
      : settings_(settings), routes_(routes), loops_(make_loops(settings.threads)),
        acceptor_(loops_.front()->get_executor()) {}

  std::string start();
  std::string load_tls();
  std::size_t stop(std::chrono::milliseconds timeout);
  void do_accept();
  void forget(connection* c);
  /// Posts `fn` to `ex` unless the loop will never run again; false then.
  template <class Executor, class Fn>
  bool post_unless_done(const Executor& ex, Fn&& fn);

  static std::vector<std::unique_ptr<net::io_context>> make_loops(int threads) {
    std::vector<std::unique_ptr<net::io_context>> loops;
    for (int i = 0; i < std::max(threads, 1); ++i)
      loops.push_back(std::make_unique<net::io_context>(1));
    return loops;
  }

  const config::http_settings settings_;
  const router& routes_;
  // One event loop per thread, each run by its thread alone: a connection lives on one loop
  // for its whole life, so its handlers never overlap and need no strand, and no loop's
  // threads wake each other. Connections are dealt to the loops in turn.
  std::vector<std::unique_ptr<net::io_context>> loops_;
  // Keep the threads running while every connection waits for its handler: once the drain has
  // closed the acceptor nothing else may be pending, and `run` would return with answers still
  // to come.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  // On the first loop, so the accept handler and the close posted by `stop` never overlap.
  net::basic_socket_acceptor<tcp, net::io_context::executor_type> acceptor_;
  std::size_t next_loop_ = 0; ///< the loop the next connection goes to (accept handler only)
  // Set when the settings name a certificate: every connection is then TLS.
  std::optional<ssl::context> tls_;
  std::vector<std::thread> threads_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> streams_{0};
  std::atomic<std::uint64_t> tls_refused_{0};
  std::mutex sessions_mtx_;
  std::list<std::weak_ptr<connection>> sessions_;
  std::uint16_t port_ = 0;
  // Set by ~server once the loop will never run again: a handler answering later drops its
  // answer instead of posting it into the dead loop (which would keep a cycle loop → handler →
  // session → server alive forever).
  std::mutex loop_mtx_;
  bool loop_done_ = false;
};

template <class Executor, class Fn>
bool server::impl::post_unless_done(const Executor& ex, Fn&& fn) {
  std::lock_guard<std::mutex> guard{loop_mtx_};
  if (loop_done_)
    return false;
  net::post(ex, std::forward<Fn>(fn));
  return true;
}

// -- one connection -------------------------------------------------------------------------------

// The loop's own executor type rather than the type-erased `any_io_executor`: every operation
// of a connection would otherwise copy and call through the erased executor.
using loop_executor = net::io_context::executor_type;
using loop_socket = net::basic_stream_socket<tcp, loop_executor>;
using plain_stream = beast::basic_stream<tcp, loop_executor>;
using tls_stream = beast::ssl_stream<plain_stream>;

/// One connection, Beast's session shape: read → dispatch → write → read. One request is in
/// flight per connection at a time, so pipelined requests are answered in order: the next one
/// waits, already buffered, until the previous response is written. `Stream` is `plain_stream`
/// or `tls_stream`: everything but the TLS handshake is the same code.
///
/// A handler may instead open an event stream: the session writes the head, then whatever the
/// handler queues, plus heartbeats, while a read waits for the client to go; the connection
/// ends with the stream.
template <class Stream>
class session : public connection,
                public stream_link,
                public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

public:
  template <class... Extra>
  session(std::shared_ptr<server::impl> srv, loop_socket socket, Extra&... extra)
      : srv_(std::move(srv)), stream_(std::move(socket), extra...) {}

  void run() {
    net::dispatch(lowest().get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void drain() override {
    net::post(lowest().get_executor(), [self = this->shared_from_this()] {
      if (self->sse_)
        self->end_stream(stream_end::server_stopping);
      else if (self->idle_)
        self->close();
    });
  }

  void kill() override {
    net::post(lowest().get_executor(), [self = this->shared_from_this()] {
      if (self->sse_)
        self->end_stream(stream_end::server_stopping);
      self->close();
    });
  }

  void wake() override {
    srv_->post_unless_done(lowest().get_executor(),
                           [self = this->shared_from_this()] { self->pump_stream(); });
  }

  void abort(stream_end why) override {
    srv_->post_unless_done(lowest().get_executor(),
                           [self = this->shared_from_this(), why] { self->end_stream(why); });
  }

  ~session() override {
    if (sse_ && !sse_ended_) { // the loop died first: no loop is left to end it on
      --srv_->streams_;
      sse_->end(stream_end::server_stopping);
    }
    srv_->forget(this);
  }

private:
  plain_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void begin() {
    if constexpr (is_tls) {
      // Like a keep-alive wait, but the whole handshake must fit in the read limit.
      idle_ = true;
      lowest().expires_after(srv_->settings_.read_timeout);
      beast::async_detect_ssl(lowest(), buffer_,
                              [self = this->shared_from_this()](beast::error_code ec, bool tls) {
                                if (ec || self->closed_)
                                  return self->close();
                                if (!tls)
                                  return self->refuse_plain_http();
                                self->handshake();
                              });
    } else {
      wait_for_request();
    }
  }

  void handshake() {
    stream_.async_handshake(
        ssl::stream_base::server, buffer_.data(),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t used) {
          if (ec) {
            ++self->srv_->tls_refused_;
            return self->close();
          }
          self->buffer_.consume(used);
          // Anything the handshake left is TLS records, not a request.
          self->buffer_.consume(self->buffer_.size());
          self->wait_for_request();
        });
  }

  /// A plain HTTP request on the TLS port: say so in plain text, then close.
  void refuse_plain_http() {
    ++srv_->tls_refused_;
    idle_ = false;
    auto res =
        make_problem(400, "tls_required",
                     "this port speaks HTTPS only: connect with TLS (https://)", trace_id_from(""));
    res.keep_alive(false);
    res.set(bhttp::field::server, "souk");
    res_.emplace(std::move(res));
    lowest().expires_after(srv_->settings_.read_timeout);
    bhttp::async_write(lowest(), *res_,
                       [self = this->shared_from_this()](beast::error_code, std::size_t) {
                         self->res_.reset();
                         self->close();
                       });
  }

  void wait_for_request() {
    if (srv_->draining_)
      return close();
    idle_ = true;
    if (buffer_.size() > 0)
      return read_request(); // a pipelined request is already here
    // The idle limit covers the wait for a request's first byte; the read limit then covers
    // the whole request, so a slow client cannot hold a connection by dribbling bytes.
    lowest().expires_after(srv_->settings_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec)
                                return self->close();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    idle_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_->settings_.max_header_bytes));
    parser_->body_limit(srv_->settings_.max_body_bytes);
    lowest().expires_after(srv_->settings_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == ssl::error::stream_truncated)
      return close();
    if (ec)
      return reply_and_close(read_error_problem(ec, srv_->settings_, trace_id_from("")));
    // Beast 1.74 applies header_limit to what each parse step sees, so a header block of many
    // small fields that arrives in several reads can pass it: count the whole block here.
    auto& head = parser_->get();
    std::size_t header_bytes = head.method_string().size() + head.target().size() + 13;
    for (auto& field : head)
      header_bytes += field.name_string().size() + field.value().size() + 4;
    if (header_bytes > srv_->settings_.max_header_bytes)
      return reply_and_close(
          read_error_problem(bhttp::error::header_limit, srv_->settings_, trace_id_from("")));
    dispatch(parser_->release());
  }

  void dispatch(request req) {
    lowest().expires_never(); // the handler's own deadline bounds the wait, not the socket
    ++srv_->requests_;
    ++srv_->in_flight_;
    req_ = std::move(req);
    head_ = req_.method() == bhttp::verb::head;
    auto target = req_.target();
    auto path = target.substr(0, target.find('?'));
    auto match = srv_->routes_.match(req_.method(), path);
    request_context ctx{req_, std::move(match.params), trace_id_from(req_["traceparent"]),
                        match.target != nullptr ? match.route : std::string{"unmatched"}};
    ctx.json_max_depth = srv_->settings_.json_max_depth;
    started_ = std::chrono::steady_clock::now();
    route_ = ctx.route;
    trace_ = ctx.trace_id;
    if (match.target == nullptr)
      return respond(unmatched_problem(match, req_, path, ctx.trace_id));
    // The responder (or the stream opener) may run on any thread, once; it hops back onto this
    // connection's loop, unless it runs inside the handler, on the loop already.
    auto self = this->shared_from_this();
    auto once = std::make_shared<std::atomic<bool>>(false);
    responder respond_fn = [self, once](response res) {
      if (once->exchange(true))
        return;
      if (handler_running == self.get())
        return self->respond(std::move(res));
      self->srv_->post_unless_done(
          self->lowest().get_executor(),
          [self, res = std::move(res)]() mutable { self->respond(std::move(res)); });
    };
    ctx.open_stream = [self, once, respond_fn]() -> std::shared_ptr<event_stream> {
      if (self->head_) {
        // HEAD of a stream: its head without events; the handler sees no stream to feed.
        response res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_type, "text/event-stream");
        res.set(bhttp::field::cache_control, "no-store");
        respond_fn(std::move(res));
        return nullptr;
      }
      if (once->exchange(true))
        return nullptr;
      auto queue = std::make_shared<stream_queue>(self->srv_->settings_.sse_max_queued_bytes);
      queue->attach(std::weak_ptr<stream_link>{self});
      if (handler_running == self.get())
        self->begin_stream(queue);
      else if (!self->srv_->post_unless_done(self->lowest().get_executor(),
                                             [self, queue] { self->begin_stream(queue); }))
        queue->end(stream_end::server_stopping);
      return queue;
    };
    struct running_guard {
      explicit running_guard(const void* s) { handler_running = s; }
      ~running_guard() { handler_running = nullptr; }
      running_guard(const running_guard&) = delete;
      running_guard& operator=(const running_guard&) = delete;
    };
    try {
      running_guard running{this};
      (*match.target)(ctx, respond_fn);
    } catch (const std::exception& e) {
      base::log_error("handler threw",
                      {{"route", ctx.route}, {"error", e.what()}, {"trace_id", ctx.trace_id}});
      respond_fn(make_problem(500, "internal_error", "the server failed to answer", ctx.trace_id));
    }
  }

  void log_access(unsigned status) const {
    if (!base::log_enabled(base::log_level::info)) // the fields cost allocations: skip them
      return;
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                  .count();
    base::log_info("request", {{"method", std::string{req_.method_string()}},
                               {"route", route_},
                               {"status", status},
                               {"duration_ms", ms},
                               {"trace_id", trace_}});
  }

  /// The headers every answer carries.
  template <class Message>
  void stamp(Message& res) const {
    res.version(req_.version());
    res.set(bhttp::field::server, "souk");
    res.set("traceparent", "00-" + trace_ + "-" + trace_id_from("").substr(0, 16) + "-01");
  }

  void respond(response res) {
    --srv_->in_flight_;
    if (closed_)
      return; // killed at the end of the drain: nobody is left to read the answer
    log_access(res.result_int());
    stamp(res);
    res.keep_alive(req_.keep_alive() && !srv_->draining_);
    if (head_) {
      // The length the GET's body would have, and no body.
      auto length = res.body().size();
      res.body().clear();
      if (length > 0 || res.has_content_length())
        res.set(bhttp::field::content_length, std::to_string(length));
    }
    write(std::move(res));
  }

  void reply_and_close(response res) {
    res.keep_alive(false);
    res.set(bhttp::field::server, "souk");
    write(std::move(res));
  }

  void write(response res) {
    res_.emplace(std::move(res));
    lowest().expires_after(srv_->settings_.read_timeout);
    bhttp::async_write(stream_, *res_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         auto keep = self->res_->keep_alive();
                         self->res_.reset();
                         if (ec || !keep)
                           return self->close();
                         self->wait_for_request();
                       });
  }

  // -- the event stream (all on the loop) ---------------------------------------------------

  void begin_stream(std::shared_ptr<stream_queue> queue) {
    --srv_->in_flight_; // answered: the drain does not wait for a stream
    ++srv_->streams_;
    sse_ = std::move(queue);
    if (closed_ || srv_->draining_)
      return end_stream(stream_end::server_stopping);
    log_access(200);
    sse_head_.emplace(bhttp::status::ok, req_.version());
    stamp(*sse_head_);
    sse_head_->set(bhttp::field::content_type, "text/event-stream");
    sse_head_->set(bhttp::field::cache_control, "no-store");
    sse_head_->set("X-Accel-Buffering", "no"); // a proxy must pass events on at once
    sse_head_->keep_alive(false); // the body ends with the connection: no length, no chunks
    lowest().expires_after(srv_->settings_.read_timeout);
    bhttp::async_write(
        stream_, *sse_head_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          self->sse_head_.reset();
          if (ec)
            return self->end_stream(ec == beast::error::timeout ? stream_end::too_slow
                                                                : stream_end::client_gone);
          if (self->sse_ended_)
            return;
          self->sse_started_ = true;
          self->lowest().expires_never();
          self->watch_client();
          self->heartbeat();
          self->pump_stream();
        });
  }

  /// Reads (and drops) whatever the client sends, to notice when it goes.
  void watch_client() {
    buffer_.consume(buffer_.size()); // requests pipelined behind the stream are not served
    stream_.async_read_some(buffer_.prepare(512),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (self->sse_ended_)
                                return;
                              if (ec) {
                                // With a write pending, its outcome tells why (a timed-out write
                                // closes the socket and fails this read too).
                                self->peer_gone_ = true;
                                if (!self->sse_writing_)
                                  self->end_stream(stream_end::client_gone);
                                return;
                              }
                              self->buffer_.commit(n);
                              self->watch_client();
                            });
  }

  void heartbeat() {
    if (!heartbeat_)
      heartbeat_.emplace(lowest().get_executor());
    heartbeat_->expires_after(srv_->settings_.sse_heartbeat);
    heartbeat_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->sse_ended_)
        return;
      static const std::string ping = format_sse_comment("ping");
      self->sse_->send(ping);
      self->heartbeat();
    });
  }

  void pump_stream() {
    if (!sse_ || !sse_started_ || sse_writing_ || sse_ended_)
      return;
    bool closing = sse_->take(sse_batch_);
    if (sse_batch_.empty()) {
      if (closing)
        end_stream(stream_end::closed);
      return;
    }
    std::vector<net::const_buffer> buffers;
    std::size_t bytes = 0;
    buffers.reserve(sse_batch_.size());
    for (auto& chunk : sse_batch_) {
      buffers.emplace_back(chunk.data(), chunk.size());
      bytes += chunk.size();
    }
    sse_writing_ = true;
    // A read is pending: this limit applies to the write alone.
    lowest().expires_after(srv_->settings_.read_timeout);
    net::async_write(stream_, buffers,
                     [self = this->shared_from_this(), bytes](beast::error_code ec, std::size_t) {
                       self->sse_writing_ = false;
                       self->sse_batch_.clear();
                       self->sse_->written(bytes);
                       if (ec)
                         return self->end_stream(ec == beast::error::timeout
                                                     ? stream_end::too_slow
                                                     : stream_end::client_gone);
                       if (self->peer_gone_)
                         return self->end_stream(stream_end::client_gone);
                       self->pump_stream();
                     });
  }

  void end_stream(stream_end why) {
    if (sse_ended_)
      return;
    sse_ended_ = true;
    --srv_->streams_;
    if (heartbeat_)
      heartbeat_->cancel();
    close();
    sse_->end(why);
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
  }

  // First, so destroyed last: the stream's timer and socket belong to the server's io_context,
  // which may go with the last reference to the server (a handler answering after ~server).
  std::shared_ptr<server::impl> srv_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<response> res_;
  request req_;
  std::string route_;
  std::string trace_;
  std::chrono::steady_clock::time_point started_;
  bool idle_ = false;
  bool closed_ = false;
  bool head_ = false; ///< the request in hand is a HEAD: answers go without their body
  // The event stream, once the handler opened one.
  std::shared_ptr<stream_queue> sse_;
  std::optional<bhttp::response<bhttp::empty_body>> sse_head_;
  std::optional<net::basic_waitable_timer<
      std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, loop_executor>>
      heartbeat_;
  std::vector<std::string> sse_batch_; ///< being written
  bool sse_started_ = false;           ///< the head is written
  bool sse_writing_ = false;
  bool sse_ended_ = false;
  bool peer_gone_ = false;
};

// -- server::impl
// -----------------------------------------------------------------------------------

namespace {

/// Why `path` cannot be read, or empty: the check before OpenSSL, whose errors name no file.
std::string unreadable(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::strerror(errno);
  char probe;
  in.read(&probe, 1);
  if (in.bad())
    return "read error";
  return {};
}

} // namespace

std::string server::impl::load_tls() {
  auto& cert = settings_.tls_cert_file;
  auto& key = settings_.tls_key_file;
  if (cert.empty() && key.empty())
    return {};
  if (cert.empty() || key.empty())
    return "http.tls_cert_file and http.tls_key_file go together: set both for HTTPS or "
           "neither for plain HTTP";
  auto named = [](const char* setting, const std::string& path) {
    return std::string{setting} + " \"" + path + "\"";
  };
  if (auto why = unreadable(cert); !why.empty())
    return named("http.tls_cert_file", cert) + ": cannot read the file: " + why;
  if (auto why = unreadable(key); !why.empty())
    return named("http.tls_key_file", key) + ": cannot read the file: " + why;
  tls_.emplace(ssl::context::tls_server);
  auto& ctx = *tls_;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  ctx.use_certificate_chain_file(cert, ec);
  if (ec) {
    tls_.reset();
    return named("http.tls_cert_file", cert) + ": not a PEM certificate (chain): " + ec.message();
  }
  ctx.use_private_key_file(key, ssl::context::pem, ec);
  // OpenSSL compares the key with the certificate as it loads it.
  bool mismatch =
      ec && ec.category() == net::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (!ec && SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    mismatch = true;
  if (mismatch) {
    tls_.reset();
    return named("http.tls_key_file", key) + ": the key does not match the certificate in " +
           named("http.tls_cert_file", cert);
  }
  if (ec) {
    tls_.reset();
    return named("http.tls_key_file", key) + ": not a PEM private key: " + ec.message();
  }
  return {};
}

std::string server::impl::start() {
  if (auto err = load_tls(); !err.empty())
    return err;
  beast::error_code ec;
  auto address = net::ip::make_address(settings_.listen.host, ec);
  if (ec) {
    // A host name: resolve it once (localhost and friends).
    tcp::resolver resolver{*loops_.front()};
    auto results = resolver.resolve(settings_.listen.host, "", ec);
    if (ec || results.empty())
      return "http.listen " + settings_.listen.to_string() +
             ": cannot resolve host: " + ec.message();
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint ep{address, settings_.listen.port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(ep, ec);
  if (!ec)
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return "http.listen " + settings_.listen.to_string() + ": cannot listen: " + ec.message();
  port_ = acceptor_.local_endpoint().port();
  for (auto& loop : loops_)
    work_.emplace_back(loop->get_executor());
  do_accept();
  for (auto& loop : loops_)
    threads_.emplace_back([&loop = *loop] {
      base::name_this_thread("souk-http");
      loop.run();
    });
  return {};
}

void server::impl::do_accept() {
  auto& loop = *loops_[next_loop_++ % loops_.size()];
  acceptor_.async_accept(
      loop.get_executor(), [self = shared_from_this()](beast::error_code ec, loop_socket socket) {
        if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
          return;
        if (ec) {
          base::log_warn("accept failed", {{"error", ec.message()}});
          return self->do_accept();
        }
        std::shared_ptr<connection> c;
        std::function<void()> run;
        {
          std::lock_guard<std::mutex> guard{self->sessions_mtx_};
          if (self->sessions_.size() >= self->settings_.max_connections) {
            ++self->refused_;
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            ++self->accepted_;
            if (self->tls_) {
              auto s = std::make_shared<session<tls_stream>>(self, std::move(socket), *self->tls_);
              run = [s] { s->run(); };
              c = std::move(s);
            } else {
              auto s = std::make_shared<session<plain_stream>>(self, std::move(socket));
              run = [s] { s->run(); };
              c = std::move(s);
            }
            c->registration = self->sessions_.insert(self->sessions_.end(), c);
          }
        }
        if (run)
          run();
        self->do_accept();
      });
}

void server::impl::forget(connection* c) {
  std::lock_guard<std::mutex> guard{sessions_mtx_};
  sessions_.erase(c->registration);
}

std::size_t server::impl::stop(std::chrono::milliseconds timeout) {
  if (stopped_.exchange(true))
    return 0;
  draining_ = true;
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
  });
  auto for_each_session = [this](auto fn) {
    // Collect under the lock, act outside it: dropping the last reference to a session runs
    // its destructor, which takes the lock again.
    std::vector<std::shared_ptr<connection>> live;
    {
      std::lock_guard<std::mutex> guard{sessions_mtx_};
      for (auto& weak : sessions_)
        if (auto s = weak.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      fn(*s);
  };
  for_each_session([](connection& c) { c.drain(); });
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::size_t left = in_flight_;
  for_each_session([](connection& c) { c.kill(); });
  // Give the loops a moment to run the closes, then stop them.
  auto grace = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < grace) {
    {
      std::lock_guard<std::mutex> guard{sessions_mtx_};
      if (sessions_.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  work_.clear();
  for (auto& loop : loops_)
    loop->stop();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
  return left;
}

// -- server ---------------------------------------------------------------------------------------

server::server(const config::http_settings& settings, const router& routes)
    : impl_(std::make_shared<impl>(settings, routes)) {}

server::~server() {
  stop(std::chrono::milliseconds{0});
  {
    std::lock_guard<std::mutex> guard{impl_->loop_mtx_};
    impl_->loop_done_ = true;
  }
  // A handler that answered after the stop posted its response into the stopped loop; run
  // such leftovers once so their sessions (which own a reference to `impl_`) are released.
  for (auto& loop : impl_->loops_) {
    loop->restart();
    loop->poll();
  }
}

std::string server::start() {
  return impl_->start();
}

std::uint16_t server::port() const {
  return impl_->port_;
}

std::size_t server::stop(std::chrono::milliseconds timeout) {
  if (impl_->threads_.empty()) { // never started: nothing runs
    impl_->stopped_ = true;
    return 0;
  }
  return impl_->stop(timeout);
}

server_stats server::stats() const {
  server_stats out;
  out.connections_accepted = impl_->accepted_;
  out.connections_refused = impl_->refused_;
  out.requests = impl_->requests_;
  out.requests_in_flight = impl_->in_flight_;
  out.streams_open = impl_->streams_;
  out.tls_refused = impl_->tls_refused_;
  std::lock_guard<std::mutex> guard{impl_->sessions_mtx_};
  out.connections_open = impl_->sessions_.size();
  return out;
}

} // namespace souk::http
