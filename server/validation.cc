#include "server/validation.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "server/convert.h"

namespace socle {
namespace {

std::string Path(absl::string_view prefix, absl::string_view field) {
  if (prefix.empty()) return std::string(field);
  return absl::StrCat(prefix, ".", field);
}

// Counts code points; returns -1 for invalid UTF-8 or a control character.
int CountCodePointsRejectingControls(absl::string_view s) {
  int count = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong encodings, surrogates and out-of-range values are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return -1;
    }
    // C0, DEL, C1 controls, line and paragraph separators.
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
      return -1;
    }
    i += len;
    ++count;
  }
  return count;
}

bool IsCurrencyCode(absl::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

}  // namespace

void ValidateRequestId(absl::string_view id, absl::string_view field,
                       FieldViolations& v) {
  if (id.empty()) {
    v.Add(field, "is required (a client-generated idempotency key)");
    return;
  }
  if (id.size() > 64) {
    v.Add(field, "must be at most 64 characters");
    return;
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '-') {
      v.Add(field, "may contain only letters, digits and . _ : -");
      return;
    }
  }
}

void ValidateText(absl::string_view text, absl::string_view field,
                  int max_length, bool required, FieldViolations& v) {
  const int n = CountCodePointsRejectingControls(text);
  if (n < 0) {
    v.Add(field, "must be valid UTF-8 text without control characters");
    return;
  }
  if (required && absl::StripAsciiWhitespace(text).empty()) {
    v.Add(field, "is required");
    return;
  }
  if (n > max_length) {
    v.Add(field, absl::StrCat("must be at most ", max_length, " characters"));
  }
}

bool IsValidOfficeCode(absl::string_view code) {
  if (code.size() < 2 || code.size() > 40) return false;
  if (!absl::ascii_isupper(static_cast<unsigned char>(code[0])) ||
      !absl::ascii_isupper(static_cast<unsigned char>(code[1]))) {
    return false;
  }
  int groups = 0;
  size_t i = 2;
  while (i < code.size()) {
    if (code[i] != '-') return false;
    ++i;
    size_t len = 0;
    while (i < code.size() && code[i] != '-') {
      unsigned char c = code[i];
      if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
      ++len;
      ++i;
    }
    if (len < 1 || len > 10) return false;
    if (++groups > 4) return false;
  }
  return true;
}

void ValidateOfficeCode(absl::string_view code, absl::string_view field,
                        bool required, FieldViolations& v) {
  if (code.empty()) {
    if (required) v.Add(field, "is required (an office code such as KH-SR-03)");
    return;
  }
  if (!IsValidOfficeCode(code)) {
    v.Add(field, "must be an office code such as KH-SR-03 (upper-case letters, digits, dashes)");
  }
}

std::optional<absl::CivilDay> ValidateDate(const v1::Date& date,
                                           absl::string_view field,
                                           bool required, bool not_future,
                                           absl::CivilDay today,
                                           FieldViolations& v) {
  if (!IsSet(date)) {
    if (required) v.Add(field, "is required");
    return std::nullopt;
  }
  if (!IsValidDate(date.year(), date.month(), date.day())) {
    v.Add(field, "is not a calendar date");
    return std::nullopt;
  }
  absl::CivilDay day = ToCivilDay(date);
  if (not_future && day > today) {
    v.Add(field, "must not be in the future");
    return std::nullopt;
  }
  return day;
}

void ValidateMoney(const v1::Money& money, absl::string_view field,
                   bool required, FieldViolations& v) {
  if (money.minor_units() == 0 && money.currency().empty()) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (money.minor_units() < 0) {
    v.Add(Path(field, "minor_units"), "must not be negative");
  }
  if (!IsCurrencyCode(money.currency())) {
    v.Add(Path(field, "currency"),
          "must be an ISO 4217 code of three upper-case letters");
  }
}

void ValidateAddress(const v1::Address& a, absl::string_view prefix,
                     bool district_required, FieldViolations& v) {
  ValidateText(a.province(), Path(prefix, "province"), kMaxNameLength, false, v);
  ValidateText(a.district(), Path(prefix, "district"), kMaxNameLength,
               district_required, v);
  ValidateText(a.commune(), Path(prefix, "commune"), kMaxNameLength, false, v);
  ValidateText(a.village(), Path(prefix, "village"), kMaxNameLength, false, v);
  ValidateText(a.street(), Path(prefix, "street"), 200, false, v);
}

