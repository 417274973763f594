// The user entity (kind "user") through the real directory on CAF's deterministic scheduler
// over a real SQLite store: the profile created once, the order index and its pages, the
// wishlist, and that every answer is durable before it goes out (a crash, a restart, a disk that
// refuses the write).

#include "actors/api/directory.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/payment_api.hpp" // test_node.hpp uses it
#include "actors/api/user_api.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::user_add_order_atom;
using actors::user_answer;
using actors::user_create_atom;
using actors::user_get_atom;
using actors::user_orders_atom;
using actors::user_orders_page;
using actors::user_owns_atom;
using actors::user_profile;
using actors::wish_add_atom;
using actors::wish_get_atom;
using actors::wish_remove_atom;
using actors::wishlist_answer;
using json = nlohmann::json;
using ::testing::ElementsAre;
using ids = std::vector<std::string>;
using products = std::vector<std::int64_t>;

using test::pending_call;

class UserActorTest : public ::testing::Test {
protected:
  static user_profile profile(const std::string& email, const std::string& name = "Ann") {
    user_profile p;
    p.email = email;
    p.name = name;
    p.region = "msk";
    p.role = "buyer";
    p.password_hash = "pbkdf2-sha256$1000$00$11";
    return p;
  }

  static user_answer create(test::test_node& node, const std::string& user, user_profile p) {
    return node.ask<user_answer>("user", user, user_create_atom::value, std::move(p));
  }
  static user_answer get(test::test_node& node, const std::string& user) {
    return node.ask<user_answer>("user", user, user_get_atom::value);
  }
  static bool add_order(test::test_node& node, const std::string& user, const std::string& id) {
    return node.ask<bool>("user", user, user_add_order_atom::value, id);
  }
  static user_orders_page orders(test::test_node& node, const std::string& user,
                                 std::int64_t before, std::int64_t limit) {
    return node.ask<user_orders_page>("user", user, user_orders_atom::value, before, limit);
  }
  static bool owns(test::test_node& node, const std::string& user, const std::string& id) {
    return node.ask<bool>("user", user, user_owns_atom::value, id);
  }
  static wishlist_answer wishes(test::test_node& node, const std::string& user) {
    return node.ask<wishlist_answer>("user", user, wish_get_atom::value);
  }
  static wishlist_answer wish(test::test_node& node, const std::string& user, std::int64_t p) {
    return node.ask<wishlist_answer>("user", user, wish_add_atom::value, p);
  }
  static wishlist_answer unwish(test::test_node& node, const std::string& user, std::int64_t p) {
    return node.ask<wishlist_answer>("user", user, wish_remove_atom::value, p);
  }

  /// Every order id of the user, newest first, read page by page.
  static ids all_orders(test::test_node& node, const std::string& user, std::int64_t limit) {
    ids out;
    std::int64_t before = -1;
    for (int i = 0; i < 10'000; ++i) {
      auto page = orders(node, user, before, limit);
      out.insert(out.end(), page.order_ids.begin(), page.order_ids.end());
      if (page.next < 0)
        return out;
      EXPECT_TRUE(before < 0 || page.next < before) << "the cursor moves on";
      before = page.next;
    }
    ADD_FAILURE() << "paging did not end";
    return out;
  }

  /// The version of the user's snapshot on disk, 0 when there is none.
  static std::int64_t stored_version(test::test_node& node, const std::string& user) {
    auto r = node.store().load_snapshot("user", user);
    EXPECT_TRUE(r.ok());
    return r.ok() && *r ? (*r)->version : 0;
  }

  static json directory_stats(test::test_node& node) {
    caf::scoped_actor me{node.system(), true};
    auto h = me->request(node.directory(), caf::infinite, actors::stats_atom::value);
    node.settle();
    json out;
    h.receive([&](std::string& s) { out = json::parse(s); },
              [&](caf::error& e) { ADD_FAILURE() << node.system().render(e); });
    return out;
  }

