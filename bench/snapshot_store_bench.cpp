// Snapshot store throughput: 300-byte snapshot upserts over 10,000 keys through the store's
// own group-commit writer, for 1, 100 and 1,000 writes per transaction, with synchronous
// NORMAL and FULL; next to each, plain SQLite doing the same upserts in the same run (the
// anchor). Prints a Markdown table.
//
// Run: build/release/bench/snapshot_store_bench [--seconds S] [--dir DIR]
//   --seconds  time per row (default 3); --dir  scratch folder (default a new one in /tmp)
#include "config/settings.hpp"
#include "persistence/store.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>

#include <sqlite3.h>

namespace {

using namespace souk;
using clock_type = std::chrono::steady_clock;
constexpr int key_count = 10'000;
constexpr std::size_t state_bytes = 300;

std::string key_of(long i) {
  return "sku-" + std::to_string(i % key_count);
}

/// Upserts through persistence::writer for `seconds`; returns writes/s.
double through_writer(const std::string& dir, config::sync_mode sync, std::size_t batch,
                      double seconds) {
  std::filesystem::remove_all(dir);
  config::store_settings settings;
  settings.synchronous = sync;
  settings.batch_max_writes = batch;
  settings.max_pending_writes = 100'000;
  auto opened = persistence::store::open(dir, settings);
  if (!opened) {
    std::fprintf(stderr, "cannot open store: %s\n", opened.error().message.c_str());
    std::exit(1);
  }
  auto& st = **opened;
  std::string state(state_bytes, 's');
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  auto submit = [&](long i) {
    persistence::write_request req;
    req.ops.emplace_back(persistence::put_snapshot{{"sku", key_of(i), i + 1, 1, state, 0}});
    req.done = [&](const persistence::status& s) {
      if (!s.ok())
        ++failed;
      ++done;
    };
    return st.writer().submit(std::move(req));
  };
  // Pre-fill every key so that the measured writes are updates, as the anchor does.
  for (long i = 0; i < key_count; ++i)
    while (!submit(i).ok())
      std::this_thread::yield();
  st.writer().flush();
  done = 0;
  auto start = clock_type::now();
  auto stop_at = start + std::chrono::duration<double>(seconds);
  long submitted = 0;
  while (clock_type::now() < stop_at) {
    // Keep about 20,000 writes queued: enough to fill every batch, bounded memory.
    if (submitted - done.load() > 20'000) {
      // Sleep rather than spin: on two cores a spinning producer steals the writer's CPU,
      // and real producers (actors) wait for their callbacks instead.
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    if (submit(submitted).ok())
      ++submitted;
  }
  st.writer().flush();
  auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  if (failed > 0)
    std::fprintf(stderr, "%ld writes failed\n", failed.load());
  return static_cast<double>(done.load()) / elapsed;
}

/// The same upserts with plain SQLite on one thread: the anchor of the table.
double plain_sqlite(const std::string& dir, config::sync_mode sync, std::size_t batch,
                    double seconds) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/plain.db").c_str(), &db);
  std::string pragmas = std::string{"PRAGMA journal_mode=WAL; PRAGMA synchronous="} +
                        (sync == config::sync_mode::full ? "FULL" : "NORMAL") +
                        "; CREATE TABLE snapshots (kind TEXT NOT NULL, key TEXT NOT NULL,"
                        " version INTEGER NOT NULL, epoch INTEGER NOT NULL, state BLOB NOT NULL,"
                        " updated_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;";
  sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO snapshots VALUES (?1, ?2, ?3, 1, ?4, 0) ON CONFLICT (kind, key)"
                     " DO UPDATE SET version = excluded.version, state = excluded.state",
                     -1, &stmt, nullptr);
  std::string state(state_bytes, 's');
  auto upsert = [&](long i) {
    auto key = key_of(i);
    sqlite3_bind_text(stmt, 1, "sku", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 3, i);
    sqlite3_bind_blob(stmt, 4, state.data(), static_cast<int>(state.size()), SQLITE_STATIC);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
  };
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (long i = 0; i < key_count; ++i)
    upsert(i);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  long writes = 0;
  auto start = clock_type::now();
  auto stop_at = start + std::chrono::duration<double>(seconds);
  while (clock_type::now() < stop_at) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (std::size_t j = 0; j < batch; ++j)
      upsert(writes++);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return static_cast<double>(writes) / elapsed;
}

} // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
  }
  if (seconds <= 0 || seconds > 60) {
    std::fprintf(stderr, "--seconds must be in (0, 60]\n");
    return 2;
  }
  std::filesystem::path scratch = dir.empty() ? std::filesystem::temp_directory_path() /
                                                    ("souk-bench-" + std::to_string(::getpid()))
                                              : std::filesystem::path{dir};
  std::printf("| synchronous | writes per transaction | souk writer (writes/s) "
              "| plain SQLite, same run (writes/s) | ratio |\n|---|---|---|---|---|\n");
  for (auto sync : {config::sync_mode::normal, config::sync_mode::full}) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
      auto ours = through_writer((scratch / "writer").string(), sync, batch, seconds);
      auto anchor = plain_sqlite((scratch / "plain").string(), sync, batch, seconds);
      std::printf("| %s | %zu | %.0f | %.0f | %.2f |\n",
                  sync == config::sync_mode::full ? "FULL" : "NORMAL", batch, ours, anchor,
                  ours / anchor);
      std::fflush(stdout);
    }
  }
  std::filesystem::remove_all(scratch);
  return 0;
}
