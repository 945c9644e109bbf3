#include "storage/postgres/pg_migrations.h"

#include <cstdlib>
#include <iterator>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace socle::storage::pg_internal {
namespace {

// The schema, as the ordered list of migrations applied at open; migration i
// (1-based) is recorded as version i in schema_migrations. The tables and
// their meaning are those of the SQLite backend (storage/sqlite/migrations.cc),
// with PostgreSQL's types: identity columns for ids, DATE for civil dates,
// TIMESTAMPTZ for instants (microseconds, UTC), BYTEA for serialized protos,
// INTEGER for stored enum values (proto enum numbers). Keys that are matched
// byte for byte (national ID, name and district keys, office and programme
// codes, request ids) use the "C" collation: equality and index order do not
// depend on the server's locale.
//
// Every entry is persisted: DO NOT CHANGE one; add new migrations at the end.
constexpr const char* kMigrations[] = {
    // 1: registry (persons, households, members, life events), idempotency
    // keys, audit trail, and the writers' lock.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE persons (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version BIGINT NOT NULL,
  national_id TEXT COLLATE "C" UNIQUE,  -- NULL when none
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  sex INTEGER NOT NULL,
  date_of_birth DATE NOT NULL,
  date_of_death DATE,
  province TEXT NOT NULL,
  district TEXT NOT NULL,
  commune TEXT NOT NULL,
  village TEXT NOT NULL,
  street TEXT NOT NULL,
  phone TEXT NOT NULL,
  office_code TEXT COLLATE "C" NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  district_key TEXT COLLATE "C" NOT NULL,
  facts BYTEA NOT NULL,
  duplicate_override_reason TEXT NOT NULL,
  registered_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX persons_by_birth_name_district
  ON persons (date_of_birth, name_key, district_key);
CREATE INDEX persons_by_office ON persons (office_code, id);

CREATE TABLE households (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version BIGINT NOT NULL,
  office_code TEXT COLLATE "C" NOT NULL,
  province TEXT NOT NULL,
  district TEXT NOT NULL,
  commune TEXT NOT NULL,
  village TEXT NOT NULL,
  street TEXT NOT NULL,
  head_person_id BIGINT NOT NULL,  -- 0 while none; not a foreign key
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX households_by_office ON households (office_code, id);

CREATE TABLE household_members (
  household_id BIGINT NOT NULL REFERENCES households (id),
  person_id BIGINT NOT NULL UNIQUE REFERENCES persons (id),
  relationship INTEGER NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (household_id, seq)
);
CREATE INDEX household_members_by_household
  ON household_members (household_id, person_id);

CREATE TABLE life_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  person_id BIGINT NOT NULL REFERENCES persons (id),
  date DATE NOT NULL,
  type INTEGER NOT NULL,
  details BYTEA NOT NULL,
  correction BOOLEAN NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  recorded_by TEXT NOT NULL,
  office_code TEXT COLLATE "C" NOT NULL
);
CREATE INDEX life_events_by_person_date ON life_events (person_id, date, id);

CREATE TABLE requests (
  request_id TEXT COLLATE "C" PRIMARY KEY,
  method TEXT NOT NULL,
  request BYTEA NOT NULL,
  response BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL,
  actor TEXT NOT NULL,
  office_code TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

-- Holds no rows: every Write locks it first (pg_store.cc explains why).
-- A table of its own, so that autovacuum of a busy table never waits for it.
CREATE TABLE writer_lock ();
)sql",

    // 2: enrolments (a person in a programme) and policy activations.
    // At most one active (1) or suspended (2) enrolment per person and
    // programme; ended ones (3) accumulate.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE enrolments (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  person_id BIGINT NOT NULL REFERENCES persons (id),
  programme_code TEXT COLLATE "C" NOT NULL,
  office_code TEXT COLLATE "C" NOT NULL,
  status INTEGER NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  details BYTEA NOT NULL
);
CREATE UNIQUE INDEX enrolments_open_by_person_programme
  ON enrolments (person_id, programme_code) WHERE status IN (1, 2);
CREATE INDEX enrolments_by_person ON enrolments (person_id, id);
CREATE INDEX enrolments_by_programme_office
  ON enrolments (programme_code, office_code, id);
CREATE INDEX enrolments_by_status_office ON enrolments (status, office_code, id);
CREATE INDEX enrolments_by_office ON enrolments (office_code, id);

CREATE TABLE policies (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  activated_at TIMESTAMPTZ NOT NULL,
  activated_by TEXT NOT NULL,
  file_name TEXT NOT NULL,
  text TEXT NOT NULL
);
)sql",

    // Migration 3 (branch pg-payments): payroll cycles, their lines,
    // payments and reversals; the tables of SQLite migration 3, with the
    // same constraints but for the foreign keys of lines (see there). Lines
    // are made by the store in one INSERT ... SELECT when a cycle opens and
    // never change; payments are never updated nor deleted (a mistake is
    // reversed by a new entry). The indexes serve the
    // statements of pg_txn.cc (a test checks their plans):
    //   lines (cycle_id, enrolment_id)      a cycle's lines in enrolment order
    //   lines_by_cycle_office               the same for one office
    //   payments_by_line                    a line's payment figures
    //   payments_reversal_of (unique)       "reversed by", and a payment is
    //                                       reversed at most once
    //   payments_by_period (period, id)     reconciliation and its keyset pages
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE cycles (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  programme_code TEXT COLLATE "C" NOT NULL,
  period TEXT COLLATE "C" NOT NULL,  -- 'YYYY-MM'
  status INTEGER NOT NULL CHECK (status IN (1, 2)),  -- 1 open, 2 closed
  opened_at TIMESTAMPTZ NOT NULL,
  opened_by TEXT NOT NULL,
  closed_at TIMESTAMPTZ,  -- NULL while open
  closed_by TEXT NOT NULL,
  UNIQUE (programme_code, period)
);
CREATE INDEX cycles_by_period ON cycles (period, id);

