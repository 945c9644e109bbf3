#include "server/registry.h"

#include "common/check_digit.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit.h"
#include "server/idempotency.h"
#include "server/test_util.h"

namespace socle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        registry_(store_.get(), &clock_) {
    // Not bound to an office: office scoping and the supervisor rule have
    // their own tests (server/access/scoping_test.cc).
    clerk_.kind = CallerKind::kTest;
    clerk_.id = "terminal:KH-SR-03:T01";
    clerk_.office_code = "KH-SR-03";
  }

  std::string NextId() { return absl::StrCat("req-", ++request_counter_); }

  v1::Person Sokha() {
    v1::Person p;
    p.set_given_name("Sokha");
    p.set_family_name("Chan");
    p.set_sex(v1::SEX_FEMALE);
    p.mutable_date_of_birth()->set_year(1990);
    p.mutable_date_of_birth()->set_month(4);
    p.mutable_date_of_birth()->set_day(12);
    p.mutable_address()->set_province("Siem Reap");
    p.mutable_address()->set_district("Siem Reap");
    return p;
  }

  v1::Person Register(const v1::Person& p, const std::string& override_reason = "") {
    v1::RegisterPersonRequest request;
    request.set_request_id(NextId());
    *request.mutable_person() = p;
    request.set_duplicate_override_reason(override_reason);
    auto out = registry_.RegisterPerson(clerk_, request);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::Person();
  }

  v1::Person Named(absl::string_view given, int year) {
    v1::Person p = Sokha();
    p.set_given_name(std::string(given));
    p.mutable_date_of_birth()->set_year(year);
    return p;
  }

  absl::StatusOr<v1::RecordLifeEventResponse> Event(const std::string& number,
                                                    v1::LifeEvent event) {
    v1::RecordLifeEventRequest request;
    request.set_request_id(NextId());
    request.set_beneficiary_number(number);
    *request.mutable_event() = std::move(event);
    return registry_.RecordLifeEvent(clerk_, request);
  }

  static v1::Date D(int y, int m, int d) {
    v1::Date date;
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    return date;
  }

  static std::vector<std::string> Fields(const absl::Status& s) {
    std::vector<std::string> out;
    for (const auto& v : GetFieldViolations(s)) out.push_back(v.field);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  Registry registry_;
  Caller clerk_;
  int request_counter_ = 0;
};

TEST_F(RegistryTest, RegisterIssuesCheckedNumberAndDefaultsOffice) {
  v1::Person p = Register(Sokha());
  EXPECT_EQ(p.beneficiary_number().size(), 10u);
  EXPECT_TRUE(VerhoeffValid(p.beneficiary_number()));
  EXPECT_EQ(p.version(), 1);
  EXPECT_EQ(p.office_code(), "KH-SR-03");
  EXPECT_EQ(p.given_name(), "Sokha");
  EXPECT_EQ(p.registered_at().seconds(), absl::ToUnixSeconds(testing::TestNow()));

  v1::GetPersonRequest get;
  get.set_beneficiary_number(p.beneficiary_number());
  auto again = registry_.GetPerson(clerk_, get);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), p.SerializeAsString());
}

TEST_F(RegistryTest, EveryBadFieldIsNamedAndNothingIsWritten) {
  v1::RegisterPersonRequest request;
  request.set_request_id("bad id with spaces");
  v1::Person* p = request.mutable_person();
  p->set_given_name("Bad\x01Name");
  p->set_sex(static_cast<v1::Sex>(9));
  *p->mutable_date_of_birth() = D(2030, 1, 1);
  p->set_national_id("x");
  p->set_phone("12ab");
  p->mutable_facts()->mutable_monthly_income()->set_minor_units(-5);
  p->mutable_facts()->mutable_monthly_income()->set_currency("riel");
  auto out = registry_.RegisterPerson(clerk_, request);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(out.status()),
              UnorderedElementsAre("request_id", "person.given_name", "person.sex",
                                   "person.date_of_birth", "person.national_id",
                                   "person.address.district", "person.phone",
                                   "person.facts.monthly_income.minor_units",
                                   "person.facts.monthly_income.currency"));
  v1::FindPersonsRequest find;
  find.set_office_code("KH-SR-03");
  auto found = registry_.FindPersons(clerk_, find);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->persons_size(), 0);
}

