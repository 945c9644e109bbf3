#include "client/cli/admin_commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/audit_commands.h"
#include "client/cli/eligibility_format.h"
#include "client/cli/format.h"
#include "client/cli/import_commands.h"
#include "client/cli/money.h"
#include "client/cli/access_commands.h"
#include "client/cli/payment_commands.h"
#include "client/cli/tool.h"
#include "common/field_error.h"
#include "common/status_macros.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

// --as-of DATE, when given.
absl::StatusOr<std::optional<absl::CivilDay>> AsOf(const ParsedArgs& args) {
  std::optional<absl::CivilDay> day;
  if (auto v = args.Get("as-of")) {
    ASSIGN_OR_RETURN(day, ToCivilDay(*v, "--as-of"));
  }
  return day;
}

// --office CODE, when given (not empty).
absl::StatusOr<std::string> Office(const ParsedArgs& args) {
  std::optional<std::string> v = args.Get("office");
  if (!v) return std::string();
  std::string office(absl::StripAsciiWhitespace(*v));
  if (office.empty()) return Bad("--office", "must not be empty");
  return office;
}

// A text table: columns padded to their widest cell, two spaces apart;
// numbers right-aligned. Rules (a line of dashes) go before the rows listed
// in `rules_before`.
struct Table {
  std::vector<std::string> headers;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
  std::set<size_t> rules_before;

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
        std::string pad(width[i] - std::min(width[i], cell.size()), ' ');
        if (i > 0) out += "  ";
        out += right[i] ? pad + cell : cell + pad;
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "\n";
    };
    std::string out = line(headers);
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rules_before.count(r)) out += std::string(total, '-') + "\n";
      out += line(rows[r]);
    }
    return out;
  }
};

// "file:line: " or "file:line:column: " at the start of `text`: the length
// of the location (without the ": "), or 0.
size_t LocationLength(absl::string_view text) {
  for (size_t p = text.find(": "); p != absl::string_view::npos;
       p = text.find(": ", p + 1)) {
    absl::string_view head = text.substr(0, p);
    size_t colon = head.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        colon + 1 == head.size()) {
      continue;
    }
    bool digits = true;
    for (char c : head.substr(colon + 1)) {
      digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
    }
    if (digits) return p;
  }
  return 0;
}

// A refused policy: a header line, then each problem on its own line.
int PolicyProblems(Runner& r, const absl::Status& status,
                   const std::string& path, absl::string_view what) {
  std::vector<std::string> lines = PolicyProblemLines(status, path);
  r.err() << r.program() << ": " << path << " " << what << " ("
          << lines.size() << (lines.size() == 1 ? " problem" : " problems")
          << "):\n";
  for (const std::string& line : lines) r.err() << line << "\n";
  return ExitCodeFor(status.code());
}

// The policy FILE: reads it or reports why not (exit code 2).
std::optional<std::string> PolicyText(Runner& r, const ParsedArgs& args,
                                      int* exit_code) {
  auto text = ReadTextFile(args.positional[0]);
  if (!text.ok()) {
    *exit_code = r.UsageError(text.status());
    return std::nullopt;
  }
  return *std::move(text);
}

// ---------------------------------------------------------------------------
// policy ...

int RunPolicyValidate(Runner& r, const ParsedArgs& args) {
  int code = kExitOk;
  std::optional<std::string> text = PolicyText(r, args, &code);
  if (!text) return code;
  SOCLE_CLIENT_OR_EXIT_(r, client);
  const std::string& path = args.positional[0];
  auto info = client->ValidatePolicy(*text, path);
  if (!info.ok()) {
    if (info.status().code() == absl::StatusCode::kInvalidArgument) {
      return PolicyProblems(r, info.status(), path, "is not valid");
    }
    return r.CallError(info.status());
  }
  if (r.json()) {
    r.PrintJson(*info);
    return kExitOk;
  }
  r.out() << "OK  " << path << "\n" << PolicySummary(*info);
  return kExitOk;
}