-- Frozen when the cycle is opened: lines and amount owed per currency.
CREATE TABLE cycle_totals (
  cycle_id BIGINT NOT NULL REFERENCES cycles (id),
  currency TEXT COLLATE "C" NOT NULL,
  lines BIGINT NOT NULL,
  owed_minor BIGINT NOT NULL,
  PRIMARY KEY (cycle_id, currency)
);

-- No foreign keys, unlike SQLite: PostgreSQL checks them row by row (one
-- query and one row lock on the enrolment and on the person per line),
-- which made a payroll of 200,000 lines take 8 s instead of 2.5 s, all of
-- it under the writers' lock. Every line is made by the one INSERT ...
-- SELECT that reads its cycle (inserted by the same statement) and its
-- enrolment, whose person_id is a foreign key; socle deletes no cycle,
-- enrolment or person.
CREATE TABLE lines (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cycle_id BIGINT NOT NULL,
  enrolment_id BIGINT NOT NULL,
  person_id BIGINT NOT NULL,
  programme_code TEXT COLLATE "C" NOT NULL,
  office_code TEXT COLLATE "C" NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  currency TEXT COLLATE "C" NOT NULL,
  UNIQUE (cycle_id, enrolment_id)
);
CREATE INDEX lines_by_cycle_office
  ON lines (cycle_id, office_code, enrolment_id);

