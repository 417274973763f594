#pragma once

#include "http/message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace souk::http {

/// Parses a request body as JSON (RFC 8259), with one rule more than the parser: an object that
/// names a member twice is refused. Parsers disagree on which of the two wins, so a body that
/// one layer (a proxy, a signature check, a log) reads one way could reach us meaning another.
/// Objects and arrays may nest `max_depth` deep at most (a deep document costs memory in every
/// layer that reads it, and copying one 200,000 deep overflows nlohmann's recursion). nullopt
/// with `why` set to a sentence for the client when the text is refused.
std::optional<nlohmann::json> parse_json(std::string_view text, std::string& why,
                                         std::size_t max_depth = 32);

/// The request body as a JSON object, or nullopt after answering 400 `malformed_json` (not
/// JSON, a member named twice, nested deeper than `ctx.json_max_depth`) or 422
/// `validation_failed` (JSON, but not an object). An empty body (or only white space) is an
/// empty object when `empty_ok`.
std::optional<nlohmann::json> object_body(const request_context& ctx, responder& respond,
                                          bool empty_ok = false);

} // namespace souk::http
