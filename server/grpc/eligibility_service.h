// gRPC adapters of eligibility, enrolment and policy administration.
#ifndef SOCLE_SERVER_GRPC_ELIGIBILITY_SERVICE_H_
#define SOCLE_SERVER_GRPC_ELIGIBILITY_SERVICE_H_

#include "server/eligibility.h"
#include "server/grpc/arena_allocator.h"
#include "server/grpc/dispatch.h"
#include "socle/v1/eligibility.grpc.pb.h"

namespace socle {

class EligibilityService final : public v1::Eligibility::CallbackService {
 public:
  EligibilityService(Eligibility* logic, Dispatcher* dispatcher) : logic_(*logic), dispatch_(*dispatcher) {
    SetMessageAllocatorFor_CheckEligibility(&check_allocator_);
  }
  grpc::ServerUnaryReactor* CheckEligibility(grpc::CallbackServerContext* c, const v1::CheckEligibilityRequest* req,
                                 v1::CheckEligibilityResponse* resp) override;
  grpc::ServerUnaryReactor* Enrol(grpc::CallbackServerContext* c, const v1::EnrolRequest* req,
                                 v1::Enrolment* resp) override;
  grpc::ServerUnaryReactor* SuspendEnrolment(grpc::CallbackServerContext* c, const v1::ChangeEnrolmentRequest* req,
                                 v1::Enrolment* resp) override;
  grpc::ServerUnaryReactor* ResumeEnrolment(grpc::CallbackServerContext* c, const v1::ChangeEnrolmentRequest* req,
                                 v1::Enrolment* resp) override;
  grpc::ServerUnaryReactor* EndEnrolment(grpc::CallbackServerContext* c, const v1::ChangeEnrolmentRequest* req,
                                 v1::Enrolment* resp) override;
  grpc::ServerUnaryReactor* ListEnrolments(grpc::CallbackServerContext* c, const v1::ListEnrolmentsRequest* req,
                                 v1::ListEnrolmentsResponse* resp) override;
  grpc::ServerUnaryReactor* Recertify(grpc::CallbackServerContext* c, const v1::RecertifyRequest* req,
                                 v1::RecertifyResponse* resp) override;

 private:
  Eligibility& logic_;
  Dispatcher& dispatch_;
  // CheckEligibility's answer (seven decisions, some 36 criterion lines of
  // several strings each) is built on an arena.
  ArenaMessageAllocator<v1::CheckEligibilityRequest, v1::CheckEligibilityResponse>
      check_allocator_{32 * 1024};
};

class PolicyAdminService final : public v1::PolicyAdmin::CallbackService {
 public:
  PolicyAdminService(Eligibility* logic, Dispatcher* dispatcher) : logic_(*logic), dispatch_(*dispatcher) {}
  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* c, const v1::GetPolicyRequest* req,
                                 v1::PolicyInfo* resp) override;
  grpc::ServerUnaryReactor* ValidatePolicy(grpc::CallbackServerContext* c, const v1::ValidatePolicyRequest* req,
                                 v1::PolicyInfo* resp) override;
  grpc::ServerUnaryReactor* SimulatePolicy(grpc::CallbackServerContext* c, const v1::SimulatePolicyRequest* req,
                                 v1::SimulatePolicyResponse* resp) override;
  grpc::ServerUnaryReactor* ActivatePolicy(grpc::CallbackServerContext* c, const v1::ActivatePolicyRequest* req,
                                 v1::PolicyInfo* resp) override;
  grpc::ServerUnaryReactor* GetCoverage(grpc::CallbackServerContext* c, const v1::GetCoverageRequest* req,
                                 v1::CoverageReport* resp) override;

 private:
  Eligibility& logic_;
  Dispatcher& dispatch_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_ELIGIBILITY_SERVICE_H_