TEST_F(RegistryTest, SingleFieldErrors) {
  struct Case {
    std::function<void(v1::Person&)> mutate;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](v1::Person& p) { p.clear_given_name(); }, "person.given_name"},
      {[](v1::Person& p) { p.set_family_name(std::string(101, 'a')); }, "person.family_name"},
      {[](v1::Person& p) { p.set_sex(v1::SEX_UNSPECIFIED); }, "person.sex"},
      {[](v1::Person& p) { *p.mutable_date_of_birth() = D(2023, 2, 29); }, "person.date_of_birth"},
      {[](v1::Person& p) { p.clear_date_of_birth(); }, "person.date_of_birth"},
      {[](v1::Person& p) { *p.mutable_date_of_birth() = D(2026, 11, 26); }, "person.date_of_birth"},
      {[](v1::Person& p) { p.mutable_address()->set_village("a\nb"); }, "person.address.village"},
      {[](v1::Person& p) { p.set_phone("+1234"); }, "person.phone"},
      {[](v1::Person& p) { p.set_office_code("kh-sr-03"); }, "person.office_code"},
      {[](v1::Person& p) { p.mutable_facts()->mutable_disability()->set_degree_percent(101); },
       "person.facts.disability.degree_percent"},
      {[](v1::Person& p) { *p.mutable_facts()->mutable_pregnancy_start() = D(2027, 1, 1); },
       "person.facts.pregnancy_start"},
      {[](v1::Person& p) {
         auto* e = p.mutable_facts()->add_employment();
         *e->mutable_start() = D(2020, 5, 1);
         *e->mutable_end() = D(2020, 4, 1);
       },
       "person.facts.employment[0].end"},
  };
  for (const Case& c : cases) {
    v1::RegisterPersonRequest request;
    request.set_request_id(NextId());
    *request.mutable_person() = Sokha();
    c.mutate(*request.mutable_person());
    auto out = registry_.RegisterPerson(clerk_, request);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(Fields(out.status()), ElementsAre(c.field));
  }
}

TEST_F(RegistryTest, OfficeIsRequiredWhenTheCallerHasNone) {
  Caller ministry{CallerKind::kMinistry, "ministry:STATS", "", Role::kNone, ""};
  v1::RegisterPersonRequest request;
  request.set_request_id(NextId());
  *request.mutable_person() = Sokha();
  auto out = registry_.RegisterPerson(ministry, request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(out.status()), ElementsAre("person.office_code"));
}

TEST_F(RegistryTest, PossibleDuplicateIsRefusedUnlessOverridden) {
  v1::Person first = Register(Sokha());
  v1::Person variant = Sokha();
  variant.set_given_name("  SÓKHA ");
  variant.set_family_name("chan");
  variant.mutable_address()->set_district("siem  reap");
  v1::RegisterPersonRequest request;
  request.set_request_id(NextId());
  *request.mutable_person() = variant;
  auto refused = registry_.RegisterPerson(clerk_, request);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  auto info = GetErrorInfo(refused.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "POSSIBLE_DUPLICATE");
  EXPECT_EQ(info->metadata["candidates"], first.beneficiary_number());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr(first.beneficiary_number()));

  v1::Person second = Register(variant, "twins with the same name, confirmed by ID card");
  EXPECT_NE(second.beneficiary_number(), first.beneficiary_number());
  EXPECT_EQ(second.duplicate_override_reason(), "twins with the same name, confirmed by ID card");

  // Another district or another date of birth is not a duplicate.
  v1::Person elsewhere = Sokha();
  elsewhere.mutable_address()->set_district("Puok");
  Register(elsewhere);
}

