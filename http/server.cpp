#include "http/server.hpp"

#include "base/log.hpp"
#include "http/problem.hpp"

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace souk::http {

namespace net = boost::asio;
namespace beast = boost::beast;
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

class session;

/// The session whose handler runs on this thread now, if any: a handler that answers before it
/// returns (the common case) is answered at once, without a hop through the loop.
thread_local const session* handler_running = nullptr;

// -- the server's shared state --------------------------------------------------------------------

class server::impl : public std::enable_shared_from_this<server::impl> {
public:
  impl(const config::http_settings& settings, const router& routes)
      : settings_(settings), routes_(routes), acceptor_(net::make_strand(ioc_)) {}

  std::string start();
  std::size_t stop(std::chrono::milliseconds timeout);
  void do_accept();
  void forget(session* s);
  /// Posts `fn` to `ex` unless the loop will never run again; false then.
  template <class Executor, class Fn>
  bool post_unless_done(const Executor& ex, Fn&& fn);

  const config::http_settings settings_;
  const router& routes_;
  net::io_context ioc_;
  // Keeps the threads running while every connection waits for its handler: once the drain has
  // closed the acceptor nothing else may be pending, and `run` would return with answers still
  // to come.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  // On its own strand, so the accept handler and the close posted by `stop` never overlap.
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::mutex sessions_mtx_;
  std::list<std::weak_ptr<session>> sessions_;
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

/// One connection, Beast's session shape: read → dispatch → write → read. One request is in
/// flight per connection at a time, so pipelined requests are answered in order: the next one
/// waits, already buffered, until the previous response is written.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<server::impl> srv)
      : srv_(std::move(srv)), stream_(std::move(socket)) {}

  std::list<std::weak_ptr<session>>::iterator registration;

  void run() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->wait_for_request(); });
  }

  /// Called by the server at drain: closes the connection now if it waits for a request,
  /// otherwise after the response in flight.
  void drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_)
        self->close();
    });
  }

  /// Called by the server after the drain time: closes the connection whatever it does.
  void kill() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  ~session() { srv_->forget(this); }

