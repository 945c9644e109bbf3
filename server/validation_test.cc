#include "server/validation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace socle {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Fields(const FieldViolations& v) {
  std::vector<std::string> out;
  for (const auto& x : v.violations()) out.push_back(x.field);
  return out;
}

TEST(ValidationTest, OfficeCodes) {
  for (const char* good : {"KH-SR-03", "ID-JK", "MN-UB-01-A", "CV"}) {
    EXPECT_TRUE(IsValidOfficeCode(good)) << good;
  }
  for (const char* bad : {"", "K", "kh-sr-03", "KH--03", "KH-SR-", "KH SR", "KH-SR-03-A-B-C",
                          "KH-ABCDEFGHIJK"}) {
    EXPECT_FALSE(IsValidOfficeCode(bad)) << bad;
  }
}

TEST(ValidationTest, Text) {
  FieldViolations v;
  ValidateText("Nguyễn Thị Minh Khai", "a", 100, true, v);
  ValidateText("សុខា", "b", 100, true, v);
  EXPECT_TRUE(v.empty());
  ValidateText("tab\there", "c", 100, true, v);
  ValidateText("\xc3\x28", "d", 100, true, v);        // invalid UTF-8
  ValidateText("\xc0\xae", "e", 100, true, v);        // overlong
  ValidateText("   ", "f", 100, true, v);             // blank
  ValidateText(std::string(101, 'x'), "g", 100, false, v);
  ValidateText("ééééé", "h", 5, false, v);           // 5 code points: fine
  ValidateText("\xc2\x85", "i", 100, false, v);       // C1 control
  EXPECT_THAT(Fields(v), ElementsAre("c", "d", "e", "f", "g", "i"));
}

TEST(ValidationTest, RequestIds) {
  FieldViolations v;
  ValidateRequestId("6f1c2a7e-9d1b-4f3e-a8a5-0c2f6b1e9d44", "request_id", v);
  ValidateRequestId("terminal-7:000042", "request_id", v);
  EXPECT_TRUE(v.empty());
  ValidateRequestId("", "a", v);
  ValidateRequestId(std::string(65, 'a'), "b", v);
  ValidateRequestId("has space", "c", v);
  EXPECT_THAT(Fields(v), ElementsAre("a", "b", "c"));
}

TEST(ValidationTest, Money) {
  FieldViolations v;
  v1::Money m;
  ValidateMoney(m, "unset", false, v);
  EXPECT_TRUE(v.empty());
  ValidateMoney(m, "required", true, v);
  m.set_minor_units(-1);
  m.set_currency("KHR");
  ValidateMoney(m, "negative", false, v);
  m.set_minor_units(100);
  m.set_currency("khr");
  ValidateMoney(m, "currency", false, v);
  EXPECT_THAT(Fields(v), ElementsAre("required", "negative.minor_units", "currency.currency"));
}

TEST(ValidationTest, PageSize) {
  FieldViolations v;
  EXPECT_EQ(ValidatePageSize(0, "p", v), kDefaultPageSize);
  EXPECT_EQ(ValidatePageSize(500, "p", v), 500);
  EXPECT_TRUE(v.empty());
  ValidatePageSize(501, "p", v);
  ValidatePageSize(-1, "q", v);
  EXPECT_THAT(Fields(v), ElementsAre("p", "q"));
}

}  // namespace
}  // namespace socle
