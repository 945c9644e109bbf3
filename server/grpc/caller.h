// The caller of a call, from its TLS client certificate and its login token,
// authorised against the role table (server/access).
#ifndef SOCLE_SERVER_GRPC_CALLER_H_
#define SOCLE_SERVER_GRPC_CALLER_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/access/access.h"
#include "server/caller.h"

namespace socle {

// The caller of a call to `method` ("socle.v1.Registry.GetPerson"): the
// certificate's common name and the `authorization: Bearer TOKEN` metadata,
// checked by `access`.
absl::StatusOr<Caller> CallerFromContext(const grpc::ServerContextBase& context,
                                         const AccessControl& access,
                                         absl::string_view method);

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_CALLER_H_
