#include "actors/payment/bank_http_client.hpp"

#include "actors/api/errors.hpp"
#include "actors/api/payment_api.hpp"
#include "base/thread.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

/// Asio thread → actor: `(http_done_atom, call id, HTTP status or 0, body or error text)`.
using http_done_atom = caf::atom_constant<caf::atom("bhttpdone")>;

/// What one HTTP call came back with: `status` 0 when it failed or timed out.
struct http_result {
  int status = 0;
  std::string body;
};

/// `http://host[:port]`: host and port, or nullopt.
std::optional<std::pair<std::string, std::string>> host_port(const std::string& base) {
  const std::string scheme = "http://";
  if (base.compare(0, scheme.size(), scheme) != 0)
    return std::nullopt;
  auto authority = base.substr(scheme.size());
  authority = authority.substr(0, authority.find('/'));
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.find(']') != std::string::npos)
    return std::make_pair(authority, std::string{"80"});
  if (colon == 0 || colon + 1 == authority.size())
    return std::nullopt;
  return std::make_pair(authority.substr(0, colon), authority.substr(colon + 1));
}

/// A keep-alive HTTP/1.1 client on its own Asio thread, with at most `max_connections`
/// connections open to one host. A call takes an idle connection, else opens one while under
/// the cap, else waits for one to come free (until its deadline). Without the cap, every call
/// beyond the connections kept idle opened a connection of its own and closed it afterwards:
/// at 64 checkouts in flight, one bank call in five paid for a resolve, a connect and an
/// accept, and left a socket in TIME_WAIT. `call` may be used from any thread; `done` runs on
/// the client's thread.
class http_pool {
public:
  explicit http_pool(std::size_t max_connections)
      : max_connections_(std::max<std::size_t>(1, max_connections)),
        work_(asio::make_work_guard(ioc_)) {
    thread_ = std::thread{[this] {
      base::name_this_thread("souk-bank-client");
      ioc_.run();
    }};
  }
  http_pool(const http_pool&) = delete;
  http_pool& operator=(const http_pool&) = delete;
  ~http_pool() {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable())
      thread_.join();
    hosts_.clear(); // their sockets and timers belong to ioc_: close them while it still exists
  }

  void call(std::string host, std::string port, bhttp::verb method, std::string target,
            std::string body, std::string key, std::chrono::milliseconds timeout,
            std::function<void(http_result)> done) {
    auto op = std::make_shared<call_op>(*this);
    op->key = host + ":" + port;
    op->host = std::move(host);
    op->port = std::move(port);
    op->timeout = timeout;
    op->deadline = std::chrono::steady_clock::now() + timeout;
    op->req = {method, target, 11};
    op->req.set(bhttp::field::host, op->key);
    op->req.set(bhttp::field::user_agent, "souk-payment");
    if (!key.empty())
      op->req.set("Idempotency-Key", key);
    if (method != bhttp::verb::get) {
      op->req.set(bhttp::field::content_type, "application/json");
      op->req.body() = std::move(body);
    }
    op->req.keep_alive(true);
    op->req.prepare_payload();
    op->done = std::move(done);
    asio::post(ioc_, [op] { op->start(); });
  }

