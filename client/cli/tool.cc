#include "client/cli/tool.h"

#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "client/cli/access_commands.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/status_macros.h"

#ifndef SOCLE_DEV_CERT_DIR
#define SOCLE_DEV_CERT_DIR ".dev/certs"
#endif

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

std::string DevFile(absl::string_view name) {
  return absl::StrCat(SOCLE_DEV_CERT_DIR, "/", name);
}

// "[$A, $B, <dev>/file]" for the help of --cert and --key.
std::string Defaults(const std::vector<std::string>& vars,
                     absl::string_view file) {
  std::vector<std::string> parts;
  for (const std::string& v : vars) parts.push_back(absl::StrCat("$", v));
  parts.push_back(absl::StrCat("<dev>/", file));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

bool ValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<bool> EnvBool(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> v = Env(env, name);
  if (!v || v->empty()) return false;
  std::optional<bool> b = ParseBool(*v);
  if (!b) {
    return absl::InvalidArgumentError(
        absl::StrCat("$", name, ": '", *v, "' is not yes or no"));
  }
  return *b;
}

std::string FlagsHelp(const std::vector<FlagSpec>& flags) {
  std::string out;
  for (const FlagSpec& f : flags) {
    if (f.help.empty()) continue;
    std::string left = absl::StrCat("--", f.name);
    if (!f.value_name.empty() && f.kind != Kind::kSwitch) {
      absl::StrAppend(&left, " ", f.value_name);
    }
    absl::StrAppend(&out, Columns(left, f.help));
  }
  return out;
}

constexpr absl::string_view kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  server or connection error (unavailable, timeout, internal):\n"
    "     try again later; a write is safe to repeat with the same\n"
    "     --request-id\n"
    "  2  bad input: a usage error, a certificate file that cannot be read,\n"
    "     or fields the server refused\n"
    "  3  not found\n"
    "  4  refused by the rules: possible duplicate, already exists, wrong\n"
    "     state, not eligible, record changed meanwhile\n"
    "  5  not allowed: no valid certificate or login, or your role lacks the\n"
    "     right\n"
    "  6  import: some persons were refused, the others are registered\n";

std::string CommandFooter(const Tool& tool) {
  return absl::StrCat(
      "\nGlobal options (", tool.program,
      " --help): --endpoint --ca --cert --key --timeout\n"
      "--insecure_for_testing --json --request-id. Exit codes: 0 done,\n"
      "1 server/connection error, 2 bad input, 3 not found, 4 refused by the\n"
      "rules, 5 not allowed, 6 import: some persons refused.\n");
}

bool IsGroup(const Tool& tool, absl::string_view word) {
  for (const std::string& g : tool.groups) {
    if (g == word) return true;
  }
  return false;
}

std::string GroupHelp(const Tool& tool, absl::string_view group) {
  std::string out = absl::StrCat(tool.program, " ", group, " commands:\n\n");
  for (const CommandSpec& c : *tool.commands) {
    if (absl::StartsWith(c.name, absl::StrCat(group, " "))) {
      absl::StrAppend(&out, CommandHelp(tool, c, false), "\n");
    }
  }
  absl::StrAppend(&out, CommandFooter(tool).substr(1));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Tables and help.

std::vector<FlagSpec> GlobalFlags(const CertificateDefaults& certificates) {
  const std::string& who = certificates.who;
  return {
      {"endpoint", Kind::kValue, "HOST:PORT",
       "server address [$SOCLE_ENDPOINT, localhost:50051]"},
      {"ca", Kind::kValue, "FILE",
       "CA certificate, PEM [$SOCLE_CA, <dev>/ca.pem]"},
      {"cert", Kind::kValue, "FILE",
       absl::StrCat(who, " certificate, PEM ",
                    Defaults(certificates.cert_env, certificates.cert_file))},
      {"key", Kind::kValue, "FILE",
       absl::StrCat(who, " key, PEM ",
                    Defaults(certificates.key_env, certificates.key_file))},
      {"insecure_for_testing", Kind::kSwitch, "",
       "plaintext, no certificates: tests only [$SOCLE_INSECURE_FOR_TESTING]"},
      {"timeout", Kind::kValue, "DURATION",
       "deadline of each attempt, e.g. 10s, 1m [$SOCLE_TIMEOUT, 10s]"},
      {"json", Kind::kSwitch, "",
       "machine output: one JSON object per line [$SOCLE_JSON]"},
      {"request-id", Kind::kValue, "ID",
       "idempotency key of the write, to retry it safely (default: random)"},
      {"token-file", Kind::kValue, "FILE",
       certificates.login
           ? "login token file [$SOCLE_TOKEN_FILE, ~/.config/socle/token]"
           : ""},
      {"help", Kind::kSwitch, "", "help on the command"},
      {"h", Kind::kSwitch, "", ""},
  };
}

std::vector<FlagSpec> Concat(
    std::initializer_list<std::vector<FlagSpec>> parts) {
  std::vector<FlagSpec> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const CommandSpec* FindCommand(const Tool& tool, absl::string_view name) {
  for (const CommandSpec& c : *tool.commands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Columns(absl::string_view left, absl::string_view help) {
  constexpr size_t kLeft = 26;
  if (left.size() + 2 > kLeft) {
    return absl::StrCat("  ", left, "\n", std::string(kLeft + 1, ' '),
                        Wrap(help, kLeft + 1, kLeft + 1), "\n");
  }
  return absl::StrCat(absl::StrFormat("  %-*s ", kLeft - 2, left),
                      Wrap(help, kLeft + 1, kLeft + 1), "\n");
}

std::string MainHelp(const Tool& tool) {
  std::string out = absl::StrCat(tool.program, ": ", tool.tagline,
                                 "\n\nUsage: ", tool.program,
                                 " [global options] COMMAND [arguments] "
                                 "[options]\n\nCommands:\n");
  for (const CommandSpec& c : *tool.commands) {
    std::string left =
        c.args.empty() ? c.name : absl::StrCat(c.name, " ", c.args);
    if (left.size() > 27) {
      absl::StrAppend(&out, "  ", left, "\n",
                      absl::StrFormat("  %-27s %s\n", "", c.summary));
    } else {
      absl::StrAppend(&out, absl::StrFormat("  %-27s %s\n", left, c.summary));
    }
  }
  absl::StrAppend(&out, absl::StrFormat("  %-27s %s\n", "help [COMMAND]",
                                        "help on a command"));
  absl::StrAppend(&out, "\nGlobal options [environment variable, default]:\n",
                  FlagsHelp(GlobalFlags(tool.certificates)),
                  "  (<dev> is " SOCLE_DEV_CERT_DIR ")\n\n", tool.conventions,
                  "\n", kExitCodes);
  return out;
}

std::string CommandHelp(const Tool& tool, const CommandSpec& c, bool footer) {
  std::string out = absl::StrCat("Usage: ", tool.program, " ", c.usage,
                                 "\n\n", c.description, "\n");
  if (!c.flags.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", FlagsHelp(c.flags));
  }
  if (footer) absl::StrAppend(&out, CommandFooter(tool));
  return out;
}

// ---------------------------------------------------------------------------
// Runner.

Client* Runner::client() {
  if (client_) return &*client_;
  if (!context_.make_connection) {
    connect_error_ = absl::InternalError("no connection factory");
  } else {
    auto connection = context_.make_connection(options_.connection);
    if (connection.ok()) {
      client_.emplace(*std::move(connection));
      return &*client_;
    }
    connect_error_ = connection.status();
  }
  err() << tool_.program << ": cannot set up the connection: "
        << connect_error_.message() << "\n";
  return nullptr;
}

int Runner::UsageError(const absl::Status& status) {
  err() << tool_.program << " " << command_.name << ": " << status.message()
        << "\n"
        << "Run '" << tool_.program << " help " << command_.name
        << "' for its flags.\n";
  return kExitBadInput;
}

int Runner::CallError(const absl::Status& status) {
  std::vector<FieldViolation> violations = GetFieldViolations(status);
  std::string message(status.message());
  if (!violations.empty()) {
    err() << tool_.program << ": " << CodeWords(status.code()) << ":\n";
    for (const FieldViolation& v : violations) {
      err() << "  " << v.field << ": " << v.description << "\n";
    }
  } else {
    err() << tool_.program << ": " << CodeWords(status.code())
          << (message.empty() ? "" : ": ") << message << "\n";
  }
  if (auto info = GetErrorInfo(status)) {
    if (info->reason == "REQUEST_ID_REUSED") {
      auto it = info->metadata.find("field");
      err() << "  the request id was already used for a different request"
            << (it != info->metadata.end() ? " (" + it->second + " differs)"
                                           : "")
            << "; leave --request-id out to send a new one\n";
    }
  }
  return ExitCodeFor(status.code());
}

std::string Runner::CodeWords(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return "invalid input";
    case absl::StatusCode::kNotFound: return "not found";
    case absl::StatusCode::kAlreadyExists: return "refused, already exists";
    case absl::StatusCode::kFailedPrecondition: return "refused";
    case absl::StatusCode::kAborted: return "conflict";
    case absl::StatusCode::kOutOfRange: return "refused, out of range";
    case absl::StatusCode::kUnauthenticated: return "not authenticated";
    case absl::StatusCode::kPermissionDenied: return "not allowed";
    case absl::StatusCode::kUnavailable:
      return "server unavailable (try again later)";
    case absl::StatusCode::kDeadlineExceeded: return "no answer in time";
    case absl::StatusCode::kResourceExhausted: return "server busy";
    default:
      return absl::StrCat("server error (", absl::StatusCodeToString(code),
                          ")");
  }
}

// ---------------------------------------------------------------------------
// Value helpers.

absl::Status Bad(absl::string_view what, absl::string_view description) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", description));
}

absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view text,
                                          absl::string_view field) {
  auto day = socle::ParseDate(text, field);
  if (!day.ok()) return absl::InvalidArgumentError(day.status().message());
  return *day;
}

absl::StatusOr<v1::Date> ToDate(absl::string_view text,
                                absl::string_view field) {
  ASSIGN_OR_RETURN(absl::CivilDay day, ToCivilDay(text, field));
  return ToProtoDate(day);
}

absl::StatusOr<int64_t> ToInt(absl::string_view text, absl::string_view flag,
                              int64_t low, int64_t high) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return Bad(flag, absl::StrCat("'", text, "' is not a whole number"));
  }
  if (value < low || value > high) {
    return Bad(flag, absl::StrCat("must be from ", low, " to ", high));
  }
  return value;
}

