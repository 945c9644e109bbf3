// gRPC adapter of socle.v1.AuditAdmin: a few lines per method.
#ifndef SOCLE_SERVER_GRPC_AUDIT_SERVICE_H_
#define SOCLE_SERVER_GRPC_AUDIT_SERVICE_H_

#include "server/audit_trail.h"
#include "server/grpc/dispatch.h"
#include "socle/v1/audit.grpc.pb.h"

namespace socle {

class AuditAdminService final : public v1::AuditAdmin::CallbackService {
 public:
  AuditAdminService(AuditTrail* logic, Dispatcher* dispatcher)
      : logic_(*logic), dispatch_(*dispatcher) {}

  grpc::ServerUnaryReactor* ListAuditChain(grpc::CallbackServerContext* c,
                                           const v1::ListAuditChainRequest* req,
                                           v1::ListAuditChainResponse* resp) override;
  grpc::ServerUnaryReactor* QueryAudit(grpc::CallbackServerContext* c,
                                       const v1::QueryAuditRequest* req,
                                       v1::QueryAuditResponse* resp) override;
  grpc::ServerUnaryReactor* GetAuditCheckpoint(grpc::CallbackServerContext* c,
                                               const v1::GetAuditCheckpointRequest* req,
                                               v1::AuditCheckpoint* resp) override;

 private:
  AuditTrail& logic_;
  Dispatcher& dispatch_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_AUDIT_SERVICE_H_
