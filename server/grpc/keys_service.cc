#include "server/grpc/keys_service.h"

namespace socle {

grpc::ServerUnaryReactor* KeysAdminService::RotateKeys(grpc::CallbackServerContext* c,
                                                       const v1::RotateKeysRequest* req,
                                                       v1::RotateKeysResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.KeysAdmin.RotateKeys", req, resp, [this](const Caller& who, const v1::RotateKeysRequest& r) {
    return logic_.RotateKeys(who, r);
  });
}

}  // namespace socle
