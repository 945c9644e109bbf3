#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/cli/eligibility_format.h"
#include "client/cli/format.h"
#include "client/cli/money.h"
#include "client/mocks/mock_connection.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "google/protobuf/util/json_util.h"

namespace socle::client::cli {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;
using ::testing::Return;
using ::testing::StrictMock;

// --- Money -------------------------------------------------------------------

int64_t Minor(const std::string& amount, const std::string& currency) {
  auto m = ParseMoney(amount, currency, "--income");
  EXPECT_TRUE(m.ok()) << amount << " " << currency << ": " << m.status();
  return m.ok() ? m->minor_units() : -1;
}

absl::Status MoneyError(const std::string& amount,
                        const std::string& currency) {
  return ParseMoney(amount, currency, "--income").status();
}

TEST(MoneyTest, ParsesExactlyIntoMinorUnits) {
  EXPECT_EQ(Minor("1250.50", "KHR"), 125050);
  EXPECT_EQ(Minor("1250.5", "KHR"), 125050);
  EXPECT_EQ(Minor("1250", "USD"), 125000);
  EXPECT_EQ(Minor("0", "USD"), 0);
  EXPECT_EQ(Minor("0.07", "EUR"), 7);
  EXPECT_EQ(Minor("007.10", "EUR"), 710);
  EXPECT_EQ(Minor("1250", "JPY"), 1250);
  EXPECT_EQ(Minor("25000", "VND"), 25000);
  EXPECT_EQ(Minor("1250.500", "USD"), 125050);  // trailing zeros are exact
  EXPECT_EQ(Minor("1250.0", "XOF"), 1250);
  EXPECT_EQ(Minor("3.14", "ZZZ"), 314);  // unknown code: 2 decimals
}

TEST(MoneyTest, NoFloatingPointDrift) {
  // 0.1 + 0.2 == 0.3 exactly, unlike binary floating point.
  EXPECT_EQ(Minor("0.1", "USD") + Minor("0.2", "USD"), Minor("0.3", "USD"));
  EXPECT_EQ(Minor("0.3", "USD"), 30);
  EXPECT_EQ(Minor("1.15", "USD"), 115);   // 1.15 * 100 = 114.999... in double
  EXPECT_EQ(Minor("4.35", "USD"), 435);   // 434.99999999999994 in double
  EXPECT_EQ(MoneyError("1.005", "USD").code(),
            absl::StatusCode::kInvalidArgument);  // never rounded
}

TEST(MoneyTest, BoundsOfInt64) {
  EXPECT_EQ(Minor("92233720368547758.07", "USD"),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MoneyError("92233720368547758.08", "USD").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MoneyError("99999999999999999999999", "JPY").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MoneyTest, TooManyDecimalsNamesTheFlag) {
  absl::Status s = MoneyError("1250.505", "USD");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--income"));
  EXPECT_THAT(s.message(), HasSubstr("decimals"));
  s = MoneyError("1250.5", "JPY");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--income"));
}

TEST(MoneyTest, RejectsNegativeAndMalformed) {
  absl::Status s = MoneyError("-5", "USD");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--income"));
  EXPECT_THAT(s.message(), HasSubstr("negative"));
  for (const char* bad : {"", "1,250.50", "1e3", ".5", "5.", "1.2.3", "+5",
                          " 5", "5 ", "abc", "0x10", "1_000"}) {
    EXPECT_EQ(MoneyError(bad, "USD").code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << bad << "'";
  }
}

TEST(MoneyTest, CurrencyMustBeThreeCapitals) {
  for (const char* bad : {"usd", "US", "USDT", "U5D", ""}) {
    absl::Status s = MoneyError("5", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("--currency")) << bad;
  }
}

TEST(MoneyTest, FormatsBackTheSameWay) {
  v1::Money m;
  m.set_currency("KHR");
  m.set_minor_units(125050);
  EXPECT_EQ(FormatMoney(m), "1250.50 KHR");
  m.set_minor_units(5);
  EXPECT_EQ(FormatMoney(m), "0.05 KHR");
  m.set_minor_units(-5);
  EXPECT_EQ(FormatMoney(m), "-0.05 KHR");
  m.set_currency("JPY");
  m.set_minor_units(1250);
  EXPECT_EQ(FormatMoney(m), "1250 JPY");
  EXPECT_EQ(FormatMinorUnits(std::numeric_limits<int64_t>::min(), 2),
            "-92233720368547758.08");
  for (int64_t v : {0LL, 1LL, 99LL, 100LL, 125050LL, 9223372036854775807LL}) {
    for (const char* c : {"USD", "JPY"}) {
      m.set_currency(c);
      m.set_minor_units(v);
      std::string text = FormatMinorUnits(v, CurrencyExponent(c));
      EXPECT_EQ(Minor(text, c), v) << text;
    }
  }
}

TEST(MoneyTest, GroupedForReading) {
  v1::Money m;
  m.set_currency("KHR");
  m.set_minor_units(4000000);
  EXPECT_EQ(FormatMoneyGrouped(m), "40,000.00 KHR");
  m.set_minor_units(5);
  EXPECT_EQ(FormatMoneyGrouped(m), "0.05 KHR");
  m.set_minor_units(99999);
  EXPECT_EQ(FormatMoneyGrouped(m), "999.99 KHR");
  m.set_minor_units(100000);
  EXPECT_EQ(FormatMoneyGrouped(m), "1,000.00 KHR");
  m.set_minor_units(-123456789);
  EXPECT_EQ(FormatMoneyGrouped(m), "-1,234,567.89 KHR");
  m.set_currency("VND");
  m.set_minor_units(1250000);
  EXPECT_EQ(FormatMoneyGrouped(m), "1,250,000 VND");
  EXPECT_EQ(FormatMinorUnitsGrouped(std::numeric_limits<int64_t>::max(), 2),
            "92,233,720,368,547,758.07");
  EXPECT_EQ(FormatMinorUnitsGrouped(std::numeric_limits<int64_t>::min(), 0),
            "-9,223,372,036,854,775,808");
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(12345), "12,345");
}

TEST(FormatTest, PercentWithIntegersRoundedDown) {
  EXPECT_EQ(FormatPercent(5, 8), "62.5 %");
  EXPECT_EQ(FormatPercent(1, 3), "33.3 %");
  EXPECT_EQ(FormatPercent(2, 3), "66.6 %");
  EXPECT_EQ(FormatPercent(9999, 10000), "99.9 %");  // never shown as all
  EXPECT_EQ(FormatPercent(7, 7), "100.0 %");
  EXPECT_EQ(FormatPercent(0, 7), "0.0 %");
  EXPECT_EQ(FormatPercent(0, 0), "-");
  EXPECT_EQ(FormatPercent(std::numeric_limits<int64_t>::max(),
                          std::numeric_limits<int64_t>::max()),
            "100.0 %");  // no overflow
  EXPECT_EQ(FormatPercent(1, std::numeric_limits<int64_t>::max()), "0.0 %");
}

// --- Argument parsing ----------------------------------------------------------

std::vector<FlagSpec> TestSpecs() {
  return {{"given", FlagSpec::kValue, "NAME", "given"},
          {"head", FlagSpec::kNumber, "NUMBER", "head"},
          {"insured", FlagSpec::kSwitch, "", "insured"},
          {"request-id", FlagSpec::kValue, "ID", "id"}};
}

TEST(ArgsTest, ValuesSwitchesAndPositionals) {
  auto a = ParseArgs({"x", "--given", "Sokha", "--insured", "y",
                      "--request_id=abc"},
                     TestSpecs());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->positional, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(a->Get("given"), "Sokha");
  EXPECT_TRUE(a->Switch("insured"));
  EXPECT_EQ(a->Get("request-id"), "abc");
  a = ParseArgs({"--insured=no", "--given="}, TestSpecs());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->Has("insured"));
  EXPECT_FALSE(a->Switch("insured"));
  EXPECT_EQ(a->Get("given"), "");
}

TEST(ArgsTest, NumbersTypedInTwoGroupsAreJoined) {
  auto a = ParseArgs({"10000", "00017", "H10000", "00025", "--head", "10000",
                      "00033", "12345"},
                     TestSpecs());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->positional,
            (std::vector<std::string>{"10000 00017", "H10000 00025", "12345"}));
  EXPECT_EQ(a->Get("head"), "10000 00033");
}

