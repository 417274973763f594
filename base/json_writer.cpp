#include "base/json_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace souk::base {
namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
      return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
        return false;
    i += n;
  }
  return true;
}

} // namespace

void json_writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }
}

namespace {

// Bytes copied as they are: printable ASCII except the quote and the backslash.
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c)
    t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

} // namespace

void json_writer::string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out_ += '"';
  // Most strings (keys, ids, titles) need no escape at all: find the first byte that does, and
  // copy everything when there is none.
  std::size_t first = 0;
  while (first < s.size() && plain_bytes[static_cast<unsigned char>(s[first])])
    ++first;
  if (first == s.size()) {
    out_.append(s.data(), s.size());
    out_ += '"';
    return;
  }
  bool utf8 = valid_utf8(s.substr(first));
  // Bytes that need no escape are copied in runs, not one by one (this is the hottest loop of
  // a product page).
  std::size_t run = 0;
  for (std::size_t i = first; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (plain_bytes[c] || (c >= 0x80 && utf8))
      continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += static_cast<char>(c);
    } else if (c < 0x20) {
      out_ += "\\u00";
      out_ += hex[c >> 4];
      out_ += hex[c & 0xf];
    } else {
      out_ += "\\ufffd"; // a byte of a string that is not UTF-8
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_ += '"';
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_.append(json.data(), json.size());
  return *this;
}

json_writer& json_writer::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

json_writer& json_writer::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

json_writer& json_writer::begin_array() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

json_writer& json_writer::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  separate();
  string(k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view s) {
  separate();
  string(s);
  return *this;
}

json_writer& json_writer::value(std::int64_t n) {
  separate();
  out_ += std::to_string(n);
  return *this;
}

json_writer& json_writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}

json_writer& json_writer::value_1dp(double d) {
  separate();
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", d);
  out_ += buf;
  return *this;
}

json_writer& json_writer::null() {
  separate();
  out_ += "null";
  return *this;
}

} // namespace souk::base
