#include "client/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace socle::client {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    return absl::NotFoundError(
        absl::StrCat(what, " file ", path, " does not exist"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " is a directory"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " file ", path, ": ",
                     err != 0 ? std::strerror(err) : "cannot open"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " file ", path));
  }
  std::string pem = std::move(content).str();
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " holds no PEM data"));
  }
  return pem;
}

absl::Status ValidateOptions(const ConnectionOptions& options) {
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError("the endpoint is empty");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("max_attempts must be at least 1");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the timeout must be positive");
  }
  if (options.initial_backoff < absl::ZeroDuration() ||
      options.max_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("backoff durations must not be negative");
  }
  return absl::OkStatus();
}

class ConnectionImpl final : public Connection {
 public:
  ConnectionImpl(std::shared_ptr<RegistryStub> stub,
                 const ConnectionOptions& options, Sleeper sleeper)
      : stub_(std::move(stub)),
        authorization_(options.token.empty() ? "" : "Bearer " + options.token),
        timeout_(options.timeout),
        stream_timeout_(options.stream_timeout),
        sleeper_(sleeper ? std::move(sleeper) : DefaultSleeper()) {
    retry_.max_attempts = options.max_attempts;
    retry_.initial_backoff = options.initial_backoff;
    retry_.max_backoff = options.max_backoff;
  }

  absl::StatusOr<v1::Person> RegisterPerson(
      const v1::RegisterPersonRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::RegisterPerson);
  }
  absl::StatusOr<v1::RegisterPersonsResponse> RegisterPersons(
      const v1::RegisterPersonsRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::RegisterPersons);
  }
  absl::StatusOr<v1::Person> GetPerson(
      const v1::GetPersonRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetPerson);
  }
  absl::StatusOr<v1::Person> UpdatePerson(
      const v1::UpdatePersonRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::UpdatePerson);
  }
  absl::StatusOr<v1::FindPersonsResponse> FindPersons(
      const v1::FindPersonsRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::FindPersons);
  }
  absl::StatusOr<v1::Household> CreateHousehold(
      const v1::CreateHouseholdRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::CreateHousehold);
  }
  absl::StatusOr<v1::Household> GetHousehold(
      const v1::GetHouseholdRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetHousehold);
  }
  absl::StatusOr<v1::Household> AddHouseholdMember(
      const v1::AddHouseholdMemberRequest& request) override {
    return Call(WriteKind(request), request,
                &RegistryStub::AddHouseholdMember);
  }
  absl::StatusOr<v1::Household> RemoveHouseholdMember(
      const v1::RemoveHouseholdMemberRequest& request) override {
    return Call(WriteKind(request), request,
                &RegistryStub::RemoveHouseholdMember);
  }
  absl::StatusOr<v1::Household> SetHouseholdHead(
      const v1::SetHouseholdHeadRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::SetHouseholdHead);
  }
  absl::StatusOr<v1::RecordLifeEventResponse> RecordLifeEvent(
      const v1::RecordLifeEventRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::RecordLifeEvent);
  }
  absl::StatusOr<v1::ListLifeEventsResponse> ListLifeEvents(
      const v1::ListLifeEventsRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ListLifeEvents);
  }

  absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      const v1::CheckEligibilityRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::CheckEligibility);
  }
  absl::StatusOr<v1::Enrolment> Enrol(
      const v1::EnrolRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::Enrol);
  }
  absl::StatusOr<v1::Enrolment> SuspendEnrolment(
      const v1::ChangeEnrolmentRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::SuspendEnrolment);
  }
  absl::StatusOr<v1::Enrolment> ResumeEnrolment(
      const v1::ChangeEnrolmentRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::ResumeEnrolment);
  }
  absl::StatusOr<v1::Enrolment> EndEnrolment(
      const v1::ChangeEnrolmentRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::EndEnrolment);
  }
  absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolments(
      const v1::ListEnrolmentsRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ListEnrolments);
  }
  absl::StatusOr<v1::RecertifyResponse> Recertify(
      const v1::RecertifyRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::Recertify);
  }

  absl::StatusOr<v1::PolicyInfo> GetPolicy(
      const v1::GetPolicyRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetPolicy);
  }
  absl::StatusOr<v1::PolicyInfo> ValidatePolicy(
      const v1::ValidatePolicyRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ValidatePolicy);
  }
  absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(
      const v1::SimulatePolicyRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::SimulatePolicy);
  }
  absl::StatusOr<v1::PolicyInfo> ActivatePolicy(
      const v1::ActivatePolicyRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::ActivatePolicy);
  }
  absl::StatusOr<v1::CoverageReport> GetCoverage(
      const v1::GetCoverageRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetCoverage);
  }
  // Re-running a batch rewrites nothing already rewritten: safe to retry.
  absl::StatusOr<v1::RotateKeysResponse> RotateKeys(
      const v1::RotateKeysRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::RotateKeys);
  }

  absl::StatusOr<v1::Cycle> OpenCycle(
      const v1::OpenCycleRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::OpenCycle);
  }
  absl::StatusOr<v1::Cycle> GetCycle(
      const v1::GetCycleRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetCycle);
  }
  absl::StatusOr<v1::ListCyclesResponse> ListCycles(
      const v1::ListCyclesRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ListCycles);
  }
  absl::StatusOr<v1::Cycle> CloseCycle(
      const v1::CloseCycleRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::CloseCycle);
  }
  absl::StatusOr<v1::Payment> RecordPayment(
      const v1::RecordPaymentRequest& request) override {
    return Call(request.idempotency_key().empty()
                    ? Idempotency::kNonIdempotent
                    : Idempotency::kIdempotentWrite,
                request, &RegistryStub::RecordPayment);
  }
  absl::StatusOr<v1::RecordPaymentsResponse> RecordPayments(
      const v1::RecordPaymentsRequest& request) override {
    Idempotency kind = Idempotency::kIdempotentWrite;
    for (const v1::RecordPaymentRequest& item : request.items()) {
      if (item.idempotency_key().empty()) kind = Idempotency::kNonIdempotent;
    }
    return Call(kind, request, &RegistryStub::RecordPayments);
  }
  absl::StatusOr<v1::Payment> ReversePayment(
      const v1::ReversePaymentRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::ReversePayment);
  }
  absl::StatusOr<v1::ReconciliationReport> Reconcile(
      const v1::ReconcileRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::Reconcile);
  }
  absl::StatusOr<v1::StatementReconciliation> ReconcileStatement(
      const v1::ReconcileStatementRequest& request) override {
    return Call(Idempotency::kRead, request,
                &RegistryStub::ReconcileStatement);
  }
  absl::StatusOr<v1::ListAuditChainResponse> ListAuditChain(
      const v1::ListAuditChainRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ListAuditChain);
  }
  absl::StatusOr<v1::QueryAuditResponse> QueryAudit(
      const v1::QueryAuditRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::QueryAudit);
  }
  absl::StatusOr<v1::AuditCheckpoint> GetAuditCheckpoint(
      const v1::GetAuditCheckpointRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::GetAuditCheckpoint);
  }
  absl::Status ListCycleLines(
      const v1::ListCycleLinesRequest& request,
      const std::function<bool(const v1::ListCycleLinesResponse&)>& on_chunk)
      override {
    const int attempts = retry_.max_attempts < 1 ? 1 : retry_.max_attempts;
    bool delivered = false;
    for (int i = 1;; ++i) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + stream_timeout_));
      Authorize(context);
      absl::Status status = stub_->ListCycleLines(
          context, request, [&](const v1::ListCycleLinesResponse& chunk) {
            delivered = true;
            return on_chunk(chunk);
          });
      if (status.ok() || delivered || i >= attempts ||
          !IsRetryable(Idempotency::kRead, status.code())) {
        return status;
      }
      sleeper_(BackoffDelay(retry_, i));
    }
  }

  absl::StatusOr<v1::LoginResponse> Login(const v1::LoginRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::Login);
  }
  absl::StatusOr<v1::User> AddUser(const v1::AddUserRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::AddUser);
  }
  absl::StatusOr<v1::User> DisableUser(const v1::DisableUserRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::DisableUser);
  }
  absl::StatusOr<v1::User> ResetPassword(const v1::ResetPasswordRequest& request) override {
    return Call(WriteKind(request), request, &RegistryStub::ResetPassword);
  }
  absl::StatusOr<v1::ListUsersResponse> ListUsers(
      const v1::ListUsersRequest& request) override {
    return Call(Idempotency::kRead, request, &RegistryStub::ListUsers);
  }

  absl::StatusOr<ServingStatus> Check() override {
    HealthCheckRequest request;  // service "": the server as a whole
    ASSIGN_OR_RETURN(HealthCheckResponse response,
                     Call(Idempotency::kRead, request, &RegistryStub::Check));
    return response.status();
  }

 private:
  // A write is idempotent exactly when it carries a request_id.
  template <typename Request>
  static Idempotency WriteKind(const Request& request) {
    return request.request_id().empty() ? Idempotency::kNonIdempotent
                                        : Idempotency::kIdempotentWrite;
  }

  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Idempotency kind, const Request& request,
      absl::StatusOr<Response> (RegistryStub::*method)(grpc::ClientContext&,
                                                       const Request&)) {
    return RetryLoop(retry_, kind, sleeper_, [&] {
      grpc::ClientContext context;  // one per attempt, as gRPC requires
      context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
      Authorize(context);
      return ((*stub_).*method)(context, request);
    });
  }

  void Authorize(grpc::ClientContext& context) const {
    if (!authorization_.empty()) context.AddMetadata("authorization", authorization_);
  }

  std::shared_ptr<RegistryStub> stub_;
  std::string authorization_;  // "Bearer TOKEN", or empty
  absl::Duration timeout_;
  absl::Duration stream_timeout_;
  RetryOptions retry_;
  Sleeper sleeper_;
};

}  // namespace

