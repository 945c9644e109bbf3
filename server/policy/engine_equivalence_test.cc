// The engine's answers must not change when its code is reworked for speed:
// every Decision, byte for byte, equals the one the engine gave before
// (reference_engine_for_test.cc, a copy of it kept only for this test), for
// thousands of generated persons and households, on several dates, under
// every version of the default policy and of the test policies.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/policy/engine.h"
#include "server/policy/policy_loader.h"

namespace socle::policy {
namespace reference {
absl::StatusOr<std::vector<v1::Decision>> DecideWithVersion(
    const v1::Policy& policy, const EligibilityInput& input,
    const std::vector<std::string>& codes);
std::string FormatMoney(int64_t minor_units, const std::string& currency);
}  // namespace reference

namespace {

using absl::CivilDay;

v1::Date D(CivilDay day) {
  v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(0, 99) < percent; }

  CivilDay DayAround(CivilDay as_of, int back_days, int ahead_days) {
    return as_of - Int(-ahead_days, back_days);
  }

  v1::Money Money(int64_t max_riel) {
    v1::Money m;
    m.set_minor_units(int64_t{Int(0, static_cast<int>(max_riel / 1000))} * 1000 * 100 +
                      Int(0, 99));
    const int c = Int(0, 19);
    m.set_currency(c == 0 ? "USD" : c == 1 ? "" : "KHR");
    return m;
  }

  v1::Person Person(int64_t n, CivilDay as_of) {
    v1::Person p;
    p.set_beneficiary_number(absl::StrCat(1000000000 + n));
    const int sex = Int(0, 9);
    p.set_sex(sex == 0 ? v1::SEX_UNSPECIFIED
              : sex == 1 ? v1::SEX_OTHER
              : sex < 6 ? v1::SEX_FEMALE
                        : v1::SEX_MALE);
    if (!Chance(3)) *p.mutable_date_of_birth() = D(DayAround(as_of, 95 * 365, 30));
    if (Chance(5)) *p.mutable_date_of_death() = D(DayAround(as_of, 800, 200));
    if (!Chance(5)) p.set_office_code(absl::StrCat("KH-SR-0", Int(1, 9)));
    v1::PersonFacts& f = *p.mutable_facts();
    if (Chance(15)) {
      f.mutable_disability()->set_certified(true);
      if (Chance(80)) *f.mutable_disability()->mutable_certified_on() = D(DayAround(as_of, 3000, 100));
      f.mutable_disability()->set_degree_percent(Int(0, 100));
    }
    if (p.sex() == v1::SEX_FEMALE && Chance(25)) {
      *f.mutable_pregnancy_start() = D(DayAround(as_of, 400, 30));
    }
    if (Chance(20)) *f.mutable_last_childbirth() = D(DayAround(as_of, 500, 20));
    f.set_employment_status(static_cast<v1::EmploymentStatus>(Int(0, 4)));
    const int jobs = Chance(40) ? 0 : Int(1, 4);
    CivilDay start = as_of - Int(30, 6000);
    for (int j = 0; j < jobs; ++j) {
      v1::EmploymentPeriod* e = f.add_employment();
      *e->mutable_start() = D(start);
      CivilDay end = start + Int(10, 1500);
      if (j + 1 < jobs || Chance(50)) *e->mutable_end() = D(end);
      *e->mutable_monthly_wage() = Money(4'000'000);
      e->set_insured(Chance(75));
      start = end + Int(1, 200);
    }
    if (Chance(60)) *f.mutable_monthly_income() = Money(2'000'000);
    f.set_receives_contributory_pension(Chance(10));
    for (int a = Chance(80) ? 0 : Int(1, 3); a > 0; --a) {
      v1::WorkAccident* w = f.add_work_accidents();
      *w->mutable_date() = D(DayAround(as_of, 2000, 60));
      w->set_incapacity_percent(Int(0, 100));
    }
    return p;
  }

