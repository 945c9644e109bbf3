#include "server/payments.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit.h"
#include "server/registry.h"
#include "server/test_util.h"

namespace socle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kPension = 10'000'000;  // OLD_AGE in the default policy, KHR

v1::Date D(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

v1::Money Khr(int64_t minor) {
  v1::Money m;
  m.set_minor_units(minor);
  m.set_currency("KHR");
  return m;
}

std::string Reason(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

std::string Meta(const absl::Status& s, const std::string& key) {
  auto info = GetErrorInfo(s);
  if (!info) return "";
  auto it = info->metadata.find(key);
  return it == info->metadata.end() ? "" : it->second;
}

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : GetFieldViolations(s)) out.push_back(v.field);
  return out;
}

class PaymentsTest : public ::testing::Test {
 protected:
  PaymentsTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        registry_(store_.get(), &clock_),
        eligibility_(store_.get(), &clock_, &policy_),
        payments_(store_.get(), &clock_, &policy_) {
    clerk_ = {CallerKind::kTest, "terminal:KH-SR-03:T01", "KH-SR-03", Role::kNone, ""};
    admin_ = {CallerKind::kAdmin, "admin:ministry", "", Role::kNone, ""};
    registry_.AddLifeEventHook(eligibility_.DeathHook());
    absl::Status loaded = eligibility_.LoadAtStart(
        {std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto"});
    EXPECT_TRUE(loaded.ok()) << loaded;
  }

  std::string Id() { return absl::StrCat("r", ++counter_); }

  // A pensioner enrolled in OLD_AGE since 2026-01-01 at `office`.
  v1::Enrolment Pensioner(const std::string& office = "KH-SR-03",
                          const std::string& name = "Elder") {
    v1::RegisterPersonRequest r;
    r.set_request_id(Id());
    r.mutable_person()->set_given_name(absl::StrCat(name, counter_));
    r.mutable_person()->set_family_name("Payments");
    r.mutable_person()->set_sex(v1::SEX_FEMALE);
    *r.mutable_person()->mutable_date_of_birth() = D(1950, 3, 3);
    r.mutable_person()->mutable_address()->set_district("Siem Reap");
    r.mutable_person()->set_office_code(office);
    auto p = registry_.RegisterPerson(clerk_, r);
    EXPECT_TRUE(p.ok()) << p.status();
    v1::EnrolRequest e;
    e.set_request_id(Id());
    e.set_beneficiary_number(p->beneficiary_number());
    e.set_programme_code("OLD_AGE");
    *e.mutable_start_date() = D(2026, 1, 1);
    auto enrolment = eligibility_.Enrol(clerk_, e);
    EXPECT_TRUE(enrolment.ok()) << enrolment.status();
    return enrolment.ok() ? *enrolment : v1::Enrolment();
  }

  absl::StatusOr<v1::Cycle> Open(const std::string& programme = "OLD_AGE",
                                 const std::string& period = "2026-11",
                                 const std::string& request_id = "") {
    v1::OpenCycleRequest r;
    r.set_request_id(request_id.empty() ? Id() : request_id);
    r.set_programme_code(programme);
    r.set_period(period);
    return payments_.OpenCycle(admin_, r);
  }

  v1::Cycle MustOpen(const std::string& programme = "OLD_AGE",
                     const std::string& period = "2026-11") {
    auto c = Open(programme, period);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Cycle();
  }

  absl::StatusOr<v1::Cycle> Close(const std::string& cycle_id) {
    v1::CloseCycleRequest r;
    r.set_request_id(Id());
    r.set_cycle_id(cycle_id);
    return payments_.CloseCycle(admin_, r);
  }

  std::vector<v1::Line> Lines(const std::string& cycle_id, const std::string& office = "",
                              v1::LineStatus status = v1::LINE_STATUS_UNSPECIFIED,
                              int chunk = 0, int* chunks = nullptr) {
    v1::ListCycleLinesRequest r;
    r.set_cycle_id(cycle_id);
    r.set_office_code(office);
    r.set_status(status);
    r.set_chunk_size(chunk);
    std::vector<v1::Line> out;
    auto listing = payments_.BeginListLines(admin_, r);
    EXPECT_TRUE(listing.ok()) << listing.status();
    if (!listing.ok()) return out;
    int n = 0;
    while (!listing->done) {
      auto next = payments_.NextLines(*listing);
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok()) break;
      EXPECT_TRUE(next->lines_size() > 0 || listing->done);
      if (next->lines_size() > 0) ++n;
      for (const v1::Line& l : next->lines()) out.push_back(l);
    }
    if (chunks) *chunks = n;
    return out;
  }

  v1::Line LineOf(const v1::Cycle& cycle, const v1::Enrolment& e) {
    for (const v1::Line& l : Lines(cycle.cycle_id())) {
      if (l.enrolment_id() == e.enrolment_id()) return l;
    }
    ADD_FAILURE() << "no line for " << e.enrolment_id();
    return v1::Line();
  }

  v1::RecordPaymentRequest PayLine(const v1::Line& line, int64_t amount,
                                   const std::string& key = "") {
    v1::RecordPaymentRequest r;
    r.set_idempotency_key(key.empty() ? absl::StrCat("k", ++counter_) : key);
    r.set_line_id(line.line_id());
    *r.mutable_amount() = Khr(amount);
    r.set_channel(v1::PAYMENT_CHANNEL_CASH);
    return r;
  }

  absl::StatusOr<v1::Payment> Pay(const v1::RecordPaymentRequest& r) {
    return payments_.RecordPayment(clerk_, r);
  }

  absl::StatusOr<v1::Payment> Reverse(const std::string& payment_id,
                                      const std::string& request_id = "") {
    v1::ReversePaymentRequest r;
    r.set_request_id(request_id.empty() ? Id() : request_id);
    r.set_payment_id(payment_id);
    r.set_reason("paid twice at the counter");
    return payments_.ReversePayment(admin_, r);
  }

  absl::Status Die(const std::string& beneficiary, v1::Date date) {
    v1::RecordLifeEventRequest death;
    death.set_request_id(Id());
    death.set_beneficiary_number(beneficiary);
    *death.mutable_event()->mutable_date() = date;
    death.mutable_event()->mutable_death();
    return registry_.RecordLifeEvent(clerk_, death).status();
  }

  absl::StatusOr<v1::ReconciliationReport> Reconcile(const std::string& office = "",
                                                     int max = 0) {
    v1::ReconcileRequest r;
    r.set_period("2026-11");
    r.set_office_code(office);
    r.set_max_discrepancies(max);
    return payments_.Reconcile(admin_, r);
  }

  std::string LastAuditAction() {
    std::string action;
    absl::Status s = store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
      auto last = txn.LastAudit();
      if (last.ok()) action = last->action;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok());
    return action;
  }

