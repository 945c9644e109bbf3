// What only the PostgreSQL backend promises: opening errors, migrations under
// an advisory lock, several stores (replicas) on one database, retries after
// serialization failures, connection loss. The Store contracts themselves are
// checked by tests/storage/store_conformance_test.cc.
#include "storage/postgres/pg_store.h"

#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/records.h"
#include "storage/store.h"
#include "tests/pg/pg_test_database.h"

namespace socle::storage {
namespace {

using ::socle::pgtest::CreateTestDatabase;
using ::socle::pgtest::QueryOne;
using ::socle::pgtest::RunSql;
using ::socle::pgtest::SkipWithoutPostgres;
using ::socle::pgtest::TestPerson;
using ::testing::HasSubstr;
using ::testing::Not;

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

// Appends an audit entry after the head of the trail, as the logic chains
// its entries: its hash is "h<seq>-<subject>" ("h<seq>" without a subject).
absl::Status AppendChained(Txn& txn, const std::string& subject,
                           const std::string& action = "") {
  AuditRecord entry;
  absl::StatusOr<AuditRecord> head = txn.LastAudit();
  if (head.ok()) {
    entry.seq = head->seq + 1;
    entry.prev_hash = head->hash;
  } else if (absl::IsNotFound(head.status())) {
    entry.seq = 1;
  } else {
    return head.status();
  }
  entry.hash = subject.empty() ? absl::StrCat("h", entry.seq)
                               : absl::StrCat("h", entry.seq, "-", subject);
  entry.subject = subject;
  entry.action = action;
  return txn.AppendAudit(entry);
}

// Runs `calls` on `store` from a thread each, calls[1..] queued while
// calls[0] holds the writer (it runs `hold` first), so that they make one
// group after it; their statuses, in order.
std::vector<absl::Status> RunAsOneGroup(
    Store& store, const std::vector<std::function<absl::Status(Txn&)>>& calls) {
  Signal entered, release;
  std::vector<absl::Status> statuses(calls.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = store.Write([&](Txn& txn) {
        if (i == 0) {
          entered.Notify();
          release.Wait();
        }
        return calls[i](txn);
      });
    });
    if (i == 0) {
      entered.Wait();
    } else {
      while (GetPgStats(store).queued < static_cast<int64_t>(i)) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  }
  release.Notify();
  for (std::thread& t : threads) t.join();
  return statuses;
}

// What the writer sent while `call` ran: its round trips, and the lookups
// it had answered ahead (PgStoreStats).
struct WriterTraffic {
  int64_t round_trips = 0;
  int64_t answered_ahead = 0;
};
WriterTraffic WriterTrafficOf(const Store& store, const std::function<void()>& call) {
  const PgStoreStats before = GetPgStats(store);
  call();
  const PgStoreStats after = GetPgStats(store);
  return {after.writer_round_trips - before.writer_round_trips,
          after.answered_ahead - before.answered_ahead};
}

// Opens the OLD_AGE cycle of November 2026 (its lines: the programme's
// active enrolments).
absl::StatusOr<CycleRecord> OpenNovemberCycle(Txn& txn) {
  CycleRecord c;
  c.programme_code = "OLD_AGE";
  c.period = "2026-11";
  c.status = 1;
  c.opened_at = absl::FromUnixSeconds(1'780'000'000);
  return txn.InsertCycle(c, absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 11, 30));
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SkipWithoutPostgres()) return;
    absl::StatusOr<std::string> url = CreateTestDatabase();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }

  absl::StatusOr<std::unique_ptr<Store>> Open(int pool_size = 4) {
    PgOptions options;
    options.conninfo = url_;
    options.pool_size = pool_size;
    return OpenPgStore(options);
  }

  std::unique_ptr<Store> MustOpen(int pool_size = 4) {
    absl::StatusOr<std::unique_ptr<Store>> store = Open(pool_size);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string url_;
};

TEST_F(PgStoreTest, RejectsBadOptions) {
  PgOptions options;
  EXPECT_EQ(OpenPgStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.conninfo = url_;
  options.pool_size = 0;
  EXPECT_EQ(OpenPgStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.pool_size = 1;
  options.max_attempts = 0;
  EXPECT_EQ(OpenPgStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // libpq refuses the string before connecting.
  options.max_attempts = 1;
  options.conninfo = "postgresql://127.0.0.1/x?no_such_parameter=1";
  EXPECT_EQ(OpenPgStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PgStoreTest, UnreachableServerIsUnavailableAndThePasswordStaysSecret) {
  PgOptions options;
  // Port 1 on loopback: nobody listens.
  options.conninfo = "postgresql://socle:s3cr3t-pw@127.0.0.1:1/socle";
  options.connect_timeout_s = 5;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPgStore(options);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kUnavailable)
      << store.status();
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("127.0.0.1:1"));
}

// "1,2,...,N" for the N migrations of this program.
std::string AllVersions() {
  std::vector<int> versions;
  for (int v = 1; v <= pg_internal::LatestSchemaVersion(); ++v) {
    versions.push_back(v);
  }
  return absl::StrJoin(versions, ",");
}

TEST_F(PgStoreTest, MigrationsAreRecordedOnce) {
  ASSERT_GE(pg_internal::LatestSchemaVersion(), 3);  // 3: payments
  { ASSERT_NE(MustOpen(), nullptr); }
  absl::StatusOr<std::string> versions =
      QueryOne(url_, "SELECT string_agg(version::text, ',' ORDER BY version)"
                     " FROM schema_migrations");
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(*versions, AllVersions());
  { ASSERT_NE(MustOpen(), nullptr); }
  absl::StatusOr<std::string> count =
      QueryOne(url_, "SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, absl::StrCat(pg_internal::LatestSchemaVersion()));
}

TEST_F(PgStoreTest, ReplicasStartingAtOnceMigrateOnce) {
  constexpr int kReplicas = 6;
  std::vector<absl::Status> statuses(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Open(1).status(); });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<std::string> count =
      QueryOne(url_, "SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, absl::StrCat(pg_internal::LatestSchemaVersion()));
}

TEST_F(PgStoreTest, NewerSchemaIsRefused) {
  { ASSERT_NE(MustOpen(), nullptr); }
  ASSERT_TRUE(
      RunSql(url_, "INSERT INTO schema_migrations (version) VALUES (999)").ok());
  absl::StatusOr<std::unique_ptr<Store>> store = Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("999"));
}

// The store draws ids from the identity sequences by name: a database where
// another relation had taken one of those names first is refused at open,
// not given ids from the wrong sequence.
TEST_F(PgStoreTest, IdentitySequencesNamedOtherwiseAreRefused) {
  ASSERT_TRUE(RunSql(url_, "CREATE SEQUENCE payments_id_seq").ok());
  absl::StatusOr<std::unique_ptr<Store>> store = Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("payments_id_seq"));
}

TEST_F(PgStoreTest, WriteInsideWriteIsRefused) {
  std::unique_ptr<Store> store = MustOpen();
  ASSERT_NE(store, nullptr);
  absl::Status inner;
  absl::Status outer = store->Write([&](Txn&) {
    inner = store->Write([](Txn&) { return absl::OkStatus(); });
    return absl::OkStatus();
  });
  EXPECT_TRUE(outer.ok()) << outer;
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition) << inner;
}

