// Access control: passwords, tokens, the principals file, the role table
// (checked against the service descriptors so that no method escapes it),
// and AccessControl's decisions for every kind of caller.
#include "server/access/access.h"

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/access/field_filter.h"
#include "server/access/passwords.h"
#include "server/access/principals.h"
#include "server/access/roles.h"
#include "server/access/tokens.h"
#include "server/test_util.h"
#include "socle/v1/registry.pb.h"

namespace socle {
namespace {

using ::testing::HasSubstr;

// The files whose services socle-server serves. A new service file must be
// added here (and its methods to the role table).
const char* const kServiceFiles[] = {
    "socle/v1/registry.proto",
    "socle/v1/eligibility.proto",
    "socle/v1/payments.proto",
    "socle/v1/access.proto",
    "socle/v1/audit.proto",
    "socle/v1/keys.proto",
};

std::vector<std::string> DescriptorMethods() {
  std::vector<std::string> methods;
  for (const char* name : kServiceFiles) {
    const google::protobuf::FileDescriptor* file =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name;
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        methods.push_back(file->service(s)->method(m)->full_name());
      }
    }
  }
  return methods;
}

constexpr Role kAllRoles[] = {Role::kNone,      Role::kClerk,   Role::kSupervisor,
                              Role::kMinistry,  Role::kStatistics, Role::kAuditor,
                              Role::kAdmin};

TEST(RoleTableTest, NamesEveryServedMethodAndNothingElse) {
  std::vector<std::string> served = DescriptorMethods();
  ASSERT_GT(served.size(), 30u);
  std::set<std::string> table;
  for (const std::string& m : MethodsInRoleTable()) table.insert(m);
  for (const std::string& m : served) {
    EXPECT_TRUE(table.count(m)) << m << " is missing from the role table";
    table.erase(m);
  }
  EXPECT_TRUE(table.empty()) << "the role table names unknown methods, e.g. " << *table.begin();
}

TEST(RoleTableTest, DeniesByDefault) {
  for (Role role : kAllRoles) {
    EXPECT_FALSE(RoleMayCall(role, "socle.v1.Registry.NoSuchMethod"));
    EXPECT_FALSE(RoleMayCall(role, "grpc.reflection.v1alpha.ServerReflection.X"));
  }
  for (const std::string& m : DescriptorMethods()) {
    EXPECT_FALSE(RoleMayCall(Role::kNone, m)) << m;
  }
}

TEST(RoleTableTest, KeyRules) {
  // Counter work is for clerks and supervisors only.
  for (Role r : {Role::kMinistry, Role::kStatistics, Role::kAuditor, Role::kAdmin}) {
    EXPECT_FALSE(RoleMayCall(r, "socle.v1.Registry.RegisterPerson")) << RoleName(r);
    EXPECT_FALSE(RoleMayCall(r, "socle.v1.Eligibility.Enrol")) << RoleName(r);
  }
  EXPECT_TRUE(RoleMayCall(Role::kClerk, "socle.v1.Registry.RegisterPerson"));
  // Statistics may not search by name.
  EXPECT_FALSE(RoleMayCall(Role::kStatistics, "socle.v1.Registry.FindPersons"));
  EXPECT_TRUE(RoleMayCall(Role::kStatistics, "socle.v1.Registry.GetPerson"));
  // Reversals need a supervisor (or an administrator).
  EXPECT_FALSE(RoleMayCall(Role::kClerk, "socle.v1.Payments.ReversePayment"));
  EXPECT_TRUE(RoleMayCall(Role::kSupervisor, "socle.v1.Payments.ReversePayment"));
  // Cycles, policy and users belong to administrators.
  for (Role r : {Role::kClerk, Role::kSupervisor, Role::kMinistry, Role::kAuditor}) {
    EXPECT_FALSE(RoleMayCall(r, "socle.v1.Payments.OpenCycle")) << RoleName(r);
    EXPECT_FALSE(RoleMayCall(r, "socle.v1.PolicyAdmin.ActivatePolicy")) << RoleName(r);
    EXPECT_FALSE(RoleMayCall(r, "socle.v1.UserAdmin.AddUser")) << RoleName(r);
  }
  // Login is no role's: it is the terminal's own call.
  for (Role role : kAllRoles) EXPECT_FALSE(RoleMayCall(role, kLoginMethod));
}

