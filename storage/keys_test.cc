#include "storage/keys.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace socle::storage {
namespace {

KeyRing::Key Filled(unsigned char byte) {
  KeyRing::Key k;
  k.fill(byte);
  return k;
}

std::shared_ptr<const KeyRing> Ring(std::map<uint32_t, KeyRing::Key> keys,
                                    unsigned char index = 0x77) {
  auto ring = KeyRing::Make(std::move(keys), Filled(index));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *ring;
}

const std::string kCtx = KeyRing::Context("persons", "facts", 42);

TEST(KeyRingTest, SealsAndOpens) {
  auto ring = Ring({{1, Filled(1)}});
  const std::string sealed = ring->Seal("income 1234567 KHR", kCtx);
  EXPECT_EQ(sealed.find("1234567"), std::string::npos);
  EXPECT_EQ(sealed.size(), 5 + 12 + 18 + 16u);
  EXPECT_EQ(KeyRing::KeyIdOf(sealed), 1u);
  auto opened = ring->Open(sealed, kCtx);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "income 1234567 KHR");
  // Empty values seal too (a value that is present but empty).
  auto empty = ring->Open(ring->Seal("", kCtx), kCtx);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(KeyRingTest, FreshNonceForEveryValue) {
  auto ring = Ring({{1, Filled(1)}});
  EXPECT_NE(ring->Seal("same", kCtx), ring->Seal("same", kCtx));
}

TEST(KeyRingTest, RefusesEveryAlteredByte) {
  auto ring = Ring({{1, Filled(1)}});
  const std::string sealed = ring->Seal("ID-0042", kCtx);
  // Every byte in turn: format, key id, nonce, ciphertext, tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x01;
    auto opened = ring->Open(bad, kCtx);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    // A changed key id names a key the ring lacks (bytes 1..4) or is refused
    // by the tag; anything else is DATA_LOSS.
    if (i >= 1 && i <= 4) {
      EXPECT_TRUE(opened.status().code() == absl::StatusCode::kFailedPrecondition ||
                  opened.status().code() == absl::StatusCode::kDataLoss)
          << i << " " << opened.status();
    } else {
      EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << i;
    }
  }
  // Truncated, extended, empty.
  EXPECT_EQ(ring->Open(sealed.substr(0, sealed.size() - 1), kCtx).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring->Open(sealed + "x", kCtx).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring->Open("", kCtx).status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyRingTest, BoundToTableColumnAndRow) {
  auto ring = Ring({{1, Filled(1)}});
  const std::string sealed = ring->Seal("ID-0042", kCtx);
  for (const std::string& other :
       {KeyRing::Context("persons", "facts", 43),  // another row (swap)
        KeyRing::Context("persons", "national_id", 42),  // another column
        KeyRing::Context("requests", "facts", 42)}) {     // another table
    EXPECT_EQ(ring->Open(sealed, other).status().code(), absl::StatusCode::kDataLoss)
        << other;
  }
}

TEST(KeyRingTest, WrongKeyRefused) {
  auto a = Ring({{1, Filled(1)}});
  auto b = Ring({{1, Filled(2)}});
  EXPECT_EQ(b->Open(a->Seal("x", kCtx), kCtx).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(KeyRingTest, NewestKeySealsOldKeysStillOpen) {
  auto old_ring = Ring({{1, Filled(1)}});
  const std::string old_value = old_ring->Seal("old", kCtx);
  auto both = Ring({{2, Filled(2)}, {1, Filled(1)}});
  EXPECT_EQ(both->current_key_id(), 2u);
  EXPECT_EQ(KeyRing::KeyIdOf(both->Seal("new", kCtx)), 2u);
  auto opened = both->Open(old_value, kCtx);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "old");
  // Once key 1 is dropped, its values name a missing key.
  auto new_only = Ring({{2, Filled(2)}});
  EXPECT_EQ(new_only->Open(old_value, kCtx).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(KeyRingTest, BlindIndexIsExactAndDependsOnIndexKey) {
  auto ring = Ring({{1, Filled(1)}});
  const std::string index = ring->BlindIndex("KH-0123");
  EXPECT_EQ(index.size(), 16u);
  EXPECT_EQ(ring->BlindIndex("KH-0123"), index);
  // The registry normalises before the store; the index compares bytes.
  EXPECT_NE(ring->BlindIndex("kh-0123"), index);
  EXPECT_NE(ring->BlindIndex("KH-0124"), index);
  EXPECT_EQ(ring->BlindIndex(""), "");
  // The data keys do not enter it: rotation leaves indexes unchanged.
  EXPECT_EQ(Ring({{2, Filled(9)}})->BlindIndex("KH-0123"), index);
  EXPECT_NE(Ring({{1, Filled(1)}}, 0x78)->BlindIndex("KH-0123"), index);
}

// Not a benchmark (nothing is asserted on time): prints what sealing costs
// on this machine, for the record.
TEST(KeyRingTest, CostPerOperation) {
  auto ring = Ring({{1, Filled(1)}});
  const std::string facts(120, 'f');
  constexpr int kRounds = 20000;
  std::string sealed;
  absl::Time start = absl::Now();
  for (int i = 0; i < kRounds; ++i) sealed = ring->Seal(facts, kCtx);
  const double seal_us = absl::ToDoubleMicroseconds(absl::Now() - start) / kRounds;
  start = absl::Now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(ring->Open(sealed, kCtx).ok());
  const double open_us = absl::ToDoubleMicroseconds(absl::Now() - start) / kRounds;
  start = absl::Now();
  for (int i = 0; i < kRounds; ++i) ASSERT_EQ(ring->BlindIndex("KH-0123456").size(), 16u);
  const double index_us = absl::ToDoubleMicroseconds(absl::Now() - start) / kRounds;
  std::printf("seal %.2f us, open %.2f us (120 bytes), blind index %.2f us\n", seal_us,
              open_us, index_us);
}

TEST(KeyRingTest, MakeRefusesNoKeysAndIdZero) {
  EXPECT_EQ(KeyRing::Make({}, Filled(1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyRing::Make({{0, Filled(1)}}, Filled(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/socle_keys_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }
  std::string Write(const std::string& name, const std::string& text,
                    mode_t mode = 0600) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

const std::string kHexA(64, 'a');
const std::string kHexB(64, 'b');

TEST_F(KeyFileTest, LoadsNewestForWriting) {
  auto ring = KeyRing::Load(
      Write("data.keys", "# comment\n3 " + kHexB + "\n\n1 " + kHexA + "  # old\n"),
      Write("index.key", kHexA + "\n"));
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ((*ring)->current_key_id(), 3u);
}

TEST_F(KeyFileTest, RefusesBadFiles) {
  const std::string index = Write("index.key", kHexA + "\n");
  const std::string data = Write("data.keys", "1 " + kHexA + "\n");
  struct Case {
    std::string data_text;
    absl::StatusCode code;
  } cases[] = {
      {"", absl::StatusCode::kInvalidArgument},
      {"1 " + kHexA.substr(2) + "\n", absl::StatusCode::kInvalidArgument},
      {"0 " + kHexA + "\n", absl::StatusCode::kInvalidArgument},
      {"1 " + kHexA + "\n1 " + kHexB + "\n", absl::StatusCode::kInvalidArgument},
      {"x " + kHexA + "\n", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto ring = KeyRing::Load(Write("bad.keys", c.data_text), index);
    EXPECT_EQ(ring.status().code(), c.code) << c.data_text;
    // Errors never quote key material.
    EXPECT_EQ(std::string(ring.status().message()).find("aaaa"), std::string::npos);
  }
  EXPECT_EQ(KeyRing::Load(data, Write("i2", "\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyRing::Load(data, dir_ + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(KeyRing::Load(Write("open.keys", "1 " + kHexA + "\n", 0644), index)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace socle::storage
