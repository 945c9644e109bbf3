#include "tests/bench/payroll.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/bench/load.h"

namespace socle::bench {
namespace {

// As storage/sqlite/sqlite_store.cc has them (kWriterPragmas,
// kReaderPragmas). Socle checkpoints on a thread of its own, never inside
// COMMIT, so the raw writer does not checkpoint in its timed COMMIT either
// (SettleWal does it afterwards).
constexpr char kWriterPragmas[] =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
    "PRAGMA cache_size = -65536; PRAGMA journal_size_limit = 67108864; "
    "PRAGMA wal_autocheckpoint = 0;";
constexpr char kReaderPragmas[] =
    "PRAGMA foreign_keys = ON; PRAGMA query_only = ON; PRAGMA cache_size = -16384;";

// As storage/sqlite/sqlite_txn.cc has them: kInsertCycle, kInsertLines,
// kInsertCycleTotals, SOCLE_EFFECTIVE and kReconcilePeriod. Keep them in step
// (a ceiling of a statement socle no longer runs means nothing).
constexpr char kInsertCycle[] =
    "INSERT INTO cycles (programme_code, period, status, opened_at, "
    "opened_by, closed_at, closed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kInsertLines[] =
    "INSERT INTO lines (cycle_id, enrolment_id, person_id, programme_code, "
    "office_code, amount_minor, currency) SELECT ?1, e.id, e.person_id, "
    "e.programme_code, e.office_code, e.amount_minor, e.currency "
    "FROM enrolments e WHERE e.programme_code = ?2 AND +e.status = 1 "
    "AND e.start_date <= ?4 AND (e.end_date IS NULL OR e.end_date >= ?3) "
    "AND e.amount_minor > 0 ORDER BY e.id";
constexpr char kInsertCycleTotals[] =
    "INSERT INTO cycle_totals (cycle_id, currency, lines, owed_minor) "
    "SELECT cycle_id, currency, count(*), sum(amount_minor) FROM lines "
    "WHERE cycle_id = ?1 GROUP BY currency";
#define BENCH_EFFECTIVE(p)                     \
  "+" p ".reversal_of IS NULL AND NOT EXISTS " \
      "(SELECT 1 FROM payments r WHERE r.reversal_of = " p ".id)"
constexpr char kReconcilePeriod[] =
    "WITH cyc AS (SELECT id FROM cycles WHERE period = ?1"
    "  AND (?3 = '' OR programme_code = ?3)),"
    " eff AS (SELECT p.line_id, count(*) AS n, sum(p.amount_minor) AS net"
    "  FROM payments p WHERE p.period = ?1 AND p.line_id IS NOT NULL"
    "  AND " BENCH_EFFECTIVE("p") " GROUP BY p.line_id),"
    " lx AS (SELECT l.office_code, l.programme_code, l.currency,"
    "  l.amount_minor AS owed, coalesce(e.n, 0) AS n, coalesce(e.net, 0) AS net"
    "  FROM cyc JOIN lines l ON l.cycle_id = cyc.id"
    "  LEFT JOIN eff e ON e.line_id = l.id"
    "  WHERE ?2 = '' OR l.office_code = ?2),"
    " lt AS (SELECT office_code, programme_code, currency, count(*) AS lines,"
    "  sum(owed) AS owed, sum(max(owed - net, 0)) AS outstanding,"
    "  sum(max(net - owed, 0)) AS excess, sum(net = owed) AS in_full,"
    "  sum(net = 0) AS unpaid, sum(net > 0 AND net < owed) AS under,"
    "  sum(net > owed AND NOT (n >= 2 AND net >= 2 * owed)) AS over,"
    "  sum(n >= 2 AND net >= 2 * owed) AS twice"
    "  FROM lx GROUP BY office_code, programme_code, currency),"
    " px AS (SELECT p.office_code, p.programme_code, p.currency,"
    "  p.amount_minor AS amount, p.reversal_of IS NOT NULL AS is_reversal,"
    "  " BENCH_EFFECTIVE("p") " AS effective,"
    "  p.line_id IS NULL AS no_line,"
    "  EXISTS (SELECT 1 FROM persons d WHERE d.id = p.person_id"
    "   AND d.date_of_death < ?4) AS dead"
    "  FROM payments p WHERE p.period = ?1"
    "  AND (?2 = '' OR p.office_code = ?2)"
    "  AND (?3 = '' OR p.programme_code = ?3)),"
    " pt AS (SELECT office_code, programme_code, currency,"
    "  sum(NOT is_reversal) AS payments,"
    "  sum(CASE WHEN is_reversal THEN 0 ELSE amount END) AS paid,"
    "  sum(CASE WHEN is_reversal THEN amount ELSE 0 END) AS reversed,"
    "  sum(CASE WHEN effective AND no_line THEN amount ELSE 0 END) AS excess,"
    "  sum(effective AND dead) AS after_death,"
    "  sum(effective AND NOT dead AND no_line) AS without_line"
    "  FROM px GROUP BY office_code, programme_code, currency),"
    " k AS (SELECT office_code, programme_code, currency FROM lt"
    "  UNION SELECT office_code, programme_code, currency FROM pt)"
    " SELECT k.office_code, k.programme_code, k.currency,"
    "  coalesce(lt.lines, 0), coalesce(lt.owed, 0), coalesce(pt.payments, 0),"
    "  coalesce(pt.paid, 0), coalesce(pt.reversed, 0),"
    "  coalesce(lt.outstanding, 0),"
    "  coalesce(lt.excess, 0) + coalesce(pt.excess, 0),"
    "  coalesce(lt.in_full, 0), coalesce(lt.unpaid, 0), coalesce(lt.under, 0),"
    "  coalesce(lt.over, 0), coalesce(lt.twice, 0),"
    "  coalesce(pt.after_death, 0), coalesce(pt.without_line, 0)"
    " FROM k LEFT JOIN lt USING (office_code, programme_code, currency)"
    " LEFT JOIN pt USING (office_code, programme_code, currency)"
    " ORDER BY k.office_code, k.programme_code, k.currency";
#undef BENCH_EFFECTIVE

using Period = PeriodDays;

}  // namespace

absl::StatusOr<PeriodDays> ParsePeriod(const std::string& period) {
  int year = 0, month = 0;
  if (period.size() != 7 || period[4] != '-' ||
      !absl::SimpleAtoi(period.substr(0, 4), &year) ||
      !absl::SimpleAtoi(period.substr(5, 2), &month) || month < 1 || month > 12) {
    return absl::InvalidArgumentError(absl::StrCat("bad period '", period, "'"));
  }
  const absl::CivilMonth m(year, month);
  const absl::CivilDay first(m), last = absl::CivilDay(m + 1) - 1;
  return Period{absl::StrFormat("%04d-%02d-%02d", first.year(), first.month(), first.day()),
                absl::StrFormat("%04d-%02d-%02d", last.year(), last.month(), last.day())};
}

namespace {

// One connection; every statement finalized.
class Db {
 public:
  ~Db() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }
  absl::Status Open(const std::string& path, bool read_only, const char* pragmas) {
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) return Error("open");
    sqlite3_busy_timeout(db_, 10'000);
    return Exec(pragmas);
  }
  absl::Status Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
               ? absl::OkStatus()
               : Error(sql.substr(0, 60));
  }
  absl::StatusOr<sqlite3_stmt*> Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
      return Error(absl::string_view(sql).substr(0, 60));
    }
    return s;
  }
  sqlite3* db() { return db_; }
  absl::Status Error(absl::string_view what) {
    return absl::InternalError(
        absl::StrCat("payroll SQL: ", what, ": ", db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

 private:
  sqlite3* db_ = nullptr;
};

struct Finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, Finalizer>;

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// Inserts the cycle row and its lines (kInsertCycle, kInsertLines) in the
// current transaction; returns the lines inserted.
absl::StatusOr<int64_t> InsertCycleAndLines(Db& db, const std::string& period,
                                            const Period& days, int64_t* cycle_id) {
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Prepare(kInsertCycle));
    Stmt s(raw);
    BindText(s.get(), 1, kPayrollProgramme);
    BindText(s.get(), 2, period);
    sqlite3_bind_int64(s.get(), 3, 1);
    sqlite3_bind_int64(s.get(), 4, absl::ToUnixMicros(absl::Now()));
    BindText(s.get(), 5, "socle-bench raw SQL");
    sqlite3_bind_null(s.get(), 6);
    BindText(s.get(), 7, "");
    if (sqlite3_step(s.get()) != SQLITE_DONE) return db.Error("INSERT INTO cycles");
    *cycle_id = sqlite3_last_insert_rowid(db.db());
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Prepare(kInsertLines));
  Stmt s(raw);
  sqlite3_bind_int64(s.get(), 1, *cycle_id);
  BindText(s.get(), 2, kPayrollProgramme);
  BindText(s.get(), 3, days.first);
  BindText(s.get(), 4, days.last);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return db.Error("INSERT INTO lines ... SELECT");
  return sqlite3_changes64(db.db());
}

}  // namespace

