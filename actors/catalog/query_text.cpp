#include "actors/catalog/query_text.hpp"

namespace souk::actors::catalog {

bool valid_utf8(std::string_view s) {
  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF (the second byte's
  // range depends on the lead byte; the rest are plain continuation bytes).
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
      return false;
    }
    if (i + n > s.size())
      return false;
    auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi)
      return false;
    for (std::size_t k = 2; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
        return false;
    i += n;
  }
  return true;
}

std::vector<std::string> search_tokens(std::string_view text, const text_limits& limits) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    if (!current.empty() && out.size() < limits.max_tokens) {
      if (current.size() > limits.max_token_bytes) {
        // Cut on a character boundary: never leave half a UTF-8 sequence.
        auto cut = limits.max_token_bytes;
        while (cut > 0 && (static_cast<unsigned char>(current[cut]) >> 6) == 0x2)
          --cut;
        current.resize(cut);
      }
      if (!current.empty())
        out.push_back(current);
    }
    current.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      current += ch; // part of a non-ASCII character: letters for our purposes
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      current += ch;
    } else if (c >= 'A' && c <= 'Z') {
      current += static_cast<char>(c - 'A' + 'a');
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string match_expression(const std::vector<std::string>& tokens) {
  std::string out;
  for (auto& t : tokens) {
    if (!out.empty())
      out += ' ';
    out += '"' + t + "\"*"; // tokens hold no quote: see search_tokens
  }
  return out;
}

} // namespace souk::actors::catalog
