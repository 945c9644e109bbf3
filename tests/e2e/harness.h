// A real socle-server over TLS on a loopback port 0, with certificates made
// by deploy/certs.sh in a temporary directory, shared by a test suite.
#ifndef SOCLE_TESTS_E2E_HARNESS_H_
#define SOCLE_TESTS_E2E_HARNESS_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/connection.h"
#include "gtest/gtest.h"
#include "server/grpc/server.h"
#include "server/test_util.h"

namespace socle::testing {

class ServerHarness {
 public:
  // On `store` (a --store value), or a new SQLite file when empty.
  explicit ServerHarness(const std::string& store = "") {
    cert_dir_ = dir_.path() + "/certs";
    const std::string command = absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/certs.sh ",
                                             cert_dir_, " KH-SR-03 > /dev/null");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    ServerOptions options;
    options.port = 0;
    options.store = store.empty() ? absl::StrCat("sqlite:", dir_.path(), "/socle.db") : store;
    options.tls_cert_file = cert("server.pem");
    options.tls_key_file = cert("server.key");
    options.client_ca_file = cert("ca.pem");
    options.audit_signing_key_file = cert("audit-signing.key");
    options.data_keys_file = cert("data.keys");
    options.index_key_file = cert("index.key");
    options.policy_files = {absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/policy/default.textproto")};
    auto server = SocleServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = *std::move(server);
  }

  std::string cert(absl::string_view name) const {
    return absl::StrCat(cert_dir_, "/", name);
  }
  const std::string& cert_dir() const { return cert_dir_; }
  // The server's SQLite database file.
  std::string db_path() const { return absl::StrCat(dir_.path(), "/socle.db"); }
  int port() const { return server_ ? server_->port() : 0; }
  std::string endpoint() const { return absl::StrCat("localhost:", port()); }
  SocleServer& server() { return *server_; }

  // Options for a client presenting `identity`.pem ("terminal", "ministry",
  // "admin", "rogue"), or no certificate when empty.
  client::ConnectionOptions Options(absl::string_view identity) const {
    client::ConnectionOptions o;
    o.endpoint = endpoint();
    o.ca_file = cert("ca.pem");
    if (!identity.empty()) {
      o.cert_file = cert(absl::StrCat(identity, ".pem"));
      o.key_file = cert(absl::StrCat(identity, ".key"));
    }
    o.timeout = absl::Seconds(10);
    o.max_attempts = 2;
    o.initial_backoff = absl::Milliseconds(50);
    return o;
  }

  client::Client Client(absl::string_view identity = "terminal") const {
    auto connection = client::MakeConnection(Options(identity));
    EXPECT_TRUE(connection.ok()) << connection.status();
    return client::Client(*connection);
  }

 private:
  TempDir dir_;
  std::string cert_dir_;
  std::unique_ptr<SocleServer> server_;
};

}  // namespace socle::testing

#endif  // SOCLE_TESTS_E2E_HARNESS_H_
