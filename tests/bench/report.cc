#include "tests/bench/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace socle::bench {
namespace {

// 1234567 -> "1,234,567".
std::string Grouped(double v) {
  const long long n = std::llround(v);
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::string Value(const Row& row) {
  if (!row.value) return "-";
  const double v = *row.value;
  if (row.unit == "MB" || row.unit == "MB/100k") return absl::StrFormat("%.1f %s", v, row.unit);
  if (row.unit == "req/fsync") return absl::StrFormat("%.1f %s", v, row.unit);
  // Durations (payroll, reconciliation) and ratios of them (growth).
  if (row.unit == "s") return absl::StrFormat(v < 10 ? "%.3f s" : "%.1f s", v);
  if (row.unit == "x") return absl::StrFormat("%.2f x", v);
  return absl::StrCat(v >= 100 ? Grouped(v) : absl::StrFormat("%.1f", v), " ", row.unit);
}

std::string Ms(const std::optional<double>& ms) {
  if (!ms) return "-";
  return *ms >= 100 ? absl::StrFormat("%.0f", *ms) : absl::StrFormat("%.2f", *ms);
}

std::string Ceiling(const Row& row) {
  if (row.ceiling_label.empty()) return "-";
  if (!row.ceiling) return row.ceiling_label;
  if (row.unit == "s") {
    return absl::StrFormat(*row.ceiling < 10 ? "%s %.3f s" : "%s %.1f s", row.ceiling_label,
                           *row.ceiling);
  }
  return absl::StrCat(row.ceiling_label, " ", Grouped(*row.ceiling));
}

std::string Ratio(const Row& row) {
  if (!row.ratio) return "-";
  if (row.unit == "MB" || row.unit == "req/fsync") return absl::StrFormat("%.1f x", *row.ratio);
  if (row.unit == "s" || row.unit == "x") return absl::StrFormat("%.2f x", *row.ratio);
  return absl::StrFormat("%.1f %%", *row.ratio * 100);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "null";
  return absl::StrFormat("%.6g", *v);
}

// Whether a row's target speaks of its figure (persons/s, MB, calls per
// fsync) rather than of its ratio to the ceiling it also shows.
bool JudgedOnValue(const Row& row) {
  return row.unit == "persons/s" || row.unit == "MB" || row.unit == "req/fsync";
}

// A Markdown table: columns padded to their widest cell, numbers (the
// columns `right` names) right-aligned, text left-aligned.
std::string Tabulate(const std::vector<std::vector<std::string>>& cells,
                     const std::function<bool(size_t)>& right) {
  std::vector<size_t> width(cells[0].size(), 1);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (size_t l = 0; l < cells.size(); ++l) {
    out += "|";
    for (size_t i = 0; i < cells[l].size(); ++i) {
      const std::string pad(width[i] - cells[l][i].size(), ' ');
      out += absl::StrCat(" ", right(i) ? pad + cells[l][i] : cells[l][i] + pad, " |");
    }
    out += "\n";
    if (l == 0) {
      out += "|";
      for (size_t i = 0; i < width.size(); ++i) {
        out += absl::StrCat(right(i) ? " " : " :", std::string(width[i] - 1, '-'),
                            right(i) ? ": |" : " |");
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kInfo: return "";
    case Verdict::kPass: return "PASS";
    case Verdict::kMiss: return "MISS";
    case Verdict::kNa: return "n/a";
    case Verdict::kSkip: return "SKIP";
    case Verdict::kFail: return "FAIL";
  }
  return "?";
}

bool Report::AnyFailed() const {
  return std::any_of(rows.begin(), rows.end(),
                     [](const Row& r) { return r.verdict == Verdict::kFail; });
}

std::string FormatTable(const Report& report) {
  std::vector<std::vector<std::string>> cells = {
      {"scenario", "rate / size", "p50 ms", "p99 ms", "ceiling (same run)", "ratio", "target",
       "result"}};
  for (const Row& row : report.rows) {
    cells.push_back({row.label, Value(row), Ms(row.p50_ms), Ms(row.p99_ms), Ceiling(row),
                     Ratio(row), row.target.empty() ? "-" : row.target,
                     VerdictName(row.verdict)});
  }
  std::string out = Tabulate(cells, [](size_t column) { return column >= 1 && column <= 3; });
  std::string notes;
  int n = 0;
  for (const Row& row : report.rows) {
    if (!row.note.empty()) absl::StrAppend(&notes, "  ", ++n, ". ", row.label, ": ", row.note, "\n");
  }
  if (!notes.empty()) absl::StrAppend(&out, "\nNotes:\n", notes);
  return out;
}

std::string FormatComparison(const std::vector<Report>& runs,
                             const std::vector<std::string>& stores) {
  std::vector<std::string> header = {"scenario", "target"};
  for (const std::string& store : stores) {
    header.push_back(store);
    header.push_back("result");
  }
  // The k-th row with a given id in one run faces the k-th in the others;
  // lines in the order the keys first appear.
  using RowKey = std::pair<std::string, int>;
  std::vector<RowKey> keys;
  std::vector<std::map<RowKey, const Row*>> by_key(runs.size());
  for (size_t r = 0; r < runs.size(); ++r) {
    std::map<std::string, int> seen;
    for (const Row& row : runs[r].rows) {
      RowKey key(row.id, seen[row.id]++);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      by_key[r].emplace(std::move(key), &row);
    }
  }
  std::vector<std::vector<std::string>> cells = {header};
  for (const RowKey& key : keys) {
    std::vector<std::string> line(2);  // label and target: the first run's
    for (const auto& rows : by_key) {
      auto found = rows.find(key);
      if (found == rows.end()) {
        line.push_back("-");
        line.push_back("");
        continue;
      }
      const Row& row = *found->second;
      if (line[0].empty()) {
        line[0] = row.label;
        line[1] = row.target.empty() ? "-" : row.target;
      }
      line.push_back(row.ratio && !JudgedOnValue(row) ? Ratio(row) : Value(row));
      line.push_back(VerdictName(row.verdict));
    }
    cells.push_back(std::move(line));
  }
  return Tabulate(cells, [](size_t column) { return column >= 2 && column % 2 == 0; });
}

absl::Status WriteJson(const std::vector<Report>& runs, const std::string& path) {
  std::ofstream out(path);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  const bool several = runs.size() > 1;
  const std::string indent = several ? "    " : "  ";
  if (several) out << "{\n  \"runs\": [\n";
  for (size_t k = 0; k < runs.size(); ++k) {
    const Report& report = runs[k];
    out << (several ? "  {\n" : "{\n") << indent << "\"command\": " << JsonString(report.command)
        << ",\n" << indent << "\"machine\": " << JsonString(report.machine) << ",\n"
        << indent << "\"started\": " << JsonString(report.started) << ",\n" << indent
        << "\"settings\": " << JsonString(report.settings) << ",\n" << indent
        << "\"rows\": [\n";
    for (size_t i = 0; i < report.rows.size(); ++i) {
      const Row& r = report.rows[i];
      out << indent << "  {\"id\": " << JsonString(r.id) << ", \"label\": " << JsonString(r.label)
          << ", \"unit\": " << JsonString(r.unit) << ", \"value\": " << JsonNumber(r.value)
          << ", \"p50_ms\": " << JsonNumber(r.p50_ms) << ", \"p99_ms\": " << JsonNumber(r.p99_ms)
          << ", \"ceiling\": " << JsonString(r.ceiling_label)
          << ", \"ceiling_value\": " << JsonNumber(r.ceiling)
          << ", \"ratio\": " << JsonNumber(r.ratio) << ", \"target\": " << JsonString(r.target)
          << ", \"result\": " << JsonString(VerdictName(r.verdict))
          << ", \"note\": " << JsonString(r.note) << "}"
          << (i + 1 < report.rows.size() ? ",\n" : "\n");
    }
    out << indent << "]\n" << (several ? "  }" : "}")
        << (several && k + 1 < runs.size() ? ",\n" : "\n");
  }
  if (several) out << "  ]\n}\n";
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace socle::bench
