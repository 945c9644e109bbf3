// The one place where gRPC statuses become absl::Status and back.
#ifndef SOCLE_CLIENT_STATUS_CONVERSION_H_
#define SOCLE_CLIENT_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace socle::client {

// Same code, same message. The details (a serialized google.rpc.Status in
// grpc::Status::error_details()) are carried over: google.rpc.BadRequest
// becomes socle::SetFieldViolations, google.rpc.ErrorInfo becomes
// socle::WithErrorInfo, so callers read socle::GetFieldViolations(status) and
// socle::GetErrorInfo(status). Unknown or unparsable details are ignored.
absl::Status FromGrpcStatus(const grpc::Status& status);

// A google.rpc.Status carried inside a response (RegisteredPerson.status of
// RegisterPersons) as absl::Status, its details converted as FromGrpcStatus
// converts them. Code 0 is OK.
absl::Status FromRpcStatus(const google::rpc::Status& status);

// The inverse, for fakes and test servers: field violations become a
// google.rpc.BadRequest and an ErrorInfo a google.rpc.ErrorInfo (domain
// "socle"), packed into a google.rpc.Status in error_details().
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace socle::client

#endif  // SOCLE_CLIENT_STATUS_CONVERSION_H_
