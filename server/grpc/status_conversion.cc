#include "server/grpc/status_conversion.h"

#include "google/rpc/status.pb.h"
#include "server/item_status.h"

namespace socle {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // The same google.rpc.Status a batch item carries, sent as the call's
  // status details.
  const google::rpc::Status details = RpcStatus(status);
  const auto code = static_cast<grpc::StatusCode>(details.code());
  if (details.details_size() == 0) return grpc::Status(code, details.message());
  return grpc::Status(code, details.message(), details.SerializeAsString());
}

}  // namespace socle
