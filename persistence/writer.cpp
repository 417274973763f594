#include "persistence/writer.hpp"

#include "base/log.hpp"
#include "base/thread.hpp"
#include "base/time.hpp"

#include <chrono>

namespace souk::persistence {
namespace {

constexpr std::string_view put_sql = R"sql(
INSERT INTO snapshots (kind, key, version, epoch, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (kind, key) DO UPDATE
  SET version = excluded.version, epoch = excluded.epoch, state = excluded.state,
      updated_at = excluded.updated_at
  WHERE excluded.epoch >= snapshots.epoch)sql";

constexpr std::string_view delete_sql =
    "DELETE FROM snapshots WHERE kind = ?1 AND key = ?2 AND epoch <= ?3";

constexpr std::string_view put_part_sql = R"sql(
INSERT INTO snapshot_parts (kind, key, part, state) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (kind, key, part) DO UPDATE SET state = excluded.state)sql";

constexpr std::string_view delete_part_sql =
    "DELETE FROM snapshot_parts WHERE kind = ?1 AND key = ?2 AND part = ?3";

constexpr std::string_view delete_parts_sql =
    "DELETE FROM snapshot_parts WHERE kind = ?1 AND key = ?2";

// True when `op` may run several statements, so that a failure after the first one must undo
// them with a savepoint.
bool multi_statement(const write_op& op) {
  if (auto* put = std::get_if<put_snapshot>(&op))
    return !put->value.parts.empty();
  return std::holds_alternative<custom_write>(op);
}

// Errors that concern one write only; anything else (I/O, disk full) fails the whole batch.
bool write_local(errc code) {
  return code == errc::fenced || code == errc::constraint;
}

} // namespace

writer::writer(connection db, const config::store_settings& settings, connection checkpoint_db,
               key_filter* filter)
    : db_(std::move(db)), settings_(settings), filter_(filter) {
  if (checkpoint_db && settings_.checkpoint_pages > 0) {
    checkpointer_ = std::make_unique<checkpointer>(
        std::move(checkpoint_db), settings_.checkpoint_pages, settings_.wal_max_pages);
    checkpointer_->install(db_);
  }
  put_ = db_.prepare(put_sql);
  delete_ = db_.prepare(delete_sql);
  put_part_ = db_.prepare(put_part_sql);
  delete_part_ = db_.prepare(delete_part_sql);
  delete_parts_ = db_.prepare(delete_parts_sql);
  thread_ = std::thread{[this] {
    base::name_this_thread("souk-writer");
    run();
  }};
}

writer::~writer() {
  stop();
}

status writer::submit(write_request request) {
  // Before the write can commit: a load that misses the key in the filter must be right.
  if (filter_)
    for (auto& op : request.ops)
      if (auto* put = std::get_if<put_snapshot>(&op))
        filter_->add(put->value.kind, put->value.key);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return {errc::closed, "the store is shutting down"};
    if (queue_.size() >= settings_.max_pending_writes)
      return {errc::overloaded, "the store's write queue is full (" +
                                    std::to_string(settings_.max_pending_writes) + " writes)"};
    queue_.push_back(std::move(request));
    ++submitted_;
  }
  wake_.notify_one();
  return {};
}

void writer::flush() {
  std::unique_lock<std::mutex> guard{mtx_};
  auto target = submitted_;
  progress_.wait(guard, [&] { return completed_ >= target; });
}

void writer::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable())
    thread_.join();
  if (checkpointer_) {
    checkpointer::uninstall(db_);
    checkpointer_->stop();
  }
}

writer_stats writer::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto copy = stats_;
  copy.queued = queue_.size();
  return copy;
}

std::optional<checkpoint_stats> writer::checkpoints() const {
  if (!checkpointer_)
    return std::nullopt;
  return checkpointer_->stats();
}

void writer::run() {
  std::vector<write_request> batch;
  batch.reserve(settings_.batch_max_writes);
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mtx_};
      wake_.wait(guard, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return; // stopping, and everything is written
      // Group commit: whatever queued up while the last batch was committing goes in this one.
      // A positive delay trades latency for fuller batches when writers are few.
      if (settings_.batch_max_delay.count() > 0 && !stopping_ &&
          queue_.size() < settings_.batch_max_writes)
        wake_.wait_for(guard, settings_.batch_max_delay,
                       [&] { return stopping_ || queue_.size() >= settings_.batch_max_writes; });
      auto n = std::min(queue_.size(), settings_.batch_max_writes);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_batch(batch);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      completed_ += batch.size();
    }
    progress_.notify_all();
    batch.clear();
  }
}

