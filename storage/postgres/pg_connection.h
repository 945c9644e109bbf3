// One libpq connection with its prepared statements, binary parameters and
// results, and the one place where PostgreSQL errors become absl::Status
// codes. Internal to the PostgreSQL backend.
//
// A Connection is used by one thread at a time (the writer thread, or the
// reader that took it from the pool).
#ifndef SOCLE_STORAGE_POSTGRES_PG_CONNECTION_H_
#define SOCLE_STORAGE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace socle::storage::pg_internal {

// The fixed statements, prepared once per connection on first use. Their SQL
// text is in pg_txn.cc (kSqlText), in the same order.
enum class Sql : int {
  kInsertPerson,
  kUpdatePerson,
  kGetPerson,
  kGetPersonByNationalId,
  kFindDuplicates,
  kFindByOffice,
  kFindByHousehold,
  kListPersons,
  kInsertHousehold,
  kUpdateHousehold,
  kGetHousehold,
  kInsertMember,
  kUpdateMember,
  kDeleteMember,
  kGetMembership,
  kListMembers,
  kListMemberships,
  kInsertLifeEvent,
  kListLifeEvents,
  kInsertEnrolment,
  kUpdateEnrolment,
  kGetEnrolment,
  kListEnrolmentsByPerson,
  kListEnrolmentsByProgramme,
  kListEnrolmentsByProgrammeStatus,
  kListEnrolmentsAll,
  kListEnrolmentsByStatusOnly,
  kListEnrolmentsByOffice,
  kListEnrolmentsByStatusOffice,
  kInsertPolicy,
  kGetActivePolicy,
  kPutRequest,
  kGetRequest,
  kAppendAudit,
  kLastAudit,
  kListAudit,
  // Payments: cycles, lines, payments, reconciliation.
  kInsertCycle,
  kUpdateCycle,
  kGetCycle,
  kFindCycle,
  kListCycles,
  kGetLine,
  kGetLineByEnrolment,
  kListLines,
  kListLinesByOffice,
  kInsertPayment,
  kGetPayment,
  kGetPaymentByKey,
  kListPaymentsByLine,
  kReconcilePeriod,
  kListUnbalancedLines,
  kListIrregularPayments,
  kListReferencedPayments,
  kQueryAudit,  // audit queries: pg_txn.cc, "Audit queries"
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
  // Bulk registration: pg_txn.cc, "Bulk registration".
  kNationalIdsHeld,
  kFindDuplicateIds,
  kPlaintextNationalIdHeld,
  kNextPersonIds,
  kNextPaymentId,
  kGetPersonOfLine,
  kInsertCheckedPayment,
  kCount,  // not a statement
};

// The SQL text of each fixed statement, and of the name search with `words`
// word conditions. Defined in pg_txn.cc, next to the code that binds their
// parameters and reads their columns.
const char* SqlText(Sql id);
std::string NameSearchSql(size_t words);

// What a failed statement was doing, so that its error names the domain
// situation instead of the SQL.
struct ErrorContext {
  // Names the operation, e.g. "insert person".
  const char* what;
  // Message of ALREADY_EXISTS for a unique violation, e.g. "national ID
  // already registered"; nullptr when none is expected.
  const char* unique = nullptr;
  // Message of FAILED_PRECONDITION for a foreign-key violation, e.g.
  // "person does not exist"; nullptr when none is expected.
  const char* foreign_key = nullptr;
};

// Frees a PGresult.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Statement parameters, all in binary format. Every SQL text casts each of
// its parameters ($1::int8, $2::text, ...) so that the server expects
// exactly the encoding used here. Text and bytea are not copied: the data
// must outlive the statement's execution.
class Params {
 public:
  static constexpr int kMax = 24;

