// The scenarios of issue 8 and the ceilings they are judged against, each
// adding rows to the report. Every scenario checks the answers it gets
// (a wrong answer is a FAIL row, and socle-bench exits non-zero); none
// asserts a speed.
#ifndef SOCLE_TESTS_BENCH_SCENARIOS_H_
#define SOCLE_TESTS_BENCH_SCENARIOS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/bench/fixture.h"
#include "tests/bench/load.h"
#include "tests/bench/report.h"
#include "tests/bench/server_process.h"

namespace socle {
class SocleServer;
}

namespace socle::bench {

class PgScratch;

struct Settings {
  // Load time of each RPC scenario; its empty-RPC ceiling is measured for as
  // long again, in alternating slices, so both see the same machine.
  absl::Duration duration = absl::Seconds(10);
  int rounds = 3;            // slices of each RPC scenario and its ceiling
  int concurrency = 64;      // client threads, one channel (connection) each
  int64_t persons = 1'000'000;  // bulk-loaded for the bulk and memory scenarios
  int batch = 10'000;        // persons per transaction of the bulk load
  // Active enrolments (and payments) of the cycle and reconcile scenarios.
  int64_t payroll = 1'000'000;
  // Lines of the cycle the RecordPayment scenario pays (loaded into the
  // server's database before it starts; paid again as supplements if the
  // load outruns them).
  int64_t payment_lines = 100'000;
  // Sizes of the growth scenario (enrolments and payments); empty: the
  // growth row is skipped.
  std::vector<int64_t> growth;
  // Repetitions of each payroll measurement (socle and raw alternating);
  // the best of each is kept.
  int payroll_reps = 2;
  // "sqlite:" (a temporary file), "sqlite:PATH" or "postgresql://..." (the
  // server where socle-bench makes databases of its own, dropped at the end;
  // the database the URL names is not written).
  std::string store = "sqlite:";
  // socle-server's --commit_delay (SQLite's group commit delay), for the
  // in-process server and the child processes alike.
  absl::Duration commit_delay = storage::kDefaultCommitDelay;
  std::set<std::string> only;  // scenario ids; empty: all
  bool quick = false;
};

// Scenario ids, in the order they run.
const std::vector<std::string>& ScenarioIds();

class Bench {
 public:
  Bench(Settings settings, Report* report);
  ~Bench();

  // Certificates, the bare gRPC server, socle's server and the clients.
  // An error here ends socle-bench.
  absl::Status SetUp();
  void Run();

 private:
  bool Selected(const std::string& id) const;
  // Runs `op` on the socle clients and the empty RPC on the bare server in
  // alternating slices; fills *scenario and *ceiling.
  // `after_each_round`, when given, runs after each pair of slices.
  void Paired(const std::string& label, const Operation& op, LoadStats* scenario,
              LoadStats* ceiling, const std::function<void()>& after_each_round = nullptr);
  Row RatioRow(const std::string& id, const std::string& label, LoadStats& stats,
               LoadStats& ceiling, double target, const std::string& target_text);

  void MeasureDisk(absl::Duration duration);  // adds to disk_stats_
  void Disk();
  void Health();
  void Register();
  // CheckEligibility of the registered persons: the FULL answer (the issue's
  // scenario, target >= 70 %) or the BASIC view (its own row, no target).
  void Eligibility(v1::EligibilityView view);
  void Decide();
  void Payment();
  void Cycle();
  void Reconcile();
  void Growth();

  // Times of one payroll size: the best socle and raw times of opening a
  // cycle over `n` enrolments and of reconciling a period of the payments
  // of n lines.
  struct PayrollTimes {
    int64_t n = 0;
    double load_s = 0;  // loading the fixture (untimed elsewhere)
    double open_s = 0, raw_open_s = 0;
    double reconcile_s = 0, raw_reconcile_s = 0;
    int64_t reconcile_discrepancies = 0;
  };
  absl::StatusOr<PayrollTimes> MeasurePayroll(int64_t n, int reps);
  // MeasurePayroll(settings_.payroll), once for the cycle and reconcile rows.
  absl::StatusOr<PayrollTimes> PayrollAtDefaultSize();
  // Where the SQLite payroll fixture of `n` persons goes (removed after
  // use); on PostgreSQL, a database of its own (PgScratch).
  std::string PayrollPath(int64_t n) const;
  // Why the payroll rows cannot run (the PostgreSQL server cannot be
  // reached), or empty.
  std::string PayrollUnavailable() const;
  void Bulk();
  void Memory();

  // Registers `n` persons through the RPC (for --only=eligibility).
  absl::Status RegisterSome(int n);
  // Fills the bulk database (once); the path of its store spec.
  absl::Status EnsureBulkLoaded();
  // A socle-server child process on the bulk database, working in
  // dir_/`name`.
  absl::StatusOr<std::unique_ptr<ServerProcess>> StartChild(const std::string& name);

  Settings settings_;
  Report& report_;
  std::string dir_;  // removed at the end
  TlsFiles tls_;
  std::string store_spec_;  // of the in-process server
  // With --store=postgresql://...: the databases socle-bench makes on that
  // server (the in-process server's, the bulk one, the payroll fixtures),
  // and why it could not reach it (empty: it could).
  std::unique_ptr<PgScratch> pg_;
  std::string pg_error_;
  std::string store_error_;  // why the server's store did not open, if it did not
  std::unique_ptr<BareGrpcServer> bare_;
  std::unique_ptr<SocleServer> server_;
  std::vector<client::Client> bare_clients_;
  std::vector<client::Client> clients_;           // terminal, supervisor logged in
  std::vector<client::Client> ministry_clients_;  // ministry system
  std::vector<client::Client> admin_clients_;     // administrator workstation
  LoadStats empty_all_;  // every empty-RPC slice, for the ceiling row
  std::vector<std::vector<std::string>> registered_;  // per client thread
  int expected_decisions_ = 0;
  std::string disk_dir_;  // where the database is
  LoadStats disk_stats_;
  std::atomic<int64_t> next_person_{0};  // MakePerson numbers handed out
  std::string bulk_spec_;
  std::string bulk_file_;  // with --store=sqlite:PATH: removed at the end
  bool bulk_loaded_ = false;
  int64_t bulk_min_id_ = 0, bulk_max_id_ = 0;
  LoadStats bulk_stats_;
  std::string bulk_error_;
  // The server's database holds payment_lines enrolments.
  bool payment_fixture_ = false;
  std::optional<absl::StatusOr<PayrollTimes>> payroll_;
};

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_SCENARIOS_H_
