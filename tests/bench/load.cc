#include "tests/bench/load.h"

#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <latch>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace socle::bench {

namespace {

std::atomic<bool> phase_log{false};
std::atomic<bool> database_cpu{false};

double Seconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double Monotonic() { return Seconds(CLOCK_MONOTONIC); }

}  // namespace

double DatabaseCpuSeconds() {
  static const double kTicksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  uint64_t ticks = 0;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    std::ifstream stat(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string line;
    if (!std::getline(stat, line)) continue;  // exited meanwhile
    // pid (comm) state ppid ... : comm may hold spaces, so split after ')'.
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos ||
        line.compare(open + 1, close - open - 1, "postgres") != 0) {
      continue;
    }
    // Fields 14 to 17 (utime, stime, cutime, cstime) are the 12th to 15th
    // after the state, which is the first after ')'.
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 1; i <= 11 && rest >> field; ++i) {
    }
    uint64_t value = 0;
    for (int i = 0; i < 4 && rest >> value; ++i) ticks += value;
  }
  closedir(proc);
  return ticks / kTicksPerSecond;
}

void SetPhaseLog(bool on) { phase_log.store(on); }

void MeasureDatabaseCpu(bool on) { database_cpu.store(on); }

PhaseScope::PhaseScope(std::string label) : label_(std::move(label)), start_(Monotonic()) {}

PhaseScope::~PhaseScope() {
  if (phase_log.load()) {
    std::fprintf(stderr, "phase %.3f,%.3f %s\n", start_, Monotonic(), label_.c_str());
  }
}

double LoadStats::PercentileMs(double q) {
  if (latencies_us.empty()) return 0;
  const size_t k = std::min(latencies_us.size() - 1,
                            static_cast<size_t>(q * latencies_us.size()));
  std::nth_element(latencies_us.begin(), latencies_us.begin() + k, latencies_us.end());
  return latencies_us[k] / 1000.0;
}

void LoadStats::Merge(LoadStats other) {
  ok += other.ok;
  failed += other.failed;
  seconds += other.seconds;
  cpu_process_s += other.cpu_process_s;
  cpu_load_s += other.cpu_load_s;
  cpu_database_s += other.cpu_database_s;
  latencies_us.insert(latencies_us.end(), other.latencies_us.begin(),
                      other.latencies_us.end());
  if (first_error.empty()) first_error = std::move(other.first_error);
}

Progress::Progress(absl::string_view label)
    : label_(label), active_(isatty(STDERR_FILENO) == 1) {}

void Progress::Update(absl::string_view text) {
  if (!active_) return;
  const absl::Time now = absl::Now();
  if (now - last_ < absl::Milliseconds(200)) return;
  last_ = now;
  std::fprintf(stderr, "\r  %s: %s\033[K", label_.c_str(), std::string(text).c_str());
  std::fflush(stderr);
}

void Progress::Done() {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  active_ = false;
}

LoadStats RunClosedLoop(int threads, absl::Duration duration, const Operation& op,
                        absl::string_view label, int64_t max_calls_per_thread,
                        const std::function<std::string()>& describe) {
  struct PerThread {
    int64_t ok = 0;
    int64_t failed = 0;
    std::vector<uint32_t> latencies_us;
    std::string first_error;
    double cpu_s = 0;
  };
  std::vector<PerThread> per(threads);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done_calls{0};
  std::atomic<int> running{threads};
  std::latch ready(threads + 1);
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      pthread_setname_np(pthread_self(), "bench-load");
      PerThread& me = per[t];
      me.latencies_us.reserve(1 << 14);
      ready.count_down();
      go.wait();
      const double cpu_start = Seconds(CLOCK_THREAD_CPUTIME_ID);
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (max_calls_per_thread > 0 && i >= max_calls_per_thread) break;
        const absl::Time begin = absl::Now();
        absl::Status status = op(t, i);
        if (absl::IsOutOfRange(status)) break;
        const int64_t us = absl::ToInt64Microseconds(absl::Now() - begin);
        if (status.ok()) {
          ++me.ok;
          me.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
        } else {
          ++me.failed;
          if (me.first_error.empty()) me.first_error = status.ToString();
        }
        done_calls.fetch_add(1, std::memory_order_relaxed);
      }
      me.cpu_s = Seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
      running.fetch_sub(1);
    });
  }
  ready.arrive_and_wait();
  Progress progress(label);
  const double mono_start = Monotonic();
  const double cpu_start = Seconds(CLOCK_PROCESS_CPUTIME_ID);
  const bool database = database_cpu.load();
  const double database_start = database ? DatabaseCpuSeconds() : 0;
  const absl::Time start = absl::Now();
  go.count_down();
  const absl::Time deadline = start + duration;
  while (absl::Now() < deadline && running.load() > 0) {
    absl::SleepFor(std::min(absl::Milliseconds(100), deadline - absl::Now()));
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    progress.Update(describe ? describe()
                             : absl::StrFormat("%.0f s, %d calls, %.0f/s", elapsed,
                                               done_calls.load(),
                                               done_calls.load() / std::max(elapsed, 1e-3)));
  }
  stop.store(true);
  for (std::thread& th : pool) th.join();
  const double cpu_process = Seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  const double cpu_database = database ? DatabaseCpuSeconds() - database_start : 0;
  progress.Done();
  if (phase_log.load()) {
    std::fprintf(stderr, "phase %.3f,%.3f %s\n", mono_start, Monotonic(),
                 std::string(label).c_str());
  }

  LoadStats stats;
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  stats.cpu_process_s = cpu_process;
  stats.cpu_database_s = cpu_database;
  for (PerThread& p : per) {
    stats.ok += p.ok;
    stats.failed += p.failed;
    stats.cpu_load_s += p.cpu_s;
    stats.latencies_us.insert(stats.latencies_us.end(), p.latencies_us.begin(),
                              p.latencies_us.end());
    if (stats.first_error.empty()) stats.first_error = std::move(p.first_error);
  }
  return stats;
}

}  // namespace socle::bench
