// Every way `config::load` refuses settings: exit code 2, exit_now, and one line that names the
// setting (or flag, key, variable) and the offending value.

#include "config/load.hpp"
#include "tests/support/config_test_support.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace {

using souk::config::endpoint;
using souk::config::parse_endpoint;
using souk::test::accepted;
using souk::test::joined;
using souk::test::load_with;
using souk::test::refused_with;
using souk::test::temp_dir;
using souk::test::write_file;

souk::config::load_result load_file(const temp_dir& dir, const std::string& text) {
  return load_with({"--config", write_file(dir, "souk.toml", text)});
}

// -- flags ----------------------------------------------------------------------------------------

TEST(ConfigRefusal, UnknownFlagIsRefusedWithItsName) {
  auto r = load_with({"--node", "n1", "--bogus-flag", "1"});
  EXPECT_TRUE(refused_with(r, {"command line", "--bogus-flag"}));
}

TEST(ConfigRefusal, StrayPositionalArgumentIsRefused) {
  auto r = load_with({"stray"});
  EXPECT_TRUE(refused_with(r, {"stray"}));
}

TEST(ConfigRefusal, FlagWithoutItsValueIsRefused) {
  auto r = load_with({"--node"});
  EXPECT_TRUE(refused_with(r, {"--node"}));
}

TEST(ConfigRefusal, BadFlagValueNamesTheSettingTheFlagAndTheValue) {
  auto r = load_with({"--hold-seconds", "0"});
  EXPECT_TRUE(
      refused_with(r, {"orders.hold_seconds", "\"0\"", "flag --orders-hold-seconds", "1..604800"}));
}

TEST(ConfigRefusal, EveryBadSettingGetsItsOwnLine) {
  auto r = load_with({"--node", "Bad Name", "--http-threads", "0"}, {{"SOUK_LOG_LEVEL", "loud"}});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.errors.size(), 3u) << joined(r.errors);
  EXPECT_NE(joined(r.errors).find("node.name"), std::string::npos);
  EXPECT_NE(joined(r.errors).find("http.threads"), std::string::npos);
  EXPECT_NE(joined(r.errors).find("log.level"), std::string::npos);
}

// -- the config file ------------------------------------------------------------------------------

TEST(ConfigRefusal, UnknownFileKeyIsRefusedWithItsNameAndTheKeysOfItsSection) {
  temp_dir dir;
  auto r = load_file(dir, "[http]\ncolour = \"blue\"\n");
  EXPECT_TRUE(refused_with(r, {"http.colour", dir / "souk.toml", "[http] knows", "listen",
                               "threads", "max_body_bytes", "drain_timeout_ms"}));
}

TEST(ConfigRefusal, UnknownFileSectionIsRefusedWithTheListOfSections) {
  temp_dir dir;
  auto r = load_file(dir, "[nosuch]\nkey = 1\n");
  EXPECT_TRUE(refused_with(r, {"nosuch.key", "[node]", "[http]", "[store]", "[admin]"}));
}

TEST(ConfigRefusal, KeyOutsideASectionIsRefused) {
  temp_dir dir;
  auto r = load_file(dir, "name = \"n1\"\n[node]\ndata = \"/d\"\n");
  EXPECT_TRUE(refused_with(r, {"\"name\"", "sections", "[node]"}));
}

TEST(ConfigRefusal, KeyInANestedSectionIsRefused) {
  temp_dir dir;
  auto r = load_file(dir, "[http.extra]\nthreads = 2\n");
  EXPECT_TRUE(refused_with(r, {"http.extra.threads", "line 2", "sections", "[http]"}));
  r = load_file(dir, "[http]\nextra.threads = 2\n"); // the same through a dotted key
  EXPECT_TRUE(refused_with(r, {"http.extra.threads", "line 2", "sections"}));
  r = load_file(dir, "[node]\nname = \"a\"\n[http.extra]\n"); // nested, even when empty
  EXPECT_TRUE(refused_with(r, {"[http.extra]", "line 3", "do not nest"}));
}

TEST(ConfigRefusal, BadFileValueNamesTheFileTheSettingAndTheValue) {
  temp_dir dir;
  auto r = load_file(dir, "[store]\nbatch_max_writes = 0\n");
  EXPECT_TRUE(refused_with(r, {"store.batch_max_writes", "\"0\"", dir / "souk.toml", "1..100000"}));
}

TEST(ConfigRefusal, ArrayForAScalarKeyIsRefused) {
  temp_dir dir;
  auto r = load_file(dir, "[http]\nthreads = [1, 2]\n");
  EXPECT_TRUE(refused_with(r, {"http.threads", "one value", "array of 2"}));
  r = load_file(dir, "[http]\nthreads = [4]\n");
  EXPECT_TRUE(refused_with(r, {"http.threads", "one value"}));
}