  int64_t AuditCount() {
    int64_t seq = 0;
    absl::Status s = store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
      auto last = txn.LastAudit();
      if (last.ok()) seq = last->seq;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok());
    return seq;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  PolicyHolder policy_;
  Registry registry_;
  Eligibility eligibility_;
  Payments payments_;
  Caller clerk_;
  Caller admin_;
  int counter_ = 0;
};

// ---------------------------------------------------------------------------
// Helpers

TEST(PeriodTest, ParsesMonthsAndRefusesTheRest) {
  auto p = ParsePeriod("2024-02", "period");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->first_day, absl::CivilDay(2024, 2, 1));
  EXPECT_EQ(p->last_day, absl::CivilDay(2024, 2, 29));
  auto dec = ParsePeriod("2026-12", "period");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->last_day, absl::CivilDay(2026, 12, 31));
  for (const char* bad : {"", "2026-13", "2026-00", "2026-1", "2026/11", "26-11", "2026-11-01",
                          "0000-11", "+026-11"}) {
    auto r = ParsePeriod(bad, "period");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Fields(r.status()), ElementsAre("period")) << bad;
  }
}

TEST(ClassifyTest, EveryCategoryOfALine) {
  EXPECT_EQ(ClassifyLine(100, 100, 1), v1::CATEGORY_PAID_IN_FULL);
  EXPECT_EQ(ClassifyLine(100, 100, 3), v1::CATEGORY_PAID_IN_FULL);
  EXPECT_EQ(ClassifyLine(100, 0, 0), v1::CATEGORY_UNPAID);
  EXPECT_EQ(ClassifyLine(100, 1, 1), v1::CATEGORY_UNDERPAID);
  EXPECT_EQ(ClassifyLine(100, 101, 1), v1::CATEGORY_OVERPAID);
  EXPECT_EQ(ClassifyLine(100, 300, 1), v1::CATEGORY_OVERPAID);  // one payment
  EXPECT_EQ(ClassifyLine(100, 199, 2), v1::CATEGORY_OVERPAID);
  EXPECT_EQ(ClassifyLine(100, 200, 2), v1::CATEGORY_PAID_TWICE);
  EXPECT_EQ(LineStatusOf(100, 0), v1::LINE_STATUS_UNPAID);
  EXPECT_EQ(LineStatusOf(100, 50), v1::LINE_STATUS_PARTLY_PAID);
  EXPECT_EQ(LineStatusOf(100, 100), v1::LINE_STATUS_PAID);
  EXPECT_EQ(LineStatusOf(100, 101), v1::LINE_STATUS_OVERPAID);
}

TEST(IdsTest, PrefixedIdsRoundTrip) {
  EXPECT_EQ(FormatCycleId(12), "C12");
  EXPECT_EQ(*ParseCycleId(" c12 ", "cycle_id"), 12);
  EXPECT_EQ(*ParseLineId("L7", "line_id"), 7);
  EXPECT_EQ(*ParsePaymentId("P3", "payment_id"), 3);
  EXPECT_EQ(ParseLineId("C7", "line_id").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePaymentId("P0", "payment_id").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePaymentId("", "payment_id").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Cycles

TEST_F(PaymentsTest, OpeningComputesThePayrollOnce) {
  v1::Enrolment a = Pensioner("KH-SR-03");
  v1::Enrolment b = Pensioner("KH-SR-07");
  const int64_t before = AuditCount();
  auto cycle = Open("OLD_AGE", "2026-11", "open-1");
  ASSERT_TRUE(cycle.ok()) << cycle.status();
  EXPECT_EQ(cycle->programme_code(), "OLD_AGE");
  EXPECT_EQ(cycle->period(), "2026-11");
  EXPECT_EQ(cycle->status(), v1::CYCLE_STATUS_OPEN);
  EXPECT_EQ(cycle->line_count(), 2);
  ASSERT_EQ(cycle->total_owed_size(), 1);
  EXPECT_EQ(cycle->total_owed(0).minor_units(), 2 * kPension);
  EXPECT_EQ(cycle->total_owed(0).currency(), "KHR");
  EXPECT_EQ(cycle->opened_by(), "admin:ministry");
  EXPECT_EQ(AuditCount(), before + 1);
  EXPECT_EQ(LastAuditAction(), "OpenCycle");

  std::vector<v1::Line> lines = Lines(cycle->cycle_id());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].enrolment_id(), a.enrolment_id());
  EXPECT_EQ(lines[0].beneficiary_number(), a.beneficiary_number());
  EXPECT_EQ(lines[0].office_code(), "KH-SR-03");
  EXPECT_EQ(lines[0].amount().minor_units(), kPension);
  EXPECT_EQ(lines[0].status(), v1::LINE_STATUS_UNPAID);
  EXPECT_EQ(lines[0].period(), "2026-11");
  EXPECT_EQ(lines[1].office_code(), "KH-SR-07");

  // Again, with another request id: the same cycle, nothing added.
  Pensioner("KH-SR-03");
  const int64_t after_enrolling = AuditCount();
  auto again = Open("OLD_AGE", "2026-11");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->cycle_id(), cycle->cycle_id());
  EXPECT_EQ(again->line_count(), 2);
  EXPECT_EQ(Lines(cycle->cycle_id()).size(), 2u);
  EXPECT_EQ(AuditCount(), after_enrolling);
  // A replay of the first request id answers the first answer.
  auto replay = Open("OLD_AGE", "2026-11", "open-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->cycle_id(), cycle->cycle_id());
  // The same id for another period is a reuse.
  auto reuse = Open("OLD_AGE", "2026-10", "open-1");
  EXPECT_EQ(reuse.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Reason(reuse.status()), "REQUEST_ID_REUSED");
}

TEST_F(PaymentsTest, OpeningChecksItsRequest) {
  auto bad = Open("OLD_AGE", "2026-13");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(bad.status()), ElementsAre("period"));
  auto far = Open("OLD_AGE", "2028-01");
  EXPECT_EQ(far.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown = Open("NO_SUCH", "2026-11");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(unknown.status()), ElementsAre("programme_code"));
  auto membership = Open("HEALTH", "2026-11");  // nothing is paid
  EXPECT_EQ(membership.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(membership.status().message(), HasSubstr("not paid monthly"));
  v1::OpenCycleRequest r;
  r.set_programme_code("OLD_AGE");
  r.set_period("2026-11");
  EXPECT_THAT(Fields(payments_.OpenCycle(admin_, r).status()), ElementsAre("request_id"));
}

