// The audit trail end to end: a real server over TLS, the socle-admin audit
// commands, and the SQLite file tampered with directly (as an intruder with
// access to the database would), which `audit verify` must report.
#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuditE2eTest : public ::testing::Test {
 protected:
  AuditE2eTest()
      : harness_(std::make_unique<testing::ServerHarness>()),
        client_(harness_->Client()) {}

  // `n` residents registered by the office terminal: one audit entry each.
  std::vector<std::string> Register(int n, absl::string_view family) {
    std::vector<std::string> numbers;
    for (int i = 0; i < n; ++i) {
      v1::Person p;
      p.set_given_name(absl::StrCat("Resident", i));
      p.set_family_name(std::string(family));
      p.set_sex(i % 2 ? v1::SEX_MALE : v1::SEX_FEMALE);
      p.mutable_date_of_birth()->set_year(1980 + i % 30);
      p.mutable_date_of_birth()->set_month(1 + i % 12);
      p.mutable_date_of_birth()->set_day(1 + i % 28);
      p.mutable_address()->set_district("Siem Reap");
      auto person = client_.RegisterPerson(p);
      EXPECT_TRUE(person.ok()) << person.status();
      if (person.ok()) numbers.push_back(person->beneficiary_number());
    }
    return numbers;
  }

  testing::ProcessResult Admin(const std::string& args) {
    const std::string command = absl::StrCat(
        "SOCLE_ENDPOINT=", harness_->endpoint(), " SOCLE_CA=", harness_->cert("ca.pem"),
        " SOCLE_ADMIN_CERT=", harness_->cert("admin.pem"), " SOCLE_ADMIN_KEY=",
        harness_->cert("admin.key"), " ", SOCLE_ADMIN, " ", args);
    return testing::RunShell(command, scratch_.path());
  }

  // Runs SQL on the server's database file with the sqlite3 API, behind the
  // server's back.
  void Tamper(const std::string& sql) {
    const std::string path = harness_->cert_dir() + "/../socle.db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << "\n" << sql;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string Verify(const std::string& checkpoint = "") {
    return checkpoint.empty()
               ? "audit verify --page-size 7"
               : absl::StrCat("audit verify --page-size 7 --checkpoint ", checkpoint,
                              " --public-key ", harness_->cert("audit-signing.pub.pem"));
  }

  std::unique_ptr<testing::ServerHarness> harness_;
  client::Client client_;
  testing::TempDir scratch_;
};

// Entry 1 is the policy activation at the server's start; the harness's
// three users and their logins add six; each registration adds one.
TEST_F(AuditE2eTest, VerifyCheckpointAndQuery) {
  std::vector<std::string> numbers = Register(20, "Audit");
  testing::ProcessResult verified = Admin(Verify());
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("Audit chain: 27 entries, head entry 27"));
  EXPECT_THAT(verified.out, HasSubstr("OK      every entry follows"));

  const std::string checkpoint = scratch_.path() + "/checkpoint.txt";
  testing::ProcessResult saved = Admin("audit checkpoint --out " + checkpoint);
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_THAT(saved.out, HasSubstr("Saved checkpoint of entry 27"));
  EXPECT_THAT(testing::ReadWholeFile(checkpoint), HasSubstr("\nseq: 27\n"));

  Register(5, "Later");
  verified = Admin(Verify(checkpoint));
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("OK      checkpoint signature (entry 27"));
  EXPECT_THAT(verified.out, HasSubstr("OK      entry 27 still has the checkpoint's hash"));

  // Without the public key, a checkpoint proves nothing: refused as usage.
  testing::ProcessResult no_key = Admin("audit verify --checkpoint " + checkpoint);
  EXPECT_EQ(no_key.exit_code, 2) << no_key.err;
  EXPECT_THAT(no_key.err, HasSubstr("--public-key"));

  // A checkpoint moved back (to hide a truncation) no longer verifies.
  const std::string forged = scratch_.path() + "/forged.txt";
  {
    std::ofstream out(forged);
    out << absl::StrReplaceAll(testing::ReadWholeFile(checkpoint), {{"seq: 27", "seq: 11"}});
  }
  testing::ProcessResult forged_result = Admin(Verify(forged));
  EXPECT_EQ(forged_result.exit_code, 4) << forged_result.out << forged_result.err;
  EXPECT_THAT(forged_result.out, HasSubstr("FORGED"));

  // Queries: by person, by actor prefix and office, by time.
  testing::ProcessResult by_person = Admin("audit query --person " + numbers[3]);
  ASSERT_EQ(by_person.exit_code, 0) << by_person.err;
  EXPECT_THAT(by_person.out, HasSubstr("RegisterPerson"));
  EXPECT_THAT(by_person.out, HasSubstr("terminal:KH-SR-03:T01"));
  testing::ProcessResult as_json =
      Admin("--json audit query --user supervisor@ --office KH-SR-03 --page-size 10 --all");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  int entries = 0;
  for (absl::string_view line : absl::StrSplit(as_json.out, '\n', absl::SkipEmpty())) {
    v1::QueryAuditResponse page;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &page).ok())
        << line;
    entries += page.entries_size();
  }
  EXPECT_EQ(entries, 26);  // 25 registrations and the login
  testing::ProcessResult nobody = Admin("audit query --user auditor: --since 2000-01-01");
  ASSERT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_THAT(nobody.out, HasSubstr("No audit entry matches."));
  testing::ProcessResult bad = Admin("audit query --since yesterday");
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(AuditE2eTest, TamperingWithTheDatabaseIsReported) {
  Register(30, "Tamper");
  const std::string checkpoint = scratch_.path() + "/checkpoint.txt";
  ASSERT_EQ(Admin("audit checkpoint --out " + checkpoint).exit_code, 0);
  ASSERT_EQ(Admin(Verify(checkpoint)).exit_code, 0);

  // The tail cut off: the chain left is consistent, only the checkpoint
  // shows what is gone.
  Tamper("DELETE FROM audit WHERE seq > 26");
  testing::ProcessResult r = Admin(Verify(checkpoint));
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("OK      every entry follows"));
  EXPECT_THAT(r.out, HasSubstr(
      "BROKEN  truncated tail: the checkpoint is at entry 37, the chain ends at entry 26"));

  // An entry edited in place.
  Tamper("UPDATE audit SET details = 'nothing happened' WHERE seq = 12");
  r = Admin(Verify());
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("BROKEN  at entry 12: entry 12 was altered"));

  // An entry removed before it.
  Tamper("DELETE FROM audit WHERE seq = 9");
  r = Admin(Verify());
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("BROKEN  at entry 9: entry 9 is missing: entry 10 follows entry 8"));
  r = Admin("--json " + Verify());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.out, HasSubstr("\"ok\":false"));
  EXPECT_THAT(r.out, HasSubstr("\"break\":{\"seq\":9,\"kind\":\"missing\""));

  // Two entries swapped (their seqs exchanged).
  Tamper("UPDATE audit SET seq = -2 WHERE seq = 2;"
         "UPDATE audit SET seq = 2 WHERE seq = 3;"
         "UPDATE audit SET seq = 3 WHERE seq = -2;");
  r = Admin(Verify());
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("BROKEN  at entry 2: entry 2 was altered"));
  EXPECT_THAT(r.out, Not(HasSubstr("OK      every entry")));
}

}  // namespace
}  // namespace socle
