#include "storage/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace socle::storage::pg_internal {
namespace {

// PostgreSQL's binary dates and timestamps count from 2000-01-01 (days and
// microseconds); integer timestamps are the only kind since PostgreSQL 10.
constexpr int64_t kPgEpochUnixMicros = 946'684'800'000'000;
const absl::CivilDay kPgEpochDay(2000, 1, 1);
// The earliest timestamp PostgreSQL accepts (4714-11-24 BC), in its own
// microseconds. Every later int64 unix microsecond fits.
constexpr int64_t kPgMinTimestamp = -211'813'488'000'000'000;

void PutBigEndian(char* out, uint64_t v, int size) {
  for (int i = size - 1; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t GetBigEndian(const char* in, int size) {
  uint64_t v = 0;
  for (int i = 0; i < size; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

// The first line of a libpq message (they end with "\n", and some add
// hints on further lines).
std::string FirstLine(const char* message) {
  if (message == nullptr) return "unknown error";
  std::string line(message);
  size_t end = line.find('\n');
  if (end != std::string::npos) line.resize(end);
  return line.empty() ? "unknown error" : line;
}

// PostgreSQL's binary date (days since 2000-01-01), for years 1..9999 only,
// as on SQLite; nullopt for another year.
std::optional<int32_t> PgDate(absl::CivilDay day) {
  if (day.year() < 1 || day.year() > 9999) return std::nullopt;
  return static_cast<int32_t>(day - kPgEpochDay);
}
absl::Status DateOutOfRange(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat(field, " must be in years 1 to 9999"));
}

// PostgreSQL's binary timestamp (microseconds since 2000-01-01), the
// infinities as its own; nullopt before the earliest one it accepts.
std::optional<int64_t> PgTimestamp(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  const int64_t unix_micros = absl::ToUnixMicros(t);
  if (unix_micros < kPgMinTimestamp + kPgEpochUnixMicros) return std::nullopt;
  return unix_micros - kPgEpochUnixMicros;
}
absl::Status TimeOutOfRange(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat(field, " is out of the supported range"));
}

std::string StatementName(const char* prefix, size_t n) {
  return absl::StrCat(prefix, n);
}

}  // namespace

// ---------------------------------------------------------------------------
// Params

bool Params::Add(const char* data, int length) {
  if (n_ >= kMax) {
    if (status_.ok()) status_ = absl::InternalError("too many parameters");
    return false;
  }
  values_[n_] = data;
  lengths_[n_] = length;
  formats_[n_] = 1;
  ++n_;
  return true;
}

void Params::Int8(int64_t v) {
  if (n_ >= kMax) {
    Add(nullptr, 0);
    return;
  }
  PutBigEndian(Slot(), static_cast<uint64_t>(v), 8);
  Add(Slot(), 8);
}

void Params::Int4(int32_t v) {
  if (n_ >= kMax) {
    Add(nullptr, 0);
    return;
  }
  PutBigEndian(Slot(), static_cast<uint32_t>(v), 4);
  Add(Slot(), 4);
}

void Params::Bool(bool v) {
  if (n_ >= kMax) {
    Add(nullptr, 0);
    return;
  }
  Slot()[0] = v ? 1 : 0;
  Add(Slot(), 1);
}

void Params::Text(absl::string_view v) {
  // A null pointer would send NULL: an empty value points at "".
  Add(v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()));
}

void Params::TextOrNull(absl::string_view v) {
  if (v.empty()) {
    Null();
  } else {
    Text(v);
  }
}

void Params::Null() { Add(nullptr, 0); }

void Params::Date(absl::CivilDay day, const char* field) {
  const std::optional<int32_t> days = PgDate(day);
  if (!days) {
    if (status_.ok()) status_ = DateOutOfRange(field);
    Null();
    return;
  }
  Int4(*days);
}

void Params::DateOrNull(const std::optional<absl::CivilDay>& day,
                        const char* field) {
  if (day.has_value()) {
    Date(*day, field);
  } else {
    Null();
  }
}

void Params::DateMinusInfinity() {
  Int4(std::numeric_limits<int32_t>::min());  // DATEVAL_NOBEGIN
}

void Params::Time(absl::Time t, const char* field) {
  const std::optional<int64_t> micros = PgTimestamp(t);
  if (!micros) {
    if (status_.ok()) status_ = TimeOutOfRange(field);
    Null();
    return;
  }
  Int8(*micros);
}

// ---------------------------------------------------------------------------
// BinaryWriter

void BinaryWriter::Fixed(uint64_t v, int size) {
  char buf[8];
  PutBigEndian(buf, v, size);
  data_.append(buf, size);
}

void BinaryWriter::BeginCopy() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // and a NUL
  data_.append(kSignature, sizeof(kSignature));
  Fixed(0, 4);  // flags: no OIDs
  Fixed(0, 4);  // no header extension
}