TEST_F(PaymentsTest, LinesAreFrozenAndFollowTheEnrolmentPeriod) {
  v1::Enrolment a = Pensioner();
  v1::Enrolment b = Pensioner();
  v1::Enrolment suspended = Pensioner();
  v1::ChangeEnrolmentRequest change;
  change.set_request_id(Id());
  change.set_enrolment_id(suspended.enrolment_id());
  change.set_reason("not collected for three months");
  ASSERT_TRUE(eligibility_.SuspendEnrolment(clerk_, change).ok());
  // Ended in October: not in November's payroll.
  change.set_request_id(Id());
  change.set_enrolment_id(b.enrolment_id());
  change.set_reason("moved abroad");
  *change.mutable_date() = D(2026, 10, 31);
  ASSERT_TRUE(eligibility_.EndEnrolment(clerk_, change).ok());
  v1::Cycle cycle = MustOpen();
  std::vector<v1::Line> lines = Lines(cycle.cycle_id());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].enrolment_id(), a.enrolment_id());
  // Ending the enrolment afterwards does not change the open cycle.
  change.set_request_id(Id());
  change.set_enrolment_id(a.enrolment_id());
  *change.mutable_date() = D(2026, 11, 25);
  ASSERT_TRUE(eligibility_.EndEnrolment(clerk_, change).ok());
  EXPECT_EQ(Lines(cycle.cycle_id()).size(), 1u);
  auto got = payments_.GetCycle(admin_, [&] {
    v1::GetCycleRequest g;
    g.set_cycle_id(cycle.cycle_id());
    return g;
  }());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->line_count(), 1);
}

TEST_F(PaymentsTest, CyclesListAndGet) {
  Pensioner();
  v1::Cycle oct = MustOpen("OLD_AGE", "2026-10");
  v1::Cycle nov = MustOpen("OLD_AGE", "2026-11");
  v1::Cycle child = MustOpen("CHILD", "2026-11");
  ASSERT_TRUE(Close(oct.cycle_id()).ok());
  v1::ListCyclesRequest r;
  r.set_page_size(2);
  auto page = payments_.ListCycles(admin_, r);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->cycles_size(), 2);
  EXPECT_EQ(page->cycles(0).cycle_id(), child.cycle_id());
  EXPECT_EQ(page->cycles(1).cycle_id(), nov.cycle_id());
  r.set_page_token(page->next_page_token());
  auto rest = payments_.ListCycles(admin_, r);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->cycles_size(), 1);
  EXPECT_EQ(rest->cycles(0).cycle_id(), oct.cycle_id());
  EXPECT_EQ(rest->cycles(0).status(), v1::CYCLE_STATUS_CLOSED);
  EXPECT_EQ(rest->next_page_token(), "");

  v1::ListCyclesRequest closed;
  closed.set_status(v1::CYCLE_STATUS_CLOSED);
  EXPECT_EQ(payments_.ListCycles(admin_, closed)->cycles_size(), 1);
  v1::ListCyclesRequest by_period;
  by_period.set_period("2026-11");
  by_period.set_programme_code("CHILD");
  EXPECT_EQ(payments_.ListCycles(admin_, by_period)->cycles(0).cycle_id(), child.cycle_id());
  v1::ListCyclesRequest bad;
  bad.set_page_token("nonsense");
  EXPECT_EQ(payments_.ListCycles(admin_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::GetCycleRequest g;
  g.set_cycle_id("C999");
  EXPECT_EQ(payments_.GetCycle(admin_, g).status().code(), absl::StatusCode::kNotFound);
  g.set_cycle_id("999");
  EXPECT_EQ(payments_.GetCycle(admin_, g).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PaymentsTest, ListCycleLinesStreamsChunksAndFilters) {
  std::vector<v1::Enrolment> e;
  for (int i = 0; i < 7; ++i) e.push_back(Pensioner(i % 2 ? "KH-SR-07" : "KH-SR-03"));
  v1::Cycle cycle = MustOpen();
  int chunks = 0;
  EXPECT_EQ(Lines(cycle.cycle_id(), "", v1::LINE_STATUS_UNSPECIFIED, 3, &chunks).size(), 7u);
  EXPECT_EQ(chunks, 3);
  EXPECT_EQ(Lines(cycle.cycle_id(), "", v1::LINE_STATUS_UNSPECIFIED, 7, &chunks).size(), 7u);
  EXPECT_EQ(chunks, 1);
  EXPECT_EQ(Lines(cycle.cycle_id(), "KH-SR-07").size(), 3u);
  // Pay two lines: one in full, one in part.
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, e[0]), kPension)).ok());
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, e[5]), 100)).ok());
  std::vector<v1::Line> paid = Lines(cycle.cycle_id(), "", v1::LINE_STATUS_PAID);
  ASSERT_EQ(paid.size(), 1u);
  EXPECT_EQ(paid[0].enrolment_id(), e[0].enrolment_id());
  EXPECT_EQ(paid[0].paid().minor_units(), kPension);
  EXPECT_EQ(paid[0].payment_count(), 1);
  std::vector<v1::Line> partly = Lines(cycle.cycle_id(), "KH-SR-07", v1::LINE_STATUS_PARTLY_PAID);
  ASSERT_EQ(partly.size(), 1u);
  EXPECT_EQ(partly[0].enrolment_id(), e[5].enrolment_id());
  // A filter with few matches reads on through short chunks.
  EXPECT_EQ(Lines(cycle.cycle_id(), "", v1::LINE_STATUS_UNPAID, 2, &chunks).size(), 5u);
  EXPECT_EQ(chunks, 3);
  EXPECT_THAT(Lines(cycle.cycle_id(), "", v1::LINE_STATUS_OVERPAID), IsEmpty());

  v1::ListCycleLinesRequest r;
  r.set_cycle_id("C999");
  EXPECT_EQ(payments_.BeginListLines(admin_, r).status().code(), absl::StatusCode::kNotFound);
  r.set_cycle_id(cycle.cycle_id());
  r.set_chunk_size(5000);
  EXPECT_THAT(Fields(payments_.BeginListLines(admin_, r).status()), ElementsAre("chunk_size"));
}

// ---------------------------------------------------------------------------
// Payments

