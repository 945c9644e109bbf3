// Office scoping and the supervisor rule, in the logic: a clerk or
// supervisor sees and changes only the records of their office (another
// office's answer exactly as missing ones), overrides need a supervisor, and
// ministry reads of personal records are audited.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/eligibility.h"
#include "server/payments.h"
#include "server/registry.h"
#include "server/test_util.h"

namespace socle {
namespace {

using ::testing::IsEmpty;

v1::Date D(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

class ScopingTest : public ::testing::Test {
 protected:
  ScopingTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        registry_(store_.get(), &clock_),
        eligibility_(store_.get(), &clock_, &policy_),
        payments_(store_.get(), &clock_, &policy_) {
    supervisor_ = {CallerKind::kTerminal, "terminal:KH-SR-03:T01", "KH-SR-03",
                   Role::kSupervisor, "dara"};
    clerk_ = {CallerKind::kTerminal, "terminal:KH-SR-03:T02", "KH-SR-03", Role::kClerk,
              "sokha"};
    other_ = {CallerKind::kTerminal, "terminal:KH-BB-01:T01", "KH-BB-01", Role::kSupervisor,
              "vanna"};
    admin_ = {CallerKind::kAdmin, "admin:A", "", Role::kAdmin, ""};
    ministry_ = {CallerKind::kMinistry, "ministry:M", "", Role::kMinistry, ""};
    registry_.AddLifeEventHook(eligibility_.DeathHook());
    EXPECT_TRUE(eligibility_
                    .LoadAtStart({std::string(SOCLE_SOURCE_DIR) +
                                  "/deploy/policy/default.textproto"})
                    .ok());
    // A pensioner of KH-SR-03, in a household, enrolled, with a payroll line
    // paid once.
    person_ = Register(supervisor_, "Elder", 1950);
    v1::CreateHouseholdRequest h;
    h.set_request_id(Id());
    h.set_head_beneficiary_number(person_.beneficiary_number());
    household_ = *registry_.CreateHousehold(supervisor_, h);
    v1::EnrolRequest e;
    e.set_request_id(Id());
    e.set_beneficiary_number(person_.beneficiary_number());
    e.set_programme_code("OLD_AGE");
    *e.mutable_start_date() = D(2026, 1, 1);
    enrolment_ = *eligibility_.Enrol(supervisor_, e);
    v1::OpenCycleRequest o;
    o.set_request_id(Id());
    o.set_programme_code("OLD_AGE");
    o.set_period("2026-11");
    cycle_ = *payments_.OpenCycle(admin_, o);
    v1::ListCycleLinesRequest l;
    l.set_cycle_id(cycle_.cycle_id());
    auto listing = payments_.BeginListLines(admin_, l);
    line_ = payments_.NextLines(*listing)->lines(0);
    payment_ = *payments_.RecordPayment(supervisor_, Pay(line_.line_id(), "k1"));
  }

  std::string Id() { return absl::StrCat("r", ++counter_); }

  v1::Person Register(const Caller& who, const std::string& name, int born,
                      const std::string& override_reason = "") {
    auto p = TryRegister(who, name, born, override_reason);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : v1::Person();
  }
  absl::StatusOr<v1::Person> TryRegister(const Caller& who, const std::string& name, int born,
                                         const std::string& override_reason = "",
                                         const std::string& office = "") {
    v1::RegisterPersonRequest r;
    r.set_request_id(Id());
    r.mutable_person()->set_given_name(name);
    r.mutable_person()->set_family_name("Scoped");
    r.mutable_person()->set_sex(v1::SEX_FEMALE);
    r.mutable_person()->set_national_id(absl::StrCat("NID-", 1000 + counter_));
    *r.mutable_person()->mutable_date_of_birth() = D(born, 3, 3);
    r.mutable_person()->mutable_address()->set_province("Siem Reap");
    r.mutable_person()->mutable_address()->set_district("Siem Reap");
    r.mutable_person()->set_office_code(office);
    r.set_duplicate_override_reason(override_reason);
    return registry_.RegisterPerson(who, r);
  }

  v1::RecordPaymentRequest Pay(const std::string& line_id, const std::string& key) {
    v1::RecordPaymentRequest p;
    p.set_idempotency_key(key);
    p.set_line_id(line_id);
    p.mutable_amount()->set_minor_units(line_.amount().minor_units());
    p.mutable_amount()->set_currency("KHR");
    p.set_channel(v1::PAYMENT_CHANNEL_CASH);
    *p.mutable_paid_at() = ToTimestamp(testing::TestNow());
    return p;
  }

  // The answer for a number that was never issued, with that number
  // replaced by `number`: what a record of another office must look like.
  static void ExpectMissing(const absl::Status& got, const absl::Status& missing,
                            const std::string& missing_number, const std::string& number) {
    EXPECT_EQ(got.code(), absl::StatusCode::kNotFound) << got;
    EXPECT_EQ(std::string(got.message()),
              absl::StrReplaceAll(missing.message(), {{missing_number, number}}));
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  PolicyHolder policy_;
  Registry registry_;
  Eligibility eligibility_;
  Payments payments_;
  Caller supervisor_, clerk_, other_, admin_, ministry_;
  v1::Person person_;
  v1::Household household_;
  v1::Enrolment enrolment_;
  v1::Cycle cycle_;
  v1::Line line_;
  v1::Payment payment_;
  int counter_ = 0;
};

TEST_F(ScopingTest, APersonOfAnotherOfficeIsAsMissing) {
  const std::string number = person_.beneficiary_number();
  const std::string never = FormatBeneficiaryNumber(999999);  // never issued
  v1::GetPersonRequest get;
  get.set_beneficiary_number(never);
  const absl::Status missing = registry_.GetPerson(other_, get).status();
  ASSERT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  get.set_beneficiary_number(number);
  ExpectMissing(registry_.GetPerson(other_, get).status(), missing, never, number);
  EXPECT_TRUE(registry_.GetPerson(clerk_, get).ok());

  v1::ListLifeEventsRequest events;
  events.set_beneficiary_number(number);
  EXPECT_EQ(registry_.ListLifeEvents(other_, events).status().code(),
            absl::StatusCode::kNotFound);
  v1::CheckEligibilityRequest check;
  check.set_beneficiary_number(number);
  EXPECT_EQ(eligibility_.CheckEligibility(other_, check).status().code(),
            absl::StatusCode::kNotFound);
  v1::EnrolRequest enrol;
  enrol.set_request_id(Id());
  enrol.set_beneficiary_number(number);
  enrol.set_programme_code("HEALTH");
  EXPECT_EQ(eligibility_.Enrol(other_, enrol).status().code(), absl::StatusCode::kNotFound);
  v1::ListEnrolmentsRequest list;
  list.set_beneficiary_number(number);
  EXPECT_EQ(eligibility_.ListEnrolments(other_, list).status().code(),
            absl::StatusCode::kNotFound);
  v1::UpdatePersonRequest update;
  update.set_request_id(Id());
  update.set_beneficiary_number(number);
  update.set_expected_version(person_.version());
  *update.mutable_person() = person_;
  update.mutable_person()->set_phone("+85512345678");
  EXPECT_EQ(registry_.UpdatePerson(other_, update).status().code(),
            absl::StatusCode::kNotFound);
  v1::RecordLifeEventRequest event;
  event.set_request_id(Id());
  event.set_beneficiary_number(number);
  *event.mutable_event()->mutable_date() = D(2026, 11, 1);
  event.mutable_event()->mutable_move()->set_office_code("KH-BB-01");
  event.mutable_event()->mutable_move()->mutable_address()->set_district("Battambang");
  event.mutable_event()->mutable_move()->mutable_address()->set_province("Battambang");
  EXPECT_EQ(registry_.RecordLifeEvent(other_, event).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ScopingTest, SearchesAndListingsLeaveOtherOfficesOut) {
  v1::FindPersonsRequest by_id;
  by_id.set_national_id(person_.national_id());
  EXPECT_EQ(registry_.FindPersons(clerk_, by_id)->persons_size(), 1);
  EXPECT_THAT(registry_.FindPersons(other_, by_id)->persons(), IsEmpty());
  v1::FindPersonsRequest by_office;
  by_office.set_office_code("KH-SR-03");
  EXPECT_THAT(registry_.FindPersons(other_, by_office)->persons(), IsEmpty());
  v1::FindPersonsRequest by_name;
  by_name.mutable_name_and_birth()->set_name("Elder Scoped");
  *by_name.mutable_name_and_birth()->mutable_date_of_birth() = D(1950, 3, 3);
  EXPECT_EQ(registry_.FindPersons(clerk_, by_name)->persons_size(), 1);
  EXPECT_THAT(registry_.FindPersons(other_, by_name)->persons(), IsEmpty());
  v1::ListEnrolmentsRequest po;
  po.mutable_programme_office()->set_programme_code("OLD_AGE");
  po.mutable_programme_office()->set_office_code("KH-SR-03");
  EXPECT_EQ(eligibility_.ListEnrolments(clerk_, po)->enrolments_size(), 1);
  EXPECT_THAT(eligibility_.ListEnrolments(other_, po)->enrolments(), IsEmpty());
  // Cycle lines: the office's own only, whatever the filter asks.
  v1::ListCycleLinesRequest lines;
  lines.set_cycle_id(cycle_.cycle_id());
  auto mine = payments_.BeginListLines(clerk_, lines);
  EXPECT_EQ(payments_.NextLines(*mine)->lines_size(), 1);
  auto theirs = payments_.BeginListLines(other_, lines);
  EXPECT_THAT(payments_.NextLines(*theirs)->lines(), IsEmpty());
  lines.set_office_code("KH-SR-03");
  theirs = payments_.BeginListLines(other_, lines);
  EXPECT_THAT(payments_.NextLines(*theirs)->lines(), IsEmpty());
}

TEST_F(ScopingTest, HouseholdsEnrolmentsLinesAndPaymentsOfAnotherOfficeAreAsMissing) {
  v1::GetHouseholdRequest household;
  household.set_household_number(household_.household_number());
  EXPECT_TRUE(registry_.GetHousehold(clerk_, household).ok());
  EXPECT_EQ(registry_.GetHousehold(other_, household).status().code(),
            absl::StatusCode::kNotFound);
  v1::ChangeEnrolmentRequest suspend;
  suspend.set_request_id(Id());
  suspend.set_enrolment_id(enrolment_.enrolment_id());
  suspend.set_reason("test");
  EXPECT_EQ(eligibility_.SuspendEnrolment(other_, suspend).status().code(),
            absl::StatusCode::kNotFound);
  auto pay = payments_.RecordPayment(other_, Pay(line_.line_id(), "k-other"));
  EXPECT_EQ(pay.status().code(), absl::StatusCode::kNotFound) << pay.status();
  v1::ReversePaymentRequest reverse;
  reverse.set_request_id(Id());
  reverse.set_payment_id(payment_.payment_id());
  reverse.set_reason("wrong person");
  EXPECT_EQ(payments_.ReversePayment(other_, reverse).status().code(),
            absl::StatusCode::kNotFound);
  // A replayed key of another office's payment says nothing about it.
  auto replay = payments_.RecordPayment(other_, Pay(line_.line_id(), "k1"));
  EXPECT_NE(replay.status().code(), absl::StatusCode::kOk);
  EXPECT_EQ(std::string(replay.status().message()).find(payment_.payment_id()),
            std::string::npos);
}

TEST_F(ScopingTest, OverridesNeedASupervisor) {
  // A possible duplicate (same name, birth and district).
  auto dup = TryRegister(clerk_, "Elder", 1950, "twins, confirmed");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(GetErrorInfo(dup.status())->reason, "SUPERVISOR_REQUIRED");
  EXPECT_TRUE(TryRegister(supervisor_, "Elder", 1950, "twins, confirmed").ok());
  // Registering into another office.
  EXPECT_EQ(TryRegister(clerk_, "Young", 1990, "", "KH-BB-01").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Enrolling an ineligible person (born 1990: no old-age pension).
  v1::Person young = Register(clerk_, "Young", 1990);
  v1::EnrolRequest e;
  e.set_request_id(Id());
  e.set_beneficiary_number(young.beneficiary_number());
  e.set_programme_code("OLD_AGE");
  e.set_override_reason("committee decision");
  auto refused = eligibility_.Enrol(clerk_, e);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  e.set_request_id(Id());
  EXPECT_TRUE(eligibility_.Enrol(supervisor_, e).ok());
  // A supplement payment.
  v1::RecordPaymentRequest more = Pay(line_.line_id(), "k2");
  more.set_supplement(true);
  EXPECT_EQ(payments_.RecordPayment(clerk_, more).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(payments_.RecordPayment(supervisor_, more).ok());
}

TEST_F(ScopingTest, AMoveIsTheWayARecordChangesOffice) {
  v1::RecordLifeEventRequest event;
  event.set_request_id(Id());
  event.set_beneficiary_number(person_.beneficiary_number());
  *event.mutable_event()->mutable_date() = D(2026, 11, 20);
  event.mutable_event()->mutable_move()->set_office_code("KH-BB-01");
  event.mutable_event()->mutable_move()->mutable_address()->set_province("Battambang");
  event.mutable_event()->mutable_move()->mutable_address()->set_district("Battambang");
  auto moved = registry_.RecordLifeEvent(supervisor_, event);
  ASSERT_TRUE(moved.ok()) << moved.status();
  v1::GetPersonRequest get;
  get.set_beneficiary_number(person_.beneficiary_number());
  EXPECT_EQ(registry_.GetPerson(clerk_, get).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(registry_.GetPerson(other_, get).ok());
}

TEST_F(ScopingTest, MinistryReadsAreAudited) {
  v1::GetPersonRequest get;
  get.set_beneficiary_number(person_.beneficiary_number());
  ASSERT_TRUE(registry_.GetPerson(ministry_, get).ok());
  storage::AuditRecord last;
  ASSERT_TRUE(store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto a = txn.LastAudit();
    if (a.ok()) last = *a;
    return a.status();
  }).ok());
  EXPECT_EQ(last.action, "ReadGetPerson");
  EXPECT_EQ(last.actor, "ministry:M");
  EXPECT_EQ(last.subject, person_.beneficiary_number());
  // A clerk's read is not audited.
  ASSERT_TRUE(registry_.GetPerson(clerk_, get).ok());
  storage::AuditRecord after;
  ASSERT_TRUE(store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto a = txn.LastAudit();
    if (a.ok()) after = *a;
    return a.status();
  }).ok());
  EXPECT_EQ(after.seq, last.seq);
}

}  // namespace
}  // namespace socle
