#include "tests/bench/payroll_pg.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_store.h"

namespace socle::bench {
namespace {

// As storage/postgres/pg_txn.cc has them (kSqlText: kInsertCycle,
// kReconcilePeriod with SOCLE_PG_PAYMENTS_OF_PERIOD expanded). Keep them in
// step: a ceiling of a statement socle no longer runs means nothing, so
// CheckInStep compares them with the store's own text before each raw
// measurement and fails the row when they differ.
constexpr char kInsertCycle[] =
    "WITH c AS (INSERT INTO cycles (programme_code, period, status, "
    "opened_at, opened_by, closed_at, closed_by) VALUES ($1::text, $2::text, "
    "$3::int4, $4::timestamptz, $5::text, $6::timestamptz, $7::text) "
    "RETURNING id),"
    " l AS (INSERT INTO lines (cycle_id, enrolment_id, person_id, "
    "programme_code, office_code, amount_minor, currency) SELECT c.id, e.id, "
    "e.person_id, e.programme_code, e.office_code, e.amount_minor, "
    "e.currency FROM c, enrolments e WHERE e.programme_code = $1::text "
    "AND e.status = 1 AND e.start_date <= $9::date "
    "AND (e.end_date IS NULL OR e.end_date >= $8::date) "
    "AND e.amount_minor > 0 RETURNING currency, amount_minor),"
    " t AS (INSERT INTO cycle_totals (cycle_id, currency, lines, owed_minor) "
    "SELECT (SELECT id FROM c), currency, count(*), sum(amount_minor) "
    "FROM l GROUP BY currency RETURNING currency, lines, owed_minor)"
    " SELECT c.id, t.currency, t.lines, t.owed_minor FROM c LEFT JOIN t ON"
    " true ORDER BY t.currency";
constexpr char kReconcilePeriod[] =
    "WITH cyc AS (SELECT id FROM cycles WHERE period = $1::text"
    "  AND ($3::text = '' OR programme_code = $3::text)),"
    " eff AS (SELECT p.line_id, count(*) AS n, sum(p.amount_minor) AS net"
    "  FROM payments p LEFT JOIN payments r ON r.reversal_of = p.id"
    "  WHERE p.period = $1::text AND p.line_id IS NOT NULL"
    "  AND p.reversal_of IS NULL AND r.id IS NULL GROUP BY p.line_id),"
    " lx AS (SELECT l.office_code, l.programme_code, l.currency,"
    "  l.amount_minor AS owed, coalesce(e.n, 0) AS n,"
    "  coalesce(e.net, 0) AS net"
    "  FROM cyc CROSS JOIN LATERAL (SELECT * FROM lines l"
    "   WHERE l.cycle_id = cyc.id AND ($2::text = '' OR l.office_code = $2::text)"
    "   OFFSET 0) l"
    "  LEFT JOIN eff e ON e.line_id = l.id),"
    " lt AS (SELECT office_code, programme_code, currency, count(*) AS lines,"
    "  sum(owed) AS owed, sum(greatest(owed - net, 0)) AS outstanding,"
    "  sum(greatest(net - owed, 0)) AS excess,"
    "  count(*) FILTER (WHERE net = owed) AS in_full,"
    "  count(*) FILTER (WHERE net = 0) AS unpaid,"
    "  count(*) FILTER (WHERE net > 0 AND net < owed) AS under,"
    "  count(*) FILTER (WHERE net > owed"
    "   AND NOT (n >= 2 AND net >= 2 * owed)) AS over,"
    "  count(*) FILTER (WHERE n >= 2 AND net >= 2 * owed) AS twice"
    "  FROM lx GROUP BY office_code, programme_code, currency),"
    " px AS (SELECT p.office_code, p.programme_code, p.currency,"
    "  p.amount_minor AS amount, p.reversal_of IS NOT NULL AS is_reversal,"
    "  p.reversal_of IS NULL AND r.id IS NULL AS effective,"
    "  p.line_id IS NULL AS no_line,"
    "  coalesce(d.date_of_death < $4::date, false) AS dead"
    "  FROM payments p LEFT JOIN payments r ON r.reversal_of = p.id"
    "  LEFT JOIN persons d ON d.id = p.person_id"
    "  WHERE "
    " p.period = $1::text AND ($2::text = '' OR p.office_code = $2::text)"
    " AND ($3::text = '' OR p.programme_code = $3::text)"
    "),"
    " pt AS (SELECT office_code, programme_code, currency,"
    "  count(*) FILTER (WHERE NOT is_reversal) AS payments,"
    "  sum(amount) FILTER (WHERE NOT is_reversal) AS paid,"
    "  sum(amount) FILTER (WHERE is_reversal) AS reversed,"
    "  sum(amount) FILTER (WHERE effective AND no_line) AS excess,"
    "  count(*) FILTER (WHERE effective AND dead) AS after_death,"
    "  count(*) FILTER (WHERE effective AND NOT dead AND no_line)"
    "   AS without_line"
    "  FROM px GROUP BY office_code, programme_code, currency),"
    " k AS (SELECT office_code, programme_code, currency FROM lt"
    "  UNION SELECT office_code, programme_code, currency FROM pt)"
    " SELECT k.office_code, k.programme_code, k.currency,"
    "  coalesce(lt.lines, 0)::int8, coalesce(lt.owed, 0)::int8,"
    "  coalesce(pt.payments, 0)::int8, coalesce(pt.paid, 0)::int8,"
    "  coalesce(pt.reversed, 0)::int8, coalesce(lt.outstanding, 0)::int8,"
    "  (coalesce(lt.excess, 0) + coalesce(pt.excess, 0))::int8,"
    "  coalesce(lt.in_full, 0)::int8, coalesce(lt.unpaid, 0)::int8,"
    "  coalesce(lt.under, 0)::int8, coalesce(lt.over, 0)::int8,"
    "  coalesce(lt.twice, 0)::int8, coalesce(pt.after_death, 0)::int8,"
    "  coalesce(pt.without_line, 0)::int8"
    " FROM k LEFT JOIN lt USING (office_code, programme_code, currency)"
    " LEFT JOIN pt USING (office_code, programme_code, currency)"
    " ORDER BY k.office_code, k.programme_code, k.currency";

// As storage/postgres/pg_store.cc (kBeginWrite, kBeginRead) and
// pg_connection.cc (the session set-up of Connection::Open) have them.
constexpr char kBeginWrite[] =
    "BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE writer_lock IN EXCLUSIVE MODE";
constexpr char kBeginRead[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr char kSessionSetUp[] =
    "SET lock_timeout = 30000; SET idle_in_transaction_session_timeout = 300000; "
    "SELECT set_config('synchronous_commit', 'on', false)"
    " WHERE current_setting('synchronous_commit') = 'off'";

// The copies above against the store's own text.
absl::Status CheckInStep() {
  using storage::pg_internal::Sql;
  using storage::pg_internal::SqlText;
  for (auto [id, copy, name] :
       {std::tuple{Sql::kInsertCycle, kInsertCycle, "kInsertCycle"},
        std::tuple{Sql::kReconcilePeriod, kReconcilePeriod, "kReconcilePeriod"}}) {
    if (std::strcmp(SqlText(id), copy) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "storage/postgres/pg_txn.cc's ", name, " is no longer the copy in "
          "tests/bench/payroll_pg.cc that the raw ceiling issues: copy it again"));
    }
  }
  return absl::OkStatus();
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// One libpq connection (bench only: its errors may quote SQL and are
// printed only in the bench's report).
class PgConn {
 public:
  ~PgConn() {
    if (pg_ != nullptr) PQfinish(pg_);
  }
  absl::Status Open(const std::string& url) {
    const char* keys[] = {"dbname", "application_name", "client_encoding", nullptr};
    const char* values[] = {url.c_str(), "socle-bench", "UTF8", nullptr};
    pg_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (pg_ == nullptr) return absl::UnavailableError("libpq: out of memory");
    PQsetNoticeProcessor(pg_, [](void*, const char*) {}, nullptr);
    if (PQstatus(pg_) != CONNECTION_OK) {
      return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", Message()));
    }
    return absl::OkStatus();
  }
  // Commands with no parameters; several may be separated by ';'.
  absl::Status Exec(const std::string& sql) {
    Result r(PQexec(pg_, sql.c_str()));
    return Check(r.get(), sql);
  }
  // One statement with text parameters (nullptr: NULL).
  absl::StatusOr<Result> Query(const char* sql, const std::vector<const char*>& params) {
    Result r(PQexecParams(pg_, sql, static_cast<int>(params.size()), nullptr, params.data(),
                          nullptr, nullptr, /*resultFormat=*/0));
    RETURN_IF_ERROR(Check(r.get(), sql));
    return r;
  }
  std::string Message() const {
    std::string m = pg_ != nullptr ? PQerrorMessage(pg_) : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  }

