// socle-bench: socle's throughput, latency and memory as ratios against the
// ceilings of the same machine measured in the same run (issue 8; figures
// and analysis in BENCHMARKS.md).
//
//   socle-bench                      the full run (make bench)
//   socle-bench --quick              every scenario on tiny sizes (the ctest)
//   socle-bench --only=register,eligibility --duration=20s --concurrency=128
//   socle-bench --json=run.json      the same figures as JSON
//   socle-bench --store=sqlite:,postgresql://...   both backends, side by side
//
// Exits 1 when a scenario returned a wrong answer (FAIL row) or could not be
// set up; a missed target is reported (MISS), never an exit status.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/bench/load.h"
#include "tests/bench/report.h"
#include "tests/bench/scenarios.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "Load time of each RPC scenario (its empty-RPC ceiling runs as long again, in "
          "alternating slices), e.g. 10s.");
ABSL_FLAG(int, rounds, 3, "Slices each RPC scenario and its ceiling are split into.");
ABSL_FLAG(int, concurrency, 64,
          "Client threads, each with its own channel and TLS connection, each with one call "
          "in flight.");
ABSL_FLAG(int64_t, persons, 1'000'000,
          "Persons bulk-loaded for the bulk-registration and memory scenarios.");
ABSL_FLAG(int, batch, 10'000, "Persons per transaction of the bulk load.");
ABSL_FLAG(int64_t, payroll, 1'000'000,
          "Active enrolments of the cycle scenario, and lines and payments of the reconcile "
          "scenario (loaded by direct SQL into a fixture database, untimed).");
ABSL_FLAG(int64_t, payment_lines, 100'000,
          "Lines of the cycle that the RecordPayment scenario pays (its enrolments are loaded "
          "into the server's database before it starts).");
ABSL_FLAG(std::vector<std::string>, growth, {},
          "Comma-separated sizes of the growth scenario, e.g. 1000000,5000000,20000000 "
          "(minutes per size and about 1 GB of disk per million; empty: the growth row is "
          "skipped).");
ABSL_FLAG(int, payroll_reps, 2,
          "Repetitions of each payroll and reconciliation measurement at --payroll, socle and "
          "raw SQL alternating (the best of each counts; growth sizes run once).");
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "Leave Abseil's mutex deadlock detection on, as socle-server had it before (to "
          "measure its cost: it is off in socle-server).");
ABSL_FLAG(std::vector<std::string>, store, {"sqlite:"},
          "sqlite: (a temporary database, the default), sqlite:PATH, or postgresql://... "
          "(scenarios are skipped when the server cannot open it). Several, comma-separated, "
          "run the scenarios on each in turn and end with a table of them side by side "
          "(make bench: sqlite: and a throw-away PostgreSQL server).");
ABSL_FLAG(absl::Duration, commit_delay, socle::storage::kDefaultCommitDelay,
          "socle-server's --commit_delay (SQLite's group commit delay; 0 turns it off), "
          "to measure what it gives.");
ABSL_FLAG(bool, quick, false,
          "Every scenario on tiny sizes in a few seconds (overrides --duration, --concurrency, "
          "--persons and --batch): checks that the bench works, not speed.");
ABSL_FLAG(std::vector<std::string>, only, {},
          "Comma-separated scenarios to run: disk, health, register, eligibility (the FULL "
          "answer), eligibility_basic (the BASIC view), decide, payment, cycle, reconcile, bulk, "
          "memory, growth (the empty-RPC ceiling runs with health, register, both eligibility "
          "scenarios and payment).");
ABSL_FLAG(bool, no_skips, false,
          "Exit 1 when a scenario was skipped (SKIP row), as when a FAIL row is printed: "
          "for the ctest on PostgreSQL, where a skip means the bench no longer runs there.");
ABSL_FLAG(std::string, json, "", "Also write the figures to this JSON file.");
ABSL_FLAG(bool, phases, false,
          "Print each load phase's CLOCK_MONOTONIC start,end on stderr, for "
          "`perf record -k CLOCK_MONOTONIC` then `perf report --time START,END`.");

