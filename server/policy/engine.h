// The eligibility engine: pure, deterministic evaluation of a policy for one
// person on one date. No storage, no clock, no gRPC: the caller reads the
// person, their household and their active enrolments, and passes them in.
//
// Contract (tested in engine_test.cc):
//  - The same inputs always give byte-identical Decisions.
//  - Every decision starts with an "alive" line: a person dead on or before
//    `as_of` (or not yet born on it) is eligible for nothing.
//  - One CriterionResult per criterion, in policy order; an any-of group
//    gives its own line, then the lines of each alternative.
//  - Money is integer minor units; every division rounds down.
//  - The rules for each criterion and formula are documented on the messages
//    of proto/socle/v1/policy.proto.
#ifndef SOCLE_SERVER_POLICY_ENGINE_H_
#define SOCLE_SERVER_POLICY_ENGINE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "socle/v1/policy.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::policy {

// The household the person belongs to, as read from the registry.
struct HouseholdView {
  // Every member, including the person (if the person is missing from the
  // list, they are counted anyway). The person's own record is always taken
  // from EligibilityInput::person.
  std::vector<v1::Person> members;
  // The head: the payee of PAYEE_HOUSEHOLD_HEAD programmes.
  std::string head_beneficiary_number;
};

struct EligibilityInput {
  const v1::Person& person;
  // Null when the person belongs to no household: a household of one.
  const HouseholdView* household = nullptr;
  // Codes of the programmes the person is actively enrolled in on `as_of`
  // (read by "not_receiving" criteria).
  absl::flat_hash_set<std::string> active_programmes;
  absl::CivilDay as_of;
};

// The version of `policies` in force on `day` (see PolicySet in
// policy.proto), or null when none is. On a set that failed validation the
// answer is still deterministic: the latest-starting version whose range
// contains the day.
const v1::Policy* PolicyInForce(const v1::PolicySet& policies,
                                absl::CivilDay day);

// One Decision per programme of the version in force on `input.as_of`, in
// policy order, or, when `codes` is not empty, one per code in that order.
//
// FAILED_PRECONDITION when no version is in force on that date.
// INVALID_ARGUMENT naming "programmes[i]" when codes[i] is not a programme of
// that version, or repeats an earlier code.
//
// `policies` should have passed ValidatePolicySet (policy_loader.h); the
// engine does not crash on one that did not, but its answers are then
// unspecified.
absl::StatusOr<std::vector<v1::Decision>> Decide(
    const v1::PolicySet& policies, const EligibilityInput& input,
    const std::vector<std::string>& codes = {});

// The same, against one version, whatever its effective dates (a draft
// being simulated).
absl::StatusOr<std::vector<v1::Decision>> DecideWithVersion(
    const v1::Policy& policy, const EligibilityInput& input,
    const std::vector<std::string>& codes = {});

// The same, appending the decisions to `out` in place (on `out`'s arena, if
// any: CheckEligibility builds its response on one). Nothing is appended
// when the status is not OK.
absl::Status DecideInto(const v1::PolicySet& policies,
                        const EligibilityInput& input,
                        const std::vector<std::string>& codes,
                        google::protobuf::RepeatedPtrField<v1::Decision>* out);
absl::Status DecideWithVersionInto(
    const v1::Policy& policy, const EligibilityInput& input,
    const std::vector<std::string>& codes,
    google::protobuf::RepeatedPtrField<v1::Decision>* out);

// "40,000.00 KHR": grouped digits and the currency's ISO 4217 number of
// decimals (2 unless the currency is known to use 0 or 3).
std::string FormatMoney(int64_t minor_units, const std::string& currency);

}  // namespace socle::policy

#endif  // SOCLE_SERVER_POLICY_ENGINE_H_
