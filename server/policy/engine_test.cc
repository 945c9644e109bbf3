#include "server/policy/engine.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "server/policy/policy_loader.h"

namespace socle::policy {
namespace {

using absl::CivilDay;

constexpr int64_t kRiel = 100;  // minor units per riel

v1::Date D(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

v1::Date D(CivilDay day) {
  return D(static_cast<int>(day.year()), day.month(), day.day());
}

v1::PolicySet MustParse(const std::string& text) {
  absl::StatusOr<LoadedPolicy> loaded =
      ValidatePolicyText(text, "inline.textproto");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? loaded->policies : v1::PolicySet();
}

// A policy "t" (KHR, from 2020-01-01) with one programme "P"; `body` goes
// inside `programmes { ... }` (a monthly frequency is added when absent).
v1::PolicySet OneProgramme(const std::string& body) {
  std::string frequency = absl::StrContains(body, "frequency:")
                              ? ""
                              : "frequency: PAYMENT_FREQUENCY_MONTHLY ";
  return MustParse(absl::StrCat(
      "versions { version: \"t\" effective_from { year: 2020 month: 1 day: 1 }"
      " currency: \"KHR\" programmes { code: \"P\" name: \"Test\" "
      "guarantee: GUARANTEE_WORKING_AGE ",
      frequency, body, " } }"));
}

const v1::PolicySet& Default() {
  static const v1::PolicySet* set = [] {
    absl::StatusOr<LoadedPolicy> loaded = LoadPolicyFile(
        std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new v1::PolicySet(loaded.ok() ? loaded->policies : v1::PolicySet());
  }();
  return *set;
}

v1::Person Resident(const std::string& number, v1::Date birth, v1::Sex sex) {
  v1::Person p;
  p.set_beneficiary_number(number);
  *p.mutable_date_of_birth() = birth;
  p.set_sex(sex);
  p.set_office_code("KH-SR-03");
  return p;
}

void AddJob(v1::Person* p, v1::Date start, std::optional<v1::Date> end,
            int64_t wage_riel, bool insured = true) {
  v1::EmploymentPeriod* e = p->mutable_facts()->add_employment();
  *e->mutable_start() = start;
  if (end) *e->mutable_end() = *end;
  e->mutable_monthly_wage()->set_minor_units(wage_riel * kRiel);
  e->mutable_monthly_wage()->set_currency("KHR");
  e->set_insured(insured);
}

void SetIncome(v1::Person* p, int64_t minor_units) {
  p->mutable_facts()->mutable_monthly_income()->set_minor_units(minor_units);
  p->mutable_facts()->mutable_monthly_income()->set_currency("KHR");
}

absl::StatusOr<std::vector<v1::Decision>> DecideAll(
    const v1::PolicySet& set, const v1::Person& p, CivilDay day,
    std::vector<std::string> codes, const HouseholdView* hh = nullptr,
    absl::flat_hash_set<std::string> active = {}) {
  EligibilityInput in{p, hh, std::move(active), day};
  return Decide(set, in, codes);
}

v1::Decision One(const v1::PolicySet& set, const v1::Person& p, CivilDay day,
                 const std::string& code, const HouseholdView* hh = nullptr,
                 absl::flat_hash_set<std::string> active = {}) {
  auto r = DecideAll(set, p, day, {code}, hh, std::move(active));
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || r->size() != 1) return v1::Decision();
  return r->front();
}

// The `nth` line named `name`; a line with criterion "missing" when none.
v1::CriterionResult LineOf(const v1::Decision& d, const std::string& name,
                           int nth = 0) {
  for (const auto& l : d.criteria()) {
    if (l.criterion() == name && nth-- == 0) return l;
  }
  v1::CriterionResult missing;
  missing.set_criterion("missing");
  return missing;
}

std::string Bytes(const v1::Decision& d) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  d.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

bool CalculationMentions(const v1::Decision& d, const std::string& text) {
  for (const auto& s : d.calculation()) {
    if (absl::StrContains(s, text)) return true;
  }
  return false;
}

const std::string kFixed =
    " entitlement { fixed { amount { minor_units: 100 } } }";

// ---------------------------------------------------------------------------
// Criteria at their boundaries.

TEST(AgeTest, AtLeastHoldsFromTheBirthdayItself) {
  auto set = OneProgramme("criteria { age { at_least: 60 } }" + kFixed);
  v1::Person p = Resident("1", D(1966, 11, 25), v1::SEX_MALE);

  v1::Decision before = One(set, p, CivilDay(2026, 11, 24), "P");
  EXPECT_FALSE(before.eligible());
  v1::CriterionResult l = LineOf(before, "age_at_least");
  EXPECT_FALSE(l.held());
  EXPECT_EQ(l.value_read(), "59");
  EXPECT_EQ(l.threshold(), ">= 60");
  EXPECT_EQ(l.description(), "age 59 on 2026-11-24, needs at least 60");
  EXPECT_EQ(l.path(), "programmes[0].criteria[0]");

  v1::Decision on = One(set, p, CivilDay(2026, 11, 25), "P");
  EXPECT_TRUE(on.eligible());
  EXPECT_EQ(LineOf(on, "age_at_least").value_read(), "60");
}

TEST(AgeTest, UnderIsExclusive) {
  auto set = OneProgramme("criteria { age { under: 18 } }" + kFixed);
  v1::Person p = Resident("1", D(2008, 6, 1), v1::SEX_FEMALE);
  EXPECT_TRUE(One(set, p, CivilDay(2026, 5, 31), "P").eligible());
  v1::Decision d = One(set, p, CivilDay(2026, 6, 1), "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "age_under").description(),
            "age 18 on 2026-06-01, needs under 18");
}

TEST(AgeTest, BetweenAndMissingBirthDate) {
  auto set =
      OneProgramme("criteria { age { at_least: 18 under: 60 } }" + kFixed);
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_FEMALE);
  v1::Decision d = One(set, p, CivilDay(2026, 1, 1), "P");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(LineOf(d, "age_between").threshold(), ">= 18 and < 60");
  p.clear_date_of_birth();
  d = One(set, p, CivilDay(2026, 1, 1), "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "age_between").value_read(), "date of birth not recorded");
}

TEST(AgeTest, LeapDayBirthdayTurnsOnFirstMarch) {
  auto set = OneProgramme("criteria { age { at_least: 60 } }" + kFixed);
  v1::Person p = Resident("1", D(1968, 2, 29), v1::SEX_MALE);
  EXPECT_FALSE(One(set, p, CivilDay(2028, 2, 28), "P").eligible());
  EXPECT_TRUE(One(set, p, CivilDay(2028, 2, 29), "P").eligible());
  v1::Person q = Resident("2", D(1964, 2, 29), v1::SEX_MALE);
  EXPECT_FALSE(One(set, q, CivilDay(2024, 2, 28), "P").eligible());
  EXPECT_TRUE(One(set, q, CivilDay(2024, 2, 29), "P").eligible());
  v1::Person r = Resident("3", D(1965, 2, 28), v1::SEX_MALE);
  EXPECT_TRUE(One(set, r, CivilDay(2025, 2, 28), "P").eligible());
}

TEST(PregnancyTest, Week11DoesNotCountWeek12Does) {
  auto set = OneProgramme("criteria { pregnant { from_week: 12 } }" + kFixed);
  CivilDay day(2026, 6, 1);
  v1::Person p = Resident("1", D(1995, 1, 1), v1::SEX_FEMALE);

  *p.mutable_facts()->mutable_pregnancy_start() = D(day - 83);
  v1::Decision d = One(set, p, day, "P");
  EXPECT_FALSE(d.eligible());
  v1::CriterionResult l = LineOf(d, "pregnant_from_week");
  EXPECT_EQ(l.value_read(), "week 11");
  EXPECT_EQ(l.description(),
            "pregnant, week 11 on 2026-06-01, needs week 12 or later");

  *p.mutable_facts()->mutable_pregnancy_start() = D(day - 84);
  d = One(set, p, day, "P");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(LineOf(d, "pregnant_from_week").value_read(), "week 12");
}

TEST(PregnancyTest, FuturePregnancyEndedOrStaleDoesNotCount) {
  auto set = OneProgramme("criteria { pregnant { from_week: 0 } }" + kFixed);
  CivilDay day(2026, 6, 1);
  v1::Person p = Resident("1", D(1995, 1, 1), v1::SEX_FEMALE);
  EXPECT_FALSE(One(set, p, day, "P").eligible());  // not pregnant

  *p.mutable_facts()->mutable_pregnancy_start() = D(day + 1);
  EXPECT_FALSE(One(set, p, day, "P").eligible());
  *p.mutable_facts()->mutable_pregnancy_start() = D(day);
  EXPECT_TRUE(One(set, p, day, "P").eligible());

  *p.mutable_facts()->mutable_pregnancy_start() = D(day - 200);
  *p.mutable_facts()->mutable_last_childbirth() = D(day - 10);
  v1::Decision d = One(set, p, day, "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_TRUE(absl::StrContains(LineOf(d, "pregnant_from_week").value_read(),
                                "ended by the childbirth"));

  p.mutable_facts()->clear_last_childbirth();
  *p.mutable_facts()->mutable_pregnancy_start() = D(day - 46 * 7);
  EXPECT_FALSE(One(set, p, day, "P").eligible());
  *p.mutable_facts()->mutable_pregnancy_start() = D(day - 45 * 7 - 6);
  EXPECT_TRUE(One(set, p, day, "P").eligible());
}

TEST(ContributionsTest, ElevenVersusTwelveMonths) {
  auto set = OneProgramme(
      "criteria { contributions { window_months: 24 at_least_months: 12 } }" +
      kFixed);
  CivilDay day(2026, 3, 10);  // window: 2024-03 .. 2026-02
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_MALE);

