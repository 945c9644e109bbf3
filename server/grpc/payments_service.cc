#include "server/grpc/payments_service.h"

#include <chrono>
#include <utility>

#include "server/grpc/caller.h"
#include "server/grpc/status_conversion.h"

namespace socle {
namespace {

// One ListCycleLines call. Every store read runs on the worker pool; a
// chunk is read only once the previous one is written. The reactor deletes
// itself when gRPC is done with it; after StartWrite or Finish, no code
// here touches it again on that thread.
class LinesReactor final : public grpc::ServerWriteReactor<v1::ListCycleLinesResponse> {
 public:
  LinesReactor(grpc::CallbackServerContext* context, const v1::ListCycleLinesRequest& request,
               Payments* logic, WorkerPool* pool, const Dispatcher& dispatcher)
      : context_(context), request_(request), logic_(*logic), pool_(*pool) {
    absl::StatusOr<Caller> caller =
        dispatcher.Authorize(*context, "socle.v1.Payments.ListCycleLines");
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    caller_ = *std::move(caller);
    Schedule(/*first=*/true);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream was closed"));
      return;
    }
    if (listing_.done) {
      Finish(grpc::Status::OK);
      return;
    }
    Schedule(/*first=*/false);
  }

  void OnDone() override { delete this; }

 private:
  void Schedule(bool first) {
    if (!pool_.TrySubmit([this, first] { Step(first); })) {
      Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "server busy: too many calls in flight; retry later"));
    }
  }

  // On the pool: the next chunk, then its write (or the end of the call).
  void Step(bool first) {
    if (context_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
      return;
    }
    if (context_->deadline() < std::chrono::system_clock::now()) {
      Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed"));
      return;
    }
    if (first) {
      absl::StatusOr<Payments::LineListing> listing = logic_.BeginListLines(caller_, request_);
      if (!listing.ok()) {
        Finish(ToGrpcStatus(listing.status()));
        return;
      }
      listing_ = *std::move(listing);
    }
    absl::StatusOr<v1::ListCycleLinesResponse> chunk = logic_.NextLines(listing_);
    if (!chunk.ok()) {
      Finish(ToGrpcStatus(chunk.status()));
      return;
    }
    if (chunk->lines_size() == 0) {  // empty only at the end
      Finish(grpc::Status::OK);
      return;
    }
    response_ = *std::move(chunk);
    StartWrite(&response_);
  }

  grpc::CallbackServerContext* const context_;
  const v1::ListCycleLinesRequest request_;
  Payments& logic_;
  WorkerPool& pool_;
  Caller caller_;
  Payments::LineListing listing_;
  v1::ListCycleLinesResponse response_;  // the chunk being written
};

}  // namespace

grpc::ServerUnaryReactor* PaymentsService::OpenCycle(grpc::CallbackServerContext* c,
                                                     const v1::OpenCycleRequest* req,
                                                     v1::Cycle* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.OpenCycle", req, resp, [this](const Caller& who, const v1::OpenCycleRequest& r) {
    return logic_.OpenCycle(who, r);
  });
}

grpc::ServerUnaryReactor* PaymentsService::GetCycle(grpc::CallbackServerContext* c,
                                                    const v1::GetCycleRequest* req,
                                                    v1::Cycle* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.GetCycle", req, resp, [this](const Caller& who, const v1::GetCycleRequest& r) {
    return logic_.GetCycle(who, r);
  });
}

grpc::ServerUnaryReactor* PaymentsService::ListCycles(grpc::CallbackServerContext* c,
                                                      const v1::ListCyclesRequest* req,
                                                      v1::ListCyclesResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.ListCycles", req, resp, [this](const Caller& who, const v1::ListCyclesRequest& r) {
    return logic_.ListCycles(who, r);
  });
}

grpc::ServerWriteReactor<v1::ListCycleLinesResponse>* PaymentsService::ListCycleLines(
    grpc::CallbackServerContext* c, const v1::ListCycleLinesRequest* req) {
  return new LinesReactor(c, *req, &logic_, &pool_, dispatch_);
}

grpc::ServerUnaryReactor* PaymentsService::CloseCycle(grpc::CallbackServerContext* c,
                                                      const v1::CloseCycleRequest* req,
                                                      v1::Cycle* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.CloseCycle", req, resp, [this](const Caller& who, const v1::CloseCycleRequest& r) {
    return logic_.CloseCycle(who, r);
  });
}

grpc::ServerUnaryReactor* PaymentsService::RecordPayment(grpc::CallbackServerContext* c,
                                                         const v1::RecordPaymentRequest* req,
                                                         v1::Payment* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.RecordPayment", req, resp,
                         [this](const Caller& who, const v1::RecordPaymentRequest& r) {
                           return logic_.RecordPayment(who, r);
                         });
}

grpc::ServerUnaryReactor* PaymentsService::RecordPayments(grpc::CallbackServerContext* c,
                                                          const v1::RecordPaymentsRequest* req,
                                                          v1::RecordPaymentsResponse* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.RecordPayments", req, resp,
                         [this](const Caller& who, const v1::RecordPaymentsRequest& r) {
                           return logic_.RecordPayments(who, r);
                         });
}

grpc::ServerUnaryReactor* PaymentsService::ReversePayment(grpc::CallbackServerContext* c,
                                                          const v1::ReversePaymentRequest* req,
                                                          v1::Payment* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.ReversePayment", req, resp,
                         [this](const Caller& who, const v1::ReversePaymentRequest& r) {
                           return logic_.ReversePayment(who, r);
                         });
}

grpc::ServerUnaryReactor* PaymentsService::Reconcile(grpc::CallbackServerContext* c,
                                                     const v1::ReconcileRequest* req,
                                                     v1::ReconciliationReport* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.Reconcile", req, resp, [this](const Caller& who, const v1::ReconcileRequest& r) {
    return logic_.Reconcile(who, r);
  });
}

grpc::ServerUnaryReactor* PaymentsService::ReconcileStatement(
    grpc::CallbackServerContext* c, const v1::ReconcileStatementRequest* req,
    v1::StatementReconciliation* resp) {
  return dispatch_.Unary(c, "socle.v1.Payments.ReconcileStatement", req, resp,
                         [this](const Caller& who, const v1::ReconcileStatementRequest& r) {
                           return logic_.ReconcileStatement(who, r);
                         });
}

}  // namespace socle
