#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace souk::http {

/// The decoded `name=value` pairs of a request target's query string, in order.
using query_params = std::vector<std::pair<std::string, std::string>>;

/// Percent-decodes `text` (`+` is a space, as in forms). Nullopt for a broken `%` escape.
std::optional<std::string> percent_decode(std::string_view text);

/// Parses the query of `target` (everything after `?`). Nullopt when an escape is broken.
std::optional<query_params> parse_query(std::string_view target);

/// The value of the first parameter called `name`, nullopt when absent.
std::optional<std::string> param(const query_params& params, std::string_view name);

} // namespace souk::http
