#include "client/stub.h"

#include "client/status_conversion.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "socle/v1/access.grpc.pb.h"
#include "socle/v1/audit.grpc.pb.h"
#include "socle/v1/eligibility.grpc.pb.h"
#include "socle/v1/keys.grpc.pb.h"
#include "socle/v1/payments.grpc.pb.h"
#include "socle/v1/registry.grpc.pb.h"

namespace socle::client {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

template <typename Response, typename Call>
absl::StatusOr<Response> Invoke(Call&& call) {
  Response response;
  grpc::Status status = call(&response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

class GrpcRegistryStub final : public RegistryStub {
 public:
  explicit GrpcRegistryStub(std::shared_ptr<grpc::Channel> channel)
      : registry_(v1::Registry::NewStub(channel)),
        eligibility_(v1::Eligibility::NewStub(channel)),
        policy_admin_(v1::PolicyAdmin::NewStub(channel)),
        payments_(v1::Payments::NewStub(channel)),
        access_(v1::Access::NewStub(channel)),
        user_admin_(v1::UserAdmin::NewStub(channel)),
        audit_(v1::AuditAdmin::NewStub(channel)),
        keys_admin_(v1::KeysAdmin::NewStub(channel)),
        health_(Health::NewStub(channel)) {}

#define SOCLE_SERVICE_METHOD_(service, Method, Request, Response)        \
  absl::StatusOr<Response> Method(grpc::ClientContext& context,         \
                                  const Request& request) override {    \
    return Invoke<Response>([&](Response* response) {                   \
      return service->Method(&context, request, response);              \
    });                                                                 \
  }
#define SOCLE_STUB_METHOD_(Method, Request, Response) \
  SOCLE_SERVICE_METHOD_(registry_, Method, Request, Response)
#define SOCLE_ELIGIBILITY_METHOD_(Method, Request, Response) \
  SOCLE_SERVICE_METHOD_(eligibility_, Method, Request, Response)
#define SOCLE_POLICY_METHOD_(Method, Request, Response) \
  SOCLE_SERVICE_METHOD_(policy_admin_, Method, Request, Response)

  SOCLE_STUB_METHOD_(RegisterPerson, v1::RegisterPersonRequest, v1::Person)
  SOCLE_STUB_METHOD_(RegisterPersons, v1::RegisterPersonsRequest,
                     v1::RegisterPersonsResponse)
  SOCLE_STUB_METHOD_(GetPerson, v1::GetPersonRequest, v1::Person)
  SOCLE_STUB_METHOD_(UpdatePerson, v1::UpdatePersonRequest, v1::Person)
  SOCLE_STUB_METHOD_(FindPersons, v1::FindPersonsRequest,
                     v1::FindPersonsResponse)
  SOCLE_STUB_METHOD_(CreateHousehold, v1::CreateHouseholdRequest,
                     v1::Household)
  SOCLE_STUB_METHOD_(GetHousehold, v1::GetHouseholdRequest, v1::Household)
  SOCLE_STUB_METHOD_(AddHouseholdMember, v1::AddHouseholdMemberRequest,
                     v1::Household)
  SOCLE_STUB_METHOD_(RemoveHouseholdMember, v1::RemoveHouseholdMemberRequest,
                     v1::Household)
  SOCLE_STUB_METHOD_(SetHouseholdHead, v1::SetHouseholdHeadRequest,
                     v1::Household)
  SOCLE_STUB_METHOD_(RecordLifeEvent, v1::RecordLifeEventRequest,
                     v1::RecordLifeEventResponse)
  SOCLE_STUB_METHOD_(ListLifeEvents, v1::ListLifeEventsRequest,
                     v1::ListLifeEventsResponse)

  SOCLE_ELIGIBILITY_METHOD_(CheckEligibility, v1::CheckEligibilityRequest,
                            v1::CheckEligibilityResponse)
  SOCLE_ELIGIBILITY_METHOD_(Enrol, v1::EnrolRequest, v1::Enrolment)
  SOCLE_ELIGIBILITY_METHOD_(SuspendEnrolment, v1::ChangeEnrolmentRequest,
                            v1::Enrolment)
  SOCLE_ELIGIBILITY_METHOD_(ResumeEnrolment, v1::ChangeEnrolmentRequest,
                            v1::Enrolment)
  SOCLE_ELIGIBILITY_METHOD_(EndEnrolment, v1::ChangeEnrolmentRequest,
                            v1::Enrolment)
  SOCLE_ELIGIBILITY_METHOD_(ListEnrolments, v1::ListEnrolmentsRequest,
                            v1::ListEnrolmentsResponse)
  SOCLE_ELIGIBILITY_METHOD_(Recertify, v1::RecertifyRequest,
                            v1::RecertifyResponse)

  SOCLE_POLICY_METHOD_(GetPolicy, v1::GetPolicyRequest, v1::PolicyInfo)
  SOCLE_POLICY_METHOD_(ValidatePolicy, v1::ValidatePolicyRequest,
                       v1::PolicyInfo)
  SOCLE_POLICY_METHOD_(SimulatePolicy, v1::SimulatePolicyRequest,
                       v1::SimulatePolicyResponse)
  SOCLE_POLICY_METHOD_(ActivatePolicy, v1::ActivatePolicyRequest,
                       v1::PolicyInfo)
  SOCLE_POLICY_METHOD_(GetCoverage, v1::GetCoverageRequest,
                       v1::CoverageReport)
#define SOCLE_PAYMENTS_METHOD_(Method, Request, Response) \
  SOCLE_SERVICE_METHOD_(payments_, Method, Request, Response)

  SOCLE_PAYMENTS_METHOD_(OpenCycle, v1::OpenCycleRequest,
                         v1::Cycle)
  SOCLE_PAYMENTS_METHOD_(GetCycle, v1::GetCycleRequest,
                         v1::Cycle)
  SOCLE_PAYMENTS_METHOD_(ListCycles, v1::ListCyclesRequest,
                         v1::ListCyclesResponse)
  SOCLE_PAYMENTS_METHOD_(CloseCycle, v1::CloseCycleRequest,
                         v1::Cycle)
  SOCLE_PAYMENTS_METHOD_(RecordPayment, v1::RecordPaymentRequest,
                         v1::Payment)
  SOCLE_PAYMENTS_METHOD_(RecordPayments, v1::RecordPaymentsRequest,
                         v1::RecordPaymentsResponse)
  SOCLE_PAYMENTS_METHOD_(ReversePayment, v1::ReversePaymentRequest,
                         v1::Payment)
  SOCLE_PAYMENTS_METHOD_(Reconcile, v1::ReconcileRequest,
                         v1::ReconciliationReport)
  SOCLE_PAYMENTS_METHOD_(ReconcileStatement, v1::ReconcileStatementRequest,
                         v1::StatementReconciliation)
  SOCLE_SERVICE_METHOD_(access_, Login, v1::LoginRequest, v1::LoginResponse)
  SOCLE_SERVICE_METHOD_(user_admin_, AddUser, v1::AddUserRequest, v1::User)
  SOCLE_SERVICE_METHOD_(user_admin_, DisableUser, v1::DisableUserRequest, v1::User)
  SOCLE_SERVICE_METHOD_(user_admin_, ResetPassword, v1::ResetPasswordRequest, v1::User)
  SOCLE_SERVICE_METHOD_(user_admin_, ListUsers, v1::ListUsersRequest,
                        v1::ListUsersResponse)
#undef SOCLE_PAYMENTS_METHOD_
  SOCLE_SERVICE_METHOD_(audit_, ListAuditChain, v1::ListAuditChainRequest,
                        v1::ListAuditChainResponse)
  SOCLE_SERVICE_METHOD_(audit_, QueryAudit, v1::QueryAuditRequest,
                        v1::QueryAuditResponse)
  SOCLE_SERVICE_METHOD_(audit_, GetAuditCheckpoint, v1::GetAuditCheckpointRequest,
                        v1::AuditCheckpoint)
  SOCLE_SERVICE_METHOD_(keys_admin_, RotateKeys, v1::RotateKeysRequest,
                        v1::RotateKeysResponse)
#undef SOCLE_POLICY_METHOD_
#undef SOCLE_ELIGIBILITY_METHOD_
#undef SOCLE_STUB_METHOD_
#undef SOCLE_SERVICE_METHOD_

  absl::StatusOr<HealthCheckResponse> Check(
      grpc::ClientContext& context,
      const HealthCheckRequest& request) override {
    return Invoke<HealthCheckResponse>([&](HealthCheckResponse* response) {
      return health_->Check(&context, request, response);
    });
  }

  absl::Status ListCycleLines(
      grpc::ClientContext& context, const v1::ListCycleLinesRequest& request,
      const std::function<bool(const v1::ListCycleLinesResponse&)>& on_chunk)
      override {
    std::unique_ptr<grpc::ClientReader<v1::ListCycleLinesResponse>> reader =
        payments_->ListCycleLines(&context, request);
    v1::ListCycleLinesResponse chunk;
    bool stopped = false;
    while (reader->Read(&chunk)) {
      if (!stopped && !on_chunk(chunk)) {
        stopped = true;
        context.TryCancel();  // then drain what is in flight
      }
    }
    grpc::Status status = reader->Finish();
    if (stopped) return absl::OkStatus();
    return FromGrpcStatus(status);
  }

 private:
  std::unique_ptr<v1::Registry::Stub> registry_;
  std::unique_ptr<v1::Eligibility::Stub> eligibility_;
  std::unique_ptr<v1::PolicyAdmin::Stub> policy_admin_;
  std::unique_ptr<v1::Payments::Stub> payments_;
  std::unique_ptr<v1::Access::Stub> access_;
  std::unique_ptr<v1::UserAdmin::Stub> user_admin_;
  std::unique_ptr<v1::AuditAdmin::Stub> audit_;
  std::unique_ptr<v1::KeysAdmin::Stub> keys_admin_;
  std::unique_ptr<Health::Stub> health_;
};

}  // namespace

std::shared_ptr<RegistryStub> MakeGrpcRegistryStub(
    std::shared_ptr<grpc::Channel> channel) {
  return std::make_shared<GrpcRegistryStub>(std::move(channel));
}

}  // namespace socle::client
