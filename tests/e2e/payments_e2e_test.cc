// Payments end to end, through the client library over TLS: a cycle opened,
// its lines streamed, payments recorded exactly once, refused, reversed,
// reconciled; and the clerk's and administrator's commands.
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/field_error.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"
#include "tests/pg/pg_test_database.h"

namespace socle {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Reason(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

// A server per test: each opens this month's OLD_AGE cycle afresh. On each
// backend: a new SQLite file, or a new database on the PostgreSQL server of
// SOCLE_TEST_POSTGRES (skipped when unset; `make test` sets it).
class PaymentsE2eTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string store;
    if (GetParam() == "Postgres") {
      if (pgtest::SkipWithoutPostgres()) return;
      absl::StatusOr<std::string> url = pgtest::CreateTestDatabase();
      ASSERT_TRUE(url.ok()) << url.status();
      store = *url;
    }
    harness_ = std::make_unique<testing::ServerHarness>(store);
    ASSERT_GT(harness_->port(), 0);
    client_.emplace(harness_->Client());
    admin_.emplace(harness_->Client("admin"));
  }

  static absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }
  static std::string ThisMonth() {
    const absl::CivilDay t = Today();
    return absl::StrFormat("%04d-%02d", t.year(), t.month());
  }

  // A pensioner of `office`, enrolled in OLD_AGE from today.
  v1::Enrolment Pensioner(absl::string_view given, absl::string_view office) {
    v1::Person p;
    p.set_given_name(std::string(given));
    p.set_family_name("Payments");
    p.set_sex(v1::SEX_MALE);
    const absl::CivilDay born = Today() - 365 * 70;
    p.mutable_date_of_birth()->set_year(static_cast<int>(born.year()));
    p.mutable_date_of_birth()->set_month(born.month());
    p.mutable_date_of_birth()->set_day(born.day());
    p.mutable_address()->set_district("Angkor Chum");
    p.set_office_code(std::string(office));
    client::RegisterOptions o;
    o.duplicate_override_reason = "test residents share names";
    // Registered and enrolled by a supervisor of that office.
    client::Client office_client = harness_->OfficeClient(std::string(office));
    auto person = office_client.RegisterPerson(p, o);
    EXPECT_TRUE(person.ok()) << person.status();
    auto enrolment = office_client.Enrol(person->beneficiary_number(), "OLD_AGE");
    EXPECT_TRUE(enrolment.ok()) << enrolment.status();
    return enrolment.ok() ? *enrolment : v1::Enrolment();
  }

  std::vector<v1::Line> Lines(const std::string& cycle_id, int chunk = 0,
                              v1::LineStatus status = v1::LINE_STATUS_UNSPECIFIED) {
    v1::ListCycleLinesRequest r;
    r.set_cycle_id(cycle_id);
    r.set_chunk_size(chunk);
    r.set_status(status);
    std::vector<v1::Line> out;
    absl::Status s = admin_->ListCycleLines(r, [&](const v1::Line& l) {
      out.push_back(l);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  v1::RecordPaymentRequest Pay(const v1::Line& line, int64_t amount, const std::string& key) {
    v1::RecordPaymentRequest r;
    r.set_idempotency_key(key);
    r.set_line_id(line.line_id());
    *r.mutable_amount() = line.amount();
    r.mutable_amount()->set_minor_units(amount);
    r.set_channel(v1::PAYMENT_CHANNEL_CASH);
    return r;
  }

  testing::ProcessResult Run(const std::string& tool, const std::string& identity,
                             const std::string& args) {
    // "office-OFFICE": a terminal of OFFICE with its supervisor logged in.
    const std::string token =
        identity.rfind("office-", 0) == 0 ? harness_->OfficeTokenFile(identity.substr(7))
                                          : harness_->token_file();
    const std::string command = absl::StrCat(
        "SOCLE_ENDPOINT=", harness_->endpoint(), " SOCLE_CA=", harness_->cert("ca.pem"),
        " SOCLE_CERT=", harness_->cert(identity + ".pem"), " SOCLE_KEY=",
        harness_->cert(identity + ".key"), " SOCLE_TOKEN_FILE=", token,
        " SOCLE_ADMIN_CERT=", harness_->cert("admin.pem"),
        " SOCLE_ADMIN_KEY=", harness_->cert("admin.key"), " ", tool, " ", args);
    return testing::RunShell(command, scratch_.path());
  }

  std::unique_ptr<testing::ServerHarness> harness_;
  std::optional<client::Client> client_;
  std::optional<client::Client> admin_;
  testing::TempDir scratch_;
};

TEST_P(PaymentsE2eTest, ACycleFromOpeningToReconciliation) {
  v1::Enrolment a = Pensioner("Alpha", "KH-SR-21");
  v1::Enrolment b = Pensioner("Bravo", "KH-SR-21");
  v1::Enrolment c = Pensioner("Charlie", "KH-SR-22");
  auto cycle = admin_->OpenCycle("OLD_AGE", ThisMonth());
  ASSERT_TRUE(cycle.ok()) << cycle.status();
  EXPECT_EQ(cycle->line_count(), 3);
  auto again = admin_->OpenCycle("OLD_AGE", ThisMonth());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cycle_id(), cycle->cycle_id());

  // Streamed one line a chunk, and stopped early.
  std::vector<v1::Line> lines = Lines(cycle->cycle_id(), 1);
  ASSERT_EQ(lines.size(), 3u);
  std::map<std::string, v1::Line> line;  // by enrolment
  for (const v1::Line& l : lines) line[l.enrolment_id()] = l;
  int seen = 0;
  v1::ListCycleLinesRequest first_only;
  first_only.set_cycle_id(cycle->cycle_id());
  first_only.set_chunk_size(1);
  ASSERT_TRUE(admin_->ListCycleLines(first_only, [&](const v1::Line&) { return ++seen < 1; }).ok());
  EXPECT_EQ(seen, 1);

  // Exactly once. Cash is recorded at the counter of each person's office;
  // the provider's batch comes from a ministry system.
  client::Client sr21 = harness_->OfficeClient("KH-SR-21");
  client::Client sr22 = harness_->OfficeClient("KH-SR-22");
  client::Client ministry = harness_->Client("ministry");
  const v1::Line& la = line[a.enrolment_id()];
  auto paid = sr21.RecordPayment(Pay(la, la.amount().minor_units(), "e2e-key-1"));
  ASSERT_TRUE(paid.ok()) << paid.status();
  auto replay = sr21.RecordPayment(Pay(la, la.amount().minor_units(), "e2e-key-1"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->payment_id(), paid->payment_id());
  auto reused = sr21.RecordPayment(Pay(la, 1, "e2e-key-1"));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Reason(reused.status()), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(GetErrorInfo(reused.status())->metadata["field"], "amount.minor_units");
  auto twice = sr21.RecordPayment(Pay(la, la.amount().minor_units(), "e2e-key-2"));
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(twice.status()), "LINE_PAID_IN_FULL");

  // A provider's batch: one good, one refused; the retry changes nothing.
  const v1::Line& lb = line[b.enrolment_id()];
  v1::RecordPaymentsRequest batch;
  v1::RecordPaymentRequest bank = Pay(lb, lb.amount().minor_units() / 2, "e2e-bank-1");
  bank.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);
  bank.set_provider_reference("ABA-E2E-1");
  *batch.add_items() = bank;
  *batch.add_items() = Pay(la, 5, "e2e-bank-2");  // a is paid in full
  auto out = ministry.RecordPayments(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->recorded(), 1);
  EXPECT_EQ(out->failed(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_EQ(out->results(1).status().details_size(), 1);
  ASSERT_TRUE(out->results(1).status().details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "LINE_PAID_IN_FULL");
  auto retry = ministry.RecordPayments(batch);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->recorded(), 0);
  EXPECT_EQ(retry->replayed(), 1);

  // A mistake reversed, once.
  const v1::Line& lc = line[c.enrolment_id()];
  auto wrong = sr22.RecordPayment(Pay(lc, lc.amount().minor_units(), "e2e-wrong"));
  ASSERT_TRUE(wrong.ok());
  auto reversal = admin_->ReversePayment(wrong->payment_id(), "paid the wrong person");
  ASSERT_TRUE(reversal.ok()) << reversal.status();
  EXPECT_EQ(reversal->reverses_payment_id(), wrong->payment_id());
  EXPECT_EQ(Reason(admin_->ReversePayment(wrong->payment_id(), "again").status()),
            "ALREADY_REVERSED");

  // Closed: no payment, but the report.
  ASSERT_TRUE(admin_->CloseCycle(cycle->cycle_id()).ok());
  EXPECT_EQ(Reason(sr22.RecordPayment(Pay(lc, 1, "e2e-late")).status()), "CYCLE_CLOSED");
  EXPECT_EQ(Lines(cycle->cycle_id(), 0, v1::LINE_STATUS_UNPAID).size(), 1u);

  v1::ReconcileRequest r;
  r.set_period(ThisMonth());
  auto report = admin_->Reconcile(r);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->balanced());
  ASSERT_EQ(report->rows_size(), 2);
  EXPECT_EQ(report->rows(0).office_code(), "KH-SR-21");
  EXPECT_EQ(report->rows(0).paid_in_full(), 1);
  EXPECT_EQ(report->rows(0).underpaid(), 1);
  EXPECT_EQ(report->rows(1).unpaid(), 1);
  EXPECT_EQ(report->rows(1).reversed_minor(), lc.amount().minor_units());
  EXPECT_EQ(report->discrepancies_size(), 2);

  v1::ReconcileStatementRequest s;
  s.set_period(ThisMonth());
  v1::StatementRow* row = s.add_rows();
  row->set_provider_reference("ABA-E2E-1");
  *row->mutable_amount() = bank.amount();
  row = s.add_rows();
  row->set_provider_reference("ABA-E2E-404");
  *row->mutable_amount() = bank.amount();
  auto statement = admin_->ReconcileStatement(s);
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_EQ(statement->matched(), 1);
  EXPECT_EQ(statement->missing_in_socle(), 1);
}

