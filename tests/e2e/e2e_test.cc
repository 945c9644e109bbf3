// The registry end to end through the client library over real TLS.
#include <set>

#include "common/field_error.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace socle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class RegistryE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new testing::ServerHarness; }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }

  RegistryE2eTest() : client_(harness_->Client()) {}

  // Unique per test so that tests do not see each other's people.
  static v1::Person Resident(absl::string_view given, int year, absl::string_view district) {
    v1::Person p;
    p.set_given_name(std::string(given));
    p.set_family_name("Chan");
    p.set_sex(v1::SEX_FEMALE);
    p.mutable_date_of_birth()->set_year(year);
    p.mutable_date_of_birth()->set_month(4);
    p.mutable_date_of_birth()->set_day(12);
    p.mutable_address()->set_province("Siem Reap");
    p.mutable_address()->set_district(std::string(district));
    return p;
  }

  static std::vector<std::string> Fields(const absl::Status& s) {
    std::vector<std::string> out;
    for (const auto& v : GetFieldViolations(s)) out.push_back(v.field);
    return out;
  }

  static testing::ServerHarness* harness_;
  client::Client client_;
};

testing::ServerHarness* RegistryE2eTest::harness_ = nullptr;

TEST_F(RegistryE2eTest, HealthIsServing) {
  auto status = client_.Check();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(RegistryE2eTest, RegisterShowAndFind) {
  v1::Person in = Resident("Bopha", 1991, "Banteay Srei");
  in.set_national_id("KH-E2E-0001");
  auto registered = client_.RegisterPerson(in);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->office_code(), "KH-SR-03");  // from the terminal's certificate
  auto shown = client_.GetPerson(registered->beneficiary_number());
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->given_name(), "Bopha");
  auto by_id = client_.FindByNationalId("kh-e2e-0001");
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  ASSERT_EQ(by_id->persons_size(), 1);
  EXPECT_EQ(by_id->persons(0).beneficiary_number(), registered->beneficiary_number());
}

TEST_F(RegistryE2eTest, DuplicateIsRefusedThenOverridden) {
  auto first = client_.RegisterPerson(Resident("Sokha", 1990, "Puok"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto refused = client_.RegisterPerson(Resident("SOKHA", 1990, "puok"));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  auto info = GetErrorInfo(refused.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "POSSIBLE_DUPLICATE");
  EXPECT_EQ(info->metadata["candidates"], first->beneficiary_number());
  client::RegisterOptions confirm;
  confirm.duplicate_override_reason = "different mothers, checked at the counter";
  auto second = client_.RegisterPerson(Resident("SOKHA", 1990, "puok"), confirm);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->duplicate_override_reason(), "different mothers, checked at the counter");
}

// The per-person statuses of a batch keep their details over the wire.
std::string ItemReason(const google::rpc::Status& s) {
  for (const auto& any : s.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}
std::vector<std::string> ItemFields(const google::rpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& any : s.details()) {
    google::rpc::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    for (const auto& v : bad.field_violations()) out.push_back(v.field());
  }
  return out;
}

TEST_F(RegistryE2eTest, BatchRegistrationAnswersEachPerson) {
  // Its own office, so that the listing below holds only this test's persons.
  client::Client office = harness_->OfficeClient("KH-BT-07");
  v1::Person known = Resident("Sreymom", 1977, "Thma Koul");
  known.set_office_code("KH-BT-07");
  auto first = office.RegisterPerson(known);
  ASSERT_TRUE(first.ok()) << first.status();

  std::vector<v1::PersonToRegister> batch(3);
  *batch[0].mutable_person() = Resident("Chantrea", 1988, "Thma Koul");
  batch[0].mutable_person()->set_national_id("KH-BATCH-0001");
  *batch[1].mutable_person() = known;  // a possible duplicate
  *batch[2].mutable_person() = Resident("Rotha", 1988, "Thma Koul");
  batch[2].mutable_person()->mutable_date_of_birth()->set_month(13);
  client::RegisterPersonsOptions options;
  options.request_id = client::GenerateRequestId();
  auto out = office.RegisterPersons(batch, options);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->results_size(), 3);
  EXPECT_EQ(out->registered(), 1);
  EXPECT_EQ(out->failed(), 2);
  EXPECT_EQ(out->results(0).status().code(), 0);
  EXPECT_EQ(ItemReason(out->results(1).status()), "POSSIBLE_DUPLICATE");
  EXPECT_THAT(out->results(1).status().message(), HasSubstr(first->beneficiary_number()));
  EXPECT_THAT(ItemFields(out->results(2).status()), ElementsAre("person.date_of_birth"));

  auto shown = office.GetPerson(out->results(0).beneficiary_number());
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->national_id(), "KH-BATCH-0001");
  EXPECT_EQ(shown->office_code(), "KH-BT-07");

  // A replay (a lost answer) gives back the first answer and registers no one.
  auto again = office.RegisterPersons(batch, options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), out->SerializeAsString());
  client::PageOptions page;
  page.page_size = 50;
  auto listed = office.FindByOffice("KH-BT-07", page);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->persons_size(), 2);

  // Another office's person is refused to a terminal, not to an administrator.
  v1::Person elsewhere = Resident("Phalla", 1999, "Thma Koul");
  elsewhere.set_office_code("KH-BB-01");
  std::vector<v1::PersonToRegister> import(1);
  *import[0].mutable_person() = elsewhere;
  auto refused = office.RegisterPersons(import);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(ItemReason(refused->results(0).status()), "OTHER_OFFICE");
  auto imported = harness_->Client("admin").RegisterPersons(import);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->registered(), 1);
  auto seen = harness_->Client("other-office").GetPerson(imported->results(0).beneficiary_number());
  EXPECT_TRUE(seen.ok()) << seen.status();
  EXPECT_TRUE(absl::IsNotFound(
      office.GetPerson(imported->results(0).beneficiary_number()).status()));

  // Systems other than the administrator's do not register.
  EXPECT_TRUE(absl::IsPermissionDenied(
      harness_->Client("ministry").RegisterPersons(import).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(
      harness_->Client("statistics").RegisterPersons(import).status()));
}

