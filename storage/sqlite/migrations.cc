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
