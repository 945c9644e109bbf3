#include "server/grpc/eligibility_service.h"

namespace socle {

grpc::ServerUnaryReactor* EligibilityService::CheckEligibility(grpc::CallbackServerContext* c,
                                            const v1::CheckEligibilityRequest* req, v1::CheckEligibilityResponse* resp) {
  // In place: `resp` is on the call's arena (check_allocator_).
  return dispatch_.UnaryInPlace(c, "socle.v1.Eligibility.CheckEligibility", req, resp,
                                [this](const Caller& who, const v1::CheckEligibilityRequest& r,
                                       v1::CheckEligibilityResponse* out) {
                                  return logic_.CheckEligibility(who, r, out);
                                });
}

grpc::ServerUnaryReactor* EligibilityService::Enrol(grpc::CallbackServerContext* c,
                                            const v1::EnrolRequest* req, v1::Enrolment* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.Enrol", req, resp, [this](const Caller& who, const v1::EnrolRequest& r) {
    return logic_.Enrol(who, r);
  });
}

grpc::ServerUnaryReactor* EligibilityService::SuspendEnrolment(grpc::CallbackServerContext* c,
                                            const v1::ChangeEnrolmentRequest* req, v1::Enrolment* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.SuspendEnrolment", req, resp, [this](const Caller& who, const v1::ChangeEnrolmentRequest& r) {
    return logic_.SuspendEnrolment(who, r);
  });
}

grpc::ServerUnaryReactor* EligibilityService::ResumeEnrolment(grpc::CallbackServerContext* c,
                                            const v1::ChangeEnrolmentRequest* req, v1::Enrolment* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.ResumeEnrolment", req, resp, [this](const Caller& who, const v1::ChangeEnrolmentRequest& r) {
    return logic_.ResumeEnrolment(who, r);
  });
}

grpc::ServerUnaryReactor* EligibilityService::EndEnrolment(grpc::CallbackServerContext* c,
                                            const v1::ChangeEnrolmentRequest* req, v1::Enrolment* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.EndEnrolment", req, resp, [this](const Caller& who, const v1::ChangeEnrolmentRequest& r) {
    return logic_.EndEnrolment(who, r);
  });
}

grpc::ServerUnaryReactor* EligibilityService::ListEnrolments(grpc::CallbackServerContext* c,
                                            const v1::ListEnrolmentsRequest* req, v1::ListEnrolmentsResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.ListEnrolments", req, resp, [this](const Caller& who, const v1::ListEnrolmentsRequest& r) {
    return logic_.ListEnrolments(who, r);
  });
}

grpc::ServerUnaryReactor* EligibilityService::Recertify(grpc::CallbackServerContext* c,
                                            const v1::RecertifyRequest* req, v1::RecertifyResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Eligibility.Recertify", req, resp, [this](const Caller& who, const v1::RecertifyRequest& r) {
    return logic_.Recertify(who, r);
  });
}

grpc::ServerUnaryReactor* PolicyAdminService::GetPolicy(grpc::CallbackServerContext* c,
                                            const v1::GetPolicyRequest* req, v1::PolicyInfo* resp) {
  return dispatch_.Unary(c, "socle.v1.PolicyAdmin.GetPolicy", req, resp, [this](const Caller& who, const v1::GetPolicyRequest& r) {
    return logic_.GetPolicy(who, r);
  });
}

grpc::ServerUnaryReactor* PolicyAdminService::ValidatePolicy(grpc::CallbackServerContext* c,
                                            const v1::ValidatePolicyRequest* req, v1::PolicyInfo* resp) {
  return dispatch_.Unary(c, "socle.v1.PolicyAdmin.ValidatePolicy", req, resp, [this](const Caller& who, const v1::ValidatePolicyRequest& r) {
    return logic_.ValidatePolicy(who, r);
  });
}

grpc::ServerUnaryReactor* PolicyAdminService::SimulatePolicy(grpc::CallbackServerContext* c,
                                            const v1::SimulatePolicyRequest* req, v1::SimulatePolicyResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.PolicyAdmin.SimulatePolicy", req, resp, [this](const Caller& who, const v1::SimulatePolicyRequest& r) {
    return logic_.SimulatePolicy(who, r);
  });
}

grpc::ServerUnaryReactor* PolicyAdminService::ActivatePolicy(grpc::CallbackServerContext* c,
                                            const v1::ActivatePolicyRequest* req, v1::PolicyInfo* resp) {
  return dispatch_.Unary(c, "socle.v1.PolicyAdmin.ActivatePolicy", req, resp, [this](const Caller& who, const v1::ActivatePolicyRequest& r) {
    return logic_.ActivatePolicy(who, r);
  });
}

grpc::ServerUnaryReactor* PolicyAdminService::GetCoverage(grpc::CallbackServerContext* c,
                                            const v1::GetCoverageRequest* req, v1::CoverageReport* resp) {
  return dispatch_.Unary(c, "socle.v1.PolicyAdmin.GetCoverage", req, resp, [this](const Caller& who, const v1::GetCoverageRequest& r) {
    return logic_.GetCoverage(who, r);
  });
}

}  // namespace socle
