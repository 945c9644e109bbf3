// Runs a unary call's logic on the worker pool and finishes its reactor, so
// that a gRPC callback thread never blocks on the store; short reads by key
// may run on the callback thread itself when the store's reads never wait
// (ReadInPlace). Every call is
// authorised first (server/access: certificate, login token, role table),
// and its answer filtered to the fields the caller's role may see.
#ifndef SOCLE_SERVER_GRPC_DISPATCH_H_
#define SOCLE_SERVER_GRPC_DISPATCH_H_

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/access/access.h"
#include "server/access/field_filter.h"
#include "server/access/read_audit.h"
#include "server/caller.h"
#include "server/grpc/caller.h"
#include "server/grpc/status_conversion.h"
#include "server/grpc/worker_pool.h"

namespace socle {

class Dispatcher {
 public:
  // `local_reads`: the store's reads take microseconds and never wait on a
  // network or a writer (storage::Store::ReadsNeverWait).
  Dispatcher(WorkerPool* pool, const AccessControl* access, bool local_reads = false)
      : pool_(*pool), access_(*access), local_reads_(local_reads) {}

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
    auto in_place = InPlace<Req, Resp>(std::move(logic));
    return Run(context, method, request, response, in_place, /*inline_read=*/false);
  }

  // Unary for a read of one record by its key: see ReadInPlace.
  template <typename Req, typename Resp, typename Logic>
  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* context,
                                 absl::string_view method, const Req* request,
                                 Resp* response, Logic logic) {
    auto in_place = InPlace<Req, Resp>(std::move(logic));
    return Run(context, method, request, response, in_place, local_reads_);
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
    return Run(context, method, request, response, logic, /*inline_read=*/false);
  }

  // UnaryInPlace for a read of one record by its key (a person, the
  // eligibility of one person). When the store's reads never wait and the
  // caller's reads are not audited (an audit entry is a durable write), it
  // runs on the gRPC callback thread, sparing the two thread hand-offs that
  // cost more than such a read (BENCHMARKS.md: CheckEligibility). Listings
  // and scans, whose time grows with the data, stay on the pool.
  template <typename Req, typename Resp, typename Logic>
  grpc::ServerUnaryReactor* ReadInPlace(grpc::CallbackServerContext* context,
                                        absl::string_view method, const Req* request,
                                        Resp* response, Logic logic) {
    return Run(context, method, request, response, logic, local_reads_);
  }

 private:
  // `logic(const Caller&, const Req&) -> absl::StatusOr<Resp>` as in-place logic.
  template <typename Req, typename Resp, typename Logic>
  static auto InPlace(Logic logic) {
    return [logic = std::move(logic)](const Caller& who, const Req& r,
                                      Resp* out) -> absl::Status {
      absl::StatusOr<Resp> result = logic(who, r);
      if (result.ok()) *out = *std::move(result);
      return result.status();
    };
  }

  template <typename Req, typename Resp, typename Logic>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, absl::string_view method,
                                const Req* request, Resp* response, Logic& logic,
                                bool inline_read) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<Caller> caller = Authorize(*context, method);
    if (!caller.ok()) {
      reactor->Finish(ToGrpcStatus(caller.status()));
      return reactor;
    }
    if (inline_read && !ReadsAreAudited(*caller)) {
      absl::Status status = logic(*caller, *request, response);
      if (status.ok()) FilterForCaller(*caller, *response);
      reactor->Finish(ToGrpcStatus(status));
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

  WorkerPool& pool_;
  const AccessControl& access_;
  const bool local_reads_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_DISPATCH_H_
