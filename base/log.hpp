#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace souk::base {

/// Severity of a log line; lines below the configured minimum are dropped.
enum class log_level { debug, info, warn, error };

/// Parses `debug`, `info`, `warn` or `error`; false for anything else.
bool parse_log_level(std::string_view text, log_level& out);

/// The name `parse_log_level` accepts for `level`.
const char* to_string(log_level level);

/// Where log lines go and what they carry. Call once at start, before other threads log;
/// until then lines go to stderr with an empty node name.
/// @param file  append to this file; empty means standard error.
/// Returns an error text when the file cannot be opened, empty on success.
std::string init_logging(std::string node, log_level min_level, const std::string& file = {});

/// Writes one JSON object on one line: `{"time", "level", "node", "message", ...fields}`.
/// `fields` must be a JSON object (or null); its members are added at the top level, and a
/// member named like a fixed key is prefixed with `field_`. Thread-safe.
void log(log_level level, std::string_view message, const nlohmann::json& fields = nullptr);

/// True if a line of `level` would be written (to skip building expensive fields).
bool log_enabled(log_level level);

/// Flushes buffered lines (called at shutdown).
void flush_log();

inline void log_debug(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(log_level::debug, msg, fields);
}
inline void log_info(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(log_level::info, msg, fields);
}
inline void log_warn(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(log_level::warn, msg, fields);
}
inline void log_error(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(log_level::error, msg, fields);
}

} // namespace souk::base