int RunPolicyShow(Runner& r, const ParsedArgs& args) {
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto info = client->GetPolicy();
  if (!info.ok()) return r.CallError(info.status());
  bool text = args.Switch("text");
  if (r.json()) {
    v1::PolicyInfo shown = *info;
    if (!text) shown.clear_text();
    r.PrintJson(shown);
    return kExitOk;
  }
  if (text) {
    // Exactly as activated, so that it can be saved and edited.
    r.out() << info->text();
    if (!info->text().empty() && info->text().back() != '\n') r.out() << "\n";
    return kExitOk;
  }
  r.out() << "Policy in force\n" << PolicySummary(*info);
  return kExitOk;
}

// The currency every amount of the simulation is in; "" when they differ.
std::string CommonCurrency(const v1::SimulatePolicyResponse& s) {
  std::set<std::string> currencies;
  for (const auto* rows : {&s.rows(), &s.totals()}) {
    for (const v1::SimulationRow& row : *rows) {
      for (const v1::Money* m :
           {&row.monthly_cost_current(), &row.monthly_cost_draft()}) {
        if (!m->currency().empty()) currencies.insert(m->currency());
      }
    }
  }
  return currencies.size() == 1 ? *currencies.begin() : "";
}

std::string Cost(const v1::Money& m, const std::string& common) {
  if (!common.empty() && (m.currency().empty() || m.currency() == common)) {
    return FormatMinorUnitsGrouped(m.minor_units(), CurrencyExponent(common));
  }
  return FormatMoneyGrouped(m);
}

// Sums per programme, in order of first appearance, when the server sent
// no totals.
std::vector<v1::SimulationRow> TotalsOf(
    const google::protobuf::RepeatedPtrField<v1::SimulationRow>& rows) {
  std::vector<v1::SimulationRow> totals;
  std::map<std::string, size_t> index;
  for (const v1::SimulationRow& row : rows) {
    auto [it, added] = index.emplace(row.programme_code(), totals.size());
    if (added) {
      v1::SimulationRow t;
      t.set_programme_code(row.programme_code());
      t.mutable_monthly_cost_current()->set_currency(
          row.monthly_cost_current().currency());
      t.mutable_monthly_cost_draft()->set_currency(
          row.monthly_cost_draft().currency());
      totals.push_back(t);
    }
    v1::SimulationRow& t = totals[it->second];
    t.set_eligible_current(t.eligible_current() + row.eligible_current());
    t.set_eligible_draft(t.eligible_draft() + row.eligible_draft());
    t.mutable_monthly_cost_current()->set_minor_units(
        t.monthly_cost_current().minor_units() +
        row.monthly_cost_current().minor_units());
    t.mutable_monthly_cost_draft()->set_minor_units(
        t.monthly_cost_draft().minor_units() +
        row.monthly_cost_draft().minor_units());
    t.set_gainers(t.gainers() + row.gainers());
    t.set_losers(t.losers() + row.losers());
  }
  return totals;
}

