#include "server/policy/policy_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/field_error.h"
#include "gtest/gtest.h"

namespace socle::policy {
namespace {

const std::string kSource = SOCLE_SOURCE_DIR;
const std::string kDefault = kSource + "/deploy/policy/default.textproto";
const std::string kTestdata = kSource + "/server/policy/testdata/";

// The 1-based line of `text` holding the marker "#<" (the line a test
// expects a problem on).
int MarkedLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StrContains(lines[i], "#<")) return static_cast<int>(i) + 1;
  }
  ADD_FAILURE() << "no #< marker";
  return 0;
}

std::vector<std::string> Problems(const absl::Status& status) {
  return absl::StrSplit(status.message(), '\n');
}

// Validating `text` fails with INVALID_ARGUMENT, and one of the reported
// problems is exactly "bad.textproto:<marked line>: <field>: <message>".
void ExpectProblem(const std::string& text, const std::string& field,
                   const std::string& message) {
  absl::StatusOr<LoadedPolicy> r = ValidatePolicyText(text, "bad.textproto");
  ASSERT_FALSE(r.ok()) << "accepted:\n" << text;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string expected = absl::StrCat("bad.textproto:", MarkedLine(text), ": ",
                                      field, ": ", message);
  std::vector<std::string> problems = Problems(r.status());
  EXPECT_NE(std::find(problems.begin(), problems.end(), expected),
            problems.end())
      << "expected: " << expected << "\ngot:\n"
      << r.status().message();
  bool violation = false;
  for (const FieldViolation& v : GetFieldViolations(r.status())) {
    if (v.field == field &&
        v.description == absl::StrCat("bad.textproto:", MarkedLine(text),
                                      ": ", message)) {
      violation = true;
    }
  }
  EXPECT_TRUE(violation) << "no field violation for " << field;
}

// A valid version header; `programmes` is appended inside `versions { }`.
std::string Version(const std::string& programmes) {
  return absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR"
)pb",
                      programmes, "\n}\n");
}

TEST(DefaultPolicyFileTest, LoadsAndValidates) {
  absl::StatusOr<LoadedPolicy> r = LoadPolicyFile(kDefault);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->policies.versions_size(), 1);
  const v1::Policy& v = r->policies.versions(0);
  EXPECT_EQ(v.version(), "2026.1");
  EXPECT_EQ(v.currency(), "KHR");
  EXPECT_EQ(v.effective_from().ShortDebugString(),
            "year: 2026 month: 1 day: 1");
  std::vector<std::string> codes;
  for (const auto& p : v.programmes()) codes.push_back(p.code());
  EXPECT_EQ(codes, (std::vector<std::string>{"HEALTH", "CHILD", "MATERNITY",
                                             "UNEMPLOYMENT", "DISABILITY",
                                             "WORK_INJURY", "OLD_AGE"}));
  EXPECT_EQ(r->files, std::vector<std::string>{kDefault});
  EXPECT_TRUE(ValidatePolicySet(r->policies).ok());
}

TEST(DefaultPolicyFileTest, ABadEditOfTheRealFileNamesItsLineAndField) {
  std::ifstream in(kDefault);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const std::string pension = "fixed { amount { minor_units: 10000000 } }";
  size_t at = text.find(pension);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, pension.size(), "fixed { amount { minor_units: -10000000 } }");
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  absl::StatusOr<LoadedPolicy> r =
      ValidatePolicyText(text, "deploy/policy/bad.textproto");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("deploy/policy/bad.textproto:", line,
                         ": versions[0].programmes[6].entitlement.fixed.amount."
                         "minor_units: must not be negative"));
}

TEST(SyntaxTest, ReportsFileLineAndColumn) {
  std::string text = Version(R"pb(  programmes {
    code: "OLD_AGE"
    nmae: "Social pension"  #<
  })pb");
  absl::StatusOr<LoadedPolicy> r = ValidatePolicyText(text, "bad.textproto");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // Line and column of the misspelt name itself.
  EXPECT_EQ(r.status().message(),
            absl::StrCat("bad.textproto:", MarkedLine(text),
                         ":5: Message type \"socle.v1.Programme\" has no field "
                         "named \"nmae\"."));
  auto v = GetFieldViolations(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "");
}

