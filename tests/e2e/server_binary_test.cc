// socle-server as an operator runs it: flags, startup errors, signals.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/test_util.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

using ::testing::HasSubstr;

class ServerBinaryTest : public ::testing::Test {
 protected:
  ServerBinaryTest() {
    certs_ = dir_.path() + "/certs";
    EXPECT_EQ(std::system(absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/certs.sh ", certs_,
                                       " > /dev/null").c_str()),
              0);
  }

  // TLS and the keys of data at rest (deploy/certs.sh makes both).
  std::string TlsFlags() const { return TlsOnlyFlags() + KeyFlags(); }
  std::string TlsOnlyFlags() const {
    return absl::StrCat(" --tls_cert=", certs_, "/server.pem --tls_key=", certs_,
                        "/server.key --client_ca=", certs_, "/ca.pem --principals=",
                        SOCLE_SOURCE_DIR, "/deploy/principals.textproto --token_key=", certs_,
                        "/token.key");
  }
  std::string KeyFlags() const {
    return absl::StrCat(" --data_keys=", certs_, "/data.keys --index_key=", certs_,
                        "/index.key");
  }

  // Runs the server expecting it to refuse to start.
  testing::ProcessResult Refused(const std::string& flags) {
    return testing::RunShell(absl::StrCat("timeout 20 ", SOCLE_SERVER_BIN, " ", flags),
                             dir_.path());
  }

  static int Lines(const std::string& s) {
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }

  testing::TempDir dir_;
  std::string certs_;
};

TEST_F(ServerBinaryTest, BadStartsAreOneClearLineAndNonZero) {
  const std::string store = absl::StrCat(" --store=sqlite:", dir_.path(), "/s.db");
  struct Case {
    std::string flags;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {"--no_such_flag", "no_such_flag"},
      {"--port=70000" + store + TlsFlags(), "--port"},
      {"--tls_cert=/nonexistent/server.pem --tls_key=x --client_ca=y" + store + KeyFlags(),
       "/nonexistent/server.pem"},
      {store + KeyFlags(), "--tls_cert"},
      {store + TlsOnlyFlags(), "--data_keys"},
      {store + TlsOnlyFlags() + " --data_keys=" + certs_ + "/data.keys", "--index_key"},
      {store + TlsOnlyFlags() + " --data_keys=" + certs_ + "/server.pem --index_key=" +
           certs_ + "/index.key",
       "server.pem"},
      {"--insecure_for_testing --host=0.0.0.0" + store, "loopback"},
      {"--store=sqlite:/nonexistent-dir/socle.db" + TlsFlags(), "/nonexistent-dir/socle.db"},
      {"--store=mysql://x" + TlsFlags(), "--store"},
      {store + TlsFlags(), "--policy"},
      {store + TlsFlags() + " --policy=" + dir_.path() + "/bad.textproto", "bad.textproto:2"},
      {store + TlsFlags() + " --policy=/nonexistent/policy.textproto",
       "/nonexistent/policy.textproto"},
      {store + TlsFlags() + " --principals= --policy=" + dir_.path() + "/bad.textproto",
       "--principals"},
      {store + TlsFlags() + " --principals=" + dir_.path() + "/bad-principals.textproto",
       "bad-principals.textproto:2"},
      {store + TlsFlags() + " --token_key=", "--token_key"},
      {store + TlsFlags() + " --token_key=" + dir_.path() + "/short.key", "32 bytes"},
      {store + TlsFlags() + " --crl_dir=/nonexistent/crl", "/nonexistent/crl"},
      {store + TlsFlags() + " --policy=" + SOCLE_SOURCE_DIR +
           "/deploy/policy/default.textproto --commit_delay=-1ms",
       "--commit_delay"},
  };
  std::ofstream(dir_.path() + "/bad-principals.textproto")
      << "principals { certificate: \"a\" role: ROLE_ADMIN }\n"
         "principals { certificate: \"b\" role: ROLE_CLERK }\n";
  std::ofstream(dir_.path() + "/short.key") << "abc\n";
  std::ofstream(dir_.path() + "/bad.textproto") << "versions {\n  nonsense: 1\n}\n";
  for (const Case& c : cases) {
    testing::ProcessResult r = Refused(c.flags);
    EXPECT_NE(r.exit_code, 0) << c.flags;
    EXPECT_NE(r.exit_code, 124) << "did not exit: " << c.flags;
    EXPECT_THAT(r.err, HasSubstr(c.mentions)) << c.flags;
    EXPECT_EQ(Lines(r.err), 1) << c.flags << "\n" << r.err;
  }
}

TEST_F(ServerBinaryTest, ServesOnAPickedPortAndStopsOnSigterm) {
  const std::string port_file = dir_.path() + "/port";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string store = absl::StrCat("--store=sqlite:", dir_.path(), "/s.db");
    const std::string pf = absl::StrCat("--port_file=", port_file);
    const std::string cert = absl::StrCat("--tls_cert=", certs_, "/server.pem");
    const std::string key = absl::StrCat("--tls_key=", certs_, "/server.key");
    const std::string ca = absl::StrCat("--client_ca=", certs_, "/ca.pem");
    const std::string data_keys = absl::StrCat("--data_keys=", certs_, "/data.keys");
    const std::string index_key = absl::StrCat("--index_key=", certs_, "/index.key");
    const std::string policy =
        absl::StrCat("--policy=", SOCLE_SOURCE_DIR, "/deploy/policy/default.textproto");
    const std::string principals =
        absl::StrCat("--principals=", SOCLE_SOURCE_DIR, "/deploy/principals.textproto");
    const std::string token_key = absl::StrCat("--token_key=", certs_, "/token.key");
    const std::string crl = absl::StrCat("--crl_dir=", certs_, "/crl");
    freopen("/dev/null", "w", stdout);
    execl(SOCLE_SERVER_BIN, SOCLE_SERVER_BIN, "--port=0", pf.c_str(), store.c_str(),
          cert.c_str(), key.c_str(), ca.c_str(), data_keys.c_str(), index_key.c_str(),
          policy.c_str(), principals.c_str(), token_key.c_str(), crl.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::string text = testing::ReadWholeFile(port_file);
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port)) port = 0;
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(port, 0) << "server did not write its port";

  client::ConnectionOptions options;
  options.endpoint = absl::StrCat("localhost:", port);
  options.ca_file = certs_ + "/ca.pem";
  options.cert_file = certs_ + "/terminal.pem";
  options.key_file = certs_ + "/terminal.key";
  auto connection = client::MakeConnection(options);
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto health = client::Client(*connection).Check();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, grpc::health::v1::HealthCheckResponse::SERVING);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace socle
