// soukd as a real process: start-up, health, clean shutdown on SIGTERM/SIGINT, JSON log
// lines, and exit code 2 with a "soukd: " line for every start failure and refused setting.
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace souk {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr auto ready_timeout = 20s;
constexpr auto exit_timeout = 10s;

/// The test's environment without SOUK_* variables (soukd refuses unknown ones), plus `extra`.
std::map<std::string, std::string> child_env(const std::map<std::string, std::string>& extra = {}) {
  auto env = test::current_environment();
  for (auto it = env.begin(); it != env.end();)
    it = it->first.rfind("SOUK_", 0) == 0 ? env.erase(it) : std::next(it);
  for (auto& [name, value] : extra)
    env[name] = value;
  return env;
}

/// A line as JSON, or null when it is not a JSON object.
json parse_line(const std::string& line) {
  auto parsed = json::parse(line, nullptr, false);
  return parsed.is_object() ? parsed : json{};
}

/// The port of `HOST:PORT`.
std::uint16_t port_of(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  return colon == std::string::npos
             ? 0
             : static_cast<std::uint16_t>(std::stoul(endpoint.substr(colon + 1)));
}

/// The first stderr line starting with "soukd: ", empty when there is none.
std::string soukd_line(const test::process& p) {
  for (auto& line : p.stderr_lines())
    if (line.rfind("soukd: ", 0) == 0)
      return line;
  return {};
}

/// True when some stderr line is JSON with "message": `message`.
bool logged(const test::process& p, const std::string& message) {
  for (auto& line : p.stderr_lines())
    if (auto j = parse_line(line); !j.is_null() && j.value("message", "") == message)
      return true;
  return false;
}

class SoukdTest : public ::testing::Test {
protected:
  std::string data_dir() const { return tmp_ / "data"; }

  /// Flags for a node on free loopback ports with its data in `dir` (default: data_dir()).
  std::vector<std::string> node_args(const std::string& dir = {}) const {
    return {"--data",     dir.empty() ? data_dir() : dir, "--http", "127.0.0.1:0", "--cluster",
            "127.0.0.1:0"};
  }

  std::unique_ptr<test::process> launch(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env = {}) {
    auto p = std::make_unique<test::process>(SOUK_SOUKD_PATH, args, child_env(env));
    EXPECT_EQ(p->error(), 0) << "cannot start " << SOUK_SOUKD_PATH;
    return p;
  }

  /// Waits for the "node ready" line; null when it does not come in time.
  static json wait_ready(test::process& p) {
    auto line = p.wait_for_stderr_line(
        [](const std::string& l) { return parse_line(l).value("message", "") == "node ready"; },
        std::chrono::duration_cast<std::chrono::milliseconds>(ready_timeout));
    return line ? parse_line(*line) : json{};
  }

  /// Runs soukd to completion (it must exit by itself) and returns its exit code.
  std::optional<int> run_to_exit(test::process& p) {
    auto code = p.wait_exit(std::chrono::duration_cast<std::chrono::milliseconds>(exit_timeout));
    EXPECT_TRUE(code) << "soukd did not exit; stderr:\n" << p.stderr_text();
    return code;
  }

  test::temp_dir tmp_;
};

// -- running and stopping ---------------------------------------------------------------------

class SoukdSignalTest : public SoukdTest, public ::testing::WithParamInterface<int> {};

TEST_P(SoukdSignalTest, AnswersHealthAndExitsZeroOnTheStopSignal) {
  auto p = launch(node_args());
  auto ready = wait_ready(*p);
  ASSERT_FALSE(ready.is_null()) << "no \"node ready\" line; stderr:\n" << p->stderr_text();
  auto port = port_of(ready.value("http", ""));
  ASSERT_NE(port, 0) << ready.dump();
  EXPECT_EQ(ready.value("http", "").rfind("127.0.0.1:", 0), 0U) << ready.dump();
  EXPECT_EQ(ready.value("cluster", "").rfind("127.0.0.1:", 0), 0U) << ready.dump();
  EXPECT_NE(port_of(ready.value("cluster", "")), 0);

  auto health = test::http_get(port, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "alive");
  auto readyz = test::http_get(port, "/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);
  EXPECT_EQ(json::parse(readyz->body)["status"], "ready");

  auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(p->signal(GetParam()));
  auto code = p->wait_exit(std::chrono::duration_cast<std::chrono::milliseconds>(exit_timeout));
  ASSERT_TRUE(code) << "soukd still runs " << exit_timeout.count() << " s after the signal";
  EXPECT_EQ(*code, 0) << p->stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - began, exit_timeout);
  EXPECT_TRUE(logged(*p, "node stopped")) << p->stderr_text();
  bool named = false;
  for (auto& line : p->stderr_lines())
    if (auto j = parse_line(line); j.value("message", "") == "stop signal")
      named = j.value("signal", "") == (GetParam() == SIGTERM ? "SIGTERM" : "SIGINT");
  EXPECT_TRUE(named) << "no \"stop signal\" line naming the signal:\n" << p->stderr_text();
  // The port is closed now.
  test::http_connection after{port, 1s};
  EXPECT_FALSE(after.connected());
}

INSTANTIATE_TEST_SUITE_P(Signals, SoukdSignalTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::string{param.param == SIGTERM ? "Sigterm" : "Sigint"};
                         });