private:
  struct call_op;

  static constexpr const char* no_connection =
      "no connection to the bank came free within the deadline";

  /// The connections to one host (Asio thread only).
  struct host_conns {
    std::vector<std::unique_ptr<beast::tcp_stream>> idle;
    std::size_t open = 0; ///< connections open or being opened, idle ones included
    std::deque<std::shared_ptr<call_op>> waiting;
  };

  /// Hands a freed connection slot (or an idle connection) to the call waiting longest.
  void wake(host_conns& h) {
    while (!h.waiting.empty()) {
      auto next = std::move(h.waiting.front());
      h.waiting.pop_front();
      if (!next->queued)
        continue; // its deadline ended the wait
      next->queued = false;
      next->wait_timer.reset(); // cancels the wait's deadline
      // A call with less than a tenth of its time left would most likely time out on the
      // connection, and a timeout closes it (or the new one it opened): give up now instead.
      if (next->deadline - std::chrono::steady_clock::now() < next->timeout / 10) {
        next->done({0, no_connection});
        continue;
      }
      next->start();
      return;
    }
  }

  struct call_op : std::enable_shared_from_this<call_op> {
    explicit call_op(http_pool& p) : pool(p) {}

    void start() {
      auto& h = pool.hosts_[key];
      if (!h.idle.empty()) {
        stream = std::move(h.idle.back());
        h.idle.pop_back();
        reused = true;
        return send();
      }
      if (h.open < pool.max_connections_) {
        ++h.open;
        return connect();
      }
      // Every connection is busy: wait for one, at most until the deadline.
      queued = true;
      h.waiting.push_back(shared_from_this());
      wait_timer = std::make_unique<asio::steady_timer>(pool.ioc_, deadline);
      wait_timer->async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || !self->queued)
          return;
        self->queued = false; // wake() skips it
        self->done({0, no_connection});
      });
    }

    /// Opens a connection in the slot this call holds. A numeric host is connected to at
    /// once; a name is resolved first (Asio resolves on a thread of its own).
    void connect() {
      reused = false;
      stream = std::make_unique<beast::tcp_stream>(pool.ioc_);
      stream->expires_at(deadline);
      beast::error_code ec;
      auto address = asio::ip::make_address(host, ec);
      unsigned long number = 0;
      auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), number);
      if (!ec && err == std::errc{} && end == port.data() + port.size() && number <= 65535) {
        tcp::endpoint ep{address, static_cast<unsigned short>(number)};
        stream->async_connect(ep, [self = shared_from_this()](beast::error_code ec2) {
          if (ec2)
            return self->fail("connect: " + ec2.message());
          self->send();
        });
        return;
      }
      resolver = std::make_unique<tcp::resolver>(pool.ioc_);
      resolver->async_resolve(
          host, port,
          [self = shared_from_this()](beast::error_code ec2, tcp::resolver::results_type results) {
            if (ec2)
              return self->fail("resolve: " + ec2.message());
            self->stream->async_connect(results, [self](beast::error_code ec3, tcp::endpoint) {
              if (ec3)
                return self->fail("connect: " + ec3.message());
              self->send();
            });
          });
    }

    void send() {
      stream->expires_at(deadline);
      bhttp::async_write(*stream, req,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           if (ec)
                             return self->fail("write: " + ec.message());
                           self->res = {};
                           self->buffer.clear();
                           bhttp::async_read(*self->stream, self->buffer, self->res,
                                             [self](beast::error_code ec2, std::size_t) {
                                               if (ec2)
                                                 return self->fail("read: " + ec2.message());
                                               self->succeed();
                                             });
                         });
    }

    void succeed() {
      auto& h = pool.hosts_[key];
      if (res.keep_alive()) {
        stream->expires_never();
        h.idle.push_back(std::move(stream));
      } else {
        stream.reset();
        --h.open;
      }
      done({static_cast<int>(res.result_int()), std::move(res.body())});
      pool.wake(h);
    }

    void fail(const std::string& why) {
      stream.reset();
      // A kept-alive connection the bank closed meanwhile fails at once: try a fresh one in
      // the same slot, in the time left (safe to repeat: every call carries its idempotency
      // key).
      if (reused && std::chrono::steady_clock::now() < deadline)
        return connect();
      auto& h = pool.hosts_[key];
      --h.open;
      done({0, why});
      pool.wake(h);
    }

    http_pool& pool;
    std::unique_ptr<tcp::resolver> resolver;
    std::unique_ptr<beast::tcp_stream> stream;
    std::unique_ptr<asio::steady_timer> wait_timer;
    std::string key; ///< host:port
    std::string host;
    std::string port;
    std::chrono::milliseconds timeout{0};
    std::chrono::steady_clock::time_point deadline;
    bhttp::request<bhttp::string_body> req;
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    std::function<void(http_result)> done;
    bool reused = false;
    bool queued = false; ///< waiting for a connection
  };

  std::size_t max_connections_;
  std::map<std::string, host_conns> hosts_; // Asio thread
  // Last members: destroyed first, so handlers left in the loop go before what they use.
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

/// How a call's HTTP result becomes the provider answer.
enum class reply_kind { payment, decide, lookup_then_refund };

struct pending_call {
  caf::response_promise rp;
  reply_kind kind = reply_kind::payment;
  payment_cmd cmd; ///< for lookup_then_refund
};

struct client_state {
  bank_http_options options;
  std::unique_ptr<http_pool> pool;
  std::map<std::uint64_t, pending_call> pending;
  std::uint64_t next_id = 1;
};

using self_t = caf::stateful_actor<client_state>;

payment_answer answer_of_view(const json& j) {
  payment_answer a;
  a.payment_id = j.value("payment_id", "");
  a.status = j.value("status", "");
  if (j.contains("redirect_url") && j["redirect_url"].is_string())
    a.redirect_url = j["redirect_url"].get<std::string>();
  a.captured = j.value("captured", std::int64_t{0});
  a.refunded = j.value("refunded", std::int64_t{0});
  return a;
}

/// A definite answer of the bank (2xx, or a 4xx problem with a code), else nullopt: the
/// outcome is unknown.
std::optional<payment_answer> definite(const http_result& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  if (r.status >= 200 && r.status < 300)
    return answer_of_view(j);
  if (r.status < 400 || r.status >= 500 || !j.contains("code") || !j["code"].is_string())
    return std::nullopt;
  payment_answer a;
  if (j.contains("payment") && j["payment"].is_object())
    a = answer_of_view(j["payment"]);
  a.code = j["code"].get<std::string>();
  if (a.code == "refused")
    a.status = "declined";
  else if (a.status.empty())
    a.status = "none";
  return a;
}