TEST_F(PaymentsTest, APaymentIsRecordedOnceUnderItsKey) {
  v1::Enrolment e = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::Line line = LineOf(cycle, e);
  v1::RecordPaymentRequest r = PayLine(line, kPension, "counter-0001");
  const int64_t before = AuditCount();
  auto first = Pay(r);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->line_id(), line.line_id());
  EXPECT_EQ(first->cycle_id(), cycle.cycle_id());
  EXPECT_EQ(first->beneficiary_number(), e.beneficiary_number());
  EXPECT_EQ(first->office_code(), "KH-SR-03");
  EXPECT_EQ(first->amount().minor_units(), kPension);
  EXPECT_EQ(first->recorded_by(), "terminal:KH-SR-03:T01");
  EXPECT_EQ(first->paid_at().seconds(), absl::ToUnixSeconds(testing::TestNow()));
  EXPECT_EQ(AuditCount(), before + 1);
  EXPECT_EQ(LastAuditAction(), "RecordPayment");

  clock_.Advance(absl::Hours(1));
  auto replay = Pay(r);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->payment_id(), first->payment_id());
  EXPECT_EQ(replay->recorded_at().seconds(), first->recorded_at().seconds());
  EXPECT_EQ(AuditCount(), before + 1);
  v1::Line after = LineOf(cycle, e);
  EXPECT_EQ(after.payment_count(), 1);
  EXPECT_EQ(after.status(), v1::LINE_STATUS_PAID);
}

TEST_F(PaymentsTest, AKeyReusedWithOtherContentNamesTheField) {
  v1::Enrolment e = Pensioner();
  v1::Enrolment other = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::RecordPaymentRequest r = PayLine(LineOf(cycle, e), 5'000'000, "key-1");
  r.set_channel(v1::PAYMENT_CHANNEL_MOBILE_MONEY);
  r.set_provider_reference("WING-1");
  ASSERT_TRUE(Pay(r).ok());
  auto expect_reuse = [&](v1::RecordPaymentRequest changed, const std::string& field) {
    auto out = Pay(changed);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kAlreadyExists) << field;
    EXPECT_EQ(Reason(out.status()), "IDEMPOTENCY_KEY_REUSED") << field;
    EXPECT_EQ(Meta(out.status(), "field"), field);
    EXPECT_THAT(out.status().message(), HasSubstr(field));
  };
  v1::RecordPaymentRequest c = r;
  c.mutable_amount()->set_minor_units(5'000'001);
  expect_reuse(c, "amount.minor_units");
  c = r;
  c.set_line_id(LineOf(cycle, other).line_id());
  expect_reuse(c, "line_id");
  c = r;
  c.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);
  expect_reuse(c, "channel");
  c = r;
  c.set_provider_reference("WING-2");
  expect_reuse(c, "provider_reference");
  c = r;
  c.mutable_amount()->set_currency("USD");
  expect_reuse(c, "amount.currency");
  c = r;
  c.mutable_paid_at()->set_seconds(absl::ToUnixSeconds(testing::TestNow()) - 3600);
  expect_reuse(c, "paid_at");
  c = r;
  c.mutable_beneficiary()->set_beneficiary_number(e.beneficiary_number());
  c.mutable_beneficiary()->set_programme_code("OLD_AGE");
  c.mutable_beneficiary()->set_period("2026-11");
  EXPECT_EQ(Pay(c).status().code(), absl::StatusCode::kOk) << "same person and line";
  c.mutable_beneficiary()->set_beneficiary_number(other.beneficiary_number());
  expect_reuse(c, "beneficiary.beneficiary_number");
  EXPECT_EQ(LineOf(cycle, e).payment_count(), 1);
  EXPECT_EQ(LineOf(cycle, other).payment_count(), 0);
}

TEST_F(PaymentsTest, ALinePaidInFullTakesOnlySupplements) {
  v1::Enrolment e = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::Line line = LineOf(cycle, e);
  ASSERT_TRUE(Pay(PayLine(line, 4'000'000)).ok());
  ASSERT_TRUE(Pay(PayLine(line, 6'000'000)).ok());  // completes the amount
  EXPECT_EQ(LineOf(cycle, e).status(), v1::LINE_STATUS_PAID);
  auto again = Pay(PayLine(line, kPension));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(again.status()), "LINE_PAID_IN_FULL");
  EXPECT_THAT(again.status().message(), HasSubstr("supplement"));
  v1::RecordPaymentRequest supplement = PayLine(line, 2'000'000);
  supplement.set_supplement(true);
  supplement.set_note("arrears for October");
  auto paid = Pay(supplement);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_TRUE(paid->supplement());
  EXPECT_EQ(LineOf(cycle, e).status(), v1::LINE_STATUS_OVERPAID);
  // A refused key was not kept: it may be used again.
  v1::RecordPaymentRequest retry = PayLine(line, 1, "refused-key");
  EXPECT_FALSE(Pay(retry).ok());
  retry.set_supplement(true);
  EXPECT_TRUE(Pay(retry).ok());
}

TEST_F(PaymentsTest, AClosedCycleTakesNoPaymentButReversals) {
  v1::Enrolment e = Pensioner();
  v1::Enrolment f = Pensioner();
  v1::Cycle cycle = MustOpen();
  auto paid = Pay(PayLine(LineOf(cycle, e), kPension));
  ASSERT_TRUE(paid.ok());
  auto closed = Close(cycle.cycle_id());
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->status(), v1::CYCLE_STATUS_CLOSED);
  EXPECT_EQ(closed->closed_by(), "admin:ministry");
  EXPECT_EQ(LastAuditAction(), "CloseCycle");
  const int64_t audits = AuditCount();
  auto twice = Close(cycle.cycle_id());
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->closed_at().seconds(), closed->closed_at().seconds());
  EXPECT_EQ(AuditCount(), audits);

  auto refused = Pay(PayLine(LineOf(cycle, f), kPension));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(refused.status()), "CYCLE_CLOSED");
  EXPECT_THAT(refused.status().message(), HasSubstr("closed"));
  EXPECT_TRUE(Reverse(paid->payment_id()).ok());
  // The replay of a payment made before closing still answers.
  v1::RecordPaymentRequest r = PayLine(LineOf(cycle, e), kPension, paid->idempotency_key());
  EXPECT_TRUE(Pay(r).ok());
  EXPECT_EQ(Close("C999").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PaymentsTest, NothingIsPaidToAPersonDeadBeforeThePeriod) {
  v1::Enrolment died_before = Pensioner();
  v1::Enrolment died_during = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::Line before_line = LineOf(cycle, died_before);
  v1::Line during_line = LineOf(cycle, died_during);
  ASSERT_TRUE(Die(died_before.beneficiary_number(), D(2026, 10, 28)).ok());
  ASSERT_TRUE(Die(died_during.beneficiary_number(), D(2026, 11, 3)).ok());
  auto refused = Pay(PayLine(before_line, kPension));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(refused.status()), "PERSON_DECEASED");
  EXPECT_EQ(Meta(refused.status(), "date_of_death"), "2026-10-28");
  EXPECT_THAT(refused.status().message(), HasSubstr("died on 2026-10-28"));
  // The month of death is owed.
  EXPECT_TRUE(Pay(PayLine(during_line, kPension)).ok());
}

