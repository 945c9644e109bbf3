#include "common/dates.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "common/field_error.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

void ExpectBadDate(absl::string_view text) {
  absl::StatusOr<absl::CivilDay> d = ParseDate(text, "person.date_of_birth");
  ASSERT_FALSE(d.ok()) << "'" << text << "' parsed as " << *d;
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FieldViolation> v = GetFieldViolations(d.status());
  ASSERT_EQ(v.size(), 1u) << d.status();
  EXPECT_EQ(v[0].field, "person.date_of_birth");
}

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

TEST(ParseDateTest, ValidDates) {
  EXPECT_EQ(*ParseDate("2024-02-29", "f"), Day(2024, 2, 29));  // leap year
  EXPECT_EQ(*ParseDate("2000-02-29", "f"), Day(2000, 2, 29));  // 400 rule
  EXPECT_EQ(*ParseDate("1999-12-31", "f"), Day(1999, 12, 31));
  EXPECT_EQ(*ParseDate("0001-01-01", "f"), Day(1, 1, 1));
  EXPECT_EQ(*ParseDate("9999-12-31", "f"), Day(9999, 12, 31));
  EXPECT_EQ(*ParseDate("2023-04-30", "f"), Day(2023, 4, 30));
}

TEST(ParseDateTest, NotCalendarDates) {
  ExpectBadDate("2023-02-29");  // common year
  ExpectBadDate("1900-02-29");  // century, not divisible by 400
  ExpectBadDate("2024-02-30");
  ExpectBadDate("2023-04-31");
  ExpectBadDate("2023-13-01");
  ExpectBadDate("2023-00-10");
  ExpectBadDate("2023-01-00");
  ExpectBadDate("2023-01-32");
  ExpectBadDate("0000-01-01");  // year 0
}

TEST(ParseDateTest, StrictFormat) {
  ExpectBadDate("");
  ExpectBadDate("2024-2-1");
  ExpectBadDate("2024-02-1");
  ExpectBadDate("24-02-01");
  ExpectBadDate("2024-02-01x");  // trailing junk
  ExpectBadDate("2024-02-01 ");
  ExpectBadDate(" 2024-02-01");
  ExpectBadDate("2024-02-01T00:00:00");
  ExpectBadDate("2024/02/01");
  ExpectBadDate("20240201");
  ExpectBadDate("01-02-2024");
  // Ten characters with the dashes in place, but not all digits: signs and
  // white space that a lenient integer parser would accept.
  ExpectBadDate("+024-02-01");
  ExpectBadDate("-024-02-01");
  ExpectBadDate(" 024-02-01");
  ExpectBadDate("2024-+2-01");
  ExpectBadDate("2024- 2-01");
  ExpectBadDate("2024-02- 1");
  ExpectBadDate("2024-02-1 ");
  ExpectBadDate("2024-0a-01");
  ExpectBadDate(std::string("2024-02-0\0", 10));
}

TEST(IsValidDateTest, Ranges) {
  EXPECT_TRUE(IsValidDate(1, 1, 1));
  EXPECT_TRUE(IsValidDate(9999, 12, 31));
  EXPECT_FALSE(IsValidDate(0, 1, 1));
  EXPECT_FALSE(IsValidDate(10000, 1, 1));
  EXPECT_FALSE(IsValidDate(-1, 1, 1));
  EXPECT_TRUE(IsValidDate(2024, 2, 29));
  EXPECT_FALSE(IsValidDate(2023, 2, 29));
  EXPECT_FALSE(IsValidDate(2023, 6, 31));
  EXPECT_FALSE(IsValidDate(2023, 1, 0));
  EXPECT_FALSE(IsValidDate(2023, 0, 1));
}

TEST(FormatDateTest, ZeroPadding) {
  EXPECT_EQ(FormatDate(Day(2024, 2, 9)), "2024-02-09");
  EXPECT_EQ(FormatDate(Day(1999, 12, 31)), "1999-12-31");
  EXPECT_EQ(FormatDate(Day(5, 1, 2)), "0005-01-02");
  EXPECT_EQ(FormatDate(Day(987, 10, 1)), "0987-10-01");
}

