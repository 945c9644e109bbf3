// The one place where domain statuses become gRPC statuses.
#ifndef SOCLE_SERVER_GRPC_STATUS_CONVERSION_H_
#define SOCLE_SERVER_GRPC_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace socle {

// Same code and message. Field violations become google.rpc.BadRequest and
// error info google.rpc.ErrorInfo (domain "socle.v1"), packed in a
// google.rpc.Status in the error details. INTERNAL and UNKNOWN messages are
// replaced by a generic text (the detail is logged), so nothing internal
// leaves the process.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_STATUS_CONVERSION_H_