TEST_F(RegistryTest, DeadPersonIsNotADuplicateCandidate) {
  v1::Person first = Register(Sokha());
  v1::LifeEvent death;
  *death.mutable_date() = D(2026, 1, 3);
  death.mutable_death();
  ASSERT_TRUE(Event(first.beneficiary_number(), death).ok());
  Register(Sokha());
}

TEST_F(RegistryTest, NationalIdIsUniqueWhenPresent) {
  v1::Person a = Sokha();
  a.set_national_id("kh-0001234");
  v1::Person registered = Register(a);
  EXPECT_EQ(registered.national_id(), "KH-0001234");
  v1::Person b = Named("Dara", 1985);
  b.set_national_id("KH-0001234");
  v1::RegisterPersonRequest request;
  request.set_request_id(NextId());
  *request.mutable_person() = b;
  auto out = registry_.RegisterPerson(clerk_, request);
  ASSERT_EQ(out.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(out.status())->reason, "NATIONAL_ID_TAKEN");
  // Without national IDs, any number of people.
  Register(Named("Dara", 1985));
  Register(Named("Vanna", 1970));
}

// A request id belongs to the caller that used it first (its certificate
// identity): another caller with the same id, even with the same content,
// learns nothing of the first request or its answer, and registers nobody.
TEST_F(RegistryTest, ARequestIdIsTheFirstCallersOnly) {
  v1::RegisterPersonRequest request;
  request.set_request_id("terminal-7:000043");
  *request.mutable_person() = Sokha();
  auto first = registry_.RegisterPerson(clerk_, request);
  ASSERT_TRUE(first.ok()) << first.status();

  Caller other = clerk_;
  other.id = "terminal:KH-SR-03:T02";
  auto same = registry_.RegisterPerson(other, request);
  ASSERT_EQ(same.status().code(), absl::StatusCode::kAlreadyExists) << same.status();
  EXPECT_EQ(GetErrorInfo(same.status())->reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(GetErrorInfo(same.status())->metadata["field"], "request_id");
  EXPECT_THAT(std::string(same.status().message()),
              ::testing::Not(HasSubstr(first->beneficiary_number())));
  // Different content names no field of the first request either.
  request.mutable_person()->mutable_address()->set_commune("Sla Kram");
  auto differing = registry_.RegisterPerson(other, request);
  ASSERT_EQ(differing.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(differing.status())->metadata["field"], "request_id");

  // The first caller still gets its answer; another user at the same
  // terminal is the same caller.
  request.mutable_person()->mutable_address()->clear_commune();
  Caller same_terminal = clerk_;
  same_terminal.user = "another.clerk";
  auto replay = registry_.RegisterPerson(same_terminal, request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());
  int persons = 0;
  ASSERT_TRUE(store_
                  ->Read([&](storage::ReadTxn& txn) -> absl::Status {
                    ASSIGN_OR_RETURN(auto all, txn.ListPersons(0, 100));
                    persons = static_cast<int>(all.size());
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(persons, 1);
}

// A request kept before requests were kept with their caller (the request's
// bytes alone) answers its replays from any caller, as it did then.
TEST_F(RegistryTest, RequestsKeptBeforeCallerScopingStillReplay) {
  v1::RegisterPersonRequest request;
  request.set_request_id("terminal-7:000044");
  *request.mutable_person() = Sokha();
  v1::Person answer;
  answer.set_beneficiary_number("kept-answer");
  ASSERT_TRUE(store_
                  ->Write([&](storage::Txn& txn) {
                    storage::RequestRecord kept;
                    kept.request_id = request.request_id();
                    kept.method = "socle.v1.Registry/RegisterPerson";
                    kept.request = CanonicalRequest(request);
                    kept.response = answer.SerializeAsString();
                    kept.created_at = clock_.Now();
                    return txn.PutRequest(kept);
                  })
                  .ok());
  Caller other = clerk_;
  other.id = "terminal:KH-SR-03:T02";
  auto replay = registry_.RegisterPerson(other, request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->beneficiary_number(), "kept-answer");
}

TEST_F(RegistryTest, ReplayReturnsTheFirstAnswerAndConflictNamesTheField) {
  v1::RegisterPersonRequest request;
  request.set_request_id("terminal-7:000042");
  *request.mutable_person() = Sokha();
  auto first = registry_.RegisterPerson(clerk_, request);
  ASSERT_TRUE(first.ok()) << first.status();
  clock_.Advance(absl::Hours(72));  // an offline terminal retries days later
  auto replay = registry_.RegisterPerson(clerk_, request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->SerializeAsString(), first->SerializeAsString());

  request.mutable_person()->mutable_address()->set_commune("Sla Kram");
  auto conflict = registry_.RegisterPerson(clerk_, request);
  ASSERT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(conflict.status())->reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(GetErrorInfo(conflict.status())->metadata["field"], "person.address.commune");

  // The same id for another call.
  v1::UpdatePersonRequest update;
  update.set_request_id("terminal-7:000042");
  update.set_beneficiary_number(first->beneficiary_number());
  update.set_expected_version(1);
  *update.mutable_person() = Sokha();
  auto other = registry_.UpdatePerson(clerk_, update);
  ASSERT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(other.status())->metadata["field"], "method");

  v1::FindPersonsRequest find;
  find.set_office_code("KH-SR-03");
  EXPECT_EQ(registry_.FindPersons(clerk_, find)->persons_size(), 1);
}

TEST_F(RegistryTest, MistypedNumberIsInvalidNeverAnotherPerson) {
  v1::Person p = Register(Sokha());
  std::string typo = p.beneficiary_number();
  typo[3] = typo[3] == '9' ? '0' : typo[3] + 1;
  v1::GetPersonRequest get;
  get.set_beneficiary_number(typo);
  auto out = registry_.GetPerson(clerk_, get);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(out.status()), ElementsAre("beneficiary_number"));
  get.set_beneficiary_number(FormatBeneficiaryNumber(999));
  EXPECT_EQ(registry_.GetPerson(clerk_, get).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, UpdateNeedsTheCurrentVersion) {
  v1::Person p = Register(Sokha());
  v1::UpdatePersonRequest update;
  update.set_request_id(NextId());
  update.set_beneficiary_number(p.beneficiary_number());
  update.set_expected_version(1);
  *update.mutable_person() = p;
  update.mutable_person()->set_phone("+855 12 345 678");
  update.mutable_person()->mutable_facts()->mutable_monthly_income()->set_minor_units(30000000);
  update.mutable_person()->mutable_facts()->mutable_monthly_income()->set_currency("KHR");
  auto updated = registry_.UpdatePerson(clerk_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2);
  EXPECT_EQ(updated->phone(), "+85512345678");
  EXPECT_EQ(updated->facts().monthly_income().minor_units(), 30000000);

  update.set_request_id(NextId());  // a second clerk still holding version 1
  update.mutable_person()->set_phone("+855 99 999 999");
  auto stale = registry_.UpdatePerson(clerk_, update);
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(GetErrorInfo(stale.status())->reason, "STALE_VERSION");
  EXPECT_EQ(GetErrorInfo(stale.status())->metadata["current_version"], "2");
}

TEST_F(RegistryTest, FindByOfficePaginates) {
  for (int i = 0; i < 7; ++i) Register(Named(std::string("Person") + char('A' + i), 1980 + i));
  v1::FindPersonsRequest find;
  find.set_office_code("KH-SR-03");
  find.set_page_size(3);
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = registry_.FindPersons(clerk_, find);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const auto& p : page->persons()) seen.push_back(p.beneficiary_number());
    if (page->next_page_token().empty()) break;
    find.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);

  v1::FindPersonsRequest other;
  other.mutable_name_and_birth()->set_name("Sokha");
  *other.mutable_name_and_birth()->mutable_date_of_birth() = D(1990, 4, 12);
  other.set_page_token(find.page_token());
  auto refused = registry_.FindPersons(clerk_, other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(refused.status()), ElementsAre("page_token"));
}

TEST_F(RegistryTest, FindByNameAndBirthIgnoresCaseAccentsAndOrder) {
  v1::Person p = Sokha();
  p.set_given_name("José María");
  p.set_family_name("Núñez");
  v1::Person registered = Register(p);
  Register(Named("Other", 1990));
  v1::FindPersonsRequest find;
  find.mutable_name_and_birth()->set_name("nunez JOSE");
  *find.mutable_name_and_birth()->mutable_date_of_birth() = D(1990, 4, 12);
  auto found = registry_.FindPersons(clerk_, find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->persons_size(), 1);
  EXPECT_EQ(found->persons(0).beneficiary_number(), registered.beneficiary_number());
  find.mutable_name_and_birth()->set_name("jos");  // words match whole
  EXPECT_EQ(registry_.FindPersons(clerk_, find)->persons_size(), 0);
}

TEST_F(RegistryTest, HouseholdMembership) {
  v1::Person head = Register(Named("Dara", 1980));
  v1::Person child = Register(Named("Kanha", 2015));
  v1::Person spouse = Register(Named("Sreymom", 1982));

  v1::CreateHouseholdRequest create;
  create.set_request_id(NextId());
  create.set_head_beneficiary_number(head.beneficiary_number());
  auto household = registry_.CreateHousehold(clerk_, create);
  ASSERT_TRUE(household.ok()) << household.status();
  EXPECT_EQ(household->office_code(), "KH-SR-03");
  EXPECT_EQ(household->address().district(), "Siem Reap");
  const std::string h = household->household_number();

  for (const auto& [p, r] : {std::pair{child, v1::RELATIONSHIP_CHILD},
                             std::pair{spouse, v1::RELATIONSHIP_SPOUSE}}) {
    v1::AddHouseholdMemberRequest add;
    add.set_request_id(NextId());
    add.set_household_number(h);
    add.set_beneficiary_number(p.beneficiary_number());
    add.set_relationship(r);
    ASSERT_TRUE(registry_.AddHouseholdMember(clerk_, add).ok());
  }
  // One household per person.
  v1::CreateHouseholdRequest second;
  second.set_request_id(NextId());
  second.set_head_beneficiary_number(child.beneficiary_number());
  EXPECT_EQ(registry_.CreateHousehold(clerk_, second).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::SetHouseholdHeadRequest set_head;
  set_head.set_request_id(NextId());
  set_head.set_household_number(h);
  set_head.set_beneficiary_number(spouse.beneficiary_number());
  set_head.set_previous_head_relationship(v1::RELATIONSHIP_SPOUSE);
  auto changed = registry_.SetHouseholdHead(clerk_, set_head);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->head_beneficiary_number(), spouse.beneficiary_number());
  ASSERT_EQ(changed->members_size(), 3);
  EXPECT_EQ(changed->members(0).beneficiary_number(), spouse.beneficiary_number());
  EXPECT_EQ(changed->members(0).relationship(), v1::RELATIONSHIP_HEAD);

  v1::RemoveHouseholdMemberRequest remove;
  remove.set_request_id(NextId());
  remove.set_household_number(h);
  remove.set_beneficiary_number(spouse.beneficiary_number());
  EXPECT_EQ(registry_.RemoveHouseholdMember(clerk_, remove).status().code(),
            absl::StatusCode::kFailedPrecondition);
  remove.set_request_id(NextId());
  remove.set_beneficiary_number(child.beneficiary_number());
  auto removed = registry_.RemoveHouseholdMember(clerk_, remove);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->members_size(), 2);

  v1::FindPersonsRequest find;
  find.set_household_number(h);
  auto members = registry_.FindPersons(clerk_, find);
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ(members->persons_size(), 2);
  EXPECT_EQ(members->persons(0).household_number(), h);
}

