// The SKU stock actor (kind "sku") through the real directory on CAF's deterministic scheduler
// over a real SQLite store: how it stores its ledger (a small head plus one part per
// reservation, each write carrying only what changed), that a restart or a crash gives back
// exactly what was durable, and that a ledger stored whole by an older souk still loads.

#include "actors/api/directory.hpp"
#include "actors/api/payment_api.hpp" // test_node.hpp uses it
#include "actors/api/stock_api.hpp"
#include "actors/stock/stock_actor.hpp"
#include "actors/stock/stock_ledger.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using json = nlohmann::json;

constexpr std::int64_t hour_ms = 3'600'000;

class StockActorTest : public ::testing::Test {
protected:
  static test::node_options with_stock(std::int64_t units) {
    test::node_options opts;
    opts.stock["hot"] = {{"wh-msk", units}, {"wh-spb", units}};
    return opts;
  }

  static actors::reserve_answer reserve(test::test_node& node, const std::string& id,
                                        std::int64_t qty = 1) {
    actors::reserve_cmd c{id, "o-" + id, qty, "msk", node.now_ms() + hour_ms};
    return node.ask<actors::reserve_answer>("sku", "hot", actors::reserve_atom::value, c);
  }

  static std::optional<persistence::snapshot> stored(test::test_node& node) {
    auto r = node.store().load_snapshot("sku", "hot");
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }

  /// The parts of every SKU write the sink sees from now on (it still writes them all).
  static void record_writes(test::test_node& node,
                            std::vector<std::vector<persistence::snapshot_part>>& out) {
    node.sink().gate = [&out](const persistence::snapshot& s) {
      if (s.kind == "sku")
        out.push_back(s.parts);
      return true;
    };
  }

  test::temp_dir dir_;
};

TEST_F(StockActorTest, EachWriteCarriesTheHeadAndOnlyTheReservationsThatChanged) {
  test::test_node node{dir_.path(), with_stock(100)};
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(reserve(node, "r" + std::to_string(i)).outcome, "reserved");
  std::vector<std::vector<persistence::snapshot_part>> writes;
  record_writes(node, writes);
  ASSERT_EQ(reserve(node, "r40").outcome, "reserved");
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(writes[0].size(), 1u) << "40 untouched holds are not written again";
  EXPECT_EQ(writes[0][0].name, "r40");
  EXPECT_FALSE(writes[0][0].erase);
  EXPECT_EQ(json::parse(writes[0][0].state).at("state"), "held");

  writes.clear();
  EXPECT_EQ(node.ask<std::string>("sku", "hot", actors::confirm_atom::value, std::string{"r7"}),
            "");
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(writes[0].size(), 1u);
  EXPECT_EQ(writes[0][0].name, "r7");
  EXPECT_EQ(json::parse(writes[0][0].state).at("state"), "confirmed");

  // A repeated request changes nothing and writes nothing.
  writes.clear();
  ASSERT_EQ(reserve(node, "r40").outcome, "reserved");
  EXPECT_TRUE(writes.empty());

  // The head is small: warehouses and counters, no reservations.
  auto snap = stored(node);
  ASSERT_TRUE(snap);
  auto head = json::parse(snap->state);
  EXPECT_FALSE(head.contains("reservations"));
  EXPECT_EQ(head.at("warehouses").at("wh-msk").at("reserved"), 41);
  EXPECT_EQ(snap->parts.size(), 41u);
}

/// Records the stock levels the SKUs publish, as "sku warehouse on_hand/reserved"; refuses the
/// next one when told to, as a catalog whose store refused the write.
struct recorded_levels : actors::stock_listener {
  std::vector<std::string> seen;
  bool refuse_next = false;
  bool stock_changed(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand,
                     std::int64_t reserved) override {
    seen.push_back(sku + " " + warehouse_id + " " + std::to_string(on_hand) + "/" +
                   std::to_string(reserved));
    return !std::exchange(refuse_next, false);
  }
};

