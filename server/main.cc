// socle-server: flags into ServerOptions, then serve until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/grpc/server.h"

ABSL_FLAG(std::string, host, "127.0.0.1",
          "Address to listen on (127.0.0.1 for this machine only, 0.0.0.0 for all).");
ABSL_FLAG(int, port, 50051, "Port to listen on; 0 picks a free one (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound port is written to this file once the server listens.");
ABSL_FLAG(std::string, store, "sqlite:socle.db",
          "Database: sqlite:PATH (one file, created if missing), or "
          "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?PARAM=VALUE...] (PostgreSQL, "
          "shared by several replicas; the schema is created or migrated at start; a server "
          "that stops answering is given up on after about 30 s, libpq's keepalives_* and "
          "tcp_user_timeout parameters tune it). Prefer a ~/.pgpass file or PGPASSWORD to a "
          "password in the URL.");
ABSL_FLAG(std::vector<std::string>, policy, {},
          "Policy file(s), text-format PolicySet (e.g. deploy/policy/default.textproto), "
          "validated and put in force at start; a bad policy stops the server. Without it, "
          "the policy last activated in the database is used.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the server.");
ABSL_FLAG(std::string, client_ca, "",
          "PEM CA certificate that signs client certificates (terminals, ministry "
          "systems, administrators). Clients without one are refused.");
ABSL_FLAG(std::string, crl_dir, "",
          "Directory of certificate revocation lists named by hash (`openssl rehash DIR`), "
          "checked on every TLS handshake: a revoked terminal cannot connect.");
ABSL_FLAG(std::string, principals, "",
          "Principals file (text-format socle.v1.PrincipalsFile, e.g. "
          "deploy/principals.textproto): which certificates may connect, as an office "
          "terminal or with a role. Required; a bad file stops the server.");
ABSL_FLAG(std::string, token_key, "",
          "File holding the key (at least 32 bytes, e.g. `openssl rand -hex 32`) that signs "
          "login tokens; the same file on every replica. Required.");
ABSL_FLAG(absl::Duration, token_ttl, absl::Hours(1),
          "Lifetime of a login token; clerks log in again after it.");
ABSL_FLAG(int, password_iterations, 600000,
          "PBKDF2-HMAC-SHA-256 iterations for new password hashes.");
ABSL_FLAG(std::string, audit_signing_key, "",
          "PEM Ed25519 private key that signs audit checkpoints (socle-admin audit "
          "checkpoint); auditors verify them with its public key. Without it, "
          "checkpoints are refused. Make one with: openssl genpkey -algorithm ed25519.");
ABSL_FLAG(std::string, data_keys, "",
          "File of the data keys that seal personal data at rest (national IDs, facts, "
          "stored requests): one '<key id> <64 hex digits>' a line, the highest id sealing "
          "new values, older ones kept until `socle-admin keys rotate` has run. Mode 0600, "
          "kept outside the database and its backups. Required (with --index_key) unless "
          "--insecure_for_testing.");
ABSL_FLAG(std::string, index_key, "",
          "File of the key of the national ID blind index: one line of 64 hex digits, mode "
          "0600. Never changes for the life of the database.");
ABSL_FLAG(bool, insecure_for_testing, false,
          "Plaintext, no client certificates, loopback only. For tests; never in production.");
ABSL_FLAG(int, worker_threads, 64, "Threads running store work.");
ABSL_FLAG(int, max_queued_calls, 4096,
          "Calls waiting for a worker beyond which callers get RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, commit_delay, socle::storage::kDefaultCommitDelay,
          "SQLite only: when the last group commit held several writes, how long the "
          "writer waits for more to share the next commit's fsync (a lone write never "
          "waits). 0 turns it off; at most 1m.");
ABSL_FLAG(int, max_message_bytes, 4 << 20, "Largest request or response message.");

namespace {

socle::SocleServer* g_server = nullptr;

// The --store value as it may be printed: a PostgreSQL URL loses its user
// information and parameters, which may hold a password.
std::string RedactedStore(const std::string& store) {
  const size_t scheme = store.find("://");
  if (scheme == std::string::npos) return store;
  std::string rest = store.substr(scheme + 3);
  const size_t at = rest.rfind('@', rest.find('/'));
  if (at != std::string::npos) rest = rest.substr(at + 1);
  const size_t query = rest.find('?');
  if (query != std::string::npos) rest = rest.substr(0, query);
  return absl::StrCat(store.substr(0, scheme + 3), rest);
}

void Fail(const std::string& message) {
  std::cerr << "socle-server: " << message << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  // SIGINT/SIGTERM are blocked before any thread starts (threads inherit the
  // mask) and taken by one waiting thread, so that shutdown never runs in a
  // signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (gRPC's
  // included) would maintain a lock-order graph for deadlock detection: 15 to
  // 20 % of the CPU of an empty call (BENCHMARKS.md). It is a debugging aid
  // that only reports; off before any thread starts.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "socle-server: the socle registry service over gRPC with TLS.\n"
      "Usage: socle-server --tls_cert=server.pem --tls_key=server.key "
      "--client_ca=ca.pem --data_keys=data.keys --index_key=index.key "
      "--policy=policy.textproto [--store=sqlite:socle.db] [--port=50051]");
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view path) {
    return absl::StrContains(path, "server/main.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) Fail(absl::StrCat("unexpected argument '", rest[1], "'"));

  socle::ServerOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.store = absl::GetFlag(FLAGS_store);
  options.policy_files = absl::GetFlag(FLAGS_policy);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.client_ca_file = absl::GetFlag(FLAGS_client_ca);
  options.audit_signing_key_file = absl::GetFlag(FLAGS_audit_signing_key);
  options.insecure_for_testing = absl::GetFlag(FLAGS_insecure_for_testing);
  options.crl_dir = absl::GetFlag(FLAGS_crl_dir);
  options.principals_file = absl::GetFlag(FLAGS_principals);
  options.token_key_file = absl::GetFlag(FLAGS_token_key);
  options.token_ttl = absl::GetFlag(FLAGS_token_ttl);
  options.password_iterations = absl::GetFlag(FLAGS_password_iterations);
  options.data_keys_file = absl::GetFlag(FLAGS_data_keys);
  options.index_key_file = absl::GetFlag(FLAGS_index_key);
  // Without key files the library would seal with keys that die with the
  // process: never for a real start.
  if (!options.insecure_for_testing &&
      (options.data_keys_file.empty() || options.index_key_file.empty())) {
    Fail("--data_keys and --index_key are required (deploy/keys.sh makes development keys)");
  }
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.max_queued_calls = absl::GetFlag(FLAGS_max_queued_calls);
  options.commit_delay = absl::GetFlag(FLAGS_commit_delay);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);

  auto server = socle::SocleServer::Start(options);
  if (!server.ok()) Fail(std::string(server.status().message()));
  g_server = server->get();

  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    FILE* f = std::fopen(port_file.c_str(), "w");
    if (f == nullptr) Fail(absl::StrCat("cannot write --port_file ", port_file));
    std::fprintf(f, "%d\n", (*server)->port());
    std::fclose(f);
  }
  std::cout << "socle-server listening on " << options.host << ":" << (*server)->port()
            << (options.insecure_for_testing ? " (INSECURE, testing only)" : " (TLS, client certificates required)")
            << ", store " << RedactedStore(options.store) << std::endl;

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::cout << "socle-server: shutting down" << std::endl;
    g_server->Shutdown();
  });
  (*server)->Wait();
  waiter.join();
  return 0;
}
