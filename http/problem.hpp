#pragma once

#include "http/message.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace souk::http {

/// An RFC 9457 problem+json response: `type`, `title`, `status`, `detail`, the stable `code`
/// and `trace_id`. `extra` members (e.g. `errors`) are added to the body.
response make_problem(unsigned status, const std::string& code, const std::string& detail,
                      const std::string& trace_id, const nlohmann::json& extra = nullptr);

/// A JSON response with `body` serialised compactly.
response make_json(unsigned status, const nlohmann::json& body);

} // namespace souk::http
