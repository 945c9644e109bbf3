// The Store conformance suite: every contract of storage/store.h, checked
// against every backend. A backend joins with one line in Backends().
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/normalize.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"
#include "tests/pg/pg_test_database.h"

namespace socle::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------
// Backends

struct Backend {
  std::string name;
  // Opens the store kept in `dir` (an empty temporary directory the first
  // time), creating it when new. Opening the same `dir` again after the
  // previous store was destroyed must give back the same data. Returns null
  // (after reporting a test failure) when the store cannot be opened.
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
  // The same, sealing personal data with `keys` (storage/keys.h).
  std::function<std::unique_ptr<Store>(const std::string& dir,
                                       std::shared_ptr<const KeyRing> keys)>
      open_with_keys;
};

std::unique_ptr<Store> OpenSqliteWithKeys(const std::string& dir,
                                          std::shared_ptr<const KeyRing> keys) {
  SqliteOptions options;
  options.path = dir + "/socle.db";
  options.keys = std::move(keys);
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  SqliteOptions options;
  options.path = dir + "/socle.db";
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<Backend> Backends() {
  return {
      {"Sqlite", OpenSqlite, OpenSqliteWithKeys},
      // A fresh database per test on $SOCLE_TEST_POSTGRES (skipped when unset).
      {"Postgres",
       [](const std::string& dir) { return socle::pgtest::OpenPostgresForTest(dir); },
       socle::pgtest::OpenPostgresForTest},
  };
}

// ---------------------------------------------------------------------------
// Helpers

// A temporary directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                     "/socle-store-XXXXXX");
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
      return;
    }
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A one-way latch that tolerates repeated Notify (a backend may run a Write
// fn more than once).
class Signal {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

absl::Time Micros(int64_t us) { return absl::FromUnixMicros(us); }

PersonRecord MakePerson(std::string given, std::string family,
                        absl::CivilDay birth, std::string national_id = "") {
  PersonRecord p;
  p.version = 1;
  p.national_id = std::move(national_id);
  p.given_name = std::move(given);
  p.family_name = std::move(family);
  p.sex = 1;
  p.date_of_birth = birth;
  p.province = "Phnom Penh";
  p.district = "Chamkar Mon";
  p.commune = "Tonle Bassac";
  p.village = "Village 1";
  p.street = "St 310";
  p.phone = "+85512345678";
  p.office_code = "PP01";
  p.name_key = NormalizeName(p.given_name + " " + p.family_name);
  p.district_key = NormalizeName(p.district);
  p.registered_at = Micros(1'700'000'000'000'000);
  p.updated_at = p.registered_at;
  return p;
}

// José María, born on `birth`, of `district`: the possible duplicates'
// fixtures.
PersonRecord JoseMariaIn(absl::CivilDay birth, std::string district) {
  PersonRecord p = MakePerson("José", "María", birth);
  p.district = district;
  p.district_key = NormalizeName(district);
  return p;
}

void ExpectSamePerson(const PersonRecord& got, const PersonRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.national_id, want.national_id);
  EXPECT_EQ(got.given_name, want.given_name);
  EXPECT_EQ(got.family_name, want.family_name);
  EXPECT_EQ(got.sex, want.sex);
  EXPECT_EQ(got.date_of_birth, want.date_of_birth);
  EXPECT_EQ(got.date_of_death, want.date_of_death);
  EXPECT_EQ(got.province, want.province);
  EXPECT_EQ(got.district, want.district);
  EXPECT_EQ(got.commune, want.commune);
  EXPECT_EQ(got.village, want.village);
  EXPECT_EQ(got.street, want.street);
  EXPECT_EQ(got.phone, want.phone);
  EXPECT_EQ(got.office_code, want.office_code);
  EXPECT_EQ(got.name_key, want.name_key);
  EXPECT_EQ(got.district_key, want.district_key);
  EXPECT_EQ(got.facts, want.facts);
  EXPECT_EQ(got.duplicate_override_reason, want.duplicate_override_reason);
  EXPECT_EQ(got.registered_at, want.registered_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

void ExpectSameHousehold(const HouseholdRecord& got,
                         const HouseholdRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.office_code, want.office_code);
  EXPECT_EQ(got.province, want.province);
  EXPECT_EQ(got.district, want.district);
  EXPECT_EQ(got.commune, want.commune);
  EXPECT_EQ(got.village, want.village);
  EXPECT_EQ(got.street, want.street);
  EXPECT_EQ(got.head_person_id, want.head_person_id);
  EXPECT_EQ(got.created_at, want.created_at);
}

void ExpectSameEvent(const LifeEventRecord& got, const LifeEventRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.person_id, want.person_id);
  EXPECT_EQ(got.date, want.date);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.details, want.details);
  EXPECT_EQ(got.correction, want.correction);
  EXPECT_EQ(got.recorded_at, want.recorded_at);
  EXPECT_EQ(got.recorded_by, want.recorded_by);
  EXPECT_EQ(got.office_code, want.office_code);
}

void ExpectSameAudit(const AuditRecord& got, const AuditRecord& want) {
  EXPECT_EQ(got.seq, want.seq);
  EXPECT_EQ(got.at, want.at);
  EXPECT_EQ(got.actor, want.actor);
  EXPECT_EQ(got.office_code, want.office_code);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.subject, want.subject);
  EXPECT_EQ(got.details, want.details);
  EXPECT_EQ(got.prev_hash, want.prev_hash);
  EXPECT_EQ(got.hash, want.hash);
}