void BinaryWriter::Row(int16_t fields) { Fixed(static_cast<uint16_t>(fields), 2); }

void BinaryWriter::Finish() { Fixed(0xffff, 2); }  // -1: the trailer

void BinaryWriter::BeginArray(uint32_t element_oid, int32_t count) {
  Fixed(1, 4);            // one dimension
  Fixed(0, 4);            // no NULL element
  Fixed(element_oid, 4);
  Fixed(static_cast<uint32_t>(count), 4);
  Fixed(1, 4);            // lower bound
}

void BinaryWriter::Int8(int64_t v) {
  Fixed(8, 4);
  Fixed(static_cast<uint64_t>(v), 8);
}

void BinaryWriter::Int4(int32_t v) {
  Fixed(4, 4);
  Fixed(static_cast<uint32_t>(v), 4);
}

void BinaryWriter::Bool(bool v) {
  Fixed(1, 4);
  data_.push_back(v ? 1 : 0);
}

void BinaryWriter::Text(absl::string_view v) {
  Fixed(static_cast<uint32_t>(v.size()), 4);
  data_.append(v.data(), v.size());
}

void BinaryWriter::TextOrNull(absl::string_view v) {
  if (v.empty()) {
    Null();
  } else {
    Text(v);
  }
}

void BinaryWriter::Null() { Fixed(0xffffffffu, 4); }  // length -1

void BinaryWriter::Date(absl::CivilDay day, const char* field) {
  const std::optional<int32_t> days = PgDate(day);
  if (!days) {
    if (status_.ok()) status_ = DateOutOfRange(field);
    Null();
    return;
  }
  Int4(*days);
}

void BinaryWriter::DateOrNull(const std::optional<absl::CivilDay>& day, const char* field) {
  if (day.has_value()) {
    Date(*day, field);
  } else {
    Null();
  }
}

void BinaryWriter::Time(absl::Time t, const char* field) {
  const std::optional<int64_t> micros = PgTimestamp(t);
  if (!micros) {
    if (status_.ok()) status_ = TimeOutOfRange(field);
    Null();
    return;
  }
  Int8(*micros);
}

// ---------------------------------------------------------------------------
// Row

const char* Row::Fixed(int col, int size) const {
  if (PQgetisnull(r_, row_, col) || PQgetlength(r_, row_, col) != size) {
    ok_ = false;
    return nullptr;
  }
  return PQgetvalue(r_, row_, col);
}

int64_t Row::Int8(int col) const {
  const char* p = Fixed(col, 8);
  return p == nullptr ? 0 : static_cast<int64_t>(GetBigEndian(p, 8));
}

int32_t Row::Int4(int col) const {
  const char* p = Fixed(col, 4);
  return p == nullptr ? 0
                      : static_cast<int32_t>(
                            static_cast<uint32_t>(GetBigEndian(p, 4)));
}

bool Row::Bool(int col) const {
  const char* p = Fixed(col, 1);
  return p != nullptr && *p != 0;
}

absl::string_view Row::Bytes(int col) const {
  if (PQgetisnull(r_, row_, col)) return absl::string_view();
  return absl::string_view(PQgetvalue(r_, row_, col),
                           static_cast<size_t>(PQgetlength(r_, row_, col)));
}

absl::CivilDay Row::Date(int col) const { return kPgEpochDay + Int4(col); }

