#include "server/grpc/status_conversion.h"

#include <iostream>

#include "common/field_error.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace socle {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnknown) {
    std::cerr << "socle-server: internal error: " << status.message() << "\n";
    message = "internal error; the server log has the details";
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  const std::vector<FieldViolation> violations = GetFieldViolations(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      auto* fv = bad_request.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    details.add_details()->PackFrom(bad_request);
  }
  if (auto info = GetErrorInfo(status)) {
    google::rpc::ErrorInfo error_info;
    error_info.set_reason(info->reason);
    error_info.set_domain("socle.v1");
    for (const auto& [k, v] : info->metadata) (*error_info.mutable_metadata())[k] = v;
    details.add_details()->PackFrom(error_info);
  }
  if (details.details_size() == 0) return grpc::Status(code, message);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace socle
