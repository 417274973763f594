#include "config/load.hpp"
#include "tests/support/config_test_support.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using souk::base::log_level;
using souk::config::endpoint;
using souk::config::sync_mode;
using souk::test::accepted;
using souk::test::load_with;
using souk::test::temp_dir;
using souk::test::write_file;

// -- defaults -------------------------------------------------------------------------------------

TEST(ConfigLoad, NothingGivenYieldsTheDocumentedDefaults) {
  auto r = load_with({});
  ASSERT_TRUE(accepted(r));
  EXPECT_TRUE(r.output.empty());
  auto& s = r.values;
  EXPECT_EQ(s.config_file, "");
  EXPECT_EQ(s.node.name, "n1");
  EXPECT_EQ(s.node.data_dir, "./data");
  EXPECT_EQ(s.http.listen, (endpoint{"127.0.0.1", 8080}));
  EXPECT_EQ(s.http.threads, 2);
  EXPECT_EQ(s.http.max_header_bytes, 8u * 1024);
  EXPECT_EQ(s.http.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(s.http.read_timeout, 10s);
  EXPECT_EQ(s.http.idle_timeout, 60s);
  EXPECT_EQ(s.http.max_connections, 10'000u);
  EXPECT_EQ(s.http.drain_timeout, 10s);
  EXPECT_EQ(s.cluster.listen, (endpoint{"127.0.0.1", 7400}));
  EXPECT_TRUE(s.cluster.seeds.empty());
  EXPECT_EQ(s.actors.threads, 2);
  EXPECT_EQ(s.store.synchronous, sync_mode::normal);
  EXPECT_EQ(s.store.batch_max_writes, 1000u);
  EXPECT_EQ(s.store.batch_max_delay, 0us);
  EXPECT_EQ(s.store.max_pending_writes, 100'000u);
  EXPECT_EQ(s.store.busy_timeout, 5s);
  EXPECT_FALSE(s.catalog.demo_products.has_value());
  EXPECT_EQ(s.catalog.page_cache_entries, 100'000u);
  EXPECT_EQ(s.orders.hold, 900s);
  EXPECT_EQ(s.warehouse.step, 30s);
  EXPECT_EQ(s.log.level, log_level::info);
  EXPECT_EQ(s.log.file, "");
  EXPECT_EQ(s.admin.email, "admin@souk.local");
  EXPECT_EQ(s.admin.password, "");
}

TEST(ConfigLoad, EmptyArgumentListIsAcceptedLikeNoFlags) {
  auto r = souk::config::load({}, {});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "n1");
}

TEST(ConfigLoad, EnvironmentWithoutSoukVariablesIsIgnored) {
  auto r = load_with({}, {{"PATH", "/usr/bin"},
                          {"HOME", "/root"},
                          {"SOUK", "x"},
                          {"SOUKD_NODE_NAME", "zz"},
                          {"souk_node_name", "zz"}});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "n1");
}

// -- the flags API.md fixes -----------------------------------------------------------------------

TEST(ConfigLoad, NodeFlagSetsTheNodeName) {
  auto r = load_with({"--node", "n2"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "n2");
}

TEST(ConfigLoad, HttpFlagSetsTheHttpListenAddress) {
  auto r = load_with({"--http", "0.0.0.0:9090"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.listen, (endpoint{"0.0.0.0", 9090}));
}

TEST(ConfigLoad, ClusterFlagSetsTheClusterListenAddress) {
  auto r = load_with({"--cluster", "10.1.2.3:7401"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.cluster.listen, (endpoint{"10.1.2.3", 7401}));
}

TEST(ConfigLoad, SeedsFlagTakesACommaSeparatedList) {
  auto r = load_with({"--seeds", "a.example:7400,10.0.0.2:7401,[::1]:7402"});
  ASSERT_TRUE(accepted(r));
  ASSERT_EQ(r.values.cluster.seeds.size(), 3u);
  EXPECT_EQ(r.values.cluster.seeds[0], (endpoint{"a.example", 7400}));
  EXPECT_EQ(r.values.cluster.seeds[1], (endpoint{"10.0.0.2", 7401}));
  EXPECT_EQ(r.values.cluster.seeds[2], (endpoint{"::1", 7402}));
}

TEST(ConfigLoad, DataFlagSetsTheDataFolder) {
  auto r = load_with({"--data", "/var/lib/souk/n2"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.data_dir, "/var/lib/souk/n2");
}

TEST(ConfigLoad, DemoCatalogFlagTakesACountOrAuto) {
  auto r = load_with({"--demo-catalog", "50"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.catalog.demo_products, 50);
  r = load_with({"--demo-catalog", "0"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.catalog.demo_products, 0);
  r = load_with({"--demo-catalog", "auto"}, {{"SOUK_CATALOG_DEMO_PRODUCTS", "7"}});
  ASSERT_TRUE(accepted(r));
  EXPECT_FALSE(r.values.catalog.demo_products.has_value());
}

TEST(ConfigLoad, PageCacheEntriesComeFromTheFileTheEnvironmentOrTheFlag) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", "[catalog]\npage_cache_entries = 5000\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.catalog.page_cache_entries, 5000u);
  r = load_with({"--config", path}, {{"SOUK_CATALOG_PAGE_CACHE_ENTRIES", "0"}});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.catalog.page_cache_entries, 0u); // 0: no cache
  r = load_with({"--catalog-page-cache-entries", "10000000"},
                {{"SOUK_CATALOG_PAGE_CACHE_ENTRIES", "7"}});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.catalog.page_cache_entries, 10'000'000u);
}

TEST(ConfigLoad, HoldSecondsFlagSetsTheCheckoutHold) {
  auto r = load_with({"--hold-seconds", "60"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.orders.hold, 60s);
}

TEST(ConfigLoad, WmsStepSecondsFlagSetsTheWarehouseStep) {
  auto r = load_with({"--wms-step-seconds", "0"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.warehouse.step, 0s);
  r = load_with({"--wms-step-seconds", "5"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.warehouse.step, 5s);
}

TEST(ConfigLoad, ConfigFlagReadsTheFileAndRecordsItsPath) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", "[node]\nname = \"fromfile\"\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.config_file, path);
  EXPECT_EQ(r.values.node.name, "fromfile");
}

TEST(ConfigLoad, FlagsAcceptTheEqualsForm) {
  auto r = load_with({"--node=n5", "--http=127.0.0.1:0", "--hold-seconds=30"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "n5");
  EXPECT_EQ(r.values.http.listen.port, 0);
  EXPECT_EQ(r.values.orders.hold, 30s);
}

TEST(ConfigLoad, RepeatedFlagTakesTheLastValue) {
  // Scripts may append an override to a list of common flags.
  auto r = load_with({"--http-threads", "3", "--http-threads", "4", "--node", "a", "--node", "b"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 4);
  EXPECT_EQ(r.values.node.name, "b");
}

TEST(ConfigLoad, EverySettingAlsoHasALongGeneratedFlag) {
  auto r = load_with({"--node-name",
                      "n3",
                      "--node-data",
                      "/d",
                      "--http-listen",
                      "127.0.0.1:1",
                      "--http-threads",
                      "8",
                      "--http-max-header-bytes",
                      "4096",
                      "--http-max-body-bytes",
                      "2048",
                      "--http-read-timeout-ms",
                      "150",
                      "--http-idle-timeout-ms",
                      "250",
                      "--http-max-connections",
                      "12",
                      "--http-drain-timeout-ms",
                      "0",
                      "--cluster-listen",
                      "127.0.0.1:2",
                      "--cluster-seeds",
                      "h:3",
                      "--actors-threads",
                      "4",
                      "--store-synchronous",
                      "full",
                      "--store-batch-max-writes",
                      "100",
                      "--store-batch-max-delay-us",
                      "500",
                      "--store-max-pending-writes",
                      "10",
                      "--store-busy-timeout-ms",
                      "0",
                      "--catalog-demo-products",
                      "9",
                      "--catalog-page-cache-entries",
                      "11",
                      "--orders-hold-seconds",
                      "61",
                      "--warehouse-step-seconds",
                      "7",
                      "--log-level",
                      "debug",
                      "--log-file",
                      "/tmp/souk.log",
                      "--admin-email",
                      "root@example.org",
                      "--admin-password",
                      "correct horse"});
  ASSERT_TRUE(accepted(r));
  auto& s = r.values;
  EXPECT_EQ(s.node.name, "n3");
  EXPECT_EQ(s.node.data_dir, "/d");
  EXPECT_EQ(s.http.listen, (endpoint{"127.0.0.1", 1}));
  EXPECT_EQ(s.http.threads, 8);
  EXPECT_EQ(s.http.max_header_bytes, 4096u);
  EXPECT_EQ(s.http.max_body_bytes, 2048u);
  EXPECT_EQ(s.http.read_timeout, 150ms);
  EXPECT_EQ(s.http.idle_timeout, 250ms);
  EXPECT_EQ(s.http.max_connections, 12u);
  EXPECT_EQ(s.http.drain_timeout, 0ms);
  EXPECT_EQ(s.cluster.listen, (endpoint{"127.0.0.1", 2}));
  ASSERT_EQ(s.cluster.seeds.size(), 1u);
  EXPECT_EQ(s.cluster.seeds[0], (endpoint{"h", 3}));
  EXPECT_EQ(s.actors.threads, 4);
  EXPECT_EQ(s.store.synchronous, sync_mode::full);
  EXPECT_EQ(s.store.batch_max_writes, 100u);
  EXPECT_EQ(s.store.batch_max_delay, 500us);
  EXPECT_EQ(s.store.max_pending_writes, 10u);
  EXPECT_EQ(s.store.busy_timeout, 0ms);
  EXPECT_EQ(s.catalog.demo_products, 9);
  EXPECT_EQ(s.catalog.page_cache_entries, 11u);
  EXPECT_EQ(s.orders.hold, 61s);
  EXPECT_EQ(s.warehouse.step, 7s);
  EXPECT_EQ(s.log.level, log_level::debug);
  EXPECT_EQ(s.log.file, "/tmp/souk.log");
  EXPECT_EQ(s.admin.email, "root@example.org");
  EXPECT_EQ(s.admin.password, "correct horse");
}

TEST(ConfigLoad, IntegerBoundsAreInclusive) {
  auto r = load_with({"--http-threads", "64", "--actors-threads", "1", "--http-max-body-bytes",
                      "1024", "--hold-seconds", "604800", "--http", "127.0.0.1:65535"});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 64);
  EXPECT_EQ(r.values.actors.threads, 1);
  EXPECT_EQ(r.values.http.max_body_bytes, 1024u);
  EXPECT_EQ(r.values.orders.hold, 604800s);
  EXPECT_EQ(r.values.http.listen.port, 65535);
}

TEST(ConfigLoad, EnvironmentVariablesSetEverySetting) {
  auto r = load_with({}, {{"SOUK_NODE_NAME", "envnode"},
                          {"SOUK_NODE_DATA", "/env/data"},
                          {"SOUK_HTTP_LISTEN", "[::1]:8081"},
                          {"SOUK_HTTP_MAX_BODY_BYTES", "4096"},
                          {"SOUK_CLUSTER_SEEDS", "a:1,b:2"},
                          {"SOUK_STORE_SYNCHRONOUS", "FULL"},
                          {"SOUK_STORE_BATCH_MAX_DELAY_US", "250"},
                          {"SOUK_CATALOG_DEMO_PRODUCTS", "auto"},
                          {"SOUK_LOG_LEVEL", "error"},
                          {"SOUK_ADMIN_EMAIL", "ops@example.org"},
                          {"SOUK_ADMIN_PASSWORD", "s3cret-pass"}});
  ASSERT_TRUE(accepted(r));
  auto& s = r.values;
  EXPECT_EQ(s.node.name, "envnode");
  EXPECT_EQ(s.node.data_dir, "/env/data");
  EXPECT_EQ(s.http.listen, (endpoint{"::1", 8081}));
  EXPECT_EQ(s.http.max_body_bytes, 4096u);
  ASSERT_EQ(s.cluster.seeds.size(), 2u);
  EXPECT_EQ(s.cluster.seeds[1], (endpoint{"b", 2}));
  EXPECT_EQ(s.store.synchronous, sync_mode::full);
  EXPECT_EQ(s.store.batch_max_delay, 250us);
  EXPECT_FALSE(s.catalog.demo_products.has_value());
  EXPECT_EQ(s.log.level, log_level::error);
  EXPECT_EQ(s.admin.email, "ops@example.org");
  EXPECT_EQ(s.admin.password, "s3cret-pass");
}

// -- priority -------------------------------------------------------------------------------------

TEST(ConfigLoad, FileOverridesDefaultEnvOverridesFileAndFlagOverridesEnv) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml",
                         "[http]\nthreads = 3\n[orders]\nhold_seconds = 33\n"
                         "[node]\nname = \"file\"\n");
  // Default only.
  auto r = load_with({});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 2);
  // Default < file.
  r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 3);
  EXPECT_EQ(r.values.node.name, "file");
  // File < environment.
  souk::config::env_map env{{"SOUK_HTTP_THREADS", "4"}, {"SOUK_NODE_NAME", "env"}};
  r = load_with({"--config", path}, env);
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 4);
  EXPECT_EQ(r.values.node.name, "env");
  EXPECT_EQ(r.values.orders.hold, 33s); // a file setting no later layer touches stays
  // Environment < flag, for the generated flag and for an alias alike.
  r = load_with({"--config", path, "--http-threads", "5", "--node", "flag"}, env);
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 5);
  EXPECT_EQ(r.values.node.name, "flag");
  EXPECT_EQ(r.values.orders.hold, 33s);
}

TEST(ConfigLoad, FlagBeforeConfigStillWinsOverTheFile) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", "[node]\nname = \"file\"\n");
  auto r = load_with({"--node", "flag", "--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "flag");
}

// -- the config file ------------------------------------------------------------------------------

TEST(ConfigFile, SectionsArraysAndCommentsAreRead) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", R"(# souk test config
   # an indented comment

[node]
name = "n4"        # trailing comment
data = '/srv/souk/n4'

[http]
listen = "127.0.0.1:18080"
threads = 6
max_body_bytes = 65536

[cluster]
listen = "127.0.0.1:17400"
seeds = ["a:1","b:2"]

[store]
synchronous = "FULL"
batch_max_delay_us = 200

[catalog]
demo_products = "auto"

[log]
level = "warn"
)");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  auto& s = r.values;
  EXPECT_EQ(s.node.name, "n4");
  EXPECT_EQ(s.node.data_dir, "/srv/souk/n4");
  EXPECT_EQ(s.http.listen, (endpoint{"127.0.0.1", 18080}));
  EXPECT_EQ(s.http.threads, 6);
  EXPECT_EQ(s.http.max_body_bytes, 65536u);
  EXPECT_EQ(s.cluster.listen, (endpoint{"127.0.0.1", 17400}));
  ASSERT_EQ(s.cluster.seeds.size(), 2u);
  EXPECT_EQ(s.cluster.seeds[0], (endpoint{"a", 1}));
  EXPECT_EQ(s.cluster.seeds[1], (endpoint{"b", 2}));
  EXPECT_EQ(s.store.synchronous, sync_mode::full);
  EXPECT_EQ(s.store.batch_max_delay, 200us);
  EXPECT_FALSE(s.catalog.demo_products.has_value());
  EXPECT_EQ(s.log.level, log_level::warn);
}