absl::Time Row::Time(int col) const {
  const int64_t pg_micros = Int8(col);
  if (pg_micros == std::numeric_limits<int64_t>::min()) {
    return absl::InfinitePast();
  }
  if (pg_micros == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixMicros(pg_micros + kPgEpochUnixMicros);
}

// ---------------------------------------------------------------------------
// Connection

// How soon a vanished peer is noticed (Connection::Open), on both sides.
constexpr char kKeepalivesIdleSeconds[] = "10";
constexpr char kKeepalivesIntervalSeconds[] = "5";
constexpr char kKeepalivesCount[] = "3";
constexpr char kTcpUserTimeoutMs[] = "30000";

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& conninfo, int connect_timeout_s, int lock_timeout_ms) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    // libpq's parse errors name the offending part, never a password value.
    std::string reason = FirstLine(parse_error);
    PQfreemem(parse_error);
    return absl::InvalidArgumentError(
        absl::StrCat("not a PostgreSQL connection string: ", reason));
  }
  PQconninfoFree(parsed);

  // Entries before "dbname" may be overridden by the connection string;
  // the one after it may not: results come back as UTF-8.
  //
  // A server that vanishes without closing the connection (its machine
  // lost, a network partition, a failover that moved its address) is
  // noticed within about half a minute, and the connection replaced by the
  // next call, instead of a call waiting on it until the kernel gives up
  // (some 15 minutes of retransmissions, or never while it only waits for
  // an answer): TCP keepalives probe a quiet connection after 10 s, every
  // 5 s, 3 times; tcp_user_timeout drops one whose sent data goes
  // unacknowledged for 30 s. A query that runs long is not affected: its
  // connection answers the probes.
  const std::string timeout = absl::StrCat(connect_timeout_s);
  const char* keys[] = {"connect_timeout",     "keepalives",
                        "keepalives_idle",     "keepalives_interval",
                        "keepalives_count",    "tcp_user_timeout",
                        "application_name",    "dbname",
                        "client_encoding",     nullptr};
  const char* values[] = {timeout.c_str(),
                          "1",
                          kKeepalivesIdleSeconds,
                          kKeepalivesIntervalSeconds,
                          kKeepalivesCount,
                          kTcpUserTimeoutMs,
                          "socle",
                          conninfo.c_str(),
                          "UTF8",
                          nullptr};
  PGconn* pg = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (pg == nullptr) {
    return absl::UnavailableError("cannot connect to PostgreSQL: out of memory");
  }
  std::unique_ptr<Connection> conn(new Connection(pg));
  // Notices (e.g. "relation already exists, skipping") are not errors; libpq
  // would print them on stderr.
  PQsetNoticeProcessor(pg, [](void*, const char*) {}, nullptr);
  if (PQstatus(pg) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL ", conn->Describe(), ": ",
                     FirstLine(PQerrorMessage(pg))));
  }
  // lock_timeout: a Write waits at most this long for the writers' lock
  // (then UNAVAILABLE). idle_in_transaction_session_timeout: a process that
  // stops in the middle of a transaction (frozen, partitioned) loses its
  // connection instead of holding the writers' lock forever.
  // synchronous_commit: an acknowledged write must be durable, so "off" (the
  // only setting that acknowledges before the WAL is flushed) is raised to
  // "on"; stronger settings (remote_write, remote_apply) are kept.
  //
  // The server's side of the connection gets the same keepalives and
  // timeout, unless its configuration chose its own (source other than
  // 'default'; a Unix socket ignores them): a replica lost while its group
  // holds the writers' lock frees it within about half a minute, not at
  // idle_in_transaction_session_timeout.
  const std::string setup = absl::StrCat(
      "SET lock_timeout = ", lock_timeout_ms,
      "; SET idle_in_transaction_session_timeout = 300000"
      "; SELECT set_config('synchronous_commit', 'on', false)"
      " WHERE current_setting('synchronous_commit') = 'off'"
      "; SELECT set_config(name, value, false) FROM (VALUES"
      " ('tcp_keepalives_idle', '", kKeepalivesIdleSeconds, "'),"
      " ('tcp_keepalives_interval', '", kKeepalivesIntervalSeconds, "'),"
      " ('tcp_keepalives_count', '", kKeepalivesCount, "'),"
      " ('tcp_user_timeout', '", kTcpUserTimeoutMs, "')) AS s (name, value)"
      " JOIN pg_settings USING (name) WHERE source = 'default'");
  absl::Status status = conn->Command(setup.c_str(), {"set up the session"});
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("cannot use PostgreSQL ", conn->Describe(),
                                     ": ", status.message()));
  }
  return conn;
}

std::string Connection::Describe() const {
  const char* db = PQdb(pg_);
  const char* host = PQhost(pg_);
  const char* port = PQport(pg_);
  return absl::StrCat("database ", db != nullptr ? db : "?", " on ",
                      host != nullptr ? host : "?", ":",
                      port != nullptr ? port : "?");
}

absl::Status Connection::Lost(const ErrorContext& context) {
  broken_ = true;
  return absl::UnavailableError(
      absl::StrCat(context.what, ": connection to the database was lost"));
}

absl::Status Connection::Usable(const ErrorContext& context) const {
  if (broken_ || PQstatus(pg_) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat(context.what, ": connection to the database was lost"));
  }
  if (in_failed_transaction()) {
    if (!failure_.ok()) return failure_;
    return absl::InternalError(
        absl::StrCat(context.what, ": the transaction has already failed"));
  }
  return absl::OkStatus();
}

