// gRPC adapter of the registry: a few lines per method.
#ifndef SOCLE_SERVER_GRPC_REGISTRY_SERVICE_H_
#define SOCLE_SERVER_GRPC_REGISTRY_SERVICE_H_

#include "server/grpc/dispatch.h"
#include "server/registry.h"
#include "socle/v1/registry.grpc.pb.h"

namespace socle {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  RegistryService(Registry* registry, Dispatcher* dispatcher)
      : registry_(*registry), dispatch_(*dispatcher) {}

  grpc::ServerUnaryReactor* RegisterPerson(grpc::CallbackServerContext* c,
                                           const v1::RegisterPersonRequest* req,
                                           v1::Person* resp) override;
  grpc::ServerUnaryReactor* RegisterPersons(grpc::CallbackServerContext* c,
                                            const v1::RegisterPersonsRequest* req,
                                            v1::RegisterPersonsResponse* resp) override;
  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* c,
                                      const v1::GetPersonRequest* req,
                                      v1::Person* resp) override;
  grpc::ServerUnaryReactor* UpdatePerson(grpc::CallbackServerContext* c,
                                         const v1::UpdatePersonRequest* req,
                                         v1::Person* resp) override;
  grpc::ServerUnaryReactor* FindPersons(grpc::CallbackServerContext* c,
                                        const v1::FindPersonsRequest* req,
                                        v1::FindPersonsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateHousehold(grpc::CallbackServerContext* c,
                                            const v1::CreateHouseholdRequest* req,
                                            v1::Household* resp) override;
  grpc::ServerUnaryReactor* GetHousehold(grpc::CallbackServerContext* c,
                                         const v1::GetHouseholdRequest* req,
                                         v1::Household* resp) override;
  grpc::ServerUnaryReactor* AddHouseholdMember(grpc::CallbackServerContext* c,
                                               const v1::AddHouseholdMemberRequest* req,
                                               v1::Household* resp) override;
  grpc::ServerUnaryReactor* RemoveHouseholdMember(
      grpc::CallbackServerContext* c, const v1::RemoveHouseholdMemberRequest* req,
      v1::Household* resp) override;
  grpc::ServerUnaryReactor* SetHouseholdHead(grpc::CallbackServerContext* c,
                                             const v1::SetHouseholdHeadRequest* req,
                                             v1::Household* resp) override;
  grpc::ServerUnaryReactor* RecordLifeEvent(grpc::CallbackServerContext* c,
                                            const v1::RecordLifeEventRequest* req,
                                            v1::RecordLifeEventResponse* resp) override;
  grpc::ServerUnaryReactor* ListLifeEvents(grpc::CallbackServerContext* c,
                                           const v1::ListLifeEventsRequest* req,
                                           v1::ListLifeEventsResponse* resp) override;

 private:
  Registry& registry_;
  Dispatcher& dispatch_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_REGISTRY_SERVICE_H_
