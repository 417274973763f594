#include "persistence/sqlite.hpp"

#include "base/log.hpp"

#include <sqlite3.h>

namespace souk::persistence {

const char* to_string(errc code) {
  switch (code) {
  case errc::ok:
    return "ok";
  case errc::folder_unusable:
    return "folder_unusable";
  case errc::folder_locked:
    return "folder_locked";
  case errc::open_failed:
    return "open_failed";
  case errc::not_a_database:
    return "not_a_database";
  case errc::read_only:
    return "read_only";
  case errc::schema_too_new:
    return "schema_too_new";
  case errc::migration_failed:
    return "migration_failed";
  case errc::io_error:
    return "io_error";
  case errc::fenced:
    return "fenced";
  case errc::overloaded:
    return "overloaded";
  case errc::closed:
    return "closed";
  case errc::constraint:
    return "constraint";
  }
  return "unknown";
}

errc classify_sqlite(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return errc::ok;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    return errc::not_a_database;
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_AUTH:
    return errc::read_only;
  case SQLITE_CANTOPEN:
    return errc::open_failed;
  case SQLITE_CONSTRAINT:
    return errc::constraint;
  default:
    return errc::io_error;
  }
}

// -- statement ------------------------------------------------------------------------------------

statement::statement(statement&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), error_(std::move(other.error_)) {
  other.stmt_ = nullptr;
}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    error_ = std::move(other.error_);
    other.stmt_ = nullptr;
  }
  return *this;
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

statement& statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool statement::step() {
  auto rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc != SQLITE_DONE)
    error_ = {classify_sqlite(rc), sqlite3_errmsg(db_)};
  return false;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  error_ = {};
}

std::int64_t statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

double statement::column_double(int index) const {
  return sqlite3_column_double(stmt_, index);
}

std::string statement::column_text(int index) const {
  // Blob and text alike: sqlite3_column_blob does no conversion, so bytes stay as stored.
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  auto size = sqlite3_column_bytes(stmt_, index);
  return data == nullptr ? std::string{} : std::string{data, static_cast<std::size_t>(size)};
}

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// -- connection -----------------------------------------------------------------------------------

connection::connection(connection&& other) noexcept
    : db_(other.db_), cache_(std::move(other.cache_)) {
  other.db_ = nullptr;
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    cache_.reset(); // its statements first: they belong to the connection being closed
    sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
    cache_ = std::move(other.cache_);
  }
  return *this;
}

connection::~connection() {
  cache_.reset();
  sqlite3_close_v2(db_);
}

cached_statement connection::cached(std::string_view sql, status* err) {
  if (!cache_)
    cache_ = std::make_unique<std::map<std::string, statement, std::less<>>>();
  auto it = cache_->find(sql);
  if (it == cache_->end()) {
    auto stmt = prepare(sql, err);
    if (!stmt)
      return cached_statement{};
    it = cache_->emplace(std::string{sql}, std::move(stmt)).first;
  }
  it->second.reset();
  return cached_statement{&it->second};
}

status connection::run(std::string_view sql) {
  status err;
  auto stmt = cached(sql, &err);
  if (!stmt)
    return err;
  stmt->step();
  return stmt->error();
}

namespace {

/// SQLite's process-wide settings, made before its first use (sqlite3_config refuses them
/// after). Memory statistics off: with them on, every allocation of every connection takes
/// one global mutex, and the writer thread and the readers on CAF's threads contended on it
/// (futex waits and wake-ups in every snapshot load).
void configure_sqlite_once() {
  static const bool done = [] {
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
      base::log_warn("sqlite: memory statistics stay on (SQLite was used before souk's store)",
                     nullptr);
    return true;
  }();
  (void)done;
}

} // namespace

result<connection> connection::open(const std::string& path, bool create) {
  configure_sqlite_once();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  auto rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  connection conn{db}; // closes `db` on every early return, even when open failed
  if (rc != SQLITE_OK) {
    auto msg = db != nullptr ? std::string{sqlite3_errmsg(db)} : std::string{"out of memory"};
    return status{classify_sqlite(rc), "cannot open " + path + ": " + msg};
  }
  sqlite3_extended_result_codes(db, 1);
  // SQLite falls back to read-only silently when the file is not writable: refuse it here so
  // that a node never starts with a store that will fail its first write.
  if (sqlite3_db_readonly(db, "main") == 1)
    return status{errc::read_only, "database file " + path + " is read-only"};
  // Reading the schema is the first thing that touches the file's content: a file that is not
  // SQLite, or whose header is damaged, fails here.
  if (auto check = conn.query_int("SELECT count(*) FROM sqlite_schema"); !check)
    return status{check.error().code,
                  "database file " + path + " is not usable: " + check.error().message};
  return conn;
}

status connection::exec(const std::string& sql) {
  char* msg = nullptr;
  auto rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK)
    return {};
  status st{classify_sqlite(rc), msg != nullptr ? msg : sqlite3_errstr(rc)};
  sqlite3_free(msg);
  return st;
}

statement connection::prepare(std::string_view sql, status* err) {
  sqlite3_stmt* stmt = nullptr;
  auto rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK && err != nullptr)
    *err = last_error("prepare");
  return statement{stmt, db_};
}

result<std::int64_t> connection::query_int(const std::string& sql) {
  status err;
  auto stmt = prepare(sql, &err);
  if (!stmt)
    return err;
  if (!stmt.step()) {
    if (!stmt.error().ok())
      return stmt.error();
    return std::int64_t{0};
  }
  return stmt.column_int(0);
}

int connection::changes() const {
  return sqlite3_changes(db_);
}

std::string connection::path() const {
  auto* name = sqlite3_db_filename(db_, "main");
  return name != nullptr ? name : "";
}

status connection::last_error(std::string_view what) const {
  auto rc = sqlite3_extended_errcode(db_);
  return {classify_sqlite(rc), std::string{what} + ": " + sqlite3_errmsg(db_)};
}

} // namespace souk::persistence
