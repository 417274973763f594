#pragma once

#include "config/settings.hpp"
#include "persistence/key_filter.hpp"
#include "persistence/snapshot.hpp"
#include "persistence/sqlite.hpp"
#include "persistence/writer.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace souk::persistence {

/// The node's store: one SQLite file in WAL mode under the data folder, held exclusively by
/// this process, with a group-commit `writer` for every write and a read connection for
/// lookups. Thread-safe.
class store {
public:
  /// The file name of the database inside the data folder.
  static constexpr const char* file_name = "souk.db";

  /// Creates `data_dir` if needed, locks it against a second process, opens (or creates) the
  /// database, applies `settings.synchronous`, migrates it and starts the writer. Errors:
  /// `folder_unusable`, `folder_locked`, `not_a_database`, `read_only`, `schema_too_new`,
  /// `migration_failed`, each with a message naming the path.
  static result<std::unique_ptr<store>> open(const std::string& data_dir,
                                             const config::store_settings& settings);

  store(const store&) = delete;
  store& operator=(const store&) = delete;
  /// Flushes and closes (see `close`).
  ~store();

  /// True when this open created the database: a new data folder, or a file that no souk ever
  /// migrated (an empty file left by a first start that was killed).
  bool created() const { return created_; }
  /// The database file's path.
  const std::string& path() const { return path_; }

  /// The group-commit writer for every write to this store.
  persistence::writer& writer() { return *writer_; }

  /// The snapshot of (kind, key) with all its parts, or nullopt when there is none (without a
  /// read when the key filter knows the key is new).
  result<std::optional<snapshot>> load_snapshot(const std::string& kind, const std::string& key);

  /// Snapshots of `kind` with keys after `after_key`, in key order, at most `limit`; heads only
  /// (their `parts` are left empty).
  result<std::vector<snapshot>> list_snapshots(const std::string& kind,
                                               const std::string& after_key, int limit);

  /// Number of snapshots of `kind` (all kinds when empty).
  result<std::int64_t> count_snapshots(const std::string& kind = {});

  /// The value of a `meta` entry, nullopt when absent.
  result<std::optional<std::string>> meta(const std::string& name);
  /// Sets a `meta` entry durably (through the writer; blocks until committed).
  status set_meta(const std::string& name, const std::string& value);

  /// Loads that the key filter answered without a read, and loads that read (tests check the
  /// filter with them).
  std::uint64_t loads_skipped() const { return loads_skipped_.load(std::memory_order_relaxed); }
  std::uint64_t loads_read() const { return loads_read_.load(std::memory_order_relaxed); }

  /// Writes everything queued, stops the writer and closes the files. Idempotent.
  void close();

private:
  store() = default;

  std::string path_;
  bool created_ = false;
  int lock_fd_ = -1;
  std::unique_ptr<key_filter> filter_; // null: disabled; before writer_, which adds to it
  std::unique_ptr<persistence::writer> writer_;
  std::mutex read_mtx_; // one reader connection, used by one thread at a time
  connection reader_;
  statement load_head_; // load_snapshot's queries, prepared on first use on reader_
  statement load_parts_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> loads_skipped_{0};
  std::atomic<std::uint64_t> loads_read_{0};
};

/// Opens `path` read-write and sets WAL mode, `synchronous` and the busy timeout.
result<connection> open_connection(const std::string& path, const config::store_settings& settings,
                                   bool create);

} // namespace souk::persistence
