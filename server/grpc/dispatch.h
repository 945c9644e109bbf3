// Runs a unary call's logic on the worker pool and finishes its reactor, so
// that a gRPC callback thread never blocks on the store. Every call is
// authorised first (server/access: certificate, login token, role table),
// and its answer filtered to the fields the caller's role may see.
#ifndef SOCLE_SERVER_GRPC_DISPATCH_H_
#define SOCLE_SERVER_GRPC_DISPATCH_H_

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/access/access.h"
#include "server/access/field_filter.h"
#include "server/caller.h"
#include "server/grpc/caller.h"
#include "server/grpc/status_conversion.h"
#include "server/grpc/worker_pool.h"

namespace socle {

class Dispatcher {
 public:
  Dispatcher(WorkerPool* pool, const AccessControl* access)
      : pool_(*pool), access_(*access) {}

  // The authorised caller of a call to `method` (full name).
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method) const {
    return CallerFromContext(context, access_, method);
  }

  // `logic(const Caller&, const Req&) -> absl::StatusOr<Resp>`. Refuses at
  // once with RESOURCE_EXHAUSTED when the pool's queue is full, and with
  // DEADLINE_EXCEEDED or CANCELLED when the call is over before its turn.
  template <typename Req, typename Resp, typename Logic>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  absl::string_view method, const Req* request,
                                  Resp* response, Logic logic) {
    return UnaryInPlace(
        context, method, request, response,
        [logic](const Caller& who, const Req& r, Resp* out) -> absl::Status {
          absl::StatusOr<Resp> result = logic(who, r);
          if (result.ok()) *out = *std::move(result);
          return result.status();
        });
  }

  // The same for logic that fills the response in place:
  // `logic(const Caller&, const Req&, Resp*) -> absl::Status`, so that a
  // response allocated on an arena (ArenaMessageAllocator) is built there.
  // The response is sent only when the status is OK.
  template <typename Req, typename Resp, typename Logic>
  grpc::ServerUnaryReactor* UnaryInPlace(grpc::CallbackServerContext* context,
                                         absl::string_view method,
                                         const Req* request, Resp* response,
                                         Logic logic) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<Caller> caller = Authorize(*context, method);
    if (!caller.ok()) {
      reactor->Finish(ToGrpcStatus(caller.status()));
      return reactor;
    }
    const bool queued = pool_.TrySubmit(
        [context, request, response, reactor, logic, who = *std::move(caller)] {
          if (context->IsCancelled()) {
            reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
            return;
          }
          if (context->deadline() < std::chrono::system_clock::now()) {
            reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                         "deadline passed before the call ran"));
            return;
          }
          absl::Status status = logic(who, *request, response);
          if (status.ok()) FilterForCaller(who, *response);
          reactor->Finish(ToGrpcStatus(status));
        });
    if (!queued) {
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "server busy: too many calls in flight; retry later"));
    }
    return reactor;
  }

 private:
  WorkerPool& pool_;
  const AccessControl& access_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_DISPATCH_H_