CREATE TABLE payments (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key TEXT COLLATE "C" UNIQUE,  -- NULL for a reversal entry
  cycle_id BIGINT NOT NULL REFERENCES cycles (id),
  line_id BIGINT REFERENCES lines (id),  -- NULL: recorded without a line
  person_id BIGINT NOT NULL REFERENCES persons (id),
  programme_code TEXT COLLATE "C" NOT NULL,
  period TEXT COLLATE "C" NOT NULL,  -- the cycle's
  office_code TEXT COLLATE "C" NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  currency TEXT COLLATE "C" NOT NULL,
  channel INTEGER NOT NULL,  -- socle.v1.PaymentChannel
  provider_reference TEXT NOT NULL,
  paid_at TIMESTAMPTZ NOT NULL,
  supplement BOOLEAN NOT NULL,
  note TEXT NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  recorded_by TEXT NOT NULL,
  -- A reversal entry: the payment it reverses (NULL for a payment).
  reversal_of BIGINT REFERENCES payments (id),
  reversal_reason TEXT NOT NULL
);
-- A payment is reversed at most once.
CREATE UNIQUE INDEX payments_reversal_of
  ON payments (reversal_of) WHERE reversal_of IS NOT NULL;
CREATE INDEX payments_by_line ON payments (line_id, id)
  WHERE line_id IS NOT NULL;
CREATE INDEX payments_by_period ON payments (period, id);
)sql",

    // Migration 4 (branch audit): audit queries by subject and by office,
    // in seq order.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE INDEX audit_by_subject ON audit (subject, seq);
CREATE INDEX audit_by_office ON audit (office_code, seq);
)sql",

    // Migration 5 (branch crypt): personal data sealed at rest
    // (storage/keys.h), as SQLite migration 5: the national ID moves to
    // national_id_sealed and its blind index, which carries the uniqueness
    // from now on; facts, requests.request and requests.response hold sealed
    // values, as does life_events.details. The old national_id column stays NULL for sealed rows, so that
    // this migration needs no keys; `sealed` is false for rows written
    // before it, which the store reads as they are and
    // `socle-admin keys rotate` seals.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
ALTER TABLE persons ADD COLUMN national_id_sealed BYTEA,  -- NULL when none
  ADD COLUMN national_id_index BYTEA UNIQUE,              -- NULL when none
  ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE life_events ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT false;
)sql",

    // Migration 6 (branch authz): users, the clerks and supervisors who log
    // in at an office's terminals. user_name and office_code in "C", so that
    // listings are in byte order, as on SQLite.
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE TABLE users (
  user_name TEXT COLLATE "C" PRIMARY KEY,
  display_name TEXT NOT NULL,
  role INTEGER NOT NULL CHECK (role IN (1, 2)),  -- socle.v1.Role
  office_code TEXT COLLATE "C" NOT NULL,
  disabled BOOLEAN NOT NULL,
  password_hash TEXT NOT NULL,  -- salted, self-describing; never a password
  version BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_by_office ON users (office_code, user_name);
)sql",

    // Migration 7: the irregular payments of a period (kListIrregularPayments)
    // found through what makes them irregular, so that listing them reads
    // about as many rows as it returns instead of every payment of the
    // period:
    //   payments_without_line (period, id)  payments recorded without a line
    //   persons_by_death (date_of_death)    the persons who died (few)
    //   payments_by_person (person_id, period, id)
    //                                       their payments of the period
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
CREATE INDEX payments_without_line ON payments (period, id)
  WHERE line_id IS NULL;
CREATE INDEX payments_by_person ON payments (person_id, period, id);
CREATE INDEX persons_by_death ON persons (date_of_death)
  WHERE date_of_death IS NOT NULL;
)sql",

    // Migration 8: payments lose the foreign keys of their cycle, line and
    // person, as lines never had them (migration 3). PostgreSQL checks a
    // foreign key with a query and a row lock on the row referred to, which
    // writes WAL and dirties that row's page: some 15 % of the database's
    // CPU per RecordPayment, under the writers' lock. The store checks them
    // instead (PgTxn::InsertPayment): a payment its transaction's reads have
    // not found the cycle, line and person of is inserted by a statement
    // that inserts nothing when one is missing. Under the writers' lock, and
    // with no cycle, line or person ever deleted, that is as strong. The
    // reversed payment's foreign key stays (reversals are few).
    // persisted: DO NOT CHANGE; add new migrations at the end.
    R"sql(
