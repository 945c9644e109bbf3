#include "server/keys.h"

#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/registry.h"
#include "server/test_util.h"
#include "storage/keys.h"
#include "storage/sqlite/sqlite_store.h"

namespace socle {
namespace {

storage::KeyRing::Key Filled(unsigned char b) {
  storage::KeyRing::Key k;
  k.fill(b);
  return k;
}

std::shared_ptr<const storage::KeyRing> Ring(std::map<uint32_t, storage::KeyRing::Key> keys) {
  return *storage::KeyRing::Make(std::move(keys), Filled(0x42));
}

class KeyRotationTest : public ::testing::Test {
 protected:
  KeyRotationTest() : clock_(testing::TestNow()) {
    admin_.kind = CallerKind::kAdmin;
    admin_.id = "admin:ADMIN-01";
    clerk_.kind = CallerKind::kTerminal;
    clerk_.id = "terminal:KH-SR-03:T01";
    clerk_.office_code = "KH-SR-03";
  }

  std::unique_ptr<storage::Store> Open(std::shared_ptr<const storage::KeyRing> keys) {
    storage::SqliteOptions options;
    options.path = dir_.path() + "/socle.db";
    options.keys = std::move(keys);
    auto store = storage::OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void RegisterSome(storage::Store& store, int n) {
    Registry registry(&store, &clock_);
    for (int i = 0; i < n; ++i) {
      v1::RegisterPersonRequest request;
      request.set_request_id(absl::StrCat("reg-", i));
      v1::Person& p = *request.mutable_person();
      p.set_national_id(absl::StrCat("KEY-", i));
      p.set_given_name(absl::StrCat("Person", i));
      p.set_family_name("Rotation");
      p.set_sex(v1::SEX_FEMALE);
      p.mutable_date_of_birth()->set_year(1950 + i);
      p.mutable_date_of_birth()->set_month(1);
      p.mutable_date_of_birth()->set_day(1);
      p.mutable_address()->set_district("Puok");
      p.mutable_facts()->mutable_monthly_income()->set_minor_units(1000 + i);
      p.mutable_facts()->mutable_monthly_income()->set_currency("KHR");
      auto out = registry.RegisterPerson(clerk_, request);
      ASSERT_TRUE(out.ok()) << out.status();
    }
  }

  testing::TempDir dir_;
  FakeClock clock_;
  Caller admin_, clerk_;
};

TEST_F(KeyRotationTest, RotatesInBatchesUntilDoneThenOldKeyCanGo) {
  {
    auto store = Open(Ring({{1, Filled(1)}}));
    RegisterSome(*store, 5);
  }
  auto store = Open(Ring({{1, Filled(1)}, {2, Filled(2)}}));
  KeyRotation rotation(store.get(), &clock_, 2);
  v1::RotateKeysRequest request;
  request.set_batch_size(2);
  request.set_max_batches(2);
  int64_t resealed = 0, calls = 0;
  for (;;) {
    auto out = rotation.RotateKeys(admin_, request);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->key_id(), 2u);
    resealed += out->resealed();
    ++calls;
    *request.mutable_after() = out->next();
    if (out->done()) break;
    ASSERT_LT(calls, 20);
  }
  // 5 persons and their 5 stored requests (no life events).
  EXPECT_EQ(resealed, 10);
  EXPECT_GT(calls, 2);
  // Again from the start: nothing left to reseal.
  auto again = rotation.RotateKeys(admin_, v1::RotateKeysRequest());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->done());
  EXPECT_EQ(again->resealed(), 0);
  EXPECT_EQ(again->scanned(), 10);
  // Each rewriting batch left an audit entry.
  int entries = 0;
  ASSERT_TRUE(store->Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto audit = txn.ListAudit(0, 100);
    if (!audit.ok()) return audit.status();
    for (const auto& a : *audit) entries += a.action == "RotateKeys";
    return absl::OkStatus();
  }).ok());
  EXPECT_GT(entries, 0);

  // Key 1 gone: every person and stored request still reads.
  store.reset();
  store = Open(Ring({{2, Filled(2)}}));
  Registry registry(store.get(), &clock_);
  v1::FindPersonsRequest find;
  find.set_national_id("key-3");
  auto found = registry.FindPersons(clerk_, find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->persons_size(), 1);
  EXPECT_EQ(found->persons(0).facts().monthly_income().minor_units(), 1003);
  // A replay of a registration answers from the stored (resealed) request.
  RegisterSome(*store, 5);
}

TEST_F(KeyRotationTest, AdministratorsOnlyAndBoundedBatches) {
  auto store = Open(Ring({{1, Filled(1)}}));
  KeyRotation rotation(store.get(), &clock_, 1);
  EXPECT_EQ(rotation.RotateKeys(clerk_, v1::RotateKeysRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::RotateKeysRequest bad;
  bad.set_batch_size(5001);
  bad.set_max_batches(-1);
  auto refused = rotation.RotateKeys(admin_, bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : GetFieldViolations(refused.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, ::testing::ElementsAre("batch_size", "max_batches"));
  // An empty registry is done at once.
  auto empty = rotation.RotateKeys(admin_, v1::RotateKeysRequest());
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->done());
}

}  // namespace
}  // namespace socle
