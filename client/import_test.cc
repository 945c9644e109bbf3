// `socle import` and `socle-admin import` against a MockConnection: the CSV
// header and values, the checks before anything is sent, batches and their
// request ids, each person's answer, the results file, exit codes, resuming.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/admin_commands.h"
#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/import_commands.h"
#include "client/mocks/mock_connection.h"
#include "client/status_conversion.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"

namespace socle::client::cli {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::Return;
using ::testing::StrictMock;

std::string Number(int64_t id) { return FormatBeneficiaryNumber(id); }
std::string Grouped(int64_t id) { return GroupNumber(Number(id)); }  // "10000 00256"

// A person's refusal as the server puts it in RegisteredPerson.status.
google::rpc::Status RpcStatus(const absl::Status& status) {
  grpc::Status wire = ToGrpcStatus(status);
  google::rpc::Status out;
  if (!wire.error_details().empty()) {
    EXPECT_TRUE(out.ParseFromString(wire.error_details()));
  } else {
    out.set_code(static_cast<int>(status.code()));
    out.set_message(std::string(status.message()));
  }
  return out;
}

// Registers everyone, numbering from `next`.
auto RegisterAll(int64_t* next, std::vector<v1::RegisterPersonsRequest>* seen = nullptr) {
  return [next, seen](const v1::RegisterPersonsRequest& r) {
    if (seen != nullptr) seen->push_back(r);
    v1::RegisterPersonsResponse response;
    for (int i = 0; i < r.persons_size(); ++i) {
      v1::RegisteredPerson* result = response.add_results();
      result->set_index(i);
      result->set_beneficiary_number(Number((*next)++));
    }
    response.set_registered(r.persons_size());
    return response;
  };
}

class ImportTest : public ::testing::Test {
 protected:
  ImportTest() {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("socle_import_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~ImportTest() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  int Run(const std::vector<std::string>& args, bool admin = false) {
    out_.str("");
    err_.str("");
    std::vector<const char*> argv = {admin ? "socle-admin" : "socle"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return admin ? RunAdminCli(static_cast<int>(argv.size()), argv.data(), mock_, out_, err_)
                 : RunCli(static_cast<int>(argv.size()), argv.data(), mock_, out_, err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  // Unexpected calls fail the test: a bad file must never reach the server.
  StrictMock<MockConnection> mock_;
  std::ostringstream out_, err_;
  std::filesystem::path dir_;
};

constexpr char kHeader[] = "given_name,family_name,sex,date_of_birth\n";

std::string Rows(int n) {
  std::string csv = kHeader;
  for (int i = 0; i < n; ++i) absl::StrAppend(&csv, "Person", i, ",CHAN,female,1990-04-12\n");
  return csv;
}

// --- The file ---------------------------------------------------------------

TEST_F(ImportTest, HeaderNamesTheColumnsInAnyOrderAndCase) {
  const std::string path = Write(
      "persons.csv",
      "\xEF\xBB\xBF" "Family_Name,Given Name,SEX,Date-of-Birth,national_id,province,district,"
      "commune,village,street,phone,office_code,monthly_income,currency,employment_status,"
      "disability_degree,disability_certified_on,pregnancy_start,"
      "receives_contributory_pension,duplicate_override_reason\r\n"
      "CHAN,Sokha,F,1990-04-12,KH123,Siem Reap,Puok,Kouk Chak,Trapeang,\"12, Road 6\","
      "+85512345678,KH-SR-03,1250.50,KHR,self-employed,40,2024-01-15,2026-03-01,yes,"
      "\"twins, checked \"\"in person\"\"\"\r\n"
      "\r\n"
      "SOK,Dara,male,2001-12-31,,,,,,,,,,,,,,,,\r\n");
  v1::RegisterPersonsRequest seen;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).WillOnce(Invoke([&](const v1::RegisterPersonsRequest& r) {
    seen = r;
    return RegisterAll(&next)(r);
  }));
  EXPECT_EQ(Run({"import", path}), kExitOk) << err();
  ASSERT_EQ(seen.persons_size(), 2);
  const v1::Person& p = seen.persons(0).person();
  EXPECT_EQ(p.given_name(), "Sokha");
  EXPECT_EQ(p.family_name(), "CHAN");
  EXPECT_EQ(p.sex(), v1::SEX_FEMALE);
  EXPECT_EQ(p.date_of_birth().year(), 1990);
  EXPECT_EQ(p.date_of_birth().month(), 4);
  EXPECT_EQ(p.date_of_birth().day(), 12);
  EXPECT_EQ(p.national_id(), "KH123");
  EXPECT_EQ(p.address().province(), "Siem Reap");
  EXPECT_EQ(p.address().district(), "Puok");
  EXPECT_EQ(p.address().commune(), "Kouk Chak");
  EXPECT_EQ(p.address().village(), "Trapeang");
  EXPECT_EQ(p.address().street(), "12, Road 6");
  EXPECT_EQ(p.phone(), "+85512345678");
  EXPECT_EQ(p.office_code(), "KH-SR-03");
  EXPECT_EQ(p.facts().monthly_income().minor_units(), 125050);
  EXPECT_EQ(p.facts().monthly_income().currency(), "KHR");
  EXPECT_EQ(p.facts().employment_status(), v1::EMPLOYMENT_STATUS_SELF_EMPLOYED);
  EXPECT_TRUE(p.facts().disability().certified());
  EXPECT_EQ(p.facts().disability().degree_percent(), 40);
  EXPECT_EQ(p.facts().disability().certified_on().year(), 2024);
  EXPECT_EQ(p.facts().pregnancy_start().month(), 3);
  EXPECT_TRUE(p.facts().receives_contributory_pension());
  EXPECT_EQ(seen.persons(0).duplicate_override_reason(), "twins, checked \"in person\"");

  const v1::Person& q = seen.persons(1).person();  // empty cells are not given
  EXPECT_EQ(q.given_name(), "Dara");
  EXPECT_EQ(q.sex(), v1::SEX_MALE);
  EXPECT_TRUE(q.national_id().empty());
  EXPECT_TRUE(q.office_code().empty());
  EXPECT_FALSE(q.facts().has_monthly_income());
  EXPECT_TRUE(seen.persons(1).duplicate_override_reason().empty());
  EXPECT_THAT(out(), HasSubstr("Registered 2, refused 0"));
}

TEST_F(ImportTest, EveryColumnIsAFlagOfRegister) {
  auto flags = CommandFlags("register");
  ASSERT_TRUE(flags.ok());
  for (const auto& [column, flag] : ImportColumns()) {
    bool found = false;
    for (const FlagSpec& f : *flags) found = found || f.name == flag;
    EXPECT_TRUE(found) << column << " -> --" << flag;
  }
}

TEST_F(ImportTest, BadValuesAreListedByFileLineAndColumnAndNothingIsSent) {
  const std::string path = Write("bad.csv",
                                 "given_name,family_name,sex,date_of_birth,monthly_income\n"
                                 "Sokha,CHAN,female,1990-04-12,\n"
                                 "Dara,SOK,male,1990-13-01,\n"
                                 "Vanna,KEO,x,1990-01-01,\n"
                                 "Bopha,LIM,female,1990-01-01,12.5.0\n"
                                 ",NOP,female,1990-01-01,\n"
                                 "Rith,PEN,male\n");
  // StrictMock: any call fails the test.
  EXPECT_EQ(Run({"import", path, "--currency", "KHR"}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("5 problems; nothing was sent"));
  EXPECT_THAT(err(), HasSubstr(path + ":3: date_of_birth: is not a calendar date"));
  EXPECT_THAT(err(), HasSubstr(path + ":4: sex: 'x': give female, male or other"));
  EXPECT_THAT(err(), HasSubstr(path + ":5: monthly_income: "));
  EXPECT_THAT(err(), HasSubstr(path + ":6: given_name: is empty (required)"));
  EXPECT_THAT(err(), HasSubstr(path + ":7: expected 5 fields as in the header, found 3"));
  EXPECT_THAT(err(), Not(HasSubstr(":2:")));
  EXPECT_EQ(out(), "");
}

TEST_F(ImportTest, UnknownAndMissingColumnsAreReportedOnTheHeaderLine) {
  const std::string path =
      Write("cols.csv", "given_name,family_name,sex,nickname,Given_Name\nSokha,CHAN,f,S,x\n");
  EXPECT_EQ(Run({"import", path}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr(path + ":1: nickname: unknown column"));
  EXPECT_THAT(err(), HasSubstr(path + ":1: given_name: column given twice"));
  EXPECT_THAT(err(), HasSubstr(path + ":1: date_of_birth: required column missing"));
  EXPECT_THAT(err(), Not(HasSubstr(":2:")));
}

TEST_F(ImportTest, AnEmptyFileOrAMissingOneIsBadInput) {
  EXPECT_EQ(Run({"import", Write("empty.csv", "")}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("the first line names the columns"));
  EXPECT_EQ(Run({"import", Write("header.csv", kHeader)}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("no persons to import"));
  EXPECT_EQ(Run({"import", (dir_ / "missing.csv").string()}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("cannot read"));
}

TEST_F(ImportTest, IncomeTakesTheCurrencyFlagWhenTheFileHasNone) {
  const std::string path = Write("income.csv",
                                 "given_name,family_name,sex,date_of_birth,monthly_income\n"
                                 "Sokha,CHAN,female,1990-04-12,100000\n");
  EXPECT_EQ(Run({"import", path}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr(path + ":2: monthly_income: give the currency too"));
  v1::RegisterPersonsRequest seen;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).WillOnce(Invoke([&](const v1::RegisterPersonsRequest& r) {
    seen = r;
    return RegisterAll(&next)(r);
  }));
  EXPECT_EQ(Run({"import", path, "--currency", "KHR"}), kExitOk) << err();
  EXPECT_EQ(seen.persons(0).person().facts().monthly_income().currency(), "KHR");
}

// --- Batches and request ids --------------------------------------------------

TEST_F(ImportTest, BatchesHaveTheRequestedSizeAndIdsDerivedFromTheFile) {
  const std::string content = Rows(5);
  const std::string path = Write("five.csv", content);
  std::vector<v1::RegisterPersonsRequest> seen;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).Times(3).WillRepeatedly(Invoke(RegisterAll(&next, &seen)));
  const std::string certificate = Write("terminal.pem", "the terminal's certificate");
  EXPECT_EQ(Run({"import", path, "--batch-size", "2", "--cert", certificate}), kExitOk) << err();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].persons_size(), 2);
  EXPECT_EQ(seen[1].persons_size(), 2);
  EXPECT_EQ(seen[2].persons_size(), 1);
  EXPECT_EQ(seen[2].persons(0).person().given_name(), "Person4");
  const std::string fingerprint = ImportFingerprint(content, "the terminal's certificate");
  EXPECT_THAT(fingerprint, MatchesRegex("[0-9a-f]{16}"));
  EXPECT_NE(ImportFingerprint(content), fingerprint);
  // Another caller's certificate, another series of request ids.
  EXPECT_NE(ImportFingerprint(content, "-----BEGIN CERTIFICATE-----\nterminal A"), fingerprint);
  EXPECT_NE(ImportFingerprint(content, "-----BEGIN CERTIFICATE-----\nterminal A"),
            ImportFingerprint(content, "-----BEGIN CERTIFICATE-----\nterminal B"));
  EXPECT_EQ(ImportFingerprint(content, "-----BEGIN CERTIFICATE-----\nterminal A"),
            ImportFingerprint(content, "-----BEGIN CERTIFICATE-----\nterminal A"));
  EXPECT_EQ(seen[0].request_id(), "import-" + fingerprint + "-2-0");
  EXPECT_EQ(seen[1].request_id(), "import-" + fingerprint + "-2-1");
  EXPECT_EQ(seen[2].request_id(), "import-" + fingerprint + "-2-2");
  // One progress line per batch, on stderr.
  EXPECT_THAT(err(), HasSubstr("batch 1/3 (lines 2-3): 2 registered, 0 refused"));
  EXPECT_THAT(err(), HasSubstr("batch 3/3 (lines 6-6): 1 registered, 0 refused"));
  EXPECT_THAT(out(), HasSubstr("Registered 5, refused 0"));
}

TEST_F(ImportTest, TheSameFileGivesTheSameIdsAndAnotherFileOthers) {
  const std::string a = Write("a.csv", Rows(3));
  const std::string a_copy = Write("a_copy.csv", Rows(3));
  const std::string b = Write("b.csv", Rows(4));
  std::vector<v1::RegisterPersonsRequest> seen;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).WillRepeatedly(Invoke(RegisterAll(&next, &seen)));
  ASSERT_EQ(Run({"import", a}), kExitOk);
  ASSERT_EQ(Run({"import", a_copy}), kExitOk);
  ASSERT_EQ(Run({"import", b}), kExitOk);
  ASSERT_EQ(Run({"import", a, "--batch-size", "3"}), kExitOk);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].request_id(), seen[1].request_id());  // content, not name
  EXPECT_NE(seen[0].request_id(), seen[2].request_id());
  EXPECT_NE(seen[0].request_id(), seen[3].request_id());  // another batch size
  EXPECT_THAT(seen[0].request_id(), MatchesRegex("import-[0-9a-f]{16}-2000-0"));
}

TEST_F(ImportTest, BatchSizeIsBounded) {
  const std::string path = Write("one.csv", Rows(1));
  EXPECT_EQ(Run({"import", path, "--batch-size", "0"}), kExitBadInput);
  EXPECT_EQ(Run({"import", path, "--batch-size", "10001"}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("--batch-size: must be from 1 to 10000"));
}

TEST(ImportBatchesTest, ABatchStaysUnderTheByteLimit) {
  std::vector<ImportRow> rows(10);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].line = static_cast<int>(i) + 2;
    rows[i].person.mutable_person()->mutable_address()->set_street(std::string(1000, 'x'));
  }
  // ~1 KB each: 3 fit under 3.5 KB, whatever the batch size.
  auto batches = SplitIntoBatches(rows, 2000, 3500);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[0], std::make_pair(size_t{0}, size_t{3}));
  EXPECT_EQ(batches[3], std::make_pair(size_t{9}, size_t{10}));
  EXPECT_EQ(SplitIntoBatches(rows, 4, kMaxImportBatchBytes).size(), 3u);
  EXPECT_EQ(SplitIntoBatches(rows, 2000, kMaxImportBatchBytes).size(), 1u);
}

// --- Answers ------------------------------------------------------------------

// Line 2 registered; line 3 a possible duplicate; line 4 a bad field; line
// 5 another office's.
v1::RegisterPersonsResponse MixedAnswer() {
  v1::RegisterPersonsResponse response;
  auto* ok = response.add_results();
  ok->set_index(0);
  ok->set_beneficiary_number(Number(17));
  auto* duplicate = response.add_results();
  duplicate->set_index(1);
  *duplicate->mutable_status() = RpcStatus(WithErrorInfo(
      absl::AlreadyExistsError("possible duplicate"),
      {"POSSIBLE_DUPLICATE", {{"candidates", Number(25) + "," + Number(33)}}}));
  auto* bad = response.add_results();
  bad->set_index(2);
  *bad->mutable_status() =
      RpcStatus(InvalidField("person.date_of_birth", "is in the future"));
  auto* other = response.add_results();
  other->set_index(3);
  *other->mutable_status() = RpcStatus(
      WithErrorInfo(absl::PermissionDeniedError("not your office"), {"OTHER_OFFICE", {}}));
  response.set_registered(1);
  response.set_failed(3);
  return response;
}

TEST_F(ImportTest, RefusedPersonsAreListedWithTheirLineAndExitCode6) {
  const std::string path = Write("mixed.csv", Rows(4));
  EXPECT_CALL(mock_, RegisterPersons).WillOnce(Return(MixedAnswer()));
  EXPECT_EQ(Run({"import", path}), kExitPartlyRefused);
  EXPECT_THAT(out(), HasSubstr("Registered 1, refused 3"));
  EXPECT_THAT(out(), HasSubstr(path + ":3: ALREADY_EXISTS possible duplicate "
                                      "(POSSIBLE_DUPLICATE: candidates " +
                               Grouped(25) + ", " + Grouped(33) + ")"));
  EXPECT_THAT(out(), HasSubstr(path + ":4: INVALID_ARGUMENT person.date_of_birth: "
                                      "is in the future"));
  EXPECT_THAT(out(), HasSubstr(path + ":5: PERMISSION_DENIED not your office (OTHER_OFFICE)"));
  EXPECT_THAT(out(), Not(HasSubstr(path + ":2:")));
}

TEST_F(ImportTest, TheResultsFileHasOneRowPerInputLine) {
  const std::string path = Write("mixed.csv", Rows(4));
  const std::string results = (dir_ / "results.csv").string();
  EXPECT_CALL(mock_, RegisterPersons).WillOnce(Return(MixedAnswer()));
  EXPECT_EQ(Run({"import", path, "--results", results}), kExitPartlyRefused);
  std::vector<std::string> lines = absl::StrSplit(Read(results), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "line,beneficiary_number,status,message");
  EXPECT_EQ(lines[1], "2," + Number(17) + ",OK,");
  EXPECT_EQ(lines[2], "3,,ALREADY_EXISTS,\"possible duplicate (POSSIBLE_DUPLICATE: candidates " +
                          Grouped(25) + ", " + Grouped(33) + ")\"");
  EXPECT_EQ(lines[3], "4,,INVALID_ARGUMENT,person.date_of_birth: is in the future");
  EXPECT_EQ(lines[4], "5,,PERMISSION_DENIED,not your office (OTHER_OFFICE)");
}

TEST_F(ImportTest, JsonPrintsOneResponsePerBatch) {
  const std::string path = Write("three.csv", Rows(3));
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).Times(2).WillRepeatedly(Invoke(RegisterAll(&next)));
  EXPECT_EQ(Run({"import", path, "--batch-size", "2", "--json"}), kExitOk);
  std::vector<std::string> lines = absl::StrSplit(out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out();
  v1::RegisterPersonsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &parsed).ok());
  ASSERT_EQ(parsed.results_size(), 1);
  EXPECT_EQ(parsed.results(0).beneficiary_number(), Number(19));
  EXPECT_THAT(err(), HasSubstr("Registered 3, refused 0"));
}

