#include "client/cli/money.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace socle::client::cli {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", what));
}

}  // namespace

int CurrencyExponent(absl::string_view currency) {
  struct Entry {
    const char* code;
    int exponent;
  };
  static constexpr Entry kTable[] = {
      {"KHR", 2}, {"USD", 2}, {"EUR", 2}, {"IDR", 2}, {"MNT", 2}, {"CVE", 2},
      {"MZN", 2}, {"ARS", 2}, {"VND", 0}, {"JPY", 0}, {"XOF", 0}, {"KRW", 0},
  };
  for (const Entry& e : kTable) {
    if (currency == e.code) return e.exponent;
  }
  return 2;
}

absl::Status ValidateCurrency(absl::string_view currency,
                              absl::string_view flag) {
  bool ok = currency.size() == 3;
  for (char c : currency) ok = ok && c >= 'A' && c <= 'Z';
  if (!ok) {
    return Bad(flag, absl::StrCat("'", currency,
                                  "' is not a currency: give the ISO 4217 "
                                  "code in capitals, e.g. KHR or USD"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Money> ParseMoney(absl::string_view amount,
                                     absl::string_view currency,
                                     absl::string_view flag) {
  if (absl::Status s = ValidateCurrency(currency, "--currency"); !s.ok()) {
    return s;
  }
  const int exponent = CurrencyExponent(currency);
  const std::string example = FormatMinorUnits(125050, exponent);
  if (amount.empty()) return Bad(flag, "an amount is required, e.g. " + example);
  if (amount[0] == '-') return Bad(flag, "must not be negative");
  size_t point = amount.find('.');
  absl::string_view whole = amount.substr(0, point);
  absl::string_view fraction =
      point == absl::string_view::npos ? "" : amount.substr(point + 1);
  auto all_digits = [](absl::string_view s) {
    for (char c : s) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction) ||
      (point != absl::string_view::npos && fraction.empty())) {
    return Bad(flag, absl::StrCat("'", amount,
                                  "' is not an amount: write digits and at "
                                  "most one point, e.g. ",
                                  example));
  }
  // Decimals beyond the exponent are accepted only when they are zeros.
  for (size_t i = static_cast<size_t>(exponent); i < fraction.size(); ++i) {
    if (fraction[i] != '0') {
      return Bad(flag,
                 exponent == 0
                     ? absl::StrCat(currency, " has no decimals: write e.g. ",
                                    FormatMinorUnits(1250, 0))
                     : absl::StrCat("too many decimals: ", currency,
                                    " has at most ", exponent));
    }
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t minor = 0;
  auto push = [&](char digit) {
    int d = digit - '0';
    if (minor > (kMax - d) / 10) return false;
    minor = minor * 10 + d;
    return true;
  };
  bool fits = true;
  for (char c : whole) fits = fits && push(c);
  for (int i = 0; i < exponent; ++i) {
    fits = fits && push(static_cast<size_t>(i) < fraction.size() ? fraction[i]
                                                                 : '0');
  }
  if (!fits) return Bad(flag, "the amount is too large");
  v1::Money money;
  money.set_minor_units(minor);
  money.set_currency(std::string(currency));
  return money;
}

std::string FormatMinorUnits(int64_t minor_units, int exponent) {
  // Work on the magnitude as unsigned so that INT64_MIN prints exactly.
  bool negative = minor_units < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor_units)
                                : static_cast<uint64_t>(minor_units);
  std::string digits = absl::StrCat(magnitude);
  if (exponent > 0) {
    if (digits.size() <= static_cast<size_t>(exponent)) {
      digits.insert(0, static_cast<size_t>(exponent) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(exponent), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

std::string FormatMoney(const v1::Money& money) {
  return absl::StrCat(
      FormatMinorUnits(money.minor_units(), CurrencyExponent(money.currency())),
      " ", money.currency());
}

std::string FormatMinorUnitsGrouped(int64_t minor_units, int exponent) {
  std::string plain = FormatMinorUnits(minor_units, exponent);
  size_t begin = plain[0] == '-' ? 1 : 0;
  size_t end = plain.find('.');
  if (end == std::string::npos) end = plain.size();
  std::string out = plain.substr(0, begin);
  for (size_t i = begin; i < end; ++i) {
    if (i > begin && (end - i) % 3 == 0) out.push_back(',');
    out.push_back(plain[i]);
  }
  out.append(plain, end, std::string::npos);
  return out;
}

std::string FormatMoneyGrouped(const v1::Money& money) {
  std::string amount = FormatMinorUnitsGrouped(
      money.minor_units(), CurrencyExponent(money.currency()));
  if (money.currency().empty()) return amount;
  return absl::StrCat(amount, " ", money.currency());
}

}  // namespace socle::client::cli
