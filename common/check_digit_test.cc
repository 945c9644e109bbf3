#include "common/check_digit.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace socle {
namespace {

// An independent Verhoeff reference, built from the definitions rather than
// from the tables in check_digit.cc: the dihedral group D5 (0..4 rotations,
// 5..9 reflections) and the position permutation sigma =
// (1 5 8 9 4 2 7 0)(3 6) applied `pos % 8` times.
int RefMul(int j, int k) {
  if (j < 5 && k < 5) return (j + k) % 5;
  if (j < 5) return 5 + (j + k) % 5;
  if (k < 5) return 5 + (j - k + 5) % 5;
  return (j - k + 5) % 5;
}

int RefPerm(int pos, int x) {
  static constexpr int kSigma[10] = {1, 5, 7, 6, 2, 8, 3, 0, 9, 4};
  for (int i = 0; i < pos % 8; ++i) x = kSigma[x];
  return x;
}

int RefInverse(int j) {
  for (int k = 0; k < 10; ++k) {
    if (RefMul(j, k) == 0) return k;
  }
  return -1;
}

char RefDigit(const std::string& digits) {
  int c = 0;
  int pos = 1;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++pos) {
    c = RefMul(c, RefPerm(pos, *it - '0'));
  }
  return static_cast<char>('0' + RefInverse(c));
}

TEST(VerhoeffTest, ReferenceIsTheDihedralGroup) {
  // Sanity of the reference itself: identity, inverses, non-commutative.
  for (int j = 0; j < 10; ++j) {
    EXPECT_EQ(RefMul(0, j), j);
    EXPECT_EQ(RefMul(j, 0), j);
    EXPECT_EQ(RefMul(j, RefInverse(j)), 0);
  }
  EXPECT_NE(RefMul(1, 5), RefMul(5, 1));
}

// Vectors published with the algorithm (Wikipedia "Verhoeff algorithm":
// 236 -> 2363) and checked by hand against the reference above.
TEST(VerhoeffTest, KnownVectors) {
  EXPECT_EQ(VerhoeffDigit("236"), '3');
  EXPECT_EQ(VerhoeffDigit("12345"), '1');
  EXPECT_EQ(VerhoeffDigit("142857"), '0');
  EXPECT_EQ(VerhoeffDigit("0"), '4');
  EXPECT_EQ(VerhoeffDigit("1"), '5');
  EXPECT_EQ(VerhoeffDigit("123456789012"), '0');

  EXPECT_TRUE(VerhoeffValid("2363"));
  EXPECT_TRUE(VerhoeffValid("123451"));
  EXPECT_TRUE(VerhoeffValid("1428570"));
  EXPECT_FALSE(VerhoeffValid("2364"));
  EXPECT_FALSE(VerhoeffValid("2336"));  // 36 -> 63
  EXPECT_FALSE(VerhoeffValid("123450"));
}

TEST(VerhoeffTest, MatchesIndependentReference) {
  std::mt19937_64 rng(20240229);
  std::uniform_int_distribution<int> len(1, 20);
  std::uniform_int_distribution<int> digit(0, 9);
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    for (int i = len(rng); i > 0; --i) s.push_back(static_cast<char>('0' + digit(rng)));
    ASSERT_EQ(VerhoeffDigit(s), RefDigit(s)) << s;
    ASSERT_TRUE(VerhoeffValid(s + RefDigit(s))) << s;
  }
}

TEST(VerhoeffTest, DetectsEverySingleErrorAndAdjacentTransposition) {
  std::mt19937_64 rng(0x50c1e);  // fixed seed: reproducible
  std::uniform_int_distribution<int64_t> body_dist(0, 999'999'999);
  constexpr int kSamples = 100'000;
  int64_t rejected = 0;
  for (int n = 0; n < kSamples; ++n) {
    char body[16];
    std::snprintf(body, sizeof body, "%09lld",
                  static_cast<long long>(body_dist(rng)));
    std::string number = body;
    number.push_back(VerhoeffDigit(number));
    ASSERT_EQ(number.size(), 10u);
    ASSERT_TRUE(VerhoeffValid(number)) << number;

    // Every substitution of one digit, at every position (check digit too).
    for (size_t i = 0; i < number.size(); ++i) {
      std::string typo = number;
      for (char d = '0'; d <= '9'; ++d) {
        if (d == number[i]) continue;
        typo[i] = d;
        ASSERT_FALSE(VerhoeffValid(typo)) << number << " -> " << typo;
        ++rejected;
      }
    }
    // Every adjacent transposition of two different digits.
    for (size_t i = 0; i + 1 < number.size(); ++i) {
      if (number[i] == number[i + 1]) continue;
      std::string swapped = number;
      std::swap(swapped[i], swapped[i + 1]);
      ASSERT_FALSE(VerhoeffValid(swapped)) << number << " -> " << swapped;
      ++rejected;
    }
  }
  EXPECT_GE(rejected, int64_t{kSamples} * 90);
}

TEST(VerhoeffTest, RejectsNonDigitsAndEmpty) {
  EXPECT_EQ(VerhoeffDigit(""), '\0');
  EXPECT_EQ(VerhoeffDigit("12a4"), '\0');
  EXPECT_EQ(VerhoeffDigit(" 236"), '\0');
  EXPECT_EQ(VerhoeffDigit("-236"), '\0');

  EXPECT_FALSE(VerhoeffValid(""));
  EXPECT_FALSE(VerhoeffValid("3"));  // a check digit needs a body
  EXPECT_FALSE(VerhoeffValid("236 3"));
  EXPECT_FALSE(VerhoeffValid("2363 "));
  EXPECT_FALSE(VerhoeffValid("236-3"));
  EXPECT_FALSE(VerhoeffValid("23a3"));
  EXPECT_FALSE(VerhoeffValid("２３６３"));  // full-width digits
  EXPECT_FALSE(VerhoeffValid(std::string("236\0" "3", 5)));
  // Characters just outside '0'..'9' must not be read as digits.
  EXPECT_FALSE(VerhoeffValid("/363"));
  EXPECT_FALSE(VerhoeffValid(":363"));
}

}  // namespace
}  // namespace socle
