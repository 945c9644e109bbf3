// gRPC adapter of payments: a few lines per unary method, and the one
// streaming method, ListCycleLines, as a write reactor fed from the worker
// pool.
#ifndef SOCLE_SERVER_GRPC_PAYMENTS_SERVICE_H_
#define SOCLE_SERVER_GRPC_PAYMENTS_SERVICE_H_

#include "server/grpc/dispatch.h"
#include "server/grpc/worker_pool.h"
#include "server/payments.h"
#include "socle/v1/payments.grpc.pb.h"

namespace socle {

class PaymentsService final : public v1::Payments::CallbackService {
 public:
  // `pool` runs the store reads of the stream.
  PaymentsService(Payments* logic, Dispatcher* dispatcher, WorkerPool* pool)
      : logic_(*logic), dispatch_(*dispatcher), pool_(*pool) {}

  grpc::ServerUnaryReactor* OpenCycle(grpc::CallbackServerContext* c,
                                      const v1::OpenCycleRequest* req, v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* GetCycle(grpc::CallbackServerContext* c,
                                     const v1::GetCycleRequest* req, v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* ListCycles(grpc::CallbackServerContext* c,
                                       const v1::ListCyclesRequest* req,
                                       v1::ListCyclesResponse* resp) override;
  // Streams the lines chunk by chunk: each chunk is read on the worker pool
  // and written when the previous write is done, so a slow client holds no
  // thread and no more than one chunk in memory.
  grpc::ServerWriteReactor<v1::ListCycleLinesResponse>* ListCycleLines(
      grpc::CallbackServerContext* c, const v1::ListCycleLinesRequest* req) override;
  grpc::ServerUnaryReactor* CloseCycle(grpc::CallbackServerContext* c,
                                       const v1::CloseCycleRequest* req, v1::Cycle* resp) override;
  grpc::ServerUnaryReactor* RecordPayment(grpc::CallbackServerContext* c,
                                          const v1::RecordPaymentRequest* req,
                                          v1::Payment* resp) override;
  grpc::ServerUnaryReactor* RecordPayments(grpc::CallbackServerContext* c,
                                           const v1::RecordPaymentsRequest* req,
                                           v1::RecordPaymentsResponse* resp) override;
  grpc::ServerUnaryReactor* ReversePayment(grpc::CallbackServerContext* c,
                                           const v1::ReversePaymentRequest* req,
                                           v1::Payment* resp) override;
  grpc::ServerUnaryReactor* Reconcile(grpc::CallbackServerContext* c,
                                      const v1::ReconcileRequest* req,
                                      v1::ReconciliationReport* resp) override;
  grpc::ServerUnaryReactor* ReconcileStatement(grpc::CallbackServerContext* c,
                                               const v1::ReconcileStatementRequest* req,
                                               v1::StatementReconciliation* resp) override;

 private:
  Payments& logic_;
  Dispatcher& dispatch_;
  WorkerPool& pool_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_PAYMENTS_SERVICE_H_
