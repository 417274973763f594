#include "base/log.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace souk::base;
using json = nlohmann::json;

/// Logs into a fresh file for one test and puts logging back on stderr afterwards, so that no
/// test leaves a file sink behind.
class LogFile : public ::testing::Test {
protected:
  void TearDown() override { init_logging("", log_level::info); }

  void start(log_level level, const std::string& node = "n7") {
    ASSERT_EQ(init_logging(node, level, path_), "");
  }

  /// Every line of the file; each must be one JSON object.
  std::vector<json> lines() {
    flush_log();
    std::ifstream in{path_};
    std::vector<json> out;
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_TRUE(json::accept(line)) << "not JSON: " << line;
      auto value = json::parse(line, nullptr, false);
      EXPECT_TRUE(value.is_object()) << line;
      out.push_back(value);
    }
    return out;
  }

  souk::test::temp_dir dir_;
  std::string path_ = dir_ / "souk.log";
};

TEST(LogLevel, EveryLevelRoundTripsThroughItsName) {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error}) {
    log_level parsed = level == log_level::debug ? log_level::error : log_level::debug;
    ASSERT_TRUE(parse_log_level(to_string(level), parsed)) << to_string(level);
    EXPECT_EQ(parsed, level);
  }
  EXPECT_STREQ(to_string(log_level::warn), "warn");
}

TEST(LogLevel, UnknownNamesAreRefusedAndLeaveTheOutputAlone) {
  for (const char* text : {"", "INFO", "warning", "trace", "fatal", " info", "info "}) {
    auto out = log_level::warn;
    EXPECT_FALSE(parse_log_level(text, out)) << '"' << text << '"';
    EXPECT_EQ(out, log_level::warn);
  }
}

TEST_F(LogFile, EachLineIsOneJsonObjectWithTimeLevelNodeMessageAndFields) {
  start(log_level::debug);
  log_info("store opened", {{"path", "/tmp/x/souk.db"}, {"created", true}});
  log_warn("slow batch", {{"writes", 42}});
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["level"], "info");
  EXPECT_EQ(got[0]["node"], "n7");
  EXPECT_EQ(got[0]["message"], "store opened");
  EXPECT_EQ(got[0]["path"], "/tmp/x/souk.db");
  EXPECT_EQ(got[0]["created"], true);
  EXPECT_EQ(got[1]["level"], "warn");
  EXPECT_EQ(got[1]["writes"], 42);
  std::regex rfc3339{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"};
  for (auto& line : got) {
    ASSERT_TRUE(line["time"].is_string());
    EXPECT_TRUE(std::regex_match(line["time"].get<std::string>(), rfc3339)) << line["time"];
  }
}

TEST_F(LogFile, FixedKeysComeFirstInTheirOrder) {
  start(log_level::info);
  log_error("boom", {{"a", 1}});
  flush_log();
  std::ifstream in{path_};
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.rfind(R"({"time":")", 0), 0u) << line;
  auto level = line.find(R"("level":"error")");
  auto node = line.find(R"("node":"n7")");
  auto message = line.find(R"("message":"boom")");
  auto field = line.find(R"("a":1)");
  ASSERT_NE(field, std::string::npos) << line;
  EXPECT_LT(level, node);
  EXPECT_LT(node, message);
  EXPECT_LT(message, field);
}

TEST_F(LogFile, FieldNamedLikeAFixedKeyIsPrefixed) {
  start(log_level::info);
  log_info("real message", {{"message", "spoof"}, {"level", "debug"}, {"node", "n9"}});
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["message"], "real message");
  EXPECT_EQ(got[0]["level"], "info");
  EXPECT_EQ(got[0]["node"], "n7");
  EXPECT_EQ(got[0]["field_message"], "spoof");
  EXPECT_EQ(got[0]["field_level"], "debug");
  EXPECT_EQ(got[0]["field_node"], "n9");
}

TEST_F(LogFile, NonObjectFieldsAreIgnored) {
  start(log_level::info);
  log_info("array fields", json::array({1, 2}));
  log_info("number fields", 5);
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), 4u) << got[0];
  EXPECT_EQ(got[1].size(), 4u) << got[1];
}

TEST_F(LogFile, LinesBelowTheMinimumLevelAreDropped) {
  start(log_level::warn);
  EXPECT_FALSE(log_enabled(log_level::debug));
  EXPECT_FALSE(log_enabled(log_level::info));
  EXPECT_TRUE(log_enabled(log_level::warn));
  EXPECT_TRUE(log_enabled(log_level::error));
  log_debug("d");
  log_info("i");
  log_warn("w");
  log_error("e");
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["message"], "w");
  EXPECT_EQ(got[0]["level"], "warn");
  EXPECT_EQ(got[1]["message"], "e");
  EXPECT_EQ(got[1]["level"], "error");
}

TEST_F(LogFile, DebugLevelWritesEverything) {
  start(log_level::debug);
  log_debug("d");
  log_info("i");
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["level"], "debug");
}

TEST_F(LogFile, QuotesNewlinesAndControlCharactersStayInsideOneValidLine) {
  start(log_level::info);
  std::string nasty = "say \"hi\"\nsecond line\r\n\ttab \\ backslash \x01 end";
  log_info(nasty, {{"detail", nasty}});
  auto got = lines();
  ASSERT_EQ(got.size(), 1u); // the newlines are escaped, not written
  EXPECT_EQ(got[0]["message"], nasty);
  EXPECT_EQ(got[0]["detail"], nasty);
}

TEST_F(LogFile, InvalidUtf8InMessageOrFieldsStillGivesValidJson) {
  start(log_level::info);
  std::string broken = "caf\xc3 \xff\xfe end";
  log_info(broken, {{"value", broken}, {"ok", "gr\xc3\xbc\xc3\x9f"}});
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  auto message = got[0]["message"].get<std::string>();
  EXPECT_EQ(message.rfind("caf", 0), 0u);
  EXPECT_NE(message.find(" end"), std::string::npos);
  EXPECT_NE(message.find("\xef\xbf\xbd"), std::string::npos) << "U+FFFD replaces bad bytes";
  EXPECT_NE(got[0]["value"].get<std::string>().find("\xef\xbf\xbd"), std::string::npos);
  EXPECT_EQ(got[0]["ok"], "gr\xc3\xbc\xc3\x9f"); // valid UTF-8 is untouched
}

TEST_F(LogFile, InitLoggingAppendsToAnExistingFile) {
  {
    std::ofstream out{path_};
    out << R"({"earlier":"line"})" << '\n';
  }
  start(log_level::info);
  log_info("later");
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["earlier"], "line");
  EXPECT_EQ(got[1]["message"], "later");
}

TEST_F(LogFile, ReinitialisingMovesLinesToTheNewNodeAndFile) {
  start(log_level::info, "first");
  log_info("one");
  std::string other = dir_ / "other.log";
  ASSERT_EQ(init_logging("second", log_level::info, other), "");
  log_info("two");
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["node"], "first");
  std::ifstream in{other};
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto second = json::parse(line);
  EXPECT_EQ(second["node"], "second");
  EXPECT_EQ(second["message"], "two");
}

TEST_F(LogFile, UnopenableFileReturnsAnErrorTextAndKeepsTheCurrentSink) {
  start(log_level::info);
  std::ofstream{dir_ / "plain"} << "x";
  auto error = init_logging("n2", log_level::debug, dir_ / "plain/souk.log"); // through a file
  EXPECT_FALSE(error.empty());
  log_info("still here");
  log_debug("still filtered at info");
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["node"], "n7");
  EXPECT_EQ(got[0]["message"], "still here");
}

} // namespace
