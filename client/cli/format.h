// Human-readable output of the socle tool, sized for 80-column terminals.
#ifndef SOCLE_CLIENT_CLI_FORMAT_H_
#define SOCLE_CLIENT_CLI_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client::cli {

// "1000000017" -> "10000 00017", "H1000000025" -> "H10000 00025": the form
// clerks read aloud; ParseArgs and the server accept it back. Anything else
// is returned unchanged.
std::string GroupNumber(absl::string_view number);

// "Sokha CHAN" (family name in capitals, as on ID cards).
std::string DisplayName(absl::string_view given, absl::string_view family);
std::string DisplayName(const v1::Person& person);

std::string FormatDate(const v1::Date& date);  // "" when unset
std::string FormatTimestamp(const google::protobuf::Timestamp& t);  // UTC
std::string FormatAddress(const v1::Address& address);  // "" when empty
std::string SexName(v1::Sex sex);                    // "female"
std::string EmploymentName(v1::EmploymentStatus status);  // "self-employed"
std::string RelationshipName(v1::Relationship relationship);  // "other-relative"

// One line: "10000 00017  Sokha CHAN  female  1990-04-12  KH-SR-03".
std::string PersonLine(const v1::Person& person);
// The record: identity, address, household, facts.
std::string PersonDetails(const v1::Person& person);
std::string HouseholdDetails(const v1::Household& household);
// What happened, e.g. "pregnancy, week 14" or "job found, 350.00 USD, ACME".
std::string EventSummary(const v1::LifeEvent& event);
// "2024-03-01  pregnancy, week 14  KH-SR-03" (+ correction reason).
std::string EventLine(const v1::LifeEvent& event);

// `text` wrapped at word boundaries to fit 79 columns; the first line starts
// at column `first`, continuation lines are indented by `indent` spaces.
std::string Wrap(absl::string_view text, size_t first, size_t indent);

// Like Wrap, but runs of spaces between words are kept (columns stay
// aligned); a run where the line breaks is dropped.
std::string WrapKeepingSpaces(absl::string_view text, size_t first,
                              size_t indent);

// "12,345", "-1,000": a count grouped by thousands.
std::string FormatCount(int64_t n);
// part/whole as a percentage with one decimal, computed with integers and
// rounded down (so "100.0 %" means all): 5 of 8 is "62.5 %", 2 of 3 is
// "66.6 %". "-" when `whole` is not positive.
std::string FormatPercent(int64_t part, int64_t whole);

// CSV, one record a line (a quoted field does not span lines).
// A CSV field, quoted when it holds a comma, a quote or a line break; one
// that a spreadsheet would take for a formula (= + @, or - and no digit) is
// prefixed with a single quote.
std::string CsvField(absl::string_view text);
// The fields joined by commas, each through CsvField, ending in CRLF.
std::string CsvLine(const std::vector<std::string>& fields);
// Splits one CSV line into fields ("..." quoting, "" for a quote); each
// field is stripped of surrounding spaces. INVALID_ARGUMENT when a quoted
// field is not closed.
absl::StatusOr<std::vector<std::string>> CsvFields(absl::string_view line);

// Proto JSON on one line (field names in lowerCamelCase, as proto3 JSON).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_FORMAT_H_
