// The payroll fixtures and raw SQL ceilings of payroll.h, on PostgreSQL.
//
// Every database is one the bench makes afresh on the server of --store
// (PgScratch) and drops when it is done: the database the URL names is
// never written. A fixture's schema is made by OpenPgStore, as socle-server
// makes it; its rows are then loaded by set-based SQL (INSERT ... SELECT
// FROM generate_series) before any server opens the database. The raw
// ceilings issue the statements of storage/postgres/pg_txn.cc
// (kInsertCycle, kReconcilePeriod) through libpq, with no socle code around
// them.
#ifndef SOCLE_TESTS_BENCH_PAYROLL_PG_H_
#define SOCLE_TESTS_BENCH_PAYROLL_PG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/bench/payroll.h"

namespace socle::bench {

// Databases made on one PostgreSQL server, each dropped by Drop or, at the
// latest, by the destructor (WITH (FORCE): a connection left open does not
// keep one alive).
class PgScratch {
 public:
  // `server_url`: a postgresql:// URL (or key=value conninfo) of a database
  // whose user may create and drop databases.
  explicit PgScratch(std::string server_url);
  ~PgScratch();
  PgScratch(const PgScratch&) = delete;
  PgScratch& operator=(const PgScratch&) = delete;

  // Connects to the server: UNAVAILABLE when it cannot be reached.
  absl::Status Probe() const;
  // Creates the empty database socle_bench_<pid>_<suffix> (dropped first if
  // a run that crashed left it) and returns its URL.
  absl::StatusOr<std::string> Create(const std::string& suffix);
  // Drops a database Create returned (by its URL).
  absl::Status Drop(const std::string& url);

 private:
  std::string server_;
  std::vector<std::pair<std::string, std::string>> made_;  // (url, name)
};

// Migrates the empty database at `url` with OpenPgStore (the store is
// closed again), then loads `fixture` as MakePayrollDatabase does: persons
// 1..n, one active kPayrollProgramme enrolment each, and the paid period's
// cycle, lines and totals (the store's kInsertCycle) and payments; the
// identity sequences are set past the ids loaded. Rows are those of the
// SQLite fixture (rows from before sealing: facts empty, sealed false, no
// national ID; no audit entry). Ends with VACUUM (ANALYZE) and a
// CHECKPOINT, the state autovacuum would leave the tables in, so that
// neither runs during a measurement.
absl::Status MakePgPayrollDatabase(const std::string& url, const PayrollFixture& fixture);

// RawOpenCycle on PostgreSQL: on `url` (no other writer at the time), with
// the store's session settings, the store's write transaction (BEGIN
// ISOLATION LEVEL SERIALIZABLE, LOCK TABLE writer_lock), kInsertCycle for
// kPayrollProgramme and `period` (the cycle, its lines and its totals in one
// statement), COMMIT. Returns the seconds it took and sets *lines.
absl::StatusOr<double> RawOpenCyclePg(const std::string& url, const std::string& period,
                                      int64_t* lines);

// After a payroll: VACUUM (ANALYZE) of the tables it wrote and a CHECKPOINT
// (skipped when the user may not), so that the next measurement starts from
// the same state and autovacuum does not run beside it. Untimed; the
// counterpart of SettleWal.
absl::Status SettlePg(const std::string& url);

// RawReconcile on PostgreSQL: kReconcilePeriod for `period` (every office
// and programme) in the store's read transaction (REPEATABLE READ READ
// ONLY, ended by ROLLBACK) on a connection to `url`. Returns the seconds it
// took and sets *lines and *payments to the sums of those columns.
absl::StatusOr<double> RawReconcilePg(const std::string& url, const std::string& period,
                                      int64_t* lines, int64_t* payments);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_PAYROLL_PG_H_