TEST(SyntaxTest, UnknownEnumValueAndFileOnDisk) {
  std::string text = Version(R"pb(  programmes {
    code: "OLD_AGE" name: "Pension"
    guarantee: GUARANTEE_RETIREMENT  #<
  })pb");
  absl::StatusOr<LoadedPolicy> r = ValidatePolicyText(text, "bad.textproto");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(
      r.status().message(),
      absl::StrCat("bad.textproto:", MarkedLine(text), ":16: ")))
      << r.status().message();

  std::string path = kTestdata + "bad_syntax.textproto";
  r = LoadPolicyFile(path);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), path + ":5:"))
      << r.status().message();
}

TEST(LoadTest, MissingFileIsNotFound) {
  absl::StatusOr<LoadedPolicy> r =
      LoadPolicyFile(kTestdata + "no_such_file.textproto");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadPolicyFiles({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LoadTest, EmptyFileHoldsNoVersion) {
  absl::StatusOr<LoadedPolicy> r = ValidatePolicyText("# nothing\n", "e.txt");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "e.txt: versions: must hold at least one version");
}

TEST(RequiredTest, VersionDateCurrencyNameEntitlement) {
  ExpectProblem(R"pb(versions {  #<
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR"
  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
})pb",
                "versions[0].version", "is required");
  ExpectProblem(R"pb(versions {  #<
  version: "2026.1"
  currency: "KHR"
  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
})pb",
                "versions[0].effective_from", "is required");
  ExpectProblem(R"pb(versions {  #<
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
})pb",
                "versions[0].currency", "is required");
  ExpectProblem(Version(R"pb(  programmes {  #<
    code: "A"
    guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"),
                "versions[0].programmes[0].name", "is required");
  ExpectProblem(Version(R"pb(  programmes {  #<
    code: "A" name: "A"
    guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
  })pb"),
                "versions[0].programmes[0].entitlement",
                "must set one formula: fixed, per_child, wage_percentage, "
                "wage_by_incapacity or membership");
  ExpectProblem(Version(R"pb(  programmes {  #<
    code: "A" name: "A"
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"),
                "versions[0].programmes[0].guarantee", "is required");
  ExpectProblem(Version(R"pb(  programmes {
    code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { } }  #<
  })pb"),
                "versions[0].programmes[0].entitlement.fixed.amount",
                "is required");
  ExpectProblem(Version(R"pb(  programmes {
    code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    criteria { }  #<
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"),
                "versions[0].programmes[0].criteria[0]",
                "must set one criterion kind (age, sex, alive, "
                "resident_registered, disability_certified, pregnant, "
                "employment_status, contributions, last_contract, "
                "income_per_head, work_accident, not_receiving, "
                "recent_childbirth, no_contributory_pension or any_of)");
  ExpectProblem(R"pb(versions {  #<
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR"
  description: "no programme"
})pb",
                "versions[0].programmes",
                "must define at least one programme");
}

TEST(ProgrammeCodeTest, UniqueAndWellFormed) {
  ExpectProblem(Version(R"pb(  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
  programmes {
    code: "A"  #<
    name: "B" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } })pb"),
                "versions[0].programmes[1].code",
                "duplicate programme code \"A\" (also programmes[0])");
  ExpectProblem(Version(R"pb(  programmes {
    code: "old age"  #<
    name: "B" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } })pb"),
                "versions[0].programmes[0].code",
                "must be 1 to 32 characters: an upper-case letter, then "
                "upper-case letters, digits or '_'");
}

