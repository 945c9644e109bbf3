// gRPC adapters of login and user administration.
#ifndef SOCLE_SERVER_GRPC_ACCESS_SERVICE_H_
#define SOCLE_SERVER_GRPC_ACCESS_SERVICE_H_

#include "server/access/access.h"
#include "server/grpc/dispatch.h"
#include "socle/v1/access.grpc.pb.h"

namespace socle {

class AccessService final : public v1::Access::CallbackService {
 public:
  AccessService(AccessControl* access, Dispatcher* dispatcher)
      : access_(*access), dispatch_(*dispatcher) {}
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* c,
                                  const v1::LoginRequest* req,
                                  v1::LoginResponse* resp) override;

 private:
  AccessControl& access_;
  Dispatcher& dispatch_;
};

class UserAdminService final : public v1::UserAdmin::CallbackService {
 public:
  UserAdminService(AccessControl* access, Dispatcher* dispatcher)
      : access_(*access), dispatch_(*dispatcher) {}
  grpc::ServerUnaryReactor* AddUser(grpc::CallbackServerContext* c,
                                    const v1::AddUserRequest* req, v1::User* resp) override;
  grpc::ServerUnaryReactor* DisableUser(grpc::CallbackServerContext* c,
                                        const v1::DisableUserRequest* req,
                                        v1::User* resp) override;
  grpc::ServerUnaryReactor* ResetPassword(grpc::CallbackServerContext* c,
                                          const v1::ResetPasswordRequest* req,
                                          v1::User* resp) override;
  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* c,
                                      const v1::ListUsersRequest* req,
                                      v1::ListUsersResponse* resp) override;

 private:
  AccessControl& access_;
  Dispatcher& dispatch_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_ACCESS_SERVICE_H_
