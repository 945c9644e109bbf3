// What only the SQLite backend promises: opening errors, migrations, file
// settings, group commit, fail-stop on I/O errors, busy handling.
#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"

namespace socle::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                     "/socle-sqlite-XXXXXX");
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
      return;
    }
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Signal {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

PersonRecord MakePerson(std::string national_id) {
  PersonRecord p;
  p.version = 1;
  p.national_id = std::move(national_id);
  p.given_name = "Test";
  p.family_name = "Person";
  p.date_of_birth = absl::CivilDay(1990, 1, 2);
  p.office_code = "PP01";
  p.name_key = "test person";
  p.district_key = "chamkar mon";
  p.registered_at = absl::FromUnixMicros(1'700'000'000'000'000);
  p.updated_at = p.registered_at;
  return p;
}

absl::Status InsertOne(Store& store, const std::string& national_id) {
  return store.Write([&](Txn& txn) {
    return txn.InsertPerson(MakePerson(national_id)).status();
  });
}

// Waits until `n` Write calls are queued behind the writer.
bool WaitQueued(Store& store, int64_t n) {
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (GetSqliteStats(store).queued < n) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// Runs `sql` on a separate connection to `path` and returns the first column
// of the first row as text.
std::string Latest() {
  return absl::StrCat(sqlite_internal::LatestSchemaVersion());
}

// Undoes migration 5 (personal data sealed at rest) of a database whose
// persons have national IDs "N-<id>": the rows become what a database
// written before it holds, plaintext.
constexpr const char* kUndoSealing =
    " DROP INDEX persons_by_national_id_index;"
    " ALTER TABLE persons DROP COLUMN national_id_sealed;"
    " ALTER TABLE persons DROP COLUMN national_id_index;"
    " ALTER TABLE persons DROP COLUMN sealed;"
    " ALTER TABLE requests DROP COLUMN sealed;"
    " ALTER TABLE life_events DROP COLUMN sealed;"
    " UPDATE persons SET national_id = 'N-' || id, facts = X'0a00';";

std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The plan SQLite chooses for one of the store's statements, its lines
// joined by " | ".
std::string ExplainPlan(sqlite3* db, sqlite_internal::Sql id) {
  std::string out;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(
                db, absl::StrCat("EXPLAIN QUERY PLAN ", sqlite_internal::SqlText(id)).c_str(),
                -1, &stmt, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    absl::StrAppend(&out, reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)), " | ");
  }
  sqlite3_finalize(stmt);
  return out;
}

class SqliteStoreTest : public testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/socle.db"; }

  std::unique_ptr<Store> Open(SqliteOptions options = {}) {
    if (options.path.empty()) options.path = DbPath();
    absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  TempDir dir_;
};

// ---------------------------------------------------------------------------
// Opening and migrations

TEST_F(SqliteStoreTest, UnopenablePathIsAClearError) {
  std::string path = dir_.path() + "/no/such/dir/socle.db";
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenSqliteStore(SqliteOptions{.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            absl::StrCat("cannot open database ", path,
                         ": unable to open database file"));
}

TEST_F(SqliteStoreTest, NotADatabaseIsRefused) {
  {
    std::ofstream f(DbPath(), std::ios::binary);
    f << std::string(8192, 'x');
  }
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenSqliteStore(SqliteOptions{.path = DbPath()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(DbPath()));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("\n")));
}

TEST_F(SqliteStoreTest, BadOptionsAreInvalidArgument) {
  EXPECT_EQ(OpenSqliteStore(SqliteOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OpenSqliteStore(SqliteOptions{.path = DbPath(), .reader_connections = 0})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSqliteStore(SqliteOptions{.path = DbPath(), .max_batch = 0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status negative_delay =
      OpenSqliteStore(SqliteOptions{.path = DbPath(), .commit_delay = absl::Milliseconds(-1)})
          .status();
  EXPECT_EQ(negative_delay.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative_delay.message(), HasSubstr("commit_delay"));
  EXPECT_EQ(OpenSqliteStore(SqliteOptions{.path = DbPath(),
                                          .commit_delay = absl::InfiniteDuration()})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, MigrationsAreAppliedOnce) {
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(InsertOne(*store, "N-1").ok());
  }
  std::string version = Query(DbPath(), "PRAGMA user_version");
  EXPECT_GE(std::stoi(version), 1);
  std::string schema =
      Query(DbPath(), "SELECT group_concat(sql, ';') FROM sqlite_schema");
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    absl::Status s = store->Read(
        [](ReadTxn& txn) { return txn.GetPersonByNationalId("N-1").status(); });
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), version);
  EXPECT_EQ(Query(DbPath(), "SELECT group_concat(sql, ';') FROM sqlite_schema"),
            schema);
}

TEST_F(SqliteStoreTest, NewDatabaseHasTheLatestSchemaVersion) {
  { ASSERT_NE(Open(), nullptr); }
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), Latest());
  std::string schema = Query(
      DbPath(), "SELECT group_concat(name, ',') FROM (SELECT name FROM"
                " sqlite_schema WHERE name LIKE 'enrolments%' OR name ="
                " 'policies' ORDER BY name)");
  EXPECT_EQ(schema,
            "enrolments,enrolments_by_person,enrolments_by_programme_office,"
            "enrolments_by_status_office,enrolments_current_by_person_"
            "programme,policies");
  EXPECT_EQ(Query(DbPath(), "SELECT group_concat(name, ',') FROM (SELECT name"
                            " FROM sqlite_schema WHERE name IN ('cycles',"
                            " 'cycle_totals', 'lines', 'payments') ORDER BY name)"),
            "cycle_totals,cycles,lines,payments");
  EXPECT_EQ(Query(DbPath(), "SELECT group_concat(name, ',') FROM (SELECT name"
                            " FROM sqlite_schema WHERE tbl_name = 'users'"
                            " AND sql IS NOT NULL ORDER BY name)"),
            "users,users_by_office");
  EXPECT_EQ(Query(DbPath(), "SELECT group_concat(name, ',') FROM (SELECT name"
                            " FROM sqlite_schema WHERE name LIKE 'audit_by_%'"
                            " ORDER BY name)"),
            "audit_by_office,audit_by_subject");
  // Reopening is idempotent.
  { ASSERT_NE(Open(), nullptr); }
  { ASSERT_NE(Open(), nullptr); }
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), Latest());
}

