// socle-admin against a MockConnection: requests built, output rendered,
// bad input refused before any call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/admin_commands.h"
#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/mocks/mock_connection.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "google/protobuf/util/json_util.h"

namespace socle::client::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;
using ::testing::Return;
using ::testing::StrictMock;

constexpr char kPolicyText[] =
    "versions {\n"
    "  version: \"2027.1\"\n"
    "  effective_from { year: 2027 month: 1 day: 1 }\n"
    "  currency: \"KHR\"\n"
    "}\n";

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

v1::Date Day(int y, int m, int d) {
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

v1::PolicyInfo Info() {
  v1::PolicyInfo info;
  info.add_versions("2026.1");
  info.add_versions("2027.1");
  info.set_version_in_force("2026.1");
  *info.mutable_effective_from() = Day(2026, 1, 1);
  v1::ProgrammeSummary* child = info.add_programmes();
  child->set_code("CHILD");
  child->set_name("Child allowance");
  child->set_guarantee(v1::GUARANTEE_CHILDREN);
  child->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  v1::ProgrammeSummary* health = info.add_programmes();
  health->set_code("HEALTH");
  health->set_name("Health coverage");
  health->set_guarantee(v1::GUARANTEE_HEALTH);
  health->set_frequency(v1::PAYMENT_FREQUENCY_NONE);
  return info;
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("socle_admin_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    policy_ = Write("draft.textproto", kPolicyText);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    std::vector<const char*> argv = {"socle-admin"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return RunAdminCli(static_cast<int>(argv.size()), argv.data(), mock_, out_,
                       err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  void ExpectFits80(const std::string& text) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      EXPECT_LE(line.size(), 80u) << line;
    }
  }

  // Unexpected calls fail the test: bad input must never reach the server.
  StrictMock<MockConnection> mock_;
  std::ostringstream out_, err_;
  std::filesystem::path dir_;
  std::string policy_;
};

// --- policy validate ----------------------------------------------------------

TEST_F(AdminTest, ValidateSendsTheFileAndPrintsTheSummary) {
  EXPECT_CALL(mock_, ValidatePolicy)
      .WillOnce(Invoke([&](const v1::ValidatePolicyRequest& r) {
        EXPECT_EQ(r.text(), kPolicyText);
        EXPECT_EQ(r.file_name(), policy_);
        return Info();
      }));
  ASSERT_EQ(Run({"policy", "validate", policy_}), 0) << err();
  EXPECT_EQ(out(),
            "OK  " + policy_ +
                "\n"
                "versions   2026.1, 2027.1\n"
                "in force   2026.1 (from 2026-01-01)\n"
                "programmes (2)\n"
                "  CHILD   Child allowance  children     monthly\n"
                "  HEALTH  Health coverage  health       membership\n");
  EXPECT_EQ(err(), "");
}