TEST(ConfigRefusal, RepeatedScalarKeyIsRefused) {
  // toml++ refuses it as a syntax error on the second key's line; it names the key but not the
  // section or the first line.
  temp_dir dir;
  auto r = load_file(dir, "[http]\nthreads = 1\nthreads = 2\n");
  EXPECT_TRUE(refused_with(r, {dir / "souk.toml", "not valid TOML", "line 3", "'threads'"}));
}

TEST(ConfigRefusal, RepeatedSectionIsRefused) {
  // TOML defines a table once: the second [http] header is refused, whatever keys follow it.
  temp_dir dir;
  auto r = load_file(dir, "[http]\nthreads = 1\n[node]\nname = \"a\"\n[http]\nthreads = 2\n");
  EXPECT_TRUE(refused_with(r, {dir / "souk.toml", "not valid TOML", "line 5", "'http'"}));
  r = load_file(dir, "[http]\nthreads = 1\n[http]\nmax_body_bytes = 2048\n");
  EXPECT_TRUE(refused_with(r, {dir / "souk.toml", "not valid TOML", "line 3", "'http'"}));
}

TEST(ConfigRefusal, MissingConfigFileIsRefusedWithItsPath) {
  temp_dir dir;
  auto r = load_with({"--config", dir / "missing.toml"});
  EXPECT_TRUE(refused_with(r, {"--config", dir / "missing.toml"}));
}

TEST(ConfigRefusal, ConfigPathThatIsAFolderIsRefused) {
  temp_dir dir;
  auto r = load_with({"--config", dir.path()});
  EXPECT_TRUE(refused_with(r, {dir.path()}));
}

TEST(ConfigRefusal, MalformedTomlIsRefusedWithTheFileNameAndLine) {
  temp_dir dir;
  struct {
    const char* text;
    const char* line;
  } cases[] = {
      {"[http\nthreads = 2\n", "line 1"},                     // unclosed section header
      {"[http]\nthreads\n", "line 2"},                        // key without value
      {"[http]\n= 2\n", "line 2"},                            // value without key
      {"[http]\nthreads =\n", "line 2"},                      // nothing after '='
      {"[node]\n\nname = \"unterminated\n", "line 3"},        // unterminated string
      {"[cluster]\nseeds = [\"a:1\",\n\"b:2\"\n", "line 3"},  // unterminated array (at the end)
      {"[cluster]\nseeds = [\"a:1\" \"b:2\"]\n", "line 2"},   // missing comma
      {"[node]\nname = \"a\" trailing\n", "line 2"},          // junk after a value
      {"[node]\nname = \"bad \\q escape\"\n", "line 2"},      // unknown escape
      {"; ini comment\n", "line 1"},                          // not TOML
      {"[store]\nsynchronous = FULL\n", "line 2"},            // a bare word is not a value
      {"[node]\nname = \"\xff\"\n", "line 2"},                // not UTF-8
      {"[http]\nthreads = 99999999999999999999\n", "line 2"}, // beyond 64 bits
  };
  for (auto& c : cases) {
    auto r = load_file(dir, c.text);
    EXPECT_TRUE(refused_with(r, {dir / "souk.toml", "not valid TOML", c.line})) << c.text;
  }
}

TEST(ConfigRefusal, SyntaxErrorNamesTheFileLineColumnAndWhatIsWrong) {
  temp_dir dir;
  auto r = load_file(dir, "# souk\n[http]\nthreads = 2\nlisten \"127.0.0.1:1\"\n");
  ASSERT_TRUE(refused_with(r, {"line 4"}));
  auto& line = r.errors.front();
  auto head = "config file \"" + (dir / "souk.toml") + "\" is not valid TOML: line 4, column ";
  EXPECT_EQ(line.rfind(head, 0), 0u) << line;
  EXPECT_NE(line.find("expected '='"), std::string::npos) << line; // toml++'s description
}

TEST(ConfigRefusal, UnsupportedTomlFormsAreRefused) {
  temp_dir dir;
  struct {
    const char* text;
    const char* key;
  } cases[] = {
      {"[http]\nlisten = { host = \"h\" }\n", "\"http.listen\""},       // inline table
      {"http = { threads = 2 }\n", "\"http\""},                         // inline table as section
      {"[node]\nname = \"a\"\n[[http]]\nthreads = 2\n", "\"http\""},    // array of tables
      {"[cluster]\nseeds = [{ host = \"a\" }]\n", "\"cluster.seeds\""}, // inline tables in an array
      {"[cluster]\nseeds = [[\"a:1\"]]\n", "\"cluster.seeds\""},        // nested array
  };
  for (auto& c : cases) {
    auto r = load_file(dir, c.text);
    EXPECT_TRUE(refused_with(r, {dir / "souk.toml", c.key, "not supported"})) << c.text;
  }
}

