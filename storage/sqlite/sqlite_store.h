// The embedded Store: one SQLite file in WAL mode with synchronous=FULL, so
// that an acknowledged write survives power loss.
//
// Writes go to a single writer thread that commits pending Write calls in
// groups (one transaction and one fsync per group, a savepoint per call).
// If a commit or any I/O fails, the writer stops for good: that group's calls
// and every later Write return UNAVAILABLE (restart the process to recover;
// the idempotency keys make clients' retries safe). Reads run on a pool of
// separate connections and never wait for the writer.
#ifndef SOCLE_STORAGE_SQLITE_SQLITE_STORE_H_
#define SOCLE_STORAGE_SQLITE_SQLITE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace socle::storage {

// SqliteOptions::commit_delay unless set: a few fsyncs of a disk like
// the bench machine's, well under what a clerk notices.
inline constexpr absl::Duration kDefaultCommitDelay = absl::Milliseconds(1);
// The longest SqliteOptions::commit_delay accepted.
inline constexpr absl::Duration kMaxCommitDelay = absl::Minutes(1);
// Queued calls that end the commit delay's wait at once: enough for a group
// to share its fsync several ways, few enough to gather within the delay
// under load.
inline constexpr size_t kCommitGroupTarget = 8;

struct SqliteOptions {
  std::string path;            // database file; created if missing
  int reader_connections = 4;  // read connections in the pool
  int max_batch = 256;         // most requests committed by one group commit
  // Group commit delay. When the last group committed more than one call,
  // calls are arriving together: the writer then waits up to this long for
  // kCommitGroupTarget to queue before it begins the next group, so that
  // more calls share each fsync. A call that arrives after a group of one is never
  // delayed. Zero turns it off; negative is INVALID_ARGUMENT.
  absl::Duration commit_delay = kDefaultCommitDelay;
  // How long a connection waits for a lock held by another process (an
  // administrator's tool, a backup) before the call fails with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Seal and open the personal data at rest (storage/keys.h). Null:
  // KeyRing::ProcessTestKeys(), for tests only (socle-server always passes
  // the keys of its key files).
  std::shared_ptr<const KeyRing> keys = nullptr;
};

// Opens (creating if needed) and migrates the database. Errors:
// INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when the file cannot
// be opened or used (missing directory, not a database, schema newer than
// this program); UNAVAILABLE when it is busy or an I/O error occurs; INTERNAL
// otherwise. Messages are one line naming the path, never SQL (e.g.
// "cannot open database /x/y.db: unable to open database file").
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options);

// Counters of a store made by OpenSqliteStore, for monitoring and tests.
struct SqliteStoreStats {
  int64_t writes = 0;       // Write calls whose fn ran (any outcome)
  int64_t commits = 0;      // group commits that succeeded (one fsync each)
  int64_t checkpoints = 0;  // WAL checkpoints (by the checkpointer thread, or the writer)
  int64_t queued = 0;       // Write calls waiting for the writer right now
  bool stopped = false;     // the writer stopped after an I/O error
};

// The counters of `store`; all zero when `store` was not made by
// OpenSqliteStore.
SqliteStoreStats GetSqliteStats(const Store& store);

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_SQLITE_SQLITE_STORE_H_
