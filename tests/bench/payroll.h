// Payroll fixtures and the raw SQL ceilings of the payment scenarios.
//
// A fixture is a SQLite database with socle's schema (made by
// OpenSqliteStore) filled by direct SQL before any server opens it, so that
// a million enrolments load in seconds rather than through a million RPCs.
// Loading is never timed. The raw ceilings issue the statements of
// storage/sqlite/sqlite_txn.cc (kInsertLines, kReconcilePeriod) straight
// through sqlite3 on the same file, with no socle code around them.
#ifndef SOCLE_TESTS_BENCH_PAYROLL_H_
#define SOCLE_TESTS_BENCH_PAYROLL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace socle::bench {

// The programme of the fixtures: paid monthly in the default policy.
inline constexpr char kPayrollProgramme[] = "OLD_AGE";
inline constexpr char kPayrollCurrency[] = "KHR";
inline constexpr int64_t kPayrollAmount = 100'000;  // KHR a month per line
// Offices the fixture spreads its persons over (KH-SR-00 .. KH-SR-24).
inline constexpr int kPayrollOffices = 25;

struct PayrollFixture {
  int64_t persons = 0;  // one active enrolment each
  // When not empty: a cycle of kPayrollProgramme for this period ("YYYY-MM")
  // with its lines made by kInsertLines, and one payment in full per line
  // except one line in every kUnpaidEvery, left unpaid.
  std::string paid_period;
  static constexpr int64_t kUnpaidEvery = 100;
  // What a reconciliation of paid_period must find.
  int64_t lines() const { return paid_period.empty() ? 0 : persons; }
  int64_t unpaid() const {
    return paid_period.empty() ? 0 : (persons + kUnpaidEvery - 1) / kUnpaidEvery;
  }
  int64_t payments() const { return lines() - unpaid(); }
};

// The first and last days ("YYYY-MM-DD") of `period` ("YYYY-MM").
struct PeriodDays {
  std::string first, last;
};
absl::StatusOr<PeriodDays> ParsePeriod(const std::string& period);

// Creates `path` (removed first) with OpenSqliteStore, then loads `fixture`
// by direct SQL in a few statements: persons 1..n (born 1950, over the
// pension age; names in index order), one active kPayrollProgramme
// enrolment each since 2020-01-01, and the paid period's cycle, lines and
// payments. Leaves the file checkpointed in WAL mode, as socle opens it.
absl::Status MakePayrollDatabase(const std::string& path, const PayrollFixture& fixture);

// The raw INSERT...SELECT ceiling: on `path` (no other writer at the same
// time), with socle's writer settings (WAL, synchronous=FULL, foreign keys
// on), BEGIN IMMEDIATE, the INSERT of the cycle row, kInsertLines for
// kPayrollProgramme and `period`, COMMIT. Returns the seconds it took and
// sets *lines to the lines inserted.
absl::StatusOr<double> RawOpenCycle(const std::string& path, const std::string& period,
                                    int64_t* lines);

// Copies the WAL of `path` into the database and truncates it (waiting for
// a checkpoint the server's writer may be running), so that the next
// measurement starts from the same state and runs beside no copy. Untimed.
absl::Status SettleWal(const std::string& path);

// The raw aggregate ceiling: kReconcilePeriod for `period` (every office
// and programme) on a read connection to `path`, every row stepped. Returns
// the seconds it took and sets *lines and *payments to the sums of its
// lines and payments columns.
absl::StatusOr<double> RawReconcile(const std::string& path, const std::string& period,
                                    int64_t* lines, int64_t* payments);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_PAYROLL_H_
