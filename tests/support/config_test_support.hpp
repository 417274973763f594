#pragma once

#include "config/load.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace souk::test {

/// `config::load` with "soukd" as args[0] and the given flags and environment.
inline config::load_result load_with(const std::vector<std::string>& flags,
                                     config::env_map env = {}) {
  // A new vector rather than an insert at the front: GCC 12 at -O3 reports a bogus
  // -Warray-bounds for inserting into a two-element vector built from a braced list.
  std::vector<std::string> argv;
  argv.reserve(flags.size() + 1);
  argv.emplace_back("soukd");
  argv.insert(argv.end(), flags.begin(), flags.end());
  return config::load(argv, env);
}

/// Writes `text` to `dir/name` and returns the path.
inline std::string write_file(const temp_dir& dir, const std::string& name,
                              const std::string& text) {
  auto path = dir / name;
  std::ofstream out{path, std::ios::binary};
  out << text;
  return path;
}

/// All error lines, one per line, for failure messages.
inline std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (auto& e : errors)
    out += e + "\n";
  return out;
}

/// Checks that `result` accepted the settings: nothing to print, nothing refused.
inline ::testing::AssertionResult accepted(const config::load_result& result) {
  if (result.exit_now || result.exit_code != 0 || !result.errors.empty())
    return ::testing::AssertionFailure()
           << "refused (exit_now " << result.exit_now << ", code " << result.exit_code << "):\n"
           << joined(result.errors);
  return ::testing::AssertionSuccess();
}

/// Checks that `result` was refused with exit code 2 and exactly one error line, which
/// contains every one of `needles`.
inline ::testing::AssertionResult refused_with(const config::load_result& result,
                                               const std::vector<std::string>& needles) {
  if (!result.exit_now || result.exit_code != 2)
    return ::testing::AssertionFailure()
           << "not refused: exit_now " << result.exit_now << ", code " << result.exit_code;
  if (result.errors.size() != 1)
    return ::testing::AssertionFailure()
           << "expected one error line, got " << result.errors.size() << ":\n"
           << joined(result.errors);
  if (!result.output.empty())
    return ::testing::AssertionFailure() << "refusal with output: " << result.output;
  auto& line = result.errors.front();
  if (line.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << "error spans lines: " << line;
  for (auto& needle : needles)
    if (line.find(needle) == std::string::npos)
      return ::testing::AssertionFailure() << "error line lacks \"" << needle << "\": " << line;
  return ::testing::AssertionSuccess();
}

} // namespace souk::test