TEST_F(AdminTest, ValidateShowsEveryViolationAsFileLineFieldMessage) {
  absl::Status bad = absl::InvalidArgumentError("the policy is not valid");
  SetFieldViolations(
      bad,
      {{"versions[0].programmes[2].entitlement.fixed.amount.minor_units",
        "draft.textproto:14: must not be negative"},
       {"versions[0].programmes[4].criteria[1].not_receiving.programme_code",
        "draft.textproto:31: names no programme of version 2027.1: PENSION"},
       {"", "draft.textproto:40:7: Expected \"}\", found end of file."},
       {"versions[1].effective_from", "overlaps version 2026.1"}});
  EXPECT_CALL(mock_, ValidatePolicy).WillOnce(Return(bad));
  EXPECT_EQ(Run({"policy", "validate", policy_}), 2);
  EXPECT_EQ(out(), "");
  std::vector<std::string> lines =
      absl::StrSplit(err(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << err();
  EXPECT_EQ(lines[0], "socle-admin: " + policy_ + " is not valid (4 problems):");
  EXPECT_EQ(lines[1],
            "draft.textproto:14: "
            "versions[0].programmes[2].entitlement.fixed.amount.minor_units: "
            "must not be negative");
  EXPECT_EQ(lines[2],
            "draft.textproto:31: "
            "versions[0].programmes[4].criteria[1].not_receiving.programme_code:"
            " names no programme of version 2027.1: PENSION");
  EXPECT_EQ(lines[3],
            "draft.textproto:40:7: Expected \"}\", found end of file.");
  EXPECT_EQ(lines[4],
            policy_ + ": versions[1].effective_from: overlaps version 2026.1");
}

TEST(PolicyProblemLinesTest, MessageLinesWhenThereAreNoViolations) {
  absl::Status bad = absl::InvalidArgumentError(
      "p:3: versions[0].currency: must be 3 capitals\n"
      "p:9: versions[0].programmes[0].code: is required\n");
  EXPECT_THAT(PolicyProblemLines(bad, "p"),
              ElementsAre("p:3: versions[0].currency: must be 3 capitals",
                          "p:9: versions[0].programmes[0].code: is required"));
  // A colon in the message is not taken for a location.
  absl::Status odd = absl::InvalidArgumentError("x");
  SetFieldViolations(odd, {{"versions[0].description", "a: b: 12: c"}});
  EXPECT_THAT(PolicyProblemLines(odd, "f.textproto"),
              ElementsAre("f.textproto: versions[0].description: a: b: 12: c"));
}

TEST_F(AdminTest, ValidateUnreadableFileExits2WithoutACall) {
  std::string missing = (dir_ / "nope.textproto").string();
  EXPECT_EQ(Run({"policy", "validate", missing}), 2);
  EXPECT_THAT(err(), HasSubstr(missing));
  EXPECT_THAT(err(), HasSubstr("socle-admin policy validate"));
  EXPECT_EQ(Run({"policy", "validate", dir_.string()}), 2);
  EXPECT_THAT(err(), HasSubstr("directory"));
}

TEST_F(AdminTest, ServerErrorsOtherThanBadPolicyAreReportedAsUsual) {
  EXPECT_CALL(mock_, ValidatePolicy)
      .WillOnce(Return(absl::PermissionDeniedError("administrators only")));
  EXPECT_EQ(Run({"policy", "validate", policy_}), 5);
  EXPECT_THAT(err(), HasSubstr("not allowed: administrators only"));
}

// --- policy show / activate -----------------------------------------------------

TEST_F(AdminTest, ShowSummaryTextAndJson) {
  v1::PolicyInfo info = Info();
  info.set_text(kPolicyText);
  info.set_activated_by("admin:ADMIN-01");
  info.mutable_activated_at()->set_seconds(1767225600);  // 2026-01-01 00:00
  EXPECT_CALL(mock_, GetPolicy).Times(3).WillRepeatedly(Return(info));
  ASSERT_EQ(Run({"policy", "show"}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("Policy in force\n"));
  EXPECT_THAT(out(), HasSubstr("in force   2026.1 (from 2026-01-01)\n"));
  EXPECT_THAT(out(),
              HasSubstr("activated  2026-01-01 00:00 UTC by admin:ADMIN-01\n"));
  EXPECT_THAT(out(), HasSubstr("  CHILD   Child allowance"));
  EXPECT_THAT(out(), Not(HasSubstr("effective_from {")));
  ASSERT_EQ(Run({"policy", "show", "--text"}), 0) << err();
  EXPECT_EQ(out(), kPolicyText);
  ASSERT_EQ(Run({"--json", "policy", "show"}), 0) << err();
  std::string json = out();
  json.pop_back();
  v1::PolicyInfo back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_EQ(back.text(), "");  // only with --text
  EXPECT_EQ(back.version_in_force(), "2026.1");
}

TEST_F(AdminTest, ActivateSendsTextAndRequestId) {
  std::vector<std::string> ids;
  EXPECT_CALL(mock_, ActivatePolicy)
      .Times(2)
      .WillRepeatedly(Invoke([&](const v1::ActivatePolicyRequest& r) {
        EXPECT_EQ(r.text(), kPolicyText);
        EXPECT_EQ(r.file_name(), policy_);
        ids.push_back(r.request_id());
        return Info();
      }));
  ASSERT_EQ(Run({"policy", "activate", policy_}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("Activated " + policy_ + "\n"));
  EXPECT_THAT(out(), HasSubstr("in force   2026.1"));
  ASSERT_EQ(Run({"--request-id", "act-2027", "policy", "activate", policy_}),
            0)
      << err();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_TRUE(IsHex32(ids[0])) << ids[0];
  EXPECT_EQ(ids[1], "act-2027");
}

TEST_F(AdminTest, ActivateRefusedKeepsThePolicyInForce) {
  absl::Status bad = absl::InvalidArgumentError("bad");
  SetFieldViolations(bad, {{"versions[0].currency",
                            "draft.textproto:4: must be 3 capitals"}});
  EXPECT_CALL(mock_, ActivatePolicy).WillOnce(Return(bad));
  EXPECT_EQ(Run({"policy", "activate", policy_}), 2);
  EXPECT_THAT(err(), HasSubstr("draft.textproto:4: versions[0].currency: must "
                               "be 3 capitals\n"));
  EXPECT_THAT(err(), HasSubstr("The policy in force is unchanged."));
}

// --- policy simulate --------------------------------------------------------------

v1::SimulationRow Row(const std::string& programme, const std::string& office,
                      int64_t now, int64_t draft, int64_t cost_now,
                      int64_t cost_draft, int64_t gainers, int64_t losers) {
  v1::SimulationRow row;
  row.set_programme_code(programme);
  row.set_office_code(office);
  row.set_eligible_current(now);
  row.set_eligible_draft(draft);
  *row.mutable_monthly_cost_current() = Khr(cost_now);
  *row.mutable_monthly_cost_draft() = Khr(cost_draft);
  row.set_gainers(gainers);
  row.set_losers(losers);
  return row;
}

v1::SimulatePolicyResponse Simulation(bool with_totals) {
  v1::SimulatePolicyResponse s;
  *s.mutable_as_of() = Day(2026, 11, 25);
  s.set_draft_version("2027.1");
  s.set_current_version("2026.1");
  s.set_persons_evaluated(12345);
  *s.add_rows() = Row("CHILD", "KH-BB-01", 96, 110, 384000000, 440000000, 16, 2);
  *s.add_rows() =
      Row("CHILD", "KH-SR-03", 1204, 1310, 4816000000, 5240000000, 106, 0);
  *s.add_rows() = Row("OLD_AGE", "KH-SR-03", 300, 280, 1200000000, 1120000000,
                      0, 20);
  if (with_totals) {
    *s.add_totals() =
        Row("CHILD", "", 1300, 1420, 5200000000, 5680000000, 122, 2);
    *s.add_totals() =
        Row("OLD_AGE", "", 300, 280, 1200000000, 1120000000, 0, 20);
  }
  return s;
}

TEST_F(AdminTest, SimulateBuildsTheRequestAndPrintsTheTable) {
  EXPECT_CALL(mock_, SimulatePolicy)
      .WillOnce(Invoke([&](const v1::SimulatePolicyRequest& r) {
        EXPECT_EQ(r.text(), kPolicyText);
        EXPECT_EQ(r.file_name(), policy_);
        EXPECT_EQ(r.as_of().year(), 2026);
        EXPECT_EQ(r.as_of().month(), 11);
        EXPECT_EQ(r.as_of().day(), 25);
        EXPECT_EQ(r.office_code(), "");
        return Simulation(true);
      }));
  ASSERT_EQ(Run({"policy", "simulate", policy_, "--as-of", "2026-11-25"}), 0)
      << err();
  EXPECT_EQ(
      out(),
      "Draft 2027.1 against 2026.1 in force, as of 2026-11-25.\n"
      "12,345 persons evaluated. Each pair is now -> draft; monthly cost in "
      "KHR.\n"
      "GAIN: eligible under the draft only; LOSE: under the policy in force "
      "only.\n"
      "\n"
      "PROGRAMME  OFFICE    ELIGIBLE        MONTHLY COST                    "
      "GAIN  LOSE\n"
      "CHILD      KH-BB-01  96 -> 110       3,840,000.00 -> 4,400,000.00      "
      "16     2\n"
      "CHILD      KH-SR-03  1,204 -> 1,310  48,160,000.00 -> 52,400,000.00   "
      "106     0\n"
      "OLD_AGE    KH-SR-03  300 -> 280      12,000,000.00 -> 11,200,000.00     "
      "0    20\n"
      "----------------------------------------------------------------------"
      "---------\n"
      "CHILD      all       1,300 -> 1,420  52,000,000.00 -> 56,800,000.00   "
      "122     2\n"
      "OLD_AGE    all       300 -> 280      12,000,000.00 -> 11,200,000.00     "
      "0    20\n");
  ExpectFits80(out());
}

TEST_F(AdminTest, SimulateComputesTotalsWhenTheServerSendsNone) {
  EXPECT_CALL(mock_, SimulatePolicy)
      .WillOnce(Invoke([&](const v1::SimulatePolicyRequest& r) {
        EXPECT_EQ(r.office_code(), "KH-SR-03");
        EXPECT_FALSE(r.has_as_of());
        return Simulation(false);
      }));
  ASSERT_EQ(Run({"policy", "simulate", policy_, "--office", "KH-SR-03"}), 0)
      << err();
  EXPECT_THAT(out(), HasSubstr("\nCHILD      all       1,300 -> 1,420  "
                               "52,000,000.00 -> 56,800,000.00   122     2\n"));
}

TEST_F(AdminTest, SimulateJsonAndBadDraft) {
  EXPECT_CALL(mock_, SimulatePolicy).WillOnce(Return(Simulation(true)));
  ASSERT_EQ(Run({"policy", "simulate", policy_, "--json"}), 0) << err();
  std::string json = out();
  json.pop_back();
  v1::SimulatePolicyResponse back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), Simulation(true).SerializeAsString());

  absl::Status bad = absl::InvalidArgumentError("bad");
  SetFieldViolations(bad, {{"versions[0].version", "draft.textproto:2: is "
                                                   "required"}});
  EXPECT_CALL(mock_, SimulatePolicy).WillOnce(Return(bad));
  EXPECT_EQ(Run({"policy", "simulate", policy_}), 2);
  EXPECT_THAT(err(),
              HasSubstr("draft.textproto:2: versions[0].version: is required"));
}

// --- coverage ----------------------------------------------------------------------

v1::CoverageRow Coverage(const std::string& office, v1::Guarantee guarantee,
                         int64_t registered, int64_t covered) {
  v1::CoverageRow row;
  row.set_office_code(office);
  row.set_guarantee(guarantee);
  row.set_registered(registered);
  row.set_covered(covered);
  return row;
}

TEST_F(AdminTest, CoveragePercentagesWithIntegerArithmetic) {
  v1::CoverageReport report;
  *report.add_rows() = Coverage("KH-SR-03", v1::GUARANTEE_CHILDREN, 8, 5);
  *report.add_rows() = Coverage("KH-SR-03", v1::GUARANTEE_HEALTH, 8, 8);
  *report.add_rows() = Coverage("KH-BB-01", v1::GUARANTEE_OLD_AGE, 0, 0);
  *report.add_rows() = Coverage("KH-BB-01", v1::GUARANTEE_HEALTH, 12000, 4000);
  *report.add_rows() =
      Coverage("KH-BB-01", v1::GUARANTEE_WORKING_AGE, 12000, 8000);
  report.mutable_computed_at()->set_seconds(1767225600);
  EXPECT_CALL(mock_, GetCoverage)
      .WillOnce(Invoke([&](const v1::GetCoverageRequest& r) {
        EXPECT_EQ(r.office_code(), "");
        return report;
      }));
  ASSERT_EQ(Run({"coverage"}), 0) << err();
  EXPECT_EQ(out(),
            "Coverage at 2026-01-01 00:00 UTC\n"
            "REGISTERED: living persons; COVERED: enrolled (active) in at "
            "least one\n"
            "programme of the guarantee; COVERAGE rounded down.\n"
            "\n"
            "OFFICE    GUARANTEE    REGISTERED  COVERED  COVERAGE\n"
            "KH-BB-01  health           12,000    4,000    33.3 %\n"
            "KH-BB-01  working age      12,000    8,000    66.6 %\n"
            "KH-BB-01  old age               0        0         -\n"
            "KH-SR-03  health                8        8   100.0 %\n"
            "KH-SR-03  children              8        5    62.5 %\n"
            "----------------------------------------------------\n"
            "all       health           12,008    4,008    33.3 %\n"
            "all       children              8        5    62.5 %\n"
            "all       working age      12,000    8,000    66.6 %\n"
            "all       old age               0        0         -\n");
}

TEST_F(AdminTest, CoverageOfOneOffice) {
  v1::CoverageReport report;
  *report.add_rows() = Coverage("KH-SR-03", v1::GUARANTEE_CHILDREN, 8, 5);
  EXPECT_CALL(mock_, GetCoverage)
      .WillOnce(Invoke([&](const v1::GetCoverageRequest& r) {
        EXPECT_EQ(r.office_code(), "KH-SR-03");
        return report;
      }));
  ASSERT_EQ(Run({"coverage", "--office", "KH-SR-03"}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("\nOFFICE    GUARANTEE  REGISTERED  COVERED  "
                               "COVERAGE\n"
                               "KH-SR-03  children            8        5    "
                               "62.5 %\n"));
  EXPECT_THAT(out(), Not(HasSubstr("all ")));
  ExpectFits80(out());
}

// --- recertify -------------------------------------------------------------------

TEST_F(AdminTest, RecertifyBuildsTheRequestAndListsChanges) {
  v1::RecertifyResponse result;
  *result.mutable_as_of() = Day(2026, 12, 31);
  result.set_policy_version("2026.1");
  result.set_checked(1234);
  result.set_unchanged(1200);
  result.set_ended(20);
  result.set_adjusted(14);
  v1::EnrolmentChange* change = result.add_changes();
  change->mutable_after()->set_enrolment_id("E12");
  change->mutable_after()->set_beneficiary_number(FormatBeneficiaryNumber(17));
  change->mutable_after()->set_programme_code("CHILD");
  change->set_explanation("ended: age 18 on 2026-12-31, needs under 18");
  EXPECT_CALL(mock_, Recertify)
      .WillOnce(Invoke([&](const v1::RecertifyRequest& r) {
        EXPECT_TRUE(IsHex32(r.request_id())) << r.request_id();
        EXPECT_EQ(r.as_of().year(), 2026);
        EXPECT_EQ(r.as_of().month(), 12);
        EXPECT_EQ(r.as_of().day(), 31);
        EXPECT_EQ(r.office_code(), "KH-SR-03");
        return result;
      }));
  ASSERT_EQ(Run({"recertify", "--as-of", "2026-12-31", "--office", "KH-SR-03"}),
            0)
      << err();
  EXPECT_EQ(out(),
            "Recertified office KH-SR-03 as of 2026-12-31 under policy "
            "2026.1:\n"
            "  1,234 checked, 1,200 unchanged, 20 ended, 14 adjusted\n"
            "\n"
            "E12  " +
                GroupNumber(FormatBeneficiaryNumber(17)) +
                "  CHILD  ended: age 18 on 2026-12-31, needs under 18\n");
}

// --- usage, help, certificates ---------------------------------------------------

TEST_F(AdminTest, BadFlagsExit2NamingTheFlagWithoutCallingTheServer) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  std::vector<Case> cases = {
      {{"policy", "validate"}, "missing"},
      {{"policy", "validate", policy_, policy_}, "unexpected"},
      {{"policy", "simulate", policy_, "--as-of", "2026-02-30"}, "--as-of"},
      {{"policy", "simulate", policy_, "--office", ""}, "--office"},
      {{"policy", "simulate", policy_, "--bogus"}, "--bogus"},
      {{"policy", "activate"}, "missing"},
      {{"policy", "show", "extra"}, "unexpected"},
      {{"policy", "show", "--text=maybe"}, "--text"},
      {{"policy", "delete"}, "policy delete"},
      {{"coverage", "KH-SR-03"}, "unexpected"},
      {{"coverage", "--office"}, "--office"},
      {{"recertify", "--as-of", "31/12/2026"}, "--as-of"},
      {{"recertify", "--request-id", "has space"}, "--request-id"},
      {{"enrol"}, "enrol"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args), 2) << absl::StrJoin(c.args, " ");
    EXPECT_THAT(err(), HasSubstr(c.named)) << absl::StrJoin(c.args, " ");
    EXPECT_EQ(out(), "") << absl::StrJoin(c.args, " ");
  }
}

TEST_F(AdminTest, HelpFits80Columns) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out(), HasSubstr("Usage: socle-admin [global options] COMMAND"));
  EXPECT_THAT(out(), HasSubstr("policy simulate FILE"));
  EXPECT_THAT(out(), HasSubstr("$SOCLE_ADMIN_CERT"));
  EXPECT_THAT(out(), HasSubstr("Exit codes"));
  ExpectFits80(out());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"help", "policy"},
           {"help", "policy", "validate"},
           {"policy", "simulate", "--help"},
           {"help", "coverage"},
           {"recertify", "-h"},
           {"help"}}) {
    EXPECT_EQ(Run(args), 0) << absl::StrJoin(args, " ");
    EXPECT_THAT(out(), HasSubstr("socle-admin")) << absl::StrJoin(args, " ");
    ExpectFits80(out());
  }
  EXPECT_EQ(Run({}), 2);
  EXPECT_THAT(err(), HasSubstr("Commands:"));
  EXPECT_EQ(Run({"policy"}), 2);
  EXPECT_THAT(err(), HasSubstr("socle-admin policy commands"));
}

