#include "common/normalize.h"

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace socle {
namespace {

// UTF-8 encoding of one code point (test-local, independent of the code).
std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int len;
    char32_t cp;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += len;
  }
  return true;
}

TEST(NormalizeNameTest, Case) {
  EXPECT_EQ(NormalizeName("JEAN"), "jean");
  EXPECT_EQ(NormalizeName("McDonald"), "mcdonald");
  EXPECT_EQ(NormalizeName("abc xyz 0123"), "abc xyz 0123");
  EXPECT_EQ(NormalizeName(""), "");
}

TEST(NormalizeNameTest, Accents) {
  EXPECT_EQ(NormalizeName("José"), "jose");
  EXPECT_EQ(NormalizeName("JOSÉ"), "jose");
  EXPECT_EQ(NormalizeName("José"), NormalizeName("JOSE"));
  EXPECT_EQ(NormalizeName("  José  MARÍA "), "jose maria");
  EXPECT_EQ(NormalizeName("Françoise Müller"), "francoise muller");
  EXPECT_EQ(NormalizeName("ÅNGSTRÖM"), "angstrom");
  EXPECT_EQ(NormalizeName("Ñúñez"), "nunez");
  EXPECT_EQ(NormalizeName("Ÿvette ÿ"), "yvette y");
  // Letters without a decomposition get a conventional ASCII spelling.
  EXPECT_EQ(NormalizeName("Łódź"), "lodz");
  EXPECT_EQ(NormalizeName("ł"), "l");
  EXPECT_EQ(NormalizeName("Straße"), "strasse");
  EXPECT_EQ(NormalizeName("STRASSE"), "strasse");
  EXPECT_EQ(NormalizeName("Œuvre"), "oeuvre");
  EXPECT_EQ(NormalizeName("cœur"), "coeur");
  EXPECT_EQ(NormalizeName("Æsa"), "aesa");
  EXPECT_EQ(NormalizeName("Øre"), "ore");
  EXPECT_EQ(NormalizeName("Þór"), "thor");
  EXPECT_EQ(NormalizeName("Đặng"), "dang");  // ặ: see Vietnamese below
  EXPECT_EQ(NormalizeName("İstanbul ıi"), "istanbul ii");
  EXPECT_EQ(NormalizeName("Čapek Šťastný Žižka"), "capek stastny zizka");
}

