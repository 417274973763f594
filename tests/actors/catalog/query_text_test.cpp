// Free text into FTS5: user words are sanitised so no input can change the meaning of a MATCH
// expression, work is bounded, UTF-8 survives whole.
#include "actors/catalog/query_text.hpp"
#include "persistence/sqlite.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace souk::actors::catalog {
namespace {

using tokens = std::vector<std::string>;

const text_limits limits{};

/// A token holds only lower-case ASCII letters, digits and non-ASCII bytes.
bool clean(const std::string& token) {
  for (char ch : token) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      continue;
    return false;
  }
  return !token.empty();
}

const std::vector<std::string>& hostile_inputs() {
  static const std::vector<std::string> all = {
      "\"",
      "\"\"\"",
      "krossovki\" OR \"1\"=\"1",
      "*",
      "kro*",
      "title:nike",
      "^nike",
      "(nike OR adidas)",
      "nike AND adidas",
      "nike NOT adidas",
      "NEAR(nike adidas, 2)",
      "-nike",
      "nike -adidas",
      "+nike",
      "{title brand}: nike",
      "nike'; DROP TABLE products; --",
      "a\"b*c:d^e(f)g-h",
      "OR",
      "AND",
      "NOT",
      "NEAR",
      "near/3",
      "\\\"nike\\\"",
      std::string("nike\0adidas", 11),
      "\t\r\n",
      "%22%2A",
      "Кроссовки \"Найк\" OR *",
  };
  return all;
}

TEST(QueryText, SplitsOnPunctuationAndLowersAscii) {
  EXPECT_EQ(search_tokens("Krossovki NIKE air-max 90", limits),
            (tokens{"krossovki", "nike", "air", "max", "90"}));
  EXPECT_EQ(search_tokens("  ", limits), tokens{});
  EXPECT_EQ(search_tokens("", limits), tokens{});
  EXPECT_EQ(search_tokens("!!!...,,,", limits), tokens{});
}

TEST(QueryText, Fts5SyntaxCharactersNeverSurviveIntoTokens) {
  for (auto& input : hostile_inputs()) {
    SCOPED_TRACE(input);
    for (auto& t : search_tokens(input, limits))
      EXPECT_TRUE(clean(t)) << "token '" << t << "'";
  }
  EXPECT_EQ(search_tokens("krossovki\" OR \"1\"=\"1", limits),
            (tokens{"krossovki", "or", "1", "1"}));
  EXPECT_EQ(search_tokens("NEAR(nike adidas, 2)", limits), (tokens{"near", "nike", "adidas", "2"}));
  EXPECT_EQ(search_tokens("title:nike^", limits), (tokens{"title", "nike"}));
  EXPECT_EQ(search_tokens("-nike*", limits), (tokens{"nike"}));
}

TEST(QueryText, OperatorWordsAreQuotedAsPlainWords) {
  // AND/OR/NOT/NEAR become lower-case words inside quotes: FTS5 reads them as terms.
  auto expr = match_expression(search_tokens("nike OR adidas NOT puma NEAR reebok AND", limits));
  EXPECT_EQ(expr,
            "\"nike\"* \"or\"* \"adidas\"* \"not\"* \"puma\"* \"near\"* \"reebok\"* \"and\"*");
}

TEST(QueryText, MatchExpressionQuotesEveryTokenAsAPrefix) {
  EXPECT_EQ(match_expression({}), "");
  EXPECT_EQ(match_expression({"kro"}), "\"kro\"*");
  EXPECT_EQ(match_expression({"krossovki", "nike"}), "\"krossovki\"* \"nike\"*");
}

TEST(QueryText, EveryHostileInputGivesAValidMatchExpression) {
  // The real FTS5 parser is the judge: no input may make MATCH fail.
  test::temp_dir dir;
  auto db = persistence::connection::open(dir / "fts.db", true);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE VIRTUAL TABLE t USING fts5 (title, brand, description,"
                       " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")
                  .ok());
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES ('Krossovki Nike Air', 'Nike', 'or and near not 1'),"
                       " ('Кроссовки беговые', 'Demix', 'обувь')")
                  .ok());
  auto stmt = db->prepare("SELECT count(*) FROM t WHERE t MATCH ?1");
  ASSERT_TRUE(stmt);
  auto inputs = hostile_inputs();
  inputs.push_back("nike");
  inputs.push_back(std::string(500, '"'));
  inputs.push_back("\xc2\xab\xc2\xbb");      // «» (non-ASCII punctuation)
  inputs.push_back("nike \xe2\x80\x94 air"); // an em dash between words
  for (auto& input : inputs) {
    SCOPED_TRACE(input);
    auto expr = match_expression(search_tokens(input, limits));
    if (expr.empty())
      continue;
    stmt.reset();
    stmt.bind(1, expr);
    EXPECT_TRUE(stmt.step()) << expr;
    EXPECT_TRUE(stmt.error().ok()) << expr << ": " << stmt.error().message;
  }
  // And the words are found as words.
  stmt.reset();
  stmt.bind(1, match_expression(search_tokens("\"nike\" OR *", limits)));
  ASSERT_TRUE(stmt.step());
  EXPECT_EQ(stmt.column_int(0), 1);
  stmt.reset();
  stmt.bind(1, match_expression(search_tokens("КРОССОВКИ", limits)));
  ASSERT_TRUE(stmt.step());
  EXPECT_EQ(stmt.column_int(0), 1); // unicode61 folds the case of Cyrillic
  stmt.reset();
}

