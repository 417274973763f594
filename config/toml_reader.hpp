#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace souk::config::detail {

/// One `key = value` line of a config file.
struct toml_entry {
  std::vector<std::string> path;   ///< the section's parts, then the key's parts
  std::vector<std::string> values; ///< one for a scalar; the elements of an array
  bool is_array = false;
  int line = 0; ///< 1-based line of the key
};

/// Reads the subset of TOML that souk's config file uses: `[section]` headers (dotted allowed),
/// `key = value` with bare, "basic" (with escapes) or 'literal' keys and strings, integers and
/// other bare words (passed on as text, `_` digit separators removed), arrays of those that may
/// span lines, and `#` comments. Multi-line strings, inline tables and arrays of tables are
/// refused, as is a key set twice. Stops at the first syntax error. Used by config/load.cpp only.
class toml_reader {
public:
  explicit toml_reader(std::string_view text) : text_(text) {}

  /// Appends every entry to `out`. Returns an empty string on success, else
  /// `line N: what is wrong`.
  std::string read(std::vector<toml_entry>& out) {
    if (text_.substr(0, 3) == "\xef\xbb\xbf")
      pos_ = 3; // a UTF-8 byte order mark
    std::vector<std::string> table;
    std::map<std::string, int> seen; // dotted key → line where it was set
    for (;;) {
      skip_space_and_newlines();
      if (at_end())
        return {};
      int line = line_;
      if (peek() == '[') {
        ++pos_;
        if (peek() == '[')
          return fail("arrays of tables ([[...]]) are not supported");
        std::vector<std::string> parts;
        skip_blanks();
        if (!key_path(parts))
          return error_;
        skip_blanks();
        if (peek() != ']')
          return fail("the section header needs a closing ']'");
        ++pos_;
        if (!end_of_line())
          return error_;
        table = std::move(parts);
        continue;
      }
      toml_entry entry;
      entry.path = table;
      entry.line = line;
      if (!key_path(entry.path))
        return error_;
      skip_blanks();
      if (peek() != '=')
        return fail("expected '=' after the key");
      ++pos_;
      skip_blanks();
      if (peek() == '[') {
        entry.is_array = true;
        if (!array(entry.values))
          return error_;
      } else {
        std::string value;
        if (!scalar(value))
          return error_;
        entry.values.push_back(std::move(value));
      }
      if (!end_of_line())
        return error_;
      std::string name;
      for (auto& part : entry.path)
        name += (name.empty() ? "" : ".") + part;
      if (auto [it, fresh] = seen.emplace(name, line); !fresh) {
        line_ = line;
        return fail("key \"" + name + "\" is set again (first on line " +
                    std::to_string(it->second) + ")");
      }
      out.push_back(std::move(entry));
    }
  }

private:
  std::string fail(std::string what) {
    error_ = "line " + std::to_string(line_) + ": " + std::move(what);
    return error_;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool at_newline() const { return peek() == '\n' || (peek() == '\r' && peek(1) == '\n'); }
  void take_newline() {
    pos_ += peek() == '\r' ? 2 : 1;
    ++line_;
  }
  void skip_blanks() {
    while (peek() == ' ' || peek() == '\t')
      ++pos_;
  }
  void skip_comment() {
    if (peek() == '#')
      while (!at_end() && !at_newline())
        ++pos_;
  }
  void skip_space_and_newlines() {
    for (;;) {
      skip_blanks();
      skip_comment();
      if (!at_newline())
        return;
      take_newline();
    }
  }

  /// After a header or a value: blanks, an optional comment, then the end of the line.
  bool end_of_line() {
    skip_blanks();
    skip_comment();
    if (at_end())
      return true;
    if (!at_newline()) {
      fail("unexpected text after the value");
      return false;
    }
    take_newline();
    return true;
  }

  bool key_path(std::vector<std::string>& parts) {
    for (;;) {
      std::string part;
      if (!simple_key(part))
        return false;
      parts.push_back(std::move(part));
      skip_blanks();
      if (peek() != '.')
        return true;
      ++pos_;
      skip_blanks();
    }
  }

  bool simple_key(std::string& out) {
    if (peek() == '"')
      return basic_string(out);
    if (peek() == '\'')
      return literal_string(out);
    auto bare = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    };
    while (!at_end() && bare(peek()))
      out += text_[pos_++];
    if (out.empty()) {
      fail("expected a key");
      return false;
    }
    return true;
  }