TEST_F(PaymentsTest, PaymentsByBeneficiary) {
  v1::Enrolment e = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::RecordPaymentRequest r;
  r.set_idempotency_key("bank-0001");
  r.mutable_beneficiary()->set_beneficiary_number(e.beneficiary_number());
  r.mutable_beneficiary()->set_programme_code("OLD_AGE");
  r.mutable_beneficiary()->set_period("2026-11");
  *r.mutable_amount() = Khr(kPension);
  r.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);
  r.set_provider_reference("ABA-77");
  auto paid = Pay(r);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->line_id(), LineOf(cycle, e).line_id());

  // Someone with no line in the cycle: refused unless recorded as such.
  v1::RegisterPersonRequest reg;
  reg.set_request_id(Id());
  reg.mutable_person()->set_given_name("Stranger");
  reg.mutable_person()->set_family_name("Payments");
  reg.mutable_person()->set_sex(v1::SEX_MALE);
  *reg.mutable_person()->mutable_date_of_birth() = D(1990, 1, 1);
  reg.mutable_person()->mutable_address()->set_district("Siem Reap");
  reg.mutable_person()->set_office_code("KH-SR-07");
  auto stranger = registry_.RegisterPerson(clerk_, reg);
  ASSERT_TRUE(stranger.ok());
  r.set_idempotency_key("bank-0002");
  r.set_provider_reference("ABA-78");
  r.mutable_beneficiary()->set_beneficiary_number(stranger->beneficiary_number());
  auto no_line = Pay(r);
  EXPECT_EQ(no_line.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(no_line.status()), "NO_LINE");
  r.set_without_line(true);
  auto loose = Pay(r);
  ASSERT_TRUE(loose.ok()) << loose.status();
  EXPECT_EQ(loose->line_id(), "");
  EXPECT_EQ(loose->office_code(), "KH-SR-07");  // the person's office

  r.mutable_beneficiary()->set_period("2026-09");
  r.set_idempotency_key("bank-0003");
  EXPECT_EQ(Pay(r).status().code(), absl::StatusCode::kNotFound);
  r.set_idempotency_key("bank-0004");
  r.mutable_beneficiary()->set_period("2026-11");
  r.mutable_beneficiary()->set_beneficiary_number(FormatBeneficiaryNumber(99999));
  EXPECT_EQ(Pay(r).status().code(), absl::StatusCode::kNotFound);
  v1::RecordPaymentRequest wrong = PayLine(LineOf(cycle, e), 1);
  wrong.set_without_line(true);
  EXPECT_THAT(Fields(Pay(wrong).status()), ElementsAre("without_line"));
}

TEST_F(PaymentsTest, PaymentFieldsAreChecked) {
  v1::Enrolment e = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::Line line = LineOf(cycle, e);
  v1::RecordPaymentRequest r = PayLine(line, kPension);
  r.set_idempotency_key("bad key!");
  r.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);  // needs a reference
  r.mutable_amount()->set_minor_units(0);
  r.mutable_paid_at()->set_seconds(absl::ToUnixSeconds(testing::TestNow()) + 86400);
  auto out = Pay(r);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(out.status()), ElementsAre("idempotency_key", "amount.minor_units",
                                                "provider_reference", "paid_at"));
  v1::RecordPaymentRequest negative = PayLine(line, -5);
  EXPECT_THAT(Fields(Pay(negative).status()), ElementsAre("amount.minor_units"));
  v1::RecordPaymentRequest no_channel = PayLine(line, 5);
  no_channel.set_channel(v1::PAYMENT_CHANNEL_UNSPECIFIED);
  EXPECT_THAT(Fields(Pay(no_channel).status()), ElementsAre("channel"));
  v1::RecordPaymentRequest dollars = PayLine(line, 5);
  dollars.mutable_amount()->set_currency("USD");
  auto currency = Pay(dollars);
  EXPECT_EQ(currency.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(currency.status()), ElementsAre("amount.currency"));
  v1::RecordPaymentRequest no_target = PayLine(line, 5);
  no_target.clear_line_id();
  EXPECT_THAT(Fields(Pay(no_target).status()), ElementsAre("target"));
  v1::RecordPaymentRequest unknown = PayLine(line, 5);
  unknown.set_line_id("L999");
  EXPECT_EQ(Pay(unknown).status().code(), absl::StatusCode::kNotFound);
  // A paid_at in the past is kept as given.
  v1::RecordPaymentRequest earlier = PayLine(line, 5);
  earlier.mutable_paid_at()->set_seconds(absl::ToUnixSeconds(testing::TestNow()) - 86400);
  auto kept = Pay(earlier);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->paid_at().seconds(), absl::ToUnixSeconds(testing::TestNow()) - 86400);
}

TEST_F(PaymentsTest, AReversalIsANewEntryAndHappensOnce) {
  v1::Enrolment e = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::Line line = LineOf(cycle, e);
  auto paid = Pay(PayLine(line, kPension));
  ASSERT_TRUE(paid.ok());
  auto reversal = Reverse(paid->payment_id(), "rev-1");
  ASSERT_TRUE(reversal.ok()) << reversal.status();
  EXPECT_NE(reversal->payment_id(), paid->payment_id());
  EXPECT_EQ(reversal->reverses_payment_id(), paid->payment_id());
  EXPECT_EQ(reversal->reversal_reason(), "paid twice at the counter");
  EXPECT_EQ(reversal->amount().minor_units(), kPension);
  EXPECT_EQ(reversal->line_id(), line.line_id());
  EXPECT_EQ(reversal->idempotency_key(), "");
  EXPECT_EQ(LastAuditAction(), "ReversePayment");
  EXPECT_EQ(LineOf(cycle, e).status(), v1::LINE_STATUS_UNPAID);

  auto replay = Reverse(paid->payment_id(), "rev-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->payment_id(), reversal->payment_id());
  auto twice = Reverse(paid->payment_id());
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(twice.status()), "ALREADY_REVERSED");
  EXPECT_EQ(Meta(twice.status(), "reversed_by_payment_id"), reversal->payment_id());
  auto of_reversal = Reverse(reversal->payment_id());
  EXPECT_EQ(Reason(of_reversal.status()), "NOT_REVERSIBLE");
  EXPECT_EQ(Reverse("P999").status().code(), absl::StatusCode::kNotFound);
  v1::ReversePaymentRequest no_reason;
  no_reason.set_request_id(Id());
  no_reason.set_payment_id(paid->payment_id());
  EXPECT_THAT(Fields(payments_.ReversePayment(admin_, no_reason).status()),
              ElementsAre("reason"));

  // The original is never changed, only marked by the entry that reverses it.
  v1::RecordPaymentRequest r = PayLine(line, kPension, paid->idempotency_key());
  auto original = Pay(r);
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->reversed_by_payment_id(), reversal->payment_id());
  // The line, unpaid again, takes a payment without being a supplement.
  EXPECT_TRUE(Pay(PayLine(line, kPension)).ok());
}

