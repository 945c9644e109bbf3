// A real socle-server over TLS on a loopback port 0, with certificates made
// by deploy/certs.sh in a temporary directory, shared by a test suite. The
// server runs with deploy/principals.textproto; the harness creates three
// users and logs them in:
//   "supervisor" (supervisor) and "clerk" (clerk) at office KH-SR-03, on the
//   terminal certificate; "bb-clerk" (clerk) at office KH-BB-01, on the
//   other-terminal certificate.
#ifndef SOCLE_TESTS_E2E_HARNESS_H_
#define SOCLE_TESTS_E2E_HARNESS_H_

#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/connection.h"
#include "gtest/gtest.h"
#include "server/grpc/server.h"
#include "server/test_util.h"
#include "tests/e2e/process.h"

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
    // deploy/principals.textproto, plus terminals of any other office named
    // by their certificate (see TerminalOf).
    options.principals_file = dir_.path() + "/principals.textproto";
    {
      std::ofstream out(options.principals_file);
      out << ReadWholeFile(
                 absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/principals.textproto"))
          << "\nprincipals { certificate: \"terminal:*\" "
             "terminal_office_from_certificate: true }\n";
    }
    options.token_key_file = cert("token.key");
    options.password_iterations = 1000;  // fast tests; production uses 600,000
    options.crl_dir = cert("crl");
    auto server = SocleServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = *std::move(server);
    if (server_) {
      supervisor_token_ = AddAndLogIn("supervisor", v1::ROLE_SUPERVISOR, "KH-SR-03", "terminal");
      clerk_token_ = AddAndLogIn("clerk", v1::ROLE_CLERK, "KH-SR-03", "terminal");
      bb_clerk_token_ = AddAndLogIn("bb-clerk", v1::ROLE_CLERK, "KH-BB-01", "other-terminal");
      token_file_ = dir_.path() + "/token";
      FILE* f = std::fopen(token_file_.c_str(), "w");
      if (f != nullptr) {
        std::fprintf(f, "%s\n", supervisor_token_.c_str());
        std::fclose(f);
      }
    }
  }

  static constexpr char kPassword[] = "correct horse battery";

  std::string cert(absl::string_view name) const {
    return absl::StrCat(cert_dir_, "/", name);
  }
  const std::string& cert_dir() const { return cert_dir_; }
  // The server's SQLite database file.
  std::string db_path() const { return absl::StrCat(dir_.path(), "/socle.db"); }
  int port() const { return server_ ? server_->port() : 0; }
  std::string endpoint() const { return absl::StrCat("localhost:", port()); }
  SocleServer& server() { return *server_; }

  // A supervisor logged in at a terminal of `office` (certificate
  // "terminal:OFFICE:T01", made on first use with the test CA), for tests
  // that keep their records in an office of their own.
  client::Client OfficeClient(const std::string& office) {
    std::lock_guard<std::mutex> lock(offices_mu_);
    auto it = office_tokens_.find(office);
    if (it == office_tokens_.end()) {
      const std::string stem = absl::StrCat("office-", office);
      const std::string command = absl::StrCat(
          "cd ", cert_dir_, " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ",
          stem, ".key 2>/dev/null && openssl req -new -key ", stem,
          ".key -subj /CN=terminal:", office, ":T01 2>/dev/null | openssl x509 -req -CA ca.pem -CAkey ca.key "
          "-CAcreateserial -days 30 -sha256 -extfile <(printf 'extendedKeyUsage=clientAuth\\n') -out ",
          stem, ".pem 2>/dev/null");
      EXPECT_EQ(std::system(absl::StrCat("bash -c \"", command, "\"").c_str()), 0) << command;
      std::string user = absl::StrCat("sup-", office);
      for (char& c : user) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      it = office_tokens_.emplace(office, AddAndLogIn(user, v1::ROLE_SUPERVISOR, office, stem)).first;
    }
    return ClientWith(Raw(absl::StrCat("office-", office), it->second));
  }
  // A file holding that supervisor's token, for the socle command
  // (SOCLE_TOKEN_FILE, with SOCLE_CERT=cert("office-OFFICE.pem")).
  std::string OfficeTokenFile(const std::string& office) {
    OfficeClient(office);
    const std::string path = absl::StrCat(dir_.path(), "/token-", office);
    std::lock_guard<std::mutex> lock(offices_mu_);
    std::ofstream(path) << office_tokens_[office] << "\n";
    return path;
  }

  // Options for a client acting as `identity`:
  //   "terminal" or "supervisor": the terminal certificate, the supervisor's token;
  //   "clerk": the terminal certificate, the clerk's token;
  //   "other-office": the other-terminal certificate, bb-clerk's token;
  //   "terminal-nologin": the terminal certificate, no token;
  //   otherwise `identity`.pem with no token ("ministry", "statistics",
  //   "auditor", "admin", "terminal2", "rogue", "revoked", "unlisted"), or
  //   no certificate at all when empty.
  client::ConnectionOptions Options(absl::string_view identity) const {
    if (identity == "terminal" || identity == "supervisor") {
      return Raw("terminal", supervisor_token_);
    }
    if (identity == "clerk") return Raw("terminal", clerk_token_);
    if (identity == "other-office") return Raw("other-terminal", bb_clerk_token_);
    if (identity == "terminal-nologin") return Raw("terminal", "");
    return Raw(identity, "");
  }

  // Options with `certificate`.pem (none when empty) and `token`.
  client::ConnectionOptions Raw(absl::string_view certificate, absl::string_view token) const {
    client::ConnectionOptions o;
    o.endpoint = endpoint();
    o.ca_file = cert("ca.pem");
    if (!certificate.empty()) {
      o.cert_file = cert(absl::StrCat(certificate, ".pem"));
      o.key_file = cert(absl::StrCat(certificate, ".key"));
    }
    o.token = std::string(token);
    o.timeout = absl::Seconds(10);
    o.max_attempts = 2;
    o.initial_backoff = absl::Milliseconds(50);
    return o;
  }

  const std::string& supervisor_token() const { return supervisor_token_; }
  const std::string& clerk_token() const { return clerk_token_; }
  // A file holding the supervisor's token, for the socle command
  // (SOCLE_TOKEN_FILE).
  const std::string& token_file() const { return token_file_; }

  client::Client Client(absl::string_view identity = "terminal") const {
    return ClientWith(Options(identity));
  }
  client::Client ClientWith(const client::ConnectionOptions& options) const {
    auto connection = client::MakeConnection(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return client::Client(*connection);
  }

 private:
  // Adds a user through the admin workstation and logs them in at
  // `terminal`; returns the token.
  std::string AddAndLogIn(const std::string& name, v1::Role role, const std::string& office,
                          absl::string_view terminal) {
    v1::User user;
    user.set_user_name(name);
    user.set_role(role);
    user.set_office_code(office);
    auto added = ClientWith(Raw("admin", "")).AddUser(user, kPassword);
    EXPECT_TRUE(added.ok()) << added.status();
    auto login = ClientWith(Raw(terminal, "")).Login(name, kPassword);
    EXPECT_TRUE(login.ok()) << login.status();
    return login.ok() ? login->token() : "";
  }

  TempDir dir_;
  std::string cert_dir_;
  std::unique_ptr<SocleServer> server_;
  std::string supervisor_token_, clerk_token_, bb_clerk_token_;
  std::string token_file_;
  std::mutex offices_mu_;
  std::map<std::string, std::string> office_tokens_;  // office -> token
};

}  // namespace socle::testing

#endif  // SOCLE_TESTS_E2E_HARNESS_H_