  // One day of a month is enough: 2025-03-31 .. 2026-02-01 touches 12 months.
  AddJob(&p, D(2025, 3, 31), D(2026, 2, 1), 1000000);
  v1::Decision d = One(set, p, day, "P");
  EXPECT_TRUE(d.eligible());
  v1::CriterionResult l = LineOf(d, "contribution_months");
  EXPECT_EQ(l.value_read(), "12 months");
  EXPECT_EQ(l.threshold(), ">= 12 months in 2024-03..2026-02");
  EXPECT_EQ(l.description(),
            "12 months of insured contributions from 2024-03 to 2026-02, "
            "needs at least 12");

  // An ongoing job from 2025-04-01: April 2025 to February 2026 is 11; the
  // decision's own month (March 2026) never counts.
  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2025, 4, 1), std::nullopt, 1000000);
  d = One(set, p, day, "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "contribution_months").value_read(), "11 months");
}

TEST(ContributionsTest, OverlapsCountOnceUninsuredNeverWindowClips) {
  auto set = OneProgramme(
      "criteria { contributions { window_months: 24 at_least_months: 1 } }" +
      kFixed);
  CivilDay day(2026, 3, 10);
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_MALE);
  AddJob(&p, D(2025, 3, 1), D(2025, 9, 30), 1000000);
  AddJob(&p, D(2025, 9, 15), D(2026, 2, 28), 1000000);
  EXPECT_EQ(LineOf(One(set, p, day, "P"), "contribution_months").value_read(),
            "12 months");

  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2025, 3, 1), D(2026, 2, 28), 1000000, /*insured=*/false);
  EXPECT_EQ(LineOf(One(set, p, day, "P"), "contribution_months").value_read(),
            "0 months");

  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2020, 1, 1), D(2024, 3, 5), 1000000);  // only 2024-03 inside
  EXPECT_EQ(LineOf(One(set, p, day, "P"), "contribution_months").value_read(),
            "1 month");
}

TEST(LastContractTest, WholeMonthsBoundary) {
  auto set =
      OneProgramme("criteria { last_contract { at_least_months: 3 } }" + kFixed);
  CivilDay day(2026, 3, 10);
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_MALE);
  AddJob(&p, D(2020, 1, 1), D(2025, 1, 1), 1000000);  // older, longer
  AddJob(&p, D(2025, 10, 15), D(2026, 1, 14), 1000000, /*insured=*/false);
  v1::Decision d = One(set, p, day, "P");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(LineOf(d, "last_contract_months").value_read(),
            "3 months (2025-10-15 to 2026-01-14)");

  p.mutable_facts()->mutable_employment(1)->set_allocated_end(
      new v1::Date(D(2026, 1, 13)));
  d = One(set, p, day, "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "last_contract_months").value_read(),
            "2 months (2025-10-15 to 2026-01-13)");

  // An ongoing contract is measured up to the decision date.
  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2025, 12, 11), std::nullopt, 1000000);
  EXPECT_TRUE(One(set, p, day, "P").eligible());
  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2025, 12, 12), std::nullopt, 1000000);
  EXPECT_FALSE(One(set, p, day, "P").eligible());

  p.mutable_facts()->clear_employment();
  EXPECT_EQ(LineOf(One(set, p, day, "P"), "last_contract_months").value_read(),
            "no employment recorded");
}

v1::PolicySet IncomePolicy(const std::string& test) {
  return OneProgramme(absl::StrCat(
      "criteria { income_per_head { threshold { minor_units: 40000000 } "
      "test: ",
      test, " } }", kFixed));
}

TEST(IncomeTest, ExactlyAtTheThreshold) {
  CivilDay day(2026, 3, 1);
  HouseholdView hh;
  hh.head_beneficiary_number = "1";
  hh.members.push_back(Resident("1", D(1980, 1, 1), v1::SEX_FEMALE));
  hh.members.push_back(Resident("2", D(1981, 1, 1), v1::SEX_MALE));
  hh.members.push_back(Resident("3", D(2015, 1, 1), v1::SEX_MALE));
  SetIncome(&hh.members[0], 600000 * kRiel);
  SetIncome(&hh.members[1], 600000 * kRiel);
  const v1::Person& self = hh.members[0];

  v1::Decision below = One(IncomePolicy("INCOME_TEST_BELOW"), self, day, "P", &hh);
  EXPECT_FALSE(below.eligible());
  v1::CriterionResult l = LineOf(below, "income_per_head_below");
  EXPECT_EQ(l.value_read(), "400,000.00 KHR per head");
  EXPECT_EQ(l.threshold(), "< 400,000.00 KHR");
  EXPECT_EQ(l.description(),
            "household income per head 400,000.00 KHR on 2026-03-01 "
            "(1,200,000.00 KHR for 3 living members), needs below "
            "400,000.00 KHR");
  v1::Decision at_most =
      One(IncomePolicy("INCOME_TEST_AT_MOST"), self, day, "P", &hh);
  EXPECT_TRUE(at_most.eligible());
  EXPECT_TRUE(LineOf(at_most, "income_per_head_at_most").held());

  // One minor unit more: the per-head figure shown rounds down to the same
  // 400,000.00, but the exact comparison fails.
  SetIncome(&hh.members[1], 600000 * kRiel + 1);
  at_most = One(IncomePolicy("INCOME_TEST_AT_MOST"), hh.members[0], day, "P", &hh);
  EXPECT_FALSE(at_most.eligible());
  EXPECT_EQ(LineOf(at_most, "income_per_head_at_most").value_read(),
            "400,000.00 KHR per head");
}

