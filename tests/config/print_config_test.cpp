#include "config/load.hpp"
#include "tests/support/config_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using souk::config::load_result;
using souk::config::to_toml;
using souk::test::accepted;
using souk::test::load_with;
using souk::test::temp_dir;
using souk::test::write_file;

/// Every setting, for comparing two loads field by field.
void expect_same_settings(const souk::config::settings& a, const souk::config::settings& b) {
  EXPECT_EQ(a.node.name, b.node.name);
  EXPECT_EQ(a.node.data_dir, b.node.data_dir);
  EXPECT_EQ(a.http.listen, b.http.listen);
  EXPECT_EQ(a.http.threads, b.http.threads);
  EXPECT_EQ(a.http.max_header_bytes, b.http.max_header_bytes);
  EXPECT_EQ(a.http.max_body_bytes, b.http.max_body_bytes);
  EXPECT_EQ(a.http.read_timeout, b.http.read_timeout);
  EXPECT_EQ(a.http.idle_timeout, b.http.idle_timeout);
  EXPECT_EQ(a.http.max_connections, b.http.max_connections);
  EXPECT_EQ(a.http.drain_timeout, b.http.drain_timeout);
  EXPECT_EQ(a.cluster.listen, b.cluster.listen);
  EXPECT_EQ(a.cluster.seeds, b.cluster.seeds);
  EXPECT_EQ(a.actors.threads, b.actors.threads);
  EXPECT_EQ(a.store.synchronous, b.store.synchronous);
  EXPECT_EQ(a.store.batch_max_writes, b.store.batch_max_writes);
  EXPECT_EQ(a.store.batch_max_delay, b.store.batch_max_delay);
  EXPECT_EQ(a.store.max_pending_writes, b.store.max_pending_writes);
  EXPECT_EQ(a.store.busy_timeout, b.store.busy_timeout);
  EXPECT_EQ(a.catalog.demo_products, b.catalog.demo_products);
  EXPECT_EQ(a.catalog.page_cache_entries, b.catalog.page_cache_entries);
  EXPECT_EQ(a.orders.hold, b.orders.hold);
  EXPECT_EQ(a.warehouse.step, b.warehouse.step);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.file, b.log.file);
  EXPECT_EQ(a.admin.email, b.admin.email);
  EXPECT_EQ(a.admin.password, b.admin.password);
}

/// Prints `printed`'s settings, loads them back through --config and returns that load.
load_result reload(const temp_dir& dir, const load_result& printed) {
  auto path = write_file(dir, "printed.toml", printed.output);
  return load_with({"--config", path});
}

