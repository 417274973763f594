// Query strings: percent-decoding and splitting into name/value pairs.
#include "http/query.hpp"

#include <string>

#include <gtest/gtest.h>

namespace souk::http {
namespace {

using pairs = query_params;

TEST(PercentDecode, PlainTextIsUnchanged) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("krossovki"), "krossovki");
  EXPECT_EQ(percent_decode("a-b_c.d~e"), "a-b_c.d~e");
}

TEST(PercentDecode, PlusIsASpaceAsInForms) {
  EXPECT_EQ(percent_decode("a+b"), "a b");
  EXPECT_EQ(percent_decode("+"), " ");
  EXPECT_EQ(percent_decode("++"), "  ");
  EXPECT_EQ(percent_decode("%2B"), "+"); // an escaped plus stays a plus
}

TEST(PercentDecode, EscapesAreDecodedInAnyCase) {
  EXPECT_EQ(percent_decode("%20"), " ");
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("%2b%2B"), "++");
  EXPECT_EQ(percent_decode("%e2%82%ac"), "\xe2\x82\xac"); // the euro sign, lower-case hex
  EXPECT_EQ(percent_decode("%D0%9A"), "\xd0\x9a");        // Cyrillic К
  EXPECT_EQ(percent_decode("100%25"), "100%");
  EXPECT_EQ(percent_decode("%2525"), "%25"); // decoded once only
}

TEST(PercentDecode, AnyByteCanBeEscaped) {
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%FF"), "\xff"); // not UTF-8: the catalog refuses it later
  EXPECT_EQ(percent_decode("%22%2A%28"), "\"*(");
}

TEST(PercentDecode, BrokenEscapesAreRefused) {
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("abc%"));  // trailing %
  EXPECT_FALSE(percent_decode("abc%4")); // one digit
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%Z1")); // not hex
  EXPECT_FALSE(percent_decode("%1Z"));
  EXPECT_FALSE(percent_decode("%ZZ"));
  EXPECT_FALSE(percent_decode("%%"));
  EXPECT_FALSE(percent_decode("%%41"));
  EXPECT_FALSE(percent_decode("%-1"));
  EXPECT_FALSE(percent_decode("% 1"));
  EXPECT_FALSE(percent_decode("ok%20then%G0"));
  EXPECT_TRUE(percent_decode("%41")); // exactly at the end is fine
}

TEST(ParseQuery, NoQuestionMarkIsNoParameters) {
  auto q = parse_query("/v1/products");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
  q = parse_query("");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
  q = parse_query("/v1/products?");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
}

TEST(ParseQuery, PairsComeInOrderDecoded) {
  auto q = parse_query("/v1/products?q=krossovki+nike&sort=price_asc&limit=7");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"q", "krossovki nike"}, {"sort", "price_asc"}, {"limit", "7"}}));
  q = parse_query("/p?na%6De=val%75e");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"name", "value"}}));
}

TEST(ParseQuery, RepeatedKeysAreAllKept) {
  auto q = parse_query("/p?brand=Nike&brand=Adidas&brand=Nike");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"brand", "Nike"}, {"brand", "Adidas"}, {"brand", "Nike"}}));
  EXPECT_EQ(param(*q, "brand"), "Nike"); // the first
}

TEST(ParseQuery, EmptyPairsAreSkipped) {
  auto q = parse_query("/p?&&a=1&&b=2&");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"a", "1"}, {"b", "2"}}));
  q = parse_query("/p?&");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
}

TEST(ParseQuery, NamesWithoutValuesAndValuesWithoutNames) {
  auto q = parse_query("/p?in_stock&q=&=x");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"in_stock", ""}, {"q", ""}, {"", "x"}}));
}

TEST(ParseQuery, OnlyTheFirstEqualsAndQuestionMarkSplit) {
  auto q = parse_query("/p?a=b=c&d=e?f");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"a", "b=c"}, {"d", "e?f"}}));
  q = parse_query("/p?x=1?y=2");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"x", "1?y=2"}}));
}

TEST(ParseQuery, EscapedSeparatorsDoNotSplit) {
  auto q = parse_query("/p?q=a%26b%3Dc");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, (pairs{{"q", "a&b=c"}}));
}

TEST(ParseQuery, ABrokenEscapeAnywhereFailsTheWholeQuery) {
  EXPECT_FALSE(parse_query("/p?q=%ZZ"));
  EXPECT_FALSE(parse_query("/p?a=1&q=abc%"));
  EXPECT_FALSE(parse_query("/p?%G1=1"));
  EXPECT_FALSE(parse_query("/p?a=1&b=%4"));
}

TEST(Param, AbsentIsNullopt) {
  pairs q{{"a", "1"}, {"b", ""}};
  EXPECT_EQ(param(q, "a"), "1");
  EXPECT_EQ(param(q, "b"), ""); // present but empty
  EXPECT_FALSE(param(q, "c"));
  EXPECT_FALSE(param(q, "A")); // names are case-sensitive
  EXPECT_FALSE(param({}, "a"));
}

TEST(Repeated, CountsOneNameExactly) {
  pairs q{{"limit", "1"}, {"cursor", "p2"}, {"limit", "2"}, {"Limit", "3"}};
  EXPECT_TRUE(repeated(q, "limit"));
  EXPECT_FALSE(repeated(q, "cursor"));
  EXPECT_FALSE(repeated(q, "Limit")); // names are case-sensitive
  EXPECT_FALSE(repeated(q, "absent"));
}

TEST(RepeatedName, FindsTheFirstRepeatNotInTheAllowedList) {
  EXPECT_FALSE(repeated_name({{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(repeated_name({{"a", "1"}, {"b", "2"}, {"b", "3"}, {"a", "4"}}), "b");
  EXPECT_FALSE(repeated_name({{"brand", "x"}, {"brand", "y"}}, {"brand"}));
  EXPECT_EQ(repeated_name({{"brand", "x"}, {"brand", "y"}, {"q", "a"}, {"q", "b"}}, {"brand"}),
            "q");
  EXPECT_FALSE(repeated_name({{"", "x"}, {"", "y"}})) << "?=x&=y names nothing";
  EXPECT_FALSE(repeated_name({}));
}

TEST(RepeatedName, FindsARepeatAmongThousandsOfNames) {
  // 8 KiB of query holds about 2,000 names.
  pairs q;
  for (int i = 0; i < 2000; ++i)
    q.emplace_back("n" + std::to_string(i), "");
  EXPECT_FALSE(repeated_name(q));
  q.emplace_back("n7", "");
  EXPECT_EQ(repeated_name(q), "n7");
}

} // namespace
} // namespace souk::http
