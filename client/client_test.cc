#include "client/client.h"

#include <gmock/gmock.h>
#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "client/connection.h"
#include "client/mocks/mock_connection.h"
#include "client/retry.h"
#include "client/status_conversion.h"
#include "client/stub.h"
#include "common/field_error.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "socle/v1/eligibility.grpc.pb.h"
#include "socle/v1/registry.grpc.pb.h"

namespace socle::client {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::Invoke;
using ::testing::Le;
using ::testing::Return;
using ::testing::SizeIs;

class MockRegistryStub : public RegistryStub {
 public:
  MOCK_METHOD(absl::StatusOr<v1::ListAuditChainResponse>, ListAuditChain,
              (grpc::ClientContext&, const v1::ListAuditChainRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::QueryAuditResponse>, QueryAudit,
              (grpc::ClientContext&, const v1::QueryAuditRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::AuditCheckpoint>, GetAuditCheckpoint,
              (grpc::ClientContext&, const v1::GetAuditCheckpointRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, RegisterPerson,
              (grpc::ClientContext&, const v1::RegisterPersonRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::RegisterPersonsResponse>, RegisterPersons,
              (grpc::ClientContext&, const v1::RegisterPersonsRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, GetPerson,
              (grpc::ClientContext&, const v1::GetPersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, UpdatePerson,
              (grpc::ClientContext&, const v1::UpdatePersonRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::FindPersonsResponse>, FindPersons,
              (grpc::ClientContext&, const v1::FindPersonsRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, CreateHousehold,
              (grpc::ClientContext&, const v1::CreateHouseholdRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, GetHousehold,
              (grpc::ClientContext&, const v1::GetHouseholdRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, AddHouseholdMember,
              (grpc::ClientContext&, const v1::AddHouseholdMemberRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, RemoveHouseholdMember,
              (grpc::ClientContext&, const v1::RemoveHouseholdMemberRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, SetHouseholdHead,
              (grpc::ClientContext&, const v1::SetHouseholdHeadRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::RecordLifeEventResponse>, RecordLifeEvent,
              (grpc::ClientContext&, const v1::RecordLifeEventRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::ListLifeEventsResponse>, ListLifeEvents,
              (grpc::ClientContext&, const v1::ListLifeEventsRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::CheckEligibilityResponse>, CheckEligibility,
              (grpc::ClientContext&, const v1::CheckEligibilityRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, Enrol,
              (grpc::ClientContext&, const v1::EnrolRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, SuspendEnrolment,
              (grpc::ClientContext&, const v1::ChangeEnrolmentRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, ResumeEnrolment,
              (grpc::ClientContext&, const v1::ChangeEnrolmentRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Enrolment>, EndEnrolment,
              (grpc::ClientContext&, const v1::ChangeEnrolmentRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::ListEnrolmentsResponse>, ListEnrolments,
              (grpc::ClientContext&, const v1::ListEnrolmentsRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::RecertifyResponse>, Recertify,
              (grpc::ClientContext&, const v1::RecertifyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, GetPolicy,
              (grpc::ClientContext&, const v1::GetPolicyRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, ValidatePolicy,
              (grpc::ClientContext&, const v1::ValidatePolicyRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::SimulatePolicyResponse>, SimulatePolicy,
              (grpc::ClientContext&, const v1::SimulatePolicyRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::PolicyInfo>, ActivatePolicy,
              (grpc::ClientContext&, const v1::ActivatePolicyRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::CoverageReport>, GetCoverage,
              (grpc::ClientContext&, const v1::GetCoverageRequest&),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, OpenCycle,
              (grpc::ClientContext&, const v1::OpenCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, GetCycle,
              (grpc::ClientContext&, const v1::GetCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListCyclesResponse>, ListCycles,
              (grpc::ClientContext&, const v1::ListCyclesRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Cycle>, CloseCycle,
              (grpc::ClientContext&, const v1::CloseCycleRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Payment>, RecordPayment,
              (grpc::ClientContext&, const v1::RecordPaymentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RecordPaymentsResponse>, RecordPayments,
              (grpc::ClientContext&, const v1::RecordPaymentsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Payment>, ReversePayment,
              (grpc::ClientContext&, const v1::ReversePaymentRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ReconciliationReport>, Reconcile,
              (grpc::ClientContext&, const v1::ReconcileRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::StatementReconciliation>, ReconcileStatement,
              (grpc::ClientContext&, const v1::ReconcileStatementRequest&), (override));
  MOCK_METHOD(absl::Status, ListCycleLines,
              (grpc::ClientContext&, const v1::ListCycleLinesRequest&,
               const std::function<bool(const v1::ListCycleLinesResponse&)>&),
              (override));
  MOCK_METHOD(absl::StatusOr<HealthCheckResponse>, Check,
              (grpc::ClientContext&, const HealthCheckRequest&), (override));
};

absl::Status Unavailable() { return absl::UnavailableError("link down"); }

v1::Person Numbered(const std::string& number) {
  v1::Person p;
  p.set_beneficiary_number(number);
  p.set_version(1);
  return p;
}

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A Connection over a mock stub whose sleeper records instead of sleeping.
class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() {
    options_.max_attempts = 4;
    options_.initial_backoff = absl::Milliseconds(200);
    options_.max_backoff = absl::Seconds(5);
    options_.timeout = absl::Seconds(7);
    connection_ = MakeConnection(
        stub_, options_, [this](absl::Duration d) { sleeps_.push_back(d); });
  }

  std::shared_ptr<MockRegistryStub> stub_ =
      std::make_shared<MockRegistryStub>();
  ConnectionOptions options_;
  std::vector<absl::Duration> sleeps_;
  std::shared_ptr<Connection> connection_;
};

TEST_F(ConnectionTest, ClientGeneratesRequestIdAndReusesItAcrossRetries) {
  std::vector<std::string> ids;
  EXPECT_CALL(*stub_, RegisterPerson)
      .Times(3)
      .WillRepeatedly(Invoke([&](grpc::ClientContext&,
                                 const v1::RegisterPersonRequest& r)
                                 -> absl::StatusOr<v1::Person> {
        ids.push_back(r.request_id());
        if (ids.size() < 3) return Unavailable();
        return Numbered("1000000017");
      }));
  Client client(connection_);
  v1::Person in;
  in.set_given_name("Sokha");
  auto out = client.RegisterPerson(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->beneficiary_number(), "1000000017");
  ASSERT_THAT(ids, SizeIs(3));
  EXPECT_TRUE(IsHex32(ids[0])) << ids[0];
  EXPECT_EQ(ids[1], ids[0]);
  EXPECT_EQ(ids[2], ids[0]);
  EXPECT_THAT(sleeps_, SizeIs(2));
}

TEST_F(ConnectionTest, EachWriteGetsItsOwnRequestId) {
  std::vector<std::string> ids;
  EXPECT_CALL(*stub_, RecordLifeEvent)
      .Times(2)
      .WillRepeatedly(Invoke(
          [&](grpc::ClientContext&, const v1::RecordLifeEventRequest& r) {
            ids.push_back(r.request_id());
            return v1::RecordLifeEventResponse();
          }));
  Client client(connection_);
  v1::LifeEvent death;
  death.mutable_death();
  ASSERT_TRUE(client.RecordLifeEvent("1000000017", death).ok());
  ASSERT_TRUE(client.RecordLifeEvent("1000000017", death).ok());
  ASSERT_THAT(ids, SizeIs(2));
  EXPECT_FALSE(ids[0].empty());
  EXPECT_NE(ids[0], ids[1]);
}

TEST_F(ConnectionTest, CallerRequestIdIsSentUnchangedOnEveryWrite) {
  std::vector<std::string> ids;
  auto record = [&](const auto& r) {
    ids.push_back(r.request_id());
    return v1::Household();
  };
  EXPECT_CALL(*stub_, CreateHousehold)
      .WillOnce(Invoke([&](auto&, const auto& r) { return record(r); }));
  EXPECT_CALL(*stub_, AddHouseholdMember)
      .WillOnce(Invoke([&](auto&, const auto& r) { return record(r); }));
  EXPECT_CALL(*stub_, RemoveHouseholdMember)
      .WillOnce(Invoke([&](auto&, const auto& r) { return record(r); }));
  EXPECT_CALL(*stub_, SetHouseholdHead)
      .WillOnce(Invoke([&](auto&, const auto& r) { return record(r); }));
  EXPECT_CALL(*stub_, UpdatePerson)
      .WillOnce(Invoke([&](auto&, const v1::UpdatePersonRequest& r) {
        ids.push_back(r.request_id());
        EXPECT_EQ(r.expected_version(), 3);
        return v1::Person();
      }));
  EXPECT_CALL(*stub_, RegisterPerson)
      .WillOnce(Invoke([&](auto&, const v1::RegisterPersonRequest& r) {
        ids.push_back(r.request_id());
        EXPECT_EQ(r.duplicate_override_reason(), "twins");
        return v1::Person();
      }));
  Client client(connection_);
  ASSERT_TRUE(client.CreateHousehold("1000000017", {}, "", "id-1").ok());
  ASSERT_TRUE(client
                  .AddHouseholdMember("H1000000017", "1000000025",
                                      v1::RELATIONSHIP_CHILD, "id-2")
                  .ok());
  ASSERT_TRUE(
      client.RemoveHouseholdMember("H1000000017", "1000000025", "id-3").ok());
  ASSERT_TRUE(client
                  .SetHouseholdHead("H1000000017", "1000000025",
                                    v1::RELATIONSHIP_PARENT, "id-4")
                  .ok());
  ASSERT_TRUE(client.UpdatePerson("1000000017", 3, {}, "id-5").ok());
  ASSERT_TRUE(client.RegisterPerson({}, {"twins", "id-6"}).ok());
  EXPECT_THAT(ids, ElementsAre("id-1", "id-2", "id-3", "id-4", "id-5", "id-6"));
}

v1::PersonToRegister ToRegister(const std::string& given) {
  v1::PersonToRegister p;
  p.mutable_person()->set_given_name(given);
  return p;
}

TEST_F(ConnectionTest, RegisterPersonsSendsTheBatchUnderOneRequestIdOnEveryRetry) {
  std::vector<std::string> ids;
  EXPECT_CALL(*stub_, RegisterPersons)
      .Times(2)
      .WillRepeatedly(Invoke([&](grpc::ClientContext&,
                                 const v1::RegisterPersonsRequest& r)
                                 -> absl::StatusOr<v1::RegisterPersonsResponse> {
        ids.push_back(r.request_id());
        if (ids.size() < 2) return Unavailable();
        EXPECT_EQ(r.persons_size(), 2);
        EXPECT_EQ(r.persons(0).person().given_name(), "Sokha");
        EXPECT_EQ(r.persons(1).duplicate_override_reason(), "twins");
        v1::RegisterPersonsResponse response;
        response.set_registered(2);
        return response;
      }));
  Client client(connection_);
  v1::PersonToRegister twin = ToRegister("Dara");
  twin.set_duplicate_override_reason("twins");
  auto out = client.RegisterPersons({ToRegister("Sokha"), twin}, {"import-1-0"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->registered(), 2);
  EXPECT_THAT(ids, ElementsAre("import-1-0", "import-1-0"));
  EXPECT_THAT(sleeps_, SizeIs(1));
}

TEST_F(ConnectionTest, RegisterPersonsGeneratesARequestIdWhenNoneIsGiven) {
  std::string id;
  EXPECT_CALL(*stub_, RegisterPersons)
      .WillOnce(Invoke([&](grpc::ClientContext&, const v1::RegisterPersonsRequest& r) {
        id = r.request_id();
        return v1::RegisterPersonsResponse();
      }));
  Client client(connection_);
  ASSERT_TRUE(client.RegisterPersons({ToRegister("Sokha")}).ok());
  EXPECT_TRUE(IsHex32(id)) << id;
}

TEST_F(ConnectionTest, RegisterPersonsRetriesLikeTheOtherWrites) {
  // With a request id: UNAVAILABLE only, not DEADLINE_EXCEEDED (the server
  // may have registered the batch; re-sending the same id is the caller's
  // decision).
  EXPECT_CALL(*stub_, RegisterPersons)
      .WillOnce(Return(absl::DeadlineExceededError("slow")));
  v1::RegisterPersonsRequest request;
  request.set_request_id("abc");
  EXPECT_EQ(connection_->RegisterPersons(request).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // Without one: never.
  EXPECT_CALL(*stub_, RegisterPersons).WillOnce(Return(Unavailable()));
  EXPECT_EQ(connection_->RegisterPersons(v1::RegisterPersonsRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ConnectionTest, WriteWithoutRequestIdIsNeverRetried) {
  EXPECT_CALL(*stub_, RegisterPerson).WillOnce(Return(Unavailable()));
  v1::RegisterPersonRequest request;  // no request_id
  auto out = connection_->RegisterPerson(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ConnectionTest, WriteWithRequestIdRetriesUnavailableOnly) {
  EXPECT_CALL(*stub_, UpdatePerson)
      .WillOnce(Return(absl::DeadlineExceededError("slow")));
  v1::UpdatePersonRequest request;
  request.set_request_id("abc");
  EXPECT_EQ(connection_->UpdatePerson(request).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ConnectionTest, ReadsRetryUnavailableAndDeadlineExceeded) {
  EXPECT_CALL(*stub_, GetPerson)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(absl::DeadlineExceededError("slow")))
      .WillOnce(Return(Numbered("1000000017")));
  v1::GetPersonRequest request;
  request.set_beneficiary_number("1000000017");
  auto out = connection_->GetPerson(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(sleeps_, SizeIs(2));
}

TEST_F(ConnectionTest, AnswersFromTheServerAreNotRetried) {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kAlreadyExists, absl::StatusCode::kAborted,
        absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kInternal,
        absl::StatusCode::kResourceExhausted}) {
    EXPECT_CALL(*stub_, FindPersons)
        .WillOnce(Return(absl::Status(code, "answer")));
    EXPECT_EQ(connection_->FindPersons({}).status().code(), code);
    ::testing::Mock::VerifyAndClearExpectations(stub_.get());
  }
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ConnectionTest, GivesUpAfterMaxAttemptsWithGrowingJitteredBackoff) {
  EXPECT_CALL(*stub_, ListLifeEvents)
      .Times(4)
      .WillRepeatedly(Return(absl::UnavailableError("still down")));
  auto out = connection_->ListLifeEvents({});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(out.status().message(), "still down");
  ASSERT_THAT(sleeps_, SizeIs(3));
  // Nominal 200ms, 400ms, 800ms; each jittered into [nominal/2, nominal].
  EXPECT_THAT(sleeps_[0], AllOf(Ge(absl::Milliseconds(100)),
                                Le(absl::Milliseconds(200))));
  EXPECT_THAT(sleeps_[1], AllOf(Ge(absl::Milliseconds(200)),
                                Le(absl::Milliseconds(400))));
  EXPECT_THAT(sleeps_[2], AllOf(Ge(absl::Milliseconds(400)),
                                Le(absl::Milliseconds(800))));
}

TEST_F(ConnectionTest, EachAttemptHasItsOwnDeadline) {
  std::vector<absl::Time> deadlines;
  EXPECT_CALL(*stub_, GetHousehold)
      .Times(2)
      .WillRepeatedly(Invoke([&](grpc::ClientContext& context,
                                 const v1::GetHouseholdRequest&)
                                 -> absl::StatusOr<v1::Household> {
        deadlines.push_back(absl::FromChrono(context.deadline()));
        if (deadlines.size() == 1) return Unavailable();
        return v1::Household();
      }));
  absl::Time before = absl::Now();
  ASSERT_TRUE(connection_->GetHousehold({}).ok());
  absl::Time after = absl::Now();
  ASSERT_THAT(deadlines, SizeIs(2));
  for (absl::Time d : deadlines) {
    EXPECT_GE(d, before + absl::Seconds(7) - absl::Milliseconds(1));
    EXPECT_LE(d, after + absl::Seconds(7) + absl::Milliseconds(1));
  }
}

TEST_F(ConnectionTest, CheckAsksForTheWholeServerAndReturnsItsStatus) {
  EXPECT_CALL(*stub_, Check)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Invoke([](grpc::ClientContext&, const HealthCheckRequest& r) {
        EXPECT_EQ(r.service(), "");
        HealthCheckResponse response;
        response.set_status(HealthCheckResponse::NOT_SERVING);
        return response;
      }));
  Client client(connection_);
  auto status = client.Check();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, HealthCheckResponse::NOT_SERVING);
}

// --- Eligibility and PolicyAdmin through the retry loop --------------------

TEST_F(ConnectionTest, EligibilityAndPolicyReadsRetryLikeReads) {
  auto flaky = [](auto response) {
    // gMock copies actions: the count lives outside the lambda.
    auto calls = std::make_shared<int>(0);
    return [response, calls](auto&, const auto&)
               -> absl::StatusOr<decltype(response)> {
      ++*calls;
      if (*calls == 1) return Unavailable();
      if (*calls == 2) return absl::DeadlineExceededError("slow");
      return response;
    };
  };
  EXPECT_CALL(*stub_, CheckEligibility)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::CheckEligibilityResponse())));
  EXPECT_CALL(*stub_, ListEnrolments)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::ListEnrolmentsResponse())));
  EXPECT_CALL(*stub_, GetPolicy)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::PolicyInfo())));
  EXPECT_CALL(*stub_, ValidatePolicy)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::PolicyInfo())));
  EXPECT_CALL(*stub_, SimulatePolicy)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::SimulatePolicyResponse())));
  EXPECT_CALL(*stub_, GetCoverage)
      .Times(3)
      .WillRepeatedly(Invoke(flaky(v1::CoverageReport())));
  Client client(connection_);
  EXPECT_TRUE(client.CheckEligibility("1000000017").ok());
  EXPECT_TRUE(client.ListEnrolmentsOfPerson("1000000017").ok());
  EXPECT_TRUE(client.GetPolicy().ok());
  EXPECT_TRUE(client.ValidatePolicy("versions {}", "p.textproto").ok());
  EXPECT_TRUE(client.SimulatePolicy("versions {}").ok());
  EXPECT_TRUE(client.GetCoverage().ok());
  EXPECT_THAT(sleeps_, SizeIs(12));
}

TEST_F(ConnectionTest, EligibilityWritesKeepOneRequestIdAcrossRetries) {
  std::map<std::string, std::vector<std::string>> ids;
  auto twice = [&](const std::string& name, auto response) {
    return [&ids, name, response](auto&, const auto& r)
               -> absl::StatusOr<decltype(response)> {
      ids[name].push_back(r.request_id());
      if (ids[name].size() == 1) return Unavailable();
      return response;
    };
  };
  EXPECT_CALL(*stub_, Enrol)
      .Times(2)
      .WillRepeatedly(Invoke(twice("enrol", v1::Enrolment())));
  EXPECT_CALL(*stub_, SuspendEnrolment)
      .Times(2)
      .WillRepeatedly(Invoke(twice("suspend", v1::Enrolment())));
  EXPECT_CALL(*stub_, ResumeEnrolment)
      .Times(2)
      .WillRepeatedly(Invoke(twice("resume", v1::Enrolment())));
  EXPECT_CALL(*stub_, EndEnrolment)
      .Times(2)
      .WillRepeatedly(Invoke(twice("end", v1::Enrolment())));
  EXPECT_CALL(*stub_, Recertify)
      .Times(2)
      .WillRepeatedly(Invoke(twice("recertify", v1::RecertifyResponse())));
  EXPECT_CALL(*stub_, ActivatePolicy)
      .Times(2)
      .WillRepeatedly(Invoke(twice("activate", v1::PolicyInfo())));
  Client client(connection_);
  ASSERT_TRUE(client.Enrol("1000000017", "CHILD").ok());
  ASSERT_TRUE(client.SuspendEnrolment("E12", "not seen").ok());
  ASSERT_TRUE(client.ResumeEnrolment("E12").ok());
  ASSERT_TRUE(client.EndEnrolment("E12", "moved abroad").ok());
  ASSERT_TRUE(client.Recertify().ok());
  ASSERT_TRUE(client.ActivatePolicy("versions {}", "p.textproto").ok());
  ASSERT_THAT(ids, SizeIs(6));
  std::set<std::string> distinct;
  for (const auto& [name, sent] : ids) {
    ASSERT_THAT(sent, SizeIs(2)) << name;
    EXPECT_TRUE(IsHex32(sent[0])) << name << ": " << sent[0];
    EXPECT_EQ(sent[1], sent[0]) << name;
    distinct.insert(sent[0]);
  }
  EXPECT_THAT(distinct, SizeIs(6));
}

TEST_F(ConnectionTest, EligibilityWritesAreNotRetriedAfterADeadline) {
  EXPECT_CALL(*stub_, Enrol)
      .WillOnce(Return(absl::DeadlineExceededError("slow")));
  EXPECT_CALL(*stub_, ActivatePolicy)
      .WillOnce(Return(absl::DeadlineExceededError("slow")));
  EXPECT_CALL(*stub_, Recertify).WillOnce(Return(Unavailable()));
  Client client(connection_);
  EXPECT_EQ(client.Enrol("1000000017", "CHILD").status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client.ActivatePolicy("x").status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // Without a request_id (straight through the Connection): never retried.
  EXPECT_EQ(connection_->Recertify(v1::RecertifyRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sleeps_.empty());
}

TEST(RetryLoopTest, RetriesOnlyWhatTheKindAllows) {
  RetryOptions options;
  options.max_attempts = 5;
  int calls = 0;
  std::vector<absl::Duration> sleeps;
  Sleeper sleeper = [&](absl::Duration d) { sleeps.push_back(d); };
  auto unavailable = [&] {
    ++calls;
    return absl::UnavailableError("down");
  };
  EXPECT_EQ(RetryLoop(options, Idempotency::kNonIdempotent, sleeper,
                      unavailable)
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_FALSE(
      RetryLoop(options, Idempotency::kIdempotentWrite, sleeper, unavailable)
          .ok());
  EXPECT_EQ(calls, 5);
  calls = 0;
  EXPECT_FALSE(RetryLoop(options, Idempotency::kRead, sleeper, unavailable).ok());
  EXPECT_EQ(calls, 5);
  EXPECT_THAT(sleeps, SizeIs(8));
}

TEST(RetryLoopTest, StopsAtTheFirstSuccess) {
  RetryOptions options;
  int calls = 0;
  auto result = RetryLoop(options, Idempotency::kRead,
                          [](absl::Duration) {},
                          [&]() -> absl::StatusOr<int> {
                            if (++calls < 2) return Unavailable();
                            return 42;
                          });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(calls, 2);
}

TEST(RetryLoopTest, AtLeastOneAttempt) {
  RetryOptions options;
  options.max_attempts = 0;
  int calls = 0;
  absl::Status s =
      RetryLoop(options, Idempotency::kRead, [](absl::Duration) {}, [&] {
        ++calls;
        return Unavailable();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST(RetryLoopTest, IsRetryableTable) {
  EXPECT_TRUE(IsRetryable(Idempotency::kRead, absl::StatusCode::kUnavailable));
  EXPECT_TRUE(
      IsRetryable(Idempotency::kRead, absl::StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(IsRetryable(Idempotency::kIdempotentWrite,
                          absl::StatusCode::kUnavailable));
  EXPECT_FALSE(IsRetryable(Idempotency::kIdempotentWrite,
                           absl::StatusCode::kDeadlineExceeded));
  EXPECT_FALSE(IsRetryable(Idempotency::kNonIdempotent,
                           absl::StatusCode::kUnavailable));
  EXPECT_FALSE(IsRetryable(Idempotency::kRead, absl::StatusCode::kAborted));
  EXPECT_FALSE(IsRetryable(Idempotency::kRead, absl::StatusCode::kInternal));
}

TEST(BackoffTest, DoublesWithJitterAndIsCapped) {
  RetryOptions options;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Milliseconds(500);
  for (int round = 0; round < 50; ++round) {
    EXPECT_THAT(BackoffDelay(options, 1), AllOf(Ge(absl::Milliseconds(50)),
                                                Le(absl::Milliseconds(100))));
    EXPECT_THAT(BackoffDelay(options, 3), AllOf(Ge(absl::Milliseconds(200)),
                                                Le(absl::Milliseconds(400))));
    EXPECT_THAT(BackoffDelay(options, 10), AllOf(Ge(absl::Milliseconds(250)),
                                                 Le(absl::Milliseconds(500))));
    EXPECT_THAT(BackoffDelay(options, 1000),
                AllOf(Ge(absl::Milliseconds(250)),
                      Le(absl::Milliseconds(500))));
  }
  options.initial_backoff = absl::ZeroDuration();
  EXPECT_EQ(BackoffDelay(options, 2), absl::ZeroDuration());
}

TEST(RequestIdTest, ThirtyTwoHexCharactersAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = GenerateRequestId();
    EXPECT_TRUE(IsHex32(id)) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
}

// --- Status conversion -----------------------------------------------------

grpc::Status WithDetails(grpc::StatusCode code, const std::string& message,
                         const std::vector<google::protobuf::Message*>& d) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(message);
  for (auto* m : d) status.add_details()->PackFrom(*m);
  return grpc::Status(code, message, status.SerializeAsString());
}

TEST(StatusConversionTest, BadRequestBecomesFieldViolations) {
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("person.date_of_birth");
  v->set_description("must not be in the future");
  v = bad.add_field_violations();
  v->set_field("person.phone");
  v->set_description("6 to 15 digits");
  absl::Status s = FromGrpcStatus(
      WithDetails(grpc::StatusCode::INVALID_ARGUMENT, "bad fields", {&bad}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad fields");
  EXPECT_THAT(GetFieldViolations(s),
              ElementsAre(FieldViolation{"person.date_of_birth",
                                         "must not be in the future"},
                          FieldViolation{"person.phone", "6 to 15 digits"}));
  EXPECT_FALSE(GetErrorInfo(s).has_value());
}

TEST(StatusConversionTest, ErrorInfoBecomesErrorInfo) {
  google::rpc::ErrorInfo info;
  info.set_reason("POSSIBLE_DUPLICATE");
  info.set_domain("socle");
  (*info.mutable_metadata())["candidates"] = "1000000017,1000000025";
  absl::Status s = FromGrpcStatus(
      WithDetails(grpc::StatusCode::ALREADY_EXISTS, "possible duplicate",
                  {&info}));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  auto got = GetErrorInfo(s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->reason, "POSSIBLE_DUPLICATE");
  EXPECT_EQ(got->metadata.at("candidates"), "1000000017,1000000025");
  EXPECT_TRUE(GetFieldViolations(s).empty());
}

TEST(StatusConversionTest, EveryCodeAndMessageKeptWithoutDetails) {
  for (int c = 0; c <= 16; ++c) {
    grpc::Status in(static_cast<grpc::StatusCode>(c), c ? "message" : "");
    absl::Status out = FromGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.code()), c);
    if (c != 0) {
      EXPECT_EQ(out.message(), "message");
    }
  }
}

TEST(StatusConversionTest, UnparsableOrUnknownDetailsAreIgnored) {
  absl::Status s = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::ABORTED, "conflict", "\xff\xff garbage"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(s.message(), "conflict");
  google::rpc::ResourceInfo other;
  other.set_resource_name("x");
  s = FromGrpcStatus(WithDetails(grpc::StatusCode::NOT_FOUND, "gone", {&other}));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(GetErrorInfo(s).has_value());
}

TEST(StatusConversionTest, RoundTripThroughGrpc) {
  absl::Status original = absl::AbortedError("record changed");
  SetFieldViolations(original, {{"expected_version", "stale"}});
  original = WithErrorInfo(original,
                           {"STALE_VERSION", {{"current_version", "5"}}});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(back.message(), "record changed");
  EXPECT_THAT(GetFieldViolations(back),
              ElementsAre(FieldViolation{"expected_version", "stale"}));
  auto info = GetErrorInfo(back);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "STALE_VERSION");
  EXPECT_EQ(info->metadata.at("current_version"), "5");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(StatusConversionTest, RpcStatusOfABatchItemKeepsItsDetails) {
  absl::Status original = WithErrorInfo(
      absl::AlreadyExistsError("possible duplicate"),
      {"POSSIBLE_DUPLICATE", {{"candidates", "1000000017,1000000025"}}});
  google::rpc::Status item;
  ASSERT_TRUE(item.ParseFromString(ToGrpcStatus(original).error_details()));
  absl::Status back = FromRpcStatus(item);
  EXPECT_EQ(back.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(back.message(), "possible duplicate");
  ASSERT_TRUE(GetErrorInfo(back).has_value());
  EXPECT_EQ(GetErrorInfo(back)->metadata.at("candidates"), "1000000017,1000000025");

  google::rpc::Status plain;
  plain.set_code(static_cast<int>(absl::StatusCode::kPermissionDenied));
  plain.set_message("not your office");
  EXPECT_EQ(FromRpcStatus(plain), absl::PermissionDeniedError("not your office"));
  EXPECT_TRUE(FromRpcStatus(google::rpc::Status()).ok());
}

// --- Over a real gRPC channel (in-process, plaintext, port 0) --------------

class FakeRegistry final : public v1::Registry::Service {
 public:
  grpc::Status GetPerson(grpc::ServerContext*, const v1::GetPersonRequest* r,
                         v1::Person* out) override {
    if (r->beneficiary_number() == "1000000010") {
      return ToGrpcStatus(socle::InvalidField(
          "beneficiary_number", "has a wrong check digit: mistyped?"));
    }
    out->set_beneficiary_number(r->beneficiary_number());
    out->set_given_name("Sokha");
    return grpc::Status::OK;
  }
  grpc::Status RegisterPerson(grpc::ServerContext*,
                              const v1::RegisterPersonRequest*,
                              v1::Person*) override {
    ++register_calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy");
  }
  // The first person registered, the others refused with RegisterPerson's
  // error (details carried in google.rpc.Status).
  grpc::Status RegisterPersons(grpc::ServerContext*,
                               const v1::RegisterPersonsRequest* r,
                               v1::RegisterPersonsResponse* out) override {
    last_request_id = r->request_id();
    for (int i = 0; i < r->persons_size(); ++i) {
      v1::RegisteredPerson* result = out->add_results();
      result->set_index(i);
      if (i == 0) {
        result->set_beneficiary_number("1000000017");
        out->set_registered(out->registered() + 1);
      } else {
        result->mutable_status()->set_code(grpc::StatusCode::ALREADY_EXISTS);
        result->mutable_status()->set_message("national ID taken");
        out->set_failed(out->failed() + 1);
      }
    }
    return grpc::Status::OK;
  }
  std::atomic<int> register_calls{0};
  std::string last_request_id;
};

class GrpcStubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options_.endpoint = "127.0.0.1:" + std::to_string(port);
    options_.insecure_for_testing = true;
    options_.timeout = absl::Seconds(5);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  FakeRegistry service_;
  std::unique_ptr<grpc::Server> server_;
  ConnectionOptions options_;
};

TEST_F(GrpcStubTest, CallsDetailsAndHealthOverTheWire) {
  auto connection = MakeConnection(options_);
  ASSERT_TRUE(connection.ok()) << connection.status();
  Client client(*connection);

  auto person = client.GetPerson("1000000017");
  ASSERT_TRUE(person.ok()) << person.status();
  EXPECT_EQ(person->given_name(), "Sokha");

  auto typo = client.GetPerson("1000000010");
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(GetFieldViolations(typo.status()),
              ElementsAre(FieldViolation{"beneficiary_number",
                                         "has a wrong check digit: mistyped?"}));

  auto health = client.Check();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, HealthCheckResponse::SERVING);
}

TEST_F(GrpcStubTest, RetriesAnIdempotentWriteOverTheWire) {
  std::vector<absl::Duration> sleeps;
  options_.max_attempts = 3;
  auto channel = grpc::CreateChannel(options_.endpoint,
                                     grpc::InsecureChannelCredentials());
  auto connection =
      MakeConnection(MakeGrpcRegistryStub(channel), options_,
                     [&](absl::Duration d) { sleeps.push_back(d); });
  Client client(connection);
  auto out = client.RegisterPerson({});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.register_calls, 3);
  EXPECT_THAT(sleeps, SizeIs(2));
}

TEST_F(GrpcStubTest, RegisterPersonsReachesTheRegistryService) {
  auto connection = MakeConnection(options_);
  ASSERT_TRUE(connection.ok()) << connection.status();
  Client client(*connection);
  std::vector<v1::PersonToRegister> persons(2);
  persons[0].mutable_person()->set_given_name("Sokha");
  persons[1].mutable_person()->set_given_name("Dara");
  auto out = client.RegisterPersons(persons, {"import-abc-2-0"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(service_.last_request_id, "import-abc-2-0");
  ASSERT_EQ(out->results_size(), 2);
  EXPECT_EQ(out->results(0).beneficiary_number(), "1000000017");
  EXPECT_EQ(out->results(1).status().code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(out->registered(), 1);
  EXPECT_EQ(out->failed(), 1);
}

// Eligibility and PolicyAdmin reach their own services, details intact.
class FakeEligibility final : public v1::Eligibility::Service {
 public:
  grpc::Status Enrol(grpc::ServerContext*, const v1::EnrolRequest* r,
                     v1::Enrolment*) override {
    return ToGrpcStatus(WithErrorInfo(
        absl::FailedPreconditionError("not eligible"),
        {"NOT_ELIGIBLE",
         {{"failed_criteria", "age 19 on " + r->start_date().ShortDebugString() +
                                  ", needs under 18; no child"}}}));
  }
  grpc::Status CheckEligibility(grpc::ServerContext*,
                                const v1::CheckEligibilityRequest* r,
                                v1::CheckEligibilityResponse* out) override {
    for (const std::string& code : r->programme_codes()) {
      out->add_decisions()->set_programme_code(code);
    }
    out->set_policy_version("2026.1");
    return grpc::Status::OK;
  }
};

class FakePolicyAdmin final : public v1::PolicyAdmin::Service {
 public:
  grpc::Status ValidatePolicy(grpc::ServerContext*,
                              const v1::ValidatePolicyRequest* r,
                              v1::PolicyInfo*) override {
    absl::Status bad = absl::InvalidArgumentError("bad policy");
    SetFieldViolations(bad, {{"versions[0].currency",
                              r->file_name() + ":3: must be 3 capitals"}});
    return ToGrpcStatus(bad);
  }
  grpc::Status GetCoverage(grpc::ServerContext*,
                           const v1::GetCoverageRequest* r,
                           v1::CoverageReport* out) override {
    v1::CoverageRow* row = out->add_rows();
    row->set_office_code(r->office_code());
    row->set_registered(8);
    row->set_covered(5);
    return grpc::Status::OK;
  }
};

TEST(GrpcStubEligibilityTest, EachServiceOverTheWire) {
  FakeEligibility eligibility;
  FakePolicyAdmin policy_admin;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&eligibility);
  builder.RegisterService(&policy_admin);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ConnectionOptions options;
  options.endpoint = "127.0.0.1:" + std::to_string(port);
  options.insecure_for_testing = true;
  options.timeout = absl::Seconds(5);
  auto connection = MakeConnection(options);
  ASSERT_TRUE(connection.ok()) << connection.status();
  Client client(*connection);

  auto check = client.CheckEligibility("1000000017", {"CHILD", "OLD_AGE"});
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->decisions_size(), 2);
  EXPECT_EQ(check->decisions(1).programme_code(), "OLD_AGE");
  EXPECT_EQ(check->policy_version(), "2026.1");

  auto enrol = client.Enrol("1000000017", "CHILD", absl::CivilDay(2026, 11, 25));
  EXPECT_EQ(enrol.status().code(), absl::StatusCode::kFailedPrecondition);
  auto info = GetErrorInfo(enrol.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "NOT_ELIGIBLE");
  EXPECT_TRUE(absl::StrContains(info->metadata.at("failed_criteria"),
                                "year: 2026 month: 11 day: 25"))
      << info->metadata.at("failed_criteria");

  auto validate = client.ValidatePolicy("versions {}", "draft.textproto");
  EXPECT_EQ(validate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(GetFieldViolations(validate.status()),
              ElementsAre(FieldViolation{"versions[0].currency",
                                         "draft.textproto:3: must be 3 "
                                         "capitals"}));

  auto coverage = client.GetCoverage("KH-SR-03");
  ASSERT_TRUE(coverage.ok()) << coverage.status();
  EXPECT_EQ(coverage->rows(0).office_code(), "KH-SR-03");
  EXPECT_EQ(coverage->rows(0).covered(), 5);

  // Services the server does not offer: UNIMPLEMENTED, not retried.
  EXPECT_EQ(client.GetPerson("1000000017").status().code(),
            absl::StatusCode::kUnimplemented);
  server->Shutdown();
}

TEST(MakeConnectionTest, UnreachableServerIsUnavailable) {
  ConnectionOptions options;
  options.endpoint = "127.0.0.1:1";  // nothing listens there
  options.insecure_for_testing = true;
  options.max_attempts = 1;
  options.timeout = absl::Seconds(5);
  auto connection = MakeConnection(options);
  ASSERT_TRUE(connection.ok());
  EXPECT_EQ(Client(*connection).Check().status().code(),
            absl::StatusCode::kUnavailable);
}

// --- MakeConnection's certificate files -----------------------------------

class CertFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("socle_client_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }
  std::filesystem::path dir_;
};

constexpr char kFakePem[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST_F(CertFilesTest, MissingFileIsNotFoundAndNamed) {
  ConnectionOptions o;
  o.ca_file = (dir_ / "nope.pem").string();
  auto c = MakeConnection(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(c.status().message(), o.ca_file))
      << c.status();
}

TEST_F(CertFilesTest, NotPemIsInvalidArgumentAndNamed) {
  ConnectionOptions o;
  o.ca_file = Write("ca.pem", kFakePem);
  o.cert_file = Write("terminal.pem", "not a certificate");
  o.key_file = Write("terminal.key", kFakePem);
  auto c = MakeConnection(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(c.status().message(), o.cert_file))
      << c.status();
}

TEST_F(CertFilesTest, DirectoryIsInvalidArgument) {
  ConnectionOptions o;
  o.ca_file = dir_.string();
  EXPECT_EQ(MakeConnection(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CertFilesTest, CertificateWithoutKeyIsInvalidArgument) {
  ConnectionOptions o;
  o.cert_file = Write("terminal.pem", kFakePem);
  EXPECT_EQ(MakeConnection(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CertFilesTest, ReadableFilesBuildAChannel) {
  ConnectionOptions o;
  o.ca_file = Write("ca.pem", kFakePem);
  o.cert_file = Write("terminal.pem", kFakePem);
  o.key_file = Write("terminal.key", kFakePem);
  o.ssl_target_name_override = "socle.test";
  EXPECT_TRUE(MakeConnection(o).ok());
}

TEST(MakeConnectionTest, BadOptionsAreInvalidArgument) {
  ConnectionOptions o;
  o.insecure_for_testing = true;
  o.max_attempts = 0;
  EXPECT_EQ(MakeConnection(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.max_attempts = 1;
  o.timeout = absl::ZeroDuration();
  EXPECT_EQ(MakeConnection(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.timeout = absl::Seconds(1);
  o.endpoint = "";
  EXPECT_EQ(MakeConnection(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Client builds the right requests (over the published mock) ----------

TEST(ClientTest, FindConveniencesBuildTheQuery) {
  auto mock = std::make_shared<MockConnection>();
  std::vector<v1::FindPersonsRequest> seen;
  EXPECT_CALL(*mock, FindPersons)
      .Times(4)
      .WillRepeatedly(Invoke([&](const v1::FindPersonsRequest& r) {
        seen.push_back(r);
        return v1::FindPersonsResponse();
      }));
  Client client(mock);
  ASSERT_TRUE(client.FindByNationalId("KH-1", {10, "t1"}).ok());
  ASSERT_TRUE(
      client.FindByNameAndBirth("chan sokha", absl::CivilDay(1990, 4, 12)).ok());
  ASSERT_TRUE(client.FindByHousehold("H1000000017").ok());
  ASSERT_TRUE(client.FindByOffice("KH-SR-03", {500, ""}).ok());
  ASSERT_THAT(seen, SizeIs(4));
  EXPECT_EQ(seen[0].national_id(), "KH-1");
  EXPECT_EQ(seen[0].page_size(), 10);
  EXPECT_EQ(seen[0].page_token(), "t1");
  EXPECT_EQ(seen[1].name_and_birth().name(), "chan sokha");
  EXPECT_EQ(seen[1].name_and_birth().date_of_birth().year(), 1990);
  EXPECT_EQ(seen[1].name_and_birth().date_of_birth().month(), 4);
  EXPECT_EQ(seen[1].name_and_birth().date_of_birth().day(), 12);
  EXPECT_EQ(seen[2].household_number(), "H1000000017");
  EXPECT_EQ(seen[3].office_code(), "KH-SR-03");
  EXPECT_EQ(seen[3].page_size(), 500);
}

TEST(ClientTest, EligibilityCallsBuildTheirRequests) {
  auto mock = std::make_shared<MockConnection>();
  v1::CheckEligibilityRequest check;
  v1::EnrolRequest enrol;
  std::vector<v1::ChangeEnrolmentRequest> changes;
  std::vector<v1::ListEnrolmentsRequest> lists;
  v1::RecertifyRequest recertify;
  EXPECT_CALL(*mock, CheckEligibility)
      .WillOnce(Invoke([&](const v1::CheckEligibilityRequest& r) {
        check = r;
        return v1::CheckEligibilityResponse();
      }));
  EXPECT_CALL(*mock, Enrol).WillOnce(Invoke([&](const v1::EnrolRequest& r) {
    enrol = r;
    return v1::Enrolment();
  }));
  auto change = [&](const v1::ChangeEnrolmentRequest& r) {
    changes.push_back(r);
    return v1::Enrolment();
  };
  EXPECT_CALL(*mock, SuspendEnrolment).WillOnce(Invoke(change));
  EXPECT_CALL(*mock, ResumeEnrolment).WillOnce(Invoke(change));
  EXPECT_CALL(*mock, EndEnrolment).WillOnce(Invoke(change));
  EXPECT_CALL(*mock, ListEnrolments)
      .Times(2)
      .WillRepeatedly(Invoke([&](const v1::ListEnrolmentsRequest& r) {
        lists.push_back(r);
        return v1::ListEnrolmentsResponse();
      }));
  EXPECT_CALL(*mock, Recertify)
      .WillOnce(Invoke([&](const v1::RecertifyRequest& r) {
        recertify = r;
        return v1::RecertifyResponse();
      }));
  Client client(mock);
  ASSERT_TRUE(client
                  .CheckEligibility("1000000017", {"CHILD", "OLD_AGE"},
                                    absl::CivilDay(2026, 11, 25))
                  .ok());
  ASSERT_TRUE(client
                  .Enrol("1000000017", "CHILD", absl::CivilDay(2026, 12, 1),
                         "flood victims decree", "enrol-1")
                  .ok());
  ASSERT_TRUE(client.SuspendEnrolment("E12", "not seen", "s-1").ok());
  ASSERT_TRUE(client.ResumeEnrolment("E12").ok());
  ASSERT_TRUE(
      client.EndEnrolment("E12", "moved abroad", absl::CivilDay(2027, 1, 31))
          .ok());
  ASSERT_TRUE(client.ListEnrolmentsOfPerson("1000000017", {20, "p2"}).ok());
  ASSERT_TRUE(client
                  .ListEnrolmentsOfProgramme("CHILD", "KH-SR-03",
                                             v1::ENROLMENT_STATUS_SUSPENDED)
                  .ok());
  ASSERT_TRUE(
      client.Recertify(absl::CivilDay(2026, 12, 31), "KH-SR-03", "rc-1").ok());

  EXPECT_EQ(check.beneficiary_number(), "1000000017");
  EXPECT_THAT(check.programme_codes(), ElementsAre("CHILD", "OLD_AGE"));
  EXPECT_EQ(check.as_of().year(), 2026);
  EXPECT_EQ(check.as_of().month(), 11);
  EXPECT_EQ(check.as_of().day(), 25);

  EXPECT_EQ(enrol.request_id(), "enrol-1");
  EXPECT_EQ(enrol.beneficiary_number(), "1000000017");
  EXPECT_EQ(enrol.programme_code(), "CHILD");
  EXPECT_EQ(enrol.start_date().month(), 12);
  EXPECT_EQ(enrol.override_reason(), "flood victims decree");

  ASSERT_THAT(changes, SizeIs(3));
  EXPECT_EQ(changes[0].request_id(), "s-1");
  EXPECT_EQ(changes[0].enrolment_id(), "E12");
  EXPECT_EQ(changes[0].reason(), "not seen");
  EXPECT_TRUE(IsHex32(changes[1].request_id()));
  EXPECT_EQ(changes[1].reason(), "");
  EXPECT_FALSE(changes[1].has_date());
  EXPECT_EQ(changes[2].reason(), "moved abroad");
  EXPECT_EQ(changes[2].date().year(), 2027);
  EXPECT_EQ(changes[2].date().day(), 31);

  ASSERT_THAT(lists, SizeIs(2));
  EXPECT_EQ(lists[0].beneficiary_number(), "1000000017");
  EXPECT_EQ(lists[0].page_size(), 20);
  EXPECT_EQ(lists[0].page_token(), "p2");
  EXPECT_EQ(lists[1].programme_office().programme_code(), "CHILD");
  EXPECT_EQ(lists[1].programme_office().office_code(), "KH-SR-03");
  EXPECT_EQ(lists[1].programme_office().status(),
            v1::ENROLMENT_STATUS_SUSPENDED);

  EXPECT_EQ(recertify.request_id(), "rc-1");
  EXPECT_EQ(recertify.as_of().month(), 12);
  EXPECT_EQ(recertify.office_code(), "KH-SR-03");
}

TEST(ClientTest, PolicyCallsBuildTheirRequests) {
  auto mock = std::make_shared<MockConnection>();
  EXPECT_CALL(*mock, GetPolicy).WillOnce(Return(v1::PolicyInfo()));
  EXPECT_CALL(*mock, ValidatePolicy)
      .WillOnce(Invoke([](const v1::ValidatePolicyRequest& r) {
        EXPECT_EQ(r.text(), "versions {}");
        EXPECT_EQ(r.file_name(), "draft.textproto");
        return v1::PolicyInfo();
      }));
  EXPECT_CALL(*mock, SimulatePolicy)
      .WillOnce(Invoke([](const v1::SimulatePolicyRequest& r) {
        EXPECT_EQ(r.text(), "versions {}");
        EXPECT_EQ(r.file_name(), "draft.textproto");
        EXPECT_EQ(r.as_of().year(), 2027);
        EXPECT_EQ(r.office_code(), "KH-BB-01");
        return v1::SimulatePolicyResponse();
      }));
  EXPECT_CALL(*mock, ActivatePolicy)
      .WillOnce(Invoke([](const v1::ActivatePolicyRequest& r) {
        EXPECT_EQ(r.text(), "versions {}");
        EXPECT_EQ(r.file_name(), "p.textproto");
        EXPECT_TRUE(IsHex32(r.request_id())) << r.request_id();
        return v1::PolicyInfo();
      }));
  EXPECT_CALL(*mock, GetCoverage)
      .WillOnce(Invoke([](const v1::GetCoverageRequest& r) {
        EXPECT_EQ(r.office_code(), "");
        return v1::CoverageReport();
      }));
  Client client(mock);
  EXPECT_TRUE(client.GetPolicy().ok());
  EXPECT_TRUE(client.ValidatePolicy("versions {}", "draft.textproto").ok());
  EXPECT_TRUE(client
                  .SimulatePolicy("versions {}", "draft.textproto",
                                  absl::CivilDay(2027, 1, 1), "KH-BB-01")
                  .ok());
  EXPECT_TRUE(client.ActivatePolicy("versions {}", "p.textproto").ok());
  EXPECT_TRUE(client.GetCoverage().ok());
}

TEST(ClientTest, RegisterPersonsReachesTheConnectionWithTheRequestId) {
  auto mock = std::make_shared<MockConnection>();
  EXPECT_CALL(*mock, RegisterPersons)
      .WillOnce(Invoke([](const v1::RegisterPersonsRequest& r) {
        EXPECT_EQ(r.request_id(), "import-0123456789abcdef-2000-0");
        EXPECT_EQ(r.persons_size(), 1);
        EXPECT_EQ(r.persons(0).person().family_name(), "CHAN");
        v1::RegisterPersonsResponse response;
        response.add_results()->set_beneficiary_number("1000000017");
        response.set_registered(1);
        return response;
      }));
  Client client(mock);
  v1::PersonToRegister p;
  p.mutable_person()->set_family_name("CHAN");
  auto out = client.RegisterPersons({p}, {"import-0123456789abcdef-2000-0"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->results(0).beneficiary_number(), "1000000017");
}

TEST(ClientTest, ErrorsComeBackUnchanged) {
  auto mock = std::make_shared<MockConnection>();
  absl::Status refused = WithErrorInfo(absl::AlreadyExistsError("taken"),
                                       {"NATIONAL_ID_TAKEN", {}});
  EXPECT_CALL(*mock, RegisterPerson).WillOnce(Return(refused));
  EXPECT_CALL(*mock, ListLifeEvents)
      .WillOnce(Invoke([](const v1::ListLifeEventsRequest& r) {
        EXPECT_EQ(r.beneficiary_number(), "1000000017");
        EXPECT_EQ(r.page_size(), 20);
        EXPECT_EQ(r.page_token(), "next");
        return absl::NotFoundError("no such person");
      }));
  Client client(mock);
  auto out = client.RegisterPerson({});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorInfo(out.status())->reason, "NATIONAL_ID_TAKEN");
  EXPECT_EQ(client.ListLifeEvents("1000000017", 20, "next").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace socle::client
