#pragma once

#include <functional>
#include <map>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace souk::http {

namespace bhttp = boost::beast::http;

/// A whole request as the edge reads it (body already limited by `http.max_body_bytes`).
using request = bhttp::request<bhttp::string_body>;
/// A whole response.
using response = bhttp::response<bhttp::string_body>;

/// What a handler knows about the request besides the message itself.
struct request_context {
  const request& req;
  std::map<std::string, std::string> params; ///< `{name}` segments of the route template
  std::string trace_id;                      ///< 32 hex digits (from `traceparent` or new)
  std::string route;                         ///< the matched route template, e.g. /v1/orders/{id}
};

/// Delivers a handler's response. Call exactly once, from any thread; the edge posts it back to
/// the connection, so a handler may answer later from a CAF worker.
using responder = std::function<void(response)>;

/// A route handler. It may answer at once or keep `respond` and answer later. It must not
/// keep references to `ctx` past its return (copy what it needs).
using handler = std::function<void(const request_context& ctx, responder respond)>;

} // namespace souk::http
