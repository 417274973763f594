// The group-commit writer: batching, atomic multi-op writes, fencing, overload and shutdown.

#include "persistence/store.hpp"
#include "persistence/writer.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using namespace std::chrono_literals;
using souk::test::make_snapshot;
using souk::test::open_store;
using souk::test::put_and_wait;
using souk::test::request_with_future;
using souk::test::store_defaults;
using souk::test::temp_dir;
using souk::test::write_and_wait;
using souk::test::writer_blocker;

/// A custom write that inserts a meta row and then reports `result`.
custom_write meta_then(std::string name, status result) {
  return custom_write{[name, result](connection& db) {
    auto stmt = db.prepare("INSERT INTO meta (name, value) VALUES (?1, 'x')");
    stmt.bind(1, name);
    stmt.step();
    if (!stmt.error().ok())
      return stmt.error();
    return result;
  }};
}

// -- batching -------------------------------------------------------------------------------------

TEST(WriterBatching, QuickWritesAreGroupedIntoBatchesOfAtMostTheLimit) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.batch_max_writes = 100;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  constexpr int n = 5000;
  std::vector<std::atomic<int>> calls(n);
  std::atomic<int> not_ok{0};
  for (int i = 0; i < n; ++i) {
    auto snap = make_snapshot("sku", "k" + std::to_string(i), 1);
    snap.state.assign(100, 'x');
    ASSERT_TRUE(s->writer()
                    .submit({{put_snapshot{snap}},
                             [&, i](const status& st) {
                               calls[static_cast<std::size_t>(i)]++;
                               if (!st.ok())
                                 not_ok++;
                             }})
                    .ok());
  }
  s->writer().flush();
  auto stats = s->writer().stats();
  EXPECT_EQ(stats.writes, std::uint64_t{n});
  EXPECT_GE(stats.batches, 50u);   // no batch beyond 100 writes
  EXPECT_LT(stats.batches, 5000u); // some writes shared a commit
  EXPECT_LE(stats.largest_batch, 100u);
  EXPECT_GT(stats.largest_batch, 1u);
  EXPECT_EQ(stats.failed_batches, 0u);
  EXPECT_EQ(stats.queued, 0u);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(calls[static_cast<std::size_t>(i)].load(), 1) << "write " << i;
  EXPECT_EQ(not_ok.load(), 0);
  EXPECT_EQ(*s->count_snapshots("sku"), n);
}

TEST(WriterBatching, WritesQueuedBehindABusyWriterGoInFullBatches) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.batch_max_writes = 100;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  writer_blocker blocker;
  ASSERT_TRUE(s->writer().submit(blocker.request()).ok());
  ASSERT_TRUE(blocker.wait_started());
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(
        s->writer().submit({{put_snapshot{make_snapshot("sku", std::to_string(i), 1)}}, {}}).ok());
  EXPECT_EQ(s->writer().stats().queued, 5000u);
  blocker.release();
  s->writer().flush();
  auto stats = s->writer().stats();
  EXPECT_TRUE(blocker.done().ok());
  EXPECT_EQ(stats.batches, 51u); // the blocker alone, then 50 full batches
  EXPECT_EQ(stats.largest_batch, 100u);
  EXPECT_EQ(stats.writes, 5001u);
  EXPECT_EQ(*s->count_snapshots(), 5000);
}

TEST(WriterBatching, PositiveDelayGroupsASlowTrickleOfWrites) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.batch_max_delay = 300ms;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(s->writer()
                    .submit({{put_snapshot{make_snapshot("cart", std::to_string(i), 1)}},
                             [&](const status& st) { ok += st.ok() ? 1 : 0; }})
                    .ok());
    std::this_thread::sleep_for(5ms);
  }
  s->writer().flush();
  auto stats = s->writer().stats();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_LE(stats.batches, 2u) << "10 writes 5 ms apart fit in one 300 ms window";
  EXPECT_GE(stats.largest_batch, 5u);
}

TEST(WriterBatching, ZeroDelayCommitsATrickleWriteByWrite) {
  temp_dir dir;
  auto s = open_store(dir.path()); // batch_max_delay 0
  ASSERT_TRUE(s);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", std::to_string(i), 1)).ok());
  }
  s->writer().flush(); // counters are updated after the callbacks ran
  auto stats = s->writer().stats();
  EXPECT_EQ(stats.batches, 10u);
  EXPECT_EQ(stats.largest_batch, 1u);
}

