// Money as clerks type it and read it: a decimal amount in the currency's
// main unit ("1250.50", "1250") with an ISO 4217 code, converted EXACTLY to
// and from integer minor units. No floating point anywhere.
#ifndef SOCLE_CLIENT_CLI_MONEY_H_
#define SOCLE_CLIENT_CLI_MONEY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "socle/v1/types.pb.h"

namespace socle::client::cli {

// Digits after the decimal point for `currency` (ISO 4217 minor unit):
// KHR USD EUR IDR MNT CVE MZN ARS 2; VND JPY XOF KRW 0; any other code 2.
int CurrencyExponent(absl::string_view currency);

// OK for three upper-case ASCII letters; else INVALID_ARGUMENT
// "<flag>: ..." naming `flag` (e.g. "--currency").
absl::Status ValidateCurrency(absl::string_view currency,
                              absl::string_view flag);

// Parses `amount`: digits, optionally a point and digits ("1250", "1250.5",
// "1250.50"). At most CurrencyExponent(currency) decimals, except that extra
// trailing zeros are accepted ("1250.500" USD). No sign, no grouping, no
// exponent: a negative amount, too many decimals, or an amount beyond int64
// minor units is INVALID_ARGUMENT naming `flag`.
absl::StatusOr<v1::Money> ParseMoney(absl::string_view amount,
                                     absl::string_view currency,
                                     absl::string_view flag);

// "1250.50 KHR", "1250 JPY", "-5.00 USD": the form ParseMoney reads (plus the
// code), exact for every int64.
std::string FormatMoney(const v1::Money& money);
// The amount alone: minor units with `exponent` decimals.
std::string FormatMinorUnits(int64_t minor_units, int exponent);

// "40,000.00 KHR", "-1,250 JPY": the whole part grouped by thousands, for
// reading in reports and decisions (ParseMoney does not take it back).
// Exact for every int64.
std::string FormatMoneyGrouped(const v1::Money& money);
// The amount alone, grouped: "1,250,000.50".
std::string FormatMinorUnitsGrouped(int64_t minor_units, int exponent);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_MONEY_H_