TEST(ArgsTest, ErrorsNameTheFlag) {
  auto a = ParseArgs({"--bogus", "1"}, TestSpecs());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("--bogus"));
  a = ParseArgs({"--given"}, TestSpecs());
  EXPECT_THAT(a.status().message(), HasSubstr("--given"));
  a = ParseArgs({"--given", "--insured"}, TestSpecs());
  EXPECT_THAT(a.status().message(), HasSubstr("--given"));
  a = ParseArgs({"--given", "a", "--given", "b"}, TestSpecs());
  EXPECT_THAT(a.status().message(), HasSubstr("twice"));
  a = ParseArgs({"--insured=maybe"}, TestSpecs());
  EXPECT_THAT(a.status().message(), HasSubstr("--insured"));
  // A negative number is a value, not a flag.
  a = ParseArgs({"--given", "-5"}, TestSpecs());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Get("given"), "-5");
}

TEST(ArgsTest, RepeatedFlagsCollectEveryValue) {
  std::vector<FlagSpec> specs = {{"programme", FlagSpec::kRepeated, "CODE", ""},
                                 {"given", FlagSpec::kValue, "NAME", ""}};
  auto a = ParseArgs({"--programme", "CHILD", "--programme=OLD_AGE,HEALTH",
                      "--programme", " , DISABILITY"},
                     specs);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->GetAll("programme"),
            (std::vector<std::string>{"CHILD", "OLD_AGE", "HEALTH",
                                      "DISABILITY"}));
  EXPECT_TRUE(a->GetAll("given").empty());
  // Only repeated flags may be given twice.
  EXPECT_THAT(ParseArgs({"--given", "a", "--given", "b"}, specs)
                  .status()
                  .message(),
              HasSubstr("twice"));
}

// --- The whole command against a mock connection ------------------------------

std::string Number(int64_t id) { return FormatBeneficiaryNumber(id); }
std::string HouseholdNo(int64_t id) { return FormatHouseholdNumber(id); }

v1::Person Sokha() {
  v1::Person p;
  p.set_beneficiary_number(Number(17));
  p.set_version(3);
  p.set_given_name("Sokha");
  p.set_family_name("Chan");
  p.set_sex(v1::SEX_FEMALE);
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(4);
  p.mutable_date_of_birth()->set_day(12);
  p.mutable_address()->set_district("Siem Reap");
  p.set_office_code("KH-SR-03");
  p.set_phone("+85512345678");
  p.set_household_number(HouseholdNo(5));
  p.mutable_facts()->mutable_monthly_income()->set_minor_units(125050);
  p.mutable_facts()->mutable_monthly_income()->set_currency("KHR");
  return p;
}

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class CliTest : public ::testing::Test {
 protected:
  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    std::vector<const char*> argv = {"socle"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return RunCli(static_cast<int>(argv.size()), argv.data(), mock_, out_,
                  err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  // Unexpected calls fail the test: bad input must never reach the server.
  StrictMock<MockConnection> mock_;
  std::ostringstream out_, err_;
};

TEST_F(CliTest, RegisterBuildsTheWholePerson) {
  v1::RegisterPersonRequest seen;
  EXPECT_CALL(mock_, RegisterPerson)
      .WillOnce(Invoke([&](const v1::RegisterPersonRequest& r) {
        seen = r;
        v1::Person p = r.person();
        p.set_beneficiary_number(Number(17));
        return p;
      }));
  int code = Run({"register", "--national-id", "KH-0001", "--given", "Sokha",
                  "--family", "Chan", "--sex", "female", "--born", "1990-04-12",
                  "--province", "Siem Reap", "--district", "Siem Reap",
                  "--commune", "Sla Kram", "--village", "Trapeang Ses",
                  "--street", "No 12", "--phone", "+85512345678", "--office",
                  "KH-SR-03", "--income", "1250.50", "--currency", "KHR",
                  "--disability-degree", "40", "--disability-certified-on",
                  "2020-01-02", "--pregnancy-start", "2024-02-01",
                  "--employment", "self-employed", "--contributory-pension"});
  ASSERT_EQ(code, 0) << err();
  EXPECT_TRUE(IsHex32(seen.request_id())) << seen.request_id();
  EXPECT_EQ(seen.duplicate_override_reason(), "");
  const v1::Person& p = seen.person();
  EXPECT_EQ(p.national_id(), "KH-0001");
  EXPECT_EQ(p.given_name(), "Sokha");
  EXPECT_EQ(p.family_name(), "Chan");
  EXPECT_EQ(p.sex(), v1::SEX_FEMALE);
  EXPECT_EQ(p.date_of_birth().year(), 1990);
  EXPECT_EQ(p.date_of_birth().month(), 4);
  EXPECT_EQ(p.date_of_birth().day(), 12);
  EXPECT_EQ(p.address().province(), "Siem Reap");
  EXPECT_EQ(p.address().district(), "Siem Reap");
  EXPECT_EQ(p.address().commune(), "Sla Kram");
  EXPECT_EQ(p.address().village(), "Trapeang Ses");
  EXPECT_EQ(p.address().street(), "No 12");
  EXPECT_EQ(p.phone(), "+85512345678");
  EXPECT_EQ(p.office_code(), "KH-SR-03");
  EXPECT_EQ(p.facts().monthly_income().minor_units(), 125050);
  EXPECT_EQ(p.facts().monthly_income().currency(), "KHR");
  EXPECT_TRUE(p.facts().disability().certified());
  EXPECT_EQ(p.facts().disability().degree_percent(), 40);
  EXPECT_EQ(p.facts().disability().certified_on().year(), 2020);
  EXPECT_EQ(p.facts().pregnancy_start().month(), 2);
  EXPECT_EQ(p.facts().employment_status(),
            v1::EMPLOYMENT_STATUS_SELF_EMPLOYED);
  EXPECT_TRUE(p.facts().receives_contributory_pension());
  EXPECT_THAT(out(), HasSubstr("Registered Sokha CHAN"));
  EXPECT_THAT(out(), HasSubstr(GroupNumber(Number(17))));
}

TEST_F(CliTest, RegisterPassesRequestIdAndOverrideReason) {
  EXPECT_CALL(mock_, RegisterPerson)
      .WillOnce(Invoke([](const v1::RegisterPersonRequest& r) {
        EXPECT_EQ(r.request_id(), "retry-42");
        EXPECT_EQ(r.duplicate_override_reason(), "twin sister");
        return r.person();
      }));
  EXPECT_EQ(Run({"--request-id", "retry-42", "register", "--given", "A",
                 "--override-reason", "twin sister"}),
            0)
      << err();
}

TEST_F(CliTest, RegisterDuplicateListsCandidatesAndHowToConfirm) {
  absl::Status duplicate = WithErrorInfo(
      absl::AlreadyExistsError("possible duplicate"),
      {"POSSIBLE_DUPLICATE",
       {{"candidates", Number(17) + "," + Number(25)}}});
  EXPECT_CALL(mock_, RegisterPerson).WillOnce(Return(duplicate));
  EXPECT_CALL(mock_, GetPerson)
      .WillOnce(Invoke([](const v1::GetPersonRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), Number(17));
        return Sokha();
      }))
      .WillOnce(Return(absl::NotFoundError("gone")));
  int code = Run({"register", "--given", "Sokha", "--family", "Chan", "--sex",
                  "female", "--born", "1990-04-12", "--district", "Siem Reap"});
  EXPECT_EQ(code, 4);
  EXPECT_EQ(out(), "");
  EXPECT_THAT(err(), HasSubstr("possible duplicate of 2 registered persons"));
  EXPECT_THAT(err(), HasSubstr(GroupNumber(Number(17)) + "  Sokha CHAN"));
  EXPECT_THAT(err(), HasSubstr(GroupNumber(Number(25))));
  EXPECT_THAT(err(), HasSubstr("--override-reason"));
}

