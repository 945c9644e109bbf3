// What the PostgreSQL store does when its server vanishes without a word (a
// machine lost, a network partition): calls end with UNAVAILABLE within the
// connections' timeouts instead of waiting on a dead TCP connection, and the
// store resumes on new connections once the server is back. Runs under
// tests/pg/partition_test.sh, which puts the server across a link it can cut
// (SOCLE_TEST_CUT) and mend (SOCLE_TEST_MEND); skipped otherwise.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_store.h"
#include "storage/records.h"
#include "storage/store.h"
#include "tests/pg/pg_test_database.h"

namespace socle::storage {
namespace {

// Short timeouts of the store's side, given in the connection string as an
// operator may: a call waits at most 3 s for unacknowledged data (and a
// quiet connection is probed after 1 s); a new connection 3 s.
constexpr char kShortTimeouts[] =
    "?keepalives_idle=1&keepalives_interval=1&keepalives_count=2"
    "&tcp_user_timeout=3000&connect_timeout=3";

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* cut = std::getenv("SOCLE_TEST_CUT");
    const char* mend = std::getenv("SOCLE_TEST_MEND");
    if (cut == nullptr || mend == nullptr) {
      GTEST_SKIP() << "run by tests/pg/partition_test.sh (SOCLE_TEST_CUT and "
                      "SOCLE_TEST_MEND are unset)";
    }
    if (pgtest::SkipWithoutPostgres()) return;
    cut_ = cut;
    mend_ = mend;
    absl::StatusOr<std::string> url = pgtest::CreateTestDatabase();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  void TearDown() override {
    if (cut_off_) Mend();
  }

  std::unique_ptr<Store> MustOpen(const std::string& conninfo) {
    PgOptions options;
    options.conninfo = conninfo;
    options.pool_size = 1;
    absl::StatusOr<std::unique_ptr<Store>> store = OpenPgStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  void Cut() {
    ASSERT_EQ(std::system(cut_.c_str()), 0) << cut_;
    cut_off_ = true;
  }
  void Mend() {
    ASSERT_EQ(std::system(mend_.c_str()), 0) << mend_;
    cut_off_ = false;
  }

  static absl::Status Register(Store& store, const std::string& national_id) {
    return store.Write(
        [&](Txn& txn) { return txn.InsertPerson(pgtest::TestPerson(national_id)).status(); });
  }
  static absl::Status Find(Store& store, const std::string& national_id) {
    return store.Read(
        [&](ReadTxn& txn) { return txn.GetPersonByNationalId(national_id).status(); });
  }

  std::string cut_, mend_, url_;
  bool cut_off_ = false;
};

TEST_F(PartitionTest, CallsEndWithinTheTimeoutsAndResumeOnceTheServerIsBack) {
  std::unique_ptr<Store> store = MustOpen(url_ + kShortTimeouts);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Register(*store, "N-1").ok());
  ASSERT_TRUE(Find(*store, "N-1").ok());

  Cut();
  absl::Time start = absl::Now();
  absl::Status write = Register(*store, "N-2");
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  // 3 s of tcp_user_timeout; some 15 minutes of retransmissions without it.
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  start = absl::Now();
  absl::Status read = Find(*store, "N-1");
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));

  Mend();
  EXPECT_TRUE(Register(*store, "N-3").ok());
  EXPECT_TRUE(Find(*store, "N-3").ok());
  // The call that got UNAVAILABLE left nothing.
  EXPECT_TRUE(absl::IsNotFound(Find(*store, "N-2")));
}

// Connections left idle while the server was out of reach are found dead
// by their keepalives, on both ends, before anyone needs them: once it is
// back, the next calls connect anew and none of them fails, as after a
// failover that moved the server's address. (Without keepalives on socle's
// end, a call would first try the old connection, which the server has
// dropped, and get UNAVAILABLE.)
TEST_F(PartitionTest, IdleConnectionsTheKeepalivesDroppedAreReplacedUnseen) {
  // The server's end gives up after 3 s as well (its settings given by the
  // client: socle leaves them).
  std::unique_ptr<Store> store = MustOpen(absl::StrCat(
      url_, kShortTimeouts,
      "&options=-c%20tcp_keepalives_idle%3D1%20-c%20tcp_keepalives_interval%3D1"
      "%20-c%20tcp_keepalives_count%3D2%20-c%20tcp_user_timeout%3D3000"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Register(*store, "N-1").ok());
  ASSERT_TRUE(Find(*store, "N-1").ok());
  const int64_t reconnects = GetPgStats(*store).reconnects;

  Cut();
  absl::SleepFor(absl::Seconds(8));  // both ends give up after 3 s
  Mend();
  absl::Status write = Register(*store, "N-2");
  EXPECT_TRUE(write.ok()) << write;
  absl::Status read = Find(*store, "N-2");
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_EQ(GetPgStats(*store).reconnects - reconnects, 2);
}

// socle's own timeouts, with nothing in the connection string: about 30 s.
TEST_F(PartitionTest, AStoresOwnTimeoutsEndACallWithinAMinute) {
  std::unique_ptr<Store> store = MustOpen(url_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Register(*store, "N-1").ok());

  Cut();
  const absl::Time start = absl::Now();
  absl::Status write = Register(*store, "N-2");
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_LT(absl::Now() - start, absl::Seconds(90));
  Mend();
  EXPECT_TRUE(Register(*store, "N-3").ok());
}

// A replica cut off after its group took the writers' lock leaves a
// transaction open on the server, holding the lock. The server's end of the
// connection, which the store gave keepalives, finds the replica gone and
// ends it: another replica's write gets the lock within half a minute, not
// after idle_in_transaction_session_timeout (5 minutes). The other replica
// reaches the server over the link that is not cut.
TEST_F(PartitionTest, AReplicaCutOffHoldingTheWritersLockReleasesIt) {
  const char* uncut_host = std::getenv("SOCLE_TEST_UNCUT_HOST");
  ASSERT_NE(uncut_host, nullptr) << "set by partition_test.sh";
  std::unique_ptr<Store> lost = MustOpen(url_ + kShortTimeouts);
  ASSERT_NE(lost, nullptr);
  // postgresql://user@HOST:port/db: the same database across the other link,
  // waiting up to 90 s for the lock.
  const size_t at = url_.find('@') + 1;
  PgOptions options;
  options.conninfo = absl::StrCat(url_.substr(0, at), uncut_host,
                                  url_.substr(url_.find(':', at)));
  options.pool_size = 1;
  options.lock_timeout_ms = 90'000;
  absl::StatusOr<std::unique_ptr<Store>> other = OpenPgStore(options);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(Register(**other, "N-1").ok());

  absl::Status write = lost->Write([&](Txn& txn) -> absl::Status {
    // Sent with the group's BEGIN and LOCK, and answered: the lock is held.
    absl::StatusOr<PersonRecord> found = txn.GetPersonByNationalId("N-1");
    if (!found.ok()) return found.status();
    Cut();
    return txn.InsertPerson(pgtest::TestPerson("N-2")).status();
  });
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;

  // The link stays cut: the lost replica never says goodbye.
  const absl::Time start = absl::Now();
  absl::Status next = Register(**other, "N-3");
  EXPECT_TRUE(next.ok()) << next << " after " << (absl::Now() - start);
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
  EXPECT_TRUE(absl::IsNotFound(Find(**other, "N-2")));
}

}  // namespace
}  // namespace socle::storage
