#include "storage/postgres/pg_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <initializer_list>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/postgres/pg_txn.h"

namespace socle::storage {
namespace {

using pg_internal::Connection;
using pg_internal::ErrorContext;
using pg_internal::PgTxn;

// Isolation, and why.
//
// Write: every group runs
//     BEGIN ISOLATION LEVEL SERIALIZABLE;
//     LOCK TABLE writer_lock IN EXCLUSIVE MODE;
// before anything else. The lock is self-conflicting and held until COMMIT,
// so the groups of every replica run one after the other. That is what the
// audit trail needs: each entry's seq and prev_hash are read from the chain
// head (LastAudit) and the next entry is appended in the same transaction, so
// two replicas that read the same head would fork the chain; taking turns,
// each reads the head its predecessor committed. It is also what the domain
// logic was written for: SQLite runs one writer, and the logic's
// check-then-act steps (a request id not stored yet, a national ID not
// registered yet, the version of the row being updated) assume nothing
// changes between the check and the write.
//
// Why LOCK TABLE and not pg_advisory_xact_lock or SELECT ... FOR UPDATE on a
// head row: a REPEATABLE READ or SERIALIZABLE transaction takes its snapshot
// at its first query, and "SELECT pg_advisory_xact_lock(...)" is a query:
// its snapshot would be taken before waiting for the lock, and the
// transaction would then read the chain head as it was before the previous
// holder committed. LOCK TABLE is not a query: the snapshot is taken by the
// next statement, after the lock is granted, so it sees every earlier group
// (the pattern PostgreSQL's LOCK documentation prescribes). writer_lock is an
// empty table of its own: locking a busy table would make its autovacuum
// wait or be cancelled.
//
// Why SERIALIZABLE on top of the lock: between socle writers it costs
// nothing (they never overlap, so no conflict can arise between them), and
// it keeps anything that writes without taking the lock (an operator's
// script in SERIALIZABLE, a future code path) from silently breaking those
// invariants: the conflict is reported as a serialization failure (40001),
// and the group is run again (Store allows fn to run more than once), up to
// max_attempts times, then its calls get ABORTED. Deadlocks (40P01) are
// treated alike.
//
// Throughput: the chain makes auditing writes inherently sequential across
// the cluster; group commit (one transaction and one WAL flush for up to
// max_batch calls) is what keeps that affordable, as on SQLite. A replica's
// queue keeps filling while another replica holds the lock, so busy replicas
// commit bigger groups.
//
// Read: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY. One snapshot for the
// whole fn (taken at its first statement), as consistent as SQLite's read
// transactions; it never waits for writers nor makes them wait (reads do not
// touch writer_lock), and read-only REPEATABLE READ never fails with a
// serialization failure.
constexpr const char* kBeginWriteTransaction = "BEGIN ISOLATION LEVEL SERIALIZABLE";
constexpr const char* kLockWriters = "LOCK TABLE writer_lock IN EXCLUSIVE MODE";
constexpr const char* kBeginRead =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// One pending Write call. Lives on the caller's stack until the caller sees
// `done`; the writer sets `done` and notifies `cv` while holding the store's
// mutex, and touches the request no more after that.
struct WriteRequest {
  explicit WriteRequest(absl::FunctionRef<absl::Status(Txn&)> f) : fn(f) {}
  absl::FunctionRef<absl::Status(Txn&)> fn;
  absl::Status status;         // the outcome, written by the writer
  bool done = false;           // guarded by PgStore::mu_
  std::condition_variable cv;  // signalled when `done` becomes true
};

// What ended one run of a group.
enum class RunOutcome {
  kCommitted,  // every call's status is set
  kConflict,   // rolled back; run the group again
  kFailed,     // rolled back or lost; every call's status is set
  // A deferred write failed (Connection::DeferWrite): rolled back; run the
  // group again with writes sent at once, so that each call that fails
  // does so alone, with its own error.
  kDeferredWriteFailed,
};

class PgStore final : public Store {
 public:
  PgStore(const PgOptions& options, std::unique_ptr<Connection> writer,
          std::vector<std::unique_ptr<Connection>> readers)
      : options_(options),
        keys_(options.keys != nullptr ? options.keys : KeyRing::ProcessTestKeys()),
        writer_conn_(std::move(writer)),
        readers_(std::move(readers)) {
    batch_.reserve(static_cast<size_t>(options_.max_batch));
    for (auto& r : readers_) free_readers_.push_back(&r);
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  // Lets the writer commit every call already queued, waits until their
  // callers have left Write and running Reads have ended, then closes the
  // connections. No Read or Write may start once destruction has begun.
  ~PgStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      work_cv_.notify_one();
    }
    writer_thread_.join();
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_cv_.wait(lock, [this] { return callers_in_write_ == 0; });
    }
    {
      std::unique_lock<std::mutex> lock(pool_mu_);
      pool_cv_.wait(lock,
                    [this] { return free_readers_.size() == readers_.size(); });
      free_readers_.clear();
    }
    readers_.clear();
    writer_conn_.reset();
  }

  absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) override {
    std::unique_ptr<Connection>* slot;
    {
      std::unique_lock<std::mutex> lock(pool_mu_);
      pool_cv_.wait(lock, [this] { return !free_readers_.empty(); });
      slot = free_readers_.back();
      free_readers_.pop_back();
    }
    absl::Status status = ReadOn(*slot, fn);
    std::lock_guard<std::mutex> lock(pool_mu_);
    free_readers_.push_back(slot);
    pool_cv_.notify_one();
    return status;
  }

  absl::Status Write(absl::FunctionRef<absl::Status(Txn&)> fn) override {
    if (std::this_thread::get_id() == writer_thread_.get_id()) {
      // The writer would wait for itself.
      return absl::FailedPreconditionError("Write called inside a Write");
    }
    WriteRequest request(fn);
    std::unique_lock<std::mutex> lock(mu_);
    if (closing_) return absl::UnavailableError("store is closing");
    // The writer sleeps only while the queue is empty.
    if (queue_.empty()) work_cv_.notify_one();
    queue_.push_back(&request);
    ++callers_in_write_;
    request.cv.wait(lock, [&] { return request.done; });
    // The destructor may be waiting until every caller is out.
    if (--callers_in_write_ == 0 && closing_) idle_cv_.notify_all();
    return std::move(request.status);
  }

  PgStoreStats Stats() const {
    PgStoreStats stats;
    stats.writes = writes_.load(std::memory_order_relaxed);
    stats.commits = commits_.load(std::memory_order_relaxed);
    stats.retries = retries_.load(std::memory_order_relaxed);
    stats.undeferred_reruns = undeferred_reruns_.load(std::memory_order_relaxed);
    stats.reconnects = reconnects_.load(std::memory_order_relaxed);
    stats.writer_round_trips = writer_round_trips_.load(std::memory_order_relaxed);
    stats.answered_ahead = answered_ahead_.load(std::memory_order_relaxed);
    stats.reader_round_trips = reader_round_trips_.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    stats.queued = static_cast<int64_t>(queue_.size());
    return stats;
  }

 private:
  // A usable connection in `slot`, reconnecting when it was lost.
  absl::Status Ensure(std::unique_ptr<Connection>& slot) {
    if (slot != nullptr && !slot->broken()) return absl::OkStatus();
    slot.reset();
    ASSIGN_OR_RETURN(slot, Connection::Open(options_.conninfo,
                                            options_.connect_timeout_s,
                                            options_.lock_timeout_ms));
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }

  // Begins a transaction on `slot`: `commands`, BEGIN first, then what must
  // run before anything else. When the idle connection looks alive they
  // travel with the first statement (Connection::DeferBegin), in its round
  // trip. Otherwise they are sent at once, so that a connection lost while
  // idle (the server restarted, or closed it) is noticed before anything
  // ran, and one new connection may simply be tried; `slot` is then null
  // should reconnecting fail.
  absl::Status Begin(std::unique_ptr<Connection>& slot,
                     std::initializer_list<const char*> commands,
                     const ErrorContext& context) {
    if (slot->LooksAlive()) {
      slot->DeferBegin(*commands.begin(), context);
      if (commands.size() > 1) {
        slot->Defer(std::vector<const char*>(commands.begin() + 1, commands.end()),
                    context);
      }
      return absl::OkStatus();
    }
    const std::string sql = absl::StrJoin(commands, "; ");
    absl::Status status = slot->Command(sql.c_str(), context);
    if (!status.ok() && slot->broken()) {
      RETURN_IF_ERROR(Ensure(slot));
      status = slot->Command(sql.c_str(), context);
    }
    return status;
  }

  // BEGIN travels with fn's first statement when it can (Begin). A read
  // that sends nothing begins no transaction. The ROLLBACK that ends it is
  // not waited for (Connection::SendEnd). A read announced ahead
  // (ReadTxn::Prefetch) thus waits for one round trip.
  absl::Status ReadOn(std::unique_ptr<Connection>& slot,
                      absl::FunctionRef<absl::Status(ReadTxn&)> fn) {
    RETURN_IF_ERROR(Ensure(slot));
    // The previous read's ROLLBACK: when it failed, the connection is
    // replaced.
    if (!slot->TakeEnd({"end read"}).ok()) RETURN_IF_ERROR(Ensure(slot));
    slot->ClearDeferredFailure();
    absl::Status status = Begin(slot, {kBeginRead}, {"begin read"});
    if (!status.ok()) {
      if (slot != nullptr && !slot->broken() && slot->in_transaction()) {
        (void)slot->Command("ROLLBACK", {"end read"});
      }
      return status;
    }
    Connection& conn = *slot;
    conn.ClearFailure();
    conn.ClearConflict();
    PgTxn txn(&conn, keys_.get());
    status = fn(txn);
    reader_round_trips_.fetch_add(conn.TakeTraffic().round_trips,
                                  std::memory_order_relaxed);
    if (conn.broken()) {
      return status.ok() ? absl::UnavailableError(
                               "read: connection to the database was lost")
                         : status;
    }
    if (conn.has_deferred()) {
      // fn sent nothing: the BEGIN is still here, and no transaction open.
      conn.DropDeferred();
      return status;
    }
    // Nothing was written: COMMIT and ROLLBACK end the snapshot alike, and
    // fn's answers are all in. The ROLLBACK is sent, not waited for: the
    // next read on this connection takes its answer (TakeEnd).
    conn.SendEnd("ROLLBACK");
    return status;
  }

  void WriterLoop() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;  // closing, and every call answered
        while (!queue_.empty() &&
               batch_.size() < static_cast<size_t>(options_.max_batch)) {
          batch_.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      RunBatch();
      if (writer_conn_ != nullptr) {
        const Connection::Traffic traffic = writer_conn_->TakeTraffic();
        writer_round_trips_.fetch_add(traffic.round_trips, std::memory_order_relaxed);
        answered_ahead_.fetch_add(traffic.answered_ahead, std::memory_order_relaxed);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (WriteRequest* r : batch_) {
          r->done = true;
          r->cv.notify_one();
        }
      }
      batch_.clear();
    }
  }

  // Runs batch_ until it commits, fails, or has conflicted max_attempts
  // times, and sets every call's status.
  void RunBatch() {
    std::minstd_rand random(static_cast<unsigned>(
        absl::ToUnixNanos(absl::Now()) ^
        std::hash<std::thread::id>()(std::this_thread::get_id())));
    bool defer_writes = true;
    for (int attempt = 1;; ++attempt) {
      RunOutcome outcome = RunOnce(defer_writes);
      if (outcome == RunOutcome::kDeferredWriteFailed) {
        // Not a conflict: at once, and once (writes are no longer deferred).
        undeferred_reruns_.fetch_add(1, std::memory_order_relaxed);
        defer_writes = false;
        --attempt;
        continue;
      }
      if (outcome != RunOutcome::kConflict) return;
      if (attempt >= options_.max_attempts) {
        for (WriteRequest* r : batch_) {
          r->status = absl::AbortedError(
              "write conflicted with concurrent transactions too many times; "
              "retry");
        }
        return;
      }
      retries_.fetch_add(1, std::memory_order_relaxed);
      // Randomised, growing pause, so that the conflicting writers do not
      // meet again at once.
      const int max_ms = std::min(100, 1 << std::min(attempt, 7));
      absl::SleepFor(absl::Milliseconds(
          std::uniform_int_distribution<int>(0, max_ms)(random)));
    }
  }

  // Gives `status` to every call of the group without an error of its own
  // (nothing of theirs is kept, so their own errors stay true).
  void FailOk(const absl::Status& status) {
    for (WriteRequest* r : batch_) {
      if (r->status.ok()) r->status = status;
    }
  }

  // Ends a run that cannot commit: rolls back (unless the connection is
  // gone, which rolls back by itself) and fails the group's calls.
  RunOutcome Abandon(const absl::Status& status) {
    Connection* conn = writer_conn_.get();
    if (conn != nullptr) {
      conn->DropDeferred();
      conn->set_writes_deferred(false);
    }
    if (conn != nullptr && !conn->broken() && conn->in_transaction()) {
      (void)conn->Command("ROLLBACK", {"roll back"});
    }
    if (conn != nullptr && conn->conflict()) return RunOutcome::kConflict;
    // A deferred write failed (the connection still up): which call it
    // belongs to, and whether its failure is its own, only a run with
    // writes sent at once tells.
    if (conn != nullptr && conn->deferred_write_failed() && !conn->broken()) {
      return RunOutcome::kDeferredWriteFailed;
    }
    FailOk(status);
    return RunOutcome::kFailed;
  }

  // One run of the group: one transaction, a savepoint per call. BEGIN,
  // the writers' lock and the first savepoint travel with the first call's
  // first statement when they can (Begin). The commands between two calls
  // travel together, in one round trip: after a call that succeeded, with
  // the next call's first statement (deferred: Connection::Defer), as if
  // sent before it; after one that failed, at once (its savepoint must be
  // rolled back before anything else runs).
  //
  // With `defer_writes`, the writes whose results nobody reads before the
  // commit (audit entries, stored answers) travel with the next round trip
  // too (Connection::DeferWrite): a call's last writes with the next call's
  // first statement, the group's last with the COMMIT.
  RunOutcome RunOnce(bool defer_writes) {
    for (WriteRequest* r : batch_) r->status = absl::OkStatus();
    absl::Status status = Ensure(writer_conn_);
    if (!status.ok()) {
      FailOk(status);
      return RunOutcome::kFailed;
    }
    writer_conn_->ClearConflict();
    writer_conn_->ClearDeferredFailure();
    writer_conn_->set_writes_deferred(false);
    // Deferred or not, the snapshot is taken after the lock is granted: the
    // server runs them in order, and neither LOCK nor the transaction
    // commands take a snapshot, in either protocol (PostgreSQL's
    // PlannedStmtRequiresSnapshot). Abandon fails the calls alike whether
    // the connection is up, lost, or could not be replaced.
    status = Begin(writer_conn_,
                   {kBeginWriteTransaction, kLockWriters, "SAVEPOINT socle_write"},
                   {"begin write"});
    if (!status.ok()) return Abandon(status);
    Connection& conn = *writer_conn_;
    conn.ClearConflict();
    conn.ClearFailure();
    PgTxn txn(&conn, keys_.get());
    conn.set_writes_deferred(defer_writes);
    std::string next;
    bool previous_ok = true;
    for (WriteRequest* r : batch_) {
      if (!next.empty() && previous_ok) {
        conn.Defer({"RELEASE SAVEPOINT socle_write", "SAVEPOINT socle_write"},
                   {"begin write"});
      } else if (!next.empty()) {
        next += "SAVEPOINT socle_write";
        status = conn.Command(next.c_str(), {"begin write"});
        if (!status.ok()) return Abandon(status);
      }
      conn.ClearFailure();
      status = r->fn(txn);
      // The commands before the call failed: it ran on nothing, and the
      // group ends as when they were sent alone, before it.
      if (!conn.deferred_failure().ok()) return Abandon(conn.deferred_failure());
      writes_.fetch_add(1, std::memory_order_relaxed);
      if (conn.broken()) {
        r->status = status;
        return Abandon(absl::UnavailableError(
            "write: connection to the database was lost"));
      }
      if (conn.conflict()) return Abandon(status);
      // fn may have swallowed the error of a statement that aborted the
      // transaction: then nothing of it can be kept.
      if (status.ok() && conn.in_failed_transaction()) {
        status = conn.failure().ok()
                     ? absl::InternalError("write: the transaction failed")
                     : conn.failure();
      }
      if (!status.ok()) txn.CallRolledBack();
      previous_ok = status.ok();
      next = status.ok() ? "RELEASE SAVEPOINT socle_write; "
                         : "ROLLBACK TO SAVEPOINT socle_write; "
                           "RELEASE SAVEPOINT socle_write; ";
      r->status = std::move(status);
    }
    // What is still deferred (the last call's writes, or the commands of a
    // call that sent no statement) travels with the COMMIT.
    std::vector<const char*> finish;
    if (previous_ok) {
      finish = {"RELEASE SAVEPOINT socle_write", "COMMIT"};
    } else {
      finish = {"ROLLBACK TO SAVEPOINT socle_write",
                "RELEASE SAVEPOINT socle_write", "COMMIT"};
    }
    absl::StatusOr<pg_internal::Result> committed =
        conn.CommandsAfterDeferred(finish, {"commit"});
    conn.set_writes_deferred(false);
    // PostgreSQL answers COMMIT of a failed transaction with "ROLLBACK".
    if (committed.ok() &&
        std::string_view(PQcmdStatus(committed->get())) == "COMMIT") {
      commits_.fetch_add(1, std::memory_order_relaxed);
      return RunOutcome::kCommitted;
    }
    status = committed.ok()
                 ? absl::InternalError("commit: the transaction was rolled back")
                 : committed.status();
    if (conn.conflict()) return Abandon(status);
    if (conn.broken()) {
      // The COMMIT may or may not have been applied: the callers retry with
      // their idempotency keys.
      return Abandon(absl::UnavailableError(
          "commit: connection to the database was lost; the outcome is "
          "unknown"));
    }
    return Abandon(status);
  }

  const PgOptions options_;
  const std::shared_ptr<const KeyRing> keys_;

  // The writer thread's own; nobody else touches them while it runs.
  std::unique_ptr<Connection> writer_conn_;
  std::vector<WriteRequest*> batch_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for work on it
  std::deque<WriteRequest*> queue_;  // guarded by mu_
  bool closing_ = false;             // guarded by mu_
  int callers_in_write_ = 0;         // guarded by mu_; queued or answered
  std::condition_variable idle_cv_;  // callers_in_write_ fell to 0

  // Slots of the read pool; a slot is null after its connection was lost
  // and reconnecting failed.
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;  // a reader was returned to the pool
  std::vector<std::unique_ptr<Connection>*> free_readers_;  // by pool_mu_

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> undeferred_reruns_{0};
  std::atomic<int64_t> reconnects_{0};
  std::atomic<int64_t> writer_round_trips_{0};
  std::atomic<int64_t> answered_ahead_{0};
  std::atomic<int64_t> reader_round_trips_{0};

  std::thread writer_thread_;  // last: starts once everything above exists
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options) {
  if (options.conninfo.empty()) {
    return absl::InvalidArgumentError("PostgreSQL connection string is empty");
  }
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be at least 1");
  }
  if (options.max_batch < 1) {
    return absl::InvalidArgumentError("max_batch must be at least 1");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("max_attempts must be at least 1");
  }
  if (options.lock_timeout_ms < 0 || options.connect_timeout_s < 0) {
    return absl::InvalidArgumentError("timeouts must not be negative");
  }
  auto open = [&] {
    return Connection::Open(options.conninfo, options.connect_timeout_s,
                            options.lock_timeout_ms);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, open());
  RETURN_IF_ERROR(pg_internal::Migrate(*writer));
  std::vector<std::unique_ptr<Connection>> readers;
  readers.reserve(static_cast<size_t>(options.pool_size));
  for (int i = 0; i < options.pool_size; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, open());
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<Store>(
      new PgStore(options, std::move(writer), std::move(readers)));
}

PgStoreStats GetPgStats(const Store& store) {
  const auto* pg = dynamic_cast<const PgStore*>(&store);
  if (pg == nullptr) return PgStoreStats();
  return pg->Stats();
}

}  // namespace socle::storage
