#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace souk::persistence {

/// What went wrong in the store. Values are stable: append, never renumber.
enum class errc {
  ok = 0,
  folder_unusable = 1,  ///< the data folder cannot be created or written
  folder_locked = 2,    ///< another process holds the data folder
  open_failed = 3,      ///< SQLite could not open the file
  not_a_database = 4,   ///< the file is not SQLite or is corrupt
  read_only = 5,        ///< the file or its folder is not writable
  schema_too_new = 6,   ///< the file was written by a newer souk
  migration_failed = 7, ///< a numbered migration failed (nothing of it was applied)
  io_error = 8,         ///< a read or write failed (disk full, I/O error)
  fenced = 9,           ///< a snapshot write from an older owner epoch was refused
  overloaded = 10,      ///< the writer queue is full; try again later
  closed = 11,          ///< the store is shutting down
  constraint = 12,      ///< a write broke a constraint
};

/// Stable snake_case name of `code` (logged and shown to operators).
const char* to_string(errc code);

/// The outcome of a store operation: `ok()` or a code with a readable message.
struct status {
  errc code = errc::ok;
  std::string message;

  bool ok() const { return code == errc::ok; }
  static status success() { return {}; }
};

/// A value or the status that explains why there is none.
template <class T>
class result {
public:
  result(T value) : value_(std::move(value)) {}
  result(status error) : error_(std::move(error)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  /// The error; `ok` status when there is a value.
  const status& error() const { return error_; }

private:
  std::optional<T> value_;
  status error_;
};

} // namespace souk::persistence
