// Closed-loop load from client threads, and the latency figures it yields.
#ifndef SOCLE_TESTS_BENCH_LOAD_H_
#define SOCLE_TESTS_BENCH_LOAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace socle::bench {

// The outcome of one or more load runs of the same operation.
struct LoadStats {
  int64_t ok = 0;
  int64_t failed = 0;
  double seconds = 0;                  // wall time under load
  std::vector<uint32_t> latencies_us;  // one per successful call
  std::string first_error;             // of the first failed call, if any
  // CPU time over the run: the whole process, and the load threads alone.
  // The difference is the in-process server's (and the idle bare server's).
  double cpu_process_s = 0;
  double cpu_load_s = 0;
  // CPU time of the PostgreSQL server's processes on this machine over the
  // run (DatabaseCpuSeconds); 0 when there are none (SQLite, or a server
  // elsewhere).
  double cpu_database_s = 0;

  double Rate() const { return seconds > 0 ? ok / seconds : 0; }
  int64_t Calls() const { return ok + failed; }
  // CPU microseconds per call outside and inside the load threads.
  double ServerCpuPerCallUs() const {
    return Calls() > 0 ? (cpu_process_s - cpu_load_s) * 1e6 / Calls() : 0;
  }
  double LoadCpuPerCallUs() const { return Calls() > 0 ? cpu_load_s * 1e6 / Calls() : 0; }
  double DatabaseCpuPerCallUs() const {
    return Calls() > 0 ? cpu_database_s * 1e6 / Calls() : 0;
  }
  // Latency at quantile `q` (0.5, 0.99) in milliseconds; 0 when empty.
  // Sorts latencies_us.
  double PercentileMs(double q);
  // Adds another run of the same operation (rates add up over wall time).
  void Merge(LoadStats other);
};

// The CPU time used so far by the processes named "postgres" on this machine
// (the backends, the WAL writer, the checkpointer, autovacuum: everything a
// local PostgreSQL server spends), from /proc; 0 when there are none. Only
// differences mean anything: a backend that exits takes its time with it
// until the postmaster reaps it, which this counts too.
double DatabaseCpuSeconds();
// When on (the store is PostgreSQL), RunClosedLoop fills cpu_database_s.
void MeasureDatabaseCpu(bool on);

// `op(thread, i)` makes one call as client thread `thread` (0..threads-1);
// `i` counts that thread's calls from 0. It must be thread-safe across
// threads; calls of one thread are sequential. OUT_OF_RANGE means "no work
// left": the thread stops, and the call is not counted.
using Operation = std::function<absl::Status(int thread, int64_t i)>;

// Runs `op` in a closed loop on `threads` threads for `duration` (each
// thread issues its next call when the previous one returns). When
// `max_calls_per_thread` > 0, a thread also stops after that many calls.
// `label` names the phase on the progress line (stderr, a terminal only).
// `describe`, when given, writes the progress line's text (called from the
// main thread while the load runs).
LoadStats RunClosedLoop(int threads, absl::Duration duration, const Operation& op,
                        absl::string_view label, int64_t max_calls_per_thread = 0,
                        const std::function<std::string()>& describe = nullptr);

// When on, RunClosedLoop prints each phase's start and end on stderr as
// CLOCK_MONOTONIC seconds, the clock of `perf record -k CLOCK_MONOTONIC`, so
// that a profile can be cut to one phase (`perf report --time START,END`).
// Load threads are named "bench-load" (`perf report --sort comm` separates
// them from the server's threads).
void SetPhaseLog(bool on);

// With the phase log on, prints the scope's start and end as RunClosedLoop
// prints a phase's (for phases that are not closed loops: a payroll, a
// reconciliation).
class PhaseScope {
 public:
  explicit PhaseScope(std::string label);
  ~PhaseScope();
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  std::string label_;
  double start_;
};

// A progress line on stderr, rewritten in place with a carriage return;
// silent when stderr is not a terminal. Done() ends the line.
class Progress {
 public:
  explicit Progress(absl::string_view label);
  ~Progress() { Done(); }
  void Update(absl::string_view text);
  void Done();

 private:
  std::string label_;
  bool active_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_LOAD_H_
