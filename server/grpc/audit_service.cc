#include "server/grpc/audit_service.h"

namespace socle {

grpc::ServerUnaryReactor* AuditAdminService::ListAuditChain(
    grpc::CallbackServerContext* c, const v1::ListAuditChainRequest* req,
    v1::ListAuditChainResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.AuditAdmin.ListAuditChain", req, resp,
                         [this](const Caller& who, const v1::ListAuditChainRequest& r) {
                           return logic_.ListChain(who, r);
                         });
}

grpc::ServerUnaryReactor* AuditAdminService::QueryAudit(grpc::CallbackServerContext* c,
                                                        const v1::QueryAuditRequest* req,
                                                        v1::QueryAuditResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.AuditAdmin.QueryAudit", req, resp,
                         [this](const Caller& who, const v1::QueryAuditRequest& r) {
                           return logic_.Query(who, r);
                         });
}

grpc::ServerUnaryReactor* AuditAdminService::GetAuditCheckpoint(
    grpc::CallbackServerContext* c, const v1::GetAuditCheckpointRequest* req,
    v1::AuditCheckpoint* resp) {
  return dispatch_.Unary(c, "socle.v1.AuditAdmin.GetAuditCheckpoint", req, resp,
                         [this](const Caller& who, const v1::GetAuditCheckpointRequest& r) {
                           return logic_.GetCheckpoint(who, r);
                         });
}

}  // namespace socle
