#include "storage/sqlite/migrations.h"

#include <iterator>

#include "absl/strings/str_cat.h"

namespace socle::storage::sqlite_internal {
namespace {

// The schema, as the ordered list of migrations applied at open. Migration i
// (1-based) moves the database from user_version i-1 to i.
//
// Conventions: STRICT tables; civil dates are TEXT 'YYYY-MM-DD'; instants
// are INTEGER unix microseconds, UTC; serialized protos are BLOB; stored enum
// values are proto enum numbers.
//
// Every entry is persisted: DO NOT CHANGE one; add new migrations at the end.
constexpr const char* kMigrations[] = {
    // 1: registry (persons, households, members, life events), idempotency
    // keys, audit trail.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE persons (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  national_id TEXT UNIQUE,  -- NULL when none
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  sex INTEGER NOT NULL,
  date_of_birth TEXT NOT NULL,
  date_of_death TEXT,
  province TEXT NOT NULL,
  district TEXT NOT NULL,
  commune TEXT NOT NULL,
  village TEXT NOT NULL,
  street TEXT NOT NULL,
  phone TEXT NOT NULL,
  office_code TEXT NOT NULL,
  name_key TEXT NOT NULL,
  district_key TEXT NOT NULL,
  facts BLOB NOT NULL,
  duplicate_override_reason TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX persons_by_birth_name_district
  ON persons (date_of_birth, name_key, district_key);
CREATE INDEX persons_by_office ON persons (office_code, id);

CREATE TABLE households (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  office_code TEXT NOT NULL,
  province TEXT NOT NULL,
  district TEXT NOT NULL,
  commune TEXT NOT NULL,
  village TEXT NOT NULL,
  street TEXT NOT NULL,
  head_person_id INTEGER NOT NULL,  -- 0 while none; not a foreign key
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX households_by_office ON households (office_code, id);

CREATE TABLE household_members (
  household_id INTEGER NOT NULL REFERENCES households (id),
  person_id INTEGER NOT NULL UNIQUE REFERENCES persons (id),
  relationship INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (household_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX household_members_by_household
  ON household_members (household_id, person_id);

CREATE TABLE life_events (
  id INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES persons (id),
  date TEXT NOT NULL,
  type INTEGER NOT NULL,
  details BLOB NOT NULL,
  correction INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  recorded_by TEXT NOT NULL,
  office_code TEXT NOT NULL
) STRICT;
CREATE INDEX life_events_by_person_date ON life_events (person_id, date, id);

CREATE TABLE requests (
  request_id TEXT PRIMARY KEY,
  method TEXT NOT NULL,
  request BLOB NOT NULL,
  response BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  office_code TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
)sql",
    // 2: enrolments in programmes, policy activations.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE enrolments (
  id INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES persons (id),
  programme_code TEXT NOT NULL,
  office_code TEXT NOT NULL,
  status INTEGER NOT NULL,  -- 1 active, 2 suspended, 3 ended
  start_date TEXT NOT NULL,
  end_date TEXT,  -- NULL when none
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  details BLOB NOT NULL
) STRICT;
-- At most one current (active or suspended) enrolment per person and
-- programme.
CREATE UNIQUE INDEX enrolments_current_by_person_programme
  ON enrolments (person_id, programme_code) WHERE status IN (1, 2);
CREATE INDEX enrolments_by_programme_office
  ON enrolments (programme_code, office_code, id);
CREATE INDEX enrolments_by_status_office
  ON enrolments (status, office_code, id);
CREATE INDEX enrolments_by_person ON enrolments (person_id);

CREATE TABLE policies (
  seq INTEGER PRIMARY KEY,
  activated_at INTEGER NOT NULL,
  activated_by TEXT NOT NULL,
  file_name TEXT NOT NULL,
  text TEXT NOT NULL
) STRICT;
)sql",
    // 3: payroll cycles, their lines, payments and reversals.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE cycles (
  id INTEGER PRIMARY KEY,
  programme_code TEXT NOT NULL,
  period TEXT NOT NULL,  -- 'YYYY-MM'
  status INTEGER NOT NULL CHECK (status IN (1, 2)),  -- 1 open, 2 closed
  opened_at INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  closed_at INTEGER,  -- NULL while open
  closed_by TEXT NOT NULL,
  UNIQUE (programme_code, period)
) STRICT;
CREATE INDEX cycles_by_period ON cycles (period);

-- Frozen when the cycle is opened: lines and amount owed per currency.
CREATE TABLE cycle_totals (
  cycle_id INTEGER NOT NULL REFERENCES cycles (id),
  currency TEXT NOT NULL,
  lines INTEGER NOT NULL,
  owed_minor INTEGER NOT NULL,
  PRIMARY KEY (cycle_id, currency)
) STRICT, WITHOUT ROWID;

-- Made by one INSERT ... SELECT from enrolments when the cycle is opened;
-- never changed afterwards.
CREATE TABLE lines (
  id INTEGER PRIMARY KEY,
  cycle_id INTEGER NOT NULL REFERENCES cycles (id),
  enrolment_id INTEGER NOT NULL REFERENCES enrolments (id),
  person_id INTEGER NOT NULL REFERENCES persons (id),
  programme_code TEXT NOT NULL,
  office_code TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  UNIQUE (cycle_id, enrolment_id)
) STRICT;
CREATE INDEX lines_by_cycle_office ON lines (cycle_id, office_code, enrolment_id);

-- Payments and reversal entries; never updated or deleted.
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT UNIQUE,  -- NULL for a reversal entry
  cycle_id INTEGER NOT NULL REFERENCES cycles (id),
  line_id INTEGER REFERENCES lines (id),  -- NULL: recorded without a line
  person_id INTEGER NOT NULL REFERENCES persons (id),
  programme_code TEXT NOT NULL,
  period TEXT NOT NULL,  -- the cycle's
  office_code TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  channel INTEGER NOT NULL,  -- socle.v1.PaymentChannel
  provider_reference TEXT NOT NULL,
  paid_at INTEGER NOT NULL,
  supplement INTEGER NOT NULL,
  note TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  recorded_by TEXT NOT NULL,
  -- A reversal entry: the payment it reverses, at most one per payment.
  reversal_of INTEGER UNIQUE REFERENCES payments (id),
  reversal_reason TEXT NOT NULL
) STRICT;
CREATE INDEX payments_by_line ON payments (line_id);
CREATE INDEX payments_by_period ON payments (period);
)sql",
    // Migration 4 (branch audit): audit queries by subject and by office,
    // in seq order.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE INDEX audit_by_subject ON audit (subject, seq);
CREATE INDEX audit_by_office ON audit (office_code, seq);
)sql",
    // Migration 5 (branch crypt): personal data sealed at rest
    // (storage/keys.h). Persons: the national ID moves to
    // national_id_sealed (AES-256-GCM) and its blind index, which carries
    // the uniqueness from now on; facts keeps its column but holds a sealed
    // value. The old national_id column stays NULL for every sealed row
    // (SQLite cannot drop a UNIQUE column). Requests: request and response
    // hold sealed values, and so does life_events.details. `sealed` is 0 for rows written before this
    // migration, which a migration cannot seal (it has no keys): the store
    // reads them as they are and `socle-admin keys rotate` seals them.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
