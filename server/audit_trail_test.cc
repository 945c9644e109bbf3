#include "server/audit_trail.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit.h"
#include "server/convert.h"
#include "server/test_util.h"

namespace socle {
namespace {

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

class AuditTrailTest : public ::testing::Test {
 protected:
  AuditTrailTest()
      : store_(testing::OpenTestStore(dir_)),
        clock_(testing::TestNow()),
        signer_(*AuditSigner::FromPrivateKeyPem(NewPrivateKeyPem())),
        trail_(store_.get(), &clock_, signer_.get()) {}

  // Entries 1..n: subjects over 4 persons, two terminals of two offices,
  // one a minute from TestNow().
  void Append(int n) {
    for (int i = 1; i <= n; ++i) {
      Caller caller;
      caller.kind = CallerKind::kTerminal;
      caller.office_code = i % 2 ? "KH-SR-03" : "KH-PP-01";
      caller.id = absl::StrCat("terminal:", caller.office_code, ":T0", i % 2);
      absl::Status s = store_->Write([&](storage::Txn& txn) {
        return AppendAudit(txn, testing::TestNow() + absl::Minutes(i), caller,
                           "RegisterPerson", absl::StrCat("100000001", i % 4),
                           "registered");
      });
      ASSERT_TRUE(s.ok()) << s;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_;
  std::unique_ptr<AuditSigner> signer_;
  AuditTrail trail_;
  Caller auditor_{CallerKind::kAdmin, "admin:auditor", "", Role::kNone, ""};
};

TEST_F(AuditTrailTest, ListsTheWholeChainPageByPage) {
  Append(25);
  v1::ListAuditChainRequest request;
  request.set_page_size(10);
  AuditChainChecker checker;
  int pages = 0;
  for (;;) {
    auto page = trail_.ListChain(auditor_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const v1::AuditEntry& e : page->entries()) {
      AuditEntry entry;
      entry.seq = e.seq();
      entry.at = absl::FromUnixSeconds(e.at().seconds()) + absl::Nanoseconds(e.at().nanos());
      entry.actor = e.actor();
      entry.office_code = e.office_code();
      entry.action = e.action();
      entry.subject = e.subject();
      entry.details = e.details();
      entry.prev_hash = e.prev_hash();
      entry.hash = e.hash();
      EXPECT_TRUE(checker.Add(entry)) << checker.first_break().description;
    }
    if (page->end_of_chain()) break;
    request.set_after_seq(page->entries().rbegin()->seq());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(checker.count(), 25);

  request.set_after_seq(20);  // exactly the rest: the end is known at once
  request.set_page_size(5);
  auto last = trail_.ListChain(auditor_, request);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->entries_size(), 5);
  EXPECT_TRUE(last->end_of_chain());

  request.set_after_seq(-1);
  EXPECT_EQ(trail_.ListChain(auditor_, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTrailTest, QueriesPageWithTokens) {
  Append(40);
  v1::QueryAuditRequest request;
  request.set_subject("1000000011");  // i % 4 == 1
  request.set_page_size(4);
  std::vector<int64_t> seqs;
  for (;;) {
    auto page = trail_.Query(auditor_, request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::AuditEntry& e : page->entries()) seqs.push_back(e.seq());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_THAT(seqs, ::testing::ElementsAre(1, 5, 9, 13, 17, 21, 25, 29, 33, 37));

  v1::QueryAuditRequest by_actor;
  by_actor.set_actor_prefix("terminal:KH-PP-01:");
  by_actor.set_office_code("KH-PP-01");
  *by_actor.mutable_since() = ToTimestamp(testing::TestNow() + absl::Minutes(10));
  *by_actor.mutable_until() = ToTimestamp(testing::TestNow() + absl::Minutes(16));
  auto found = trail_.Query(auditor_, by_actor);
  ASSERT_TRUE(found.ok()) << found.status();
  std::vector<int64_t> got;
  for (const v1::AuditEntry& e : found->entries()) got.push_back(e.seq());
  EXPECT_THAT(got, ::testing::ElementsAre(10, 12, 14));
}

TEST_F(AuditTrailTest, BadQueriesNameTheField) {
  v1::QueryAuditRequest request;
  request.set_page_token("nonsense!");
  absl::Status s = trail_.Query(auditor_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(GetFieldViolations(s).size(), 1u);
  EXPECT_EQ(GetFieldViolations(s)[0].field, "page_token");

  request.clear_page_token();
  request.mutable_since()->set_seconds(2000);
  request.mutable_until()->set_seconds(1000);
  s = trail_.Query(auditor_, request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(GetFieldViolations(s).size(), 1u);
  EXPECT_EQ(GetFieldViolations(s)[0].field, "until");
}

TEST_F(AuditTrailTest, CheckpointIsSignedHead) {
  auto empty = trail_.GetCheckpoint(auditor_, {});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->seq(), 0);
  EXPECT_EQ(empty->hash(), "");

  Append(7);
  clock_.Set(testing::TestNow() + absl::Milliseconds(1500));
  auto got = trail_.GetCheckpoint(auditor_, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->seq(), 7);
  EXPECT_EQ(got->time().seconds(), absl::ToUnixSeconds(testing::TestNow()) + 1);
  EXPECT_EQ(got->time().nanos(), 0);
  absl::Status s = store_->Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(storage::AuditRecord head, txn.LastAudit());
    EXPECT_EQ(got->hash(), head.hash);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  AuditCheckpoint c;
  c.seq = got->seq();
  c.hash = got->hash();
  c.time = absl::FromUnixSeconds(got->time().seconds());
  c.key_fingerprint = got->key_fingerprint();
  c.signature = got->signature();
  EXPECT_TRUE(VerifyCheckpoint(c, signer_->public_key_pem()).ok());
}

TEST_F(AuditTrailTest, CheckpointWithoutKeyIsRefused) {
  AuditTrail unsigned_trail(store_.get(), &clock_, nullptr);
  absl::Status s = unsigned_trail.GetCheckpoint(auditor_, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(GetErrorInfo(s).has_value());
  EXPECT_EQ(GetErrorInfo(s)->reason, "NO_AUDIT_SIGNING_KEY");
}

}  // namespace
}  // namespace socle
