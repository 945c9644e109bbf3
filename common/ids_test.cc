#include "common/ids.h"

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/field_error.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

// Expects INVALID_ARGUMENT carrying exactly one violation, on `field`.
void ExpectInvalid(const absl::StatusOr<int64_t>& result,
                   const std::string& field) {
  ASSERT_FALSE(result.ok()) << "parsed as " << *result;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
  std::vector<FieldViolation> violations =
      GetFieldViolations(result.status());
  ASSERT_EQ(violations.size(), 1u) << result.status();
  EXPECT_EQ(violations[0].field, field);
  EXPECT_FALSE(violations[0].description.empty());
}

TEST(IdsTest, KnownFormats) {
  // Body 100000000 + id, Verhoeff check digit computed independently.
  EXPECT_EQ(FormatBeneficiaryNumber(1), "1000000013");
  EXPECT_EQ(FormatBeneficiaryNumber(42), "1000000423");
  EXPECT_EQ(FormatBeneficiaryNumber(kMaxNumberedId), "9999999990");
  EXPECT_EQ(FormatHouseholdNumber(1), "H1000000013");
  EXPECT_EQ(FormatHouseholdNumber(42), "H1000000423");
}

TEST(IdsTest, RoundTrip) {
  for (int64_t id : {int64_t{1}, int64_t{42}, int64_t{123'456'789},
                     kMaxNumberedId}) {
    std::string b = FormatBeneficiaryNumber(id);
    EXPECT_EQ(b.size(), 10u);
    absl::StatusOr<int64_t> parsed = ParseBeneficiaryNumber(b, "person.number");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, id);

    std::string h = FormatHouseholdNumber(id);
    EXPECT_EQ(h.size(), 11u);
    EXPECT_EQ(h[0], 'H');
    parsed = ParseHouseholdNumber(h, "household.number");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, id);
  }
}

TEST(IdsTest, RandomRoundTrip) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(1, kMaxNumberedId);
  for (int n = 0; n < 10000; ++n) {
    int64_t id = dist(rng);
    ASSERT_EQ(*ParseBeneficiaryNumber(FormatBeneficiaryNumber(id), "f"), id);
    ASSERT_EQ(*ParseHouseholdNumber(FormatHouseholdNumber(id), "f"), id);
  }
}

TEST(IdsTest, SpacesAndDashesIgnored) {
  EXPECT_EQ(*ParseBeneficiaryNumber("100 000 0423", "f"), 42);
  EXPECT_EQ(*ParseBeneficiaryNumber("100-000-042-3", "f"), 42);
  EXPECT_EQ(*ParseBeneficiaryNumber("  1000-000 423 ", "f"), 42);
  EXPECT_EQ(*ParseBeneficiaryNumber("-1000000423-", "f"), 42);
  EXPECT_EQ(*ParseHouseholdNumber("H 100 000 0423", "f"), 42);
  EXPECT_EQ(*ParseHouseholdNumber("  H-1000-000-423  ", "f"), 42);
  EXPECT_EQ(*ParseHouseholdNumber("h1000000423", "f"), 42);  // lower-case h
}

TEST(IdsTest, EmptyIsInvalid) {
  ExpectInvalid(ParseBeneficiaryNumber("", "person.number"), "person.number");
  ExpectInvalid(ParseBeneficiaryNumber(" - ", "person.number"),
                "person.number");
  ExpectInvalid(ParseHouseholdNumber("", "household.number"),
                "household.number");
  ExpectInvalid(ParseHouseholdNumber("H", "household.number"),
                "household.number");
}

TEST(IdsTest, WrongLengthIsInvalid) {
  ExpectInvalid(ParseBeneficiaryNumber("100000042", "a.b"), "a.b");    // 9
  ExpectInvalid(ParseBeneficiaryNumber("10000004233", "a.b"), "a.b");  // 11
  ExpectInvalid(ParseBeneficiaryNumber("1", "a.b"), "a.b");
  ExpectInvalid(ParseHouseholdNumber("H100000042", "a.b"), "a.b");
  ExpectInvalid(ParseHouseholdNumber("H10000004233", "a.b"), "a.b");
}

