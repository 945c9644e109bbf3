#include "server/audit.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

std::vector<storage::AuditRecord> MakeChain(int n) {
  std::vector<storage::AuditRecord> chain;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    storage::AuditRecord e;
    e.seq = i;
    e.at = absl::FromUnixSeconds(1'700'000'000 + i);
    e.actor = "terminal:KH-SR-03:T01";
    e.office_code = "KH-SR-03";
    e.action = i % 2 ? "RegisterPerson" : "RecordLifeEvent";
    e.subject = absl::StrCat("subject-", i);
    e.details = "registered";
    e.prev_hash = prev;
    e.hash = AuditHash(e);
    prev = e.hash;
    chain.push_back(e);
  }
  return chain;
}

TEST(AuditTest, IntactChainVerifies) {
  EXPECT_EQ(FirstBrokenAuditEntry(MakeChain(0)), 0);
  EXPECT_EQ(FirstBrokenAuditEntry(MakeChain(3000)), 0);
}

TEST(AuditTest, RandomEditsDeletionsAndSwapsAreDetectedWhereTheyHappen) {
  const std::vector<storage::AuditRecord> original = MakeChain(3000);
  std::mt19937_64 rng(20261125);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<storage::AuditRecord> chain = original;
    const size_t i = rng() % (chain.size() - 1);
    int64_t expected = chain[i].seq;
    switch (trial % 4) {
      case 0:
        chain[i].details += "x";
        break;
      case 1:
        chain[i].at += absl::Seconds(1);
        break;
      case 2:
        chain.erase(chain.begin() + i);
        break;
      case 3:
        std::swap(chain[i], chain[i + 1]);
        break;
    }
    EXPECT_EQ(FirstBrokenAuditEntry(chain), expected) << "trial " << trial;
  }
}

TEST(AuditTest, RecomputedHashStillBreaksTheNextLink) {
  std::vector<storage::AuditRecord> chain = MakeChain(10);
  chain[4].actor = "someone else";
  chain[4].hash = AuditHash(chain[4]);
  EXPECT_EQ(FirstBrokenAuditEntry(chain), 6);
}

}  // namespace
}  // namespace socle