// --- Failures and resuming ---------------------------------------------------

TEST_F(ImportTest, AFailedBatchStopsTheImportAndARerunResumesWithTheSameIds) {
  const std::string path = Write("five.csv", Rows(5));
  const std::string results = (dir_ / "results.csv").string();
  std::vector<std::string> first_run, second_run;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons)
      .WillOnce(Invoke([&](const v1::RegisterPersonsRequest& r) {
        first_run.push_back(r.request_id());
        return RegisterAll(&next)(r);
      }))
      .WillOnce(Invoke([&](const v1::RegisterPersonsRequest& r)
                           -> absl::StatusOr<v1::RegisterPersonsResponse> {
        first_run.push_back(r.request_id());
        return absl::UnavailableError("connection refused");
      }));
  EXPECT_EQ(Run({"import", path, "--batch-size", "2", "--results", results}), kExitServerError);
  ASSERT_EQ(first_run.size(), 2u);  // the third batch was not sent
  EXPECT_THAT(err(), HasSubstr("import stopped at batch 2/3 (lines 4-5); batches 1-1 "
                               "(lines 2-3) are done: 2 registered, 0 refused"));
  EXPECT_THAT(err(), HasSubstr("Run the same command again to resume"));
  EXPECT_THAT(out(), HasSubstr("Registered 2, refused 0"));
  std::vector<std::string> lines = absl::StrSplit(Read(results), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[2], "3," + Number(18) + ",OK,");
  EXPECT_THAT(lines[3], HasSubstr("4,,NOT_SENT,"));
  EXPECT_THAT(lines[5], HasSubstr("6,,NOT_SENT,"));

  // The re-run: the server replays batch 1 (same answer) and registers the
  // rest.
  EXPECT_CALL(mock_, RegisterPersons)
      .Times(3)
      .WillRepeatedly(Invoke([&](const v1::RegisterPersonsRequest& r) {
        second_run.push_back(r.request_id());
        return RegisterAll(&next)(r);
      }));
  EXPECT_EQ(Run({"import", path, "--batch-size", "2"}), kExitOk) << err();
  ASSERT_EQ(second_run.size(), 3u);
  EXPECT_EQ(second_run[0], first_run[0]);
  EXPECT_EQ(second_run[1], first_run[1]);
}

