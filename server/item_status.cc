#include "server/item_status.h"

#include <iostream>
#include <string>
#include <vector>

#include "common/field_error.h"
#include "google/rpc/error_details.pb.h"

namespace socle {

google::rpc::Status RpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  if (status.ok()) return out;
  std::string message(status.message());
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnknown) {
    std::cerr << "socle-server: internal error: " << status.message() << "\n";
    message = "internal error; the server log has the details";
  }
  out.set_message(message);
  const std::vector<FieldViolation> violations = GetFieldViolations(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      auto* fv = bad_request.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    out.add_details()->PackFrom(bad_request);
  }
  if (auto info = GetErrorInfo(status)) {
    google::rpc::ErrorInfo error_info;
    error_info.set_reason(info->reason);
    error_info.set_domain("socle.v1");
    for (const auto& [k, v] : info->metadata) (*error_info.mutable_metadata())[k] = v;
    out.add_details()->PackFrom(error_info);
  }
  return out;
}

bool IsItemError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

}  // namespace socle