TEST(IncomeTest, DeadMembersAndNoHousehold) {
  CivilDay day(2026, 3, 1);
  auto set = IncomePolicy("INCOME_TEST_BELOW");
  HouseholdView hh;
  hh.members.push_back(Resident("1", D(1980, 1, 1), v1::SEX_FEMALE));
  hh.members.push_back(Resident("2", D(1950, 1, 1), v1::SEX_MALE));
  SetIncome(&hh.members[0], 300000 * kRiel);
  SetIncome(&hh.members[1], 900000 * kRiel);
  *hh.members[1].mutable_date_of_death() = D(2026, 3, 1);
  v1::Decision d = One(set, hh.members[0], day, "P", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_TRUE(absl::StrContains(LineOf(d, "income_per_head_below").description(),
                                "for 1 living member"));
  // Without a household: a household of one.
  v1::Person alone = Resident("9", D(1980, 1, 1), v1::SEX_FEMALE);
  SetIncome(&alone, 400000 * kRiel);
  EXPECT_FALSE(One(set, alone, day, "P").eligible());
  SetIncome(&alone, 400000 * kRiel - 1);
  EXPECT_TRUE(One(set, alone, day, "P").eligible());
}

TEST(IncomeTest, IncomeInAnotherCurrencyFails) {
  auto set = IncomePolicy("INCOME_TEST_AT_MOST");
  v1::Person p = Resident("1", D(1980, 1, 1), v1::SEX_FEMALE);
  p.mutable_facts()->mutable_monthly_income()->set_minor_units(100);
  p.mutable_facts()->mutable_monthly_income()->set_currency("USD");
  v1::Decision d = One(set, p, CivilDay(2026, 3, 1), "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "income_per_head_at_most").value_read(),
            "an income recorded in USD");
}

TEST(CriteriaTest, SexStatusOfficeDisabilityPensionNotReceiving) {
  CivilDay day(2026, 3, 1);
  v1::Person p = Resident("1", D(1980, 1, 1), v1::SEX_FEMALE);

  auto sex = OneProgramme("criteria { sex { sex: SEX_FEMALE } }" + kFixed);
  EXPECT_TRUE(One(sex, p, day, "P").eligible());
  p.set_sex(v1::SEX_MALE);
  EXPECT_EQ(LineOf(One(sex, p, day, "P"), "sex").description(),
            "sex male, needs female");

  auto status = OneProgramme(
      "criteria { employment_status { statuses: EMPLOYMENT_STATUS_UNEMPLOYED "
      "statuses: EMPLOYMENT_STATUS_INACTIVE } }" +
      kFixed);
  p.mutable_facts()->set_employment_status(v1::EMPLOYMENT_STATUS_EMPLOYED);
  v1::Decision d = One(status, p, day, "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "employment_status_in").threshold(),
            "unemployed or inactive");
  p.mutable_facts()->set_employment_status(v1::EMPLOYMENT_STATUS_INACTIVE);
  EXPECT_TRUE(One(status, p, day, "P").eligible());

  auto office = OneProgramme("criteria { resident_registered {} }" + kFixed);
  EXPECT_TRUE(One(office, p, day, "P").eligible());
  p.clear_office_code();
  EXPECT_FALSE(One(office, p, day, "P").eligible());

  auto disability = OneProgramme(
      "criteria { disability_certified { min_degree_percent: 40 } }" + kFixed);
  EXPECT_FALSE(One(disability, p, day, "P").eligible());
  p.mutable_facts()->mutable_disability()->set_certified(true);
  p.mutable_facts()->mutable_disability()->set_degree_percent(39);
  EXPECT_FALSE(One(disability, p, day, "P").eligible());
  p.mutable_facts()->mutable_disability()->set_degree_percent(40);
  EXPECT_TRUE(One(disability, p, day, "P").eligible());
  *p.mutable_facts()->mutable_disability()->mutable_certified_on() =
      D(2026, 3, 2);
  EXPECT_FALSE(One(disability, p, day, "P").eligible());
  *p.mutable_facts()->mutable_disability()->mutable_certified_on() =
      D(2026, 3, 1);
  EXPECT_TRUE(One(disability, p, day, "P").eligible());

  auto pension = OneProgramme("criteria { no_contributory_pension {} }" + kFixed);
  EXPECT_TRUE(One(pension, p, day, "P").eligible());
  p.mutable_facts()->set_receives_contributory_pension(true);
  EXPECT_FALSE(One(pension, p, day, "P").eligible());

  auto other = MustParse(R"pb(
    versions {
      version: "t" effective_from { year: 2020 month: 1 day: 1 } currency: "KHR"
      programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
        frequency: PAYMENT_FREQUENCY_MONTHLY
        criteria { not_receiving { programme_code: "B" } }
        entitlement { fixed { amount { minor_units: 1 } } } }
      programmes { code: "B" name: "B" guarantee: GUARANTEE_OLD_AGE
        frequency: PAYMENT_FREQUENCY_MONTHLY
        entitlement { fixed { amount { minor_units: 1 } } } }
    })pb");
  EXPECT_TRUE(One(other, p, day, "A", nullptr, {"C"}).eligible());
  d = One(other, p, day, "A", nullptr, {"B"});
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "not_receiving").value_read(), "enrolled in B");
}

TEST(CriteriaTest, RecentChildbirthWithinWeeksIsExclusive) {
  auto set = OneProgramme("criteria { recent_childbirth { within_weeks: 10 } }" +
                          kFixed);
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_FEMALE);
  *p.mutable_facts()->mutable_last_childbirth() = D(2026, 3, 1);
  EXPECT_FALSE(One(set, p, CivilDay(2026, 2, 28), "P").eligible());
  EXPECT_TRUE(One(set, p, CivilDay(2026, 3, 1), "P").eligible());
  v1::Decision d = One(set, p, CivilDay(2026, 5, 9), "P");  // day 69
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(LineOf(d, "childbirth_within_weeks").value_read(),
            "gave birth on 2026-03-01, 9 weeks and 6 days before 2026-05-09");
  EXPECT_FALSE(One(set, p, CivilDay(2026, 5, 10), "P").eligible());  // day 70
}

TEST(CriteriaTest, WorkAccidentFilters) {
  auto set = OneProgramme(
      "criteria { work_accident { while_employed: true while_insured: true "
      "min_incapacity_percent: 20 } }" +
      kFixed);
  CivilDay day(2026, 3, 1);
  v1::Person p = Resident("1", D(1980, 1, 1), v1::SEX_MALE);
  AddJob(&p, D(2020, 1, 1), D(2022, 12, 31), 800000, /*insured=*/false);
  AddJob(&p, D(2023, 1, 1), std::nullopt, 1000000);
  EXPECT_EQ(LineOf(One(set, p, day, "P"), "work_accident").value_read(),
            "no work accident recorded");

  v1::WorkAccident* a = p.mutable_facts()->add_work_accidents();
  *a->mutable_date() = D(2022, 6, 1);  // uninsured job
  a->set_incapacity_percent(50);
  v1::Decision d = One(set, p, day, "P");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(LineOf(d, "work_accident").value_read(),
            "1 work accident recorded, none qualifies (highest 50 % on "
            "2022-06-01)");
  *a->mutable_date() = D(2026, 3, 2);  // after the decision date
  EXPECT_FALSE(One(set, p, day, "P").eligible());
  *a->mutable_date() = D(2026, 3, 1);
  a->set_incapacity_percent(19);
  EXPECT_FALSE(One(set, p, day, "P").eligible());
  a->set_incapacity_percent(20);
  EXPECT_TRUE(One(set, p, day, "P").eligible());
}