  /// Runs every queued message, makes no write durable.
  static void run_without_writes(test::test_node& node) {
    while (node.step()) {
    }
  }

  test::temp_dir dir_;
};

TEST_F(UserActorTest, CreateStoresTheProfileOnceAndASecondCreateIsEmailTaken) {
  test::test_node node{dir_.path(), {}};
  auto p = profile("ann@example.com");
  p.id = "ignored: the key is the id";
  auto created = create(node, "u_1", p);
  EXPECT_EQ(created.code, "");
  EXPECT_EQ(created.profile.id, "u_1");
  EXPECT_EQ(created.profile.email, "ann@example.com");
  EXPECT_EQ(created.profile.name, "Ann");
  EXPECT_EQ(created.profile.region, "msk");
  EXPECT_EQ(created.profile.role, "buyer");
  EXPECT_EQ(created.profile.password_hash, p.password_hash);
  EXPECT_EQ(created.profile.created_at_ms, node.now_ms()) << "stamped when not given";
  auto v = stored_version(node, "u_1");
  EXPECT_GT(v, 0) << "durable before the answer";

  // Whatever the second profile says, the first one stays and is what the answer shows.
  auto again = create(node, "u_1", profile("other@example.com", "Bob"));
  EXPECT_EQ(again.code, "email_taken");
  EXPECT_EQ(again.profile.email, "ann@example.com");
  EXPECT_EQ(again.profile.name, "Ann");
  EXPECT_EQ(stored_version(node, "u_1"), v) << "a refused create writes nothing";

  auto got = get(node, "u_1");
  EXPECT_EQ(got.code, "");
  EXPECT_EQ(got.profile.email, "ann@example.com");
  EXPECT_EQ(got.profile.password_hash, p.password_hash);
  EXPECT_EQ(got.profile.created_at_ms, created.profile.created_at_ms);
}