TEST(IdsTest, LettersAreInvalid) {
  ExpectInvalid(ParseBeneficiaryNumber("100000042x", "n"), "n");
  ExpectInvalid(ParseBeneficiaryNumber("abcdefghij", "n"), "n");
  ExpectInvalid(ParseBeneficiaryNumber("1000000O23", "n"), "n");  // letter O
  ExpectInvalid(ParseBeneficiaryNumber("1000000423\t", "n"), "n");
  ExpectInvalid(ParseBeneficiaryNumber("100000042\xc3\xa9", "n"), "n");
  ExpectInvalid(ParseHouseholdNumber("HH100000042", "n"), "n");
  ExpectInvalid(ParseHouseholdNumber("H10000004a3", "n"), "n");
}

TEST(IdsTest, BadCheckDigitIsInvalid) {
  ExpectInvalid(ParseBeneficiaryNumber("1000000424", "person.number"),
                "person.number");
  ExpectInvalid(ParseHouseholdNumber("H1000000424", "household.number"),
                "household.number");
}

TEST(IdsTest, BodyOutOfRangeIsInvalid) {
  // Valid Verhoeff numbers whose body is not 100000000 + id for id >= 1.
  std::string zero = FormatBeneficiaryNumber(0);  // body 100000000: id 0
  ExpectInvalid(ParseBeneficiaryNumber(zero, "n"), "n");
  // A leading zero: body 012345678 < 100000000, whatever the last digit
  // (one of the ten passes the check digit and must still be refused).
  std::string low = "0123456780";
  for (char c = '0'; c <= '9'; ++c) {
    low.back() = c;
    ExpectInvalid(ParseBeneficiaryNumber(low, "n"), "n");
  }
}

TEST(IdsTest, HouseholdNumberNeedsLeadingH) {
  std::string digits = FormatBeneficiaryNumber(42);
  ExpectInvalid(ParseHouseholdNumber(digits, "household.number"),
                "household.number");
  ExpectInvalid(ParseHouseholdNumber("X" + digits, "household.number"),
                "household.number");
  ExpectInvalid(ParseHouseholdNumber(digits + "H", "household.number"),
                "household.number");
  // And a beneficiary number is not a household number the other way round.
  ExpectInvalid(ParseBeneficiaryNumber(FormatHouseholdNumber(42), "n"), "n");
}

// A clerk's typo never turns one person's number into another person's.
TEST(IdsTest, EverySingleDigitTypoIsRejected) {
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<int64_t> dist(1, kMaxNumberedId);
  std::vector<int64_t> ids = {1, 42, 99, 100, 123'456'789, kMaxNumberedId};
  for (int n = 0; n < 2000; ++n) ids.push_back(dist(rng));
  for (int64_t id : ids) {
    const std::string number = FormatBeneficiaryNumber(id);
    for (size_t i = 0; i < number.size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == number[i]) continue;
        std::string typo = number;
        typo[i] = d;
        absl::StatusOr<int64_t> b = ParseBeneficiaryNumber(typo, "n");
        ASSERT_FALSE(b.ok()) << number << " -> " << typo << " = " << *b;
        ASSERT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
        absl::StatusOr<int64_t> h = ParseHouseholdNumber("H" + typo, "n");
        ASSERT_FALSE(h.ok()) << "H" << typo << " = " << *h;
      }
    }
    for (size_t i = 0; i + 1 < number.size(); ++i) {
      if (number[i] == number[i + 1]) continue;
      std::string swapped = number;
      std::swap(swapped[i], swapped[i + 1]);
      ASSERT_FALSE(ParseBeneficiaryNumber(swapped, "n").ok())
          << number << " -> " << swapped;
    }
  }
}

}  // namespace
}  // namespace socle