std::optional<std::string> Env(const EnvLookup& env, const std::string& name) {
  if (!env) return std::nullopt;
  return env(name);
}

absl::Status CheckPositional(const ParsedArgs& args, size_t index,
                             absl::string_view name) {
  if (args.positional.size() <= index) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is missing"));
  }
  return absl::OkStatus();
}

absl::Status NoMorePositionals(const ParsedArgs& args, size_t count) {
  if (args.positional.size() > count) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[count], "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PageOptions> PageFlags(const ParsedArgs& args) {
  PageOptions page;
  if (auto v = args.Get("page-size")) {
    ASSIGN_OR_RETURN(int64_t n, ToInt(*v, "--page-size", 1, 500));
    page.page_size = static_cast<int32_t>(n);
  }
  if (auto v = args.Get("page-token")) page.page_token = *v;
  return page;
}

// ---------------------------------------------------------------------------
// Public functions of commands.h that every tool shares.

int ExitCodeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
      return kExitBadInput;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
      return kExitRefused;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitNotAllowed;
    default:
      return kExitServerError;
  }
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

const CertificateDefaults& TerminalCertificates() {
  static const auto* defaults = new CertificateDefaults();
  return *defaults;
}

absl::StatusOr<GlobalOptions> ResolveGlobalOptions(const ParsedArgs& args,
                                                   const EnvLookup& env) {
  return ResolveGlobalOptions(args, env, TerminalCertificates());
}

