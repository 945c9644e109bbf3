#include "client/cli/import_commands.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/admin_commands.h"
#include "client/cli/format.h"
#include "client/status_conversion.h"
#include "common/field_error.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

constexpr size_t kRequiredColumns = 4;
constexpr size_t kMaxProblemsShown = 50;

// "Date of birth", "date-of-birth" -> "date_of_birth".
std::string NormalizeColumn(absl::string_view name) {
  std::string out = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (char& c : out) {
    if (c == '-' || c == ' ') c = '_';
  }
  return out;
}

bool IsRequired(absl::string_view column) {
  for (size_t i = 0; i < kRequiredColumns; ++i) {
    if (ImportColumns()[i].first == column) return true;
  }
  return false;
}

// The column a `register` flag comes from, to name it in errors.
const std::map<std::string, std::string>& ColumnOfFlag() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, std::string>;
    for (const auto& [column, flag] : ImportColumns()) (*t)[flag] = column;
    return t;
  }();
  return *table;
}

// BuildRegister's errors name the flag ("--born: must be a date ...");
// here they name the column ("date_of_birth: must be a date ...").
std::string InColumnTerms(absl::string_view message) {
  if (absl::StartsWith(message, "--")) {
    size_t colon = message.find(": ");
    if (colon != absl::string_view::npos) {
      auto it = ColumnOfFlag().find(std::string(message.substr(2, colon - 2)));
      if (it != ColumnOfFlag().end()) {
        return absl::StrCat(it->second, message.substr(colon));
      }
    }
  }
  return std::string(message);
}

// ---------------------------------------------------------------------------
// Reporting each person's answer.

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

// The server's message, its bad fields and reason, and a possible
// duplicate's candidates, on one line.
std::string Explain(const absl::Status& status) {
  std::string text(status.message());
  for (const FieldViolation& v : GetFieldViolations(status)) {
    if (absl::StrContains(text, v.description)) continue;
    absl::StrAppend(&text, text.empty() ? "" : "; ", v.field, ": ", v.description);
  }
  if (std::optional<ErrorInfo> info = GetErrorInfo(status)) {
    auto it = info->metadata.find("candidates");
    if (it != info->metadata.end()) {
      std::vector<std::string> numbers;
      for (absl::string_view c : absl::StrSplit(it->second, ',', absl::SkipWhitespace())) {
        numbers.push_back(GroupNumber(absl::StripAsciiWhitespace(c)));
      }
      absl::StrAppend(&text, " (", info->reason, ": candidates ", absl::StrJoin(numbers, ", "),
                      ")");
    } else if (!info->reason.empty() && !absl::StrContains(text, info->reason)) {
      absl::StrAppend(&text, " (", info->reason, ")");
    }
  }
  return text;
}

// What became of one row.
struct Outcome {
  bool answered = false;  // its batch was answered
  absl::Status status;
  std::string beneficiary_number;
};

