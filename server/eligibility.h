// Eligibility, enrolment and the policy in force: logic only (no gRPC),
// over a Store, a Clock and the policy engine in server/policy/.
#ifndef SOCLE_SERVER_ELIGIBILITY_H_
#define SOCLE_SERVER_ELIGIBILITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/caller.h"
#include "server/registry.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/policy.pb.h"
#include "storage/store.h"

namespace socle {

// The policy set in force, with where it came from. Immutable once made.
struct ActivePolicy {
  v1::PolicySet policies;
  std::string text;
  std::string file_name;
  absl::Time activated_at;
  std::string activated_by;
};

// Holds the policy in force; readers take a snapshot that stays valid while
// an activation swaps in another.
class PolicyHolder {
 public:
  std::shared_ptr<const ActivePolicy> Get() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }
  void Set(std::shared_ptr<const ActivePolicy> policy) {
    absl::MutexLock lock(&mu_);
    current_ = std::move(policy);
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ActivePolicy> current_ ABSL_GUARDED_BY(mu_);
};

class Eligibility {
 public:
  // All pointers must outlive this object.
  Eligibility(storage::Store* store, const Clock* clock, PolicyHolder* policy)
      : store_(*store), clock_(*clock), policy_(*policy) {}

  // Puts a policy in force at start. With `files`, they are loaded and
  // validated (INVALID_ARGUMENT naming file, line and field, so the server
  // does not start on a bad policy) and recorded as the latest activation
  // when they differ from it. Without, the latest activation in the store is
  // used; FAILED_PRECONDITION when there is none.
  absl::Status LoadAtStart(const std::vector<std::string>& files);

  // Ends the person's current enrolments when a death is recorded, in the
  // same transaction (the last day of entitlement is the day of death).
  Registry::LifeEventHook DeathHook();

  absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      const Caller& caller, const v1::CheckEligibilityRequest& request);
  // The same, filling `out` (empty, possibly on an arena) in place; `out` is
  // meaningful only when the status is OK.
  absl::Status CheckEligibility(const Caller& caller,
                                const v1::CheckEligibilityRequest& request,
                                v1::CheckEligibilityResponse* out);
  absl::StatusOr<v1::Enrolment> Enrol(const Caller& caller,
                                      const v1::EnrolRequest& request);
  absl::StatusOr<v1::Enrolment> SuspendEnrolment(
      const Caller& caller, const v1::ChangeEnrolmentRequest& request);
  absl::StatusOr<v1::Enrolment> ResumeEnrolment(
      const Caller& caller, const v1::ChangeEnrolmentRequest& request);
  absl::StatusOr<v1::Enrolment> EndEnrolment(
      const Caller& caller, const v1::ChangeEnrolmentRequest& request);
  absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolments(
      const Caller& caller, const v1::ListEnrolmentsRequest& request);
  absl::StatusOr<v1::RecertifyResponse> Recertify(
      const Caller& caller, const v1::RecertifyRequest& request);

  absl::StatusOr<v1::PolicyInfo> GetPolicy(const Caller& caller,
                                           const v1::GetPolicyRequest& request);
  absl::StatusOr<v1::PolicyInfo> ValidatePolicy(
      const Caller& caller, const v1::ValidatePolicyRequest& request);
  absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(
      const Caller& caller, const v1::SimulatePolicyRequest& request);
  absl::StatusOr<v1::PolicyInfo> ActivatePolicy(
      const Caller& caller, const v1::ActivatePolicyRequest& request);
  absl::StatusOr<v1::CoverageReport> GetCoverage(
      const Caller& caller, const v1::GetCoverageRequest& request);

 private:
  enum class Change { kSuspend, kResume, kEnd };
  absl::StatusOr<v1::Enrolment> ChangeEnrolment(
      const Caller& caller, const v1::ChangeEnrolmentRequest& request,
      Change change, absl::string_view method);

  storage::Store& store_;
  const Clock& clock_;
  PolicyHolder& policy_;
};

// "E" and the enrolment's id; the inverse returns INVALID_ARGUMENT naming
// `field`.
std::string FormatEnrolmentId(int64_t id);
absl::StatusOr<int64_t> ParseEnrolmentId(absl::string_view text,
                                         absl::string_view field);

}  // namespace socle

#endif  // SOCLE_SERVER_ELIGIBILITY_H_
