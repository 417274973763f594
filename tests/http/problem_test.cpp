#include "http/problem.hpp"
#include "http/server.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using json = nlohmann::json;

bool is_trace_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos &&
         id != std::string(32, '0');
}

TEST(MakeProblem, BodyCarriesTheRfc9457MembersCodeAndTraceId) {
  auto res = make_problem(404, "not_found", "no route for /x", "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(res.result_int(), 404U);
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
  auto body = json::parse(res.body());
  EXPECT_EQ(body["type"], "https://souk.dev/problems/not_found");
  EXPECT_EQ(body["title"], "Not Found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["detail"], "no route for /x");
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["trace_id"], "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
}

TEST(MakeProblem, ExtraMembersAreAddedToTheBody) {
  json errors = json::array({{{"pointer", "/quantity"}, {"code", "too_small"}, {"detail", "≥ 1"}}});
  auto res = make_problem(422, "validation_failed", "the body has errors", std::string(32, 'b'),
                          {{"errors", errors}, {"node", "n1"}});
  auto body = json::parse(res.body());
  EXPECT_EQ(body["status"], 422);
  EXPECT_EQ(body["code"], "validation_failed");
  EXPECT_EQ(body["errors"], errors);
  EXPECT_EQ(body["node"], "n1");
  EXPECT_EQ(body["title"], "Unprocessable Entity");
}

TEST(MakeProblem, NonObjectExtraIsIgnored) {
  auto res = make_problem(500, "internal_error", "boom", std::string(32, 'c'), json::array({1}));
  auto body = json::parse(res.body());
  EXPECT_EQ(body.size(), 6U);
  EXPECT_EQ(body["status"], 500);
}

TEST(MakeProblem, InvalidUtf8InTheDetailStillGivesValidJson) {
  auto res = make_problem(400, "bad_request", std::string{"bad \xff byte"}, std::string(32, 'd'));
  EXPECT_NO_THROW({ auto body = json::parse(res.body()); });
}

TEST(MakeJson, SerialisesTheBodyWithJsonContentType) {
  auto res = make_json(201, {{"id", "o-1"}, {"amount", 129900}});
  EXPECT_EQ(res.result_int(), 201U);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json; charset=utf-8");
  auto body = json::parse(res.body());
  EXPECT_EQ(body["id"], "o-1");
  EXPECT_EQ(body["amount"], 129900);
}

TEST(TraceIdFrom, ValidTraceparentGivesItsTraceId) {
  EXPECT_EQ(trace_id_from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may append fields; the trace id is still read.
  EXPECT_EQ(trace_id_from("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceIdFrom, MalformedTraceparentGivesANewRandomId) {
  const std::string valid_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  for (const char* bad : {
           "",                                                        // absent
           "garbage",                                                 // not the shape
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",    // no flags
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case hex
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
           "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version not hex
       }) {
    SCOPED_TRACE(bad);
    auto id = trace_id_from(bad);
    EXPECT_TRUE(is_trace_id(id)) << id;
    EXPECT_NE(id, valid_id);
  }
}

TEST(TraceIdFrom, AllZeroTraceIdIsReplaced) {
  auto id = trace_id_from("00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  EXPECT_TRUE(is_trace_id(id)) << id;
}

TEST(TraceIdFrom, VersionFfIsInvalid) {
  auto id = trace_id_from("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_TRUE(is_trace_id(id)) << id;
  EXPECT_NE(id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceIdFrom, NewIdsAreRandom) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = trace_id_from("");
    EXPECT_TRUE(is_trace_id(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100U);
}

} // namespace
} // namespace souk::http