TEST_F(UserActorTest, CreateKeepsAGivenCreationTime) {
  test::test_node node{dir_.path(), {}};
  auto p = profile("ann@example.com");
  p.created_at_ms = 1'234;
  EXPECT_EQ(create(node, "u_1", p).profile.created_at_ms, 1'234);
  EXPECT_EQ(get(node, "u_1").profile.created_at_ms, 1'234);
}

TEST_F(UserActorTest, GetOfAnUnknownUserIsUnknownEntityAndWritesNothing) {
  test::test_node node{dir_.path(), {}};
  auto got = get(node, "u_nobody");
  EXPECT_EQ(got.code, "unknown_entity");
  EXPECT_EQ(got.profile.email, "");
  EXPECT_EQ(stored_version(node, "u_nobody"), 0);
  // A guest has orders and a wishlist but no profile.
  EXPECT_TRUE(add_order(node, "g_1", "o1"));
  EXPECT_EQ(get(node, "g_1").code, "unknown_entity");
  EXPECT_TRUE(owns(node, "g_1", "o1"));
}

TEST_F(UserActorTest, UsersAreSeparate) {
  test::test_node node{dir_.path(), {}};
  create(node, "u_1", profile("ann@example.com"));
  EXPECT_EQ(create(node, "u_2", profile("bob@example.com", "Bob")).code, "");
  EXPECT_TRUE(add_order(node, "u_1", "o1"));
  EXPECT_TRUE(owns(node, "u_1", "o1"));
  EXPECT_FALSE(owns(node, "u_2", "o1"));
  wish(node, "u_1", 7);
  EXPECT_TRUE(wishes(node, "u_2").product_ids.empty());
  EXPECT_EQ(get(node, "u_2").profile.name, "Bob");
}

TEST_F(UserActorTest, AnOrderAddedTwiceIsKeptOnceAndKeepsItsPlace) {
  test::test_node node{dir_.path(), {}};
  EXPECT_TRUE(add_order(node, "u_1", "o1"));
  EXPECT_TRUE(add_order(node, "u_1", "o2"));
  auto v = stored_version(node, "u_1");
  EXPECT_TRUE(add_order(node, "u_1", "o1")) << "a repeated add is answered like the first";
  EXPECT_EQ(stored_version(node, "u_1"), v) << "and writes nothing";
  EXPECT_THAT(orders(node, "u_1", -1, 10).order_ids, ElementsAre("o2", "o1"));
}

TEST_F(UserActorTest, OwnsIsTrueOnlyForOrdersInTheIndex) {
  test::test_node node{dir_.path(), {}};
  EXPECT_FALSE(owns(node, "u_1", "o1")) << "no orders yet";
  add_order(node, "u_1", "o1");
  add_order(node, "u_1", "o2");
  EXPECT_TRUE(owns(node, "u_1", "o1"));
  EXPECT_TRUE(owns(node, "u_1", "o2"));
  EXPECT_FALSE(owns(node, "u_1", "o3"));
  EXPECT_FALSE(owns(node, "u_1", "")) << "no empty id";
}

TEST_F(UserActorTest, OrderPagesAreNewestFirstWithACursorToTheNextPage) {
  test::test_node node{dir_.path(), {}};
  auto empty = orders(node, "u_1", -1, 10);
  EXPECT_TRUE(empty.order_ids.empty());
  EXPECT_EQ(empty.next, -1);

  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(add_order(node, "u_1", "o" + std::to_string(i)));
  auto p1 = orders(node, "u_1", -1, 2);
  EXPECT_THAT(p1.order_ids, ElementsAre("o5", "o4"));
  EXPECT_EQ(p1.next, 3);
  auto p2 = orders(node, "u_1", p1.next, 2);
  EXPECT_THAT(p2.order_ids, ElementsAre("o3", "o2"));
  EXPECT_EQ(p2.next, 1);
  auto p3 = orders(node, "u_1", p2.next, 2);
  EXPECT_THAT(p3.order_ids, ElementsAre("o1"));
  EXPECT_EQ(p3.next, -1) << "the last page";

  // Exactly one page's worth: no empty page after it.
  auto whole = orders(node, "u_1", -1, 5);
  EXPECT_THAT(whole.order_ids, ElementsAre("o5", "o4", "o3", "o2", "o1"));
  EXPECT_EQ(whole.next, -1);
  // A cursor past the end starts at the newest; before 0 is past the oldest.
  EXPECT_THAT(orders(node, "u_1", 100, 2).order_ids, ElementsAre("o5", "o4"));
  auto none = orders(node, "u_1", 0, 2);
  EXPECT_TRUE(none.order_ids.empty());
  EXPECT_EQ(none.next, -1);
  // A limit of zero or below gives nothing.
  EXPECT_TRUE(orders(node, "u_1", -1, 0).order_ids.empty());
  EXPECT_TRUE(orders(node, "u_1", -1, -3).order_ids.empty());
}

TEST_F(UserActorTest, PagingWhileNewOrdersArriveHasNoDuplicatesAndNoGaps) {
  test::test_node node{dir_.path(), {}};
  for (int i = 1; i <= 7; ++i)
    ASSERT_TRUE(add_order(node, "u_1", "o" + std::to_string(i)));
  ids seen;
  std::int64_t before = -1;
  int added = 0;
  for (int round = 0; round < 20; ++round) {
    auto page = orders(node, "u_1", before, 3);
    seen.insert(seen.end(), page.order_ids.begin(), page.order_ids.end());
    // Two new orders between every two pages: they go to the front, not into the pages.
    for (int k = 0; k < 2; ++k)
      ASSERT_TRUE(add_order(node, "u_1", "new" + std::to_string(++added)));
    if (page.next < 0)
      break;
    before = page.next;
  }
  EXPECT_THAT(seen, ElementsAre("o7", "o6", "o5", "o4", "o3", "o2", "o1"));
  // A fresh walk sees everything, newest first.
  auto all = all_orders(node, "u_1", 4);
  ASSERT_EQ(all.size(), 7u + static_cast<std::size_t>(added));
  EXPECT_EQ(all.front(), "new" + std::to_string(added));
  EXPECT_EQ(all.back(), "o1");
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST_F(UserActorTest, WishlistAddsToTheFrontAndARepeatedAddMovesTheProductToTheFront) {
  test::test_node node{dir_.path(), {}};
  EXPECT_TRUE(wishes(node, "u_1").product_ids.empty());
  EXPECT_THAT(wish(node, "u_1", 1).product_ids, ElementsAre(1));
  EXPECT_THAT(wish(node, "u_1", 2).product_ids, ElementsAre(2, 1));
  auto a = wish(node, "u_1", 3);
  EXPECT_EQ(a.code, "");
  EXPECT_THAT(a.product_ids, ElementsAre(3, 2, 1));
  EXPECT_THAT(wish(node, "u_1", 1).product_ids, ElementsAre(1, 3, 2)) << "moved, not doubled";
  auto v = stored_version(node, "u_1");
  auto same = wish(node, "u_1", 1);
  EXPECT_EQ(same.code, "");
  EXPECT_THAT(same.product_ids, ElementsAre(1, 3, 2));
  EXPECT_EQ(stored_version(node, "u_1"), v) << "already first: nothing to write";
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(1, 3, 2));
}

TEST_F(UserActorTest, RemovingAProductNotOnTheWishlistIsNotInWishlist) {
  test::test_node node{dir_.path(), {}};
  auto none = unwish(node, "u_1", 5);
  EXPECT_EQ(none.code, "not_in_wishlist");
  EXPECT_TRUE(none.product_ids.empty());
  wish(node, "u_1", 1);
  wish(node, "u_1", 2);
  wish(node, "u_1", 3);
  auto removed = unwish(node, "u_1", 2);
  EXPECT_EQ(removed.code, "");
  EXPECT_THAT(removed.product_ids, ElementsAre(3, 1));
  auto v = stored_version(node, "u_1");
  auto again = unwish(node, "u_1", 2);
  EXPECT_EQ(again.code, "not_in_wishlist");
  EXPECT_THAT(again.product_ids, ElementsAre(3, 1)) << "the list as it stands";
  EXPECT_EQ(stored_version(node, "u_1"), v);
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(3, 1));
}

TEST_F(UserActorTest, AFullWishlistRefusesNewProductsButStillMovesAndRemoves) {
  test::test_node node{dir_.path(), {}};
  // The default limit (entity_context::wishlist_max); sent at once, written in a few batches.
  const std::int64_t max = static_cast<std::int64_t>(actors::entity_context{}.wishlist_max);
  ASSERT_GT(max, 2);
  for (std::int64_t p = 1; p <= max; ++p)
    node.post("user", "u_1", wish_add_atom::value, p);
  node.settle();
  auto full = wishes(node, "u_1");
  ASSERT_EQ(full.product_ids.size(), static_cast<std::size_t>(max));
  EXPECT_EQ(full.product_ids.front(), max);
  EXPECT_EQ(full.product_ids.back(), 1);

  auto v = stored_version(node, "u_1");
  auto refused = wish(node, "u_1", max + 1);
  EXPECT_EQ(refused.code, "wishlist_full");
  EXPECT_EQ(refused.product_ids, full.product_ids) << "unchanged";
  EXPECT_EQ(stored_version(node, "u_1"), v);

  // A product already on it moves to the front: the list does not grow.
  auto moved = wish(node, "u_1", 1);
  EXPECT_EQ(moved.code, "");
  ASSERT_EQ(moved.product_ids.size(), static_cast<std::size_t>(max));
  EXPECT_EQ(moved.product_ids.front(), 1);
  EXPECT_EQ(moved.product_ids.back(), 2);

  // After a removal there is room for one more.
  EXPECT_EQ(unwish(node, "u_1", 2).code, "");
  auto added = wish(node, "u_1", max + 1);
  EXPECT_EQ(added.code, "");
  EXPECT_EQ(added.product_ids.size(), static_cast<std::size_t>(max));
  EXPECT_EQ(added.product_ids.front(), max + 1);
  EXPECT_EQ(wish(node, "u_1", max + 2).code, "wishlist_full");
}

TEST_F(UserActorTest, EveryAnswerWaitsForItsWrite) {
  test::test_node node{dir_.path(), {}};
  pending_call c{node, {"user", "u_1"}, user_create_atom::value, profile("ann@example.com")};
  pending_call o{node, {"user", "u_1"}, user_add_order_atom::value, std::string{"o1"}};
  pending_call w{node, {"user", "u_1"}, wish_add_atom::value, std::int64_t{9}};
  // A read queued behind the changes is not answered before them either.
  pending_call g{node, {"user", "u_1"}, user_get_atom::value};
  run_without_writes(node);
  EXPECT_GE(node.sink().held(), 1u);
  EXPECT_FALSE(c.answered());
  EXPECT_FALSE(o.answered());
  EXPECT_FALSE(w.answered());
  EXPECT_FALSE(g.answered());
  EXPECT_EQ(stored_version(node, "u_1"), 0);
  node.settle();
  ASSERT_TRUE(c.answered());
  ASSERT_TRUE(o.answered());
  ASSERT_TRUE(w.answered());
  ASSERT_TRUE(g.answered());
  auto ca = c.take<user_answer>();
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->code, "");
  EXPECT_EQ(o.take<bool>(), true);
  auto wa = w.take<wishlist_answer>();
  ASSERT_TRUE(wa);
  EXPECT_THAT(wa->product_ids, ElementsAre(9));
  auto ga = g.take<user_answer>();
  ASSERT_TRUE(ga);
  EXPECT_EQ(ga->profile.email, "ann@example.com");
  // All three changes were written, in at most two writes (the first one and one batch).
  auto snap = node.store().load_snapshot("user", "u_1");
  ASSERT_TRUE(snap.ok() && *snap);
  EXPECT_LE((*snap)->version, 2);
  auto j = json::parse((*snap)->state);
  EXPECT_EQ(j["profile"]["email"], "ann@example.com");
  EXPECT_EQ(j["orders"], json::array({"o1"}));
  EXPECT_EQ(j["wishlist"], json::array({9}));
}