// The error table of this backend (SQLSTATE -> code):
//   23505 unique_violation            -> ALREADY_EXISTS (context.unique)
//   23503 foreign_key_violation       -> FAILED_PRECONDITION
//                                        (context.foreign_key)
//   other 23xxx (not null, check)     -> INTERNAL (the schema refused a value)
//   40001 serialization_failure,
//   40P01 deadlock_detected           -> ABORTED; the Write is run again
//   08xxx, 57P01-03, 25P03, no result -> UNAVAILABLE; the connection is
//                                        dropped
//   55P03 lock_not_available,
//   57014 query_canceled, 53xxx,
//   58xxx (I/O)                       -> UNAVAILABLE (retry later)
//   22021, 22P05 (encoding), 54000,
//   other 22xxx (data exceptions)     -> INVALID_ARGUMENT
//   anything else                     -> INTERNAL, with the SQLSTATE
// Messages never include PQresultErrorMessage, whose text and detail quote
// values ("Key (national_id)=(...) already exists") and may quote SQL.
absl::Status Connection::Error(const PGresult* r, const ErrorContext& context) {
  const char* sqlstate =
      r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (sqlstate == nullptr) {
    if (r == nullptr || PQstatus(pg_) != CONNECTION_OK) return Lost(context);
    return absl::InternalError(
        absl::StrCat(context.what, ": unexpected response from the database"));
  }
  const absl::string_view state(sqlstate);
  const absl::string_view cls = state.substr(0, 2);
  if (state == "23505") {
    return absl::AlreadyExistsError(
        context.unique != nullptr
            ? context.unique
            : absl::StrCat(context.what, ": already exists"));
  }
  if (state == "23503") {
    return absl::FailedPreconditionError(
        context.foreign_key != nullptr
            ? context.foreign_key
            : absl::StrCat(context.what, ": refers to a missing record"));
  }
  if (cls == "23") {
    return absl::InternalError(
        absl::StrCat(context.what, ": value refused by the schema"));
  }
  if (state == "40001" || state == "40P01") {
    conflict_ = true;
    return absl::AbortedError(absl::StrCat(
        context.what, ": conflict with a concurrent transaction"));
  }
  if (cls == "08" || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "25P03" || PQstatus(pg_) != CONNECTION_OK) {
    return Lost(context);
  }
  if (state == "55P03" || state == "57014") {
    return absl::UnavailableError(
        absl::StrCat(context.what, ": database is busy"));
  }
  if (cls == "53" || cls == "58") {
    return absl::UnavailableError(absl::StrCat(
        context.what, ": database is out of resources (SQLSTATE ", state, ")"));
  }
  if (state == "22021" || state == "22P05") {
    return absl::InvalidArgumentError(
        absl::StrCat(context.what, ": text is not valid UTF-8"));
  }
  if (state == "54000") {
    return absl::InvalidArgumentError(
        absl::StrCat(context.what, ": value too large"));
  }
  if (cls == "22") {
    return absl::InvalidArgumentError(absl::StrCat(
        context.what, ": value not accepted (SQLSTATE ", state, ")"));
  }
  return absl::InternalError(
      absl::StrCat(context.what, ": database error (SQLSTATE ", state, ")"));
}

absl::Status Connection::Check(const PGresult* r, const ErrorContext& context) {
  const ExecStatusType st =
      r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  absl::Status status = Error(r, context);
  if (failure_.ok() && !broken_ && in_failed_transaction()) failure_ = status;
  return status;
}

void Connection::Defer(std::vector<const char*> commands,
                       const ErrorContext& context) {
  DropAnswers();
  for (const char* c : commands) {
    Deferred& d = deferred_.emplace_back();
    d.sql = c;
    d.context = context;
  }
}

void Connection::SendEnd(const char* sql) {
  DropAnswers();
  if (broken_ || !deferred_.empty() || end_pending_) {
    broken_ = true;  // a misuse: drop the connection rather than guess
    return;
  }
  // Blocking connection: PQsendQuery has flushed the query when it returns.
  if (PQsendQuery(pg_, sql) != 1) {
    broken_ = true;
    return;
  }
  end_pending_ = true;
}

absl::Status Connection::TakeEnd(const ErrorContext& context) {
  if (!end_pending_) return absl::OkStatus();
  end_pending_ = false;
  absl::Status status;
  while (PGresult* r = PQgetResult(pg_)) {
    Result result(r);
    if (status.ok()) status = Check(r, context);
  }
  if (status.ok() && (PQstatus(pg_) != CONNECTION_OK || in_transaction())) {
    status = Lost(context);
  }
  if (!status.ok()) broken_ = true;
  return status;
}