ALTER TABLE persons ADD COLUMN national_id_sealed BLOB;  -- NULL when none
ALTER TABLE persons ADD COLUMN national_id_index BLOB;   -- NULL when none
ALTER TABLE persons ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX persons_by_national_id_index
  ON persons (national_id_index);
ALTER TABLE requests ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE life_events ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
)sql",

    // Migration 6 (branch authz): users, the clerks and supervisors who log
    // in at an office's terminals. user_name is compared byte for byte
    // (BINARY), so listings are in byte order, as on PostgreSQL ("C").
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE users (
  user_name TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  role INTEGER NOT NULL CHECK (role IN (1, 2)),  -- socle.v1.Role
  office_code TEXT NOT NULL,
  disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  password_hash TEXT NOT NULL,  -- salted, self-describing; never a password
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX users_by_office ON users (office_code, user_name);
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

int ReadUserVersion(sqlite3* db, int* version) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite3_extended_errcode(db);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    *version = sqlite3_column_int(stmt, 0);
    rc = SQLITE_OK;
  } else {
    rc = sqlite3_extended_errcode(db);
  }
  sqlite3_finalize(stmt);
  return rc;
}

absl::Status Failure(int rc, const std::string& path, int target) {
  int primary = rc & 0xff;
  auto code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                      primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                      primary == SQLITE_NOMEM
                  ? absl::StatusCode::kUnavailable
              : primary == SQLITE_NOTADB || primary == SQLITE_READONLY ||
                      primary == SQLITE_CANTOPEN || primary == SQLITE_PERM
                  ? absl::StatusCode::kFailedPrecondition
                  : absl::StatusCode::kInternal;
  return absl::Status(code, absl::StrCat("cannot migrate database ", path,
                                         " to schema version ", target, ": ",
                                         sqlite3_errstr(rc)));
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

absl::Status Migrate(sqlite3* db, const std::string& path) {
  auto exec = [db](const char* sql) {
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db);
  };
  // IMMEDIATE: two processes opening a new file at once migrate one after the
  // other, and the second sees the version the first wrote.
  int rc = exec("BEGIN IMMEDIATE");
  if (rc != SQLITE_OK) return Failure(rc, path, kLatest);
  int version = 0;
  rc = ReadUserVersion(db, &version);
  if (rc != SQLITE_OK) {
    exec("ROLLBACK");
    return Failure(rc, path, kLatest);
  }
  if (version > kLatest) {
    exec("ROLLBACK");
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path, " has schema version ", version,
        ", newer than this program's ", kLatest, "; run a newer socle"));
  }
  if (version < 0) {
    exec("ROLLBACK");
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path, " has an invalid schema version ", version));
  }
  for (int v = version; v < kLatest; ++v) {
    rc = exec(kMigrations[v]);
    if (rc == SQLITE_OK) {
      rc = exec(absl::StrCat("PRAGMA user_version = ", v + 1).c_str());
    }
    if (rc != SQLITE_OK) {
      exec("ROLLBACK");
      return Failure(rc, path, v + 1);
    }
  }
  rc = exec("COMMIT");
  if (rc != SQLITE_OK) {
    exec("ROLLBACK");
    return Failure(rc, path, kLatest);
  }
  return absl::OkStatus();
}

}  // namespace socle::storage::sqlite_internal