TEST_F(StockActorTest, AChangePublishesOnlyTheWarehousesWhoseLevelsMovedAfterAFullFirstPublish) {
  using levels_t = std::vector<std::string>;
  auto levels = std::make_shared<recorded_levels>();
  auto opts = with_stock(2);
  opts.availability = levels;
  {
    test::test_node node{dir_.path(), opts};
    // The first change after activation publishes every warehouse: the catalog's table may
    // have missed the last batch before a crash.
    ASSERT_EQ(reserve(node, "a").outcome, "reserved");
    EXPECT_EQ(levels->seen, (levels_t{"hot wh-msk 2/1", "hot wh-spb 2/0"}));
    // From then on, only what moved.
    levels->seen.clear();
    ASSERT_EQ(reserve(node, "b", 2).outcome, "reserved"); // one from msk, one from spb
    EXPECT_EQ(levels->seen, (levels_t{"hot wh-msk 2/2", "hot wh-spb 2/1"}));
    levels->seen.clear();
    levels->refuse_next = true; // the catalog's store refuses this one
    ASSERT_EQ(reserve(node, "c").outcome, "reserved");
    EXPECT_EQ(levels->seen, (levels_t{"hot wh-spb 2/2"}));
    // Confirming moves no level, but the refused one is published again.
    levels->seen.clear();
    EXPECT_EQ(node.ask<std::string>("sku", "hot", actors::confirm_atom::value, std::string{"a"}),
              "");
    EXPECT_EQ(levels->seen, (levels_t{"hot wh-spb 2/2"}));
    levels->seen.clear();
    EXPECT_EQ(node.ask<std::string>("sku", "hot", actors::confirm_atom::value, std::string{"b"}),
              "");
    EXPECT_TRUE(levels->seen.empty()) << "confirmed holds stay reserved: no level moved";
    ASSERT_EQ(node.ask<std::string>("sku", "hot", actors::release_atom::value, std::string{"c"},
                                    std::string{"o-c"}),
              "");
    EXPECT_EQ(levels->seen, (levels_t{"hot wh-spb 2/1"}));
  }
  // A new activation publishes every warehouse with its first change, the ones that did not
  // move (msk) too.
  levels->seen.clear();
  test::test_node node{dir_.path(), opts};
  ASSERT_EQ(reserve(node, "d").outcome, "reserved"); // msk is full: from spb
  EXPECT_EQ(levels->seen, (levels_t{"hot wh-msk 2/2", "hot wh-spb 2/2"}));
}

TEST_F(StockActorTest, ARestartLoadsEveryHoldFromItsPartsAndKeepsTheirIdsIdempotent) {
  {
    test::test_node node{dir_.path(), with_stock(10)};
    for (int i = 0; i < 12; ++i)
      ASSERT_EQ(reserve(node, "r" + std::to_string(i)).outcome, "reserved"); // msk, then spb
    ASSERT_EQ(node.ask<std::string>("sku", "hot", actors::release_atom::value, std::string{"r3"},
                                    std::string{"o-r3"}),
              "");
  }
  test::test_node node{dir_.path(), with_stock(10)};
  auto view = json::parse(node.ask<std::string>("sku", "hot", actors::stock_view_atom::value));
  EXPECT_EQ(view.at("reserved"), 11);
  EXPECT_EQ(view.at("available"), 9);
  EXPECT_EQ(view.at("reservations").size(), 12u);
  auto snap = stored(node);
  ASSERT_TRUE(snap);
  EXPECT_EQ(actors::decode_stock_snapshot(*snap).check(), "");
  // The same ids answer as before the restart: held ones as reserved, the released one not.
  auto again = reserve(node, "r11");
  EXPECT_EQ(again.outcome, "reserved");
  ASSERT_EQ(again.parts.size(), 1u);
  EXPECT_EQ(again.parts[0].warehouse_id, "wh-spb");
  EXPECT_EQ(reserve(node, "r3").outcome, "already_released");
}

TEST_F(StockActorTest, ACrashLosesTheUnwrittenChangeWithItsPartAndNothingElse) {
  test::test_node node{dir_.path(), with_stock(10)};
  ASSERT_EQ(reserve(node, "a").outcome, "reserved");
  // "b" is reserved in memory, but the node dies before its write is durable.
  actors::reserve_cmd c{"b", "o-b", 2, "msk", node.now_ms() + hour_ms};
  node.post("sku", "hot", actors::reserve_atom::value, c);
  while (node.step()) {
  }
  ASSERT_EQ(node.sink().held(), 1u);
  node.restart_in_place(std::chrono::milliseconds(0));
  auto view = json::parse(node.ask<std::string>("sku", "hot", actors::stock_view_atom::value));
  EXPECT_EQ(view.at("reserved"), 1);
  ASSERT_EQ(view.at("reservations").size(), 1u);
  EXPECT_EQ(view.at("reservations")[0].at("id"), "a");
  auto snap = stored(node);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->parts.size(), 1u);
}

