// Loading and validating policy files (text-format socle.v1.PolicySet; see
// proto/socle/v1/policy.proto and deploy/policy/default.textproto).
//
// A bad policy is refused whole, with every problem found:
//   INVALID_ARGUMENT, one problem a line in the message:
//     "<file>:<line>:<column>: <parser message>"           (syntax)
//     "<file>:<line>: <field path>: <what is wrong>"       (validation)
//   e.g. "deploy/policy/bad.textproto:14: versions[0].programmes[2].entitlement
//   .fixed.amount.minor_units: must not be negative". Lines and columns are
//   1-based; the line is that of the field, or of the nearest enclosing field
//   written in the file when the field itself is missing. The status also
//   carries socle::FieldViolations (common/field_error.h): field = the path
//   ("" for a syntax error), description = "<file>:<line>: <what is wrong>".
//
// Validation rules (each tested in policy_loader_test.cc): required fields;
// version strings ([A-Za-z0-9._-]{1,32}, unique); calendar dates;
// effective_until not before effective_from; no two versions in force on the
// same day; ISO 4217-shaped currency codes, amounts in the policy currency;
// programme codes ([A-Z][A-Z0-9_]{0,31}, unique in a version); known enum
// values; a criterion kind and formula set; not_receiving naming another
// programme of the same version; no negative amount; floor <= ceiling;
// basis points in 0..10000; percentages in 0..100; weeks in 0..45; non-empty
// any-of groups and alternatives (nesting at most 4 deep); duration tables
// strictly increasing; membership iff frequency NONE.
#ifndef SOCLE_SERVER_POLICY_POLICY_LOADER_H_
#define SOCLE_SERVER_POLICY_POLICY_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "socle/v1/policy.pb.h"

namespace socle::policy {

struct LoadedPolicy {
  // Every version of every file, sorted by effective_from.
  v1::PolicySet policies;
  // The files it came from, in the order given.
  std::vector<std::string> files;
};

// Parses and validates `text`; `filename` only names the source in messages
// ("policy" when empty).
// For `socle-admin policy validate` and for activating a policy at run time
// (a refused policy changes nothing: the caller keeps the one in force).
absl::StatusOr<LoadedPolicy> ValidatePolicyText(absl::string_view text,
                                                absl::string_view filename);

// Reads and validates one file. NOT_FOUND when it cannot be read.
absl::StatusOr<LoadedPolicy> LoadPolicyFile(const std::string& path);

// Several files making one set (e.g. one file per version): each is parsed
// and validated on its own, then versions are checked across files
// (duplicate version strings, overlapping dates), reported against the later
// file.
absl::StatusOr<LoadedPolicy> LoadPolicyFiles(
    const std::vector<std::string>& paths);

// Validates a set built in code or received over the wire: the same rules,
// paths without files or lines ("versions[0].currency: ...").
absl::Status ValidatePolicySet(const v1::PolicySet& policies);

}  // namespace socle::policy

#endif  // SOCLE_SERVER_POLICY_POLICY_LOADER_H_