ALTER TABLE payments DROP CONSTRAINT payments_cycle_id_fkey,
  DROP CONSTRAINT payments_line_id_fkey,
  DROP CONSTRAINT payments_person_id_fkey;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

// pg_advisory_xact_lock key of the migrations: "socle" in ASCII.
constexpr const char* kLockMigrations =
    "SELECT pg_advisory_xact_lock(495874812261)";

}  // namespace

int LatestSchemaVersion() { return kLatest; }

absl::Status Migrate(Connection& conn) {
  const std::string where = conn.Describe();
  auto failure = [&](const absl::Status& s, int target) {
    if (conn.in_transaction() && !conn.broken()) {
      (void)conn.Command("ROLLBACK", {"roll back"});
    }
    return absl::Status(
        s.code(), absl::StrCat("cannot migrate PostgreSQL ", where,
                               " to schema version ", target, ": ",
                               s.message()));
  };
  // READ COMMITTED: every statement after the lock sees what the replica that
  // held it before committed.
  absl::Status s = conn.Command("BEGIN ISOLATION LEVEL READ COMMITTED",
                                {"begin migration"});
  if (s.ok()) s = conn.Command(kLockMigrations, {"lock for migration"});
  if (s.ok()) {
    s = conn.Command(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        {"create schema_migrations"});
  }
  if (!s.ok()) return failure(s, kLatest);
  absl::StatusOr<Result> r =
      conn.Query("SELECT coalesce(max(version), 0) FROM schema_migrations",
                 {"read schema version"});
  if (!r.ok()) return failure(r.status(), kLatest);
  int version = 0;
  if (PQntuples(r->get()) != 1 ||
      !absl::SimpleAtoi(PQgetvalue(r->get(), 0, 0), &version)) {
    return failure(absl::InternalError("unreadable schema version"), kLatest);
  }
  if (version > kLatest) {
    (void)conn.Command("ROLLBACK", {"roll back"});
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL ", where, " has schema version ", version,
        ", newer than this program's ", kLatest, "; run a newer socle"));
  }
  for (int v = version; v < kLatest; ++v) {
    s = conn.Command(kMigrations[v], {"apply migration"});
    if (s.ok()) {
      s = conn.Command(
          absl::StrCat("INSERT INTO schema_migrations (version) VALUES (",
                       v + 1, ")")
              .c_str(),
          {"record migration"});
    }
    if (!s.ok()) return failure(s, v + 1);
  }
  // pg_txn.cc draws ids from the identity sequences by name, which saves
  // looking them up (pg_get_serial_sequence) at every insert: they must be
  // the names PostgreSQL gave them, as it does unless another relation had
  // taken the name first.
  r = conn.Query(
      "SELECT coalesce(pg_get_serial_sequence('persons', 'id')::regclass"
      " = to_regclass('persons_id_seq') AND"
      " pg_get_serial_sequence('payments', 'id')::regclass"
      " = to_regclass('payments_id_seq') AND"
      " pg_get_serial_sequence('life_events', 'id')::regclass"
      " = to_regclass('life_events_id_seq'), false)",
      {"check identity sequences"});
  if (!r.ok()) return failure(r.status(), kLatest);
  if (PQntuples(r->get()) != 1 || PQgetvalue(r->get(), 0, 0)[0] != 't') {
    return failure(
        absl::FailedPreconditionError(
            "the identity sequences of persons, payments and life_events are "
            "not named persons_id_seq, payments_id_seq and "
            "life_events_id_seq"),
        kLatest);
  }
  s = conn.Command("COMMIT", {"commit migration"});
  if (!s.ok()) return failure(s, kLatest);
  return absl::OkStatus();
}

}  // namespace socle::storage::pg_internal