 private:
  std::mt19937 rng_;
};

std::vector<v1::PolicySet> Policies() {
  std::vector<v1::PolicySet> out;
  for (const char* file : {"/deploy/policy/default.textproto",
                           "/server/policy/testdata/next_version.textproto"}) {
    absl::StatusOr<LoadedPolicy> loaded =
        LoadPolicyFile(std::string(SOCLE_SOURCE_DIR) + file);
    EXPECT_TRUE(loaded.ok()) << file << ": " << loaded.status();
    if (loaded.ok()) out.push_back(loaded->policies);
  }
  // What the default policy does not use: an explicit alive line, nested
  // any-of groups, income "at most", duration caps in months and weeks, a
  // whole-career contribution window for a duration, a criterion of no kind.
  absl::StatusOr<LoadedPolicy> inline_set = ValidatePolicyText(R"pb(
    versions {
      version: "x" effective_from { year: 2020 month: 1 day: 1 } currency: "KHR"
      programmes {
        code: "A" name: "Nested" guarantee: GUARANTEE_WORKING_AGE
        frequency: PAYMENT_FREQUENCY_MONTHLY payee: PAYEE_HOUSEHOLD_HEAD
        criteria { resident_registered {} }
        criteria { alive {} }
        criteria { any_of {
          alternatives { name: "old" criteria { age { at_least: 60 } } }
          alternatives { name: "young" criteria { any_of {
            alternatives { name: "child" criteria { age { under: 18 } } }
            alternatives { name: "pregnant" criteria { pregnant { from_week: 0 } } }
          } } }
        } }
        criteria { income_per_head { test: INCOME_TEST_AT_MOST threshold { minor_units: 50000000 } } }
        entitlement { fixed { amount { minor_units: 5000000 } } }
        duration { max_months: 3 }
      }
      programmes {
        code: "B" name: "Weeks" guarantee: GUARANTEE_CHILDREN
        frequency: PAYMENT_FREQUENCY_ONE_OFF
        criteria { age { at_least: 18 under: 50 } }
        criteria { disability_certified {} }
        entitlement { fixed { amount { minor_units: 100 } } }
        duration { max_weeks: 6 anchor: PERIOD_ANCHOR_LAST_CHILDBIRTH }
      }
      programmes {
        code: "C" name: "Career" guarantee: GUARANTEE_OLD_AGE
        frequency: PAYMENT_FREQUENCY_MONTHLY
        criteria { contributions { at_least_months: 24 window_months: 36 } }
        entitlement { wage_percentage { basis: WAGE_BASIS_AVERAGE_WAGE basis_points: 4000 average_over_months: 12 } }
        duration {
          by_contribution_months { from_contribution_months: 12 months: 3 }
          by_contribution_months { from_contribution_months: 36 months: 9 }
        }
      }
    })pb", "inline.textproto");
  EXPECT_TRUE(inline_set.ok()) << inline_set.status();
  if (inline_set.ok()) out.push_back(inline_set->policies);
  return out;
}

std::string Bytes(const v1::Decision& d) {
  std::string s;
  EXPECT_TRUE(d.SerializePartialToString(&s));
  return s;
}

TEST(EngineEquivalenceTest, SameBytesAsTheEngineBeforeItsRework) {
  const std::vector<v1::PolicySet> sets = Policies();
  ASSERT_FALSE(sets.empty());
  Generator gen(20261125);
  int decisions = 0, eligible = 0, households = 0;
  const CivilDay dates[] = {CivilDay(2026, 11, 25), CivilDay(2027, 2, 28),
                            CivilDay(2028, 2, 29), CivilDay(2025, 12, 31)};
  for (int round = 0; round < 1500; ++round) {
    const CivilDay as_of = dates[round % 4];
    v1::Person person = gen.Person(round * 10, as_of);
    HouseholdView household;
    const bool in_household = gen.Chance(60);
    if (in_household) {
      ++households;
      const int others = gen.Int(0, 8);
      const int self_at = gen.Int(0, others);
      for (int m = 0; m <= others; ++m) {
        if (m == self_at) {
          if (!gen.Chance(5)) household.members.push_back(person);  // else missing
          continue;
        }
        v1::Person member = gen.Person(round * 10 + m + 1, as_of);
        if (gen.Chance(50)) {  // a child
          *member.mutable_date_of_birth() = D(as_of - gen.Int(0, 20 * 365));
        }
        household.members.push_back(member);
      }
      if (!gen.Chance(10)) {
        household.head_beneficiary_number =
            household.members.empty() ? person.beneficiary_number()
                                      : household.members[0].beneficiary_number();
      }
    }
    EligibilityInput input{.person = person,
                           .household = in_household ? &household : nullptr,
                           .active_programmes = {},
                           .as_of = as_of};
    for (const v1::PolicySet& set : sets) {
      for (const v1::Policy& policy : set.versions()) {
        input.active_programmes.clear();
        for (const v1::Programme& prog : policy.programmes()) {
          if (gen.Chance(15)) input.active_programmes.insert(prog.code());
        }
        std::vector<std::string> codes;
        if (gen.Chance(20) && policy.programmes_size() > 0) {
          for (int i = policy.programmes_size() - 1; i >= 0; i -= gen.Int(1, 2)) {
            codes.push_back(policy.programmes(i).code());
          }
        }
        auto got = DecideWithVersion(policy, input, codes);
        auto want = reference::DecideWithVersion(policy, input, codes);
        ASSERT_EQ(got.status(), want.status());
        if (!got.ok()) continue;
        ASSERT_EQ(got->size(), want->size());
        for (size_t i = 0; i < got->size(); ++i) {
          ++decisions;
          eligible += (*got)[i].eligible() ? 1 : 0;
          ASSERT_EQ(Bytes((*got)[i]), Bytes((*want)[i]))
              << "round " << round << " policy " << policy.version() << " decision " << i
              << "\nnow:\n" << (*got)[i].DebugString() << "\nbefore:\n"
              << (*want)[i].DebugString();
        }
      }
    }
  }
  // The generated population reaches both answers, households included.
  EXPECT_GT(decisions, 10000);
  EXPECT_GT(eligible, decisions / 20);
  EXPECT_LT(eligible, decisions - decisions / 20);
  EXPECT_GT(households, 500);
}

TEST(EngineEquivalenceTest, FormatMoneyAsBefore) {
  for (const char* currency : {"KHR", "JPY", "KWD", "", "US"}) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{999}, int64_t{1000},
                      int64_t{123456789}, int64_t{-987654321012},
                      std::numeric_limits<int64_t>::max(),
                      std::numeric_limits<int64_t>::min()}) {
      EXPECT_EQ(FormatMoney(v, currency), reference::FormatMoney(v, currency))
          << v << " " << currency;
    }
  }
}

}  // namespace
}  // namespace socle::policy
