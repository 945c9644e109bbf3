// The socle command as a clerk types it, against a real server over TLS:
// the README's walk-through, exit codes, human and JSON output.
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

using ::testing::HasSubstr;

class CliE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new testing::ServerHarness; }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }

  // Runs `socle ARGS` with the endpoint and certificates in the environment,
  // as a terminal would be configured.
  testing::ProcessResult Socle(const std::string& args, const std::string& env = "") {
    const std::string command = absl::StrCat(
        "SOCLE_ENDPOINT=", harness_->endpoint(), " SOCLE_CA=", harness_->cert("ca.pem"),
        " SOCLE_CERT=", harness_->cert("terminal.pem"), " SOCLE_KEY=",
        harness_->cert("terminal.key"), " SOCLE_TOKEN_FILE=", harness_->token_file(), " ",
        env, " ", SOCLE_CLI, " ", args);
    return testing::RunShell(command, scratch_.path());
  }

  template <typename Message>
  static Message FromJson(const std::string& line) {
    Message m;
    auto status = google::protobuf::util::JsonStringToMessage(line, &m);
    EXPECT_TRUE(status.ok()) << status << "\n" << line;
    return m;
  }

  static std::vector<std::string> Lines(const std::string& s) {
    return absl::StrSplit(s, '\n', absl::SkipEmpty());
  }

  static testing::ServerHarness* harness_;
  testing::TempDir scratch_;
};

testing::ServerHarness* CliE2eTest::harness_ = nullptr;

TEST_F(CliE2eTest, WalkThrough) {
  testing::ProcessResult health = Socle("health");
  EXPECT_EQ(health.exit_code, 0) << health.err;

  const std::string sokha =
      "register --given Sokha --family Chan --sex female --born 1990-04-12 "
      "--province 'Siem Reap' --district 'Siem Reap'";
  testing::ProcessResult registered = Socle(sokha);
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_THAT(registered.out, HasSubstr("Sokha"));

  testing::ProcessResult as_json = Socle(absl::StrCat("--json ", sokha,
                                                       " --override-reason 'two women, same name'"));
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  v1::Person second = FromJson<v1::Person>(as_json.out);
  EXPECT_EQ(second.duplicate_override_reason(), "two women, same name");

  testing::ProcessResult duplicate = Socle(sokha);
  EXPECT_EQ(duplicate.exit_code, 4);
  EXPECT_THAT(duplicate.err + duplicate.out, HasSubstr("--override-reason"));

  testing::ProcessResult found =
      Socle("--json find --name 'chan sokha' --born 1990-04-12");
  ASSERT_EQ(found.exit_code, 0) << found.err;
  auto page = FromJson<v1::FindPersonsResponse>(Lines(found.out).at(0));
  EXPECT_EQ(page.persons_size(), 2);

  const std::string number = second.beneficiary_number();
  testing::ProcessResult shown = Socle(absl::StrCat("show ", number));
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("Sokha"));

  testing::ProcessResult child = Socle(
      "--json register --given Kanha --family Chan --sex male --born 2018-02-01 "
      "--district 'Siem Reap'");
  ASSERT_EQ(child.exit_code, 0) << child.err;
  const std::string child_number = FromJson<v1::Person>(child.out).beneficiary_number();

  testing::ProcessResult household =
      Socle(absl::StrCat("--json household create --head ", number));
  ASSERT_EQ(household.exit_code, 0) << household.err;
  const std::string h = FromJson<v1::Household>(household.out).household_number();
  testing::ProcessResult added =
      Socle(absl::StrCat("household add ", h, " ", child_number, " --relationship child"));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  testing::ProcessResult members = Socle(absl::StrCat("--json household show ", h));
  ASSERT_EQ(members.exit_code, 0) << members.err;
  EXPECT_EQ(FromJson<v1::Household>(members.out).members_size(), 2);

  testing::ProcessResult job = Socle(absl::StrCat(
      "event ", number, " job-found --date 2025-03-01 --wage 1200000 --currency KHR --insured"));
  ASSERT_EQ(job.exit_code, 0) << job.err;
  testing::ProcessResult death = Socle(absl::StrCat("event ", number, " death --date 2026-01-05"));
  ASSERT_EQ(death.exit_code, 0) << death.err;
  testing::ProcessResult after = Socle(absl::StrCat("event ", number, " job-lost --date 2026-02-01"));
  EXPECT_EQ(after.exit_code, 4) << after.err;
  testing::ProcessResult events = Socle(absl::StrCat("--json events ", number));
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(FromJson<v1::ListLifeEventsResponse>(Lines(events.out).at(0)).events_size(), 2);
}

