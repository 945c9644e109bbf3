// Databases for tests on the PostgreSQL server named by SOCLE_TEST_POSTGRES
// (tests/pg/with_postgres.sh starts a throw-away one and sets it; `make test`
// runs every test under it).
#ifndef SOCLE_TESTS_PG_PG_TEST_DATABASE_H_
#define SOCLE_TESTS_PG_PG_TEST_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/store.h"

namespace socle::pgtest {

// The environment variable naming the test server: a postgresql:// URL of a
// database whose user may create and drop databases.
inline constexpr char kTestPostgresEnv[] = "SOCLE_TEST_POSTGRES";

// The value of SOCLE_TEST_POSTGRES, or "" when it is unset.
std::string PostgresTestServer();

// Marks the running test skipped (GTEST_SKIP) and returns true when
// SOCLE_TEST_POSTGRES is unset. Call from SetUp or a test body.
bool SkipWithoutPostgres();

// Creates an empty database with a unique name on the test server and
// returns its URL. Every database made so is dropped when the process exits.
absl::StatusOr<std::string> CreateTestDatabase();

// `url` with its database name replaced by `database`.
std::string WithDatabase(const std::string& url, const std::string& database);

// Runs `sql` (no rows expected) on the database at `url`.
absl::Status RunSql(const std::string& url, const std::string& sql);
// Runs `sql` and returns the first column of the first row as text.
absl::StatusOr<std::string> QueryOne(const std::string& url,
                                     const std::string& sql);

// A living person of office PP01 with this national ID, the same otherwise
// for every ID: two of them are possible duplicates of each other.
storage::PersonRecord TestPerson(std::string national_id);

// The PostgreSQL backend of the Store conformance suite: the store whose
// database belongs to `dir`, created (empty) the first time. Opening the same
// `dir` again gives back the same database. When SOCLE_TEST_POSTGRES is unset
// the test is skipped (and a store that refuses every call is returned).
// `keys` seal the personal data (null: storage::KeyRing::ProcessTestKeys()).
std::unique_ptr<storage::Store> OpenPostgresForTest(
    const std::string& dir, std::shared_ptr<const storage::KeyRing> keys = nullptr);

}  // namespace socle::pgtest

#endif  // SOCLE_TESTS_PG_PG_TEST_DATABASE_H_