TEST_F(CliTest, NationalIdTakenSuggestsTheSearch) {
  EXPECT_CALL(mock_, RegisterPerson)
      .WillOnce(Return(WithErrorInfo(absl::AlreadyExistsError("taken"),
                                     {"NATIONAL_ID_TAKEN", {}})));
  EXPECT_EQ(Run({"register", "--national-id", "KH-9", "--given", "A"}), 4);
  EXPECT_THAT(err(), HasSubstr("socle find --national-id KH-9"));
}

TEST_F(CliTest, BadFlagsExit2NamingTheFlagWithoutCallingTheServer) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  std::vector<Case> cases = {
      {{"register", "--sex", "x"}, "--sex"},
      {{"register", "--born", "1990-13-01"}, "--born"},
      {{"register", "--born", "12/04/1990"}, "--born"},
      {{"register", "--income", "12.345", "--currency", "USD"}, "--income"},
      {{"register", "--income", "-12", "--currency", "USD"}, "--income"},
      {{"register", "--income", "12"}, "--income"},
      {{"register", "--income", "12", "--currency", "usd"}, "--currency"},
      {{"register", "--currency", "USD"}, "--currency"},
      {{"register", "--disability-degree", "101"}, "--disability-degree"},
      {{"register", "--employment", "retired"}, "--employment"},
      {{"register", "--bogus", "1"}, "--bogus"},
      {{"register", "--given"}, "--given"},
      {{"register", "Sokha"}, "Sokha"},
      {{"--timeout", "soon", "health"}, "--timeout"},
      {{"--request-id", "has space", "health"}, "--request-id"},
      {{"show", "1000000010"}, "NUMBER"},
      {{"show"}, "missing"},
      {{"show", Number(1), Number(2)}, "unexpected"},
      {{"find"}, "exactly one"},
      {{"find", "--national-id", "1", "--office", "X"}, "exactly one"},
      {{"find", "--name", "sokha"}, "--born"},
      {{"find", "--office", "X", "--page-size", "501"}, "--page-size"},
      {{"find", "--household", "1000000017"}, "--household"},
      {{"update", Number(17)}, "nothing to change"},
      {{"update", Number(17), "--office", "X"}, "--office"},
      {{"update", Number(17), "--expected-version", "0", "--phone", "1"},
       "--expected-version"},
      {{"household", "create"}, "--head"},
      {{"household", "create", "--head", "12"}, "--head"},
      {{"household", "add", HouseholdNo(5), Number(17)}, "--relationship"},
      {{"household", "add", HouseholdNo(5), Number(17), "--relationship",
        "head"},
       "--relationship"},
      {{"household", "add", Number(5), Number(17), "--relationship", "child"},
       "HOUSEHOLD"},
      {{"household", "set-head", HouseholdNo(5), Number(17),
        "--previous-head-relationship", "boss"},
       "--previous-head-relationship"},
      {{"household", "fly"}, "household fly"},
      {{"event", Number(17), "death"}, "--date"},
      {{"event", Number(17), "wedding", "--date", "2024-01-01"}, "TYPE"},
      {{"event", Number(17), "pregnancy", "--date", "2024-01-01"}, "--weeks"},
      {{"event", Number(17), "pregnancy", "--date", "2024-01-01", "--weeks",
        "46"},
       "--weeks"},
      {{"event", Number(17), "death", "--date", "2024-01-01", "--weeks", "4"},
       "--weeks"},
      {{"event", Number(17), "death", "--date", "2024-01-01", "--correction"},
       "--reason"},
      {{"event", Number(17), "death", "--date", "2024-01-01", "--reason", "x"},
       "--reason"},
      {{"event", Number(17), "job-found", "--date", "2024-01-01", "--wage",
        "10.001", "--currency", "USD"},
       "--wage"},
      {{"event", Number(17), "move", "--date", "2024-01-01"}, "--office"},
      {{"events", Number(17), "--page-size", "0"}, "--page-size"},
      {{"regster"}, "regster"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args), 2) << absl::StrJoin(c.args, " ");
    EXPECT_THAT(err(), HasSubstr(c.named)) << absl::StrJoin(c.args, " ");
    EXPECT_EQ(out(), "") << absl::StrJoin(c.args, " ");
  }
}

TEST_F(CliTest, ServerFieldViolationsOneLineEach) {
  absl::Status bad = absl::InvalidArgumentError("bad");
  SetFieldViolations(bad, {{"person.date_of_birth", "must not be in the future"},
                           {"person.phone", "must be 6 to 15 digits"}});
  EXPECT_CALL(mock_, RegisterPerson).WillOnce(Return(bad));
  EXPECT_EQ(Run({"register", "--given", "A", "--born", "2999-01-01"}), 2);
  std::vector<std::string> lines = absl::StrSplit(err(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << err();
  EXPECT_THAT(lines[0], HasSubstr("invalid input"));
  EXPECT_EQ(lines[1], "  person.date_of_birth: must not be in the future");
  EXPECT_EQ(lines[2], "  person.phone: must be 6 to 15 digits");
}

TEST_F(CliTest, ExitCodePerStatusCode) {
  const std::map<absl::StatusCode, int> expected = {
      {absl::StatusCode::kUnavailable, 1},
      {absl::StatusCode::kInternal, 1},
      {absl::StatusCode::kDeadlineExceeded, 1},
      {absl::StatusCode::kUnknown, 1},
      {absl::StatusCode::kResourceExhausted, 1},
      {absl::StatusCode::kCancelled, 1},
      {absl::StatusCode::kUnimplemented, 1},
      {absl::StatusCode::kDataLoss, 1},
      {absl::StatusCode::kInvalidArgument, 2},
      {absl::StatusCode::kNotFound, 3},
      {absl::StatusCode::kAlreadyExists, 4},
      {absl::StatusCode::kFailedPrecondition, 4},
      {absl::StatusCode::kAborted, 4},
      {absl::StatusCode::kOutOfRange, 4},
      {absl::StatusCode::kUnauthenticated, 5},
      {absl::StatusCode::kPermissionDenied, 5},
  };
  for (const auto& [status_code, exit_code] : expected) {
    EXPECT_EQ(ExitCodeFor(status_code), exit_code) << status_code;
    EXPECT_CALL(mock_, GetPerson)
        .WillOnce(Return(absl::Status(status_code, "the reason")));
    EXPECT_EQ(Run({"show", Number(17)}), exit_code) << status_code;
    EXPECT_THAT(err(), HasSubstr("the reason"));
    std::vector<std::string> lines =
        absl::StrSplit(err(), '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 1u) << err();
    ::testing::Mock::VerifyAndClearExpectations(&mock_);
  }
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kOk), 0);
}

TEST_F(CliTest, ShowPrintsPersonHouseholdAndFacts) {
  EXPECT_CALL(mock_, GetPerson)
      .WillOnce(Invoke([](const v1::GetPersonRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), Number(17));
        return Sokha();
      }));
  // Typed grouped, as printed: two shell words.
  std::vector<std::string> grouped =
      absl::StrSplit(GroupNumber(Number(17)), ' ');
  ASSERT_EQ(grouped.size(), 2u);
  ASSERT_EQ(Run({"show", grouped[0], grouped[1]}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("Sokha CHAN"));
  EXPECT_THAT(out(), HasSubstr("1990-04-12"));
  EXPECT_THAT(out(), HasSubstr(GroupNumber(HouseholdNo(5))));
  EXPECT_THAT(out(), HasSubstr("1250.50 KHR"));
  EXPECT_THAT(out(), HasSubstr("facts"));
  for (absl::string_view line : absl::StrSplit(out(), '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST_F(CliTest, ShowAcceptsDashes) {
  std::string n = Number(17);
  EXPECT_CALL(mock_, GetPerson)
      .WillOnce(Invoke([&](const v1::GetPersonRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), n);
        return Sokha();
      }));
  EXPECT_EQ(Run({"show", n.substr(0, 5) + "-" + n.substr(5)}), 0) << err();
}

