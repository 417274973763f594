#include "base/time.hpp"
#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::make_snapshot;
using souk::test::open_store;
using souk::test::put_and_wait;
using souk::test::query_text;
using souk::test::request_with_future;
using souk::test::store_defaults;
using souk::test::temp_dir;
using souk::test::write_and_wait;

TEST(StoreRoundTrip, PutThenLoadGivesBackEveryField) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  std::string binary{"\x00\x01\xff\xfe not utf-8 \x00 end", 20};
  ASSERT_TRUE(put_and_wait(*s, snapshot{"cart", "u-42", 7, 3, binary, 1'700'000'123'456}).ok());
  auto got = s->load_snapshot("cart", "u-42");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  auto& snap = **got;
  EXPECT_EQ(snap.kind, "cart");
  EXPECT_EQ(snap.key, "u-42");
  EXPECT_EQ(snap.version, 7);
  EXPECT_EQ(snap.epoch, 3);
  EXPECT_EQ(snap.state, binary); // bytes as written, NULs included
  EXPECT_EQ(snap.updated_at, 1'700'000'123'456);
}

TEST(StoreRoundTrip, MissingSnapshotIsNullopt) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1)).ok());
  auto got = s->load_snapshot("cart", "b");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  got = s->load_snapshot("sku", "a"); // same key, other kind
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(StoreRoundTrip, ZeroUpdatedAtIsStampedWithTheWriteTime) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto before = souk::base::unix_millis(std::chrono::system_clock::now());
  auto snap = make_snapshot("cart", "a", 1);
  snap.updated_at = 0;
  ASSERT_TRUE(put_and_wait(*s, snap).ok());
  auto after = souk::base::unix_millis(std::chrono::system_clock::now());
  auto got = s->load_snapshot("cart", "a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_GE((*got)->updated_at, before);
  EXPECT_LE((*got)->updated_at, after);
}

TEST(StoreRoundTrip, SubmittedWritesAreVisibleAfterFlushAndCallbacksRunOnce) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  constexpr int n = 200;
  std::vector<std::atomic<int>> calls(n);
  std::atomic<int> failures{0};
  for (int i = 0; i < n; ++i) {
    write_request req{{put_snapshot{make_snapshot("sku", "k" + std::to_string(i), i + 1)}},
                      [&, i](const status& st) {
                        calls[static_cast<std::size_t>(i)]++;
                        if (!st.ok())
                          failures++;
                      }};
    ASSERT_TRUE(s->writer().submit(std::move(req)).ok());
  }
  s->writer().flush();
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(calls[static_cast<std::size_t>(i)].load(), 1) << i;
  EXPECT_EQ(failures.load(), 0);
  auto count = s->count_snapshots("sku");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, n);
  auto one = s->load_snapshot("sku", "k117");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->version, 118);
}

TEST(StoreRoundTrip, ListSnapshotsPagesThroughOneKindInKeyOrder) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  for (const char* key : {"d", "b", "e", "a", "c"})
    ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", key, 1)).ok());
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "bb", 1)).ok());
  auto page = s->list_snapshots("cart", "", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].key, "a");
  EXPECT_EQ((*page)[1].key, "b");
  EXPECT_EQ((*page)[0].kind, "cart");
  page = s->list_snapshots("cart", "b", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].key, "c");
  EXPECT_EQ((*page)[2].key, "e");
  EXPECT_EQ((*page)[2].state, "state-v1");
  page = s->list_snapshots("cart", "e", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->empty());
  page = s->list_snapshots("order", "", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->empty());
}

TEST(StoreRoundTrip, CountSnapshotsCountsOneKindOrAll) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->count_snapshots(), 0);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", std::to_string(i), 1)).ok());
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "x", 1)).ok());
  EXPECT_EQ(*s->count_snapshots("cart"), 3);
  EXPECT_EQ(*s->count_snapshots("sku"), 1);
  EXPECT_EQ(*s->count_snapshots("order"), 0);
  EXPECT_EQ(*s->count_snapshots(), 4);
}

TEST(StoreRoundTrip, PutOfAnExistingKeyOverwritesIt) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1, 1, "first")).ok());
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 2, 1, "second")).ok());
  auto got = s->load_snapshot("cart", "a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->version, 2);
  EXPECT_EQ((*got)->state, "second");
  EXPECT_EQ(*s->count_snapshots(), 1);
}

TEST(StoreRoundTrip, DeleteRemovesTheSnapshotAndDeletingNothingSucceeds) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1)).ok());
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "b", 1)).ok());
  EXPECT_TRUE(write_and_wait(s->writer(), {delete_snapshot{"cart", "a", 1}}).ok());
  auto got = s->load_snapshot("cart", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(*s->count_snapshots(), 1);
  EXPECT_TRUE(write_and_wait(s->writer(), {delete_snapshot{"cart", "a", 1}}).ok());
  EXPECT_TRUE(write_and_wait(s->writer(), {delete_snapshot{"nope", "zz", 0}}).ok());
}