TEST(WriterBatching, DelayEndsEarlyWhenTheBatchIsFull) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.batch_max_delay = 10s; // would fail the test's time budget if waited out
  settings.batch_max_writes = 20;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(
        s->writer().submit({{put_snapshot{make_snapshot("cart", std::to_string(i), 1)}}, {}}).ok());
  s->writer().flush();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(*s->count_snapshots(), 20);
}

TEST(WriterBatching, ManyThreadsSubmittingConcurrentlyLoseNothing) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.batch_max_writes = 64;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto key = std::to_string(t) + "-" + std::to_string(i);
        while (!s->writer()
                    .submit({{put_snapshot{make_snapshot("cart", key, 1)}},
                             [&](const status& st) { ok += st.ok() ? 1 : 0; }})
                    .ok())
          std::this_thread::yield();
      }
      s->writer().flush();
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), 2000);
  EXPECT_EQ(*s->count_snapshots(), 2000);
}

// -- atomic multi-op writes -----------------------------------------------------------------------

TEST(WriterAtomicity, FailingOpUndoesItsWholeRequestButNotItsBatchNeighbours) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  writer_blocker blocker; // keeps the writer busy so the three requests share one batch
  ASSERT_TRUE(s->writer().submit(blocker.request()).ok());
  ASSERT_TRUE(blocker.wait_started());
  auto [before, before_done] = request_with_future({put_snapshot{make_snapshot("cart", "a", 1)}});
  auto [failing, failing_done] =
      request_with_future({put_snapshot{make_snapshot("cart", "b", 1)},
                           meta_then("from-b", status{}), custom_write{[](connection&) {
                             return status{errc::constraint, "stock below zero"};
                           }}});
  auto [after, after_done] = request_with_future(
      {put_snapshot{make_snapshot("cart", "c", 1)}, meta_then("from-c", status{})});
  ASSERT_TRUE(s->writer().submit(std::move(before)).ok());
  ASSERT_TRUE(s->writer().submit(std::move(failing)).ok());
  ASSERT_TRUE(s->writer().submit(std::move(after)).ok());
  blocker.release();

  EXPECT_TRUE(before_done.get().ok());
  auto failed = failing_done.get();
  EXPECT_EQ(failed.code, errc::constraint);
  EXPECT_EQ(failed.message, "stock below zero");
  EXPECT_TRUE(after_done.get().ok());
  s->writer().flush();
  auto stats = s->writer().stats();
  EXPECT_EQ(stats.batches, 2u); // the blocker, then all three together
  EXPECT_EQ(stats.failed_batches, 0u);

  EXPECT_TRUE(s->load_snapshot("cart", "a")->has_value());
  EXPECT_FALSE(s->load_snapshot("cart", "b")->has_value());
  EXPECT_TRUE(s->load_snapshot("cart", "c")->has_value());
  EXPECT_FALSE(s->meta("from-b")->has_value());
  EXPECT_TRUE(s->meta("from-c")->has_value());
}

TEST(WriterAtomicity, SingleCustomWriteThatFailsLeavesNothingBehind) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto st = write_and_wait(s->writer(), {meta_then("half", status{errc::constraint, "no"})});
  EXPECT_EQ(st.code, errc::constraint);
  EXPECT_FALSE(s->meta("half")->has_value());
  EXPECT_TRUE(s->set_meta("later", "ok").ok()); // the writer goes on
}

TEST(WriterAtomicity, ThrowingCustomWriteFailsOnlyItselfAsConstraint) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto st = write_and_wait(
      s->writer(), {put_snapshot{make_snapshot("cart", "a", 1)},
                    custom_write{[](connection&) -> status { throw std::runtime_error{"bug"}; }}});
  EXPECT_EQ(st.code, errc::constraint);
  EXPECT_NE(st.message.find("bug"), std::string::npos) << st.message;
  EXPECT_FALSE(s->load_snapshot("cart", "a")->has_value());
  EXPECT_TRUE(put_and_wait(*s, make_snapshot("cart", "b", 1)).ok());
}

