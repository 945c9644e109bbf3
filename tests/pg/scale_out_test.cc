// Scale-out: two socle-server processes on one PostgreSQL database, clients
// spread over both, all registering the same national IDs at once, half of
// them replaying the same request ids. Whatever the interleaving: exactly one
// person per national ID, every acknowledgement names that person (replays
// get the first answer), every refusal says the national ID is taken, and
// the audit chain written by both replicas is one unbroken chain.
//
// Payments alike (issue 7): clients of both replicas record the same
// payments under the same idempotency keys at once, one by one and in
// batches: exactly one payment per key, and every call is acknowledged with
// that payment.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/connection.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit.h"
#include "storage/postgres/pg_store.h"
#include "tests/pg/pg_test_database.h"

namespace socle {
namespace {

using ::testing::SizeIs;

// The entries of `chain` whose action is `action`.
int EntriesOf(const std::vector<storage::AuditRecord>& chain, absl::string_view action) {
  int n = 0;
  for (const storage::AuditRecord& e : chain) n += e.action == action ? 1 : 0;
  return n;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A socle-server process on `store`, stopped (SIGTERM) when destroyed.
class ServerProcess {
 public:
  ServerProcess(const std::string& dir, const std::string& name,
                const std::string& certs, const std::string& store) {
    port_file_ = absl::StrCat(dir, "/", name, ".port");
    log_ = absl::StrCat(dir, "/", name, ".log");
    pid_ = fork();
    if (pid_ == 0) {
      const std::string pf = absl::StrCat("--port_file=", port_file_);
      const std::string st = absl::StrCat("--store=", store);
      const std::string cert = absl::StrCat("--tls_cert=", certs, "/server.pem");
      const std::string key = absl::StrCat("--tls_key=", certs, "/server.key");
      const std::string ca = absl::StrCat("--client_ca=", certs, "/ca.pem");
      // Every replica holds the same keys.
      const std::string data_keys = absl::StrCat("--data_keys=", certs, "/data.keys");
      const std::string index_key = absl::StrCat("--index_key=", certs, "/index.key");
      const std::string policy = absl::StrCat(
          "--policy=", SOCLE_SOURCE_DIR, "/deploy/policy/default.textproto");
      const std::string principals = absl::StrCat(
          "--principals=", SOCLE_SOURCE_DIR, "/deploy/principals.textproto");
      const std::string token_key = absl::StrCat("--token_key=", certs, "/token.key");
      if (std::freopen(log_.c_str(), "w", stdout) == nullptr ||
          std::freopen(log_.c_str(), "a", stderr) == nullptr) {
        _exit(126);
      }
      execl(SOCLE_SERVER_BIN, SOCLE_SERVER_BIN, "--port=0", pf.c_str(),
            st.c_str(), cert.c_str(), key.c_str(), ca.c_str(), data_keys.c_str(),
            index_key.c_str(), policy.c_str(), principals.c_str(), token_key.c_str(),
            "--password_iterations=1000",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~ServerProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  // The port once the server listens, or 0 (with the server's log) after
  // a few seconds.
  int WaitForPort() {
    for (int i = 0; i < 400; ++i) {
      int port = 0;
      std::string text = ReadFile(port_file_);
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) &&
          port > 0) {
        return port;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "socle-server did not start:\n" << ReadFile(log_);
    return 0;
  }

 private:
  pid_t pid_ = 0;
  std::string port_file_;
  std::string log_;
};

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (pgtest::SkipWithoutPostgres()) return;
    char pattern[] = "/tmp/socle-scale-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    certs_ = dir_ + "/certs";
    const std::string command = absl::StrCat(
        SOCLE_SOURCE_DIR, "/deploy/certs.sh ", certs_, " KH-SR-03 > /dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    absl::StatusOr<std::string> url = pgtest::CreateTestDatabase();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // A client of the replica on `port` presenting `identity`.pem; the
  // terminal acts as the supervisor "dara" (created on first use through the
  // admin certificate, shared by the replicas through the database; any
  // replica checks any replica's token).
  client::Client ClientOf(int port, const std::string& identity = "terminal") {
    client::ConnectionOptions o = OptionsFor(port, identity);
    if (identity == "terminal") {
      std::lock_guard<std::mutex> lock(token_mu_);
      if (token_.empty()) {
        v1::User user;
        user.set_user_name("dara");
        user.set_role(v1::ROLE_SUPERVISOR);
        user.set_office_code("KH-SR-03");
        auto admin = client::MakeConnection(OptionsFor(port, "admin"));
        EXPECT_TRUE(admin.ok()) << admin.status();
        auto added = client::Client(*admin).AddUser(user, "a long enough secret");
        EXPECT_TRUE(added.ok()) << added.status();
        auto terminal = client::MakeConnection(o);
        auto login = client::Client(*terminal).Login("dara", "a long enough secret");
        EXPECT_TRUE(login.ok()) << login.status();
        if (login.ok()) token_ = login->token();
      }
      o.token = token_;
    }
    auto connection = client::MakeConnection(o);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return client::Client(*connection);
  }

  client::ConnectionOptions OptionsFor(int port, const std::string& certificate) {
    client::ConnectionOptions o;
    o.endpoint = absl::StrCat("localhost:", port);
    o.ca_file = certs_ + "/ca.pem";
    o.cert_file = absl::StrCat(certs_, "/", certificate, ".pem");
    o.key_file = absl::StrCat(certs_, "/", certificate, ".key");
    o.timeout = absl::Seconds(20);
    o.initial_backoff = absl::Milliseconds(20);
    return o;
  }

  // The whole audit trail, read straight from the database.
  void ReadAuditChain(std::vector<storage::AuditRecord>& chain) {
    storage::PgOptions options;
    options.conninfo = url_;
    options.pool_size = 1;
    auto store = storage::OpenPgStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::Status s = (*store)->Read([&](storage::ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(chain, txn.ListAudit(0, 100000));
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  std::mutex token_mu_;
  std::string token_;

  std::string dir_, certs_, url_;
};

v1::Person PersonFor(int k) {
  v1::Person p;
  p.set_national_id(absl::StrCat("KH-SCALE-", 1000 + k));
  p.set_given_name(absl::StrCat("Dara", std::string(1, 'a' + k % 26),
                                std::string(1, 'a' + k / 26)));
  p.set_family_name("Sok");
  p.set_sex(v1::SEX_MALE);
  p.mutable_date_of_birth()->set_year(1980 + k % 20);
  p.mutable_date_of_birth()->set_month(1 + k % 12);
  p.mutable_date_of_birth()->set_day(1 + k % 28);
  p.mutable_address()->set_province("Siem Reap");
  p.mutable_address()->set_district("Siem Reap");
  return p;
}

TEST_F(ScaleOutTest, TwoReplicasRegisterEachNationalIdOnce) {
  ServerProcess a(dir_, "a", certs_, url_);
  ServerProcess b(dir_, "b", certs_, url_);
  const int ports[2] = {a.WaitForPort(), b.WaitForPort()};
  ASSERT_GT(ports[0], 0);
  ASSERT_GT(ports[1], 0);

  constexpr int kIds = 24;
  constexpr int kClients = 8;
  // The one request id per national ID that every client replays.
  std::vector<std::string> shared_request(kIds);
  for (int k = 0; k < kIds; ++k) shared_request[k] = client::GenerateRequestId();

  struct Outcome {
    int k;
    bool replay;
    absl::StatusOr<v1::Person> reply;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      client::Client client = ClientOf(ports[c % 2]);
      for (int i = 0; i < kIds; ++i) {
        // Each client walks the national IDs from its own starting point.
        const int k = (i + c * 5) % kIds;
        // A replay of the shared request, then a request of its own for the
        // same national ID, alternately first.
        for (int j = 0; j < 2; ++j) {
          const bool replay = (j == 0) == (c % 2 == 0);
          client::RegisterOptions options;
          options.request_id =
              replay ? shared_request[k] : client::GenerateRequestId();
          absl::StatusOr<v1::Person> reply =
              client.RegisterPerson(PersonFor(k), options);
          std::lock_guard<std::mutex> lock(mu);
          outcomes.push_back({k, replay, std::move(reply)});
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(kClients * kIds * 2));

  // Exactly one person per national ID, found through either replica.
  std::map<int, std::string> number_of;
  for (int k = 0; k < kIds; ++k) {
    auto found = ClientOf(ports[k % 2]).FindByNationalId(
        PersonFor(k).national_id());
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ(found->persons_size(), 1) << PersonFor(k).national_id();
    number_of[k] = found->persons(0).beneficiary_number();
  }
  std::set<std::string> distinct;
  for (const auto& [k, number] : number_of) distinct.insert(number);
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kIds));

  // Every acknowledgement names that person; every refusal is the national
  // ID being taken (or, for a replay of a request refused the first time, the
  // same refusal again). Replays of one request id all got the same answer.
  std::map<int, std::string> replay_answer;
  int acknowledged = 0;
  for (const Outcome& o : outcomes) {
    if (o.reply.ok()) {
      ++acknowledged;
      EXPECT_EQ(o.reply->beneficiary_number(), number_of[o.k]) << o.k;
      EXPECT_EQ(o.reply->national_id(), PersonFor(o.k).national_id());
      if (o.replay) {
        std::string& first = replay_answer[o.k];
        const std::string answer = o.reply->SerializeAsString();
        if (first.empty()) first = answer;
        EXPECT_EQ(answer, first) << "replays of one request id differ";
      }
      continue;
    }
    EXPECT_EQ(o.reply.status().code(), absl::StatusCode::kAlreadyExists)
        << o.k << " " << o.reply.status();
    auto info = GetErrorInfo(o.reply.status());
    ASSERT_TRUE(info.has_value()) << o.reply.status();
    EXPECT_EQ(info->reason, "NATIONAL_ID_TAKEN") << o.reply.status();
  }
  // At least the first registration of each national ID was acknowledged.
  EXPECT_GE(acknowledged, kIds);

  // Both replicas appended to one chain: one entry per person, unbroken.
  std::vector<storage::AuditRecord> chain;
  ASSERT_NO_FATAL_FAILURE(ReadAuditChain(chain));
  EXPECT_EQ(EntriesOf(chain, "RegisterPerson"), kIds);
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 0);
}

// Bulk registration on both replicas at once: overlapping batches (the same
// national IDs in several batches) and replays of one batch's request id.
TEST_F(ScaleOutTest, TwoReplicasRegisterEachNationalIdOnceInBatches) {
  ServerProcess a(dir_, "a", certs_, url_);
  ServerProcess b(dir_, "b", certs_, url_);
  const int ports[2] = {a.WaitForPort(), b.WaitForPort()};
  ASSERT_GT(ports[0], 0);
  ASSERT_GT(ports[1], 0);

  constexpr int kIds = 60;
  constexpr int kClients = 6;
  constexpr int kBatch = 20;
  // Persons 200..259: each client sends three windows of 20, shifted by
  // 10 per client, so that every national ID is in several batches.
  auto batch_from = [](int start) {
    std::vector<v1::PersonToRegister> batch(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      *batch[i].mutable_person() = PersonFor(200 + (start + i) % kIds);
    }
    return batch;
  };
  const std::string shared_request = client::GenerateRequestId();
  struct Outcome {
    std::vector<int> ks;  // the persons of the batch, in order
    bool replay;
    absl::StatusOr<v1::RegisterPersonsResponse> reply;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      client::Client client = ClientOf(ports[c % 2]);
      for (int w = 0; w < 4; ++w) {
        const bool replay = w == (c % 4);
        const int start = replay ? 0 : (c * 10 + w * 20) % kIds;
        client::RegisterPersonsOptions options;
        if (replay) options.request_id = shared_request;
        std::vector<int> ks;
        for (int i = 0; i < kBatch; ++i) ks.push_back(200 + (start + i) % kIds);
        auto reply = client.RegisterPersons(batch_from(start), options);
        std::lock_guard<std::mutex> lock(mu);
        outcomes.push_back({ks, replay, std::move(reply)});
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::map<int, std::string> number_of;
  for (int k = 200; k < 200 + kIds; ++k) {
    auto found = ClientOf(ports[k % 2]).FindByNationalId(PersonFor(k).national_id());
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ(found->persons_size(), 1) << PersonFor(k).national_id();
    number_of[k] = found->persons(0).beneficiary_number();
  }
  std::string replay_answer;
  int registered = 0;
  for (const Outcome& o : outcomes) {
    ASSERT_TRUE(o.reply.ok()) << o.reply.status();
    ASSERT_EQ(o.reply->results_size(), kBatch);
    if (o.replay) {
      if (replay_answer.empty()) replay_answer = o.reply->SerializeAsString();
      EXPECT_EQ(o.reply->SerializeAsString(), replay_answer) << "replays of one batch differ";
    }
    for (int i = 0; i < kBatch; ++i) {
      const v1::RegisteredPerson& r = o.reply->results(i);
      if (r.status().code() == 0) {
        EXPECT_EQ(r.beneficiary_number(), number_of[o.ks[i]]) << o.ks[i];
        if (!o.replay || &o == &*std::find_if(outcomes.begin(), outcomes.end(),
                                              [](const Outcome& x) { return x.replay; })) {
          ++registered;
        }
        continue;
      }
      EXPECT_EQ(r.status().code(), static_cast<int>(absl::StatusCode::kAlreadyExists))
          << r.status().message();
      EXPECT_THAT(r.status().message(), ::testing::HasSubstr("national ID"));
    }
  }
  // Every national ID acknowledged exactly once (replays of the shared batch
  // counted once).
  EXPECT_EQ(registered, kIds);

  std::vector<storage::AuditRecord> chain;
  ASSERT_NO_FATAL_FAILURE(ReadAuditChain(chain));
  EXPECT_EQ(EntriesOf(chain, "RegisterPersons"), kIds);
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 0);
}

TEST_F(ScaleOutTest, TwoReplicasRecordEachPaymentOnce) {
  ServerProcess a(dir_, "a", certs_, url_);
  ServerProcess b(dir_, "b", certs_, url_);
  const int ports[2] = {a.WaitForPort(), b.WaitForPort()};
  ASSERT_GT(ports[0], 0);
  ASSERT_GT(ports[1], 0);

  // Pensioners enrolled in OLD_AGE, this month's cycle opened.
  constexpr int kLines = 12;
  client::Client clerk = ClientOf(ports[0]);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  for (int k = 0; k < kLines; ++k) {
    v1::Person p = PersonFor(100 + k);
    const absl::CivilDay born = today - 365 * 70 - k;
    p.mutable_date_of_birth()->set_year(static_cast<int>(born.year()));
    p.mutable_date_of_birth()->set_month(born.month());
    p.mutable_date_of_birth()->set_day(born.day());
    auto person = clerk.RegisterPerson(p);
    ASSERT_TRUE(person.ok()) << person.status();
    auto enrolment = clerk.Enrol(person->beneficiary_number(), "OLD_AGE");
    ASSERT_TRUE(enrolment.ok()) << enrolment.status();
  }
  client::Client admin = ClientOf(ports[1], "admin");
  const std::string period =
      absl::StrCat(today.year(), "-", today.month() < 10 ? "0" : "", today.month());
  auto cycle = admin.OpenCycle("OLD_AGE", period);
  ASSERT_TRUE(cycle.ok()) << cycle.status();
  std::vector<v1::Line> lines;
  v1::ListCycleLinesRequest listing;
  listing.set_cycle_id(cycle->cycle_id());
  ASSERT_TRUE(admin
                  .ListCycleLines(listing,
                                  [&](const v1::Line& l) {
                                    lines.push_back(l);
                                    return true;
                                  })
                  .ok());
  ASSERT_THAT(lines, SizeIs(kLines));
  auto pay = [&](int k) {
    v1::RecordPaymentRequest r;
    r.set_idempotency_key(absl::StrCat("scale-pay-", k));
    r.set_line_id(lines[k].line_id());
    *r.mutable_amount() = lines[k].amount();
    r.set_channel(v1::PAYMENT_CHANNEL_MOBILE_MONEY);
    r.set_provider_reference(absl::StrCat("MM-", k));
    return r;
  };

  // Every client sends every payment, from its own starting point; even
  // clients one call per payment, odd ones in batches of four.
  constexpr int kClients = 8;
  struct Ack {
    int k;
    absl::Status status;
    std::string payment_id;
  };
  std::mutex mu;
  std::vector<Ack> acks;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      client::Client client = ClientOf(ports[c % 2], "ministry");  // a provider batch system
      std::vector<int> order;
      for (int i = 0; i < kLines; ++i) order.push_back((i + c * 5) % kLines);
      if (c % 2 == 0) {
        for (int k : order) {
          absl::StatusOr<v1::Payment> paid = client.RecordPayment(pay(k));
          std::lock_guard<std::mutex> lock(mu);
          acks.push_back({k, paid.status(), paid.ok() ? paid->payment_id() : ""});
        }
        return;
      }
      for (size_t first = 0; first < order.size(); first += 4) {
        v1::RecordPaymentsRequest batch;
        for (size_t i = first; i < first + 4 && i < order.size(); ++i) {
          *batch.add_items() = pay(order[i]);
        }
        absl::StatusOr<v1::RecordPaymentsResponse> out = client.RecordPayments(batch);
        std::lock_guard<std::mutex> lock(mu);
        if (!out.ok()) {
          for (int i = 0; i < batch.items_size(); ++i) {
            acks.push_back({order[first + i], out.status(), ""});
          }
          continue;
        }
        for (const v1::PaymentResult& r : out->results()) {
          const int k = order[first + r.index()];
          acks.push_back({k,
                          r.status().code() == 0
                              ? absl::OkStatus()
                              : absl::Status(static_cast<absl::StatusCode>(r.status().code()),
                                             r.status().message()),
                          r.payment().payment_id()});
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_THAT(acks, SizeIs(kClients * kLines));

  // Every call acknowledged, every acknowledgement naming the one payment
  // of its key.
  std::map<int, std::set<std::string>> ids;
  for (const Ack& ack : acks) {
    EXPECT_TRUE(ack.status.ok()) << ack.k << " " << ack.status;
    if (ack.status.ok()) ids[ack.k].insert(ack.payment_id);
  }
  ASSERT_THAT(ids, SizeIs(kLines));
  for (const auto& [k, set] : ids) {
    EXPECT_THAT(set, SizeIs(1)) << "key " << k;
    auto again = ClientOf(ports[k % 2], "ministry").RecordPayment(pay(k));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->payment_id(), *set.begin());
  }

  // One payment per line in the reconciliation of either replica, and one
  // audit entry per payment in the one chain.
  v1::ReconcileRequest request;
  request.set_period(period);
  for (int port : ports) {
    auto report = ClientOf(port, "admin").Reconcile(request);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->balanced());
    int64_t in_full = 0, payments = 0, twice = 0;
    for (const v1::ReconciliationRow& row : report->rows()) {
      in_full += row.paid_in_full();
      payments += row.payments();
      twice += row.paid_twice();
    }
    EXPECT_EQ(in_full, kLines);
    EXPECT_EQ(payments, kLines);
    EXPECT_EQ(twice, 0);
  }
  storage::PgOptions options;
  options.conninfo = url_;
  options.pool_size = 1;
  auto store = storage::OpenPgStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<storage::AuditRecord> chain;
  absl::Status s = (*store)->Read([&](storage::ReadTxn& txn) -> absl::Status {
    for (int k = 0; k < kLines; ++k) {
      ASSIGN_OR_RETURN(storage::PaymentRecord p,
                       txn.GetPaymentByKey(absl::StrCat("scale-pay-", k)));
      EXPECT_EQ(p.reversed_by, 0);
      ASSIGN_OR_RETURN(std::vector<storage::PaymentRecord> on_line,
                       txn.ListPaymentsByLine(p.line_id));
      EXPECT_THAT(on_line, SizeIs(1)) << k;
    }
    ASSIGN_OR_RETURN(chain, txn.ListAudit(0, 100000));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(EntriesOf(chain, "RecordPayment"), kLines);
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 0);
}

}  // namespace
}  // namespace socle