TEST(ConfigOutput, HelpExitsZeroAndListsFlagsAndVariables) {
  auto r = load_with({"--help"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.errors.empty());
  for (const char* needle :
       {"--config", "--print-config", "--node", "--http", "--cluster", "--seeds", "--data",
        "--demo-catalog", "--hold-seconds", "--wms-step-seconds", "--http-max-body-bytes",
        "SOUK_HTTP_MAX_BODY_BYTES", "--version"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << " missing in:\n" << r.output;
}

TEST(ConfigOutput, ShortHelpFlagWorksToo) {
  auto r = load_with({"-h"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--node"), std::string::npos);
}

TEST(ConfigOutput, HelpWinsOverBadSettings) {
  auto r = load_with({"--help", "--http-threads", "0"}, {{"SOUK_BOGUS", "1"}});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.output.empty());
}

TEST(ConfigOutput, VersionExitsZeroWithTheProgramAndVersion) {
  auto r = load_with({"--version"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.output.rfind("soukd ", 0), 0u) << r.output;
  EXPECT_EQ(r.output.back(), '\n');
  EXPECT_GT(r.output.size(), std::string{"soukd \n"}.size());
}

TEST(ConfigOutput, PrintConfigExitsZeroWithEverySection) {
  auto r = load_with({"--print-config", "--node", "n9"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.errors.empty());
  for (const char* needle :
       {"[node]", "[http]", "[cluster]", "[actors]", "[store]", "[catalog]", "[orders]",
        "[warehouse]", "[log]", "[admin]", "name = \"n9\"", "SOUK_NODE_NAME", "--node-name"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << " missing in:\n" << r.output;
  EXPECT_EQ(r.values.node.name, "n9"); // the values are there too
}

TEST(ConfigOutput, PrintConfigWithBadSettingsRefusesInstead) {
  auto r = load_with({"--print-config", "--http-threads", "0"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.output.empty());
  EXPECT_EQ(r.errors.size(), 1u);
}

TEST(ConfigOutput, DefaultsRoundTripThroughPrintConfig) {
  temp_dir dir;
  auto printed = load_with({"--print-config"});
  ASSERT_EQ(printed.exit_code, 0);
  auto back = reload(dir, printed);
  ASSERT_TRUE(accepted(back)) << printed.output;
  expect_same_settings(printed.values, back.values);
  EXPECT_EQ(to_toml(back.values), printed.output);
}

TEST(ConfigOutput, EveryChangedSettingRoundTripsThroughPrintConfig) {
  temp_dir dir;
  auto printed = load_with({"--print-config",
                            "--node",
                            "n3",
                            "--data",
                            "/srv/souk data/n#3",
                            "--http",
                            "[::1]:18080",
                            "--cluster",
                            "0.0.0.0:17400",
                            "--seeds",
                            "a:1,[::2]:2,c.example:3",
                            "--demo-catalog",
                            "12",
                            "--catalog-page-cache-entries",
                            "0",
                            "--hold-seconds",
                            "61",
                            "--wms-step-seconds",
                            "0",
                            "--http-threads",
                            "3",
                            "--http-max-header-bytes",
                            "2048",
                            "--http-max-body-bytes",
                            "4096",
                            "--http-read-timeout-ms",
                            "101",
                            "--http-idle-timeout-ms",
                            "102",
                            "--http-max-connections",
                            "103",
                            "--http-drain-timeout-ms",
                            "104",
                            "--actors-threads",
                            "5",
                            "--store-synchronous",
                            "full",
                            "--store-batch-max-writes",
                            "7",
                            "--store-batch-max-delay-us",
                            "8",
                            "--store-max-pending-writes",
                            "9",
                            "--store-busy-timeout-ms",
                            "10",
                            "--log-level",
                            "warn",
                            "--log-file",
                            "/var/log/souk.log",
                            "--admin-email",
                            "ops@example.org"});
  ASSERT_EQ(printed.exit_code, 0) << souk::test::joined(printed.errors);
  auto back = reload(dir, printed);
  ASSERT_TRUE(accepted(back)) << printed.output;
  expect_same_settings(printed.values, back.values);
  EXPECT_EQ(to_toml(back.values), printed.output);
}

TEST(ConfigOutput, QuotesAndBackslashesRoundTripThroughPrintConfig) {
  temp_dir dir;
  auto printed = load_with({"--print-config", "--data", R"(C:\souk\"quoted" dir)", "--log-file",
                            R"(\\server\share\log's)"});
  ASSERT_EQ(printed.exit_code, 0) << souk::test::joined(printed.errors);
  auto back = reload(dir, printed);
  ASSERT_TRUE(accepted(back)) << printed.output;
  EXPECT_EQ(back.values.node.data_dir, R"(C:\souk\"quoted" dir)");
  EXPECT_EQ(back.values.log.file, R"(\\server\share\log's)");
}

TEST(ConfigOutput, HashAndEscapedQuotesRoundTripThroughPrintConfig) {
  temp_dir dir;
  auto printed = load_with({"--print-config", "--data", R"(/srv/"a" # b)", "--admin-email",
                            R"("o#k"@example.org)", "--log-file", R"(x\"# y)"});
  ASSERT_EQ(printed.exit_code, 0) << souk::test::joined(printed.errors);
  EXPECT_NE(printed.output.find(R"(data = "/srv/\"a\" # b")"), std::string::npos) << printed.output;
  auto back = reload(dir, printed);
  ASSERT_TRUE(accepted(back)) << printed.output;
  EXPECT_EQ(back.values.node.data_dir, R"(/srv/"a" # b)");
  EXPECT_EQ(back.values.admin.email, R"("o#k"@example.org)");
  EXPECT_EQ(back.values.log.file, R"(x\"# y)");
  EXPECT_EQ(to_toml(back.values), printed.output);
}

TEST(ConfigOutput, ControlCharactersRoundTripThroughPrintConfig) {
  temp_dir dir;
  auto printed = load_with({"--print-config"}, {{"SOUK_NODE_DATA", "two\nlines\tand\x01"
                                                                   "ctl"}});
  ASSERT_EQ(printed.exit_code, 0) << souk::test::joined(printed.errors);
  EXPECT_NE(printed.output.find(R"(data = "two\nlines\tand\u0001ctl")"), std::string::npos)
      << printed.output;
  auto back = reload(dir, printed);
  ASSERT_TRUE(accepted(back)) << printed.output;
  EXPECT_EQ(back.values.node.data_dir, "two\nlines\tand\x01"
                                       "ctl");
}

TEST(ConfigOutput, AdminPasswordIsMaskedInPrintConfig) {
  auto r = load_with({"--print-config"}, {{"SOUK_ADMIN_PASSWORD", "hunter2-secret"}});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.find("hunter2-secret"), std::string::npos);
  EXPECT_NE(r.output.find("password = \"********\""), std::string::npos) << r.output;
  EXPECT_EQ(r.values.admin.password, "hunter2-secret"); // masked in print only
}

TEST(ConfigOutput, EmptyAdminPasswordIsPrintedEmpty) {
  auto r = load_with({"--print-config"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("password = \"\""), std::string::npos) << r.output;
}

} // namespace
