#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/mutex.h"
#include "storage/sqlite/sqlite_txn.h"

namespace socle::storage {
namespace {

using sqlite_internal::Connection;
using sqlite_internal::Mutex;
using sqlite_internal::MutexLock;
using sqlite_internal::Sql;
using sqlite_internal::SqliteTxn;

// synchronous=FULL: in WAL mode, every commit syncs the WAL before it
// returns, so an acknowledged group survives power loss.
// Page-cache sizes (negative: KiB): the writer's is large so that bulk
// registrations do not reread index pages; readers share the OS cache.
// journal_size_limit: the WAL file is cut back to 64 MiB when it restarts,
// after a large group made it grow.
constexpr const char* kWriterPragmas =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
    "PRAGMA cache_size = -65536; PRAGMA journal_size_limit = 67108864;";
// Large calls (Store::WriteAlone) committed together, at most: four
// batches of 10,000 persons hold the writer for a few seconds.
constexpr size_t kMaxLargeGroup = 4;
// WAL frames (pages) after which the checkpointer copies the WAL into the
// database file: 16 MiB with 4 KiB pages. Larger than SQLite's default (1000)
// so that a page rewritten by many groups is copied once.
constexpr int kCheckpointFrames = 4096;
// WAL frames after which the writer checkpoints itself, between groups:
// under a steady load the WAL never restarts (a restart needs every frame
// copied when a write begins, and the writer appends while the checkpointer
// copies), so the writer copies the last frames itself once the WAL reaches
// the 64 MiB that journal_size_limit keeps allocated.
constexpr int kWriterCheckpointFrames = 4 * kCheckpointFrames;
// The checkpointer's connection: its fsyncs are what make a checkpoint
// safe (the WAL synced before the copy, the database file after it, before
// the WAL may restart).
constexpr const char* kCheckpointerPragmas = "PRAGMA synchronous = FULL;";

constexpr const char* kReaderPragmas =
    "PRAGMA foreign_keys = ON; PRAGMA query_only = ON; "
    "PRAGMA cache_size = -16384;";

// A failure while opening: one line naming the path, never SQL.
absl::Status OpenError(int rc, const std::string& path) {
  absl::StatusCode code;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      code = absl::StatusCode::kUnavailable;
      break;
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = absl::StatusCode::kFailedPrecondition;
      break;
    default:
      code = absl::StatusCode::kInternal;
  }
  return absl::Status(code, absl::StrCat("cannot open database ", path, ": ",
                                         sqlite3_errstr(rc)));
}

// Runs a pragma that returns one row and gives its first column as text.
absl::StatusOr<std::string> QueryPragma(Connection& conn, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.db(), sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return OpenError(sqlite3_extended_errcode(conn.db()), conn.path());
  }
  std::string value;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) value = reinterpret_cast<const char*>(text);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  } else {
    rc = sqlite3_extended_errcode(conn.db());
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_OK) return OpenError(rc, conn.path());
  return value;
}

// Sets and checks the per-connection settings. WAL is a property of the file,
// set (and checked) by the writer before the readers open.
absl::Status Configure(Connection& conn, bool writer) {
  if (writer) {
    ASSIGN_OR_RETURN(std::string mode,
                     QueryPragma(conn, "PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open database ", conn.path(),
                       ": write-ahead logging is not available"));
    }
  }
  int rc = conn.Exec(writer ? kWriterPragmas : kReaderPragmas);
  if (rc != SQLITE_OK) return OpenError(rc, conn.path());
  ASSIGN_OR_RETURN(std::string fk, QueryPragma(conn, "PRAGMA foreign_keys"));
  if (fk != "1") {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open database ", conn.path(),
                     ": this SQLite has no foreign-key support"));
  }
  return absl::OkStatus();
}

