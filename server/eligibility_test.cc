#include "server/eligibility.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "google/protobuf/arena.h"
#include "gtest/gtest.h"
#include "server/registry.h"
#include "server/test_util.h"

namespace socle {
namespace {

using ::testing::HasSubstr;

std::string DefaultPolicyPath() {
  return std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

v1::Date D(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

class EligibilityTest : public ::testing::Test {
 protected:
  EligibilityTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        registry_(store_.get(), &clock_),
        eligibility_(store_.get(), &clock_, &policy_) {
    clerk_ = {CallerKind::kTest, "terminal:KH-SR-03:T01", "KH-SR-03", Role::kNone, ""};
    registry_.AddLifeEventHook(eligibility_.DeathHook());
    absl::Status loaded = eligibility_.LoadAtStart({DefaultPolicyPath()});
    EXPECT_TRUE(loaded.ok()) << loaded;
  }

  std::string Id() { return absl::StrCat("r", ++counter_); }

  v1::Person Register(absl::string_view given, v1::Date born, v1::Sex sex = v1::SEX_FEMALE) {
    v1::RegisterPersonRequest r;
    r.set_request_id(Id());
    r.mutable_person()->set_given_name(std::string(given));
    r.mutable_person()->set_family_name("Test");
    r.mutable_person()->set_sex(sex);
    *r.mutable_person()->mutable_date_of_birth() = born;
    r.mutable_person()->mutable_address()->set_district("Siem Reap");
    auto p = registry_.RegisterPerson(clerk_, r);
    EXPECT_TRUE(p.ok()) << p.status();
    return *p;
  }

  absl::StatusOr<v1::Decision> Check(const std::string& number, const std::string& code,
                                     v1::Date as_of = v1::Date()) {
    v1::CheckEligibilityRequest r;
    r.set_beneficiary_number(number);
    r.add_programme_codes(code);
    *r.mutable_as_of() = as_of;
    auto out = eligibility_.CheckEligibility(clerk_, r);
    if (!out.ok()) return out.status();
    EXPECT_EQ(out->decisions_size(), 1);
    return out->decisions(0);
  }

  absl::StatusOr<v1::Enrolment> Enrol(const std::string& number, const std::string& code,
                                      v1::Date start = v1::Date(),
                                      const std::string& override_reason = "") {
    v1::EnrolRequest r;
    r.set_request_id(Id());
    r.set_beneficiary_number(number);
    r.set_programme_code(code);
    *r.mutable_start_date() = start;
    r.set_override_reason(override_reason);
    return eligibility_.Enrol(clerk_, r);
  }

  absl::StatusOr<v1::Enrolment> Change(const std::string& id, const std::string& what,
                                       const std::string& reason) {
    v1::ChangeEnrolmentRequest r;
    r.set_request_id(Id());
    r.set_enrolment_id(id);
    r.set_reason(reason);
    if (what == "suspend") return eligibility_.SuspendEnrolment(clerk_, r);
    if (what == "resume") return eligibility_.ResumeEnrolment(clerk_, r);
    return eligibility_.EndEnrolment(clerk_, r);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  PolicyHolder policy_;
  Registry registry_;
  Eligibility eligibility_;
  Caller clerk_;
  int counter_ = 0;
};

TEST_F(EligibilityTest, OldAgeFromTheSixtiethBirthday) {
  v1::Person p = Register("Grandmother", D(1966, 11, 25));
  auto before = Check(p.beneficiary_number(), "OLD_AGE", D(2026, 11, 24));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(before->eligible());
  auto on = Check(p.beneficiary_number(), "OLD_AGE");  // today: the birthday
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->eligible());
  EXPECT_EQ(on->amount().minor_units(), 10000000);
  EXPECT_EQ(on->policy_version(), "2026.1");
  bool age_line = false;
  for (const auto& c : on->criteria()) {
    if (c.criterion().find("age") != std::string::npos) {
      age_line = true;
      EXPECT_TRUE(c.held());
      EXPECT_EQ(c.value_read(), "60");
    }
  }
  EXPECT_TRUE(age_line);
}

TEST_F(EligibilityTest, CheckIntoAnArenaResponseGivesTheSameBytes) {
  // What the gRPC handler does: the response is on the call's arena.
  v1::Person p = Register("Arena", D(1960, 3, 9));
  v1::CheckEligibilityRequest r;
  r.set_beneficiary_number(p.beneficiary_number());
  auto heap = eligibility_.CheckEligibility(clerk_, r);
  ASSERT_TRUE(heap.ok()) << heap.status();
  google::protobuf::Arena arena;
  auto* on_arena = google::protobuf::Arena::CreateMessage<v1::CheckEligibilityResponse>(&arena);
  ASSERT_TRUE(eligibility_.CheckEligibility(clerk_, r, on_arena).ok());
  std::string a, b;
  ASSERT_TRUE(heap->SerializeToString(&a));
  ASSERT_TRUE(on_arena->SerializeToString(&b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(heap->decisions_size(), 7);
}

TEST_F(EligibilityTest, BasicViewKeepsOnlyTheFailedLines) {
  v1::Person old = Register("Elder", D(1950, 5, 5));
  v1::Person young = Register("Young", D(2000, 5, 5), v1::SEX_MALE);
  for (const v1::Person* p : {&old, &young}) {
    v1::CheckEligibilityRequest r;
    r.set_beneficiary_number(p->beneficiary_number());
    auto full = eligibility_.CheckEligibility(clerk_, r);  // unset: FULL
    ASSERT_TRUE(full.ok()) << full.status();
    r.set_view(v1::ELIGIBILITY_VIEW_FULL);
    auto explicit_full = eligibility_.CheckEligibility(clerk_, r);
    ASSERT_TRUE(explicit_full.ok());
    EXPECT_EQ(full->SerializeAsString(), explicit_full->SerializeAsString());
    r.set_view(v1::ELIGIBILITY_VIEW_BASIC);
    auto basic = eligibility_.CheckEligibility(clerk_, r);
    ASSERT_TRUE(basic.ok()) << basic.status();
    ASSERT_EQ(basic->decisions_size(), full->decisions_size());
    EXPECT_EQ(basic->policy_version(), full->policy_version());
    EXPECT_EQ(basic->as_of().ShortDebugString(), full->as_of().ShortDebugString());
    int refused = 0;
    for (int i = 0; i < full->decisions_size(); ++i) {
      // The decision without its held lines, byte for byte.
      v1::Decision want = full->decisions(i);
      want.clear_criteria();
      for (const v1::CriterionResult& c : full->decisions(i).criteria()) {
        if (!c.held()) *want.add_criteria() = c;
      }
      EXPECT_EQ(basic->decisions(i).SerializeAsString(), want.SerializeAsString())
          << basic->decisions(i).DebugString();
      if (!basic->decisions(i).eligible()) {
        ++refused;
        EXPECT_GT(basic->decisions(i).criteria_size(), 0) << "a refusal says why";
      }
    }
    EXPECT_GT(refused, 0);
    EXPECT_LT(basic->ByteSizeLong(), full->ByteSizeLong());
  }
}

TEST_F(EligibilityTest, UnknownViewRefused) {
  v1::Person p = Register("Viewer", D(1990, 1, 1));
  v1::CheckEligibilityRequest r;
  r.set_beneficiary_number(p.beneficiary_number());
  r.set_view(static_cast<v1::EligibilityView>(7));
  auto out = eligibility_.CheckEligibility(clerk_, r);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_FALSE(GetFieldViolations(out.status()).empty());
  EXPECT_EQ(GetFieldViolations(out.status())[0].field, "view");
}

TEST_F(EligibilityTest, CheckAllProgrammesAndBadInput) {
  v1::Person p = Register("Someone", D(1990, 1, 1));
  v1::CheckEligibilityRequest r;
  r.set_beneficiary_number(p.beneficiary_number());
  auto all = eligibility_.CheckEligibility(clerk_, r);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->decisions_size(), 7);
  EXPECT_EQ(all->policy_version(), "2026.1");
  r.add_programme_codes("NO_SUCH");
  auto bad = eligibility_.CheckEligibility(clerk_, r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_FALSE(GetFieldViolations(bad.status()).empty());
  EXPECT_EQ(GetFieldViolations(bad.status())[0].field, "programme_codes[0]");
  r.clear_programme_codes();
  *r.mutable_as_of() = D(2025, 6, 1);  // before the first version
  EXPECT_EQ(eligibility_.CheckEligibility(clerk_, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EligibilityTest, EnrolRefusesTheIneligibleUnlessOverridden) {
  v1::Person p = Register("Young", D(1990, 1, 1));
  auto refused = Enrol(p.beneficiary_number(), "OLD_AGE");
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  auto info = GetErrorInfo(refused.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "NOT_ELIGIBLE");
  EXPECT_THAT(info->metadata["failed_criteria"], HasSubstr("60"));
  auto overridden = Enrol(p.beneficiary_number(), "OLD_AGE", v1::Date(),
                          "early retirement decided by the provincial committee");
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_EQ(overridden->override_reason(), "early retirement decided by the provincial committee");
  EXPECT_EQ(overridden->status(), v1::ENROLMENT_STATUS_ACTIVE);
  EXPECT_EQ(Enrol(p.beneficiary_number(), "OLD_AGE", v1::Date(), "again").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(EligibilityTest, SuspendResumeEnd) {
  v1::Person p = Register("Elder", D(1950, 3, 3));
  auto e = Enrol(p.beneficiary_number(), "OLD_AGE");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->amount().minor_units(), 10000000);
  EXPECT_EQ(e->policy_version(), "2026.1");
  EXPECT_EQ(Change(e->enrolment_id(), "resume", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto suspended = Change(e->enrolment_id(), "suspend", "not seen at the office for a year");
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(suspended->status(), v1::ENROLMENT_STATUS_SUSPENDED);
  auto resumed = Change(e->enrolment_id(), "resume", "");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->status(), v1::ENROLMENT_STATUS_ACTIVE);
  auto ended = Change(e->enrolment_id(), "end", "moved abroad");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->status(), v1::ENROLMENT_STATUS_ENDED);
  EXPECT_EQ(ended->end_reason(), "moved abroad");
  EXPECT_EQ(Change(e->enrolment_id(), "end", "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A new enrolment in the same programme is possible once the old one ended.
  EXPECT_TRUE(Enrol(p.beneficiary_number(), "OLD_AGE").ok());
  EXPECT_EQ(Change("E999", "suspend", "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Change("999", "suspend", "x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EligibilityTest, DeathEndsEveryEnrolmentInTheSameTransaction) {
  v1::Person p = Register("Elder", D(1950, 3, 3));
  auto pension = Enrol(p.beneficiary_number(), "OLD_AGE", D(2026, 2, 1));
  auto health = Enrol(p.beneficiary_number(), "HEALTH", D(2026, 2, 1));
  ASSERT_TRUE(pension.ok() && health.ok()) << pension.status() << health.status();
  v1::RecordLifeEventRequest death;
  death.set_request_id(Id());
  death.set_beneficiary_number(p.beneficiary_number());
  *death.mutable_event()->mutable_date() = D(2026, 10, 9);
  death.mutable_event()->mutable_death();
  ASSERT_TRUE(registry_.RecordLifeEvent(clerk_, death).ok());
  v1::ListEnrolmentsRequest list;
  list.set_beneficiary_number(p.beneficiary_number());
  auto enrolments = eligibility_.ListEnrolments(clerk_, list);
  ASSERT_TRUE(enrolments.ok()) << enrolments.status();
  ASSERT_EQ(enrolments->enrolments_size(), 2);
  for (const auto& e : enrolments->enrolments()) {
    EXPECT_EQ(e.status(), v1::ENROLMENT_STATUS_ENDED);
    EXPECT_EQ(e.end_date().day(), 9);  // paid to the day of death
    EXPECT_EQ(e.end_reason(), "death on 2026-10-09");
  }
  auto after = Check(p.beneficiary_number(), "OLD_AGE");
  EXPECT_FALSE(after->eligible());
  // A correction of the date moves the end of entitlement with it.
  death.set_request_id(Id());
  *death.mutable_event()->mutable_date() = D(2026, 10, 7);
  death.mutable_event()->set_correction(true);
  death.mutable_event()->set_correction_reason("certificate says 7 October");
  ASSERT_TRUE(registry_.RecordLifeEvent(clerk_, death).ok());
  enrolments = eligibility_.ListEnrolments(clerk_, list);
  EXPECT_EQ(enrolments->enrolments(0).end_date().day(), 7);
}

TEST_F(EligibilityTest, RecertificationEndsThoseNoLongerEligible) {
  v1::Person child = Register("Teen", D(2008, 12, 20));  // 18 on 2026-12-20
  v1::Person elder = Register("Elder", D(1950, 3, 3));
  auto allowance = Enrol(child.beneficiary_number(), "CHILD");
  ASSERT_TRUE(allowance.ok()) << allowance.status();
  ASSERT_TRUE(Enrol(elder.beneficiary_number(), "OLD_AGE").ok());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 1, 5, 9, 0, 0), absl::UTCTimeZone()));
  v1::RecertifyRequest r;
  r.set_request_id("recert-2027-01");
  *r.mutable_as_of() = D(2026, 12, 21);
  auto report = eligibility_.Recertify(clerk_, r);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->checked(), 2);
  EXPECT_EQ(report->ended(), 1);
  EXPECT_EQ(report->unchanged(), 1);
  ASSERT_EQ(report->changes_size(), 1);
  EXPECT_EQ(report->changes(0).after().status(), v1::ENROLMENT_STATUS_ENDED);
  EXPECT_EQ(report->changes(0).after().end_date().day(), 20);
  EXPECT_THAT(report->changes(0).explanation(), HasSubstr("18"));
  // A replay reports the same and changes nothing more.
  auto replay = eligibility_.Recertify(clerk_, r);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->SerializeAsString(), report->SerializeAsString());
}

TEST_F(EligibilityTest, SimulationTotalsMatchIndividualDecisions) {
  Register("Elder", D(1950, 3, 3));
  Register("Sixty", D(1966, 11, 25));
  Register("FiftySeven", D(1969, 6, 1));
  Register("Child", D(2015, 1, 1));
  const std::string current = ReadText(DefaultPolicyPath());
  // The draft lowers the pension age to 55 and raises the amount to 120,000.
  std::string draft = absl::StrReplaceAll(
      current, {{"age { at_least: 60 }", "age { at_least: 55 }"},
                {"fixed { amount { minor_units: 10000000 } }", "fixed { amount { minor_units: 12000000 } }"},
                {"version: \"2026.1\"", "version: \"2026.2-draft\""}});
  ASSERT_NE(draft, current);
  v1::SimulatePolicyRequest r;
  r.set_text(draft);
  r.set_file_name("draft.textproto");
  auto sim = eligibility_.SimulatePolicy(clerk_, r);
  ASSERT_TRUE(sim.ok()) << sim.status();
  EXPECT_EQ(sim->persons_evaluated(), 4);
  EXPECT_EQ(sim->draft_version(), "2026.2-draft");
  EXPECT_EQ(sim->current_version(), "2026.1");
  const v1::SimulationRow* old_age = nullptr;
  for (const auto& t : sim->totals()) {
    if (t.programme_code() == "OLD_AGE") old_age = &t;
  }
  ASSERT_NE(old_age, nullptr);
  EXPECT_EQ(old_age->eligible_current(), 2);
  EXPECT_EQ(old_age->eligible_draft(), 3);
  EXPECT_EQ(old_age->gainers(), 1);
  EXPECT_EQ(old_age->losers(), 0);
  EXPECT_EQ(old_age->monthly_cost_draft().minor_units(), 3 * 12000000);

  // The policy in force simulated against itself: totals are the sums of
  // individual checks.
  r.set_text(current);
  auto same = eligibility_.SimulatePolicy(clerk_, r);
  ASSERT_TRUE(same.ok()) << same.status();
  std::map<std::string, int64_t> cost, eligible;
  v1::FindPersonsRequest find;
  find.set_office_code("KH-SR-03");
  auto persons = registry_.FindPersons(clerk_, find);
  for (const auto& p : persons->persons()) {
    v1::CheckEligibilityRequest c;
    c.set_beneficiary_number(p.beneficiary_number());
    auto out = eligibility_.CheckEligibility(clerk_, c);
    ASSERT_TRUE(out.ok());
    for (const auto& d : out->decisions()) {
      if (d.eligible()) {
        ++eligible[d.programme_code()];
        if (d.frequency() != v1::PAYMENT_FREQUENCY_NONE) cost[d.programme_code()] += d.amount().minor_units();
      }
    }
  }
  for (const auto& t : same->totals()) {
    EXPECT_EQ(t.eligible_draft(), eligible[t.programme_code()]) << t.programme_code();
    EXPECT_EQ(t.eligible_current(), t.eligible_draft()) << t.programme_code();
    EXPECT_EQ(t.monthly_cost_draft().minor_units(), cost[t.programme_code()]) << t.programme_code();
    EXPECT_EQ(t.gainers() + t.losers(), 0) << t.programme_code();
  }
}

TEST_F(EligibilityTest, BadActivationLeavesThePolicyInForce) {
  v1::ActivatePolicyRequest r;
  r.set_request_id(Id());
  r.set_text("versions { version: \"x\" programmes { code: \"A\" } ");  // syntax error
  r.set_file_name("bad.textproto");
  auto bad = eligibility_.ActivatePolicy(clerk_, r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad.textproto:1"));
  auto info = eligibility_.GetPolicy(clerk_, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version_in_force(), "2026.1");

  std::string next = absl::StrReplaceAll(ReadText(DefaultPolicyPath()),
                                         {{"version: \"2026.1\"", "version: \"2026.2\""}});
  r.set_request_id(Id());
  r.set_text(next);
  r.set_file_name("next.textproto");
  auto good = eligibility_.ActivatePolicy(clerk_, r);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(eligibility_.GetPolicy(clerk_, {})->version_in_force(), "2026.2");

  // A restart without --policy keeps the last activation.
  PolicyHolder holder;
  Eligibility restarted(store_.get(), &clock_, &holder);
  ASSERT_TRUE(restarted.LoadAtStart({}).ok());
  EXPECT_EQ(restarted.GetPolicy(clerk_, {})->version_in_force(), "2026.2");
}

TEST_F(EligibilityTest, BadPolicyFileAtStartNamesFileAndLine) {
  const std::string path = dir_.path() + "/bad.textproto";
  std::ofstream(path) << "versions {\n  version: \"1\"\n  effective_from { year: 2026 month: 1 day: 1 }\n"
                         "  currency: \"KHR\"\n  programmes { code: \"X\" name: \"x\" guarantee: GUARANTEE_HEALTH\n"
                         "    frequency: PAYMENT_FREQUENCY_MONTHLY\n"
                         "    entitlement { fixed { amount { minor_units: -5 } } } }\n}\n";
  PolicyHolder holder;
  Eligibility e(store_.get(), &clock_, &holder);
  absl::Status s = e.LoadAtStart({path});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bad.textproto:7"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("minor_units"));
}

TEST_F(EligibilityTest, CoverageCountsPersonsEnrolledPerGuarantee) {
  v1::Person elder = Register("Elder", D(1950, 3, 3));
  Register("Other", D(1980, 3, 3));
  ASSERT_TRUE(Enrol(elder.beneficiary_number(), "OLD_AGE").ok());
  ASSERT_TRUE(Enrol(elder.beneficiary_number(), "HEALTH").ok());
  auto report = eligibility_.GetCoverage(clerk_, {});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->rows_size(), 4);
  for (const auto& row : report->rows()) {
    EXPECT_EQ(row.office_code(), "KH-SR-03");
    EXPECT_EQ(row.registered(), 2);
    const bool covered = row.guarantee() == v1::GUARANTEE_OLD_AGE ||
                         row.guarantee() == v1::GUARANTEE_HEALTH;
    EXPECT_EQ(row.covered(), covered ? 1 : 0) << row.guarantee();
  }
}

}  // namespace
}  // namespace socle