TEST_F(SqliteStoreTest, VersionOneDatabaseIsMigratedKeepingItsData) {
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(InsertOne(*store, "N-1").ok());
  }
  // Turn the file back into a version-1 database: migrations 2 to 4 only
  // add tables and indexes.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "BEGIN; DROP TABLE users; DROP INDEX audit_by_subject;"
                           " DROP INDEX audit_by_office;"
                           " DROP TABLE payments; DROP TABLE lines;"
                           " DROP TABLE cycle_totals; DROP TABLE cycles;"
                           " DROP TABLE enrolments; DROP TABLE policies;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_exec(db, kUndoSealing, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_exec(db, "PRAGMA user_version = 1; COMMIT;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_EQ(Query(DbPath(), "PRAGMA user_version"), "1");
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), Latest());
  int64_t person_id = 0;
  absl::Status s = store->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord p, txn.GetPersonByNationalId("N-1"));
    person_id = p.id;
    EXPECT_EQ(txn.GetActivePolicy().status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  s = store->Write([&](Txn& txn) -> absl::Status {
    EnrolmentRecord e;
    e.person_id = person_id;
    e.programme_code = "CG";
    e.office_code = "PP01";
    e.status = 1;
    e.start_date = absl::CivilDay(2024, 1, 1);
    RETURN_IF_ERROR(txn.InsertEnrolment(e).status());
    PolicyRecord policy;
    policy.file_name = "p.textproto";
    return txn.InsertPolicy(policy).status();
  });
  EXPECT_TRUE(s.ok()) << s;
}

