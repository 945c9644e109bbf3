// A std::mutex with Abseil's thread-safety annotations, for the SQLite
// backend's writer queue and reader pool. Internal to the SQLite backend.
//
// Why not absl::Mutex: Debian's Abseil is not built for ThreadSanitizer, so
// TSan cannot see its synchronization and reports every guarded access as a
// race; the concurrency of this backend is meant to be checked under TSan.
// std::mutex and std::condition_variable are intercepted by TSan, and the
// annotations keep clang's -Wthread-safety analysis.
#ifndef SOCLE_STORAGE_SQLITE_MUTEX_H_
#define SOCLE_STORAGE_SQLITE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace socle::storage::sqlite_internal {

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

  // Releases the mutex, waits for a notification of `cv` (or a spurious
  // wake-up) and reacquires it: call in a loop that checks the condition.
  void Wait(std::condition_variable& cv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    cv.wait(lock);
    lock.release();  // still held: the caller's lock owns it
  }

  // As Wait, but returns by `deadline` at the latest.
  void WaitUntil(std::condition_variable& cv,
                 std::chrono::steady_clock::time_point deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    cv.wait_until(lock, deadline);
    lock.release();
  }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace socle::storage::sqlite_internal

#endif  // SOCLE_STORAGE_SQLITE_MUTEX_H_