absl::StatusOr<GlobalOptions> ResolveGlobalOptions(
    const ParsedArgs& args, const EnvLookup& env,
    const CertificateDefaults& certificates) {
  GlobalOptions g;
  auto pick = [&](const char* flag, const std::vector<std::string>& vars,
                  std::string fallback) -> std::string {
    if (auto v = args.Get(flag)) return *v;
    for (const std::string& var : vars) {
      if (auto v = Env(env, var)) return *v;
    }
    return fallback;
  };
  ConnectionOptions& c = g.connection;
  c.endpoint = pick("endpoint", {"SOCLE_ENDPOINT"}, "localhost:50051");
  if (c.endpoint.empty()) return Bad("--endpoint", "must not be empty");
  c.ca_file = pick("ca", {"SOCLE_CA"}, DevFile("ca.pem"));
  c.cert_file = pick("cert", certificates.cert_env,
                     DevFile(certificates.cert_file));
  c.key_file =
      pick("key", certificates.key_env, DevFile(certificates.key_file));
  if (args.Has("insecure-for-testing")) {
    c.insecure_for_testing = args.Switch("insecure-for-testing");
  } else {
    ASSIGN_OR_RETURN(c.insecure_for_testing,
                     EnvBool(env, "SOCLE_INSECURE_FOR_TESTING"));
  }
  if (args.Has("json")) {
    g.json = args.Switch("json");
  } else {
    ASSIGN_OR_RETURN(g.json, EnvBool(env, "SOCLE_JSON"));
  }
  std::string timeout = pick("timeout", {"SOCLE_TIMEOUT"}, "");
  if (!timeout.empty()) {
    absl::Duration d;
    int64_t seconds = 0;
    if (absl::SimpleAtoi(timeout, &seconds)) {
      d = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(timeout, &d)) {
      return Bad("--timeout",
                 absl::StrCat("'", timeout, "' is not a duration: e.g. 30s"));
    }
    if (d <= absl::ZeroDuration()) return Bad("--timeout", "must be positive");
    c.timeout = d;
  }
  if (certificates.login) {
    g.token_file = args.Get("token-file").value_or(DefaultTokenFile(env));
    std::ifstream in(g.token_file);
    std::string token;
    if (in && std::getline(in, token)) {
      c.token = std::string(absl::StripAsciiWhitespace(token));
    }
  }
  if (auto id = args.Get("request-id")) {
    if (!ValidRequestId(*id)) {
      return Bad("--request-id", "1 to 64 characters of A-Z a-z 0-9 . _ : -");
    }
    g.request_id = *id;
  }
  return g;
}