namespace {
std::vector<std::pair<std::string, std::string>> parts_of(store& s, const std::string& kind,
                                                          const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  auto got = s.load_snapshot(kind, key);
  EXPECT_TRUE(got.ok());
  if (got.ok() && got->has_value())
    for (auto& p : (*got)->parts)
      out.emplace_back(p.name, p.state);
  return out;
}
using part_list = std::vector<std::pair<std::string, std::string>>;
} // namespace

TEST(StoreParts, PartsAreWrittenWithTheHeadAndLoadedInNameOrder) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto head = make_snapshot("sku", "s1", 1, 1, "head-1");
  head.parts = {{"r2", "two"}, {"r1", std::string{"o\x00ne", 4}}, {"r3", "three"}};
  ASSERT_TRUE(put_and_wait(*s, head).ok());
  EXPECT_EQ(parts_of(*s, "sku", "s1"),
            (part_list{{"r1", std::string{"o\x00ne", 4}}, {"r2", "two"}, {"r3", "three"}}));
  // Only changes are written: an upsert, an erase, and the untouched part stays.
  auto next = make_snapshot("sku", "s1", 2, 1, "head-2");
  next.parts = {{"r2", "two-b"}, {"r3", "", true}, {"r4", "four"}, {"nope", "", true}};
  ASSERT_TRUE(put_and_wait(*s, next).ok());
  auto got = s->load_snapshot("sku", "s1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->state, "head-2");
  EXPECT_EQ(parts_of(*s, "sku", "s1"),
            (part_list{{"r1", std::string{"o\x00ne", 4}}, {"r2", "two-b"}, {"r4", "four"}}));
  // A head write without parts leaves them as they are; list_snapshots gives heads only.
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 3, 1, "head-3")).ok());
  EXPECT_EQ(parts_of(*s, "sku", "s1").size(), 3u);
  auto listed = s->list_snapshots("sku", "", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(listed->front().parts.empty());
  // Parts belong to their entity only.
  EXPECT_TRUE(parts_of(*s, "sku", "s2").empty());
}

TEST(StoreParts, DeletingTheSnapshotDeletesItsParts) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto head = make_snapshot("sku", "s1", 1, 1, "h");
  head.parts = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(put_and_wait(*s, head).ok());
  ASSERT_TRUE(write_and_wait(s->writer(), {delete_snapshot{"sku", "s1", 1}}).ok());
  // A new entity under the same key starts with no parts.
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 1, 1, "fresh")).ok());
  EXPECT_TRUE(parts_of(*s, "sku", "s1").empty());
  auto db = connection::open(s->path(), false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(query_text(*db, "SELECT count(*) FROM snapshot_parts"), "0");
}

TEST(StoreParts, AFencedHeadWritesNoneOfItsParts) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto owner = make_snapshot("sku", "s1", 5, 7, "owner");
  owner.parts = {{"a", "owner-a"}};
  ASSERT_TRUE(put_and_wait(*s, owner).ok());
  auto stale = make_snapshot("sku", "s1", 6, 6, "stale");
  stale.parts = {{"a", "stale-a"}, {"b", "stale-b"}};
  EXPECT_EQ(put_and_wait(*s, stale).code, errc::fenced);
  EXPECT_EQ(parts_of(*s, "sku", "s1"), (part_list{{"a", "owner-a"}}));
}

TEST(StoreRoundTrip, MetaIsAbsentUntilSetAndCanBeOverwritten) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto value = s->meta("node_id");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
  ASSERT_TRUE(s->set_meta("node_id", "n1").ok());
  value = s->meta("node_id");
  ASSERT_TRUE(value.ok() && value->has_value());
  EXPECT_EQ(**value, "n1");
  ASSERT_TRUE(s->set_meta("node_id", "n2").ok());
  EXPECT_EQ(**s->meta("node_id"), "n2");
  ASSERT_TRUE(s->set_meta("empty", "").ok());
  value = s->meta("empty");
  ASSERT_TRUE(value.ok() && value->has_value());
  EXPECT_EQ(**value, "");
}

TEST(StoreRoundTrip, ReopeningAfterCloseKeepsEverythingAndIsNotNew) {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->created());
    EXPECT_EQ(s->path(), dir / "souk.db");
    ASSERT_TRUE(put_and_wait(*s, make_snapshot("order", "o1", 5, 2, "paid")).ok());
    ASSERT_TRUE(s->set_meta("schema_of_order", "3").ok());
    s->close();
  }
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->created());
  auto got = s->load_snapshot("order", "o1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->version, 5);
  EXPECT_EQ((*got)->epoch, 2);
  EXPECT_EQ((*got)->state, "paid");
  EXPECT_EQ(**s->meta("schema_of_order"), "3");
}

