// What the scenarios share: certificates made by deploy/certs.sh, client
// connections that each open their own TCP connection, and the bare gRPC
// server that gives the empty-RPC ceiling.
#ifndef SOCLE_TESTS_BENCH_FIXTURE_H_
#define SOCLE_TESTS_BENCH_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"

namespace socle::bench {

// PEM files in one directory, as deploy/certs.sh writes them.
struct TlsFiles {
  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string server_cert() const { return dir + "/server.pem"; }
  std::string server_key() const { return dir + "/server.key"; }
  // An office terminal's identity (office KH-SR-03).
  std::string client_cert() const { return dir + "/terminal.pem"; }
  std::string client_key() const { return dir + "/terminal.key"; }
  // Access control: the development principals file and the token key.
  std::string principals() const;
  std::string token_key() const { return dir + "/token.key"; }
};

// Runs SOCLE_SOURCE_DIR/deploy/certs.sh into `dir`.
absl::StatusOr<TlsFiles> MakeCertificates(const std::string& dir);

// `n` clients of the server on localhost:`port`, each over its own channel
// and its own TCP connection (channels with equal arguments would otherwise
// share one connection through gRPC's global subchannel pool), presenting
// the terminal's certificate. Calls are made once: no retry hides an error.
// Each channel is connected before this returns. `timeout`: the deadline
// of each call (a payroll over millions of rows takes minutes).
//
// `identity` names the certificate: "terminal" acts as the supervisor
// "bench" of office KH-SR-03 (created through the admin certificate and
// logged in, so each call carries a login token, as a clerk's would);
// "ministry" or "admin" act as that system, without login; "bare" presents
// the terminal's certificate without login (for the bare gRPC server).
absl::StatusOr<std::vector<client::Client>> ConnectClients(
    const TlsFiles& tls, int port, int n, absl::Duration timeout = absl::Seconds(60),
    const std::string& identity = "terminal");

// A minimal gRPC server with the same TLS settings (client certificate
// required and verified) and channel limits as socle-server, and one method:
// grpc.health.v1.Health/Check as a callback handler that answers SERVING at
// once. Calling it through the same client library as socle gives the
// empty-RPC ceiling.
class BareGrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<BareGrpcServer>> Start(const TlsFiles& tls);
  ~BareGrpcServer();
  int port() const { return port_; }

 private:
  class EmptyHealth;
  BareGrpcServer();
  std::unique_ptr<EmptyHealth> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// VmRSS and VmHWM of a process from /proc/PID/status, in MiB; -1 when
// unreadable. `pid` 0: this process.
struct Memory {
  double rss_mib = -1;
  double peak_mib = -1;
};
Memory ReadMemory(int pid);

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_FIXTURE_H_