// Every letter of Latin-1 Supplement and Latin Extended-A folds to lower-case
// ASCII; the two signs (× and ÷) become separators.
TEST(NormalizeNameTest, FoldedRangesGiveAscii) {
  for (char32_t cp = 0xc0; cp <= 0x17f; ++cp) {
    std::string got = NormalizeName(Utf8(cp));
    if (cp == 0xd7 || cp == 0xf7) {
      EXPECT_EQ(got, "") << std::hex << static_cast<uint32_t>(cp);
      continue;
    }
    ASSERT_FALSE(got.empty()) << std::hex << static_cast<uint32_t>(cp);
    for (char c : got) {
      EXPECT_TRUE(c >= 'a' && c <= 'z') << std::hex << static_cast<uint32_t>(cp) << " -> " << got;
    }
  }
  // Upper and lower case of Latin-1 fold alike.
  for (char32_t cp = 0xc0; cp <= 0xde; ++cp) {
    EXPECT_EQ(NormalizeName(Utf8(cp)), NormalizeName(Utf8(cp + 0x20)))
        << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_EQ(NormalizeName("a×b÷c"), "a b c");
}

// Vietnamese names fold whether typed precomposed (Latin Extended
// Additional, Ơ/Ư of Extended-B) or decomposed (combining marks dropped).
TEST(NormalizeNameTest, VietnameseFolds) {
  EXPECT_EQ(NormalizeName("Nguyễn"), "nguyen");
  EXPECT_EQ(NormalizeName("NGUYỄN"), "nguyen");
  EXPECT_EQ(NormalizeName("Nguye\u0302\u0303n"), "nguyen");
  EXPECT_EQ(NormalizeName("Đỗ"), "do");
  EXPECT_EQ(NormalizeName("Trần Thị Hà"), "tran thi ha");
  EXPECT_EQ(NormalizeName("Phạm Ngọc Thạch"), "pham ngoc thach");
  EXPECT_EQ(NormalizeName("Trương Lưu Hương"), "truong luu huong");
  EXPECT_EQ(NormalizeName("Lý Tự Trọng"), "ly tu trong");
  EXPECT_EQ(NormalizeName("Ơn Ứng Ỵ"), "on ung y");
}

TEST(NormalizeNameTest, SpacingAndPunctuationCollapse) {
  EXPECT_EQ(NormalizeName("  Jean-Pierre  O'Neil "), "jean pierre o neil");
  EXPECT_EQ(NormalizeName("O’Neil"), "o neil");  // U+2019
  EXPECT_EQ(NormalizeName("J. R. R. Tolkien"), "j r r tolkien");
  EXPECT_EQ(NormalizeName("Smith,John"), "smith john");
  EXPECT_EQ(NormalizeName("snake_case__name"), "snake case name");
  EXPECT_EQ(NormalizeName("a \t\r\n b"), "a b");
  EXPECT_EQ(NormalizeName("a\u00a0b"), "a b");       // no-break space
  EXPECT_EQ(NormalizeName("a\u3000b"), "a b");       // ideographic space
  EXPECT_EQ(NormalizeName("a\u200bb"), "a b");       // zero-width space
  EXPECT_EQ(NormalizeName(" -.,'_ "), "");
  EXPECT_EQ(NormalizeName("--Anne--"), "anne");
  // Other punctuation is kept as it is.
  EXPECT_EQ(NormalizeName("Smith/Jones (Ann)"), "smith/jones (ann)");
}

TEST(NormalizeNameTest, CombiningMarksDropped) {
  EXPECT_EQ(NormalizeName("e\u0301"), "e");
  EXPECT_EQ(NormalizeName("Jose\u0301"), "jose");
  EXPECT_EQ(NormalizeName("Jose\u0301"), NormalizeName("José"));
  EXPECT_EQ(NormalizeName("a\u0300\u0301\u0302\u036fb"), "ab");
  EXPECT_EQ(NormalizeName("\u0301"), "");
  EXPECT_EQ(NormalizeName("a \u0301b"), "a b");
  EXPECT_EQ(NormalizeName("\u0301 a"), "a");
}

TEST(NormalizeNameTest, KhmerUnchanged) {
  const std::string names[] = {"សុខ ដារ៉ា", "ចាន់ សុភាព", "ស៊ុន", "នី ស្រីមុំ"};
  for (const std::string& name : names) {
    EXPECT_EQ(NormalizeName(name), name);
  }
  EXPECT_EQ(NormalizeName("  សុខ   ដារ៉ា  "), "សុខ ដារ៉ា");
  EXPECT_EQ(NormalizeName("សុខ\u200bដារ៉ា"), "សុខ ដារ៉ា");
  EXPECT_EQ(NormalizeName("SOK សុខ"), "sok សុខ");
  EXPECT_EQ(NormalizeName("สมชาย"), "สมชาย");  // Thai
  EXPECT_EQ(NormalizeName("名前"), "名前");
  EXPECT_EQ(NormalizeName("a\U0001F600b"), "a\U0001F600b");  // 4-byte
}

TEST(NormalizeNameTest, ControlCharactersAreSeparators) {
  EXPECT_EQ(NormalizeName("a\x01" "b"), "a b");
  EXPECT_EQ(NormalizeName("a\x1f" "b"), "a b");
  EXPECT_EQ(NormalizeName("a\x7f" "b"), "a b");
  EXPECT_EQ(NormalizeName("a\x0b\x0c" "b"), "a b");
  EXPECT_EQ(NormalizeName(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(NormalizeName("\x01 a \x02"), "a");
  // C1 controls (U+0080..U+009F), e.g. NEL U+0085, are control characters
  // too.
  EXPECT_EQ(NormalizeName("a\u0085b"), "a b");
  EXPECT_EQ(NormalizeName("a\u0080b\u009fc"), "a b c");
}

TEST(NormalizeNameTest, InvalidUtf8Dropped) {
  EXPECT_EQ(NormalizeName("ab\xff" "cd"), "abcd");
  EXPECT_EQ(NormalizeName("\x80\xbf" "abc"), "abc");      // stray continuation
  EXPECT_EQ(NormalizeName("abc\xc3"), "abc");              // truncated at end
  EXPECT_EQ(NormalizeName("abc\xe1\x9e"), "abc");          // truncated 3-byte
  EXPECT_EQ(NormalizeName("\xc3(x"), "(x");                // bad continuation
  EXPECT_EQ(NormalizeName("Jos\xc3\xa9\xc3"), "jose");
  EXPECT_EQ(NormalizeName("\xf8\x88\x80\x80\x80" "a"), "a");  // 5-byte form
  // Overlong encodings are invalid, not another spelling of ASCII.
  EXPECT_EQ(NormalizeName("a\xc1\x81" "b"), "ab");         // 'A' overlong
  EXPECT_EQ(NormalizeName("a\xc0\xae" "b"), "ab");         // '.' overlong
  EXPECT_EQ(NormalizeName("a\xc0\x80" "b"), "ab");         // NUL overlong
  EXPECT_EQ(NormalizeName("a\xe0\x80\xaf" "b"), "ab");     // '/' overlong
  EXPECT_EQ(NormalizeName("a\xf0\x80\x80\xaf" "b"), "ab");
  // Surrogates and code points above U+10FFFF are not UTF-8.
  EXPECT_EQ(NormalizeName("a\xed\xa0\x80" "b"), "ab");
  EXPECT_EQ(NormalizeName("a\xed\xbf\xbf" "b"), "ab");
  EXPECT_EQ(NormalizeName("a\xf4\x90\x80\x80" "b"), "ab");
  EXPECT_EQ(NormalizeName("a\xf7\xbf\xbf\xbf" "b"), "ab");
  // The edges of the valid ranges still pass.
  EXPECT_EQ(NormalizeName("a\xed\x9f\xbf" "b"), "a\ud7ffb");
  EXPECT_EQ(NormalizeName("a\xee\x80\x80" "b"), "a\ue000b");
  EXPECT_EQ(NormalizeName("a\xf4\x8f\xbf\xbf" "b"), "a\U0010FFFFb");
  EXPECT_EQ(NormalizeName("a\xe0\xa0\x80" "b"), "a\u0800b");
  EXPECT_EQ(NormalizeName("a\xf0\x90\x80\x80" "b"), "a\U00010000b");
}

// Whatever bytes come in, the result is valid UTF-8 and normalising twice
// changes nothing.
TEST(NormalizeNameTest, RandomBytesGiveValidIdempotentOutput) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> len(0, 24);
  std::uniform_int_distribution<int> byte(0, 255);
  // Bias towards interesting bytes: lead bytes, continuations, ASCII.
  const std::string pieces[] = {"\xc3", "\xe1", "\xed", "\xf0", "\xf4",
                                "\x80", "\xbf", "\xa0", "\x9e", "A",
                                " ",    "-",    "\xcc\x81", "\xc3\x89"};
  std::uniform_int_distribution<int> piece(0, std::size(pieces) - 1);
  for (int n = 0; n < 200000; ++n) {
    std::string in;
    for (int k = len(rng); k > 0; --k) {
      if (byte(rng) < 128) {
        in += pieces[piece(rng)];
      } else {
        in += static_cast<char>(byte(rng));
      }
    }
    std::string once = NormalizeName(in);
    ASSERT_TRUE(IsValidUtf8(once)) << testing::PrintToString(in);
    ASSERT_EQ(NormalizeName(once), once) << testing::PrintToString(in);
    ASSERT_EQ(once.find("  "), std::string::npos);
    ASSERT_TRUE(once.empty() || (once.front() != ' ' && once.back() != ' '));
  }
}

TEST(NameWordsTest, Words) {
  EXPECT_EQ(NameWords("  Jean-Pierre  O'Neil "),
            (std::vector<std::string>{"jean", "pierre", "o", "neil"}));
  EXPECT_EQ(NameWords("José MARÍA"),
            (std::vector<std::string>{"jose", "maria"}));
  EXPECT_EQ(NameWords("សុខ ដារ៉ា"),
            (std::vector<std::string>{"សុខ", "ដារ៉ា"}));
  EXPECT_EQ(NameWords("Anne"), (std::vector<std::string>{"anne"}));
  EXPECT_TRUE(NameWords("").empty());
  EXPECT_TRUE(NameWords("  - . ").empty());
  EXPECT_TRUE(NameWords("\u0301").empty());
}

}  // namespace
}  // namespace socle