int RunPolicySimulate(Runner& r, const ParsedArgs& args) {
  auto as_of = AsOf(args);
  if (!as_of.ok()) return r.UsageError(as_of.status());
  auto office = Office(args);
  if (!office.ok()) return r.UsageError(office.status());
  int code = kExitOk;
  std::optional<std::string> text = PolicyText(r, args, &code);
  if (!text) return code;
  SOCLE_CLIENT_OR_EXIT_(r, client);
  const std::string& path = args.positional[0];
  auto s = client->SimulatePolicy(*text, path, *as_of, *office);
  if (!s.ok()) {
    if (s.status().code() == absl::StatusCode::kInvalidArgument &&
        !GetFieldViolations(s.status()).empty()) {
      return PolicyProblems(r, s.status(), path, "is not valid");
    }
    return r.CallError(s.status());
  }
  if (r.json()) {
    r.PrintJson(*s);
    return kExitOk;
  }
  std::string common = CommonCurrency(*s);
  std::string head = absl::StrCat("Draft ", s->draft_version().empty()
                                                ? path
                                                : s->draft_version());
  if (!s->current_version().empty()) {
    absl::StrAppend(&head, " against ", s->current_version(), " in force");
  }
  if (!FormatDate(s->as_of()).empty()) {
    absl::StrAppend(&head, ", as of ", FormatDate(s->as_of()));
  }
  if (!office->empty()) absl::StrAppend(&head, ", office ", *office);
  absl::StrAppend(&head, ".");
  std::string legend = absl::StrCat(
      FormatCount(s->persons_evaluated()),
      s->persons_evaluated() == 1 ? " person" : " persons",
      " evaluated. Each pair is now -> draft",
      common.empty() ? "" : absl::StrCat("; monthly cost in ", common), ".");
  r.out() << WrapKeepingSpaces(head, 0, 0) << "\n"
          << WrapKeepingSpaces(legend, 0, 0) << "\n"
          << "GAIN: eligible under the draft only; LOSE: under the policy in "
             "force only.\n\n";
  if (s->rows().empty()) {
    r.out() << "No one is eligible for any programme under either policy.\n";
    return kExitOk;
  }
  Table table;
  table.headers = {"PROGRAMME", "OFFICE", "ELIGIBLE", "MONTHLY COST", "GAIN",
                   "LOSE"};
  table.right = {false, false, false, false, true, true};
  auto add = [&](const v1::SimulationRow& row, absl::string_view office_cell) {
    table.rows.push_back(
        {row.programme_code(), std::string(office_cell),
         absl::StrCat(FormatCount(row.eligible_current()), " -> ",
                      FormatCount(row.eligible_draft())),
         absl::StrCat(Cost(row.monthly_cost_current(), common), " -> ",
                      Cost(row.monthly_cost_draft(), common)),
         FormatCount(row.gainers()), FormatCount(row.losers())});
  };
  for (const v1::SimulationRow& row : s->rows()) add(row, row.office_code());
  std::vector<v1::SimulationRow> totals(s->totals().begin(),
                                        s->totals().end());
  if (totals.empty()) totals = TotalsOf(s->rows());
  table.rules_before.insert(table.rows.size());
  for (const v1::SimulationRow& row : totals) {
    add(row, row.office_code().empty() ? "all" : row.office_code());
  }
  r.out() << table.Render();
  return kExitOk;
}