const char kTwoProgrammes[] = R"pb(  programmes { code: "OLD_AGE" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
  programmes { code: "DISABILITY" name: "B" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    criteria { no_contributory_pension {} }
    criteria { not_receiving {
      programme_code: "%s"  #<
    } }
    entitlement { fixed { amount { minor_units: 1 } } } })pb";

TEST(NotReceivingTest, UnknownOrOwnProgramme) {
  auto with = [](const std::string& code) {
    std::string text = kTwoProgrammes;
    text.replace(text.find("%s"), 2, code);
    return Version(text);
  };
  EXPECT_TRUE(ValidatePolicyText(with("OLD_AGE"), "ok.textproto").ok());
  ExpectProblem(with("PENSION"),
                "versions[0].programmes[1].criteria[1].not_receiving."
                "programme_code",
                "unknown programme \"PENSION\" in version 2026.1");
  ExpectProblem(with("DISABILITY"),
                "versions[0].programmes[1].criteria[1].not_receiving."
                "programme_code",
                "must name another programme than its own");
}

std::string WithEntitlement(const std::string& entitlement) {
  return Version(absl::StrCat(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement {
)pb",
                              entitlement, "\n    }\n  }"));
}

TEST(AmountTest, NegativeAmounts) {
  ExpectProblem(WithEntitlement(R"pb(      fixed { amount {
        minor_units: -5  #<
      } })pb"),
                "versions[0].programmes[0].entitlement.fixed.amount.minor_units",
                "must not be negative");
  ExpectProblem(WithEntitlement(R"pb(      per_child {
        amount_per_child { minor_units: -1 }  #<
        max_children_per_household: 5 child_age_under: 18 })pb"),
                "versions[0].programmes[0].entitlement.per_child."
                "amount_per_child.minor_units",
                "must not be negative");
  ExpectProblem(WithEntitlement(R"pb(      wage_percentage {
        basis: WAGE_BASIS_LAST_WAGE basis_points: 100
        ceiling { minor_units: -1 }  #<
      })pb"),
                "versions[0].programmes[0].entitlement.wage_percentage.ceiling."
                "minor_units",
                "must not be negative");
}

TEST(AmountTest, FloorAboveCeiling) {
  ExpectProblem(WithEntitlement(R"pb(      wage_percentage {
        basis: WAGE_BASIS_LAST_WAGE basis_points: 6000
        floor { minor_units: 50000000 }  #<
        ceiling { minor_units: 40000000 }
      })pb"),
                "versions[0].programmes[0].entitlement.wage_percentage.floor",
                "floor 500,000.00 KHR exceeds ceiling 400,000.00 KHR");
  ExpectProblem(WithEntitlement(R"pb(      wage_by_incapacity {
        basis: WAGE_BASIS_AT_ACCIDENT
        bands { from_percent: 20 basis_points: 10000 }
        floor { minor_units: 2 }  #<
        ceiling { minor_units: 1 }
      })pb"),
                "versions[0].programmes[0].entitlement.wage_by_incapacity.floor",
                "floor 0.02 KHR exceeds ceiling 0.01 KHR");
}

TEST(AmountTest, BasisPointsOutsideRange) {
  ExpectProblem(WithEntitlement(R"pb(      wage_percentage {
        basis: WAGE_BASIS_LAST_WAGE
        basis_points: 10001  #<
      })pb"),
                "versions[0].programmes[0].entitlement.wage_percentage."
                "basis_points",
                "must be 0..10000 basis points (is 10001)");
  ExpectProblem(WithEntitlement(R"pb(      wage_by_incapacity {
        basis: WAGE_BASIS_AT_ACCIDENT
        bands { from_percent: 20 basis_points: 5000 }
        bands {
          from_percent: 10  #<
          basis_points: -1
        }
      })pb"),
                "versions[0].programmes[0].entitlement.wage_by_incapacity."
                "bands[1].from_percent",
                "must be greater than the previous band's (20)");
  EXPECT_TRUE(ValidatePolicyText(WithEntitlement(R"pb(wage_percentage {
        basis: WAGE_BASIS_LAST_WAGE basis_points: 10000 })pb"),
                                 "ok.textproto")
                  .ok());
  ExpectProblem(WithEntitlement(R"pb(      wage_percentage {
        basis: WAGE_BASIS_LAST_WAGE basis_points: 100
        average_over_months: 6  #<
      })pb"),
                "versions[0].programmes[0].entitlement.wage_percentage."
                "average_over_months",
                "only goes with WAGE_BASIS_AVERAGE_WAGE");
}