TEST(WriterAtomicity, SqlConstraintViolationInACustomWriteIsReportedAsConstraint) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->set_meta("dup", "1").ok());
  auto st = write_and_wait(s->writer(), {meta_then("dup", status{})}); // primary key taken
  EXPECT_EQ(st.code, errc::constraint) << st.message;
  EXPECT_EQ(**s->meta("dup"), "1");
}

TEST(WriterAtomicity, BatchWideErrorFailsEveryWriteOfTheBatchAndTheWriterRecovers) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  writer_blocker blocker;
  ASSERT_TRUE(s->writer().submit(blocker.request()).ok());
  ASSERT_TRUE(blocker.wait_started());
  auto [good, good_done] = request_with_future({put_snapshot{make_snapshot("cart", "a", 1)}});
  auto [bad, bad_done] = request_with_future({custom_write{[](connection&) {
    return status{errc::io_error, "disk on fire"};
  }}});
  ASSERT_TRUE(s->writer().submit(std::move(good)).ok());
  ASSERT_TRUE(s->writer().submit(std::move(bad)).ok());
  blocker.release();
  auto good_st = good_done.get();
  auto bad_st = bad_done.get();
  EXPECT_EQ(good_st.code, errc::io_error); // its batch was rolled back
  EXPECT_EQ(bad_st.code, errc::io_error);
  EXPECT_EQ(bad_st.message, "disk on fire");
  s->writer().flush();
  EXPECT_EQ(s->writer().stats().failed_batches, 1u);
  EXPECT_FALSE(s->load_snapshot("cart", "a")->has_value());
  EXPECT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1)).ok()); // next batch is fine
  EXPECT_TRUE(s->load_snapshot("cart", "a")->has_value());
}

TEST(WriterAtomicity, RequestWithoutCallbackOrOpsIsFine) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->writer().submit({{}, {}}).ok());
  ASSERT_TRUE(s->writer().submit({{custom_write{}}, {}}).ok());
  ASSERT_TRUE(s->writer().submit({{put_snapshot{make_snapshot("cart", "a", 1)}}, {}}).ok());
  s->writer().flush();
  EXPECT_TRUE(s->load_snapshot("cart", "a")->has_value());
  EXPECT_EQ(s->writer().stats().writes, 3u);
}

// -- fencing --------------------------------------------------------------------------------------

TEST(WriterFencing, PutWithALowerEpochIsFencedAndChangesNothing) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 10, 5, "owner-5")).ok());
  auto st = put_and_wait(*s, make_snapshot("sku", "s1", 11, 4, "stale-owner-4"));
  EXPECT_EQ(st.code, errc::fenced);
  EXPECT_NE(st.message.find("sku/s1"), std::string::npos) << st.message;
  auto got = s->load_snapshot("sku", "s1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->version, 10);
  EXPECT_EQ((*got)->epoch, 5);
  EXPECT_EQ((*got)->state, "owner-5");
}

TEST(WriterFencing, EqualOrHigherEpochIsAccepted) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 1, 5, "a")).ok());
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 2, 5, "b")).ok());
  EXPECT_EQ((*s->load_snapshot("sku", "s1"))->state, "b");
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 1, 6, "new-owner")).ok());
  auto got = s->load_snapshot("sku", "s1");
  EXPECT_EQ((*got)->epoch, 6);
  EXPECT_EQ((*got)->version, 1);
  EXPECT_EQ((*got)->state, "new-owner");
  EXPECT_EQ(put_and_wait(*s, make_snapshot("sku", "s1", 3, 5, "old")).code, errc::fenced);
}

TEST(WriterFencing, FencedOpUndoesTheRestOfItsRequest) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("sku", "s1", 1, 5)).ok());
  auto st = write_and_wait(s->writer(), {put_snapshot{make_snapshot("cart", "c1", 1, 4)},
                                         put_snapshot{make_snapshot("sku", "s1", 2, 4)}});
  EXPECT_EQ(st.code, errc::fenced);
  EXPECT_FALSE(s->load_snapshot("cart", "c1")->has_value());
  EXPECT_EQ((*s->load_snapshot("sku", "s1"))->version, 1);
}

