#include "common/check_digit.h"

namespace socle {
namespace {

// Multiplication table of the dihedral group D5.
constexpr int kD[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
// Position-dependent permutation: row i is the permutation
// (1 5 8 9 4 2 7 0)(3 6) applied i times.
constexpr int kP[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
constexpr int kInv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

// Runs the Verhoeff recurrence over `digits` right to left, starting at
// position `offset`.
int Checksum(absl::string_view digits, int offset) {
  int c = 0;
  int pos = offset;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++pos) {
    c = kD[c][kP[pos % 8][*it - '0']];
  }
  return c;
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

}  // namespace

char VerhoeffDigit(absl::string_view digits) {
  if (!AllDigits(digits)) return '\0';
  return static_cast<char>('0' + kInv[Checksum(digits, 1)]);
}

bool VerhoeffValid(absl::string_view digits) {
  if (digits.size() < 2 || !AllDigits(digits)) return false;
  return Checksum(digits, 0) == 0;
}

}  // namespace socle