TEST_F(RegistryTest, DeathStopsLaterEventsExceptCorrections) {
  v1::Person p = Register(Sokha());
  v1::LifeEvent death;
  *death.mutable_date() = D(2026, 3, 1);
  death.mutable_death();
  auto dead = Event(p.beneficiary_number(), death);
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_EQ(dead->person().date_of_death().month(), 3);

  v1::LifeEvent job;
  *job.mutable_date() = D(2026, 4, 1);
  job.mutable_job_found()->mutable_monthly_wage()->set_minor_units(50000000);
  job.mutable_job_found()->mutable_monthly_wage()->set_currency("KHR");
  EXPECT_EQ(Event(p.beneficiary_number(), job).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Event(p.beneficiary_number(), death).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::LifeEvent corrected = death;
  *corrected.mutable_date() = D(2026, 2, 27);
  corrected.set_correction(true);
  corrected.set_correction_reason("death certificate gives 27 February");
  auto fixed = Event(p.beneficiary_number(), corrected);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->person().date_of_death().day(), 27);
}

TEST_F(RegistryTest, EventValidation) {
  v1::Person p = Register(Sokha());
  v1::LifeEvent before_birth;
  *before_birth.mutable_date() = D(1989, 1, 1);
  before_birth.mutable_death();
  auto out = Event(p.beneficiary_number(), before_birth);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(out.status()), ElementsAre("event.date"));

  v1::LifeEvent none;
  *none.mutable_date() = D(2026, 1, 1);
  EXPECT_THAT(Fields(Event(p.beneficiary_number(), none).status()), ElementsAre("event.event"));

  v1::LifeEvent future;
  *future.mutable_date() = D(2026, 12, 1);
  future.mutable_job_lost();
  EXPECT_THAT(Fields(Event(p.beneficiary_number(), future).status()), ElementsAre("event.date"));

  v1::LifeEvent pregnancy;
  *pregnancy.mutable_date() = D(2026, 11, 1);
  pregnancy.mutable_pregnancy()->set_weeks_at_date(50);
  EXPECT_THAT(Fields(Event(p.beneficiary_number(), pregnancy).status()),
              ElementsAre("event.pregnancy.weeks_at_date"));
}

