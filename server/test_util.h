// Test helpers for the server logic: a registry on a fresh SQLite store in a
// temporary directory, with a fake clock.
#ifndef SOCLE_SERVER_TEST_UTIL_H_
#define SOCLE_SERVER_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"

namespace socle::testing {

// A directory removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(base ? base : "/tmp", "/socle-test-XXXXXX");
    path_ = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<storage::Store> OpenTestStore(const TempDir& dir) {
  storage::SqliteOptions options;
  options.path = dir.path() + "/socle.db";
  auto store = storage::OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// 2026-11-25 10:00 UTC, the day these tests were written.
inline absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 0, 0), absl::UTCTimeZone());
}

}  // namespace socle::testing

#endif  // SOCLE_SERVER_TEST_UTIL_H_
