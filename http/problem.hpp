#pragma once

#include "http/message.hpp"

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace souk::http {

/// An RFC 9457 problem+json response: `type`, `title`, `status`, `detail`, the stable `code`
/// and `trace_id`. `extra` members (e.g. `errors`) are added to the body.
response make_problem(unsigned status, const std::string& code, const std::string& detail,
                      const std::string& trace_id, const nlohmann::json& extra = nullptr);

/// A 422 validation_failed problem whose errors[] names `pointer` ("" is the whole body).
response invalid(const std::string& pointer, const std::string& detail, const std::string& trace);

/// The same naming several fields at once: one errors[] entry per (pointer, detail), in order;
/// the problem's detail is the first one's. `fields` must not be empty.
response invalid(const std::vector<std::pair<std::string, std::string>>& fields,
                 const std::string& trace);

/// A JSON response with `body` serialised compactly.
response make_json(unsigned status, const nlohmann::json& body);

} // namespace souk::http
