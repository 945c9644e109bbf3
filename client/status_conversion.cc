#include "client/status_conversion.h"

#include <string>
#include <vector>

#include "common/field_error.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace socle::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  if (status.error_details().empty()) return out;
  google::rpc::Status rpc_status;
  if (!rpc_status.ParseFromString(status.error_details())) return out;
  std::vector<FieldViolation> violations;
  for (const google::protobuf::Any& any : rpc_status.details()) {
    if (any.Is<google::rpc::BadRequest>()) {
      google::rpc::BadRequest bad_request;
      if (!any.UnpackTo(&bad_request)) continue;
      for (const auto& v : bad_request.field_violations()) {
        violations.push_back({v.field(), v.description()});
      }
    } else if (any.Is<google::rpc::ErrorInfo>()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      ErrorInfo converted;
      converted.reason = info.reason();
      for (const auto& [key, value] : info.metadata()) {
        converted.metadata[key] = value;
      }
      out = WithErrorInfo(std::move(out), std::move(converted));
    }
  }
  if (!violations.empty()) SetFieldViolations(out, violations);
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& status) {
  if (status.code() == 0) return absl::OkStatus();
  return FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                     status.message(),
                                     status.details().empty() ? std::string()
                                                              : status.SerializeAsString()));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);
  std::vector<FieldViolation> violations = GetFieldViolations(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const auto& v : violations) {
      auto* fv = bad_request.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    rpc_status.add_details()->PackFrom(bad_request);
  }
  if (auto info = GetErrorInfo(status)) {
    google::rpc::ErrorInfo rpc_info;
    rpc_info.set_reason(info->reason);
    rpc_info.set_domain("socle");
    for (const auto& [key, value] : info->metadata) {
      (*rpc_info.mutable_metadata())[key] = value;
    }
    rpc_status.add_details()->PackFrom(rpc_info);
  }
  if (rpc_status.details().empty()) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

}  // namespace socle::client
