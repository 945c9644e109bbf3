#include "client/cli/reconcile_report.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/format.h"
#include "client/cli/money.h"
#include "client/cli/tool.h"
#include "common/status_macros.h"

namespace socle::client::cli {
namespace {

v1::Money MoneyOf(int64_t minor, absl::string_view currency) {
  v1::Money m;
  m.set_minor_units(minor);
  m.set_currency(std::string(currency));
  return m;
}

// Grouped, without the code: "10,000,000.00".
std::string Grouped(int64_t minor, absl::string_view currency) {
  return FormatMinorUnitsGrouped(minor, CurrencyExponent(currency));
}
// Exact and plain, for CSV: "10000000.00".
std::string Plain(int64_t minor, absl::string_view currency) {
  return FormatMinorUnits(minor, CurrencyExponent(currency));
}

std::string OrAll(absl::string_view s) { return s.empty() ? "all" : std::string(s); }

// A text table: columns padded to their widest cell, two spaces apart;
// right-aligned columns for numbers; a rule before the rows in `rules`.
struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
  std::set<size_t> rules;

  std::string Render() const {
    std::vector<size_t> width(headers.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
      for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], row[i].size());
      }
    };
    measure(headers);
    for (const auto& row : rows) measure(row);
    size_t total = 0;
    for (size_t w : width) total += w + 2;
    total = total >= 2 ? total - 2 : 0;
    auto line = [&](const std::vector<std::string>& row) {
      std::string out;
      for (size_t i = 0; i < width.size(); ++i) {
        const std::string cell = i < row.size() ? row[i] : "";
        const std::string pad(width[i] - std::min(width[i], cell.size()), ' ');
        if (i > 0) out += "  ";
        out += right[i] ? pad + cell : cell + pad;
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "\n";
    };
    std::string out = line(headers);
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rules.count(r)) out += std::string(total, '-') + "\n";
      out += line(rows[r]);
    }
    return out;
  }
};

int64_t NetPaid(const v1::ReconciliationRow& r) { return r.paid_minor() - r.reversed_minor(); }

std::string Heading(const v1::ReconciliationReport& report) {
  std::string out = absl::StrCat("Reconciliation of ", report.period());
  if (!report.office_code().empty() || !report.programme_code().empty()) {
    absl::StrAppend(&out, " (office ", OrAll(report.office_code()), ", programme ",
                    OrAll(report.programme_code()), ")");
  }
  return out;
}

std::string BalanceSentence(const v1::ReconciliationReport& report) {
  return report.balanced()
             ? "The totals balance to the unit: owed - (paid - reversed) = "
               "outstanding - excess."
             : "THE TOTALS DO NOT BALANCE: owed - (paid - reversed) differs from "
               "outstanding - excess. Report this to the system administrator.";
}

std::string PaymentIds(const v1::Discrepancy& d) { return absl::StrJoin(d.payment_ids(), " "); }

// ---------------------------------------------------------------------------
// Table

