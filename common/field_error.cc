#include "common/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace socle {
namespace {

// Payload keys and an encoding private to this file: units separated by US
// (0x1f), records by RS (0x1e).
constexpr char kViolationsKey[] = "socle/field-violations";
constexpr char kErrorInfoKey[] = "socle/error-info";
constexpr char kUnit = '\x1f';
constexpr char kRecord = '\x1e';

std::string Clean(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == kUnit || c == kRecord) c = ' ';
  }
  return out;
}

}  // namespace

absl::Status InvalidField(absl::string_view field,
                          absl::string_view description) {
  FieldViolations v;
  v.Add(field, description);
  return v.ToStatus();
}

void FieldViolations::Add(absl::string_view field,
                          absl::string_view description) {
  violations_.push_back({std::string(field), std::string(description)});
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const auto& v : violations_) {
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
  }
  absl::Status status = absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
  SetFieldViolations(status, violations_);
  return status;
}

void SetFieldViolations(absl::Status& status,
                        const std::vector<FieldViolation>& violations) {
  std::string encoded;
  for (const auto& v : violations) {
    absl::StrAppend(&encoded, Clean(v.field), std::string(1, kUnit),
                    Clean(v.description), std::string(1, kRecord));
  }
  status.SetPayload(kViolationsKey, absl::Cord(encoded));
}

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kViolationsKey);
  if (!payload) return out;
  std::string encoded(*payload);
  for (absl::string_view record :
       absl::StrSplit(encoded, kRecord, absl::SkipEmpty())) {
    std::pair<std::string, std::string> unit =
        absl::StrSplit(record, absl::MaxSplits(kUnit, 1));
    out.push_back({unit.first, unit.second});
  }
  return out;
}

absl::Status WithErrorInfo(absl::Status status, ErrorInfo info) {
  std::string encoded = Clean(info.reason);
  encoded.push_back(kRecord);
  for (const auto& [k, v] : info.metadata) {
    absl::StrAppend(&encoded, Clean(k), std::string(1, kUnit), Clean(v),
                    std::string(1, kRecord));
  }
  status.SetPayload(kErrorInfoKey, absl::Cord(encoded));
  return status;
}

std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoKey);
  if (!payload) return std::nullopt;
  std::string encoded(*payload);
  // The reason is always the first record, even when empty; the metadata
  // records that follow are never empty (each holds a unit separator).
  std::vector<std::string> records = absl::StrSplit(encoded, kRecord);
  ErrorInfo info;
  info.reason = records[0];
  for (size_t i = 1; i < records.size(); ++i) {
    if (records[i].empty()) continue;
    std::pair<std::string, std::string> unit =
        absl::StrSplit(records[i], absl::MaxSplits(kUnit, 1));
    info.metadata[unit.first] = unit.second;
  }
  return info;
}

}  // namespace socle