TEST(AdminCertificatesTest, AdministratorsCertificateByDefault) {
  std::map<std::string, std::string> vars;
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto g = ResolveGlobalOptions(ParsedArgs(), env, AdminCertificates());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(g->connection.cert_file, HasSubstr(".dev/certs/admin.pem"));
  EXPECT_THAT(g->connection.key_file, HasSubstr(".dev/certs/admin.key"));
  EXPECT_THAT(g->connection.ca_file, HasSubstr(".dev/certs/ca.pem"));

  vars = {{"SOCLE_CERT", "/t/cert.pem"}, {"SOCLE_KEY", "/t/cert.key"}};
  g = ResolveGlobalOptions(ParsedArgs(), env, AdminCertificates());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->connection.cert_file, "/t/cert.pem");
  EXPECT_EQ(g->connection.key_file, "/t/cert.key");

  vars["SOCLE_ADMIN_CERT"] = "/a/admin.pem";
  vars["SOCLE_ADMIN_KEY"] = "/a/admin.key";
  g = ResolveGlobalOptions(ParsedArgs(), env, AdminCertificates());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->connection.cert_file, "/a/admin.pem");
  EXPECT_EQ(g->connection.key_file, "/a/admin.key");

  // socle itself still uses the terminal's.
  vars.clear();
  g = ResolveGlobalOptions(ParsedArgs(), env);
  ASSERT_TRUE(g.ok());
  EXPECT_THAT(g->connection.cert_file, HasSubstr(".dev/certs/terminal.pem"));
}

