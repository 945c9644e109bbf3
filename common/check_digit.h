// Verhoeff check digits: detect every single-digit error and every adjacent
// transposition (Luhn misses 09<->90), which is what a clerk typing a
// beneficiary number gets wrong.
#ifndef SOCLE_COMMON_CHECK_DIGIT_H_
#define SOCLE_COMMON_CHECK_DIGIT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace socle {

// The check digit ('0'..'9') for a non-empty string of ASCII digits.
char VerhoeffDigit(absl::string_view digits);

// True when `digits` (ASCII digits, the last one the check digit) is valid.
bool VerhoeffValid(absl::string_view digits);

}  // namespace socle

#endif  // SOCLE_COMMON_CHECK_DIGIT_H_
