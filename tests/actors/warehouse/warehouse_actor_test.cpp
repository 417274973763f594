// The warehouse actor (kind "warehouse") through the real directory on CAF's deterministic
// scheduler over a real SQLite store: each pick list is a snapshot part of its own, so a write
// carries only the lists that changed, and a restart gives back every list that was durable.

#include "actors/api/directory.hpp"
#include "actors/api/payment_api.hpp" // test_node.hpp uses it
#include "actors/api/warehouse_api.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using json = nlohmann::json;

class WarehouseActorTest : public ::testing::Test {
protected:
  static test::node_options manual() {
    test::node_options opts;
    opts.wms_step = std::chrono::milliseconds(0); // lists move only on advance_atom
    return opts;
  }

  static std::string pick(test::test_node& node, const std::string& order) {
    actors::pick_cmd c{order, order + "#0", {{"sku-a", order + "/0", 1}}};
    return node.ask<std::string>("warehouse", "wh-msk", actors::pick_atom::value, c);
  }

  static json view(test::test_node& node) {
    return json::parse(
        node.ask<std::string>("warehouse", "wh-msk", actors::warehouse_view_atom::value));
  }

  /// Names of the parts of every warehouse write from now on (they are all still written).
  static void record_writes(test::test_node& node, std::vector<std::vector<std::string>>& out) {
    node.sink().gate = [&out](const persistence::snapshot& s) {
      if (s.kind == "warehouse") {
        out.emplace_back();
        for (auto& p : s.parts)
          out.back().push_back(p.name + (p.erase ? "-" : ""));
      }
      return true;
    };
  }

  test::temp_dir dir_;
};

TEST_F(WarehouseActorTest, AWriteCarriesOnlyThePickListsThatChanged) {
  test::test_node node{dir_.path(), manual()};
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(pick(node, "o" + std::to_string(i)), "picking");
  std::vector<std::vector<std::string>> writes;
  record_writes(node, writes);
  ASSERT_EQ(pick(node, "o20"), "picking");
  EXPECT_EQ(writes, (std::vector<std::vector<std::string>>{{"o20"}}));
  writes.clear();
  ASSERT_EQ(pick(node, "o20"), "picking"); // a duplicate writes nothing
  EXPECT_TRUE(writes.empty());
  EXPECT_EQ(node.ask<std::string>("warehouse", "wh-msk", actors::pick_cancel_atom::value,
                                  std::string{"o3"}, std::string{"o3#0"}),
            "cancelled");
  EXPECT_EQ(writes, (std::vector<std::vector<std::string>>{{"o3"}}));
  auto stored = node.store().load_snapshot("warehouse", "wh-msk");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->state, "{}");
  EXPECT_EQ((*stored)->parts.size(), 21u);
}

TEST_F(WarehouseActorTest, ARestartGivesBackEveryListAtItsStage) {
  {
    test::test_node node{dir_.path(), manual()};
    ASSERT_EQ(pick(node, "a"), "picking");
    ASSERT_EQ(pick(node, "b"), "picking");
    node.tell("warehouse", "wh-msk", actors::advance_atom::value);
    ASSERT_EQ(pick(node, "c"), "picking");
    EXPECT_EQ(node.ask<std::string>("warehouse", "wh-msk", actors::pick_cancel_atom::value,
                                    std::string{"c"}, std::string{"c#0"}),
              "cancelled");
  }
  test::test_node node{dir_.path(), manual()};
  auto v = view(node);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v.at("a").at("stage"), 1);
  EXPECT_EQ(v.at("b").at("stage"), 1);
  EXPECT_EQ(v.at("c").at("cancelled"), true);
  EXPECT_EQ(v.at("a").at("lines"), json::parse(R"([["sku-a", "a/0", 1]])"));
  // The cancelled list still refuses its late pick command.
  EXPECT_EQ(pick(node, "c"), "cancelled");
}

TEST_F(WarehouseActorTest, ListsStoredInTheHeadLoadAndMoveToPartsOnTheNextWrite) {
  // What souk wrote before snapshot parts: every list in one document.
  auto old = json::parse(R"({"x": {"key": "x#0", "stage": 2, "cancelled": false,
                                    "at": 1800000000000, "lines": [["sku-a", "x/0", 2]]}})");
  {
    test::test_node node{dir_.path(), manual()};
    persistence::write_request req;
    req.ops.emplace_back(persistence::put_snapshot{
        {"warehouse", "wh-msk", 4, 0, old.dump(), test::test_node::origin_ms}});
    ASSERT_TRUE(node.store().writer().submit(std::move(req)).ok());
    node.store().writer().flush();
  }
  test::test_node node{dir_.path(), manual()};
  EXPECT_EQ(view(node).at("x").at("stage"), 2);
  ASSERT_EQ(pick(node, "y"), "picking");
  auto stored = node.store().load_snapshot("warehouse", "wh-msk");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->state, "{}");
  ASSERT_EQ((*stored)->parts.size(), 2u);
  EXPECT_EQ(json::parse((*stored)->parts[0].state), old.at("x"));
  EXPECT_EQ((*stored)->parts[1].name, "y");
}

} // namespace
} // namespace souk