// A database from before migration 5 holds national IDs, facts and requests
// in plaintext: the store reads them as they are, finds them by national ID,
// and key rotation seals them.
TEST_F(SqliteStoreTest, PlaintextRowsFromBeforeSealingAreReadThenSealedByRotation) {
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(InsertOne(*store, "N-1").ok());
    ASSERT_TRUE(store->Write([](Txn& txn) {
      RequestRecord r;
      r.request_id = "old-request";
      r.method = "m";
      r.request = "req";
      r.response = "resp";
      return txn.PutRequest(r);
    }).ok());
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           absl::StrCat("BEGIN;", kUndoSealing,
                                        " UPDATE requests SET request = CAST('req' AS BLOB),"
                                        " response = CAST('resp' AS BLOB);"
                                        " DROP TABLE users;"
                                        " PRAGMA user_version = ",
                                        // 4: before sealing (5) and users (6)
                                        sqlite_internal::LatestSchemaVersion() - 2,
                                        "; COMMIT;")
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  auto check = [&] {
    absl::Status s = store->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(PersonRecord p, txn.GetPersonByNationalId("N-1"));
      EXPECT_EQ(p.national_id, "N-1");
      EXPECT_EQ(p.facts, std::string("\x0a\x00", 2));
      ASSIGN_OR_RETURN(RequestRecord r, txn.GetRequest("old-request"));
      EXPECT_EQ(r.request, "req");
      EXPECT_EQ(r.response, "resp");
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  };
  check();
  EXPECT_EQ(Query(DbPath(), "SELECT national_id FROM persons"), "N-1");
  // The plaintext ID still counts for uniqueness.
  EXPECT_EQ(InsertOne(*store, "N-1").code(), absl::StatusCode::kAlreadyExists);
  absl::Status s = store->Write([](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(ResealBatch persons, txn.ResealPersons(0, 10));
    EXPECT_EQ(persons.resealed, 1);
    ASSIGN_OR_RETURN(ResealBatch requests, txn.ResealRequests("", 10));
    EXPECT_EQ(requests.resealed, 1);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  check();
  EXPECT_EQ(Query(DbPath(), "SELECT count(*) FROM persons WHERE national_id IS NOT NULL"
                            " OR NOT sealed OR instr(facts, X'0a00') = 1"),
            "0");
  EXPECT_EQ(Query(DbPath(), "SELECT count(*) FROM requests WHERE NOT sealed"
                            " OR request = CAST('req' AS BLOB)"),
            "0");
  EXPECT_EQ(InsertOne(*store, "N-1").code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SqliteStoreTest, VersionTwoDatabaseGainsPaymentsKeepingItsData) {
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(InsertOne(*store, "N-1").ok());
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "BEGIN; DROP TABLE users; DROP INDEX audit_by_subject;"
                           " DROP INDEX audit_by_office;"
                           " DROP TABLE payments; DROP TABLE lines;"
                           " DROP TABLE cycle_totals; DROP TABLE cycles;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_exec(db, kUndoSealing, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2; COMMIT;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), Latest());
  absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord p, txn.GetPersonByNationalId("N-1"));
    EnrolmentRecord e;
    e.person_id = p.id;
    e.programme_code = "CG";
    e.office_code = "PP01";
    e.status = 1;
    e.start_date = absl::CivilDay(2024, 1, 1);
    e.amount_minor = 500;
    e.currency = "KHR";
    RETURN_IF_ERROR(txn.InsertEnrolment(e).status());
    CycleRecord c;
    c.programme_code = "CG";
    c.period = "2026-11";
    c.status = 1;
    ASSIGN_OR_RETURN(c, txn.InsertCycle(c, absl::CivilDay(2026, 11, 1),
                                        absl::CivilDay(2026, 11, 30)));
    EXPECT_EQ(c.totals.size(), 1u);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

// The payment statements as the store runs them, through the indexes that
// keep them proportional to what they return: a plan that scans payments or
// sorts a cycle's lines turns a month's reconciliation of a million lines
// from seconds into hours. No ANALYZE, as in production.
TEST_F(SqliteStoreTest, PaymentStatementsUseTheirIndexes) {
  using sqlite_internal::Sql;
  using ::testing::HasSubstr;
  using ::testing::Not;
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  auto explain = [&](Sql id) { return ExplainPlan(db, id); };
  const std::string payroll = explain(Sql::kInsertLines);
  EXPECT_THAT(payroll, HasSubstr("enrolments_by_programme_office")) << payroll;
  const std::string line = explain(Sql::kGetLine);
  EXPECT_THAT(line, HasSubstr("SEARCH q USING INDEX payments_by_line")) << line;
  EXPECT_THAT(line, Not(HasSubstr("SEARCH q USING INDEX sqlite_autoindex"))) << line;
  for (Sql id : {Sql::kListLines, Sql::kListUnbalancedLinesOfCycle}) {
    const std::string plan = explain(id);
    EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE"))) << plan;
    EXPECT_THAT(plan, Not(HasSubstr("SCAN l"))) << plan;
  }
  const std::string by_office = explain(Sql::kListLinesByOffice);
  EXPECT_THAT(by_office, HasSubstr("lines_by_cycle_office")) << by_office;
  EXPECT_THAT(by_office, Not(HasSubstr("TEMP B-TREE"))) << by_office;
  for (Sql id : {Sql::kListIrregularPayments, Sql::kListReferencedPayments}) {
    const std::string plan = explain(id);
    EXPECT_THAT(plan, HasSubstr("SEARCH p USING INDEX payments_by_period")) << plan;
    EXPECT_THAT(plan, Not(HasSubstr("TEMP B-TREE"))) << plan;
  }
  // Set-based over the period's rows only: payments through their period,
  // lines through their cycle, never a whole table.
  const std::string totals = explain(Sql::kReconcilePeriod);
  EXPECT_THAT(totals, Not(HasSubstr("SCAN p |"))) << totals;
  EXPECT_THAT(totals, Not(HasSubstr("SCAN l |"))) << totals;
  EXPECT_THAT(totals, HasSubstr("SEARCH l USING INDEX sqlite_autoindex_lines_1 (cycle_id=?)"))
      << totals;
  sqlite3_close(db);
}

// Audit queries by subject and by office go through their index, in seq
// order (no sort): a person's few entries among millions cost a few reads.
TEST_F(SqliteStoreTest, AuditQueriesUseTheirIndexes) {
  using sqlite_internal::Sql;
  using ::testing::HasSubstr;
  using ::testing::Not;
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  auto explain = [&](Sql id) { return ExplainPlan(db, id); };
  const std::string by_subject = explain(Sql::kQueryAuditBySubject);
  EXPECT_THAT(by_subject, HasSubstr("USING INDEX audit_by_subject (subject=? AND seq>?)"))
      << by_subject;
  EXPECT_THAT(by_subject, Not(HasSubstr("TEMP B-TREE"))) << by_subject;
  const std::string by_office = explain(Sql::kQueryAuditByOffice);
  EXPECT_THAT(by_office, HasSubstr("USING INDEX audit_by_office (office_code=? AND seq>?)"))
      << by_office;
  EXPECT_THAT(by_office, Not(HasSubstr("TEMP B-TREE"))) << by_office;
  const std::string rest = explain(Sql::kQueryAudit);
  EXPECT_THAT(rest, HasSubstr("(rowid>?)")) << rest;
  EXPECT_THAT(rest, Not(HasSubstr("TEMP B-TREE"))) << rest;
  sqlite3_close(db);
}

// User listings read their index in name order: no sort, no scan of other
// offices' users.
TEST_F(SqliteStoreTest, UserStatementsUseTheirIndexes) {
  using sqlite_internal::Sql;
  using ::testing::HasSubstr;
  using ::testing::Not;
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  auto explain = [&](Sql id) { return ExplainPlan(db, id); };
  const std::string get = explain(Sql::kGetUser);
  EXPECT_THAT(get, HasSubstr("SEARCH users USING PRIMARY KEY")) << get;
  const std::string all = explain(Sql::kListUsers);
  EXPECT_THAT(all, HasSubstr("SEARCH users USING PRIMARY KEY")) << all;
  EXPECT_THAT(all, Not(HasSubstr("TEMP B-TREE"))) << all;
  const std::string by_office = explain(Sql::kListUsersByOffice);
  EXPECT_THAT(by_office, HasSubstr("users_by_office (office_code=? AND")) << by_office;
  EXPECT_THAT(by_office, Not(HasSubstr("TEMP B-TREE"))) << by_office;
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  { ASSERT_NE(Open(), nullptr); }
  Query(DbPath(), "PRAGMA user_version = 1000");
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenSqliteStore(SqliteOptions{.path = DbPath()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(DbPath()));
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 1000"));
  // Refusing changed nothing.
  EXPECT_EQ(Query(DbPath(), "PRAGMA user_version"), "1000");
}

TEST_F(SqliteStoreTest, FileSettings) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Query(DbPath(), "PRAGMA journal_mode"), "wal");
  for (const char* table :
       {"persons", "households", "household_members", "life_events",
        "requests", "audit", "enrolments", "policies"}) {
    EXPECT_EQ(
        Query(DbPath(), absl::StrCat("SELECT strict FROM pragma_table_list"
                                     " WHERE name = '",
                                     table, "'")),
        "1")
        << table;
  }
  // Foreign keys are enforced by the store's connections.
  absl::Status s = store->Write([](Txn& txn) {
    return txn.InsertMember(MemberRecord{.household_id = 5, .person_id = 6});
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(SqliteStoreTest, WriteInsideWriteIsRefused) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  absl::Status inner;
  absl::Status outer = store->Write([&](Txn&) {
    inner = store->Write([](Txn&) { return absl::OkStatus(); });
    return absl::OkStatus();
  });
  EXPECT_TRUE(outer.ok()) << outer;
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// Group commit

// Holds the writer inside a Write until released, so that later calls queue.
class WriterBlocker {
 public:
  explicit WriterBlocker(Store& store)
      : thread_([this, &store] {
          status_ = store.Write([this](Txn&) {
            entered_.Notify();
            release_.Wait();
            return absl::OkStatus();
          });
        }) {
    entered_.Wait();
  }
  ~WriterBlocker() { Join().IgnoreError(); }
  void Release() { release_.Notify(); }
  absl::Status Join() {
    Release();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  Signal entered_, release_;
  absl::Status status_;
  std::thread thread_;
};

void RunQueuedWriters(Store& store, int n, std::vector<absl::Status>* out) {
  out->assign(n, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  {
    WriterBlocker blocker(store);
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&store, out, i] {
        (*out)[i] = InsertOne(store, absl::StrCat("G-", i));
      });
    }
    EXPECT_TRUE(WaitQueued(store, n));
    EXPECT_TRUE(blocker.Join().ok());
  }
  for (std::thread& t : threads) t.join();
}

TEST_F(SqliteStoreTest, ConcurrentWritesShareOneCommit) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  int64_t before = GetSqliteStats(*store).commits;
  std::vector<absl::Status> statuses;
  RunQueuedWriters(*store, 64, &statuses);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  SqliteStoreStats stats = GetSqliteStats(*store);
  // The blocking write's group, then one group for all 64.
  EXPECT_EQ(stats.commits - before, 2);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_FALSE(stats.stopped);
}

TEST_F(SqliteStoreTest, GroupsAreAtMostMaxBatch) {
  SqliteOptions options;
  options.max_batch = 8;
  std::unique_ptr<Store> store = Open(options);
  ASSERT_NE(store, nullptr);
  int64_t before = GetSqliteStats(*store).commits;
  std::vector<absl::Status> statuses;
  RunQueuedWriters(*store, 64, &statuses);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetSqliteStats(*store).commits - before, 1 + 64 / 8);
}

TEST_F(SqliteStoreTest, ManyConcurrentWritersNeedFewerCommits) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  int64_t before = GetSqliteStats(*store).commits;
  constexpr int kThreads = 32, kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(InsertOne(*store, absl::StrCat("M-", t, "-", i)).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int64_t commits = GetSqliteStats(*store).commits - before;
  EXPECT_LT(commits, kThreads * kPerThread);
  EXPECT_EQ(GetSqliteStats(*store).writes, kThreads * kPerThread);
}

SqliteOptions WithCommitDelay(absl::Duration delay) {
  SqliteOptions options;
  options.commit_delay = delay;
  return options;
}

// Commits a group of two writes, after which the next group waits out the
// commit delay for company.
void CommitAGroupOfTwo(Store& store) {
  std::vector<absl::Status> statuses;
  RunQueuedWriters(store, 2, &statuses);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
}

// Writes `n` persons from threads of their own, started one after the
// other, and returns their statuses once all have returned or `limit` has
// passed (then the ones not back are DEADLINE_EXCEEDED).
std::vector<absl::Status> WriteOneByOne(Store& store, int n, const std::string& prefix,
                                        absl::Duration limit = absl::Seconds(20)) {
  auto statuses = std::make_shared<std::vector<absl::Status>>(
      n, absl::DeadlineExceededError("not back in time"));
  auto mu = std::make_shared<std::mutex>();
  auto cv = std::make_shared<std::condition_variable>();
  auto back = std::make_shared<int>(0);
  for (int i = 0; i < n; ++i) {
    std::thread([&store, statuses, mu, cv, back, prefix, i] {
      absl::Status s = InsertOne(store, absl::StrCat(prefix, i));
      std::lock_guard<std::mutex> lock(*mu);
      (*statuses)[i] = std::move(s);
      ++*back;
      cv->notify_all();
    }).detach();
  }
  std::unique_lock<std::mutex> lock(*mu);
  cv->wait_for(lock, absl::ToChronoMilliseconds(limit), [&] { return *back == n; });
  return *statuses;
}

TEST_F(SqliteStoreTest, AfterAGroupOfSeveralTheNextWaitsForCompany) {
  // A delay far longer than the test: the group ends its wait because
  // kCommitGroupTarget calls queued, not because time ran out.
  std::unique_ptr<Store> store = Open(WithCommitDelay(kMaxCommitDelay));
  ASSERT_NE(store, nullptr);
  CommitAGroupOfTwo(*store);
  const int64_t before = GetSqliteStats(*store).commits;
  for (const absl::Status& s : WriteOneByOne(*store, kCommitGroupTarget, "C-")) {
    EXPECT_TRUE(s.ok()) << s;
  }
  // Without the delay the first of them would have committed alone.
  EXPECT_EQ(GetSqliteStats(*store).commits - before, 1);
}

TEST_F(SqliteStoreTest, AWriteAfterAGroupOfOneIsNotDelayed) {
  std::unique_ptr<Store> store = Open(WithCommitDelay(kMaxCommitDelay));
  ASSERT_NE(store, nullptr);
  // The first write of all, then one after a group of one: neither waits
  // for company (either would otherwise wait a minute).
  const int64_t before = GetSqliteStats(*store).commits;
  for (int round = 0; round < 2; ++round) {
    std::vector<absl::Status> statuses = WriteOneByOne(*store, 1, absl::StrCat("L", round, "-"));
    EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  }
  EXPECT_EQ(GetSqliteStats(*store).commits - before, 2);
}

TEST_F(SqliteStoreTest, TheCommitDelayEndsWhenItsTimeIsUp) {
  std::unique_ptr<Store> store = Open(WithCommitDelay(absl::Milliseconds(20)));
  ASSERT_NE(store, nullptr);
  CommitAGroupOfTwo(*store);
  // Alone after a group of two: it waits for company that never comes,
  // then commits.
  std::vector<absl::Status> alone = WriteOneByOne(*store, 1, "T-");
  EXPECT_TRUE(alone[0].ok()) << alone[0];
}

TEST_F(SqliteStoreTest, ClosingEndsTheCommitDelay) {
  std::unique_ptr<Store> store = Open(WithCommitDelay(kMaxCommitDelay));
  ASSERT_NE(store, nullptr);
  CommitAGroupOfTwo(*store);
  absl::Status waiting = absl::UnknownError("not run");
  Store* open = store.get();
  std::thread writer([&] { waiting = InsertOne(*open, "W-1"); });
  // The writer has taken the call and waits out the delay (the queue is
  // not empty while it waits).
  ASSERT_TRUE(WaitQueued(*store, 1));
  std::thread closer([&] { store.reset(); });  // commits what is queued
  writer.join();
  closer.join();
  EXPECT_TRUE(waiting.ok()) << waiting;
}

TEST_F(SqliteStoreTest, DestructorCommitsPendingWrites) {
  constexpr int kWriters = 20;
  std::vector<absl::Status> statuses(kWriters, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  {
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    Signal entered, release;
    std::thread blocker([&] {
      EXPECT_TRUE(store
                      ->Write([&](Txn&) {
                        entered.Notify();
                        release.Wait();
                        return absl::OkStatus();
                      })
                      .ok());
    });
    entered.Wait();
    for (int i = 0; i < kWriters; ++i) {
      threads.emplace_back(
          [&, i] { statuses[i] = InsertOne(*store, absl::StrCat("D-", i)); });
    }
    EXPECT_TRUE(WaitQueued(*store, kWriters));
    std::thread releaser([&] {
      absl::SleepFor(absl::Milliseconds(50));
      release.Notify();
    });
    releaser.join();
    blocker.join();
    // Every call is queued; destroying the store now must still commit them.
    store.reset();
    for (std::thread& t : threads) t.join();
  }
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  absl::Status s = store->Read([&](ReadTxn& txn) -> absl::Status {
    for (int i = 0; i < kWriters; ++i) {
      RETURN_IF_ERROR(
          txn.GetPersonByNationalId(absl::StrCat("D-", i)).status());
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

// ---------------------------------------------------------------------------
// Busy database

TEST_F(SqliteStoreTest, LockHeldByAnotherProcessIsUnavailableNotFatal) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  std::unique_ptr<Store> store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertOne(*store, "B-0").ok());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  absl::Status s = InsertOne(*store, "B-1");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // Reads go on.
  s = store->Read(
      [](ReadTxn& txn) { return txn.GetPersonByNationalId("B-0").status(); });
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);

  EXPECT_FALSE(GetSqliteStats(*store).stopped);
  s = InsertOne(*store, "B-1");
  EXPECT_TRUE(s.ok()) << s;
}

// Queues large calls (WriteAlone) behind a blocked writer, then lets them
// run, in the order of `fns`. Returns each call's status.
std::vector<absl::Status> RunQueuedLargeWrites(
    Store& store, const std::vector<std::function<absl::Status(Txn&)>>& fns) {
  std::vector<absl::Status> out(fns.size(), absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  {
    WriterBlocker blocker(store);
    for (size_t i = 0; i < fns.size(); ++i) {  // queued in this order
      threads.emplace_back([&, i] { out[i] = store.WriteAlone(fns[i]); });
      EXPECT_TRUE(WaitQueued(store, static_cast<int64_t>(i + 1)));
    }
    EXPECT_TRUE(blocker.Join().ok());
  }
  for (std::thread& t : threads) t.join();
  return out;
}

bool Stored(Store& store, const std::string& national_id) {
  return store.Read([&](ReadTxn& txn) {
           return txn.GetPersonByNationalId(national_id).status();
         }).ok();
}

TEST_F(SqliteStoreTest, LargeWritesQueuedTogetherShareOneCommit) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::function<absl::Status(Txn&)>> fns;
  for (int i = 0; i < 5; ++i) {
    fns.push_back([i](Txn& txn) -> absl::Status {
      for (int k = 0; k < 100; ++k) {
        RETURN_IF_ERROR(txn.InsertPerson(MakePerson(absl::StrCat("L-", i, "-", k))).status());
      }
      return absl::OkStatus();
    });
  }
  const int64_t commits = GetSqliteStats(*store).commits;
  for (const absl::Status& s : RunQueuedLargeWrites(*store, fns)) EXPECT_TRUE(s.ok()) << s;
  // The blocker's commit, then four large calls in one, then the fifth.
  EXPECT_EQ(GetSqliteStats(*store).commits - commits, 3);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Stored(*store, absl::StrCat("L-", i, "-99"))) << i;
}

TEST_F(SqliteStoreTest, AFailingLargeWriteLeavesTheOthersOfItsGroupCommitted) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  std::atomic<int> runs[3] = {0, 0, 0};
  std::vector<std::function<absl::Status(Txn&)>> fns;
  for (int i = 0; i < 3; ++i) {
    fns.push_back([i, &runs](Txn& txn) -> absl::Status {
      ++runs[i];
      RETURN_IF_ERROR(txn.InsertPerson(MakePerson(absl::StrCat("M-", i))).status());
      if (i == 1) return absl::AbortedError("its own error");
      return absl::OkStatus();
    });
  }
  const int64_t commits = GetSqliteStats(*store).commits;
  std::vector<absl::Status> statuses = RunQueuedLargeWrites(*store, fns);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kAborted) << statuses[1];
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_TRUE(Stored(*store, "M-0"));
  EXPECT_FALSE(Stored(*store, "M-1"));
  EXPECT_TRUE(Stored(*store, "M-2"));
  // The group was rolled back and each call ran again alone: the blocker's
  // commit, then one per call that succeeded.
  EXPECT_EQ(GetSqliteStats(*store).commits - commits, 3);
  // Call 0 ran in the group and again alone; call 2, after the failure,
  // only alone.
  EXPECT_EQ(runs[0].load(), 2);
  EXPECT_EQ(runs[1].load(), 2);
  EXPECT_EQ(runs[2].load(), 1);
  EXPECT_FALSE(GetSqliteStats(*store).stopped);
}

// ---------------------------------------------------------------------------
// I/O faults, through a VFS that wraps the default one.

std::atomic<bool> g_fail_sync{false};
// Fails the syncs of the database file only, which checkpoints alone do.
std::atomic<bool> g_fail_database_sync{false};
std::atomic<int> g_wal_syncs{0};
sqlite3_vfs* g_base_vfs = nullptr;

struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;  // follows this struct in the same allocation
  bool wal;
};