TEST_F(CliTest, JsonOutputParsesBack) {
  EXPECT_CALL(mock_, GetPerson).WillOnce(Return(Sokha()));
  ASSERT_EQ(Run({"show", Number(17), "--json"}), 0) << err();
  v1::Person parsed;
  std::string json = out();
  ASSERT_EQ(json.back(), '\n');
  json.pop_back();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
      << json;
  EXPECT_EQ(parsed.SerializeAsString(), Sokha().SerializeAsString());

  v1::FindPersonsResponse page1, page2;
  *page1.add_persons() = Sokha();
  page1.set_next_page_token("p2");
  *page2.add_persons() = Sokha();
  EXPECT_CALL(mock_, FindPersons)
      .WillOnce(Return(page1))
      .WillOnce(Return(page2));
  ASSERT_EQ(Run({"--json", "find", "--office", "KH-SR-03", "--all"}), 0)
      << err();
  std::vector<std::string> lines =
      absl::StrSplit(out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  v1::FindPersonsResponse back;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(lines[0], &back).ok());
  EXPECT_EQ(back.next_page_token(), "p2");
  EXPECT_EQ(back.persons(0).given_name(), "Sokha");
}

TEST_F(CliTest, FindBuildsEachQuery) {
  std::vector<v1::FindPersonsRequest> seen;
  EXPECT_CALL(mock_, FindPersons)
      .WillRepeatedly(Invoke([&](const v1::FindPersonsRequest& r) {
        seen.push_back(r);
        return v1::FindPersonsResponse();
      }));
  ASSERT_EQ(Run({"find", "--national-id", "KH-1"}), 0) << err();
  ASSERT_EQ(Run({"find", "--name", "chan sokha", "--born", "1990-04-12"}), 0);
  ASSERT_EQ(Run({"find", "--household", GroupNumber(HouseholdNo(5))}), 0);
  ASSERT_EQ(Run({"find", "--office", "KH-SR-03", "--page-size", "20",
                 "--page-token", "abc"}),
            0);
  EXPECT_THAT(out(), HasSubstr("No person found."));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].national_id(), "KH-1");
  EXPECT_EQ(seen[1].name_and_birth().name(), "chan sokha");
  EXPECT_EQ(seen[1].name_and_birth().date_of_birth().day(), 12);
  EXPECT_EQ(seen[2].household_number(), HouseholdNo(5));
  EXPECT_EQ(seen[3].office_code(), "KH-SR-03");
  EXPECT_EQ(seen[3].page_size(), 20);
  EXPECT_EQ(seen[3].page_token(), "abc");
}

TEST_F(CliTest, FindShowsOnePageAndHowToGetTheNext) {
  v1::FindPersonsResponse page;
  *page.add_persons() = Sokha();
  page.set_next_page_token("tok2");
  EXPECT_CALL(mock_, FindPersons).WillOnce(Return(page));
  ASSERT_EQ(Run({"find", "--office", "KH-SR-03"}), 0);
  EXPECT_THAT(out(), HasSubstr(GroupNumber(Number(17)) + "  Sokha CHAN"));
  EXPECT_THAT(out(), HasSubstr("--page-token tok2"));
}

TEST_F(CliTest, UpdateIsReadModifyWrite) {
  EXPECT_CALL(mock_, GetPerson).WillOnce(Return(Sokha()));
  v1::UpdatePersonRequest seen;
  EXPECT_CALL(mock_, UpdatePerson)
      .WillOnce(Invoke([&](const v1::UpdatePersonRequest& r) {
        seen = r;
        v1::Person p = r.person();
        p.set_version(4);
        return p;
      }));
  ASSERT_EQ(Run({"update", Number(17), "--phone", "+85599999999", "--village",
                 "Kouk Chak", "--contributory-pension"}),
            0)
      << err();
  EXPECT_EQ(seen.beneficiary_number(), Number(17));
  EXPECT_EQ(seen.expected_version(), 3);
  EXPECT_TRUE(IsHex32(seen.request_id()));
  EXPECT_EQ(seen.person().phone(), "+85599999999");
  EXPECT_EQ(seen.person().address().village(), "Kouk Chak");
  EXPECT_EQ(seen.person().address().district(), "Siem Reap");  // kept
  EXPECT_EQ(seen.person().given_name(), "Sokha");               // kept
  EXPECT_EQ(seen.person().facts().monthly_income().minor_units(), 125050);
  EXPECT_TRUE(seen.person().facts().receives_contributory_pension());
  EXPECT_THAT(out(), HasSubstr("version 4"));
}

TEST_F(CliTest, UpdateWithGivenVersionAndStaleAnswer) {
  EXPECT_CALL(mock_, GetPerson).WillOnce(Return(Sokha()));
  EXPECT_CALL(mock_, UpdatePerson)
      .WillOnce(Invoke([](const v1::UpdatePersonRequest& r) {
        EXPECT_EQ(r.expected_version(), 2);
        EXPECT_EQ(r.request_id(), "upd-1");
        EXPECT_EQ(r.person().facts().monthly_income().minor_units(), 30);
        EXPECT_EQ(r.person().facts().monthly_income().currency(), "USD");
        return WithErrorInfo(absl::AbortedError("stale"),
                             {"STALE_VERSION", {{"current_version", "3"}}});
      }));
  EXPECT_EQ(Run({"update", Number(17), "--expected-version", "2", "--income",
                 "0.30", "--currency", "USD", "--request-id", "upd-1"}),
            4);
  EXPECT_THAT(err(), HasSubstr("changed since it was read"));
  EXPECT_THAT(err(), HasSubstr("version 3, not 2"));
  EXPECT_THAT(err(), HasSubstr("socle show"));
}

