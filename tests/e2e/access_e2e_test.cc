// Who may do what, end to end over real TLS: every method of every served
// service, enumerated from the service descriptors, called as every kind of
// caller (each role, a terminal without login, expired, tampered and
// foreign tokens, unlisted, revoked and foreign certificates, none), through
// the generic gRPC stub so that no adapter can skip the check.
#include <future>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/access/roles.h"
#include "server/access/tokens.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/process.h"

namespace socle {
namespace {

const char* const kServiceFiles[] = {
    "socle/v1/registry.proto",
    "socle/v1/eligibility.proto",
    "socle/v1/payments.proto",
    "socle/v1/access.proto",
    "socle/v1/audit.proto",
    "socle/v1/keys.proto",
};

struct Method {
  std::string full_name;  // socle.v1.Registry.GetPerson
  std::string path;       // /socle.v1.Registry/GetPerson
};

std::vector<Method> ServedMethods() {
  std::vector<Method> out;
  for (const char* name : kServiceFiles) {
    const auto* file = google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        out.push_back({service->method(m)->full_name(),
                       absl::StrCat("/", service->full_name(), "/", service->method(m)->name())});
      }
    }
  }
  return out;
}

// What a caller should get.
enum class Expect {
  kByRole,         // allowed exactly when the role table says so
  kLoginOnly,      // a terminal without a valid user: Login only
  kUnauthenticated,
  kNoConnection,   // refused in the TLS handshake
};

struct Identity {
  std::string name;
  std::string certificate;  // file stem in the harness's certificate directory; "" none
  std::string token;
  Role role = Role::kNone;
  Expect expect = Expect::kByRole;
};

class AccessE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new testing::ServerHarness; }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }

  static std::shared_ptr<grpc::Channel> Channel(const std::string& certificate) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = testing::ReadWholeFile(harness_->cert("ca.pem"));
    if (!certificate.empty()) {
      ssl.pem_cert_chain = testing::ReadWholeFile(harness_->cert(certificate + ".pem"));
      ssl.pem_private_key = testing::ReadWholeFile(harness_->cert(certificate + ".key"));
    }
    return grpc::CreateChannel(harness_->endpoint(), grpc::SslCredentials(ssl));
  }

  // One call with an empty request; returns the status code.
  static grpc::StatusCode Call(grpc::GenericStub& stub, const Method& method,
                               const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method.path, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status status) { done.set_value(std::move(status)); });
    return done.get_future().get().error_code();
  }

  static std::string ExpiredToken() {
    auto signer = TokenSigner::FromFile(harness_->cert("token.key"));
    TokenClaims c;
    c.user = "clerk";
    c.role = Role::kClerk;
    c.office_code = "KH-SR-03";
    c.terminal = "terminal:KH-SR-03:T01";
    c.issued_at = absl::Now() - absl::Hours(2);
    c.expires_at = absl::Now() - absl::Hours(1);
    return *signer->Issue(c);
  }

  static testing::ServerHarness* harness_;
};

testing::ServerHarness* AccessE2eTest::harness_ = nullptr;

TEST_F(AccessE2eTest, EveryMethodAgainstEveryKindOfCaller) {
  const std::vector<Method> methods = ServedMethods();
  ASSERT_GT(methods.size(), 30u);
  std::string tampered = harness_->clerk_token();
  tampered[tampered.size() / 3] = tampered[tampered.size() / 3] == 'A' ? 'B' : 'A';
  const std::vector<Identity> identities = {
      {"clerk", "terminal", harness_->clerk_token(), Role::kClerk},
      {"supervisor", "terminal", harness_->supervisor_token(), Role::kSupervisor},
      {"ministry", "ministry", "", Role::kMinistry},
      {"statistics", "statistics", "", Role::kStatistics},
      {"auditor", "auditor", "", Role::kAuditor},
      {"admin", "admin", "", Role::kAdmin},
      // A system's certificate with a clerk's token: the certificate decides.
      {"admin with a token", "admin", harness_->clerk_token(), Role::kAdmin},
      {"terminal, no login", "terminal", "", Role::kNone, Expect::kLoginOnly},
      {"expired token", "terminal", ExpiredToken(), Role::kNone, Expect::kLoginOnly},
      {"tampered token", "terminal", tampered, Role::kNone, Expect::kLoginOnly},
      {"token of another terminal", "terminal2", harness_->clerk_token(), Role::kNone,
       Expect::kLoginOnly},
      {"certificate not in the principals file", "unlisted", "", Role::kNone,
       Expect::kUnauthenticated},
      {"revoked certificate", "revoked", "", Role::kNone, Expect::kNoConnection},
      {"certificate of another CA", "rogue", "", Role::kNone, Expect::kNoConnection},
      {"no certificate", "", "", Role::kNone, Expect::kNoConnection},
  };
  for (const Identity& who : identities) {
    grpc::GenericStub stub(Channel(who.certificate));
    for (const Method& m : methods) {
      const grpc::StatusCode code = Call(stub, m, who.token);
      const bool refused = code == grpc::StatusCode::UNAUTHENTICATED ||
                           code == grpc::StatusCode::PERMISSION_DENIED;
      const bool login = m.full_name == kLoginMethod;
      switch (who.expect) {
        case Expect::kByRole:
          if (login && who.role != Role::kClerk && who.role != Role::kSupervisor) {
            EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << who.name << " " << m.path;
          } else if (login || RoleMayCall(who.role, m.full_name)) {
            EXPECT_FALSE(refused) << who.name << " " << m.path << " got " << code;
          } else {
            EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED) << who.name << " " << m.path;
          }
          break;
        case Expect::kLoginOnly:
          if (login) {
            EXPECT_EQ(code, grpc::StatusCode::INVALID_ARGUMENT) << who.name << " " << m.path;
          } else {
            EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED) << who.name << " " << m.path;
          }
          break;
        case Expect::kUnauthenticated:
          EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED) << who.name << " " << m.path;
          break;
        case Expect::kNoConnection:
          EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << who.name << " " << m.path;
          break;
      }
    }
  }
}

