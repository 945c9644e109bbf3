#include "common/field_error.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

TEST(FieldViolationsTest, EmptyIsOk) {
  FieldViolations v;
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.ToStatus().ok());
  EXPECT_TRUE(GetFieldViolations(v.ToStatus()).empty());
}

TEST(FieldViolationsTest, CollectsSeveral) {
  FieldViolations v;
  v.Add("person.given_name", "is required");
  v.Add("person.date_of_birth", "must be a date written YYYY-MM-DD");
  v.Add("person.phone", "must have 8 to 15 digits");
  EXPECT_FALSE(v.empty());
  ASSERT_EQ(v.violations().size(), 3u);
  EXPECT_EQ(v.violations()[1].field, "person.date_of_birth");

  absl::Status s = v.ToStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "person.given_name: is required; "
            "person.date_of_birth: must be a date written YYYY-MM-DD; "
            "person.phone: must have 8 to 15 digits");
  EXPECT_EQ(GetFieldViolations(s), v.violations());
}

TEST(FieldViolationsTest, KeepsOrderAndDuplicates) {
  FieldViolations v;
  v.Add("b", "second");
  v.Add("a", "first");
  v.Add("b", "again");
  std::vector<FieldViolation> expected = {
      {"b", "second"}, {"a", "first"}, {"b", "again"}};
  EXPECT_EQ(GetFieldViolations(v.ToStatus()), expected);
}

TEST(FieldViolationsTest, EmptyFieldOrDescription) {
  FieldViolations v;
  v.Add("", "no field");
  v.Add("no.description", "");
  v.Add("", "");
  std::vector<FieldViolation> expected = {
      {"", "no field"}, {"no.description", ""}, {"", ""}};
  EXPECT_EQ(GetFieldViolations(v.ToStatus()), expected);
}

TEST(InvalidFieldTest, OneViolation) {
  absl::Status s = InvalidField("household.number", "is required");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "household.number: is required");
  std::vector<FieldViolation> expected = {{"household.number", "is required"}};
  EXPECT_EQ(GetFieldViolations(s), expected);
}

TEST(GetFieldViolationsTest, NoneOnPlainStatus) {
  EXPECT_TRUE(GetFieldViolations(absl::OkStatus()).empty());
  EXPECT_TRUE(GetFieldViolations(absl::InvalidArgumentError("x")).empty());
  EXPECT_TRUE(GetFieldViolations(absl::NotFoundError("x")).empty());
}

TEST(SetFieldViolationsTest, OnAnyErrorAndReplaces) {
  absl::Status s = absl::FailedPreconditionError("closed");
  SetFieldViolations(s, {{"a", "1"}});
  SetFieldViolations(s, {{"b", "2"}, {"c", "3"}});
  std::vector<FieldViolation> expected = {{"b", "2"}, {"c", "3"}};
  EXPECT_EQ(GetFieldViolations(s), expected);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "closed");
}

TEST(FieldViolationsTest, SurvivesCopyAndOtherPayloads) {
  absl::Status s = InvalidField("f", "d");
  s = WithErrorInfo(s, {"REASON", {{"k", "v"}}});
  absl::Status copy = s;
  std::vector<FieldViolation> expected = {{"f", "d"}};
  EXPECT_EQ(GetFieldViolations(copy), expected);
  ASSERT_TRUE(GetErrorInfo(copy).has_value());
  EXPECT_EQ(GetErrorInfo(copy)->reason, "REASON");
}

TEST(FieldViolationsTest, SeparatorsInTextDoNotBreakDecoding) {
  FieldViolations v;
  v.Add("a\x1f" "b", "c\x1e" "d");
  v.Add("x\x1e\x1e", "\x1f\x1fy");
  v.Add("plain", "text; with: punctuation");
  std::vector<FieldViolation> got = GetFieldViolations(v.ToStatus());
  // The separators are replaced by spaces; the record count is intact.
  std::vector<FieldViolation> expected = {
      {"a b", "c d"}, {"x  ", "  y"}, {"plain", "text; with: punctuation"}};
  EXPECT_EQ(got, expected);
}

TEST(FieldViolationsTest, Utf8TextRoundTrips) {
  absl::Status s = InvalidField("person.family_name", "ឈ្មោះ មិនត្រឹមត្រូវ — é");
  std::vector<FieldViolation> expected = {
      {"person.family_name", "ឈ្មោះ មិនត្រឹមត្រូវ — é"}};
  EXPECT_EQ(GetFieldViolations(s), expected);
}

TEST(ErrorInfoTest, RoundTripWithMetadata) {
  ErrorInfo info;
  info.reason = "POSSIBLE_DUPLICATE";
  info.metadata = {{"person_id", "42"},
                   {"beneficiary_number", "1000000423"},
                   {"empty", ""},
                   {"score", "0.93"}};
  absl::Status s =
      WithErrorInfo(absl::AlreadyExistsError("looks like a duplicate"), info);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "looks like a duplicate");
  std::optional<ErrorInfo> got = GetErrorInfo(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "POSSIBLE_DUPLICATE");
  EXPECT_EQ(got->metadata, info.metadata);
}

TEST(ErrorInfoTest, RoundTripWithoutMetadata) {
  absl::Status s = WithErrorInfo(absl::AbortedError("x"), {"CONFLICT", {}});
  std::optional<ErrorInfo> got = GetErrorInfo(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "CONFLICT");
  EXPECT_TRUE(got->metadata.empty());
}

TEST(ErrorInfoTest, EmptyReasonKeepsMetadata) {
  absl::Status s =
      WithErrorInfo(absl::InternalError("x"), {"", {{"k", "v"}, {"", "w"}}});
  std::optional<ErrorInfo> got = GetErrorInfo(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "");
  std::map<std::string, std::string> expected = {{"k", "v"}, {"", "w"}};
  EXPECT_EQ(got->metadata, expected);
}

TEST(ErrorInfoTest, NoneWhenAbsent) {
  EXPECT_FALSE(GetErrorInfo(absl::InternalError("x")).has_value());
  EXPECT_FALSE(GetErrorInfo(InvalidField("f", "d")).has_value());
  // An OK status carries no payload at all (absl ignores SetPayload on OK).
  EXPECT_FALSE(
      GetErrorInfo(WithErrorInfo(absl::OkStatus(), {"R", {}})).has_value());
}

TEST(ErrorInfoTest, SeparatorsInTextDoNotBreakDecoding) {
  ErrorInfo info;
  info.reason = "BAD\x1eREASON";
  info.metadata = {{"k\x1f" "1", "v\x1e" "1"}, {"k2", "a\x1f" "b\x1f" "c"}};
  std::optional<ErrorInfo> got =
      GetErrorInfo(WithErrorInfo(absl::InternalError("x"), info));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "BAD REASON");
  std::map<std::string, std::string> expected = {{"k 1", "v 1"},
                                                 {"k2", "a b c"}};
  EXPECT_EQ(got->metadata, expected);
}

TEST(ErrorInfoTest, ReplacedBySecondCall) {
  absl::Status s = WithErrorInfo(absl::InternalError("x"), {"FIRST", {{"a", "1"}}});
  s = WithErrorInfo(s, {"SECOND", {{"b", "2"}}});
  std::optional<ErrorInfo> got = GetErrorInfo(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "SECOND");
  std::map<std::string, std::string> expected = {{"b", "2"}};
  EXPECT_EQ(got->metadata, expected);
}

}  // namespace
}  // namespace socle