TEST_F(UserActorTest, EverythingSurvivesARestartInPlace) {
  test::test_node node{dir_.path(), {}};
  auto created = create(node, "u_1", profile("ann@example.com"));
  for (int i = 1; i <= 4; ++i)
    add_order(node, "u_1", "o" + std::to_string(i));
  wish(node, "u_1", 10);
  wish(node, "u_1", 20);
  node.restart_in_place(5s);

  auto got = get(node, "u_1");
  EXPECT_EQ(got.code, "");
  EXPECT_EQ(got.profile.id, "u_1");
  EXPECT_EQ(got.profile.email, "ann@example.com");
  EXPECT_EQ(got.profile.password_hash, created.profile.password_hash);
  EXPECT_EQ(got.profile.created_at_ms, created.profile.created_at_ms);
  EXPECT_EQ(create(node, "u_1", profile("x@example.com")).code, "email_taken");
  EXPECT_THAT(orders(node, "u_1", -1, 10).order_ids, ElementsAre("o4", "o3", "o2", "o1"));
  auto page = orders(node, "u_1", -1, 2);
  EXPECT_EQ(orders(node, "u_1", page.next, 2).order_ids, (ids{"o2", "o1"}));
  EXPECT_TRUE(owns(node, "u_1", "o3"));
  EXPECT_TRUE(add_order(node, "u_1", "o3")) << "still known after the restart";
  EXPECT_EQ(orders(node, "u_1", -1, 10).order_ids.size(), 4u);
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(20, 10));
}