TEST_F(RegistryTest, EventsUpdateFacts) {
  v1::Person p = Register(Sokha());
  const std::string n = p.beneficiary_number();
  v1::LifeEvent job;
  *job.mutable_date() = D(2024, 1, 15);
  job.mutable_job_found()->mutable_monthly_wage()->set_minor_units(120000000);
  job.mutable_job_found()->mutable_monthly_wage()->set_currency("KHR");
  job.mutable_job_found()->set_insured(true);
  ASSERT_TRUE(Event(n, job).ok());
  v1::LifeEvent lost;
  *lost.mutable_date() = D(2026, 6, 30);
  lost.mutable_job_lost();
  auto after_loss = Event(n, lost);
  ASSERT_TRUE(after_loss.ok()) << after_loss.status();
  const v1::PersonFacts& f = after_loss->person().facts();
  EXPECT_EQ(f.employment_status(), v1::EMPLOYMENT_STATUS_UNEMPLOYED);
  ASSERT_EQ(f.employment_size(), 1);
  EXPECT_EQ(f.employment(0).end().month(), 6);
  EXPECT_TRUE(f.employment(0).insured());

  v1::LifeEvent pregnancy;
  *pregnancy.mutable_date() = D(2026, 11, 20);
  pregnancy.mutable_pregnancy()->set_weeks_at_date(12);
  auto pregnant = Event(n, pregnancy);
  ASSERT_TRUE(pregnant.ok());
  EXPECT_EQ(pregnant->person().facts().pregnancy_start().month(), 8);
  EXPECT_EQ(pregnant->person().facts().pregnancy_start().day(), 28);

  v1::LifeEvent accident;
  *accident.mutable_date() = D(2025, 3, 3);
  accident.mutable_work_accident()->set_incapacity_percent(40);
  auto hurt = Event(n, accident);
  ASSERT_TRUE(hurt.ok());
  EXPECT_EQ(hurt->person().facts().work_accidents(0).incapacity_percent(), 40);

  v1::ListLifeEventsRequest list;
  list.set_beneficiary_number(n);
  list.set_page_size(2);
  auto page = registry_.ListLifeEvents(clerk_, list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events_size(), 2);
  EXPECT_TRUE(page->events(0).has_job_found());      // 2024-01-15
  EXPECT_TRUE(page->events(1).has_work_accident());  // 2025-03-03
  EXPECT_EQ(page->events(0).recorded_by(), "terminal:KH-SR-03:T01");
  list.set_page_token(page->next_page_token());
  auto rest = registry_.ListLifeEvents(clerk_, list);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->events_size(), 2);
  EXPECT_TRUE(rest->events(0).has_job_lost());
  EXPECT_TRUE(rest->next_page_token().empty());
}