TEST(CriteriaTest, DeathAndBirthBoundTheAliveLine) {
  v1::Person p = Resident("1", D(1950, 1, 1), v1::SEX_MALE);
  *p.mutable_date_of_death() = D(2026, 3, 1);
  auto all = DecideAll(Default(), p, CivilDay(2026, 3, 1), {});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 7u);
  for (const v1::Decision& d : *all) {
    EXPECT_FALSE(d.eligible()) << d.programme_code();
    ASSERT_GT(d.criteria_size(), 0);
    EXPECT_EQ(d.criteria(0).criterion(), "alive");
    EXPECT_FALSE(d.criteria(0).held());
    EXPECT_EQ(d.criteria(0).value_read(), "died 2026-03-01");
    EXPECT_EQ(d.amount().minor_units(), 0);
    EXPECT_FALSE(d.has_period_start());
  }
  // The day before the death, the social pension was due.
  v1::Decision d = One(Default(), p, CivilDay(2026, 2, 28), "OLD_AGE");
  EXPECT_TRUE(d.eligible());
  EXPECT_TRUE(d.criteria(0).held());

  v1::Person unborn = Resident("2", D(2026, 5, 1), v1::SEX_MALE);
  d = One(Default(), unborn, CivilDay(2026, 4, 30), "HEALTH");
  EXPECT_FALSE(d.eligible());
  EXPECT_EQ(d.criteria(0).value_read(), "born 2026-05-01");
}

TEST(CriteriaTest, AnyOfReportsEveryAlternative) {
  CivilDay day(2026, 6, 1);
  v1::Person boy = Resident("1", D(2016, 1, 1), v1::SEX_MALE);
  v1::Decision d = One(Default(), boy, day, "CHILD");
  EXPECT_TRUE(d.eligible());
  std::vector<std::string> names;
  for (const auto& l : d.criteria()) names.push_back(l.criterion());
  EXPECT_EQ(names, (std::vector<std::string>{"alive", "resident_registered",
                                             "any_of", "age_under", "sex",
                                             "pregnant_from_week"}));
  EXPECT_EQ(d.criteria(2).description(),
            "one of: a child under 18 (holds); a pregnant woman from week 12 "
            "(does not hold)");
  EXPECT_EQ(d.criteria(2).value_read(), "a child under 18");
  EXPECT_EQ(d.criteria(3).alternative(), "a child under 18");
  EXPECT_TRUE(d.criteria(3).held());
  EXPECT_EQ(d.criteria(4).alternative(), "a pregnant woman from week 12");
  EXPECT_FALSE(d.criteria(4).held());  // a failed line, the decision holds
  EXPECT_EQ(d.criteria(5).path(),
            "programmes[1].criteria[1].any_of.alternatives[1].criteria[1]");
  EXPECT_EQ(d.criteria(0).path(), "");
  EXPECT_EQ(d.criteria(2).alternative(), "");
}

TEST(CriteriaTest, NestedAnyOfAndExplicitAliveLine) {
  auto set = OneProgramme(R"pb(
    criteria { alive {} }
    criteria { any_of {
      alternatives { name: "old" criteria { age { at_least: 60 } } }
      alternatives { name: "young" criteria { any_of {
        alternatives { name: "child" criteria { age { under: 18 } } }
        alternatives { name: "pregnant" criteria { pregnant { from_week: 0 } } }
      } } }
    } }
    entitlement { fixed { amount { minor_units: 5 } } })pb");
  v1::Person p = Resident("1", D(2010, 1, 1), v1::SEX_FEMALE);
  v1::Decision d = One(set, p, CivilDay(2026, 1, 1), "P");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(LineOf(d, "alive", 1).criterion(), "missing");  // only one line
  EXPECT_EQ(d.criteria(0).path(), "programmes[0].criteria[0]");
  EXPECT_EQ(LineOf(d, "age_under").alternative(), "young / child");
  EXPECT_EQ(LineOf(d, "any_of", 1).alternative(), "young");
}

// ---------------------------------------------------------------------------
// Formulas.

TEST(PerChildTest, FifthChildPaidSixthBeyondTheCap) {
  HouseholdView hh;
  hh.head_beneficiary_number = "H";
  hh.members.push_back(Resident("H", D(1980, 1, 1), v1::SEX_FEMALE));
  int years[] = {2020, 2010, 2016, 2012, 2018, 2014};  // not in rank order
  for (int i = 0; i < 6; ++i) {
    hh.members.push_back(Resident(absl::StrCat("C", years[i]),
                                  D(years[i], 3, 1), v1::SEX_MALE));
  }
  CivilDay day(2026, 6, 1);
  const v1::Person& fifth = hh.members[5];  // born 2018
  const v1::Person& sixth = hh.members[1];  // born 2020

  v1::Decision d = One(Default(), fifth, day, "CHILD", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 40000 * kRiel);
  EXPECT_EQ(d.amount().currency(), "KHR");
  EXPECT_EQ(d.payee_beneficiary_number(), "H");
  EXPECT_TRUE(CalculationMentions(d, "child ranked 5 (within the cap)"));

  d = One(Default(), sixth, day, "CHILD", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 0);
  EXPECT_TRUE(CalculationMentions(d, "child ranked 6 (beyond the cap)"));
  EXPECT_TRUE(CalculationMentions(
      d, "6 children under 18 and 0 pregnancies from week 12; at most 5"));

  // The eldest turns 18 on 2028-03-01: the youngest moves into the cap.
  d = One(Default(), sixth, CivilDay(2028, 3, 1), "CHILD", &hh);
  EXPECT_EQ(d.amount().minor_units(), 40000 * kRiel);
  d = One(Default(), sixth, CivilDay(2028, 2, 29), "CHILD", &hh);
  EXPECT_EQ(d.amount().minor_units(), 0);
}

TEST(PerChildTest, PregnancyCountsAsOneChild) {
  CivilDay day(2026, 6, 1);
  HouseholdView hh;
  hh.head_beneficiary_number = "H";
  hh.members.push_back(Resident("H", D(1986, 1, 1), v1::SEX_FEMALE));
  for (int i = 0; i < 4; ++i) {
    hh.members.push_back(Resident(absl::StrCat("C", i), D(2012 + i, 1, 1),
                                  v1::SEX_FEMALE));
  }
  auto* mother_facts = hh.members[0].mutable_facts();
  *mother_facts->mutable_pregnancy_start() = D(day - 84);  // week 12

  v1::Decision d = One(Default(), hh.members[0], day, "CHILD", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 40000 * kRiel);
  EXPECT_EQ(d.payee_beneficiary_number(), "H");
  EXPECT_TRUE(CalculationMentions(d, "pregnancy ranked 5 (within the cap)"));

  // Week 11: neither eligible nor counted.
  *mother_facts->mutable_pregnancy_start() = D(day - 83);
  EXPECT_FALSE(One(Default(), hh.members[0], day, "CHILD", &hh).eligible());

  // A fifth child pushes the pregnancy beyond the cap.
  *mother_facts->mutable_pregnancy_start() = D(day - 84);
  hh.members.push_back(Resident("C9", D(2024, 1, 1), v1::SEX_MALE));
  d = One(Default(), hh.members[0], day, "CHILD", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 0);
  EXPECT_EQ(One(Default(), hh.members[5], day, "CHILD", &hh)
                .amount()
                .minor_units(),
            40000 * kRiel);
}

TEST(PerChildTest, DeadChildrenAreNotCountedAndNoHouseholdIsOne) {
  CivilDay day(2026, 6, 1);
  v1::Person alone = Resident("C", D(2015, 1, 1), v1::SEX_MALE);
  v1::Decision d = One(Default(), alone, day, "CHILD");
  EXPECT_EQ(d.amount().minor_units(), 40000 * kRiel);
  EXPECT_EQ(d.payee_beneficiary_number(), "C");  // no household: themself

  HouseholdView hh;
  hh.head_beneficiary_number = "H";
  hh.members.push_back(Resident("H", D(1980, 1, 1), v1::SEX_FEMALE));
  for (int i = 0; i < 5; ++i) {
    hh.members.push_back(
        Resident(absl::StrCat("C", i), D(2010 + i, 1, 1), v1::SEX_MALE));
  }
  *hh.members[1].mutable_date_of_death() = D(2020, 1, 1);
  hh.members.push_back(Resident("Y", D(2020, 1, 1), v1::SEX_MALE));
  d = One(Default(), hh.members.back(), day, "CHILD", &hh);
  EXPECT_EQ(d.amount().minor_units(), 40000 * kRiel);  // rank 5 of 5 living
}

