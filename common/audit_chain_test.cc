#include "common/audit_chain.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

AuditEntry MakeEntry(int64_t seq, const std::string& prev) {
  AuditEntry e;
  e.seq = seq;
  e.at = absl::FromUnixMicros(1'700'000'000'000'000 + seq * 1'000'123);
  e.actor = seq % 3 ? "terminal:KH-SR-03:T01" : "admin:ops";
  e.office_code = seq % 3 ? "KH-SR-03" : "";
  e.action = seq % 2 ? "RegisterPerson" : "RecordLifeEvent";
  e.subject = absl::StrCat("subject-", seq);
  e.details = "registered";
  e.prev_hash = prev;
  e.hash = AuditHash(e);
  return e;
}

std::vector<AuditEntry> MakeChain(int n) {
  std::vector<AuditEntry> chain;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    chain.push_back(MakeEntry(i, prev));
    prev = chain.back().hash;
  }
  return chain;
}

TEST(AuditChainTest, HashIsStable) {
  // The function is persisted in every stored hash: this value must never
  // change.
  AuditEntry e;
  e.seq = 1;
  e.at = absl::FromUnixMicros(1'764'000'000'123'456);
  e.actor = "terminal:KH-SR-03:T01";
  e.office_code = "KH-SR-03";
  e.action = "RegisterPerson";
  e.subject = "1000000013";
  e.details = "registered";
  // sha256("0:;1:1;16:1764000000123456;21:terminal:KH-SR-03:T01;8:KH-SR-03;"
  //        "14:RegisterPerson;10:1000000013;10:registered;")
  EXPECT_EQ(AuditHash(e),
            "e09650d73f1938822ff5ba6021f582f46f099dab4eee60075c7534bcc3af0054");
  AuditEntry f = e;
  f.details = "registere";
  f.subject = "1000000013d";  // same concatenation, different fields
  EXPECT_NE(AuditHash(e), AuditHash(f));
}

TEST(AuditChainTest, IntactChainsVerify) {
  EXPECT_EQ(CheckAuditChain(MakeChain(0)).kind, AuditBreak::kNone);
  EXPECT_EQ(CheckAuditChain(MakeChain(1)).kind, AuditBreak::kNone);
  EXPECT_EQ(CheckAuditChain(MakeChain(5000)).kind, AuditBreak::kNone);
}

// Random tampering of every kind on a chain of 3000 entries: each one is
// detected, at the seq where it happened (or, for an entry forged with a
// correct hash and link, at the next one, whose link no longer holds).
TEST(AuditChainTest, RandomTamperingIsDetectedWhereItHappens) {
  const int n = 3000;
  const std::vector<AuditEntry> original = MakeChain(n);
  std::mt19937_64 rng(20261125);
  auto pick = [&](int64_t low, int64_t high) {  // [low, high]
    return static_cast<int64_t>(low + rng() % (high - low + 1));
  };
  const int kinds = 14;
  int detected = 0;
  for (int trial = 0; trial < 700; ++trial) {  // 50 of each kind
    std::vector<AuditEntry> chain = original;
    // Never the last entry alone: cutting or editing the tail's link is the
    // checkpoint's job (see below).
    const int64_t i = pick(0, n - 2);
    const int64_t seq = i + 1;
    int64_t expected = seq;
    AuditBreak::Kind kind = AuditBreak::kAltered;
    switch (trial % kinds) {
      case 0: chain[i].details += "x"; break;
      case 1: chain[i].at += absl::Microseconds(1); break;
      case 2: chain[i].actor = "admin:intruder"; break;
      case 3: chain[i].office_code = "KH-PP-01"; break;
      case 4: chain[i].action = "UpdatePerson"; break;
      case 5: chain[i].subject = "1000000099"; break;
      case 6: chain[i].prev_hash += "0"; break;
      case 7: chain[i].hash[pick(0, 63)] ^= 1; break;
      case 8:  // deletion
        chain.erase(chain.begin() + i);
        kind = AuditBreak::kMissing;
        break;
      case 9: {  // swap with a later entry
        std::swap(chain[i], chain[pick(i + 1, n - 1)]);
        kind = AuditBreak::kMissing;
        break;
      }
      case 10: {  // move an entry later
        AuditEntry moved = chain[i];
        chain.erase(chain.begin() + i);
        chain.insert(chain.begin() + pick(i + 1, n - 1), moved);
        kind = AuditBreak::kMissing;
        break;
      }
      case 11: {  // a later entry moved earlier, before entry `seq`
        const int64_t j = pick(i + 1, n - 1);
        AuditEntry moved = chain[j];
        chain.erase(chain.begin() + j);
        chain.insert(chain.begin() + i, moved);
        kind = AuditBreak::kMissing;
        break;
      }
      case 12: {  // an inserted entry, naively forged
        AuditEntry forged = chain[i];
        forged.details = "forged";
        chain.insert(chain.begin() + i, forged);
        break;
      }
      case 13: {  // an inserted entry with a correct link and hash
        AuditEntry forged = MakeEntry(seq, i == 0 ? "" : chain[i - 1].hash);
        forged.details = "forged";
        forged.hash = AuditHash(forged);
        chain.insert(chain.begin() + i, forged);
        expected = seq + 1;  // the original entry `seq` comes again
        kind = AuditBreak::kOutOfOrder;
        break;
      }
    }
    AuditBreak b = CheckAuditChain(chain);
    EXPECT_EQ(b.seq, expected) << "trial " << trial << ": " << b.description;
    EXPECT_EQ(b.kind, kind) << "trial " << trial << ": " << b.description;
    if (b.seq == expected && b.kind == kind) ++detected;
  }
  EXPECT_EQ(detected, 700);
}

TEST(AuditChainTest, RecomputedHashBreaksTheNextLink) {
  std::vector<AuditEntry> chain = MakeChain(10);
  chain[4].actor = "someone else";
  chain[4].hash = AuditHash(chain[4]);
  AuditBreak b = CheckAuditChain(chain);
  EXPECT_EQ(b.kind, AuditBreak::kBrokenLink);
  EXPECT_EQ(b.seq, 6);
  EXPECT_EQ(b.description,
            "entry 6 does not follow entry 5: entry 5 was rewritten (hash "
            "recomputed), or entry 6 was inserted or replaced");
}

TEST(AuditChainTest, MissingFirstEntry) {
  std::vector<AuditEntry> chain = MakeChain(3);
  chain.erase(chain.begin());
  AuditBreak b = CheckAuditChain(chain);
  EXPECT_EQ(b.kind, AuditBreak::kMissing);
  EXPECT_EQ(b.seq, 1);
}

TEST(AuditChainTest, CheckerCountsAndWatches) {
  AuditChainChecker checker;
  checker.Watch(7);
  std::vector<AuditEntry> chain = MakeChain(20);
  for (const AuditEntry& e : chain) EXPECT_TRUE(checker.Add(e));
  EXPECT_TRUE(checker.intact());
  EXPECT_EQ(checker.count(), 20);
  EXPECT_EQ(checker.last_seq(), 20);
  EXPECT_EQ(checker.last_hash(), chain.back().hash);
  EXPECT_TRUE(checker.watched_seen());
  EXPECT_EQ(checker.watched_hash(), chain[6].hash);
}

// --- Checkpoints -----------------------------------------------------------

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

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = AuditSigner::FromPrivateKeyPem(NewPrivateKeyPem());
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = *std::move(signer);
    chain_ = MakeChain(3000);
    checkpoint_.seq = 2000;
    checkpoint_.hash = chain_[1999].hash;
    checkpoint_.time = absl::FromUnixSeconds(1'764'090'000);
    ASSERT_TRUE(signer_->Sign(checkpoint_).ok());
  }

  CheckpointMatch Match(const std::vector<AuditEntry>& chain) {
    AuditChainChecker checker;
    checker.Watch(checkpoint_.seq);
    for (const AuditEntry& e : chain) checker.Add(e);
    return MatchCheckpoint(checker, checkpoint_);
  }

  std::unique_ptr<AuditSigner> signer_;
  std::vector<AuditEntry> chain_;
  AuditCheckpoint checkpoint_;
};

