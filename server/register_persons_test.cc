// RegisterPersons: each person checked as RegisterPerson checks one, one
// result per person, the accepted ones registered together, idempotent as a
// whole.
#include <map>
#include <string>
#include <vector>

#include "common/field_error.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/audit.h"
#include "server/registry.h"
#include "server/test_util.h"

namespace socle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RegisterPersonsTest : public ::testing::Test {
 protected:
  RegisterPersonsTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        registry_(store_.get(), &clock_) {
    clerk_.kind = CallerKind::kTerminal;
    clerk_.id = "terminal:KH-SR-03:T01";
    clerk_.office_code = "KH-SR-03";
    clerk_.role = Role::kClerk;
    clerk_.user = "dara";
    supervisor_ = clerk_;
    supervisor_.role = Role::kSupervisor;
    supervisor_.user = "sophal";
    admin_.kind = CallerKind::kAdmin;
    admin_.id = "admin:migration";
    admin_.role = Role::kAdmin;
  }

  static v1::Person Person(const std::string& given, int year, const std::string& national_id = "") {
    v1::Person p;
    p.set_given_name(given);
    p.set_family_name("Chan");
    p.set_sex(v1::SEX_FEMALE);
    p.mutable_date_of_birth()->set_year(year);
    p.mutable_date_of_birth()->set_month(4);
    p.mutable_date_of_birth()->set_day(12);
    p.mutable_address()->set_province("Siem Reap");
    p.mutable_address()->set_district("Siem Reap");
    p.set_national_id(national_id);
    return p;
  }

  static v1::RegisterPersonsRequest Batch(const std::string& id,
                                          const std::vector<v1::Person>& persons) {
    v1::RegisterPersonsRequest r;
    r.set_request_id(id);
    for (const v1::Person& p : persons) *r.add_persons()->mutable_person() = p;
    return r;
  }