TEST_F(RegistryE2eTest, ReplayAndConflictingReplay) {
  client::RegisterOptions options;
  options.request_id = "e2e-replay-1";
  v1::Person in = Resident("Vuthy", 1975, "Angkor Thom");
  auto first = client_.RegisterPerson(in, options);
  ASSERT_TRUE(first.ok()) << first.status();
  auto replay = client_.RegisterPerson(in, options);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->beneficiary_number(), first->beneficiary_number());
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());
  in.set_phone("+85512000000");
  auto conflict = client_.RegisterPerson(in, options);
  ASSERT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(conflict.status())->reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(GetErrorInfo(conflict.status())->metadata["field"], "person.phone");
}

TEST_F(RegistryE2eTest, StaleUpdateIsAborted) {
  auto person = client_.RegisterPerson(Resident("Rithy", 1960, "Prasat Bakong"));
  ASSERT_TRUE(person.ok()) << person.status();
  v1::Person edit = *person;
  edit.set_phone("+85512111111");
  auto updated = client_.UpdatePerson(person->beneficiary_number(), 1, edit);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2);
  edit.set_phone("+85512222222");
  auto stale = client_.UpdatePerson(person->beneficiary_number(), 1, edit);
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(GetErrorInfo(stale.status())->reason, "STALE_VERSION");
}