  bool scalar(std::string& out) {
    if (peek() == '"')
      return basic_string(out);
    if (peek() == '\'')
      return literal_string(out);
    if (peek() == '{') {
      fail("inline tables ({...}) are not supported");
      return false;
    }
    if (peek() == '[') {
      fail("nested arrays are not supported");
      return false;
    }
    auto ends = [](char c) {
      return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '#' ||
             c == '"' || c == '\'';
    };
    while (!at_end() && !ends(peek()))
      out += text_[pos_++];
    if (out.empty()) {
      fail("expected a value");
      return false;
    }
    // An integer may separate digit groups with '_' (1_000): pass on the plain digits.
    bool integer = out.find_first_not_of("+-0123456789_") == std::string::npos &&
                   out.find_first_of("0123456789") != std::string::npos;
    if (integer)
      out.erase(std::remove(out.begin(), out.end(), '_'), out.end());
    return true;
  }

  bool array(std::vector<std::string>& out) {
    int opened = line_;
    ++pos_; // '['
    for (;;) {
      skip_space_and_newlines();
      if (at_end())
        break;
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      std::string value;
      if (!scalar(value))
        return false;
      out.push_back(std::move(value));
      skip_space_and_newlines();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']')
        continue;
      if (at_end())
        break;
      fail("expected ',' or ']' in the array opened on line " + std::to_string(opened));
      return false;
    }
    line_ = opened;
    fail("the array is not closed");
    return false;
  }

  bool literal_string(std::string& out) {
    if (peek(1) == '\'' && peek(2) == '\'') {
      fail("multi-line strings are not supported");
      return false;
    }
    ++pos_;
    while (!at_end() && !at_newline() && peek() != '\'')
      out += text_[pos_++];
    if (peek() != '\'') {
      fail("the string is not closed on its line");
      return false;
    }
    ++pos_;
    return true;
  }

  bool basic_string(std::string& out) {
    if (peek(1) == '"' && peek(2) == '"') {
      fail("multi-line strings are not supported");
      return false;
    }
    ++pos_;
    for (;;) {
      if (at_end() || at_newline()) {
        fail("the string is not closed on its line");
        return false;
      }
      char c = text_[pos_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        fail("control characters in strings must be escaped");
        return false;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = peek();
      ++pos_;
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'b':
        out += '\b';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'f':
        out += '\f';
        break;
      case 'r':
        out += '\r';
        break;
      case 'u':
      case 'U':
        if (!unicode_escape(e == 'u' ? 4 : 8, out))
          return false;
        break;
      default:
        fail(std::string{"unknown escape \\"} + e + " in a string");
        return false;
      }
    }
  }

  bool unicode_escape(int digits, std::string& out) {
    std::uint32_t cp = 0;
    for (int i = 0; i < digits; ++i) {
      char c = peek();
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (v < 0) {
        fail("a \\u escape needs " + std::to_string(digits) + " hex digits");
        return false;
      }
      cp = cp * 16 + static_cast<std::uint32_t>(v);
      ++pos_;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      fail("a \\u escape names no Unicode scalar value");
      return false;
    }
    auto put = [&out](std::uint32_t byte) { out += static_cast<char>(byte); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xc0 | (cp >> 6));
      put(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      put(0xe0 | (cp >> 12));
      put(0x80 | ((cp >> 6) & 0x3f));
      put(0x80 | (cp & 0x3f));
    } else {
      put(0xf0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 0x3f));
      put(0x80 | ((cp >> 6) & 0x3f));
      put(0x80 | (cp & 0x3f));
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::string error_;
};

} // namespace souk::config::detail
