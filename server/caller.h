// Who is calling, as the logic sees it: the certificate identity, and for an
// office terminal the user logged in at it (issue 6).
#ifndef SOCLE_SERVER_CALLER_H_
#define SOCLE_SERVER_CALLER_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace socle {

enum class CallerKind {
  kTerminal,  // an office terminal, bound to one office
  kMinistry,  // a ministry system
  kAdmin,     // an administrator workstation
  kTest,      // --insecure_for_testing: no certificate at all
};

// The socle.v1.Role numbers.
enum class Role {
  kNone = 0,
  kClerk = 1,
  kSupervisor = 2,
  kMinistry = 3,
  kStatistics = 4,
  kAuditor = 5,
  kAdmin = 6,
};

struct Caller {
  CallerKind kind = CallerKind::kTest;
  // The certificate identity, e.g. "terminal:KH-SR-03:T01".
  std::string id;
  // The office of a terminal; empty for other kinds.
  std::string office_code;
  // The role the call acts with: the logged-in user's at a terminal, the
  // principal's otherwise. kNone only for a terminal before login.
  Role role = Role::kNone;
  // The user logged in at a terminal; empty for other kinds.
  std::string user;

  // Who is recorded in the audit trail and on records: the user and the
  // terminal, or the certificate identity.
  std::string Actor() const {
    return user.empty() ? id : absl::StrCat(user, "@", id);
  }
  // Clerks and supervisors see and change only the records of their office.
  bool OfficeBound() const { return kind == CallerKind::kTerminal; }
  // Whether a record of `record_office` exists for this caller: records of
  // another office answer exactly as missing ones.
  bool Sees(const std::string& record_office) const {
    return !OfficeBound() || record_office == office_code;
  }
  // Overrides at the counter (a possible duplicate, an ineligible person, a
  // supplement payment) need a supervisor; systems are governed by the role
  // table alone.
  bool MayOverride() const {
    return !OfficeBound() || role == Role::kSupervisor;
  }
};

}  // namespace socle

#endif  // SOCLE_SERVER_CALLER_H_
