#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace souk::actors::catalog {

/// Limits on free text, so hostile input costs bounded work.
struct text_limits {
  std::size_t max_query_bytes = 200; ///< longer queries are refused
  std::size_t max_tokens = 8;        ///< further words are ignored
  std::size_t max_token_bytes = 40;  ///< longer words are cut
};

/// Splits user text into search words: runs of ASCII letters and digits and of non-ASCII
/// UTF-8 characters (Cyrillic and the like), ASCII lowered. Everything else — FTS5 syntax
/// (quotes, `*`, `:`, `^`, parentheses, `-`, AND/OR/NOT/NEAR as bare operators) — separates words,
/// so the result can never change the meaning of a MATCH expression.
std::vector<std::string> search_tokens(std::string_view text, const text_limits& limits);

/// The FTS5 MATCH expression for `tokens`: each a quoted prefix query, all required.
/// Empty when there are no tokens.
std::string match_expression(const std::vector<std::string>& tokens);

/// True when `text` is valid UTF-8.
bool valid_utf8(std::string_view text);

} // namespace souk::actors::catalog
