#pragma once

#include "persistence/sqlite.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace souk::persistence {

/// Counters of the checkpointer, for tests and benchmarks.
struct checkpoint_stats {
  std::uint64_t runs = 0;         ///< checkpoints this thread ran
  std::uint64_t busy = 0;         ///< runs that found another checkpoint in progress
  std::uint64_t pages_copied = 0; ///< WAL frames copied back into the database file
  std::uint64_t micros = 0;       ///< total time spent checkpointing
  std::uint64_t inline_runs = 0;  ///< checkpoints the writer ran itself (WAL at its cap)
  std::uint64_t largest_wal = 0;  ///< most frames the WAL held after a commit
};

/// Copies the WAL back into the database file on a thread of its own, so that the writer's
/// commits do not pay for it.
///
/// SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages: the group-commit
/// writer, the node's one serial stage, then reads and writes every page the WAL holds and
/// syncs the file, and every write waiting for that batch waits with it (a third of the writer's
/// time under checkouts). Installed on the writer's connection, this replaces that: after a
/// commit the WAL's size comes here, and every `wake_pages` new frames this thread runs a PASSIVE
/// checkpoint on its own connection while the writer goes on. A PASSIVE checkpoint never blocks
/// the writer, so under steady writes it stays a little behind and the WAL cannot restart; at
/// `max_pages` the writer checkpoints itself (copying only what this thread has not), after
/// which its next write restarts the WAL from the beginning. The WAL file so stays below
/// `max_pages` pages.
class checkpointer {
public:
  /// Takes over `db` (a connection to the same file) and starts the thread, named
  /// `thread_name` (see base::name_this_thread).
  checkpointer(connection db, std::size_t wake_pages, std::size_t max_pages,
               std::string thread_name = "souk-checkpoint");
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;
  ~checkpointer();

  /// Makes `writer_db` report its WAL here after each commit. Call on the writer's thread (or
  /// before it starts); `writer_db` must stay open until `stop`.
  void install(connection& writer_db);

  /// Undoes `install` (before the writer's connection outlives this).
  static void uninstall(connection& writer_db);

  /// Ends the thread (a checkpoint running finishes first). Idempotent.
  void stop();

  checkpoint_stats stats() const;

private:
  static int on_commit(void* self, sqlite3* db, const char* name, int wal_pages);
  void run();

  connection db_;
  const std::size_t wake_pages_;
  const std::size_t max_pages_;
  std::mutex run_mtx_; // held while a checkpoint runs, by the thread or the writer
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  bool requested_ = false;
  /// WAL frames already copied by the last run: the next one is due `wake_pages` later.
  std::size_t backfilled_ = 0;
  bool stopping_ = false;
  checkpoint_stats stats_;
  std::thread thread_;
};

} // namespace souk::persistence
