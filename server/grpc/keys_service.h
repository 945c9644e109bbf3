// gRPC adapter of key rotation (socle.v1.KeysAdmin).
#ifndef SOCLE_SERVER_GRPC_KEYS_SERVICE_H_
#define SOCLE_SERVER_GRPC_KEYS_SERVICE_H_

#include "server/grpc/dispatch.h"
#include "server/keys.h"
#include "socle/v1/keys.grpc.pb.h"

namespace socle {

class KeysAdminService final : public v1::KeysAdmin::CallbackService {
 public:
  KeysAdminService(KeyRotation* logic, Dispatcher* dispatcher)
      : logic_(*logic), dispatch_(*dispatcher) {}
  grpc::ServerUnaryReactor* RotateKeys(grpc::CallbackServerContext* c,
                                       const v1::RotateKeysRequest* req,
                                       v1::RotateKeysResponse* resp) override;

 private:
  KeyRotation& logic_;
  Dispatcher& dispatch_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_KEYS_SERVICE_H_
