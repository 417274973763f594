#include "http/json_body.hpp"

#include "http/problem.hpp"

#include <unordered_set>
#include <vector>

namespace souk::http {

std::optional<nlohmann::json> parse_json(std::string_view text, std::string& why) {
  using nlohmann::json;
  // One set of member names per object still open; a key always belongs to the innermost one
  // (an array inside an object is closed before the object's next key).
  std::vector<std::unordered_set<std::string>> open;
  std::string repeated;
  auto check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
      open.emplace_back();
      break;
    case json::parse_event_t::object_end:
      if (!open.empty())
        open.pop_back();
      break;
    case json::parse_event_t::key:
      if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second &&
          repeated.empty())
        repeated = parsed.get<std::string>();
      break;
    default:
      break;
    }
    return true;
  };
  auto body = json::parse(text.begin(), text.end(), check, false);
  if (body.is_discarded()) {
    why = "the body is not valid JSON";
    return std::nullopt;
  }
  if (!repeated.empty()) {
    // dump() escapes the name as JSON would, so control characters cannot reach the answer raw.
    why = "the body names the member " +
          json(repeated).dump(-1, ' ', false, json::error_handler_t::replace) +
          " twice in one object";
    return std::nullopt;
  }
  return body;
}

std::optional<nlohmann::json> object_body(const request_context& ctx, responder& respond,
                                          bool empty_ok) {
  if (empty_ok && ctx.req.body().find_first_not_of(" \t\r\n") == std::string::npos)
    return nlohmann::json::object();
  std::string why;
  auto body = parse_json(ctx.req.body(), why);
  if (!body) {
    respond(make_problem(400, "malformed_json", why, ctx.trace_id));
    return std::nullopt;
  }
  if (!body->is_object()) {
    // "" is the JSON pointer of the whole document ("/" would name a member called "").
    respond(invalid("", "the body must be a JSON object", ctx.trace_id));
    return std::nullopt;
  }
  return body;
}

} // namespace souk::http
