// A fixed set of threads that run the blocking work of RPCs (store reads and
// writes), so that gRPC's callback threads never block. The queue is
// bounded: when it is full, work is refused at once (the caller answers
// RESOURCE_EXHAUSTED) instead of piling up.
#ifndef SOCLE_SERVER_GRPC_WORKER_POOL_H_
#define SOCLE_SERVER_GRPC_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace socle {

class WorkerPool {
 public:
  WorkerPool(int threads, int max_queued);
  // Runs every queued task, then joins the threads.
  ~WorkerPool();

  // False (and `task` is not run) when the queue is full or shutting down.
  bool TrySubmit(std::function<void()> task);

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_WORKER_POOL_H_