TEST_F(CliTest, HouseholdCommands) {
  v1::Household h;
  h.set_household_number(HouseholdNo(5));
  h.set_head_beneficiary_number(Number(17));
  h.set_office_code("KH-SR-03");
  auto* head = h.add_members();
  head->set_beneficiary_number(Number(17));
  head->set_relationship(v1::RELATIONSHIP_HEAD);
  head->set_given_name("Sokha");
  head->set_family_name("Chan");
  auto* child = h.add_members();
  child->set_beneficiary_number(Number(25));
  child->set_relationship(v1::RELATIONSHIP_CHILD);
  child->set_given_name("Dara");
  child->set_family_name("Chan");

  EXPECT_CALL(mock_, CreateHousehold)
      .WillOnce(Invoke([&](const v1::CreateHouseholdRequest& r) {
        EXPECT_EQ(r.head_beneficiary_number(), Number(17));
        EXPECT_EQ(r.office_code(), "KH-SR-03");
        EXPECT_EQ(r.address().village(), "Trapeang Ses");
        EXPECT_FALSE(r.request_id().empty());
        return h;
      }));
  std::vector<std::string> grouped =
      absl::StrSplit(GroupNumber(Number(17)), ' ');
  ASSERT_EQ(Run({"household", "create", "--head", grouped[0], grouped[1],
                 "--office", "KH-SR-03", "--village", "Trapeang Ses"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("Created household " +
                               GroupNumber(HouseholdNo(5))));

  EXPECT_CALL(mock_, GetHousehold)
      .WillOnce(Invoke([&](const v1::GetHouseholdRequest& r) {
        EXPECT_EQ(r.household_number(), HouseholdNo(5));
        return h;
      }));
  ASSERT_EQ(Run({"household", "show", GroupNumber(HouseholdNo(5))}), 0);
  EXPECT_THAT(out(), HasSubstr("Dara CHAN"));
  EXPECT_THAT(out(), HasSubstr("child"));

  EXPECT_CALL(mock_, AddHouseholdMember)
      .WillOnce(Invoke([&](const v1::AddHouseholdMemberRequest& r) {
        EXPECT_EQ(r.household_number(), HouseholdNo(5));
        EXPECT_EQ(r.beneficiary_number(), Number(25));
        EXPECT_EQ(r.relationship(), v1::RELATIONSHIP_OTHER_RELATIVE);
        return h;
      }));
  ASSERT_EQ(Run({"household", "add", HouseholdNo(5), Number(25),
                 "--relationship", "other-relative"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("Dara CHAN"));

  EXPECT_CALL(mock_, RemoveHouseholdMember)
      .WillOnce(Invoke([&](const v1::RemoveHouseholdMemberRequest& r) {
        EXPECT_EQ(r.household_number(), HouseholdNo(5));
        EXPECT_EQ(r.beneficiary_number(), Number(25));
        return h;
      }));
  ASSERT_EQ(Run({"household", "remove", HouseholdNo(5), Number(25)}), 0);

  EXPECT_CALL(mock_, SetHouseholdHead)
      .WillOnce(Invoke([&](const v1::SetHouseholdHeadRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), Number(25));
        EXPECT_EQ(r.previous_head_relationship(), v1::RELATIONSHIP_PARENT);
        EXPECT_EQ(r.request_id(), "sh-1");
        return h;
      }));
  ASSERT_EQ(Run({"household", "set-head", HouseholdNo(5), Number(25),
                 "--previous-head-relationship", "parent", "--request-id",
                 "sh-1"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("is now head"));
}

TEST_F(CliTest, EventTypesBuildTheirEvent) {
  std::vector<v1::RecordLifeEventRequest> seen;
  EXPECT_CALL(mock_, RecordLifeEvent)
      .WillRepeatedly(Invoke([&](const v1::RecordLifeEventRequest& r) {
        seen.push_back(r);
        v1::RecordLifeEventResponse response;
        *response.mutable_event() = r.event();
        *response.mutable_person() = Sokha();
        return response;
      }));
  const std::string n = Number(17);
  const std::string d = "2024-03-01";
  ASSERT_EQ(Run({"event", n, "birth", "--date", d, "--child", Number(25)}), 0)
      << err();
  ASSERT_EQ(Run({"event", n, "death", "--date", d}), 0);
  ASSERT_EQ(Run({"event", n, "pregnancy", "--date", d, "--weeks", "14"}), 0);
  ASSERT_EQ(Run({"event", n, "disability", "--date", d, "--degree", "60"}), 0);
  ASSERT_EQ(Run({"event", n, "job-lost", "--date", d}), 0);
  ASSERT_EQ(Run({"event", n, "job-found", "--date", d, "--wage", "350",
                 "--currency", "USD", "--employer", "Angkor Rice", "--insured"}),
            0);
  ASSERT_EQ(Run({"event", n, "work-accident", "--date", d, "--incapacity",
                 "30"}),
            0);
  ASSERT_EQ(Run({"event", n, "move", "--date", d, "--office", "KH-BB-01",
                 "--province", "Battambang", "--whole-household"}),
            0);
  ASSERT_EQ(Run({"event", n, "death", "--date", "2024-03-02", "--correction",
                 "--reason", "wrong day on the certificate"}),
            0);
  ASSERT_EQ(seen.size(), 9u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.beneficiary_number(), n);
    EXPECT_TRUE(IsHex32(r.request_id()));
  }
  EXPECT_EQ(seen[0].event().birth().child_beneficiary_number(), Number(25));
  EXPECT_EQ(seen[0].event().date().year(), 2024);
  EXPECT_EQ(seen[0].event().date().month(), 3);
  EXPECT_TRUE(seen[1].event().has_death());
  EXPECT_FALSE(seen[1].event().correction());
  EXPECT_EQ(seen[2].event().pregnancy().weeks_at_date(), 14);
  EXPECT_EQ(seen[3].event().disability_certified().degree_percent(), 60);
  EXPECT_TRUE(seen[4].event().has_job_lost());
  EXPECT_EQ(seen[5].event().job_found().monthly_wage().minor_units(), 35000);
  EXPECT_EQ(seen[5].event().job_found().monthly_wage().currency(), "USD");
  EXPECT_EQ(seen[5].event().job_found().employer(), "Angkor Rice");
  EXPECT_TRUE(seen[5].event().job_found().insured());
  EXPECT_EQ(seen[6].event().work_accident().incapacity_percent(), 30);
  EXPECT_EQ(seen[7].event().move().office_code(), "KH-BB-01");
  EXPECT_EQ(seen[7].event().move().address().province(), "Battambang");
  EXPECT_TRUE(seen[7].event().move().whole_household());
  EXPECT_TRUE(seen[8].event().correction());
  EXPECT_EQ(seen[8].event().correction_reason(),
            "wrong day on the certificate");
  EXPECT_EQ(seen[8].event().date().day(), 2);
  EXPECT_THAT(out(), HasSubstr("Recorded correction: death on 2024-03-02"));
}

TEST_F(CliTest, EventsListsThem) {
  v1::ListLifeEventsResponse page;
  auto* e = page.add_events();
  e->mutable_date()->set_year(2024);
  e->mutable_date()->set_month(3);
  e->mutable_date()->set_day(1);
  e->mutable_pregnancy()->set_weeks_at_date(14);
  EXPECT_CALL(mock_, ListLifeEvents)
      .WillOnce(Invoke([&](const v1::ListLifeEventsRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), Number(17));
        EXPECT_EQ(r.page_size(), 10);
        return page;
      }));
  ASSERT_EQ(Run({"events", Number(17), "--page-size", "10"}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("2024-03-01  pregnancy, week 14"));
}

TEST_F(CliTest, Health) {
  EXPECT_CALL(mock_, Check)
      .WillOnce(Return(grpc::health::v1::HealthCheckResponse::SERVING))
      .WillOnce(Return(grpc::health::v1::HealthCheckResponse::NOT_SERVING))
      .WillOnce(Return(absl::UnavailableError("connection refused")));
  EXPECT_EQ(Run({"health"}), 0);
  EXPECT_EQ(out(), "SERVING\n");
  EXPECT_EQ(Run({"health"}), 1);
  EXPECT_THAT(err(), HasSubstr("NOT_SERVING"));
  EXPECT_EQ(Run({"health"}), 1);
  EXPECT_THAT(err(), HasSubstr("connection refused"));
}

TEST_F(CliTest, RequestIdReusedExplained) {
  EXPECT_CALL(mock_, RecordLifeEvent)
      .WillOnce(Return(WithErrorInfo(absl::AlreadyExistsError("reused"),
                                     {"REQUEST_ID_REUSED",
                                      {{"field", "event.date"}}})));
  EXPECT_EQ(Run({"event", Number(17), "death", "--date", "2024-01-01",
                 "--request-id", "x1"}),
            4);
  EXPECT_THAT(err(), HasSubstr("event.date differs"));
}

TEST_F(CliTest, Help) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out(), HasSubstr("Exit codes"));
  EXPECT_THAT(out(), HasSubstr("SOCLE_ENDPOINT"));
  for (absl::string_view line : absl::StrSplit(out(), '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{
           {"help", "register"},
           {"help", "household"},
           {"help", "household", "add"},
           {"register", "--help"},
           {"event", "-h"},
           {"household", "--help"},
           {"help", "event"}}) {
    EXPECT_EQ(Run(args), 0) << absl::StrJoin(args, " ");
    EXPECT_THAT(out(), HasSubstr("Usage: socle"));
    for (absl::string_view line : absl::StrSplit(out(), '\n')) {
      EXPECT_LE(line.size(), 80u) << line;
    }
  }
  EXPECT_EQ(Run({}), 2);
  EXPECT_THAT(err(), HasSubstr("Commands:"));
  EXPECT_EQ(Run({"help", "nothing"}), 2);
}

// --- Eligibility and enrolment ------------------------------------------------

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

v1::CriterionResult Line(const std::string& criterion, bool held,
                         const std::string& description,
                         const std::string& alternative = "") {
  v1::CriterionResult c;
  c.set_criterion(criterion);
  c.set_held(held);
  c.set_description(description);
  c.set_alternative(alternative);
  return c;
}