TEST_F(AccessE2eTest, StatisticsSeesNoNamesOrNationalIds) {
  v1::Person p;
  p.set_national_id("STATS-123456");
  p.set_given_name("Sophea");
  p.set_family_name("Mao");
  p.set_sex(v1::SEX_FEMALE);
  p.mutable_date_of_birth()->set_year(1980);
  p.mutable_date_of_birth()->set_month(1);
  p.mutable_date_of_birth()->set_day(2);
  p.mutable_address()->set_province("Siem Reap");
  p.mutable_address()->set_district("Siem Reap");
  p.mutable_address()->set_street("Street 9");
  auto registered = harness_->Client("clerk").RegisterPerson(p);
  ASSERT_TRUE(registered.ok()) << registered.status();
  auto seen = harness_->Client("statistics").GetPerson(registered->beneficiary_number());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->beneficiary_number(), registered->beneficiary_number());
  EXPECT_EQ(seen->address().district(), "Siem Reap");
  EXPECT_EQ(seen->date_of_birth().year(), 1980);
  EXPECT_EQ(seen->national_id(), "");
  EXPECT_EQ(seen->given_name(), "");
  EXPECT_EQ(seen->family_name(), "");
  EXPECT_EQ(seen->address().street(), "");
  auto ministry = harness_->Client("ministry").GetPerson(registered->beneficiary_number());
  ASSERT_TRUE(ministry.ok());
  EXPECT_EQ(ministry->given_name(), "Sophea");
  // Another office's clerk: as if the person did not exist.
  auto other = harness_->Client("other-office").GetPerson(registered->beneficiary_number());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AccessE2eTest, ClerkCommandsLogInAndOut) {
  testing::TempDir scratch;
  const std::string env = absl::StrCat(
      "SOCLE_ENDPOINT=", harness_->endpoint(), " SOCLE_CA=", harness_->cert("ca.pem"),
      " SOCLE_CERT=", harness_->cert("terminal.pem"), " SOCLE_KEY=",
      harness_->cert("terminal.key"), " SOCLE_TOKEN_FILE=", scratch.path(), "/token ");
  auto socle = [&](const std::string& args, const std::string& input = "") {
    return testing::RunShell(
        absl::StrCat(input.empty() ? "" : absl::StrCat("printf '%s\\n' '", input, "' | "), env,
                     SOCLE_CLI, " ", args),
        scratch.path());
  };
  testing::ProcessResult before = socle("find --national-id X1");
  EXPECT_EQ(before.exit_code, 5) << before.err;
  EXPECT_THAT(before.err, ::testing::HasSubstr("socle login"));
  testing::ProcessResult wrong = socle("login --user clerk", "not the password");
  EXPECT_EQ(wrong.exit_code, 5) << wrong.err;
  testing::ProcessResult login = socle("login --user clerk", testing::ServerHarness::kPassword);
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(login.out, ::testing::HasSubstr("Logged in as clerk (clerk, KH-SR-03)"));
  EXPECT_EQ(testing::ReadWholeFile(scratch.path() + "/token").find(
                testing::ServerHarness::kPassword),
            std::string::npos);
  testing::ProcessResult after = socle("find --national-id X1");
  EXPECT_EQ(after.exit_code, 0) << after.err;
  testing::ProcessResult logout = socle("logout");
  EXPECT_EQ(logout.exit_code, 0);
  EXPECT_EQ(socle("find --national-id X1").exit_code, 5);
}

TEST_F(AccessE2eTest, AdministratorsManageUsers) {
  testing::TempDir scratch;
  const std::string env = absl::StrCat(
      "SOCLE_ENDPOINT=", harness_->endpoint(), " SOCLE_CA=", harness_->cert("ca.pem"),
      " SOCLE_ADMIN_CERT=", harness_->cert("admin.pem"), " SOCLE_ADMIN_KEY=",
      harness_->cert("admin.key"), " ");
  auto admin = [&](const std::string& args, const std::string& input = "") {
    return testing::RunShell(
        absl::StrCat(input.empty() ? "" : absl::StrCat("printf '%s\\n' '", input, "' | "), env,
                     SOCLE_ADMIN, " ", args),
        scratch.path());
  };
  testing::ProcessResult added =
      admin("user add vuthy --office KH-SR-03 --role supervisor", "a new long password");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_THAT(added.out, ::testing::HasSubstr("vuthy  supervisor  KH-SR-03"));
  EXPECT_EQ(admin("user add vuthy --office KH-SR-03", "a new long password").exit_code, 4);
  EXPECT_EQ(admin("user add x --office KH-SR-03", "a new long password").exit_code, 2);
  auto login = harness_->ClientWith(harness_->Raw("terminal", "")).Login("vuthy",
                                                                         "a new long password");
  ASSERT_TRUE(login.ok()) << login.status();
  testing::ProcessResult disabled = admin("user disable vuthy");
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  auto refused = harness_->ClientWith(harness_->Raw("terminal", login->token()))
                     .GetPerson("1000000017");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  testing::ProcessResult listed = admin("user list --office KH-SR-03");
  EXPECT_THAT(listed.out, ::testing::HasSubstr("vuthy  supervisor  KH-SR-03  disabled"));
  // A clerk's terminal may not administer users.
  auto clerk = harness_->Client("clerk").ListUsers();
  EXPECT_EQ(clerk.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace socle
