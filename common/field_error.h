// Structured error details carried on absl::Status payloads, so that logic
// with no gRPC or protobuf in it can say which field is bad and why. The
// server's status conversion turns them into google.rpc.BadRequest and
// google.rpc.ErrorInfo; the client library turns those back into these.
#ifndef SOCLE_COMMON_FIELD_ERROR_H_
#define SOCLE_COMMON_FIELD_ERROR_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace socle {

struct FieldViolation {
  std::string field;        // path such as "person.date_of_birth"
  std::string description;  // for a person: what is wrong and what is allowed
  bool operator==(const FieldViolation&) const = default;
};

struct ErrorInfo {
  std::string reason;  // UPPER_SNAKE_CASE, e.g. POSSIBLE_DUPLICATE
  std::map<std::string, std::string> metadata;
};

// INVALID_ARGUMENT "field: description" carrying one field violation.
absl::Status InvalidField(absl::string_view field, absl::string_view description);

// Collects every bad field of a request before answering.
class FieldViolations {
 public:
  void Add(absl::string_view field, absl::string_view description);
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // OK when empty; else INVALID_ARGUMENT listing every violation.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// The violations carried by `status` (empty when none).
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);
void SetFieldViolations(absl::Status& status,
                        const std::vector<FieldViolation>& violations);

// Returns `status` with `info` attached.
absl::Status WithErrorInfo(absl::Status status, ErrorInfo info);
std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status);

}  // namespace socle

#endif  // SOCLE_COMMON_FIELD_ERROR_H_
