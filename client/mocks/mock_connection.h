// A gMock Connection for tests of code that uses socle::client::Client:
//
//   auto mock = std::make_shared<socle::client::MockConnection>();
//   EXPECT_CALL(*mock, GetPerson).WillOnce(Return(person));
//   socle::client::Client client(mock);
//
// Link GTest::gmock.
#ifndef SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_
#define SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_

#include <gmock/gmock.h>

#include "client/connection.h"

namespace socle::client {

class MockConnection : public Connection {
 public:
  MOCK_METHOD(absl::StatusOr<v1::Person>, RegisterPerson,
              (const v1::RegisterPersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RegisterPersonsResponse>, RegisterPersons,
              (const v1::RegisterPersonsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, GetPerson,
              (const v1::GetPersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, UpdatePerson,
              (const v1::UpdatePersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::FindPersonsResponse>, FindPersons,
              (const v1::FindPersonsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, CreateHousehold,
              (const v1::CreateHouseholdRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, GetHousehold,
              (const v1::GetHouseholdRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, AddHouseholdMember,
              (const v1::AddHouseholdMemberRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, RemoveHouseholdMember,
              (const v1::RemoveHouseholdMemberRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, SetHouseholdHead,
              (const v1::SetHouseholdHeadRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RecordLifeEventResponse>, RecordLifeEvent,
              (const v1::RecordLifeEventRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListLifeEventsResponse>, ListLifeEvents,
              (const v1::ListLifeEventsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::CheckEligibilityResponse>, CheckEligibility,
              (const v1::CheckEligibilityRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, Enrol, (const v1::EnrolRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, SuspendEnrolment,
              (const v1::ChangeEnrolmentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, ResumeEnrolment,
              (const v1::ChangeEnrolmentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, EndEnrolment,
              (const v1::ChangeEnrolmentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListEnrolmentsResponse>, ListEnrolments,
              (const v1::ListEnrolmentsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RecertifyResponse>, Recertify,
              (const v1::RecertifyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, GetPolicy,
              (const v1::GetPolicyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, ValidatePolicy,
              (const v1::ValidatePolicyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::SimulatePolicyResponse>, SimulatePolicy,
              (const v1::SimulatePolicyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, ActivatePolicy,
              (const v1::ActivatePolicyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::CoverageReport>, GetCoverage,
              (const v1::GetCoverageRequest&), (override));

  // socle.v1.Payments.
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, OpenCycle,
              (const v1::OpenCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, GetCycle,
              (const v1::GetCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListCyclesResponse>, ListCycles,
              (const v1::ListCyclesRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, CloseCycle,
              (const v1::CloseCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Payment>, RecordPayment,
              (const v1::RecordPaymentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RecordPaymentsResponse>, RecordPayments,
              (const v1::RecordPaymentsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Payment>, ReversePayment,
              (const v1::ReversePaymentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ReconciliationReport>, Reconcile,
              (const v1::ReconcileRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::StatementReconciliation>, ReconcileStatement,
              (const v1::ReconcileStatementRequest&), (override));
  MOCK_METHOD(absl::Status, ListCycleLines,
              (const v1::ListCycleLinesRequest&,
               const std::function<bool(const v1::ListCycleLinesResponse&)>&),
              (override));
  // socle.v1.AuditAdmin.
  MOCK_METHOD(absl::StatusOr<v1::ListAuditChainResponse>, ListAuditChain,
              (const v1::ListAuditChainRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::QueryAuditResponse>, QueryAudit,
              (const v1::QueryAuditRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::AuditCheckpoint>, GetAuditCheckpoint,
              (const v1::GetAuditCheckpointRequest&), (override));
  MOCK_METHOD(absl::StatusOr<ServingStatus>, Check, (), (override));
};

}  // namespace socle::client

#endif  // SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_
