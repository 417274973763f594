// api/openapi.json describes exactly the routes a node serves: every (method, path) the edge
// registers is in the file, and every operation in the file is registered.
#include "runtime/node.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::runtime {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using route = std::pair<std::string, std::string>; // (lowercase method, path template)

json openapi_document() {
  std::ifstream in{std::string{SOUK_SOURCE_DIR} + "/api/openapi.json"};
  return json::parse(in, nullptr, false);
}

std::set<route> documented(const json& doc) {
  static const std::set<std::string> methods{"get",   "put",     "post", "delete",
                                             "patch", "options", "head", "trace"};
  std::set<route> out;
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items())
      if (methods.count(method) > 0)
        out.emplace(method, path);
  return out;
}

std::set<route> served() {
  test::temp_dir tmp;
  config::settings s;
  s.node.data_dir = tmp / "data";
  s.http.listen = {"127.0.0.1", 0};
  s.http.drain_timeout = 1s;
  s.cluster.listen = {"127.0.0.1", 0};
  s.actors.threads = 2;
  s.catalog.demo_products = 0;
  s.auth.password_iterations = 1'000;
  node n{s};
  auto err = n.start();
  EXPECT_EQ(err, "");
  std::set<route> out;
  for (auto& [method, path] : n.routes()) {
    std::string m = method;
    std::transform(m.begin(), m.end(), m.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.emplace(m, path);
  }
  n.stop();
  return out;
}

TEST(OpenApiTest, TheFileIsOpenApi31WithOperationIdsAndResponses) {
  auto doc = openapi_document();
  ASSERT_TRUE(doc.is_object()) << "api/openapi.json is not valid JSON";
  EXPECT_EQ(doc.value("openapi", ""), "3.1.0");
  std::set<std::string> ids;
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items()) {
      EXPECT_TRUE(op.contains("responses") && !op["responses"].empty()) << method << " " << path;
      auto id = op.value("operationId", "");
      EXPECT_FALSE(id.empty()) << method << " " << path;
      EXPECT_TRUE(ids.insert(id).second) << "duplicate operationId " << id;
    }
}

TEST(OpenApiTest, EveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  auto doc = openapi_document();
  ASSERT_TRUE(doc.is_object());
  auto in_file = documented(doc);
  auto in_server = served();
  ASSERT_FALSE(in_server.empty());
  for (auto& [method, path] : in_server)
    EXPECT_TRUE(in_file.count({method, path}) > 0)
        << method << " " << path << " is served but missing from api/openapi.json";
  for (auto& [method, path] : in_file)
    EXPECT_TRUE(in_server.count({method, path}) > 0)
        << method << " " << path << " is in api/openapi.json but the node does not serve it";
}

} // namespace
} // namespace souk::runtime