// --results: one row per input line.
std::string ResultsCsv(const std::vector<ImportRow>& rows, const std::vector<Outcome>& outcomes) {
  std::string out = CsvLine({"line", "beneficiary_number", "status", "message"});
  for (size_t i = 0; i < rows.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (!o.answered) {
      absl::StrAppend(&out, CsvLine({absl::StrCat(rows[i].line), "", "NOT_SENT",
                                     "not sent: the import stopped before its batch"}));
    } else {
      absl::StrAppend(&out, CsvLine({absl::StrCat(rows[i].line), o.beneficiary_number,
                                     CodeName(o.status.code()),
                                     o.status.ok() ? "" : Explain(o.status)}));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The command.

int RunImport(Runner& r, const ParsedArgs& args, bool admin) {
  const std::string& path = args.positional[0];
  if (!r.request_id().empty()) {
    return r.UsageError(Bad("--request-id",
                            "import derives its request ids from the file; leave it out"));
  }
  int batch_size = kDefaultImportBatchSize;
  if (auto v = args.Get("batch-size")) {
    auto n = ToInt(*v, "--batch-size", 1, kMaxImportBatchSize);
    if (!n.ok()) return r.UsageError(n.status());
    batch_size = static_cast<int>(*n);
  }
  ImportOptions options;
  options.office_required = admin;
  if (auto v = args.Get("office")) {
    options.default_office = std::string(absl::StripAsciiWhitespace(*v));
    if (options.default_office.empty()) return r.UsageError(Bad("--office", "must not be empty"));
  }
  if (auto v = args.Get("currency")) {
    options.default_currency = *v;
  } else if (auto c = Env(r.env(), "SOCLE_CURRENCY")) {
    options.default_currency = *c;
  }
  auto text = ReadTextFile(path);
  if (!text.ok()) return r.UsageError(text.status());

  ParsedImport parsed = ParsePersonsCsv(*text, path, options);
  if (parsed.problems.empty() && parsed.rows.empty()) {
    parsed.problems.push_back(absl::StrCat(path, ": no persons to import"));
  }
  if (!parsed.problems.empty()) {
    r.err() << r.program() << " import: " << path << ": "
            << (parsed.problems.size() == 1 ? std::string("1 problem")
                                            : absl::StrCat(parsed.problems.size(), " problems"))
            << "; nothing was sent:\n";
    for (size_t i = 0; i < parsed.problems.size() && i < kMaxProblemsShown; ++i) {
      r.err() << parsed.problems[i] << "\n";
    }
    if (parsed.problems.size() > kMaxProblemsShown) {
      r.err() << "... and " << parsed.problems.size() - kMaxProblemsShown << " more\n";
    }
    return kExitBadInput;
  }

  const std::vector<ImportRow>& rows = parsed.rows;
  const std::vector<std::pair<size_t, size_t>> batches =
      SplitIntoBatches(rows, batch_size, kMaxImportBatchBytes);
  // The terminal's (or workstation's) certificate scopes the request ids;
  // one that cannot be read fails at the first call anyway.
  const std::string& cert_file = r.options().connection.cert_file;
  auto certificate = cert_file.empty() ? absl::StatusOr<std::string>("") : ReadTextFile(cert_file);
  const std::string fingerprint = ImportFingerprint(*text, certificate.ok() ? *certificate : "");
  const int total = static_cast<int>(batches.size());
  auto first_line = [&](size_t b) { return rows[batches[b].first].line; };
  auto last_line = [&](size_t b) { return rows[batches[b].second - 1].line; };

  std::optional<std::string> results_path = args.Get("results");
  if (results_path) {
    // Fail before sending anything when the results cannot be written.
    std::ofstream probe(*results_path, std::ios::binary | std::ios::app);
    if (!probe) {
      return r.UsageError(Bad("--results", absl::StrCat("cannot write ", *results_path)));
    }
  }

  r.err() << "import: " << FormatCount(static_cast<int64_t>(rows.size())) << " persons from "
          << path << " in " << total << (total == 1 ? " batch" : " batches") << " (request ids "
          << ImportRequestId(fingerprint, batch_size, 0)
          << (total > 1 ? absl::StrCat(" to -", total - 1) : "") << ")\n";
  if (args.Switch("dry-run")) {
    for (size_t b = 0; b < batches.size(); ++b) {
      r.err() << "batch " << b + 1 << "/" << total << " (lines " << first_line(b) << "-"
              << last_line(b) << "): " << batches[b].second - batches[b].first
              << (batches[b].second - batches[b].first == 1 ? " person" : " persons")
              << ", not sent (--dry-run)\n";
    }
    return kExitOk;
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);

  std::vector<Outcome> outcomes(rows.size());
  int registered = 0, refused = 0;
  int exit_code = kExitOk;
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto [begin, end] = batches[b];
    std::vector<v1::PersonToRegister> persons;
    persons.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) persons.push_back(rows[i].person);
    RegisterPersonsOptions call;
    call.request_id = ImportRequestId(fingerprint, batch_size, static_cast<int>(b));
    auto response = client->RegisterPersons(std::move(persons), call);
    if (!response.ok()) {
      const absl::Status& status = response.status();
      std::optional<ErrorInfo> info = GetErrorInfo(status);
      if (info && info->reason == "REQUEST_ID_REUSED") {
        r.err() << r.program() << ": " << Runner::CodeWords(status.code()) << ": batch " << b + 1
                << " was sent before with different persons under " << call.request_id
                << "\n  (the same file with another --currency or --office?): import it\n"
                << "  with the options of the first run\n";
        exit_code = ExitCodeFor(status.code());
      } else {
        exit_code = r.CallError(status);
      }
      r.err() << "import stopped at batch " << b + 1 << "/" << total << " (lines "
              << first_line(b) << "-" << last_line(b) << ")";
      if (b > 0) {
        r.err() << "; batches 1-" << b << " (lines " << first_line(0) << "-" << last_line(b - 1)
                << ") are done: " << registered << " registered, " << refused << " refused";
      }
      r.err() << ".\nRun the same command again to resume: batches already registered are\n"
                 "answered again by the server under the same request ids, nobody is\n"
                 "registered twice (keep the file and --batch-size unchanged).\n";
      break;
    }
    int batch_registered = 0, batch_refused = 0;
    for (const v1::RegisteredPerson& result : response->results()) {
      if (result.index() < 0 || static_cast<size_t>(result.index()) >= end - begin) continue;
      Outcome& o = outcomes[begin + static_cast<size_t>(result.index())];
      o.answered = true;
      o.status = FromRpcStatus(result.status());
      o.beneficiary_number = result.beneficiary_number();
      ++(o.status.ok() ? batch_registered : batch_refused);
    }
    for (size_t i = begin; i < end; ++i) {
      if (!outcomes[i].answered) {  // a server that left one out
        outcomes[i].answered = true;
        outcomes[i].status = absl::UnknownError("no answer for this person");
        ++batch_refused;
      }
    }
    registered += batch_registered;
    refused += batch_refused;
    if (r.json()) r.PrintJson(*response);
    r.err() << "batch " << b + 1 << "/" << total << " (lines " << first_line(b) << "-"
            << last_line(b) << "): " << batch_registered << " registered, " << batch_refused
            << " refused\n";
  }

  if (results_path) {
    std::ofstream out(*results_path, std::ios::binary | std::ios::trunc);
    out << ResultsCsv(rows, outcomes);
    out.close();
    if (!out) {
      r.err() << r.program() << " import: cannot write " << *results_path << "\n";
      if (exit_code == kExitOk) exit_code = kExitBadInput;
    } else {
      r.err() << "wrote " << *results_path << "\n";
    }
  }
  std::ostream& summary = r.json() ? r.err() : r.out();
  summary << "Registered " << FormatCount(registered) << ", refused " << FormatCount(refused)
          << " (" << path << ", " << FormatCount(static_cast<int64_t>(rows.size()))
          << " persons)\n";
  if (!r.json()) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const Outcome& o = outcomes[i];
      if (!o.answered || o.status.ok()) continue;
      r.out() << path << ":" << rows[i].line << ": " << CodeName(o.status.code()) << " "
              << Explain(o.status) << "\n";
    }
  }
  if (exit_code != kExitOk) return exit_code;
  return refused > 0 ? kExitPartlyRefused : kExitOk;
}

