#include "client/cli/payment_commands.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/format.h"
#include "client/cli/money.h"
#include "client/cli/reconcile_report.h"
#include "client/client.h"
#include "common/field_error.h"
#include "common/status_macros.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

std::string ChannelWord(v1::PaymentChannel channel) {
  switch (channel) {
    case v1::PAYMENT_CHANNEL_CASH: return "cash";
    case v1::PAYMENT_CHANNEL_BANK_TRANSFER: return "bank";
    case v1::PAYMENT_CHANNEL_MOBILE_MONEY: return "mobile";
    default: return "-";
  }
}

absl::StatusOr<v1::PaymentChannel> ParseChannel(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "cash") return v1::PAYMENT_CHANNEL_CASH;
  if (t == "bank" || t == "bank-transfer") return v1::PAYMENT_CHANNEL_BANK_TRANSFER;
  if (t == "mobile" || t == "mobile-money") return v1::PAYMENT_CHANNEL_MOBILE_MONEY;
  return Bad("--channel", absl::StrCat("'", text, "': give cash, bank or mobile"));
}

std::string LineStatusWord(v1::LineStatus status) {
  switch (status) {
    case v1::LINE_STATUS_UNPAID: return "unpaid";
    case v1::LINE_STATUS_PARTLY_PAID: return "partly-paid";
    case v1::LINE_STATUS_PAID: return "paid";
    case v1::LINE_STATUS_OVERPAID: return "overpaid";
    default: return "-";
  }
}

std::string CycleLine(const v1::Cycle& c) {
  std::string owed;
  for (const v1::Money& m : c.total_owed()) {
    absl::StrAppend(&owed, owed.empty() ? "" : " + ", FormatMoneyGrouped(m));
  }
  return absl::StrCat(c.cycle_id(), "  ", c.programme_code(), "  ", c.period(), "  ",
                      c.status() == v1::CYCLE_STATUS_CLOSED ? "closed" : "open", "  ",
                      FormatCount(c.line_count()), " lines",
                      owed.empty() ? "" : absl::StrCat("  owed ", owed), "\n");
}

std::string PaymentSummary(const v1::Payment& p) {
  return absl::StrCat(p.payment_id(), ": ", FormatMoneyGrouped(p.amount()), " ",
                      ChannelWord(p.channel()),
                      p.provider_reference().empty() ? "" : " ref " + p.provider_reference(),
                      p.line_id().empty() ? " without a line" : " on line " + p.line_id(), " (",
                      p.cycle_id(), " ", p.programme_code(), " ", p.period(), ") for ",
                      GroupNumber(p.beneficiary_number()));
}

// ---------------------------------------------------------------------------
// socle pay