TEST(WagePercentageTest, FloorAndCeiling) {
  // Default maternity: 100 % of the last insured wage within
  // 400,000 .. 1,200,000 riel.
  CivilDay day(2026, 3, 15);
  auto amount_for = [&](int64_t wage_riel) {
    v1::Person p = Resident("M", D(1995, 1, 1), v1::SEX_FEMALE);
    AddJob(&p, D(2025, 1, 1), std::nullopt, wage_riel);
    *p.mutable_facts()->mutable_last_childbirth() = D(2026, 3, 1);
    v1::Decision d = One(Default(), p, day, "MATERNITY");
    EXPECT_TRUE(d.eligible()) << wage_riel;
    return d;
  };
  EXPECT_EQ(amount_for(300000).amount().minor_units(), 400000 * kRiel);
  EXPECT_TRUE(CalculationMentions(amount_for(300000),
                                  "raised to the floor 400,000.00 KHR"));
  EXPECT_EQ(amount_for(400000).amount().minor_units(), 400000 * kRiel);
  EXPECT_FALSE(CalculationMentions(amount_for(400000), "floor"));
  EXPECT_EQ(amount_for(1000000).amount().minor_units(), 1000000 * kRiel);
  EXPECT_EQ(amount_for(1200000).amount().minor_units(), 1200000 * kRiel);
  EXPECT_FALSE(CalculationMentions(amount_for(1200000), "ceiling"));
  EXPECT_EQ(amount_for(1500000).amount().minor_units(), 1200000 * kRiel);
  EXPECT_TRUE(CalculationMentions(amount_for(1500000),
                                  "lowered to the ceiling 1,200,000.00 KHR"));
}

TEST(WagePercentageTest, BasisPointsRoundDown) {
  auto set = OneProgramme(
      "entitlement { wage_percentage { basis: WAGE_BASIS_LAST_WAGE "
      "basis_points: 6000 } }");
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_MALE);
  AddJob(&p, D(2025, 1, 1), std::nullopt, 0);
  p.mutable_facts()->mutable_employment(0)->mutable_monthly_wage()
      ->set_minor_units(123457);
  v1::Decision d = One(set, p, CivilDay(2026, 1, 1), "P");
  EXPECT_EQ(d.amount().minor_units(), 74074);  // 74,074.2 rounded down
  EXPECT_TRUE(CalculationMentions(d, "60.00 % of 1,234.57 KHR = 740.74 KHR"));
}

TEST(WagePercentageTest, AverageOverLastMonthsSkipsMonthsWithoutWork) {
  auto set = OneProgramme(
      "entitlement { wage_percentage { basis: WAGE_BASIS_AVERAGE_WAGE "
      "average_over_months: 6 basis_points: 10000 } }");
  v1::Person p = Resident("1", D(1990, 1, 1), v1::SEX_MALE);
  // Unemployed since 2026-01: the last 6 months of contributions before
  // 2026-03 are 2025-07 .. 2025-12.
  AddJob(&p, D(2023, 1, 1), D(2025, 9, 30), 900000);
  AddJob(&p, D(2025, 10, 1), D(2025, 12, 31), 1000001);
  AddJob(&p, D(2026, 1, 5), D(2026, 1, 20), 5000000, /*insured=*/false);
  v1::Decision d = One(set, p, CivilDay(2026, 3, 10), "P");
  // (3 x 900,000 + 3 x 1,000,001) / 6 = 950,000.50 riel.
  EXPECT_EQ(d.amount().minor_units(), 95000050);
  EXPECT_TRUE(CalculationMentions(
      d, "over the last 6 months of contributions, 2025-07 to 2025-12"));

  // A shorter career: as many months as there are.
  set = OneProgramme(
      "entitlement { wage_percentage { basis: WAGE_BASIS_AVERAGE_WAGE "
      "average_over_months: 24 basis_points: 10000 } }");
  v1::Person q = Resident("2", D(1990, 1, 1), v1::SEX_MALE);
  AddJob(&q, D(2025, 11, 20), D(2026, 1, 10), 700000);
  d = One(set, q, CivilDay(2026, 3, 10), "P");
  EXPECT_EQ(d.amount().minor_units(), 700000 * kRiel);
  EXPECT_TRUE(CalculationMentions(d, "over the last 3 months"));
  v1::Person none = Resident("3", D(1990, 1, 1), v1::SEX_MALE);
  EXPECT_EQ(One(set, none, CivilDay(2026, 3, 10), "P").amount().minor_units(),
            0);

  // A month switched mid-way takes the wage of the job covering most days.
  p.mutable_facts()->clear_employment();
  AddJob(&p, D(2025, 1, 1), D(2026, 2, 10), 500000);
  AddJob(&p, D(2026, 2, 11), std::nullopt, 800000);
  set = OneProgramme(
      "entitlement { wage_percentage { basis: WAGE_BASIS_AVERAGE_WAGE "
      "average_over_months: 1 basis_points: 10000 } }");
  EXPECT_EQ(One(set, p, CivilDay(2026, 3, 10), "P").amount().minor_units(),
            800000 * kRiel);
}

TEST(WagePercentageTest, WageInAnotherCurrencyIsNotPaid) {
  v1::Person p = Resident("M", D(1995, 1, 1), v1::SEX_FEMALE);
  AddJob(&p, D(2025, 1, 1), std::nullopt, 1000);
  p.mutable_facts()->mutable_employment(0)->mutable_monthly_wage()->set_currency(
      "USD");
  *p.mutable_facts()->mutable_last_childbirth() = D(2026, 3, 1);
  v1::Decision d = One(Default(), p, CivilDay(2026, 3, 15), "MATERNITY");
  EXPECT_FALSE(d.eligible());
  v1::CriterionResult l = LineOf(d, "wage_in_policy_currency");
  EXPECT_FALSE(l.held());
  EXPECT_EQ(l.value_read(), "last wage recorded in USD, not KHR");
}

v1::PolicySet DurationPolicy() {
  return OneProgramme(R"pb(
    entitlement { fixed { amount { minor_units: 100 } } }
    duration {
      by_contribution_months { from_contribution_months: 12 months: 3 }
      by_contribution_months { from_contribution_months: 36 months: 4 }
      by_contribution_months { from_contribution_months: 48 months: 5 }
      by_contribution_months { from_contribution_months: 132 months: 12 }
    })pb");
}

TEST(DurationTest, UnemploymentStepsByContributionLength) {
  CivilDay day(2030, 1, 15);
  auto months_for = [&](int contribution_months) {
    v1::Person p = Resident("1", D(1980, 1, 1), v1::SEX_MALE);
    CivilDay start(2015, 1, 1);
    AddJob(&p, D(start),
           D(CivilDay(absl::CivilMonth(start) + contribution_months) - 1),
           1000000);
    return One(DurationPolicy(), p, day, "P");
  };
  v1::Decision d = months_for(11);
  EXPECT_FALSE(d.eligible());
  v1::CriterionResult l = LineOf(d, "duration_by_contributions");
  EXPECT_FALSE(l.held());
  EXPECT_EQ(l.value_read(), "11 months");
  EXPECT_EQ(l.threshold(), ">= 12 months");
  EXPECT_EQ(l.path(), "programmes[0].duration.by_contribution_months");

  d = months_for(12);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.duration_months(), 3);
  EXPECT_EQ(d.period_start().ShortDebugString(),
            D(2030, 1, 15).ShortDebugString());
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2030, 4, 14).ShortDebugString());
  EXPECT_EQ(months_for(35).duration_months(), 3);
  EXPECT_EQ(months_for(36).duration_months(), 4);
  EXPECT_EQ(months_for(47).duration_months(), 4);
  EXPECT_EQ(months_for(48).duration_months(), 5);
  EXPECT_EQ(months_for(131).duration_months(), 5);
  EXPECT_EQ(months_for(132).duration_months(), 12);
  EXPECT_EQ(months_for(200).duration_months(), 12);
}