TEST_F(PaymentsTest, ABatchRecordsEachItemOnItsOwnAndReplaysOnRetry) {
  v1::Enrolment a = Pensioner();
  v1::Enrolment b = Pensioner();
  v1::Cycle cycle = MustOpen();
  v1::RecordPaymentsRequest batch;
  *batch.add_items() = PayLine(LineOf(cycle, a), kPension, "b-1");
  *batch.add_items() = PayLine(LineOf(cycle, a), kPension, "b-2");  // a is paid by b-1
  v1::RecordPaymentRequest bad = PayLine(LineOf(cycle, b), kPension, "b-3");
  bad.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);  // no reference
  *batch.add_items() = bad;
  *batch.add_items() = PayLine(LineOf(cycle, b), kPension, "b-4");
  *batch.add_items() = PayLine(LineOf(cycle, b), kPension, "b-4");  // same key, same content
  auto out = payments_.RecordPayments(clerk_, batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->results_size(), 5);
  EXPECT_EQ(out->recorded(), 2);
  EXPECT_EQ(out->replayed(), 1);
  EXPECT_EQ(out->failed(), 2);
  EXPECT_EQ(out->results(0).status().code(), 0);
  EXPECT_EQ(out->results(1).status().code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(out->results(1).status().message(), HasSubstr("paid in full"));
  EXPECT_EQ(out->results(1).status().details_size(), 1);  // ErrorInfo
  EXPECT_EQ(out->results(2).status().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(out->results(2).idempotency_key(), "b-3");
  EXPECT_EQ(out->results(2).index(), 2);
  EXPECT_EQ(out->results(3).status().code(), 0);
  EXPECT_FALSE(out->results(3).replayed());
  EXPECT_TRUE(out->results(4).replayed());
  EXPECT_EQ(out->results(4).payment().payment_id(), out->results(3).payment().payment_id());

  const int64_t audits = AuditCount();
  auto retry = payments_.RecordPayments(clerk_, batch);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->recorded(), 0);
  EXPECT_EQ(retry->replayed(), 3);
  EXPECT_EQ(retry->failed(), 2);
  EXPECT_EQ(retry->results(0).payment().payment_id(), out->results(0).payment().payment_id());
  EXPECT_EQ(AuditCount(), audits);
  EXPECT_EQ(LineOf(cycle, a).payment_count(), 1);
  EXPECT_EQ(LineOf(cycle, b).payment_count(), 1);

  v1::RecordPaymentsRequest empty;
  EXPECT_EQ(payments_.RecordPayments(clerk_, empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Reconciliation

TEST_F(PaymentsTest, ReconcileClassifiesEveryLineAndPaymentAndBalances) {
  v1::Enrolment full = Pensioner("KH-SR-03");
  v1::Enrolment unpaid = Pensioner("KH-SR-03");
  v1::Enrolment under = Pensioner("KH-SR-03");
  v1::Enrolment over = Pensioner("KH-SR-07");
  v1::Enrolment twice = Pensioner("KH-SR-07");
  v1::Enrolment dead = Pensioner("KH-SR-07");
  v1::Cycle cycle = MustOpen();
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, full), kPension)).ok());
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, under), 3'000'000)).ok());
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, over), 12'000'000)).ok());
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, twice), kPension)).ok());
  v1::RecordPaymentRequest second = PayLine(LineOf(cycle, twice), kPension);
  second.set_supplement(true);
  ASSERT_TRUE(Pay(second).ok());
  auto to_dead = Pay(PayLine(LineOf(cycle, dead), kPension));
  ASSERT_TRUE(to_dead.ok());
  // Paid, then the death is recorded: it happened in October.
  ASSERT_TRUE(Die(dead.beneficiary_number(), D(2026, 10, 2)).ok());
  // A payment reversed counts for nothing but the reversed total.
  auto mistake = Pay(PayLine(LineOf(cycle, unpaid), kPension));
  ASSERT_TRUE(mistake.ok());
  ASSERT_TRUE(Reverse(mistake->payment_id()).ok());
  // Money out with no entitlement.
  v1::RecordPaymentRequest loose;
  loose.set_idempotency_key("loose-1");
  loose.mutable_beneficiary()->set_beneficiary_number(full.beneficiary_number());
  loose.mutable_beneficiary()->set_programme_code("OLD_AGE");
  loose.mutable_beneficiary()->set_period("2026-11");
  loose.set_without_line(true);
  *loose.mutable_amount() = Khr(500);
  loose.set_channel(v1::PAYMENT_CHANNEL_CASH);
  // full has a line: the payment attaches to it (a supplement is needed).
  loose.set_supplement(true);
  auto attached = Pay(loose);
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_NE(attached->line_id(), "");

  auto report = Reconcile();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->balanced());
  ASSERT_EQ(report->rows_size(), 2);
  const v1::ReconciliationRow& sr03 = report->rows(0);
  EXPECT_EQ(sr03.office_code(), "KH-SR-03");
  EXPECT_EQ(sr03.programme_code(), "OLD_AGE");
  EXPECT_EQ(sr03.lines(), 3);
  EXPECT_EQ(sr03.owed_minor(), 3 * kPension);
  EXPECT_EQ(sr03.paid_minor(), kPension + 500 + 3'000'000 + kPension);
  EXPECT_EQ(sr03.reversed_minor(), kPension);
  EXPECT_EQ(sr03.outstanding_minor(), kPension + 7'000'000);
  EXPECT_EQ(sr03.excess_minor(), 500);
  EXPECT_EQ(sr03.overpaid(), 1);  // full + 500
  EXPECT_EQ(sr03.unpaid(), 1);
  EXPECT_EQ(sr03.underpaid(), 1);
  const v1::ReconciliationRow& sr07 = report->rows(1);
  EXPECT_EQ(sr07.paid_in_full(), 1);  // the dead person's line
  EXPECT_EQ(sr07.overpaid(), 1);
  EXPECT_EQ(sr07.paid_twice(), 1);
  EXPECT_EQ(sr07.paid_after_death(), 1);
  EXPECT_EQ(sr07.excess_minor(), 2'000'000 + kPension);
  ASSERT_EQ(report->totals_size(), 1);
  EXPECT_EQ(report->totals(0).lines(), 6);
  EXPECT_EQ(report->totals(0).owed_minor(), 6 * kPension);
  for (const auto& r : report->rows()) {
    EXPECT_EQ(r.owed_minor() - (r.paid_minor() - r.reversed_minor()),
              r.outstanding_minor() - r.excess_minor());
  }
  // Discrepancies: every line not paid in full, and the payment after death.
  std::vector<v1::Category> categories;
  for (const v1::Discrepancy& d : report->discrepancies()) categories.push_back(d.category());
  EXPECT_THAT(categories, ::testing::UnorderedElementsAre(
                              v1::CATEGORY_OVERPAID, v1::CATEGORY_UNPAID, v1::CATEGORY_UNDERPAID,
                              v1::CATEGORY_PAID_AFTER_DEATH, v1::CATEGORY_OVERPAID,
                              v1::CATEGORY_PAID_TWICE));
  EXPECT_EQ(report->discrepancies_omitted(), 0);
  for (const v1::Discrepancy& d : report->discrepancies()) {
    if (d.category() == v1::CATEGORY_PAID_AFTER_DEATH) {
      EXPECT_EQ(d.beneficiary_number(), dead.beneficiary_number());
      EXPECT_EQ(d.date_of_death().month(), 10);
      EXPECT_EQ(d.payment_ids_size(), 1);
      EXPECT_EQ(d.payment_ids(0), to_dead->payment_id());
    }
    if (d.category() == v1::CATEGORY_PAID_TWICE) {
      EXPECT_EQ(d.payment_ids_size(), 2);
    }
    if (d.category() == v1::CATEGORY_UNPAID) {
      EXPECT_EQ(d.payment_ids_size(), 0);
    }
  }

  auto capped = Reconcile("", 2);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->discrepancies_size(), 2);
  EXPECT_EQ(capped->discrepancies_omitted(), 4);
  // Payments after death or without a line come before lines.
  EXPECT_TRUE(capped->discrepancies(0).category() == v1::CATEGORY_PAID_AFTER_DEATH ||
              capped->discrepancies(1).category() == v1::CATEGORY_PAID_AFTER_DEATH);
  auto office = Reconcile("KH-SR-07");
  ASSERT_TRUE(office.ok());
  ASSERT_EQ(office->rows_size(), 1);
  EXPECT_EQ(office->rows(0).office_code(), "KH-SR-07");
  v1::ReconcileRequest bad;
  bad.set_period("November");
  EXPECT_THAT(Fields(payments_.Reconcile(admin_, bad).status()), ElementsAre("period"));
}

