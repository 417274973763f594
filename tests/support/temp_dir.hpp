#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace souk::test {

/// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at destruction.
class temp_dir {
public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string{base != nullptr ? base : "/tmp"} + "/souk-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string{};
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ec);
  }

  /// The folder's path.
  const std::string& path() const { return path_; }
  /// `path()/name`.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace souk::test
