// Responses carry only the fields the caller's role may see: fields marked
// [(socle.v1.personal) = true] in the protos are cleared for roles that may
// not see personal data.
#ifndef SOCLE_SERVER_ACCESS_FIELD_FILTER_H_
#define SOCLE_SERVER_ACCESS_FIELD_FILTER_H_

#include "google/protobuf/message.h"
#include "server/caller.h"

namespace socle {

// Whether `role` sees personal data (names, national IDs, phones, streets).
inline bool RoleSeesPersonalData(Role role) { return role != Role::kStatistics; }

// Clears every personal field of `message` and of the messages it holds.
void ClearPersonalFields(google::protobuf::Message& message);

// ClearPersonalFields when the caller's role may not see personal data.
inline void FilterForCaller(const Caller& caller, google::protobuf::Message& message) {
  if (!RoleSeesPersonalData(caller.role)) ClearPersonalFields(message);
}

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_FIELD_FILTER_H_
