#include "server/grpc/server.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/access/access.h"
#include "server/audit_trail.h"
#include "server/eligibility.h"
#include "server/grpc/access_service.h"
#include "server/grpc/audit_service.h"
#include "server/grpc/dispatch.h"
#include "server/grpc/eligibility_service.h"
#include "server/grpc/keys_service.h"
#include "server/grpc/payments_service.h"
#include "server/grpc/registry_service.h"
#include "server/grpc/worker_pool.h"
#include "server/keys.h"
#include "server/payments.h"
#include "server/registry.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace socle {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view flag) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read --", flag, " file ", path,
                                            ": ", std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " file ", path, " is empty"));
  }
  return buffer.str();
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" ||
         host == "[::1]" || absl::StartsWith(host, "127.");
}

}  // namespace

struct SocleServer::Parts {
  Parts(storage::Store* store, const Clock* clock, const ServerOptions& options,
        std::unique_ptr<AccessControl> access_control, const AuditSigner* audit_signer,
        uint32_t current_key_id)
      : access(std::move(access_control)),
        pool(options.worker_threads, options.max_queued_calls),
        dispatcher(&pool, access.get()),
        registry(store, clock),
        eligibility(store, clock, &policy),
        payments(store, clock, &policy),
        audit_trail(store, clock, audit_signer),
        key_rotation(store, clock, current_key_id),
        registry_service(&registry, &dispatcher),
        eligibility_service(&eligibility, &dispatcher),
        policy_admin_service(&eligibility, &dispatcher),
        payments_service(&payments, &dispatcher, &pool),
        access_service(access.get(), &dispatcher),
        user_admin_service(access.get(), &dispatcher),
        audit_service(&audit_trail, &dispatcher),
        keys_admin_service(&key_rotation, &dispatcher) {
    registry.AddLifeEventHook(eligibility.DeathHook());
  }
  std::unique_ptr<AccessControl> access;
  WorkerPool pool;
  Dispatcher dispatcher;
  PolicyHolder policy;
  Registry registry;
  Eligibility eligibility;
  Payments payments;
  AuditTrail audit_trail;
  KeyRotation key_rotation;
  RegistryService registry_service;
  EligibilityService eligibility_service;
  PolicyAdminService policy_admin_service;
  PaymentsService payments_service;
  AccessService access_service;
  UserAdminService user_admin_service;
  AuditAdminService audit_service;
  KeysAdminService keys_admin_service;
};

absl::StatusOr<std::shared_ptr<const storage::KeyRing>> LoadKeys(
    const std::string& data_keys_file, const std::string& index_key_file) {
  if (data_keys_file.empty() && index_key_file.empty()) {
    return storage::KeyRing::ProcessTestKeys();
  }
  if (data_keys_file.empty() || index_key_file.empty()) {
    return absl::InvalidArgumentError("--data_keys and --index_key go together");
  }
  return storage::KeyRing::Load(data_keys_file, index_key_file);
}

