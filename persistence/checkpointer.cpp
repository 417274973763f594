#include "persistence/checkpointer.hpp"

#include "base/log.hpp"
#include "base/thread.hpp"

#include <algorithm>
#include <chrono>

#include <sqlite3.h>

namespace souk::persistence {

checkpointer::checkpointer(connection db, std::size_t wake_pages, std::size_t max_pages,
                           std::string thread_name)
    : db_(std::move(db)), wake_pages_(std::max<std::size_t>(wake_pages, 1)),
      max_pages_(std::max(max_pages, wake_pages_)) {
  thread_ = std::thread{[this, name = std::move(thread_name)] {
    base::name_this_thread(name);
    run();
  }};
}

checkpointer::~checkpointer() {
  stop();
}

void checkpointer::install(connection& writer_db) {
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_db.native(), &checkpointer::on_commit, this);
}

void checkpointer::uninstall(connection& writer_db) {
  sqlite3_wal_hook(writer_db.native(), nullptr, nullptr); // no automatic checkpoints either
}

int checkpointer::on_commit(void* self, sqlite3* db, const char* name, int wal_pages) {
  auto& c = *static_cast<checkpointer*>(self);
  auto pages = static_cast<std::size_t>(std::max(wal_pages, 0));
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{c.mtx_};
    c.stats_.largest_wal = std::max<std::uint64_t>(c.stats_.largest_wal, pages);
    if (pages < c.backfilled_)
      c.backfilled_ = 0; // the WAL started over
    if (pages >= c.backfilled_ + c.wake_pages_ && !c.requested_ && !c.stopping_)
      wake = c.requested_ = true;
  }
  if (wake)
    c.wake_.notify_one();
  if (pages >= c.max_pages_) {
    // The background checkpoints cannot catch up with steady writes on their own (see the
    // class comment): copy the rest here, so that the next write starts the WAL over. A run of
    // the thread is waited for (it holds SQLite's checkpoint lock; this one would get BUSY).
    std::lock_guard<std::mutex> running{c.run_mtx_};
    int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard<std::mutex> guard{c.mtx_};
    if (rc == SQLITE_OK)
      ++c.stats_.inline_runs;
  }
  return SQLITE_OK;
}

void checkpointer::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

checkpoint_stats checkpointer::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stats_;
}

void checkpointer::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    wake_.wait(guard, [&] { return stopping_ || requested_; });
    if (stopping_)
      return;
    guard.unlock();
    auto started = std::chrono::steady_clock::now();
    int log = 0;
    int copied = 0;
    int rc = SQLITE_OK;
    {
      std::lock_guard<std::mutex> running{run_mtx_};
      rc = sqlite3_wal_checkpoint_v2(db_.native(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                     &copied);
    }
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      base::log_warn("checkpoint failed", {{"error", db_.last_error("checkpoint").message}});
    guard.lock();
    requested_ = false;
    ++stats_.runs;
    if (rc == SQLITE_BUSY)
      ++stats_.busy;
    // `copied` counts the WAL's frames checkpointed so far, by any connection.
    auto now_backfilled = static_cast<std::size_t>(std::max(copied, 0));
    if (rc == SQLITE_OK) {
      if (now_backfilled > backfilled_)
        stats_.pages_copied += now_backfilled - backfilled_;
      backfilled_ = now_backfilled;
    }
    stats_.micros += static_cast<std::uint64_t>(micros);
  }
}

} // namespace souk::persistence
