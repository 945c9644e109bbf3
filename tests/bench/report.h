// The table socle-bench prints and the JSON it writes: one row per scenario
// or ceiling, with the ratio to the ceiling it is judged against.
#ifndef SOCLE_TESTS_BENCH_REPORT_H_
#define SOCLE_TESTS_BENCH_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace socle::bench {

enum class Verdict {
  kInfo,  // a ceiling or a figure with no target
  kPass,
  kMiss,  // ran correctly, target not reached
  kNa,    // not measurable yet (the feature does not exist)
  kSkip,  // not run (e.g. the backend refused to open)
  kFail,  // ran and returned wrong results: socle-bench exits non-zero
};

struct Row {
  std::string id;     // short key: "health", "register", ... (--only)
  std::string label;  // what was measured, as printed
  std::string unit;   // of `value`: "req/s", "persons/s", "MB", "req/fsync"
  std::optional<double> value;
  std::optional<double> p50_ms, p99_ms;
  std::string ceiling_label;  // e.g. "empty RPC"
  std::optional<double> ceiling;
  std::optional<double> ratio;  // value / ceiling
  std::string target;           // as printed: ">= 95 %"
  Verdict verdict = Verdict::kInfo;
  std::string note;             // printed under the table
};

struct Report {
  std::string command;   // the command line
  std::string machine;   // cores, kernel, load average
  std::string started;   // UTC time
  std::string settings;  // duration, concurrency, persons, store
  std::vector<Row> rows;
  bool AnyFailed() const;
};

const char* VerdictName(Verdict v);
// The table, as socle-bench prints it.
std::string FormatTable(const Report& report);
// Runs of the same scenarios on several stores side by side: one line per
// row (matched by id, in the first run's order), each store's ratio (or its
// figure, for rows judged by none) and verdict. `stores` names the runs'
// columns, in order.
std::string FormatComparison(const std::vector<Report>& runs,
                             const std::vector<std::string>& stores);
// One run: its fields and rows. Several: {"runs": [...]}, one such object
// per run, in order.
absl::Status WriteJson(const std::vector<Report>& runs, const std::string& path);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_REPORT_H_
