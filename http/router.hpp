#pragma once

#include "http/message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace souk::http {

/// Maps method + path to a handler. Templates are `/`-separated; a segment `{name}` matches any
/// one non-empty segment and is passed as a parameter. Routes are registered before the server
/// starts and only read afterwards, so lookups need no lock.
class router {
public:
  /// Registers `h` for `method` on `path_template` (e.g. `/v1/orders/{id}`).
  void add(bhttp::verb method, std::string path_template, handler h);

  /// The outcome of `match`.
  struct match_result {
    const handler* target = nullptr; ///< null: no route for this method
    std::string route;               ///< the template that matched
    std::map<std::string, std::string> params;
    std::string allow; ///< for 405: the methods the path has
  };

  /// Finds the route for `method` and `path` (without the query). When the path exists with
  /// other methods only, `target` is null and `allow` lists them; when it does not exist at
  /// all, both are empty.
  match_result match(bhttp::verb method, std::string_view path) const;

  /// Every registered (method, template), for the OpenAPI check and the admin console.
  std::vector<std::pair<std::string, std::string>> routes() const;

private:
  struct entry {
    bhttp::verb method;
    std::string path_template;
    std::vector<std::string> segments;
    handler target;
  };
  std::vector<entry> entries_;
};

/// Splits `/a/b/c` into {"a", "b", "c"}; the empty path and `/` give {}.
std::vector<std::string> split_path(std::string_view path);

} // namespace souk::http
