// persistence::connection's cached statements: prepared once, handed out reset and unbound, and
// reset again when the handle goes, so a SELECT left between rows keeps nothing locked.

#include "persistence/sqlite.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::temp_dir;

connection open_table(const temp_dir& dir) {
  auto db = connection::open(dir.path() + "/t.db", true);
  EXPECT_TRUE(db.ok()) << db.error().message;
  EXPECT_TRUE(db->exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);").ok());
  return std::move(*db);
}

TEST(CachedStatement, TheSameTextIsPreparedOnceAndComesBackUnbound) {
  temp_dir dir;
  auto db = open_table(dir);
  statement* first = nullptr;
  {
    auto s = db.cached("SELECT ?1");
    ASSERT_TRUE(s);
    first = &*s;
    s->bind(1, std::int64_t{42});
    ASSERT_TRUE(s->step());
    EXPECT_EQ(s->column_int(0), 42);
  }
  auto again = db.cached("SELECT ?1");
  ASSERT_TRUE(again);
  EXPECT_EQ(&*again, first) << "kept, not prepared again";
  ASSERT_TRUE(again->step());
  EXPECT_TRUE(again->column_is_null(0)) << "the old binding is cleared";
}

TEST(CachedStatement, AHandleLeftBetweenRowsLocksNothingOnceItIsGone) {
  temp_dir dir;
  auto db = open_table(dir);
  {
    auto s = db.cached("SELECT x FROM t ORDER BY x");
    ASSERT_TRUE(s->step());
    EXPECT_EQ(s->column_int(0), 1);
  } // two rows unread
  // SQLite refuses to drop a table a running statement reads ("database table is locked").
  EXPECT_TRUE(db.exec("DROP TABLE t").ok());
}

TEST(CachedStatement, BadSqlIsAnErrorAndRunRunsStatementsWithoutRows) {
  temp_dir dir;
  auto db = open_table(dir);
  status err;
  EXPECT_FALSE(db.cached("SELEC nonsense", &err));
  EXPECT_FALSE(err.ok());
  EXPECT_FALSE(db.run("SELEC nonsense").ok());
  ASSERT_TRUE(db.run("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE(db.run("DELETE FROM t WHERE x = 2").ok());
  ASSERT_TRUE(db.run("COMMIT").ok());
  auto n = db.query_int("SELECT count(*) FROM t");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
}

TEST(CachedStatement, TheCacheMovesWithTheConnection) {
  temp_dir dir, dir2;
  auto db = open_table(dir);
  { auto warm = db.cached("SELECT count(*) FROM t"); }
  connection moved = std::move(db);
  {
    auto s = moved.cached("SELECT count(*) FROM t");
    ASSERT_TRUE(s && s->step());
    EXPECT_EQ(s->column_int(0), 3);
  }
  auto other = open_table(dir2);
  { auto warm = other.cached("SELECT x FROM t"); }
  other = std::move(moved); // other's own statements are finalized before its file closes
  auto s = other.cached("SELECT count(*) FROM t");
  ASSERT_TRUE(s && s->step());
  EXPECT_EQ(s->column_int(0), 3);
}

} // namespace
