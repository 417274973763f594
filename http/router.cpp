#include "http/router.hpp"

namespace souk::http {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto next = path.find('/', pos);
    if (next == std::string_view::npos)
      next = path.size();
    out.emplace_back(path.substr(pos, next - pos));
    pos = next;
  }
  return out;
}

void router::add(bhttp::verb method, std::string path_template, handler h) {
  auto segments = split_path(path_template);
  entries_.push_back({method, std::move(path_template), std::move(segments), std::move(h)});
}

router::match_result router::match(bhttp::verb method, std::string_view path) const {
  match_result result;
  auto parts = split_path(path);
  for (auto& e : entries_) {
    if (e.segments.size() != parts.size())
      continue;
    std::map<std::string, std::string> params;
    bool same = true;
    for (std::size_t i = 0; i < parts.size() && same; ++i) {
      auto& seg = e.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
        params.emplace(seg.substr(1, seg.size() - 2), parts[i]);
      else
        same = seg == parts[i];
    }
    if (!same)
      continue;
    // HEAD is GET without the body (RFC 9110 9.3.2): a GET route answers it; the server drops
    // the body and keeps its length.
    if (e.method == method || (method == bhttp::verb::head && e.method == bhttp::verb::get)) {
      result.target = &e.target;
      result.route = e.path_template;
      result.params = std::move(params);
      return result;
    }
    auto name = std::string{bhttp::to_string(e.method)};
    if (e.method == bhttp::verb::get)
      name += ", HEAD";
    if (result.allow.find(name) == std::string::npos)
      result.allow += (result.allow.empty() ? "" : ", ") + name;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& e : entries_)
    out.emplace_back(std::string{bhttp::to_string(e.method)}, e.path_template);
  return out;
}

} // namespace souk::http