FaultFile* Ff(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Ff(f)->real; }

int FfClose(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int FfRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int FfWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int FfTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int FfSync(sqlite3_file* f, int flags) {
  if (g_fail_sync.load()) return SQLITE_IOERR_FSYNC;
  if (g_fail_database_sync.load() && !Ff(f)->wal) return SQLITE_IOERR_FSYNC;
  if (Ff(f)->wal) ++g_wal_syncs;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FfFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int FfLock(sqlite3_file* f, int l) {
  return Real(f)->pMethods->xLock(Real(f), l);
}
int FfUnlock(sqlite3_file* f, int l) {
  return Real(f)->pMethods->xUnlock(Real(f), l);
}
int FfCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FfFileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int FfSectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int FfDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int FfShmMap(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
  return Real(f)->pMethods->xShmMap(Real(f), pg, sz, extend, p);
}
int FfShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void FfShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int FfShmUnmap(sqlite3_file* f, int del) {
  return Real(f)->pMethods->xShmUnmap(Real(f), del);
}
int FfFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, p);
}
int FfUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

const sqlite3_io_methods kFaultMethods = {
    3,
    FfClose,
    FfRead,
    FfWrite,
    FfTruncate,
    FfSync,
    FfFileSize,
    FfLock,
    FfUnlock,
    FfCheckReservedLock,
    FfFileControl,
    FfSectorSize,
    FfDeviceCharacteristics,
    FfShmMap,
    FfShmLock,
    FfShmBarrier,
    FfShmUnmap,
    FfFetch,
    FfUnfetch,
};

int FfOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags,
           int* out_flags) {
  FaultFile* ff = Ff(file);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = g_base_vfs->xOpen(g_base_vfs, name, ff->real, flags, out_flags);
  ff->base.pMethods = ff->real->pMethods != nullptr ? &kFaultMethods : nullptr;
  return rc;
}

sqlite3_vfs g_fault_vfs;

// Makes the fault-injecting VFS the default while the test runs.
class SqliteFaultTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_initialize(), SQLITE_OK);
    g_base_vfs = sqlite3_vfs_find(nullptr);
    ASSERT_NE(g_base_vfs, nullptr);
    g_fault_vfs = *g_base_vfs;
    g_fault_vfs.zName = "socle-fault";
    g_fault_vfs.szOsFile =
        static_cast<int>(sizeof(FaultFile)) + g_base_vfs->szOsFile;
    g_fault_vfs.xOpen = FfOpen;
    g_fault_vfs.pNext = nullptr;
    ASSERT_EQ(sqlite3_vfs_register(&g_fault_vfs, /*makeDflt=*/1), SQLITE_OK);
    g_fail_sync = false;
    g_wal_syncs = 0;
  }
  void TearDown() override {
    g_fail_sync = false;
    g_fail_database_sync = false;
    sqlite3_vfs_unregister(&g_fault_vfs);
    sqlite3_vfs_register(g_base_vfs, /*makeDflt=*/1);
  }
};