TEST_F(StockActorTest, ExpiredAndPrunedHoldsAreErasedFromTheStore) {
  test::test_node node{dir_.path(), with_stock(10)};
  auto view = [&] {
    // Activates the SKU if it was passivated meanwhile: holds whose time passed expire then.
    return json::parse(node.ask<std::string>("sku", "hot", actors::stock_view_atom::value));
  };
  auto stored_states = [&] {
    std::vector<std::string> names;
    if (auto snap = stored(node)) {
      EXPECT_EQ(actors::decode_stock_snapshot(*snap).check(), "");
      for (auto& p : snap->parts)
        names.push_back(p.name + ":" + json::parse(p.state).at("state").get<std::string>());
    }
    return names;
  };
  ASSERT_EQ(reserve(node, "a").outcome, "reserved");
  ASSERT_EQ(reserve(node, "b").outcome, "reserved");
  ASSERT_EQ(node.ask<std::string>("sku", "hot", actors::confirm_atom::value, std::string{"b"}), "");
  node.advance(std::chrono::milliseconds(hour_ms + 1'000), std::chrono::minutes(1));
  EXPECT_EQ(view().at("reserved"), 1);
  EXPECT_EQ(stored_states(), (std::vector<std::string>{"a:expired", "b:confirmed"}));
  // A tombstone older than a day is pruned, and its row goes with it.
  actors::reserve_cmd c{"c", "o-c", 1, "msk", node.now_ms() + 25 * hour_ms};
  ASSERT_EQ(node.ask<actors::reserve_answer>("sku", "hot", actors::reserve_atom::value, c).outcome,
            "reserved");
  node.advance(std::chrono::milliseconds(25 * hour_ms + 1'000), std::chrono::minutes(1));
  EXPECT_EQ(view().at("reserved"), 1);
  EXPECT_EQ(stored_states(), (std::vector<std::string>{"b:confirmed", "c:expired"}));
}

TEST_F(StockActorTest, ALedgerStoredWholeLoadsAndIsSplitIntoPartsByItsNextWrite) {
  // What souk wrote before snapshot parts: the whole ledger in one document.
  actors::stock_ledger old;
  ASSERT_EQ(old.restock("wh-msk", 5), actors::ledger_error::none);
  ASSERT_EQ(old.reserve("x", "o-x", 2, {"wh-msk"}, test::test_node::origin_ms,
                        test::test_node::origin_ms + hour_ms)
                .outcome,
            actors::reserve_outcome::reserved);
  ASSERT_EQ(old.release("y", "o-y", test::test_node::origin_ms), actors::ledger_error::none);
  {
    test::test_node node{dir_.path(), {}};
    persistence::write_request req;
    req.ops.emplace_back(persistence::put_snapshot{
        {"sku", "hot", 3, 0, old.to_json().dump(), test::test_node::origin_ms}});
    ASSERT_TRUE(node.store().writer().submit(std::move(req)).ok());
    node.store().writer().flush();
  }
  test::test_node node{dir_.path(), {}};
  auto view = json::parse(node.ask<std::string>("sku", "hot", actors::stock_view_atom::value));
  EXPECT_EQ(view.at("reserved"), 2);
  EXPECT_EQ(view.at("available"), 3);
  EXPECT_EQ(reserve(node, "y").outcome, "already_released");
  ASSERT_EQ(reserve(node, "z").outcome, "reserved");
  auto snap = stored(node);
  ASSERT_TRUE(snap);
  EXPECT_FALSE(json::parse(snap->state).contains("reservations"));
  ASSERT_EQ(snap->parts.size(), 3u);
  EXPECT_EQ(snap->parts[0].name, "x");
  EXPECT_EQ(snap->parts[1].name, "y");
  EXPECT_EQ(snap->parts[2].name, "z");
  auto loaded = actors::decode_stock_snapshot(*snap);
  EXPECT_EQ(loaded.reserved(), 3);
  EXPECT_EQ(loaded.check(), "");
}

} // namespace
} // namespace souk