TEST_F(CheckpointTest, SignedCheckpointVerifiesWithThePublicKey) {
  EXPECT_EQ(checkpoint_.signature.size(), 64u);
  EXPECT_EQ(checkpoint_.key_fingerprint, signer_->fingerprint());
  auto fingerprint = PublicKeyFingerprint(signer_->public_key_pem());
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_EQ(*fingerprint, signer_->fingerprint());
  EXPECT_TRUE(VerifyCheckpoint(checkpoint_, signer_->public_key_pem()).ok());
}

TEST_F(CheckpointTest, FileRoundTrips) {
  const std::string text = FormatCheckpointFile(checkpoint_);
  EXPECT_EQ(text.substr(0, text.find('\n')), "socle audit checkpoint v1");
  EXPECT_NE(text.find("\nseq: 2000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ntime: 2025-11-25T17:00:00Z\n"), std::string::npos) << text;
  auto parsed = ParseCheckpointFile(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->seq, checkpoint_.seq);
  EXPECT_EQ(parsed->hash, checkpoint_.hash);
  EXPECT_EQ(parsed->time, checkpoint_.time);
  EXPECT_EQ(parsed->key_fingerprint, checkpoint_.key_fingerprint);
  EXPECT_EQ(parsed->signature, checkpoint_.signature);
  EXPECT_TRUE(VerifyCheckpoint(*parsed, signer_->public_key_pem()).ok());
}