TEST_F(SqliteFaultTest, EveryCommitIsSynced) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  // synchronous=FULL: each acknowledged group has synced the WAL.
  for (int i = 0; i < 5; ++i) {
    int before = g_wal_syncs.load();
    ASSERT_TRUE(InsertOne(*store, absl::StrCat("S-", i)).ok());
    EXPECT_GE(g_wal_syncs.load() - before, 1) << i;
  }
  // A group of 64 needs one sync, not 64.
  int before = g_wal_syncs.load();
  std::vector<absl::Status> statuses;
  RunQueuedWriters(*store, 64, &statuses);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  EXPECT_LE(g_wal_syncs.load() - before, 2 * 2);  // two groups
}

TEST_F(SqliteFaultTest, FailedSyncStopsTheWriterForGood) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertOne(*store, "F-0").ok());

  // A group of several writers fails together.
  std::vector<absl::Status> statuses(8, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  {
    WriterBlocker blocker(*store);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        statuses[i] = store->Write([&](Txn& txn) -> absl::Status {
          RETURN_IF_ERROR(
              txn.InsertPerson(MakePerson(absl::StrCat("F-", i + 1))).status());
          if (i == 3) return absl::AbortedError("its own error");
          return absl::OkStatus();
        });
      });
    }
    EXPECT_TRUE(WaitQueued(*store, 8));
    g_fail_sync = true;
    // The blocker's group wrote nothing, so its commit needs no sync and
    // succeeds; the next group, with all 8 calls, fails to sync.
    EXPECT_TRUE(blocker.Join().ok());
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    if (i == 3) {
      EXPECT_EQ(statuses[i].code(), absl::StatusCode::kAborted);
    } else {
      EXPECT_EQ(statuses[i].code(), absl::StatusCode::kUnavailable)
          << statuses[i];
      EXPECT_THAT(statuses[i].message(),
                  HasSubstr("store stopped after an I/O error"));
    }
  }
  EXPECT_TRUE(GetSqliteStats(*store).stopped);

  // Fail-stop: even once the disk is fine again, writes are refused at once.
  g_fail_sync = false;
  absl::Status s = InsertOne(*store, "F-after");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr("store stopped after an I/O error"));
  // Reads still work and see what was committed before.
  s = store->Read(
      [](ReadTxn& txn) { return txn.GetPersonByNationalId("F-0").status(); });
  EXPECT_TRUE(s.ok()) << s;
  store.reset();

  // A restarted store works again and kept the acknowledged write.
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(InsertOne(*store, "F-after").ok());
  s = store->Read(
      [](ReadTxn& txn) { return txn.GetPersonByNationalId("F-0").status(); });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(SqliteFaultTest, FailedCheckpointStopsTheWriter) {
  // The checkpointer thread copies the WAL into the database file and syncs
  // it; when that sync fails, the writer stops at its next group, as for a
  // failed commit, and what was acknowledged stays in the WAL.
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  g_fail_database_sync = true;
  // About 24 MiB of WAL, past the checkpoint threshold (16 MiB).
  for (int chunk = 0; chunk < 3; ++chunk) {
    absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
      for (int i = 0; i < 2000; ++i) {
        PersonRecord p = MakePerson(absl::StrCat("C-", chunk, "-", i));
        p.facts = std::string(4000, static_cast<char>(i));
        RETURN_IF_ERROR(txn.InsertPerson(p).status());
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::Status s;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  for (int i = 0; s.ok() && absl::Now() < give_up; ++i) {
    s = InsertOne(*store, absl::StrCat("C-after-", i));
    if (s.ok()) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr("store stopped after an I/O error"));
  EXPECT_TRUE(GetSqliteStats(*store).stopped);
  g_fail_database_sync = false;
  store.reset();

  store = Open();
  ASSERT_NE(store, nullptr);
  s = store->Read(
      [](ReadTxn& txn) { return txn.GetPersonByNationalId("C-2-1999").status(); });
  EXPECT_TRUE(s.ok()) << s;
}

// Not a benchmark (tests/bench has those), but a guard against a gross
// regression of the bulk path: prints the rate it reached.
TEST_F(SqliteStoreTest, BulkInsertInOneWrite) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kPersons = 100'000;
  std::vector<PersonRecord> persons;
  persons.reserve(kPersons);
  for (int i = 0; i < kPersons; ++i) {
    PersonRecord p = MakePerson(absl::StrCat("BULK-", i));
    p.name_key = absl::StrCat("name", i % 1000, " family", i % 777);
    p.date_of_birth = absl::CivilDay(1950, 1, 1) + i % 20000;
    p.facts = std::string(40, static_cast<char>(i));
    persons.push_back(std::move(p));
  }
  absl::Time start = absl::Now();
  for (int chunk = 0; chunk < kPersons; chunk += 10'000) {
    absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
      for (int i = chunk; i < chunk + 10'000; ++i) {
        RETURN_IF_ERROR(txn.InsertPerson(persons[i]).status());
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("bulk insert: %d persons in %.3f s (%.0f persons/s)\n", kPersons,
              seconds, kPersons / seconds);
  // The WAL outgrew the checkpoint threshold: it was copied back.
  EXPECT_GT(GetSqliteStats(*store).checkpoints, 0);
  absl::Status s = store->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord p, txn.GetPersonByNationalId("BULK-99999"));
    EXPECT_EQ(p.name_key, persons[99'999].name_key);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace socle::storage