void Connection::DeferBegin(const char* begin, const ErrorContext& context) {
  Defer({begin}, context);
  deferred_.back().begin = true;
}

bool Connection::in_transaction_or_begin_deferred() const {
  return in_transaction() ||
         std::any_of(deferred_.begin(), deferred_.end(),
                     [](const Deferred& d) { return d.begin; });
}

absl::Status Connection::DeferWrite(Sql id, const Params& params,
                                    const ErrorContext& context) {
  RETURN_IF_ERROR(params.status());
  RETURN_IF_ERROR(Usable(context));
  if (!writes_deferred_ || !in_transaction_or_begin_deferred()) {
    return absl::InternalError(absl::StrCat(
        context.what, ": a write deferred outside the writer's transaction"));
  }
  // Prepared first: preparing sends what is deferred so far.
  ASSIGN_OR_RETURN(const char* name, Prepared(id));
  DropAnswers();
  deferred_.push_back(Copy(name, params, context));
  deferred_.back().write = true;
  return absl::OkStatus();
}

bool Connection::IsLookup(Sql id) {
  static const auto* const kLookups = [] {
    auto* lookups = new std::array<bool, static_cast<int>(Sql::kCount)>;
    for (int i = 0; i < static_cast<int>(Sql::kCount); ++i) {
      (*lookups)[i] = absl::StartsWith(SqlText(static_cast<Sql>(i)), "SELECT ");
    }
    return lookups;
  }();
  return (*kLookups)[static_cast<int>(id)];
}

Connection::Deferred Connection::Copy(const char* name, const Params& params,
                                      const ErrorContext& context) {
  Deferred d;
  d.sql = name;
  d.prepared = true;
  d.context = context;
  d.values.reserve(params.size());
  d.nulls.reserve(params.size());
  for (int i = 0; i < params.size(); ++i) {
    const char* v = params.values()[i];
    d.nulls.push_back(v == nullptr);
    d.values.emplace_back(v == nullptr ? "" : std::string(v, params.lengths()[i]));
  }
  return d;
}

bool Connection::Same(const Deferred& d, Sql id, const Params& params) {
  if (d.statement != id || d.values.size() != static_cast<size_t>(params.size())) {
    return false;
  }
  for (int i = 0; i < params.size(); ++i) {
    const char* v = params.values()[i];
    if (d.nulls[i] != (v == nullptr)) return false;
    if (v != nullptr && d.values[i] != absl::string_view(v, params.lengths()[i])) {
      return false;
    }
  }
  return true;
}

absl::Status Connection::QueueAhead(Sql id, const Params& params,
                                    const ErrorContext& context) {
  RETURN_IF_ERROR(params.status());
  // Outside a transaction, another session's commit could land between
  // the read and the moment it is asked for.
  if (!in_transaction_or_begin_deferred()) return absl::OkStatus();
  RETURN_IF_ERROR(Usable(context));
  ASSIGN_OR_RETURN(const char* name, Prepared(id));
  ahead_.push_back(Copy(name, params, context));
  ahead_.back().statement = id;
  return absl::OkStatus();
}

std::optional<Result> Connection::TakeAnswered(Sql id, const Params& params) {
  for (auto it = answered_.begin(); it != answered_.end(); ++it) {
    if (Same(it->query, id, params)) {
      Result r = std::move(it->result);
      answered_.erase(it);
      ++traffic_.answered_ahead;
      return r;
    }
  }
  return std::nullopt;
}

absl::Status Connection::SendAhead() {
  if (ahead_.empty()) return absl::OkStatus();
  std::vector<Deferred> ahead = std::move(ahead_);
  ahead_.clear();
  auto send = [&] {
    bool sent = true;
    for (const Deferred& d : ahead) sent = sent && Send(d);
    return sent;
  };
  ASSIGN_OR_RETURN(std::vector<Result> results,
                   SendDeferredThen(send, ahead.size(), ahead.front().context));
  const size_t first = results.size() - ahead.size();
  for (size_t i = 0; i < ahead.size(); ++i) {
    RETURN_IF_ERROR(Check(results[first + i].get(), ahead[i].context));
  }
  answered_.reserve(ahead.size());
  for (size_t i = 0; i < ahead.size(); ++i) {
    answered_.push_back({std::move(ahead[i]), std::move(results[first + i])});
  }
  return absl::OkStatus();
}