TEST_F(CheckpointTest, TamperedCheckpointsAreRefused) {
  AuditCheckpoint c = checkpoint_;
  c.signature[10] ^= 1;
  EXPECT_EQ(VerifyCheckpoint(c, signer_->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  c = checkpoint_;
  c.seq = 1000;  // an auditor's checkpoint moved back to hide a truncation
  EXPECT_EQ(VerifyCheckpoint(c, signer_->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  c = checkpoint_;
  c.hash = chain_[0].hash;
  EXPECT_EQ(VerifyCheckpoint(c, signer_->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  c = checkpoint_;
  c.time += absl::Seconds(1);
  EXPECT_EQ(VerifyCheckpoint(c, signer_->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  // Signed by another key than the auditor's.
  auto other = AuditSigner::FromPrivateKeyPem(NewPrivateKeyPem());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(VerifyCheckpoint(checkpoint_, (*other)->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  c = checkpoint_;
  ASSERT_TRUE((*other)->Sign(c).ok());
  EXPECT_EQ(VerifyCheckpoint(c, signer_->public_key_pem()).code(),
            absl::StatusCode::kPermissionDenied);
  // A bad key file is bad input, not a forgery.
  EXPECT_EQ(VerifyCheckpoint(checkpoint_, "not a key").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, MalformedFilesAreRefused) {
  const std::string good = FormatCheckpointFile(checkpoint_);
  EXPECT_EQ(ParseCheckpointFile("hello\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* field : {"seq: ", "hash: ", "time: ", "key: ", "signature: "}) {
    std::string text = good;
    size_t at = text.find(field);
    size_t end = text.find('\n', at);
    text.replace(at + std::string(field).size(), end - at - std::string(field).size(),
                 "zz");
    EXPECT_EQ(ParseCheckpointFile(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << field;
  }
}

TEST_F(CheckpointTest, ChainAgainstCheckpoint) {
  EXPECT_EQ(Match(chain_).kind, CheckpointMatch::kHeld);
  // Truncated tail: an intact chain that stops before the checkpoint.
  std::vector<AuditEntry> cut(chain_.begin(), chain_.begin() + 1500);
  EXPECT_EQ(CheckAuditChain(cut).kind, AuditBreak::kNone);
  CheckpointMatch m = Match(cut);
  EXPECT_EQ(m.kind, CheckpointMatch::kTruncatedTail);
  EXPECT_EQ(m.description,
            "truncated tail: the checkpoint is at entry 2000, the chain ends at entry 1500");
  EXPECT_EQ(Match({}).kind, CheckpointMatch::kTruncatedTail);
  // Rewritten history: every hash from entry 100 on recomputed, so that the
  // chain is consistent again; only the checkpoint shows it.
  std::vector<AuditEntry> rewritten = chain_;
  rewritten[99].details = "rewritten";
  for (size_t k = 99; k < rewritten.size(); ++k) {
    if (k > 99) rewritten[k].prev_hash = rewritten[k - 1].hash;
    rewritten[k].hash = AuditHash(rewritten[k]);
  }
  EXPECT_EQ(CheckAuditChain(rewritten).kind, AuditBreak::kNone);
  EXPECT_EQ(Match(rewritten).kind, CheckpointMatch::kRewritten);
  // An empty trail's checkpoint holds for any chain.
  AuditCheckpoint empty;
  empty.time = checkpoint_.time;
  ASSERT_TRUE(signer_->Sign(empty).ok());
  auto parsed = ParseCheckpointFile(FormatCheckpointFile(empty));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(VerifyCheckpoint(*parsed, signer_->public_key_pem()).ok());
}

}  // namespace
}  // namespace socle