TEST(PasswordTest, HashesVerifyAndNeverHoldThePassword) {
  auto hash = HashPassword("a long enough secret", 1000);
  ASSERT_TRUE(hash.ok());
  EXPECT_THAT(*hash, HasSubstr("pbkdf2-sha256$1000$"));
  EXPECT_THAT(*hash, ::testing::Not(HasSubstr("secret")));
  EXPECT_TRUE(VerifyPassword("a long enough secret", *hash));
  EXPECT_FALSE(VerifyPassword("a long enough secreT", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  // Salted: the same password hashes differently.
  EXPECT_NE(*hash, *HashPassword("a long enough secret", 1000));
  EXPECT_FALSE(VerifyPassword("x", "pbkdf2-sha256$10$AAAA$AAAA"));
  EXPECT_FALSE(VerifyPassword("x", "garbage"));
  EXPECT_FALSE(HashPassword("x", 10).ok());
}

class TokenTest : public ::testing::Test {
 protected:
  TokenSigner signer_{std::string(32, 'k')};
  TokenClaims Claims() {
    TokenClaims c;
    c.user = "sokha";
    c.role = Role::kClerk;
    c.office_code = "KH-SR-03";
    c.terminal = "terminal:KH-SR-03:T01";
    c.issued_at = testing::TestNow();
    c.expires_at = testing::TestNow() + absl::Hours(1);
    return c;
  }
};

TEST_F(TokenTest, RoundTrips) {
  auto token = signer_.Issue(Claims());
  ASSERT_TRUE(token.ok());
  auto claims = signer_.Verify(*token, testing::TestNow() + absl::Minutes(59));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->user, "sokha");
  EXPECT_EQ(claims->role, Role::kClerk);
  EXPECT_EQ(claims->office_code, "KH-SR-03");
  EXPECT_EQ(claims->terminal, "terminal:KH-SR-03:T01");
  EXPECT_EQ(claims->issued_at, testing::TestNow());
}

TEST_F(TokenTest, RefusesExpiredTamperedAndForeignTokens) {
  const std::string token = *signer_.Issue(Claims());
  auto expired = signer_.Verify(token, testing::TestNow() + absl::Hours(1));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
  // Every single-character change anywhere is refused.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    if (t == token) continue;
    EXPECT_EQ(signer_.Verify(t, testing::TestNow()).status().code(),
              absl::StatusCode::kUnauthenticated)
        << "position " << i;
  }
  // A supervisor role grafted onto a clerk's token.
  TokenClaims raised = Claims();
  raised.role = Role::kSupervisor;
  const std::string other = *signer_.Issue(raised);
  const std::string spliced =
      other.substr(0, other.find('.')) + token.substr(token.find('.'));
  EXPECT_FALSE(signer_.Verify(spliced, testing::TestNow()).ok());
  // Another key.
  TokenSigner foreign(std::string(32, 'z'));
  EXPECT_FALSE(foreign.Verify(token, testing::TestNow()).ok());
  EXPECT_FALSE(signer_.Verify("", testing::TestNow()).ok());
  EXPECT_FALSE(signer_.Verify("a.b.c", testing::TestNow()).ok());
}

TEST(PrincipalsTest, FindsExactThenLongestPrefix) {
  auto p = Principals::Parse(R"pb(
    principals { certificate: "terminal:KH-SR-03:*" terminal_office: "KH-SR-03" }
    principals { certificate: "terminal:KH-SR-03:T9*" terminal_office: "KH-SR-09" }
    principals { certificate: "ministry:STATS" role: ROLE_STATISTICS }
  )pb", "p.textproto");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Find("terminal:KH-SR-03:T01")->terminal_office, "KH-SR-03");
  EXPECT_EQ(p->Find("terminal:KH-SR-03:T91")->terminal_office, "KH-SR-09");
  EXPECT_EQ(p->Find("ministry:STATS")->role, Role::kStatistics);
  EXPECT_EQ(p->Find("ministry:STATS2"), nullptr);
  EXPECT_EQ(p->Find("terminal:KH-SR-04:T01"), nullptr);
  EXPECT_EQ(p->Find("terminal:KH-SR-0"), nullptr);  // shorter than every prefix
  EXPECT_EQ(p->Find(""), nullptr);
}

