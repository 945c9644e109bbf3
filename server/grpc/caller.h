// The caller's identity, read from the TLS client certificate.
#ifndef SOCLE_SERVER_GRPC_CALLER_H_
#define SOCLE_SERVER_GRPC_CALLER_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/caller.h"

namespace socle {

// Parses a certificate common name: "terminal:<OFFICE>:<NAME>",
// "ministry:<NAME>" or "admin:<NAME>". UNAUTHENTICATED for anything else.
absl::StatusOr<Caller> ParseCertificateIdentity(absl::string_view common_name);

// The caller of a call. With `insecure` (testing only) a call without a
// certificate is a kTest caller named "insecure-test".
absl::StatusOr<Caller> CallerFromContext(const grpc::ServerContextBase& context,
                                         bool insecure);

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_CALLER_H_
