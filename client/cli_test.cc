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