TEST(RunAdminCliTest, ConnectsWithTheOptionsAfterParsing) {
  StrictMock<MockConnection> mock;
  std::ostringstream out, err;
  ConnectionOptions used;
  int made = 0;
  CliContext context;
  context.make_connection = [&](const ConnectionOptions& o)
      -> absl::StatusOr<std::shared_ptr<Connection>> {
    used = o;
    ++made;
    return std::shared_ptr<Connection>(std::shared_ptr<Connection>(), &mock);
  };
  context.getenv = [](const std::string& n) -> std::optional<std::string> {
    if (n == "SOCLE_ENDPOINT") return "ministry:443";
    return std::nullopt;
  };
  context.out = &out;
  context.err = &err;
  EXPECT_CALL(mock, GetCoverage).WillOnce(Return(v1::CoverageReport()));
  EXPECT_EQ(RunAdminCli({"coverage", "--timeout", "30s"}, context), 0)
      << err.str();
  EXPECT_EQ(made, 1);
  EXPECT_EQ(used.endpoint, "ministry:443");
  EXPECT_EQ(used.timeout, absl::Seconds(30));
  EXPECT_THAT(used.cert_file, HasSubstr("admin.pem"));
  EXPECT_THAT(out.str(), HasSubstr("No one is registered."));
  EXPECT_EQ(RunAdminCli({"recertify", "--as-of", "x"}, context), 2);
  EXPECT_EQ(made, 1);
}

}  // namespace
}  // namespace socle::client::cli