int RunClerkImport(Runner& r, const ParsedArgs& args) { return RunImport(r, args, false); }
int RunAdminImport(Runner& r, const ParsedArgs& args) { return RunImport(r, args, true); }

std::vector<FlagSpec> ImportFlags(bool admin) {
  return {
      {"batch-size", Kind::kValue, "N",
       absl::StrCat("persons per call, 1-", kMaxImportBatchSize, " (default ",
                    kDefaultImportBatchSize, ")")},
      {"results", Kind::kValue, "FILE",
       "write one CSV row per input line: line, beneficiary_number, status, message"},
      {"office", Kind::kValue, "CODE",
       admin ? "office of the persons whose office_code is empty"
             : "office of the persons whose office_code is empty (default: yours)"},
      {"currency", Kind::kValue, "CODE",
       "currency of monthly_income without a currency column [$SOCLE_CURRENCY]"},
      {"dry-run", Kind::kSwitch, "", "check the file and show the batches; send nothing"},
  };
}

std::string ImportDescription(bool admin) {
  return absl::StrCat(
      admin ? "Registers the persons of a CSV file, in any office: an existing\n"
              "registry, a district's paper forms. "
            : "Registers the persons of a CSV file in your office (a stack of paper\n"
              "forms typed into a spreadsheet). ",
      "Each person is checked as 'register'\n"
      "checks one, and one person's refusal changes nothing for the others.\n"
      "The first line names the columns, in any order and any case:\n"
      "  required  given_name, family_name, sex, date_of_birth\n"
      "  optional  national_id, phone, province, district, commune, village,\n"
      "            street, office_code, monthly_income, currency,\n"
      "            employment_status, disability_degree,\n"
      "            disability_certified_on, pregnancy_start,\n"
      "            receives_contributory_pension, duplicate_override_reason\n",
      admin ? "Every person needs an office: an office_code column, or --office.\n" : "",
      "Values are written as for 'register' (dates YYYY-MM-DD, sex female,\n"
      "male or other, money 1250.50); an empty cell is not given. The whole\n"
      "file is checked first: each problem is listed as FILE:LINE: column:\n"
      "what is wrong, and then nothing is sent (exit code 2).\n"
      "Persons go in batches of --batch-size, one line of progress each on\n"
      "stderr; then the summary, and each refused person as FILE:LINE: CODE\n"
      "message (with the candidates of a possible duplicate). With --json,\n"
      "one RegisterPersonsResponse object per batch.\n"
      "The request ids derive from the file's content, this terminal's\n"
      "certificate and the batch's place: if the import stops (link lost,\n"
      "server down), run the same command again from the same terminal: the\n"
      "batches already registered are answered again, nobody is registered\n"
      "twice. Keep the file and --batch-size unchanged.\n"
      "Exit codes: 0 every person registered; 6 some refused (the others are\n"
      "registered); 2 a bad file, nothing sent; 1 or 5 the import stopped at\n"
      "a batch (the earlier batches are registered; run it again to resume).");
}