 private:
  absl::Status Check(const PGresult* r, absl::string_view sql) {
    const ExecStatusType s = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("payroll SQL: ", sql.substr(0, 60), ": ", Message()));
  }
  PGconn* pg_ = nullptr;
};

int64_t Int(const PGresult* r, int row, int col) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(PQgetvalue(r, row, col), &v)) v = -1;
  return v;
}

// `url` with its database replaced by `database` (as
// tests/pg/pg_test_database.cc's WithDatabase).
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return absl::StrCat(url, " dbname=", database);
  const size_t path = url.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return absl::StrCat(url, "/", database);
  if (url[path] == '?') return absl::StrCat(url.substr(0, path), "/", database, url.substr(path));
  const size_t query = url.find('?', path);
  return absl::StrCat(url.substr(0, path + 1), database,
                      query == std::string::npos ? "" : url.substr(query));
}

// An instant as a timestamptz literal.
std::string Timestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

// kInsertCycle for kPayrollProgramme and `period` on `conn` (in its
// transaction); sets *cycle_id and returns the lines of its totals.
absl::StatusOr<int64_t> InsertCycle(PgConn& conn, const std::string& period,
                                    const PeriodDays& days, int64_t* cycle_id) {
  const std::string opened_at = Timestamp(absl::Now());
  ASSIGN_OR_RETURN(Result r, conn.Query(kInsertCycle,
                                        {kPayrollProgramme, period.c_str(), "1",
                                         opened_at.c_str(), "socle-bench raw SQL", nullptr, "",
                                         days.first.c_str(), days.last.c_str()}));
  int64_t lines = 0;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    *cycle_id = Int(r.get(), i, 0);
    if (!PQgetisnull(r.get(), i, 2)) lines += Int(r.get(), i, 2);
  }
  return lines;
}

}  // namespace