TEST(FormatDateTest, RoundTripsWithParse) {
  for (absl::CivilDay d = Day(1999, 12, 1); d <= Day(2001, 3, 31); ++d) {
    absl::StatusOr<absl::CivilDay> back = ParseDate(FormatDate(d), "f");
    ASSERT_TRUE(back.ok()) << FormatDate(d) << ": " << back.status();
    ASSERT_EQ(*back, d);
  }
}

TEST(AgeInYearsTest, BirthdayBoundary) {
  absl::CivilDay birth = Day(1990, 6, 15);
  EXPECT_EQ(AgeInYears(birth, birth), 0);
  EXPECT_EQ(AgeInYears(birth, Day(2020, 6, 14)), 29);  // day before
  EXPECT_EQ(AgeInYears(birth, Day(2020, 6, 15)), 30);  // on the birthday
  EXPECT_EQ(AgeInYears(birth, Day(2020, 6, 16)), 30);
  EXPECT_EQ(AgeInYears(birth, Day(2020, 5, 31)), 29);  // earlier month
  EXPECT_EQ(AgeInYears(birth, Day(2020, 7, 1)), 30);   // later month
  EXPECT_EQ(AgeInYears(birth, Day(1991, 6, 14)), 0);
  EXPECT_EQ(AgeInYears(birth, Day(1991, 6, 15)), 1);
  // Across a year end.
  EXPECT_EQ(AgeInYears(Day(2000, 12, 31), Day(2018, 12, 30)), 17);
  EXPECT_EQ(AgeInYears(Day(2000, 12, 31), Day(2018, 12, 31)), 18);
  EXPECT_EQ(AgeInYears(Day(2001, 1, 1), Day(2018, 12, 31)), 17);
  EXPECT_EQ(AgeInYears(Day(2001, 1, 1), Day(2019, 1, 1)), 18);
}

TEST(AgeInYearsTest, LeapDayBirthday) {
  absl::CivilDay birth = Day(2004, 2, 29);
  // Common year: still 17 on 28 February, 18 on 1 March.
  EXPECT_EQ(AgeInYears(birth, Day(2022, 2, 28)), 17);
  EXPECT_EQ(AgeInYears(birth, Day(2022, 3, 1)), 18);
  EXPECT_EQ(AgeInYears(birth, Day(2023, 2, 28)), 18);
  EXPECT_EQ(AgeInYears(birth, Day(2023, 3, 1)), 19);
  // Leap year: a year older on 29 February itself.
  EXPECT_EQ(AgeInYears(birth, Day(2024, 2, 28)), 19);
  EXPECT_EQ(AgeInYears(birth, Day(2024, 2, 29)), 20);
  EXPECT_EQ(AgeInYears(birth, Day(2024, 3, 1)), 20);
  // 28 February and 1 March birthdays are not affected by leap years.
  EXPECT_EQ(AgeInYears(Day(2004, 2, 28), Day(2023, 2, 28)), 19);
  EXPECT_EQ(AgeInYears(Day(2004, 3, 1), Day(2024, 2, 29)), 19);
  EXPECT_EQ(AgeInYears(Day(2004, 3, 1), Day(2024, 3, 1)), 20);
}

// Against a brute-force count of birthdays passed, over every day of a span.
TEST(AgeInYearsTest, MatchesBirthdayCount) {
  for (absl::CivilDay birth : {Day(2000, 2, 29), Day(2001, 3, 1),
                               Day(2003, 12, 31), Day(2002, 1, 1)}) {
    int age = 0;
    for (absl::CivilDay on = birth; on < Day(2030, 1, 1); ++on) {
      // A birthday: same month and day, or 1 March for a 29 February birth
      // in a common year.
      bool leap = IsValidDate(static_cast<int>(on.year()), 2, 29);
      bool birthday =
          on != birth &&
          ((on.month() == birth.month() && on.day() == birth.day()) ||
           (birth.month() == 2 && birth.day() == 29 && !leap &&
            on.month() == 3 && on.day() == 1));
      if (birthday) ++age;
      ASSERT_EQ(AgeInYears(birth, on), age)
          << FormatDate(birth) << " on " << FormatDate(on);
    }
  }
}

}  // namespace
}  // namespace socle
