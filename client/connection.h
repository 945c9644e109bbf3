// The mockable layer of the client library: one virtual method per RPC of
// socle.v1.Registry, socle.v1.Eligibility, socle.v1.PolicyAdmin and
// socle.v1.Payments, plus the standard health check. The implementation made
// by MakeConnection owns the per-attempt deadline and the retry loop (see
// client/retry.h for what is retried). Never throws. The implementations
// made here are thread-safe: one Connection may serve many threads.
#ifndef SOCLE_CLIENT_CONNECTION_H_
#define SOCLE_CLIENT_CONNECTION_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/retry.h"
#include "client/stub.h"
#include "grpc/health/v1/health.pb.h"
#include "socle/v1/access.pb.h"
#include "socle/v1/audit.pb.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/keys.pb.h"
#include "socle/v1/payments.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client {

using ServingStatus = ::grpc::health::v1::HealthCheckResponse::ServingStatus;

struct ConnectionOptions {
  // host:port of the server (or a load balancer in front of the replicas).
  std::string endpoint = "localhost:50051";
  // PEM files. The CA that signed the server's certificate (empty: the
  // system's roots), and this terminal's certificate and key (the server
  // requires a client certificate by default; give both or neither).
  std::string ca_file, cert_file, key_file;
  // Plaintext, no certificates: for tests only.
  bool insecure_for_testing = false;
  // The login token of the user at this terminal (Login; `socle login`
  // keeps it in a file), sent with every call as `authorization: Bearer`.
  // Empty for systems and workstations, which need no login.
  std::string token;
  // Deadline of each attempt.
  absl::Duration timeout = absl::Seconds(10);
  // Deadline of each attempt of a streamed listing (ListCycleLines), which
  // may carry a million lines.
  absl::Duration stream_timeout = absl::Minutes(30);
  // Attempts in all for a retryable call, including the first; >= 1.
  int max_attempts = 4;
  // Wait before the first retry; doubled for each further retry, capped at
  // max_backoff, with random jitter.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // Name expected in the server's certificate when it differs from the
  // endpoint's host name (e.g. connecting by IP address). Optional.
  std::string ssl_target_name_override;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual absl::StatusOr<v1::Person> RegisterPerson(
      const v1::RegisterPersonRequest& request) = 0;
  // A batch, retried like the other writes: only with a request_id (the
  // server then replays the first answer). Not pure (see
  // RegistryStub::RegisterPersons).
  virtual absl::StatusOr<v1::RegisterPersonsResponse> RegisterPersons(
      const v1::RegisterPersonsRequest& request) {
    (void)request;
    return absl::UnimplementedError("RegisterPersons");
  }
  virtual absl::StatusOr<v1::Person> GetPerson(
      const v1::GetPersonRequest& request) = 0;
  virtual absl::StatusOr<v1::Person> UpdatePerson(
      const v1::UpdatePersonRequest& request) = 0;
  virtual absl::StatusOr<v1::FindPersonsResponse> FindPersons(
      const v1::FindPersonsRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> CreateHousehold(
      const v1::CreateHouseholdRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> GetHousehold(
      const v1::GetHouseholdRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> AddHouseholdMember(
      const v1::AddHouseholdMemberRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> RemoveHouseholdMember(
      const v1::RemoveHouseholdMemberRequest& request) = 0;
  virtual absl::StatusOr<v1::Household> SetHouseholdHead(
      const v1::SetHouseholdHeadRequest& request) = 0;
  virtual absl::StatusOr<v1::RecordLifeEventResponse> RecordLifeEvent(
      const v1::RecordLifeEventRequest& request) = 0;
  virtual absl::StatusOr<v1::ListLifeEventsResponse> ListLifeEvents(
      const v1::ListLifeEventsRequest& request) = 0;

  // socle.v1.Eligibility. CheckEligibility and ListEnrolments are reads;
  // the others are writes (retried only with a request_id).
  virtual absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      const v1::CheckEligibilityRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> Enrol(
      const v1::EnrolRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> SuspendEnrolment(
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> ResumeEnrolment(
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::Enrolment> EndEnrolment(
      const v1::ChangeEnrolmentRequest& request) = 0;
  virtual absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolments(
      const v1::ListEnrolmentsRequest& request) = 0;
  virtual absl::StatusOr<v1::RecertifyResponse> Recertify(
      const v1::RecertifyRequest& request) = 0;

  // socle.v1.PolicyAdmin. ActivatePolicy is a write; the others are reads
  // (validating and simulating a draft change nothing).
  virtual absl::StatusOr<v1::PolicyInfo> GetPolicy(
      const v1::GetPolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::PolicyInfo> ValidatePolicy(
      const v1::ValidatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(
      const v1::SimulatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::PolicyInfo> ActivatePolicy(
      const v1::ActivatePolicyRequest& request) = 0;
  virtual absl::StatusOr<v1::CoverageReport> GetCoverage(
      const v1::GetCoverageRequest& request) = 0;

  // socle.v1.KeysAdmin. RotateKeys is idempotent by nature (no request_id)
  // and retried like a read. Not pure (see RegistryStub::RotateKeys).
  virtual absl::StatusOr<v1::RotateKeysResponse> RotateKeys(
      const v1::RotateKeysRequest& request) {
    (void)request;
    return absl::UnimplementedError("RotateKeys");
  }

  // socle.v1.Payments. GetCycle, ListCycles, ListCycleLines, Reconcile and
  // ReconcileStatement are reads. RecordPayment is retried when it carries
  // an idempotency_key, RecordPayments when every item does; the others
  // are writes retried only with a request_id.
  virtual absl::StatusOr<v1::Cycle> OpenCycle(
      const v1::OpenCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::Cycle> GetCycle(
      const v1::GetCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::ListCyclesResponse> ListCycles(
      const v1::ListCyclesRequest& request) = 0;
  virtual absl::StatusOr<v1::Cycle> CloseCycle(
      const v1::CloseCycleRequest& request) = 0;
  virtual absl::StatusOr<v1::Payment> RecordPayment(
      const v1::RecordPaymentRequest& request) = 0;
  virtual absl::StatusOr<v1::RecordPaymentsResponse> RecordPayments(
      const v1::RecordPaymentsRequest& request) = 0;
  virtual absl::StatusOr<v1::Payment> ReversePayment(
      const v1::ReversePaymentRequest& request) = 0;
  virtual absl::StatusOr<v1::ReconciliationReport> Reconcile(
      const v1::ReconcileRequest& request) = 0;
  virtual absl::StatusOr<v1::StatementReconciliation> ReconcileStatement(
      const v1::ReconcileStatementRequest& request) = 0;
  // Streams a cycle's lines to `on_chunk` (return false to stop early).
  // Retried like a read only until the first chunk arrived; a failure after
  // that is returned (the caller has seen part of the listing).
  virtual absl::Status ListCycleLines(
      const v1::ListCycleLinesRequest& request,
      const std::function<bool(const v1::ListCycleLinesResponse&)>& on_chunk) = 0;

  // socle.v1.Access and socle.v1.UserAdmin. Login is retried like a read
  // (it changes nothing but a failure count, and only on failure); the
  // others are writes retried only with a request_id. Not pure, so that
  // test doubles of the other services need not implement them.
  virtual absl::StatusOr<v1::LoginResponse> Login(const v1::LoginRequest&) {
    return absl::UnimplementedError("Login");
  }
  virtual absl::StatusOr<v1::User> AddUser(const v1::AddUserRequest&) {
    return absl::UnimplementedError("AddUser");
  }
  virtual absl::StatusOr<v1::User> DisableUser(const v1::DisableUserRequest&) {
    return absl::UnimplementedError("DisableUser");
  }
  virtual absl::StatusOr<v1::User> ResetPassword(const v1::ResetPasswordRequest&) {
    return absl::UnimplementedError("ResetPassword");
  }
  virtual absl::StatusOr<v1::ListUsersResponse> ListUsers(const v1::ListUsersRequest&) {
    return absl::UnimplementedError("ListUsers");
  }
  // socle.v1.AuditAdmin: reads, retried.
  virtual absl::StatusOr<v1::ListAuditChainResponse> ListAuditChain(
      const v1::ListAuditChainRequest& request) = 0;
  virtual absl::StatusOr<v1::QueryAuditResponse> QueryAudit(
      const v1::QueryAuditRequest& request) = 0;
  virtual absl::StatusOr<v1::AuditCheckpoint> GetAuditCheckpoint(
      const v1::GetAuditCheckpointRequest& request) = 0;

  // grpc.health.v1.Health/Check for the whole server (service "").
  virtual absl::StatusOr<ServingStatus> Check() = 0;
};

// Reads the certificate files and builds a channel (which connects lazily:
// an unreachable server shows up as UNAVAILABLE on the first call).
// INVALID_ARGUMENT for bad options, NOT_FOUND naming a certificate file that
// does not exist, INVALID_ARGUMENT naming one that cannot be read or holds no
// PEM data.
absl::StatusOr<std::shared_ptr<Connection>> MakeConnection(
    const ConnectionOptions& options);

// A Connection over any stub: the retry loop and deadlines of MakeConnection
// without a network. `sleeper` defaults to DefaultSleeper().
std::shared_ptr<Connection> MakeConnection(std::shared_ptr<RegistryStub> stub,
                                           const ConnectionOptions& options,
                                           Sleeper sleeper = nullptr);

}  // namespace socle::client

#endif  // SOCLE_CLIENT_CONNECTION_H_