TEST(CurrencyTest, BadCodeAndForeignAmount) {
  ExpectProblem(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "riel"  #<
  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } }
})pb",
                "versions[0].currency",
                "must be an ISO 4217 code: three upper-case letters, e.g. "
                "\"KHR\"");
  ExpectProblem(WithEntitlement(R"pb(      fixed { amount {
        minor_units: 100
        currency: "USD"  #<
      } })pb"),
                "versions[0].programmes[0].entitlement.fixed.amount.currency",
                "must be KHR, the policy's currency, or be left out");
}

TEST(AnyOfTest, EmptyGroupsAndAlternatives) {
  auto with = [](const std::string& criteria) {
    return Version(absl::StrCat(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_CHILDREN
    frequency: PAYMENT_FREQUENCY_MONTHLY
)pb",
                                criteria, R"pb(
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"));
  };
  ExpectProblem(with(R"pb(    criteria {
      any_of { }  #<
    })pb"),
                "versions[0].programmes[0].criteria[0].any_of",
                "empty any-of group: must have at least one alternative");
  ExpectProblem(with(R"pb(    criteria { any_of {
      alternatives { name: "child" criteria { age { under: 18 } } }
      alternatives { name: "nobody" }  #<
    } })pb"),
                "versions[0].programmes[0].criteria[0].any_of.alternatives[1]."
                "criteria",
                "empty alternative: must have at least one criterion");
  ExpectProblem(with(R"pb(    criteria { any_of {
      alternatives { criteria { age { under: 18 } } }  #<
    } })pb"),
                "versions[0].programmes[0].criteria[0].any_of.alternatives[0]."
                "name",
                "is required");
  std::string deep = "criteria { age { under: 18 } }";
  for (int i = 0; i < 5; ++i) {
    deep = absl::StrCat("criteria { any_of { alternatives { name: \"n\" ",
                        deep, " } } }");
  }
  absl::StatusOr<LoadedPolicy> r =
      ValidatePolicyText(with(deep), "deep.textproto");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "any_of groups nest at most 4 deep"))
      << r.status().message();
}

TEST(CriterionTest, ParameterRanges) {
  auto with = [](const std::string& criterion) {
    return Version(absl::StrCat(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    criteria {
)pb",
                                criterion, R"pb(
    }
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"));
  };
  const std::string c = "versions[0].programmes[0].criteria[0].";
  ExpectProblem(with("      age { }  #<"), c + "age",
                "set at_least, under or both");
  ExpectProblem(with("      age { at_least: 60\n under: 18 }  #<"),
                c + "age.under", "must be greater than at_least (60)");
  ExpectProblem(with("      pregnant { from_week: 46 }  #<"),
                c + "pregnant.from_week", "must be 0..45 weeks (is 46)");
  ExpectProblem(
      with("      contributions { window_months: 12\n at_least_months: 13 }  #<"),
      c + "contributions.at_least_months",
      "must not exceed window_months (12)");
  ExpectProblem(with("      employment_status { }  #<"),
                c + "employment_status", "must list at least one status");
  ExpectProblem(with("      sex { }  #<"), c + "sex.sex", "is required");
  ExpectProblem(
      with("      work_accident { min_incapacity_percent: 101 }  #<"),
      c + "work_accident.min_incapacity_percent",
      "must be 0..100 % (is 101)");
  ExpectProblem(with("      income_per_head { test: INCOME_TEST_BELOW }  #<"),
                c + "income_per_head.threshold", "is required");
  ExpectProblem(with("      recent_childbirth { }  #<"),
                c + "recent_childbirth.within_weeks",
                "must be 1..520 weeks (is 0)");
}

std::string WithDuration(const std::string& duration) {
  return Version(absl::StrCat(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } }
    duration {
)pb",
                              duration, "\n    }\n  }"));
}