TEST_F(SoukdTest, EveryStderrLineIsJsonWithTimeLevelNodeAndMessage) {
  auto args = node_args();
  args.insert(args.end(), {"--node", "e2e-7"});
  auto p = launch(args);
  auto ready = wait_ready(*p);
  ASSERT_FALSE(ready.is_null()) << p->stderr_text();
  auto port = port_of(ready.value("http", ""));
  ASSERT_TRUE(test::http_get(port, "/healthz"));
  ASSERT_TRUE(test::http_get(port, "/no/such/route")); // a 404 is logged too
  ASSERT_TRUE(p->signal(SIGTERM));
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);

  ASSERT_GE(p->stderr_lines().size(), 3U) << p->stderr_text();
  for (auto& line : p->stderr_lines()) {
    SCOPED_TRACE(line);
    auto j = parse_line(line);
    ASSERT_TRUE(j.is_object()) << "not a JSON object";
    ASSERT_TRUE(j.contains("time") && j["time"].is_string());
    ASSERT_TRUE(j.contains("level") && j["level"].is_string());
    ASSERT_TRUE(j.contains("node") && j["node"].is_string());
    ASSERT_TRUE(j.contains("message") && j["message"].is_string());
    EXPECT_EQ(j["node"], "e2e-7");
    auto level = j["level"].get<std::string>();
    EXPECT_TRUE(level == "debug" || level == "info" || level == "warn" || level == "error");
    auto time = j["time"].get<std::string>();
    EXPECT_EQ(time.size() >= 20 ? time[10] : ' ', 'T') << time;
    EXPECT_EQ(time.empty() ? ' ' : time.back(), 'Z') << time;
  }
  // Nothing was left unterminated.
  auto text = p->stderr_text();
  EXPECT_EQ(text.back(), '\n');
  EXPECT_TRUE(logged(*p, "request"));
}

TEST_F(SoukdTest, RestartOnTheSameDataDirAfterSigtermStartsAgain) {
  {
    auto first = launch(node_args());
    auto ready = wait_ready(*first);
    ASSERT_FALSE(ready.is_null()) << first->stderr_text();
    EXPECT_EQ(ready["new_store"], true);
    ASSERT_TRUE(first->signal(SIGTERM));
    auto code = run_to_exit(*first);
    ASSERT_TRUE(code);
    ASSERT_EQ(*code, 0) << first->stderr_text();
  }
  EXPECT_TRUE(std::filesystem::exists(data_dir() + "/souk.db"));
  auto second = launch(node_args());
  auto ready = wait_ready(*second);
  ASSERT_FALSE(ready.is_null()) << "restart failed; stderr:\n" << second->stderr_text();
  EXPECT_EQ(ready["new_store"], false) << "the data did not persist";
  auto readyz = test::http_get(port_of(ready.value("http", "")), "/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);
  ASSERT_TRUE(second->signal(SIGTERM));
  auto code = run_to_exit(*second);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << second->stderr_text();
}

TEST_F(SoukdTest, RestartAfterSigkillStartsAgain) {
  {
    auto first = launch(node_args());
    ASSERT_FALSE(wait_ready(*first).is_null()) << first->stderr_text();
    ASSERT_TRUE(first->signal(SIGKILL));
    auto code = run_to_exit(*first);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 128 + SIGKILL);
  }
  // The LOCK file is still there, naming a dead process; the lock itself died with it.
  EXPECT_TRUE(std::filesystem::exists(data_dir() + "/LOCK"));
  auto second = launch(node_args());
  auto ready = wait_ready(*second);
  ASSERT_FALSE(ready.is_null()) << "restart failed; stderr:\n" << second->stderr_text();
  EXPECT_EQ(ready["new_store"], false);
  ASSERT_TRUE(second->signal(SIGTERM));
  auto code = run_to_exit(*second);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << second->stderr_text();
}

