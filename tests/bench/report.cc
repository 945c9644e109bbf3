#include "tests/bench/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>

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
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (size_t l = 0; l < cells.size(); ++l) {
    out += "|";
    for (size_t i = 0; i < cells[l].size(); ++i) {
      // Numbers right-aligned, text left-aligned.
      const bool right = i >= 1 && i <= 3;
      const std::string pad(width[i] - cells[l][i].size(), ' ');
      out += absl::StrCat(" ", right ? pad + cells[l][i] : cells[l][i] + pad, " |");
    }
    out += "\n";
    if (l == 0) {
      out += "|";
      for (size_t i = 0; i < width.size(); ++i) {
        const bool right = i >= 1 && i <= 3;
        out += absl::StrCat(right ? " " : " :", std::string(width[i] - 1, '-'),
                            right ? ": |" : " |");
      }
      out += "\n";
    }
  }
  std::string notes;
  int n = 0;
  for (const Row& row : report.rows) {
    if (!row.note.empty()) absl::StrAppend(&notes, "  ", ++n, ". ", row.label, ": ", row.note, "\n");
  }
  if (!notes.empty()) absl::StrAppend(&out, "\nNotes:\n", notes);
  return out;
}

absl::Status WriteJson(const Report& report, const std::string& path) {
  std::ofstream out(path);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  out << "{\n  \"command\": " << JsonString(report.command)
      << ",\n  \"machine\": " << JsonString(report.machine)
      << ",\n  \"started\": " << JsonString(report.started)
      << ",\n  \"settings\": " << JsonString(report.settings) << ",\n  \"rows\": [\n";
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const Row& r = report.rows[i];
    out << "    {\"id\": " << JsonString(r.id) << ", \"label\": " << JsonString(r.label)
        << ", \"unit\": " << JsonString(r.unit) << ", \"value\": " << JsonNumber(r.value)
        << ", \"p50_ms\": " << JsonNumber(r.p50_ms) << ", \"p99_ms\": " << JsonNumber(r.p99_ms)
        << ", \"ceiling\": " << JsonString(r.ceiling_label)
        << ", \"ceiling_value\": " << JsonNumber(r.ceiling)
        << ", \"ratio\": " << JsonNumber(r.ratio) << ", \"target\": " << JsonString(r.target)
        << ", \"result\": " << JsonString(VerdictName(r.verdict))
        << ", \"note\": " << JsonString(r.note) << "}"
        << (i + 1 < report.rows.size() ? ",\n" : "\n");
  }
  out << "  ]\n}\n";
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace socle::bench