TEST_F(ImportTest, PermissionDeniedForTheWholeCallExitsNotAllowed) {
  const std::string path = Write("two.csv", Rows(2));
  EXPECT_CALL(mock_, RegisterPersons)
      .WillOnce(Return(absl::PermissionDeniedError("auditors may not register persons")));
  EXPECT_EQ(Run({"import", path}), kExitNotAllowed);
  EXPECT_THAT(err(), HasSubstr("not allowed: auditors may not register persons"));
  EXPECT_THAT(err(), HasSubstr("import stopped at batch 1/1"));
}

TEST_F(ImportTest, ARequestIdFlagIsRefused) {
  const std::string path = Write("one.csv", Rows(1));
  EXPECT_EQ(Run({"import", path, "--request-id", "abc"}), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr("derives its request ids from the file"));
}

TEST_F(ImportTest, DryRunSendsNothing) {
  const std::string path = Write("five.csv", Rows(5));
  EXPECT_EQ(Run({"import", path, "--batch-size", "2", "--dry-run"}), kExitOk);
  EXPECT_THAT(err(), HasSubstr("batch 3/3 (lines 6-6): 1 person, not sent"));
}

// --- socle-admin ---------------------------------------------------------------

TEST_F(ImportTest, AdminImportNeedsAnOfficeForEveryPerson) {
  const std::string no_column = Write("a.csv", Rows(2));
  EXPECT_EQ(Run({"import", no_column}, /*admin=*/true), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr(no_column + ":1: office_code: required column missing"));

  const std::string empty_cell = Write("b.csv",
                                       "given_name,family_name,sex,date_of_birth,office_code\n"
                                       "Sokha,CHAN,female,1990-04-12,KH-SR-03\n"
                                       "Dara,SOK,male,1990-04-12,\n");
  EXPECT_EQ(Run({"import", empty_cell}, true), kExitBadInput);
  EXPECT_THAT(err(), HasSubstr(empty_cell + ":3: office_code: is empty"));

  std::vector<v1::RegisterPersonsRequest> seen;
  int64_t next = 17;
  EXPECT_CALL(mock_, RegisterPersons).WillOnce(Invoke(RegisterAll(&next, &seen)));
  EXPECT_EQ(Run({"import", empty_cell, "--office", "KH-BB-01"}, true), kExitOk) << err();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].persons(0).person().office_code(), "KH-SR-03");
  EXPECT_EQ(seen[0].persons(1).person().office_code(), "KH-BB-01");
}

TEST_F(ImportTest, HelpDescribesTheFileAndTheExitCodes) {
  EXPECT_EQ(Run({"help", "import"}), kExitOk);
  EXPECT_THAT(out(), HasSubstr("Usage: socle import FILE.csv"));
  EXPECT_THAT(out(), HasSubstr("FILE:LINE: column"));
  EXPECT_THAT(out(), HasSubstr("6 some refused"));
  EXPECT_THAT(out(), HasSubstr("--batch-size N"));
  EXPECT_EQ(Run({"import", "--help"}, /*admin=*/true), kExitOk);
  EXPECT_THAT(out(), HasSubstr("Usage: socle-admin import FILE.csv"));
  EXPECT_THAT(out(), HasSubstr("office_code column, or --office"));
  EXPECT_EQ(Run({"--help"}), kExitOk);
  EXPECT_THAT(out(), HasSubstr("import FILE.csv"));
  EXPECT_THAT(out(), HasSubstr("6  import: some persons were refused"));
}

}  // namespace
}  // namespace socle::client::cli
