#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace souk::http {

namespace bhttp = boost::beast::http;

/// A whole request as the edge reads it (body already limited by `http.max_body_bytes`).
using request = bhttp::request<bhttp::string_body>;
/// A whole response.
using response = bhttp::response<bhttp::string_body>;

/// Why an event stream ended: the argument of its on-closed callbacks.
enum class stream_end {
  closed,          ///< the handler called `close()`
  client_gone,     ///< the client closed the connection, or writing to it failed
  too_slow,        ///< the client fell behind (`http.sse_max_queued_bytes` queued, or one write
                   ///< took longer than `http.read_timeout_ms`)
  server_stopping, ///< the server's drain (`server::stop`) or destruction
};

/// The sending side of a streamed answer (Server-Sent Events), obtained from
/// `request_context::open_stream`. Every member is thread-safe: a handler keeps the handle
/// (e.g. in a subscriber list) and pushes from any thread, such as a CAF worker.
class event_stream {
public:
  virtual ~event_stream() = default;

  /// Queues `chunk` to be written as is, after the chunks queued before it (format events with
  /// `format_sse_event`). Never blocks. Returns false, and drops `chunk`, once the stream has
  /// ended or is closing; also when queuing it would put more than `http.sse_max_queued_bytes`
  /// unwritten, which ends the stream with `stream_end::too_slow`.
  virtual bool send(std::string chunk) = 0;

  /// Ends the stream once the chunks already queued are written; the connection closes.
  /// Idempotent; later `send`s return false.
  virtual void close() = 0;

  /// False once the stream ended or `close` was called.
  virtual bool is_open() const = 0;

  /// Registers `fn` to run once when the stream ends, whatever the reason: on an edge thread,
  /// never inside this handle's `send` or `close`, so `fn` may take the locks the sender holds
  /// (e.g. to unsubscribe). When the stream has already ended, `fn` runs at once, on the
  /// calling thread. `fn` must be quick and must not throw.
  virtual void on_closed(std::function<void(stream_end)> fn) = 0;
};

/// Answers the request with an event stream instead of a response: status 200,
/// `Content-Type: text/event-stream`, `Cache-Control: no-store`, no Content-Length and
/// `Connection: close` — the body lasts as long as the stream and the connection is not reused
/// (requests pipelined behind it are dropped). Call it instead of the responder, at most once,
/// from any thread; returns null when the request was already answered. The stream does not
/// count against the idle timeout, does count as a connection, and is closed at once by the
/// server's drain. A comment line `: ping` is sent every `http.sse_heartbeat_ms`.
using stream_opener = std::function<std::shared_ptr<event_stream>()>;

/// What a handler knows about the request besides the message itself.
struct request_context {
  const request& req;
  std::map<std::string, std::string> params; ///< `{name}` segments of the route template
  std::string trace_id;                      ///< 32 hex digits (from `traceparent` or new)
  std::string route;                         ///< the matched route template, e.g. /v1/orders/{id}
  /// Set by the server (copy it to open the stream later); empty where a handler runs
  /// outside one (unit tests calling handlers, the fuzzer).
  stream_opener open_stream{};
  /// Deepest nesting of a JSON body the handler accepts (`http.json_max_depth`).
  std::size_t json_max_depth = 32;
};

/// Delivers a handler's response. Call exactly once, from any thread; the edge posts it back to
/// the connection, so a handler may answer later from a CAF worker.
using responder = std::function<void(response)>;

/// A route handler. It may answer at once or keep `respond` and answer later. It must not
/// keep references to `ctx` past its return (copy what it needs).
using handler = std::function<void(const request_context& ctx, responder respond)>;

} // namespace souk::http
