// The disk ceiling: how many small durable commits the file system under the
// database takes per second when each one waits for its own flush.
#ifndef SOCLE_TESTS_BENCH_DISK_H_
#define SOCLE_TESTS_BENCH_DISK_H_

#include <string>

#include "absl/time/time.h"
#include "tests/bench/load.h"

namespace socle::bench {

// In a loop for `duration` (at most `max_commits` when > 0): write the next
// 128-byte record into a preallocated 1 MiB file in `dir` (cyclically), then
// fdatasync it. This is SQLite's WAL in its steady state (after a checkpoint
// the WAL is rewritten from its start, so commits overwrite allocated blocks;
// appending to a growing file costs a journal commit more and is several
// times slower on ext4). One call = one commit; failures count in `failed`.
LoadStats MeasureDurableCommits(const std::string& dir, absl::Duration duration,
                                int64_t max_commits = 0);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_DISK_H_
