#pragma once

#include "config/settings.hpp"
#include "persistence/checkpointer.hpp"
#include "persistence/key_filter.hpp"
#include "persistence/snapshot.hpp"
#include "persistence/sqlite.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

namespace souk::persistence {

/// Upserts a snapshot unless the stored one has a higher epoch (then the write is `fenced`), and
/// applies its part changes (upserts and erasures) with it.
struct put_snapshot {
  snapshot value;
};

/// Deletes a snapshot and its parts unless the stored one has a higher epoch (then the write is
/// `fenced`). Deleting a snapshot that does not exist succeeds.
struct delete_snapshot {
  std::string kind;
  std::string key;
  std::int64_t epoch = 0;
};

/// Any other write, for the tables of upper layers (outbox, idempotency, catalog). Runs on the
/// writer thread inside the batch transaction; must not begin or end transactions, and must not
/// insert snapshots (the store's key filter hears of those only through `put_snapshot`).
struct custom_write {
  std::function<status(connection&)> apply;
};

using write_op = std::variant<put_snapshot, delete_snapshot, custom_write>;

/// Called exactly once per accepted write, on the writer thread, after the write's batch is
/// committed (durable to `store.synchronous`) or has failed. Must be quick and must not call
/// back into the writer's `flush` (it would wait for itself).
using write_callback = std::function<void(const status&)>;

/// One atomic unit: all its ops are applied, or none.
struct write_request {
  std::vector<write_op> ops;
  write_callback done;
};

/// Counters of the writer, for metrics and benchmarks.
struct writer_stats {
  std::uint64_t writes = 0;  ///< writes completed (committed or failed)
  std::uint64_t batches = 0; ///< transactions committed
  std::uint64_t failed_batches = 0;
  std::uint64_t largest_batch = 0;
  std::uint64_t commit_micros = 0; ///< total time spent in batches
  std::size_t queued = 0;          ///< writes waiting now
};

/// The group-commit writer: one thread owns a write connection and applies queued writes in
/// batches, one transaction per batch (up to `batch_max_writes`, waiting at most
/// `batch_max_delay` for a batch to fill), then calls every write's callback. An actor that must
/// be durable before it answers replies from its callback. Thread-safe.
class writer {
public:
  /// Takes over `db` (already migrated) and starts the writer thread. With `checkpoint_db` (a
  /// second connection to the file) and `settings.checkpoint_pages` > 0, the WAL is copied back
  /// on a thread of its own (`checkpointer`); else SQLite does it inside the commits.
  /// With `filter`, every snapshot key a `put_snapshot` names is added to it when the write is
  /// submitted (before it is queued); the filter must outlive the writer.
  writer(connection db, const config::store_settings& settings, connection checkpoint_db = {},
         key_filter* filter = nullptr);
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;
  /// Stops after writing everything queued.
  ~writer();

  /// Queues `request`. Returns `overloaded` when `max_pending_writes` are queued and `closed`
  /// after `stop`; the callback is then never called. Any thread.
  status submit(write_request request);

  /// Blocks until every write submitted before the call has completed. Any thread but the
  /// writer's own (callbacks).
  void flush();

  /// Writes everything queued, then stops the thread; later submits get `closed`. Idempotent.
  void stop();

  writer_stats stats() const;
  /// The checkpointer's counters; nullopt when the commits checkpoint themselves.
  std::optional<checkpoint_stats> checkpoints() const;

private:
  void run();
  void write_batch(std::vector<write_request>& batch);
  status apply(const write_op& op);

  connection db_;
  statement put_;
  statement delete_;
  statement put_part_;
  statement delete_part_;
  statement delete_parts_;
  config::store_settings settings_;
  key_filter* filter_ = nullptr;
  std::unique_ptr<checkpointer> checkpointer_; // after db_: stops before db_ closes

  mutable std::mutex mtx_;
  std::condition_variable wake_;     // the writer thread waits for work
  std::condition_variable progress_; // flush() waits for completed writes
  std::deque<write_request> queue_;
  bool stopping_ = false;
  std::uint64_t submitted_ = 0; // sequence number of the last accepted write
  std::uint64_t completed_ = 0; // writes completed, in submission order
  writer_stats stats_;
  std::thread thread_;
};

} // namespace souk::persistence