TEST_F(PaymentsTest, PaymentsWithoutEntitlementAreReported) {
  v1::Enrolment e = Pensioner("KH-SR-03");
  v1::Cycle cycle = MustOpen();
  v1::RegisterPersonRequest reg;
  reg.set_request_id(Id());
  reg.mutable_person()->set_given_name("Nobody");
  reg.mutable_person()->set_family_name("Payments");
  reg.mutable_person()->set_sex(v1::SEX_MALE);
  *reg.mutable_person()->mutable_date_of_birth() = D(1990, 1, 1);
  reg.mutable_person()->mutable_address()->set_district("Siem Reap");
  auto nobody = registry_.RegisterPerson(clerk_, reg);
  ASSERT_TRUE(nobody.ok());
  v1::RecordPaymentRequest r;
  r.set_idempotency_key("loose-1");
  r.mutable_beneficiary()->set_beneficiary_number(nobody->beneficiary_number());
  r.mutable_beneficiary()->set_programme_code("OLD_AGE");
  r.mutable_beneficiary()->set_period("2026-11");
  r.set_without_line(true);
  *r.mutable_amount() = Khr(1'000);
  r.set_channel(v1::PAYMENT_CHANNEL_CASH);
  ASSERT_TRUE(Pay(r).ok());
  auto report = Reconcile();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows_size(), 1);
  EXPECT_EQ(report->rows(0).paid_without_entitlement(), 1);
  EXPECT_EQ(report->rows(0).unpaid(), 1);
  EXPECT_EQ(report->rows(0).excess_minor(), 1'000);
  EXPECT_TRUE(report->balanced());
  bool found = false;
  for (const auto& d : report->discrepancies()) {
    if (d.category() != v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT) continue;
    found = true;
    EXPECT_EQ(d.line_id(), "");
    EXPECT_EQ(d.paid().minor_units(), 1'000);
    EXPECT_EQ(d.owed().minor_units(), 0);
  }
  EXPECT_TRUE(found);
}

TEST_F(PaymentsTest, StatementsMatchByProviderReference) {
  std::vector<v1::Enrolment> e;
  for (int i = 0; i < 4; ++i) e.push_back(Pensioner());
  v1::Cycle cycle = MustOpen();
  auto bank = [&](int i, const std::string& ref, int64_t amount) {
    v1::RecordPaymentRequest r = PayLine(LineOf(cycle, e[i]), amount);
    r.set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);
    r.set_provider_reference(ref);
    auto p = Pay(r);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : v1::Payment();
  };
  bank(0, "REF-1", kPension);
  bank(1, "REF-2", kPension);
  bank(2, "REF-3", kPension);  // not on the statement
  v1::Payment undone = bank(3, "REF-9", kPension);
  ASSERT_TRUE(Reverse(undone.payment_id()).ok());  // takes no part
  ASSERT_TRUE(Pay(PayLine(LineOf(cycle, e[3]), kPension)).ok());  // cash, no reference

  v1::ReconcileStatementRequest r;
  r.set_period("2026-11");
  auto row = [&](const std::string& ref, int64_t amount) {
    v1::StatementRow* s = r.add_rows();
    s->set_provider_reference(ref);
    *s->mutable_amount() = Khr(amount);
    *s->mutable_date() = D(2026, 11, 20);
  };
  row("REF-1", kPension);
  row("REF-2", kPension - 1);
  row("REF-4", 70);
  auto out = payments_.ReconcileStatement(admin_, r);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->matched(), 1);
  EXPECT_EQ(out->amount_differs(), 1);
  EXPECT_EQ(out->missing_in_socle(), 1);
  EXPECT_EQ(out->missing_on_statement(), 1);
  ASSERT_EQ(out->lines_size(), 3);
  EXPECT_EQ(out->lines(0).provider_reference(), "REF-2");
  EXPECT_EQ(out->lines(0).match(), v1::STATEMENT_MATCH_AMOUNT_DIFFERS);
  EXPECT_EQ(out->lines(0).recorded_amount().minor_units(), kPension);
  EXPECT_EQ(out->lines(0).statement_amount().minor_units(), kPension - 1);
  EXPECT_EQ(out->lines(1).provider_reference(), "REF-3");
  EXPECT_EQ(out->lines(1).match(), v1::STATEMENT_MATCH_MISSING_ON_STATEMENT);
  EXPECT_EQ(out->lines(2).provider_reference(), "REF-4");
  EXPECT_EQ(out->lines(2).match(), v1::STATEMENT_MATCH_MISSING_IN_SOCLE);
  ASSERT_EQ(out->statement_total_size(), 1);
  EXPECT_EQ(out->statement_total(0).minor_units(), 2 * kPension - 1 + 70);
  EXPECT_EQ(out->recorded_total(0).minor_units(), 3 * kPension);

  row("REF-1", 5);
  auto dup = payments_.ReconcileStatement(admin_, r);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(dup.status()), ElementsAre("rows[3].provider_reference"));
}