// -- start failures ---------------------------------------------------------------------------

TEST_F(SoukdTest, BusyHttpPortExitsWithCode2NamingThePort) {
  test::busy_port taken;
  ASSERT_NE(taken.port(), 0);
  auto address = "127.0.0.1:" + std::to_string(taken.port());
  auto p = launch({"--data", data_dir(), "--http", address, "--cluster", "127.0.0.1:0"});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << p->stderr_text();
  auto line = soukd_line(*p);
  EXPECT_NE(line.find("http.listen"), std::string::npos) << p->stderr_text();
  EXPECT_NE(line.find(address), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, BusyClusterPortExitsWithCode2NamingThePort) {
  test::busy_port taken;
  ASSERT_NE(taken.port(), 0);
  auto address = "127.0.0.1:" + std::to_string(taken.port());
  auto p = launch({"--data", data_dir(), "--http", "127.0.0.1:0", "--cluster", address});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << p->stderr_text();
  auto line = soukd_line(*p);
  EXPECT_NE(line.find("cluster.listen"), std::string::npos) << p->stderr_text();
  EXPECT_NE(line.find(address), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, DataPathThatIsARegularFileExitsWithCode2) {
  auto file = tmp_ / "not-a-folder";
  { std::ofstream{file} << "a file"; }
  auto p = launch(node_args(file));
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << p->stderr_text();
  auto line = soukd_line(*p);
  EXPECT_NE(line.find("data folder"), std::string::npos) << p->stderr_text();
  EXPECT_NE(line.find(file), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, CorruptDatabaseExitsWithCode2NamingTheFile) {
  std::filesystem::create_directories(data_dir());
  {
    std::ofstream db{data_dir() + "/souk.db", std::ios::binary};
    db << std::string(8192, '\x5a') << "not an SQLite database";
  }
  auto p = launch(node_args());
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << p->stderr_text();
  auto line = soukd_line(*p);
  EXPECT_NE(line.find(data_dir() + "/souk.db"), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, SecondSoukdOnTheSameDataDirExitsWithCode2) {
  auto first = launch(node_args());
  ASSERT_FALSE(wait_ready(*first).is_null()) << first->stderr_text();
  auto second = launch(node_args());
  auto code = run_to_exit(*second);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << second->stderr_text();
  auto line = soukd_line(*second);
  EXPECT_NE(line.find("in use"), std::string::npos) << second->stderr_text();
  EXPECT_NE(line.find(std::to_string(first->pid())), std::string::npos) << second->stderr_text();
  // The first one is unharmed and still stops cleanly.
  ASSERT_TRUE(first->signal(SIGTERM));
  auto first_code = run_to_exit(*first);
  ASSERT_TRUE(first_code);
  EXPECT_EQ(*first_code, 0);
}

TEST_F(SoukdTest, DataDirOfAnotherNodeExitsWithCode2NamingTheOwner) {
  {
    auto n1 = launch(node_args());
    ASSERT_FALSE(wait_ready(*n1).is_null()) << n1->stderr_text();
    ASSERT_TRUE(n1->signal(SIGTERM));
    ASSERT_TRUE(run_to_exit(*n1));
  }
  auto args = node_args();
  args.insert(args.end(), {"--node", "n2"});
  auto n2 = launch(args);
  auto code = run_to_exit(*n2);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2) << n2->stderr_text();
  EXPECT_NE(soukd_line(*n2).find("belongs to node n1"), std::string::npos) << n2->stderr_text();
}

// -- settings ---------------------------------------------------------------------------------

TEST_F(SoukdTest, NonsenseHttpValueExitsWithCode2AndOneLineNamingIt) {
  auto p = launch({"--data", data_dir(), "--http", "nonsense"});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  ASSERT_EQ(p->stderr_lines().size(), 1U) << p->stderr_text();
  auto& line = p->stderr_lines().front();
  EXPECT_EQ(line.rfind("soukd: ", 0), 0U) << line;
  EXPECT_NE(line.find("http.listen"), std::string::npos) << line;
  EXPECT_NE(line.find("nonsense"), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(data_dir())) << "refused settings touched the data folder";
}

TEST_F(SoukdTest, UnknownFlagExitsWithCode2) {
  auto p = launch({"--data", data_dir(), "--no-such-flag"});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  auto line = soukd_line(*p);
  EXPECT_NE(line.find("--no-such-flag"), std::string::npos) << p->stderr_text();
  EXPECT_EQ(p->stdout_text(), "");
}

TEST_F(SoukdTest, ZeroHttpThreadsFromTheEnvironmentExitsWithCode2NamingIt) {
  auto p = launch(node_args(), {{"SOUK_HTTP_THREADS", "0"}});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  auto line = soukd_line(*p);
  EXPECT_NE(line.find("http.threads"), std::string::npos) << p->stderr_text();
  EXPECT_NE(line.find("SOUK_HTTP_THREADS"), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, UnknownSoukVariableExitsWithCode2) {
  auto p = launch(node_args(), {{"SOUK_NO_SUCH_THING", "1"}});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(soukd_line(*p).find("SOUK_NO_SUCH_THING"), std::string::npos) << p->stderr_text();
}

TEST_F(SoukdTest, HelpExitsZeroAndPrintsUsage) {
  auto p = launch({"--help"});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  auto& out = p->stdout_text();
  EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  for (auto flag : {"--http", "--cluster", "--data", "--node", "--config", "--print-config"})
    EXPECT_NE(out.find(flag), std::string::npos) << flag << " missing from:\n" << out;
  EXPECT_EQ(p->stderr_text(), "");
}

TEST_F(SoukdTest, PrintConfigExitsZeroWithTomlThatSoukdReadsBack) {
  auto p = launch({"--http", "127.0.0.1:9999", "--node", "n3", "--print-config"});
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << p->stderr_text();
  auto toml = p->stdout_text();
  EXPECT_NE(toml.find("[http]"), std::string::npos) << toml;
  EXPECT_NE(toml.find("[node]"), std::string::npos) << toml;
  EXPECT_NE(toml.find("listen = \"127.0.0.1:9999\""), std::string::npos) << toml;
  EXPECT_NE(toml.find("name = \"n3\""), std::string::npos) << toml;
  EXPECT_EQ(p->stderr_text(), "");
  // The text is a config file soukd accepts, giving the same settings back.
  auto file = tmp_ / "printed.toml";
  { std::ofstream{file} << toml; }
  auto again = launch({"--config", file, "--print-config"});
  auto again_code = run_to_exit(*again);
  ASSERT_TRUE(again_code);
  EXPECT_EQ(*again_code, 0) << again->stderr_text();
  EXPECT_EQ(again->stdout_text(), toml);
}

} // namespace
} // namespace souk

namespace souk {
namespace {

// -- the catalog through a real process -------------------------------------------------------

// soukd once started with the catalog code linked but its routes never registered: every
// catalog call answered 404. This proves a fresh node serves its demo catalog end to end.
TEST_F(SoukdTest, FreshNodeServesItsDemoCatalogOverHttp) {
  auto args = node_args();
  args.insert(args.end(), {"--demo-catalog", "300"});
  auto p = launch(args);
  auto ready = wait_ready(*p);
  ASSERT_FALSE(ready.is_null()) << p->stderr_text();
  EXPECT_TRUE(logged(*p, "demo catalog generated"));
  auto port = port_of(ready.value("http", ""));

  auto search = test::http_get(port, "/v1/products?q=krossov&limit=5");
  ASSERT_TRUE(search);
  ASSERT_EQ(search->status, 200) << search->body;
  auto body = json::parse(search->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << search->body;
  ASSERT_FALSE(body["data"].empty()) << search->body;
  for (auto& item : body["data"])
    EXPECT_NE(item["title"].get<std::string>().find("Krossov"), std::string::npos) << item;
  EXPECT_GE(body["total_estimate"].get<int>(), static_cast<int>(body["data"].size()));

  auto id = body["data"][0]["id"].get<std::int64_t>();
  auto product = test::http_get(port, "/v1/products/" + std::to_string(id));
  ASSERT_TRUE(product);
  EXPECT_EQ(product->status, 200) << product->body;

  auto regions = test::http_get(port, "/v1/regions");
  ASSERT_TRUE(regions);
  ASSERT_EQ(regions->status, 200);
  EXPECT_GE(json::parse(regions->body)["warehouses"].size(), 3u);

  ASSERT_TRUE(p->signal(SIGTERM));
  auto code = run_to_exit(*p);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << p->stderr_text();
}

} // namespace
} // namespace souk

namespace souk {
namespace {

// -- seller writes through a real process -----------------------------------------------------

/// `method target` with a JSON body and, unless empty, `Authorization: Bearer <token>`.
std::optional<test::http_reply> send_json(std::uint16_t port, const std::string& method,
                                          const std::string& target, const std::string& body,
                                          const std::string& token) {
  test::http_connection conn{port};
  if (!conn.connected())
    return std::nullopt;
  std::string extra = "Content-Type: application/json\r\n";
  if (!token.empty())
    extra += "Authorization: Bearer " + token + "\r\n";
  return conn.round_trip(test::make_request(method, target, extra, body, false));
}

/// The admin's bearer token: the password soukd generated and logged once at its first start,
/// used with `POST /v1/sessions` like any login. Empty when either step fails.
std::string admin_token(const test::process& p, std::uint16_t port) {
  std::string email, password;
  for (auto& line : p.stderr_lines())
    if (auto j = parse_line(line); j.value("message", "").rfind("admin account created", 0) == 0) {
      email = j.value("email", "");
      password = j.value("password", "");
    }
  if (password.empty())
    return {};
  auto reply = send_json(port, "POST", "/v1/sessions",
                         json{{"email", email}, {"password", password}}.dump(), "");
  if (!reply || reply->status != 201)
    return {};
  auto body = json::parse(reply->body, nullptr, false);
  return body.is_object() && body.value("role", "") == "admin" ? body.value("token", "")
                                                               : std::string{};
}

/// True when `GET /v1/products?q=<word>` lists product `id`.
bool search_lists(std::uint16_t port, const std::string& word, std::int64_t id) {
  auto reply = test::http_get(port, "/v1/products?limit=100&q=" + word);
  if (!reply || reply->status != 200)
    return false;
  auto body = json::parse(reply->body, nullptr, false);
  if (!body.is_object() || !body["data"].is_array())
    return false;
  for (auto& item : body["data"])
    if (item["id"] == id)
      return true;
  return false;
}

// The seller routes are wired into soukd with the node's token secret: the admin account
// created at first start (its generated password logged once) logs in and a product the search
// finds at once, a request without it is refused, and the token (the secret is kept in the store)
// still works after a restart.
TEST_F(SoukdTest, AdminLoginCreatesAProductThatSearchFinds) {
  auto args = node_args();
  args.insert(args.end(), {"--demo-catalog", "50"});
  auto token = std::string{};
  const std::string product =
      R"({"title":"Vorpalquist e2e lantern","brand":"Souktest","category":"home/lighting",)"
      R"("skus":[{"sku":"E2E-LANTERN-1","price":{"amount":129900,"currency":"RUB"}}]})";
  std::int64_t id = 0;
  {
    auto p = launch(args);
    auto ready = wait_ready(*p);
    ASSERT_FALSE(ready.is_null()) << p->stderr_text();
    auto port = port_of(ready.value("http", ""));
    ASSERT_NE(port, 0) << ready.dump();
    token = admin_token(*p, port);
    ASSERT_EQ(token.rfind("v1.", 0), 0U) << "no admin login from the logged password:\n"
                                         << p->stderr_text();

    auto refused = send_json(port, "POST", "/v1/products", product, "");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << refused->body;
    EXPECT_EQ(refused->header("www-authenticate"), "Bearer");
    EXPECT_EQ(json::parse(refused->body, nullptr, false).value("code", ""), "unauthorized");
    auto forged = token;
    forged.back() = forged.back() == 'A' ? 'Q' : 'A';
    auto forged_reply = send_json(port, "POST", "/v1/products", product, forged);
    ASSERT_TRUE(forged_reply);
    EXPECT_EQ(forged_reply->status, 401) << forged_reply->body;
    EXPECT_FALSE(search_lists(port, "vorpalquist", 0));

    auto created = send_json(port, "POST", "/v1/products", product, token);
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    auto body = json::parse(created->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body["id"].is_number_integer()) << created->body;
    id = body["id"].get<std::int64_t>();
    EXPECT_EQ(created->header("location"), "/v1/products/" + std::to_string(id));
    EXPECT_EQ(body["price"], (json{{"amount", 129900}, {"currency", "RUB"}}));
    EXPECT_TRUE(search_lists(port, "vorpalquist", id)) << "the new product is not in the search";
    auto page = test::http_get(port, created->header("location"));
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200) << page->body;

    ASSERT_TRUE(p->signal(SIGTERM));
    auto code = run_to_exit(*p);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0) << p->stderr_text();
  }

  // Restarted on the same data: the product is still found and the first token still signs in.
  auto again = launch(node_args());
  auto ready = wait_ready(*again);
  ASSERT_FALSE(ready.is_null()) << again->stderr_text();
  auto port = port_of(ready.value("http", ""));
  EXPECT_TRUE(search_lists(port, "vorpalquist", id)) << "the product did not survive a restart";
  auto renamed = send_json(port, "PATCH", "/v1/products/" + std::to_string(id),
                           R"({"title":"Kestrelune e2e lantern"})", token);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->status, 200) << renamed->body;
  EXPECT_TRUE(search_lists(port, "kestrelune", id));
  EXPECT_FALSE(search_lists(port, "vorpalquist", id));
  ASSERT_TRUE(again->signal(SIGTERM));
  auto code = run_to_exit(*again);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << again->stderr_text();
}

/// The state of the snapshot of sku/`sku` in the database at `path`, null when there is none.
json sku_snapshot(const std::string& path, const std::string& sku) {
  sqlite3* db = nullptr;
  json out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT state FROM snapshots WHERE kind = 'sku' AND key = ?1", -1,
                           &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, sku.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW)
        out = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), nullptr,
                          false);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

