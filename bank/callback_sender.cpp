#include "bank/callback_sender.hpp"

#include "base/log.hpp"
#include "base/thread.hpp"
#include "http/signature.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

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

namespace souk::bank {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// `http://host[:port][/path]`: the parts, or nullopt for anything else.
struct url_parts {
  std::string host;
  std::string port;
  std::string target;
};

std::optional<url_parts> parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  url_parts out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
    out.port = "80";
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty())
    return std::nullopt;
  return out;
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

class callback_sender::impl {
public:
  impl(sender_options options, std::function<void(const event&)> delivered)
      : options_(std::move(options)), delivered_(std::move(delivered)),
        work_(asio::make_work_guard(ioc_)) {
    thread_ = std::thread{[this] {
      base::name_this_thread("bank-callbacks");
      ioc_.run();
    }};
  }

  /// One attempt at one copy of one event.
  struct attempt : std::enable_shared_from_this<attempt> {
    attempt(impl* owner, event e, int number)
        : owner_(owner), ev(std::move(e)), n(number), resolver(owner_->ioc_), stream(owner_->ioc_) {
    }

    void start() {
      auto url = parse_url(ev.callback_url);
      if (!url)
        return finish(false, "callback_url is not http://host[:port]/path");
      target = url->target;
      host = url->host + ":" + url->port;
      stream.expires_after(owner_->options_.timeout);
      resolver.async_resolve(
          url->host, url->port,
          [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
            if (ec)
              return self->finish(false, "resolve: " + ec.message());
            self->stream.async_connect(results, [self](beast::error_code ec2, tcp::endpoint) {
              if (ec2)
                return self->finish(false, "connect: " + ec2.message());
              self->write();
            });
          });
    }

    void write() {
      req = {bhttp::verb::post, target, 11};
      req.set(bhttp::field::host, host);
      req.set(bhttp::field::content_type, "application/json");
      req.set(bhttp::field::user_agent, "souk-bank");
      req.body() = ev.body();
      req.set(http::signature_header,
              http::sign_callback(owner_->options_.secret, unix_seconds(), req.body()));
      req.keep_alive(false);
      req.prepare_payload();
      bhttp::async_write(
          stream, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
              return self->finish(false, "write: " + ec.message());
            bhttp::async_read(
                self->stream, self->buffer, self->res, [self](beast::error_code ec2, std::size_t) {
                  if (ec2)
                    return self->finish(false, "read: " + ec2.message());
                  auto code = self->res.result_int();
                  self->finish(code >= 200 && code < 300, "answered " + std::to_string(code));
                });
          });
    }

    void finish(bool ok, const std::string& why) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      owner_->done(ev, n, ok, why);
    }

    impl* owner_;
    event ev;
    int n;
    tcp::resolver resolver;
    beast::tcp_stream stream;
    std::string target;
    std::string host;
    bhttp::request<bhttp::string_body> req;
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
  };

  void send(event e) {
    auto copies = options_.duplicate ? 2 : 1;
    for (int i = 0; i < copies; ++i)
      schedule(e, 1, options_.delay);
  }

  /// Attempt `n` of `e` after `wait`.
  void schedule(event e, int n, std::chrono::milliseconds wait) {
    if (stopped_)
      return;
    auto* self = this;
    if (wait.count() <= 0) {
      asio::post(ioc_, [self, e = std::move(e), n]() mutable {
        ++self->attempts_;
        std::make_shared<attempt>(self, std::move(e), n)->start();
      });
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(ioc_, wait);
    timer->async_wait([self, timer, e = std::move(e), n](beast::error_code ec) mutable {
      if (ec || self->stopped_)
        return;
      ++self->attempts_;
      std::make_shared<attempt>(self, std::move(e), n)->start();
    });
  }

  void done(const event& e, int n, bool ok, const std::string& why) {
    if (ok) {
      ++delivered_count_;
      if (delivered_)
        delivered_(e);
      return;
    }
    if (n >= options_.attempts) {
      ++given_up_;
      base::log_warn(
          "bank callback given up",
          {{"event_id", e.event_id}, {"url", e.callback_url}, {"attempts", n}, {"last", why}});
      return;
    }
    auto wait = options_.backoff;
    for (int i = 1; i < n && wait < options_.backoff_max; ++i)
      wait *= 2;
    schedule(e, n + 1, std::min(wait, options_.backoff_max));
  }

  void run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
    std::uint64_t id = 0;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopped_) {
        // Stopping: run it here, now.
      } else {
        id = ++next_timer_;
        pending_.emplace(id, std::move(fn));
      }
    }
    if (id == 0) {
      fn();
      return;
    }
    auto* self = this;
    auto timer = std::make_shared<asio::steady_timer>(ioc_, delay);
    timer->async_wait([self, timer, id](beast::error_code) { self->fire(id); });
  }

  void fire(std::uint64_t id) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto it = pending_.find(id);
      if (it == pending_.end())
        return;
      fn = std::move(it->second);
      pending_.erase(it);
    }
    fn();
  }

  void stop() {
    std::map<std::uint64_t, std::function<void()>> left;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopped_)
        return;
      stopped_ = true;
      left.swap(pending_);
    }
    for (auto& [id, fn] : left)
      fn();
    work_.reset();
    ioc_.stop();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
      thread_.join();
  }

  sender_stats stats() const {
    return {attempts_.load(), delivered_count_.load(), given_up_.load()};
  }

  // Handlers queued on ioc_ point to this impl; those left at stop are destroyed, not run, with
  // ioc_, which goes before the members above it.
  sender_options options_;
  std::function<void(const event&)> delivered_;
  std::mutex mtx_;
  std::map<std::uint64_t, std::function<void()>> pending_;
  std::uint64_t next_timer_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<std::uint64_t> delivered_count_{0};
  std::atomic<std::uint64_t> given_up_{0};
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

callback_sender::callback_sender(sender_options options,
                                 std::function<void(const event&)> delivered)
    : impl_(std::make_shared<impl>(std::move(options), std::move(delivered))) {}

callback_sender::~callback_sender() {
  stop();
}

void callback_sender::send(event e) {
  impl_->send(std::move(e));
}

void callback_sender::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->run_after(delay, std::move(fn));
}

void callback_sender::stop() {
  impl_->stop();
}

sender_stats callback_sender::stats() const {
  return impl_->stats();
}

} // namespace souk::bank