// After "Usage: <program> ", continuation lines aligned under FILE.csv.
std::string ImportUsage(absl::string_view program) {
  return absl::StrCat("import FILE.csv [--batch-size N] [--results FILE.csv]\n",
                      std::string(program.size() + 15, ' '),
                      "[--office CODE] [--currency C] [--dry-run]");
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& ImportColumns() {
  static const auto* columns = new std::vector<std::pair<std::string, std::string>>{
      {"given_name", "given"},
      {"family_name", "family"},
      {"sex", "sex"},
      {"date_of_birth", "born"},
      {"national_id", "national-id"},
      {"phone", "phone"},
      {"province", "province"},
      {"district", "district"},
      {"commune", "commune"},
      {"village", "village"},
      {"street", "street"},
      {"office_code", "office"},
      {"monthly_income", "income"},
      {"currency", "currency"},
      {"receives_contributory_pension", "contributory-pension"},
      {"employment_status", "employment"},
      {"disability_degree", "disability-degree"},
      {"disability_certified_on", "disability-certified-on"},
      {"pregnancy_start", "pregnancy-start"},
      {"duplicate_override_reason", "override-reason"},
  };
  return *columns;
}

ParsedImport ParsePersonsCsv(absl::string_view text, absl::string_view file_name,
                             const ImportOptions& options) {
  ParsedImport out;
  auto problem = [&](int line, absl::string_view what) {
    out.problems.push_back(absl::StrCat(file_name, ":", line, ": ", what));
  };
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);

  std::map<std::string, std::string> flag_of;  // column -> flag
  for (const auto& [column, flag] : ImportColumns()) flag_of[column] = flag;

  std::vector<std::string> header;  // the known column of each field, or ""
  bool header_seen = false;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto fields = CsvFields(line);
    if (!fields.ok()) {
      problem(number, fields.status().message());
      if (!header_seen) return out;
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      std::set<std::string> seen;
      for (const std::string& f : *fields) {
        std::string column = NormalizeColumn(f);
        header.push_back(column);
        if (column.empty()) {
          problem(number, "a column has no name");
        } else if (flag_of.find(column) == flag_of.end()) {
          problem(number, absl::StrCat(f, ": unknown column"));
        } else if (!seen.insert(column).second) {
          problem(number, absl::StrCat(column, ": column given twice"));
        }
      }
      for (size_t i = 0; i < kRequiredColumns; ++i) {
        const std::string& column = ImportColumns()[i].first;
        if (seen.count(column) == 0) problem(number, absl::StrCat(column, ": required column missing"));
      }
      if (options.office_required && seen.count("office_code") == 0 &&
          options.default_office.empty()) {
        problem(number,
                "office_code: required column missing (an administrator names each person's "
                "office; or give --office)");
      }
      if (!out.problems.empty()) return out;  // the rows cannot be read
      continue;
    }
    if (fields->size() != header.size()) {
      problem(number, absl::StrCat("expected ", header.size(), " fields as in the header, found ",
                                   fields->size()));
      continue;
    }
    // The row as the `register` command's flags.
    ParsedArgs args;
    std::vector<std::string> line_problems;
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string& value = (*fields)[i];
      const std::string& column = header[i];
      if (value.empty()) {
        if (IsRequired(column)) line_problems.push_back(absl::StrCat(column, ": is empty (required)"));
        continue;
      }
      const std::string& flag = flag_of[column];
      if (flag == "contributory-pension") {
        std::optional<bool> b = ParseBool(value);
        if (!b) {
          line_problems.push_back(absl::StrCat(column, ": '", value, "' is not yes or no"));
          continue;
        }
        args.values[flag] = *b ? "true" : "false";
      } else {
        args.values[flag] = value;
      }
    }
    if (!args.Has("office") && !options.default_office.empty()) {
      args.values["office"] = options.default_office;
    }
    if (options.office_required && !args.Has("office")) {
      line_problems.push_back(
          "office_code: is empty (an administrator names each person's office; or give --office)");
    }
    if (args.Has("income") && !args.Has("currency") && !options.default_currency.empty()) {
      args.values["currency"] = options.default_currency;
    }
    if (!line_problems.empty()) {
      for (const std::string& p : line_problems) problem(number, p);
      continue;
    }
    // No environment: the currency default was resolved above.
    auto request = BuildRegister(args, nullptr);
    if (!request.ok()) {
      problem(number, InColumnTerms(request.status().message()));
      continue;
    }
    ImportRow row;
    row.line = number;
    *row.person.mutable_person() = std::move(*request->mutable_person());
    row.person.set_duplicate_override_reason(request->duplicate_override_reason());
    out.rows.push_back(std::move(row));
  }
  if (!header_seen) problem(1, "the file is empty: the first line names the columns");
  return out;
}