void ValidatePersonIdentity(const v1::Person& p, absl::string_view prefix,
                            absl::CivilDay today, FieldViolations& v) {
  ValidateText(p.given_name(), Path(prefix, "given_name"), kMaxNameLength, true, v);
  ValidateText(p.family_name(), Path(prefix, "family_name"), kMaxNameLength, false, v);
  if (!v1::Sex_IsValid(p.sex()) || p.sex() == v1::SEX_UNSPECIFIED) {
    v.Add(Path(prefix, "sex"), "is required: female, male or other");
  }
  auto born = ValidateDate(p.date_of_birth(), Path(prefix, "date_of_birth"),
                           true, true, today, v);
  if (born && born->year() < 1880) {
    v.Add(Path(prefix, "date_of_birth"), "must be in 1880 or later");
  }
  if (!p.national_id().empty()) {
    absl::string_view id = absl::StripAsciiWhitespace(p.national_id());
    bool ok = id.size() >= 4 && id.size() <= 32;
    for (char c : id) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '/') ok = false;
    }
    if (!ok) {
      v.Add(Path(prefix, "national_id"),
            "must be 4 to 32 letters, digits, '-' or '/'");
    }
  }
  ValidateAddress(p.address(), Path(prefix, "address"), true, v);
  if (!p.phone().empty()) {
    std::string compact;
    for (char c : p.phone()) {
      if (c != ' ' && c != '-' && c != '(' && c != ')') compact.push_back(c);
    }
    absl::string_view digits = compact;
    if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
    bool ok = digits.size() >= 6 && digits.size() <= 15;
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
    }
    if (!ok) {
      v.Add(Path(prefix, "phone"),
            "must be 6 to 15 digits with an optional leading '+'");
    }
  }
}

void ValidateFacts(const v1::PersonFacts& f, absl::string_view prefix,
                   absl::CivilDay today, FieldViolations& v) {
  const v1::Disability& d = f.disability();
  if (d.degree_percent() < 0 || d.degree_percent() > 100) {
    v.Add(Path(prefix, "disability.degree_percent"), "must be between 0 and 100");
  }
  auto certified_on = ValidateDate(d.certified_on(), Path(prefix, "disability.certified_on"),
                                   false, true, today, v);
  if (certified_on && !d.certified()) {
    v.Add(Path(prefix, "disability.certified"),
          "must be true when a certification date is given");
  }
  auto pregnancy = ValidateDate(f.pregnancy_start(), Path(prefix, "pregnancy_start"),
                                false, true, today, v);
  if (pregnancy && today - *pregnancy > 45 * 7) {
    v.Add(Path(prefix, "pregnancy_start"), "must be within the last 45 weeks");
  }
  if (!v1::EmploymentStatus_IsValid(f.employment_status())) {
    v.Add(Path(prefix, "employment_status"), "is not a known employment status");
  }
  int open_periods = 0;
  std::optional<absl::CivilDay> previous_end;
  for (int i = 0; i < f.employment_size(); ++i) {
    const v1::EmploymentPeriod& e = f.employment(i);
    const std::string at = absl::StrCat(Path(prefix, "employment"), "[", i, "]");
    auto start = ValidateDate(e.start(), Path(at, "start"), true, true, today, v);
    auto end = ValidateDate(e.end(), Path(at, "end"), false, true, today, v);
    if (start && end && *end < *start) {
      v.Add(Path(at, "end"), "must not be before the start");
    }
    if (!IsSet(e.end())) ++open_periods;
    if (start && previous_end && *start <= *previous_end) {
      v.Add(Path(at, "start"), "must be after the end of the previous period");
    }
    previous_end = end;
    ValidateMoney(e.monthly_wage(), Path(at, "monthly_wage"), false, v);
    ValidateText(e.employer(), Path(at, "employer"), kMaxNameLength, false, v);
  }
  if (open_periods > 1) {
    v.Add(Path(prefix, "employment"), "at most one period may be open (no end)");
  }
  if (open_periods == 1 && IsSet(f.employment(f.employment_size() - 1).end())) {
    v.Add(Path(prefix, "employment"), "only the last period may be open");
  }
  ValidateMoney(f.monthly_income(), Path(prefix, "monthly_income"), false, v);
  ValidateDate(f.last_childbirth(), Path(prefix, "last_childbirth"), false, true, today, v);
  for (int i = 0; i < f.work_accidents_size(); ++i) {
    const std::string at = absl::StrCat(Path(prefix, "work_accidents"), "[", i, "]");
    ValidateDate(f.work_accidents(i).date(), Path(at, "date"), true, true, today, v);
    if (f.work_accidents(i).incapacity_percent() < 0 ||
        f.work_accidents(i).incapacity_percent() > 100) {
      v.Add(Path(at, "incapacity_percent"), "must be between 0 and 100");
    }
  }
}

int ValidatePageSize(int page_size, absl::string_view field, FieldViolations& v) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size < 0 || page_size > kMaxPageSize) {
    v.Add(field, absl::StrCat("must be between 1 and ", kMaxPageSize));
    return kDefaultPageSize;
  }
  return page_size;
}

}  // namespace socle