TEST_F(UserActorTest, StateSurvivesPassivation) {
  test::node_options opts;
  opts.idle_timeout = 1s;
  test::test_node node{dir_.path(), opts};
  create(node, "u_1", profile("ann@example.com"));
  add_order(node, "u_1", "o1");
  wish(node, "u_1", 3);
  node.run_for(5s);
  auto stats = directory_stats(node);
  EXPECT_GE(stats["passivations"].get<int>(), 1) << stats.dump();
  EXPECT_EQ(stats["active"].value("user", 0), 0) << stats.dump();
  EXPECT_EQ(get(node, "u_1").profile.email, "ann@example.com");
  EXPECT_TRUE(owns(node, "u_1", "o1"));
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(3));
  EXPECT_EQ(directory_stats(node)["activations"].get<int>(), 2);
}

TEST_F(UserActorTest, ACrashBeforeTheWriteIsDurableConfirmedNothingAndLosesNothingConfirmed) {
  test::test_node node{dir_.path(), {}};
  ASSERT_TRUE(add_order(node, "u_1", "o1"));
  ASSERT_EQ(wish(node, "u_1", 1).code, "");
  pending_call o2{node, {"user", "u_1"}, user_add_order_atom::value, std::string{"o2"}};
  pending_call w2{node, {"user", "u_1"}, wish_add_atom::value, std::int64_t{2}};
  run_without_writes(node);
  ASSERT_EQ(node.sink().held(), 1u) << "the change waits for its write";
  node.restart_in_place(1s);
  EXPECT_EQ(node.sink().lost, 1u);
  EXPECT_FALSE(o2.answered()) << "nothing unwritten is confirmed";
  EXPECT_FALSE(w2.answered());
  // What was confirmed is there; what was not is not (the client retries it).
  EXPECT_TRUE(owns(node, "u_1", "o1"));
  EXPECT_FALSE(owns(node, "u_1", "o2"));
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(1));
  EXPECT_TRUE(add_order(node, "u_1", "o2"));
  EXPECT_THAT(orders(node, "u_1", -1, 10).order_ids, ElementsAre("o2", "o1"));
}