TEST(ConfigFile, ArraysMaySpanLinesAndBeEmpty) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml",
                         "[cluster]\nseeds = [\n  \"a:1\",\n  \"b:2\",\n"
                         "  \"[::1]:3\"\n]\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  ASSERT_EQ(r.values.cluster.seeds.size(), 3u);
  EXPECT_EQ(r.values.cluster.seeds[2], (endpoint{"::1", 3}));

  path = write_file(dir, "empty.toml", "[cluster]\nseeds = []\n");
  r = load_with({"--config", path}, {{"SOUK_CLUSTER_SEEDS", ""}});
  ASSERT_TRUE(accepted(r));
  EXPECT_TRUE(r.values.cluster.seeds.empty());
}

TEST(ConfigFile, EmptyFileAndCommentOnlyFileKeepDefaults) {
  temp_dir dir;
  auto empty = write_file(dir, "empty.toml", "");
  auto comments = write_file(dir, "comments.toml", "# nothing\n\n[node]\n# name = \"x\"\n");
  for (auto& path : {empty, comments}) {
    auto r = load_with({"--config", path});
    ASSERT_TRUE(accepted(r)) << path;
    EXPECT_EQ(r.values.node.name, "n1");
    EXPECT_EQ(r.values.config_file, path);
  }
}