v1::CheckEligibilityResponse TwoDecisions() {
  v1::CheckEligibilityResponse response;
  response.set_policy_version("2026.1");
  *response.mutable_as_of() = Day(2026, 11, 25);
  v1::Decision* old_age = response.add_decisions();
  old_age->set_programme_code("OLD_AGE");
  old_age->set_programme_name("Social pension");
  old_age->set_guarantee(v1::GUARANTEE_OLD_AGE);
  old_age->set_eligible(true);
  *old_age->mutable_amount() = Khr(4000000);
  old_age->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  *old_age->mutable_period_start() = Day(2026, 11, 25);
  *old_age->add_criteria() = Line("alive", true, "alive on 2026-11-25");
  *old_age->add_criteria() =
      Line("age_at_least", true, "age 61 on 2026-11-25, needs at least 60");
  *old_age->add_criteria() = Line("no_contributory_pension", true,
                                  "receives no contributory pension");
  old_age->add_calculation("fixed amount 40,000.00 KHR");
  old_age->set_policy_version("2026.1");
  old_age->set_beneficiary_number(Number(17));

  v1::Decision* child = response.add_decisions();
  child->set_programme_code("CHILD");
  child->set_programme_name("Child allowance");
  child->set_guarantee(v1::GUARANTEE_CHILDREN);
  child->set_eligible(false);
  child->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  *child->add_criteria() = Line("alive", true, "alive on 2026-11-25");
  *child->add_criteria() =
      Line("any_of", false, "none of the 2 alternatives holds");
  *child->add_criteria() = Line("age_under", false,
                                "age 61 on 2026-11-25, needs under 18",
                                "a child under 18");
  *child->add_criteria() = Line(
      "pregnant_from_week", false,
      "no pregnancy recorded on 2026-11-25, needs pregnant from week 12 "
      "of a pregnancy recorded in the registry with its first day",
      "pregnant from week 12");
  child->set_policy_version("2026.1");
  return response;
}

TEST_F(CliTest, CheckBuildsTheRequestAndExplainsEachCriterion) {
  v1::CheckEligibilityRequest seen;
  EXPECT_CALL(mock_, CheckEligibility)
      .WillOnce(Invoke([&](const v1::CheckEligibilityRequest& r) {
        seen = r;
        return TwoDecisions();
      }));
  std::vector<std::string> grouped =
      absl::StrSplit(GroupNumber(Number(17)), ' ');
  ASSERT_EQ(Run({"check", grouped[0], grouped[1], "--programme", "old-age",
                 "--programme", "child,OLD_AGE", "--as-of", "2026-11-25"}),
            0)
      << err();
  EXPECT_EQ(seen.beneficiary_number(), Number(17));
  EXPECT_THAT(seen.programme_codes(), ::testing::ElementsAre("OLD_AGE", "CHILD"));
  EXPECT_EQ(seen.as_of().year(), 2026);
  EXPECT_EQ(seen.as_of().month(), 11);
  EXPECT_EQ(seen.as_of().day(), 25);

  std::string o = out();
  EXPECT_THAT(o, HasSubstr("Eligibility of " + GroupNumber(Number(17)) +
                           " on 2026-11-25 (policy 2026.1)\n"));
  EXPECT_THAT(o, HasSubstr("\nOLD_AGE  Social pension  (old age)\n"
                           "  ELIGIBLE  40,000.00 KHR/month from 2026-11-25\n"));
  EXPECT_THAT(o, HasSubstr("\n  + alive                    alive on 2026-11-25\n"));
  EXPECT_THAT(o, HasSubstr("\n  + age_at_least             age 61 on "
                           "2026-11-25, needs at least 60\n"));
  EXPECT_THAT(o, HasSubstr("\n  calculation:\n    fixed amount 40,000.00 KHR\n"
                           "  policy 2026.1\n"));
  EXPECT_THAT(o, HasSubstr("\nCHILD  Child allowance  (children)\n"
                           "  not eligible\n"));
  EXPECT_THAT(o, HasSubstr("\n  - any_of  "));
  // Alternatives indented under their group; long lines wrapped under the
  // description column.
  EXPECT_THAT(o, HasSubstr("\n    - age_under           [a child under 18] age "
                           "61 on 2026-11-25, needs under\n"
                           "                          18\n"));
  for (absl::string_view line : absl::StrSplit(o, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
    for (char c : line) {
      EXPECT_TRUE(static_cast<unsigned char>(c) < 0x80) << line;  // ASCII
    }
  }
}

TEST_F(CliTest, CheckViewBasicOrFull) {
  std::vector<v1::CheckEligibilityRequest> seen;
  EXPECT_CALL(mock_, CheckEligibility)
      .Times(3)
      .WillRepeatedly(Invoke([&](const v1::CheckEligibilityRequest& r) {
        seen.push_back(r);
        return TwoDecisions();
      }));
  ASSERT_EQ(Run({"check", Number(17), "--view", "basic"}), 0) << err();
  ASSERT_EQ(Run({"check", Number(17), "--view=FULL"}), 0) << err();
  ASSERT_EQ(Run({"check", Number(17)}), 0) << err();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].view(), v1::ELIGIBILITY_VIEW_BASIC);
  EXPECT_EQ(seen[1].view(), v1::ELIGIBILITY_VIEW_FULL);
  EXPECT_EQ(seen[2].view(), v1::ELIGIBILITY_VIEW_UNSPECIFIED);  // the server's FULL
  EXPECT_EQ(Run({"check", Number(17), "--view", "short"}), 2);
  EXPECT_THAT(err(), HasSubstr("--view"));
}

TEST_F(CliTest, CheckAlignsCriteriaOfOneDecision) {
  v1::CheckEligibilityResponse response;
  v1::Decision* d = response.add_decisions();
  d->set_programme_code("OLD_AGE");
  d->set_eligible(true);
  *d->mutable_amount() = Khr(4000000);
  d->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  *d->add_criteria() = Line("alive", true, "alive on 2026-11-25");
  *d->add_criteria() =
      Line("age_at_least", false, "age 59 on 2026-11-25, needs at least 60");
  EXPECT_EQ(DecisionBlock(*d),
            "OLD_AGE\n"
            "  ELIGIBLE  40,000.00 KHR/month\n"
            "  + alive         alive on 2026-11-25\n"
            "  - age_at_least  age 59 on 2026-11-25, needs at least 60\n");
}

TEST_F(CliTest, CheckShowsPeriodPayeeAndMembership) {
  v1::CheckEligibilityResponse response;
  v1::Decision* maternity = response.add_decisions();
  maternity->set_programme_code("MATERNITY");
  maternity->set_eligible(true);
  maternity->set_beneficiary_number(Number(17));
  maternity->set_payee_beneficiary_number(Number(25));
  *maternity->mutable_amount() = Khr(60000000);
  maternity->set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  *maternity->mutable_period_start() = Day(2026, 11, 1);
  *maternity->mutable_period_end() = Day(2027, 1, 9);
  maternity->set_duration_weeks(10);
  v1::Decision* health = response.add_decisions();
  health->set_programme_code("HEALTH");
  health->set_eligible(true);
  health->set_frequency(v1::PAYMENT_FREQUENCY_NONE);
  health->set_subsidised(true);
  EXPECT_CALL(mock_, CheckEligibility).WillOnce(Return(response));
  ASSERT_EQ(Run({"check", Number(17)}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("  ELIGIBLE  600,000.00 KHR/month from "
                               "2026-11-01 to 2027-01-09 (10 weeks)\n"
                               "  paid to " +
                               GroupNumber(Number(25)) + "\n"));
  EXPECT_THAT(out(), HasSubstr("  ELIGIBLE  membership, premium subsidised\n"));
}

TEST_F(CliTest, CheckJsonParsesBack) {
  EXPECT_CALL(mock_, CheckEligibility).WillOnce(Return(TwoDecisions()));
  ASSERT_EQ(Run({"check", Number(17), "--json"}), 0) << err();
  std::string json = out();
  ASSERT_EQ(json.back(), '\n');
  json.pop_back();
  v1::CheckEligibilityResponse back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), TwoDecisions().SerializeAsString());
}

v1::Enrolment ChildEnrolment() {
  v1::Enrolment e;
  e.set_enrolment_id("E12");
  e.set_beneficiary_number(Number(17));
  e.set_programme_code("CHILD");
  e.set_programme_name("Child allowance");
  e.set_office_code("KH-SR-03");
  e.set_status(v1::ENROLMENT_STATUS_ACTIVE);
  *e.mutable_start_date() = Day(2026, 12, 1);
  *e.mutable_amount() = Khr(4000000);
  e.set_frequency(v1::PAYMENT_FREQUENCY_MONTHLY);
  e.set_policy_version("2026.1");
  return e;
}

