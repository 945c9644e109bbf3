// Name normalisation for duplicate detection and search: case, accents and
// spacing do not distinguish two names ("  José  MARÍA " == "jose maria").
#ifndef SOCLE_COMMON_NORMALIZE_H_
#define SOCLE_COMMON_NORMALIZE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace socle {

// Lower-cases ASCII and Latin letters, strips accents from Latin letters
// (Latin-1 Supplement, Latin Extended-A, and the Vietnamese letters
// of Latin Extended-B and Latin Extended Additional), turns punctuation (. , ' - _)
// and control characters into spaces, collapses runs of white space and
// trims. Other scripts (Khmer, Thai, ...) pass through unchanged. Invalid
// UTF-8 bytes are dropped.
std::string NormalizeName(absl::string_view name);

// The words of NormalizeName(name).
std::vector<std::string> NameWords(absl::string_view name);

}  // namespace socle

#endif  // SOCLE_COMMON_NORMALIZE_H_
