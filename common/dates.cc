#include "common/dates.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/field_error.h"

namespace socle {

std::string FormatDate(absl::CivilDay day) {
  // By hand for years 0..9999 (every date socle stores): the policy engine
  // writes a dozen dates into each eligibility answer, and StrFormat was a
  // visible share of CheckEligibility's CPU (BENCHMARKS.md).
  const int64_t year = day.year();
  if (year < 0 || year > 9999) {
    return absl::StrFormat("%04d-%02d-%02d", year, day.month(), day.day());
  }
  const int y = static_cast<int>(year), m = day.month(), d = day.day();
  const char text[10] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + y / 100 % 10),
                         static_cast<char>('0' + y / 10 % 10), static_cast<char>('0' + y % 10),
                         '-', static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10),
                         '-', static_cast<char>('0' + d / 10), static_cast<char>('0' + d % 10)};
  return std::string(text, sizeof text);
}

bool IsValidDate(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) {
    return false;
  }
  absl::CivilDay d(year, month, day);
  return d.year() == year && d.month() == month && d.day() == day;
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text,
                                         absl::string_view field) {
  auto bad = [&] {
    return InvalidField(field, "must be a date written YYYY-MM-DD");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int y = 0, m = 0, d = 0;
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return bad();
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return bad();
  }
  if (!IsValidDate(y, m, d)) {
    return InvalidField(field, "is not a calendar date");
  }
  return absl::CivilDay(y, m, d);
}

int AgeInYears(absl::CivilDay birth, absl::CivilDay on) {
  int age = static_cast<int>(on.year() - birth.year());
  if (on.month() < birth.month() ||
      (on.month() == birth.month() && on.day() < birth.day())) {
    --age;
  }
  return age;
}

}  // namespace socle
