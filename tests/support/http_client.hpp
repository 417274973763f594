#pragma once

// A tiny blocking HTTP/1.1 client over POSIX sockets, for tests only: it talks to 127.0.0.1,
// sends raw bytes (so tests can send broken, partial or pipelined requests) and reads responses
// framed by Content-Length. Every call is bounded by a timeout.

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace souk::test {

/// One parsed HTTP response.
struct http_reply {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string body;

  /// The value of header `name` (any case), empty when absent.
  std::string header(std::string name) const {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// A request as raw text: `method target HTTP/1.1`, Host, `extra` header lines (each ending in
/// CRLF), Content-Length when there is a body, and `Connection: close` unless `keep_alive`.
inline std::string make_request(std::string_view method, std::string_view target,
                                std::string_view extra = {}, std::string_view body = {},
                                bool keep_alive = true) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  out.append(extra);
  if (!body.empty())
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive)
    out += "Connection: close\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

/// One TCP connection to 127.0.0.1:`port`. Not thread-safe.
class http_connection {
public:
  using clock = std::chrono::steady_clock;

  /// Connects (blocking, bounded by `timeout`). Check `connected()`; `error()` holds errno.
  explicit http_connection(std::uint16_t port,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds{2000}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
      error_ = errno;
      return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (errno != EINPROGRESS) {
        error_ = errno;
        reset();
        return;
      }
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
        error_ = ETIMEDOUT;
        reset();
        return;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        error_ = err;
        reset();
        return;
      }
    }
  }

  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;
  http_connection(http_connection&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), error_(other.error_), peer_closed_(other.peer_closed_),
        buffer_(std::move(other.buffer_)) {}
  ~http_connection() { reset(); }

  bool connected() const { return fd_ >= 0; }
  /// errno of a failed connect or of the last failed send/receive.
  int error() const { return error_; }
  /// True once the server closed (EOF or reset) the connection.
  bool peer_closed() const { return peer_closed_; }

  /// Half-closes: no more bytes from this side (the server sees end of stream), while the
  /// connection can still read what the server sends.
  void shutdown_write() {
    if (fd_ >= 0)
      ::shutdown(fd_, SHUT_WR);
  }

  /// Writes all of `data` (one `send` when the kernel takes it whole). False on error.
  bool send_all(std::string_view data,
                std::chrono::milliseconds timeout = std::chrono::milliseconds{2000}) {
    auto deadline = clock::now() + timeout;
    while (!data.empty() && fd_ >= 0) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait_for(POLLOUT, deadline))
          return false;
        continue;
      }
      error_ = errno;
      return false;
    }
    return data.empty();
  }

  /// Reads one whole response (status line, headers, Content-Length body). nullopt when the
  /// connection closed first or the time ran out.
  std::optional<http_reply>
  read_reply(std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) {
    auto deadline = clock::now() + timeout;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline))
        return std::nullopt;
    http_reply reply;
    std::string_view head{buffer_.data(), head_end};
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    // HTTP/1.1 200 OK
    auto sp1 = status_line.find(' ');
    if (sp1 == std::string_view::npos)
      return std::nullopt;
    auto sp2 = status_line.find(' ', sp1 + 1);
    reply.status = std::atoi(std::string{status_line.substr(sp1 + 1, 3)}.c_str());
    if (sp2 != std::string_view::npos)
      reply.reason = std::string{status_line.substr(sp2 + 1)};
    auto rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!rest.empty()) {
      auto eol = rest.find("\r\n");
      auto line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
      auto colon = line.find(':');
      if (colon == std::string_view::npos)
        continue;
      std::string name{line.substr(0, colon)};
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      reply.headers[name] = std::string{value};
    }
    std::size_t length = 0;
    if (auto it = reply.headers.find("content-length"); it != reply.headers.end())
      length = static_cast<std::size_t>(std::stoull(it->second));
    auto body_start = head_end + 4;
    while (buffer_.size() < body_start + length)
      if (!fill(deadline))
        return std::nullopt;
    reply.body = buffer_.substr(body_start, length);
    buffer_.erase(0, body_start + length);
    return reply;
  }

  /// Sends `raw` and reads one response.
  std::optional<http_reply>
  round_trip(std::string_view raw,
             std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) {
    if (!send_all(raw))
      return std::nullopt;
    return read_reply(timeout);
  }

  /// `GET target` on this connection (keep-alive).
  std::optional<http_reply> get(std::string_view target,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds{
                                    5000}) {
    return round_trip(make_request("GET", target), timeout);
  }

  /// Waits until the server closes the connection; bytes read meanwhile are kept for
  /// `read_reply`. True when it closed within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!peer_closed_) {
      if (fd_ < 0)
        return true;
      if (!fill(deadline))
        return peer_closed_;
    }
    return true;
  }

  /// Bytes received and not yet consumed by `read_reply`.
  const std::string& pending() const { return buffer_; }
  /// Forgets them (e.g. the head of a HEAD answer, which `read_reply` cannot frame).
  void discard_pending() { buffer_.clear(); }

  /// Reads (into `pending`) until it holds `needle` after offset `from`. False when the time
  /// ran out or the connection closed first. For streams (SSE), which never end on their own.
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout,
                  std::size_t from = 0) {
    auto deadline = clock::now() + timeout;
    while (buffer_.find(needle, std::min(from, buffer_.size())) == std::string::npos)
      if (fd_ < 0 || !fill(deadline))
        return false;
    return true;
  }

private:
  void reset() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  bool wait_for(short events, clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd_, events, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(left.count()));
    } while (rc < 0 && errno == EINTR);
    return rc == 1;
  }

  /// Reads what is available before `deadline`. False on timeout, EOF or error.
  bool fill(clock::time_point deadline) {
    if (fd_ < 0 || peer_closed_)
      return false;
    for (;;) {
      char chunk[4096];
      auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) {
        peer_closed_ = true;
        return false;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_for(POLLIN, deadline))
          return false;
        continue;
      }
      if (errno == EINTR)
        continue;
      error_ = errno;
      peer_closed_ = true; // ECONNRESET and friends
      return false;
    }
  }

  int fd_ = -1;
  int error_ = 0;
  bool peer_closed_ = false;
  std::string buffer_;
};

/// `GET target` on a new connection; nullopt when it cannot connect or gets no answer.
inline std::optional<http_reply>
http_get(std::uint16_t port, std::string_view target,
         std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) {
  http_connection conn{port, timeout};
  if (!conn.connected())
    return std::nullopt;
  return conn.round_trip(make_request("GET", target, {}, {}, false), timeout);
}

/// A TCP socket bound to 127.0.0.1 and listening, never accepting: it makes a port busy.
class busy_port {
public:
  /// Binds `port` (0: any free port).
  explicit busy_port(std::uint16_t port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  busy_port(const busy_port&) = delete;
  busy_port& operator=(const busy_port&) = delete;
  ~busy_port() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  /// The bound port; 0 when binding failed.
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace souk::test
