#pragma once

#include <initializer_list>
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

/// Whether `name` is given more than once. Routes refuse that for a parameter that takes one
/// value: one layer (a cache, a proxy, a log) may read the first and another the last.
bool repeated(const query_params& params, std::string_view name);

/// The first name given more than once, other than those of `may_repeat` (and the empty
/// name of `?=x`, which no route reads); nullopt if none.
std::optional<std::string> repeated_name(const query_params& params,
                                         std::initializer_list<std::string_view> may_repeat = {});

} // namespace souk::http