  void Int8(int64_t v);
  void Int4(int32_t v);
  void Bool(bool v);
  void Text(absl::string_view v);
  void Bytea(absl::string_view v) { Text(v); }
  // Empty text is sent as NULL (nullable unique columns).
  void TextOrNull(absl::string_view v);
  void Null();
  // Civil dates of years 1..9999 only, as on SQLite; another year records
  // INVALID_ARGUMENT naming `field`, returned by status().
  void Date(absl::CivilDay day, const char* field);
  void DateOrNull(const std::optional<absl::CivilDay>& day, const char* field);
  // A date before every stored date ('-infinity').
  void DateMinusInfinity();
  // Instants within PostgreSQL's timestamp range (4713 BC to 294276 AD),
  // microsecond precision; another records INVALID_ARGUMENT.
  void Time(absl::Time t, const char* field);

  const absl::Status& status() const { return status_; }
  int size() const { return n_; }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  // Adds one parameter pointing at `data`; false (and an INTERNAL status)
  // beyond kMax.
  bool Add(const char* data, int length);
  char* Slot() { return numbers_[n_].data(); }

  int n_ = 0;
  std::array<const char*, kMax> values_{};
  std::array<int, kMax> lengths_{};
  std::array<int, kMax> formats_{};
  std::array<std::array<char, 8>, kMax> numbers_{};  // encoded numbers
  absl::Status status_;
};

// Values in PostgreSQL's binary format, appended to one buffer: the rows of
// a binary COPY (Connection::CopyIn), or the elements of a one-dimensional
// array sent as a single binary parameter (`$1::text[]`). Dates and instants
// outside PostgreSQL's range record INVALID_ARGUMENT naming `field`, as
// Params does.
class BinaryWriter {
 public:
  // The element OIDs of the arrays used here.
  static constexpr uint32_t kTextOid = 25;
  static constexpr uint32_t kByteaOid = 17;
  static constexpr uint32_t kDateOid = 1082;

  // A COPY: its header, then Row per row, then Finish.
  void BeginCopy();
  void Row(int16_t fields);
  // An array of `count` elements of `element_oid` (none NULL), then exactly
  // `count` values; nothing to finish.
  void BeginArray(uint32_t element_oid, int32_t count);

  void Int8(int64_t v);
  void Int4(int32_t v);
  void Bool(bool v);
  void Text(absl::string_view v);
  void Bytea(absl::string_view v) { Text(v); }
  // Empty text is written as NULL (nullable unique columns).
  void TextOrNull(absl::string_view v);
  void Null();
  void Date(absl::CivilDay day, const char* field);
  void DateOrNull(const std::optional<absl::CivilDay>& day, const char* field);
  void Time(absl::Time t, const char* field);
  // Ends a COPY.
  void Finish();

  const std::string& data() const { return data_; }
  const absl::Status& status() const { return status_; }

 private:
  void Fixed(uint64_t v, int size);

  std::string data_;
  absl::Status status_;
};

// Reads the binary columns of one row of a result.
class Row {
 public:
  Row(const PGresult* r, int row) : r_(r), row_(row) {}

  bool IsNull(int col) const { return PQgetisnull(r_, row_, col) != 0; }
  int64_t Int8(int col) const;
  int32_t Int4(int col) const;
  bool Bool(int col) const;
  // Text and bytea: the bytes as sent (NULL reads as "").
  absl::string_view Bytes(int col) const;
  absl::CivilDay Date(int col) const;
  absl::Time Time(int col) const;

  // False once a column had a size other than its type's: the result did not
  // come from the statement the reader expected.
  bool ok() const { return ok_; }

 private:
  const char* Fixed(int col, int size) const;
  const PGresult* r_;
  int row_;
  mutable bool ok_ = true;
};

class Connection {
 public:
  // Connects with `conninfo` (a postgresql:// URL or key=value pairs) and
  // sets up the session: UTF-8, lock_timeout, synchronous_commit not off.
  // Errors are UNAVAILABLE (INVALID_ARGUMENT for a malformed conninfo) and
  // name the server, never the password.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& conninfo, int connect_timeout_s, int lock_timeout_ms);