// Two stores on one database are two replicas: their writers take turns, so
// that the audit chain stays gap-free and a national ID checked as free is
// still free when it is inserted.
// Personal data at rest: what PostgreSQL holds is sealed (storage/keys.h).
// Planted values are searched for in every column of persons and requests,
// as text and as bytes.
TEST_F(PgStoreTest, PersonalDataIsNotStoredInPlaintext) {
  std::unique_ptr<Store> store = MustOpen();
  ASSERT_NE(store, nullptr);
  const std::string kPlantedId = "ZQ-PLANT-7301945";
  const std::string kPlantedFacts = "income=987654321;disability=certified-PLANT";
  absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
    PersonRecord p = TestPerson(kPlantedId);
    p.facts = kPlantedFacts;
    RETURN_IF_ERROR(txn.InsertPerson(p).status());
    RequestRecord r;
    r.request_id = "plant-1";
    r.method = "/socle.v1.Registry/RegisterPerson";
    r.request = "request with " + kPlantedId + " " + kPlantedFacts;
    r.response = "answer with " + kPlantedId;
    return txn.PutRequest(r);
  });
  ASSERT_TRUE(s.ok()) << s;
  // Still found and read back through the store.
  s = store->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord got, txn.GetPersonByNationalId(kPlantedId));
    EXPECT_EQ(got.facts, kPlantedFacts);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  for (const std::string& needle : {std::string("PLANT"), std::string("7301945"),
                                    std::string("987654321")}) {
    const std::string bytes = absl::StrCat("convert_to('", needle, "', 'UTF8')");
    for (const std::string& sql :
         {absl::StrCat("SELECT count(*) FROM persons p WHERE p::text LIKE '%", needle,
                       "%' OR position(", bytes, " IN coalesce(p.national_id_sealed, ''))"
                       " > 0 OR position(", bytes, " IN p.facts) > 0"
                       " OR position(", bytes, " IN coalesce(p.national_id_index, '')) > 0"),
          absl::StrCat("SELECT count(*) FROM requests r WHERE r::text LIKE '%", needle,
                       "%' OR position(", bytes, " IN r.request) > 0 OR position(", bytes,
                       " IN r.response) > 0")}) {
      absl::StatusOr<std::string> found = QueryOne(url_, sql);
      ASSERT_TRUE(found.ok()) << found.status();
      EXPECT_EQ(*found, "0") << needle << ": " << sql;
    }
  }
  absl::StatusOr<std::string> plain =
      QueryOne(url_, "SELECT count(*) FROM persons WHERE national_id IS NOT NULL"
                     " OR national_id_index IS NULL OR NOT sealed");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "0");
}

