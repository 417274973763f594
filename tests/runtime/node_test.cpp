// runtime::node in-process: start order, health over a real socket, stop, and each start
// failure (locked or foreign data folder, corrupt database, busy ports) with its message.
#include "runtime/node.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::runtime {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class NodeTest : public ::testing::Test {
protected:
  /// Settings for a node on free loopback ports with its data under the temp folder.
  config::settings settings_for(const std::string& name = "n1", const std::string& dir = {}) {
    config::settings s;
    s.node.name = name;
    s.node.data_dir = dir.empty() ? data_dir() : dir;
    s.http.listen = {"127.0.0.1", 0};
    s.http.threads = 2;
    s.http.drain_timeout = 1s;
    s.cluster.listen = {"127.0.0.1", 0};
    s.actors.threads = 2;
    return s;
  }

  std::string data_dir() const { return tmp_ / "data"; }

  test::temp_dir tmp_;
};

TEST_F(NodeTest, StartMakesTheNodeReadyAndServesHealth) {
  node n{settings_for()};
  EXPECT_FALSE(n.ready());
  ASSERT_EQ(n.start(), "");
  EXPECT_TRUE(n.ready());
  ASSERT_NE(n.http_port(), 0);
  EXPECT_NE(n.cluster_port(), 0);
  EXPECT_NE(n.http_port(), n.cluster_port());

  auto health = test::http_get(n.http_port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["node"], "n1");

  auto ready = test::http_get(n.http_port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body)["status"], "ready");

  EXPECT_TRUE(std::filesystem::exists(tmp_ / "data/souk.db"));
  n.stop();
}

TEST_F(NodeTest, ClusterPortAcceptsConnections) {
  node n{settings_for()};
  ASSERT_EQ(n.start(), "");
  test::http_connection conn{n.cluster_port()};
  EXPECT_TRUE(conn.connected()) << "errno " << conn.error();
}

TEST_F(NodeTest, StopClosesTheHttpPort) {
  node n{settings_for()};
  ASSERT_EQ(n.start(), "");
  auto port = n.http_port();
  ASSERT_TRUE(test::http_get(port, "/healthz"));
  n.stop();
  EXPECT_FALSE(n.ready());
  EXPECT_EQ(n.http_port(), 0);
  test::http_connection after{port, 1s};
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(after.error(), ECONNREFUSED);
  n.stop(); // idempotent
  EXPECT_FALSE(n.ready());
}

TEST_F(NodeTest, StopClosesTheClusterPort) {
  node n{settings_for()};
  ASSERT_EQ(n.start(), "");
  auto port = n.cluster_port();
  n.stop();
  EXPECT_EQ(n.cluster_port(), 0);
  test::http_connection after{port, 1s};
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(after.error(), ECONNREFUSED);
}

TEST_F(NodeTest, StartTwiceIsRefused) {
  node n{settings_for()};
  ASSERT_EQ(n.start(), "");
  EXPECT_EQ(n.start(), "node already started");
  EXPECT_TRUE(n.ready());
}

TEST_F(NodeTest, NodeStartsAgainOnTheSameDataDirAfterStop) {
  {
    node first{settings_for()};
    ASSERT_EQ(first.start(), "");
    first.stop();
    ASSERT_EQ(first.start(), "") << "the same node object restarts";
    first.stop();
  }
  node second{settings_for()};
  ASSERT_EQ(second.start(), "");
  auto ready = test::http_get(second.http_port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST_F(NodeTest, SecondNodeOnTheSameDataDirFails) {
  node first{settings_for()};
  ASSERT_EQ(first.start(), "");
  node second{settings_for()};
  auto err = second.start();
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
  EXPECT_NE(err.find(data_dir()), std::string::npos) << err;
  EXPECT_FALSE(second.ready());
  EXPECT_EQ(second.http_port(), 0);
  // The first node is unharmed.
  auto health = test::http_get(first.http_port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(NodeTest, DataDirOfAnotherNodeNameIsRefusedNamingTheOwner) {
  {
    node n1{settings_for("n1")};
    ASSERT_EQ(n1.start(), "");
  }
  node n2{settings_for("n2")};
  auto err = n2.start();
  EXPECT_NE(err.find("n1"), std::string::npos) << err;
  EXPECT_NE(err.find("belongs to node n1"), std::string::npos) << err;
  EXPECT_FALSE(n2.ready());
  // The failed start released the folder: n1 can have it again.
  node again{settings_for("n1")};
  EXPECT_EQ(again.start(), "");
}

TEST_F(NodeTest, CorruptDatabaseFailsNamingTheFile) {
  std::filesystem::create_directories(data_dir());
  {
    std::ofstream db{data_dir() + "/souk.db", std::ios::binary};
    db << std::string(8192, 'x') << "definitely not an SQLite file";
  }
  node n{settings_for()};
  auto err = n.start();
  EXPECT_NE(err, "");
  EXPECT_NE(err.find("souk.db"), std::string::npos) << err;
  EXPECT_FALSE(n.ready());
  EXPECT_EQ(n.http_port(), 0);
}

TEST_F(NodeTest, DataPathThatIsAFileFailsNamingIt) {
  auto file = tmp_ / "plain-file";
  { std::ofstream{file} << "not a folder"; }
  node n{settings_for("n1", file)};
  auto err = n.start();
  EXPECT_NE(err.find(file), std::string::npos) << err;
  EXPECT_NE(err.find("data folder"), std::string::npos) << err;
  EXPECT_FALSE(n.ready());
}

TEST_F(NodeTest, BusyHttpPortFailsNamingHttpListen) {
  test::busy_port taken;
  ASSERT_NE(taken.port(), 0);
  auto s = settings_for();
  s.http.listen.port = taken.port();
  node n{s};
  auto err = n.start();
  EXPECT_NE(err.find("http.listen"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(taken.port())), std::string::npos) << err;
  EXPECT_FALSE(n.ready());
  // Everything started before the edge was stopped again: the data folder is free.
  node other{settings_for()};
  EXPECT_EQ(other.start(), "");
}

TEST_F(NodeTest, BusyClusterPortFailsNamingClusterListen) {
  test::busy_port taken;
  ASSERT_NE(taken.port(), 0);
  auto s = settings_for();
  s.cluster.listen.port = taken.port();
  node n{s};
  auto err = n.start();
  EXPECT_NE(err.find("cluster.listen"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(taken.port())), std::string::npos) << err;
  EXPECT_FALSE(n.ready());
  node other{settings_for()};
  EXPECT_EQ(other.start(), "");
}

TEST_F(NodeTest, DestructorStopsARunningNode) {
  std::uint16_t port = 0;
  {
    node n{settings_for()};
    ASSERT_EQ(n.start(), "");
    port = n.http_port();
  }
  test::http_connection after{port, 1s};
  EXPECT_FALSE(after.connected());
  node again{settings_for()};
  EXPECT_EQ(again.start(), "") << "the destructor released the data folder";
}

} // namespace
} // namespace souk::runtime