absl::Status MakePayrollDatabase(const std::string& path, const PayrollFixture& fixture) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
  {
    storage::SqliteOptions options;
    options.path = path;
    ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::OpenSqliteStore(options));
  }
  Db db;
  // Loading only: no journal, no sync; the file is switched back to WAL at
  // the end (socle's writer asks for WAL again anyway).
  RETURN_IF_ERROR(db.Open(path, false,
                          "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                          "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144;"));
  const int64_t n = fixture.persons;
  const int64_t now = absl::ToUnixMicros(absl::Now());
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  // Names and offices spread so that each index receives its keys in order
  // or in a few runs (the fixture is not what is measured).
  RETURN_IF_ERROR(db.Exec(absl::StrFormat(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
      "INSERT INTO persons (id, version, national_id, given_name, family_name, sex, "
      "date_of_birth, date_of_death, province, district, commune, village, street, phone, "
      "office_code, name_key, district_key, facts, duplicate_override_reason, registered_at, "
      "updated_at) SELECT x, 1, NULL, 'Sokha', printf('Payroll%%010d', x), 1 + x %% 2, "
      "'1950-01-01', NULL, 'Siem Reap', 'Siem Reap', '', '', '', '', "
      "printf('KH-SR-%%02d', x %% %d), printf('sokha payroll%%010d', x), 'siem reap', X'', '', "
      "%d, %d FROM c",
      n, kPayrollOffices, now, now)));
  RETURN_IF_ERROR(db.Exec(absl::StrFormat(
      "INSERT INTO enrolments (id, person_id, programme_code, office_code, status, start_date, "
      "end_date, amount_minor, currency, policy_version, version, created_at, updated_at, "
      "details) SELECT id, id, '%s', office_code, 1, '2020-01-01', NULL, %d, '%s', "
      "'socle-bench', 1, %d, %d, X'' FROM persons ORDER BY id",
      kPayrollProgramme, kPayrollAmount, kPayrollCurrency, now, now)));
  if (!fixture.paid_period.empty()) {
    ASSIGN_OR_RETURN(Period days, ParsePeriod(fixture.paid_period));
    int64_t cycle_id = 0;
    ASSIGN_OR_RETURN(int64_t lines, InsertCycleAndLines(db, fixture.paid_period, days, &cycle_id));
    if (lines != n) {
      return absl::InternalError(absl::StrCat("payroll fixture: ", lines, " lines for ", n,
                                              " enrolments"));
    }
    ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Prepare(kInsertCycleTotals));
    Stmt totals(raw);
    sqlite3_bind_int64(totals.get(), 1, cycle_id);
    if (sqlite3_step(totals.get()) != SQLITE_DONE) return db.Error("INSERT INTO cycle_totals");
    RETURN_IF_ERROR(db.Exec(absl::StrFormat(
        "INSERT INTO payments (idempotency_key, cycle_id, line_id, person_id, programme_code, "
        "period, office_code, amount_minor, currency, channel, provider_reference, paid_at, "
        "supplement, note, recorded_at, recorded_by, reversal_of, reversal_reason) "
        "SELECT printf('bench-%%010d', l.id), l.cycle_id, l.id, l.person_id, l.programme_code, "
        "'%s', l.office_code, l.amount_minor, l.currency, 1, '', %d, 0, '', %d, "
        "'socle-bench', NULL, '' FROM lines l WHERE l.cycle_id = %d "
        "AND (l.enrolment_id - 1) %% %d <> 0 ORDER BY l.id",
        fixture.paid_period, now, now, cycle_id, PayrollFixture::kUnpaidEvery)));
  }
  RETURN_IF_ERROR(db.Exec("COMMIT"));
  // No ANALYZE: socle never runs it, so its planner works without statistics.
  RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL;"));
  return absl::OkStatus();
}