int RunPolicyActivate(Runner& r, const ParsedArgs& args) {
  int code = kExitOk;
  std::optional<std::string> text = PolicyText(r, args, &code);
  if (!text) return code;
  SOCLE_CLIENT_OR_EXIT_(r, client);
  const std::string& path = args.positional[0];
  auto info = client->ActivatePolicy(*text, path, r.request_id());
  if (!info.ok()) {
    if (info.status().code() == absl::StatusCode::kInvalidArgument &&
        !GetFieldViolations(info.status()).empty()) {
      int exit = PolicyProblems(r, info.status(), path, "is not valid");
      r.err() << "The policy in force is unchanged.\n";
      return exit;
    }
    return r.CallError(info.status());
  }
  if (r.json()) {
    r.PrintJson(*info);
    return kExitOk;
  }
  r.out() << "Activated " << path << "\n" << PolicySummary(*info);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// keys rotate

int RunKeysRotate(Runner& r, const ParsedArgs& args) {
  int batch_size = 0;
  if (std::optional<std::string> v = args.Get("batch-size")) {
    if (!absl::SimpleAtoi(*v, &batch_size) || batch_size < 1 || batch_size > 5000) {
      return r.UsageError(Bad("--batch-size", "must be between 1 and 5000"));
    }
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  v1::RotateKeysCursor cursor;
  int64_t scanned = 0, resealed = 0;
  uint32_t key_id = 0;
  // One call per 20 batches, each batch its own transaction on the server;
  // the cursor lives here, so an interrupted rotation is simply run again.
  for (;;) {
    auto answer = client->RotateKeys(cursor, batch_size);
    if (!answer.ok()) return r.CallError(answer.status());
    scanned += answer->scanned();
    resealed += answer->resealed();
    key_id = answer->key_id();
    cursor = answer->next();
    if (!r.json()) {
      r.out() << "  "
              << (!cursor.persons_done()  ? "persons"
                  : !cursor.events_done() ? "life events"
                                          : "requests")
              << ": "
              << scanned << " rows read, " << resealed << " resealed\n";
    }
    if (answer->done()) break;
  }
  if (r.json()) {
    v1::RotateKeysResponse total;
    total.set_key_id(key_id);
    total.set_scanned(scanned);
    total.set_resealed(resealed);
    *total.mutable_next() = cursor;
    total.set_done(true);
    r.PrintJson(total);
    return kExitOk;
  }
  r.out() << "Every sealed value is under data key " << key_id << " (" << resealed
          << " of " << scanned
          << " rows resealed). Older keys may now be removed from the data keys file.\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// coverage, recertify

int RunCoverage(Runner& r, const ParsedArgs& args) {
  auto office = Office(args);
  if (!office.ok()) return r.UsageError(office.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto report = client->GetCoverage(*office);
  if (!report.ok()) return r.CallError(report.status());
  if (r.json()) {
    r.PrintJson(*report);
    return kExitOk;
  }
  std::string when = FormatTimestamp(report->computed_at());
  r.out() << "Coverage" << (office->empty() ? "" : " of office ") << *office
          << (when.empty() ? "" : absl::StrCat(" at ", when)) << "\n"
          << "REGISTERED: living persons; COVERED: enrolled (active) in at "
             "least one\nprogramme of the guarantee; COVERAGE rounded "
             "down.\n\n";
  if (report->rows().empty()) {
    r.out() << "No one is registered.\n";
    return kExitOk;
  }
  std::vector<v1::CoverageRow> rows(report->rows().begin(),
                                    report->rows().end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const v1::CoverageRow& a, const v1::CoverageRow& b) {
                     if (a.office_code() != b.office_code()) {
                       return a.office_code() < b.office_code();
                     }
                     return a.guarantee() < b.guarantee();
                   });
  Table table;
  table.headers = {"OFFICE", "GUARANTEE", "REGISTERED", "COVERED", "COVERAGE"};
  table.right = {false, false, true, true, true};
  auto add = [&](absl::string_view office_cell, v1::Guarantee guarantee,
                 int64_t registered, int64_t covered) {
    std::string name = GuaranteeName(guarantee);
    table.rows.push_back({std::string(office_cell),
                          name.empty() ? "-" : name, FormatCount(registered),
                          FormatCount(covered),
                          FormatPercent(covered, registered)});
  };
  std::set<std::string> offices;
  std::map<int, std::pair<int64_t, int64_t>> per_guarantee;
  for (const v1::CoverageRow& row : rows) {
    add(row.office_code(), row.guarantee(), row.registered(), row.covered());
    offices.insert(row.office_code());
    auto& [registered, covered] = per_guarantee[row.guarantee()];
    registered += row.registered();
    covered += row.covered();
  }
  if (offices.size() > 1) {
    table.rules_before.insert(table.rows.size());
    for (const auto& [guarantee, counts] : per_guarantee) {
      add("all", static_cast<v1::Guarantee>(guarantee), counts.first,
          counts.second);
    }
  }
  r.out() << table.Render();
  return kExitOk;
}

int RunRecertify(Runner& r, const ParsedArgs& args) {
  auto as_of = AsOf(args);
  if (!as_of.ok()) return r.UsageError(as_of.status());
  auto office = Office(args);
  if (!office.ok()) return r.UsageError(office.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto result = client->Recertify(*as_of, *office, r.request_id());
  if (!result.ok()) return r.CallError(result.status());
  if (r.json()) {
    r.PrintJson(*result);
    return kExitOk;
  }
  std::string head = "Recertified";
  if (!office->empty()) absl::StrAppend(&head, " office ", *office);
  if (!FormatDate(result->as_of()).empty()) {
    absl::StrAppend(&head, " as of ", FormatDate(result->as_of()));
  }
  if (!result->policy_version().empty()) {
    absl::StrAppend(&head, " under policy ", result->policy_version());
  }
  r.out() << WrapKeepingSpaces(absl::StrCat(head, ":"), 0, 2) << "\n"
          << "  " << FormatCount(result->checked()) << " checked, "
          << FormatCount(result->unchanged()) << " unchanged, "
          << FormatCount(result->ended()) << " ended, "
          << FormatCount(result->adjusted()) << " adjusted\n";
  if (!result->changes().empty()) r.out() << "\n";
  for (const v1::EnrolmentChange& c : result->changes()) {
    const v1::Enrolment& e = c.has_after() ? c.after() : c.before();
    std::string line = absl::StrCat(e.enrolment_id(), "  ",
                                    GroupNumber(e.beneficiary_number()), "  ",
                                    e.programme_code(), "  ", c.explanation());
    r.out() << WrapKeepingSpaces(line, 0, 4) << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// The tool.

const std::vector<FlagSpec> kAsOfFlag = {
    {"as-of", Kind::kValue, "DATE", "the date of the decisions (default today)"},
};
const std::vector<FlagSpec> kOfficeFlag = {
    {"office", Kind::kValue, "CODE", "one office, e.g. KH-SR-03 (default all)"},
};

const std::vector<CommandSpec>& AdminCommands() {
  static const auto* commands = WithUserCommands(WithAdminAuditCommands(WithAdminPaymentCommands(WithAdminImportCommands(new std::vector<CommandSpec>{
      {"policy validate", "policy validate FILE", "FILE",
       "check a policy file",
       "Has the server check a policy file (a text-format PolicySet, see\n"
       "deploy/policy/default.textproto) without using it. Prints OK with its\n"
       "versions and programmes, or every problem as file:line: field:\n"
       "message (exit code 2).",
       {}, 1, 1, &RunPolicyValidate},
      {"policy show", "policy show [--text]", "", "the policy in force",
       "Shows the policy versions, the version in force today, when and by\n"
       "whom the policy was activated, and its programmes. With --text,\n"
       "prints the policy file as activated instead.",
       {{"text", Kind::kSwitch, "", "print the policy text as activated"}},
       0, 0, &RunPolicyShow},
      {"policy simulate", "policy simulate FILE [--as-of DATE] [--office CODE]",
       "FILE", "cost a draft policy",
       "Runs a draft policy against the current registry without activating\n"
       "it: per programme and office, the persons eligible and the monthly\n"
       "cost under the policy in force and under the draft, and how many\n"
       "would gain or lose; then the totals per programme.",
       Concat({kAsOfFlag, kOfficeFlag}), 1, 1, &RunPolicySimulate},
      {"policy activate", "policy activate FILE", "FILE",
       "put a policy in force",
       "Validates and activates a policy file. A bad policy is refused with\n"
       "its problems, and the policy in force stays in force. Decisions from\n"
       "then on use the version in force on their date.",
       {}, 1, 1, &RunPolicyActivate},
      {"coverage", "coverage [--office CODE]", "",
       "registered and covered per guarantee",
       "Per office and guarantee (health, children, working age, old age):\n"
       "living registered persons, those enrolled (active) in at least one\n"
       "programme of the guarantee, and the share covered, rounded down.",
       kOfficeFlag, 0, 0, &RunCoverage},
      {"keys rotate", "keys rotate [--batch-size N]", "",
       "reseal personal data under the newest key",
       "Re-seals every stored national ID, facts record, life event and\n"
       "stored request\n"
       "under the newest data key of the servers' --data_keys file (and\n"
       "seals rows written before encryption), in batches of N rows (default\n"
       "500), each its own transaction; prints progress. Idempotent: run it\n"
       "again after any interruption. Procedure: add a key to the data keys\n"
       "file of every server (deploy/keys.sh DIR --add), restart them, run\n"
       "this, then remove the old key from the file and restart again.",
       {{"batch-size", Kind::kValue, "N", "rows per transaction (1..5000)"}},
       0, 0, &RunKeysRotate},
      {"recertify", "recertify [--as-of DATE] [--office CODE]", "",
       "re-check active enrolments",
       "Re-checks every active enrolment (of one office, or all) as of a\n"
       "date: ends those no longer eligible, adjusts amounts that changed,\n"
       "and lists every change. Safe to repeat with the same --request-id.",
       Concat({kAsOfFlag, kOfficeFlag}), 0, 0, &RunRecertify},
  }))));
  return *commands;
}

constexpr absl::string_view kAdminConventions =
    "A policy FILE is a text-format socle.v1.PolicySet (see\n"
    "deploy/policy/default.textproto). Dates: YYYY-MM-DD. Money prints\n"
    "exactly, grouped by thousands, in the policy's currency.\n"
    "Flags: --name VALUE or --name=VALUE; _ and - are the same in names;\n"
    "a switch takes =no to turn it off.\n";

const Tool& AdminTool() {
  static const auto* tool = new Tool{
      "socle-admin",
      "the national policy, its costing, coverage and recertification;\n"
      "payment cycles and reconciliation; the audit trail; key rotation;\n"
      "importing persons from a CSV file.",
      &AdminCommands(),
      {"policy", "cycle", "payment", "audit", "keys", "user"},
      AdminCertificates(),
      std::string(kAdminConventions)};
  return *tool;
}

}  // namespace

const CertificateDefaults& AdminCertificates() {
  static const auto* defaults = new CertificateDefaults{
      {"SOCLE_ADMIN_CERT", "SOCLE_CERT"},
      {"SOCLE_ADMIN_KEY", "SOCLE_KEY"},
      "admin.pem",
      "admin.key",
      "administrator",
      /*login=*/false};
  return *defaults;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Bad("FILE", absl::StrCat(path, " is a directory"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Bad("FILE", absl::StrCat("cannot read ", path, ": ",
                                    err != 0 ? std::strerror(err)
                                             : "cannot open"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Bad("FILE", absl::StrCat("cannot read ", path));
  return std::move(content).str();
}

std::vector<std::string> PolicyProblemLines(const absl::Status& status,
                                            absl::string_view file_name) {
  std::vector<std::string> lines;
  for (const FieldViolation& v : GetFieldViolations(status)) {
    absl::string_view description = v.description;
    size_t location = LocationLength(description);
    std::string where = location > 0
                            ? std::string(description.substr(0, location))
                            : std::string(file_name);
    absl::string_view what =
        location > 0 ? description.substr(location + 2) : description;
    lines.push_back(absl::StrCat(where, ": ", v.field,
                                 v.field.empty() ? "" : ": ", what));
  }
  if (lines.empty()) {
    for (absl::string_view line :
         absl::StrSplit(status.message(), '\n', absl::SkipWhitespace())) {
      lines.emplace_back(line);
    }
  }
  return lines;
}

int RunAdminCli(const std::vector<std::string>& args,
                const CliContext& context) {
  return RunTool(AdminTool(), args, context);
}

int RunAdminCli(int argc, const char* const* argv, Connection& connection,
                std::ostream& out, std::ostream& err) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  CliContext context;
  // Borrowed, not owned: the caller keeps `connection` alive.
  context.make_connection = [&connection](const ConnectionOptions&)
      -> absl::StatusOr<std::shared_ptr<Connection>> {
    return std::shared_ptr<Connection>(std::shared_ptr<Connection>(),
                                       &connection);
  };
  context.getenv = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  context.out = &out;
  context.err = &err;
  return RunAdminCli(args, context);
}

}  // namespace socle::client::cli