TEST(DurationTableTest, MustIncrease) {
  ExpectProblem(WithDuration(R"pb(      by_contribution_months { from_contribution_months: 12 months: 3 }
      by_contribution_months { from_contribution_months: 36 months: 4 }
      by_contribution_months {
        from_contribution_months: 36  #<
        months: 5
      })pb"),
                "versions[0].programmes[0].duration.by_contribution_months[2]."
                "from_contribution_months",
                "duration table not increasing: must be greater than the "
                "previous step's (36)");
  ExpectProblem(WithDuration(R"pb(      by_contribution_months { from_contribution_months: 12 months: 3 }
      by_contribution_months {
        from_contribution_months: 36
        months: 3  #<
      })pb"),
                "versions[0].programmes[0].duration.by_contribution_months[1]."
                "months",
                "duration table not increasing: must be greater than the "
                "previous step's (3)");
  ExpectProblem(Version(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } }
    duration {  #<
      max_weeks: 10
      max_months: 2
    }
  })pb"),
                "versions[0].programmes[0].duration",
                "set only one of max_weeks, max_months and "
                "by_contribution_months");
}

TEST(MembershipTest, FrequencyNoneIffMembership) {
  ExpectProblem(Version(R"pb(  programmes {
    code: "HEALTH" name: "Health" guarantee: GUARANTEE_HEALTH
    frequency: PAYMENT_FREQUENCY_MONTHLY  #<
    entitlement { membership { } }
  })pb"),
                "versions[0].programmes[0].frequency",
                "must be PAYMENT_FREQUENCY_NONE for a membership");
  ExpectProblem(Version(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_NONE  #<
    entitlement { fixed { amount { minor_units: 1 } } }
  })pb"),
                "versions[0].programmes[0].frequency",
                "PAYMENT_FREQUENCY_NONE is only for a membership entitlement");
}

const char kProgramme[] = R"pb(
  programmes { code: "A" name: "A" guarantee: GUARANTEE_OLD_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    entitlement { fixed { amount { minor_units: 1 } } } })pb";

TEST(DateTest, BadDatesAndUntilBeforeFrom) {
  ExpectProblem(absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 2 day: 30 }  #<
  currency: "KHR")pb",
                             kProgramme, "\n}"),
                "versions[0].effective_from",
                "is not a calendar date (2026-02-30)");
  ExpectProblem(absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 6 day: 1 }
  effective_until { year: 2026 month: 5 day: 31 }  #<
  currency: "KHR")pb",
                             kProgramme, "\n}"),
                "versions[0].effective_until",
                "must not be before effective_from (2026-06-01)");
}