TEST_P(PaymentsE2eTest, ClerkAndAdministratorCommands) {
  Pensioner("Delta", "KH-SR-23");
  testing::ProcessResult opened =
      Run(SOCLE_ADMIN, "admin", absl::StrCat("cycle open OLD_AGE --period ", ThisMonth()));
  ASSERT_EQ(opened.exit_code, 0) << opened.err;
  EXPECT_THAT(opened.out, HasSubstr("OLD_AGE"));
  const std::string cycle_id = opened.out.substr(6, opened.out.find(' ', 6) - 6);  // "Cycle C1 ..."
  testing::ProcessResult listed = Run(SOCLE_ADMIN, "admin", "cycle list --status open");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(cycle_id));
  testing::ProcessResult lines = Run(SOCLE_ADMIN, "admin",
                                     absl::StrCat("cycle lines ", cycle_id, " --office KH-SR-23"));
  ASSERT_EQ(lines.exit_code, 0) << lines.err;
  ASSERT_THAT(lines.out, HasSubstr("1 line"));
  const std::string line_id = lines.out.substr(0, lines.out.find(' '));

  // The clerk pays; the key is printed; the same command with the key pays
  // nothing more.
  testing::ProcessResult pay = Run(
      SOCLE_CLI, "office-KH-SR-23", absl::StrCat("pay ", line_id, " --amount 100000 --currency KHR"));
  ASSERT_EQ(pay.exit_code, 0) << pay.err;
  EXPECT_THAT(pay.out, HasSubstr("Recorded P"));
  const size_t at = pay.err.find("idempotency key: ");
  ASSERT_NE(at, std::string::npos) << pay.err;
  const std::string key = pay.err.substr(at + 17, pay.err.find('\n', at) - at - 17);
  const std::string payment_id = pay.out.substr(9, pay.out.find(':') - 9);
  testing::ProcessResult again =
      Run(SOCLE_CLI, "office-KH-SR-23",
          absl::StrCat("pay ", line_id, " --amount 100000 --currency KHR --idempotency-key ", key));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Recorded " + payment_id + ":"));
  testing::ProcessResult more =
      Run(SOCLE_CLI, "office-KH-SR-23", absl::StrCat("pay ", line_id, " --amount 1 --currency KHR"));
  EXPECT_EQ(more.exit_code, 4) << more.err;
  EXPECT_THAT(more.err, HasSubstr("--supplement"));

  // The report, as one HTML file and as CSV with a statement.
  const std::string html = scratch_.path() + "/report.html";
  testing::ProcessResult page =
      Run(SOCLE_ADMIN, "admin",
          absl::StrCat("reconcile --period ", ThisMonth(), " --format html --output ", html));
  ASSERT_EQ(page.exit_code, 0) << page.err;
  const std::string text = testing::ReadWholeFile(html);
  EXPECT_THAT(text, HasSubstr("<svg"));
  EXPECT_THAT(text, HasSubstr("KH-SR-23"));
  EXPECT_THAT(text, Not(HasSubstr("<script")));
  const std::string csv = scratch_.path() + "/statement.csv";
  {
    std::ofstream f(csv);
    f << "reference,amount,date\nNOT-RECORDED,5.00,2026-11-20\n";
  }
  testing::ProcessResult matched =
      Run(SOCLE_ADMIN, "admin",
          absl::StrCat("reconcile --period ", ThisMonth(),
                       " --office KH-SR-23 --format csv --currency KHR --statement ", csv));
  ASSERT_EQ(matched.exit_code, 0) << matched.err;
  EXPECT_THAT(matched.out, HasSubstr("row,"));
  EXPECT_THAT(matched.out, HasSubstr("statement,missing in socle,NOT-RECORDED"));
  testing::ProcessResult reverse =
      Run(SOCLE_ADMIN, "admin", absl::StrCat("payment reverse ", payment_id, " --reason test"));
  EXPECT_EQ(reverse.exit_code, 0) << reverse.err;
  testing::ProcessResult closed =
      Run(SOCLE_ADMIN, "admin", absl::StrCat("cycle close ", cycle_id));
  EXPECT_EQ(closed.exit_code, 0) << closed.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, PaymentsE2eTest, ::testing::Values("Sqlite", "Postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace socle