TEST_F(PgStoreTest, TwoReplicasKeepOneChainAndOnePersonPerNationalId) {
  std::unique_ptr<Store> replicas[2] = {MustOpen(), MustOpen()};
  ASSERT_NE(replicas[0], nullptr);
  ASSERT_NE(replicas[1], nullptr);
  constexpr int kThreadsPerReplica = 6;
  constexpr int kIds = 40;
  std::atomic<int> failures{0}, inserted{0}, found{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < kThreadsPerReplica; ++t) {
      threads.emplace_back([&, r, t] {
        Store& store = *replicas[r];
        for (int i = 0; i < kIds; ++i) {
          // Every thread of both replicas registers the same national IDs,
          // starting at different places.
          const std::string nid =
              absl::StrCat("N-", (i + t * 7) % kIds);
          bool was_new = false;
          absl::Status s = store.Write([&](Txn& txn) -> absl::Status {
            was_new = false;
            auto existing = txn.GetPersonByNationalId(nid);
            if (existing.ok()) return absl::OkStatus();
            if (!absl::IsNotFound(existing.status())) return existing.status();
            RETURN_IF_ERROR(txn.InsertPerson(TestPerson(nid)).status());
            RETURN_IF_ERROR(AppendChained(txn, /*subject=*/"", "RegisterPerson"));
            was_new = true;
            return absl::OkStatus();
          });
          if (!s.ok()) {
            ++failures;
            ADD_FAILURE() << s;
          } else if (was_new) {
            ++inserted;
          } else {
            ++found;
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(inserted.load(), kIds);
  EXPECT_EQ(found.load(), 2 * kThreadsPerReplica * kIds - kIds);

  absl::Status s = replicas[1]->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<AuditRecord> chain, txn.ListAudit(0, 1000));
    EXPECT_EQ(chain.size(), static_cast<size_t>(kIds));
    for (size_t i = 0; i < chain.size(); ++i) {
      EXPECT_EQ(chain[i].seq, static_cast<int64_t>(i) + 1);
      EXPECT_EQ(chain[i].prev_hash, i == 0 ? "" : absl::StrCat("h", i));
    }
    ASSIGN_OR_RETURN(std::vector<PersonRecord> persons,
                     txn.ListPersons(0, 1000));
    EXPECT_EQ(persons.size(), static_cast<size_t>(kIds));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

// A transaction outside the store (an operator's script) that makes a Write
// non-serializable: the Write fails with a serialization failure, is run
// again, and then sees the other transaction's data.
TEST_F(PgStoreTest, SerializationFailureRunsTheWriteAgain) {
  std::unique_ptr<Store> store = MustOpen();
  ASSERT_NE(store, nullptr);
  Signal read_done, other_committed;
  std::atomic<int> runs{0};
  absl::Status other_status;
  std::thread other([&] {
    read_done.Wait();
    // Reads what the Write will write, writes what the Write has read.
    other_status = RunSql(
        url_,
        "BEGIN ISOLATION LEVEL SERIALIZABLE;"
        " SELECT count(*) FROM audit;"
        " INSERT INTO requests VALUES ('other', 'm', '', '', now());"
        " COMMIT");
    other_committed.Notify();
  });
  bool saw_other = false;
  absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
    const int run = ++runs;
    saw_other = txn.GetRequest("other").ok();
    if (run == 1) {
      read_done.Notify();
      other_committed.Wait();
    }
    AuditRecord entry;
    entry.seq = 1;
    entry.hash = "h1";
    return txn.AppendAudit(entry);
  });
  other.join();
  ASSERT_TRUE(other_status.ok()) << other_status;
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(runs.load(), 2);
  EXPECT_TRUE(saw_other);
  EXPECT_GE(GetPgStats(*store).retries, 1);
  absl::StatusOr<std::string> audit = QueryOne(url_, "SELECT count(*) FROM audit");
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(*audit, "1");
}

// Terminates every connection of the stores on `url` and waits until they
// are gone; returns how many there were.
int KillStoreConnections(const std::string& url) {
  absl::StatusOr<std::string> killed = QueryOne(
      url,
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))"
      " FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid() AND application_name = 'socle'");
  EXPECT_TRUE(killed.ok()) << killed.status();
  return killed.ok() ? std::stoi(*killed) : -1;
}

// A read's BEGIN travels with its first statement, and its ROLLBACK is not
// waited for: what CheckEligibility reads (the person, their membership,
// their enrolments, announced ahead) takes one round trip, where BEGIN and
// ROLLBACK once took one each. A read that runs no statement takes none.
TEST_F(PgStoreTest, AReadOfLookupsAnnouncedAheadTakesOneRoundTrip) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  int64_t id = 0;
  ASSERT_TRUE(store->Write([&](Txn& txn) -> absl::Status {
                ASSIGN_OR_RETURN(id, txn.InsertPerson(TestPerson("N-1")));
                return absl::OkStatus();
              }).ok());
  Lookahead ahead;
  ahead.person_id = id;
  ahead.membership_of = id;
  ahead.enrolments_of = id;
  auto check = [&](ReadTxn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    ASSIGN_OR_RETURN(PersonRecord person, txn.GetPerson(id));
    EXPECT_EQ(person.national_id, "N-1");
    EXPECT_TRUE(absl::IsNotFound(txn.GetMembership(id).status()));
    ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> enrolments,
                     txn.ListEnrolmentsByPerson(id));
    EXPECT_TRUE(enrolments.empty());
    return absl::OkStatus();
  };
  // The first prepares the statements.
  ASSERT_TRUE(store->Read(check).ok());
  int64_t before = GetPgStats(*store).reader_round_trips;
  ASSERT_TRUE(store->Read(check).ok());
  EXPECT_EQ(GetPgStats(*store).reader_round_trips - before, 1);

  before = GetPgStats(*store).reader_round_trips;
  EXPECT_EQ(store->Read([](ReadTxn&) { return absl::NotFoundError("none"); }),
            absl::NotFoundError("none"));
  EXPECT_EQ(GetPgStats(*store).reader_round_trips - before, 0);
  // And the connection is left as it was: the next read sees the person.
  ASSERT_TRUE(store->Read(check).ok());
}