bool Connection::SendCommand(const char* sql) {
  return PQsendQueryParams(pg_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
}

bool Connection::Send(const Deferred& d) {
  if (!d.prepared) return SendCommand(d.sql);
  std::array<const char*, Params::kMax> values{};
  std::array<int, Params::kMax> lengths{};
  std::array<int, Params::kMax> formats{};
  const size_t n = std::min<size_t>(d.values.size(), Params::kMax);
  for (size_t i = 0; i < n; ++i) {
    values[i] = d.nulls[i] ? nullptr : d.values[i].data();
    lengths[i] = static_cast<int>(d.values[i].size());
    formats[i] = 1;
  }
  return PQsendQueryPrepared(pg_, d.sql, static_cast<int>(n), values.data(),
                             lengths.data(), formats.data(),
                             /*resultFormat=*/1) == 1;
}

absl::StatusOr<std::vector<Result>> Connection::SendDeferredThen(
    absl::FunctionRef<bool()> extra, size_t extra_queries,
    const ErrorContext& context) {
  const std::vector<Deferred> deferred = std::move(deferred_);
  deferred_.clear();
  // A failure to send is a lost connection, named as the first query sent.
  const ErrorContext& first = deferred.empty() ? context : deferred.front().context;
  auto lost = [&] {
    absl::Status status = Lost(first);
    if (!deferred.empty() && deferred_failure_.ok()) {
      deferred_failure_ = status;
      deferred_write_failed_ =
          std::any_of(deferred.begin(), deferred.end(),
                      [](const Deferred& d) { return d.write; });
    }
    return status;
  };
  if (broken_) return lost();
  if (PQenterPipelineMode(pg_) != 1) return lost();
  bool sent = true;
  for (const Deferred& d : deferred) sent = sent && Send(d);
  sent = sent && extra();
  sent = sent && PQpipelineSync(pg_) == 1;
  if (!sent) return lost();
  ++traffic_.round_trips;

  // Each query yields one result then a null; the sync point yields
  // PGRES_PIPELINE_SYNC. After a failed query, the later ones yield
  // PGRES_PIPELINE_ABORTED.
  const size_t queries = deferred.size() + extra_queries;
  std::vector<Result> results;
  results.reserve(queries);
  size_t nulls = 0;
  for (;;) {
    PGresult* r = PQgetResult(pg_);
    if (r == nullptr) {
      if (PQstatus(pg_) != CONNECTION_OK || ++nulls > queries) return lost();
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    results.emplace_back(r);
  }
  if (PQexitPipelineMode(pg_) != 1) {
    while (PGresult* r = PQgetResult(pg_)) PQclear(r);
    if (PQexitPipelineMode(pg_) != 1) return lost();
  }
  if (results.size() != queries) return lost();

  for (size_t at = 0; at < deferred.size(); ++at) {
    const ExecStatusType st = PQresultStatus(results[at].get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      // As if they had been sent alone: what follows did not run.
      absl::Status status = Check(results[at].get(), deferred[at].context);
      if (deferred_failure_.ok()) {
        deferred_failure_ = status;
        deferred_write_failed_ = deferred[at].write;
      }
      return status;
    }
  }
  return results;
}

absl::Status Connection::FlushDeferred() {
  if (deferred_.empty()) return absl::OkStatus();
  const bool writes = std::any_of(deferred_.begin(), deferred_.end(),
                                  [](const Deferred& d) { return d.write; });
  if (writes) {
    const ErrorContext context = deferred_.front().context;
    return SendDeferredThen([] { return true; }, 0, context).status();
  }
  // Commands only: one simple query holds them all.
  std::string sql;
  for (const Deferred& d : deferred_) {
    absl::StrAppend(&sql, sql.empty() ? "" : "; ", d.sql);
  }
  const ErrorContext context = deferred_.front().context;
  deferred_.clear();
  absl::Status status = broken_ ? Lost(context) : absl::OkStatus();
  if (status.ok()) {
    ++traffic_.round_trips;
    Result r(PQexec(pg_, sql.c_str()));
    status = Check(r.get(), context);
  }
  if (!status.ok() && deferred_failure_.ok()) deferred_failure_ = status;
  return status;
}

absl::StatusOr<Result> Connection::CommandsAfterDeferred(
    const std::vector<const char*>& commands, const ErrorContext& context) {
  if (commands.empty()) {
    return absl::InternalError(absl::StrCat(context.what, ": no command"));
  }
  auto send = [&] {
    bool sent = true;
    for (const char* c : commands) sent = sent && SendCommand(c);
    return sent;
  };
  ASSIGN_OR_RETURN(std::vector<Result> results,
                   SendDeferredThen(send, commands.size(), context));
  const size_t first = results.size() - commands.size();
  for (size_t at = first; at < results.size(); ++at) {
    RETURN_IF_ERROR(Check(results[at].get(), context));
  }
  return std::move(results.back());
}

bool Connection::LooksAlive() const {
  if (broken_ || PQstatus(pg_) != CONNECTION_OK || in_transaction()) return false;
  pollfd socket{};
  socket.fd = PQsocket(pg_);
  socket.events = POLLIN;
  return socket.fd >= 0 && poll(&socket, 1, 0) == 0;
}

absl::Status Connection::Command(const char* sql, const ErrorContext& context) {
  RETURN_IF_ERROR(FlushDeferred());
  if (broken_) return Lost(context);
  DropAnswers();
  ++traffic_.round_trips;
  Result r(PQexec(pg_, sql));
  return Check(r.get(), context);
}

absl::StatusOr<Result> Connection::Query(const char* sql,
                                         const ErrorContext& context) {
  RETURN_IF_ERROR(FlushDeferred());
  if (broken_) return Lost(context);
  DropAnswers();
  ++traffic_.round_trips;
  Result r(PQexec(pg_, sql));
  RETURN_IF_ERROR(Check(r.get(), context));
  return r;
}

absl::StatusOr<const char*> Connection::Prepare(const std::string& name,
                                                const std::string& sql) {
  // Statements are prepared outside of the pipeline, and may be prepared
  // inside a transaction: a failure there would abort it, so it is treated
  // like any failed statement. Deferred commands run first, as they would
  // have had they been sent at once.
  RETURN_IF_ERROR(FlushDeferred());
  ++traffic_.round_trips;
  Result r(PQprepare(pg_, name.c_str(), sql.c_str(), 0, nullptr));
  RETURN_IF_ERROR(Check(r.get(), {"prepare statement"}));
  return name.c_str();
}

absl::StatusOr<const char*> Connection::Prepared(Sql id) {
  // Executions after which a generation is prepared again (Statement); the
  // last one is kept.
  static constexpr std::array<int64_t, 5> kReplanAfter = {
      64, 512, 4096, 32768, std::numeric_limits<int64_t>::max()};
  // "s<id>" for the first generation, "s<id>g<generation>" for the next.
  static const auto* const kNames = [] {
    auto* names = new std::array<std::array<std::string, kReplanAfter.size()>,
                                 static_cast<int>(Sql::kCount)>;
    for (size_t i = 0; i < names->size(); ++i) {
      for (size_t g = 0; g < kReplanAfter.size(); ++g) {
        (*names)[i][g] = g == 0 ? StatementName("s", i)
                                : absl::StrCat(StatementName("s", i), "g", g);
      }
    }
    return names;
  }();
  const int i = static_cast<int>(id);
  Statement& s = statements_[i];
  if (s.prepared && s.executions >= kReplanAfter[s.generation]) {
    // The previous generation stays prepared (a few per statement at most).
    s.prepared = false;
    ++s.generation;
  }
  const std::string& name = (*kNames)[i][s.generation];
  if (!s.prepared) {
    RETURN_IF_ERROR(Prepare(name, SqlText(id)).status());
    s.prepared = true;
  }
  ++s.executions;
  return name.c_str();
}

absl::StatusOr<const char*> Connection::PreparedNameSearch(size_t words) {
  // Names live as long as the program; one per number of words in use.
  static const std::array<std::string, 64> kNames = [] {
    std::array<std::string, 64> names;
    for (size_t i = 0; i < names.size(); ++i) {
      names[i] = StatementName("n", i);
    }
    return names;
  }();
  if (words >= kNames.size()) {
    return absl::InvalidArgumentError("too many words in a name search");
  }
  if (name_search_prepared_.size() <= words) {
    name_search_prepared_.resize(words + 1, false);
  }
  if (name_search_prepared_[words]) return kNames[words].c_str();
  ASSIGN_OR_RETURN(const char* name,
                   Prepare(kNames[words], NameSearchSql(words)));
  name_search_prepared_[words] = true;
  return name;
}

absl::StatusOr<Result> Connection::Run(const char* name, const Params& params,
                                       const ErrorContext& context) {
  if (!deferred_.empty()) {
    return RunPipelined(name, params, context, /*guarded=*/false);
  }
  ++traffic_.round_trips;
  Result r(PQexecPrepared(pg_, name, params.size(), params.values(),
                          params.lengths(), params.formats(),
                          /*resultFormat=*/1));
  RETURN_IF_ERROR(Check(r.get(), context));
  return r;
}

absl::StatusOr<Result> Connection::Exec(Sql id, const Params& params,
                                        const ErrorContext& context) {
  RETURN_IF_ERROR(params.status());
  RETURN_IF_ERROR(Usable(context));
  if (std::optional<Result> answered = TakeAnswered(id, params)) {
    return *std::move(answered);
  }
  if (!IsLookup(id)) DropAnswers();
  ASSIGN_OR_RETURN(const char* name, Prepared(id));
  return Run(name, params, context);
}

absl::StatusOr<Result> Connection::ExecNameSearch(size_t words,
                                                  const Params& params,
                                                  const ErrorContext& context) {
  RETURN_IF_ERROR(params.status());
  RETURN_IF_ERROR(Usable(context));
  ASSIGN_OR_RETURN(const char* name, PreparedNameSearch(words));
  return Run(name, params, context);
}

absl::Status Connection::CopyIn(const char* copy_sql, const BinaryWriter& rows,
                                const ErrorContext& context) {
  RETURN_IF_ERROR(rows.status());
  RETURN_IF_ERROR(FlushDeferred());
  RETURN_IF_ERROR(Usable(context));
  DropAnswers();
  traffic_.round_trips += 2;  // the COPY's start, then its rows and result
  Result started(PQexec(pg_, copy_sql));
  if (started == nullptr) return Error(nullptr, context);
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) return Check(started.get(), context);
  // Blocking connection: PQputCopyData sends (or buffers) everything.
  const std::string& data = rows.data();
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; sent && at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(pg_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (!sent || PQputCopyEnd(pg_, nullptr) != 1) return Lost(context);
  // The COPY's result, then the null that ends the command.
  Result done(PQgetResult(pg_));
  absl::Status status = Check(done.get(), context);
  while (PGresult* extra = PQgetResult(pg_)) PQclear(extra);
  // The transaction's state is known only now (Check saw the result before
  // it): the COPY's error is what failed the transaction.
  if (!status.ok() && failure_.ok() && !broken_ && in_failed_transaction()) {
    failure_ = status;
  }
  return status;
}

absl::StatusOr<Result> Connection::ExecGuarded(Sql id, const Params& params,
                                               const ErrorContext& context) {
  RETURN_IF_ERROR(params.status());
  RETURN_IF_ERROR(Usable(context));
  if (!in_transaction_or_begin_deferred()) return Exec(id, params, context);
  DropAnswers();
  ASSIGN_OR_RETURN(const char* name, Prepared(id));
  return RunPipelined(name, params, context, /*guarded=*/true);
}

absl::StatusOr<Result> Connection::RunPipelined(const char* name,
                                                const Params& params,
                                                const ErrorContext& context,
                                                bool guarded) {
  auto send = [&] {
    bool sent = true;
    if (guarded) sent = sent && SendCommand("SAVEPOINT socle_stmt");
    sent = sent && PQsendQueryPrepared(pg_, name, params.size(), params.values(),
                                       params.lengths(), params.formats(),
                                       /*resultFormat=*/1) == 1;
    if (guarded) sent = sent && SendCommand("RELEASE SAVEPOINT socle_stmt");
    return sent;
  };
  const size_t own = guarded ? 3 : 1;
  ASSIGN_OR_RETURN(std::vector<Result> results,
                   SendDeferredThen(send, own, context));
  const size_t at = results.size() - own;
  if (!guarded) {
    RETURN_IF_ERROR(Check(results[at].get(), context));
    return std::move(results[at]);
  }
  const ExecStatusType savepoint = PQresultStatus(results[at].get());
  if (savepoint != PGRES_COMMAND_OK) {
    return Check(results[at].get(), context);
  }
  const ExecStatusType statement = PQresultStatus(results[at + 1].get());
  if (statement == PGRES_COMMAND_OK || statement == PGRES_TUPLES_OK) {
    RETURN_IF_ERROR(Check(results[at + 2].get(), context));  // the RELEASE
    return std::move(results[at + 1]);
  }
  absl::Status status = Error(results[at + 1].get(), context);
  if (broken_) return status;
  // Back to the state before the statement; a failure of this (only a lost
  // connection in practice) leaves the transaction failed.
  absl::Status undo = Command(
      "ROLLBACK TO SAVEPOINT socle_stmt; RELEASE SAVEPOINT socle_stmt",
      context);
  if (!undo.ok() && failure_.ok() && !broken_) failure_ = status;
  return status;
}

}  // namespace socle::storage::pg_internal
