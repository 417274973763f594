#pragma once

#include "config/settings.hpp"

#include <map>
#include <string>
#include <vector>

namespace souk::config {

/// Environment variables as name → value (tests pass their own; main passes `environ`).
using env_map = std::map<std::string, std::string>;

/// Reads the process environment into an `env_map`.
env_map process_environment();

/// The outcome of `load`: either settings to run with, or a reason to exit now.
struct load_result {
  settings values;
  /// True when the caller should exit with `exit_code` after printing `output`
  /// (help, version, --print-config, or refused settings).
  bool exit_now = false;
  int exit_code = 0;
  /// Text for standard output (help, version, config) when exit_code is 0.
  std::string output;
  /// One line per refused setting or argument, each naming the setting, the value, where it
  /// came from and what is allowed. Non-empty means exit_code 2.
  std::vector<std::string> errors;
};

/// Builds the settings from, in rising priority: defaults, the `--config` TOML file,
/// `SOUK_<SECTION>_<KEY>` variables in `env`, and the flags in `args` (args[0] is the program).
/// Unknown flags, unknown file keys and unknown `SOUK_*` variables are refused.
/// Reads the config file; touches nothing else. Thread-safe.
load_result load(const std::vector<std::string>& args, const env_map& env);

/// The effective settings as a config file (the admin password is masked).
std::string to_toml(const settings& values);

} // namespace souk::config
