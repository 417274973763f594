#include "base/log.hpp"

#include "base/time.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace souk::base {
namespace {

struct log_state {
  std::mutex mtx; // guards `logger` and `node` while they are replaced
  std::shared_ptr<spdlog::logger> logger;
  std::string node;
  std::atomic<int> min_level{static_cast<int>(log_level::info)};
};

log_state& state() {
  static log_state instance;
  return instance;
}

std::shared_ptr<spdlog::logger> make_stderr_logger() {
  auto logger =
      std::make_shared<spdlog::logger>("souk", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // The message is a complete JSON object already: spdlog adds nothing but the newline.
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  return logger;
}

} // namespace

bool parse_log_level(std::string_view text, log_level& out) {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (text == to_string(level)) {
      out = level;
      return true;
    }
  return false;
}

const char* to_string(log_level level) {
  switch (level) {
  case log_level::debug:
    return "debug";
  case log_level::info:
    return "info";
  case log_level::warn:
    return "warn";
  case log_level::error:
    return "error";
  }
  return "info";
}

std::string init_logging(std::string node, log_level min_level, const std::string& file) {
  std::shared_ptr<spdlog::logger> logger;
  if (file.empty()) {
    logger = make_stderr_logger();
  } else {
    try {
      logger = std::make_shared<spdlog::logger>(
          "souk", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    } catch (const std::exception& e) {
      return e.what();
    }
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace); // a line is on disk before the next starts
  }
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mtx};
  st.logger = std::move(logger);
  st.node = std::move(node);
  st.min_level = static_cast<int>(min_level);
  return {};
}

bool log_enabled(log_level level) {
  return static_cast<int>(level) >= state().min_level.load(std::memory_order_relaxed);
}

void log(log_level level, std::string_view message, const nlohmann::json& fields) {
  if (!log_enabled(level))
    return;
  auto& st = state();
  std::shared_ptr<spdlog::logger> logger;
  nlohmann::ordered_json line; // keeps time, level, node, message first
  line["time"] = format_rfc3339(std::chrono::system_clock::now());
  line["level"] = to_string(level);
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (!st.logger)
      st.logger = make_stderr_logger();
    logger = st.logger;
    line["node"] = st.node;
  }
  line["message"] = message;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) {
      if (line.contains(key))
        line["field_" + key] = value;
      else
        line[key] = value;
    }
  }
  // `replace` keeps a line valid JSON even when a field carries broken UTF-8.
  logger->log(spdlog::level::info,
              line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void flush_log() {
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mtx};
  if (st.logger)
    st.logger->flush();
}

} // namespace souk::base