TEST(ConfigFile, StringsKeepSpacesHashesAndCommas) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", R"([node]
data = "/srv/my data/#1, main"   # where the node lives
[admin]
password = "pass#word, with spaces"
email = 'a,b@example.org'
)");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.data_dir, "/srv/my data/#1, main");
  EXPECT_EQ(r.values.admin.password, "pass#word, with spaces");
  EXPECT_EQ(r.values.admin.email, "a,b@example.org");
}

TEST(ConfigFile, BasicStringsUnderstandEscapes) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", R"([node]
data = "C:\\souk \"main\""
[log]
file = 'C:\logs\souk.log'
)");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.data_dir, R"(C:\souk "main")");
  EXPECT_EQ(r.values.log.file, R"(C:\logs\souk.log)"); // literal strings keep backslashes
}

TEST(ConfigFile, EmptyStringClearsASetting) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", "[log]\nfile = \"\"\n[admin]\npassword = \"\"\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.log.file, "");
  EXPECT_EQ(r.values.admin.password, "");
}

TEST(ConfigFile, WindowsLineEndingsAreAccepted) {
  temp_dir dir;
  auto path =
      write_file(dir, "souk.toml", "[node]\r\nname = \"crlf\"\r\n[http]\r\nthreads = 7\r\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "crlf");
  EXPECT_EQ(r.values.http.threads, 7);
}

TEST(ConfigFile, DottedAndQuotedKeysNameTheSameSettings) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml",
                         "http.threads = 3\n[ store ]\n\"batch_max_writes\" = 5\n"
                         "[log]\n'level' = \"debug\"\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.http.threads, 3);
  EXPECT_EQ(r.values.store.batch_max_writes, 5u);
  EXPECT_EQ(r.values.log.level, log_level::debug);
}

