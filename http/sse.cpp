#include "http/sse.hpp"

#include <algorithm>

namespace souk::http {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value)
    if (c != '\r' && c != '\n' && c != '\0')
      out += c;
  out += '\n';
}

} // namespace

std::string format_sse_event(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 24);
  if (!id.empty())
    append_field(out, "id", id);
  if (!event.empty())
    append_field(out, "event", event);
  // CRLF, CR and LF each end a line for the client: a lone CR inside `data` would otherwise
  // split it there without the `data:` prefix on the rest.
  std::size_t pos = 0;
  for (;;) {
    auto brk = data.find_first_of("\r\n", pos);
    out.append("data: ").append(data.substr(pos, brk - pos)).append("\n");
    if (brk == std::string_view::npos)
      break;
    pos = brk + (data[brk] == '\r' && brk + 1 < data.size() && data[brk + 1] == '\n' ? 2 : 1);
  }
  out += '\n';
  return out;
}

std::string format_sse_comment(std::string_view text) {
  std::string out;
  append_field(out, "", text);
  out += '\n';
  return out;
}

std::optional<std::string> last_event_id(const request& req) {
  auto it = req.find("Last-Event-ID");
  if (it == req.end())
    return std::nullopt;
  std::string_view value = it->value();
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  if (value.empty() || value.size() > 1024 ||
      value.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos)
    return std::nullopt;
  return std::string{value};
}

std::optional<std::uint64_t> last_event_number(const request& req) {
  auto id = last_event_id(req);
  if (!id || id->size() > 20)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : *id) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return std::nullopt; // overflow
    value = value * 10 + digit;
  }
  return value;
}

} // namespace souk::http
