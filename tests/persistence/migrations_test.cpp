#include "persistence/migrations.hpp"
#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::query_text;
using souk::test::store_defaults;
using souk::test::temp_dir;

std::int64_t user_version(const std::string& path) {
  auto db = connection::open(path, false);
  EXPECT_TRUE(db.ok()) << db.error().message;
  if (!db.ok())
    return -1;
  auto v = db->query_int("PRAGMA user_version");
  return v ? *v : -1;
}

std::int64_t tables_named(connection& db, const std::string& names) {
  auto n = db.query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (" +
                        names + ")");
  return n ? *n : -1;
}

TEST(Migrations, AreNumberedOneUpwardsWithoutGaps) {
  auto& all = migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(all[i].description.empty());
    EXPECT_FALSE(all[i].sql.empty());
  }
  EXPECT_EQ(latest_schema_version(), all.back().version);
  EXPECT_GE(latest_schema_version(), 2);
}

TEST(Migrations, MigrateBringsANewFileToTheLatestVersionAndIsIdempotent) {
  temp_dir dir;
  auto db = connection::open(dir / "x.db", true);
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE(migrate(*db).ok());
  EXPECT_EQ(*db->query_int("PRAGMA user_version"), latest_schema_version());
  EXPECT_EQ(tables_named(*db, "'meta', 'snapshots', 'idempotency', 'outbox'"), 4);
  auto again = migrate(*db);
  EXPECT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(*db->query_int("PRAGMA user_version"), latest_schema_version());
}

TEST(Migrations, TargetStopsAtTheGivenVersion) {
  temp_dir dir;
  auto db = connection::open(dir / "x.db", true);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(migrate(*db, 1).ok());
  EXPECT_EQ(*db->query_int("PRAGMA user_version"), 1);
  EXPECT_EQ(tables_named(*db, "'meta', 'snapshots'"), 2);
  EXPECT_EQ(tables_named(*db, "'idempotency', 'outbox'"), 0);
}

TEST(Migrations, OldFileIsMigratedOnOpenAndKeepsItsRows) {
  temp_dir dir;
  auto path = dir / "souk.db";
  {
    auto db = connection::open(path, true);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE(migrate(*db, 1).ok());
    ASSERT_TRUE(db->exec("INSERT INTO snapshots (kind, key, version, epoch, state, updated_at) "
                         "VALUES ('cart', 'old', 4, 2, x'0102', 1000);"
                         "INSERT INTO meta (name, value) VALUES ('written_by', 'v1')")
                    .ok());
  }
  ASSERT_EQ(user_version(path), 1);

  auto opened = store::open(dir.path(), store_defaults());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& s = *opened;
  EXPECT_FALSE(s->created()); // an existing file, only upgraded
  auto old = s->load_snapshot("cart", "old");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->version, 4);
  EXPECT_EQ((*old)->epoch, 2);
  EXPECT_EQ((*old)->state, std::string("\x01\x02", 2));
  EXPECT_EQ(**s->meta("written_by"), "v1");
  // The tables of migration 2 exist and work.
  auto st = souk::test::write_and_wait(
      s->writer(), {custom_write{[](connection& db) {
        return db.exec("INSERT INTO idempotency (principal, key, request_hash, state, created_at) "
                       "VALUES ('u1', 'k1', 'h', 'done', 1);"
                       "INSERT INTO outbox (topic, key, payload, created_at) "
                       "VALUES ('order', 'o1', x'00', 1)");
      }}});
  EXPECT_TRUE(st.ok()) << st.message;
  s->close();
  EXPECT_EQ(user_version(path), latest_schema_version());
  auto db = connection::open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(tables_named(*db, "'idempotency', 'outbox'"), 2);
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM outbox"), 1);
}

