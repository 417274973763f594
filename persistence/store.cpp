#include "persistence/store.hpp"

#include "persistence/migrations.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <sys/file.h>
#include <unistd.h>

namespace souk::persistence {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

/// Locks `dir/LOCK` so that two processes never write one store. Returns the open fd.
result<int> lock_folder(const std::string& dir) {
  auto path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return status{errc::folder_unusable, "data folder " + dir + " is not writable: cannot create " +
                                             path + ": " + errno_text()};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    auto n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    ::close(fd);
    auto holder = n > 0 ? std::string{pid, static_cast<std::size_t>(n)} : std::string{"?"};
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    return status{errc::folder_locked,
                  "data folder " + dir + " is in use by another process (pid " + holder + ")"};
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    return status{errc::folder_unusable,
                  "data folder " + dir + " is not writable: " + errno_text()};
  }
  return fd;
}

} // namespace

result<connection> open_connection(const std::string& path, const config::store_settings& settings,
                                   bool create) {
  auto conn = connection::open(path, create);
  if (!conn)
    return conn;
  auto sync = settings.synchronous == config::sync_mode::full ? "FULL" : "NORMAL";
  auto pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + std::string{sync} +
                 "; PRAGMA busy_timeout = " + std::to_string(settings.busy_timeout.count()) +
                 "; PRAGMA foreign_keys = ON;";
  if (auto st = conn->exec(pragmas); !st.ok())
    return status{st.code, "cannot configure " + path + ": " + st.message};
  return conn;
}

result<std::unique_ptr<store>> store::open(const std::string& data_dir,
                                           const config::store_settings& settings) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return status{errc::folder_unusable,
                  "data folder " + data_dir + " cannot be created: " + ec.message()};
  if (!std::filesystem::is_directory(data_dir, ec))
    return status{errc::folder_unusable, "data folder " + data_dir + " is not a folder"};
  auto lock = lock_folder(data_dir);
  if (!lock)
    return lock.error();
  std::unique_ptr<store> self{new store};
  self->lock_fd_ = *lock;
  self->path_ = (std::filesystem::path{data_dir} / file_name).string();

  auto db = open_connection(self->path_, settings, true);
  if (!db)
    return db.error();
  // New means "never migrated", not "no file": a first start killed before its first
  // migration leaves an empty file behind, and the next start is still the first.
  auto version = db->query_int("PRAGMA user_version");
  if (!version)
    return status{version.error().code,
                  "database file " + self->path_ + " is not usable: " + version.error().message};
  self->created_ = *version == 0;
  if (auto st = migrate(*db); !st.ok())
    return st;
  auto reader = open_connection(self->path_, settings, false);
  if (!reader)
    return reader.error();
  self->reader_ = std::move(*reader);
  connection checkpoint_db;
  if (settings.checkpoint_pages > 0) {
    auto c = open_connection(self->path_, settings, false);
    if (!c)
      return c.error();
    checkpoint_db = std::move(*c);
  }
  if (settings.key_filter_mib > 0) {
    // Every key in the file, before the writer can take a write (one scan of the keys).
    self->filter_ = std::make_unique<key_filter>(settings.key_filter_mib * 8 * 1024 * 1024);
    status err;
    auto keys = self->reader_.prepare("SELECT kind, key FROM snapshots", &err);
    if (!keys)
      return status{err.code, "database file " + self->path_ + ": " + err.message};
    while (keys.step())
      self->filter_->add(keys.column_text(0), keys.column_text(1));
    if (auto e = keys.error(); !e.ok())
      return status{e.code, "database file " + self->path_ + ": " + e.message};
  }
  self->writer_ = std::make_unique<persistence::writer>(
      std::move(*db), settings, std::move(checkpoint_db), self->filter_.get());
  return self;
}

store::~store() {
  close();
}

void store::close() {
  closed_.store(true, std::memory_order_relaxed);
  if (writer_)
    writer_->stop();
  writer_.reset();
  {
    std::lock_guard<std::mutex> guard{read_mtx_};
    load_head_ = statement{};
    load_parts_ = statement{};
    reader_ = connection{};
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_); // releases the flock
    lock_fd_ = -1;
  }
}

