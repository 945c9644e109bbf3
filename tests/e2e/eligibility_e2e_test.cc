// Eligibility and enrolment end to end through the client library over TLS,
// and the clerk's and administrator's commands.
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "common/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

using ::testing::HasSubstr;

std::string PolicyText() {
  std::ifstream in(std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class EligibilityE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new testing::ServerHarness; }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  EligibilityE2eTest() : client_(harness_->Client()), admin_(harness_->Client("admin")) {}

  static absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }

  v1::Person Register(absl::string_view given, absl::CivilDay born, absl::string_view office) {
    v1::Person p;
    p.set_given_name(std::string(given));
    p.set_family_name("Eligibility");
    p.set_sex(v1::SEX_FEMALE);
    p.mutable_date_of_birth()->set_year(static_cast<int>(born.year()));
    p.mutable_date_of_birth()->set_month(born.month());
    p.mutable_date_of_birth()->set_day(born.day());
    p.mutable_address()->set_district("Angkor Chum");
    p.set_office_code(std::string(office));
    client::RegisterOptions o;
    o.duplicate_override_reason = "test residents share names";
    // Each test keeps its records in an office of its own; from here on the
    // test acts as a supervisor of that office.
    client_ = harness_->OfficeClient(std::string(office));
    auto out = client_.RegisterPerson(p, o);
    EXPECT_TRUE(out.ok()) << out.status();
    return *out;
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

  static testing::ServerHarness* harness_;
  client::Client client_;
  client::Client admin_;
  testing::TempDir scratch_;
};

testing::ServerHarness* EligibilityE2eTest::harness_ = nullptr;

TEST_F(EligibilityE2eTest, CheckExplainsEveryCriterion) {
  v1::Person elder = Register("Elder", Today() - 365 * 70, "KH-SR-07");
  auto checked = client_.CheckEligibility(elder.beneficiary_number());
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->decisions_size(), 7);
  EXPECT_EQ(checked->policy_version(), "2026.1");
  std::map<std::string, v1::Decision> by_code;
  for (const auto& d : checked->decisions()) by_code[d.programme_code()] = d;
  EXPECT_TRUE(by_code["OLD_AGE"].eligible());
  EXPECT_EQ(by_code["OLD_AGE"].amount().minor_units(), 10000000);
  EXPECT_FALSE(by_code["MATERNITY"].eligible());
  for (const auto& c : by_code["OLD_AGE"].criteria()) {
    EXPECT_FALSE(c.criterion().empty());
    EXPECT_FALSE(c.description().empty());
    EXPECT_TRUE(c.held()) << c.description();
  }
}

TEST_F(EligibilityE2eTest, BasicViewOverTheWire) {
  // Through gRPC (the response built on the call's arena): BASIC is FULL
  // without the lines that held.
  v1::Person elder = Register("Basic", Today() - 365 * 70, "KH-SR-07");
  auto full = client_.CheckEligibility(elder.beneficiary_number());
  auto basic = client_.CheckEligibility(elder.beneficiary_number(), {}, std::nullopt,
                                        v1::ELIGIBILITY_VIEW_BASIC);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(basic.ok()) << basic.status();
  ASSERT_EQ(basic->decisions_size(), full->decisions_size());
  for (int i = 0; i < full->decisions_size(); ++i) {
    v1::Decision want = full->decisions(i);
    want.clear_criteria();
    for (const auto& c : full->decisions(i).criteria()) {
      if (!c.held()) *want.add_criteria() = c;
    }
    EXPECT_EQ(basic->decisions(i).SerializeAsString(), want.SerializeAsString());
  }
  EXPECT_LT(basic->ByteSizeLong(), full->ByteSizeLong());
}

TEST_F(EligibilityE2eTest, EnrolRefusalOverrideDeathAndRecertification) {
  v1::Person young = Register("Young", Today() - 365 * 30, "KH-SR-08");
  auto refused = client_.Enrol(young.beneficiary_number(), "OLD_AGE");
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(GetErrorInfo(refused.status()).has_value());
  EXPECT_EQ(GetErrorInfo(refused.status())->reason, "NOT_ELIGIBLE");
  EXPECT_FALSE(GetErrorInfo(refused.status())->metadata["failed_criteria"].empty());

  v1::Person elder = Register("Elder", Today() - 365 * 75, "KH-SR-08");
  auto pension = client_.Enrol(elder.beneficiary_number(), "OLD_AGE");
  ASSERT_TRUE(pension.ok()) << pension.status();
  EXPECT_EQ(pension->status(), v1::ENROLMENT_STATUS_ACTIVE);
  EXPECT_EQ(client_.Enrol(elder.beneficiary_number(), "OLD_AGE").status().code(),
            absl::StatusCode::kAlreadyExists);

  v1::LifeEvent death;
  const absl::CivilDay died = Today() - 1;
  death.mutable_date()->set_year(static_cast<int>(died.year()));
  death.mutable_date()->set_month(died.month());
  death.mutable_date()->set_day(died.day());
  death.mutable_death();
  ASSERT_TRUE(client_.RecordLifeEvent(elder.beneficiary_number(), death).ok());
  auto after = client_.ListEnrolmentsOfPerson(elder.beneficiary_number());
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->enrolments_size(), 1);
  EXPECT_EQ(after->enrolments(0).status(), v1::ENROLMENT_STATUS_ENDED);
  EXPECT_THAT(after->enrolments(0).end_reason(), HasSubstr("death"));

  // A child enrolled in the child allowance, re-checked the day they turn 18.
  const absl::CivilDay born = Today() - 365 * 17 - 100;
  v1::Person teen = Register("Teen", born, "KH-SR-08");
  auto allowance = client_.Enrol(teen.beneficiary_number(), "CHILD");
  ASSERT_TRUE(allowance.ok()) << allowance.status();
  const absl::CivilDay eighteen(born.year() + 18, born.month(), born.day());
  auto report = admin_.Recertify(eighteen, "KH-SR-08");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->ended(), 1);
  ASSERT_EQ(report->changes_size(), 1);
  EXPECT_EQ(report->changes(0).after().beneficiary_number(), teen.beneficiary_number());
}

