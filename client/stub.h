// The layer under Connection: one call per RPC, one attempt, no retry.
// `RegistryStub` is the interface (faked in tests of the retry loop);
// MakeGrpcRegistryStub wraps the generated gRPC stubs.
#ifndef SOCLE_CLIENT_STUB_H_
#define SOCLE_CLIENT_STUB_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client {

class RegistryStub {
 public:
  virtual ~RegistryStub() = default;

  // Each makes one attempt with `context` (deadline already set) and
  // converts the result with FromGrpcStatus.
  virtual absl::StatusOr<v1::Person> RegisterPerson(
      grpc::ClientContext& context, const v1::RegisterPersonRequest& request) = 0;
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
  virtual absl::StatusOr<grpc::health::v1::HealthCheckResponse> Check(
      grpc::ClientContext& context,
      const grpc::health::v1::HealthCheckRequest& request) = 0;
};

// socle.v1.Registry and grpc.health.v1.Health over `channel`.
std::shared_ptr<RegistryStub> MakeGrpcRegistryStub(
    std::shared_ptr<grpc::Channel> channel);

}  // namespace socle::client

#endif  // SOCLE_CLIENT_STUB_H_
