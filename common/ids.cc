#include "common/ids.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/check_digit.h"
#include "common/field_error.h"

namespace socle {
namespace {

constexpr int64_t kBase = 100'000'000;

std::string FormatDigits(int64_t id) {
  std::string body = absl::StrCat(kBase + id);
  body.push_back(VerhoeffDigit(body));
  return body;
}

absl::StatusOr<int64_t> ParseDigits(absl::string_view text,
                                    absl::string_view field,
                                    absl::string_view what) {
  std::string digits;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    digits.push_back(c);
  }
  if (digits.empty()) {
    return InvalidField(field, absl::StrCat(what, " is required"));
  }
  if (digits.size() != 10) {
    return InvalidField(field, absl::StrCat(what, " must have 10 digits"));
  }
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return InvalidField(field, absl::StrCat(what, " must be digits only"));
    }
  }
  if (!VerhoeffValid(digits)) {
    return InvalidField(field,
                        absl::StrCat(what, " has a wrong check digit: mistyped?"));
  }
  int64_t body = 0;
  if (!absl::SimpleAtoi(absl::string_view(digits).substr(0, 9), &body) ||
      body <= kBase) {
    return InvalidField(field, absl::StrCat(what, " is not a valid number"));
  }
  return body - kBase;
}

}  // namespace

std::string FormatBeneficiaryNumber(int64_t id) { return FormatDigits(id); }

std::string FormatHouseholdNumber(int64_t id) {
  return absl::StrCat("H", FormatDigits(id));
}

absl::StatusOr<int64_t> ParseBeneficiaryNumber(absl::string_view text,
                                               absl::string_view field) {
  return ParseDigits(text, field, "beneficiary number");
}

absl::StatusOr<int64_t> ParseHouseholdNumber(absl::string_view text,
                                             absl::string_view field) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t.empty()) return InvalidField(field, "household number is required");
  if (t[0] != 'H' && t[0] != 'h') {
    return InvalidField(field, "household number must start with H");
  }
  return ParseDigits(t.substr(1), field, "household number");
}

}  // namespace socle
