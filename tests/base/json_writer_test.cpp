// The direct JSON writer of hot responses: escapes, UTF-8 kept or replaced, output always JSON.
#include "base/json_writer.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::base {
namespace {

std::string written(const std::string& text) {
  std::string out;
  json_writer w{out};
  w.begin_object().key("s").value(text).end_object();
  return out;
}

TEST(JsonWriter, PlainAsciiIsCopiedAsItIs) {
  EXPECT_EQ(written("Krossovki begovye 42"), R"({"s":"Krossovki begovye 42"})");
  EXPECT_EQ(written(""), R"({"s":""})");
}

TEST(JsonWriter, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(written("a\"b\\c"), R"({"s":"a\"b\\c"})");
  EXPECT_EQ(written("line\nnext\ttab\x01"), R"({"s":"line\u000anext\u0009tab\u0001"})");
  EXPECT_EQ(written("\"\"\\"), R"({"s":"\"\"\\"})"); // escapes only, no plain run between
}

TEST(JsonWriter, ValidUtf8IsKept) {
  EXPECT_EQ(written("Кроссовки \"Nike\" — 5 ★"), "{\"s\":\"Кроссовки \\\"Nike\\\" — 5 ★\"}");
}

TEST(JsonWriter, BytesOfAStringThatIsNotUtf8AreReplaced) {
  EXPECT_EQ(written("ok\xff"
                    "x\xc3"),
            R"({"s":"ok\ufffdx\ufffd"})");
}

TEST(JsonWriter, OutputParsesBackToTheSameText) {
  for (const std::string text :
       {"plain", "q\"uote", "back\\slash", "ctl\x1f\x7f", "Привет, мир", "end\\", "\"start"}) {
    auto doc = nlohmann::json::parse(written(text));
    EXPECT_EQ(doc["s"].get<std::string>(), text) << text;
  }
}

TEST(JsonWriter, RawTextTakesItsPlaceAmongValuesAndKeys) {
  std::string line;
  json_writer{line}.begin_object().key("qty").value(std::int64_t{2}).end_object();
  std::string out;
  json_writer w{out};
  w.begin_object().key("items").begin_array().raw(line).raw(line).value("x").end_array();
  w.key("one").raw(line).key("n").value(std::int64_t{1}).end_object();
  EXPECT_EQ(out, R"({"items":[{"qty":2},{"qty":2},"x"],"one":{"qty":2},"n":1})");
}

} // namespace
} // namespace souk::base
