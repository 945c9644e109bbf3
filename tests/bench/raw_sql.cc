#include "tests/bench/raw_sql.h"

#include <sqlite3.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "storage/sqlite/sqlite_store.h"

namespace socle::bench {
namespace {

// As storage/sqlite/sqlite_txn.cc (kInsertPerson, BindPerson) and
// sqlite_store.cc (kWriterPragmas, kCheckpointFrames) have them.
constexpr char kInsertPerson[] =
    "INSERT INTO persons (version, national_id, given_name, family_name, sex, "
    "date_of_birth, date_of_death, province, district, commune, village, "
    "street, phone, office_code, name_key, district_key, facts, "
    "duplicate_override_reason, registered_at, updated_at) VALUES (?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21)";
constexpr char kPragmas[] =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
    "PRAGMA cache_size = -65536; PRAGMA journal_size_limit = 67108864; "
    "PRAGMA wal_autocheckpoint = 4096;";

std::string DateText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

class Db {
 public:
  ~Db() {
    if (insert_ != nullptr) sqlite3_finalize(insert_);
    if (db_ != nullptr) sqlite3_close(db_);
  }
  absl::Status Open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      return Error("open");
    }
    if (sqlite3_exec(db_, kPragmas, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("pragmas");
    }
    if (sqlite3_prepare_v3(db_, kInsertPerson, -1, SQLITE_PREPARE_PERSISTENT, &insert_,
                           nullptr) != SQLITE_OK) {
      return Error("prepare the INSERT of SqliteTxn::InsertPerson");
    }
    return absl::OkStatus();
  }
  absl::Status Exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? absl::OkStatus()
                                                                          : Error(sql);
  }
  absl::Status Insert(const storage::PersonRecord& p, const std::string& birth) {
    sqlite3_stmt* s = insert_;
    sqlite3_bind_int64(s, 2, p.version);
    if (p.national_id.empty()) {
      sqlite3_bind_null(s, 3);
    } else {
      Text(3, p.national_id);
    }
    Text(4, p.given_name);
    Text(5, p.family_name);
    sqlite3_bind_int64(s, 6, p.sex);
    Text(7, birth);
    sqlite3_bind_null(s, 8);
    Text(9, p.province);
    Text(10, p.district);
    Text(11, p.commune);
    Text(12, p.village);
    Text(13, p.street);
    Text(14, p.phone);
    Text(15, p.office_code);
    Text(16, p.name_key);
    Text(17, p.district_key);
    sqlite3_bind_blob(s, 18, p.facts.data(), static_cast<int>(p.facts.size()), SQLITE_STATIC);
    Text(19, p.duplicate_override_reason);
    sqlite3_bind_int64(s, 20, absl::ToUnixMicros(p.registered_at));
    sqlite3_bind_int64(s, 21, absl::ToUnixMicros(p.updated_at));
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error("INSERT INTO persons");
  }

 private:
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(insert_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  absl::Status Error(absl::string_view what) {
    return absl::InternalError(absl::StrCat("raw SQL ceiling: ", what, ": ",
                                            db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace

absl::StatusOr<LoadStats> RawInsertPersons(
    const std::string& path, int64_t n, int batch,
    const std::function<storage::PersonRecord(int64_t)>& make) {
  {
    storage::SqliteOptions options;
    options.path = path;
    ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::OpenSqliteStore(options));
  }
  Db db;
  RETURN_IF_ERROR(db.Open(path));
  LoadStats stats;
  Progress progress("raw SQL INSERT");
  std::vector<storage::PersonRecord> records;
  std::vector<std::string> births;
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t last = std::min(n, first + batch);
    records.clear();
    births.clear();
    for (int64_t k = first; k < last; ++k) {
      records.push_back(make(k));
      births.push_back(DateText(records.back().date_of_birth));
    }
    const absl::Time begin = absl::Now();
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    for (size_t i = 0; i < records.size(); ++i) {
      RETURN_IF_ERROR(db.Insert(records[i], births[i]));
    }
    RETURN_IF_ERROR(db.Exec("COMMIT"));
    const absl::Duration took = absl::Now() - begin;
    stats.seconds += absl::ToDoubleSeconds(took);
    stats.latencies_us.push_back(static_cast<uint32_t>(absl::ToInt64Microseconds(took)));
    ++stats.ok;
    progress.Update(absl::StrCat(last, " / ", n, " rows"));
  }
  return stats;
}

}  // namespace socle::bench
