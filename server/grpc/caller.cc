#include "server/grpc/caller.h"

#include "absl/strings/strip.h"

namespace socle {

absl::StatusOr<Caller> CallerFromContext(const grpc::ServerContextBase& context,
                                         const AccessControl& access,
                                         absl::string_view method) {
  absl::string_view cn;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> names;
  if (auth != nullptr) {
    names = auth->FindPropertyValues("x509_common_name");
    if (!names.empty()) cn = absl::string_view(names.front().data(), names.front().size());
  }
  absl::string_view token;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ")) {
      return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
    }
    token = value;
  }
  return access.Authorize(cn, token, method);
}

}  // namespace socle