TEST(PrincipalsTest, ManyTerminalsEachFindTheirOwnEntry) {
  // A national file: one exact entry per terminal, besides the prefixes.
  std::string text =
      "principals { certificate: \"terminal:KH-SR-*\" terminal_office_from_certificate: true }\n"
      "principals { certificate: \"terminal:KH-SR-03:*\" terminal_office: \"KH-SR-03\" }\n";
  constexpr int kTerminals = 5000;
  for (int i = 0; i < kTerminals; ++i) {
    absl::StrAppend(&text, "principals { certificate: \"terminal:KH-PP-", 10 + i % 80, ":T", i,
                    "\" terminal_office: \"KH-PP-", 10 + i % 80, "\" }\n");
  }
  auto p = Principals::Parse(text, "national.textproto");
  ASSERT_TRUE(p.ok()) << p.status();
  for (int i = 0; i < kTerminals; ++i) {
    const PrincipalEntry* e = p->Find(absl::StrCat("terminal:KH-PP-", 10 + i % 80, ":T", i));
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->terminal_office, absl::StrCat("KH-PP-", 10 + i % 80));
  }
  // Not listed, under no prefix.
  EXPECT_EQ(p->Find("terminal:KH-PP-10:T1"), nullptr);
  EXPECT_EQ(p->Find("terminal:KH-PP-10:T0x"), nullptr);
  // Prefixes: the longest that matches.
  EXPECT_EQ(p->Find("terminal:KH-SR-03:T7")->terminal_office, "KH-SR-03");
  EXPECT_TRUE(p->Find("terminal:KH-SR-05:T7")->office_from_certificate);
}

TEST(PrincipalsTest, RefusesBadFilesNamingLineAndField) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"principals { certificate: \"a\" }", "principals[0].kind"},
      {"principals { certificate: \"a\" role: ROLE_CLERK }", "principals[0].role"},
      {"principals { certificate: \"a\" terminal_office: \"nope\" }",
       "principals[0].terminal_office"},
      {"principals { certificate: \"a*b\" role: ROLE_ADMIN }", "principals[0].certificate"},
      {"principals { certificate: \"a\" role: ROLE_ADMIN }\n"
       "principals { certificate: \"a\" role: ROLE_AUDITOR }",
       "2: principals[1].certificate: listed twice"},
      {"principals { certificat: \"a\" }", "1:"},
      {"", "names no principal"},
  };
  for (const Case& c : cases) {
    auto p = Principals::Parse(c.text, "p.textproto");
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr(c.expected)) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr("p.textproto")) << c.text;
  }
}