std::shared_ptr<Connection> MakeConnection(std::shared_ptr<RegistryStub> stub,
                                           const ConnectionOptions& options,
                                           Sleeper sleeper) {
  return std::make_shared<ConnectionImpl>(std::move(stub), options,
                                          std::move(sleeper));
}

absl::StatusOr<std::shared_ptr<Connection>> MakeConnection(
    const ConnectionOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure_for_testing) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    if (options.cert_file.empty() != options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate needs both its certificate and its key file");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_root_certs,
                       ReadPem(options.ca_file, "CA certificate"));
    }
    if (!options.cert_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                       ReadPem(options.cert_file, "client certificate"));
      ASSIGN_OR_RETURN(ssl.pem_private_key,
                       ReadPem(options.key_file, "client key"));
    }
    credentials = grpc::SslCredentials(ssl);
    if (credentials == nullptr) {
      return absl::InvalidArgumentError("cannot build TLS credentials");
    }
  }
  grpc::ChannelArguments args;
  if (!options.ssl_target_name_override.empty()) {
    args.SetSslTargetNameOverride(options.ssl_target_name_override);
  }
  // The retry loop is ours (it knows which calls are idempotent); gRPC's
  // own configurable retries stay off so that attempts are not multiplied.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.endpoint, credentials, args);
  return MakeConnection(MakeGrpcRegistryStub(std::move(channel)), options);
}

}  // namespace socle::client