TEST(DurationTest, DefaultUnemploymentTable) {
  // 12-35 months: 3; then one more per 12 months; at most 12.
  const v1::Policy& v = Default().versions(0);
  const v1::Programme* u = nullptr;
  for (const auto& p : v.programmes()) {
    if (p.code() == "UNEMPLOYMENT") u = &p;
  }
  ASSERT_NE(u, nullptr);
  auto months_at = [&](int contributions) {
    int months = 0;
    for (const auto& s : u->duration().by_contribution_months()) {
      if (s.from_contribution_months() <= contributions) months = s.months();
    }
    return months;
  };
  EXPECT_EQ(months_at(11), 0);
  EXPECT_EQ(months_at(12), 3);
  EXPECT_EQ(months_at(35), 3);
  EXPECT_EQ(months_at(36), 4);
  EXPECT_EQ(months_at(59), 5);
  EXPECT_EQ(months_at(60), 6);
  EXPECT_EQ(months_at(131), 11);
  EXPECT_EQ(months_at(132), 12);
  EXPECT_EQ(months_at(500), 12);
}

TEST(DurationTest, MaxMonthsEndsAtTheMonthEndWhenTheDayIsMissing) {
  auto set = OneProgramme(
      "entitlement { fixed { amount { minor_units: 1 } } } "
      "duration { max_months: 1 }");
  v1::Person p = Resident("1", D(1980, 1, 1), v1::SEX_MALE);
  v1::Decision d = One(set, p, CivilDay(2026, 1, 31), "P");
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2026, 2, 28).ShortDebugString());
  EXPECT_EQ(d.duration_months(), 1);
  d = One(set, p, CivilDay(2026, 1, 28), "P");
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2026, 2, 27).ShortDebugString());
  d = One(set, p, CivilDay(2026, 12, 15), "P");
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2027, 1, 14).ShortDebugString());
}

TEST(DurationTest, MaternityTenWeeksFromTheChildbirth) {
  v1::Person p = Resident("M", D(1995, 1, 1), v1::SEX_FEMALE);
  AddJob(&p, D(2025, 1, 1), std::nullopt, 1000000);
  *p.mutable_facts()->mutable_last_childbirth() = D(2026, 3, 1);

  v1::Decision d = One(Default(), p, CivilDay(2026, 5, 9), "MATERNITY");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.duration_weeks(), 10);
  EXPECT_EQ(d.period_start().ShortDebugString(),
            D(2026, 3, 1).ShortDebugString());
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2026, 5, 9).ShortDebugString());
  EXPECT_TRUE(CalculationMentions(
      d, "for at most 10 weeks from the childbirth: 2026-03-01 to 2026-05-09"));

  d = One(Default(), p, CivilDay(2026, 5, 10), "MATERNITY");
  EXPECT_FALSE(d.eligible());
  EXPECT_FALSE(LineOf(d, "childbirth_within_weeks").held());

  // Before the birth, from week 36: ten weeks from the decision date.
  v1::Person q = Resident("Q", D(1995, 1, 1), v1::SEX_FEMALE);
  AddJob(&q, D(2025, 1, 1), std::nullopt, 1000000);
  CivilDay day(2026, 3, 15);
  *q.mutable_facts()->mutable_pregnancy_start() = D(day - 36 * 7);
  d = One(Default(), q, day, "MATERNITY");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.period_start().ShortDebugString(), D(day).ShortDebugString());
  EXPECT_EQ(d.period_end().ShortDebugString(), D(day + 69).ShortDebugString());
  *q.mutable_facts()->mutable_pregnancy_start() = D(day - 36 * 7 + 1);
  EXPECT_FALSE(One(Default(), q, day, "MATERNITY").eligible());
}

// ---------------------------------------------------------------------------
// The default programmes against hand-worked cases.

TEST(DefaultPolicyTest, HealthMembershipAndSubsidy) {
  CivilDay day(2026, 4, 1);
  HouseholdView hh;
  hh.head_beneficiary_number = "A";
  hh.members.push_back(Resident("A", D(1980, 1, 1), v1::SEX_FEMALE));
  hh.members.push_back(Resident("B", D(1979, 1, 1), v1::SEX_MALE));
  hh.members.push_back(Resident("C", D(2012, 1, 1), v1::SEX_MALE));
  SetIncome(&hh.members[0], 500000 * kRiel);
  SetIncome(&hh.members[1], 400000 * kRiel);
  // 900,000 / 3 = 300,000 riel per head: under the 400,000 poverty line.
  v1::Decision d = One(Default(), hh.members[2], day, "HEALTH", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_TRUE(d.subsidised());
  EXPECT_EQ(d.frequency(), v1::PAYMENT_FREQUENCY_NONE);
  EXPECT_EQ(d.guarantee(), v1::GUARANTEE_HEALTH);
  EXPECT_EQ(d.amount().minor_units(), 0);
  EXPECT_EQ(d.payee_beneficiary_number(), "");
  EXPECT_EQ(d.policy_version(), "2026.1");
  EXPECT_TRUE(CalculationMentions(d, "premium subsidised"));
  // 1,200,000 / 3 = exactly the poverty line: not under it.
  SetIncome(&hh.members[1], 700000 * kRiel);
  d = One(Default(), hh.members[2], day, "HEALTH", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_FALSE(d.subsidised());
  // Not registered at an office: no membership.
  v1::Person p = hh.members[0];
  p.clear_office_code();
  EXPECT_FALSE(One(Default(), p, day, "HEALTH").eligible());
}

TEST(DefaultPolicyTest, ChildAllowance) {
  CivilDay day(2026, 6, 1);
  HouseholdView hh;
  hh.head_beneficiary_number = "F";
  hh.members.push_back(Resident("F", D(1984, 5, 5), v1::SEX_MALE));
  hh.members.push_back(Resident("K1", D(2016, 2, 2), v1::SEX_FEMALE));
  hh.members.push_back(Resident("K2", D(2008, 6, 2), v1::SEX_MALE));  // 17
  hh.members.push_back(Resident("K3", D(2008, 6, 1), v1::SEX_MALE));  // 18
  v1::Decision d = One(Default(), hh.members[1], day, "CHILD", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 4000000);  // 40,000 riel
  EXPECT_EQ(d.frequency(), v1::PAYMENT_FREQUENCY_MONTHLY);
  EXPECT_EQ(d.payee_beneficiary_number(), "F");
  EXPECT_EQ(d.period_start().ShortDebugString(), D(day).ShortDebugString());
  EXPECT_FALSE(d.has_period_end());
  EXPECT_TRUE(One(Default(), hh.members[2], day, "CHILD", &hh).eligible());
  EXPECT_FALSE(One(Default(), hh.members[3], day, "CHILD", &hh).eligible());
  EXPECT_FALSE(One(Default(), hh.members[0], day, "CHILD", &hh).eligible());
}

TEST(DefaultPolicyTest, Maternity) {
  // Insured since 2025-01-01 at 1,000,000 riel; gave birth on 2026-03-01;
  // 12 insured months in the window 2025-03..2026-02 (needs 6).
  v1::Person p = Resident("M", D(1995, 1, 1), v1::SEX_FEMALE);
  p.mutable_facts()->set_employment_status(v1::EMPLOYMENT_STATUS_EMPLOYED);
  AddJob(&p, D(2025, 1, 1), std::nullopt, 1000000);
  *p.mutable_facts()->mutable_last_childbirth() = D(2026, 3, 1);
  v1::Decision d = One(Default(), p, CivilDay(2026, 3, 15), "MATERNITY");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 100000000);  // 1,000,000 riel
  EXPECT_EQ(LineOf(d, "contribution_months").value_read(), "12 months");
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2026, 5, 9).ShortDebugString());

  // Five insured months (2025-10..2026-02) are not six.
  v1::Person q = p;
  q.mutable_facts()->clear_employment();
  AddJob(&q, D(2025, 10, 1), std::nullopt, 1000000);
  EXPECT_FALSE(One(Default(), q, CivilDay(2026, 3, 15), "MATERNITY").eligible());
  q.mutable_facts()->clear_employment();
  AddJob(&q, D(2025, 9, 30), std::nullopt, 1000000);
  EXPECT_TRUE(One(Default(), q, CivilDay(2026, 3, 15), "MATERNITY").eligible());

  // A man, even insured: no.
  v1::Person man = p;
  man.set_sex(v1::SEX_MALE);
  EXPECT_FALSE(One(Default(), man, CivilDay(2026, 3, 15), "MATERNITY").eligible());
}