TEST_F(UserActorTest, AWriteDurableButNotYetAnsweredBeforeACrashIsKept) {
  test::test_node node{dir_.path(), {}};
  pending_call o1{node, {"user", "u_1"}, user_add_order_atom::value, std::string{"o1"}};
  run_without_writes(node);
  ASSERT_EQ(node.sink().drain(), 1u); // on disk; its acknowledgement is still queued
  EXPECT_FALSE(o1.answered());
  node.restart_in_place(1s);
  EXPECT_FALSE(o1.answered());
  EXPECT_TRUE(owns(node, "u_1", "o1")) << "a retry finds it";
  EXPECT_TRUE(add_order(node, "u_1", "o1"));
  EXPECT_THAT(orders(node, "u_1", -1, 10).order_ids, ElementsAre("o1"));
}

TEST_F(UserActorTest, CrashesAtRandomPointsNeverLoseAConfirmedChange) {
  test::test_node node{dir_.path(), {}};
  std::mt19937 rng{20240601};
  auto coin = [&rng](int percent) {
    return std::uniform_int_distribution<int>{0, 99}(rng) < percent;
  };
  std::set<std::string> confirmed_orders;
  std::set<std::int64_t> confirmed_wishes;
  int next = 0;
  for (int round = 0; round < 25; ++round) {
    std::vector<std::pair<std::string, std::unique_ptr<pending_call>>> orders_sent;
    std::vector<std::pair<std::int64_t, std::unique_ptr<pending_call>>> wishes_sent;
    for (int i = 0; i < 4; ++i) {
      auto id = "o" + std::to_string(++next);
      orders_sent.emplace_back(id, std::make_unique<pending_call>(node,
                                                                  actors::entity_ref{"user", "u_1"},
                                                                  user_add_order_atom::value, id));
      std::int64_t p = next;
      wishes_sent.emplace_back(p, std::make_unique<pending_call>(node,
                                                                 actors::entity_ref{"user", "u_1"},
                                                                 wish_add_atom::value, p));
      // Some messages run, some writes become durable, in a random interleaving.
      for (int k = std::uniform_int_distribution<int>{0, 6}(rng); k > 0; --k) {
        if (coin(70))
          node.step();
        else
          node.sink().drain();
      }
    }
    if (coin(50))
      node.settle();
    else
      node.restart_in_place(1s);
    for (auto& [id, call] : orders_sent)
      if (call->answered()) {
        // An error (the actor was killed with the request still queued) confirms nothing.
        if (auto ok = call->take<bool>()) {
          ASSERT_TRUE(*ok);
          confirmed_orders.insert(id);
        }
      }
    for (auto& [p, call] : wishes_sent)
      if (call->answered()) {
        if (auto ok = call->take<wishlist_answer>()) {
          EXPECT_EQ(ok->code, "");
          ASSERT_FALSE(ok->product_ids.empty());
          EXPECT_EQ(ok->product_ids.front(), p);
          confirmed_wishes.insert(p);
        }
      }
  }
  node.restart_in_place(1s);
  auto all = all_orders(node, "u_1", 7);
  std::set<std::string> stored(all.begin(), all.end());
  EXPECT_EQ(stored.size(), all.size()) << "no duplicates";
  for (auto& id : confirmed_orders)
    EXPECT_EQ(stored.count(id), 1u) << id << " was confirmed";
  auto w = wishes(node, "u_1").product_ids;
  for (auto p : confirmed_wishes)
    EXPECT_NE(std::find(w.begin(), w.end(), p), w.end()) << p << " was confirmed";
  EXPECT_GT(node.restarts, 1u);
  EXPECT_FALSE(confirmed_orders.empty());
}

