#include "http/query.hpp"

#include <algorithm>
#include <unordered_set>

namespace souk::http {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt; // a `%` needs two hex digits after it
      int hi = hex(text[i + 1]);
      int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<query_params> parse_query(std::string_view target) {
  query_params out;
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value)
      return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

bool repeated(const query_params& params, std::string_view name) {
  return std::count_if(params.begin(), params.end(), [&](auto& p) { return p.first == name; }) > 1;
}

std::optional<std::string> repeated_name(const query_params& params,
                                         std::initializer_list<std::string_view> may_repeat) {
  std::unordered_set<std::string_view> seen; // a query of 8 KiB holds thousands of names
  for (auto& [name, value] : params) {
    if (name.empty() || std::find(may_repeat.begin(), may_repeat.end(), name) != may_repeat.end())
      continue;
    if (!seen.insert(name).second)
      return name;
  }
  return std::nullopt;
}

std::optional<std::string> param(const query_params& params, std::string_view name) {
  for (auto& [k, v] : params)
    if (k == name)
      return v;
  return std::nullopt;
}

} // namespace souk::http