// A connection lost while idle in the pool (the server restarted, or an
// administrator closed it) is noticed when next used, before anything ran:
// the store reconnects and the call goes through.
TEST_F(PgStoreTest, ConnectionsLostWhileIdleAreReplaced) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Write([](Txn& txn) {
                return txn.InsertPerson(TestPerson("N-1")).status();
              }).ok());
  ASSERT_TRUE(store->Read([](ReadTxn& txn) {
                return txn.GetPersonByNationalId("N-1").status();
              }).ok());
  EXPECT_EQ(KillStoreConnections(url_), 2);

  absl::Status s = store->Write([](Txn& txn) {
    return txn.InsertPerson(TestPerson("N-2")).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  s = store->Read([](ReadTxn& txn) {
    return txn.GetPersonByNationalId("N-2").status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetPgStats(*store).reconnects, 2);
}

// The server's end of each connection probes a quiet client and gives up on
// unacknowledged data as the store's end does (Connection::Open), unless
// the server's configuration set them: a replica lost while holding the
// writers' lock frees it in half a minute (pg_partition_test shows it).
TEST_F(PgStoreTest, SessionsGetKeepalivesUnlessTheServerChoseItsOwn) {
  using pg_internal::Connection;
  using pg_internal::Result;
  auto settings = [](const std::string& url) -> std::string {
    absl::StatusOr<std::unique_ptr<Connection>> conn =
        Connection::Open(url, /*connect_timeout_s=*/5, /*lock_timeout_ms=*/1000);
    if (!conn.ok()) return conn.status().ToString();
    absl::StatusOr<Result> shown = (*conn)->Query(
        "SELECT concat_ws(',', current_setting('tcp_keepalives_idle'),"
        " current_setting('tcp_keepalives_interval'),"
        " current_setting('tcp_keepalives_count'),"
        " current_setting('tcp_user_timeout'))",
        {"show"});
    if (!shown.ok()) return shown.status().ToString();
    return PQgetvalue(shown->get(), 0, 0);
  };
  absl::StatusOr<std::string> tcp = QueryOne(url_, "SELECT inet_server_addr() IS NOT NULL");
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  if (*tcp != "t") GTEST_SKIP() << "the test server is reached by a Unix socket";

  EXPECT_EQ(settings(url_), "10,5,3,30000");
  // Chosen for the database: kept.
  const std::string database = url_.substr(url_.rfind('/') + 1);
  ASSERT_TRUE(RunSql(url_, absl::StrCat("ALTER DATABASE \"", database,
                                        "\" SET tcp_keepalives_idle = 60")).ok());
  EXPECT_EQ(settings(url_), "60,5,3,30000");
}

// A connection lost in the middle of a transaction fails the call with
// UNAVAILABLE (nothing of a Write is kept) and is replaced for the next one.
TEST_F(PgStoreTest, ConnectionsLostDuringACallAreUnavailable) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Write([](Txn& txn) {
                return txn.InsertPerson(TestPerson("N-1")).status();
              }).ok());

  absl::Status in_fn;
  absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.InsertPerson(TestPerson("N-2")).status());
    KillStoreConnections(url_);
    in_fn = txn.InsertPerson(TestPerson("N-3")).status();
    return in_fn;
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(in_fn.code(), absl::StatusCode::kUnavailable) << in_fn;
  EXPECT_THAT(std::string(in_fn.message()), Not(HasSubstr("INSERT")));

  s = store->Read([&](ReadTxn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.GetPersonByNationalId("N-1").status());
    KillStoreConnections(url_);
    return txn.GetPersonByNationalId("N-1").status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;

  // Replaced: N-2 was not kept, N-1 is still there.
  s = store->Read([](ReadTxn& txn) -> absl::Status {
    EXPECT_EQ(txn.GetPersonByNationalId("N-2").status().code(),
              absl::StatusCode::kNotFound);
    return txn.GetPersonByNationalId("N-1").status();
  });
  EXPECT_TRUE(s.ok()) << s;
  s = store->Write([](Txn& txn) {
    return txn.InsertPerson(TestPerson("N-2")).status();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(PgStoreTest, GroupCommitCommitsSeveralCallsAtOnce) {
  std::unique_ptr<Store> store = MustOpen();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16, kPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = store->Write([&](Txn& txn) {
          return txn.InsertPerson(TestPerson(absl::StrCat("G", t, "-", i)))
              .status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  PgStoreStats stats = GetPgStats(*store);
  EXPECT_EQ(stats.writes, kThreads * kPerThread);
  EXPECT_GE(stats.commits, 1);
  EXPECT_LE(stats.commits, stats.writes);
}

// The calls of one group succeed or fail alone, whatever they ran: none,
// guarded or unguarded statements, an error of their own or one swallowed
// that failed the transaction. A failed call leaves nothing (not its audit
// entry either: the next call chains after the last entry kept).
TEST_F(PgStoreTest, CallsOfOneGroupSucceedOrFailAlone) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  // Appends an entry after the head of the trail, then inserts a person.
  auto chained = [](Txn& txn, const std::string& national_id) -> absl::Status {
    RETURN_IF_ERROR(AppendChained(txn, national_id));
    return txn.InsertPerson(TestPerson(national_id)).status();
  };
  int64_t cycle_id = 0;
  ASSERT_TRUE(store
                  ->Write([&](Txn& txn) -> absl::Status {
                    ASSIGN_OR_RETURN(CycleRecord c, OpenNovemberCycle(txn));
                    cycle_id = c.id;
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::function<absl::Status(Txn&)>> calls = {
      // 0: holds the writer until every other call is queued.
      [&](Txn& txn) { return chained(txn, "A"); },
      // 1, 2: no statement.
      [](Txn&) { return absl::InvalidArgumentError("refused"); },
      [](Txn&) { return absl::OkStatus(); },
      // 3: national ID taken (a guarded statement): its entry is undone.
      [&](Txn& txn) { return chained(txn, "A"); },
      // 4: chains after A's entry.
      [&](Txn& txn) { return chained(txn, "B"); },
      // 5: an unguarded statement fails the transaction; the error is
      // swallowed, the call fails all the same.
      [&](Txn& txn) {
        (void)chained(txn, "C");
        std::vector<PersonRecord> taken = {TestPerson("B")};
        (void)txn.InsertPersons(taken);
        return absl::OkStatus();
      },
      // 6: chains after B's entry.
      [&](Txn& txn) { return chained(txn, "D"); },
      // 7: closes the cycle, then fails: the cycle stays open.
      [&](Txn& txn) -> absl::Status {
        ASSIGN_OR_RETURN(CycleRecord c, txn.GetCycle(cycle_id));
        c.status = 2;
        c.closed_at = absl::FromUnixSeconds(1'790'000'000);
        RETURN_IF_ERROR(txn.UpdateCycle(c));
        ASSIGN_OR_RETURN(c, txn.GetCycle(cycle_id));
        return absl::AbortedError(absl::StrCat("status ", c.status));
      },
      // 8: sees it open.
      [&](Txn& txn) -> absl::Status {
        ASSIGN_OR_RETURN(CycleRecord c, txn.GetCycle(cycle_id));
        return absl::OutOfRangeError(absl::StrCat("status ", c.status));
      },
  };
  const PgStoreStats before = GetPgStats(*store);
  const std::vector<absl::Status> statuses = RunAsOneGroup(*store, calls);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_EQ(statuses[3].code(), absl::StatusCode::kAlreadyExists) << statuses[3];
  EXPECT_TRUE(statuses[4].ok()) << statuses[4];
  // The transaction failed under a call that said OK: the call gets the
  // error that failed it, the COPY's.
  EXPECT_EQ(statuses[5].code(), absl::StatusCode::kAlreadyExists) << statuses[5];
  EXPECT_THAT(statuses[5].message(), HasSubstr("national ID already registered"));
  EXPECT_TRUE(statuses[6].ok()) << statuses[6];
  EXPECT_EQ(statuses[7], absl::AbortedError("status 2"));
  EXPECT_EQ(statuses[8], absl::OutOfRangeError("status 1"));
  const PgStoreStats after = GetPgStats(*store);
  EXPECT_EQ(after.writes - before.writes, static_cast<int64_t>(calls.size()));
  // Calls 1..8 were queued before call 0 ended: one group after it.
  EXPECT_LE(after.commits - before.commits, 2);

  absl::StatusOr<std::string> trail = QueryOne(
      url_, "SELECT string_agg(seq || ' ' || prev_hash || ' ' || hash, ', '"
            " ORDER BY seq) FROM audit");
  ASSERT_TRUE(trail.ok()) << trail.status();
  EXPECT_EQ(*trail, "1  h1-A, 2 h1-A h2-B, 3 h2-B h3-D");
  absl::StatusOr<std::string> persons = QueryOne(url_, "SELECT count(*) FROM persons");
  ASSERT_TRUE(persons.ok()) << persons.status();
  EXPECT_EQ(*persons, "3");
}

// The writer sends a call's audit entry and stored answer with the next
// round trip (Connection::DeferWrite). One that fails anyway (here: a request
// id stored twice in one group, which the logic's GetRequest would have
// caught) makes the group run again with writes sent at once: the call it
// belongs to fails alone, with its own error, and the others are committed.
TEST_F(PgStoreTest, AFailedDeferredWriteFailsOnlyItsOwnCall) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  // Appends an entry after the head of the trail, then stores `request_id`.
  auto audited_request = [](Txn& txn, const std::string& request_id) -> absl::Status {
    RETURN_IF_ERROR(AppendChained(txn, request_id));
    RequestRecord request;
    request.request_id = request_id;
    request.method = "/test/Method";
    request.request = "request";
    request.response = "response";
    request.created_at = absl::FromUnixSeconds(1'780'000'000);
    return txn.PutRequest(request);
  };
  std::vector<std::function<absl::Status(Txn&)>> calls = {
      // 0: holds the writer until every other call is queued.
      [&](Txn& txn) { return audited_request(txn, "r0"); },
      [&](Txn& txn) { return audited_request(txn, "r1"); },
      // 2: r1 again: fails, and its entry with it.
      [&](Txn& txn) { return audited_request(txn, "r1"); },
      // 3: chains after r1's entry; its writes travel with the COMMIT.
      [&](Txn& txn) { return audited_request(txn, "r3"); },
  };
  const PgStoreStats before = GetPgStats(*store);
  const std::vector<absl::Status> statuses = RunAsOneGroup(*store, calls);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kAlreadyExists) << statuses[2];
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];
  const PgStoreStats after = GetPgStats(*store);
  // Calls 1..3 ran as one group, and that group ran twice.
  EXPECT_EQ(after.undeferred_reruns - before.undeferred_reruns, 1);
  EXPECT_EQ(after.retries - before.retries, 0);
  EXPECT_LE(after.commits - before.commits, 2);

  absl::StatusOr<std::string> trail = QueryOne(
      url_, "SELECT string_agg(seq || ' ' || prev_hash || ' ' || hash, ', '"
            " ORDER BY seq) FROM audit");
  ASSERT_TRUE(trail.ok()) << trail.status();
  EXPECT_EQ(*trail, "1  h1-r0, 2 h1-r0 h2-r1, 3 h2-r1 h3-r3");
  absl::StatusOr<std::string> requests = QueryOne(
      url_, "SELECT string_agg(request_id, ',' ORDER BY request_id) FROM requests");
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_EQ(*requests, "r0,r1,r3");

  // Later groups defer their writes again.
  ASSERT_TRUE(store->Write([&](Txn& txn) { return audited_request(txn, "r4"); }).ok());
  EXPECT_EQ(GetPgStats(*store).undeferred_reruns, after.undeferred_reruns);
  trail = QueryOne(url_, "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1");
  ASSERT_TRUE(trail.ok()) << trail.status();
  EXPECT_EQ(*trail, "h4-r4");
}

// A registration's lookups, announced ahead (ReadTxn::Prefetch), travel in
// one round trip with the group's BEGIN, and its insert, audit entry and
// stored answer with the COMMIT: two round trips for the call, where
// BEGIN, each lookup, the id and the insert once took one of their own.
TEST_F(PgStoreTest, ARegistrationTakesTwoRoundTrips) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  auto register_person = [&](const std::string& national_id) -> absl::StatusOr<int64_t> {
    const PersonRecord person = TestPerson(national_id);
    Lookahead ahead;
    ahead.request_id = national_id;
    ahead.national_id = national_id;
    ahead.duplicates =
        DuplicateKey{person.name_key, person.date_of_birth, person.district_key};
    ahead.inserts_person = true;
    ahead.appends_audit = true;
    int64_t id = 0;
    absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
      txn.Prefetch(ahead);
      EXPECT_TRUE(absl::IsNotFound(txn.GetRequest(national_id).status()));
      EXPECT_TRUE(absl::IsNotFound(txn.GetPersonByNationalId(national_id).status()));
      ASSIGN_OR_RETURN(std::vector<PersonRecord> duplicates,
                       txn.FindPossibleDuplicates(person.name_key, person.date_of_birth,
                                                  person.district_key));
      EXPECT_EQ(duplicates.size(), national_id == "N-1" ? 0u : 1u);
      ASSIGN_OR_RETURN(id, txn.InsertPerson(person));
      RETURN_IF_ERROR(AppendChained(txn, national_id));
      RequestRecord request;
      request.request_id = national_id;
      request.method = "/test/Register";
      request.created_at = person.registered_at;
      return txn.PutRequest(request);
    });
    RETURN_IF_ERROR(s);
    return id;
  };
  // The first prepares the statements.
  absl::StatusOr<int64_t> first = register_person("N-1");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<int64_t> second;
  const WriterTraffic traffic =
      WriterTrafficOf(*store, [&] { second = register_person("N-2"); });
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(traffic.round_trips, 2);
  // The request, the national ID, the duplicates, the id and the head.
  EXPECT_EQ(traffic.answered_ahead, 5);
  EXPECT_EQ(GetPgStats(*store).undeferred_reruns, 0);

  ASSERT_TRUE(store
                  ->Read([&](ReadTxn& txn) -> absl::Status {
                    ASSIGN_OR_RETURN(PersonRecord p, txn.GetPersonByNationalId("N-2"));
                    EXPECT_EQ(p.id, *second);
                    EXPECT_GT(*second, *first);
                    ASSIGN_OR_RETURN(AuditRecord head, txn.LastAudit());
                    EXPECT_EQ(head.hash, "h2-N-2");
                    return txn.GetRequest("N-2").status();
                  })
                  .ok());
}

// A payment's key, line, person, id and the audit head travel in one round
// trip, and the insert, which the reads of its key, cycle, line and person
// made safe, with the COMMIT. An insert the reads did not cover (no key
// looked up) runs at once, so that the caller sees its error.
TEST_F(PgStoreTest, APaymentCheckedByItsReadsIsSentWithTheCommit) {
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  int64_t cycle_id = 0, person_id = 0, line_id = 0;
  ASSERT_TRUE(store
                  ->Write([&](Txn& txn) -> absl::Status {
                    ASSIGN_OR_RETURN(person_id, txn.InsertPerson(TestPerson("P-1")));
                    EnrolmentRecord e;
                    e.person_id = person_id;
                    e.programme_code = "OLD_AGE";
                    e.office_code = "PP01";
                    e.status = 1;  // active
                    e.start_date = absl::CivilDay(2026, 1, 1);
                    e.amount_minor = 100'000;
                    e.currency = "KHR";
                    e.version = 1;
                    RETURN_IF_ERROR(txn.InsertEnrolment(e).status());
                    ASSIGN_OR_RETURN(CycleRecord c, OpenNovemberCycle(txn));
                    cycle_id = c.id;
                    ASSIGN_OR_RETURN(std::vector<LineRecord> lines,
                                     txn.ListLines(c.id, "", 0, 10));
                    if (lines.size() != 1) return absl::InternalError("no line");
                    line_id = lines[0].id;
                    return AppendChained(txn, "setup");
                  })
                  .ok());
  auto payment = [&](const std::string& key) {
    PaymentRecord p;
    p.idempotency_key = key;
    p.cycle_id = cycle_id;
    p.line_id = line_id;
    p.person_id = person_id;
    p.programme_code = "OLD_AGE";
    p.period = "2026-11";
    p.office_code = "PP01";
    p.amount_minor = 100;
    p.currency = "KHR";
    p.channel = 1;
    p.paid_at = absl::FromUnixSeconds(1'780'000'000);
    p.recorded_at = p.paid_at;
    p.recorded_by = "test";
    return p;
  };
  auto pay = [&](const std::string& key) -> absl::StatusOr<int64_t> {
    Lookahead ahead;
    ahead.payment_key = key;
    ahead.line_id = line_id;
    ahead.person_of_line = line_id;
    ahead.inserts_payment = true;
    ahead.appends_audit = true;
    int64_t id = 0;
    absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
      txn.Prefetch(ahead);
      EXPECT_TRUE(absl::IsNotFound(txn.GetPaymentByKey(key).status()));
      ASSIGN_OR_RETURN(LineRecord line, txn.GetLine(line_id));
      RETURN_IF_ERROR(txn.GetCycle(line.cycle_id).status());
      RETURN_IF_ERROR(txn.GetPerson(line.person_id).status());
      ASSIGN_OR_RETURN(id, txn.InsertPayment(payment(key)));
      return AppendChained(txn, key);
    });
    RETURN_IF_ERROR(s);
    return id;
  };
  absl::StatusOr<int64_t> first = pay("k-1");  // prepares the statements
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<int64_t> second;
  const WriterTraffic traffic = WriterTrafficOf(*store, [&] { second = pay("k-2"); });
  ASSERT_TRUE(second.ok()) << second.status();
  // BEGIN with the lookups, the cycle (kept for the rest of a group),
  // COMMIT.
  EXPECT_EQ(traffic.round_trips, 3);
  // The key, the line, the person, the id and the head.
  EXPECT_EQ(traffic.answered_ahead, 5);
  EXPECT_GT(*second, *first);
  absl::StatusOr<std::string> stored =
      QueryOne(url_, absl::StrCat("SELECT idempotency_key FROM payments WHERE id = ", *second));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, "k-2");

  // Not looked up: the taken key fails the insert itself, at once, and the
  // call goes on.
  absl::Status s = store->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.GetCycle(cycle_id).status());
    RETURN_IF_ERROR(txn.GetLine(line_id).status());
    RETURN_IF_ERROR(txn.GetPerson(person_id).status());
    EXPECT_EQ(txn.InsertPayment(payment("k-2")).status().code(),
              absl::StatusCode::kAlreadyExists);
    return txn.InsertPayment(payment("k-3")).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetPgStats(*store).undeferred_reruns, 0);
  stored = QueryOne(url_, "SELECT string_agg(idempotency_key, ',' ORDER BY id) FROM payments");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, "k-1,k-2,k-3");
}

