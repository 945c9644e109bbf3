// The scale-out Store: PostgreSQL through libpq, shared by any number of
// socle-server replicas.
//
// Writes: one writer thread per store commits pending Write calls in groups
// (one transaction per group, a savepoint per call), as the SQLite backend
// does. Every group first takes the writers' lock, so groups of all replicas
// run one after the other (pg_store.cc argues why). A serialization failure
// or deadlock runs the whole group again, a bounded number of times; a lost
// connection fails the group's calls with UNAVAILABLE and is replaced for the
// next group. An acknowledged write is durable as synchronous_commit
// defines it (never "off": the store raises it to "on").
//
// Reads run on a pool of other connections, each in a REPEATABLE READ READ
// ONLY transaction: a consistent snapshot that never waits for writers.
#ifndef SOCLE_STORAGE_POSTGRES_PG_STORE_H_
#define SOCLE_STORAGE_POSTGRES_PG_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace socle::storage {

struct PgOptions {
  // A libpq connection string: a URL
  // (postgresql://user:password@host:port/dbname?sslmode=require) or
  // key=value pairs. Never echoed in messages.
  std::string conninfo;
  // Read connections in the pool; the writer has one more of its own.
  int pool_size = 8;
  // Most Write calls committed by one transaction (group commit).
  int max_batch = 256;
  // Runs of a group (the first included) before its calls get ABORTED after
  // serialization failures or deadlocks.
  int max_attempts = 8;
  // How long a group waits for the writers' lock, held by another replica's
  // group, before its calls fail with UNAVAILABLE.
  int lock_timeout_ms = 30000;
  // How long opening a connection may take (libpq's connect_timeout; the
  // connection string may override it).
  int connect_timeout_s = 10;
  // Seal and open the personal data at rest (storage/keys.h). Null:
  // KeyRing::ProcessTestKeys(), for tests only (socle-server always passes
  // the keys of its key files). Every replica must hold the same keys.
  std::shared_ptr<const KeyRing> keys = nullptr;
};

// Connects, checks the connection string and migrates the database (under
// an advisory lock: replicas may start at once). Errors: INVALID_ARGUMENT
// for bad options or a malformed connection string; UNAVAILABLE when the
// server cannot be reached or refuses the login; FAILED_PRECONDITION when
// the schema is newer than this program; INTERNAL otherwise. Messages name
// the server and database, never the password nor SQL.
absl::StatusOr<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options);

// Counters of a store made by OpenPgStore, for monitoring and tests.
struct PgStoreStats {
  int64_t writes = 0;      // Write fn runs (any outcome; a rerun counts again)
  int64_t commits = 0;     // group transactions committed
  int64_t retries = 0;     // groups run again after a conflict
  // Groups run again, writes sent at once, after a deferred write failed
  // (an audit entry or stored answer that the logic did not expect to
  // fail).
  int64_t undeferred_reruns = 0;
  int64_t reconnects = 0;  // connections replaced after a loss
  // Round trips the writer made to the server, and lookups it had answered
  // ahead (ReadTxn::Prefetch) instead of making one for each.
  int64_t writer_round_trips = 0;
  int64_t answered_ahead = 0;
  // Round trips of the read connections, BEGIN to ROLLBACK (a read's BEGIN
  // travels with its first statement when the connection looks alive).
  int64_t reader_round_trips = 0;
  int64_t queued = 0;      // Write calls waiting for the writer right now
};

// The counters of `store`; all zero when `store` was not made by
// OpenPgStore.
PgStoreStats GetPgStats(const Store& store);

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_POSTGRES_PG_STORE_H_
