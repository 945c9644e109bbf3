#include "tests/pg/pg_test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_store.h"

namespace socle::pgtest {
namespace {

// Test-only: error texts of the test server may quote SQL; they are printed
// only in test output.
absl::Status Failure(PGconn* conn, const std::string& what) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return absl::InternalError(absl::StrCat(what, ": ", message));
}

// Databases made by this process, dropped at exit.
class Registry {
 public:
  ~Registry() {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      names.swap(names_);
    }
    const std::string server = PostgresTestServer();
    if (server.empty()) return;
    for (const std::string& name : names) {
      // FORCE: a store a test leaked must not keep its database alive.
      (void)RunSql(server, absl::StrCat("DROP DATABASE IF EXISTS \"", name,
                                        "\" WITH (FORCE)"));
    }
  }
  void Add(std::string name) {
    std::lock_guard<std::mutex> lock(mu_);
    names_.push_back(std::move(name));
  }
  // The database URL kept for a conformance-test directory.
  std::string& ForDir(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    return by_dir_[dir];
  }

 private:
  std::mutex mu_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> by_dir_;
};

// Constructed at first use, destroyed (dropping the databases) after main
// returns, once every test's stores are gone.
Registry& Databases() {
  static Registry registry;
  return registry;
}

// A store that refuses every call: returned when the test is skipped, so
// that the fixture's SetUp finds a store, and never used (a skipped SetUp
// stops the test before its body).
class SkippedStore final : public storage::Store {
 public:
  absl::Status Read(absl::FunctionRef<absl::Status(storage::ReadTxn&)>) override {
    return absl::FailedPreconditionError("PostgreSQL tests are skipped");
  }
  absl::Status Write(absl::FunctionRef<absl::Status(storage::Txn&)>) override {
    return absl::FailedPreconditionError("PostgreSQL tests are skipped");
  }
};

}  // namespace

std::string PostgresTestServer() {
  const char* url = std::getenv(kTestPostgresEnv);
  return url != nullptr ? url : "";
}

bool SkipWithoutPostgres() {
  if (!PostgresTestServer().empty()) return false;
  [] {
    GTEST_SKIP() << kTestPostgresEnv
                 << " is not set: the PostgreSQL backend is not tested. Run "
                    "`make test`, or tests/pg/with_postgres.sh ctest, which "
                    "start a throw-away PostgreSQL server.";
  }();
  return true;
}

std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    // key=value form: a later keyword wins.
    return absl::StrCat(url, " dbname=", database);
  }
  const size_t path = url.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return absl::StrCat(url, "/", database);
  if (url[path] == '?') {
    return absl::StrCat(url.substr(0, path), "/", database, url.substr(path));
  }
  const size_t query = url.find('?', path);
  return absl::StrCat(url.substr(0, path + 1), database,
                      query == std::string::npos ? "" : url.substr(query));
}

absl::Status RunSql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = Failure(conn, "connect");
    PQfinish(conn);
    return s;
  }
  PGresult* r = PQexec(conn, sql.c_str());
  absl::Status s = PQresultStatus(r) == PGRES_COMMAND_OK ||
                           PQresultStatus(r) == PGRES_TUPLES_OK
                       ? absl::OkStatus()
                       : Failure(conn, sql);
  PQclear(r);
  PQfinish(conn);
  return s;
}

absl::StatusOr<std::string> QueryOne(const std::string& url,
                                     const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = Failure(conn, "connect");
    PQfinish(conn);
    return s;
  }
  PGresult* r = PQexec(conn, sql.c_str());
  absl::StatusOr<std::string> out;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    out = Failure(conn, sql);
  } else if (PQntuples(r) < 1 || PQnfields(r) < 1) {
    out = absl::NotFoundError(absl::StrCat("no row: ", sql));
  } else {
    out = std::string(PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  PQfinish(conn);
  return out;
}

absl::StatusOr<std::string> CreateTestDatabase() {
  const std::string server = PostgresTestServer();
  if (server.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(kTestPostgresEnv, " is not set"));
  }
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat(
      "socle_test_", getpid(), "_", counter.fetch_add(1), "_",
      absl::ToUnixMicros(absl::Now()) % 1'000'000);
  // template0: nobody is ever connected to it, so that tests running in
  // parallel can copy it at once.
  absl::Status s = RunSql(server, absl::StrCat("CREATE DATABASE \"", name,
                                               "\" TEMPLATE template0 "
                                               "ENCODING 'UTF8'"));
  if (!s.ok()) return s;
  Databases().Add(name);
  return WithDatabase(server, name);
}

storage::PersonRecord TestPerson(std::string national_id) {
  storage::PersonRecord p;
  p.version = 1;
  p.national_id = std::move(national_id);
  p.given_name = "Dara";
  p.family_name = "Sok";
  p.sex = 1;
  p.date_of_birth = absl::CivilDay(1990, 1, 2);
  p.office_code = "PP01";
  p.name_key = "dara sok";
  p.registered_at = absl::FromUnixMicros(1'700'000'000'000'000);
  p.updated_at = p.registered_at;
  return p;
}

std::unique_ptr<storage::Store> OpenPostgresForTest(
    const std::string& dir, std::shared_ptr<const storage::KeyRing> keys) {
  if (SkipWithoutPostgres()) return std::make_unique<SkippedStore>();
  std::string& url = Databases().ForDir(dir);
  if (url.empty()) {
    absl::StatusOr<std::string> created = CreateTestDatabase();
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    url = *created;
  }
  storage::PgOptions options;
  options.conninfo = url;
  options.keys = std::move(keys);
  absl::StatusOr<std::unique_ptr<storage::Store>> store =
      storage::OpenPgStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

}  // namespace socle::pgtest