PgScratch::PgScratch(std::string server_url) : server_(std::move(server_url)) {}

PgScratch::~PgScratch() {
  while (!made_.empty()) (void)Drop(made_.back().first);
}

absl::Status PgScratch::Probe() const {
  PgConn conn;
  return conn.Open(server_);
}

absl::StatusOr<std::string> PgScratch::Create(const std::string& suffix) {
  const std::string name = absl::StrCat("socle_bench_", getpid(), "_", suffix);
  PgConn conn;
  RETURN_IF_ERROR(conn.Open(server_));
  RETURN_IF_ERROR(conn.Exec(absl::StrCat("DROP DATABASE IF EXISTS \"", name, "\" WITH (FORCE)")));
  // template0: nobody is ever connected to it.
  RETURN_IF_ERROR(conn.Exec(
      absl::StrCat("CREATE DATABASE \"", name, "\" TEMPLATE template0 ENCODING 'UTF8'")));
  std::string url = WithDatabase(server_, name);
  made_.emplace_back(url, name);
  return url;
}

absl::Status PgScratch::Drop(const std::string& url) {
  for (auto it = made_.begin(); it != made_.end(); ++it) {
    if (it->first != url) continue;
    const std::string name = it->second;
    made_.erase(it);
    PgConn conn;
    RETURN_IF_ERROR(conn.Open(server_));
    return conn.Exec(absl::StrCat("DROP DATABASE IF EXISTS \"", name, "\" WITH (FORCE)"));
  }
  return absl::NotFoundError("not a database this bench made");
}

