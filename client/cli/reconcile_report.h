// Internal to client/cli/: the reconciliation report of socle-admin in its
// four forms (a text table, CSV, JSON, and one self-contained HTML file),
// and the reading of a provider's statement (CSV). Money is formatted from
// integer minor units, exactly; no floating point, not even for the chart.
#ifndef SOCLE_CLIENT_CLI_RECONCILE_REPORT_H_
#define SOCLE_CLIENT_CLI_RECONCILE_REPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/format.h"  // CsvField, CsvLine, CsvFields
#include "socle/v1/payments.pb.h"

namespace socle::client::cli {

enum class ReportFormat { kTable, kCsv, kJson, kHtml };

// "table", "csv", "json" or "html"; INVALID_ARGUMENT naming --format.
absl::StatusOr<ReportFormat> ParseReportFormat(absl::string_view text);

// A provider's statement, one payment a line: provider reference, amount in
// the currency's units ("1250.50"), date (YYYY-MM-DD, may be empty), and
// optionally a currency code (else `default_currency`). A first line whose
// amount is not a number is a header and skipped; blank lines are skipped;
// fields may be quoted ("..." with "" for a quote). INVALID_ARGUMENT naming
// `file_name` and the line of the first problem.
absl::StatusOr<std::vector<v1::StatementRow>> ParseStatementCsv(
    absl::string_view text, absl::string_view default_currency,
    absl::string_view file_name);

// The report. `statement` may be null (no --statement given).
std::string RenderReport(ReportFormat format,
                         const v1::ReconciliationReport& report,
                         const v1::StatementReconciliation* statement);

// Words for enums, as the report prints them ("paid twice", "missing in
// socle").
std::string CategoryName(v1::Category category);
std::string MatchName(v1::StatementMatch match);

// `text` with & < > " ' escaped for HTML.
std::string HtmlEscape(absl::string_view text);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_RECONCILE_REPORT_H_