TEST(StoreRoundTrip, CloseWritesEverythingStillQueued) {
  temp_dir dir;
  constexpr int n = 500;
  std::atomic<int> ok{0};
  {
    auto s = open_store(dir.path());
    ASSERT_TRUE(s);
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(s->writer()
                      .submit({{put_snapshot{make_snapshot("cart", std::to_string(i), 1)}},
                               [&](const status& st) { ok += st.ok() ? 1 : 0; }})
                      .ok());
    s->close(); // no flush first
    EXPECT_EQ(ok.load(), n);
  }
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->count_snapshots(), n);
}

TEST(StoreRoundTrip, EmptyFileLeftByAKilledFirstStartCountsAsNew) {
  temp_dir dir;
  { std::ofstream{dir / "souk.db"}; } // zero bytes
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->created());
  EXPECT_TRUE(s->set_meta("a", "b").ok());
}

TEST(StoreRoundTrip, MissingDataFoldersAreCreated) {
  temp_dir dir;
  auto nested = dir / "a/b/c";
  auto s = open_store(nested);
  ASSERT_TRUE(s);
  EXPECT_TRUE(std::filesystem::is_regular_file(nested + "/souk.db"));
  EXPECT_TRUE(std::filesystem::is_regular_file(nested + "/LOCK"));
}

TEST(StoreRoundTrip, FileIsInWalModeAndLockHoldsOurPid) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->set_meta("x", "y").ok());
  auto db = connection::open(s->path(), false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(query_text(*db, "PRAGMA journal_mode"), "wal");
  std::ifstream lock{dir / "LOCK"};
  std::string pid;
  lock >> pid;
  EXPECT_EQ(pid, std::to_string(::getpid()));
}

TEST(StoreRoundTrip, SynchronousSettingReachesTheWriterConnection) {
  for (auto mode : {souk::config::sync_mode::normal, souk::config::sync_mode::full}) {
    temp_dir dir;
    auto settings = store_defaults();
    settings.synchronous = mode;
    auto s = open_store(dir.path(), settings);
    ASSERT_TRUE(s);
    std::int64_t seen = -1;
    auto st = write_and_wait(s->writer(), {custom_write{[&seen](connection& db) {
                               auto v = db.query_int("PRAGMA synchronous");
                               seen = v ? *v : -2;
                               return status{};
                             }}});
    ASSERT_TRUE(st.ok()) << st.message;
    EXPECT_EQ(seen, mode == souk::config::sync_mode::full ? 2 : 1); // SQLite: NORMAL 1, FULL 2
  }
}

TEST(StoreRoundTrip, ReadsAndWritesAfterCloseAreRefusedAsClosed) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  s->close();
  s->close(); // idempotent
  EXPECT_EQ(s->load_snapshot("cart", "a").error().code, errc::closed);
  EXPECT_EQ(s->list_snapshots("cart", "", 1).error().code, errc::closed);
  EXPECT_EQ(s->count_snapshots().error().code, errc::closed);
  EXPECT_EQ(s->meta("x").error().code, errc::closed);
  EXPECT_EQ(s->set_meta("x", "y").code, errc::closed);
}

TEST(StoreRoundTrip, ReadersRunWhileTheWriterWrites) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "hot", 1)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::thread reader{[&] {
    std::int64_t last = 0;
    while (!stop) {
      auto got = s->load_snapshot("cart", "hot");
      if (!got.ok() || !got->has_value() || (*got)->version < last)
        bad_reads++;
      else
        last = (*got)->version;
    }
  }};
  for (int v = 2; v <= 300; ++v)
    ASSERT_TRUE(s->writer().submit({{put_snapshot{make_snapshot("cart", "hot", v)}}, {}}).ok());
  s->writer().flush();
  stop = true;
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ((*s->load_snapshot("cart", "hot"))->version, 300);
}

TEST(ErrcNames, EveryCodeHasItsStableName) {
  EXPECT_STREQ(to_string(errc::ok), "ok");
  EXPECT_STREQ(to_string(errc::folder_locked), "folder_locked");
  EXPECT_STREQ(to_string(errc::not_a_database), "not_a_database");
  EXPECT_STREQ(to_string(errc::schema_too_new), "schema_too_new");
  EXPECT_STREQ(to_string(errc::fenced), "fenced");
  EXPECT_STREQ(to_string(errc::overloaded), "overloaded");
  EXPECT_STREQ(to_string(errc::closed), "closed");
  EXPECT_STREQ(to_string(errc::constraint), "constraint");
  EXPECT_EQ(static_cast<int>(errc::constraint), 12); // values are append-only
}

} // namespace