TEST(QueryText, TokenCountIsCapped) {
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "w" + std::to_string(i) + " ";
  auto t = search_tokens(text, limits);
  ASSERT_EQ(t.size(), limits.max_tokens);
  EXPECT_EQ(t.front(), "w0");
  EXPECT_EQ(t.back(), "w7"); // the first words are kept, the rest ignored

  text_limits two{200, 2, 40};
  EXPECT_EQ(search_tokens("a b c d", two), (tokens{"a", "b"}));
}

TEST(QueryText, TokenLengthIsCapped) {
  auto t = search_tokens(std::string(100, 'a') + " b", limits);
  ASSERT_EQ(t.size(), 2U);
  EXPECT_EQ(t[0], std::string(limits.max_token_bytes, 'a'));
  EXPECT_EQ(t[1], "b");
}

TEST(QueryText, CyrillicIsKeptAsWords) {
  auto t = search_tokens("Кроссовки, беговые! Nike", limits);
  EXPECT_EQ(t, (tokens{"Кроссовки", "беговые", "nike"}));
  EXPECT_EQ(search_tokens("чай-кофе", limits), (tokens{"чай", "кофе"}));
}

TEST(QueryText, CutNeverSplitsAUtf8Sequence) {
  // Cyrillic letters are 2 bytes, "€" 3, "😀" 4: every cut length lands inside some of them.
  const std::vector<std::string> pieces = {"ж", "€", "\xf0\x9f\x98\x80", "a"};
  for (std::size_t max = 1; max <= 12; ++max) {
    for (auto& piece : pieces) {
      for (std::size_t offset = 0; offset < 4; ++offset) {
        std::string word(offset, 'x');
        while (word.size() < 30)
          word += piece;
        text_limits l{200, 8, max};
        auto t = search_tokens(word, l);
        SCOPED_TRACE("max " + std::to_string(max) + " word " + word);
        ASSERT_LE(t.size(), 1U);
        if (t.empty())
          continue; // nothing fits: a 4-byte character under a 3-byte cap
        EXPECT_LE(t[0].size(), max);
        EXPECT_TRUE(valid_utf8(t[0])) << t[0];
        EXPECT_EQ(word.compare(0, t[0].size(), t[0]), 0);                    // a prefix of the word
        EXPECT_GT(t[0].size() + 4, std::min<std::size_t>(max, word.size())); // cut tightly
      }
    }
  }
  text_limits three{200, 8, 3};
  EXPECT_EQ(search_tokens("жжж", three), tokens{"ж"}); // 6 bytes cut to 2, not 3
}

TEST(QueryText, ValidUtf8IsAccepted) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("Кроссовки"));
  EXPECT_TRUE(valid_utf8("€ 100"));
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x98\x80"));     // U+1F600
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));     // U+10FFFF, the last code point
  EXPECT_TRUE(valid_utf8("\xed\x9f\xbf"));         // U+D7FF, just below the surrogates
  EXPECT_TRUE(valid_utf8(std::string("a\0b", 3))); // NUL is ASCII
}

TEST(QueryText, InvalidUtf8IsDetected) {
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("abc\xfe"));
  EXPECT_FALSE(valid_utf8("\x80"));             // a lone continuation byte
  EXPECT_FALSE(valid_utf8("\xd0"));             // a truncated 2-byte sequence
  EXPECT_FALSE(valid_utf8("\xe2\x82"));         // a truncated 3-byte sequence
  EXPECT_FALSE(valid_utf8("\xf0\x9f\x98"));     // a truncated 4-byte sequence
  EXPECT_FALSE(valid_utf8("\xd0\x41"));         // a lead byte followed by ASCII
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));         // an overlong '/'
  EXPECT_FALSE(valid_utf8("\xc1\xbf"));         // an overlong 2-byte form
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));     // an overlong 3-byte '/'
  EXPECT_FALSE(valid_utf8("\xf0\x80\x80\xaf")); // an overlong 4-byte '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));     // U+D800, a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xf5\x80\x80\x80")); // a lead byte that never occurs
}

} // namespace
} // namespace souk::actors::catalog