void writer::write_batch(std::vector<write_request>& batch) {
  auto started = std::chrono::steady_clock::now();
  std::vector<status> results(batch.size());
  status batch_error;
  if (auto st = db_.run("BEGIN IMMEDIATE"); !st.ok())
    batch_error = st;
  for (std::size_t i = 0; i < batch.size() && batch_error.ok(); ++i) {
    auto& ops = batch[i].ops;
    // A write of several ops must be atomic within the batch: a savepoint undoes its first
    // ops when a later one fails. One put or delete needs none (a failed statement changes
    // nothing), but a custom write may run several statements before it fails.
    bool nested = ops.size() > 1 || (ops.size() == 1 && multi_statement(ops.front()));
    if (nested)
      db_.run("SAVEPOINT w");
    for (auto& op : ops) {
      results[i] = apply(op);
      if (!results[i].ok())
        break;
    }
    if (results[i].ok() || !write_local(results[i].code)) {
      if (nested)
        db_.run("RELEASE w");
      if (!results[i].ok())
        batch_error = results[i];
    } else if (nested) {
      db_.run("ROLLBACK TO w");
      db_.run("RELEASE w");
    }
  }
  if (batch_error.ok()) {
    if (auto st = db_.run("COMMIT"); !st.ok())
      batch_error = st;
  }
  if (!batch_error.ok()) {
    db_.run("ROLLBACK"); // may fail when SQLite rolled back already: nothing left to undo
    base::log_error("store batch failed", {{"writes", batch.size()},
                                           {"code", to_string(batch_error.code)},
                                           {"error", batch_error.message}});
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& st = batch_error.ok() || write_local(results[i].code) ? results[i] : batch_error;
    if (batch[i].done)
      batch[i].done(st);
  }
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
  std::lock_guard<std::mutex> guard{mtx_};
  stats_.writes += batch.size();
  if (batch_error.ok())
    ++stats_.batches;
  else
    ++stats_.failed_batches;
  stats_.largest_batch = std::max<std::uint64_t>(stats_.largest_batch, batch.size());
  stats_.commit_micros += static_cast<std::uint64_t>(micros);
}

status writer::apply(const write_op& op) {
  if (auto* put = std::get_if<put_snapshot>(&op)) {
    auto& s = put->value;
    auto updated =
        s.updated_at != 0 ? s.updated_at : base::unix_millis(std::chrono::system_clock::now());
    put_.reset();
    put_.bind(1, s.kind).bind(2, s.key).bind(3, s.version).bind(4, s.epoch);
    put_.bind_blob(5, s.state).bind(6, updated);
    put_.step();
    if (!put_.error().ok())
      return put_.error();
    if (db_.changes() == 0)
      return {errc::fenced, "snapshot " + s.kind + "/" + s.key +
                                " is owned by a newer epoch than " + std::to_string(s.epoch)};
    // The head was accepted, so this owner may change its parts too.
    for (const auto& part : s.parts) {
      auto& stmt = part.erase ? delete_part_ : put_part_;
      stmt.reset();
      stmt.bind(1, s.kind).bind(2, s.key).bind(3, part.name);
      if (!part.erase)
        stmt.bind_blob(4, part.state);
      stmt.step();
      if (!stmt.error().ok())
        return stmt.error();
    }
    return {};
  }
  if (auto* del = std::get_if<delete_snapshot>(&op)) {
    delete_.reset();
    delete_.bind(1, del->kind).bind(2, del->key).bind(3, del->epoch);
    delete_.step();
    if (!delete_.error().ok())
      return delete_.error();
    if (db_.changes() > 0) {
      delete_parts_.reset();
      delete_parts_.bind(1, del->kind).bind(2, del->key);
      delete_parts_.step();
      return delete_parts_.error();
    }
    // Nothing deleted: either there was nothing (fine, deletes are idempotent) or a newer owner
    // holds the key, which the stale owner must learn just as for a put.
    status err;
    auto newer = db_.prepare("SELECT epoch FROM snapshots WHERE kind = ?1 AND key = ?2", &err);
    if (!newer)
      return err;
    newer.bind(1, del->kind).bind(2, del->key);
    if (newer.step())
      return {errc::fenced, "snapshot " + del->kind + "/" + del->key + " is owned by epoch " +
                                std::to_string(newer.column_int(0)) + ", newer than " +
                                std::to_string(del->epoch)};
    return newer.error();
  }
  auto& custom = std::get<custom_write>(op);
  if (!custom.apply)
    return {};
  try {
    return custom.apply(db_);
  } catch (const std::exception& e) { // an upper layer's bug must not kill the writer thread
    return {errc::constraint, std::string{"custom write threw: "} + e.what()};
  }
}

} // namespace souk::persistence