  static std::string Reason(const google::rpc::Status& s) {
    for (const auto& any : s.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) return info.reason();
    }
    return "";
  }
  static std::map<std::string, std::string> Metadata(const google::rpc::Status& s) {
    for (const auto& any : s.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) return {info.metadata().begin(), info.metadata().end()};
    }
    return {};
  }
  static std::vector<std::string> Fields(const google::rpc::Status& s) {
    std::vector<std::string> out;
    for (const auto& any : s.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) out.push_back(v.field());
    }
    return out;
  }

  std::vector<storage::AuditRecord> Audit() {
    std::vector<storage::AuditRecord> out;
    EXPECT_TRUE(store_
                    ->Read([&](storage::ReadTxn& txn) -> absl::Status {
                      auto all = txn.ListAudit(0, 100000);
                      if (!all.ok()) return all.status();
                      out = *std::move(all);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  int64_t PersonCount() {
    int64_t n = 0;
    EXPECT_TRUE(store_
                    ->Read([&](storage::ReadTxn& txn) -> absl::Status {
                      auto all = txn.ListPersons(0, 100000);
                      if (!all.ok()) return all.status();
                      n = static_cast<int64_t>(all->size());
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  Registry registry_;
  Caller clerk_, supervisor_, admin_;
};

TEST_F(RegisterPersonsTest, RegistersEveryoneWithConsecutiveNumbersAndAuditEntries) {
  auto out = registry_.RegisterPersons(
      clerk_, Batch("b-1", {Person("Sokha", 1990, "KH-1"), Person("Dara", 1985),
                            Person("Vanna", 2001, "KH-2")}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->registered(), 3);
  EXPECT_EQ(out->failed(), 0);
  ASSERT_EQ(out->results_size(), 3);
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    const v1::RegisteredPerson& r = out->results(i);
    EXPECT_EQ(r.index(), i);
    EXPECT_EQ(r.status().code(), 0);
    auto id = ParseBeneficiaryNumber(r.beneficiary_number(), "n");
    ASSERT_TRUE(id.ok()) << r.beneficiary_number();
    ids.push_back(*id);
  }
  EXPECT_EQ(ids[1], ids[0] + 1);
  EXPECT_EQ(ids[2], ids[0] + 2);

  v1::GetPersonRequest get;
  get.set_beneficiary_number(out->results(2).beneficiary_number());
  auto vanna = registry_.GetPerson(clerk_, get);
  ASSERT_TRUE(vanna.ok()) << vanna.status();
  EXPECT_EQ(vanna->given_name(), "Vanna");
  EXPECT_EQ(vanna->national_id(), "KH-2");
  EXPECT_EQ(vanna->office_code(), "KH-SR-03");
  EXPECT_EQ(vanna->version(), 1);

  const auto audit = Audit();
  ASSERT_EQ(audit.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(audit[i].action, "RegisterPersons");
    EXPECT_EQ(audit[i].subject, out->results(i).beneficiary_number());
    EXPECT_EQ(audit[i].actor, "dara@terminal:KH-SR-03:T01");
  }
  EXPECT_EQ(FirstBrokenAuditEntry(audit), 0);
}

TEST_F(RegisterPersonsTest, EachRefusalIsThePersonsOwnAndTheOthersAreRegistered) {
  // Already registered: a national ID and a person alike.
  auto first = registry_.RegisterPersons(
      clerk_, Batch("b-1", {Person("Sokha", 1990, "KH-1"), Person("Dara", 1985)}));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string dara = first->results(1).beneficiary_number();

  v1::RegisterPersonsRequest r = Batch(
      "b-2", {Person("Bopha", 1970, "KH-1"),   // 0: national ID taken
              Person("Dara", 1985),            // 1: possible duplicate of the registered
              Person("Kosal", 1999, "KH-9"),   // 2: registered
              Person("Nimol", 1999, "KH-9"),   // 3: national ID of person 2
              Person("Kosal", 1999),           // 4: possible duplicate of person 2
              Person("", 1999),                // 5: bad field
              Person("Dara", 1985)});          // 6: confirmed by a supervisor? no: a clerk
  r.mutable_persons(6)->set_duplicate_override_reason("twins, checked the birth certificates");
  auto out = registry_.RegisterPersons(clerk_, r);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->results_size(), 7);
  EXPECT_EQ(out->registered(), 1);
  EXPECT_EQ(out->failed(), 6);

  EXPECT_EQ(Reason(out->results(0).status()), "NATIONAL_ID_TAKEN");
  EXPECT_EQ(out->results(0).status().code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(Reason(out->results(1).status()), "POSSIBLE_DUPLICATE");
  EXPECT_EQ(Metadata(out->results(1).status())["candidates"], dara);
  EXPECT_EQ(out->results(2).status().code(), 0);
  const std::string kosal = out->results(2).beneficiary_number();
  EXPECT_FALSE(kosal.empty());
  EXPECT_EQ(Reason(out->results(3).status()), "NATIONAL_ID_TAKEN");
  EXPECT_EQ(Reason(out->results(4).status()), "POSSIBLE_DUPLICATE");
  EXPECT_EQ(Metadata(out->results(4).status())["candidates"], kosal);
  EXPECT_THAT(out->results(4).status().message(), HasSubstr(kosal));
  EXPECT_EQ(out->results(5).status().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(out->results(5).status()), ElementsAre("person.given_name"));
  EXPECT_EQ(Reason(out->results(6).status()), "SUPERVISOR_REQUIRED");
  for (int i : {0, 1, 3, 4, 5, 6}) EXPECT_EQ(out->results(i).beneficiary_number(), "") << i;
  EXPECT_EQ(PersonCount(), 3);
  EXPECT_EQ(Audit().size(), 3u);

  // The supervisor confirms the twin; a later person alike sees both.
  v1::RegisterPersonsRequest confirmed = Batch("b-3", {Person("Dara", 1985), Person("Dara", 1985)});
  confirmed.mutable_persons(0)->set_duplicate_override_reason("twins, checked the birth certificates");
  auto twins = registry_.RegisterPersons(supervisor_, confirmed);
  ASSERT_TRUE(twins.ok()) << twins.status();
  EXPECT_EQ(twins->results(0).status().code(), 0);
  const std::string twin = twins->results(0).beneficiary_number();
  EXPECT_EQ(Metadata(twins->results(1).status())["candidates"], absl::StrCat(dara, ",", twin));
}

TEST_F(RegisterPersonsTest, OfficeRulesApplyPerPerson) {
  v1::Person elsewhere = Person("Sokha", 1990);
  elsewhere.set_office_code("KH-BB-01");
  auto out = registry_.RegisterPersons(clerk_, Batch("b-1", {elsewhere, Person("Dara", 1985)}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->results(0).status().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Reason(out->results(0).status()), "OTHER_OFFICE");
  EXPECT_EQ(out->results(1).status().code(), 0);

  // An administrator importing a registry names each person's office.
  auto imported = registry_.RegisterPersons(admin_, Batch("b-2", {elsewhere, Person("Vanna", 1960)}));
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->results(0).status().code(), 0);
  EXPECT_THAT(Fields(imported->results(1).status()), ElementsAre("person.office_code"));
  v1::GetPersonRequest get;
  get.set_beneficiary_number(imported->results(0).beneficiary_number());
  auto sokha = registry_.GetPerson(admin_, get);
  ASSERT_TRUE(sokha.ok()) << sokha.status();
  EXPECT_EQ(sokha->office_code(), "KH-BB-01");
}

TEST_F(RegisterPersonsTest, ReplayReturnsTheFirstAnswerAndOtherContentIsNamed) {
  const auto batch = Batch("b-1", {Person("Sokha", 1990, "KH-1"), Person("Dara", 1985)});
  auto out = registry_.RegisterPersons(clerk_, batch);
  ASSERT_TRUE(out.ok()) << out.status();
  clock_.Advance(absl::Hours(1));
  auto again = registry_.RegisterPersons(clerk_, batch);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), out->SerializeAsString());
  EXPECT_EQ(PersonCount(), 2);
  EXPECT_EQ(Audit().size(), 2u);

  auto changed = batch;
  changed.mutable_persons(1)->mutable_person()->set_given_name("Darany");
  auto conflict = registry_.RegisterPersons(clerk_, changed);
  EXPECT_TRUE(absl::IsAlreadyExists(conflict.status())) << conflict.status();
  EXPECT_EQ(GetErrorInfo(conflict.status())->reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(GetErrorInfo(conflict.status())->metadata["field"], "persons[1]");
  auto longer = batch;
  *longer.add_persons()->mutable_person() = Person("Vanna", 2001);
  auto conflict2 = registry_.RegisterPersons(clerk_, longer);
  EXPECT_EQ(GetErrorInfo(conflict2.status())->metadata["field"], "persons");

  // The id of another method.
  v1::RegisterPersonRequest single;
  single.set_request_id("b-1");
  *single.mutable_person() = Person("Vanna", 2001);
  auto other = registry_.RegisterPerson(clerk_, single);
  EXPECT_EQ(GetErrorInfo(other.status())->metadata["field"], "method");
  EXPECT_EQ(PersonCount(), 2);
}

TEST_F(RegisterPersonsTest, BadBatchIsRefusedWhole) {
  auto empty = registry_.RegisterPersons(clerk_, Batch("b-1", {}));
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));
  EXPECT_THAT(GetFieldViolations(empty.status()),
              ElementsAre(FieldViolation{"persons", "must hold 1 to 10000 persons"}));
  std::vector<v1::Person> many(Registry::kMaxRegisterBatch + 1, Person("Sokha", 1990));
  auto too_many = registry_.RegisterPersons(clerk_, Batch("", many));
  EXPECT_TRUE(absl::IsInvalidArgument(too_many.status()));
  std::vector<std::string> fields;
  for (const auto& v : GetFieldViolations(too_many.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, ElementsAre("request_id", "persons"));
  EXPECT_EQ(PersonCount(), 0);
  EXPECT_EQ(Audit().size(), 0u);
}

TEST_F(RegisterPersonsTest, AFullBatchIsRegistered) {
  std::vector<v1::Person> many;
  for (int i = 0; i < Registry::kMaxRegisterBatch; ++i) {
    many.push_back(Person(absl::StrCat("Person ", i), 1950 + i % 60, absl::StrCat("NID-", 10000 + i)));
    many.back().mutable_address()->set_district(absl::StrCat("District ", i % 7));
  }
  auto out = registry_.RegisterPersons(clerk_, Batch("b-1", many));
  ASSERT_TRUE(out.ok()) << out.status();
  for (const auto& r : out->results()) {
    ASSERT_EQ(r.status().code(), 0) << r.index() << ": " << r.status().message();
  }
  EXPECT_EQ(out->registered(), Registry::kMaxRegisterBatch);
  EXPECT_EQ(PersonCount(), Registry::kMaxRegisterBatch);
  const auto audit = Audit();
  EXPECT_EQ(audit.size(), static_cast<size_t>(Registry::kMaxRegisterBatch));
  EXPECT_EQ(FirstBrokenAuditEntry(audit), 0);
}

}  // namespace
}  // namespace socle