TEST_F(RegistryE2eTest, FindByNameAndBirthPaginates) {
  for (int i = 0; i < 5; ++i) {
    client::RegisterOptions o;
    o.duplicate_override_reason = "pagination test";
    ASSERT_TRUE(client_.RegisterPerson(Resident("Chanthy", 1955, "Kralanh"), o).ok());
  }
  std::set<std::string> seen;
  client::PageOptions page;
  page.page_size = 2;
  int pages = 0;
  while (true) {
    auto found = client_.FindByNameAndBirth("chan CHANTHY", absl::CivilDay(1955, 4, 12), page);
    ASSERT_TRUE(found.ok()) << found.status();
    ++pages;
    for (const auto& p : found->persons()) seen.insert(p.beneficiary_number());
    if (found->next_page_token().empty()) break;
    page.page_token = found->next_page_token();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(RegistryE2eTest, HouseholdMembership) {
  auto head = client_.RegisterPerson(Resident("Sophal", 1980, "Srei Snam"));
  auto child = client_.RegisterPerson(Resident("Nary", 2016, "Srei Snam"));
  ASSERT_TRUE(head.ok() && child.ok());
  auto household = client_.CreateHousehold(head->beneficiary_number(), v1::Address());
  ASSERT_TRUE(household.ok()) << household.status();
  auto added = client_.AddHouseholdMember(household->household_number(),
                                          child->beneficiary_number(),
                                          v1::RELATIONSHIP_CHILD);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_EQ(added->members_size(), 2);
  EXPECT_EQ(added->members(1).relationship(), v1::RELATIONSHIP_CHILD);
  auto members = client_.FindByHousehold(household->household_number());
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ(members->persons_size(), 2);
  auto shown = client_.GetPerson(child->beneficiary_number());
  EXPECT_EQ(shown->household_number(), household->household_number());
}

TEST_F(RegistryE2eTest, LifeEventsAndDeath) {
  auto person = client_.RegisterPerson(Resident("Kosal", 1950, "Varin"));
  ASSERT_TRUE(person.ok()) << person.status();
  v1::LifeEvent accident;
  accident.mutable_date()->set_year(2025);
  accident.mutable_date()->set_month(2);
  accident.mutable_date()->set_day(1);
  accident.mutable_work_accident()->set_incapacity_percent(30);
  ASSERT_TRUE(client_.RecordLifeEvent(person->beneficiary_number(), accident).ok());
  v1::LifeEvent death;
  death.mutable_date()->set_year(2026);
  death.mutable_date()->set_month(1);
  death.mutable_date()->set_day(20);
  death.mutable_death();
  auto dead = client_.RecordLifeEvent(person->beneficiary_number(), death);
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_EQ(dead->person().date_of_death().day(), 20);
  v1::LifeEvent later = accident;
  later.mutable_date()->set_year(2026);
  later.mutable_date()->set_month(2);
  EXPECT_EQ(client_.RecordLifeEvent(person->beneficiary_number(), later).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto events = client_.ListLifeEvents(person->beneficiary_number());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events_size(), 2);
  EXPECT_TRUE(events->events(1).has_death());
}

TEST_F(RegistryE2eTest, EveryValidationErrorNamesItsField) {
  struct Case {
    std::function<void(v1::Person&)> mutate;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](v1::Person& p) { p.clear_given_name(); }, "person.given_name"},
      {[](v1::Person& p) { p.set_given_name("a\x07"); }, "person.given_name"},
      {[](v1::Person& p) { p.set_family_name(std::string(200, 'x')); }, "person.family_name"},
      {[](v1::Person& p) { p.set_sex(v1::SEX_UNSPECIFIED); }, "person.sex"},
      {[](v1::Person& p) { p.mutable_date_of_birth()->set_year(2099); }, "person.date_of_birth"},
      {[](v1::Person& p) { p.mutable_date_of_birth()->set_month(13); }, "person.date_of_birth"},
      {[](v1::Person& p) { p.set_national_id("!!"); }, "person.national_id"},
      {[](v1::Person& p) { p.mutable_address()->clear_district(); }, "person.address.district"},
      {[](v1::Person& p) { p.mutable_address()->set_province(std::string(101, 'p')); },
       "person.address.province"},
      {[](v1::Person& p) { p.set_phone("call me"); }, "person.phone"},
      {[](v1::Person& p) { p.set_office_code("nowhere"); }, "person.office_code"},
      {[](v1::Person& p) {
         p.mutable_facts()->mutable_monthly_income()->set_minor_units(-1);
         p.mutable_facts()->mutable_monthly_income()->set_currency("KHR");
       },
       "person.facts.monthly_income.minor_units"},
      {[](v1::Person& p) {
         p.mutable_facts()->mutable_monthly_income()->set_minor_units(100);
         p.mutable_facts()->mutable_monthly_income()->set_currency("riel");
       },
       "person.facts.monthly_income.currency"},
      {[](v1::Person& p) { p.mutable_facts()->mutable_disability()->set_degree_percent(-3); },
       "person.facts.disability.degree_percent"},
  };
  for (const Case& c : cases) {
    v1::Person p = Resident("Valid", 1988, "Validation");
    c.mutate(p);
    auto out = client_.RegisterPerson(p);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(Fields(out.status()), ElementsAre(c.field));
  }
  auto none = client_.FindByOffice("KH-SR-03", {});
  ASSERT_TRUE(none.ok());
  for (const auto& p : none->persons()) EXPECT_NE(p.given_name(), "Valid");
  // Numbers: a typo is INVALID_ARGUMENT naming the field.
  auto typo = client_.GetPerson("1000000010");
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(typo.status()), ElementsAre("beneficiary_number"));
}

TEST_F(RegistryE2eTest, ClientsWithoutATrustedCertificateAreRefused) {
  for (const char* identity : {"", "rogue"}) {
    client::ConnectionOptions o = harness_->Options(identity);
    o.max_attempts = 1;
    o.timeout = absl::Seconds(5);
    auto connection = client::MakeConnection(o);
    ASSERT_TRUE(connection.ok()) << connection.status();
    client::Client stranger(*connection);
    auto out = stranger.GetPerson(FormatBeneficiaryNumber(1));
    EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable) << identity;
    auto health = stranger.Check();
    EXPECT_FALSE(health.ok()) << identity;
  }
  client::ConnectionOptions plaintext = harness_->Options("");
  plaintext.insecure_for_testing = true;
  plaintext.max_attempts = 1;
  plaintext.timeout = absl::Seconds(5);
  auto connection = client::MakeConnection(plaintext);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_FALSE(client::Client(*connection).Check().ok());
}

TEST_F(RegistryE2eTest, MinistrySystemsDoNotRegister) {
  client::Client ministry = harness_->Client("ministry");
  auto out = ministry.RegisterPerson(Resident("Ministry", 1970, "Puok"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace socle