// ---------------------------------------------------------------------------
// Running a tool.

int RunTool(const Tool& tool, const std::vector<std::string>& args,
            const CliContext& context) {
  std::ostream& out = *context.out;
  std::ostream& err = *context.err;
  const std::vector<FlagSpec> globals = GlobalFlags(tool.certificates);
  const std::string& program = tool.program;

  // Global flags may come before the command words.
  std::vector<std::string> flag_tokens;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string name = FlagName(args[i]);
    if (name.empty()) break;
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : globals) {
      if (NormalizeFlagName(f.name) == name) spec = &f;
    }
    if (spec == nullptr) {
      err << program << ": unknown flag --" << name
          << " before the command (command flags go after it).\n"
          << "Run '" << program << " --help' for the commands.\n";
      return kExitBadInput;
    }
    flag_tokens.push_back(args[i]);
    if (spec->kind != Kind::kSwitch &&
        args[i].find('=') == std::string::npos && i + 1 < args.size()) {
      flag_tokens.push_back(args[++i]);
    }
  }
  auto wants_help = [&](const std::vector<std::string>& tokens) {
    for (const std::string& t : tokens) {
      std::string n = FlagName(t);
      if (n == "help" || n == "h") return true;
    }
    return false;
  };

  if (i >= args.size()) {
    if (wants_help(flag_tokens)) {
      out << MainHelp(tool);
      return kExitOk;
    }
    err << MainHelp(tool);
    return kExitBadInput;
  }

  std::string command = args[i++];
  if (command == "help") {
    std::vector<std::string> topic(args.begin() + i, args.end());
    std::string name = absl::StrJoin(topic, " ");
    if (name.empty()) {
      out << MainHelp(tool);
      return kExitOk;
    }
    if (const CommandSpec* spec = FindCommand(tool, name)) {
      out << CommandHelp(tool, *spec);
      return kExitOk;
    }
    if (IsGroup(tool, name)) {
      out << GroupHelp(tool, name);
      return kExitOk;
    }
    err << program << ": no help on '" << name << "': not a command.\n"
        << "Run '" << program << " help' for the list.\n";
    return kExitBadInput;
  }
  if (IsGroup(tool, command)) {
    if (i >= args.size() || !FlagName(args[i]).empty()) {
      bool help = wants_help(flag_tokens) ||
                  wants_help({args.begin() + i, args.end()});
      (help ? out : err) << GroupHelp(tool, command);
      return help ? kExitOk : kExitBadInput;
    }
    command = absl::StrCat(command, " ", args[i++]);
  }
  const CommandSpec* spec = FindCommand(tool, command);
  if (spec == nullptr) {
    err << program << ": unknown command '" << command << "'.\n"
        << "Run '" << program << " help' for the list.\n";
    return kExitBadInput;
  }

  std::vector<std::string> tokens = flag_tokens;
  tokens.insert(tokens.end(), args.begin() + i, args.end());
  if (wants_help(tokens)) {
    out << CommandHelp(tool, *spec);
    return kExitOk;
  }
  auto usage = [&](absl::string_view message) {
    err << program << " " << spec->name << ": " << message << "\n"
        << "Run '" << program << " help " << spec->name
        << "' for its flags.\n";
    return kExitBadInput;
  };
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(tokens, Concat({spec->flags, globals}));
  if (!parsed.ok()) return usage(parsed.status().message());
  if (parsed->positional.size() < spec->min_positional) {
    return usage(absl::StrCat("missing arguments: ", program, " ", spec->usage));
  }
  if (spec->max_positional != kHandlerChecksPositionals &&
      parsed->positional.size() > spec->max_positional) {
    return usage(absl::StrCat("unexpected argument '",
                              parsed->positional[spec->max_positional], "'"));
  }
  absl::StatusOr<GlobalOptions> options =
      ResolveGlobalOptions(*parsed, context.getenv, tool.certificates);
  if (!options.ok()) return usage(options.status().message());

  Runner runner(tool, *spec, *options, context);
  return spec->run(runner, *parsed);
}

}  // namespace socle::client::cli