TEST_F(CliTest, EnrolBuildsTheRequest) {
  v1::EnrolRequest seen;
  EXPECT_CALL(mock_, Enrol).WillOnce(Invoke([&](const v1::EnrolRequest& r) {
    seen = r;
    v1::Enrolment e = ChildEnrolment();
    e.set_override_reason(r.override_reason());
    return e;
  }));
  ASSERT_EQ(Run({"enrol", Number(17), "child", "--start", "2026-12-01",
                 "--override-reason", "decree 12 on flood victims"}),
            0)
      << err();
  EXPECT_TRUE(IsHex32(seen.request_id())) << seen.request_id();
  EXPECT_EQ(seen.beneficiary_number(), Number(17));
  EXPECT_EQ(seen.programme_code(), "CHILD");
  EXPECT_EQ(seen.start_date().year(), 2026);
  EXPECT_EQ(seen.start_date().month(), 12);
  EXPECT_EQ(seen.start_date().day(), 1);
  EXPECT_EQ(seen.override_reason(), "decree 12 on flood victims");
  EXPECT_THAT(out(), HasSubstr("Enrolled " + GroupNumber(Number(17)) +
                               " in CHILD Child allowance: enrolment E12\n"));
  EXPECT_THAT(out(), HasSubstr("\n  40,000.00 KHR/month from 2026-12-01 "
                               "(policy 2026.1)\n"));
  EXPECT_THAT(out(), HasSubstr("\n  override: decree 12 on flood victims\n"));

  EXPECT_CALL(mock_, Enrol).WillOnce(Invoke([&](const v1::EnrolRequest& r) {
    EXPECT_EQ(r.request_id(), "enrol-7");
    EXPECT_FALSE(r.has_start_date());
    EXPECT_EQ(r.override_reason(), "");
    return ChildEnrolment();
  }));
  ASSERT_EQ(Run({"--request-id", "enrol-7", "enrol", Number(17), "CHILD"}), 0)
      << err();
}

TEST_F(CliTest, EnrolNotEligibleListsTheFailedCriteriaAndTheOverride) {
  absl::Status refused = WithErrorInfo(
      absl::FailedPreconditionError("not eligible for CHILD"),
      {"NOT_ELIGIBLE",
       {{"failed_criteria",
         "age 19 on 2026-12-01, needs under 18; household income per head "
         "500,000.00 KHR, needs below 400,000.00 KHR"}}});
  EXPECT_CALL(mock_, Enrol).WillOnce(Return(refused));
  EXPECT_EQ(Run({"enrol", Number(17), "CHILD", "--start", "2026-12-01"}), 4);
  EXPECT_EQ(out(), "");
  std::vector<std::string> lines = absl::StrSplit(err(), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 4u) << err();
  EXPECT_EQ(lines[0], "socle: not enrolled: " + GroupNumber(Number(17)) +
                          " is not eligible for CHILD on 2026-12-01:");
  EXPECT_EQ(lines[1], "  - age 19 on 2026-12-01, needs under 18");
  EXPECT_EQ(lines[2],
            "  - household income per head 500,000.00 KHR, needs below "
            "400,000.00 KHR");
  EXPECT_THAT(err(), HasSubstr("A supervisor can enrol anyway"));
  EXPECT_THAT(err(), HasSubstr("--override-reason"));
  EXPECT_THAT(err(), HasSubstr("socle check " + GroupNumber(Number(17)) +
                               " --programme CHILD --as-of 2026-12-01"));

  // Refused although overridden (e.g. the caller is no supervisor): no hint.
  EXPECT_CALL(mock_, Enrol).WillOnce(Return(refused));
  EXPECT_EQ(Run({"enrol", Number(17), "CHILD", "--override-reason", "x"}), 4);
  EXPECT_THAT(err(), Not(HasSubstr("A supervisor can enrol anyway")));
}

TEST_F(CliTest, EnrolTwiceIsRefusedWithAPointerToTheEnrolments) {
  EXPECT_CALL(mock_, Enrol)
      .WillOnce(Return(absl::AlreadyExistsError(
          "already enrolled in CHILD: E12 (active)")));
  EXPECT_EQ(Run({"enrol", Number(17), "CHILD"}), 4);
  EXPECT_THAT(err(), HasSubstr("already enrolled in CHILD: E12"));
  EXPECT_THAT(err(), HasSubstr("socle enrolments " + GroupNumber(Number(17))));
}

TEST_F(CliTest, EnrolmentsOfAPersonAndOfAProgramme) {
  v1::ListEnrolmentsResponse page1, page2;
  *page1.add_enrolments() = ChildEnrolment();
  page1.set_next_page_token("p2");
  v1::Enrolment ended = ChildEnrolment();
  ended.set_enrolment_id("E13");
  ended.set_status(v1::ENROLMENT_STATUS_ENDED);
  *ended.mutable_end_date() = Day(2027, 1, 31);
  ended.set_end_reason("recertification: age 18 on 2027-01-31");
  *page2.add_enrolments() = ended;
  std::vector<v1::ListEnrolmentsRequest> seen;
  EXPECT_CALL(mock_, ListEnrolments)
      .WillRepeatedly(Invoke([&](const v1::ListEnrolmentsRequest& r) {
        seen.push_back(r);
        return r.page_token().empty() ? page1 : page2;
      }));
  ASSERT_EQ(Run({"enrolments", Number(17)}), 0) << err();
  EXPECT_THAT(out(), HasSubstr("E12  " + GroupNumber(Number(17)) +
                               "  CHILD  active  from 2026-12-01  "
                               "40,000.00 KHR/month  KH-SR-03\n"));
  EXPECT_THAT(out(), HasSubstr("--page-token p2"));
  ASSERT_EQ(Run({"enrolments", "--programme", "CHILD", "--office", "KH-SR-03",
                 "--status", "ended", "--page-size", "100", "--all"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("E13  " + GroupNumber(Number(17)) +
                               "  CHILD  ended  from 2026-12-01 to 2027-01-31"));
  EXPECT_THAT(out(), HasSubstr("    ended: recertification: age 18 on "
                               "2027-01-31\n"));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].beneficiary_number(), Number(17));
  EXPECT_FALSE(seen[0].has_programme_office());
  EXPECT_EQ(seen[1].programme_office().programme_code(), "CHILD");
  EXPECT_EQ(seen[1].programme_office().office_code(), "KH-SR-03");
  EXPECT_EQ(seen[1].programme_office().status(), v1::ENROLMENT_STATUS_ENDED);
  EXPECT_EQ(seen[1].page_size(), 100);
  EXPECT_EQ(seen[2].page_token(), "p2");
}

TEST_F(CliTest, EnrolmentSuspendResumeEnd) {
  std::vector<std::pair<std::string, v1::ChangeEnrolmentRequest>> seen;
  auto answer = [&](const std::string& what) {
    return [&seen, what](const v1::ChangeEnrolmentRequest& r) {
      seen.emplace_back(what, r);
      v1::Enrolment e = ChildEnrolment();
      if (what == "end") {
        e.set_status(v1::ENROLMENT_STATUS_ENDED);
        *e.mutable_end_date() = Day(2027, 1, 31);
      }
      return e;
    };
  };
  EXPECT_CALL(mock_, SuspendEnrolment).WillOnce(Invoke(answer("suspend")));
  EXPECT_CALL(mock_, ResumeEnrolment).WillOnce(Invoke(answer("resume")));
  EXPECT_CALL(mock_, EndEnrolment).WillOnce(Invoke(answer("end")));
  ASSERT_EQ(Run({"enrolment", "suspend", "e12", "--reason",
                 "not seen at the office for a year"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("Suspended enrolment E12 (CHILD, " +
                               GroupNumber(Number(17)) + ")"));
  ASSERT_EQ(Run({"enrolment", "resume", "E12", "--request-id", "res-1"}), 0)
      << err();
  EXPECT_THAT(out(), HasSubstr("Resumed enrolment E12"));
  ASSERT_EQ(Run({"enrolment", "end", "E12", "--reason", "moved abroad",
                 "--date", "2027-01-31"}),
            0)
      << err();
  EXPECT_THAT(out(), HasSubstr("Ended enrolment E12 (CHILD, " +
                               GroupNumber(Number(17)) +
                               "); last day 2027-01-31"));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].second.enrolment_id(), "E12");
  EXPECT_EQ(seen[0].second.reason(), "not seen at the office for a year");
  EXPECT_TRUE(IsHex32(seen[0].second.request_id()));
  EXPECT_FALSE(seen[0].second.has_date());
  EXPECT_EQ(seen[1].second.request_id(), "res-1");
  EXPECT_EQ(seen[1].second.reason(), "");
  EXPECT_EQ(seen[2].second.reason(), "moved abroad");
  EXPECT_EQ(seen[2].second.date().year(), 2027);
  EXPECT_EQ(seen[2].second.date().month(), 1);
  EXPECT_EQ(seen[2].second.date().day(), 31);
}