private:
  void wait_for_request() {
    if (srv_->draining_)
      return close();
    idle_ = true;
    if (buffer_.size() > 0)
      return read_request(); // a pipelined request is already here
    // The idle limit covers the wait for a request's first byte; the read limit then covers
    // the whole request, so a slow client cannot hold a connection by dribbling bytes.
    stream_.expires_after(srv_->settings_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
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
    stream_.expires_after(srv_->settings_.read_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted)
      return close();
    auto trace = trace_id_from("");
    if (ec == bhttp::error::header_limit)
      return reply_and_close(make_problem(
          431, "header_too_large",
          "request headers exceed " + std::to_string(srv_->settings_.max_header_bytes) + " bytes",
          trace));
    if (ec == bhttp::error::body_limit)
      return reply_and_close(make_problem(
          413, "body_too_large",
          "request body exceeds " + std::to_string(srv_->settings_.max_body_bytes) + " bytes",
          trace));
    if (ec)
      return reply_and_close(
          make_problem(400, "bad_request", "malformed HTTP request: " + ec.message(), trace));
    dispatch(parser_->release());
  }

  void dispatch(request req) {
    stream_.expires_never(); // the handler's own deadline bounds the wait, not the socket
    ++srv_->requests_;
    ++srv_->in_flight_;
    req_ = std::move(req);
    auto target = req_.target();
    auto path = target.substr(0, target.find('?'));
    auto match = srv_->routes_.match(req_.method(), path);
    request_context ctx{req_, std::move(match.params), trace_id_from(req_["traceparent"]),
                        match.target != nullptr ? match.route : std::string{"unmatched"}};
    started_ = std::chrono::steady_clock::now();
    route_ = ctx.route;
    trace_ = ctx.trace_id;
    if (match.target == nullptr) {
      if (match.allow.empty())
        return respond(
            make_problem(404, "not_found", "no route for " + std::string{path}, ctx.trace_id));
      auto res = make_problem(405, "method_not_allowed",
                              std::string{req_.method_string()} + " is not allowed on " +
                                  std::string{path},
                              ctx.trace_id);
      res.set(bhttp::field::allow, match.allow);
      return respond(std::move(res));
    }
    // The responder may run on any thread, once; it hops back onto this connection's strand,
    // unless it runs inside the handler, on the strand already.
    auto self = shared_from_this();
    auto once = std::make_shared<std::atomic<bool>>(false);
    responder respond_fn = [self, once](response res) {
      if (once->exchange(true))
        return;
      if (handler_running == self.get())
        return self->respond(std::move(res));
      self->srv_->post_unless_done(
          self->stream_.get_executor(),
          [self, res = std::move(res)]() mutable { self->respond(std::move(res)); });
    };
    struct running_guard {
      explicit running_guard(const session* s) { handler_running = s; }
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

  void respond(response res) {
    --srv_->in_flight_;
    if (closed_)
      return; // killed at the end of the drain: nobody is left to read the answer
    if (base::log_enabled(base::log_level::info)) { // the fields cost allocations: skip them
      auto ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
              .count();
      base::log_info("request", {{"method", std::string{req_.method_string()}},
                                 {"route", route_},
                                 {"status", res.result_int()},
                                 {"duration_ms", ms},
                                 {"trace_id", trace_}});
    }
    res.version(req_.version());
    res.keep_alive(req_.keep_alive() && !srv_->draining_);
    res.set(bhttp::field::server, "souk");
    res.set("traceparent", "00-" + trace_ + "-" + trace_id_from("").substr(0, 16) + "-01");
    write(std::move(res));
  }

  void reply_and_close(response res) {
    res.keep_alive(false);
    res.set(bhttp::field::server, "souk");
    write(std::move(res));
  }

  void write(response res) {
    res_.emplace(std::move(res));
    stream_.expires_after(srv_->settings_.read_timeout);
    bhttp::async_write(stream_, *res_,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         auto keep = self->res_->keep_alive();
                         self->res_.reset();
                         if (ec || !keep)
                           return self->close();
                         self->wait_for_request();
                       });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // First, so destroyed last: the stream's timer and socket belong to the server's io_context,
  // which may go with the last reference to the server (a handler answering after ~server).
  std::shared_ptr<server::impl> srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<response> res_;
  request req_;
  std::string route_;
  std::string trace_;
  std::chrono::steady_clock::time_point started_;
  bool idle_ = false;
  bool closed_ = false;
};

// -- server::impl
// -----------------------------------------------------------------------------------

std::string server::impl::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(settings_.listen.host, ec);
  if (ec) {
    // A host name: resolve it once (localhost and friends).
    tcp::resolver resolver{ioc_};
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
  work_.emplace(ioc_.get_executor());
  do_accept();
  for (int i = 0; i < settings_.threads; ++i)
    threads_.emplace_back([this] { ioc_.run(); });
  return {};
}

void server::impl::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                           if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
                             return;
                           if (!ec) {
                             std::shared_ptr<session> s;
                             {
                               std::lock_guard<std::mutex> guard{self->sessions_mtx_};
                               if (self->sessions_.size() >= self->settings_.max_connections) {
                                 ++self->refused_;
                                 beast::error_code ignored;
                                 socket.close(ignored);
                               } else {
                                 ++self->accepted_;
                                 s = std::make_shared<session>(std::move(socket), self);
                                 s->registration = self->sessions_.insert(self->sessions_.end(), s);
                               }
                             }
                             if (s)
                               s->run();
                           } else {
                             base::log_warn("accept failed", {{"error", ec.message()}});
                           }
                           self->do_accept();
                         });
}

void server::impl::forget(session* s) {
  std::lock_guard<std::mutex> guard{sessions_mtx_};
  sessions_.erase(s->registration);
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
    std::vector<std::shared_ptr<session>> live;
    {
      std::lock_guard<std::mutex> guard{sessions_mtx_};
      for (auto& weak : sessions_)
        if (auto s = weak.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      fn(*s);
  };
  for_each_session([](session& s) { s.drain(); });
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::size_t left = in_flight_;
  for_each_session([](session& s) { s.kill(); });
  // Give the strands a moment to run the closes, then stop the loop.
  auto grace = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < grace) {
    {
      std::lock_guard<std::mutex> guard{sessions_mtx_};
      if (sessions_.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  work_.reset();
  ioc_.stop();
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
  impl_->ioc_.restart();
  impl_->ioc_.poll();
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
  std::lock_guard<std::mutex> guard{impl_->sessions_mtx_};
  out.connections_open = impl_->sessions_.size();
  return out;
}

} // namespace souk::http