TEST_F(EligibilityE2eTest, SimulationMatchesIndividualDecisionsAndCoverage) {
  const std::string office = "KH-SR-09";
  std::vector<v1::Person> people = {Register("A", Today() - 365 * 65, office),
                                    Register("B", Today() - 365 * 10, office),
                                    Register("C", Today() - 365 * 40, office)};
  auto sim = admin_.SimulatePolicy(PolicyText(), "default.textproto", {}, office);
  ASSERT_TRUE(sim.ok()) << sim.status();
  EXPECT_EQ(sim->persons_evaluated(), 3);
  std::map<std::string, int64_t> eligible, cost;
  for (const auto& p : people) {
    auto checked = client_.CheckEligibility(p.beneficiary_number());
    ASSERT_TRUE(checked.ok());
    for (const auto& d : checked->decisions()) {
      if (!d.eligible()) continue;
      ++eligible[d.programme_code()];
      if (d.frequency() != v1::PAYMENT_FREQUENCY_NONE) cost[d.programme_code()] += d.amount().minor_units();
    }
  }
  for (const auto& t : sim->totals()) {
    EXPECT_EQ(t.eligible_draft(), eligible[t.programme_code()]) << t.programme_code();
    EXPECT_EQ(t.monthly_cost_draft().minor_units(), cost[t.programme_code()]) << t.programme_code();
  }
  ASSERT_TRUE(client_.Enrol(people[0].beneficiary_number(), "OLD_AGE").ok());
  auto coverage = admin_.GetCoverage(office);
  ASSERT_TRUE(coverage.ok()) << coverage.status();
  for (const auto& row : coverage->rows()) {
    EXPECT_EQ(row.registered(), 3);
    EXPECT_EQ(row.covered(), row.guarantee() == v1::GUARANTEE_OLD_AGE ? 1 : 0);
  }
}

TEST_F(EligibilityE2eTest, BadPolicyIsRefusedWithLineAndFieldAndLeavesTheCurrentOne) {
  const std::string bad = absl::StrReplaceAll(
      PolicyText(), {{"minor_units: 10000000 } }  # 100,000 riel", "minor_units: -1 } }"}});
  ASSERT_NE(bad, PolicyText());
  auto validated = admin_.ValidatePolicy(bad, "bad.textproto");
  ASSERT_EQ(validated.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = GetFieldViolations(validated.status());
  ASSERT_FALSE(violations.empty());
  EXPECT_THAT(violations[0].field, HasSubstr("minor_units"));
  EXPECT_THAT(std::string(validated.status().message()), HasSubstr("bad.textproto:"));
  EXPECT_EQ(admin_.ActivatePolicy(bad, "bad.textproto").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto info = admin_.GetPolicy();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version_in_force(), "2026.1");
}

TEST_F(EligibilityE2eTest, ClerkAndAdministratorCommands) {
  v1::Person elder = Register("Command", Today() - 365 * 66, "KH-SR-10");
  testing::ProcessResult check =
      Run(SOCLE_CLI, "office-KH-SR-10", absl::StrCat("check ", elder.beneficiary_number()));
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, HasSubstr("OLD_AGE"));
  EXPECT_THAT(check.out, HasSubstr("2026.1"));
  testing::ProcessResult enrol =
      Run(SOCLE_CLI, "office-KH-SR-10", absl::StrCat("enrol ", elder.beneficiary_number(), " OLD_AGE"));
  EXPECT_EQ(enrol.exit_code, 0) << enrol.err;
  testing::ProcessResult refused =
      Run(SOCLE_CLI, "office-KH-SR-10", absl::StrCat("enrol ", elder.beneficiary_number(), " MATERNITY"));
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  testing::ProcessResult list =
      Run(SOCLE_CLI, "office-KH-SR-10", absl::StrCat("enrolments ", elder.beneficiary_number()));
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("OLD_AGE"));

  const std::string policy = std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto";
  testing::ProcessResult validate =
      Run(SOCLE_ADMIN, "admin", absl::StrCat("policy validate ", policy));
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  const std::string bad = scratch_.path() + "/bad.textproto";
  std::ofstream(bad) << "versions {\n  version: \"2027.1\"\n  currency: \"riel\"\n}\n";
  testing::ProcessResult invalid = Run(SOCLE_ADMIN, "admin", "policy validate " + bad);
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_THAT(invalid.out + invalid.err, HasSubstr("bad.textproto:"));
  testing::ProcessResult coverage = Run(SOCLE_ADMIN, "admin", "coverage --office KH-SR-10");
  EXPECT_EQ(coverage.exit_code, 0) << coverage.err;
  EXPECT_THAT(coverage.out, HasSubstr("KH-SR-10"));
}

}  // namespace
}  // namespace socle
