// The one table of roles against methods (issue 6). Default deny: a method
// missing from the table is refused to every role, and a test enumerates the
// service descriptors so that no method escapes the table.
#ifndef SOCLE_SERVER_ACCESS_ROLES_H_
#define SOCLE_SERVER_ACCESS_ROLES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/caller.h"

namespace socle {

// Whether `role` may call `method` (a full method name as in the service
// descriptor, e.g. "socle.v1.Registry.RegisterPerson").
bool RoleMayCall(Role role, absl::string_view method);

// The only method a terminal may call before a user logs in at it.
inline constexpr absl::string_view kLoginMethod = "socle.v1.Access.Login";

// Every method named in the table, for tests and documentation.
std::vector<std::string> MethodsInRoleTable();

// "clerk", "supervisor", ... for messages and the command line.
absl::string_view RoleName(Role role);

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_ROLES_H_