TEST_F(RegistryTest, MoveChangesOfficeForTheWholeHousehold) {
  v1::Person head = Register(Named("Dara", 1980));
  v1::Person child = Register(Named("Kanha", 2015));
  v1::CreateHouseholdRequest create;
  create.set_request_id(NextId());
  create.set_head_beneficiary_number(head.beneficiary_number());
  auto household = registry_.CreateHousehold(clerk_, create);
  ASSERT_TRUE(household.ok());
  v1::AddHouseholdMemberRequest add;
  add.set_request_id(NextId());
  add.set_household_number(household->household_number());
  add.set_beneficiary_number(child.beneficiary_number());
  add.set_relationship(v1::RELATIONSHIP_CHILD);
  ASSERT_TRUE(registry_.AddHouseholdMember(clerk_, add).ok());

  v1::LifeEvent move;
  *move.mutable_date() = D(2026, 10, 1);
  move.mutable_move()->set_office_code("KH-PP-01");
  move.mutable_move()->mutable_address()->set_province("Phnom Penh");
  move.mutable_move()->mutable_address()->set_district("Chamkar Mon");
  EXPECT_EQ(Event(head.beneficiary_number(), move).status().code(),
            absl::StatusCode::kFailedPrecondition);
  move.mutable_move()->set_whole_household(true);
  auto moved = Event(head.beneficiary_number(), move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->person().office_code(), "KH-PP-01");
  v1::GetPersonRequest get;
  get.set_beneficiary_number(child.beneficiary_number());
  EXPECT_EQ(registry_.GetPerson(clerk_, get)->office_code(), "KH-PP-01");
  v1::GetHouseholdRequest get_household;
  get_household.set_household_number(household->household_number());
  EXPECT_EQ(registry_.GetHousehold(clerk_, get_household)->office_code(), "KH-PP-01");
}

TEST_F(RegistryTest, EveryMutationIsAuditedInAnIntactChain) {
  v1::Person p = Register(Sokha());
  v1::LifeEvent death;
  *death.mutable_date() = D(2026, 3, 1);
  death.mutable_death();
  ASSERT_TRUE(Event(p.beneficiary_number(), death).ok());
  std::vector<storage::AuditRecord> chain;
  ASSERT_TRUE(store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto entries = txn.ListAudit(0, 100);
    if (!entries.ok()) return entries.status();
    chain = *entries;
    return absl::OkStatus();
  }).ok());
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].action, "RegisterPerson");
  EXPECT_EQ(chain[0].actor, "terminal:KH-SR-03:T01");
  EXPECT_EQ(chain[0].office_code, "KH-SR-03");
  EXPECT_EQ(chain[1].subject, p.beneficiary_number());
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 0);
  chain[0].details = "tampered";
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 1);
}

}  // namespace
}  // namespace socle