absl::Status MakePgPayrollDatabase(const std::string& url, const PayrollFixture& fixture) {
  {
    storage::PgOptions options;
    options.conninfo = url;
    options.pool_size = 1;
    ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::OpenPgStore(options));
  }
  PgConn db;
  RETURN_IF_ERROR(db.Open(url));
  // Loading only: no wait for the WAL flush at commit; foreign keys
  // unchecked where the user may (a superuser; the rows hold by
  // construction), as PostgreSQL checks them row by row.
  RETURN_IF_ERROR(db.Exec("SET synchronous_commit = off"));
  (void)db.Exec("SET session_replication_role = replica");
  const int64_t n = fixture.persons;
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  // The columns and values of MakePayrollDatabase's rows; ids 1..n, and the
  // identity sequences set past them so that socle's own inserts follow.
  RETURN_IF_ERROR(db.Exec(absl::StrFormat(
      "INSERT INTO persons (id, version, national_id, given_name, family_name, sex, "
      "date_of_birth, date_of_death, province, district, commune, village, street, phone, "
      "office_code, name_key, district_key, facts, duplicate_override_reason, registered_at, "
      "updated_at) OVERRIDING SYSTEM VALUE SELECT x, 1, NULL, 'Sokha', "
      "'Payroll' || lpad(x::text, 10, '0'), 1 + x %% 2, DATE '1950-01-01', NULL, 'Siem Reap', "
      "'Siem Reap', '', '', '', '', 'KH-SR-' || lpad((x %% %d)::text, 2, '0'), "
      "'sokha payroll' || lpad(x::text, 10, '0'), 'siem reap', ''::bytea, '', now(), now() "
      "FROM generate_series(1, %d) x",
      kPayrollOffices, n)));
  RETURN_IF_ERROR(db.Exec(absl::StrFormat(
      "INSERT INTO enrolments (id, person_id, programme_code, office_code, status, start_date, "
      "end_date, amount_minor, currency, policy_version, version, created_at, updated_at, "
      "details) OVERRIDING SYSTEM VALUE SELECT id, id, '%s', office_code, 1, "
      "DATE '2020-01-01', NULL, %d, '%s', 'socle-bench', 1, now(), now(), ''::bytea "
      "FROM persons ORDER BY id",
      kPayrollProgramme, kPayrollAmount, kPayrollCurrency)));
  RETURN_IF_ERROR(db.Exec(absl::StrFormat(
      "SELECT setval(pg_get_serial_sequence('persons', 'id'), %d); "
      "SELECT setval(pg_get_serial_sequence('enrolments', 'id'), %d)",
      n, n)));
  if (!fixture.paid_period.empty()) {
    ASSIGN_OR_RETURN(PeriodDays days, ParsePeriod(fixture.paid_period));
    int64_t cycle_id = 0;
    ASSIGN_OR_RETURN(int64_t lines, InsertCycle(db, fixture.paid_period, days, &cycle_id));
    if (lines != n) {
      return absl::InternalError(absl::StrCat("payroll fixture: ", lines, " lines for ", n,
                                              " enrolments"));
    }
    RETURN_IF_ERROR(db.Exec(absl::StrFormat(
        "INSERT INTO payments (idempotency_key, cycle_id, line_id, person_id, programme_code, "
        "period, office_code, amount_minor, currency, channel, provider_reference, paid_at, "
        "supplement, note, recorded_at, recorded_by, reversal_of, reversal_reason) "
        "SELECT 'bench-' || lpad(l.id::text, 10, '0'), l.cycle_id, l.id, l.person_id, "
        "l.programme_code, '%s', l.office_code, l.amount_minor, l.currency, 1, '', now(), "
        "false, '', now(), 'socle-bench', NULL, '' FROM lines l WHERE l.cycle_id = %d "
        "AND (l.enrolment_id - 1) %% %d <> 0 ORDER BY l.id",
        fixture.paid_period, cycle_id, PayrollFixture::kUnpaidEvery)));
  }
  RETURN_IF_ERROR(db.Exec("COMMIT"));
  RETURN_IF_ERROR(db.Exec("VACUUM (ANALYZE)"));
  (void)db.Exec("CHECKPOINT");
  return absl::OkStatus();
}

namespace {

// What both raw ceilings do first, untimed: checks that their SQL is the
// store's, opens `db` on `url` with the store's session settings, and gives
// the days of `period`.
absl::StatusOr<PeriodDays> OpenForRaw(PgConn& db, const std::string& url,
                                      const std::string& period) {
  RETURN_IF_ERROR(CheckInStep());
  ASSIGN_OR_RETURN(PeriodDays days, ParsePeriod(period));
  RETURN_IF_ERROR(db.Open(url));
  RETURN_IF_ERROR(db.Exec(kSessionSetUp));
  return days;
}

}  // namespace

absl::StatusOr<double> RawOpenCyclePg(const std::string& url, const std::string& period,
                                      int64_t* lines) {
  PgConn db;
  ASSIGN_OR_RETURN(PeriodDays days, OpenForRaw(db, url, period));
  const absl::Time begin = absl::Now();
  RETURN_IF_ERROR(db.Exec(kBeginWrite));
  int64_t cycle_id = 0;
  ASSIGN_OR_RETURN(*lines, InsertCycle(db, period, days, &cycle_id));
  RETURN_IF_ERROR(db.Exec("COMMIT"));
  return absl::ToDoubleSeconds(absl::Now() - begin);
}

absl::Status SettlePg(const std::string& url) {
  PgConn db;
  RETURN_IF_ERROR(db.Open(url));
  RETURN_IF_ERROR(db.Exec("VACUUM (ANALYZE) cycles, cycle_totals, lines"));
  (void)db.Exec("CHECKPOINT");  // needs a superuser or pg_checkpoint
  return absl::OkStatus();
}

absl::StatusOr<double> RawReconcilePg(const std::string& url, const std::string& period,
                                      int64_t* lines, int64_t* payments) {
  PgConn db;
  ASSIGN_OR_RETURN(PeriodDays days, OpenForRaw(db, url, period));
  const absl::Time begin = absl::Now();
  RETURN_IF_ERROR(db.Exec(kBeginRead));
  ASSIGN_OR_RETURN(Result r,
                   db.Query(kReconcilePeriod, {period.c_str(), "", "", days.first.c_str()}));
  *lines = *payments = 0;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    *lines += Int(r.get(), i, 3);
    *payments += Int(r.get(), i, 5);
  }
  RETURN_IF_ERROR(db.Exec("ROLLBACK"));
  return absl::ToDoubleSeconds(absl::Now() - begin);
}

}  // namespace socle::bench