caf::error unknown_outcome(const http_result& r) {
  auto what = r.status == 0 ? r.body : "the bank answered " + std::to_string(r.status);
  return caf::make_error(errc::timeout, "bank call: " + what);
}

/// Starts one HTTP call; its result comes back to this actor as an `http_done_atom` message.
void start_call(self_t* self, pending_call call, bhttp::verb method, const std::string& path,
                json body, const std::string& key) {
  auto& st = self->state;
  auto id = st.next_id++;
  auto base = st.options.base_url ? st.options.base_url() : std::string{};
  auto hp = host_port(base);
  st.pending.emplace(id, std::move(call));
  if (!hp) {
    self->send(self, http_done_atom::value, id, 0,
               std::string{"the bank's URL is not known yet or not http://host:port: "} + base);
    return;
  }
  caf::actor_addr addr = self->address();
  st.pool->call(hp->first, hp->second, method, path,
                method == bhttp::verb::get ? std::string{} : body.dump(), key,
                st.options.call_timeout, [addr, id](http_result r) {
                  if (auto hdl = caf::actor_cast<caf::actor>(addr))
                    caf::anon_send(hdl, http_done_atom::value, id, r.status, std::move(r.body));
                });
}

caf::response_promise call_payment(self_t* self, bhttp::verb method, const std::string& path,
                                   json body, const std::string& key,
                                   reply_kind kind = reply_kind::payment, payment_cmd cmd = {}) {
  auto rp = self->make_response_promise();
  start_call(self, {rp, kind, std::move(cmd)}, method, path, std::move(body), key);
  return rp;
}

caf::behavior bank_http_client(self_t* self, bank_http_options options) {
  self->state.options = std::move(options);
  self->state.pool = std::make_unique<http_pool>(self->state.options.max_connections);
  return {
      [self](bank_create_atom, const payment_cmd& c) {
        auto& o = self->state.options;
        json body = {{"order_id", c.order_id},
                     {"amount", c.amount},
                     {"currency", c.currency},
                     {"callback_url", o.callback_url ? o.callback_url() : std::string{}},
                     {"idempotency_key", c.idempotency_key}};
        return call_payment(self, bhttp::verb::post, "/bank/v1/payments", std::move(body),
                            c.idempotency_key);
      },
      [self](bank_cancel_atom, const payment_cmd& c) {
        // Without the bank's id (the create's answer was lost), cancel by order: the bank then
        // refuses a create that comes later.
        auto path = c.payment_id.empty() ? "/bank/v1/orders/" + c.order_id + "/cancel"
                                         : "/bank/v1/payments/" + c.payment_id + "/cancel";
        return call_payment(self, bhttp::verb::post, path, {{"idempotency_key", c.idempotency_key}},
                            c.idempotency_key);
      },
      [self](bank_refund_atom, const payment_cmd& c) {
        if (c.payment_id.empty())
          return call_payment(self, bhttp::verb::get, "/bank/v1/orders/" + c.order_id + "/payment",
                              {}, {}, reply_kind::lookup_then_refund, c);
        return call_payment(
            self, bhttp::verb::post, "/bank/v1/payments/" + c.payment_id + "/refund",
            {{"amount", c.amount}, {"idempotency_key", c.idempotency_key}}, c.idempotency_key);
      },
      [self](bank_decide_atom, const std::string& payment_id, bool approve) {
        return call_payment(self, bhttp::verb::post, "/bank/3ds/" + payment_id,
                            {{"approve", approve}}, {}, reply_kind::decide);
      },
      [self](http_done_atom, std::uint64_t id, int status, std::string& body) {
        auto& st = self->state;
        auto it = st.pending.find(id);
        if (it == st.pending.end())
          return;
        auto call = std::move(it->second);
        st.pending.erase(it);
        http_result r{status, std::move(body)};
        if (call.kind == reply_kind::decide) {
          call.rp.deliver(status == 200);
          return;
        }
        auto a = definite(r);
        if (!a) {
          call.rp.deliver(unknown_outcome(r));
          return;
        }
        if (call.kind == reply_kind::lookup_then_refund && a->code.empty()) {
          auto& c = call.cmd;
          start_call(self, {call.rp, reply_kind::payment, {}}, bhttp::verb::post,
                     "/bank/v1/payments/" + a->payment_id + "/refund",
                     {{"amount", c.amount}, {"idempotency_key", c.idempotency_key}},
                     c.idempotency_key);
          return;
        }
        call.rp.deliver(std::move(*a));
      },
  };
}

} // namespace

caf::actor spawn_bank_http_client(caf::actor_system& sys, bank_http_options options) {
  return sys.spawn(bank_http_client, std::move(options));
}

} // namespace souk::actors