TEST_F(CliE2eTest, ImportRegistersEachPersonOnceAndResumes) {
  // Line 5 is line 2 again without its national ID: a possible duplicate.
  std::ofstream(scratch_.path() + "/persons.csv")
      << "Given_Name,family name,sex,date_of_birth,national_id,district,monthly_income\n"
      << "Sreyneang,Import,female,1979-03-02,KH-IMP-0001,Prasat Bakong,120000\n"
      << "Vibol,Import,male,1981-07-19,KH-IMP-0002,Prasat Bakong,\n"
      << "Sokunthea,Import,female,2002-11-30,,Prasat Bakong,\n"
      << "Sreyneang,Import,female,1979-03-02,,Prasat Bakong,\n";
  const std::string dir = scratch_.path();
  testing::ProcessResult first =
      Socle(absl::StrCat("import ", dir, "/persons.csv --currency KHR --results ", dir, "/results.csv"));
  EXPECT_EQ(first.exit_code, 6) << first.err;
  EXPECT_THAT(first.out, HasSubstr("Registered 3, refused 1"));
  EXPECT_THAT(first.out, HasSubstr("persons.csv:5: ALREADY_EXISTS"));
  std::ifstream results(scratch_.path() + "/results.csv");
  std::stringstream written;
  written << results.rdbuf();
  EXPECT_EQ(Lines(written.str()).size(), 5u) << written.str();

  // Run again (an interrupted import resumed): the same answer, nobody twice.
  testing::ProcessResult again = Socle(absl::StrCat("import ", dir, "/persons.csv --currency KHR"));
  EXPECT_EQ(again.exit_code, 6) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Registered 3, refused 1"));
  testing::ProcessResult found = Socle("--json find --national-id KH-IMP-0001");
  ASSERT_EQ(found.exit_code, 0) << found.err;
  auto page = FromJson<v1::FindPersonsResponse>(Lines(found.out).at(0));
  ASSERT_EQ(page.persons_size(), 1);
  EXPECT_GT(page.persons(0).facts().monthly_income().minor_units(), 0)
      << page.persons(0).DebugString();

  // A bad value anywhere: the file is refused whole, nothing is sent.
  std::ofstream(scratch_.path() + "/bad.csv")
      << "given_name,family_name,sex,date_of_birth\n"
      << "Chea,Import,female,1990-01-01\n"
      << "Chea,Import,female,1990-02-30\n";
  testing::ProcessResult bad = Socle(absl::StrCat("import ", dir, "/bad.csv"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("bad.csv:3: date_of_birth"));
  testing::ProcessResult none = Socle("--json find --name Chea --born 1990-01-01");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(FromJson<v1::FindPersonsResponse>(Lines(none.out).at(0)).persons_size(), 0);
}

TEST_F(CliE2eTest, ExitCodesTellBadInputNotFoundAndServerErrorsApart) {
  testing::ProcessResult future = Socle(
      "register --given Dara --family Sok --sex male --born 2099-01-01 --district Puok");
  EXPECT_EQ(future.exit_code, 2);
  EXPECT_THAT(future.err, HasSubstr("person.date_of_birth"));

  testing::ProcessResult missing_flag = Socle("register --given Dara --sex male --born 1980-01-01");
  EXPECT_EQ(missing_flag.exit_code, 2);

  std::string typo = FormatBeneficiaryNumber(12345);
  std::swap(typo[4], typo[5]);
  if (typo == FormatBeneficiaryNumber(12345)) typo[9] = typo[9] == '0' ? '1' : '0';
  EXPECT_EQ(Socle(absl::StrCat("show ", typo)).exit_code, 2);

  testing::ProcessResult unknown = Socle(absl::StrCat("show ", FormatBeneficiaryNumber(888888)));
  EXPECT_EQ(unknown.exit_code, 3) << unknown.err;

  testing::ProcessResult down = Socle("--timeout 2s health", "SOCLE_ENDPOINT=localhost:1");
  EXPECT_EQ(down.exit_code, 1);

  testing::ProcessResult no_cert = Socle("health", "SOCLE_CERT=/nonexistent/terminal.pem");
  EXPECT_EQ(no_cert.exit_code, 2);
  EXPECT_THAT(no_cert.err, HasSubstr("/nonexistent/terminal.pem"));
}

}  // namespace
}  // namespace socle