namespace {

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

int Fail(const std::string& message) {
  std::cerr << "socle-bench: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "socle-server's throughput, latency and memory as ratios against the machine's own "
      "ceilings, measured in the same run (BENCHMARKS.md).\nUsage: socle-bench [--quick] "
      "[--only=SCENARIO,...] [--duration=10s] [--concurrency=64] [--persons=1000000] "
      "[--payroll=1000000] [--growth=1000000,5000000] [--store=sqlite:,postgresql://...] "
      "[--json=FILE]");
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view path) {
    return absl::StrContains(path, "tests/bench/bench_main.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return Fail(absl::StrCat("unexpected argument '", rest[1], "'"));

  socle::bench::Settings settings;
  settings.duration = absl::GetFlag(FLAGS_duration);
  settings.rounds = absl::GetFlag(FLAGS_rounds);
  settings.concurrency = absl::GetFlag(FLAGS_concurrency);
  settings.persons = absl::GetFlag(FLAGS_persons);
  settings.batch = absl::GetFlag(FLAGS_batch);
  settings.quick = absl::GetFlag(FLAGS_quick);
  settings.commit_delay = absl::GetFlag(FLAGS_commit_delay);
  settings.payroll = absl::GetFlag(FLAGS_payroll);
  settings.payment_lines = absl::GetFlag(FLAGS_payment_lines);
  settings.payroll_reps = absl::GetFlag(FLAGS_payroll_reps);
  for (const std::string& size : absl::GetFlag(FLAGS_growth)) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(size, &n) || n < 1) {
      return Fail(absl::StrCat("--growth: '", size, "' is not a positive number"));
    }
    settings.growth.push_back(n);
  }
  // As socle-server does (server/main.cc), for the server run in process;
  // the bare gRPC ceiling shares the process, so both are measured alike.
  if (!absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  socle::bench::SetPhaseLog(absl::GetFlag(FLAGS_phases));
  if (settings.quick) {
    settings.duration = absl::Seconds(1);
    settings.rounds = 2;
    settings.concurrency = 4;
    settings.persons = 3'000;
    settings.batch = 500;
    settings.payroll = 2'000;
    settings.payment_lines = 500;
    settings.payroll_reps = 1;
    settings.growth = {1'000, 2'000, 4'000};
  }
  for (const std::string& id : absl::GetFlag(FLAGS_only)) {
    const auto& known = socle::bench::ScenarioIds();
    if (std::find(known.begin(), known.end(), id) == known.end()) {
      return Fail(absl::StrCat("--only: unknown scenario '", id,
                               "'; known: ", absl::StrJoin(known, ", ")));
    }
    settings.only.insert(id);
  }
  if (settings.duration <= absl::ZeroDuration() || settings.rounds < 1 ||
      settings.concurrency < 1 || settings.persons < 1 || settings.batch < 1 ||
      settings.payroll < 1 || settings.payment_lines < 1 || settings.payroll_reps < 1) {
    return Fail("--duration, --rounds, --concurrency, --persons, --batch, --payroll, "
                "--payment_lines and --payroll_reps must be positive");
  }
  const std::vector<std::string> stores = absl::GetFlag(FLAGS_store);
  if (stores.empty()) return Fail("--store: name at least one store");
  std::vector<std::string> store_names;
  for (const std::string& store : stores) {
    if (absl::StartsWith(store, "sqlite:")) {
      store_names.push_back("SQLite");
    } else if (absl::StartsWith(store, "postgresql://") || absl::StartsWith(store, "postgres://")) {
      store_names.push_back("PostgreSQL");
    } else {
      return Fail(absl::StrCat("--store: '", store,
                               "' is none of sqlite:, sqlite:PATH or postgresql://..."));
    }
  }
  // Two stores of one kind are told apart by their place.
  const std::vector<std::string> kinds = store_names;
  for (size_t i = 0; i < store_names.size(); ++i) {
    if (std::count(kinds.begin(), kinds.end(), kinds[i]) > 1) {
      absl::StrAppend(&store_names[i], " (", i + 1, ")");
    }
  }

  struct utsname uts;
  ::uname(&uts);
  std::vector<socle::bench::Report> runs;
  for (const std::string& store : stores) {
    settings.store = store;
    socle::bench::MeasureDatabaseCpu(!absl::StartsWith(store, "sqlite:"));
    socle::bench::Report& report = runs.emplace_back();
    report.command = absl::StrJoin(argv, argv + argc, " ");
    const std::string load_before = LoadAverage();
    report.started =
        absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::Now(), absl::UTCTimeZone());
    report.settings = absl::StrCat(
        "duration ", absl::FormatDuration(settings.duration), " per RPC scenario in ",
        settings.rounds, " slices (+ as long for its ceiling), concurrency ",
        settings.concurrency, ", persons ", settings.persons, " in transactions of ",
        settings.batch, ", payroll ", settings.payroll, " (", settings.payroll_reps,
        " reps), payment lines ", settings.payment_lines, ", growth ",
        settings.growth.empty() ? "off" : absl::StrJoin(settings.growth, ","),
        absl::GetFlag(FLAGS_mutex_deadlock_detection) ? ", mutex deadlock detection ON" : "",
        settings.commit_delay == socle::storage::kDefaultCommitDelay
            ? ""
            : absl::StrCat(", commit delay ", absl::FormatDuration(settings.commit_delay)),
        ", store ", store == "sqlite:" ? "sqlite: (temporary file)" : store,
        settings.quick ? ", --quick" : "");
    std::cerr << "socle-bench: " << report.settings << "\n";
    {
      socle::bench::Bench bench(settings, &report);
      absl::Status set_up = bench.SetUp();
      if (!set_up.ok()) return Fail(absl::StrCat("set-up failed: ", set_up.ToString()));
      bench.Run();
    }
    report.machine = absl::StrCat(std::thread::hardware_concurrency(), " cores, ", uts.sysname,
                                  " ", uts.release, ", load average ", load_before, " before, ",
                                  LoadAverage(), " after");
    std::cout << "\nsocle-bench, " << report.started << "\n"
              << "  " << report.machine << "\n  " << report.settings << "\n\n"
              << socle::bench::FormatTable(report) << std::flush;
  }
  if (runs.size() > 1) {
    std::cout << "\nsocle-bench, side by side (ratios to each run's own ceilings; figures where "
                 "a row has no ceiling)\n\n"
              << socle::bench::FormatComparison(runs, store_names);
  }

  int status = 0;
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) {
    absl::Status written = socle::bench::WriteJson(runs, json);
    if (!written.ok()) return Fail(written.ToString());
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string where = runs.size() > 1 ? absl::StrCat(" on ", store_names[i]) : "";
    if (runs[i].AnyFailed()) {
      std::cerr << "socle-bench: a scenario returned wrong results" << where << " (FAIL above)\n";
      status = 1;
    }
    if (!absl::GetFlag(FLAGS_no_skips)) continue;
    for (const socle::bench::Row& row : runs[i].rows) {
      if (row.verdict != socle::bench::Verdict::kSkip) continue;
      std::cerr << "socle-bench: --no_skips: " << row.id << " was skipped" << where << ": "
                << row.note << "\n";
      status = 1;
    }
  }
  return status;
}