absl::StatusOr<std::unique_ptr<storage::Store>> OpenStore(
    const std::string& spec, std::shared_ptr<const storage::KeyRing> keys,
    absl::Duration commit_delay) {
  if (absl::StartsWith(spec, "sqlite:")) {
    storage::SqliteOptions options;
    options.path = spec.substr(7);
    if (options.path.empty()) {
      return absl::InvalidArgumentError("--store=sqlite:PATH needs a path");
    }
    if (commit_delay < absl::ZeroDuration() || commit_delay > storage::kMaxCommitDelay) {
      return absl::InvalidArgumentError("--commit_delay must be from 0 to 1m");
    }
    options.keys = keys;
    options.commit_delay = commit_delay;
    return storage::OpenSqliteStore(options);
  }
  if (absl::StartsWith(spec, "postgresql://") || absl::StartsWith(spec, "postgres://")) {
    // Shared by every replica; the URL may carry libpq parameters
    // (?sslmode=verify-full&connect_timeout=5...). Never echoed: it may hold a password.
    storage::PgOptions options;
    options.conninfo = spec;
    options.keys = keys;
    return storage::OpenPgStore(options);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--store must be sqlite:PATH or postgresql://...; got '", spec, "'"));
}

absl::StatusOr<std::unique_ptr<SocleServer>> SocleServer::Start(
    const ServerOptions& options, const Clock* clock) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("--port must be between 0 and 65535");
  }
  if (options.worker_threads < 1 || options.max_queued_calls < 1) {
    return absl::InvalidArgumentError("--worker_threads and --max_queued_calls must be positive");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options.insecure_for_testing) {
    if (!IsLoopback(options.host)) {
      return absl::InvalidArgumentError(
          "--insecure_for_testing listens on loopback only; --host must be 127.0.0.1 or ::1");
    }
    credentials = grpc::InsecureServerCredentials();
  } else {
    ASSIGN_OR_RETURN(std::string cert, ReadFile(options.tls_cert_file, "tls_cert"));
    ASSIGN_OR_RETURN(std::string key, ReadFile(options.tls_key_file, "tls_key"));
    ASSIGN_OR_RETURN(std::string ca, ReadFile(options.client_ca_file, "client_ca"));
    if (options.crl_dir.empty()) {
      grpc::SslServerCredentialsOptions ssl(
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      ssl.pem_root_certs = ca;
      ssl.pem_key_cert_pairs.push_back({key, cert});
      credentials = grpc::SslServerCredentials(ssl);
    } else {
      // The same verification, plus the revocation lists of crl_dir on
      // every handshake: a revoked certificate never reaches the HTTP/2 layer.
      std::error_code ignored;
      if (!std::filesystem::is_directory(options.crl_dir, ignored)) {
        return absl::NotFoundError(absl::StrCat(
            "--crl_dir ", options.crl_dir, " is not a directory of CRL files"));
      }
      auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          ca, std::vector<grpc::experimental::IdentityKeyCertPair>{{key, cert}});
      grpc::experimental::TlsServerCredentialsOptions tls(provider);
      tls.watch_root_certs();
      tls.watch_identity_key_cert_pairs();
      tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      tls.set_crl_directory(options.crl_dir);
      credentials = grpc::experimental::TlsServerCredentials(tls);
    }
  }

  std::unique_ptr<SocleServer> server(new SocleServer);
  if (!options.audit_signing_key_file.empty()) {
    ASSIGN_OR_RETURN(std::string pem,
                     ReadFile(options.audit_signing_key_file, "audit_signing_key"));
    absl::StatusOr<std::unique_ptr<AuditSigner>> signer = AuditSigner::FromPrivateKeyPem(pem);
    if (!signer.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--audit_signing_key file ",
                                                     options.audit_signing_key_file, ": ",
                                                     signer.status().message()));
    }
    server->audit_signer_ = *std::move(signer);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const storage::KeyRing> keys,
                   LoadKeys(options.data_keys_file, options.index_key_file));
  ASSIGN_OR_RETURN(server->store_, OpenStore(options.store, keys, options.commit_delay));
  AccessOptions access;
  access.principals_file = options.principals_file;
  access.token_key_file = options.token_key_file;
  access.token_ttl = options.token_ttl;
  access.password_iterations = options.password_iterations;
  access.max_failed_logins = options.max_failed_logins;
  access.failed_login_window = options.failed_login_window;
  access.insecure_for_testing = options.insecure_for_testing;
  ASSIGN_OR_RETURN(std::unique_ptr<AccessControl> access_control,
                   AccessControl::Create(access, server->store_.get(), clock));
  server->parts_ = std::make_unique<Parts>(server->store_.get(), clock, options,
                                           std::move(access_control),
                                           server->audit_signer_.get(),
                                           keys->current_key_id());
  RETURN_IF_ERROR(server->parts_->eligibility.LoadAtStart(options.policy_files));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string host = options.host.find(':') != std::string::npos &&
                                   options.host.front() != '['
                               ? absl::StrCat("[", options.host, "]")
                               : options.host;
  builder.AddListeningPort(absl::StrCat(host, ":", options.port), credentials,
                           &server->port_);
  builder.RegisterService(&server->parts_->registry_service);
  builder.RegisterService(&server->parts_->eligibility_service);
  builder.RegisterService(&server->parts_->policy_admin_service);
  builder.RegisterService(&server->parts_->payments_service);
  builder.RegisterService(&server->parts_->access_service);
  builder.RegisterService(&server->parts_->user_admin_service);
  builder.RegisterService(&server->parts_->audit_service);
  builder.RegisterService(&server->parts_->keys_admin_service);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, options.max_metadata_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_idle)));
  // Keepalive enforcement: clients may ping at most every 10 s, and only with
  // calls in flight; abusive pingers are disconnected.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", host, ":", options.port,
        " (address in use or not available)"));
  }
  return server;
}

SocleServer::~SocleServer() {
  // Shutdown waits for every call's reactor to finish; then the services,
  // the pool (which drains its queue) and last the store go.
  Shutdown(absl::Seconds(1));
  server_.reset();
  parts_.reset();
  store_.reset();
  audit_signer_.reset();
}

void SocleServer::Wait() {
  if (server_) server_->Wait();
}

void SocleServer::Shutdown(absl::Duration grace) {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(grace));
  }
}

}  // namespace socle
