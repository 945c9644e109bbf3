// socle pay and socle-admin cycle/payment/reconcile against a
// MockConnection; the report in its four forms; the statement reader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "client/cli/admin_commands.h"
#include "client/cli/commands.h"
#include "client/cli/payment_commands.h"
#include "client/cli/reconcile_report.h"
#include "client/mocks/mock_connection.h"
#include "common/field_error.h"

namespace socle::client::cli {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;
using ::testing::Return;
using ::testing::StrictMock;

v1::Money Khr(int64_t minor) {
  v1::Money m;
  m.set_minor_units(minor);
  m.set_currency("KHR");
  return m;
}

v1::Payment Paid(const v1::RecordPaymentRequest& r) {
  v1::Payment p;
  p.set_payment_id("P7");
  p.set_idempotency_key(r.idempotency_key());
  p.set_line_id(r.line_id());
  p.set_cycle_id("C1");
  p.set_programme_code("OLD_AGE");
  p.set_period("2026-11");
  p.set_office_code("KH-SR-03");
  p.set_beneficiary_number("1000000017");
  *p.mutable_amount() = r.amount();
  p.set_channel(r.channel());
  p.set_provider_reference(r.provider_reference());
  return p;
}

v1::ReconciliationReport Report() {
  v1::ReconciliationReport report;
  report.set_period("2026-11");
  report.set_balanced(true);
  auto* a = report.add_rows();
  a->set_office_code("KH-SR-03");
  a->set_programme_code("OLD_AGE");
  a->set_currency("KHR");
  a->set_lines(3);
  a->set_payments(3);
  a->set_owed_minor(30'000'000);
  a->set_paid_minor(25'000'000);
  a->set_reversed_minor(5'000'000);
  a->set_outstanding_minor(10'000'000);
  a->set_excess_minor(0);
  a->set_paid_in_full(1);
  a->set_unpaid(1);
  a->set_underpaid(1);
  auto* b = report.add_rows();
  b->set_office_code("KH-SR-07<x>");
  b->set_programme_code("OLD_AGE");
  b->set_currency("KHR");
  b->set_lines(1);
  b->set_payments(2);
  b->set_owed_minor(10'000'000);
  b->set_paid_minor(20'000'000);
  b->set_excess_minor(10'000'000);
  b->set_paid_twice(1);
  auto* t = report.add_totals();
  t->set_currency("KHR");
  t->set_lines(4);
  t->set_owed_minor(40'000'000);
  t->set_paid_minor(45'000'000);
  t->set_reversed_minor(5'000'000);
  t->set_outstanding_minor(10'000'000);
  t->set_excess_minor(10'000'000);
  auto* d = report.add_discrepancies();
  d->set_category(v1::CATEGORY_PAID_TWICE);
  d->set_line_id("L4");
  d->set_cycle_id("C1");
  d->set_office_code("KH-SR-07<x>");
  d->set_programme_code("OLD_AGE");
  d->set_beneficiary_number("1000000025");
  *d->mutable_owed() = Khr(10'000'000);
  *d->mutable_paid() = Khr(20'000'000);
  d->add_payment_ids("P1");
  d->add_payment_ids("P2");
  auto* e = report.add_discrepancies();
  e->set_category(v1::CATEGORY_PAID_AFTER_DEATH);
  e->set_office_code("KH-SR-03");
  e->set_programme_code("OLD_AGE");
  e->set_beneficiary_number("1000000033");
  *e->mutable_owed() = Khr(0);
  *e->mutable_paid() = Khr(1'000);
  e->mutable_date_of_death()->set_year(2026);
  e->mutable_date_of_death()->set_month(10);
  e->mutable_date_of_death()->set_day(2);
  e->add_payment_ids("P9");
  return report;
}

class PaymentsCliTest : public ::testing::Test {
 protected:
  int Socle(const std::vector<std::string>& args) { return Run("socle", args); }
  int Admin(const std::vector<std::string>& args) { return Run("socle-admin", args); }
  int Run(const std::string& program, const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    std::vector<const char*> argv = {program.c_str()};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return program == "socle"
               ? RunCli(static_cast<int>(argv.size()), argv.data(), mock_, out_, err_)
               : RunAdminCli(static_cast<int>(argv.size()), argv.data(), mock_, out_, err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  StrictMock<MockConnection> mock_;
  std::ostringstream out_, err_;
};

TEST_F(PaymentsCliTest, PayPrintsItsKeyAndSendsExactMinorUnits) {
  v1::RecordPaymentRequest sent;
  EXPECT_CALL(mock_, RecordPayment(_))
      .WillOnce(Invoke([&](const v1::RecordPaymentRequest& r) -> absl::StatusOr<v1::Payment> {
        sent = r;
        return Paid(r);
      }));
  EXPECT_EQ(Socle({"pay", "l3", "--amount", "100000.50", "--currency", "KHR"}), 0) << err();
  EXPECT_EQ(sent.line_id(), "L3");
  EXPECT_EQ(sent.amount().minor_units(), 10'000'050);
  EXPECT_EQ(sent.amount().currency(), "KHR");
  EXPECT_EQ(sent.channel(), v1::PAYMENT_CHANNEL_CASH);
  EXPECT_TRUE(absl::StartsWith(sent.idempotency_key(), "pay-"));
  EXPECT_EQ(sent.idempotency_key().size(), 36u);
  EXPECT_THAT(err(), HasSubstr("idempotency key: " + sent.idempotency_key()));
  EXPECT_THAT(out(), HasSubstr("Recorded P7: 100,000.50 KHR cash on line L3"));
  EXPECT_THAT(out(), HasSubstr(sent.idempotency_key()));
}

TEST_F(PaymentsCliTest, PayWithAKeyRetriesTheSamePayment) {
  v1::RecordPaymentRequest sent;
  EXPECT_CALL(mock_, RecordPayment(_))
      .WillOnce(Invoke([&](const v1::RecordPaymentRequest& r) -> absl::StatusOr<v1::Payment> {
        sent = r;
        return Paid(r);
      }));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "5", "--currency", "USD", "--channel", "mobile",
                   "--reference", "WING-9", "--idempotency-key", "pay-abc", "--supplement", "--note", "n"}),
            0)
      << err();
  EXPECT_EQ(sent.idempotency_key(), "pay-abc");
  EXPECT_EQ(sent.amount().minor_units(), 500);
  EXPECT_EQ(sent.channel(), v1::PAYMENT_CHANNEL_MOBILE_MONEY);
  EXPECT_EQ(sent.provider_reference(), "WING-9");
  EXPECT_TRUE(sent.supplement());
  EXPECT_EQ(sent.note(), "n");
}

TEST_F(PaymentsCliTest, PayTellsHowToRetryWhenTheLinkFails) {
  EXPECT_CALL(mock_, RecordPayment(_))
      .WillOnce(Return(absl::UnavailableError("connection refused")));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1", "--currency", "KHR", "--idempotency-key", "pay-k1"}), 1);
  EXPECT_THAT(err(), HasSubstr("--idempotency-key pay-k1"));
  EXPECT_THAT(err(), HasSubstr("never recorded twice"));
}

TEST_F(PaymentsCliTest, PayExplainsRefusals) {
  EXPECT_CALL(mock_, RecordPayment(_))
      .WillOnce(Return(WithErrorInfo(absl::FailedPreconditionError("line L3 is paid in full"),
                                     {"LINE_PAID_IN_FULL", {}})));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1", "--currency", "KHR"}), 4);
  EXPECT_THAT(err(), HasSubstr("--supplement"));
}

TEST_F(PaymentsCliTest, PayRefusesBadInputBeforeAnyCall) {
  EXPECT_EQ(Socle({"pay", "L3", "--currency", "KHR"}), 2);
  EXPECT_THAT(err(), HasSubstr("--amount"));
  EXPECT_EQ(Socle({"pay", "X3", "--amount", "1", "--currency", "KHR"}), 2);
  EXPECT_THAT(err(), HasSubstr("LINE_ID"));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1.001", "--currency", "KHR"}), 2);
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "-1", "--currency", "KHR"}), 2);
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "0", "--currency", "KHR"}), 2);
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1"}), 2);
  EXPECT_THAT(err(), HasSubstr("currency"));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1", "--currency", "KHR", "--channel", "bank"}), 2);
  EXPECT_THAT(err(), HasSubstr("--reference"));
  EXPECT_EQ(Socle({"pay", "L3", "--amount", "1", "--currency", "KHR", "--channel", "gold"}), 2);
}

