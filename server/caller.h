// Who is calling: the identity of the client certificate, as the logic sees it.
// Roles and office scoping (issue 6) build on this.
#ifndef SOCLE_SERVER_CALLER_H_
#define SOCLE_SERVER_CALLER_H_

#include <string>

namespace socle {

enum class CallerKind {
  kTerminal,  // an office terminal, bound to one office
  kMinistry,  // a ministry system
  kAdmin,     // an administrator workstation
  kTest,      // --insecure_for_testing: no certificate at all
};

struct Caller {
  CallerKind kind = CallerKind::kTest;
  // The certificate identity, e.g. "terminal:KH-SR-03:T01". Recorded in the
  // audit trail as the actor.
  std::string id;
  // The office of a terminal; empty for other kinds.
  std::string office_code;
};

}  // namespace socle

#endif  // SOCLE_SERVER_CALLER_H_
