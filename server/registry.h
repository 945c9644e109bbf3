// The registry: residents, households and life events. Logic only: takes a
// Store and a Clock, knows no gRPC, and is tested directly.
#ifndef SOCLE_SERVER_REGISTRY_H_
#define SOCLE_SERVER_REGISTRY_H_

#include <functional>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/caller.h"
#include "socle/v1/registry.pb.h"
#include "storage/store.h"

namespace socle {

class Registry {
 public:
  // Runs inside the transaction that records a life event, after the person
  // was updated; an error aborts the whole event. Later modules use it (death
  // ends enrolments in the same transaction).
  using LifeEventHook = std::function<absl::Status(
      storage::Txn&, const Caller&, const storage::PersonRecord& after,
      const v1::LifeEvent& event)>;

  // `store` and `clock` must outlive the Registry.
  Registry(storage::Store* store, const Clock* clock)
      : store_(*store), clock_(*clock) {}

  void AddLifeEventHook(LifeEventHook hook) { hooks_.push_back(std::move(hook)); }

  absl::StatusOr<v1::Person> RegisterPerson(const Caller& caller,
                                            const v1::RegisterPersonRequest& request);
  // At most this many persons per RegisterPersons call.
  static constexpr int kMaxRegisterBatch = 10'000;
  absl::StatusOr<v1::RegisterPersonsResponse> RegisterPersons(
      const Caller& caller, const v1::RegisterPersonsRequest& request);
  absl::StatusOr<v1::Person> GetPerson(const Caller& caller,
                                       const v1::GetPersonRequest& request);
  absl::StatusOr<v1::Person> UpdatePerson(const Caller& caller,
                                          const v1::UpdatePersonRequest& request);
  absl::StatusOr<v1::FindPersonsResponse> FindPersons(
      const Caller& caller, const v1::FindPersonsRequest& request);

  absl::StatusOr<v1::Household> CreateHousehold(
      const Caller& caller, const v1::CreateHouseholdRequest& request);
  absl::StatusOr<v1::Household> GetHousehold(const Caller& caller,
                                             const v1::GetHouseholdRequest& request);
  absl::StatusOr<v1::Household> AddHouseholdMember(
      const Caller& caller, const v1::AddHouseholdMemberRequest& request);
  absl::StatusOr<v1::Household> RemoveHouseholdMember(
      const Caller& caller, const v1::RemoveHouseholdMemberRequest& request);
  absl::StatusOr<v1::Household> SetHouseholdHead(
      const Caller& caller, const v1::SetHouseholdHeadRequest& request);

  absl::StatusOr<v1::RecordLifeEventResponse> RecordLifeEvent(
      const Caller& caller, const v1::RecordLifeEventRequest& request);
  absl::StatusOr<v1::ListLifeEventsResponse> ListLifeEvents(
      const Caller& caller, const v1::ListLifeEventsRequest& request);

 private:
  absl::Status ApplyEvent(storage::Txn& txn, const Caller& caller,
                          storage::PersonRecord& person, v1::LifeEvent& event,
                          absl::Time now);

  storage::Store& store_;
  const Clock& clock_;
  std::vector<LifeEventHook> hooks_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_REGISTRY_H_
