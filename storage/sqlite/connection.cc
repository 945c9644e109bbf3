#include "storage/sqlite/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace socle::storage::sqlite_internal {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_errstr, not sqlite3_errmsg: a fixed text per code, never SQL.
    std::string reason = sqlite3_errstr(rc);
    sqlite3_close_v2(db);  // harmless on nullptr
    int primary = rc & 0xff;
    auto code = primary == SQLITE_BUSY || primary == SQLITE_IOERR ||
                        primary == SQLITE_NOMEM
                    ? absl::StatusCode::kUnavailable
                    : absl::StatusCode::kFailedPrecondition;
    return absl::Status(
        code, absl::StrCat("cannot open database ", path, ": ", reason));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return std::unique_ptr<Connection>(new Connection(db, path));
}

Connection::~Connection() {
  for (sqlite3_stmt*& s : stmts_) {
    sqlite3_finalize(s);  // harmless on nullptr
    s = nullptr;
  }
  for (sqlite3_stmt*& s : name_search_) {
    sqlite3_finalize(s);
    s = nullptr;
  }
  sqlite3_close_v2(db_);
}

absl::StatusOr<sqlite3_stmt*> Connection::Prepare(const std::string& sql,
                                                  sqlite3_stmt** slot) {
  int rc =
      sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()) + 1,
                         SQLITE_PREPARE_PERSISTENT, slot, nullptr);
  if (rc != SQLITE_OK) {
    *slot = nullptr;
    return Error(rc, {"prepare statement"});
  }
  return *slot;
}

absl::StatusOr<sqlite3_stmt*> Connection::Get(Sql id) {
  sqlite3_stmt*& slot = stmts_[static_cast<int>(id)];
  if (slot != nullptr) return slot;
  return Prepare(SqlText(id), &slot);
}

absl::StatusOr<sqlite3_stmt*> Connection::GetNameSearch(size_t words) {
  if (name_search_.size() <= words) name_search_.resize(words + 1, nullptr);
  sqlite3_stmt*& slot = name_search_[words];
  if (slot != nullptr) return slot;
  return Prepare(NameSearchSql(words), &slot);
}

int Connection::Run(Sql id) {
  absl::StatusOr<sqlite3_stmt*> s = Get(id);
  if (!s.ok()) {
    int rc = sqlite3_extended_errcode(db_);
    return rc == SQLITE_OK ? SQLITE_ERROR : rc;
  }
  Stmt stmt(*s);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return SQLITE_OK;
  NoteFatal(rc);
  return rc;
}

int Connection::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    rc = sqlite3_extended_errcode(db_);
    NoteFatal(rc);
  }
  return rc;
}

bool Connection::IsFatal(int rc) {
  switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
      return true;
    default:
      return false;
  }
}

void Connection::NoteFatal(int rc) {
  if (fatal_code_ == SQLITE_OK && IsFatal(rc)) fatal_code_ = rc;
}

// The result-code table of this backend:
//   UNIQUE / PRIMARYKEY constraint  -> ALREADY_EXISTS (context.unique)
//   FOREIGNKEY constraint           -> FAILED_PRECONDITION
//   (context.foreign_key) other constraints               -> INTERNAL (the
//   schema refused a value) BUSY / LOCKED                   -> UNAVAILABLE
//   (retry later) TOOBIG                          -> INVALID_ARGUMENT CORRUPT /
//   NOTADB                -> INTERNAL, fatal IOERR / FULL / NOMEM / CANTOPEN /
//   PROTOCOL / READONLY -> UNAVAILABLE, fatal anything else -> INTERNAL
// Messages use sqlite3_errstr (fixed text per code), never sqlite3_errmsg,
// which may quote SQL or values.
absl::Status Connection::Error(int rc, const ErrorContext& context) {
  NoteFatal(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE ||
          rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(
            context.unique != nullptr
                ? context.unique
                : absl::StrCat(context.what, ": already exists"));
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return absl::FailedPreconditionError(
            context.foreign_key != nullptr
                ? context.foreign_key
                : absl::StrCat(context.what, ": refers to a missing record"));
      }
      return absl::InternalError(
          absl::StrCat(context.what, ": value refused by the schema"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(context.what, ": database is busy"));
    case SQLITE_TOOBIG:
      return absl::InvalidArgumentError(
          absl::StrCat(context.what, ": value too large"));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::InternalError(
          absl::StrCat(context.what, ": ", sqlite3_errstr(rc)));
    default:
      if (IsFatal(rc)) {
        return absl::UnavailableError(
            absl::StrCat(context.what, ": ", sqlite3_errstr(rc)));
      }
      return absl::InternalError(
          absl::StrCat(context.what, ": ", sqlite3_errstr(rc)));
  }
}

}  // namespace socle::storage::sqlite_internal