TEST(ConfigFile, IntegersMayUseDigitSeparatorsAndOtherBases) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml",
                         "[store]\nmax_pending_writes = 250_000\nbatch_max_writes = 0x10\n"
                         "busy_timeout_ms = 0o17\n[http]\nthreads = +3\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.store.max_pending_writes, 250'000u);
  EXPECT_EQ(r.values.store.batch_max_writes, 16u);
  EXPECT_EQ(r.values.store.busy_timeout, 15ms);
  EXPECT_EQ(r.values.http.threads, 3);
}

TEST(ConfigFile, OtherScalarTypesAreReadAsTheirText) {
  // Integers become decimal text and booleans true/false; each setting then checks the text.
  temp_dir dir;
  auto path = write_file(dir, "souk.toml",
                         "[node]\nname = 12\n[log]\nfile = true\n[catalog]\ndemo_products = 40\n"
                         "[cluster]\nseeds = [\"a:1\"]\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "12");
  EXPECT_EQ(r.values.log.file, "true");
  EXPECT_EQ(r.values.catalog.demo_products, 40);
  ASSERT_EQ(r.values.cluster.seeds.size(), 1u);
}

TEST(ConfigFile, UnicodeEscapesBecomeUtf8) {
  temp_dir dir;
  auto path =
      write_file(dir, "souk.toml", "[admin]\npassword = \"p\\u00e4ss-w\\u00F6rd-\\U0001F600\"\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.admin.password, "p\xc3\xa4ss-w\xc3\xb6rd-\xf0\x9f\x98\x80");
}

TEST(ConfigFile, QuotedValueWithHashAndEscapedQuotesIsReadWhole) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", R"([node]
data = "/srv/\"main\" # not a comment" # a comment
[admin]
password = 'a # all "one" value'
)");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.data_dir, R"(/srv/"main" # not a comment)");
  EXPECT_EQ(r.values.admin.password, R"(a # all "one" value)");
}

TEST(ConfigFile, MultiLineStringsAreRead) {
  temp_dir dir;
  auto path =
      write_file(dir, "souk.toml", "[node]\nname = \"\"\"n1\"\"\"\ndata = '''\n/srv/souk'''\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "n1");
  EXPECT_EQ(r.values.node.data_dir, "/srv/souk"); // the newline after ''' is dropped
}

TEST(ConfigFile, ByteOrderMarkIsSkipped) {
  temp_dir dir;
  auto path = write_file(dir, "souk.toml", "\xef\xbb\xbf[node]\nname = \"bom\"\n");
  auto r = load_with({"--config", path});
  ASSERT_TRUE(accepted(r));
  EXPECT_EQ(r.values.node.name, "bom");
}

TEST(ConfigFile, TheRepositoryExampleFileLoadsAsTheDefaults) {
  auto r = load_with({"--config", SOUK_SOURCE_DIR "/config/souk.example.toml"});
  ASSERT_TRUE(accepted(r));
  auto defaults = load_with({});
  EXPECT_EQ(souk::config::to_toml(r.values), souk::config::to_toml(defaults.values));
}

} // namespace