std::string RenderTable(const v1::ReconciliationReport& report,
                        const v1::StatementReconciliation* statement) {
  std::string out = Heading(report);
  const std::string when = FormatTimestamp(report.computed_at());
  if (!when.empty()) absl::StrAppend(&out, ", computed ", when);
  absl::StrAppend(&out, "\n", BalanceSentence(report), "\n\n");
  if (report.rows().empty()) {
    absl::StrAppend(&out, "Nothing owed and nothing paid in this period.\n");
  } else {
    TextTable money;
    money.headers = {"OFFICE", "PROGRAMME", "CUR", "LINES", "OWED", "PAID",
                     "REVERSED", "OUTSTANDING", "EXCESS"};
    money.right = {false, false, false, true, true, true, true, true, true};
    TextTable counts;
    counts.headers = {"OFFICE", "PROGRAMME", "IN FULL", "UNPAID", "UNDER", "OVER",
                      "TWICE", "NO LINE", "AFTER DEATH"};
    counts.right = {false, false, true, true, true, true, true, true, true};
    auto add = [&](const v1::ReconciliationRow& r, absl::string_view office,
                   absl::string_view programme) {
      const std::string& c = r.currency();
      money.rows.push_back({std::string(office), std::string(programme), c,
                            FormatCount(r.lines()), Grouped(r.owed_minor(), c),
                            Grouped(r.paid_minor(), c), Grouped(r.reversed_minor(), c),
                            Grouped(r.outstanding_minor(), c), Grouped(r.excess_minor(), c)});
      counts.rows.push_back({std::string(office), std::string(programme),
                             FormatCount(r.paid_in_full()), FormatCount(r.unpaid()),
                             FormatCount(r.underpaid()), FormatCount(r.overpaid()),
                             FormatCount(r.paid_twice()),
                             FormatCount(r.paid_without_entitlement()),
                             FormatCount(r.paid_after_death())});
    };
    for (const v1::ReconciliationRow& r : report.rows()) {
      add(r, r.office_code(), r.programme_code());
    }
    money.rules.insert(money.rows.size());
    counts.rules.insert(counts.rows.size());
    for (const v1::ReconciliationRow& t : report.totals()) add(t, "all", "");
    absl::StrAppend(&out, "Amounts (", report.totals_size() == 1 ? report.totals(0).currency()
                                                                  : "per currency",
                    "):\n", money.Render(), "\nLines and payments by category:\n",
                    counts.Render());
  }
  absl::StrAppend(&out, "\n");
  if (report.discrepancies().empty()) {
    absl::StrAppend(&out, "No discrepancy: every line is paid in full.\n");
  } else {
    absl::StrAppend(&out, "Discrepancies (", FormatCount(report.discrepancies_size()));
    if (report.discrepancies_omitted() > 0) {
      absl::StrAppend(&out, " listed, ", FormatCount(report.discrepancies_omitted()),
                      " more not listed: raise --max");
    }
    absl::StrAppend(&out, "):\n");
    TextTable t;
    t.headers = {"CATEGORY", "OFFICE", "PROGRAMME", "LINE", "BENEFICIARY", "OWED", "PAID",
                 "PAYMENTS"};
    t.right = {false, false, false, false, false, true, true, false};
    for (const v1::Discrepancy& d : report.discrepancies()) {
      std::string category = CategoryName(d.category());
      if (d.has_date_of_death()) {
        absl::StrAppend(&category, " (died ", FormatDate(d.date_of_death()), ")");
      }
      t.rows.push_back({category, d.office_code(), d.programme_code(),
                        d.line_id().empty() ? "-" : d.line_id(),
                        GroupNumber(d.beneficiary_number()), FormatMoneyGrouped(d.owed()),
                        FormatMoneyGrouped(d.paid()), PaymentIds(d)});
    }
    absl::StrAppend(&out, t.Render());
  }
  if (statement != nullptr) {
    absl::StrAppend(&out, "\nProvider statement: ", FormatCount(statement->matched()),
                    " matched, ", FormatCount(statement->amount_differs()), " amount differs, ",
                    FormatCount(statement->missing_in_socle()), " missing in socle, ",
                    FormatCount(statement->missing_on_statement()),
                    " missing on the statement\n");
    for (const v1::Money& m : statement->statement_total()) {
      absl::StrAppend(&out, "  statement total ", FormatMoneyGrouped(m), "\n");
    }
    for (const v1::Money& m : statement->recorded_total()) {
      absl::StrAppend(&out, "  recorded total  ", FormatMoneyGrouped(m), "\n");
    }
    if (!statement->lines().empty()) {
      TextTable t;
      t.headers = {"MATCH", "REFERENCE", "STATEMENT", "RECORDED", "PAYMENT", "OFFICE"};
      t.right = {false, false, true, true, false, false};
      for (const v1::StatementLine& l : statement->lines()) {
        t.rows.push_back({MatchName(l.match()), l.provider_reference(),
                          l.has_statement_amount() ? FormatMoneyGrouped(l.statement_amount()) : "-",
                          l.has_recorded_amount() ? FormatMoneyGrouped(l.recorded_amount()) : "-",
                          l.payment_id().empty() ? "-" : l.payment_id(),
                          l.office_code().empty() ? "-" : l.office_code()});
      }
      absl::StrAppend(&out, "\n", t.Render());
      if (statement->lines_omitted() > 0) {
        absl::StrAppend(&out, FormatCount(statement->lines_omitted()), " more not listed\n");
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// CSV

std::string RenderCsv(const v1::ReconciliationReport& report,
                      const v1::StatementReconciliation* statement) {
  std::string out = CsvLine(
      {"record", "period", "office", "programme", "currency", "lines", "payments", "owed",
       "paid", "reversed", "outstanding", "excess", "paid_in_full", "unpaid", "underpaid",
       "overpaid", "paid_twice", "paid_without_entitlement", "paid_after_death", "balanced"});
  auto row = [&](absl::string_view kind, const v1::ReconciliationRow& r) {
    const std::string& c = r.currency();
    out += CsvLine({std::string(kind), report.period(), r.office_code(), r.programme_code(), c,
                    absl::StrCat(r.lines()), absl::StrCat(r.payments()),
                    Plain(r.owed_minor(), c), Plain(r.paid_minor(), c),
                    Plain(r.reversed_minor(), c), Plain(r.outstanding_minor(), c),
                    Plain(r.excess_minor(), c), absl::StrCat(r.paid_in_full()),
                    absl::StrCat(r.unpaid()), absl::StrCat(r.underpaid()),
                    absl::StrCat(r.overpaid()), absl::StrCat(r.paid_twice()),
                    absl::StrCat(r.paid_without_entitlement()),
                    absl::StrCat(r.paid_after_death()), report.balanced() ? "yes" : "no"});
  };
  for (const auto& r : report.rows()) row("row", r);
  for (const auto& t : report.totals()) row("total", t);
  out += "\r\n";
  out += CsvLine({"record", "category", "office", "programme", "line_id", "cycle_id",
                  "beneficiary_number", "currency", "owed", "paid", "payment_ids",
                  "date_of_death"});
  for (const v1::Discrepancy& d : report.discrepancies()) {
    const std::string& c = d.owed().currency().empty() ? d.paid().currency() : d.owed().currency();
    out += CsvLine({"discrepancy", CategoryName(d.category()), d.office_code(),
                    d.programme_code(), d.line_id(), d.cycle_id(), d.beneficiary_number(), c,
                    Plain(d.owed().minor_units(), c), Plain(d.paid().minor_units(), c),
                    PaymentIds(d), FormatDate(d.date_of_death())});
  }
  if (report.discrepancies_omitted() > 0) {
    out += CsvLine({"omitted", absl::StrCat(report.discrepancies_omitted())});
  }
  if (statement != nullptr) {
    out += "\r\n";
    out += CsvLine({"record", "match", "provider_reference", "statement_currency",
                    "statement_amount", "statement_date", "recorded_currency",
                    "recorded_amount", "payment_id", "office", "line_id"});
    for (const v1::StatementLine& l : statement->lines()) {
      const std::string& sc = l.statement_amount().currency();
      const std::string& rc = l.recorded_amount().currency();
      out += CsvLine({"statement", MatchName(l.match()), l.provider_reference(), sc,
                      l.has_statement_amount() ? Plain(l.statement_amount().minor_units(), sc) : "",
                      FormatDate(l.statement_date()), rc,
                      l.has_recorded_amount() ? Plain(l.recorded_amount().minor_units(), rc) : "",
                      l.payment_id(), l.office_code(), l.line_id()});
    }
    out += CsvLine({"statement_counts", absl::StrCat("matched=", statement->matched()),
                    absl::StrCat("amount_differs=", statement->amount_differs()),
                    absl::StrCat("missing_in_socle=", statement->missing_in_socle()),
                    absl::StrCat("missing_on_statement=", statement->missing_on_statement())});
  }
  return out;
}

// ---------------------------------------------------------------------------
// HTML

constexpr absl::string_view kCss = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans Khmer",sans-serif;
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2433;background:#fff}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #d6dbe4;padding-bottom:.25rem}
.meta{color:#55607a;margin-top:0}.ok{color:#1a7f37;font-weight:600}
.bad{color:#b42318;font-weight:700}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ef;text-align:left;vertical-align:top}
th{background:#f3f5f9;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:2px solid #9aa3b5}
.cat{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.8rem;background:#eef1f6}
.cat-unpaid,.cat-missing-in-socle{background:#fde2e1}.cat-underpaid{background:#fff1d6}
.cat-overpaid,.cat-amount-differs{background:#e5edff}.cat-paid-twice{background:#ece3ff}
.cat-paid-without-entitlement,.cat-paid-after-death,.cat-missing-on-statement{background:#fbd5d5;
font-weight:600}
svg text{font-size:12px;fill:#1d2433}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
)css";

std::string Css(absl::string_view words) {
  std::string out;
  for (char c : words) {
    out += absl::ascii_isalnum(static_cast<unsigned char>(c))
               ? static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(c)))
               : '-';
  }
  return out;
}

std::string Td(absl::string_view text, bool number = false) {
  return absl::StrCat(number ? "<td class=\"n\">" : "<td>", HtmlEscape(text), "</td>");
}
std::string Th(absl::string_view text, bool number = false) {
  return absl::StrCat(number ? "<th class=\"n\">" : "<th>", HtmlEscape(text), "</th>");
}

// value * span / max, rounded down, with 128-bit integers: no overflow and
// no floating point.
int64_t Scale(int64_t value, int64_t max, int64_t span) {
  if (max <= 0 || value <= 0) return 0;
  return static_cast<int64_t>(absl::int128(value) * span / max);
}

// Owed against paid (net of reversals) per office, one chart per currency:
// horizontal bars scaled to the largest amount of the chart.
std::string Chart(const v1::ReconciliationReport& report) {
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> by_currency;
  for (const v1::ReconciliationRow& r : report.rows()) {
    auto& [owed, paid] = by_currency[r.currency()][r.office_code()];
    owed += r.owed_minor();
    paid += NetPaid(r);
  }
  std::string out;
  constexpr int64_t kLabel = 130, kBars = 520, kRow = 44, kBar = 16;
  for (const auto& [currency, offices] : by_currency) {
    int64_t max = 0;
    for (const auto& [office, amounts] : offices) {
      max = std::max({max, amounts.first, amounts.second});
    }
    const int64_t height = 30 + kRow * static_cast<int64_t>(offices.size());
    const int64_t width = kLabel + kBars + 200;
    absl::StrAppend(&out, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" ",
                    "width=\"", width, "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ",
                    height, "\"><title>Owed and paid per office, ", HtmlEscape(currency),
                    "</title>");
    // Legend.
    absl::StrAppend(&out, "<rect x=\"", kLabel, "\" y=\"4\" width=\"12\" height=\"12\" ",
                    "fill=\"#9aa3b5\"/><text x=\"", kLabel + 16, "\" y=\"14\">owed</text>",
                    "<rect x=\"", kLabel + 70, "\" y=\"4\" width=\"12\" height=\"12\" ",
                    "fill=\"#1a7f37\"/><text x=\"", kLabel + 86,
                    "\" y=\"14\">paid (net of reversals)</text>");
    int64_t y = 26;
    for (const auto& [office, amounts] : offices) {
      const auto [owed, paid] = amounts;
      const int64_t owed_width = Scale(owed, max, kBars);
      const int64_t paid_width = Scale(paid, max, kBars);
      absl::StrAppend(&out, "<text x=\"0\" y=\"", y + kBar, "\">", HtmlEscape(office),
                      "</text>");
      absl::StrAppend(&out, "<rect x=\"", kLabel, "\" y=\"", y, "\" width=\"", owed_width,
                      "\" height=\"", kBar, "\" fill=\"#9aa3b5\"><title>owed ",
                      HtmlEscape(FormatMoneyGrouped(MoneyOf(owed, currency))), "</title></rect>");
      absl::StrAppend(&out, "<text x=\"", kLabel + owed_width + 6, "\" y=\"", y + 12, "\">",
                      HtmlEscape(Grouped(owed, currency)), "</text>");
      absl::StrAppend(&out, "<rect x=\"", kLabel, "\" y=\"", y + kBar + 2, "\" width=\"",
                      paid_width, "\" height=\"", kBar, "\" fill=\"#1a7f37\"><title>paid ",
                      HtmlEscape(FormatMoneyGrouped(MoneyOf(paid, currency))), "</title></rect>");
      absl::StrAppend(&out, "<text x=\"", kLabel + paid_width + 6, "\" y=\"", y + kBar + 14,
                      "\">", HtmlEscape(Grouped(paid, currency)), "</text>");
      y += kRow;
    }
    absl::StrAppend(&out, "</svg><figcaption>Owed and paid per office, ",
                    HtmlEscape(currency), "; bars to scale.</figcaption></figure>\n");
  }
  return out;
}

std::string RenderHtml(const v1::ReconciliationReport& report,
                       const v1::StatementReconciliation* statement) {
  const std::string title = Heading(report);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      HtmlEscape(title), "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n<h1>",
      HtmlEscape(title), "</h1>\n<p class=\"meta\">Office: ",
      HtmlEscape(OrAll(report.office_code())), " &middot; Programme: ",
      HtmlEscape(OrAll(report.programme_code())));
  const std::string when = FormatTimestamp(report.computed_at());
  if (!when.empty()) absl::StrAppend(&out, " &middot; computed ", HtmlEscape(when));
  absl::StrAppend(&out, "</p>\n<p class=\"", report.balanced() ? "ok" : "bad", "\">",
                  HtmlEscape(BalanceSentence(report)), "</p>\n");

  absl::StrAppend(&out, "<h2>Summary</h2>\n");
  if (report.rows().empty()) {
    absl::StrAppend(&out, "<p>Nothing owed and nothing paid in this period.</p>\n");
  } else {
    absl::StrAppend(&out, "<table>\n<thead><tr>", Th("Office"), Th("Programme"), Th("Currency"),
                    Th("Lines", true), Th("Owed", true), Th("Paid", true), Th("Reversed", true),
                    Th("Outstanding", true), Th("Excess", true), Th("In full", true),
                    Th("Unpaid", true), Th("Under", true), Th("Over", true), Th("Twice", true),
                    Th("No line", true), Th("After death", true), "</tr></thead>\n<tbody>\n");
    auto row = [&](const v1::ReconciliationRow& r, bool total) {
      const std::string& c = r.currency();
      absl::StrAppend(&out, total ? "<tr class=\"total\">" : "<tr>",
                      Td(total ? "all" : r.office_code()), Td(r.programme_code()), Td(c),
                      Td(FormatCount(r.lines()), true), Td(Grouped(r.owed_minor(), c), true),
                      Td(Grouped(r.paid_minor(), c), true),
                      Td(Grouped(r.reversed_minor(), c), true),
                      Td(Grouped(r.outstanding_minor(), c), true),
                      Td(Grouped(r.excess_minor(), c), true));
      for (int64_t n : {r.paid_in_full(), r.unpaid(), r.underpaid(), r.overpaid(),
                        r.paid_twice(), r.paid_without_entitlement(), r.paid_after_death()}) {
        absl::StrAppend(&out, Td(FormatCount(n), true));
      }
      absl::StrAppend(&out, "</tr>\n");
    };
    for (const auto& r : report.rows()) row(r, false);
    for (const auto& t : report.totals()) row(t, true);
    absl::StrAppend(&out, "</tbody>\n</table>\n<h2>Owed and paid per office</h2>\n",
                    Chart(report));
  }

  absl::StrAppend(&out, "<h2>Discrepancies</h2>\n");
  if (report.discrepancies().empty()) {
    absl::StrAppend(&out, "<p>No discrepancy: every line is paid in full.</p>\n");
  } else {
    if (report.discrepancies_omitted() > 0) {
      absl::StrAppend(&out, "<p>", FormatCount(report.discrepancies_size()), " listed; ",
                      FormatCount(report.discrepancies_omitted()),
                      " more not listed (raise --max).</p>\n");
    }
    absl::StrAppend(&out, "<table>\n<thead><tr>", Th("Category"), Th("Office"),
                    Th("Programme"), Th("Line"), Th("Beneficiary"), Th("Owed", true),
                    Th("Paid", true), Th("Payments"), Th("Died"), "</tr></thead>\n<tbody>\n");
    for (const v1::Discrepancy& d : report.discrepancies()) {
      const std::string name = CategoryName(d.category());
      absl::StrAppend(&out, "<tr><td><span class=\"cat cat-", Css(name), "\">",
                      HtmlEscape(name), "</span></td>", Td(d.office_code()),
                      Td(d.programme_code()), Td(d.line_id().empty() ? "-" : d.line_id()),
                      Td(GroupNumber(d.beneficiary_number())),
                      Td(FormatMoneyGrouped(d.owed()), true),
                      Td(FormatMoneyGrouped(d.paid()), true), Td(PaymentIds(d)),
                      Td(FormatDate(d.date_of_death())), "</tr>\n");
    }
    absl::StrAppend(&out, "</tbody>\n</table>\n");
  }

  if (statement != nullptr) {
    absl::StrAppend(&out, "<h2>Provider statement</h2>\n<p>",
                    FormatCount(statement->matched()), " matched &middot; ",
                    FormatCount(statement->amount_differs()), " amount differs &middot; ",
                    FormatCount(statement->missing_in_socle()), " missing in socle &middot; ",
                    FormatCount(statement->missing_on_statement()),
                    " missing on the statement</p>\n");
    if (!statement->lines().empty()) {
      absl::StrAppend(&out, "<table>\n<thead><tr>", Th("Match"), Th("Reference"),
                      Th("Statement", true), Th("Date"), Th("Recorded", true), Th("Payment"),
                      Th("Office"), "</tr></thead>\n<tbody>\n");
      for (const v1::StatementLine& l : statement->lines()) {
        const std::string name = MatchName(l.match());
        absl::StrAppend(
            &out, "<tr><td><span class=\"cat cat-", Css(name), "\">", HtmlEscape(name),
            "</span></td>", Td(l.provider_reference()),
            Td(l.has_statement_amount() ? FormatMoneyGrouped(l.statement_amount()) : "-", true),
            Td(FormatDate(l.statement_date())),
            Td(l.has_recorded_amount() ? FormatMoneyGrouped(l.recorded_amount()) : "-", true),
            Td(l.payment_id()), Td(l.office_code()), "</tr>\n");
      }
      absl::StrAppend(&out, "</tbody>\n</table>\n");
    }
  }
  absl::StrAppend(&out, "</body>\n</html>\n");
  return out;
}

}  // namespace

absl::StatusOr<ReportFormat> ParseReportFormat(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "table") return ReportFormat::kTable;
  if (t == "csv") return ReportFormat::kCsv;
  if (t == "json") return ReportFormat::kJson;
  if (t == "html") return ReportFormat::kHtml;
  return Bad("--format", "must be table, csv, json or html");
}

absl::StatusOr<std::vector<v1::StatementRow>> ParseStatementCsv(
    absl::string_view text, absl::string_view default_currency, absl::string_view file_name) {
  std::vector<v1::StatementRow> rows;
  int number = 0;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat(file_name, ":", number);
    auto fields = CsvFields(line);
    if (!fields.ok()) return Bad(where, fields.status().message());
    if (fields->size() < 2 || fields->size() > 4) {
      return Bad(where, "expected provider reference, amount, date [, currency]");
    }
    const std::string currency =
        fields->size() == 4 && !(*fields)[3].empty() ? (*fields)[3] : std::string(default_currency);
    if (first) {
      first = false;
      // A header: its amount column is not a number.
      const std::string& amount = (*fields)[1];
      if (amount.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(amount[0]))) {
        continue;
      }
    }
    if (currency.empty()) {
      return Bad(where, "no currency: add a fourth column or give --currency");
    }
    RETURN_IF_ERROR(ValidateCurrency(currency, absl::StrCat(where, ": currency")));
    v1::StatementRow row;
    if ((*fields)[0].empty()) return Bad(where, "the provider reference is empty");
    row.set_provider_reference((*fields)[0]);
    ASSIGN_OR_RETURN(*row.mutable_amount(),
                     ParseMoney((*fields)[1], currency, absl::StrCat(where, ": amount")));
    if (fields->size() >= 3 && !(*fields)[2].empty()) {
      ASSIGN_OR_RETURN(*row.mutable_date(), ToDate((*fields)[2], absl::StrCat(where, ": date")));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string RenderReport(ReportFormat format, const v1::ReconciliationReport& report,
                         const v1::StatementReconciliation* statement) {
  switch (format) {
    case ReportFormat::kTable: return RenderTable(report, statement);
    case ReportFormat::kCsv: return RenderCsv(report, statement);
    case ReportFormat::kJson:
      return absl::StrCat("{\"reconciliation\":", ToJson(report),
                          statement ? absl::StrCat(",\"statement\":", ToJson(*statement)) : "",
                          "}\n");
    case ReportFormat::kHtml: return RenderHtml(report, statement);
  }
  return "";
}

std::string CategoryName(v1::Category category) {
  switch (category) {
    case v1::CATEGORY_PAID_IN_FULL: return "paid in full";
    case v1::CATEGORY_UNPAID: return "unpaid";
    case v1::CATEGORY_UNDERPAID: return "underpaid";
    case v1::CATEGORY_OVERPAID: return "overpaid";
    case v1::CATEGORY_PAID_TWICE: return "paid twice";
    case v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT: return "paid without entitlement";
    case v1::CATEGORY_PAID_AFTER_DEATH: return "paid after death";
    default: return "unknown";
  }
}

std::string MatchName(v1::StatementMatch match) {
  switch (match) {
    case v1::STATEMENT_MATCH_MATCHED: return "matched";
    case v1::STATEMENT_MATCH_MISSING_IN_SOCLE: return "missing in socle";
    case v1::STATEMENT_MATCH_MISSING_ON_STATEMENT: return "missing on statement";
    case v1::STATEMENT_MATCH_AMOUNT_DIFFERS: return "amount differs";
    default: return "unknown";
  }
}

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace socle::client::cli
