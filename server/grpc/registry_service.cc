#include "server/grpc/registry_service.h"

namespace socle {

grpc::ServerUnaryReactor* RegistryService::RegisterPerson(
    grpc::CallbackServerContext* c, const v1::RegisterPersonRequest* req, v1::Person* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.RegisterPerson", req, resp, [this](const Caller& who, const v1::RegisterPersonRequest& r) {
    return registry_.RegisterPerson(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::RegisterPersons(
    grpc::CallbackServerContext* c, const v1::RegisterPersonsRequest* req,
    v1::RegisterPersonsResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.RegisterPersons", req, resp,
                         [this](const Caller& who, const v1::RegisterPersonsRequest& r) {
                           return registry_.RegisterPersons(who, r);
                         });
}

grpc::ServerUnaryReactor* RegistryService::GetPerson(
    grpc::CallbackServerContext* c, const v1::GetPersonRequest* req, v1::Person* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.GetPerson", req, resp, [this](const Caller& who, const v1::GetPersonRequest& r) {
    return registry_.GetPerson(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::UpdatePerson(
    grpc::CallbackServerContext* c, const v1::UpdatePersonRequest* req, v1::Person* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.UpdatePerson", req, resp, [this](const Caller& who, const v1::UpdatePersonRequest& r) {
    return registry_.UpdatePerson(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::FindPersons(
    grpc::CallbackServerContext* c, const v1::FindPersonsRequest* req, v1::FindPersonsResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.FindPersons", req, resp, [this](const Caller& who, const v1::FindPersonsRequest& r) {
    return registry_.FindPersons(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::CreateHousehold(
    grpc::CallbackServerContext* c, const v1::CreateHouseholdRequest* req, v1::Household* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.CreateHousehold", req, resp, [this](const Caller& who, const v1::CreateHouseholdRequest& r) {
    return registry_.CreateHousehold(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::GetHousehold(
    grpc::CallbackServerContext* c, const v1::GetHouseholdRequest* req, v1::Household* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.GetHousehold", req, resp, [this](const Caller& who, const v1::GetHouseholdRequest& r) {
    return registry_.GetHousehold(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::AddHouseholdMember(
    grpc::CallbackServerContext* c, const v1::AddHouseholdMemberRequest* req, v1::Household* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.AddHouseholdMember", req, resp, [this](const Caller& who, const v1::AddHouseholdMemberRequest& r) {
    return registry_.AddHouseholdMember(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::RemoveHouseholdMember(
    grpc::CallbackServerContext* c, const v1::RemoveHouseholdMemberRequest* req, v1::Household* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.RemoveHouseholdMember", req, resp, [this](const Caller& who, const v1::RemoveHouseholdMemberRequest& r) {
    return registry_.RemoveHouseholdMember(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::SetHouseholdHead(
    grpc::CallbackServerContext* c, const v1::SetHouseholdHeadRequest* req, v1::Household* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.SetHouseholdHead", req, resp, [this](const Caller& who, const v1::SetHouseholdHeadRequest& r) {
    return registry_.SetHouseholdHead(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::RecordLifeEvent(
    grpc::CallbackServerContext* c, const v1::RecordLifeEventRequest* req, v1::RecordLifeEventResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.RecordLifeEvent", req, resp, [this](const Caller& who, const v1::RecordLifeEventRequest& r) {
    return registry_.RecordLifeEvent(who, r);
  });
}

grpc::ServerUnaryReactor* RegistryService::ListLifeEvents(
    grpc::CallbackServerContext* c, const v1::ListLifeEventsRequest* req, v1::ListLifeEventsResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Registry.ListLifeEvents", req, resp, [this](const Caller& who, const v1::ListLifeEventsRequest& r) {
    return registry_.ListLifeEvents(who, r);
  });
}

}  // namespace socle