/// `available` of `sku` on product `id`'s page, -1 when the page or the SKU is missing.
std::int64_t available_of(std::uint16_t port, std::int64_t id, const std::string& sku) {
  auto page = test::http_get(port, "/v1/products/" + std::to_string(id) + "?region=msk");
  if (!page || page->status != 200)
    return -1;
  auto body = json::parse(page->body, nullptr, false);
  if (!body.is_object())
    return -1;
  for (auto& s : body["skus"])
    if (s.value("sku", "") == sku)
      return s.value("available", std::int64_t{-1});
  return -1;
}

// Stock belongs to the SKU's actor once the entities run: a seller's PUT goes to that actor,
// the catalog's availability follows it, and the number survives a restart (the snapshot and
// the stock table, the actor's projection, agree).
TEST_F(SoukdTest, StockSetBySellersIsOwnedByTheSkuActorAndSurvivesARestart) {
  auto args = node_args();
  args.insert(args.end(), {"--demo-catalog", "20"});
  std::string token;
  std::int64_t id = 0;
  std::string sku;
  {
    auto p = launch(args);
    auto ready = wait_ready(*p);
    ASSERT_FALSE(ready.is_null()) << p->stderr_text();
    auto port = port_of(ready.value("http", ""));
    token = admin_token(*p, port);
    ASSERT_FALSE(token.empty()) << p->stderr_text();
    auto product = test::http_get(port, "/v1/products/1");
    ASSERT_TRUE(product);
    ASSERT_EQ(product->status, 200) << product->body;
    auto body = json::parse(product->body);
    id = body["id"].get<std::int64_t>();
    sku = body["skus"][0]["sku"].get<std::string>();
    auto before = available_of(port, id, sku);
    ASSERT_GE(before, 0);

    auto set = send_json(port, "PUT", "/v1/skus/" + sku + "/stock",
                         R"({"warehouse_id":"wh-msk","on_hand":7777})", token);
    ASSERT_TRUE(set);
    ASSERT_EQ(set->status, 200) << set->body;
    auto after = available_of(port, id, sku);
    EXPECT_GE(after, 7777) << "availability did not follow the SKU actor";
    auto negative = send_json(port, "PUT", "/v1/skus/" + sku + "/stock",
                              R"({"warehouse_id":"wh-msk","on_hand":-1})", token);
    ASSERT_TRUE(negative);
    EXPECT_EQ(negative->status, 422) << negative->body;
    ASSERT_TRUE(p->signal(SIGTERM));
    auto code = run_to_exit(*p);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0) << p->stderr_text();
  }
  // The number lives in the SKU actor's snapshot, not only in the catalog's table.
  auto state = sku_snapshot(data_dir() + "/souk.db", sku);
  ASSERT_TRUE(state.is_object()) << "no snapshot of sku/" << sku;
  EXPECT_EQ(state["warehouses"]["wh-msk"]["on_hand"], 7777) << state.dump();

  auto again = launch(node_args());
  auto ready = wait_ready(*again);
  ASSERT_FALSE(ready.is_null()) << again->stderr_text();
  auto port = port_of(ready.value("http", ""));
  EXPECT_GE(available_of(port, id, sku), 7777) << "the stock did not survive a restart";
  ASSERT_TRUE(again->signal(SIGTERM));
  auto code = run_to_exit(*again);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << again->stderr_text();
}