int RunPay(Runner& r, const ParsedArgs& args) {
  const std::string key = NewPaymentKey();
  auto request = BuildPay(args, r.env(), key);
  if (!request.ok()) return r.UsageError(request.status());
  // Printed before the call: whatever happens to the link, the clerk can
  // send the same payment again with this key and it is recorded once.
  r.err() << "idempotency key: " << request->idempotency_key() << "\n";
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto paid = client->RecordPayment(*request);
  if (!paid.ok()) {
    const int code = r.CallError(paid.status());
    if (auto info = GetErrorInfo(paid.status())) {
      if (info->reason == "LINE_PAID_IN_FULL") {
        r.err() << "  the line is already paid; to pay more on purpose add --supplement\n";
      } else if (info->reason == "IDEMPOTENCY_KEY_REUSED") {
        r.err() << "  this key was used for another payment; leave --idempotency-key out\n"
                << "  for a new one\n";
      }
    }
    if (paid.status().code() == absl::StatusCode::kUnavailable ||
        paid.status().code() == absl::StatusCode::kDeadlineExceeded) {
      r.err() << "  the payment may or may not be recorded: run the same command again\n"
              << "  with --idempotency-key " << request->idempotency_key()
              << " (it is never recorded twice)\n";
    }
    return code;
  }
  if (r.json()) {
    r.PrintJson(*paid);
    return kExitOk;
  }
  r.out() << "Recorded " << PaymentSummary(*paid) << "\n"
          << "  key " << paid->idempotency_key() << " (the same key never pays twice)\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// socle-admin cycle ...

int RunCycleOpen(Runner& r, const ParsedArgs& args) {
  auto programme = CanonicalProgrammeCode(args.positional[0], "PROGRAMME");
  if (!programme.ok()) return r.UsageError(programme.status());
  std::optional<std::string> period_flag = args.Get("period");
  if (!period_flag) return r.UsageError(Bad("--period", "is required, e.g. --period 2026-11"));
  auto period = CanonicalPeriod(*period_flag, "--period");
  if (!period.ok()) return r.UsageError(period.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto cycle = client->OpenCycle(*programme, *period, r.request_id());
  if (!cycle.ok()) return r.CallError(cycle.status());
  if (r.json()) {
    r.PrintJson(*cycle);
    return kExitOk;
  }
  r.out() << "Cycle " << CycleLine(*cycle);
  return kExitOk;
}

int RunCycleList(Runner& r, const ParsedArgs& args) {
  v1::ListCyclesRequest request;
  if (auto v = args.Get("programme")) {
    auto code = CanonicalProgrammeCode(*v, "--programme");
    if (!code.ok()) return r.UsageError(code.status());
    request.set_programme_code(*code);
  }
  if (auto v = args.Get("period")) {
    auto period = CanonicalPeriod(*v, "--period");
    if (!period.ok()) return r.UsageError(period.status());
    request.set_period(*period);
  }
  if (auto v = args.Get("status")) {
    const std::string s = absl::AsciiStrToLower(*v);
    if (s == "open") {
      request.set_status(v1::CYCLE_STATUS_OPEN);
    } else if (s == "closed") {
      request.set_status(v1::CYCLE_STATUS_CLOSED);
    } else {
      return r.UsageError(Bad("--status", "must be open or closed"));
    }
  }
  auto page = PageFlags(args);
  if (!page.ok()) return r.UsageError(page.status());
  request.set_page_size(page->page_size);
  SOCLE_CLIENT_OR_EXIT_(r, client);
  return Paged<v1::ListCyclesResponse>(
      r, args, page->page_token,
      [&](const std::string& token) {
        v1::ListCyclesRequest one = request;
        one.set_page_token(token);
        return client->ListCycles(one);
      },
      [&](const v1::ListCyclesResponse& response) {
        if (!r.json()) {
          for (const v1::Cycle& c : response.cycles()) r.out() << CycleLine(c);
        }
        return static_cast<size_t>(response.cycles_size());
      },
      "No cycle found.");
}

int RunCycleClose(Runner& r, const ParsedArgs& args) {
  auto id = CanonicalId(args.positional[0], 'C', "CYCLE_ID");
  if (!id.ok()) return r.UsageError(id.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto cycle = client->CloseCycle(*id, r.request_id());
  if (!cycle.ok()) return r.CallError(cycle.status());
  if (r.json()) {
    r.PrintJson(*cycle);
    return kExitOk;
  }
  r.out() << "Closed " << CycleLine(*cycle);
  return kExitOk;
}

int RunCycleLines(Runner& r, const ParsedArgs& args) {
  auto id = CanonicalId(args.positional[0], 'C', "CYCLE_ID");
  if (!id.ok()) return r.UsageError(id.status());
  v1::ListCycleLinesRequest request;
  request.set_cycle_id(*id);
  if (auto v = args.Get("office")) request.set_office_code(*v);
  if (auto v = args.Get("status")) {
    const std::string s = absl::AsciiStrToLower(*v);
    if (s == "unpaid") {
      request.set_status(v1::LINE_STATUS_UNPAID);
    } else if (s == "partly-paid" || s == "partly_paid") {
      request.set_status(v1::LINE_STATUS_PARTLY_PAID);
    } else if (s == "paid") {
      request.set_status(v1::LINE_STATUS_PAID);
    } else if (s == "overpaid") {
      request.set_status(v1::LINE_STATUS_OVERPAID);
    } else {
      return r.UsageError(Bad("--status", "must be unpaid, partly-paid, paid or overpaid"));
    }
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  int64_t count = 0;
  absl::Status status = client->ListCycleLines(request, [&](const v1::Line& l) {
    ++count;
    if (r.json()) {
      r.PrintJson(l);
    } else {
      r.out() << l.line_id() << "  " << l.office_code() << "  "
              << GroupNumber(l.beneficiary_number()) << "  " << l.enrolment_id() << "  owed "
              << FormatMoneyGrouped(l.amount()) << "  paid " << FormatMoneyGrouped(l.paid())
              << "  " << LineStatusWord(l.status()) << "\n";
    }
    return true;
  });
  if (!status.ok()) return r.CallError(status);
  if (!r.json()) r.out() << FormatCount(count) << (count == 1 ? " line\n" : " lines\n");
  return kExitOk;
}

int RunPaymentReverse(Runner& r, const ParsedArgs& args) {
  auto id = CanonicalId(args.positional[0], 'P', "PAYMENT_ID");
  if (!id.ok()) return r.UsageError(id.status());
  std::optional<std::string> reason = args.Get("reason");
  if (!reason || absl::StripAsciiWhitespace(*reason).empty()) {
    return r.UsageError(Bad("--reason", "is required: say why the payment is reversed"));
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto reversal = client->ReversePayment(*id, *reason, r.request_id());
  if (!reversal.ok()) return r.CallError(reversal.status());
  if (r.json()) {
    r.PrintJson(*reversal);
    return kExitOk;
  }
  r.out() << "Reversed " << *id << " by " << PaymentSummary(*reversal) << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// socle-admin reconcile

absl::StatusOr<std::string> ReadTextFile(const std::string& path, absl::string_view flag) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Bad(flag, absl::StrCat(path, " is a directory"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return Bad(flag, absl::StrCat("cannot read ", path, ": ",
                                  err != 0 ? std::strerror(err) : "cannot open"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return std::move(content).str();
}

int RunReconcile(Runner& r, const ParsedArgs& args) {
  v1::ReconcileRequest request;
  std::optional<std::string> period_flag = args.Get("period");
  if (!period_flag) return r.UsageError(Bad("--period", "is required, e.g. --period 2026-11"));
  auto period = CanonicalPeriod(*period_flag, "--period");
  if (!period.ok()) return r.UsageError(period.status());
  request.set_period(*period);
  if (auto v = args.Get("office")) request.set_office_code(*v);
  if (auto v = args.Get("programme")) {
    auto code = CanonicalProgrammeCode(*v, "--programme");
    if (!code.ok()) return r.UsageError(code.status());
    request.set_programme_code(*code);
  }
  if (auto v = args.Get("max")) {
    auto max = ToInt(*v, "--max", 1, 10000);
    if (!max.ok()) return r.UsageError(max.status());
    request.set_max_discrepancies(static_cast<int32_t>(*max));
  }
  ReportFormat format = r.json() ? ReportFormat::kJson : ReportFormat::kTable;
  if (auto v = args.Get("format")) {
    auto f = ParseReportFormat(*v);
    if (!f.ok()) return r.UsageError(f.status());
    format = *f;
  }
  std::optional<v1::ReconcileStatementRequest> statement_request;
  if (auto path = args.Get("statement")) {
    auto text = ReadTextFile(*path, "--statement");
    if (!text.ok()) return r.UsageError(text.status());
    std::string currency;
    if (auto c = args.Get("currency")) {
      currency = *c;
    } else if (auto c = Env(r.env(), "SOCLE_CURRENCY")) {
      currency = *c;
    }
    if (!currency.empty()) {
      absl::Status valid = ValidateCurrency(currency, "--currency");
      if (!valid.ok()) return r.UsageError(valid);
    }
    auto rows = ParseStatementCsv(*text, currency,
                                  std::filesystem::path(*path).filename().string());
    if (!rows.ok()) return r.UsageError(rows.status());
    statement_request.emplace();
    statement_request->set_period(*period);
    statement_request->set_programme_code(request.programme_code());
    if (auto v = args.Get("channel")) {
      auto channel = ParseChannel(*v);
      if (!channel.ok()) return r.UsageError(channel.status());
      statement_request->set_channel(*channel);
    }
    for (v1::StatementRow& row : *rows) *statement_request->add_rows() = std::move(row);
    statement_request->set_max_lines(request.max_discrepancies());
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto report = client->Reconcile(request);
  if (!report.ok()) return r.CallError(report.status());
  std::optional<v1::StatementReconciliation> statement;
  if (statement_request) {
    auto matched = client->ReconcileStatement(*statement_request);
    if (!matched.ok()) return r.CallError(matched.status());
    statement = *std::move(matched);
  }
  const std::string text =
      RenderReport(format, *report, statement ? &*statement : nullptr);
  if (auto output = args.Get("output")) {
    std::ofstream out(*output, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      return r.UsageError(Bad("--output", absl::StrCat("cannot write ", *output)));
    }
    r.err() << "wrote " << *output << "\n";
  } else {
    r.out() << text;
  }
  // Exit 0 also when there are discrepancies: they are the report's content.
  return kExitOk;
}

const std::vector<FlagSpec>& PayFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"amount", Kind::kValue, "X", "amount paid in the currency's units, e.g. 100000 (required)"},
      {"currency", Kind::kValue, "C", "ISO 4217 code, e.g. KHR [$SOCLE_CURRENCY]"},
      {"channel", Kind::kValue, "CH", "cash (default), bank or mobile"},
      {"reference", Kind::kValue, "R", "the bank's or mobile operator's reference"},
      // Not --key: that global option names the TLS key file.
      {"idempotency-key", Kind::kValue, "K", "the key printed by a first attempt"},
      {"supplement", Kind::kSwitch, "", "pay a line already paid in full, on purpose"},
      {"note", Kind::kValue, "TEXT", "a note kept with the payment"},
  };
  return *flags;
}

}  // namespace

std::string NewPaymentKey() { return absl::StrCat("pay-", GenerateRequestId()); }

absl::StatusOr<std::string> CanonicalId(absl::string_view text, char letter,
                                        absl::string_view field) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  int64_t n = 0;
  if (t.size() < 2 || absl::ascii_toupper(static_cast<unsigned char>(t[0])) != letter ||
      !absl::SimpleAtoi(t.substr(1), &n) || n <= 0) {
    return Bad(field, absl::StrCat("'", text, "' is not an id such as ", std::string(1, letter),
                                   "12"));
  }
  return absl::StrCat(std::string(1, letter), n);
}

absl::StatusOr<std::string> CanonicalPeriod(absl::string_view text, absl::string_view field) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  int year = 0, month = 0;
  if (t.size() != 7 || t[4] != '-' || !absl::SimpleAtoi(t.substr(0, 4), &year) ||
      !absl::SimpleAtoi(t.substr(5), &month) || year < 1 || month < 1 || month > 12 ||
      !absl::ascii_isdigit(static_cast<unsigned char>(t[0])) ||
      !absl::ascii_isdigit(static_cast<unsigned char>(t[5]))) {
    return Bad(field, absl::StrCat("'", text, "' is not a month written YYYY-MM, e.g. 2026-11"));
  }
  return std::string(t);
}

absl::StatusOr<v1::RecordPaymentRequest> BuildPay(const ParsedArgs& args,
                                                  const EnvLookup& env,
                                                  absl::string_view generated_key) {
  RETURN_IF_ERROR(CheckPositional(args, 0, "LINE_ID"));
  RETURN_IF_ERROR(NoMorePositionals(args, 1));
  v1::RecordPaymentRequest request;
  ASSIGN_OR_RETURN(std::string line, CanonicalId(args.positional[0], 'L', "LINE_ID"));
  request.set_line_id(line);
  std::optional<std::string> amount = args.Get("amount");
  if (!amount) return Bad("--amount", "is required, e.g. --amount 100000 --currency KHR");
  std::optional<std::string> currency = args.Get("currency");
  if (!currency) currency = Env(env, "SOCLE_CURRENCY");
  if (!currency || currency->empty()) {
    return Bad("--amount", "give the currency too: --currency CODE, e.g. KHR");
  }
  RETURN_IF_ERROR(ValidateCurrency(*currency, "--currency"));
  ASSIGN_OR_RETURN(*request.mutable_amount(), ParseMoney(*amount, *currency, "--amount"));
  if (request.amount().minor_units() <= 0) return Bad("--amount", "must be more than zero");
  v1::PaymentChannel channel = v1::PAYMENT_CHANNEL_CASH;
  if (auto v = args.Get("channel")) {
    ASSIGN_OR_RETURN(channel, ParseChannel(*v));
  }
  request.set_channel(channel);
  if (auto v = args.Get("reference")) request.set_provider_reference(*v);
  if (channel != v1::PAYMENT_CHANNEL_CASH && request.provider_reference().empty()) {
    return Bad("--reference", "is required for bank and mobile payments");
  }
  std::optional<std::string> key = args.Get("idempotency-key");
  request.set_idempotency_key(key ? std::string(absl::StripAsciiWhitespace(*key))
                                  : std::string(generated_key));
  if (request.idempotency_key().empty()) return Bad("--idempotency-key", "must not be empty");
  request.set_supplement(args.Switch("supplement"));
  if (auto v = args.Get("note")) request.set_note(*v);
  return request;
}

std::vector<CommandSpec>* WithClerkPaymentCommands(std::vector<CommandSpec>* commands) {
  commands->push_back(
      {"pay",
       "pay LINE_ID --amount X [--currency C] [--channel cash|bank|mobile]\n"
       "                 [--reference R] [--idempotency-key K] [--supplement]\n"
       "                 [--note TEXT]",
       "LINE_ID", "record a payment against a payroll line",
       "Records money paid against a line of a payment cycle (e.g. L12, from\n"
       "'socle-admin cycle lines'). The command prints an idempotency key\n"
       "first: if the link fails or you are unsure the payment went through,\n"
       "run the same command again with --idempotency-key and that key; the\n"
       "payment is recorded once, never twice. A line already paid in full is\n"
       "refused unless --supplement is given; so is a closed cycle, and a\n"
       "person who died before the month.",
       PayFlags(), 1, 1, &RunPay});
  return commands;
}

std::vector<CommandSpec>* WithAdminPaymentCommands(std::vector<CommandSpec>* commands) {
  const std::vector<FlagSpec> page_flags = {
      {"page-size", Kind::kValue, "N", "results per page, 1-500 (default 50)"},
      {"page-token", Kind::kValue, "T", "the page after a previous one"},
      {"all", Kind::kSwitch, "", "every page"},
  };
  commands->push_back(
      {"cycle open", "cycle open PROGRAMME --period YYYY-MM", "PROGRAMME",
       "compute a month's payroll",
       "Opens the payment cycle of a programme for a month: one line per\n"
       "enrolment active in that month, with the amount owed frozen now.\n"
       "Opening it again returns the same cycle and adds nothing.",
       {{"period", Kind::kValue, "YYYY-MM", "the month, e.g. 2026-11 (required)"}}, 1, 1,
       &RunCycleOpen});
  std::vector<FlagSpec> list_flags = {
      {"programme", Kind::kValue, "CODE", "one programme"},
      {"period", Kind::kValue, "YYYY-MM", "one month"},
      {"status", Kind::kValue, "S", "open or closed"},
  };
  list_flags.insert(list_flags.end(), page_flags.begin(), page_flags.end());
  commands->push_back({"cycle list",
                       "cycle list [--programme CODE] [--period YYYY-MM] [--status S] [--all]",
                       "", "payment cycles, newest first",
                       "Lists payment cycles, the most recently opened first, with their\n"
                       "lines and the amount owed.",
                       list_flags, 0, 0, &RunCycleList});
  commands->push_back({"cycle close", "cycle close CYCLE_ID", "CYCLE_ID", "close a cycle",
                       "Closes a cycle (e.g. C3): no payment is recorded against it any\n"
                       "more; reversals still are.",
                       {}, 1, 1, &RunCycleClose});
  commands->push_back(
      {"cycle lines", "cycle lines CYCLE_ID [--office CODE] [--status S]", "CYCLE_ID",
       "a cycle's payroll lines",
       "Streams the lines of a cycle with what was paid against each (S:\n"
       "unpaid, partly-paid, paid or overpaid). With --json, one Line object\n"
       "per line.",
       {{"office", Kind::kValue, "CODE", "one office"},
        {"status", Kind::kValue, "S", "unpaid, partly-paid, paid or overpaid"}},
       1, 1, &RunCycleLines});
  commands->push_back({"payment reverse", "payment reverse PAYMENT_ID --reason TEXT",
                       "PAYMENT_ID", "undo a payment by a new entry",
                       "Reverses a payment (e.g. P7) with a new entry that references it;\n"
                       "the payment itself is never changed. A payment is reversed once.",
                       {{"reason", Kind::kValue, "TEXT", "why (required)"}}, 1, 1,
                       &RunPaymentReverse});
  commands->push_back(
      {"reconcile",
       "reconcile --period YYYY-MM [--office CODE] [--programme CODE]\n"
       "                         [--statement FILE.csv [--currency C] [--channel CH]]\n"
       "                         [--format table|csv|json|html] [--output FILE]",
       "", "what was owed against what was paid",
       "For a month (one office, one programme, or all): per office and\n"
       "programme the amounts owed, paid, reversed and outstanding, which\n"
       "balance to the unit; how many lines are paid in full, unpaid,\n"
       "underpaid, overpaid or paid twice, and how many payments had no\n"
       "line or went to a person who died before the month; then each\n"
       "discrepancy. --statement matches a provider's CSV (reference,\n"
       "amount, date[, currency]) against the payments recorded. --format\n"
       "html writes one self-contained page with a chart of owed against\n"
       "paid per office.",
       {{"period", Kind::kValue, "YYYY-MM", "the month (required)"},
        {"office", Kind::kValue, "CODE", "one office"},
        {"programme", Kind::kValue, "CODE", "one programme"},
        {"statement", Kind::kValue, "FILE", "a provider's statement, CSV"},
        {"currency", Kind::kValue, "C", "the statement's currency [$SOCLE_CURRENCY]"},
        {"channel", Kind::kValue, "CH", "match only bank or mobile payments"},
        {"max", Kind::kValue, "N", "discrepancies listed at most (default 1000)"},
        {"format", Kind::kValue, "F", "table (default), csv, json or html"},
        {"output", Kind::kValue, "FILE", "write the report to FILE"}},
       0, 0, &RunReconcile});
  return commands;
}

}  // namespace socle::client::cli
