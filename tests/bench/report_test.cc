#include "tests/bench/report.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace socle::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Row RatioRow(const std::string& id, double value, double ceiling, Verdict verdict) {
  Row row;
  row.id = id;
  row.label = id + " label";
  row.unit = "req/s";
  row.value = value;
  row.ceiling_label = "empty RPC";
  row.ceiling = ceiling;
  row.ratio = value / ceiling;
  row.target = ">= 50 %";
  row.verdict = verdict;
  return row;
}

Row FigureRow(const std::string& id, double value, const std::string& unit) {
  Row row;
  row.id = id;
  row.label = id + " label";
  row.unit = unit;
  row.value = value;
  return row;
}

// The table line whose first cell is `label`.
std::string LineOf(const std::string& table, const std::string& label) {
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    if (absl::StartsWith(line, "| " + label + " ")) return std::string(line);
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FormatComparisonTest, RowsOfEachRunFaceEachOtherById) {
  Report sqlite, postgres;
  sqlite.rows = {RatioRow("register", 600, 1000, Verdict::kPass),
                 FigureRow("memory", 161.5, "MB"), FigureRow("growth", 1.1, "x"),
                 FigureRow("growth", 1.3, "x")};
  // Another order, one row fewer (memory), one more (bulk).
  postgres.rows = {FigureRow("bulk", 17536, "persons/s"), FigureRow("growth", 1.2, "x"),
                   RatioRow("register", 451, 1000, Verdict::kMiss),
                   FigureRow("growth", 1.4, "x")};
  const std::string table = FormatComparison({sqlite, postgres}, {"SQLite", "PostgreSQL"});

  EXPECT_THAT(LineOf(table, "scenario"), HasSubstr(" SQLite | result |"));
  EXPECT_THAT(LineOf(table, "scenario"), HasSubstr(" PostgreSQL | result |"));
  const std::string register_line = LineOf(table, "register label");
  EXPECT_THAT(register_line, HasSubstr(">= 50 %"));
  EXPECT_THAT(register_line, HasSubstr("60.0 % | PASS"));
  EXPECT_THAT(register_line, HasSubstr("45.1 % | MISS"));
  // A row one run lacks shows "-" in that run's column.
  EXPECT_THAT(LineOf(table, "memory label"), HasSubstr("161.5 MB"));
  EXPECT_THAT(LineOf(table, "memory label"), HasSubstr("| - "));
  // Rows judged on their figure (persons/s, MB, calls per fsync) show it,
  // not their ratio to a ceiling.
  Row bulk = RatioRow("bulk", 17536, 44000, Verdict::kMiss);
  bulk.unit = "persons/s";
  postgres.rows[0] = bulk;
  const std::string bulk_line =
      LineOf(FormatComparison({sqlite, postgres}, {"SQLite", "PostgreSQL"}), "bulk label");
  EXPECT_THAT(bulk_line, HasSubstr("17,536 persons/s | MISS"));
  // A row the first run lacks: "-" in its column, then the second's.
  EXPECT_THAT(bulk_line, HasSubstr(" - |        | 17,536 persons/s"));
  // Rows sharing an id pair up in order: the first growth row with the first.
  const size_t first = table.find("1.10 x");
  ASSERT_NE(first, std::string::npos);
  const std::string first_growth = table.substr(table.rfind('\n', first) + 1,
                                                table.find('\n', first) - table.rfind('\n', first));
  EXPECT_THAT(first_growth, HasSubstr("1.20 x"));
  EXPECT_THAT(first_growth, Not(HasSubstr("1.40 x")));
  // In the first run's order, then the rows only the others have.
  EXPECT_LT(table.find("register label"), table.find("memory label"));
  EXPECT_LT(table.find("growth label"), table.find("bulk label"));
}

TEST(WriteJsonTest, OneRunIsOneObjectSeveralAreRuns) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "socle_bench_report_test.json").string();
  Report sqlite, postgres;
  sqlite.settings = "store sqlite:";
  sqlite.rows = {RatioRow("register", 600, 1000, Verdict::kPass)};
  postgres.settings = "store postgresql://x";
  postgres.rows = {RatioRow("register", 451, 1000, Verdict::kMiss)};

  ASSERT_TRUE(WriteJson({sqlite}, path).ok());
  std::string one = ReadFile(path);
  EXPECT_THAT(one, Not(HasSubstr("\"runs\"")));
  EXPECT_THAT(one, HasSubstr("\"settings\": \"store sqlite:\""));
  EXPECT_THAT(one, HasSubstr("\"ratio\": 0.6,"));

  ASSERT_TRUE(WriteJson({sqlite, postgres}, path).ok());
  std::string both = ReadFile(path);
  EXPECT_THAT(both, HasSubstr("\"runs\": ["));
  EXPECT_THAT(both, HasSubstr("\"settings\": \"store sqlite:\""));
  EXPECT_THAT(both, HasSubstr("\"settings\": \"store postgresql://x\""));
  EXPECT_THAT(both, HasSubstr("\"ratio\": 0.451,"));
  EXPECT_THAT(both, HasSubstr("\"result\": \"MISS\""));
  std::filesystem::remove(path);
}

TEST(WriteJsonTest, AnUnwritablePathIsAnError) {
  EXPECT_FALSE(WriteJson({Report{}}, "/nonexistent-dir/bench.json").ok());
}

}  // namespace
}  // namespace socle::bench
