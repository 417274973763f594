// The background checkpointer (persistence/checkpointer.hpp) on a real store: the WAL is copied
// back by its thread, stays below its cap under steady writes, and nothing written is lost.
#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <atomic>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::make_snapshot;
using souk::test::open_store;
using souk::test::store_defaults;
using souk::test::temp_dir;

constexpr std::int64_t page_bytes = 4096; // SQLite's default page size
constexpr std::int64_t frame_bytes = page_bytes + 24;

std::string key_of(int i) {
  // Spread over the key space, as hashed order ids are: every write dirties its own pages.
  return "k" + std::to_string((i * 7919) % 100'003);
}

/// Submits `n` snapshots of about 1.5 KB without waiting in between, then waits for all.
void write_many(store& s, int n, int version) {
  std::atomic<int> failed{0};
  for (int i = 0; i < n; ++i) {
    write_request req;
    req.ops.push_back(put_snapshot{make_snapshot("order", key_of(i), version, 1,
                                                 std::string(1500, char('a' + version % 26)))});
    req.done = [&failed](const status& st) {
      if (!st.ok())
        ++failed;
    };
    while (s.writer().submit(std::move(req)).code == errc::overloaded)
      s.writer().flush();
  }
  s.writer().flush();
  EXPECT_EQ(failed.load(), 0);
}

TEST(Checkpointer, CopiesTheWalBackOnItsOwnThreadAndKeepsItBelowTheCap) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.checkpoint_pages = 50;
  settings.wal_max_pages = 400;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  for (int round = 1; round <= 3; ++round)
    write_many(*s, 2'000, round);

  auto stats = s->writer().checkpoints();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->runs, 0u);
  EXPECT_GT(stats->pages_copied, 0u);
  // One batch may take the WAL past the cap before the commit's hook sees it; a batch of these
  // writes is at most 1,000 snapshots of under half a page's worth of new rows each.
  auto cap = static_cast<std::int64_t>(settings.wal_max_pages) + 1'000;
  EXPECT_LE(static_cast<std::int64_t>(stats->largest_wal), cap);
  auto wal = std::filesystem::file_size(s->path() + "-wal");
  EXPECT_LE(static_cast<std::int64_t>(wal), cap * frame_bytes + 32);

  for (int i = 0; i < 2'000; i += 97) {
    auto got = s->load_snapshot("order", key_of(i));
    ASSERT_TRUE(got.ok() && got->has_value()) << key_of(i);
    EXPECT_EQ((*got)->version, 3);
    EXPECT_EQ((*got)->state, std::string(1500, 'd'));
  }
}

TEST(Checkpointer, WhatItCopiedSurvivesAReopen) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.checkpoint_pages = 20;
  settings.wal_max_pages = 100;
  {
    auto s = open_store(dir.path(), settings);
    ASSERT_TRUE(s);
    write_many(*s, 1'500, 1);
    ASSERT_GT(s->writer().checkpoints()->runs, 0u);
  }
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  auto count = s->count_snapshots("order");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1'500);
  auto got = s->load_snapshot("order", key_of(1'499));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->state, std::string(1500, 'b'));
}

TEST(Checkpointer, ZeroPagesLeavesTheCheckpointsToSqlitesCommits) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.checkpoint_pages = 0;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->writer().checkpoints().has_value());
  write_many(*s, 3'000, 1);
  // SQLite's automatic checkpoint (1,000 pages) still bounds the WAL.
  auto wal = std::filesystem::file_size(s->path() + "-wal");
  EXPECT_LE(static_cast<std::int64_t>(wal), 2'000 * frame_bytes + 32);
  auto count = s->count_snapshots("order");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3'000);
}

} // namespace
