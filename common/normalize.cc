#include "common/normalize.h"

#include <cstdint>

#include "absl/strings/str_split.h"

namespace socle {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i,
// or returns -1 (and skips one byte) for an invalid sequence: bad or
// truncated bytes, overlong forms, surrogates and values above U+10FFFF.
int32_t DecodeUtf8(absl::string_view s, size_t& i) {
  unsigned char c = s[i];
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return -1;
  }
  int32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = s[i + k];
    if ((cc & 0xc0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  constexpr int32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || (cp >= 0xd800 && cp <= 0xdfff) ||
      cp > 0x10ffff) {
    ++i;
    return -1;
  }
  i += len;
  return cp;
}

void AppendUtf8(int32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// ASCII folding of U+00C0..U+00FF (lower case; "" for signs that are not
// letters, which become spaces).
constexpr const char* kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};

// ASCII folding of U+0100..U+017F, Latin Extended-A (pairs upper/lower).
constexpr const char* kLatinExtA[128] = {
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};

// ASCII folding of the Vietnamese letters of Latin Extended Additional
// (U+1EA0..U+1EF9, upper/lower pairs by vowel), or "" outside that block.
const char* FoldVietnamese(int32_t cp) {
  if (cp >= 0x1ea0 && cp <= 0x1eb7) return "a";
  if (cp >= 0x1eb8 && cp <= 0x1ec7) return "e";
  if (cp >= 0x1ec8 && cp <= 0x1ecb) return "i";
  if (cp >= 0x1ecc && cp <= 0x1ee3) return "o";
  if (cp >= 0x1ee4 && cp <= 0x1ef1) return "u";
  if (cp >= 0x1ef2 && cp <= 0x1ef9) return "y";
  return "";
}

bool IsSeparator(int32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '.' ||
         cp == ',' || cp == '\'' || cp == '-' || cp == '_' || cp == 0xa0 ||
         cp == 0x2019 || cp == 0x200b || cp == 0x3000;
}

}  // namespace

std::string NormalizeName(absl::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool pending_space = false;
  auto emit = [&](absl::string_view piece) {
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(piece.data(), piece.size());
  };
  size_t i = 0;
  while (i < name.size()) {
    int32_t cp = DecodeUtf8(name, i);
    if (cp < 0) continue;
    if (IsSeparator(cp) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      pending_space = true;
    } else if (cp < 0x80) {
      char c = static_cast<char>(cp);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      emit(absl::string_view(&c, 1));
    } else if (cp >= 0xc0 && cp <= 0xff) {
      absl::string_view folded = kLatin1[cp - 0xc0];
      if (folded.empty()) {
        pending_space = true;
      } else {
        emit(folded);
      }
    } else if (cp >= 0x100 && cp <= 0x17f) {
      emit(kLatinExtA[cp - 0x100]);
    } else if (cp == 0x01a0 || cp == 0x01a1) {  // Ơ ơ
      emit("o");
    } else if (cp == 0x01af || cp == 0x01b0) {  // Ư ư
      emit("u");
    } else if (*FoldVietnamese(cp) != '\0') {
      emit(FoldVietnamese(cp));
    } else if (cp >= 0x0300 && cp <= 0x036f) {
      // Combining diacritical marks (decomposed accents): dropped.
    } else {
      std::string encoded;
      AppendUtf8(cp, encoded);
      emit(encoded);
    }
  }
  return out;
}

std::vector<std::string> NameWords(absl::string_view name) {
  return absl::StrSplit(NormalizeName(name), ' ', absl::SkipEmpty());
}

}  // namespace socle
