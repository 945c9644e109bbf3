// Civil dates as text: ISO 8601 "YYYY-MM-DD", the form stored and printed.
#ifndef SOCLE_COMMON_DATES_H_
#define SOCLE_COMMON_DATES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace socle {

std::string FormatDate(absl::CivilDay day);

// Strict "YYYY-MM-DD" with a real calendar date in years 1..9999;
// INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text,
                                         absl::string_view field);

// True when year/month/day name a real calendar date in years 1..9999.
bool IsValidDate(int year, int month, int day);

// Whole years from `birth` to `on` (the birthday counts on the day itself;
// someone born on 29 February turns a year older on 1 March in common years).
int AgeInYears(absl::CivilDay birth, absl::CivilDay on);

}  // namespace socle

#endif  // SOCLE_COMMON_DATES_H_