// One pending Write call. Lives on the caller's stack until the caller sees
// `done`; the writer sets `done` and notifies `cv` while holding the store's
// mutex, and touches the request no more after that.
struct WriteRequest {
  WriteRequest(absl::FunctionRef<absl::Status(Txn&)> f, bool a) : fn(f), alone(a) {}
  absl::FunctionRef<absl::Status(Txn&)> fn;
  const bool alone;            // a group of its own (WriteAlone)
  absl::Status status;         // the outcome, written by the writer
  bool done = false;           // guarded by SqliteStore::mu_
  std::condition_variable cv;  // signalled when `done` becomes true
};

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::unique_ptr<Connection> writer,
              std::unique_ptr<Connection> checkpointer,
              std::vector<std::unique_ptr<Connection>> readers)
      : max_batch_(static_cast<size_t>(options.max_batch)),
        commit_delay_(options.commit_delay),
        keys_(options.keys != nullptr ? options.keys : KeyRing::ProcessTestKeys()),
        writer_conn_(std::move(writer)),
        writer_txn_(writer_conn_.get(), keys_.get()),
        checkpointer_conn_(std::move(checkpointer)),
        readers_(std::move(readers)) {
    batch_.reserve(max_batch_);
    sqlite3_wal_hook(writer_conn_->db(), &SqliteStore::OnWalCommit, this);
    {
      MutexLock lock(&pool_mu_);
      for (auto& r : readers_) free_readers_.push_back(r.get());
    }
    checkpointer_thread_ = std::thread([this] { CheckpointerLoop(); });
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  // Lets the writer commit every call already queued, waits until their
  // callers have left Write and running Reads have ended, then closes the
  // connections. No Read or Write may start once destruction has begun.
  ~SqliteStore() override {
    {
      MutexLock lock(&mu_);
      closing_ = true;
      work_cv_.notify_one();
    }
    writer_thread_.join();
    {
      MutexLock lock(&checkpoint_mu_);
      checkpointer_stopping_ = true;
      checkpoint_cv_.notify_one();
    }
    checkpointer_thread_.join();
    checkpointer_conn_.reset();
    {
      MutexLock lock(&mu_);
      while (callers_in_write_ > 0) mu_.Wait(idle_cv_);
    }
    {
      MutexLock lock(&pool_mu_);
      while (free_readers_.size() < readers_.size()) pool_mu_.Wait(pool_cv_);
      free_readers_.clear();
    }
    // Readers first: the last connection to close checkpoints the WAL.
    readers_.clear();
    writer_conn_.reset();
  }

  absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) override {
    Connection* conn;
    {
      MutexLock lock(&pool_mu_);
      while (free_readers_.empty()) pool_mu_.Wait(pool_cv_);
      conn = free_readers_.back();
      free_readers_.pop_back();
    }
    absl::Status status = ReadOn(*conn, keys_.get(), fn);
    MutexLock lock(&pool_mu_);
    free_readers_.push_back(conn);
    pool_cv_.notify_one();
    return status;
  }

  absl::Status Write(absl::FunctionRef<absl::Status(Txn&)> fn) override {
    return Enqueue(fn, /*alone=*/false);
  }
  absl::Status WriteAlone(absl::FunctionRef<absl::Status(Txn&)> fn) override {
    return Enqueue(fn, /*alone=*/true);
  }

  absl::Status Enqueue(absl::FunctionRef<absl::Status(Txn&)> fn, bool alone) {
    if (std::this_thread::get_id() == writer_thread_.get_id()) {
      // The writer would wait for itself.
      return absl::FailedPreconditionError("Write called inside a Write");
    }
    WriteRequest request(fn, alone);
    MutexLock lock(&mu_);
    if (!stopped_.ok()) return stopped_;
    if (closing_) return absl::UnavailableError("store is closing");
    // The writer sleeps while the queue is empty, or while it waits out
    // the commit delay for company.
    if (queue_.empty() || awaiting_company_) work_cv_.notify_one();
    queue_.push_back(&request);
    ++callers_in_write_;
    while (!request.done) mu_.Wait(request.cv);
    // The destructor may be waiting to free mu_ once every caller is out.
    if (--callers_in_write_ == 0 && closing_) idle_cv_.notify_all();
    return std::move(request.status);
  }

  SqliteStoreStats Stats() const {
    SqliteStoreStats stats;
    stats.writes = writes_.load(std::memory_order_relaxed);
    stats.commits = commits_.load(std::memory_order_relaxed);
    stats.checkpoints = checkpoints_.load(std::memory_order_relaxed);
    MutexLock lock(&mu_);
    stats.queued = static_cast<int64_t>(queue_.size());
    stats.stopped = !stopped_.ok();
    return stats;
  }

 private:
  // A read transaction: deferred BEGIN, so the snapshot is taken at the first
  // read and stays until COMMIT.
  static absl::Status ReadOn(Connection& conn, const KeyRing* keys,
                             absl::FunctionRef<absl::Status(ReadTxn&)> fn) {
    conn.ClearFatal();
    int rc = conn.Run(Sql::kBeginDeferred);
    if (rc != SQLITE_OK) return conn.Error(rc, {"begin read"});
    SqliteTxn txn(&conn, keys);
    absl::Status status = fn(txn);
    rc = conn.Run(Sql::kCommit);
    if (rc != SQLITE_OK) {
      if (!sqlite3_get_autocommit(conn.db())) conn.Run(Sql::kRollback);
      if (status.ok()) status = conn.Error(rc, {"end read"});
    }
    return status;
  }

  void WriterLoop() {
    for (;;) {
      {
        MutexLock lock(&mu_);
        while (queue_.empty() && !closing_) mu_.Wait(work_cv_);
        if (queue_.empty()) return;  // closing, and every call answered
        AwaitCompany();
        // Large calls (WriteAlone) are grouped only with each other, at
        // most kMaxLargeGroup of them (RunLargeGroup).
        while (!queue_.empty() && batch_.size() < max_batch_) {
          WriteRequest* next = queue_.front();
          if (!batch_.empty() && next->alone != batch_.front()->alone) break;
          if (next->alone && batch_.size() >= kMaxLargeGroup) break;
          batch_.push_back(next);
          queue_.pop_front();
        }
        last_group_size_ = batch_.front()->alone ? 0 : batch_.size();
      }
      absl::Status stop = CheckpointerFailure();
      if (stop.ok()) stop = batch_.front()->alone ? RunLargeGroup() : RunBatch();
      if (!stop.ok()) {
        FailStop(stop);
        return;
      }
      {
        MutexLock lock(&mu_);
        Acknowledge(batch_);
      }
      batch_.clear();
      // After the acknowledgements, not before: no caller waits for a
      // checkpoint. The checkpointer copies the WAL on the other core while
      // this thread commits the next groups; only a WAL it has let grow to
      // kWriterCheckpointFrames is copied here.
      if (wal_frames_ >= kWriterCheckpointFrames) {
        stop = Checkpoint(*writer_conn_);
        if (!stop.ok()) {
          FailStop(stop);
          return;
        }
      } else if (wal_frames_ >= frames_at_checkpoint_request_ + kCheckpointFrames) {
        // Once per kCheckpointFrames of new WAL, not after every commit:
        // each checkpoint ends with an fsync of the database file.
        frames_at_checkpoint_request_ = wal_frames_;
        MutexLock lock(&checkpoint_mu_);
        checkpoint_wanted_ = true;
        checkpoint_cv_.notify_one();
      }
    }
  }

  // The commit delay: after a group of several calls, waits up to
  // commit_delay_ for kCommitGroupTarget calls to queue. Under load this
  // trades up to commit_delay_ of latency for fewer commits, each
  // of them an fsync and a rewrite of the pages the calls share (the
  // tables' last pages, the audit chain's). Large calls need no company.
  void AwaitCompany() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (commit_delay_ <= absl::ZeroDuration() || last_group_size_ < 2 ||
        queue_.front()->alone) {
      return;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(commit_delay_);
    awaiting_company_ = true;
    while (queue_.size() < kCommitGroupTarget && !closing_ &&
           std::chrono::steady_clock::now() < deadline) {
      mu_.WaitUntil(work_cv_, deadline);
    }
    awaiting_company_ = false;
  }

  // Wakes the callers of `requests`, whose statuses are set. Notifying under
  // the mutex keeps each request alive until its notification is delivered.
  void Acknowledge(const std::vector<WriteRequest*>& requests)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (WriteRequest* r : requests) {
      r->done = true;
      r->cv.notify_one();
    }
  }

  // Stops the writer for good: answers the current group (statuses already
  // set by RunBatch) and every queued call; later Writes see stopped_.
  void FailStop(const absl::Status& stop) {
    MutexLock lock(&mu_);
    stopped_ = stop;
    Acknowledge(batch_);
    batch_.clear();
    for (WriteRequest* r : queue_) {
      r->status = stop;
      r->done = true;
      r->cv.notify_one();
    }
    queue_.clear();
  }

  // Copies committed WAL frames into the database file, on `conn`
  // (PASSIVE: never waits for readers or the writer; the WAL restarts from
  // its beginning at the next write once every frame is copied). An I/O
  // error of the copy or its fsync stops the writer like any other; being
  // busy is no error (the frames stay in the WAL, and a later commit asks
  // again).
  absl::Status Checkpoint(Connection& conn) {
    int log_frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(conn.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &log_frames, &copied);
    if (Connection::IsFatal(rc)) {
      return absl::UnavailableError(absl::StrCat(
          "store stopped after an I/O error: ", sqlite3_errstr(rc)));
    }
    if (&conn == writer_conn_.get()) wal_frames_ = frames_at_checkpoint_request_ = 0;
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }

  // The checkpointer thread: checkpoints on its own connection whenever the
  // writer asks, until the store closes or a checkpoint fails (the writer
  // then stops at its next group: CheckpointerFailure).
  void CheckpointerLoop() {
    for (;;) {
      {
        MutexLock lock(&checkpoint_mu_);
        while (!checkpoint_wanted_ && !checkpointer_stopping_) {
          checkpoint_mu_.Wait(checkpoint_cv_);
        }
        if (checkpointer_stopping_) return;
        checkpoint_wanted_ = false;
      }
      absl::Status status = Checkpoint(*checkpointer_conn_);
      if (!status.ok()) {
        MutexLock lock(&checkpoint_mu_);
        checkpointer_failure_ = status;
        return;
      }
    }
  }

  absl::Status CheckpointerFailure() {
    MutexLock lock(&checkpoint_mu_);
    return checkpointer_failure_;
  }

  // SQLite calls this on the writer thread after each commit, with the
  // number of frames in the WAL. It replaces the automatic checkpoint, which
  // would run inside COMMIT, before the group is acknowledged.
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    store->wal_frames_ = frames;
    // The WAL restarted from its beginning.
    if (frames < store->frames_at_checkpoint_request_) store->frames_at_checkpoint_request_ = 0;
    return SQLITE_OK;
  }

  // BEGIN IMMEDIATE for the group in batch_. False when it did not begin:
  // then either every call of the group is answered busy (another process
  // holds the write lock; the callers may retry) or *stop is set (an I/O
  // error).
  bool BeginGroup(absl::Status* stop) {
    Connection& conn = *writer_conn_;
    conn.ClearFatal();
    const int rc = conn.Run(Sql::kBeginImmediate);
    if (rc == SQLITE_OK) return true;
    if (Connection::IsFatal(rc)) {
      *stop = Stop(sqlite3_errstr(rc));
    } else {
      absl::Status busy = conn.Error(rc, {"begin write"});
      for (WriteRequest* r : batch_) r->status = busy;
    }
    return false;
  }

  // Runs batch_ as one transaction, a savepoint per call, and sets each
  // call's status. A call alone in its group needs no savepoint: its
  // transaction is rolled back whole when it fails. Returns OK, or the status
  // that stops the writer.
  absl::Status RunBatch() {
    absl::Status stop;
    if (!BeginGroup(&stop)) return stop;
    Connection& conn = *writer_conn_;
    int rc;
    const bool savepoints = batch_.size() > 1;
    for (WriteRequest* r : batch_) {
      if (savepoints) {
        rc = conn.Run(Sql::kSavepoint);
        if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
      }
      absl::Status status = r->fn(writer_txn_);
      writes_.fetch_add(1, std::memory_order_relaxed);
      // An I/O error inside fn ends the group even if fn swallowed it.
      if (conn.fatal_code() != SQLITE_OK) {
        return Stop(sqlite3_errstr(conn.fatal_code()));
      }
      if (sqlite3_get_autocommit(conn.db())) {
        return Stop("the transaction was rolled back");
      }
      if (!savepoints) {
        r->status = std::move(status);
        if (r->status.ok()) break;  // to the commit
        rc = conn.Run(Sql::kRollback);
        if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
        return absl::OkStatus();  // nothing to commit
      }
      if (status.ok()) {
        rc = conn.Run(Sql::kRelease);
      } else {
        rc = conn.Run(Sql::kRollbackTo);
        if (rc == SQLITE_OK) rc = conn.Run(Sql::kRelease);
      }
      if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
      r->status = std::move(status);
    }
    rc = conn.Run(Sql::kCommit);  // the group's one fsync
    if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
    commits_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }

  // Runs a group of large calls (WriteAlone) as one transaction without
  // savepoints: a savepoint's sub-journal would copy every page a call
  // changes, while one commit for several calls writes each index page they
  // share once (a batch of thousands of persons dirties most leaf pages of
  // the randomly keyed indexes, whatever its size). Should any call fail,
  // the whole transaction is rolled back and each call runs again in a
  // transaction of its own (calls may run more than once: Store::Write).
  absl::Status RunLargeGroup() {
    if (batch_.size() > 1) {
      absl::Status stop;
      if (!BeginGroup(&stop)) return stop;
      Connection& conn = *writer_conn_;
      int rc;
      bool all_ok = true;
      for (WriteRequest* r : batch_) {
        absl::Status status = r->fn(writer_txn_);
        writes_.fetch_add(1, std::memory_order_relaxed);
        if (conn.fatal_code() != SQLITE_OK) return Stop(sqlite3_errstr(conn.fatal_code()));
        if (sqlite3_get_autocommit(conn.db())) return Stop("the transaction was rolled back");
        if (!status.ok()) {
          all_ok = false;
          break;
        }
      }
      if (all_ok) {
        rc = conn.Run(Sql::kCommit);  // the group's one fsync
        if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
        commits_.fetch_add(1, std::memory_order_relaxed);
        return absl::OkStatus();
      }
      rc = conn.Run(Sql::kRollback);
      if (rc != SQLITE_OK) return Stop(sqlite3_errstr(rc));
    }
    // One call, or a group that failed: each call on its own.
    std::vector<WriteRequest*> group;
    group.swap(batch_);
    for (size_t i = 0; i < group.size(); ++i) {
      batch_.assign(1, group[i]);
      absl::Status stop = RunBatch();
      if (!stop.ok()) {
        // The calls not yet run get the stop status too; those before are
        // committed and keep theirs.
        for (size_t j = i + 1; j < group.size(); ++j) group[j]->status = stop;
        batch_ = std::move(group);
        return stop;
      }
    }
    batch_ = std::move(group);
    return absl::OkStatus();
  }

  // Fail-stop: abandons the open transaction (a failed commit is never
  // retried: after a failed fsync the file's state is unknown) and gives the
  // stop status to every call of the group that has no error of its own.
  absl::Status Stop(absl::string_view reason) {
    absl::Status stop = absl::UnavailableError(
        absl::StrCat("store stopped after an I/O error: ", reason));
    if (!sqlite3_get_autocommit(writer_conn_->db())) {
      writer_conn_->Run(Sql::kRollback);
    }
    for (WriteRequest* r : batch_) {
      if (r->status.ok()) r->status = stop;
    }
    return stop;
  }

  const size_t max_batch_;
  const absl::Duration commit_delay_;
  const std::shared_ptr<const KeyRing> keys_;

  // The writer thread's own; nobody else touches them while it runs.
  std::unique_ptr<Connection> writer_conn_;
  SqliteTxn writer_txn_;
  std::vector<WriteRequest*> batch_;
  int wal_frames_ = 0;  // frames in the WAL after the last commit
  int frames_at_checkpoint_request_ = 0;  // wal_frames_ when last asked
  size_t last_group_size_ = 0;  // calls in the last group, 0 for large calls

  std::unique_ptr<Connection> checkpointer_conn_;  // the checkpointer thread's
  Mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;  // the checkpointer waits on it
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpointer_stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  absl::Status checkpointer_failure_ ABSL_GUARDED_BY(checkpoint_mu_);

  mutable Mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for work on it
  std::deque<WriteRequest*> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool awaiting_company_ ABSL_GUARDED_BY(mu_) = false;  // in AwaitCompany
  int callers_in_write_ ABSL_GUARDED_BY(mu_) = 0;  // queued or being answered
  std::condition_variable idle_cv_;            // callers_in_write_ fell to 0
  absl::Status stopped_ ABSL_GUARDED_BY(mu_);  // not OK once stopped

  std::vector<std::unique_ptr<Connection>> readers_;
  Mutex pool_mu_;
  std::condition_variable pool_cv_;  // a reader was returned to the pool
  std::vector<Connection*> free_readers_ ABSL_GUARDED_BY(pool_mu_);

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> checkpoints_{0};

  std::thread checkpointer_thread_;
  std::thread writer_thread_;  // last: starts once everything above exists
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("database path is empty");
  }
  if (options.reader_connections < 1) {
    return absl::InvalidArgumentError("reader_connections must be at least 1");
  }
  if (options.max_batch < 1) {
    return absl::InvalidArgumentError("max_batch must be at least 1");
  }
  if (options.commit_delay < absl::ZeroDuration() || options.commit_delay > kMaxCommitDelay) {
    return absl::InvalidArgumentError("commit_delay must be from 0 to 1 minute");
  }
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("busy_timeout_ms must not be negative");
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                       options.busy_timeout_ms));
  RETURN_IF_ERROR(Configure(*writer, /*writer=*/true));
  RETURN_IF_ERROR(sqlite_internal::Migrate(writer->db(), options.path));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                   Connection::Open(options.path, SQLITE_OPEN_READWRITE,
                                    options.busy_timeout_ms));
  if (int rc = checkpointer->Exec(kCheckpointerPragmas); rc != SQLITE_OK) {
    return OpenError(rc, options.path);
  }
  std::vector<std::unique_ptr<Connection>> readers;
  readers.reserve(static_cast<size_t>(options.reader_connections));
  for (int i = 0; i < options.reader_connections; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                     Connection::Open(options.path, SQLITE_OPEN_READWRITE,
                                      options.busy_timeout_ms));
    RETURN_IF_ERROR(Configure(*reader, /*writer=*/false));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<Store>(
      new SqliteStore(options, std::move(writer), std::move(checkpointer), std::move(readers)));
}

SqliteStoreStats GetSqliteStats(const Store& store) {
  const auto* sqlite = dynamic_cast<const SqliteStore*>(&store);
  if (sqlite == nullptr) return SqliteStoreStats();
  return sqlite->Stats();
}

}  // namespace socle::storage
