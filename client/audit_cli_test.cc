// socle-admin audit against a MockConnection: the chain re-verified on the
// client side page by page, checkpoints saved and checked, queries built.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/cli/admin_commands.h"
#include "client/cli/audit_commands.h"
#include "client/mocks/mock_connection.h"
#include "common/audit_chain.h"

namespace socle::client::cli {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Return;
using ::testing::StrictMock;

std::string NewPrivateKeyPem() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, length);
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

v1::AuditEntry ToProto(const AuditEntry& e) {
  v1::AuditEntry p;
  p.set_seq(e.seq);
  p.mutable_at()->set_seconds(absl::ToUnixSeconds(e.at));
  p.mutable_at()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(e.at - absl::FromUnixSeconds(absl::ToUnixSeconds(e.at)))));
  p.set_actor(e.actor);
  p.set_office_code(e.office_code);
  p.set_action(e.action);
  p.set_subject(e.subject);
  p.set_details(e.details);
  p.set_prev_hash(e.prev_hash);
  p.set_hash(e.hash);
  return p;
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("socle_audit_cli_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string prev;
    for (int seq = 1; seq <= 95; ++seq) {
      AuditEntry e;
      e.seq = seq;
      e.at = absl::FromUnixMicros(1'764'000'000'000'000 + seq * 1'234'567);
      e.actor = "terminal:KH-SR-03:T01";
      e.office_code = "KH-SR-03";
      e.action = "RegisterPerson";
      e.subject = "1000000013";
      e.details = "registered";
      e.prev_hash = prev;
      e.hash = AuditHash(e);
      prev = e.hash;
      chain_.push_back(e);
    }
    signer_ = *AuditSigner::FromPrivateKeyPem(NewPrivateKeyPem());
    public_key_ = Write("audit.pub.pem", signer_->public_key_pem());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    std::vector<const char*> argv = {"socle-admin"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return RunAdminCli(static_cast<int>(argv.size()), argv.data(), mock_, out_, err_);
  }

  // The mock serves chain_ in pages of at most 40, as the server would.
  void ServeChain() {
    EXPECT_CALL(mock_, ListAuditChain(_))
        .WillRepeatedly(Invoke([this](const v1::ListAuditChainRequest& r) {
          v1::ListAuditChainResponse page;
          size_t i = 0;
          while (i < chain_.size() && chain_[i].seq <= r.after_seq()) ++i;
          const int size = std::min(r.page_size() == 0 ? 1000 : r.page_size(), 40);
          for (; i < chain_.size() && page.entries_size() < size; ++i) {
            *page.add_entries() = ToProto(chain_[i]);
          }
          page.set_end_of_chain(i == chain_.size());
          return page;
        }));
  }

  v1::AuditCheckpoint SignedHead(int64_t seq) {
    AuditCheckpoint c;
    c.seq = seq;
    c.hash = chain_[seq - 1].hash;
    c.time = absl::FromUnixSeconds(1'764'090'000);
    EXPECT_TRUE(signer_->Sign(c).ok());
    v1::AuditCheckpoint p;
    p.set_seq(c.seq);
    p.set_hash(c.hash);
    p.mutable_time()->set_seconds(absl::ToUnixSeconds(c.time));
    p.set_key_fingerprint(c.key_fingerprint);
    p.set_signature(c.signature);
    return p;
  }

  StrictMock<MockConnection> mock_;
  std::ostringstream out_, err_;
  std::filesystem::path dir_;
  std::vector<AuditEntry> chain_;
  std::unique_ptr<AuditSigner> signer_;
  std::string public_key_;
};

TEST_F(AuditCliTest, VerifyReadsEveryPageAndReportsIntact) {
  ServeChain();
  EXPECT_EQ(Run({"audit", "verify"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Audit chain: 95 entries, head entry 95"));
  EXPECT_THAT(out_.str(), HasSubstr("OK      every entry follows from the one before it"));
}

TEST_F(AuditCliTest, VerifyReportsTheFirstBrokenEntry) {
  chain_[56].details = "edited";
  chain_.erase(chain_.begin() + 70);
  ServeChain();
  EXPECT_EQ(Run({"audit", "verify"}), 4);
  EXPECT_THAT(out_.str(),
              HasSubstr("BROKEN  at entry 57: entry 57 was altered: its fields no longer "
                        "give its hash"));
  EXPECT_EQ(Run({"--json", "audit", "verify"}), 4);
  EXPECT_THAT(out_.str(), HasSubstr("\"ok\":false,\"entries\":94"));
  EXPECT_THAT(out_.str(), HasSubstr("\"break\":{\"seq\":57,\"kind\":\"altered\""));
}

TEST_F(AuditCliTest, CheckpointSavedThenVerified) {
  EXPECT_CALL(mock_, GetAuditCheckpoint(_)).WillOnce(Return(SignedHead(80)));
  const std::string file = (dir_ / "cp.txt").string();
  ASSERT_EQ(Run({"audit", "checkpoint", "--out", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Saved checkpoint of entry 80"));
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("socle audit checkpoint v1\nseq: 80\n"));

  ServeChain();
  EXPECT_EQ(Run({"audit", "verify", "--checkpoint", file, "--public-key", public_key_}), 0)
      << out_.str() << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("OK      checkpoint signature (entry 80, 2025-11-25"));
  EXPECT_THAT(out_.str(), HasSubstr("OK      entry 80 still has the checkpoint's hash"));

  // The tail cut after entry 60: consistent, but the checkpoint shows it.
  chain_.resize(60);
  EXPECT_EQ(Run({"audit", "verify", "--checkpoint", file, "--public-key", public_key_}), 4);
  EXPECT_THAT(out_.str(), HasSubstr("OK      every entry follows"));
  EXPECT_THAT(out_.str(), HasSubstr("BROKEN  truncated tail: the checkpoint is at entry 80, "
                                    "the chain ends at entry 60"));

  // Another key's public key: the signature does not hold.
  auto other = AuditSigner::FromPrivateKeyPem(NewPrivateKeyPem());
  const std::string other_key = Write("other.pub.pem", (*other)->public_key_pem());
  EXPECT_EQ(Run({"audit", "verify", "--checkpoint", file, "--public-key", other_key}), 4);
  EXPECT_THAT(out_.str(), HasSubstr("FORGED"));
}

TEST_F(AuditCliTest, VerifyRefusesBadInputBeforeAnyCall) {
  const std::string file = Write("cp.txt", "not a checkpoint\n");
  EXPECT_EQ(Run({"audit", "verify", "--checkpoint", file}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--public-key"));
  EXPECT_EQ(Run({"audit", "verify", "--checkpoint", file, "--public-key", public_key_}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("not an audit checkpoint"));
  EXPECT_EQ(Run({"audit", "verify", "--public-key", file}), 2);
  EXPECT_EQ(Run({"audit", "verify", "--page-size", "0"}), 2);
}

TEST_F(AuditCliTest, QueryBuildsTheRequest) {
  v1::QueryAuditRequest got;
  v1::QueryAuditResponse page;
  *page.add_entries() = ToProto(chain_[0]);
  EXPECT_CALL(mock_, QueryAudit(_)).WillOnce(Invoke([&](const v1::QueryAuditRequest& r) {
    got = r;
    return page;
  }));
  ASSERT_EQ(Run({"audit", "query", "--person", "10000", "00013", "--user",
                 "terminal:KH-SR-03:", "--office", "KH-SR-03", "--since", "2026-11-01",
                 "--until", "2026-11-25T10:30:00Z"}),
            0)
      << err_.str();
  EXPECT_EQ(got.subject(), "1000000013");
  EXPECT_EQ(got.actor_prefix(), "terminal:KH-SR-03:");
  EXPECT_EQ(got.office_code(), "KH-SR-03");
  EXPECT_EQ(got.since().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2026, 11, 1), absl::UTCTimeZone())));
  EXPECT_EQ(got.until().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 30, 0),
                                                absl::UTCTimeZone())));
  EXPECT_THAT(out_.str(), HasSubstr("terminal:KH-SR-03:T01  KH-SR-03  RegisterPerson  "
                                    "10000 00013  registered"));
}

TEST_F(AuditCliTest, QueryRefusesBadInputBeforeAnyCall) {
  EXPECT_EQ(Run({"audit", "query", "--since", "yesterday"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--since"));
  EXPECT_EQ(Run({"audit", "query", "--since", "2026-11-02", "--until", "2026-11-01"}), 2);
  EXPECT_EQ(Run({"audit", "query", "--person", "10000", "00014"}), 2);  // check digit
  EXPECT_EQ(Run({"audit", "query", "--person", "10000", "00013", "--subject", "E1"}), 2);
}

TEST_F(AuditCliTest, HelpFits80Columns) {
  for (const char* command : {"verify", "checkpoint", "query"}) {
    EXPECT_EQ(Run({"help", "audit", command}), 0) << command;
    for (absl::string_view line : absl::StrSplit(out_.str(), '\n')) {
      EXPECT_LE(line.size(), 80u) << line;
    }
  }
}

}  // namespace
}  // namespace socle::client::cli