TEST(DefaultPolicyTest, Unemployment) {
  // 2023-01..2025-09 at 900,000 riel, 2025-10..2025-12 at 1,200,000 riel;
  // unemployed since 2026-01-01; decision on 2026-03-10.
  v1::Person p = Resident("U", D(1985, 1, 1), v1::SEX_MALE);
  p.mutable_facts()->set_employment_status(v1::EMPLOYMENT_STATUS_UNEMPLOYED);
  AddJob(&p, D(2023, 1, 1), D(2025, 9, 30), 900000);
  AddJob(&p, D(2025, 10, 1), D(2025, 12, 31), 1200000);
  CivilDay day(2026, 3, 10);
  v1::Decision d = One(Default(), p, day, "UNEMPLOYMENT");
  EXPECT_TRUE(d.eligible());
  // Average of the last 6 months of contributions, 2025-07..2025-12:
  // (3 x 900,000 + 3 x 1,200,000) / 6 = 1,050,000; 60 % = 630,000 riel,
  // inside 240,000 .. 720,000.
  EXPECT_EQ(d.amount().minor_units(), 630000 * kRiel);
  // Last contract 2025-10-01..2025-12-31: 3 months (needs 3).
  EXPECT_EQ(LineOf(d, "last_contract_months").value_read(),
            "3 months (2025-10-01 to 2025-12-31)");
  // 22 months in 2024-03..2026-02 (needs 12); 36 in the career: 4 months.
  EXPECT_EQ(LineOf(d, "contribution_months").value_read(), "22 months");
  EXPECT_EQ(LineOf(d, "duration_by_contributions").value_read(), "36 months");
  EXPECT_EQ(d.duration_months(), 4);
  EXPECT_EQ(d.period_end().ShortDebugString(),
            D(2026, 7, 9).ShortDebugString());

  // Still employed: no.
  v1::Person employed = p;
  employed.mutable_facts()->set_employment_status(
      v1::EMPLOYMENT_STATUS_EMPLOYED);
  EXPECT_FALSE(One(Default(), employed, day, "UNEMPLOYMENT").eligible());
  // Receiving the social pension: no.
  EXPECT_FALSE(
      One(Default(), p, day, "UNEMPLOYMENT", nullptr, {"OLD_AGE"}).eligible());
  // A year later the amount still reads the same wages (12 months in
  // 2025-01..2026-12 still qualify) ...
  v1::Decision late = One(Default(), p, CivilDay(2027, 1, 10), "UNEMPLOYMENT");
  EXPECT_TRUE(late.eligible());
  EXPECT_EQ(late.amount().minor_units(), 630000 * kRiel);
  // ... until too few months remain in the 24-month window (2025-06..2027-05:
  // 7 months).
  late = One(Default(), p, CivilDay(2027, 6, 10), "UNEMPLOYMENT");
  EXPECT_FALSE(late.eligible());
  EXPECT_EQ(LineOf(late, "contribution_months").value_read(), "7 months");
  // A high earner is held to the ceiling.
  v1::Person rich = p;
  rich.mutable_facts()->mutable_employment(1)->mutable_monthly_wage()
      ->set_minor_units(5000000 * kRiel);
  EXPECT_EQ(One(Default(), rich, day, "UNEMPLOYMENT").amount().minor_units(),
            720000 * kRiel);
}

TEST(DefaultPolicyTest, Disability) {
  CivilDay day(2026, 4, 1);
  HouseholdView hh;
  hh.members.push_back(Resident("D", D(1981, 1, 1), v1::SEX_MALE));
  hh.members.push_back(Resident("S", D(1982, 1, 1), v1::SEX_FEMALE));
  hh.head_beneficiary_number = "S";
  v1::Person& p = hh.members[0];
  p.mutable_facts()->mutable_disability()->set_certified(true);
  p.mutable_facts()->mutable_disability()->set_degree_percent(60);
  *p.mutable_facts()->mutable_disability()->mutable_certified_on() =
      D(2025, 6, 1);
  SetIncome(&hh.members[0], 500000 * kRiel);
  SetIncome(&hh.members[1], 700000 * kRiel);
  // 1,200,000 / 2 = 600,000 riel per head: at most 600,000.
  v1::Decision d = One(Default(), hh.members[0], day, "DISABILITY", &hh);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 80000 * kRiel);
  EXPECT_EQ(d.payee_beneficiary_number(), "D");
  SetIncome(&hh.members[1], 700000 * kRiel + 2);
  EXPECT_FALSE(One(Default(), hh.members[0], day, "DISABILITY", &hh).eligible());
  SetIncome(&hh.members[1], 700000 * kRiel);
  EXPECT_FALSE(One(Default(), hh.members[0], day, "DISABILITY", &hh,
                   {"WORK_INJURY"})
                   .eligible());
  hh.members[0].mutable_facts()->mutable_disability()->set_degree_percent(39);
  EXPECT_FALSE(One(Default(), hh.members[0], day, "DISABILITY", &hh).eligible());
}

TEST(DefaultPolicyTest, WorkInjury) {
  CivilDay day(2026, 4, 1);
  auto decide = [&](int incapacity, int64_t wage_riel) {
    v1::Person p = Resident("W", D(1985, 1, 1), v1::SEX_MALE);
    AddJob(&p, D(2024, 1, 1), std::nullopt, wage_riel);
    v1::WorkAccident* a = p.mutable_facts()->add_work_accidents();
    *a->mutable_date() = D(2026, 2, 10);
    a->set_incapacity_percent(incapacity);
    return One(Default(), p, day, "WORK_INJURY");
  };
  // 35 % of 1,000,000 riel.
  v1::Decision d = decide(35, 1000000);
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 350000 * kRiel);
  EXPECT_TRUE(CalculationMentions(
      d, "monthly wage at the accident on 2026-02-10: 1,000,000.00 KHR"));
  EXPECT_EQ(decide(20, 1000000).amount().minor_units(), 200000 * kRiel);
  EXPECT_FALSE(decide(19, 1000000).eligible());
  EXPECT_EQ(decide(79, 1000000).amount().minor_units(), 790000 * kRiel);
  EXPECT_EQ(decide(80, 1000000).amount().minor_units(), 1000000 * kRiel);
  EXPECT_EQ(decide(80, 1500000).amount().minor_units(), 1200000 * kRiel);
}

TEST(DefaultPolicyTest, WorkInjuryUsesTheQualifyingAccident) {
  v1::Person p = Resident("W", D(1985, 1, 1), v1::SEX_MALE);
  AddJob(&p, D(2018, 1, 1), D(2019, 12, 31), 600000);
  AddJob(&p, D(2024, 1, 1), std::nullopt, 1000000);
  v1::WorkAccident* a = p.mutable_facts()->add_work_accidents();
  *a->mutable_date() = D(2019, 6, 1);
  a->set_incapacity_percent(40);
  a = p.mutable_facts()->add_work_accidents();
  *a->mutable_date() = D(2025, 6, 1);
  a->set_incapacity_percent(10);
  v1::Decision d = One(Default(), p, CivilDay(2026, 4, 1), "WORK_INJURY");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 240000 * kRiel);  // 40 % of 600,000
}

