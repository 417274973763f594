#pragma once

#include "persistence/status.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace souk::persistence {

class connection;

/// A prepared statement (RAII over sqlite3_stmt). Not thread-safe: use it on the thread of its
/// connection. Binding indexes start at 1, column indexes at 0.
class statement {
public:
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  ~statement();

  explicit operator bool() const { return stmt_ != nullptr; }

  statement& bind(int index, std::int64_t value);
  statement& bind(int index, std::string_view text);
  statement& bind_blob(int index, std::string_view bytes);
  statement& bind_null(int index);

  /// Runs one step: true when a row is ready, false when done. On error returns false and
  /// sets `error()`.
  bool step();
  /// Resets for the next execution and clears the bindings and the error.
  void reset();
  /// The error of the last step, `ok` if none.
  const status& error() const { return error_; }

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

private:
  friend class connection;
  statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  status error_;
};

/// A statement the connection keeps prepared (`connection::cached`). The handle resets it when
/// it goes out of scope, so a SELECT left between rows holds no read transaction, and the next
/// user finds it unbound. Use it within the call that got it; the connection must outlive it.
class cached_statement {
public:
  cached_statement() = default;
  explicit cached_statement(statement* stmt) : stmt_(stmt) {}
  cached_statement(const cached_statement&) = delete;
  cached_statement& operator=(const cached_statement&) = delete;
  cached_statement(cached_statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)) {}
  cached_statement& operator=(cached_statement&&) = delete;
  ~cached_statement() {
    if (stmt_ != nullptr)
      stmt_->reset();
  }

  explicit operator bool() const { return stmt_ != nullptr; }
  statement* operator->() const { return stmt_; }
  statement& operator*() const { return *stmt_; }

private:
  statement* stmt_ = nullptr;
};

/// An open SQLite connection (RAII over sqlite3*). Not thread-safe: one thread at a time.
class connection {
public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  ~connection();

  /// Opens `path` read-write, creating it if `create`; the result is checked to be a usable,
  /// writable SQLite database (a corrupt or read-only file is an error, not a later surprise).
  static result<connection> open(const std::string& path, bool create);

  explicit operator bool() const { return db_ != nullptr; }
  sqlite3* native() const { return db_; }

  /// Runs one or more statements without results.
  status exec(const std::string& sql);
  /// Prepares `sql`; on failure the statement is empty and `*err` (if given) says why.
  statement prepare(std::string_view sql, status* err = nullptr);
  /// `sql` prepared on its first use and kept for the connection's life: statements a hot path
  /// runs again and again are parsed once. Empty on failure (`*err`, if given, says why).
  cached_statement cached(std::string_view sql, status* err = nullptr);
  /// Runs a statement without results through `cached` (BEGIN, COMMIT, ...).
  status run(std::string_view sql);
  /// The single integer result of `sql` (e.g. a PRAGMA or COUNT(*)).
  result<std::int64_t> query_int(const std::string& sql);
  /// Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;
  /// The path of the main database file.
  std::string path() const;

  /// A status for the connection's last error, classified into `errc`.
  status last_error(std::string_view what) const;

private:
  explicit connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  /// By SQL text; created on the first `cached`. Finalized before the connection closes.
  std::unique_ptr<std::map<std::string, statement, std::less<>>> cache_;
};

/// Classifies an SQLite result code into an `errc`.
errc classify_sqlite(int rc);

} // namespace souk::persistence
