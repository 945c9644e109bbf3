#include "server/grpc/access_service.h"

namespace socle {

grpc::ServerUnaryReactor* AccessService::Login(grpc::CallbackServerContext* c,
                                               const v1::LoginRequest* req,
                                               v1::LoginResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Access.Login", req, resp,
                         [this](const Caller& who, const v1::LoginRequest& r) {
                           return access_.Login(who, r);
                         });
}

grpc::ServerUnaryReactor* UserAdminService::AddUser(grpc::CallbackServerContext* c,
                                                    const v1::AddUserRequest* req,
                                                    v1::User* resp) {
  return dispatch_.Unary(c, "socle.v1.UserAdmin.AddUser", req, resp,
                         [this](const Caller& who, const v1::AddUserRequest& r) {
                           return access_.AddUser(who, r);
                         });
}

grpc::ServerUnaryReactor* UserAdminService::DisableUser(grpc::CallbackServerContext* c,
                                                        const v1::DisableUserRequest* req,
                                                        v1::User* resp) {
  return dispatch_.Unary(c, "socle.v1.UserAdmin.DisableUser", req, resp,
                         [this](const Caller& who, const v1::DisableUserRequest& r) {
                           return access_.DisableUser(who, r);
                         });
}

grpc::ServerUnaryReactor* UserAdminService::ResetPassword(
    grpc::CallbackServerContext* c, const v1::ResetPasswordRequest* req, v1::User* resp) {
  return dispatch_.Unary(c, "socle.v1.UserAdmin.ResetPassword", req, resp,
                         [this](const Caller& who, const v1::ResetPasswordRequest& r) {
                           return access_.ResetPassword(who, r);
                         });
}

grpc::ServerUnaryReactor* UserAdminService::ListUsers(grpc::CallbackServerContext* c,
                                                      const v1::ListUsersRequest* req,
                                                      v1::ListUsersResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.UserAdmin.ListUsers", req, resp,
                         [this](const Caller& who, const v1::ListUsersRequest& r) {
                           return access_.ListUsers(who, r);
                         });
}

}  // namespace socle