TEST(ConfigRefusal, FileValuesOfOtherTomlTypesAreCheckedAsText) {
  temp_dir dir;
  auto r = load_file(dir, "[http]\nthreads = 2.0\n");
  EXPECT_TRUE(refused_with(r, {"http.threads", "\"2.0\"", "line 2", "an integer in 1..64"}));
  r = load_file(dir, "[store]\nsynchronous = true\n");
  EXPECT_TRUE(refused_with(r, {"store.synchronous", "\"true\"", "NORMAL or FULL"}));
  r = load_file(dir, "[orders]\nhold_seconds = 1979-05-27\n");
  EXPECT_TRUE(refused_with(r, {"orders.hold_seconds", "\"1979-05-27\"", "1..604800"}));
  r = load_file(dir, "[http]\nthreads = 0x41\n"); // hexadecimal 65, shown in decimal
  EXPECT_TRUE(refused_with(r, {"http.threads", "\"65\"", "1..64"}));
  r = load_file(dir, "[cluster]\nseeds = [\"a:1\", 7]\n");
  EXPECT_TRUE(refused_with(r, {"cluster.seeds", "\"a:1,7\"", "HOST:PORT"}));
}

TEST(ConfigRefusal, BadFileValuesAreReportedInTheFilesOrder) {
  // toml++ keeps keys sorted by name; the refusals still follow the file.
  temp_dir dir;
  auto r = load_file(dir, "[store]\nsynchronous = \"OFF\"\n[http]\nthreads = 0\ncolour = 1\n");
  ASSERT_EQ(r.errors.size(), 3u) << joined(r.errors);
  EXPECT_NE(r.errors[0].find("store.synchronous"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[0].find("line 2"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[1].find("http.threads"), std::string::npos) << r.errors[1];
  EXPECT_NE(r.errors[1].find("line 4"), std::string::npos) << r.errors[1];
  EXPECT_NE(r.errors[2].find("http.colour"), std::string::npos) << r.errors[2];
  EXPECT_NE(r.errors[2].find("line 5"), std::string::npos) << r.errors[2];
}

TEST(ConfigRefusal, ValueWithANewlineIsReportedOnOneLine) {
  auto r = load_with({}, {{"SOUK_LOG_LEVEL", "info\nerror"}});
  EXPECT_TRUE(refused_with(r, {"log.level", "\"info\\nerror\""}));
}

// -- environment ----------------------------------------------------------------------------------

TEST(ConfigRefusal, UnknownSoukEnvironmentVariableIsRefusedWithItsName) {
  auto r = load_with({}, {{"SOUK_HTTP_COLOUR", "blue"}});
  EXPECT_TRUE(refused_with(r, {"SOUK_HTTP_COLOUR", "names no setting"}));
}

TEST(ConfigRefusal, BadEnvironmentValueNamesTheVariable) {
  auto r = load_with({}, {{"SOUK_STORE_MAX_PENDING_WRITES", "lots"}});
  EXPECT_TRUE(refused_with(r, {"store.max_pending_writes", "\"lots\"",
                               "environment variable SOUK_STORE_MAX_PENDING_WRITES"}));
}

// -- values ---------------------------------------------------------------------------------------

TEST(ConfigRefusal, OutOfRangeIntegersAreRefused) {
  struct {
    const char* flag;
    const char* value;
    const char* setting;
  } cases[] = {
      {"--http-threads", "0", "http.threads"},
      {"--http-threads", "65", "http.threads"},
      {"--http-max-body-bytes", "1023", "http.max_body_bytes"},
      {"--http-max-body-bytes", "67108865", "http.max_body_bytes"},
      {"--store-batch-max-writes", "100001", "store.batch_max_writes"},
      {"--store-batch-max-delay-us", "-1", "store.batch_max_delay_us"},
      {"--hold-seconds", "604801", "orders.hold_seconds"},
      {"--wms-step-seconds", "86401", "warehouse.step_seconds"},
      {"--demo-catalog", "-5", "catalog.demo_products"},
      {"--demo-catalog", "10000001", "catalog.demo_products"},
      {"--catalog-page-cache-entries", "-1", "catalog.page_cache_entries"},
      {"--catalog-page-cache-entries", "10000001", "catalog.page_cache_entries"},
      {"--orders-step-timeout-ms", "5", "orders.step_timeout_ms"},
      {"--orders-max-attempts", "0", "orders.max_attempts"},
      {"--entities-idle-timeout-ms", "-1", "entities.idle_timeout_ms"},
      {"--cart-max-qty-per-line", "0", "cart.max_qty_per_line"},
      {"--bank-decline-percent", "101", "bank.decline_percent"},
      {"--bank-auto-approve", "yes", "bank.auto_approve"},
      {"--http-threads", "99999999999999999999", "http.threads"},
      {"--http-threads", "-9223372036854775809", "http.threads"},
  };
  for (auto& c : cases) {
    auto r = load_with({c.flag, c.value});
    EXPECT_TRUE(refused_with(r, {c.setting, std::string{"\""} + c.value + "\""}))
        << c.flag << " " << c.value;
  }
}

TEST(ConfigRefusal, BadPageCacheSizeIsRefusedWithWhereItCameFromAndTheRange) {
  temp_dir dir;
  auto r = load_file(dir, "[catalog]\npage_cache_entries = -1\n");
  EXPECT_TRUE(refused_with(
      r, {"catalog.page_cache_entries", "\"-1\"", "line 2", "an integer in 0..10000000"}));
  r = load_with({}, {{"SOUK_CATALOG_PAGE_CACHE_ENTRIES", "lots"}});
  EXPECT_TRUE(refused_with(r, {"catalog.page_cache_entries", "\"lots\"",
                               "environment variable SOUK_CATALOG_PAGE_CACHE_ENTRIES",
                               "an integer in 0..10000000"}));
}

TEST(ConfigRefusal, BankSwitchesTakeOnlyTrueOrFalse) {
  temp_dir dir;
  auto r = load_file(dir, "[bank]\nduplicate_callbacks = 1\n");
  EXPECT_TRUE(refused_with(r, {"bank.duplicate_callbacks", "\"1\"", "line 2", "true or false"}));
  r = load_file(dir, "[bank]\nduplicate_callbacks = true\nauto_approve = false\n");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.values.bank.duplicate_callbacks);
  EXPECT_FALSE(r.values.bank.auto_approve);
}

TEST(ConfigRefusal, NonIntegersAreRefused) {
  for (const char* value : {"", "abc", "12abc", "1.5", "0x10", "1e3", " 4", "4 ", "--"}) {
    auto r = load_with({}, {{"SOUK_HTTP_THREADS", value}});
    EXPECT_TRUE(
        refused_with(r, {"http.threads", std::string{"\""} + value + "\"", "an integer in 1..64"}))
        << '"' << value << '"';
  }
}

TEST(ConfigRefusal, BadHostPortIsRefused) {
  for (const char* value :
       {"localhost", "localhost:", ":8080", "host:port", "host:65536", "host:-1", "::1:8080",
        "[::1]", "[::1]8080", "[::1:8080", "[]:80", "ho st:80", "host:80:90", "h@st:80", ""}) {
    auto r = load_with({"--http", value});
    EXPECT_TRUE(refused_with(r, {"http.listen", std::string{"\""} + value + "\"", "HOST:PORT"}))
        << value;
  }
}

TEST(ConfigRefusal, UnbracketedIpv6IsRefusedAndBracketedAccepted) {
  auto r = load_with({"--http", "::1:8080"});
  EXPECT_TRUE(refused_with(r, {"http.listen", "::1:8080", "brackets"}));
  r = load_with({"--http", "[::1]:8080", "--cluster", "[fe80::1:2]:0"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.listen, (endpoint{"::1", 8080}));
  EXPECT_EQ(r.values.http.listen.to_string(), "[::1]:8080");
  EXPECT_EQ(r.values.cluster.listen, (endpoint{"fe80::1:2", 0}));
}

TEST(ConfigRefusal, SeedWithPortZeroOrBadAddressIsRefused) {
  auto r = load_with({"--seeds", "a:1,b:0"});
  EXPECT_TRUE(refused_with(r, {"cluster.seeds", "\"a:1,b:0\"", "1..65535"}));
  r = load_with({"--seeds", "a:1,::1:2"});
  EXPECT_TRUE(refused_with(r, {"cluster.seeds", "::1:2"}));
}

TEST(ConfigRefusal, BadSynchronousModeIsRefused) {
  auto r = load_with({}, {{"SOUK_STORE_SYNCHRONOUS", "MAYBE"}});
  EXPECT_TRUE(refused_with(r, {"store.synchronous", "\"MAYBE\"", "NORMAL or FULL"}));
  temp_dir dir;
  r = load_file(dir, "[store]\nsynchronous = \"OFF\"\n");
  EXPECT_TRUE(refused_with(r, {"store.synchronous", "\"OFF\""}));
}

TEST(ConfigRefusal, BadLogLevelIsRefused) {
  auto r = load_with({"--log-level", "verbose"});
  EXPECT_TRUE(refused_with(r, {"log.level", "\"verbose\"", "debug, info, warn or error"}));
}

TEST(ConfigRefusal, BadNodeNamesAreRefused) {
  for (const std::string& name :
       {std::string{""}, std::string{"-n1"}, std::string{"_n1"}, std::string{"N1"},
        std::string{"n 1"}, std::string{"n.1"}, std::string{"n/1"}, std::string(33, 'a')}) {
    auto r = load_with({"--node", name});
    EXPECT_TRUE(refused_with(r, {"node.name", "\"" + name + "\""})) << name;
  }
}

TEST(ConfigRefusal, GoodNodeNamesAreAccepted) {
  for (const std::string& name :
       {std::string{"a"}, std::string{"0node"}, std::string{"node-2_b"}, std::string(32, 'z')}) {
    auto r = load_with({"--node", name});
    ASSERT_TRUE(accepted(r)) << name;
    EXPECT_EQ(r.values.node.name, name);
  }
}

TEST(ConfigRefusal, BadEmailAndShortPasswordAreRefused) {
  auto r = load_with({"--admin-email", "nobody"});
  EXPECT_TRUE(refused_with(r, {"admin.email", "\"nobody\""}));
  r = load_with({}, {{"SOUK_ADMIN_PASSWORD", "short"}});
  EXPECT_TRUE(refused_with(r, {"admin.password", "8 to 1024"}));
}

TEST(ConfigRefusal, EmptyDataFolderIsRefused) {
  auto r = load_with({"--data", ""});
  EXPECT_TRUE(refused_with(r, {"node.data", "\"\""}));
}

// -- consistency ----------------------------------------------------------------------------------

TEST(ConfigRefusal, SameHttpAndClusterAddressIsRefused) {
  auto r = load_with({"--http", "127.0.0.1:7400"});
  EXPECT_TRUE(refused_with(r, {"http.listen", "cluster.listen", "127.0.0.1:7400"}));
}

TEST(ConfigRefusal, RetryHorizonMustStayBelowWhatTheParticipantsRemember) {
  // A saga resending after the SKUs forgot the reservation could put returned units back twice.
  auto r = load_with({"--entities-tombstone-ttl-ms", "3600000"});
  EXPECT_TRUE(refused_with(
      r, {"orders.retry_horizon_ms", "72000000", "entities.tombstone_ttl_ms", "3600000"}));
  r = load_with(
      {"--orders-retry-horizon-ms", "86400000", "--entities-tombstone-ttl-ms", "172800000"});
  EXPECT_TRUE(refused_with(r, {"orders.retry_horizon_ms", "86400000", "bank.retention_ms"}));
  r = load_with({"--entities-tombstone-ttl-ms", "3600000", "--orders-retry-horizon-ms", "3000000",
                 "--bank-retention-ms", "3600000"});
  EXPECT_TRUE(accepted(r));
  // 0 turns the horizon off; an external bank's memory is its own business.
  EXPECT_TRUE(accepted(
      load_with({"--entities-tombstone-ttl-ms", "3600000", "--orders-retry-horizon-ms", "0"})));
  // A bank-only process runs no sagas: its bank may forget sooner than a node's default horizon.
  EXPECT_TRUE(accepted(load_with({"--bank-only", "--bank-retention-ms", "3600000"})));
  EXPECT_TRUE(accepted(load_with({"--orders-retry-horizon-ms", "86399999", "--bank-mode",
                                  "external", "--bank-url", "http://127.0.0.1:9"})));
}

TEST(ConfigRefusal, BothListenersOnPortZeroAreAllowed) {
  auto r = load_with({"--http", "127.0.0.1:0", "--cluster", "127.0.0.1:0"});
  EXPECT_TRUE(accepted(r));
}

// -- parse_endpoint directly ----------------------------------------------------------------------

TEST(ParseEndpoint, PortZeroIsAllowedOnlyWhenAsked) {
  EXPECT_TRUE(parse_endpoint("h:0", true).has_value());
  EXPECT_FALSE(parse_endpoint("h:0", false).has_value());
  auto e = parse_endpoint("[2001:db8::7]:443", false);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "2001:db8::7");
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->to_string(), "[2001:db8::7]:443");
}

} // namespace
