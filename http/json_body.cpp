#include "http/json_body.hpp"

#include "http/problem.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace souk::http {
namespace {

/// A SAX pass that stops at the first member named twice in one object, or at nesting deeper
/// than its limit. Only the names are kept (one set per object still open; a key always belongs to
/// the innermost, since an array inside an object is closed before the object's next key).
/// nlohmann's parser callback could do the same while building the document, but in 3.11 it rescans
/// the enclosing container at every object's end, which makes a body of many small objects
/// quadratic.
class repeat_finder {
public:
  using json = nlohmann::json;

  explicit repeat_finder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) {
    open_.emplace_back();
    return enter();
  }
  bool key(json::string_t& name) {
    if (open_.empty() || open_.back().insert(name).second)
      return true;
    repeated_ = name;
    return false; // stops the pass
  }
  bool end_object() {
    if (!open_.empty())
      open_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) { return enter(); }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

  /// The name found twice, if the pass stopped at one.
  const std::optional<std::string>& repeated() const { return repeated_; }
  /// True when the pass stopped at nesting deeper than the limit.
  bool too_deep() const { return too_deep_; }

private:
  bool enter() {
    if (++depth_ <= max_depth_)
      return true;
    too_deep_ = true;
    return false; // stops the pass
  }

  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::vector<std::unordered_set<std::string>> open_;
  std::optional<std::string> repeated_;
};

} // namespace

std::optional<nlohmann::json> parse_json(std::string_view text, std::string& why,
                                         std::size_t max_depth) {
  using nlohmann::json;
  // JSON text has no raw NUL (inside strings it is escaped); nlohmann would stop reading at
  // one and accept `{"a":1}` followed by a NUL and anything at all.
  if (text.find('\0') != std::string_view::npos) {
    why = "the body is not valid JSON (it holds a NUL byte)";
    return std::nullopt;
  }
  repeat_finder finder{max_depth};
  auto well_formed = json::sax_parse(text.begin(), text.end(), &finder);
  if (finder.too_deep()) {
    why = "the body nests objects and arrays deeper than " + std::to_string(max_depth) + " levels";
    return std::nullopt;
  }
  if (finder.repeated()) {
    // dump() escapes the name as JSON would, so control characters cannot reach the answer raw.
    why = "the body names the member " +
          json(*finder.repeated()).dump(-1, ' ', false, json::error_handler_t::replace) +
          " twice in one object";
    return std::nullopt;
  }
  auto body = well_formed ? json::parse(text.begin(), text.end(), nullptr, false) : json{};
  if (!well_formed || body.is_discarded()) {
    why = "the body is not valid JSON";
    return std::nullopt;
  }
  return body;
}

std::optional<nlohmann::json> object_body(const request_context& ctx, responder& respond,
                                          bool empty_ok) {
  if (empty_ok && ctx.req.body().find_first_not_of(" \t\r\n") == std::string::npos)
    return nlohmann::json::object();
  std::string why;
  auto body = parse_json(ctx.req.body(), why, ctx.json_max_depth);
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
