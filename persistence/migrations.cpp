#include "persistence/migrations.hpp"

namespace souk::persistence {

const std::vector<migration>& migrations() {
  static const std::vector<migration> all = {
    {1, "node metadata and actor snapshots", R"sql(
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The latest state of every entity owned by this node. `epoch` fences writes from an owner
-- that lost the key in a membership change: a write with a lower epoch is refused.
CREATE TABLE snapshots (
  kind       TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  state      BLOB    NOT NULL,
  updated_at INTEGER NOT NULL,   -- Unix milliseconds
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
)sql"},
    {2, "idempotency records and the event outbox", R"sql(
-- Responses of requests that carried an Idempotency-Key, scoped to the principal.
CREATE TABLE idempotency (
  principal    TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  state        TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
  status       INTEGER,
  response     BLOB,
  created_at   INTEGER NOT NULL,  -- Unix milliseconds
  PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency (created_at);

-- Domain events in commit order (order events feed notifications and the admin console).
CREATE TABLE outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  topic      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  payload    BLOB    NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
  };
  return all;
}

int latest_schema_version() {
  return migrations().back().version;
}

status migrate(connection& db, int target) {
  if (target < 0)
    target = latest_schema_version();
  auto current = db.query_int("PRAGMA user_version");
  if (!current)
    return current.error();
  if (*current > latest_schema_version())
    return {errc::schema_too_new,
            "database " + db.path() + " has schema version " + std::to_string(*current) +
              " but this soukd knows versions up to " + std::to_string(latest_schema_version()) +
              "; run a newer soukd or use another data folder"};
  for (auto& step : migrations()) {
    if (step.version <= *current || step.version > target)
      continue;
    auto sql = "BEGIN IMMEDIATE;\n" + step.sql + "\nPRAGMA user_version = " +
               std::to_string(step.version) + ";\nCOMMIT;";
    if (auto st = db.exec(sql); !st.ok()) {
      db.exec("ROLLBACK");
      auto code = st.code == errc::read_only || st.code == errc::not_a_database
                    ? st.code
                    : errc::migration_failed;
      return {code, "migration " + std::to_string(step.version) + " (" + step.description +
                      ") failed: " + st.message};
    }
  }
  return {};
}

} // namespace souk::persistence
