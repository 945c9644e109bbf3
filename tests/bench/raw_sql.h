// Raw SQL ceilings: the statements socle's SQLite store runs, issued straight
// through sqlite3 with no socle code around them, on a database with socle's
// schema (made by OpenSqliteStore) and its writer's settings.
#ifndef SOCLE_TESTS_BENCH_RAW_SQL_H_
#define SOCLE_TESTS_BENCH_RAW_SQL_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "tests/bench/load.h"

namespace socle::bench {

// Creates `path` with OpenSqliteStore (socle's migrations), closes it, then
// inserts persons 0..n-1 (`make(k)`) with the INSERT of
// SqliteTxn::InsertPerson, one prepared statement, `batch` rows per
// transaction, WAL with synchronous=FULL as socle's writer has it. Only the
// SQL is timed (building the records is not). One "call" = one transaction.
// An error when the statement no longer fits the persons table (the schema
// changed: update this file with storage/sqlite/sqlite_txn.cc).
absl::StatusOr<LoadStats> RawInsertPersons(
    const std::string& path, int64_t n, int batch,
    const std::function<storage::PersonRecord(int64_t)>& make);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_RAW_SQL_H_