TEST(DefaultPolicyTest, OldAge) {
  v1::Person p = Resident("O", D(1966, 5, 20), v1::SEX_FEMALE);
  EXPECT_FALSE(One(Default(), p, CivilDay(2026, 5, 19), "OLD_AGE").eligible());
  v1::Decision d = One(Default(), p, CivilDay(2026, 5, 20), "OLD_AGE");
  EXPECT_TRUE(d.eligible());
  EXPECT_EQ(d.amount().minor_units(), 100000 * kRiel);
  EXPECT_EQ(d.guarantee(), v1::GUARANTEE_OLD_AGE);
  p.mutable_facts()->set_receives_contributory_pension(true);
  EXPECT_FALSE(One(Default(), p, CivilDay(2026, 5, 20), "OLD_AGE").eligible());
}

TEST(DefaultPolicyTest, EveryProgrammeInPolicyOrder) {
  v1::Person p = Resident("O", D(1960, 1, 1), v1::SEX_MALE);
  auto all = DecideAll(Default(), p, CivilDay(2026, 1, 1), {});
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> codes;
  for (const auto& d : *all) codes.push_back(d.programme_code());
  EXPECT_EQ(codes, (std::vector<std::string>{"HEALTH", "CHILD", "MATERNITY",
                                             "UNEMPLOYMENT", "DISABILITY",
                                             "WORK_INJURY", "OLD_AGE"}));
  EXPECT_TRUE((*all)[0].eligible());
  EXPECT_TRUE((*all)[6].eligible());
  for (int i = 1; i < 6; ++i) EXPECT_FALSE((*all)[i].eligible()) << codes[i];
}

// ---------------------------------------------------------------------------
// Versions, codes, determinism.

const char kTwoVersions[] = R"pb(
versions {
  version: "2026.1" effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR"
  programmes { code: "OLD_AGE" name: "Pension" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 10000000 } } } }
}
versions {
  version: "2027.1" effective_from { year: 2027 month: 1 day: 1 }
  effective_until { year: 2027 month: 12 day: 31 }
  currency: "KHR"
  programmes { code: "OLD_AGE" name: "Pension" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 12000000 } } } }
}
)pb";

TEST(VersionTest, TheVersionInForceThatDayDecides) {
  v1::PolicySet set = MustParse(kTwoVersions);
  v1::Person p = Resident("1", D(1950, 1, 1), v1::SEX_MALE);
  v1::Decision d = One(set, p, CivilDay(2026, 12, 31), "OLD_AGE");
  EXPECT_EQ(d.policy_version(), "2026.1");
  EXPECT_EQ(d.amount().minor_units(), 10000000);
  d = One(set, p, CivilDay(2027, 1, 1), "OLD_AGE");
  EXPECT_EQ(d.policy_version(), "2027.1");
  EXPECT_EQ(d.amount().minor_units(), 12000000);
  EXPECT_EQ(One(set, p, CivilDay(2027, 12, 31), "OLD_AGE").policy_version(),
            "2027.1");

  // Before the first version, and after the last one's end: no policy.
  auto r = DecideAll(set, p, CivilDay(2025, 12, 31), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "no policy version is in force on 2025-12-31");
  r = DecideAll(set, p, CivilDay(2028, 1, 1), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(PolicyInForce(Default(), CivilDay(2025, 12, 31)), nullptr);
  ASSERT_NE(PolicyInForce(Default(), CivilDay(2026, 1, 1)), nullptr);
  EXPECT_EQ(PolicyInForce(Default(), CivilDay(2099, 1, 1))->version(), "2026.1");
}

TEST(CodesTest, ChosenCodesInOrderUnknownAndRepeatedRefused) {
  v1::Person p = Resident("1", D(1950, 1, 1), v1::SEX_MALE);
  CivilDay day(2026, 6, 1);
  auto r = DecideAll(Default(), p, day, {"OLD_AGE", "HEALTH"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].programme_code(), "OLD_AGE");
  EXPECT_EQ((*r)[1].programme_code(), "HEALTH");

  r = DecideAll(Default(), p, day, {"HEALTH", "PENSION"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  auto v = GetFieldViolations(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "programmes[1]");
  EXPECT_EQ(v[0].description, "unknown programme \"PENSION\" in policy 2026.1");

  r = DecideAll(Default(), p, day, {"HEALTH", "HEALTH"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  v = GetFieldViolations(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "programmes[1]");
}

TEST(DeterminismTest, SameInputsSameBytes) {
  CivilDay day(2026, 6, 1);
  HouseholdView hh;
  hh.head_beneficiary_number = "H";
  hh.members.push_back(Resident("H", D(1986, 1, 1), v1::SEX_FEMALE));
  *hh.members[0].mutable_facts()->mutable_pregnancy_start() = D(day - 100);
  AddJob(&hh.members[0], D(2024, 1, 1), std::nullopt, 900000);
  SetIncome(&hh.members[0], 900000 * kRiel);
  hh.members[0].mutable_facts()->mutable_disability()->set_certified(true);
  hh.members[0].mutable_facts()->mutable_disability()->set_degree_percent(50);
  for (int i = 0; i < 5; ++i) {
    hh.members.push_back(Resident(absl::StrCat("C", i), D(2010 + i, 1, 1),
                                  v1::SEX_MALE));
  }
  // Twins: the same birth date, ranked by beneficiary number.
  hh.members.push_back(Resident("T2", D(2015, 1, 1), v1::SEX_FEMALE));
  hh.members.push_back(Resident("T1", D(2015, 1, 1), v1::SEX_FEMALE));

  HouseholdView reversed = hh;
  std::reverse(reversed.members.begin(), reversed.members.end());

  for (size_t m = 0; m < hh.members.size(); ++m) {
    const v1::Person& who = hh.members[m];
    absl::flat_hash_set<std::string> a = {"OLD_AGE", "WORK_INJURY", "CHILD"};
    absl::flat_hash_set<std::string> b = {"CHILD", "WORK_INJURY", "OLD_AGE"};
    auto first = DecideAll(Default(), who, day, {}, &hh, a);
    auto second = DecideAll(Default(), who, day, {}, &hh, a);
    auto permuted = DecideAll(Default(), who, day, {}, &reversed, b);
    ASSERT_TRUE(first.ok() && second.ok() && permuted.ok());
    ASSERT_EQ(first->size(), 7u);
    for (size_t i = 0; i < first->size(); ++i) {
      EXPECT_EQ(Bytes((*first)[i]), Bytes((*second)[i])) << who.beneficiary_number();
      EXPECT_EQ(Bytes((*first)[i]), Bytes((*permuted)[i]))
          << who.beneficiary_number() << " " << (*first)[i].programme_code();
    }
  }
  // The twin with the smaller number ranks first: T1 is 6th, T2 is 7th.
  auto t1 = One(Default(), hh.members[7], day, "CHILD", &hh);
  ASSERT_EQ(hh.members[7].beneficiary_number(), "T1");
  EXPECT_TRUE(CalculationMentions(t1, "child ranked 6"));
}

TEST(FormatMoneyTest, GroupsAndDecimals) {
  EXPECT_EQ(FormatMoney(4000000, "KHR"), "40,000.00 KHR");
  EXPECT_EQ(FormatMoney(5, "KHR"), "0.05 KHR");
  EXPECT_EQ(FormatMoney(-123456789, "KHR"), "-1,234,567.89 KHR");
  EXPECT_EQ(FormatMoney(1234567, "JPY"), "1,234,567 JPY");
  EXPECT_EQ(FormatMoney(1234, "KWD"), "1.234 KWD");
  EXPECT_EQ(FormatMoney(0, "KHR"), "0.00 KHR");
}

}  // namespace
}  // namespace socle::policy