TEST(WriterFencing, DeleteWithALowerEpochIsFencedAndKeepsTheSnapshot) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "c1", 3, 7)).ok());
  auto st = write_and_wait(s->writer(), {delete_snapshot{"cart", "c1", 6}});
  EXPECT_EQ(st.code, errc::fenced);
  EXPECT_TRUE(s->load_snapshot("cart", "c1")->has_value());
  EXPECT_TRUE(write_and_wait(s->writer(), {delete_snapshot{"cart", "c1", 7}}).ok());
  EXPECT_FALSE(s->load_snapshot("cart", "c1")->has_value());
}

// -- overload and shutdown ------------------------------------------------------------------------

TEST(WriterOverload, FullQueueRefusesSubmitsAsOverloadedUntilItDrains) {
  temp_dir dir;
  auto settings = store_defaults();
  settings.max_pending_writes = 3;
  settings.batch_max_writes = 1;
  auto s = open_store(dir.path(), settings);
  ASSERT_TRUE(s);
  writer_blocker blocker;
  ASSERT_TRUE(s->writer().submit(blocker.request()).ok());
  ASSERT_TRUE(blocker.wait_started()); // the blocker has left the queue
  std::atomic<int> callbacks{0};
  auto put = [&](const std::string& key) {
    return s->writer().submit(
        {{put_snapshot{make_snapshot("cart", key, 1)}}, [&](const status&) { callbacks++; }});
  };
  EXPECT_TRUE(put("q1").ok());
  EXPECT_TRUE(put("q2").ok());
  EXPECT_TRUE(put("q3").ok());
  auto refused = put("q4");
  EXPECT_EQ(refused.code, errc::overloaded);
  EXPECT_NE(refused.message.find("3"), std::string::npos) << refused.message;
  EXPECT_EQ(s->writer().stats().queued, 3u);

  blocker.release();
  s->writer().flush();
  EXPECT_EQ(callbacks.load(), 3); // never for the refused write
  EXPECT_TRUE(s->load_snapshot("cart", "q3")->has_value());
  EXPECT_FALSE(s->load_snapshot("cart", "q4")->has_value());
  EXPECT_TRUE(put("q4").ok()); // room again
  s->writer().flush();
  EXPECT_TRUE(s->load_snapshot("cart", "q4")->has_value());
}

TEST(WriterShutdown, SubmitAfterStopIsRefusedAsClosedAndNeverCalledBack) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1)).ok());
  s->writer().stop();
  s->writer().stop(); // idempotent
  bool called = false;
  auto st = s->writer().submit(
      {{put_snapshot{make_snapshot("cart", "b", 1)}}, [&](const status&) { called = true; }});
  EXPECT_EQ(st.code, errc::closed);
  s->writer().flush(); // returns at once: nothing pending
  EXPECT_FALSE(called);
  EXPECT_EQ(s->set_meta("x", "y").code, errc::closed);
  EXPECT_TRUE(s->load_snapshot("cart", "a")->has_value()); // reads still work until close
  EXPECT_FALSE(s->load_snapshot("cart", "b")->has_value());
}

TEST(WriterShutdown, StopWaitsForQueuedWritesBehindABusyWriter) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  writer_blocker blocker;
  ASSERT_TRUE(s->writer().submit(blocker.request()).ok());
  ASSERT_TRUE(blocker.wait_started());
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(s->writer()
                    .submit({{put_snapshot{make_snapshot("cart", std::to_string(i), 1)}},
                             [&](const status& st) { ok += st.ok() ? 1 : 0; }})
                    .ok());
  std::thread stopper{[&] { s->writer().stop(); }};
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ok.load(), 0);
  blocker.release();
  stopper.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(*s->count_snapshots(), 10);
}

TEST(WriterShutdown, FlushFromSeveralThreadsReturnsOnceTheirWritesAreDone) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i)
        (void)s->writer().submit(
            {{put_snapshot{make_snapshot("cart", std::to_string(t * 1000 + i), 1)}},
             [&](const status&) { done++; }});
      s->writer().flush();
      EXPECT_GE(done.load(), 100);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(done.load(), 300);
}

} // namespace
