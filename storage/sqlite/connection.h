// One SQLite connection with its cache of prepared statements, and the one
// place where SQLite result codes become absl::Status codes. Internal to the
// SQLite backend.
//
// A Connection is used by one thread at a time (the writer thread, or the
// reader that took it from the pool); it is opened with SQLITE_OPEN_NOMUTEX.
#ifndef SOCLE_STORAGE_SQLITE_CONNECTION_H_
#define SOCLE_STORAGE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace socle::storage::sqlite_internal {

// The fixed statements, prepared once per connection on first use. Their SQL
// text is in sqlite_txn.cc (kSqlText), in the same order.
enum class Sql : int {
  kBeginDeferred,
  kBeginImmediate,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kInsertPerson,
  kUpdatePerson,
  kGetPerson,
  kGetPersonByNationalId,
  kFindDuplicates,
  kFindByOffice,
  kFindByHousehold,
  kInsertHousehold,
  kUpdateHousehold,
  kGetHousehold,
  kInsertMember,
  kUpdateMember,
  kDeleteMember,
  kGetMembership,
  kListMembers,
  kInsertLifeEvent,
  kListLifeEvents,
  kPutRequest,
  kGetRequest,
  kAppendAudit,
  kLastAudit,
  kListAudit,
  kListPersons,
  kListMemberships,
  kInsertEnrolment,
  kUpdateEnrolment,
  kGetEnrolment,
  kListEnrolmentsByPerson,
  kListEnrolmentsByProgramme,
  kListEnrolmentsByProgrammeStatus,
  kListEnrolments,
  kListEnrolmentsByOffice,
  kListEnrolmentsByStatus,
  kListEnrolmentsByStatusOffice,
  kInsertPolicy,
  kGetActivePolicy,
  kInsertCycle,
  kInsertLines,
  kInsertCycleTotals,
  kUpdateCycle,
  kGetCycle,
  kFindCycle,
  kListCycles,
  kGetCycleTotals,
  kGetLine,
  kGetLineByEnrolment,
  kListLines,
  kListLinesByOffice,
  kInsertPayment,
  kGetPayment,
  kGetPaymentByKey,
  kListPaymentsByLine,
  kReconcilePeriod,
  kListUnbalancedLinesOfCycle,
  kListIrregularPayments,
  kListReferencedPayments,
  kListPeriodCycles,
  kQueryAudit,
  kQueryAuditBySubject,
  kQueryAuditByOffice,
  kNextPersonId,
  kListPersonsToReseal,
  kResealPerson,
  kListRequestsToReseal,
  kResealRequest,
  kNextEventId,
  kListEventsToReseal,
  kResealEvent,
  kGetUser,
  kListUsers,
  kListUsersByOffice,
  kInsertUser,
  kUpdateUser,
  kPlaintextNationalIdHeld,
  kCount,  // not a statement
};

// The SQL text of each fixed statement, and of the name search with `words`
// word conditions. Defined in sqlite_txn.cc, next to the code that binds their
// parameters and reads their columns.
const char* SqlText(Sql id);
std::string NameSearchSql(size_t words);

// What a failed statement was doing, so that its error names the domain
// situation instead of the SQL.
struct ErrorContext {
  // Names the operation, e.g. "insert person".
  const char* what;
  // Message of ALREADY_EXISTS for a unique or primary-key violation, e.g.
  // "national ID already registered"; nullptr when none is expected.
  const char* unique = nullptr;
  // Message of FAILED_PRECONDITION for a foreign-key violation, e.g.
  // "person does not exist"; nullptr when none is expected.
  const char* foreign_key = nullptr;
};

class Connection {
 public:
  // Opens `path` with the given sqlite3_open_v2 flags (NOMUTEX is added),
  // turns on extended result codes and sets busy_timeout. Errors name the
  // path: "cannot open database <path>: <reason>".
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, int flags, int busy_timeout_ms);

  // Finalizes every cached statement, then closes the database.
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // The cached statement for `id`, prepared (persistent) on first use. The
  // caller must reset it after use (see Stmt).
  absl::StatusOr<sqlite3_stmt*> Get(Sql id);
  // The cached statement of the name search with `words` word conditions.
  absl::StatusOr<sqlite3_stmt*> GetNameSearch(size_t words);

  // Steps a statement that returns no row (BEGIN, COMMIT, SAVEPOINT, ...) and
  // resets it. Returns the SQLite result code (SQLITE_OK on success).
  int Run(Sql id);

  // Runs statements given as text (pragmas, migrations). Returns the SQLite
  // result code.
  int Exec(const char* sql);

  // Maps a failed SQLite result code to a status (see the table in
  // connection.cc). Codes that mean the database file or the disk failed
  // (I/O error, full, corrupt, out of memory) are also remembered in
  // `fatal_code()`, so that a caller can notice one that `fn` swallowed.
  absl::Status Error(int rc, const ErrorContext& context);

  // The first fatal result code seen since ClearFatal(), or SQLITE_OK.
  int fatal_code() const { return fatal_code_; }
  void ClearFatal() { fatal_code_ = SQLITE_OK; }
  void NoteFatal(int rc);

  // True when `rc` (primary or extended) means the disk or the file failed.
  static bool IsFatal(int rc);

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::StatusOr<sqlite3_stmt*> Prepare(const std::string& sql,
                                        sqlite3_stmt** slot);

  sqlite3* db_;
  std::string path_;
  std::array<sqlite3_stmt*, static_cast<int>(Sql::kCount)> stmts_{};
  std::vector<sqlite3_stmt*> name_search_;  // by number of words
  int fatal_code_ = SQLITE_OK;
};

// Scope of one use of a cached statement: binds, steps, and on destruction
// resets it and clears its bindings (bound text is SQLITE_STATIC, so no
// binding may outlive the buffers it points to).
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binding errors (only SQLITE_TOOBIG in practice) are kept and returned by
  // the next Step().
  void Int(int i, int64_t v) { Check(sqlite3_bind_int64(s_, i, v)); }
  void Null(int i) { Check(sqlite3_bind_null(s_, i)); }
  // Text and blob are bound without copying: they must outlive the Step.
  // (A null data pointer would bind NULL, hence the "" for an empty view.)
  void Text(int i, absl::string_view v) {
    Check(sqlite3_bind_text64(s_, i, v.data() ? v.data() : "", v.size(),
                              SQLITE_STATIC, SQLITE_UTF8));
  }
  void Blob(int i, absl::string_view v) {
    Check(sqlite3_bind_blob64(s_, i, v.data() ? v.data() : "", v.size(),
                              SQLITE_STATIC));
  }
  // Empty text binds NULL (for nullable unique columns).
  void TextOrNull(int i, absl::string_view v) {
    if (v.empty()) {
      Null(i);
    } else {
      Text(i, v);
    }
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() {
    if (bind_rc_ != SQLITE_OK) return bind_rc_;
    return sqlite3_step(s_);
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(s_, i); }
  bool ColumnIsNull(int i) const {
    return sqlite3_column_type(s_, i) == SQLITE_NULL;
  }
  absl::string_view ColumnText(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    if (p == nullptr) return absl::string_view();
    return absl::string_view(reinterpret_cast<const char*>(p),
                             static_cast<size_t>(sqlite3_column_bytes(s_, i)));
  }
  absl::string_view ColumnBlob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    if (p == nullptr) return absl::string_view();
    return absl::string_view(static_cast<const char*>(p),
                             static_cast<size_t>(sqlite3_column_bytes(s_, i)));
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

}  // namespace socle::storage::sqlite_internal

#endif  // SOCLE_STORAGE_SQLITE_CONNECTION_H_
