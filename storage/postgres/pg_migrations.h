// Versioned schema of the PostgreSQL backend. Internal to the PostgreSQL
// backend.
#ifndef SOCLE_STORAGE_POSTGRES_PG_MIGRATIONS_H_
#define SOCLE_STORAGE_POSTGRES_PG_MIGRATIONS_H_

#include "absl/status/status.h"
#include "storage/postgres/pg_connection.h"

namespace socle::storage::pg_internal {

// The schema version this program writes: the number of migrations.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion() in one transaction that
// holds an advisory lock, so that replicas starting at once migrate one after
// the other and the later ones find the work done. The applied versions are
// rows of the table schema_migrations. A database newer than this program is
// refused with FAILED_PRECONDITION; any other failure leaves the database
// untouched and returns UNAVAILABLE or INTERNAL. Messages name the database,
// never SQL.
absl::Status Migrate(Connection& conn);

}  // namespace socle::storage::pg_internal

#endif  // SOCLE_STORAGE_POSTGRES_PG_MIGRATIONS_H_
