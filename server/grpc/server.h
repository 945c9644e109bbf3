// socle-server assembled: store, logic, gRPC services, TLS, limits.
#ifndef SOCLE_SERVER_GRPC_SERVER_H_
#define SOCLE_SERVER_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"
#include "common/clock.h"
#include "storage/keys.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace socle {

struct ServerOptions {
  // Address to listen on; with insecure_for_testing only loopback is allowed.
  std::string host = "127.0.0.1";
  // 0 picks a free port (see SocleServer::port()).
  int port = 50051;
  // "sqlite:PATH" (the default, one file) or "postgresql://..." (not yet).
  std::string store = "sqlite:socle.db";
  // Policy files (text-format PolicySet) put in force at start; empty: the
  // latest activation stored in the database.
  std::vector<std::string> policy_files;
  // PEM files: the server's certificate chain and key, and the CA that signs
  // client certificates. Required unless insecure_for_testing.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  // PEM file of the Ed25519 private key that signs audit checkpoints
  // (GetAuditCheckpoint); empty: checkpoints are refused. Auditors hold
  // the public key.
  std::string audit_signing_key_file;
  // The key files that seal personal data at rest (storage/keys.h): data
  // keys, one "<id> <64 hex>" a line, the highest id sealing new values; and
  // the blind-index key. Both or neither: with neither, keys drawn at random
  // for this process are used (tests only: what they seal is unreadable
  // after the process ends; socle-server's main() requires both files).
  std::string data_keys_file;
  std::string index_key_file;
  // Plaintext without client certificates, on loopback only. Tests only.
  bool insecure_for_testing = false;
  // A directory of CRL files named by hash (`openssl rehash DIR`), enforced
  // on every TLS handshake; empty: no revocation list.
  std::string crl_dir;
  // Access control (server/access): the principals file, the token key
  // file, token lifetime, PBKDF2 iterations for new password hashes, and
  // the failed-login limit. Principals and token key are required unless
  // insecure_for_testing.
  std::string principals_file;
  std::string token_key_file;
  absl::Duration token_ttl = absl::Hours(1);
  int password_iterations = 600000;
  int max_failed_logins = 5;
  absl::Duration failed_login_window = absl::Minutes(15);
  // Threads that run store work; writes wait on group commit here, so more
  // threads let more requests share one fsync.
  int worker_threads = 64;
  // Calls queued beyond the running ones; more get RESOURCE_EXHAUSTED.
  int max_queued_calls = 4096;
  // SQLite's group commit delay (storage::SqliteOptions::commit_delay).
  // PostgreSQL's writer takes no delay: its groups are bound by round trips.
  absl::Duration commit_delay = storage::kDefaultCommitDelay;
  int max_message_bytes = 4 << 20;
  int max_metadata_bytes = 16 << 10;
  int max_concurrent_streams = 128;
  // Connections idle this long are closed.
  absl::Duration max_connection_idle = absl::Minutes(10);
};

class SocleServer {
 public:
  // Opens the store, starts listening. Errors are one line for an operator:
  // INVALID_ARGUMENT for bad options, NOT_FOUND/UNAVAILABLE for unreadable
  // files or databases.
  static absl::StatusOr<std::unique_ptr<SocleServer>> Start(
      const ServerOptions& options, const Clock* clock = RealClock::Get());
  ~SocleServer();

  // The port actually bound.
  int port() const { return port_; }
  storage::Store& store() { return *store_; }
  // Blocks until Shutdown() is called from another thread.
  void Wait();
  // Stops accepting calls, finishes those in flight (up to `grace`).
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  struct Parts;
  SocleServer() = default;

  std::unique_ptr<AuditSigner> audit_signer_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Parts> parts_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Opens the store named by a --store value, sealing personal data with
// `keys` (null: storage::KeyRing::ProcessTestKeys(), for tests).
absl::StatusOr<std::unique_ptr<storage::Store>> OpenStore(
    const std::string& spec, std::shared_ptr<const storage::KeyRing> keys = nullptr,
    absl::Duration commit_delay = storage::kDefaultCommitDelay);
// The key ring of ServerOptions' key files (see there).
absl::StatusOr<std::shared_ptr<const storage::KeyRing>> LoadKeys(
    const std::string& data_keys_file, const std::string& index_key_file);

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_SERVER_H_
