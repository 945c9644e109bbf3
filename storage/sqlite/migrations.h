// Versioned schema of the SQLite backend. Internal to the SQLite backend.
#ifndef SOCLE_STORAGE_SQLITE_MIGRATIONS_H_
#define SOCLE_STORAGE_SQLITE_MIGRATIONS_H_

#include <sqlite3.h>

#include <string>

#include "absl/status/status.h"

namespace socle::storage::sqlite_internal {

// The schema version this program writes: the number of migrations.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion() in one IMMEDIATE transaction:
// reads PRAGMA user_version (the number of migrations applied), applies the
// missing ones in order and records the new version. A database newer than
// this program is refused with FAILED_PRECONDITION; any other failure leaves
// the database untouched and returns INTERNAL or UNAVAILABLE. Messages name
// `path`, never SQL.
absl::Status Migrate(sqlite3* db, const std::string& path);

}  // namespace socle::storage::sqlite_internal

#endif  // SOCLE_STORAGE_SQLITE_MIGRATIONS_H_
