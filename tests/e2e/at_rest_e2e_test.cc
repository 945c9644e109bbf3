// Personal data at rest, end to end: persons registered through the server
// with distinctive national IDs, incomes and disabilities; then the raw bytes
// of the SQLite database, its write-ahead log and a backup are searched for
// those values, as text and in the encodings they would take (protobuf
// varints, fixed-width integers, the serialized facts), and none is found.
// Lookup by national ID and duplicate refusal still work.
#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string FixedLe(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

std::string FixedBe(uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

std::string Utf16Le(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

struct Planted {
  std::string national_id;  // as typed
  int64_t income;
  int disability_percent;
};

TEST(AtRestE2eTest, PlantedValuesAreNowhereInTheDatabaseItsWalOrABackup) {
  testing::ServerHarness harness;
  client::Client client = harness.Client();
  const std::vector<Planted> planted = {
      {"zq-plant-7301945", 987654321, 73},
      {"XJ-PLANT-5550123", 4242424242, 61},
      {"  vw-plant-8080808 ", 3141592653, 88},
  };
  std::vector<std::string> needles;
  for (size_t i = 0; i < planted.size(); ++i) {
    const Planted& p = planted[i];
    v1::Person person;
    person.set_national_id(p.national_id);
    person.set_given_name(absl::StrCat("Plant", i));
    person.set_family_name("Atrest");
    person.set_sex(v1::SEX_FEMALE);
    person.mutable_date_of_birth()->set_year(1970 + static_cast<int>(i));
    person.mutable_date_of_birth()->set_month(3);
    person.mutable_date_of_birth()->set_day(9);
    person.mutable_address()->set_province("Siem Reap");
    person.mutable_address()->set_district("Puok");
    v1::PersonFacts& facts = *person.mutable_facts();
    facts.mutable_monthly_income()->set_minor_units(p.income);
    facts.mutable_monthly_income()->set_currency("KHR");
    facts.mutable_disability()->set_certified(true);
    facts.mutable_disability()->set_degree_percent(p.disability_percent);
    auto registered = client.RegisterPerson(person);
    ASSERT_TRUE(registered.ok()) << registered.status();

    std::string id(absl::StripAsciiWhitespace(p.national_id));
    needles.push_back(id);
    absl::AsciiStrToUpper(&id);
    needles.push_back(id);
    needles.push_back(Utf16Le(id));
    needles.push_back(id.substr(id.size() - 7));  // the digits alone
    const uint64_t income = static_cast<uint64_t>(p.income);
    needles.push_back(absl::StrCat(p.income));
    needles.push_back(Varint(income));
    // Fixed-width forms (SQLite stores integers big-endian); every income
    // here has 4 significant bytes or more, so that a chance match in the
    // file's other bytes stays out of reach.
    needles.push_back(FixedLe(income, 8));
    needles.push_back(FixedBe(income, 8));
    if (income <= 0xffffffffu) {
      needles.push_back(FixedLe(income, 4));
      needles.push_back(FixedBe(income, 4));
    }
    // The serialized facts, and the income and disability messages inside.
    needles.push_back(facts.SerializeAsString());
    needles.push_back(facts.monthly_income().SerializeAsString());
    needles.push_back(facts.disability().SerializeAsString());
    // What the server answered (and stores as the request's answer).
    needles.push_back(registered->facts().SerializeAsString());
  }

  // A wage in a life event (job found), for the first person.
  {
    auto found = client.FindByNationalId("ZQ-PLANT-7301945");
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ(found->persons_size(), 1);
    v1::LifeEvent event;
    event.mutable_date()->set_year(2025);
    event.mutable_date()->set_month(6);
    event.mutable_date()->set_day(1);
    event.mutable_job_found()->mutable_monthly_wage()->set_minor_units(2718281828);
    event.mutable_job_found()->mutable_monthly_wage()->set_currency("KHR");
    event.mutable_job_found()->set_employer("PLANTEMPLOYER");
    auto recorded = client.RecordLifeEvent(found->persons(0).beneficiary_number(), event);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    needles.push_back("PLANTEMPLOYER");
    needles.push_back("2718281828");
    needles.push_back(Varint(2718281828u));
    needles.push_back(FixedBe(2718281828u, 8));
    needles.push_back(event.job_found().SerializeAsString());
  }

  // Still found by national ID (typed differently), and still unique.
  auto found = client.FindByNationalId("ZQ-PLANT-7301945 ");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->persons_size(), 1);
  EXPECT_EQ(found->persons(0).facts().monthly_income().minor_units(), 987654321);
  EXPECT_EQ(found->persons(0).facts().disability().degree_percent(), 73);
  v1::Person again;
  again.set_national_id("xj-plant-5550123");
  again.set_given_name("Other");
  again.set_family_name("Person");
  again.set_sex(v1::SEX_MALE);
  again.mutable_date_of_birth()->set_year(1980);
  again.mutable_date_of_birth()->set_month(1);
  again.mutable_date_of_birth()->set_day(1);
  again.mutable_address()->set_district("Puok");
  EXPECT_EQ(client.RegisterPerson(again).status().code(), absl::StatusCode::kAlreadyExists);

  // A backup while the server runs (VACUUM INTO reads through the WAL).
  const std::string db = harness.db_path();
  const std::string backup = db + ".backup";
  {
    sqlite3* conn = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(conn, absl::StrCat("VACUUM INTO '", backup, "'").c_str(), nullptr,
                           nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_close(conn);
  }
  const std::string files[] = {db, db + "-wal", backup};
  // The control: names are not sealed, so they are in the backup and in the
  // database or its WAL (where recent pages are until a checkpoint): the
  // search does see the rows.
  EXPECT_NE(ReadAll(backup).find("Atrest"), std::string::npos);
  EXPECT_NE((ReadAll(db) + ReadAll(db + "-wal")).find("Atrest"), std::string::npos);
  for (const std::string& file : files) {
    const std::string bytes = ReadAll(file);
    SCOPED_TRACE(file);
    for (const std::string& needle : needles) {
      EXPECT_EQ(bytes.find(needle), std::string::npos)
          << "found " << absl::CHexEscape(needle) << " in " << file;
    }
  }

  // socle-admin keys rotate, over TLS: everything is already under the one
  // key (1), so it reseals nothing and says so; a terminal may not run it.
  auto admin = [&](const std::string& identity) {
    return testing::RunShell(
        absl::StrCat("SOCLE_ENDPOINT=", harness.endpoint(), " SOCLE_CA=", harness.cert("ca.pem"),
                     " SOCLE_ADMIN_CERT=", harness.cert(identity + ".pem"),
                     " SOCLE_ADMIN_KEY=", harness.cert(identity + ".key"), " ", SOCLE_ADMIN,
                     " keys rotate --batch-size 2"),
        harness.cert_dir());
  };
  testing::ProcessResult rotated = admin("admin");
  EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_THAT(rotated.out, ::testing::HasSubstr("under data key 1 (0 of "));
  testing::ProcessResult refused = admin("terminal");
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
}

}  // namespace
}  // namespace socle
