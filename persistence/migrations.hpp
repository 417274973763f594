#pragma once

#include "persistence/sqlite.hpp"

#include <string>
#include <vector>

namespace souk::persistence {

/// One numbered schema change. `version` is what `PRAGMA user_version` says once it ran.
struct migration {
  int version;
  std::string description;
  std::string sql;
};

/// Every migration of the node's file, in order. Append only: a released migration is never
/// edited, since files in the field have already run it.
const std::vector<migration>& migrations();

/// The schema version this build writes (the last migration's number).
int latest_schema_version();

/// Brings `db` to `target` (default: latest), each migration in its own transaction together
/// with its `user_version` bump, so a crash leaves the file at a whole version. Refuses a file
/// newer than this build with `schema_too_new`.
status migrate(connection& db, int target = -1);

} // namespace souk::persistence
