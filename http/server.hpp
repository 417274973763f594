#pragma once

#include "config/settings.hpp"
#include "http/router.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace souk::http {

/// Counters of the edge, for /metrics and tests.
struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0; ///< closed at once: over `max_connections`
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;
  std::uint64_t requests_in_flight = 0;
};

/// The embedded HTTP/1.1 edge: Beast on its own Asio threads (never CAF's). Keep-alive,
/// pipelined requests answered in order, header and body limits, a time limit on reading each
/// request, an idle limit between requests, a cap on connections, and a drain on shutdown.
/// Every request goes to the `router`; handlers may answer from any thread.
class server {
public:
  server(const config::http_settings& settings, const router& routes);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /// Stops (see `stop`).
  ~server();

  /// Binds and listens on `settings.listen`, then starts the threads. A busy or forbidden
  /// address is an error text naming it; empty on success.
  std::string start();

  /// The bound port (useful when the settings asked for port 0).
  std::uint16_t port() const;

  /// Stops accepting, lets requests in flight finish for at most `timeout`, closes every
  /// connection and joins the threads. Returns the number of requests that were still in
  /// flight when the time ran out. Idempotent.
  std::size_t stop(std::chrono::milliseconds timeout);

  server_stats stats() const;

  class impl;

private:
  std::shared_ptr<impl> impl_;
};

/// The trace id of a W3C `traceparent` value, or a new random one when absent or malformed.
std::string trace_id_from(std::string_view traceparent);

} // namespace souk::http