HouseholdRecord MakeHousehold(int64_t head = 0) {
  HouseholdRecord h;
  h.version = 1;
  h.office_code = "PP01";
  h.province = "Phnom Penh";
  h.district = "Chamkar Mon";
  h.commune = "Tonle Bassac";
  h.village = "Village 1";
  h.street = "St 310";
  h.head_person_id = head;
  h.created_at = Micros(1'700'000'000'000'001);
  return h;
}

LifeEventRecord MakeEvent(int64_t person_id, absl::CivilDay date, int type) {
  LifeEventRecord e;
  e.person_id = person_id;
  e.date = date;
  e.type = type;
  e.details = std::string("\x08\x01\x12\x00\xff", 5);
  e.recorded_at = Micros(1'700'000'100'000'000);
  e.recorded_by = "clerk@pp01";
  e.office_code = "PP01";
  return e;
}

AuditRecord MakeAudit(int64_t seq) {
  AuditRecord a;
  a.seq = seq;
  a.at = Micros(1'700'000'000'000'000 + seq);
  a.actor = "terminal-7";
  a.office_code = "PP01";
  a.action = "RegisterPerson";
  a.subject = absl::StrCat("10000000", seq);
  a.details = "ok";
  a.prev_hash = seq == 1 ? "" : absl::StrCat("hash", seq - 1);
  a.hash = absl::StrCat("hash", seq);
  return a;
}

std::vector<int64_t> Ids(const std::vector<PersonRecord>& persons) {
  std::vector<int64_t> ids;
  for (const PersonRecord& p : persons) ids.push_back(p.id);
  return ids;
}

// ---------------------------------------------------------------------------
// Fixture

class StoreTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  absl::StatusOr<int64_t> InsertPerson(const PersonRecord& p) {
    int64_t id = 0;
    absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(id, txn.InsertPerson(p));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return id;
  }

  // Inserts and returns the record as stored (with its id).
  PersonRecord AddPerson(PersonRecord p) {
    absl::StatusOr<int64_t> id = InsertPerson(p);
    EXPECT_TRUE(id.ok()) << id.status();
    p.id = id.ok() ? *id : 0;
    return p;
  }

  absl::StatusOr<PersonRecord> GetPerson(int64_t id) {
    absl::StatusOr<PersonRecord> out = absl::UnknownError("not run");
    absl::Status s = store_->Read([&](ReadTxn& txn) {
      out = txn.GetPerson(id);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<PersonRecord> GetByNationalId(absl::string_view nid) {
    absl::StatusOr<PersonRecord> out = absl::UnknownError("not run");
    absl::Status s = store_->Read([&](ReadTxn& txn) {
      out = txn.GetPersonByNationalId(nid);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  int64_t AddHousehold(const HouseholdRecord& h) {
    int64_t id = 0;
    absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(id, txn.InsertHousehold(h));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return id;
  }

  absl::Status AddMember(int64_t household_id, int64_t person_id,
                         int relationship = 1) {
    return store_->Write([&](Txn& txn) {
      MemberRecord m;
      m.household_id = household_id;
      m.person_id = person_id;
      m.relationship = relationship;
      return txn.InsertMember(m);
    });
  }

  std::vector<PersonRecord> ByOffice(absl::string_view office, int64_t after,
                                     int limit) {
    std::vector<PersonRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.FindPersonsByOffice(office, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  std::vector<int64_t> ByName(std::vector<std::string> words,
                              absl::CivilDay birth, int64_t after = 0,
                              int limit = 100) {
    std::vector<PersonRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(
          out, txn.FindPersonsByNameAndBirth(words, birth, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return Ids(out);
  }

  TempDir dir_;  // outlives store_
  std::unique_ptr<Store> store_;
};

const absl::CivilDay kBirth(1984, 7, 3);

// ---------------------------------------------------------------------------
// Persons

TEST_P(StoreTest, PersonRoundTripsEveryField) {
  PersonRecord p = MakePerson("សុខា", "Nguyễn-Thị", kBirth, "KH-0012345");
  p.sex = 2;
  p.date_of_death = absl::CivilDay(2023, 2, 28);
  p.province = "ភ្នំពេញ";
  p.district = "Chamkar Mon";
  p.commune = "Tonlé Bassac";
  p.village = "Phum 3";
  p.street = "Street 310, #12";
  p.phone = "+855 12 345 678";
  p.office_code = "PP-01";
  p.facts = std::string("\x00\x01\x02\xff\xfe\x80 binary \x00 tail", 22);
  p.duplicate_override_reason = "twin sister, checked by supervisor";
  p.registered_at = Micros(1'700'000'000'123'456);
  p.updated_at = Micros(1'700'000'001'654'321);
  ASSERT_EQ(p.facts.size(), 22u);

  PersonRecord stored = AddPerson(p);
  EXPECT_GE(stored.id, 1);
  absl::StatusOr<PersonRecord> got = GetPerson(stored.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePerson(*got, stored);

  // The same inside a write transaction (a Txn is a ReadTxn).
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord again, txn.GetPerson(stored.id));
    ExpectSamePerson(again, stored);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_P(StoreTest, PersonWithEmptyOptionalFieldsRoundTrips) {
  PersonRecord p = MakePerson("A", "B", absl::CivilDay(2001, 12, 31));
  p.province = p.district = p.commune = p.village = p.street = p.phone = "";
  p.facts = "";
  p.duplicate_override_reason = "";
  p.registered_at = absl::UnixEpoch();
  p.updated_at = Micros(-5);  // before the epoch
  PersonRecord stored = AddPerson(p);
  absl::StatusOr<PersonRecord> got = GetPerson(stored.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePerson(*got, stored);
  EXPECT_FALSE(got->date_of_death.has_value());
}

TEST_P(StoreTest, InsertAssignsDistinctIdsAndVersionOne) {
  PersonRecord a = AddPerson(MakePerson("A", "One", kBirth));
  PersonRecord b = AddPerson(MakePerson("B", "Two", kBirth));
  EXPECT_GE(a.id, 1);
  EXPECT_GE(b.id, 1);
  EXPECT_NE(a.id, b.id);
  absl::StatusOr<PersonRecord> got = GetPerson(b.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->version, 1);
}

TEST_P(StoreTest, MissingRowsAreNotFound) {
  absl::Status s = store_->Read([&](ReadTxn& txn) {
    EXPECT_EQ(txn.GetPerson(424242).status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.GetPersonByNationalId("NOPE").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.GetHousehold(77).status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.GetMembership(5).status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.GetRequest("req-1").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.LastAudit().status().code(), absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_P(StoreTest, NationalIdIsUniqueOnInsert) {
  PersonRecord a = AddPerson(MakePerson("A", "One", kBirth, "N-1"));
  absl::StatusOr<int64_t> dup =
      InsertPerson(MakePerson("B", "Two", kBirth, "N-1"));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists)
      << dup.status();
  // The message names the situation, not the SQL nor the value.
  EXPECT_EQ(dup.status().message().find("N-1"), absl::string_view::npos);
  EXPECT_THAT(Ids(ByOffice("PP01", 0, 100)), ElementsAre(a.id));
}

TEST_P(StoreTest, NationalIdIsUniqueOnUpdate) {
  PersonRecord a = AddPerson(MakePerson("A", "One", kBirth, "N-1"));
  PersonRecord b = AddPerson(MakePerson("B", "Two", kBirth, "N-2"));

  PersonRecord changed = b;
  changed.national_id = "N-1";
  changed.version = 2;
  absl::Status s =
      store_->Write([&](Txn& txn) { return txn.UpdatePerson(changed); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  absl::StatusOr<PersonRecord> got = GetPerson(b.id);
  ASSERT_TRUE(got.ok());
  ExpectSamePerson(*got, b);

  // Keeping one's own national ID is no conflict; every column is rewritten.
  changed = a;
  changed.version = 2;
  changed.given_name = "Alpha";
  changed.date_of_death = absl::CivilDay(2024, 1, 2);
  changed.facts = std::string("\x01\x00", 2);
  changed.updated_at = Micros(1'800'000'000'000'000);
  s = store_->Write([&](Txn& txn) { return txn.UpdatePerson(changed); });
  EXPECT_TRUE(s.ok()) << s;
  got = GetPerson(a.id);
  ASSERT_TRUE(got.ok());
  ExpectSamePerson(*got, changed);

  // A freed national ID can be taken by another person.
  PersonRecord cleared = *got;
  cleared.national_id = "";
  PersonRecord taker = b;
  taker.national_id = "N-1";
  s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.UpdatePerson(cleared));
    return txn.UpdatePerson(taker);
  });
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<PersonRecord> by_nid = GetByNationalId("N-1");
  ASSERT_TRUE(by_nid.ok()) << by_nid.status();
  EXPECT_EQ(by_nid->id, b.id);
}

TEST_P(StoreTest, UpdateOfMissingPersonIsNotFound) {
  PersonRecord ghost = MakePerson("G", "Host", kBirth);
  ghost.id = 999'999;
  absl::Status s =
      store_->Write([&](Txn& txn) { return txn.UpdatePerson(ghost); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_P(StoreTest, PersonsWithoutNationalIdCoexist) {
  PersonRecord a = AddPerson(MakePerson("A", "One", kBirth));
  PersonRecord b = AddPerson(MakePerson("B", "Two", kBirth));
  PersonRecord c = AddPerson(MakePerson("C", "Three", kBirth, "N-3"));
  EXPECT_NE(a.id, b.id);
  // Clearing a national ID makes one more person without one.
  c.national_id = "";
  absl::Status s = store_->Write([&](Txn& txn) { return txn.UpdatePerson(c); });
  EXPECT_TRUE(s.ok()) << s;
  for (const PersonRecord& p : {a, b, c}) {
    absl::StatusOr<PersonRecord> got = GetPerson(p.id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->national_id, "");
  }
  EXPECT_EQ(GetByNationalId("").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, GetPersonByNationalId) {
  AddPerson(MakePerson("A", "One", kBirth, "N-1"));
  PersonRecord b = AddPerson(MakePerson("B", "Two", kBirth, "N-2"));
  absl::StatusOr<PersonRecord> got = GetByNationalId("N-2");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePerson(*got, b);
  EXPECT_EQ(GetByNationalId("N-9").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(GetByNationalId("n-2").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, FindPossibleDuplicates) {
  PersonRecord first = AddPerson(JoseMariaIn(kBirth, "Chamkar Mon"));
  PersonRecord dead = JoseMariaIn(kBirth, "Chamkar Mon");
  dead.date_of_death = absl::CivilDay(2020, 1, 1);
  AddPerson(dead);
  AddPerson(JoseMariaIn(kBirth, "Daun Penh"));                        // other district
  AddPerson(JoseMariaIn(absl::CivilDay(1984, 7, 4), "Chamkar Mon"));  // other day
  AddPerson(MakePerson("José", "Marian", kBirth));             // other name
  PersonRecord second = AddPerson(JoseMariaIn(kBirth, "chamkar  MON"));

  std::vector<PersonRecord> found;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(
        found, txn.FindPossibleDuplicates("jose maria", kBirth, "chamkar mon"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(Ids(found), ElementsAre(first.id, second.id));
  ASSERT_EQ(found.size(), 2u);
  ExpectSamePerson(found[0], first);
}

// Bulk registration: the batch methods answer exactly as the one-row
// methods would, in one call per batch.
TEST_P(StoreTest, BulkLookupsAnswerAsTheOneRowMethods) {
  PersonRecord first = AddPerson(JoseMariaIn(kBirth, "Chamkar Mon"));
  PersonRecord dead = JoseMariaIn(kBirth, "Chamkar Mon");
  dead.date_of_death = absl::CivilDay(2020, 1, 1);
  AddPerson(dead);
  PersonRecord second = AddPerson(JoseMariaIn(kBirth, "chamkar  MON"));
  PersonRecord other = AddPerson(JoseMariaIn(kBirth, "Daun Penh"));
  AddPerson(MakePerson("A", "One", kBirth, "N-1"));
  AddPerson(MakePerson("B", "Two", kBirth, "N-2"));

  std::vector<bool> held;
  std::vector<std::vector<int64_t>> alike;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(held, txn.NationalIdsHeld({"N-2", "", "N-3", "N-1", "N-2"}));
    ASSIGN_OR_RETURN(alike, txn.FindPossibleDuplicateIds(
                                {{"jose maria", kBirth, "daun penh"},
                                 {"jose maria", kBirth, "nowhere"},
                                 {"jose maria", kBirth, "chamkar mon"},
                                 {"jose maria", absl::CivilDay(12000, 1, 1), "chamkar mon"},
                                 {"jose maria", kBirth, "chamkar mon"}}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(held, ElementsAre(true, false, false, true, true));
  ASSERT_EQ(alike.size(), 5u);
  EXPECT_THAT(alike[0], ElementsAre(other.id));
  EXPECT_TRUE(alike[1].empty());
  EXPECT_THAT(alike[2], ElementsAre(first.id, second.id));
  EXPECT_TRUE(alike[3].empty());
  EXPECT_THAT(alike[4], ElementsAre(first.id, second.id));

  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(held, txn.NationalIdsHeld({}));
    ASSIGN_OR_RETURN(alike, txn.FindPossibleDuplicateIds({}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(held.empty());
  EXPECT_TRUE(alike.empty());
}

TEST_P(StoreTest, InsertPersonsStoresEveryFieldWithAscendingIds) {
  PersonRecord before = AddPerson(MakePerson("A", "One", kBirth));
  std::vector<PersonRecord> batch;
  batch.push_back(MakePerson("សុខា", "Nguyễn-Thị", kBirth, "KH-0012345"));
  batch.push_back(MakePerson("B", "Two", absl::CivilDay(1950, 1, 31)));
  batch.back().date_of_death = absl::CivilDay(2026, 11, 1);
  batch.push_back(MakePerson("C", "Three", kBirth, "KH-7"));
  for (int i = 0; i < 500; ++i) {
    batch.push_back(MakePerson(absl::StrCat("P", i), "Many", kBirth, absl::StrCat("M-", i)));
  }
  absl::Status s = store_->Write([&](Txn& txn) { return txn.InsertPersons(batch); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GT(batch[0].id, before.id);
  for (size_t i = 1; i < batch.size(); ++i) EXPECT_GT(batch[i].id, batch[i - 1].id) << i;
  for (size_t i : {size_t{0}, size_t{1}, size_t{2}, batch.size() - 1}) {
    absl::StatusOr<PersonRecord> got = GetPerson(batch[i].id);
    ASSERT_TRUE(got.ok()) << got.status();
    PersonRecord expected = batch[i];
    expected.version = 1;
    ExpectSamePerson(*got, expected);
  }
  absl::StatusOr<PersonRecord> by_id = GetByNationalId("KH-7");
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->id, batch[2].id);

  // A national ID taken fails the batch; nothing of it is kept.
  std::vector<PersonRecord> taken = {MakePerson("D", "Four", kBirth, "N-new"),
                                     MakePerson("E", "Five", kBirth, "KH-7")};
  s = store_->Write([&](Txn& txn) { return txn.InsertPersons(taken); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(GetByNationalId("N-new").status().code(), absl::StatusCode::kNotFound);
  std::vector<PersonRecord> none;
  EXPECT_TRUE(store_->Write([&](Txn& txn) { return txn.InsertPersons(none); }).ok());
}

TEST_P(StoreTest, AppendAuditsChainsInOrder) {
  std::vector<AuditRecord> entries(3);
  for (int i = 0; i < 3; ++i) {
    entries[i].seq = i + 1;
    entries[i].at = absl::FromUnixSeconds(1'764'000'000 + i);
    entries[i].actor = "admin:migration";
    entries[i].office_code = "";
    entries[i].action = "RegisterPersons";
    entries[i].subject = absl::StrCat("10000000", i);
    entries[i].details = "registered";
    entries[i].prev_hash = i == 0 ? "" : absl::StrCat("h", i);
    entries[i].hash = absl::StrCat("h", i + 1);
  }
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.AppendAudits(entries); }).ok());
  std::vector<AuditRecord> read;
  ASSERT_TRUE(store_
                  ->Read([&](ReadTxn& txn) -> absl::Status {
                    ASSIGN_OR_RETURN(read, txn.ListAudit(0, 10));
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(read.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(read[i].seq, i + 1);
    EXPECT_EQ(read[i].at, entries[i].at);
    EXPECT_EQ(read[i].subject, entries[i].subject);
    EXPECT_EQ(read[i].hash, entries[i].hash);
    EXPECT_EQ(read[i].prev_hash, entries[i].prev_hash);
  }
  // A seq taken fails the batch.
  absl::Status again = store_->Write([&](Txn& txn) { return txn.AppendAudits(entries); });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
}

TEST_P(StoreTest, FindPersonsByNameAndBirthMatchesWholeWordsInAnyOrder) {
  auto add = [&](std::string key, absl::CivilDay birth = kBirth) {
    PersonRecord p = MakePerson("x", "y", birth);
    p.name_key = key;
    return AddPerson(p).id;
  };
  int64_t sok_dara = add("sok dara");
  int64_t dara_sok = add("dara sok");
  add("sokha dara");
  int64_t sok_daravy = add("sok daravy");
  int64_t sok_dara_chan = add("chan sok dara");
  add("sok dara", absl::CivilDay(1984, 7, 2));  // other day

  EXPECT_THAT(ByName({"sok", "dara"}, kBirth),
              ElementsAre(sok_dara, dara_sok, sok_dara_chan));
  EXPECT_THAT(ByName({"dara", "sok"}, kBirth),
              ElementsAre(sok_dara, dara_sok, sok_dara_chan));
  EXPECT_THAT(ByName({"sok"}, kBirth),
              ElementsAre(sok_dara, dara_sok, sok_daravy, sok_dara_chan));
  EXPECT_THAT(ByName({"ok"}, kBirth), IsEmpty());       // not a whole word
  EXPECT_THAT(ByName({"sok dar"}, kBirth), IsEmpty());  // not a whole word
  EXPECT_THAT(ByName({"daravy"}, kBirth), ElementsAre(sok_daravy));
  EXPECT_THAT(ByName({"chan", "sok", "dara"}, kBirth),
              ElementsAre(sok_dara_chan));
  EXPECT_THAT(ByName({"sok", "nobody"}, kBirth), IsEmpty());
  EXPECT_THAT(ByName({"sok"}, absl::CivilDay(1990, 1, 1)), IsEmpty());
}

TEST_P(StoreTest, FindPersonsByNameAndBirthHasNoWildcards) {
  auto add = [&](std::string key) {
    PersonRecord p = MakePerson("x", "y", kBirth);
    p.name_key = key;
    return AddPerson(p).id;
  };
  add("john smith");
  int64_t percent = add("100% sure");
  int64_t underscore = add("a_b c");

  for (const char* word : {"%", "_", "j_hn", "jo%", "%ohn", "sm_th", "a%", "_%",
                           "a_", "[j]ohn", "*", "j*", "?ohn"}) {
    EXPECT_THAT(ByName({word}, kBirth), IsEmpty()) << word;
  }
  EXPECT_THAT(ByName({"100%"}, kBirth), ElementsAre(percent));
  EXPECT_THAT(ByName({"a_b"}, kBirth), ElementsAre(underscore));
  EXPECT_THAT(ByName({"a_b", "c"}, kBirth), ElementsAre(underscore));
}

TEST_P(StoreTest, FindPersonsByNameAndBirthPaginates) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    PersonRecord p = MakePerson("x", "y", kBirth);
    p.name_key = i % 2 == 0 ? "mey lina" : "lina mey";
    ids.push_back(AddPerson(p).id);
    PersonRecord other = MakePerson("x", "y", kBirth);
    other.name_key = "somebody else";
    AddPerson(other);
  }
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    std::vector<int64_t> got = ByName({"lina", "mey"}, kBirth, after, 3);
    EXPECT_LE(got.size(), 3u);
    if (got.empty()) break;
    seen.insert(seen.end(), got.begin(), got.end());
    after = got.back();
  }
  EXPECT_THAT(seen, ElementsAreArray(ids));
  EXPECT_THAT(ByName({"lina"}, kBirth, ids[1], 2), ElementsAre(ids[2], ids[3]));
  EXPECT_THAT(ByName({"lina"}, kBirth, 0, 0), IsEmpty());
  // No words: everyone born that day.
  EXPECT_EQ(ByName({}, kBirth, 0, 1000).size(), 14u);
}

TEST_P(StoreTest, FindPersonsByOfficePaginates) {
  std::vector<int64_t> office_a;
  for (int i = 0; i < 5; ++i) {
    PersonRecord p = MakePerson("A", absl::StrCat("n", i), kBirth);
    p.office_code = "A";
    office_a.push_back(AddPerson(p).id);
    PersonRecord q = MakePerson("B", absl::StrCat("n", i), kBirth);
    q.office_code = i % 2 == 0 ? "B" : "AA";
    AddPerson(q);
  }
  EXPECT_THAT(Ids(ByOffice("A", 0, 2)), ElementsAre(office_a[0], office_a[1]));
  EXPECT_THAT(Ids(ByOffice("A", office_a[1], 2)),
              ElementsAre(office_a[2], office_a[3]));
  EXPECT_THAT(Ids(ByOffice("A", office_a[3], 2)), ElementsAre(office_a[4]));
  EXPECT_THAT(Ids(ByOffice("A", office_a[4], 2)), IsEmpty());
  EXPECT_THAT(Ids(ByOffice("A", 0, 0)), IsEmpty());
  EXPECT_THAT(Ids(ByOffice("Z", 0, 10)), IsEmpty());
  EXPECT_EQ(ByOffice("B", 0, 10).size(), 3u);
}

TEST_P(StoreTest, FindPersonsByHouseholdPaginatesById) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(AddPerson(MakePerson("P", absl::StrCat(i), kBirth)).id);
  }
  int64_t h1 = AddHousehold(MakeHousehold(ids[3]));
  int64_t h2 = AddHousehold(MakeHousehold(ids[1]));
  // Joining order differs from id order.
  ASSERT_TRUE(AddMember(h1, ids[3]).ok());
  ASSERT_TRUE(AddMember(h1, ids[0]).ok());
  ASSERT_TRUE(AddMember(h2, ids[1]).ok());
  ASSERT_TRUE(AddMember(h1, ids[4]).ok());

  auto page = [&](int64_t household, int64_t after, int limit) {
    std::vector<PersonRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out,
                       txn.FindPersonsByHousehold(household, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return Ids(out);
  };
  EXPECT_THAT(page(h1, 0, 2), ElementsAre(ids[0], ids[3]));
  EXPECT_THAT(page(h1, ids[3], 2), ElementsAre(ids[4]));
  EXPECT_THAT(page(h1, ids[4], 2), IsEmpty());
  EXPECT_THAT(page(h2, 0, 10), ElementsAre(ids[1]));
  EXPECT_THAT(page(h1, 0, 0), IsEmpty());
  EXPECT_THAT(page(h2 + 100, 0, 10), IsEmpty());
}

// ---------------------------------------------------------------------------
// Households and members

TEST_P(StoreTest, HouseholdRoundTripsAndUpdates) {
  PersonRecord head = AddPerson(MakePerson("Head", "One", kBirth));
  HouseholdRecord h = MakeHousehold(head.id);
  h.street = "ផ្លូវ ៣១០";
  h.id = AddHousehold(h);
  EXPECT_GE(h.id, 1);
  int64_t other = AddHousehold(MakeHousehold());
  EXPECT_NE(other, h.id);

  HouseholdRecord got;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(got, txn.GetHousehold(h.id));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ExpectSameHousehold(got, h);

  h.version = 2;
  h.village = "Village 9";
  h.head_person_id = 0;
  s = store_->Write([&](Txn& txn) { return txn.UpdateHousehold(h); });
  ASSERT_TRUE(s.ok()) << s;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(got, txn.GetHousehold(h.id));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ExpectSameHousehold(got, h);

  HouseholdRecord ghost = MakeHousehold();
  ghost.id = 987'654;
  s = store_->Write([&](Txn& txn) { return txn.UpdateHousehold(ghost); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_P(StoreTest, MembersKeepJoiningOrder) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(AddPerson(MakePerson("M", absl::StrCat(i), kBirth)).id);
  }
  int64_t h = AddHousehold(MakeHousehold(ids[2]));
  ASSERT_TRUE(AddMember(h, ids[2], /*relationship=*/1).ok());
  ASSERT_TRUE(AddMember(h, ids[0], /*relationship=*/2).ok());
  ASSERT_TRUE(AddMember(h, ids[3], /*relationship=*/3).ok());

  std::vector<MemberRecord> members;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(members, txn.ListMembers(h));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].person_id, ids[2]);
  EXPECT_EQ(members[1].person_id, ids[0]);
  EXPECT_EQ(members[2].person_id, ids[3]);
  EXPECT_EQ(members[1].relationship, 2);
  EXPECT_LT(members[0].seq, members[1].seq);
  EXPECT_LT(members[1].seq, members[2].seq);
  for (const MemberRecord& m : members) EXPECT_EQ(m.household_id, h);

  MemberRecord membership;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(membership, txn.GetMembership(ids[3]));
    EXPECT_EQ(txn.GetMembership(ids[1]).status().code(),
              absl::StatusCode::kNotFound);
    std::vector<MemberRecord> none;
    ASSIGN_OR_RETURN(none, txn.ListMembers(h + 1000));
    EXPECT_THAT(none, IsEmpty());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(membership.household_id, h);
  EXPECT_EQ(membership.relationship, 3);
  EXPECT_EQ(membership.seq, members[2].seq);
}

TEST_P(StoreTest, PersonBelongsToOneHousehold) {
  int64_t p = AddPerson(MakePerson("P", "One", kBirth)).id;
  int64_t h1 = AddHousehold(MakeHousehold());
  int64_t h2 = AddHousehold(MakeHousehold());
  ASSERT_TRUE(AddMember(h1, p).ok());
  EXPECT_EQ(AddMember(h2, p).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(AddMember(h1, p).code(), absl::StatusCode::kAlreadyExists);

  // Delete: NOT_FOUND when the person is not in that household.
  absl::Status s =
      store_->Write([&](Txn& txn) { return txn.DeleteMember(h2, p); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  s = store_->Write([&](Txn& txn) { return txn.DeleteMember(h1, p); });
  EXPECT_TRUE(s.ok()) << s;
  s = store_->Write([&](Txn& txn) { return txn.DeleteMember(h1, p); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;

  // Free again: may join another household.
  EXPECT_TRUE(AddMember(h2, p).ok());
  MemberRecord m;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(m, txn.GetMembership(p));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(m.household_id, h2);
}

TEST_P(StoreTest, UpdateMember) {
  int64_t p = AddPerson(MakePerson("P", "One", kBirth)).id;
  int64_t h = AddHousehold(MakeHousehold());
  ASSERT_TRUE(AddMember(h, p, 1).ok());
  MemberRecord m{.household_id = h, .person_id = p, .relationship = 4};
  absl::Status s = store_->Write([&](Txn& txn) { return txn.UpdateMember(m); });
  ASSERT_TRUE(s.ok()) << s;
  MemberRecord got;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(got, txn.GetMembership(p));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got.relationship, 4);

  MemberRecord wrong = m;
  wrong.household_id = h + 1;
  s = store_->Write([&](Txn& txn) { return txn.UpdateMember(wrong); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_P(StoreTest, MemberOfMissingHouseholdOrPersonIsFailedPrecondition) {
  int64_t p = AddPerson(MakePerson("P", "One", kBirth)).id;
  int64_t h = AddHousehold(MakeHousehold());
  EXPECT_EQ(AddMember(h + 100, p).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AddMember(h, p + 100).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// Life events

TEST_P(StoreTest, LifeEventsAreOrderedByDateThenIdAndPaginate) {
  int64_t p = AddPerson(MakePerson("P", "One", kBirth)).id;
  int64_t q = AddPerson(MakePerson("Q", "Two", kBirth)).id;
  std::vector<LifeEventRecord> events = {
      MakeEvent(p, absl::CivilDay(2020, 5, 1), 3),
      MakeEvent(p, absl::CivilDay(2019, 1, 1), 4),
      MakeEvent(q, absl::CivilDay(2019, 6, 1), 5),
      MakeEvent(p, absl::CivilDay(2020, 5, 1), 6),
      MakeEvent(p, absl::CivilDay(2021, 3, 3), 7),
      MakeEvent(p, absl::CivilDay(2010, 12, 31), 8),
  };
  events[3].correction = true;
  events[4].details = "";
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    for (LifeEventRecord& e : events) {
      ASSIGN_OR_RETURN(e.id, txn.InsertLifeEvent(e));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  std::set<int64_t> distinct;
  for (const LifeEventRecord& e : events) distinct.insert(e.id);
  EXPECT_EQ(distinct.size(), events.size());

  // Expected order for p: 2010-12-31, 2019-01-01, 2020-05-01 (x2 by id),
  // 2021-03-03.
  std::vector<const LifeEventRecord*> want = {
      &events[5], &events[1], &events[0], &events[3], &events[4]};
  auto list = [&](std::optional<EventCursor> after, int limit) {
    std::vector<LifeEventRecord> out;
    absl::Status st = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListLifeEvents(p, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    return out;
  };
  std::vector<LifeEventRecord> all = list(std::nullopt, 100);
  ASSERT_EQ(all.size(), want.size());
  for (size_t i = 0; i < all.size(); ++i) ExpectSameEvent(all[i], *want[i]);

  std::vector<LifeEventRecord> seen;
  std::optional<EventCursor> cursor;
  for (int page = 0; page < 10; ++page) {
    std::vector<LifeEventRecord> got = list(cursor, 2);
    EXPECT_LE(got.size(), 2u);
    if (got.empty()) break;
    seen.insert(seen.end(), got.begin(), got.end());
    cursor = EventCursor{got.back().date, got.back().id};
  }
  ASSERT_EQ(seen.size(), want.size());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].id, want[i]->id);

  // A cursor between the two events of the same day.
  std::vector<LifeEventRecord> rest =
      list(EventCursor{events[0].date, events[0].id}, 10);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].id, events[3].id);
  EXPECT_EQ(rest[1].id, events[4].id);
  EXPECT_THAT(list(std::nullopt, 0), IsEmpty());
}

TEST_P(StoreTest, LifeEventOfMissingPersonIsFailedPrecondition) {
  absl::Status s = store_->Write([&](Txn& txn) {
    return txn.InsertLifeEvent(MakeEvent(31337, kBirth, 3)).status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

// ---------------------------------------------------------------------------
// Persons and memberships, in full

TEST_P(StoreTest, ListPersonsPaginatesOverEveryOffice) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    PersonRecord p = MakePerson("L", absl::StrCat("n", i), kBirth);
    p.office_code = i % 3 == 0 ? "PP01" : i % 3 == 1 ? "KD02" : "";
    ids.push_back(AddPerson(p).id);
  }
  auto page = [&](int64_t after, int limit) {
    std::vector<PersonRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListPersons(after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  std::vector<PersonRecord> all = page(0, 100);
  EXPECT_THAT(Ids(all), ElementsAreArray(ids));
  if (all.size() == ids.size()) {
    PersonRecord want = MakePerson("L", "n4", kBirth);
    want.office_code = "KD02";
    want.id = ids[4];
    ExpectSamePerson(all[4], want);
  }
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int n = 0; n < 10; ++n) {
    std::vector<PersonRecord> got = page(after, 3);
    EXPECT_LE(got.size(), 3u);
    if (got.empty()) break;
    for (const PersonRecord& p : got) seen.push_back(p.id);
    after = got.back().id;
  }
  EXPECT_THAT(seen, ElementsAreArray(ids));
  EXPECT_THAT(Ids(page(ids[2], 2)), ElementsAre(ids[3], ids[4]));
  EXPECT_THAT(Ids(page(ids[6], 10)), IsEmpty());
  EXPECT_THAT(Ids(page(0, 0)), IsEmpty());
}

TEST_P(StoreTest, ListMembershipsPaginatesByPersonId) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(AddPerson(MakePerson("M", absl::StrCat(i), kBirth)).id);
  }
  int64_t h1 = AddHousehold(MakeHousehold(ids[4]));
  int64_t h2 = AddHousehold(MakeHousehold(ids[1]));
  // Joining order and households differ from person id order; ids[2] belongs
  // to no household.
  ASSERT_TRUE(AddMember(h1, ids[4], 1).ok());
  ASSERT_TRUE(AddMember(h2, ids[1], 1).ok());
  ASSERT_TRUE(AddMember(h1, ids[0], 2).ok());
  ASSERT_TRUE(AddMember(h2, ids[5], 3).ok());
  ASSERT_TRUE(AddMember(h1, ids[3], 4).ok());

  auto page = [&](int64_t after, int limit) {
    std::vector<MemberRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListMemberships(after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  auto person_ids = [](const std::vector<MemberRecord>& members) {
    std::vector<int64_t> out;
    for (const MemberRecord& m : members) out.push_back(m.person_id);
    return out;
  };
  std::vector<MemberRecord> all = page(0, 100);
  EXPECT_THAT(person_ids(all),
              ElementsAre(ids[0], ids[1], ids[3], ids[4], ids[5]));
  // Each row is the whole membership, as GetMembership gives it.
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    for (const MemberRecord& m : all) {
      ASSIGN_OR_RETURN(MemberRecord want, txn.GetMembership(m.person_id));
      EXPECT_EQ(m.household_id, want.household_id);
      EXPECT_EQ(m.relationship, want.relationship);
      EXPECT_EQ(m.seq, want.seq);
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3].household_id, h1);
  EXPECT_EQ(all[4].household_id, h2);
  EXPECT_EQ(all[4].relationship, 3);

  EXPECT_THAT(person_ids(page(0, 2)), ElementsAre(ids[0], ids[1]));
  EXPECT_THAT(person_ids(page(ids[1], 2)), ElementsAre(ids[3], ids[4]));
  EXPECT_THAT(person_ids(page(ids[4], 2)), ElementsAre(ids[5]));
  EXPECT_THAT(person_ids(page(ids[5], 2)), IsEmpty());
  EXPECT_THAT(person_ids(page(0, 0)), IsEmpty());
}

// ---------------------------------------------------------------------------
// Enrolments

constexpr int kActive = 1;
constexpr int kSuspended = 2;
constexpr int kEnded = 3;

EnrolmentRecord MakeEnrolment(int64_t person_id, std::string programme,
                              int status = kActive,
                              std::string office = "PP01") {
  EnrolmentRecord e;
  e.person_id = person_id;
  e.programme_code = std::move(programme);
  e.office_code = std::move(office);
  e.status = status;
  e.start_date = absl::CivilDay(2024, 1, 1);
  e.amount_minor = 150'000;
  e.currency = "KHR";
  e.policy_version = "2024.1";
  e.version = 1;
  e.created_at = Micros(1'710'000'000'000'000);
  e.updated_at = e.created_at;
  e.details = std::string("\x0a\x02\x00\xff", 4);
  return e;
}

void ExpectSameEnrolment(const EnrolmentRecord& got,
                         const EnrolmentRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.person_id, want.person_id);
  EXPECT_EQ(got.programme_code, want.programme_code);
  EXPECT_EQ(got.office_code, want.office_code);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.start_date, want.start_date);
  EXPECT_EQ(got.end_date, want.end_date);
  EXPECT_EQ(got.amount_minor, want.amount_minor);
  EXPECT_EQ(got.currency, want.currency);
  EXPECT_EQ(got.policy_version, want.policy_version);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.details, want.details);
}

std::vector<int64_t> EnrolmentIds(const std::vector<EnrolmentRecord>& list) {
  std::vector<int64_t> ids;
  for (const EnrolmentRecord& e : list) ids.push_back(e.id);
  return ids;
}

class EnrolmentTest : public StoreTest {
 protected:
  absl::StatusOr<int64_t> InsertEnrolment(const EnrolmentRecord& e) {
    int64_t id = 0;
    absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(id, txn.InsertEnrolment(e));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return id;
  }

  // Inserts and returns the record as stored (with its id).
  EnrolmentRecord AddEnrolment(EnrolmentRecord e) {
    absl::StatusOr<int64_t> id = InsertEnrolment(e);
    EXPECT_TRUE(id.ok()) << id.status();
    e.id = id.ok() ? *id : 0;
    return e;
  }

  absl::Status UpdateEnrolment(const EnrolmentRecord& e) {
    return store_->Write([&](Txn& txn) { return txn.UpdateEnrolment(e); });
  }

  absl::StatusOr<EnrolmentRecord> GetEnrolment(int64_t id) {
    absl::StatusOr<EnrolmentRecord> out = absl::UnknownError("not run");
    absl::Status s = store_->Read([&](ReadTxn& txn) {
      out = txn.GetEnrolment(id);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::vector<int64_t> ByPerson(int64_t person_id) {
    std::vector<EnrolmentRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListEnrolmentsByPerson(person_id));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return EnrolmentIds(out);
  }

  std::vector<int64_t> ByProgramme(absl::string_view programme,
                                   absl::string_view office, int status,
                                   int64_t after = 0, int limit = 100) {
    std::vector<EnrolmentRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListEnrolmentsByProgramme(
                                programme, office, status, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return EnrolmentIds(out);
  }

  std::vector<int64_t> ByStatus(int status, absl::string_view office,
                                int64_t after = 0, int limit = 100) {
    std::vector<EnrolmentRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out,
                       txn.ListEnrolmentsByStatus(status, office, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return EnrolmentIds(out);
  }

  int64_t NewPerson() {
    return AddPerson(MakePerson("E", absl::StrCat("n", ++persons_), kBirth))
        .id;
  }

  int persons_ = 0;
};

TEST_P(EnrolmentTest, RoundTripsEveryField) {
  int64_t p = NewPerson();
  EnrolmentRecord e = MakeEnrolment(p, "CHILD-GRANT", kSuspended, "KD-02");
  e.start_date = absl::CivilDay(2023, 12, 31);
  e.end_date = absl::CivilDay(2026, 2, 28);
  e.amount_minor = -9'007'199'254'740'993;  // beyond double precision
  e.currency = "USD";
  e.policy_version = "ឆ្នាំ 2024 rev. 3";
  e.version = 7;
  e.created_at = Micros(1'710'000'000'123'456);
  e.updated_at = Micros(-1);  // before the epoch
  e.details = std::string("\x00\x01\x02\xff\xfe\x80 binary \x00 tail", 22);
  ASSERT_EQ(e.details.size(), 22u);
  EnrolmentRecord stored = AddEnrolment(e);
  EXPECT_GE(stored.id, 1);

  // Null end date, empty details.
  EnrolmentRecord open = MakeEnrolment(p, "OLD-AGE");
  open.details = "";
  open = AddEnrolment(open);
  EXPECT_NE(open.id, stored.id);

  absl::StatusOr<EnrolmentRecord> got = GetEnrolment(stored.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, stored);
  got = GetEnrolment(open.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, open);
  EXPECT_FALSE(got->end_date.has_value());

  // The same inside a write transaction.
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(EnrolmentRecord again, txn.GetEnrolment(stored.id));
    ExpectSameEnrolment(again, stored);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;

  // And after reopening.
  Reopen();
  got = GetEnrolment(stored.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, stored);
  EnrolmentRecord later = AddEnrolment(MakeEnrolment(p, "LATER"));
  EXPECT_GT(later.id, open.id);
}

TEST_P(EnrolmentTest, UpdateRewritesEveryColumn) {
  int64_t p = NewPerson();
  int64_t q = NewPerson();
  EnrolmentRecord e = MakeEnrolment(p, "CHILD-GRANT");
  e.end_date = absl::CivilDay(2025, 6, 30);
  e = AddEnrolment(e);

  EnrolmentRecord changed = e;
  changed.person_id = q;
  changed.programme_code = "OLD-AGE";
  changed.office_code = "KD02";
  changed.status = kEnded;
  changed.start_date = absl::CivilDay(2024, 2, 1);
  changed.end_date.reset();
  changed.amount_minor = 0;
  changed.currency = "USD";
  changed.policy_version = "2025.1";
  changed.version = 2;
  changed.created_at = Micros(1);
  changed.updated_at = Micros(1'800'000'000'000'000);
  changed.details = std::string("\xff\x00", 2);
  absl::Status s = UpdateEnrolment(changed);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<EnrolmentRecord> got = GetEnrolment(e.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, changed);
  EXPECT_THAT(ByPerson(p), IsEmpty());
  EXPECT_THAT(ByPerson(q), ElementsAre(e.id));

  // And back to a date.
  changed.end_date = absl::CivilDay(9999, 12, 31);
  s = UpdateEnrolment(changed);
  ASSERT_TRUE(s.ok()) << s;
  got = GetEnrolment(e.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, changed);
}

TEST_P(EnrolmentTest, MissingEnrolmentsAreNotFound) {
  int64_t p = NewPerson();
  EXPECT_EQ(GetEnrolment(4242).status().code(), absl::StatusCode::kNotFound);
  EnrolmentRecord ghost = MakeEnrolment(p, "CHILD-GRANT");
  ghost.id = 4242;
  absl::Status s = UpdateEnrolment(ghost);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  // Nothing was created by the failed update.
  EXPECT_THAT(ByPerson(p), IsEmpty());
  EXPECT_THAT(ByStatus(0, ""), IsEmpty());

  EnrolmentRecord e = AddEnrolment(MakeEnrolment(p, "CHILD-GRANT"));
  EXPECT_EQ(GetEnrolment(e.id + 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(ByPerson(p + 100), IsEmpty());
}

TEST_P(EnrolmentTest, EnrolmentOfMissingPersonIsFailedPrecondition) {
  absl::StatusOr<int64_t> id =
      InsertEnrolment(MakeEnrolment(31337, "CHILD-GRANT"));
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition)
      << id.status();

  EnrolmentRecord e = AddEnrolment(MakeEnrolment(NewPerson(), "CHILD-GRANT"));
  EnrolmentRecord moved = e;
  moved.person_id = 31337;
  absl::Status s = UpdateEnrolment(moved);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_P(EnrolmentTest, OneCurrentEnrolmentPerPersonAndProgramme) {
  int64_t p = NewPerson();
  int64_t q = NewPerson();
  EnrolmentRecord first = AddEnrolment(MakeEnrolment(p, "CHILD-GRANT"));

  // A second active one in the same programme is refused ...
  absl::StatusOr<int64_t> dup = InsertEnrolment(MakeEnrolment(p, "CHILD-GRANT"));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists)
      << dup.status();
  EXPECT_EQ(dup.status().message(),
            "person already enrolled in this programme");
  // ... and so is a suspended one: suspended counts as current.
  dup = InsertEnrolment(MakeEnrolment(p, "CHILD-GRANT", kSuspended));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists)
      << dup.status();
  // Another programme, or another person, is no conflict; programme codes
  // compare exactly.
  EnrolmentRecord other_programme = AddEnrolment(MakeEnrolment(p, "OLD-AGE"));
  EnrolmentRecord other_person = AddEnrolment(MakeEnrolment(q, "CHILD-GRANT"));
  EnrolmentRecord other_case = AddEnrolment(MakeEnrolment(p, "child-grant"));
  // An ended one may be added beside the current one.
  EnrolmentRecord ended_extra =
      AddEnrolment(MakeEnrolment(p, "CHILD-GRANT", kEnded));
  EXPECT_THAT(ByPerson(p), ElementsAre(first.id, other_programme.id,
                                       other_case.id, ended_extra.id));

  // Suspending the first keeps it current.
  EnrolmentRecord suspended = first;
  suspended.status = kSuspended;
  suspended.version = 2;
  ASSERT_TRUE(UpdateEnrolment(suspended).ok());
  dup = InsertEnrolment(MakeEnrolment(p, "CHILD-GRANT"));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists)
      << dup.status();

  // Once it is ended, a new enrolment in the programme is allowed.
  EnrolmentRecord ended = suspended;
  ended.status = kEnded;
  ended.end_date = absl::CivilDay(2024, 6, 30);
  ended.version = 3;
  ASSERT_TRUE(UpdateEnrolment(ended).ok());
  EnrolmentRecord second = AddEnrolment(MakeEnrolment(p, "CHILD-GRANT"));
  EXPECT_NE(second.id, first.id);

  // Reactivating (or suspending) the ended one while another is current is
  // refused, and leaves the row as it was.
  EnrolmentRecord reactivated = ended;
  reactivated.status = kActive;
  reactivated.end_date.reset();
  reactivated.version = 4;
  absl::Status s = UpdateEnrolment(reactivated);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(s.message(), "person already enrolled in this programme");
  reactivated.status = kSuspended;
  s = UpdateEnrolment(reactivated);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  absl::StatusOr<EnrolmentRecord> got = GetEnrolment(first.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, ended);

  // Updating the current one in place is no conflict with itself.
  EnrolmentRecord second_changed = second;
  second_changed.amount_minor = 200'000;
  second_changed.version = 2;
  s = UpdateEnrolment(second_changed);
  EXPECT_TRUE(s.ok()) << s;

  // Once the second is ended too, the first may be reactivated.
  EnrolmentRecord second_ended = second_changed;
  second_ended.status = kEnded;
  second_ended.version = 3;
  reactivated.status = kActive;
  s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.UpdateEnrolment(second_ended));
    return txn.UpdateEnrolment(reactivated);
  });
  EXPECT_TRUE(s.ok()) << s;
  got = GetEnrolment(first.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameEnrolment(*got, reactivated);

  // Within one write, a failed insert can be recovered from; a failed write
  // keeps nothing.
  s = store_->Write([&](Txn& txn) -> absl::Status {
    EXPECT_EQ(txn.InsertEnrolment(MakeEnrolment(p, "CHILD-GRANT"))
                  .status()
                  .code(),
              absl::StatusCode::kAlreadyExists);
    return txn.InsertEnrolment(MakeEnrolment(q, "OLD-AGE")).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.InsertEnrolment(MakeEnrolment(q, "DISABILITY")).status());
    return absl::AbortedError("on purpose");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ByPerson(q).size(), 2u);
}

TEST_P(EnrolmentTest, ListByPersonIsInIdOrder) {
  int64_t p = NewPerson();
  int64_t q = NewPerson();
  std::vector<int64_t> mine;
  mine.push_back(AddEnrolment(MakeEnrolment(p, "C", kEnded)).id);
  AddEnrolment(MakeEnrolment(q, "A"));
  mine.push_back(AddEnrolment(MakeEnrolment(p, "A")).id);
  mine.push_back(AddEnrolment(MakeEnrolment(p, "B", kSuspended, "KD02")).id);
  AddEnrolment(MakeEnrolment(q, "B"));
  mine.push_back(AddEnrolment(MakeEnrolment(p, "C")).id);
  EXPECT_THAT(ByPerson(p), ElementsAreArray(mine));

  std::vector<EnrolmentRecord> full;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(full, txn.ListEnrolmentsByPerson(p));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(full.size(), 4u);
  EnrolmentRecord want = MakeEnrolment(p, "B", kSuspended, "KD02");
  want.id = mine[2];
  ExpectSameEnrolment(full[2], want);
}

TEST_P(EnrolmentTest, ListByProgrammeFiltersAndPaginates) {
  // Programme "CG" at office "PP01": statuses 1, 3, 2, 1, 3, 1 in id order,
  // interleaved with enrolments elsewhere.
  const int statuses[] = {kActive, kEnded, kSuspended, kActive, kEnded, kActive};
  std::vector<int64_t> cg_pp01;
  std::vector<int64_t> active, ended;
  for (int i = 0; i < 6; ++i) {
    int64_t p = NewPerson();
    int64_t id = AddEnrolment(MakeEnrolment(p, "CG", statuses[i])).id;
    cg_pp01.push_back(id);
    if (statuses[i] == kActive) active.push_back(id);
    if (statuses[i] == kEnded) ended.push_back(id);
    AddEnrolment(MakeEnrolment(p, "CG", kEnded, "KD02"));      // other office
    AddEnrolment(MakeEnrolment(p, "OA", statuses[i]));         // other programme
    AddEnrolment(MakeEnrolment(p, "CG2", kActive, "PP01"));    // prefix
  }
  EXPECT_THAT(ByProgramme("CG", "PP01", 0), ElementsAreArray(cg_pp01));
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive), ElementsAreArray(active));
  EXPECT_THAT(ByProgramme("CG", "PP01", kEnded), ElementsAreArray(ended));
  EXPECT_THAT(ByProgramme("CG", "PP01", kSuspended), ElementsAre(cg_pp01[2]));
  EXPECT_EQ(ByProgramme("CG", "KD02", 0).size(), 6u);
  EXPECT_THAT(ByProgramme("CG", "KD02", kActive), IsEmpty());
  EXPECT_THAT(ByProgramme("CG", "", 0), IsEmpty());  // empty office: none
  EXPECT_THAT(ByProgramme("cg", "PP01", 0), IsEmpty());
  EXPECT_THAT(ByProgramme("NONE", "PP01", 0), IsEmpty());

  // Pages of 2, any status.
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int n = 0; n < 10; ++n) {
    std::vector<int64_t> got = ByProgramme("CG", "PP01", 0, after, 2);
    EXPECT_LE(got.size(), 2u);
    if (got.empty()) break;
    seen.insert(seen.end(), got.begin(), got.end());
    after = got.back();
  }
  EXPECT_THAT(seen, ElementsAreArray(cg_pp01));
  // Pages with a status.
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive, 0, 2),
              ElementsAre(active[0], active[1]));
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive, active[1], 2),
              ElementsAre(active[2]));
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive, cg_pp01[0], 1),
              ElementsAre(active[1]));
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive, active[2], 2), IsEmpty());
  EXPECT_THAT(ByProgramme("CG", "PP01", 0, 0, 0), IsEmpty());
  EXPECT_THAT(ByProgramme("CG", "PP01", kActive, 0, 0), IsEmpty());

  // Full records come back.
  std::vector<EnrolmentRecord> full;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(full,
                     txn.ListEnrolmentsByProgramme("CG", "PP01", kSuspended,
                                                   0, 10));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(full.size(), 1u);
  absl::StatusOr<EnrolmentRecord> want = GetEnrolment(cg_pp01[2]);
  ASSERT_TRUE(want.ok()) << want.status();
  ExpectSameEnrolment(full[0], *want);
}

TEST_P(EnrolmentTest, ListByStatusFiltersAndPaginates) {
  struct Row {
    int status;
    const char* office;
    const char* programme;
  };
  const Row rows[] = {
      {kActive, "PP01", "CG"},    {kSuspended, "PP01", "CG"},
      {kActive, "KD02", "OA"},    {kEnded, "PP01", "OA"},
      {kActive, "PP01", "OA"},    {kSuspended, "KD02", "CG"},
      {kActive, "PP010", "CG"},   {kEnded, "KD02", "CG"},
      {kActive, "KD02", "CG"},
  };
  std::vector<int64_t> ids;
  for (const Row& r : rows) {
    ids.push_back(
        AddEnrolment(MakeEnrolment(NewPerson(), r.programme, r.status, r.office))
            .id);
  }
  auto want = [&](int status, std::string office) {
    std::vector<int64_t> out;
    for (size_t i = 0; i < std::size(rows); ++i) {
      if ((status == 0 || rows[i].status == status) &&
          (office.empty() || rows[i].office == office)) {
        out.push_back(ids[i]);
      }
    }
    return out;
  };
  for (int status : {0, kActive, kSuspended, kEnded}) {
    for (const char* office : {"", "PP01", "KD02", "PP010", "ZZ"}) {
      EXPECT_THAT(ByStatus(status, office), ElementsAreArray(want(status, office)))
          << "status " << status << " office '" << office << "'";
    }
  }
  // Spot checks of the table above.
  EXPECT_THAT(ByStatus(kActive, ""),
              ElementsAre(ids[0], ids[2], ids[4], ids[6], ids[8]));
  EXPECT_THAT(ByStatus(kActive, "PP01"), ElementsAre(ids[0], ids[4]));
  EXPECT_EQ(ByStatus(0, "").size(), std::size(rows));
  EXPECT_THAT(ByStatus(4, ""), IsEmpty());

  // Pagination in every mode.
  for (int status : {0, kActive}) {
    for (const char* office : {"", "KD02"}) {
      std::vector<int64_t> seen;
      int64_t after = 0;
      for (int n = 0; n < 20; ++n) {
        std::vector<int64_t> got = ByStatus(status, office, after, 2);
        EXPECT_LE(got.size(), 2u);
        if (got.empty()) break;
        seen.insert(seen.end(), got.begin(), got.end());
        after = got.back();
      }
      EXPECT_THAT(seen, ElementsAreArray(want(status, office)))
          << "status " << status << " office '" << office << "'";
      EXPECT_THAT(ByStatus(status, office, 0, 0), IsEmpty());
    }
  }
  EXPECT_THAT(ByStatus(kActive, "", ids[2], 2), ElementsAre(ids[4], ids[6]));
  EXPECT_THAT(ByStatus(0, "PP01", ids[1], 1), ElementsAre(ids[3]));

  // A status change moves the enrolment between listings.
  absl::StatusOr<EnrolmentRecord> e = GetEnrolment(ids[0]);
  ASSERT_TRUE(e.ok()) << e.status();
  e->status = kEnded;
  ASSERT_TRUE(UpdateEnrolment(*e).ok());
  EXPECT_THAT(ByStatus(kActive, "PP01"), ElementsAre(ids[4]));
  EXPECT_THAT(ByStatus(kEnded, "PP01"), ElementsAre(ids[0], ids[3]));
}

INSTANTIATE_TEST_SUITE_P(Backends, EnrolmentTest, testing::ValuesIn(Backends()),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------
// Payments: cycles, lines, payments, reconciliation

constexpr int kOpen = 1;
constexpr int kClosed = 2;
constexpr int kCash = 1;
constexpr int kBank = 2;
const absl::CivilDay kNovFirst(2026, 11, 1);
const absl::CivilDay kNovLast(2026, 11, 30);

class PaymentTest : public EnrolmentTest {
 protected:
  CycleRecord MakeCycle(std::string programme, std::string period) {
    CycleRecord c;
    c.programme_code = std::move(programme);
    c.period = std::move(period);
    c.status = kOpen;
    c.opened_at = Micros(1'790'000'000'000'000);
    c.opened_by = "admin:ministry";
    return c;
  }

  absl::StatusOr<CycleRecord> Open(const CycleRecord& c,
                                   absl::CivilDay first = kNovFirst,
                                   absl::CivilDay last = kNovLast) {
    absl::StatusOr<CycleRecord> out = absl::UnknownError("not run");
    absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
      out = txn.InsertCycle(c, first, last);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  // Reads with `fn(txn)` returning a StatusOr.
  template <typename T, typename Fn>
  absl::StatusOr<T> ReadValue(Fn fn) {
    absl::StatusOr<T> out = absl::UnknownError("not run");
    absl::Status s = store_->Read([&](ReadTxn& txn) {
      out = fn(txn);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::vector<LineRecord> Lines(int64_t cycle_id,
                                absl::string_view office = "",
                                int64_t after = 0, int limit = 1000) {
    auto out = ReadValue<std::vector<LineRecord>>([&](ReadTxn& txn) {
      return txn.ListLines(cycle_id, office, after, limit);
    });
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<LineRecord>();
  }

  LineRecord Line(int64_t id) {
    auto out = ReadValue<LineRecord>([&](ReadTxn& txn) { return txn.GetLine(id); });
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : LineRecord();
  }

  PaymentRecord MakePayment(const LineRecord& line, int64_t amount,
                            std::string key) {
    PaymentRecord p;
    p.idempotency_key = std::move(key);
    p.cycle_id = line.cycle_id;
    p.line_id = line.id;
    p.person_id = line.person_id;
    p.programme_code = line.programme_code;
    p.period = "2026-11";
    p.office_code = line.office_code;
    p.amount_minor = amount;
    p.currency = line.currency;
    p.channel = kCash;
    p.paid_at = Micros(1'790'100'000'000'000);
    p.recorded_at = Micros(1'790'100'000'500'000);
    p.recorded_by = "terminal:PP01:T01";
    return p;
  }

  absl::StatusOr<int64_t> Pay(const PaymentRecord& p) {
    int64_t id = 0;
    absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(id, txn.InsertPayment(p));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return id;
  }

  int64_t MustPay(const PaymentRecord& p) {
    absl::StatusOr<int64_t> id = Pay(p);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }

  absl::StatusOr<int64_t> Reverse(const PaymentRecord& original,
                                  int64_t original_id) {
    PaymentRecord r = original;
    r.idempotency_key.clear();
    r.reversal_of = original_id;
    r.reversal_reason = "paid to the wrong person";
    return Pay(r);
  }

  PeriodFilter November(std::string office = "", std::string programme = "") {
    PeriodFilter f;
    f.period = "2026-11";
    f.first_day = kNovFirst;
    f.office_code = std::move(office);
    f.programme_code = std::move(programme);
    return f;
  }

  std::vector<ReconciliationTotals> Reconcile(const PeriodFilter& f) {
    auto out = ReadValue<std::vector<ReconciliationTotals>>(
        [&](ReadTxn& txn) { return txn.ReconcilePeriod(f); });
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<ReconciliationTotals>();
  }

  // An active enrolment of a new person, from 2024 on, at `office`.
  EnrolmentRecord Enrolled(std::string programme, int64_t amount,
                           std::string office = "PP01", int status = kActive) {
    EnrolmentRecord e = MakeEnrolment(NewPerson(), std::move(programme), status,
                                      std::move(office));
    e.amount_minor = amount;
    return AddEnrolment(e);
  }
};

std::vector<int64_t> LineEnrolments(const std::vector<LineRecord>& lines) {
  std::vector<int64_t> ids;
  for (const LineRecord& l : lines) ids.push_back(l.enrolment_id);
  return ids;
}

TEST_P(PaymentTest, OpeningMakesOneLinePerEnrolmentActiveInThePeriod) {
  EnrolmentRecord a = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord b = Enrolled("OLD_AGE", 120'000, "KD02");
  Enrolled("CHILD", 50'000);                       // another programme
  Enrolled("OLD_AGE", 100'000, "PP01", kSuspended);  // suspended
  Enrolled("OLD_AGE", 0);                          // nothing to pay
  EnrolmentRecord later = MakeEnrolment(NewPerson(), "OLD_AGE");
  later.start_date = absl::CivilDay(2026, 12, 1);  // starts after November
  AddEnrolment(later);
  EnrolmentRecord last_day = MakeEnrolment(NewPerson(), "OLD_AGE");
  last_day.start_date = kNovLast;  // starts on the last day: owed
  last_day = AddEnrolment(last_day);
  EnrolmentRecord ended = MakeEnrolment(NewPerson(), "OLD_AGE", kEnded);
  ended.end_date = absl::CivilDay(2026, 10, 31);
  AddEnrolment(ended);
  EnrolmentRecord ends_in_nov = MakeEnrolment(NewPerson(), "OLD_AGE");
  ends_in_nov.end_date = kNovFirst;  // active, planned to end on the 1st
  ends_in_nov = AddEnrolment(ends_in_nov);
  EnrolmentRecord ended_before = MakeEnrolment(NewPerson(), "OLD_AGE");
  ended_before.end_date = absl::CivilDay(2026, 10, 31);  // active, past end
  AddEnrolment(ended_before);

  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GT(c->id, 0);
  EXPECT_EQ(c->status, kOpen);
  ASSERT_EQ(c->totals.size(), 1u);
  EXPECT_EQ(c->totals[0].currency, "KHR");
  EXPECT_EQ(c->totals[0].lines, 4);
  EXPECT_EQ(c->totals[0].owed_minor, 100'000 + 120'000 + 150'000 + 150'000);

  std::vector<LineRecord> lines = Lines(c->id);
  EXPECT_THAT(LineEnrolments(lines),
              ElementsAre(a.id, b.id, last_day.id, ends_in_nov.id));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].cycle_id, c->id);
  EXPECT_EQ(lines[1].person_id, b.person_id);
  EXPECT_EQ(lines[1].programme_code, "OLD_AGE");
  EXPECT_EQ(lines[1].office_code, "KD02");
  EXPECT_EQ(lines[1].amount_minor, 120'000);
  EXPECT_EQ(lines[1].currency, "KHR");
  EXPECT_EQ(lines[1].payment_count, 0);
  EXPECT_EQ(lines[1].paid_minor, 0);
  EXPECT_THAT(LineEnrolments(Lines(c->id, "KD02")), ElementsAre(b.id));
  EXPECT_THAT(LineEnrolments(Lines(c->id, "", a.id, 2)),
              ElementsAre(b.id, last_day.id));

  auto by_enrolment = ReadValue<LineRecord>(
      [&](ReadTxn& txn) { return txn.GetLineByEnrolment(c->id, b.id); });
  ASSERT_TRUE(by_enrolment.ok()) << by_enrolment.status();
  EXPECT_EQ(by_enrolment->id, lines[1].id);
  EXPECT_EQ(Line(lines[1].id).enrolment_id, b.id);
}

TEST_P(PaymentTest, LinesAreFrozenWhenTheCycleOpens) {
  EnrolmentRecord a = Enrolled("OLD_AGE", 100'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  a.amount_minor = 999'999;
  a.office_code = "KD02";
  ASSERT_TRUE(UpdateEnrolment(a).ok());
  Enrolled("OLD_AGE", 100'000);  // enrolled after opening: not in the cycle
  std::vector<LineRecord> lines = Lines(c->id);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].amount_minor, 100'000);
  EXPECT_EQ(lines[0].office_code, "PP01");
  auto again = ReadValue<CycleRecord>([&](ReadTxn& txn) { return txn.GetCycle(c->id); });
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->totals.size(), 1u);
  EXPECT_EQ(again->totals[0].owed_minor, 100'000);
}

TEST_P(PaymentTest, OneCyclePerProgrammeAndPeriod) {
  Enrolled("OLD_AGE", 100'000);
  ASSERT_TRUE(Open(MakeCycle("OLD_AGE", "2026-11")).ok());
  EXPECT_EQ(Open(MakeCycle("OLD_AGE", "2026-11")).status().code(),
            absl::StatusCode::kAlreadyExists);
  // The failed attempt left no second set of lines.
  auto found = ReadValue<CycleRecord>(
      [&](ReadTxn& txn) { return txn.FindCycle("OLD_AGE", "2026-11"); });
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(Lines(found->id).size(), 1u);
  EXPECT_TRUE(Open(MakeCycle("OLD_AGE", "2026-12"), absl::CivilDay(2026, 12, 1),
                   absl::CivilDay(2026, 12, 31))
                  .ok());
  EXPECT_TRUE(Open(MakeCycle("CHILD", "2026-11")).ok());
  // An empty cycle has no totals.
  auto child = ReadValue<CycleRecord>(
      [&](ReadTxn& txn) { return txn.FindCycle("CHILD", "2026-11"); });
  ASSERT_TRUE(child.ok());
  EXPECT_THAT(child->totals, IsEmpty());
}

TEST_P(PaymentTest, CyclesListNewestFirstWithFilters) {
  std::vector<int64_t> ids;
  for (const auto& [programme, period] :
       std::vector<std::pair<std::string, std::string>>{{"OLD_AGE", "2026-10"},
                                                        {"CHILD", "2026-10"},
                                                        {"OLD_AGE", "2026-11"},
                                                        {"CHILD", "2026-11"}}) {
    absl::StatusOr<CycleRecord> c = Open(MakeCycle(programme, period));
    ASSERT_TRUE(c.ok()) << c.status();
    ids.push_back(c->id);
  }
  CycleRecord closed = MakeCycle("CHILD", "2026-10");
  closed.id = ids[1];
  closed.status = kClosed;
  closed.closed_at = Micros(1'790'200'000'000'000);
  closed.closed_by = "admin:ministry";
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdateCycle(closed); }).ok());

  auto list = [&](std::string programme, std::string period, int status,
                  int64_t before = 0, int limit = 10) {
    auto out = ReadValue<std::vector<CycleRecord>>([&](ReadTxn& txn) {
      return txn.ListCycles(programme, period, status, before, limit);
    });
    EXPECT_TRUE(out.ok()) << out.status();
    std::vector<int64_t> got;
    if (out.ok()) {
      for (const CycleRecord& c : *out) got.push_back(c.id);
    }
    return got;
  };
  EXPECT_THAT(list("", "", 0), ElementsAre(ids[3], ids[2], ids[1], ids[0]));
  EXPECT_THAT(list("", "", 0, ids[2], 1), ElementsAre(ids[1]));
  EXPECT_THAT(list("CHILD", "", 0), ElementsAre(ids[3], ids[1]));
  EXPECT_THAT(list("", "2026-10", 0), ElementsAre(ids[1], ids[0]));
  EXPECT_THAT(list("", "", kClosed), ElementsAre(ids[1]));
  EXPECT_THAT(list("OLD_AGE", "2026-11", kOpen), ElementsAre(ids[2]));

  auto got = ReadValue<CycleRecord>([&](ReadTxn& txn) { return txn.GetCycle(ids[1]); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, kClosed);
  EXPECT_EQ(got->closed_at, closed.closed_at);
  EXPECT_EQ(got->closed_by, "admin:ministry");
  EXPECT_EQ(got->opened_by, "admin:ministry");
  EXPECT_EQ(got->opened_at, Micros(1'790'000'000'000'000));
  EXPECT_EQ(got->period, "2026-10");
}

// A write reads its own change to a cycle; a write that fails leaves none.
TEST_P(PaymentTest, WritesReadTheirOwnChangesToACycle) {
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  CycleRecord closed = *c;
  closed.status = kClosed;
  closed.closed_at = Micros(1'790'200'000'000'000);
  closed.closed_by = "admin:ministry";
  std::vector<int> seen;
  auto close_then = [&](absl::Status outcome) {
    seen.clear();
    return store_->Write([&](Txn& txn) -> absl::Status {
      seen.clear();
      ASSIGN_OR_RETURN(CycleRecord before, txn.GetCycle(c->id));
      RETURN_IF_ERROR(txn.UpdateCycle(closed));
      ASSIGN_OR_RETURN(CycleRecord after, txn.GetCycle(c->id));
      seen = {before.status, after.status};
      return outcome;
    });
  };
  EXPECT_EQ(close_then(absl::FailedPreconditionError("changed my mind")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(seen, ElementsAre(kOpen, kClosed));
  ASSERT_TRUE(close_then(absl::OkStatus()).ok());
  EXPECT_THAT(seen, ElementsAre(kOpen, kClosed));
  auto got = ReadValue<CycleRecord>([&](ReadTxn& txn) { return txn.GetCycle(c->id); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status, kClosed);
}

TEST_P(PaymentTest, MissingCyclesLinesAndPaymentsAreNotFound) {
  auto code = [](const absl::Status& s) { return s.code(); };
  EXPECT_EQ(code(ReadValue<CycleRecord>([](ReadTxn& t) { return t.GetCycle(7); }).status()),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(code(ReadValue<CycleRecord>([](ReadTxn& t) {
                   return t.FindCycle("OLD_AGE", "2026-11");
                 }).status()),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(code(ReadValue<LineRecord>([](ReadTxn& t) { return t.GetLine(7); }).status()),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(code(ReadValue<LineRecord>([](ReadTxn& t) {
                   return t.GetLineByEnrolment(7, 7);
                 }).status()),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(code(ReadValue<PaymentRecord>([](ReadTxn& t) { return t.GetPayment(7); }).status()),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(code(ReadValue<PaymentRecord>([](ReadTxn& t) {
                   return t.GetPaymentByKey("k");
                 }).status()),
            absl::StatusCode::kNotFound);
  CycleRecord c = MakeCycle("OLD_AGE", "2026-11");
  c.id = 7;
  EXPECT_EQ(store_->Write([&](Txn& txn) { return txn.UpdateCycle(c); }).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(PaymentTest, PaymentRoundTripsEveryField) {
  EnrolmentRecord e = Enrolled("OLD_AGE", 100'000, "KD02");
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  LineRecord line = Lines(c->id)[0];
  PaymentRecord p = MakePayment(line, 60'000, "key-1");
  p.channel = kBank;
  p.provider_reference = "ABA-2026-0001";
  p.supplement = true;
  p.note = "paid at the counter, ស្ពាន";
  int64_t id = MustPay(p);
  ASSERT_GT(id, 0);

  auto got = ReadValue<PaymentRecord>([&](ReadTxn& t) { return t.GetPayment(id); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->idempotency_key, "key-1");
  EXPECT_EQ(got->cycle_id, c->id);
  EXPECT_EQ(got->line_id, line.id);
  EXPECT_EQ(got->person_id, e.person_id);
  EXPECT_EQ(got->programme_code, "OLD_AGE");
  EXPECT_EQ(got->period, "2026-11");
  EXPECT_EQ(got->office_code, "KD02");
  EXPECT_EQ(got->amount_minor, 60'000);
  EXPECT_EQ(got->currency, "KHR");
  EXPECT_EQ(got->channel, kBank);
  EXPECT_EQ(got->provider_reference, "ABA-2026-0001");
  EXPECT_EQ(got->paid_at, p.paid_at);
  EXPECT_TRUE(got->supplement);
  EXPECT_EQ(got->note, p.note);
  EXPECT_EQ(got->recorded_at, p.recorded_at);
  EXPECT_EQ(got->recorded_by, "terminal:PP01:T01");
  EXPECT_EQ(got->reversal_of, 0);
  EXPECT_EQ(got->reversal_reason, "");
  EXPECT_EQ(got->reversed_by, 0);

  auto by_key = ReadValue<PaymentRecord>(
      [&](ReadTxn& t) { return t.GetPaymentByKey("key-1"); });
  ASSERT_TRUE(by_key.ok());
  EXPECT_EQ(by_key->id, id);

  // Without a line.
  PaymentRecord loose = MakePayment(line, 5'000, "key-2");
  loose.line_id = 0;
  int64_t loose_id = MustPay(loose);
  auto got_loose = ReadValue<PaymentRecord>([&](ReadTxn& t) { return t.GetPayment(loose_id); });
  ASSERT_TRUE(got_loose.ok());
  EXPECT_EQ(got_loose->line_id, 0);
}

TEST_P(PaymentTest, KeysAndReversalsAreUnique) {
  Enrolled("OLD_AGE", 100'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  LineRecord line = Lines(c->id)[0];
  PaymentRecord p = MakePayment(line, 100'000, "same-key");
  int64_t id = MustPay(p);
  EXPECT_EQ(Pay(MakePayment(line, 1, "same-key")).status().code(),
            absl::StatusCode::kAlreadyExists);

  absl::StatusOr<int64_t> reversal = Reverse(p, id);
  ASSERT_TRUE(reversal.ok()) << reversal.status();
  EXPECT_EQ(Reverse(p, id).status().code(), absl::StatusCode::kAlreadyExists);

  auto got = ReadValue<PaymentRecord>([&](ReadTxn& t) { return t.GetPayment(id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->reversed_by, *reversal);
  auto entry = ReadValue<PaymentRecord>([&](ReadTxn& t) { return t.GetPayment(*reversal); });
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->reversal_of, id);
  EXPECT_EQ(entry->reversal_reason, "paid to the wrong person");
  EXPECT_EQ(entry->idempotency_key, "");
  // Reversal entries have no key, and several may coexist.
  PaymentRecord p2 = MakePayment(line, 100'000, "other-key");
  int64_t id2 = MustPay(p2);
  EXPECT_TRUE(Reverse(p2, id2).ok());
}

TEST_P(PaymentTest, PaymentsReferringToMissingRowsAreFailedPrecondition) {
  Enrolled("OLD_AGE", 100'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  LineRecord line = Lines(c->id)[0];
  PaymentRecord no_line = MakePayment(line, 1, "a");
  no_line.line_id = line.id + 1000;
  EXPECT_EQ(Pay(no_line).status().code(), absl::StatusCode::kFailedPrecondition);
  PaymentRecord no_cycle = MakePayment(line, 1, "b");
  no_cycle.cycle_id = c->id + 1000;
  EXPECT_EQ(Pay(no_cycle).status().code(), absl::StatusCode::kFailedPrecondition);
  PaymentRecord no_person = MakePayment(line, 1, "c");
  no_person.person_id = line.person_id + 1000;
  EXPECT_EQ(Pay(no_person).status().code(), absl::StatusCode::kFailedPrecondition);
  PaymentRecord without_line = MakePayment(line, 1, "d");
  without_line.line_id = 0;
  without_line.cycle_id = c->id + 1000;
  EXPECT_EQ(Pay(without_line).status().code(), absl::StatusCode::kFailedPrecondition);
  without_line.cycle_id = c->id;
  without_line.person_id = line.person_id + 1000;
  EXPECT_EQ(Pay(without_line).status().code(), absl::StatusCode::kFailedPrecondition);
  PaymentRecord no_payment = MakePayment(line, 1, "");
  no_payment.reversal_of = 1000;
  EXPECT_EQ(Pay(no_payment).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(PaymentTest, LineFiguresAreNetOfReversals) {
  Enrolled("OLD_AGE", 100'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  LineRecord line = Lines(c->id)[0];
  PaymentRecord p1 = MakePayment(line, 40'000, "k1");
  int64_t id1 = MustPay(p1);
  int64_t id2 = MustPay(MakePayment(line, 60'000, "k2"));
  EXPECT_EQ(Line(line.id).payment_count, 2);
  EXPECT_EQ(Line(line.id).paid_minor, 100'000);
  absl::StatusOr<int64_t> r1 = Reverse(p1, id1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(Line(line.id).payment_count, 1);
  EXPECT_EQ(Line(line.id).paid_minor, 60'000);
  EXPECT_EQ(Lines(c->id)[0].paid_minor, 60'000);

  auto entries = ReadValue<std::vector<PaymentRecord>>(
      [&](ReadTxn& t) { return t.ListPaymentsByLine(line.id); });
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].id, id1);
  EXPECT_EQ((*entries)[0].reversed_by, *r1);
  EXPECT_EQ((*entries)[1].id, id2);
  EXPECT_EQ((*entries)[2].reversal_of, id1);
}

// Every category, per office; the totals balance:
//   owed - (paid - reversed) == outstanding - excess.
TEST_P(PaymentTest, ReconcilePeriodClassifiesAndBalances) {
  EnrolmentRecord full = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord unpaid = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord under = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord over = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord twice = Enrolled("OLD_AGE", 100'000, "KD02");
  EnrolmentRecord reversed = Enrolled("OLD_AGE", 100'000, "KD02");
  EnrolmentRecord child = Enrolled("CHILD", 30'000, "KD02");
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<CycleRecord> cc = Open(MakeCycle("CHILD", "2026-11"));
  ASSERT_TRUE(cc.ok()) << cc.status();
  std::map<int64_t, LineRecord> line;  // by enrolment
  for (const LineRecord& l : Lines(c->id)) line[l.enrolment_id] = l;
  for (const LineRecord& l : Lines(cc->id)) line[l.enrolment_id] = l;

  MustPay(MakePayment(line[full.id], 100'000, "full"));
  MustPay(MakePayment(line[under.id], 30'000, "under"));
  MustPay(MakePayment(line[over.id], 150'000, "over"));
  MustPay(MakePayment(line[twice.id], 100'000, "twice-1"));
  MustPay(MakePayment(line[twice.id], 100'000, "twice-2"));
  PaymentRecord wrong = MakePayment(line[reversed.id], 100'000, "reversed");
  int64_t wrong_id = MustPay(wrong);
  ASSERT_TRUE(Reverse(wrong, wrong_id).ok());
  MustPay(MakePayment(line[child.id], 30'000, "child"));
  // A payment without a line, at PP01, to someone alive.
  PaymentRecord loose = MakePayment(line[full.id], 7'000, "loose");
  loose.line_id = 0;
  loose.person_id = NewPerson();
  MustPay(loose);
  // A payment on the full line's person, who turns out to have died in
  // October: the line stays paid in full, the payment is after death.
  PersonRecord dead = *GetPerson(full.person_id);
  dead.date_of_death = absl::CivilDay(2026, 10, 20);
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdatePerson(dead); }).ok());
  // Died during the period: not after death.
  PersonRecord died_in_nov = *GetPerson(under.person_id);
  died_in_nov.date_of_death = absl::CivilDay(2026, 11, 1);
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdatePerson(died_in_nov); }).ok());

  std::vector<ReconciliationTotals> rows = Reconcile(November());
  ASSERT_EQ(rows.size(), 3u);
  // KD02 CHILD
  EXPECT_EQ(rows[0].office_code, "KD02");
  EXPECT_EQ(rows[0].programme_code, "CHILD");
  EXPECT_EQ(rows[0].lines, 1);
  EXPECT_EQ(rows[0].paid_in_full, 1);
  // KD02 OLD_AGE: paid twice, and unpaid after its reversal.
  const ReconciliationTotals& kd = rows[1];
  EXPECT_EQ(kd.office_code, "KD02");
  EXPECT_EQ(kd.programme_code, "OLD_AGE");
  EXPECT_EQ(kd.currency, "KHR");
  EXPECT_EQ(kd.lines, 2);
  EXPECT_EQ(kd.owed_minor, 200'000);
  EXPECT_EQ(kd.payments, 3);
  EXPECT_EQ(kd.paid_minor, 300'000);
  EXPECT_EQ(kd.reversed_minor, 100'000);
  EXPECT_EQ(kd.outstanding_minor, 100'000);
  EXPECT_EQ(kd.excess_minor, 100'000);
  EXPECT_EQ(kd.paid_twice, 1);
  EXPECT_EQ(kd.unpaid, 1);
  EXPECT_EQ(kd.paid_in_full + kd.underpaid + kd.overpaid, 0);
  // PP01 OLD_AGE
  const ReconciliationTotals& pp = rows[2];
  EXPECT_EQ(pp.office_code, "PP01");
  EXPECT_EQ(pp.lines, 4);
  EXPECT_EQ(pp.owed_minor, 400'000);
  EXPECT_EQ(pp.payments, 4);
  EXPECT_EQ(pp.paid_minor, 100'000 + 30'000 + 150'000 + 7'000);
  EXPECT_EQ(pp.reversed_minor, 0);
  EXPECT_EQ(pp.outstanding_minor, 100'000 + 70'000);
  EXPECT_EQ(pp.excess_minor, 50'000 + 7'000);
  EXPECT_EQ(pp.paid_in_full, 1);
  EXPECT_EQ(pp.unpaid, 1);
  EXPECT_EQ(pp.underpaid, 1);
  EXPECT_EQ(pp.overpaid, 1);
  EXPECT_EQ(pp.paid_twice, 0);
  EXPECT_EQ(pp.paid_after_death, 1);
  EXPECT_EQ(pp.paid_without_entitlement, 1);
  for (const ReconciliationTotals& r : rows) {
    EXPECT_EQ(r.owed_minor - (r.paid_minor - r.reversed_minor),
              r.outstanding_minor - r.excess_minor)
        << r.office_code << " " << r.programme_code;
  }

  // Filters.
  std::vector<ReconciliationTotals> kd_only = Reconcile(November("KD02"));
  ASSERT_EQ(kd_only.size(), 2u);
  EXPECT_EQ(kd_only[1].paid_twice, 1);
  std::vector<ReconciliationTotals> child_only = Reconcile(November("", "CHILD"));
  ASSERT_EQ(child_only.size(), 1u);
  EXPECT_EQ(child_only[0].programme_code, "CHILD");
  PeriodFilter october = November();
  october.period = "2026-10";
  october.first_day = absl::CivilDay(2026, 10, 1);
  EXPECT_THAT(Reconcile(october), IsEmpty());

  // The discrepancies behind the counts.
  auto unbalanced = ReadValue<std::vector<LineRecord>>([&](ReadTxn& t) {
    return t.ListUnbalancedLines(November(), std::nullopt, 100);
  });
  ASSERT_TRUE(unbalanced.ok()) << unbalanced.status();
  EXPECT_THAT(LineEnrolments(*unbalanced),
              ElementsAre(unpaid.id, under.id, over.id, twice.id, reversed.id));
  EXPECT_EQ((*unbalanced)[3].payment_count, 2);
  EXPECT_EQ((*unbalanced)[3].paid_minor, 200'000);
  auto page = ReadValue<std::vector<LineRecord>>([&](ReadTxn& t) {
    return t.ListUnbalancedLines(
        November(), LineCursor{(*unbalanced)[1].cycle_id, (*unbalanced)[1].enrolment_id}, 2);
  });
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(LineEnrolments(*page), ElementsAre(over.id, twice.id));
  auto kd_unbalanced = ReadValue<std::vector<LineRecord>>([&](ReadTxn& t) {
    return t.ListUnbalancedLines(November("KD02"), std::nullopt, 100);
  });
  ASSERT_TRUE(kd_unbalanced.ok());
  EXPECT_THAT(LineEnrolments(*kd_unbalanced), ElementsAre(twice.id, reversed.id));

  auto irregular = ReadValue<std::vector<EffectivePayment>>([&](ReadTxn& t) {
    return t.ListIrregularPayments(November(), 0, 100);
  });
  ASSERT_TRUE(irregular.ok()) << irregular.status();
  ASSERT_EQ(irregular->size(), 2u);
  EXPECT_EQ((*irregular)[0].payment.idempotency_key, "full");
  EXPECT_EQ((*irregular)[0].date_of_death, absl::CivilDay(2026, 10, 20));
  EXPECT_EQ((*irregular)[1].payment.idempotency_key, "loose");
  EXPECT_EQ((*irregular)[1].date_of_death, std::nullopt);
  auto after_first = ReadValue<std::vector<EffectivePayment>>([&](ReadTxn& t) {
    return t.ListIrregularPayments(November(), (*irregular)[0].payment.id, 100);
  });
  ASSERT_TRUE(after_first.ok());
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ((*after_first)[0].payment.idempotency_key, "loose");
}

// The irregular payments are the effective ones of the period with no line
// or paid to a person who died before it, once each (also when both), in id
// order, whatever the store reads them through; their number is the
// aggregate's paid_after_death + paid_without_entitlement.
TEST_P(PaymentTest, IrregularPaymentsAreEffectiveOnesWithoutLineOrAfterDeath) {
  EnrolmentRecord alive = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord dead = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord dead_reversed = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord dead_kd = Enrolled("OLD_AGE", 100'000, "KD02");
  EnrolmentRecord died_in_period = Enrolled("CHILD", 30'000, "KD02");
  absl::StatusOr<CycleRecord> nov = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(nov.ok()) << nov.status();
  absl::StatusOr<CycleRecord> child = Open(MakeCycle("CHILD", "2026-11"));
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<CycleRecord> oct =
      Open(MakeCycle("OLD_AGE", "2026-10"), absl::CivilDay(2026, 10, 1),
           absl::CivilDay(2026, 10, 31));
  ASSERT_TRUE(oct.ok()) << oct.status();
  std::map<int64_t, LineRecord> line, oct_line;  // by enrolment
  for (const LineRecord& l : Lines(nov->id)) line[l.enrolment_id] = l;
  for (const LineRecord& l : Lines(child->id)) line[l.enrolment_id] = l;
  for (const LineRecord& l : Lines(oct->id)) oct_line[l.enrolment_id] = l;
  auto without_line = [&](const EnrolmentRecord& e, std::string key) {
    PaymentRecord p = MakePayment(line[e.id], 5'000, std::move(key));
    p.line_id = 0;
    return p;
  };

  MustPay(MakePayment(line[alive.id], 100'000, "regular"));
  const int64_t after_death = MustPay(MakePayment(line[dead.id], 100'000, "after-death"));
  PaymentRecord undone = MakePayment(line[dead_reversed.id], 100'000, "undone");
  ASSERT_TRUE(Reverse(undone, MustPay(undone)).ok());
  PaymentRecord loose = without_line(alive, "loose");
  const int64_t loose_id = MustPay(loose);
  // Without a line and after death: listed once.
  const int64_t both = MustPay(without_line(dead, "loose-after-death"));
  PaymentRecord loose_undone = without_line(alive, "loose-undone");
  ASSERT_TRUE(Reverse(loose_undone, MustPay(loose_undone)).ok());
  const int64_t kd = MustPay(MakePayment(line[dead_kd.id], 100'000, "after-death-kd"));
  MustPay(MakePayment(line[died_in_period.id], 30'000, "died-in-period"));
  // October's payments are not November's.
  PaymentRecord october = MakePayment(oct_line[dead.id], 100'000, "october");
  october.period = "2026-10";
  october.cycle_id = oct->id;
  MustPay(october);
  PaymentRecord october_loose = october;
  october_loose.idempotency_key = "october-loose";
  october_loose.line_id = 0;
  MustPay(october_loose);

  for (auto [e, day] : {std::pair{dead, absl::CivilDay(2026, 10, 20)},
                        std::pair{dead_reversed, absl::CivilDay(2025, 1, 1)},
                        std::pair{dead_kd, absl::CivilDay(2026, 6, 1)},
                        std::pair{died_in_period, absl::CivilDay(2026, 11, 15)}}) {
    PersonRecord p = *GetPerson(e.person_id);
    p.date_of_death = day;
    ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdatePerson(p); }).ok());
  }

  auto list = [&](const PeriodFilter& f, int64_t after, int limit) {
    auto out = ReadValue<std::vector<EffectivePayment>>(
        [&](ReadTxn& t) { return t.ListIrregularPayments(f, after, limit); });
    EXPECT_TRUE(out.ok()) << out.status();
    std::vector<std::pair<int64_t, std::optional<absl::CivilDay>>> got;
    if (out.ok()) {
      for (const EffectivePayment& e : *out) {
        got.emplace_back(e.payment.id, e.date_of_death);
      }
    }
    return got;
  };
  using Listed = std::pair<int64_t, std::optional<absl::CivilDay>>;
  const std::vector<Listed> want = {
      {after_death, absl::CivilDay(2026, 10, 20)},
      {loose_id, std::nullopt},
      {both, absl::CivilDay(2026, 10, 20)},
      {kd, absl::CivilDay(2026, 6, 1)}};
  EXPECT_THAT(list(November(), 0, 100), ElementsAreArray(want));
  // Page by page, whichever kind comes next.
  std::vector<Listed> paged;
  int64_t cursor = 0;
  for (int i = 0; i < 10; ++i) {
    std::vector<Listed> page = list(November(), cursor, 1);
    if (page.empty()) break;
    ASSERT_EQ(page.size(), 1u);
    paged.push_back(page[0]);
    cursor = page[0].first;
  }
  EXPECT_THAT(paged, ElementsAreArray(want));
  EXPECT_THAT(list(November(), loose_id, 100),
              ElementsAre(want[2], want[3]));
  EXPECT_THAT(list(November(), 0, 2), ElementsAre(want[0], want[1]));
  EXPECT_THAT(list(November("KD02"), 0, 100), ElementsAre(want[3]));
  EXPECT_THAT(list(November("PP01"), 0, 100),
              ElementsAre(want[0], want[1], want[2]));
  EXPECT_THAT(list(November("", "CHILD"), 0, 100), IsEmpty());
  PeriodFilter in_october = November();
  in_october.period = "2026-10";
  in_october.first_day = absl::CivilDay(2026, 10, 1);
  // In October, only the payment without a line: its person died after
  // October began.
  EXPECT_EQ(list(in_october, 0, 100).size(), 1u);

  int64_t counted = 0;
  for (const ReconciliationTotals& r : Reconcile(November())) {
    counted += r.paid_after_death + r.paid_without_entitlement;
  }
  EXPECT_EQ(counted, static_cast<int64_t>(want.size()));
}

TEST_P(PaymentTest, ReferencedPaymentsAreEffectiveOnesWithAReference) {
  EnrolmentRecord a = Enrolled("OLD_AGE", 100'000, "PP01");
  EnrolmentRecord b = Enrolled("CHILD", 30'000, "KD02");
  ASSERT_TRUE(Open(MakeCycle("OLD_AGE", "2026-11")).ok());
  ASSERT_TRUE(Open(MakeCycle("CHILD", "2026-11")).ok());
  auto line_of = [&](const EnrolmentRecord& e) {
    auto c = ReadValue<CycleRecord>(
        [&](ReadTxn& t) { return t.FindCycle(e.programme_code, "2026-11"); });
    EXPECT_TRUE(c.ok());
    return Lines(c->id)[0];
  };
  LineRecord la = line_of(a), lb = line_of(b);
  PaymentRecord cash = MakePayment(la, 100'000, "cash");  // no reference
  MustPay(cash);
  PaymentRecord bank = MakePayment(la, 100'000, "bank");
  bank.channel = kBank;
  bank.provider_reference = "B-1";
  int64_t bank_id = MustPay(bank);
  PaymentRecord mobile = MakePayment(lb, 30'000, "mobile");
  mobile.channel = 3;
  mobile.provider_reference = "M-1";
  int64_t mobile_id = MustPay(mobile);
  PaymentRecord undone = MakePayment(lb, 30'000, "undone");
  undone.channel = 3;
  undone.provider_reference = "M-2";
  int64_t undone_id = MustPay(undone);
  ASSERT_TRUE(Reverse(undone, undone_id).ok());

  auto ids = [&](const PeriodFilter& f, int channel, int64_t after = 0) {
    auto out = ReadValue<std::vector<PaymentRecord>>([&](ReadTxn& t) {
      return t.ListReferencedPayments(f, channel, after, 100);
    });
    EXPECT_TRUE(out.ok()) << out.status();
    std::vector<int64_t> got;
    if (out.ok()) {
      for (const PaymentRecord& p : *out) got.push_back(p.id);
    }
    return got;
  };
  EXPECT_THAT(ids(November(), 0), ElementsAre(bank_id, mobile_id));
  EXPECT_THAT(ids(November(), kBank), ElementsAre(bank_id));
  EXPECT_THAT(ids(November("KD02"), 0), ElementsAre(mobile_id));
  EXPECT_THAT(ids(November("", "OLD_AGE"), 0), ElementsAre(bank_id));
  EXPECT_THAT(ids(November(), 0, bank_id), ElementsAre(mobile_id));
}

TEST_P(PaymentTest, TotalsAreKeptPerCurrency) {
  Enrolled("OLD_AGE", 100'000);
  EnrolmentRecord usd = MakeEnrolment(NewPerson(), "OLD_AGE");
  usd.amount_minor = 2'500;
  usd.currency = "USD";
  AddEnrolment(usd);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->totals.size(), 2u);
  EXPECT_EQ(c->totals[0].currency, "KHR");
  EXPECT_EQ(c->totals[0].owed_minor, 100'000);
  EXPECT_EQ(c->totals[1].currency, "USD");
  EXPECT_EQ(c->totals[1].owed_minor, 2'500);
  std::vector<ReconciliationTotals> rows = Reconcile(November());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].currency, "KHR");
  EXPECT_EQ(rows[1].currency, "USD");
  EXPECT_EQ(rows[1].unpaid, 1);
}

TEST_P(PaymentTest, FailedOpeningKeepsNoLines) {
  Enrolled("OLD_AGE", 100'000);
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.InsertCycle(MakeCycle("OLD_AGE", "2026-11"), kNovFirst,
                                    kNovLast)
                        .status());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  auto found = ReadValue<CycleRecord>(
      [&](ReadTxn& t) { return t.FindCycle("OLD_AGE", "2026-11"); });
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Lines(c->id).size(), 1u);
}

// A refused cycle or payment leaves the transaction usable: the logic
// records a batch of payments in one Write, some of them refused.
// A person announced as a line's person (Prefetch) is read as GetPerson
// reads it, and only when that is the person asked for.
TEST_P(PaymentTest, APersonAnnouncedAsALinesPersonIsTheOneAskedFor) {
  const EnrolmentRecord paid = Enrolled("OLD_AGE", 100'000);
  const EnrolmentRecord other = Enrolled("CHILD", 50'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  const LineRecord line = Lines(c->id)[0];
  ASSERT_EQ(line.person_id, paid.person_id);
  Lookahead ahead;
  ahead.line_id = line.id;
  ahead.person_of_line = line.id;
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    ASSIGN_OR_RETURN(LineRecord read, txn.GetLine(line.id));
    EXPECT_EQ(read.person_id, paid.person_id);
    ASSIGN_OR_RETURN(PersonRecord person, txn.GetPerson(paid.person_id));
    EXPECT_EQ(person.id, paid.person_id);
    EXPECT_EQ(person.given_name, "E");
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    ASSIGN_OR_RETURN(PersonRecord person, txn.GetPerson(other.person_id));
    EXPECT_EQ(person.id, other.person_id);
    ASSIGN_OR_RETURN(person, txn.GetPerson(paid.person_id));
    EXPECT_EQ(person.id, paid.person_id);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_P(PaymentTest, FnMayGoOnAfterARefusedCycleOrPayment) {
  Enrolled("OLD_AGE", 100'000);
  absl::StatusOr<CycleRecord> c = Open(MakeCycle("OLD_AGE", "2026-11"));
  ASSERT_TRUE(c.ok()) << c.status();
  LineRecord line = Lines(c->id)[0];
  PaymentRecord first = MakePayment(line, 40'000, "batch-1");
  const int64_t first_id = MustPay(first);
  int64_t second_id = 0;
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    EXPECT_EQ(txn.InsertCycle(MakeCycle("OLD_AGE", "2026-11"), kNovFirst, kNovLast)
                  .status()
                  .code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(txn.InsertPayment(MakePayment(line, 1, "batch-1")).status().code(),
              absl::StatusCode::kAlreadyExists);
    PaymentRecord reversal = first;
    reversal.idempotency_key.clear();
    reversal.reversal_of = first_id;
    reversal.reversal_reason = "wrong amount";
    RETURN_IF_ERROR(txn.InsertPayment(reversal).status());
    EXPECT_EQ(txn.InsertPayment(reversal).status().code(), absl::StatusCode::kAlreadyExists);
    PaymentRecord no_line = MakePayment(line, 1, "batch-x");
    no_line.line_id = line.id + 1000;
    EXPECT_EQ(txn.InsertPayment(no_line).status().code(),
              absl::StatusCode::kFailedPrecondition);
    ASSIGN_OR_RETURN(second_id, txn.InsertPayment(MakePayment(line, 100'000, "batch-2")));
    // Visible to the rest of the transaction.
    ASSIGN_OR_RETURN(LineRecord now, txn.GetLine(line.id));
    EXPECT_EQ(now.payment_count, 1);
    EXPECT_EQ(now.paid_minor, 100'000);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GT(second_id, first_id);
  EXPECT_EQ(Line(line.id).paid_minor, 100'000);
  EXPECT_EQ(Lines(c->id).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, PaymentTest, testing::ValuesIn(Backends()),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------
// Policy activations

TEST_P(StoreTest, PolicyActivations) {
  absl::Status s = store_->Read([](ReadTxn& txn) {
    EXPECT_EQ(txn.GetActivePolicy().status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;

  auto make = [](int i) {
    PolicyRecord p;
    p.activated_at = Micros(1'720'000'000'000'000 + i);
    p.activated_by = absl::StrCat("admin-", i, "@moi");
    p.file_name = absl::StrCat("policy-2024.", i, ".textproto");
    p.text = absl::StrCat("# ឆ្នាំ ២០២៤\nversion: \"2024.", i,
                          "\"\nprogramme { code: \"CG\" }\n");
    return p;
  };
  std::vector<int64_t> seqs;
  for (int i = 1; i <= 3; ++i) {
    PolicyRecord p = make(i);
    if (i == 3) p.text = "";  // an empty text is stored as given
    int64_t seq = 0;
    s = store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(seq, txn.InsertPolicy(p));
      // The new activation is visible in the same transaction.
      ASSIGN_OR_RETURN(PolicyRecord active, txn.GetActivePolicy());
      EXPECT_EQ(active.seq, seq);
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    if (!seqs.empty()) {
      EXPECT_GT(seq, seqs.back());
    }
    EXPECT_GE(seq, 1);
    seqs.push_back(seq);

    PolicyRecord active;
    s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(active, txn.GetActivePolicy());
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(active.seq, seq);
    EXPECT_EQ(active.activated_at, p.activated_at);
    EXPECT_EQ(active.activated_by, p.activated_by);
    EXPECT_EQ(active.file_name, p.file_name);
    EXPECT_EQ(active.text, p.text);
  }

  // A failed write activates nothing.
  s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.InsertPolicy(make(9)).status());
    return absl::AbortedError("on purpose");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);

  Reopen();
  PolicyRecord active;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(active, txn.GetActivePolicy());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(active.seq, seqs.back());
  EXPECT_EQ(active.file_name, make(3).file_name);

  int64_t next = 0;
  s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(next, txn.InsertPolicy(make(4)));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GT(next, seqs.back());
}

// ---------------------------------------------------------------------------
// Users

constexpr int kClerk = 1;
constexpr int kSupervisor = 2;

UserRecord MakeUser(std::string name, std::string office = "PP01") {
  UserRecord u;
  u.user_name = std::move(name);
  u.display_name = absl::StrCat("Clerk ", u.user_name);
  u.role = kClerk;
  u.office_code = std::move(office);
  u.password_hash = "pbkdf2-sha256$600000$c2FsdA$aGFzaA";
  u.version = 1;
  u.created_at = Micros(1'720'000'000'000'000);
  u.updated_at = u.created_at;
  return u;
}

void ExpectSameUser(const UserRecord& got, const UserRecord& want) {
  EXPECT_EQ(got.user_name, want.user_name);
  EXPECT_EQ(got.display_name, want.display_name);
  EXPECT_EQ(got.role, want.role);
  EXPECT_EQ(got.office_code, want.office_code);
  EXPECT_EQ(got.disabled, want.disabled);
  EXPECT_EQ(got.password_hash, want.password_hash);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

std::vector<std::string> UserNames(const std::vector<UserRecord>& users) {
  std::vector<std::string> names;
  for (const UserRecord& u : users) names.push_back(u.user_name);
  return names;
}

class UserTest : public StoreTest {
 protected:
  absl::Status InsertUser(const UserRecord& u) {
    return store_->Write([&](Txn& txn) { return txn.InsertUser(u); });
  }

  absl::Status UpdateUser(const UserRecord& u) {
    return store_->Write([&](Txn& txn) { return txn.UpdateUser(u); });
  }

  absl::StatusOr<UserRecord> GetUser(absl::string_view name) {
    absl::StatusOr<UserRecord> out = absl::UnknownError("not run");
    absl::Status s = store_->Read([&](ReadTxn& txn) {
      out = txn.GetUser(name);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::vector<std::string> List(absl::string_view office,
                                absl::string_view after = "",
                                int limit = 100) {
    std::vector<UserRecord> out;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, txn.ListUsers(office, after, limit));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return UserNames(out);
  }

  // Every page of `limit` names, following the cursor to the end.
  std::vector<std::vector<std::string>> Pages(absl::string_view office,
                                              int limit) {
    std::vector<std::vector<std::string>> pages;
    std::string after;
    for (int guard = 0; guard < 100; ++guard) {
      std::vector<std::string> page = List(office, after, limit);
      if (page.empty()) break;
      after = page.back();
      pages.push_back(std::move(page));
    }
    return pages;
  }
};

TEST_P(UserTest, RoundTripsEveryField) {
  UserRecord u = MakeUser("sokha.chan_2", "PP-01");
  u.display_name = "សុខា Chan (Nguyễn), desk 3";
  u.role = kSupervisor;
  u.disabled = true;
  u.password_hash =
      "pbkdf2-sha256$600000$3q2+7w/AbC==$Zm9vYmFyYmF6cXV4+/0123456789abcdef";
  u.created_at = Micros(1'720'000'000'123'456);
  u.updated_at = Micros(1'720'000'001'654'321);
  ASSERT_TRUE(InsertUser(u).ok());
  absl::StatusOr<UserRecord> got = GetUser(u.user_name);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, u);

  // The same inside a write transaction (a Txn is a ReadTxn), and after
  // reopening the store.
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(UserRecord again, txn.GetUser(u.user_name));
    ExpectSameUser(again, u);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  Reopen();
  got = GetUser(u.user_name);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, u);
}

TEST_P(UserTest, PlainUserRoundTripsAndStartsAtVersionOne) {
  UserRecord u = MakeUser("abc");
  u.display_name = "";
  u.created_at = absl::UnixEpoch();
  u.updated_at = Micros(-5);  // before the epoch
  u.version = 7;  // the store writes 1 whatever the record says (records.h)
  ASSERT_TRUE(InsertUser(u).ok());
  absl::StatusOr<UserRecord> got = GetUser("abc");
  ASSERT_TRUE(got.ok()) << got.status();
  u.version = 1;
  ExpectSameUser(*got, u);
  EXPECT_FALSE(got->disabled);
}

TEST_P(UserTest, MissingUserIsNotFound) {
  EXPECT_EQ(GetUser("nobody").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(InsertUser(MakeUser("somebody")).ok());
  EXPECT_EQ(GetUser("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetUser("somebod").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetUser("").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(UserTest, UserNameIsUnique) {
  UserRecord first = MakeUser("dara");
  ASSERT_TRUE(InsertUser(first).ok());
  UserRecord second = MakeUser("dara", "KD02");
  second.display_name = "Another Dara";
  second.role = kSupervisor;
  absl::Status s = InsertUser(second);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(s.message(), "user name already taken");
  // The first is untouched.
  absl::StatusOr<UserRecord> got = GetUser("dara");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, first);

  // fn may go on after the refusal, and what it does next is committed.
  s = store_->Write([&](Txn& txn) -> absl::Status {
    EXPECT_EQ(txn.InsertUser(second).code(), absl::StatusCode::kAlreadyExists);
    second.user_name = "dara2";
    return txn.InsertUser(second);
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(List(""), ElementsAre("dara", "dara2"));
}

TEST_P(UserTest, UpdateOverwritesEveryColumn) {
  UserRecord u = MakeUser("vanna");
  ASSERT_TRUE(InsertUser(u).ok());
  UserRecord changed = u;
  changed.display_name = "Vanna Sok (supervisor)";
  changed.role = kSupervisor;
  changed.office_code = "KD02";
  changed.disabled = true;
  changed.password_hash = "pbkdf2-sha256$700000$bmV3$bmV3aGFzaA";
  changed.version = 2;
  changed.created_at = Micros(1);
  changed.updated_at = Micros(1'800'000'000'000'000);
  absl::Status s = UpdateUser(changed);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<UserRecord> got = GetUser("vanna");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, changed);
  EXPECT_THAT(List("PP01"), IsEmpty());
  EXPECT_THAT(List("KD02"), ElementsAre("vanna"));

  // And back.
  changed.role = kClerk;
  changed.disabled = false;
  changed.version = 3;
  s = UpdateUser(changed);
  ASSERT_TRUE(s.ok()) << s;
  got = GetUser("vanna");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, changed);
}

TEST_P(UserTest, UpdateOfMissingUserIsNotFound) {
  ASSERT_TRUE(InsertUser(MakeUser("present")).ok());
  UserRecord ghost = MakeUser("ghost");
  ghost.version = 2;
  absl::Status s = UpdateUser(ghost);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  // Nothing was created by the failed update.
  EXPECT_EQ(GetUser("ghost").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(List(""), ElementsAre("present"));
}

// Names are ordered byte by byte: '-' < '.' < digits < '_' < letters, which
// no natural-language collation does.
TEST_P(UserTest, ListsByNameWithinAnOfficeAndAcrossOffices) {
  for (auto [name, office] : std::vector<std::pair<std::string, std::string>>{
           {"zoe", "PP01"},
           {"ab", "PP01"},
           {"a_b", "KD02"},
           {"a.b", "PP01"},
           {"a-b", "KD02"},
           {"a1", "PP01"},
           {"bopha", "KD02"},
           {"chan", "PP01"},
           {"dara", "SR03"}}) {
    ASSERT_TRUE(InsertUser(MakeUser(name, office)).ok()) << name;
  }
  EXPECT_THAT(List(""), ElementsAre("a-b", "a.b", "a1", "a_b", "ab", "bopha",
                                    "chan", "dara", "zoe"));
  EXPECT_THAT(List("PP01"), ElementsAre("a.b", "a1", "ab", "chan", "zoe"));
  EXPECT_THAT(List("KD02"), ElementsAre("a-b", "a_b", "bopha"));
  EXPECT_THAT(List("SR03"), ElementsAre("dara"));
  EXPECT_THAT(List("XX99"), IsEmpty());
  EXPECT_THAT(List("PP0"), IsEmpty());  // exact office, not a prefix

  // Pages of 2, following the cursor.
  using Page = std::vector<std::string>;
  EXPECT_THAT(Pages("", 2),
              ElementsAre(Page{"a-b", "a.b"}, Page{"a1", "a_b"},
                          Page{"ab", "bopha"}, Page{"chan", "dara"},
                          Page{"zoe"}));
  EXPECT_THAT(Pages("PP01", 2), ElementsAre(Page{"a.b", "a1"},
                                            Page{"ab", "chan"}, Page{"zoe"}));
  // The cursor need not be a stored name; it is excluded when it is one.
  EXPECT_THAT(List("", "b"), ElementsAre("bopha", "chan", "dara", "zoe"));
  EXPECT_THAT(List("PP01", "ab", 2), ElementsAre("chan", "zoe"));
  EXPECT_THAT(List("KD02", "bopha"), IsEmpty());
  EXPECT_THAT(List("", "zzz"), IsEmpty());
  EXPECT_THAT(List("", "", 0), IsEmpty());
  EXPECT_THAT(List("PP01", "", -1), IsEmpty());
}

TEST_P(UserTest, ListedUsersCarryEveryField) {
  UserRecord u = MakeUser("listed");
  u.role = kSupervisor;
  u.disabled = true;
  ASSERT_TRUE(InsertUser(u).ok());
  for (absl::string_view office : {"", "PP01"}) {
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<UserRecord> users,
                       txn.ListUsers(office, "", 10));
      EXPECT_EQ(users.size(), 1u);
      if (!users.empty()) ExpectSameUser(users[0], u);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST_P(UserTest, FailedWriteKeepsNoUser) {
  UserRecord existing = MakeUser("existing");
  ASSERT_TRUE(InsertUser(existing).ok());
  const absl::Status on_purpose =
      absl::InvalidArgumentError("display_name: rejected on purpose");
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.InsertUser(MakeUser("newcomer")));
    UserRecord changed = existing;
    changed.disabled = true;
    changed.version = 2;
    RETURN_IF_ERROR(txn.UpdateUser(changed));
    // Both are visible inside the transaction.
    EXPECT_TRUE(txn.GetUser("newcomer").ok());
    return on_purpose;
  });
  EXPECT_EQ(s, on_purpose);
  EXPECT_EQ(GetUser("newcomer").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<UserRecord> got = GetUser("existing");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, existing);
  EXPECT_THAT(List(""), ElementsAre("existing"));
}

// The schema keeps stored roles to socle.v1.Role's clerk and supervisor; the
// logic checks them first, so a refusal here is a bug (INTERNAL).
TEST_P(UserTest, RoleOutsideTheStoredValuesIsRefused) {
  for (int role : {0, 3}) {
    UserRecord u = MakeUser(absl::StrCat("role", role));
    u.role = role;
    EXPECT_EQ(InsertUser(u).code(), absl::StatusCode::kInternal) << role;
  }
  ASSERT_TRUE(InsertUser(MakeUser("ok")).ok());
  UserRecord u = MakeUser("ok");
  u.role = 0;
  EXPECT_EQ(UpdateUser(u).code(), absl::StatusCode::kInternal);
  EXPECT_THAT(List(""), ElementsAre("ok"));
}

INSTANTIATE_TEST_SUITE_P(Backends, UserTest, testing::ValuesIn(Backends()),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------
// Requests and audit

TEST_P(StoreTest, RequestsAreStoredOnce) {
  RequestRecord r;
  r.request_id = "0f8e-4c1a";
  r.method = "/socle.v1.Registry/RegisterPerson";
  r.request = std::string("\x0a\x03\x00\xffx", 5);
  r.response = std::string("\x12\x00", 2);
  r.created_at = Micros(1'700'000'000'000'007);
  absl::Status s = store_->Write([&](Txn& txn) { return txn.PutRequest(r); });
  ASSERT_TRUE(s.ok()) << s;

  RequestRecord other = r;
  other.response = "different";
  s = store_->Write([&](Txn& txn) { return txn.PutRequest(other); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;

  RequestRecord got;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(got, txn.GetRequest(r.request_id));
    EXPECT_EQ(txn.GetRequest("0f8e-4c1b").status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got.request_id, r.request_id);
  EXPECT_EQ(got.method, r.method);
  EXPECT_EQ(got.request, r.request);
  EXPECT_EQ(got.response, r.response);
  EXPECT_EQ(got.created_at, r.created_at);
}

TEST_P(StoreTest, AuditAppendLastAndList) {
  EXPECT_EQ(store_->Read([](ReadTxn& txn) { return txn.LastAudit().status(); })
                .code(),
            absl::StatusCode::kNotFound);
  for (int64_t seq = 1; seq <= 5; ++seq) {
    absl::Status s = store_->Write(
        [&](Txn& txn) { return txn.AppendAudit(MakeAudit(seq)); });
    ASSERT_TRUE(s.ok()) << s;
  }
  AuditRecord dup = MakeAudit(3);
  dup.action = "Other";
  absl::Status s =
      store_->Write([&](Txn& txn) { return txn.AppendAudit(dup); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;

  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(AuditRecord last, txn.LastAudit());
    ExpectSameAudit(last, MakeAudit(5));
    ASSIGN_OR_RETURN(std::vector<AuditRecord> first, txn.ListAudit(0, 3));
    EXPECT_EQ(first.size(), 3u);
    for (size_t i = 0; i < first.size(); ++i) {
      ExpectSameAudit(first[i], MakeAudit(static_cast<int64_t>(i) + 1));
    }
    ASSIGN_OR_RETURN(std::vector<AuditRecord> rest, txn.ListAudit(3, 10));
    EXPECT_EQ(rest.size(), 2u);
    if (rest.size() == 2) {
      EXPECT_EQ(rest[0].seq, 4);
      EXPECT_EQ(rest[1].seq, 5);
    }
    ASSIGN_OR_RETURN(std::vector<AuditRecord> none, txn.ListAudit(5, 10));
    EXPECT_THAT(none, IsEmpty());
    ASSIGN_OR_RETURN(none, txn.ListAudit(0, 0));
    EXPECT_THAT(none, IsEmpty());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

std::vector<int64_t> Seqs(const std::vector<AuditRecord>& entries) {
  std::vector<int64_t> seqs;
  for (const AuditRecord& e : entries) seqs.push_back(e.seq);
  return seqs;
}

TEST_P(StoreTest, AuditQueryBySubjectActorOfficeAndTime) {
  // 30 entries: subjects cycle over 3 persons, actors over 2 terminals and
  // an administrator, offices over 2 (none for the administrator), one
  // entry a minute.
  const absl::Time t0 = Micros(1'700'000'000'000'000);
  for (int64_t seq = 1; seq <= 30; ++seq) {
    AuditRecord a = MakeAudit(seq);
    a.at = t0 + absl::Minutes(seq);
    a.subject = absl::StrCat("person-", seq % 3);
    a.actor = seq % 3 == 0 ? "admin:ops"
              : seq % 2   ? "terminal:PP01:T1"
                          : "terminal:PP02:T9";
    a.office_code = seq % 3 == 0 ? "" : seq % 2 ? "PP01" : "PP02";
    absl::Status s = store_->Write([&](Txn& txn) { return txn.AppendAudit(a); });
    ASSERT_TRUE(s.ok()) << s;
  }
  auto query = [&](const AuditFilter& f, int64_t after, int limit) {
    std::vector<int64_t> seqs;
    absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<AuditRecord> got, txn.QueryAudit(f, after, limit));
      seqs = Seqs(got);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return seqs;
  };
  AuditFilter all;
  EXPECT_EQ(query(all, 0, 100).size(), 30u);
  EXPECT_THAT(query(all, 28, 100), ElementsAre(29, 30));
  EXPECT_THAT(query(all, 0, 0), IsEmpty());

  AuditFilter subject;
  subject.subject = "person-1";
  EXPECT_THAT(query(subject, 0, 100), ElementsAre(1, 4, 7, 10, 13, 16, 19, 22, 25, 28));
  EXPECT_THAT(query(subject, 10, 3), ElementsAre(13, 16, 19));  // paged
  subject.subject = "person-";
  EXPECT_THAT(query(subject, 0, 100), IsEmpty());  // exact, not a prefix

  AuditFilter actor;
  actor.actor_prefix = "terminal:";
  EXPECT_EQ(query(actor, 0, 100).size(), 20u);
  actor.actor_prefix = "terminal:PP02";
  EXPECT_THAT(query(actor, 0, 100), ElementsAre(2, 4, 8, 10, 14, 16, 20, 22, 26, 28));
  actor.actor_prefix = "admin:ops";
  EXPECT_EQ(query(actor, 0, 100).size(), 10u);
  actor.actor_prefix = "admin:opsx";
  EXPECT_THAT(query(actor, 0, 100), IsEmpty());
  actor.actor_prefix = "%";  // no pattern characters
  EXPECT_THAT(query(actor, 0, 100), IsEmpty());

  AuditFilter office;
  office.office_code = "PP01";
  EXPECT_THAT(query(office, 0, 100), ElementsAre(1, 5, 7, 11, 13, 17, 19, 23, 25, 29));
  EXPECT_THAT(query(office, 13, 2), ElementsAre(17, 19));

  AuditFilter time;
  time.since = t0 + absl::Minutes(10);
  time.until = t0 + absl::Minutes(13);
  EXPECT_THAT(query(time, 0, 100), ElementsAre(10, 11, 12));  // until excluded
  time.until.reset();
  EXPECT_EQ(query(time, 0, 100).size(), 21u);
  time.since.reset();
  time.until = t0 + absl::Minutes(3);
  EXPECT_THAT(query(time, 0, 100), ElementsAre(1, 2));

  AuditFilter combined;  // every condition at once
  combined.subject = "person-1";
  combined.actor_prefix = "terminal:PP01";
  combined.office_code = "PP01";
  combined.since = t0 + absl::Minutes(5);
  combined.until = t0 + absl::Minutes(25);
  EXPECT_THAT(query(combined, 0, 100), ElementsAre(7, 13, 19));
  combined.subject.clear();  // by office, with the rest
  EXPECT_THAT(query(combined, 0, 100), ElementsAre(5, 7, 11, 13, 17, 19, 23));
  combined.office_code.clear();  // by actor and time
  EXPECT_THAT(query(combined, 0, 100), ElementsAre(5, 7, 11, 13, 17, 19, 23));
}

// ---------------------------------------------------------------------------
// Transactions

TEST_P(StoreTest, FailedWriteKeepsNothing) {
  PersonRecord existing = AddPerson(MakePerson("Old", "One", kBirth, "N-0"));
  const absl::Status on_purpose =
      absl::InvalidArgumentError("given_name: rejected on purpose");
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t p,
                     txn.InsertPerson(MakePerson("New", "Two", kBirth, "N-1")));
    ASSIGN_OR_RETURN(int64_t h, txn.InsertHousehold(MakeHousehold(p)));
    RETURN_IF_ERROR(txn.InsertMember(
        MemberRecord{.household_id = h, .person_id = p, .relationship = 1}));
    RETURN_IF_ERROR(txn.InsertLifeEvent(MakeEvent(p, kBirth, 3)).status());
    RequestRecord r;
    r.request_id = "req-failed";
    r.method = "m";
    RETURN_IF_ERROR(txn.PutRequest(r));
    RETURN_IF_ERROR(txn.AppendAudit(MakeAudit(1)));
    PersonRecord changed = existing;
    changed.given_name = "Changed";
    changed.version = 2;
    RETURN_IF_ERROR(txn.UpdatePerson(changed));
    return on_purpose;
  });
  EXPECT_EQ(s, on_purpose);

  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    EXPECT_EQ(txn.GetPersonByNationalId("N-1").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.GetRequest("req-failed").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(txn.LastAudit().status().code(), absl::StatusCode::kNotFound);
    ASSIGN_OR_RETURN(std::vector<PersonRecord> all,
                     txn.FindPersonsByOffice("PP01", 0, 100));
    EXPECT_THAT(Ids(all), ElementsAre(existing.id));
    ASSIGN_OR_RETURN(PersonRecord old, txn.GetPerson(existing.id));
    ExpectSamePerson(old, existing);
    ASSIGN_OR_RETURN(std::vector<LifeEventRecord> events,
                     txn.ListLifeEvents(existing.id + 1, std::nullopt, 10));
    EXPECT_THAT(events, IsEmpty());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_P(StoreTest, FnMayRecoverFromAFailedStatement) {
  AddPerson(MakePerson("A", "One", kBirth, "N-1"));
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    EXPECT_EQ(
        txn.InsertPerson(MakePerson("B", "Two", kBirth, "N-1")).status().code(),
        absl::StatusCode::kAlreadyExists);
    return txn.InsertPerson(MakePerson("B", "Two", kBirth, "N-2")).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(GetByNationalId("N-2").ok());
  EXPECT_EQ(ByOffice("PP01", 0, 10).size(), 2u);
}

// Lookups announced ahead (Prefetch) answer as if asked when they are asked:
// those asked after a write see it, those asked before it do not, and an
// announced lookup never asked leaves nothing behind.
TEST_P(StoreTest, LookupsAnnouncedAheadSeeTheWritesBeforeTheyAreAsked) {
  const PersonRecord first = MakePerson("A", "One", kBirth, "N-1");
  AddPerson(first);
  const PersonRecord second = MakePerson("A", "One", kBirth, "N-2");
  Lookahead ahead;
  ahead.national_id = "N-2";
  ahead.duplicates = DuplicateKey{second.name_key, second.date_of_birth, second.district_key};
  ahead.request_id = "never-asked";
  ahead.inserts_person = true;
  ahead.appends_audit = true;
  int64_t second_id = 0;
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    EXPECT_TRUE(absl::IsNotFound(txn.GetPersonByNationalId("N-2").status()));
    ASSIGN_OR_RETURN(second_id, txn.InsertPerson(second));
    ASSIGN_OR_RETURN(PersonRecord found, txn.GetPersonByNationalId("N-2"));
    EXPECT_EQ(found.id, second_id);
    ASSIGN_OR_RETURN(std::vector<PersonRecord> duplicates,
                     txn.FindPossibleDuplicates(second.name_key, second.date_of_birth,
                                                second.district_key));
    EXPECT_EQ(duplicates.size(), 2u);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  // The same lookups, announced again, now find what the write left.
  s = store_->Write([&](Txn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    ASSIGN_OR_RETURN(PersonRecord found, txn.GetPersonByNationalId("N-2"));
    EXPECT_EQ(found.id, second_id);
    EXPECT_TRUE(absl::IsNotFound(txn.GetRequest("never-asked").status()));
    EXPECT_TRUE(absl::IsNotFound(txn.LastAudit().status()));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ahead.person_id = second_id;
  ahead.membership_of = second_id;
  ahead.enrolments_of = second_id;
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    txn.Prefetch(ahead);
    ASSIGN_OR_RETURN(PersonRecord found, txn.GetPersonByNationalId("N-2"));
    EXPECT_EQ(found.id, second_id);
    ASSIGN_OR_RETURN(found, txn.GetPerson(second_id));
    EXPECT_EQ(found.national_id, "N-2");
    EXPECT_TRUE(absl::IsNotFound(txn.GetMembership(second_id).status()));
    ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> enrolments,
                     txn.ListEnrolmentsByPerson(second_id));
    EXPECT_TRUE(enrolments.empty());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(ByOffice("PP01", 0, 10).size(), 2u);
}

TEST_P(StoreTest, ReadReturnsFnStatusUnchanged) {
  const absl::Status mine = absl::PermissionDeniedError("mine");
  EXPECT_EQ(store_->Read([&](ReadTxn&) { return mine; }), mine);
}

TEST_P(StoreTest, FailuresInAGroupDoNotAffectTheOthers) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::vector<std::vector<absl::Status>> statuses(
      kThreads, std::vector<absl::Status>(kPerThread));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string nid = absl::StrCat("T", t, "-", i);
        statuses[t][i] = store_->Write([&](Txn& txn) -> absl::Status {
          RETURN_IF_ERROR(
              txn.InsertPerson(MakePerson("W", nid, kBirth, nid)).status());
          RequestRecord r;
          r.request_id = nid;
          r.method = "m";
          RETURN_IF_ERROR(txn.PutRequest(r));
          if (i % 3 == 0) return absl::AbortedError("failed on purpose");
          if (i % 5 == 0) {
            // A domain error from the store itself.
            return txn.PutRequest(r);
          }
          return absl::OkStatus();
        });
      }
    });
  }
  for (std::thread& th : threads) th.join();

  int ok = 0;
  absl::Status s = store_->Read([&](ReadTxn& txn) {
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        std::string nid = absl::StrCat("T", t, "-", i);
        absl::StatusCode want = i % 3 == 0   ? absl::StatusCode::kAborted
                                : i % 5 == 0 ? absl::StatusCode::kAlreadyExists
                                             : absl::StatusCode::kOk;
        EXPECT_EQ(statuses[t][i].code(), want) << nid << statuses[t][i];
        absl::StatusCode present = want == absl::StatusCode::kOk
                                       ? absl::StatusCode::kOk
                                       : absl::StatusCode::kNotFound;
        EXPECT_EQ(txn.GetPersonByNationalId(nid).status().code(), present)
            << nid;
        EXPECT_EQ(txn.GetRequest(nid).status().code(), present) << nid;
        if (want == absl::StatusCode::kOk) ++ok;
      }
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(static_cast<int>(ByOffice("PP01", 0, 10000).size()), ok);
}

TEST_P(StoreTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 32;
  constexpr int kPerThread = 50;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> id =
            InsertPerson(MakePerson("C", absl::StrCat(t, " ", i), kBirth,
                                    absl::StrCat("C", t, "-", i)));
        if (id.ok()) {
          ids[t].push_back(*id);
        } else {
          ++failures;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> distinct;
  for (const auto& v : ids) distinct.insert(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kPerThread));

  std::set<int64_t> listed;
  int64_t after = 0;
  for (;;) {
    std::vector<PersonRecord> page = ByOffice("PP01", after, 500);
    if (page.empty()) break;
    for (const PersonRecord& p : page) listed.insert(p.id);
    after = page.back().id;
  }
  EXPECT_EQ(listed, distinct);
}

TEST_P(StoreTest, ConcurrentReadersAndWriters) {
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 6; ++r) {
    readers.emplace_back([&] {
      size_t last = 0;
      while (!done.load()) {
        std::vector<PersonRecord> page = ByOffice("PP01", 0, 100000);
        // Committed writes never disappear.
        if (page.size() < last) ++bad_reads;
        last = page.size();
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 40; ++i) {
        EXPECT_TRUE(
            InsertPerson(MakePerson("R", absl::StrCat(w, i), kBirth)).ok());
      }
    });
  }
  for (std::thread& th : writers) th.join();
  done = true;
  for (std::thread& th : readers) th.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(ByOffice("PP01", 0, 100000).size(), 320u);
}

TEST_P(StoreTest, DataSurvivesReopening) {
  PersonRecord p = MakePerson("Reo", "Pen", kBirth, "N-R");
  p.facts = std::string("\x00\x01", 2);
  p = AddPerson(p);
  HouseholdRecord h = MakeHousehold(p.id);
  h.id = AddHousehold(h);
  ASSERT_TRUE(AddMember(h.id, p.id, 1).ok());
  LifeEventRecord e = MakeEvent(p.id, absl::CivilDay(2022, 2, 2), 4);
  RequestRecord r;
  r.request_id = "req-reopen";
  r.method = "m";
  r.response = "resp";
  absl::Status s = store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(e.id, txn.InsertLifeEvent(e));
    RETURN_IF_ERROR(txn.PutRequest(r));
    return txn.AppendAudit(MakeAudit(1));
  });
  ASSERT_TRUE(s.ok()) << s;

  Reopen();

  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord got, txn.GetPersonByNationalId("N-R"));
    ExpectSamePerson(got, p);
    ASSIGN_OR_RETURN(HouseholdRecord hh, txn.GetHousehold(h.id));
    ExpectSameHousehold(hh, h);
    ASSIGN_OR_RETURN(MemberRecord m, txn.GetMembership(p.id));
    EXPECT_EQ(m.household_id, h.id);
    ASSIGN_OR_RETURN(std::vector<LifeEventRecord> events,
                     txn.ListLifeEvents(p.id, std::nullopt, 10));
    EXPECT_EQ(events.size(), 1u);
    if (!events.empty()) ExpectSameEvent(events[0], e);
    ASSIGN_OR_RETURN(RequestRecord rr, txn.GetRequest("req-reopen"));
    EXPECT_EQ(rr.response, "resp");
    ASSIGN_OR_RETURN(AuditRecord a, txn.LastAudit());
    ExpectSameAudit(a, MakeAudit(1));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;

  // Ids keep growing after a reopen.
  PersonRecord later = AddPerson(MakePerson("Later", "One", kBirth));
  EXPECT_GT(later.id, p.id);
}

// ---------------------------------------------------------------------------
// Personal data at rest (storage/keys.h): lookups through the blind index,
// uniqueness, rotation.

KeyRing::Key FilledKey(unsigned char byte) {
  KeyRing::Key k;
  k.fill(byte);
  return k;
}

std::shared_ptr<const KeyRing> TestRing(std::map<uint32_t, KeyRing::Key> keys) {
  return *KeyRing::Make(std::move(keys), FilledKey(0x42));
}

TEST_P(StoreTest, NationalIdIsFoundAndKeptUniqueThroughItsBlindIndex) {
  PersonRecord a = MakePerson("Ana", "One", kBirth, "KH-000111");
  a.facts = "facts of a";
  a = AddPerson(a);
  PersonRecord b = AddPerson(MakePerson("Bo", "Two", kBirth, "KH-000222"));
  // Duplicate refusal on insert and on update.
  EXPECT_EQ(InsertPerson(MakePerson("Cy", "Three", kBirth, "KH-000111")).status().code(),
            absl::StatusCode::kAlreadyExists);
  PersonRecord b2 = b;
  b2.national_id = "KH-000111";
  absl::Status s = store_->Write([&](Txn& txn) { return txn.UpdatePerson(b2); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  // A person may lose the ID, and another take it.
  PersonRecord a2 = a;
  a2.national_id = "";
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdatePerson(a2); }).ok());
  ASSERT_TRUE(store_->Write([&](Txn& txn) { return txn.UpdatePerson(b2); }).ok());
  s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord got, txn.GetPersonByNationalId("KH-000111"));
    EXPECT_EQ(got.id, b.id);
    EXPECT_EQ(txn.GetPersonByNationalId("KH-000222").status().code(),
              absl::StatusCode::kNotFound);
    ASSIGN_OR_RETURN(PersonRecord got_a, txn.GetPerson(a.id));
    EXPECT_EQ(got_a.national_id, "");
    EXPECT_EQ(got_a.facts, "facts of a");
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST_P(StoreTest, RotationResealsUnderTheNewestKeyAndOldKeyCanGo) {
  const auto k1 = FilledKey(1), k2 = FilledKey(2);
  store_.reset();
  store_ = GetParam().open_with_keys(dir_.path(), TestRing({{1, k1}}));
  ASSERT_NE(store_, nullptr);
  std::vector<PersonRecord> persons;
  for (int i = 0; i < 7; ++i) {
    PersonRecord p = MakePerson(absl::StrCat("P", i), "Rot", kBirth,
                                i % 2 == 0 ? absl::StrCat("ROT-", i) : "");
    p.facts = absl::StrCat("facts ", i);
    persons.push_back(AddPerson(p));
  }
  RequestRecord r;
  r.request_id = "rot-1";
  r.method = "m";
  r.request = "the request";
  r.response = "the answer";
  LifeEventRecord e = MakeEvent(persons[0].id, absl::CivilDay(2022, 2, 2), 4);
  e.details = "wage 1234567";
  ASSERT_TRUE(store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(e.id, txn.InsertLifeEvent(e));
    return txn.PutRequest(r);
  }).ok());

  auto check_all = [&](Store& store) {
    absl::Status s = store.Read([&](ReadTxn& txn) -> absl::Status {
      for (const PersonRecord& p : persons) {
        ASSIGN_OR_RETURN(PersonRecord got, txn.GetPerson(p.id));
        ExpectSamePerson(got, p);
        if (!p.national_id.empty()) {
          ASSIGN_OR_RETURN(PersonRecord by_id, txn.GetPersonByNationalId(p.national_id));
          EXPECT_EQ(by_id.id, p.id);
        }
      }
      ASSIGN_OR_RETURN(RequestRecord got, txn.GetRequest("rot-1"));
      EXPECT_EQ(got.request, "the request");
      EXPECT_EQ(got.response, "the answer");
      ASSIGN_OR_RETURN(std::vector<LifeEventRecord> events,
                       txn.ListLifeEvents(persons[0].id, std::nullopt, 10));
      EXPECT_EQ(events.size(), 1u);
      if (!events.empty()) ExpectSameEvent(events[0], e);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  };

  // Key 2 added: old values still open; new ones are sealed under key 2.
  store_.reset();
  store_ = GetParam().open_with_keys(dir_.path(), TestRing({{1, k1}, {2, k2}}));
  ASSERT_NE(store_, nullptr);
  check_all(*store_);

  // Rotate in batches of 3: persons then requests.
  int64_t after = 0, resealed = 0, batches = 0;
  for (;;) {
    ResealBatch batch;
    ASSERT_TRUE(store_->Write([&](Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(batch, txn.ResealPersons(after, 3));
      return absl::OkStatus();
    }).ok());
    ++batches;
    resealed += batch.resealed;
    if (batch.scanned == 0) break;
    EXPECT_GT(batch.last_person_id, after);
    after = batch.last_person_id;
  }
  EXPECT_EQ(resealed, 7);
  EXPECT_EQ(batches, 4);  // 3 + 3 + 1, then an empty one
  ResealBatch requests;
  ASSERT_TRUE(store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(requests, txn.ResealRequests("", 100));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(requests.scanned, 1);
  EXPECT_EQ(requests.resealed, 1);
  EXPECT_EQ(requests.last_request_id, "rot-1");
  ResealBatch events;
  ASSERT_TRUE(store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(events, txn.ResealLifeEvents(0, 100));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(events.scanned, 1);
  EXPECT_EQ(events.resealed, 1);
  EXPECT_EQ(events.last_event_id, e.id);

  // Idempotent: a second pass rewrites nothing.
  ASSERT_TRUE(store_->Write([&](Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(ResealBatch again, txn.ResealPersons(0, 100));
    EXPECT_EQ(again.scanned, 7);
    EXPECT_EQ(again.resealed, 0);
    ASSIGN_OR_RETURN(ResealBatch again_r, txn.ResealRequests("", 100));
    EXPECT_EQ(again_r.resealed, 0);
    ASSIGN_OR_RETURN(ResealBatch again_e, txn.ResealLifeEvents(0, 100));
    EXPECT_EQ(again_e.resealed, 0);
    return absl::OkStatus();
  }).ok());

  // Key 1 dropped: everything still opens.
  store_.reset();
  store_ = GetParam().open_with_keys(dir_.path(), TestRing({{2, k2}}));
  ASSERT_NE(store_, nullptr);
  check_all(*store_);

  // Without the key that sealed them, values do not open.
  store_.reset();
  store_ = GetParam().open_with_keys(dir_.path(), TestRing({{3, FilledKey(3)}}));
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(GetPerson(persons[0].id).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreTest, ReadSeesCommittedButNotUncommittedData) {
  AddPerson(MakePerson("Early", "One", kBirth, "EARLY"));
  Signal inserted, release;
  absl::Status write_status;
  std::thread writer([&] {
    write_status = store_->Write([&](Txn& txn) -> absl::Status {
      RETURN_IF_ERROR(
          txn.InsertPerson(MakePerson("Late", "Two", kBirth, "LATE")).status());
      inserted.Notify();
      release.Wait();
      return absl::OkStatus();
    });
  });
  inserted.Wait();
  // The write is open and holds its rows: a read neither waits for it nor
  // sees them.
  absl::Status s = store_->Read([&](ReadTxn& txn) {
    EXPECT_TRUE(txn.GetPersonByNationalId("EARLY").ok());
    EXPECT_EQ(txn.GetPersonByNationalId("LATE").status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  release.Notify();
  writer.join();
  ASSERT_TRUE(write_status.ok()) << write_status;
  EXPECT_TRUE(GetByNationalId("LATE").ok());
}

TEST_P(StoreTest, ReadIsASnapshot) {
  PersonRecord p = AddPerson(MakePerson("Snap", "Shot", kBirth, "N-S"));
  Signal first_read, updated;
  std::thread writer([&] {
    first_read.Wait();
    PersonRecord changed = p;
    changed.version = 2;
    changed.given_name = "Changed";
    EXPECT_TRUE(
        store_->Write([&](Txn& txn) { return txn.UpdatePerson(changed); })
            .ok());
    EXPECT_TRUE(InsertPerson(MakePerson("New", "One", kBirth, "N-T")).ok());
    updated.Notify();
  });
  absl::Status s = store_->Read([&](ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord before, txn.GetPerson(p.id));
    first_read.Notify();
    updated.Wait();
    // Later commits are not visible inside this read.
    ASSIGN_OR_RETURN(PersonRecord after, txn.GetPerson(p.id));
    EXPECT_EQ(after.given_name, before.given_name);
    EXPECT_EQ(txn.GetPersonByNationalId("N-T").status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  writer.join();
  absl::StatusOr<PersonRecord> now = GetPerson(p.id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->given_name, "Changed");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, testing::ValuesIn(Backends()),
                         [](const testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace socle::storage