std::string ImportFingerprint(absl::string_view file_bytes, absl::string_view caller) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, caller.data(), caller.size()) == 1 &&
                  EVP_DigestUpdate(ctx, file_bytes.data(), file_bytes.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest, &length) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();  // SHA-256 itself failing: nothing sensible to send
  return absl::BytesToHexString(
             absl::string_view(reinterpret_cast<const char*>(digest), length))
      .substr(0, 16);
}

std::string ImportRequestId(absl::string_view fingerprint, int batch_size, int batch_index) {
  return absl::StrCat("import-", fingerprint, "-", batch_size, "-", batch_index);
}

std::vector<std::pair<size_t, size_t>> SplitIntoBatches(const std::vector<ImportRow>& rows,
                                                        int batch_size, size_t max_bytes) {
  // A request is its persons, each a length-delimited field (tag and length:
  // at most 1 + 5 bytes), and a request id of under 64 bytes.
  constexpr size_t kRequestOverhead = 128;
  constexpr size_t kPerPersonOverhead = 6;
  std::vector<std::pair<size_t, size_t>> batches;
  const size_t limit = static_cast<size_t>(std::max(batch_size, 1));
  size_t begin = 0, bytes = kRequestOverhead;
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t size = rows[i].person.ByteSizeLong() + kPerPersonOverhead;
    if (i > begin && (i - begin >= limit || bytes + size > max_bytes)) {
      batches.emplace_back(begin, i);
      begin = i;
      bytes = kRequestOverhead;
    }
    bytes += size;
  }
  if (begin < rows.size()) batches.emplace_back(begin, rows.size());
  return batches;
}

std::vector<CommandSpec>* WithClerkImportCommands(std::vector<CommandSpec>* commands) {
  commands->push_back({"import", ImportUsage("socle"), "FILE.csv",
                       "register the persons of a CSV file", ImportDescription(false),
                       ImportFlags(false), 1, 1, &RunClerkImport});
  return commands;
}

std::vector<CommandSpec>* WithAdminImportCommands(std::vector<CommandSpec>* commands) {
  commands->push_back({"import", ImportUsage("socle-admin"), "FILE.csv",
                       "register the persons of a CSV file, any office",
                       ImportDescription(true), ImportFlags(true), 1, 1, &RunAdminImport});
  return commands;
}

}  // namespace socle::client::cli