// A measurement, not a check: run it with
//   server_test --gtest_also_run_disabled_tests
//     --gtest_filter='*DISABLED_PayrollAtScale*'
// ($SOCLE_PAYROLL_N enrolments, default one million; a payment for one line
// in ten). Prints how long the payroll, the payments, the line stream and
// the reconciliation take.
namespace scale {

TEST(PaymentsScaleTest, DISABLED_PayrollAtScale) {
  int64_t n = 1'000'000;
  if (const char* env = std::getenv("SOCLE_PAYROLL_N")) n = std::atoll(env);
  testing::TempDir dir;
  auto store = testing::OpenTestStore(dir);
  FakeClock clock(testing::TestNow());
  PolicyHolder policy;
  Eligibility eligibility(store.get(), &clock, &policy);
  ASSERT_TRUE(eligibility
                  .LoadAtStart({std::string(SOCLE_SOURCE_DIR) +
                                "/deploy/policy/default.textproto"})
                  .ok());
  Payments payments(store.get(), &clock, &policy);
  Caller admin{CallerKind::kAdmin, "admin:ministry", "", Role::kNone, ""};
  absl::Time start = absl::Now();
  constexpr int64_t kChunk = 50'000;
  for (int64_t done = 0; done < n; done += kChunk) {
    ASSERT_TRUE(store
                    ->Write([&](storage::Txn& txn) -> absl::Status {
                      for (int64_t i = done; i < std::min(n, done + kChunk); ++i) {
                        storage::PersonRecord p;
                        p.version = 1;
                        p.given_name = "Scale";
                        p.family_name = "Test";
                        p.sex = 1;
                        p.date_of_birth = absl::CivilDay(1950, 1, 1);
                        p.office_code = absl::StrCat("KH-SC-", i % 20);
                        ASSIGN_OR_RETURN(p.id, txn.InsertPerson(p));
                        storage::EnrolmentRecord e;
                        e.person_id = p.id;
                        e.programme_code = "OLD_AGE";
                        e.office_code = p.office_code;
                        e.status = 1;
                        e.start_date = absl::CivilDay(2026, 1, 1);
                        e.amount_minor = kPension;
                        e.currency = "KHR";
                        e.version = 1;
                        RETURN_IF_ERROR(txn.InsertEnrolment(e).status());
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }
  std::cout << "[ scale ] " << n << " persons and enrolments inserted in "
            << absl::FormatDuration(absl::Now() - start) << "\n";

  v1::OpenCycleRequest open;
  open.set_request_id("open-scale");
  open.set_programme_code("OLD_AGE");
  open.set_period("2026-11");
  start = absl::Now();
  auto cycle = payments.OpenCycle(admin, open);
  ASSERT_TRUE(cycle.ok()) << cycle.status();
  std::cout << "[ scale ] OpenCycle: " << cycle->line_count() << " lines in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  ASSERT_EQ(cycle->line_count(), n);

  v1::ListCycleLinesRequest list;
  list.set_cycle_id(cycle->cycle_id());
  list.set_chunk_size(Payments::kMaxChunk);
  auto listing = payments.BeginListLines(admin, list);
  ASSERT_TRUE(listing.ok());
  std::vector<std::string> pay_lines;
  int64_t streamed = 0;
  start = absl::Now();
  while (!listing->done) {
    auto chunk = payments.NextLines(*listing);
    ASSERT_TRUE(chunk.ok());
    for (const v1::Line& l : chunk->lines()) {
      if (streamed++ % 10 == 0) pay_lines.push_back(l.line_id());
    }
  }
  std::cout << "[ scale ] every line read in chunks of " << Payments::kMaxChunk << ": "
            << streamed << " in " << absl::FormatDuration(absl::Now() - start) << "\n";

  start = absl::Now();
  for (size_t i = 0; i < pay_lines.size(); i += Payments::kMaxBatch) {
    v1::RecordPaymentsRequest batch;
    for (size_t j = i; j < std::min(pay_lines.size(), i + Payments::kMaxBatch); ++j) {
      v1::RecordPaymentRequest* r = batch.add_items();
      r->set_idempotency_key(absl::StrCat("scale-", j));
      r->set_line_id(pay_lines[j]);
      *r->mutable_amount() = Khr(kPension);
      r->set_channel(v1::PAYMENT_CHANNEL_BANK_TRANSFER);
      r->set_provider_reference(absl::StrCat("ABA-", j));
    }
    auto out = payments.RecordPayments(admin, batch);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->failed(), 0);
  }
  std::cout << "[ scale ] " << pay_lines.size() << " payments in batches of "
            << Payments::kMaxBatch << " in " << absl::FormatDuration(absl::Now() - start)
            << "\n";

  v1::ReconcileRequest reconcile;
  reconcile.set_period("2026-11");
  start = absl::Now();
  auto report = payments.Reconcile(admin, reconcile);
  ASSERT_TRUE(report.ok()) << report.status();
  std::cout << "[ scale ] Reconcile (20 offices, " << report->discrepancies_size()
            << " discrepancies listed) in " << absl::FormatDuration(absl::Now() - start)
            << "\n";
  EXPECT_TRUE(report->balanced());
  ASSERT_EQ(report->totals_size(), 1);
  EXPECT_EQ(report->totals(0).paid_in_full(), static_cast<int64_t>(pay_lines.size()));
  EXPECT_EQ(report->totals(0).unpaid(), n - static_cast<int64_t>(pay_lines.size()));
}

}  // namespace scale
}  // namespace
}  // namespace socle