  ~Connection() { PQfinish(pg_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // "database <db> on <host>:<port>", for messages.
  std::string Describe() const;

  // Runs commands given as text with no parameters and no rows (BEGIN,
  // COMMIT, SAVEPOINT, migrations); several may be separated by ';'.
  absl::Status Command(const char* sql, const ErrorContext& context);
  // Like Command, but returns the rows.
  absl::StatusOr<Result> Query(const char* sql, const ErrorContext& context);

  // Runs a fixed statement (prepared on first use) with binary parameters
  // and results. Inside a transaction, a failure leaves the transaction
  // aborted: later statements return the same error without being sent.
  absl::StatusOr<Result> Exec(Sql id, const Params& params,
                              const ErrorContext& context);
  absl::StatusOr<Result> ExecNameSearch(size_t words, const Params& params,
                                        const ErrorContext& context);
  // Runs a fixed statement inside its own savepoint, in one round trip
  // (pipeline: SAVEPOINT, the statement, RELEASE). When it fails, the
  // savepoint is rolled back, so the transaction goes on as if the statement
  // had not run: a Write's fn may recover from a unique violation, as on
  // SQLite.
  absl::StatusOr<Result> ExecGuarded(Sql id, const Params& params,
                                     const ErrorContext& context);
  // Runs `copy_sql` (COPY ... FROM STDIN (FORMAT binary)) with `rows`, a
  // finished BinaryWriter COPY, in one round trip. As for Exec, a failure
  // leaves the transaction aborted.
  absl::Status CopyIn(const char* copy_sql, const BinaryWriter& rows,
                      const ErrorContext& context);

  // Commands with no parameters and no rows, one statement each (e.g.
  // "RELEASE SAVEPOINT x"), to be sent ahead of the next fixed statement
  // (Exec, ExecNameSearch, ExecGuarded), in its round trip. Anything else
  // that talks to the server (Command, Query, CopyIn, preparing a
  // statement) sends them first, alone, as FlushDeferred does. When one of
  // them fails, the statement is not run and returns their error, which
  // deferred_failure() keeps (errors as for Command, named by `context`).
  // The transaction must not be in a failed state when they are deferred
  // (statements are refused until they have run).
  void Defer(std::vector<const char*> commands, const ErrorContext& context);
  // Sends `sql`, a command that ends the transaction (a read's ROLLBACK),
  // without waiting for its answer: the server ends the transaction as soon
  // as it reads it, and TakeEnd, which must come before anything else on
  // this connection, takes the answer. Nothing may be deferred.
  void SendEnd(const char* sql);
  // Takes the answer of SendEnd's command, waiting for it if need be (OK
  // when none is pending). Any error, or a transaction still open after it,
  // marks the connection broken: the caller replaces it.
  absl::Status TakeEnd(const ErrorContext& context);
  // A BEGIN command deferred as Defer does: reads may then be sent ahead
  // (QueueAhead) as inside the transaction it opens, since they travel after
  // it.
  void DeferBegin(const char* begin, const ErrorContext& context);
  // A write whose result nobody reads before the transaction commits (an
  // audit entry, a stored answer), deferred as commands are: prepared now,
  // sent after what was deferred before it, ahead of the next statement, in
  // its round trip, and at the latest with the commit
  // (CommandsAfterDeferred). `params` are copied. It runs unguarded: when
  // it fails, the transaction is aborted, nothing sent after it runs,
  // deferred_failure() keeps its error and deferred_write_failed() is set,
  // so that the caller can roll back and run the writes again, each sent
  // at once (Exec). Only while writes_deferred() is set.
  absl::Status DeferWrite(Sql id, const Params& params,
                          const ErrorContext& context);
  // Whether DeferWrite may be used: set by the store's writer for a group
  // of calls, never on a reader.
  bool writes_deferred() const { return writes_deferred_; }
  void set_writes_deferred(bool on) { writes_deferred_ = on; }
  bool has_deferred() const { return !deferred_.empty(); }
  absl::Status FlushDeferred();
  // Sends what is deferred, then `commands` (one statement each, no
  // parameters), in one round trip, and returns the last command's result
  // (PQcmdStatus still to be read: "ROLLBACK" answers the COMMIT of a
  // failed transaction). An error when something deferred failed (as for
  // FlushDeferred; the commands did not run), when a command failed, or
  // when the connection was lost.
  absl::StatusOr<Result> CommandsAfterDeferred(
      const std::vector<const char*>& commands, const ErrorContext& context);
  // Drops the deferred commands and writes unsent (the transaction is being
  // abandoned).
  void DropDeferred() {
    deferred_.clear();
    DropAnswers();
  }

  // Reads sent ahead (ReadTxn::Prefetch). QueueAhead prepares a fixed
  // statement and copies its parameters; SendAhead sends what is deferred,
  // then the queued reads, in one round trip, and keeps their results. Exec
  // of the same statement with the same parameters then takes its result
  // instead of running it, as long as nothing that may change them was sent
  // or deferred since: a write, deferred or not, a command, or SQL text
  // drops the results not yet taken (other lookups keep them). A read
  // that failed aborted the transaction: SendAhead returns its error, which
  // failure() keeps, and keeps no result.
  absl::Status QueueAhead(Sql id, const Params& params,
                          const ErrorContext& context);
  absl::Status SendAhead();
  // The result SendAhead kept for `id` with `params`, taken as Exec would
  // take it, without running anything when there is none.
  std::optional<Result> TakeAnswered(Sql id, const Params& params);
  // Round trips to the server, and Exec calls answered by SendAhead's
  // results, since the last call (the store's counters).
  struct Traffic {
    int64_t round_trips = 0;
    int64_t answered_ahead = 0;
  };
  Traffic TakeTraffic() { return std::exchange(traffic_, Traffic()); }
  // The error of deferred commands or writes sent with a statement since
  // ClearDeferredFailure() (OK when none), and whether it was a write's.
  const absl::Status& deferred_failure() const { return deferred_failure_; }
  bool deferred_write_failed() const { return deferred_write_failed_; }
  void ClearDeferredFailure() {
    deferred_failure_ = absl::OkStatus();
    deferred_write_failed_ = false;
  }

  // The connection to the server was lost (or the server is shutting down):
  // drop it; every call on it fails with UNAVAILABLE.
  bool broken() const { return broken_; }
  // Whether an idle connection shows no sign of having been lost: not
  // broken, and nothing to read from the server (a server that ends an idle
  // session, as on shutdown or pg_terminate_backend, sends an error then
  // closes, which makes the socket readable; a connection its keepalives
  // found dead reports the error the same way). One poll(2), no round
  // trip. Only a hint: a loss after it is noticed by the next statement.
  bool LooksAlive() const;
  // A serialization failure or a deadlock was reported since ClearConflict():
  // the transaction must be rolled back and run again.
  bool conflict() const { return conflict_; }
  void ClearConflict() { conflict_ = false; }
  // The open transaction is aborted by a failed statement (not guarded).
  bool in_failed_transaction() const {
    return PQtransactionStatus(pg_) == PQTRANS_INERROR;
  }
  bool in_transaction() const {
    return PQtransactionStatus(pg_) != PQTRANS_IDLE;
  }
  // In a transaction, or about to be: a BEGIN is deferred (DeferBegin).
  bool in_transaction_or_begin_deferred() const;
  // The error that aborted the transaction (OK when none).
  const absl::Status& failure() const { return failure_; }
  void ClearFailure() { failure_ = absl::OkStatus(); }

 private:
  explicit Connection(PGconn* pg) : pg_(pg) {}

  // The statement name, prepared if needed, for one more execution.
  absl::StatusOr<const char*> Prepared(Sql id);
  absl::StatusOr<const char*> PreparedNameSearch(size_t words);
  absl::StatusOr<const char*> Prepare(const std::string& name,
                                      const std::string& sql);
  // Refuses to send a statement on a lost connection or in an aborted
  // transaction.
  absl::Status Usable(const ErrorContext& context) const;
  // Checks a result: OK for COMMAND_OK/TUPLES_OK, else the mapped error.
  absl::Status Check(const PGresult* r, const ErrorContext& context);
  // Maps an error (null result: the connection failed) to a status.
  absl::Status Error(const PGresult* r, const ErrorContext& context);
  absl::Status Lost(const ErrorContext& context);
  absl::StatusOr<Result> Run(const char* name, const Params& params,
                             const ErrorContext& context);
  // Sends the deferred commands, then the prepared statement `name` (inside
  // its own savepoint when `guarded`, see ExecGuarded), in one pipeline,
  // and returns the statement's result.
  absl::StatusOr<Result> RunPipelined(const char* name, const Params& params,
                                      const ErrorContext& context,
                                      bool guarded);

  // A deferred command (text, no parameters), write, or read sent ahead
  // (a prepared statement with its parameters, copied).
  struct Deferred {
    const char* sql = nullptr;  // the command, or the statement's name
    bool prepared = false;      // a prepared statement, with `values`
    bool write = false;
    bool begin = false;            // DeferBegin's
    std::optional<Sql> statement;  // a read sent ahead: which one
    std::vector<std::string> values;
    std::vector<bool> nulls;
    ErrorContext context{""};
  };
  // The prepared statement `name` with a copy of `params`.
  static Deferred Copy(const char* name, const Params& params,
                       const ErrorContext& context);
  // Whether `d`, a read sent ahead, is `id` with `params`.
  static bool Same(const Deferred& d, Sql id, const Params& params);
  // Something that may change what the answers not yet taken say is about
  // to be sent or deferred: a command, a write, SQL text.
  void DropAnswers() { answered_.clear(); }
  // Whether a fixed statement only reads (its text starts with SELECT):
  // running it leaves the answers of the others true. kNextPersonId and
  // the like draw a number, which changes no other answer.
  static bool IsLookup(Sql id);
  // Queue a command (no parameters), or `d`, on the connection, in pipeline
  // mode; false when it could not be sent.
  bool SendCommand(const char* sql);
  bool Send(const Deferred& d);
  // Takes the deferred list: sends it in pipeline mode, then `extra`
  // (queued by the caller, `extra_queries` results), then a sync, and
  // returns every result in order. Checks the deferred ones: the first
  // that failed becomes deferred_failure() and the return value. A lost
  // connection is UNAVAILABLE named by `context`.
  absl::StatusOr<std::vector<Result>> SendDeferredThen(
      absl::FunctionRef<bool()> extra, size_t extra_queries,
      const ErrorContext& context);

  // A fixed statement as prepared on this connection. PostgreSQL plans a
  // prepared statement when it first runs it and then, after five
  // executions, settles on one plan for good (always so without
  // parameters), chosen for the sizes of the tables at that moment. On a
  // fresh database every table starts empty, and a plan made then (a
  // sequential scan of payments to find one idempotency key, of audit to
  // find its head) stays while the table grows, each execution reading the
  // whole table. So each statement is prepared again, under a new name,
  // after 64, 512, 4096 and 32768 executions (kReplanAfter): planned again
  // on the tables as they have grown, a handful of times per connection.
  struct Statement {
    bool prepared = false;
    int generation = 0;      // name suffix; kReplanAfter[generation] next
    int64_t executions = 0;  // on this connection, every generation
  };

  PGconn* pg_;
  std::array<Statement, static_cast<int>(Sql::kCount)> statements_{};
  std::vector<bool> name_search_prepared_;  // by number of words
  bool broken_ = false;
  bool conflict_ = false;
  absl::Status failure_;
  std::vector<Deferred> deferred_;
  bool writes_deferred_ = false;
  bool end_pending_ = false;  // SendEnd's answer not taken yet
  absl::Status deferred_failure_;
  bool deferred_write_failed_ = false;
  std::vector<Deferred> ahead_;  // queued by QueueAhead
  struct Answered {
    Deferred query;
    Result result;
  };
  std::vector<Answered> answered_;  // by SendAhead, not yet taken
  Traffic traffic_;
};

}  // namespace socle::storage::pg_internal

#endif  // SOCLE_STORAGE_POSTGRES_PG_CONNECTION_H_