TEST_F(UserActorTest, AFailedWriteIsNeverConfirmedAndTheUserComesBackFromItsLastSnapshot) {
  test::test_node node{dir_.path(), {}};
  create(node, "u_1", profile("ann@example.com"));
  ASSERT_TRUE(add_order(node, "u_1", "o1"));
  ASSERT_EQ(wish(node, "u_1", 1).code, "");
  auto v = stored_version(node, "u_1");

  node.sink().fail = true;
  pending_call o2{node, {"user", "u_1"}, user_add_order_atom::value, std::string{"o2"}};
  pending_call w2{node, {"user", "u_1"}, wish_add_atom::value, std::int64_t{2}};
  node.settle();
  node.sink().fail = false;
  ASSERT_TRUE(o2.answered());
  ASSERT_TRUE(w2.answered());
  EXPECT_FALSE(o2.take<bool>());
  EXPECT_EQ(o2.error, caf::make_error(actors::errc::store_failed));
  EXPECT_FALSE(w2.take<wishlist_answer>());
  EXPECT_EQ(w2.error, caf::make_error(actors::errc::store_failed));
  EXPECT_EQ(stored_version(node, "u_1"), v);
  EXPECT_GE(directory_stats(node)["crashes"].get<int>(), 1) << "the actor stopped";

  // The next call activates it again from what is on disk.
  EXPECT_EQ(get(node, "u_1").profile.email, "ann@example.com");
  EXPECT_TRUE(owns(node, "u_1", "o1"));
  EXPECT_FALSE(owns(node, "u_1", "o2"));
  EXPECT_THAT(wishes(node, "u_1").product_ids, ElementsAre(1));
  EXPECT_TRUE(add_order(node, "u_1", "o2"));
  EXPECT_THAT(orders(node, "u_1", -1, 10).order_ids, ElementsAre("o2", "o1"));
}

} // namespace
} // namespace souk
