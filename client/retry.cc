#include "client/retry.h"

#include <algorithm>
#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/clock.h"

namespace socle::client {

Sleeper DefaultSleeper() {
  return [](absl::Duration d) { absl::SleepFor(d); };
}

bool IsRetryable(Idempotency kind, absl::StatusCode code) {
  switch (kind) {
    case Idempotency::kRead:
      return code == absl::StatusCode::kUnavailable ||
             code == absl::StatusCode::kDeadlineExceeded;
    case Idempotency::kIdempotentWrite:
      return code == absl::StatusCode::kUnavailable;
    case Idempotency::kNonIdempotent:
      return false;
  }
  return false;
}

absl::Duration BackoffDelay(const RetryOptions& options, int retry) {
  absl::Duration nominal = std::max(options.initial_backoff, absl::ZeroDuration());
  absl::Duration cap = std::max(options.max_backoff, nominal);
  for (int i = 1; i < retry && nominal < cap; ++i) nominal *= 2;
  nominal = std::min(nominal, cap);
  int64_t high = absl::ToInt64Microseconds(nominal);
  if (high <= 1) return nominal;
  int64_t low = high / 2;
  // Jitter keeps many terminals that lost the same link from coming back in
  // step. Not security relevant.
  thread_local absl::BitGen gen;
  return absl::Microseconds(absl::Uniform<int64_t>(absl::IntervalClosed, gen, low, high));
}

}  // namespace socle::client