TEST(Migrations, SnapshotsMoveToARowidTableAndKeepTheirRowsPartsAndFencing) {
  // Migration 5 rebuilds `snapshots` as a rowid table with a unique (kind, key) index: every
  // row, its parts and the epoch fence must come through.
  temp_dir dir;
  auto path = dir / "souk.db";
  {
    auto db = connection::open(path, true);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE(migrate(*db, 4).ok());
    ASSERT_TRUE(
        db->exec("INSERT INTO snapshots (kind, key, version, epoch, state, updated_at) "
                 "VALUES ('order', 'o-1', 6, 3, 'order one', 1000),"
                 "('order', 'o-2', 2, 3, 'order two', 1001),"
                 "('sku', 's-1', 9, 3, 'head', 1002);"
                 "INSERT INTO snapshot_parts (kind, key, part, state) "
                 "VALUES ('sku', 's-1', 'r-1', 'hold one'), ('sku', 's-1', 'r-2', 'hold two')")
            .ok());
  }
  auto opened = store::open(dir.path(), store_defaults());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& s = *opened;
  EXPECT_EQ(*s->count_snapshots(), 3);
  auto one = s->load_snapshot("order", "o-1");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->version, 6);
  EXPECT_EQ((*one)->epoch, 3);
  EXPECT_EQ((*one)->state, "order one");
  EXPECT_EQ((*one)->updated_at, 1000);
  auto sku = s->load_snapshot("sku", "s-1");
  ASSERT_TRUE(sku.ok() && sku->has_value());
  ASSERT_EQ((*sku)->parts.size(), 2U);
  EXPECT_EQ((*sku)->parts[1].state, "hold two");

  // A write updates the row in place (one row per key), a lower epoch is still refused, and a
  // new key gets a row of its own.
  EXPECT_TRUE(
      souk::test::put_and_wait(*s, souk::test::make_snapshot("order", "o-1", 7, 3, "moved on"))
          .ok());
  EXPECT_EQ(
      souk::test::put_and_wait(*s, souk::test::make_snapshot("order", "o-1", 8, 2, "stale owner"))
          .code,
      errc::fenced);
  EXPECT_TRUE(souk::test::put_and_wait(*s, souk::test::make_snapshot("order", "o-3", 1, 3)).ok());
  one = s->load_snapshot("order", "o-1");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->state, "moved on") << "the write of the older epoch was fenced";
  EXPECT_EQ(*s->count_snapshots("order"), 3);
  s->close();

  auto db = connection::open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM snapshots WHERE kind = 'order' AND key = 'o-1'"),
            1);
  auto sql = query_text(*db, "SELECT sql FROM sqlite_schema WHERE name = 'snapshots'");
  EXPECT_EQ(sql.find("WITHOUT ROWID"), std::string::npos) << sql;
  EXPECT_EQ(tables_named(*db, "'snapshots_by_row'"), 0);
  EXPECT_EQ(*db->query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                           "'snapshots_by_key'"),
            1);
  EXPECT_EQ(query_text(*db, "PRAGMA integrity_check"), "ok");
}

TEST(Migrations, FileFromANewerSoukIsRefusedNamingBothVersions) {
  temp_dir dir;
  auto path = dir / "souk.db";
  {
    auto db = connection::open(path, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(migrate(*db).ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version = 99").ok());
  }
  auto opened = store::open(dir.path(), store_defaults());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, errc::schema_too_new);
  auto& msg = opened.error().message;
  EXPECT_NE(msg.find("99"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(latest_schema_version())), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_EQ(user_version(path), 99); // untouched
  // The refusal released the folder: a later open gets the same answer, not folder_locked.
  EXPECT_EQ(store::open(dir.path(), store_defaults()).error().code, errc::schema_too_new);
}

TEST(Migrations, FailedMigrationLeavesTheFileAtItsOldVersion) {
  temp_dir dir;
  auto path = dir / "souk.db";
  {
    auto db = connection::open(path, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(migrate(*db, 1).ok());
    // A table in the way of migration 2, which creates `idempotency` first and `outbox` last.
    ASSERT_TRUE(db->exec("CREATE TABLE outbox (x INTEGER)").ok());
  }
  auto opened = store::open(dir.path(), store_defaults());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, errc::migration_failed);
  EXPECT_NE(opened.error().message.find("migration 2"), std::string::npos)
      << opened.error().message;
  EXPECT_EQ(user_version(path), 1);
  auto db = connection::open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(tables_named(*db, "'idempotency'"), 0); // nothing of migration 2 was kept
  EXPECT_EQ(query_text(*db, "PRAGMA integrity_check"), "ok");
}

} // namespace