TEST_F(CliTest, EligibilityBadFlagsExit2NamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::string n = Number(17);
  std::vector<Case> cases = {
      {{"check"}, "missing"},
      {{"check", "1000000010"}, "NUMBER"},
      {{"check", n, n}, "unexpected"},
      {{"check", n, "--programme", "9LIVES"}, "--programme"},
      {{"check", n, "--programme", "CHILD", "--programme", "old age"},
       "--programme"},
      {{"check", n, "--programme", ","}, "--programme"},
      {{"check", n, "--as-of", "2026-02-30"}, "--as-of"},
      {{"check", n, "--start", "2026-01-01"}, "--start"},
      {{"enrol", n}, "missing"},
      {{"enrol", n, "CHILD", "--start", "tomorrow"}, "--start"},
      {{"enrol", n, "CH ILD"}, "PROGRAMME"},
      {{"enrol", n, "CHILD", "--override-reason", " "}, "--override-reason"},
      {{"enrol", n, "CHILD", "--programme", "X"}, "--programme"},
      {{"enrolments"}, "--programme"},
      {{"enrolments", "--programme", "CHILD"}, "--office"},
      {{"enrolments", "--office", "KH-SR-03"}, "--programme"},
      {{"enrolments", n, "--programme", "CHILD"}, "--programme"},
      {{"enrolments", "--programme", "CHILD", "--office", "KH-SR-03",
        "--status", "paused"},
       "--status"},
      {{"enrolments", n, "--page-size", "0"}, "--page-size"},
      {{"enrolments", n, n}, "unexpected"},
      {{"enrolment", "suspend", "E12"}, "--reason"},
      {{"enrolment", "suspend", "12", "--reason", "x"}, "ID"},
      {{"enrolment", "suspend", "E0", "--reason", "x"}, "ID"},
      {{"enrolment", "suspend", "E12", "--reason", "x", "--date",
        "2026-01-01"},
       "--date"},
      {{"enrolment", "resume", "E12", "--date", "2026-01-01"}, "--date"},
      {{"enrolment", "end", "E12", "--date", "2026-01-01"}, "--reason"},
      {{"enrolment", "end", "E12", "--reason", "x", "--date", "2026-13-01"},
       "--date"},
      {{"enrolment", "end"}, "missing"},
      {{"enrolment", "fly", "E12"}, "enrolment fly"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args), 2) << absl::StrJoin(c.args, " ");
    EXPECT_THAT(err(), HasSubstr(c.named)) << absl::StrJoin(c.args, " ");
    EXPECT_EQ(out(), "") << absl::StrJoin(c.args, " ");
  }
}

TEST_F(CliTest, EligibilityHelp) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"help", "check"},
           {"help", "enrol"},
           {"enrolments", "--help"},
           {"help", "enrolment"},
           {"enrolment", "end", "-h"},
           {"--help"}}) {
    EXPECT_EQ(Run(args), 0) << absl::StrJoin(args, " ");
    for (absl::string_view line : absl::StrSplit(out(), '\n')) {
      EXPECT_LE(line.size(), 80u) << line;
    }
  }
  EXPECT_EQ(Run({"help", "check"}), 0);
  EXPECT_THAT(out(), HasSubstr("Usage: socle check NUMBER"));
  EXPECT_THAT(out(), HasSubstr("--programme CODE"));
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out(), HasSubstr("enrolment suspend ID"));
  EXPECT_EQ(Run({"enrolment"}), 2);
  EXPECT_THAT(err(), HasSubstr("socle enrolment commands"));
}

// --- Global options -----------------------------------------------------------

TEST(GlobalOptionsTest, FlagThenEnvironmentThenDefault) {
  std::map<std::string, std::string> vars = {
      {"SOCLE_ENDPOINT", "env:1"}, {"SOCLE_CA", "/env/ca.pem"},
      {"SOCLE_TIMEOUT", "30s"},    {"SOCLE_INSECURE_FOR_TESTING", "yes"},
      {"SOCLE_JSON", "1"}};
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto args = ParseCommandArgs("health", {"--endpoint", "flag:2", "--json=no"});
  ASSERT_TRUE(args.ok()) << args.status();
  auto g = ResolveGlobalOptions(*args, env);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->connection.endpoint, "flag:2");
  EXPECT_EQ(g->connection.ca_file, "/env/ca.pem");
  EXPECT_THAT(g->connection.cert_file, HasSubstr("/terminal.pem"));
  EXPECT_THAT(g->connection.key_file, HasSubstr("/terminal.key"));
  EXPECT_TRUE(g->connection.insecure_for_testing);
  EXPECT_EQ(g->connection.timeout, absl::Seconds(30));
  EXPECT_FALSE(g->json);

  auto defaults = ResolveGlobalOptions(ParsedArgs(), nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->connection.endpoint, "localhost:50051");
  EXPECT_THAT(defaults->connection.ca_file, HasSubstr(".dev/certs/ca.pem"));
  EXPECT_FALSE(defaults->connection.insecure_for_testing);
  EXPECT_EQ(defaults->connection.timeout, absl::Seconds(10));
  EXPECT_TRUE(defaults->request_id.empty());

  args = ParseCommandArgs("health", {"--timeout", "45", "--insecure_for_testing"});
  ASSERT_TRUE(args.ok()) << args.status();
  g = ResolveGlobalOptions(*args, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->connection.timeout, absl::Seconds(45));
  EXPECT_TRUE(g->connection.insecure_for_testing);
}

TEST(RunCliTest, ConnectionFromOptionsAndEnvironmentCurrency) {
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
    if (n == "SOCLE_CURRENCY") return "VND";
    if (n == "SOCLE_ENDPOINT") return "office-server:443";
    return std::nullopt;
  };
  context.out = &out;
  context.err = &err;
  EXPECT_CALL(mock, RegisterPerson)
      .WillOnce(Invoke([](const v1::RegisterPersonRequest& r) {
        EXPECT_EQ(r.person().facts().monthly_income().minor_units(), 25000);
        EXPECT_EQ(r.person().facts().monthly_income().currency(), "VND");
        return r.person();
      }));
  EXPECT_EQ(RunCli({"register", "--given", "A", "--income", "25000",
                    "--timeout", "3s"},
                   context),
            0)
      << err.str();
  EXPECT_EQ(made, 1);
  EXPECT_EQ(used.endpoint, "office-server:443");
  EXPECT_EQ(used.timeout, absl::Seconds(3));

  // Bad input is reported before any connection is made.
  EXPECT_EQ(RunCli({"register", "--income", "1.5"}, context), 2);
  EXPECT_EQ(made, 1);

  // Certificates that cannot be read: bad input, the file named.
  context.make_connection = [](const ConnectionOptions&)
      -> absl::StatusOr<std::shared_ptr<Connection>> {
    return absl::NotFoundError("CA certificate file /x/ca.pem does not exist");
  };
  err.str("");
  EXPECT_EQ(RunCli({"health"}, context), 2);
  EXPECT_THAT(err.str(), HasSubstr("/x/ca.pem"));
}

TEST(FormatTest, GroupedNumbers) {
  EXPECT_EQ(GroupNumber("1000000017"), "10000 00017");
  EXPECT_EQ(GroupNumber("H1000000025"), "H10000 00025");
  EXPECT_EQ(GroupNumber("12"), "12");
  auto back = CanonicalPersonNumber(GroupNumber(Number(17)), "NUMBER");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Number(17));
  auto h = CanonicalHouseholdNumber(GroupNumber(HouseholdNo(5)), "H");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, HouseholdNo(5));
}

}  // namespace
}  // namespace socle::client::cli