TEST_F(PaymentsCliTest, CycleCommands) {
  v1::Cycle cycle;
  cycle.set_cycle_id("C4");
  cycle.set_programme_code("OLD_AGE");
  cycle.set_period("2026-11");
  cycle.set_status(v1::CYCLE_STATUS_OPEN);
  cycle.set_line_count(12345);
  *cycle.add_total_owed() = Khr(123'450'000'000);
  v1::OpenCycleRequest opened;
  EXPECT_CALL(mock_, OpenCycle(_))
      .WillOnce(Invoke([&](const v1::OpenCycleRequest& r) -> absl::StatusOr<v1::Cycle> {
        opened = r;
        return cycle;
      }));
  EXPECT_EQ(Admin({"cycle", "open", "old_age", "--period", "2026-11"}), 0) << err();
  EXPECT_EQ(opened.programme_code(), "OLD_AGE");
  EXPECT_EQ(opened.period(), "2026-11");
  EXPECT_FALSE(opened.request_id().empty());
  EXPECT_THAT(out(), HasSubstr("C4  OLD_AGE  2026-11  open  12,345 lines  owed 1,234,500,000.00 KHR"));
  EXPECT_EQ(Admin({"cycle", "open", "OLD_AGE", "--period", "2026-13"}), 2);
  EXPECT_EQ(Admin({"cycle", "open", "OLD_AGE"}), 2);

  v1::ListCyclesResponse list;
  *list.add_cycles() = cycle;
  v1::ListCyclesRequest asked;
  EXPECT_CALL(mock_, ListCycles(_))
      .WillOnce(Invoke([&](const v1::ListCyclesRequest& r) -> absl::StatusOr<v1::ListCyclesResponse> {
        asked = r;
        return list;
      }));
  EXPECT_EQ(Admin({"cycle", "list", "--status", "open", "--programme", "OLD_AGE"}), 0) << err();
  EXPECT_EQ(asked.status(), v1::CYCLE_STATUS_OPEN);
  EXPECT_EQ(asked.programme_code(), "OLD_AGE");
  EXPECT_THAT(out(), HasSubstr("C4"));

  cycle.set_status(v1::CYCLE_STATUS_CLOSED);
  EXPECT_CALL(mock_, CloseCycle(_)).WillOnce(Return(cycle));
  EXPECT_EQ(Admin({"cycle", "close", "c4"}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("Closed C4"));
}

TEST_F(PaymentsCliTest, CycleLinesStreams) {
  EXPECT_CALL(mock_, ListCycleLines(_, _))
      .WillOnce(Invoke([](const v1::ListCycleLinesRequest& r,
                          const std::function<bool(const v1::ListCycleLinesResponse&)>& on) {
        EXPECT_EQ(r.cycle_id(), "C4");
        EXPECT_EQ(r.status(), v1::LINE_STATUS_UNPAID);
        for (int chunk = 0; chunk < 2; ++chunk) {
          v1::ListCycleLinesResponse c;
          v1::Line* l = c.add_lines();
          l->set_line_id(chunk == 0 ? "L1" : "L2");
          l->set_office_code("KH-SR-03");
          l->set_beneficiary_number("1000000017");
          *l->mutable_amount() = Khr(100);
          *l->mutable_paid() = Khr(0);
          l->set_status(v1::LINE_STATUS_UNPAID);
          if (!on(c)) break;
        }
        return absl::OkStatus();
      }));
  EXPECT_EQ(Admin({"cycle", "lines", "C4", "--status", "unpaid"}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("L1  KH-SR-03  10000 00017"));
  EXPECT_THAT(out(), HasSubstr("L2"));
  EXPECT_THAT(out(), HasSubstr("2 lines"));
}

TEST_F(PaymentsCliTest, PaymentReverse) {
  v1::ReversePaymentRequest asked;
  EXPECT_CALL(mock_, ReversePayment(_))
      .WillOnce(Invoke([&](const v1::ReversePaymentRequest& r) -> absl::StatusOr<v1::Payment> {
        asked = r;
        v1::Payment p;
        p.set_payment_id("P8");
        p.set_reverses_payment_id("P7");
        *p.mutable_amount() = Khr(100);
        return p;
      }));
  EXPECT_EQ(Admin({"payment", "reverse", "p7", "--reason", "wrong person"}), 0) << err();
  EXPECT_EQ(asked.payment_id(), "P7");
  EXPECT_EQ(asked.reason(), "wrong person");
  EXPECT_THAT(out(), HasSubstr("Reversed P7 by P8"));
  EXPECT_EQ(Admin({"payment", "reverse", "P7"}), 2);
}

TEST_F(PaymentsCliTest, ReconcileAsATable) {
  v1::ReconcileRequest asked;
  EXPECT_CALL(mock_, Reconcile(_))
      .WillOnce(Invoke([&](const v1::ReconcileRequest& r) -> absl::StatusOr<v1::ReconciliationReport> {
        asked = r;
        return Report();
      }));
  EXPECT_EQ(Admin({"reconcile", "--period", "2026-11", "--office", "KH-SR-03", "--programme",
                   "old_age", "--max", "50"}),
            0)
      << err();
  EXPECT_EQ(asked.period(), "2026-11");
  EXPECT_EQ(asked.office_code(), "KH-SR-03");
  EXPECT_EQ(asked.programme_code(), "OLD_AGE");
  EXPECT_EQ(asked.max_discrepancies(), 50);
  EXPECT_THAT(out(), HasSubstr("Reconciliation of 2026-11"));
  EXPECT_THAT(out(), HasSubstr("balance to the unit"));
  EXPECT_THAT(out(), HasSubstr("300,000.00"));
  EXPECT_THAT(out(), HasSubstr("paid twice"));
  EXPECT_THAT(out(), HasSubstr("paid after death (died 2026-10-02)"));
  EXPECT_EQ(Admin({"reconcile"}), 2);
  EXPECT_EQ(Admin({"reconcile", "--period", "2026-11", "--format", "pdf"}), 2);
}

TEST_F(PaymentsCliTest, ReconcileWithAStatement) {
  const std::string path = ::testing::TempDir() + "/statement.csv";
  {
    std::ofstream f(path);
    f << "reference,amount,date\r\nABA-1,100000.00,2026-11-20\r\n\"WING,2\",5.5,\r\n";
  }
  v1::ReconcileStatementRequest sent;
  EXPECT_CALL(mock_, Reconcile(_)).WillOnce(Return(Report()));
  EXPECT_CALL(mock_, ReconcileStatement(_))
      .WillOnce(Invoke([&](const v1::ReconcileStatementRequest& r)
                           -> absl::StatusOr<v1::StatementReconciliation> {
        sent = r;
        v1::StatementReconciliation s;
        s.set_matched(1);
        s.set_missing_in_socle(1);
        auto* l = s.add_lines();
        l->set_match(v1::STATEMENT_MATCH_MISSING_IN_SOCLE);
        l->set_provider_reference("WING,2");
        *l->mutable_statement_amount() = Khr(550);
        return s;
      }));
  EXPECT_EQ(Admin({"reconcile", "--period", "2026-11", "--statement", path, "--currency", "KHR",
                   "--format", "csv"}),
            0)
      << err();
  ASSERT_EQ(sent.rows_size(), 2);
  EXPECT_EQ(sent.rows(0).provider_reference(), "ABA-1");
  EXPECT_EQ(sent.rows(0).amount().minor_units(), 10'000'000);
  EXPECT_EQ(sent.rows(0).date().day(), 20);
  EXPECT_EQ(sent.rows(1).provider_reference(), "WING,2");
  EXPECT_EQ(sent.rows(1).amount().minor_units(), 550);
  EXPECT_THAT(out(), HasSubstr("statement,missing in socle,\"WING,2\",KHR,5.50"));
  std::remove(path.c_str());
}

TEST_F(PaymentsCliTest, ReconcileWritesAFile) {
  const std::string path = ::testing::TempDir() + "/report.html";
  EXPECT_CALL(mock_, Reconcile(_)).WillOnce(Return(Report()));
  EXPECT_EQ(Admin({"reconcile", "--period", "2026-11", "--format", "html", "--output", path}), 0)
      << err();
  std::ifstream in(path);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_THAT(html.str(), HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(err(), HasSubstr("wrote"));
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------
// The report itself

TEST(ReconcileReportTest, HtmlStandsAlone) {
  const std::string html = RenderReport(ReportFormat::kHtml, Report(), nullptr);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("</html>"));
  // No script, no fetched resource: it opens offline.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("https:")));
  // Text is escaped.
  EXPECT_THAT(html, HasSubstr("KH-SR-07&lt;x&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("KH-SR-07<x>")));
  // The summary and the discrepancy lines.
  EXPECT_THAT(html, HasSubstr("300,000.00"));
  EXPECT_THAT(html, HasSubstr("paid twice"));
  EXPECT_THAT(html, HasSubstr("P1 P2"));
  EXPECT_THAT(html, HasSubstr("2026-10-02"));
}

TEST(ReconcileReportTest, ChartBarsAreToScaleInIntegers) {
  const std::string html = RenderReport(ReportFormat::kHtml, Report(), nullptr);
  // The largest amount (owed 300,000.00 at KH-SR-03) takes the full 520
  // pixels; paid net 200,000.00 takes 2/3 of it, rounded down: 346.
  EXPECT_THAT(html, HasSubstr("width=\"520\""));
  EXPECT_THAT(html, HasSubstr("width=\"346\""));
  // KH-SR-07: owed 100,000.00 is 173; paid 200,000.00 is 346.
  EXPECT_THAT(html, HasSubstr("width=\"173\""));
  // No decimal point in any coordinate.
  for (absl::string_view attr : {"width=\"", "x=\"", "y=\""}) {
    size_t at = 0;
    while ((at = html.find(std::string(attr), at)) != std::string::npos) {
      at += attr.size();
      const size_t end = html.find('"', at);
      EXPECT_EQ(html.substr(at, end - at).find('.'), std::string::npos);
    }
  }
}

TEST(ReconcileReportTest, CsvIsExact) {
  const std::string csv = RenderReport(ReportFormat::kCsv, Report(), nullptr);
  EXPECT_THAT(csv, HasSubstr("row,2026-11,KH-SR-03,OLD_AGE,KHR,3,3,300000.00,250000.00,"
                             "50000.00,100000.00,0.00,1,1,1,0,0,0,0,yes\r\n"));
  EXPECT_THAT(csv, HasSubstr("total,2026-11,,,KHR,4,0,400000.00,450000.00"));
  EXPECT_THAT(csv, HasSubstr("discrepancy,paid twice,KH-SR-07<x>,OLD_AGE,L4,C1,1000000025,KHR,"
                             "100000.00,200000.00,P1 P2,\r\n"));
  EXPECT_THAT(csv, HasSubstr("paid after death"));
}

TEST(ReconcileReportTest, JsonHoldsBoth) {
  v1::StatementReconciliation s;
  s.set_matched(3);
  const std::string json = RenderReport(ReportFormat::kJson, Report(), &s);
  EXPECT_TRUE(absl::StartsWith(json, "{\"reconciliation\":{"));
  EXPECT_THAT(json, HasSubstr("\"statement\":{"));
  EXPECT_THAT(json, HasSubstr("\"matched\":\"3\""));
}

TEST(ReconcileReportTest, UnbalancedTotalsAreShouted) {
  v1::ReconciliationReport report = Report();
  report.set_balanced(false);
  EXPECT_THAT(RenderReport(ReportFormat::kTable, report, nullptr),
              HasSubstr("DO NOT BALANCE"));
  EXPECT_THAT(RenderReport(ReportFormat::kHtml, report, nullptr), HasSubstr("class=\"bad\""));
}

TEST(StatementCsvTest, ReadsRowsAndRefusesBadOnes) {
  auto rows = ParseStatementCsv("A-1,10,2026-11-01\nB-2,0.5,,USD\n\n", "KHR", "s.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].amount().minor_units(), 1000);
  EXPECT_EQ((*rows)[0].amount().currency(), "KHR");
  EXPECT_EQ((*rows)[1].amount().minor_units(), 50);
  EXPECT_EQ((*rows)[1].amount().currency(), "USD");
  EXPECT_FALSE((*rows)[1].has_date());

  auto bad_amount = ParseStatementCsv("A-1,10\nB-2,1.5.5,2026-11-01\n", "KHR", "s.csv");
  EXPECT_EQ(bad_amount.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_amount.status().message(), HasSubstr("s.csv:2"));
  auto bad_date = ParseStatementCsv("A-1,10,2026-13-01\n", "KHR", "s.csv");
  EXPECT_THAT(bad_date.status().message(), HasSubstr("s.csv:1"));
  auto no_currency = ParseStatementCsv("A-1,10,2026-11-01\n", "", "s.csv");
  EXPECT_THAT(no_currency.status().message(), HasSubstr("currency"));
  auto unclosed = ParseStatementCsv("\"A-1,10\n", "KHR", "s.csv");
  EXPECT_EQ(unclosed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatementCsvTest, FieldsThatLookLikeFormulasAreDefused) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("-5.00"), "-5.00");
  EXPECT_EQ(CsvField("@SUM"), "'@SUM");
  EXPECT_EQ(CsvField("plain"), "plain");
}

}  // namespace
}  // namespace socle::client::cli
