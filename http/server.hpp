#pragma once

#include "config/settings.hpp"
#include "http/router.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace souk::http {

/// Counters of the edge, for /metrics and tests.
struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0; ///< closed at once: over `max_connections`
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;
  std::uint64_t requests_in_flight = 0;
  std::uint64_t streams_open = 0; ///< event streams (SSE) being served; each is a connection too
  std::uint64_t tls_refused = 0;  ///< TLS port only: closed before a request (no or bad handshake)
};

/// The embedded HTTP/1.1 edge: Beast on its own Asio threads (never CAF's). Keep-alive,
/// pipelined requests answered in order, header and body limits, a time limit on reading each
/// request, an idle limit between requests, a cap on connections, and a drain on shutdown.
/// Every request goes to the `router`; handlers may answer from any thread, with one response
/// or with an event stream (`request_context::open_stream`).
///
/// With `tls_cert_file` and `tls_key_file` set, the port speaks only TLS (1.2 or later, over
/// OpenSSL) and the same session code serves it, with the same limits and timeouts; the
/// handshake must complete within `read_timeout`. A client that speaks plain HTTP to it gets a
/// plain-text 400 problem `tls_required` and is closed. Connections are closed without a TLS
/// close_notify.
class server {
public:
  server(const config::http_settings& settings, const router& routes);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /// Stops (see `stop`).
  ~server();

  /// Loads the TLS certificate and key when configured, binds and listens on
  /// `settings.listen`, then starts the threads. A busy or forbidden address, or a TLS file
  /// that is missing, unreadable, not PEM, or a key that does not match the certificate, is an
  /// error text naming the setting and the file; empty on success.
  std::string start();

  /// The bound port (useful when the settings asked for port 0).
  std::uint16_t port() const;

  /// Stops accepting, ends every event stream at once (`stream_end::server_stopping`), lets
  /// requests in flight finish for at most `timeout`, closes every connection and joins the
  /// threads. Returns the number of requests that were still in
  /// flight when the time ran out. Idempotent.
  std::size_t stop(std::chrono::milliseconds timeout);

  server_stats stats() const;

  class impl;

private:
  std::shared_ptr<impl> impl_;
};

/// The answer to a request the parser refused with `ec` (the connection closes after it):
/// 431 `header_too_large` beyond `settings.max_header_bytes`, 413 `body_too_large` beyond
/// `settings.max_body_bytes`, 400 `bad_request` otherwise. Shared with the fuzzer.
response read_error_problem(const boost::system::error_code& ec,
                            const config::http_settings& settings, const std::string& trace_id);

/// The answer when `routes.match` found no handler for `req` (whose path, without the query,
/// is `path`): 405 `method_not_allowed` with `Allow` when the path has other methods, 404
/// `not_found` otherwise. Shared with the fuzzer.
response unmatched_problem(const router::match_result& match, const request& req,
                           std::string_view path, const std::string& trace_id);

/// The trace id of a W3C `traceparent` value, or a new random one when absent or malformed.
std::string trace_id_from(std::string_view traceparent);

} // namespace souk::http