// API.md "Running a node": SIGTERM finishes requests and flushes. A cart answers before its
// write-behind snapshot (cart.write_behind_ms); a stop must write it rather than lose the
// line the buyer was told is in the cart.
TEST_F(SoukdTest, ACartChangeAnsweredJustBeforeSigtermIsThereAfterTheRestart) {
  auto args = node_args();
  args.insert(args.end(), {"--demo-catalog", "20", "--cart-write-behind-ms", "60000"});
  std::string token, sku;
  {
    auto p = launch(args);
    auto ready = wait_ready(*p);
    ASSERT_FALSE(ready.is_null()) << p->stderr_text();
    auto port = port_of(ready.value("http", ""));
    auto guest = send_json(port, "POST", "/v1/sessions/guest", "{}", "");
    ASSERT_TRUE(guest);
    ASSERT_EQ(guest->status, 201) << guest->body;
    token = json::parse(guest->body)["token"].get<std::string>();
    auto product = test::http_get(port, "/v1/products/1");
    ASSERT_TRUE(product);
    sku = json::parse(product->body)["skus"][0]["sku"].get<std::string>();
    auto add =
        send_json(port, "POST", "/v1/cart/items", R"({"sku":")" + sku + R"(","qty":3})", token);
    ASSERT_TRUE(add);
    ASSERT_EQ(add->status, 200) << add->body;
    ASSERT_TRUE(p->signal(SIGTERM)); // long before the write-behind is due
    auto code = run_to_exit(*p);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0) << p->stderr_text();
  }
  auto again = launch(args);
  auto ready = wait_ready(*again);
  ASSERT_FALSE(ready.is_null()) << again->stderr_text();
  auto port = port_of(ready.value("http", ""));
  test::http_connection conn{port};
  ASSERT_TRUE(conn.connected());
  auto cart = conn.round_trip(
      test::make_request("GET", "/v1/cart", "Authorization: Bearer " + token + "\r\n", "", false));
  ASSERT_TRUE(cart);
  ASSERT_EQ(cart->status, 200) << cart->body;
  auto items = json::parse(cart->body)["items"];
  ASSERT_EQ(items.size(), 1U) << "the line answered before SIGTERM was lost: " << cart->body;
  EXPECT_EQ(items[0]["sku"], sku);
  EXPECT_EQ(items[0]["qty"], 3);
  ASSERT_TRUE(again->signal(SIGTERM));
  auto code = run_to_exit(*again);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << again->stderr_text();
}

} // namespace
} // namespace souk
