// The layer under Connection: one call per RPC, one attempt, no retry.
// `RegistryStub` is the interface (faked in tests of the retry loop) for
// every service the client calls: socle.v1.Registry, socle.v1.Eligibility,
// socle.v1.PolicyAdmin, socle.v1.Payments, socle.v1.AuditAdmin and
// grpc.health.v1.Health. MakeGrpcRegistryStub wraps
// the generated gRPC stubs.
#ifndef SOCLE_CLIENT_STUB_H_
#define SOCLE_CLIENT_STUB_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.pb.h"
#include "socle/v1/access.pb.h"
#include "socle/v1/audit.pb.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/keys.pb.h"
#include "socle/v1/payments.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client {

class RegistryStub {
 public:
  virtual ~RegistryStub() = default;

  // Each makes one attempt with `context` (deadline already set) and
  // converts the result with FromGrpcStatus.
  virtual absl::StatusOr<v1::Person> RegisterPerson(
      grpc::ClientContext& context, const v1::RegisterPersonRequest& request) = 0;
  // Not pure, so that stubs written before it (test fakes) still compile;
  // the default answers UNIMPLEMENTED.
  virtual absl::StatusOr<v1::RegisterPersonsResponse> RegisterPersons(
      grpc::ClientContext& context, const v1::RegisterPersonsRequest& request) {
    (void)context;
    (void)request;
    return absl::UnimplementedError("RegisterPersons");
  }
  virtual absl::StatusOr<v1::Person> GetPerson(
      grpc::ClientContext& context, const v1::GetPersonRequest& request) = 0;
  virtual absl::StatusOr<v1::Person> UpdatePerson(
      grpc::ClientContext& context, const v1::UpdatePersonRequest& request) = 0;
  virtual absl::StatusOr<v1::FindPersonsResponse> FindPersons(
      grpc::ClientContext& context, const v1::FindPersonsRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> CreateHousehold(
      grpc::ClientContext& context, const v1::CreateHouseholdRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> GetHousehold(
      grpc::ClientContext& context, const v1::GetHouseholdRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> AddHouseholdMember(
      grpc::ClientContext& context,
      const v1::AddHouseholdMemberRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> RemoveHouseholdMember(
      grpc::ClientContext& context,
      const v1::RemoveHouseholdMemberRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> SetHouseholdHead(
      grpc::ClientContext& context,
      const v1::SetHouseholdHeadRequest& request) = 0;
  virtual absl::StatusOr<v1::RecordLifeEventResponse> RecordLifeEvent(
      grpc::ClientContext& context,
      const v1::RecordLifeEventRequest& request) = 0;
  virtual absl::StatusOr<v1::ListLifeEventsResponse> ListLifeEvents(
      grpc::ClientContext& context,
      const v1::ListLifeEventsRequest& request) = 0;

  // socle.v1.Access and socle.v1.UserAdmin. Not pure: fakes of the other
  // services need not implement them.
  virtual absl::StatusOr<v1::LoginResponse> Login(grpc::ClientContext&,
                                                  const v1::LoginRequest&) {
    return absl::UnimplementedError("Login");
  }
  virtual absl::StatusOr<v1::User> AddUser(grpc::ClientContext&, const v1::AddUserRequest&) {
    return absl::UnimplementedError("AddUser");
  }
  virtual absl::StatusOr<v1::User> DisableUser(grpc::ClientContext&,
                                               const v1::DisableUserRequest&) {
    return absl::UnimplementedError("DisableUser");
  }
  virtual absl::StatusOr<v1::User> ResetPassword(grpc::ClientContext&,
                                                 const v1::ResetPasswordRequest&) {
    return absl::UnimplementedError("ResetPassword");
  }
  virtual absl::StatusOr<v1::ListUsersResponse> ListUsers(grpc::ClientContext&,
                                                          const v1::ListUsersRequest&) {
    return absl::UnimplementedError("ListUsers");
  }

  // socle.v1.Eligibility.
  virtual absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      grpc::ClientContext& context,
      const v1::CheckEligibilityRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> Enrol(
      grpc::ClientContext& context, const v1::EnrolRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> SuspendEnrolment(
      grpc::ClientContext& context,
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> ResumeEnrolment(
      grpc::ClientContext& context,
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> EndEnrolment(
      grpc::ClientContext& context,
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolments(
      grpc::ClientContext& context,
      const v1::ListEnrolmentsRequest& request) = 0;
  virtual absl::StatusOr<v1::RecertifyResponse> Recertify(
      grpc::ClientContext& context, const v1::RecertifyRequest& request) = 0;

  // socle.v1.PolicyAdmin.
  virtual absl::StatusOr<v1::PolicyInfo> GetPolicy(
      grpc::ClientContext& context, const v1::GetPolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::PolicyInfo> ValidatePolicy(
      grpc::ClientContext& context,
      const v1::ValidatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(
      grpc::ClientContext& context,
      const v1::SimulatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::PolicyInfo> ActivatePolicy(
      grpc::ClientContext& context,
      const v1::ActivatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::CoverageReport> GetCoverage(
      grpc::ClientContext& context, const v1::GetCoverageRequest& request) = 0;

  // socle.v1.KeysAdmin. Not pure, so that stubs written before it (test
  // fakes) still compile; the default answers UNIMPLEMENTED.
  virtual absl::StatusOr<v1::RotateKeysResponse> RotateKeys(
      grpc::ClientContext& context, const v1::RotateKeysRequest& request) {
    (void)context;
    (void)request;
    return absl::UnimplementedError("RotateKeys");
  }

  // socle.v1.Payments. ListCycleLines reads the stream to its end, handing
  // each chunk to `on_chunk`; when `on_chunk` returns false the call is
  // cancelled and ListCycleLines returns OK.
  virtual absl::StatusOr<v1::Cycle> OpenCycle(
      grpc::ClientContext& context, const v1::OpenCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::Cycle> GetCycle(
      grpc::ClientContext& context, const v1::GetCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::ListCyclesResponse> ListCycles(
      grpc::ClientContext& context, const v1::ListCyclesRequest& request) = 0;
  virtual absl::StatusOr<v1::Cycle> CloseCycle(
      grpc::ClientContext& context, const v1::CloseCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::Payment> RecordPayment(
      grpc::ClientContext& context, const v1::RecordPaymentRequest& request) = 0;
  virtual absl::StatusOr<v1::RecordPaymentsResponse> RecordPayments(
      grpc::ClientContext& context, const v1::RecordPaymentsRequest& request) = 0;
  virtual absl::StatusOr<v1::Payment> ReversePayment(
      grpc::ClientContext& context, const v1::ReversePaymentRequest& request) = 0;
  virtual absl::StatusOr<v1::ReconciliationReport> Reconcile(
      grpc::ClientContext& context, const v1::ReconcileRequest& request) = 0;
  virtual absl::StatusOr<v1::StatementReconciliation> ReconcileStatement(
      grpc::ClientContext& context, const v1::ReconcileStatementRequest& request) = 0;
  virtual absl::Status ListCycleLines(
      grpc::ClientContext& context, const v1::ListCycleLinesRequest& request,
      const std::function<bool(const v1::ListCycleLinesResponse&)>& on_chunk) = 0;

  // socle.v1.AuditAdmin.
  virtual absl::StatusOr<v1::ListAuditChainResponse> ListAuditChain(
      grpc::ClientContext& context, const v1::ListAuditChainRequest& request) = 0;
  virtual absl::StatusOr<v1::QueryAuditResponse> QueryAudit(
      grpc::ClientContext& context, const v1::QueryAuditRequest& request) = 0;
  virtual absl::StatusOr<v1::AuditCheckpoint> GetAuditCheckpoint(
      grpc::ClientContext& context, const v1::GetAuditCheckpointRequest& request) = 0;

  // grpc.health.v1.Health.
  virtual absl::StatusOr<grpc::health::v1::HealthCheckResponse> Check(
      grpc::ClientContext& context,
      const grpc::health::v1::HealthCheckRequest& request) = 0;
};

// socle.v1.Registry, socle.v1.Eligibility, socle.v1.PolicyAdmin and
// grpc.health.v1.Health over `channel`.
std::shared_ptr<RegistryStub> MakeGrpcRegistryStub(
    std::shared_ptr<grpc::Channel> channel);

}  // namespace socle::client

#endif  // SOCLE_CLIENT_STUB_H_
