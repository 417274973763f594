// Request bodies as JSON: the parser's rules plus one, a member may be named once per object.
#include "http/json_body.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using json = nlohmann::json;

TEST(ParseJson, AcceptsWhatRfc8259Accepts) {
  std::string why;
  auto j = parse_json(R"({"sku":"A-1","qty":2,"tags":[{"k":1},{"k":2}],"n":null})", why);
  ASSERT_TRUE(j.has_value()) << why;
  EXPECT_EQ((*j)["qty"], 2);
  EXPECT_EQ((*j)["tags"][1]["k"], 2);
  EXPECT_TRUE(parse_json("[1,2,3]", why).has_value());
  EXPECT_TRUE(parse_json("\"text\"", why).has_value());
}

TEST(ParseJson, RefusesTextThatIsNotJson) {
  std::string why;
  EXPECT_FALSE(parse_json("{\"qty\":", why).has_value());
  EXPECT_EQ(why, "the body is not valid JSON");
  EXPECT_FALSE(parse_json("", why).has_value());
  EXPECT_FALSE(parse_json("{} {}", why).has_value());
}

TEST(ParseJson, RefusesAMemberNamedTwiceInOneObject) {
  std::string why;
  EXPECT_FALSE(parse_json(R"({"qty":1,"sku":"A","qty":100})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"qty\" twice in one object");
}

TEST(ParseJson, FindsTheRepeatInANestedObject) {
  std::string why;
  EXPECT_FALSE(
      parse_json(R"({"shipping":{"city":"Kazan","city":"Omsk"},"city":"x"})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"city\" twice in one object");
  why.clear();
  EXPECT_FALSE(parse_json(R"({"lines":[{"sku":"A"},{"sku":"B","sku":"C"}]})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"sku\" twice in one object");
}

TEST(ParseJson, TheSameNameInDifferentObjectsIsFine) {
  std::string why;
  auto j = parse_json(
      R"({"sku":"A","lines":[{"sku":"B","qty":1},{"sku":"C","qty":2}],"shipping":{"sku":"D"}})",
      why);
  ASSERT_TRUE(j.has_value()) << why;
  EXPECT_EQ((*j)["lines"][1]["sku"], "C");
  EXPECT_EQ((*j)["shipping"]["sku"], "D");
}

TEST(ParseJson, AnEscapedNameIsComparedByItsValue) {
  // "q\u0074y" is "qty": two spellings of one name are still one name.
  std::string why;
  EXPECT_FALSE(parse_json(R"({"qty":1,"q\u0074y":2})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"qty\" twice in one object");
}

TEST(ParseJson, TheEmptyNameTwiceIsARepeatToo) {
  std::string why;
  EXPECT_FALSE(parse_json(R"({"":1,"":2})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"\" twice in one object");
  EXPECT_TRUE(parse_json(R"({"":1,"a":{"":2}})", why).has_value());
}

TEST(ParseJson, ABodyOfManySmallObjectsIsReadWhole) {
  // 1 MiB of `{}` and `{"a":1}` in one array (the body limit): nlohmann's parser callback,
  // which the first version of the check used, rescans the array at every object's end and
  // took over a minute for this body on an edge thread; the SAX pass reads it once.
  std::string text = "[";
  std::size_t objects = 0;
  while (text.size() < 1024 * 1024 - 16) {
    text += objects % 2 == 0 ? "{}," : R"({"a":1},)";
    ++objects;
  }
  text.back() = ']';
  std::string why;
  auto j = parse_json(text, why);
  ASSERT_TRUE(j.has_value()) << why;
  EXPECT_EQ(j->size(), objects);
  // The same with one repeat at the very end.
  text.back() = ',';
  text += R"({"a":1,"a":2}])";
  EXPECT_FALSE(parse_json(text, why).has_value());
  EXPECT_EQ(why, "the body names the member \"a\" twice in one object");
}

TEST(ParseJson, TextAfterTheDocumentIsRefusedAndSoIsARepeatInUnclosedText) {
  std::string why;
  EXPECT_FALSE(parse_json(R"({"a":1} x)", why).has_value());
  EXPECT_EQ(why, "the body is not valid JSON");
  // The repeat is seen before the text turns out unclosed; either way it is a 400.
  EXPECT_FALSE(parse_json(R"({"a":1,"a":2)", why).has_value());
  EXPECT_EQ(why, "the body names the member \"a\" twice in one object");
}

TEST(ParseJson, ANulByteAnywhereIsRefused) {
  std::string why;
  using namespace std::string_literals;
  EXPECT_FALSE(parse_json("{\"a\":1}\0junk"s, why).has_value()) << "read up to the NUL";
  EXPECT_EQ(why, "the body is not valid JSON (it holds a NUL byte)");
  EXPECT_FALSE(parse_json("{\"a\":\"x\0y\"}"s, why).has_value());
  // Escaped, a NUL is fine.
  auto j = parse_json(R"({"a":"x\u0000y"})", why);
  ASSERT_TRUE(j.has_value()) << why;
  EXPECT_EQ((*j)["a"].get<std::string>().size(), 3U);
}

TEST(ParseJson, NestingIsBoundedByTheLimit) {
  auto nested = [](std::size_t depth, bool objects) {
    std::string open, close;
    for (std::size_t i = 0; i < depth; ++i) {
      open += objects ? R"({"a":)" : "[";
      close += objects ? "}" : "]";
    }
    return open + "1" + close;
  };
  std::string why;
  for (bool objects : {true, false}) {
    SCOPED_TRACE(objects ? "objects" : "arrays");
    EXPECT_TRUE(parse_json(nested(32, objects), why).has_value()) << why;
    EXPECT_FALSE(parse_json(nested(33, objects), why).has_value());
    EXPECT_EQ(why, "the body nests objects and arrays deeper than 32 levels");
    EXPECT_TRUE(parse_json(nested(3, objects), why, 3).has_value()) << why;
    EXPECT_FALSE(parse_json(nested(4, objects), why, 3).has_value());
    // 1 MiB of opening brackets: refused at the limit, without building anything deeper.
    std::string deep;
    while (deep.size() < 1024 * 1024)
      deep += objects ? R"({"a":)" : "[";
    EXPECT_FALSE(parse_json(deep, why).has_value());
    EXPECT_EQ(why, "the body nests objects and arrays deeper than 32 levels");
  }
  // Depth counts what is open, not how many containers there are.
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i)
    wide += R"([{"a":[1]}],)";
  wide += "[]]";
  EXPECT_TRUE(parse_json(wide, why).has_value()) << why;
}

TEST(ParseJson, AControlCharacterInTheNameIsEscapedInTheSentence) {
  std::string why;
  EXPECT_FALSE(parse_json(R"({"a\nb":1,"a\nb":2})", why).has_value());
  EXPECT_EQ(why, "the body names the member \"a\\nb\" twice in one object");
}

// -- object_body: the answer a route gives ---------------------------------------------------

struct answered {
  std::optional<response> res;
  responder respond() {
    return [this](response r) { res = std::move(r); };
  }
  json body() const { return json::parse(res->body()); }
};

std::optional<json> call(const std::string& text, answered& out, bool empty_ok = false) {
  request req{bhttp::verb::post, "/v1/cart/items", 11};
  req.body() = text;
  request_context ctx{req, {}, std::string(32, 'a'), "/v1/cart/items"};
  auto respond = out.respond();
  return object_body(ctx, respond, empty_ok);
}

TEST(ObjectBody, AnObjectIsReturnedAndNothingIsAnswered) {
  answered out;
  auto j = call(R"({"sku":"A-1","qty":2})", out);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["sku"], "A-1");
  EXPECT_FALSE(out.res.has_value());
}

TEST(ObjectBody, ARepeatedMemberIs400MalformedJsonNamingIt) {
  answered out;
  EXPECT_FALSE(call(R"({"qty":1,"qty":2})", out).has_value());
  ASSERT_TRUE(out.res.has_value());
  EXPECT_EQ(out.res->result_int(), 400U);
  EXPECT_EQ(out.body()["code"], "malformed_json");
  EXPECT_EQ(out.body()["detail"], "the body names the member \"qty\" twice in one object");
  EXPECT_EQ(out.body()["trace_id"], std::string(32, 'a'));
}

TEST(ObjectBody, NotJsonIs400AndNotAnObjectIs422AtTheWholeBody) {
  answered bad;
  EXPECT_FALSE(call("{", bad).has_value());
  EXPECT_EQ(bad.res->result_int(), 400U);
  EXPECT_EQ(bad.body()["code"], "malformed_json");
  answered array;
  EXPECT_FALSE(call("[1]", array).has_value());
  EXPECT_EQ(array.res->result_int(), 422U);
  EXPECT_EQ(array.body()["code"], "validation_failed");
  EXPECT_EQ(array.body()["errors"][0]["pointer"], "");
}

TEST(ObjectBody, TheDepthLimitComesFromTheRequestContext) {
  request req{bhttp::verb::post, "/v1/cart/items", 11};
  req.body() = R"({"a":{"b":{"c":1}}})";
  request_context ctx{req, {}, std::string(32, 'a'), "/v1/cart/items"};
  ctx.json_max_depth = 2;
  answered out;
  auto respond = out.respond();
  EXPECT_FALSE(object_body(ctx, respond).has_value());
  ASSERT_TRUE(out.res.has_value());
  EXPECT_EQ(out.res->result_int(), 400U);
  EXPECT_EQ(out.body()["detail"], "the body nests objects and arrays deeper than 2 levels");
  ctx.json_max_depth = 3;
  answered fine;
  auto respond_fine = fine.respond();
  EXPECT_TRUE(object_body(ctx, respond_fine).has_value());
}

TEST(ObjectBody, AnEmptyBodyIsAnEmptyObjectOnlyWhenAllowed) {
  answered allowed;
  auto j = call(" \r\n", allowed, true);
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE(j->empty());
  EXPECT_FALSE(allowed.res.has_value());
  answered refused;
  EXPECT_FALSE(call("", refused).has_value());
  EXPECT_EQ(refused.res->result_int(), 400U);
}

} // namespace
} // namespace souk::http
