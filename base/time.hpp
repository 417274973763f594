#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace souk::base {

/// Formats `t` as an RFC 3339 UTC timestamp with microseconds, e.g.
/// `2026-11-22T14:03:07.123456Z`. Thread-safe.
std::string format_rfc3339(std::chrono::system_clock::time_point t);

/// Milliseconds since the Unix epoch of `t` (the unit of `updated_at` columns).
std::int64_t unix_millis(std::chrono::system_clock::time_point t);

} // namespace souk::base
