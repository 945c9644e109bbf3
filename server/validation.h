// Field validation of requests. Every function adds one violation per bad
// field, with its full path, to a FieldViolations; nothing here touches the
// store, so a request is refused before anything is written.
#ifndef SOCLE_SERVER_VALIDATION_H_
#define SOCLE_SERVER_VALIDATION_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/field_error.h"
#include "socle/v1/registry.pb.h"
#include "socle/v1/types.pb.h"

namespace socle {

inline constexpr int kMaxNameLength = 100;      // code points
inline constexpr int kMaxReasonLength = 500;    // code points
inline constexpr int kMaxPageSize = 500;
inline constexpr int kDefaultPageSize = 50;

// 1..64 characters of [A-Za-z0-9._:-].
void ValidateRequestId(absl::string_view id, absl::string_view field,
                       FieldViolations& v);

// Free text: valid UTF-8, no control characters, at most `max_length` code
// points; `required` refuses an empty (or all-blank) value.
void ValidateText(absl::string_view text, absl::string_view field,
                  int max_length, bool required, FieldViolations& v);

// Office codes like "KH-SR-03": two upper-case letters, then up to four
// groups of 1..10 upper-case letters or digits, separated by '-'.
bool IsValidOfficeCode(absl::string_view code);
void ValidateOfficeCode(absl::string_view code, absl::string_view field,
                        bool required, FieldViolations& v);

// A calendar date; not after `today` when `not_future`. Returns the day when
// the date is set and valid.
std::optional<absl::CivilDay> ValidateDate(const v1::Date& date,
                                           absl::string_view field,
                                           bool required, bool not_future,
                                           absl::CivilDay today,
                                           FieldViolations& v);

// Non-negative minor units with an ISO 4217 code (three upper-case letters).
void ValidateMoney(const v1::Money& money, absl::string_view field,
                   bool required, FieldViolations& v);

// The client-settable identity fields of a person (names, sex, birth date,
// national ID, address, phone). `prefix` is the field path of the message.
void ValidatePersonIdentity(const v1::Person& person, absl::string_view prefix,
                            absl::CivilDay today, FieldViolations& v);

// The facts given at registration.
void ValidateFacts(const v1::PersonFacts& facts, absl::string_view prefix,
                   absl::CivilDay today, FieldViolations& v);

void ValidateAddress(const v1::Address& address, absl::string_view prefix,
                     bool district_required, FieldViolations& v);

// Page size: 0 means the default; 1..kMaxPageSize otherwise.
int ValidatePageSize(int page_size, absl::string_view field, FieldViolations& v);

}  // namespace socle

#endif  // SOCLE_SERVER_VALIDATION_H_
