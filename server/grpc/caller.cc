#include "server/grpc/caller.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/validation.h"

namespace socle {

absl::StatusOr<Caller> ParseCertificateIdentity(absl::string_view cn) {
  std::vector<absl::string_view> parts = absl::StrSplit(cn, ':');
  auto bad = [&] {
    return absl::UnauthenticatedError(
        "client certificate names no known identity (terminal:OFFICE:NAME, "
        "ministry:NAME or admin:NAME)");
  };
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 64) return bad();
  }
  Caller caller;
  caller.id = std::string(cn);
  if (parts.size() == 3 && parts[0] == "terminal") {
    if (!IsValidOfficeCode(parts[1])) return bad();
    caller.kind = CallerKind::kTerminal;
    caller.office_code = std::string(parts[1]);
    return caller;
  }
  if (parts.size() == 2 && parts[0] == "ministry") {
    caller.kind = CallerKind::kMinistry;
    return caller;
  }
  if (parts.size() == 2 && parts[0] == "admin") {
    caller.kind = CallerKind::kAdmin;
    return caller;
  }
  return bad();
}

absl::StatusOr<Caller> CallerFromContext(const grpc::ServerContextBase& context,
                                         bool insecure) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    std::vector<grpc::string_ref> names = auth->FindPropertyValues("x509_common_name");
    if (!names.empty()) {
      return ParseCertificateIdentity(
          absl::string_view(names.front().data(), names.front().size()));
    }
  }
  if (insecure) {
    Caller caller;
    caller.kind = CallerKind::kTest;
    caller.id = "insecure-test";
    return caller;
  }
  return absl::UnauthenticatedError("a client certificate is required");
}

}  // namespace socle