TEST(VersionsTest, OverlappingAndDuplicateVersions) {
  ExpectProblem(absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  effective_until { year: 2026 month: 12 day: 31 }
  currency: "KHR")pb",
                             kProgramme, R"pb(
}
versions {
  version: "2026.2"
  effective_from { year: 2026 month: 6 day: 1 }  #<
  currency: "KHR")pb",
                             kProgramme, "\n}"),
                "versions[1].effective_from",
                "overlapping versions: \"2026.2\" from 2026-06-01 overlaps "
                "\"2026.1\" (2026-01-01 to 2026-12-31, bad.textproto "
                "versions[0])");
  ExpectProblem(absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR")pb",
                             kProgramme, R"pb(
}
versions {
  version: "2026.2"
  effective_from { year: 2026 month: 1 day: 1 }  #<
  currency: "KHR")pb",
                             kProgramme, "\n}"),
                "versions[1].effective_from",
                "overlapping versions: \"2026.2\" from 2026-01-01 overlaps "
                "\"2026.1\" (from 2026-01-01, bad.textproto versions[0])");
  ExpectProblem(absl::StrCat(R"pb(versions {
  version: "2026.1"
  effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR")pb",
                             kProgramme, R"pb(
}
versions {
  version: "2026.1"  #<
  effective_from { year: 2027 month: 1 day: 1 }
  currency: "KHR")pb",
                             kProgramme, "\n}"),
                "versions[1].version",
                "duplicate version \"2026.1\" (also bad.textproto "
                "versions[0])");
  // Open-ended versions follow one another without overlapping.
  absl::StatusOr<LoadedPolicy> ok = ValidatePolicyText(
      absl::StrCat(R"pb(versions {
  version: "2027.1" effective_from { year: 2027 month: 1 day: 1 }
  currency: "KHR")pb",
                   kProgramme, R"pb(
}
versions {
  version: "2026.1" effective_from { year: 2026 month: 1 day: 1 }
  currency: "KHR")pb",
                   kProgramme, "\n}"),
      "ok.textproto");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->policies.versions(0).version(), "2026.1");  // sorted by date
  EXPECT_EQ(ok->policies.versions(1).version(), "2027.1");
}

TEST(VersionsTest, AcrossFiles) {
  absl::StatusOr<LoadedPolicy> r =
      LoadPolicyFiles({kDefault, kTestdata + "next_version.textproto"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->policies.versions_size(), 2);
  EXPECT_EQ(r->policies.versions(0).version(), "2026.1");
  EXPECT_EQ(r->policies.versions(1).version(), "2027.1");

  std::string overlap = kTestdata + "overlap.textproto";
  r = LoadPolicyFiles({kDefault, overlap});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat(overlap,
                         ":6: versions[0].effective_from: overlapping "
                         "versions: \"2025.2\" from 2025-07-01 overlaps "
                         "\"2026.1\" (from 2026-01-01, ",
                         kDefault, " versions[0])"));
}

TEST(ReportTest, EveryProblemIsReported) {
  std::string text = Version(R"pb(  programmes {
    code: "P" name: "P" guarantee: GUARANTEE_WORKING_AGE
    frequency: PAYMENT_FREQUENCY_MONTHLY
    criteria { not_receiving { programme_code: "NOPE" } }
    entitlement { wage_percentage {
      basis: WAGE_BASIS_LAST_WAGE basis_points: 20000
      floor { minor_units: -1 } } }
  })pb");
  absl::StatusOr<LoadedPolicy> r = ValidatePolicyText(text, "many.textproto");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Problems(r.status()).size(), 3u) << r.status().message();
  EXPECT_EQ(GetFieldViolations(r.status()).size(), 3u);
}

TEST(ValidatePolicySetTest, PathsWithoutFiles) {
  v1::PolicySet set;
  v1::Policy* v = set.add_versions();
  v->set_version("2026.1");
  v->mutable_effective_from()->set_year(2026);
  v->mutable_effective_from()->set_month(1);
  v->mutable_effective_from()->set_day(1);
  v->set_currency("KH");
  v1::Programme* p = v->add_programmes();
  p->set_code("A");
  p->set_name("A");
  p->set_guarantee(v1::GUARANTEE_OLD_AGE);
  p->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  p->mutable_entitlement()->mutable_fixed()->mutable_amount()->set_minor_units(
      1);
  absl::Status s = ValidatePolicySet(set);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "versions[0].currency: must be an ISO 4217 code: three upper-case "
            "letters, e.g. \"KHR\"");
  v->set_currency("KHR");
  EXPECT_TRUE(ValidatePolicySet(set).ok());
  p->set_guarantee(static_cast<v1::Guarantee>(42));
  s = ValidatePolicySet(set);
  EXPECT_EQ(s.message(),
            "versions[0].programmes[0].guarantee: unknown Guarantee value 42");
  EXPECT_EQ(ValidatePolicySet(v1::PolicySet()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace socle::policy
