// The retry loop of the client library, as a function over a callable so that
// it is tested with no network and no waiting.
//
// What is retried (decided per request, never per call site):
//   - reads (Get*, Find*, List*, Check, CheckEligibility, ValidatePolicy,
//     SimulatePolicy, GetCoverage): UNAVAILABLE and DEADLINE_EXCEEDED;
//   - writes that carry a non-empty request_id (the server deduplicates them,
//     so a replay gets the first answer): UNAVAILABLE only; a deadline may
//     expire after the server applied the write, and the caller should then
//     decide (re-sending the same request_id is always safe);
//   - writes without a request_id: never.
// Every other code is final: the server has answered.
#ifndef SOCLE_CLIENT_RETRY_H_
#define SOCLE_CLIENT_RETRY_H_

#include <functional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace socle::client {

// Waits for the given duration. Tests inject one that records and returns.
using Sleeper = std::function<void(absl::Duration)>;

// The sleeper used when none is given: absl::SleepFor.
Sleeper DefaultSleeper();

enum class Idempotency {
  kRead,             // no side effect
  kIdempotentWrite,  // a write with a request_id
  kNonIdempotent,    // a write without a request_id: never retried
};

struct RetryOptions {
  int max_attempts = 4;  // attempts in all, including the first; >= 1
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
};

// True when a call of this kind that failed with `code` may be sent again.
bool IsRetryable(Idempotency kind, absl::StatusCode code);

// The wait before retry number `retry` (1 for the first retry): the nominal
// backoff initial_backoff * 2^(retry-1), capped at max_backoff, with jitter:
// a uniformly random duration in [nominal/2, nominal].
absl::Duration BackoffDelay(const RetryOptions& options, int retry);

// Calls `attempt` (returning absl::StatusOr<T> or absl::Status) until it
// succeeds, fails with a code that is not retryable for `kind`, or
// options.max_attempts attempts have been made; sleeps through `sleeper`
// between attempts. Returns the last result unchanged (code, message and
// details as the server sent them).
template <typename Fn>
auto RetryLoop(const RetryOptions& options, Idempotency kind,
               const Sleeper& sleeper, Fn&& attempt) -> decltype(attempt()) {
  int attempts = options.max_attempts < 1 ? 1 : options.max_attempts;
  for (int i = 1;; ++i) {
    auto result = attempt();
    absl::StatusCode code;
    if constexpr (std::is_same_v<decltype(result), absl::Status>) {
      code = result.code();
    } else {
      code = result.status().code();
    }
    if (code == absl::StatusCode::kOk || i >= attempts ||
        !IsRetryable(kind, code)) {
      return result;
    }
    sleeper(BackoffDelay(options, i));
  }
}

}  // namespace socle::client

#endif  // SOCLE_CLIENT_RETRY_H_
