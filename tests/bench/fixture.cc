#include "tests/bench/fixture.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/connection.h"
#include "client/stub.h"
#include "common/status_macros.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/grpc/server.h"

namespace socle::bench {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<TlsFiles> MakeCertificates(const std::string& dir) {
  const std::string command =
      absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/certs.sh '", dir, "' KH-SR-03 > /dev/null");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return TlsFiles{dir};
}

std::string TlsFiles::principals() const {
  return absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/principals.textproto");
}

namespace {

// The token of the supervisor "bench" of KH-SR-03, logged in at the
// terminal certificate (the user is created first if missing).
absl::StatusOr<std::string> LogInBenchUser(const TlsFiles& tls, int port) {
  constexpr char kPassword[] = "bench password, long enough";
  client::ConnectionOptions o;
  o.endpoint = absl::StrCat("localhost:", port);
  o.ca_file = tls.ca();
  o.cert_file = tls.dir + "/admin.pem";
  o.key_file = tls.dir + "/admin.key";
  ASSIGN_OR_RETURN(std::shared_ptr<client::Connection> admin, client::MakeConnection(o));
  v1::User user;
  user.set_user_name("bench");
  user.set_role(v1::ROLE_SUPERVISOR);
  user.set_office_code("KH-SR-03");
  absl::StatusOr<v1::User> added = client::Client(admin).AddUser(user, kPassword);
  if (!added.ok() && !absl::IsAlreadyExists(added.status())) return added.status();
  o.cert_file = tls.client_cert();
  o.key_file = tls.client_key();
  ASSIGN_OR_RETURN(std::shared_ptr<client::Connection> terminal, client::MakeConnection(o));
  ASSIGN_OR_RETURN(v1::LoginResponse login, client::Client(terminal).Login("bench", kPassword));
  return login.token();
}

}  // namespace

absl::StatusOr<std::vector<client::Client>> ConnectClients(const TlsFiles& tls, int port,
                                                           int n, absl::Duration timeout,
                                                           const std::string& identity) {
  grpc::SslCredentialsOptions ssl;
  ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(tls.ca()));
  // "bare": the terminal's certificate, without login (the bare server).
  const std::string certificate = identity == "bare" ? "terminal" : identity;
  ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(absl::StrCat(tls.dir, "/", certificate, ".pem")));
  ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(absl::StrCat(tls.dir, "/", certificate, ".key")));
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  client::ConnectionOptions options;
  options.endpoint = absl::StrCat("localhost:", port);
  options.timeout = timeout;
  options.max_attempts = 1;
  if (identity == "terminal") {
    ASSIGN_OR_RETURN(options.token, LogInBenchUser(tls, port));
  }
  std::vector<client::Client> clients;
  clients.reserve(n);
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    // As client/connection.cc does: the client library's retry loop only.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    // One TCP connection per channel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(options.endpoint, credentials, args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(20))) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", options.endpoint, " over TLS"));
    }
    clients.emplace_back(
        client::MakeConnection(client::MakeGrpcRegistryStub(std::move(channel)), options));
  }
  return clients;
}

class BareGrpcServer::EmptyHealth final
    : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

BareGrpcServer::BareGrpcServer() : service_(std::make_unique<EmptyHealth>()) {}

BareGrpcServer::~BareGrpcServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

absl::StatusOr<std::unique_ptr<BareGrpcServer>> BareGrpcServer::Start(const TlsFiles& tls) {
  // The settings of SocleServer::Start (server/grpc/server.cc) with its
  // default options.
  const ServerOptions defaults;
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(tls.ca()));
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.private_key, ReadFile(tls.server_key()));
  ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(tls.server_cert()));
  ssl.pem_key_cert_pairs.push_back(pair);

  std::unique_ptr<BareGrpcServer> bare(new BareGrpcServer);
  // Our Health service replaces the default one; socle's Start turns the
  // default back on for itself.
  grpc::EnableDefaultHealthCheckService(false);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &bare->port_);
  builder.RegisterService(bare->service_.get());
  builder.SetMaxReceiveMessageSize(defaults.max_message_bytes);
  builder.SetMaxSendMessageSize(defaults.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, defaults.max_metadata_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, defaults.max_concurrent_streams);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(defaults.max_connection_idle)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  bare->server_ = builder.BuildAndStart();
  if (bare->server_ == nullptr || bare->port_ == 0) {
    return absl::UnavailableError("bare gRPC server: cannot listen on 127.0.0.1");
  }
  return bare;
}

Memory ReadMemory(int pid) {
  Memory m;
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    double* target = nullptr;
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) target = &m.rss_mib;
    if (absl::ConsumePrefix(&rest, "VmHWM:")) target = &m.peak_mib;
    if (target == nullptr) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    double kb = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(rest), &kb)) *target = kb / 1024;
  }
  return m;
}

}  // namespace socle::bench