result<std::optional<snapshot>> store::load_snapshot(const std::string& kind,
                                                     const std::string& key) {
  if (closed_.load(std::memory_order_relaxed))
    return status{errc::closed, "the store is closed"};
  if (filter_ && !filter_->may_contain(kind, key)) {
    loads_skipped_.fetch_add(1, std::memory_order_relaxed);
    return std::optional<snapshot>{};
  }
  loads_read_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> guard{read_mtx_};
  if (!reader_)
    return status{errc::closed, "the store is closed"};
  // Prepared once and reused: every entity activation reads here, and most of them (new
  // orders, payments, carts, idempotency keys) find nothing, so preparing would be most of the
  // cost. The head alone first: one index probe, no sort. Only an entity that has a head
  // reads its parts (in key order from their primary key), in the same read transaction as a
  // second read of the head, so both come from the same committed state.
  status err;
  if (!load_head_) {
    load_head_ = reader_.prepare(
        "SELECT version, epoch, state, updated_at FROM snapshots WHERE kind = ?1 AND key = ?2",
        &err);
    if (!load_head_)
      return err;
    load_parts_ = reader_.prepare(
        "SELECT part, state FROM snapshot_parts WHERE kind = ?1 AND key = ?2 ORDER BY part", &err);
    if (!load_parts_) {
      load_head_ = statement{};
      return err;
    }
  }
  auto read_head = [&]() -> result<std::optional<snapshot>> {
    load_head_.reset();
    load_head_.bind(1, kind).bind(2, key);
    std::optional<snapshot> out;
    if (load_head_.step())
      out = snapshot{kind,
                     key,
                     load_head_.column_int(0),
                     load_head_.column_int(1),
                     load_head_.column_text(2),
                     load_head_.column_int(3)};
    auto e = load_head_.error();
    load_head_.reset();
    if (!e.ok())
      return e;
    return out;
  };
  auto head = read_head();
  if (!head.ok() || !head->has_value())
    return head;
  // It exists: read head and parts again, together.
  if (auto st = reader_.exec("BEGIN"); !st.ok())
    return st;
  auto out = read_head();
  if (out.ok() && out->has_value()) {
    load_parts_.reset();
    load_parts_.bind(1, kind).bind(2, key);
    while (load_parts_.step())
      (*out)->parts.push_back({load_parts_.column_text(0), load_parts_.column_text(1)});
    auto e = load_parts_.error();
    load_parts_.reset();
    if (!e.ok())
      out = e;
  }
  reader_.exec("COMMIT"); // a read transaction: nothing to lose if it fails
  return out;
}

result<std::vector<snapshot>> store::list_snapshots(const std::string& kind,
                                                    const std::string& after_key, int limit) {
  std::lock_guard<std::mutex> guard{read_mtx_};
  if (!reader_)
    return status{errc::closed, "the store is closed"};
  status err;
  auto stmt = reader_.prepare("SELECT key, version, epoch, state, updated_at FROM snapshots "
                              "WHERE kind = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
                              &err);
  if (!stmt)
    return err;
  stmt.bind(1, kind).bind(2, after_key).bind(3, std::int64_t{limit});
  std::vector<snapshot> out;
  while (stmt.step())
    out.push_back({kind, stmt.column_text(0), stmt.column_int(1), stmt.column_int(2),
                   stmt.column_text(3), stmt.column_int(4)});
  if (!stmt.error().ok())
    return stmt.error();
  return out;
}

result<std::int64_t> store::count_snapshots(const std::string& kind) {
  std::lock_guard<std::mutex> guard{read_mtx_};
  if (!reader_)
    return status{errc::closed, "the store is closed"};
  status err;
  auto stmt = reader_.prepare(kind.empty() ? "SELECT count(*) FROM snapshots"
                                           : "SELECT count(*) FROM snapshots WHERE kind = ?1",
                              &err);
  if (!stmt)
    return err;
  if (!kind.empty())
    stmt.bind(1, kind);
  stmt.step();
  if (!stmt.error().ok())
    return stmt.error();
  return stmt.column_int(0);
}

result<std::optional<std::string>> store::meta(const std::string& name) {
  std::lock_guard<std::mutex> guard{read_mtx_};
  if (!reader_)
    return status{errc::closed, "the store is closed"};
  status err;
  auto stmt = reader_.prepare("SELECT value FROM meta WHERE name = ?1", &err);
  if (!stmt)
    return err;
  stmt.bind(1, name);
  if (!stmt.step()) {
    if (!stmt.error().ok())
      return stmt.error();
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{stmt.column_text(0)};
}

status store::set_meta(const std::string& name, const std::string& value) {
  if (!writer_)
    return {errc::closed, "the store is closed"};
  std::promise<status> done;
  auto fut = done.get_future();
  write_request req;
  req.ops.push_back(custom_write{[name, value](connection& db) {
    auto stmt = db.prepare("INSERT INTO meta (name, value) VALUES (?1, ?2) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    stmt.bind(1, name).bind(2, value);
    stmt.step();
    return stmt.error();
  }});
  req.done = [&done](const status& st) { done.set_value(st); };
  if (auto st = writer_->submit(std::move(req)); !st.ok())
    return st;
  return fut.get();
}

} // namespace souk::persistence