absl::StatusOr<double> RawOpenCycle(const std::string& path, const std::string& period,
                                    int64_t* lines) {
  ASSIGN_OR_RETURN(Period days, ParsePeriod(period));
  Db db;
  RETURN_IF_ERROR(db.Open(path, false, kWriterPragmas));
  const absl::Time begin = absl::Now();
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  int64_t cycle_id = 0;
  ASSIGN_OR_RETURN(*lines, InsertCycleAndLines(db, period, days, &cycle_id));
  RETURN_IF_ERROR(db.Exec("COMMIT"));
  return absl::ToDoubleSeconds(absl::Now() - begin);
}

absl::Status SettleWal(const std::string& path) {
  Db db;
  RETURN_IF_ERROR(db.Open(path, false, "PRAGMA busy_timeout = 120000;"));
  return db.Exec("PRAGMA wal_checkpoint(TRUNCATE);");
}

absl::StatusOr<double> RawReconcile(const std::string& path, const std::string& period,
                                    int64_t* lines, int64_t* payments) {
  ASSIGN_OR_RETURN(Period days, ParsePeriod(period));
  Db db;
  RETURN_IF_ERROR(db.Open(path, true, kReaderPragmas));
  const absl::Time begin = absl::Now();
  ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Prepare(kReconcilePeriod));
  Stmt s(raw);
  BindText(s.get(), 1, period);
  BindText(s.get(), 2, "");
  BindText(s.get(), 3, "");
  BindText(s.get(), 4, days.first);
  *lines = *payments = 0;
  for (;;) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return db.Error("the reconciliation aggregate");
    *lines += sqlite3_column_int64(s.get(), 3);
    *payments += sqlite3_column_int64(s.get(), 5);
  }
  return absl::ToDoubleSeconds(absl::Now() - begin);
}

}  // namespace socle::bench