// A statement first prepared while its table was empty is prepared again as
// the table grows: its plan follows the table's size instead of keeping the
// one made for an empty table (a sequential scan of the whole audit trail to
// read its head, on every write).
TEST_F(PgStoreTest, StatementsArePlannedAgainAsTheirTablesGrow) {
  using pg_internal::Connection;
  using pg_internal::Params;
  using pg_internal::Result;
  using pg_internal::Sql;
  { ASSERT_NE(MustOpen(/*pool_size=*/1), nullptr); }  // migrated
  // Known to be empty, as after a VACUUM ANALYZE of a new database.
  ASSERT_TRUE(RunSql(url_, "VACUUM ANALYZE audit").ok());
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(url_, /*connect_timeout_s=*/5, /*lock_timeout_ms=*/1000);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const absl::Time at = absl::FromUnixSeconds(1'790'000'000);
  for (int64_t seq = 1; seq <= 600; ++seq) {
    Params p;
    p.Int8(seq);
    p.Time(at, "at");
    for (const char* text : {"admin:x", "PP01", "Test", "subject",
                             "details of the entry, as long as they come",
                             "0123456789abcdef0123456789abcdef", "hash"}) {
      p.Text(text);
    }
    ASSERT_TRUE((*conn)->Exec(Sql::kAppendAudit, p, {"append"}).ok());
    absl::StatusOr<Result> head = (*conn)->Exec(Sql::kLastAudit, Params(), {"head"});
    ASSERT_TRUE(head.ok()) << head.status();
    ASSERT_EQ(PQntuples(head->get()), 1);
    ASSERT_EQ(pg_internal::Row(head->get(), 0).Int8(0), seq);
  }
  // Prepared at the 1st, 65th and 513th executions.
  absl::StatusOr<Result> names = (*conn)->Query(
      "SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements",
      {"list"});
  ASSERT_TRUE(names.ok()) << names.status();
  const std::string last = absl::StrCat("s", static_cast<int>(Sql::kLastAudit));
  const std::string append = absl::StrCat("s", static_cast<int>(Sql::kAppendAudit));
  EXPECT_EQ(std::string(PQgetvalue(names->get(), 0, 0)),
            absl::StrCat(append, ",", append, "g1,", append, "g2,", last, ",",
                         last, "g1,", last, "g2"));
  absl::StatusOr<Result> plan = (*conn)->Query(
      absl::StrCat("EXPLAIN EXECUTE ", last, "g2").c_str(), {"explain"});
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::string text;
  for (int i = 0; i < PQntuples(plan->get()); ++i) {
    absl::StrAppend(&text, PQgetvalue(plan->get(), i, 0), "\n");
  }
  EXPECT_THAT(text, HasSubstr("audit_pkey")) << text;
  EXPECT_THAT(text, Not(HasSubstr("Seq Scan"))) << text;
}

// The payment statements as the store prepares them (SqlText), planned on
// a database of some size with statistics: every hot statement reads
// through the index that keeps it proportional to what it returns (a plan
// that scans payments or lines, or sorts a cycle's lines for each page,
// turns a month's reconciliation of a million lines from seconds into
// hours). Each statement is planned both ways PostgreSQL runs a prepared
// statement: custom plans (the first executions) and the generic plan.
TEST_F(PgStoreTest, PaymentStatementsUseTheirIndexes) {
  using pg_internal::Sql;
  using pg_internal::SqlText;
  std::unique_ptr<Store> store = MustOpen(/*pool_size=*/1);
  ASSERT_NE(store, nullptr);
  // 8000 persons in 20 offices, each enrolled in OLD_AGE, one in 50 in
  // CHILD too; cycles of both programmes for twelve months; every line of
  // eleven months paid, one payment in 100 reversed.
  ASSERT_TRUE(RunSql(url_, R"sql(
INSERT INTO persons (version, national_id, given_name, family_name, sex,
  date_of_birth, province, district, commune, village, street, phone,
  office_code, name_key, district_key, facts, duplicate_override_reason,
  registered_at, updated_at)
SELECT 1, NULL, 'G', 'F', 1, date '1950-01-01' + g % 3000, 'P', 'D', 'C', 'V',
  'S', '', 'OFF' || g % 20, 'g f', 'd', ''::bytea, '', now(), now()
FROM generate_series(1, 8000) g;
INSERT INTO enrolments (person_id, programme_code, office_code, status,
  start_date, amount_minor, currency, policy_version, version, created_at,
  updated_at, details)
SELECT id, 'OLD_AGE', office_code, 1, date '2024-01-01', 100000, 'KHR', 'v',
  1, now(), now(), ''::bytea FROM persons;
INSERT INTO enrolments (person_id, programme_code, office_code, status,
  start_date, amount_minor, currency, policy_version, version, created_at,
  updated_at, details)
SELECT id, 'CHILD', office_code, 1, date '2024-01-01', 30000, 'KHR', 'v',
  1, now(), now(), ''::bytea FROM persons WHERE id % 50 = 0;
)sql").ok());
  for (int month = 1; month <= 12; ++month) {
    for (const char* programme : {"OLD_AGE", "CHILD"}) {
      CycleRecord c;
      c.programme_code = programme;
      c.period = absl::StrCat("2026-", month < 10 ? "0" : "", month);
      c.status = 1;
      c.opened_at = absl::FromUnixSeconds(1'790'000'000);
      absl::Status s = store->Write([&](Txn& txn) {
        return txn
            .InsertCycle(c, absl::CivilDay(2026, month, 1),
                         absl::CivilDay(2026, month, 28))
            .status();
      });
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  ASSERT_TRUE(RunSql(url_, R"sql(
INSERT INTO payments (idempotency_key, cycle_id, line_id, person_id,
  programme_code, period, office_code, amount_minor, currency, channel,
  provider_reference, paid_at, supplement, note, recorded_at, recorded_by,
  reversal_reason)
SELECT 'k' || l.id, l.cycle_id, l.id, l.person_id, l.programme_code,
  c.period, l.office_code, l.amount_minor, l.currency, 1 + l.id % 3,
  CASE WHEN l.id % 3 = 0 THEN '' ELSE 'REF' || l.id END, now(), false, '',
  now(), 't', ''
FROM lines l JOIN cycles c ON c.id = l.cycle_id WHERE c.period < '2026-12';
INSERT INTO payments (cycle_id, line_id, person_id, programme_code, period,
  office_code, amount_minor, currency, channel, provider_reference, paid_at,
  supplement, note, recorded_at, recorded_by, reversal_of, reversal_reason)
SELECT cycle_id, line_id, person_id, programme_code, period, office_code,
  amount_minor, currency, channel, provider_reference, now(), false, '',
  now(), 't', id, 'wrong' FROM payments WHERE id % 100 = 0;
ANALYZE;
)sql").ok());

  PGconn* conn = PQconnectdb(url_.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  auto text = [&](const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    std::vector<std::string> lines;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) lines.push_back(PQgetvalue(r, i, 0));
    } else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    }
    PQclear(r);
    return absl::StrJoin(lines, "\n");
  };
  int prepared = 0;
  // The plans of `id` with `args`, custom then generic.
  auto plans = [&](Sql id, const std::string& args) {
    const std::string name = absl::StrCat("p", ++prepared);
    text(absl::StrCat("PREPARE ", name, " AS ", SqlText(id)));
    std::string out;
    for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
      text(absl::StrCat("SET plan_cache_mode = ", mode));
      out += absl::StrCat("-- ", mode, "\n",
                          text(absl::StrCat("EXPLAIN EXECUTE ", name, "(", args, ")")),
                          "\n");
    }
    return out;
  };
  const std::string payroll = plans(
      Sql::kInsertCycle,
      "'CHILD', '2027-01', 1, now(), 'a', NULL, '', '2027-01-01', '2027-01-31'");
  EXPECT_THAT(payroll, HasSubstr("enrolments_by_programme_office")) << payroll;
  for (Sql id : {Sql::kGetLine, Sql::kGetLineByEnrolment, Sql::kListLines,
                 Sql::kListLinesByOffice}) {
    const std::string plan = plans(
        id, id == Sql::kGetLine               ? "1000"
            : id == Sql::kGetLineByEnrolment ? "3, 1000"
            : id == Sql::kListLines          ? "3, 0, 500"
                                              : "3, 0, 500, 'OFF7'");
    EXPECT_THAT(plan, HasSubstr("payments_by_line")) << plan;
    EXPECT_THAT(plan, Not(HasSubstr("Seq Scan"))) << plan;
    EXPECT_THAT(plan, Not(HasSubstr("Sort"))) << plan;
  }
  EXPECT_THAT(plans(Sql::kListLinesByOffice, "3, 0, 500, 'OFF7'"),
              HasSubstr("lines_by_cycle_office"));
  for (Sql id : {Sql::kGetPayment, Sql::kGetPaymentByKey,
                 Sql::kListPaymentsByLine}) {
    const std::string plan =
        plans(id, id == Sql::kGetPaymentByKey ? "'k1000'" : "1000");
    EXPECT_THAT(plan, HasSubstr("payments_reversal_of")) << plan;
    EXPECT_THAT(plan, Not(HasSubstr("Seq Scan"))) << plan;
  }
  const std::string referenced =
      plans(Sql::kListReferencedPayments, "'2026-11', '', '', 0, 0, 500");
  EXPECT_THAT(referenced, HasSubstr("payments_by_period")) << referenced;
  EXPECT_THAT(referenced, Not(HasSubstr("Seq Scan on payments"))) << referenced;
  EXPECT_THAT(referenced, Not(HasSubstr("Sort"))) << referenced;
  // Irregular payments are found through what makes them irregular (no
  // line; a person who died), never by reading the period's payments: a
  // month with none costs next to nothing. They are few: sorting those
  // found is a fair plan.
  const std::string irregular = plans(Sql::kListIrregularPayments,
                                      "'2026-11', '', '', '2026-11-01', 0, 500");
  EXPECT_THAT(irregular, HasSubstr("payments_without_line")) << irregular;
  EXPECT_THAT(irregular, HasSubstr("persons_by_death")) << irregular;
  EXPECT_THAT(irregular, Not(HasSubstr("payments_by_period"))) << irregular;
  EXPECT_THAT(irregular, Not(HasSubstr("payments_pkey"))) << irregular;
  EXPECT_THAT(irregular, Not(HasSubstr("Seq Scan"))) << irregular;
  const std::string unbalanced =
      plans(Sql::kListUnbalancedLines, "'2026-11', '', '', 0, 0, 500");
  EXPECT_THAT(unbalanced, HasSubstr("lines_cycle_id_enrolment_id_key")) << unbalanced;
  EXPECT_THAT(unbalanced, Not(HasSubstr("Seq Scan on lines"))) << unbalanced;
  // Set-based over the period's rows only: payments through their period,
  // lines through their cycle, never a whole table.
  const std::string totals =
      plans(Sql::kReconcilePeriod, "'2026-11', '', '', '2026-11-01'");
  EXPECT_THAT(totals, Not(HasSubstr("Seq Scan on payments"))) << totals;
  EXPECT_THAT(totals, Not(HasSubstr("Seq Scan on lines"))) << totals;
  EXPECT_THAT(totals, HasSubstr("payments_by_period")) << totals;
  PQfinish(conn);
}

}  // namespace
}  // namespace socle::storage
