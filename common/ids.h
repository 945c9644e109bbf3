// Identifiers that people type: beneficiary and household numbers.
//
// A beneficiary number is ten digits: 100000000 + the person's id (nine
// digits) and a Verhoeff check digit. A household number is "H" and the same
// ten digits for the household's id. The format is persisted on paper cards:
// DO NOT CHANGE it.
#ifndef SOCLE_COMMON_IDS_H_
#define SOCLE_COMMON_IDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace socle {

// Largest id that fits the nine-digit body.
inline constexpr int64_t kMaxNumberedId = 899'999'999;

// `id` in 1..kMaxNumberedId.
std::string FormatBeneficiaryNumber(int64_t id);
std::string FormatHouseholdNumber(int64_t id);

// Returns the id, or INVALID_ARGUMENT naming `field` when the text is not a
// well-formed number or its check digit fails. Spaces and dashes are ignored.
absl::StatusOr<int64_t> ParseBeneficiaryNumber(absl::string_view text,
                                               absl::string_view field);
absl::StatusOr<int64_t> ParseHouseholdNumber(absl::string_view text,
                                             absl::string_view field);

}  // namespace socle

#endif  // SOCLE_COMMON_IDS_H_