TEST(PrincipalsTest, TheDeployedFileIsValid) {
  auto p = Principals::Load(absl::StrCat(SOCLE_SOURCE_DIR, "/deploy/principals.textproto"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Find("admin:ADMIN-01")->role, Role::kAdmin);
}

TEST(FieldFilterTest, ClearsPersonalFieldsAtAnyDepth) {
  v1::FindPersonsResponse r;
  v1::Person* p = r.add_persons();
  p->set_beneficiary_number("1000000017");
  p->set_national_id("123");
  p->set_given_name("Sokha");
  p->set_family_name("Chan");
  p->set_phone("+85512345678");
  p->set_duplicate_override_reason("twins");
  p->mutable_address()->set_district("Siem Reap");
  p->mutable_address()->set_street("Street 7");
  p->set_office_code("KH-SR-03");
  ClearPersonalFields(r);
  const v1::Person& q = r.persons(0);
  EXPECT_EQ(q.beneficiary_number(), "1000000017");
  EXPECT_EQ(q.address().district(), "Siem Reap");
  EXPECT_EQ(q.office_code(), "KH-SR-03");
  EXPECT_EQ(q.national_id(), "");
  EXPECT_EQ(q.given_name(), "");
  EXPECT_EQ(q.family_name(), "");
  EXPECT_EQ(q.phone(), "");
  EXPECT_EQ(q.duplicate_override_reason(), "");
  EXPECT_EQ(q.address().street(), "");
}

// AccessControl over a real store: principals, tokens, revocation, login
// limits.
class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    const std::string principals = dir_.path() + "/principals.textproto";
    std::ofstream(principals) << R"pb(
      principals { certificate: "terminal:KH-SR-03:*" terminal_office: "KH-SR-03" }
      principals { certificate: "terminal:KH-BB-01:*" terminal_office: "KH-BB-01" }
      principals { certificate: "ministry:M" role: ROLE_MINISTRY }
      principals { certificate: "admin:A" role: ROLE_ADMIN }
    )pb";
    const std::string key = dir_.path() + "/token.key";
    std::ofstream(key) << std::string(64, 'f') << "\n";
    options_.principals_file = principals;
    options_.token_key_file = key;
    options_.password_iterations = 1000;
    clock_.Set(testing::TestNow());
    auto access = AccessControl::Create(options_, store_.get(), &clock_);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = *std::move(access);
    admin_ = *access_->Authorize("admin:A", "", "socle.v1.UserAdmin.AddUser");
    AddUser("sokha", v1::ROLE_CLERK, "KH-SR-03");
    AddUser("dara", v1::ROLE_SUPERVISOR, "KH-SR-03");
  }

  void AddUser(const std::string& name, v1::Role role, const std::string& office) {
    v1::AddUserRequest r;
    r.set_request_id(absl::StrCat("add-", name));
    r.mutable_user()->set_user_name(name);
    r.mutable_user()->set_role(role);
    r.mutable_user()->set_office_code(office);
    r.set_password("a long enough secret");
    auto added = access_->AddUser(admin_, r);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  Caller Terminal(const std::string& cn) {
    return *access_->Authorize(cn, "", kLoginMethod);
  }

  absl::StatusOr<v1::LoginResponse> Login(const std::string& cn, const std::string& user,
                                          const std::string& password) {
    v1::LoginRequest r;
    r.set_user_name(user);
    r.set_password(password);
    return access_->Login(Terminal(cn), r);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{testing::TestNow()};
  AccessOptions options_;
  std::unique_ptr<AccessControl> access_;
  Caller admin_;
};

TEST_F(AccessControlTest, CertificatesAloneAndTheRoleTable) {
  EXPECT_EQ(access_->Authorize("", "", "socle.v1.Registry.GetPerson").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(access_->Authorize("terminal:KH-XX-01:T1", "", kLoginMethod).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto ministry = access_->Authorize("ministry:M", "", "socle.v1.Registry.GetPerson");
  ASSERT_TRUE(ministry.ok());
  EXPECT_EQ(ministry->kind, CallerKind::kMinistry);
  EXPECT_FALSE(ministry->OfficeBound());
  EXPECT_EQ(access_->Authorize("ministry:M", "", "socle.v1.Registry.RegisterPerson")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->Authorize("ministry:M", "", kLoginMethod).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A terminal without a login may only log in.
  EXPECT_EQ(access_->Authorize("terminal:KH-SR-03:T01", "", "socle.v1.Registry.GetPerson")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AccessControlTest, LoginGivesATokenBoundToUserOfficeAndTerminal) {
  auto login = Login("terminal:KH-SR-03:T01", "sokha", "a long enough secret");
  ASSERT_TRUE(login.ok()) << login.status();
  const std::string& token = login->token();
  auto caller = access_->Authorize("terminal:KH-SR-03:T01", token,
                                   "socle.v1.Registry.RegisterPerson");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user, "sokha");
  EXPECT_EQ(caller->role, Role::kClerk);
  EXPECT_EQ(caller->office_code, "KH-SR-03");
  EXPECT_EQ(caller->Actor(), "sokha@terminal:KH-SR-03:T01");
  EXPECT_FALSE(caller->MayOverride());
  // The clerk's role decides.
  EXPECT_EQ(access_->Authorize("terminal:KH-SR-03:T01", token,
                               "socle.v1.Payments.ReversePayment")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // From another terminal, even of the same office: refused.
  EXPECT_EQ(access_->Authorize("terminal:KH-SR-03:T02", token,
                               "socle.v1.Registry.GetPerson")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // Expired.
  clock_.Advance(absl::Hours(1));
  auto expired = access_->Authorize("terminal:KH-SR-03:T01", token, "socle.v1.Registry.GetPerson");
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
}

TEST_F(AccessControlTest, WrongPasswordsUnknownUsersAndOtherOfficesLookAlike) {
  auto wrong = Login("terminal:KH-SR-03:T01", "sokha", "not the password");
  auto unknown = Login("terminal:KH-SR-03:T01", "nobody", "a long enough secret");
  auto elsewhere = Login("terminal:KH-BB-01:T01", "sokha", "a long enough secret");
  for (const auto& r : {wrong, unknown, elsewhere}) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "user name or password is wrong");
  }
}

TEST_F(AccessControlTest, RepeatedFailuresLockTheUserForAWhile) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("terminal:KH-SR-03:T01", "sokha", "bad").status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  // Now even the right password waits (for the user, from any terminal).
  auto locked = Login("terminal:KH-SR-03:T02", "sokha", "a long enough secret");
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kResourceExhausted);
  // The terminal is locked too, for every user.
  EXPECT_EQ(Login("terminal:KH-SR-03:T01", "dara", "a long enough secret").status().code(),
            absl::StatusCode::kResourceExhausted);
  // Another user at another terminal is not.
  EXPECT_TRUE(Login("terminal:KH-SR-03:T03", "dara", "a long enough secret").ok());
  clock_.Advance(absl::Minutes(16));
  EXPECT_TRUE(Login("terminal:KH-SR-03:T01", "sokha", "a long enough secret").ok());
}

TEST_F(AccessControlTest, DisablingAndResettingRevokeTokens) {
  const std::string token = Login("terminal:KH-SR-03:T01", "sokha", "a long enough secret")->token();
  clock_.Advance(absl::Seconds(1));
  v1::DisableUserRequest disable;
  disable.set_request_id("d1");
  disable.set_user_name("sokha");
  ASSERT_TRUE(access_->DisableUser(admin_, disable).ok());
  EXPECT_EQ(access_->Authorize("terminal:KH-SR-03:T01", token, "socle.v1.Registry.GetPerson")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Login("terminal:KH-SR-03:T01", "sokha", "a long enough secret").status().code(),
            absl::StatusCode::kUnauthenticated);
  v1::ResetPasswordRequest reset;
  reset.set_request_id("r1");
  reset.set_user_name("sokha");
  reset.set_password("another long secret");
  auto user = access_->ResetPassword(admin_, reset);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_FALSE(user->disabled());
  EXPECT_FALSE(Login("terminal:KH-SR-03:T01", "sokha", "a long enough secret").ok());
  clock_.Advance(absl::Seconds(1));
  auto again = Login("terminal:KH-SR-03:T01", "sokha", "another long secret");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(access_->Authorize("terminal:KH-SR-03:T01", again->token(),
                                 "socle.v1.Registry.GetPerson")
                  .ok());
  // A restarted server still refuses the old token.
  auto restarted = AccessControl::Create(options_, store_.get(), &clock_);
  ASSERT_TRUE(restarted.ok());
  EXPECT_FALSE((*restarted)->Authorize("terminal:KH-SR-03:T01", token,
                                       "socle.v1.Registry.GetPerson").ok());
}

TEST_F(AccessControlTest, UserAdministrationValidatesAndKeepsNoPassword) {
  v1::AddUserRequest bad;
  bad.set_request_id("bad");
  bad.mutable_user()->set_user_name("X");
  bad.mutable_user()->set_role(v1::ROLE_ADMIN);
  bad.set_password("short");
  auto refused = access_->AddUser(admin_, bad);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(refused.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre("user.user_name", "user.role",
                                                      "user.office_code", "password"));
  v1::AddUserRequest taken;
  taken.set_request_id("taken");
  taken.mutable_user()->set_user_name("sokha");
  taken.mutable_user()->set_role(v1::ROLE_CLERK);
  taken.mutable_user()->set_office_code("KH-SR-03");
  taken.set_password("a long enough secret");
  EXPECT_EQ(access_->AddUser(admin_, taken).status().code(), absl::StatusCode::kAlreadyExists);
  // Neither the users table nor the request log holds a password.
  std::ifstream db(dir_.path() + "/socle.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_.path() + "/socle.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find("a long enough secret"), std::string::npos);
}

}  // namespace
}  // namespace socle
