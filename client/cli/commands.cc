#include "client/cli/commands.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/cli/format.h"
#include "client/cli/money.h"
#include "client/client.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"

#ifndef SOCLE_DEV_CERT_DIR
#define SOCLE_DEV_CERT_DIR ".dev/certs"
#endif

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

// ---------------------------------------------------------------------------
// Flag tables.

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"endpoint", Kind::kValue, "HOST:PORT",
       "server address [$SOCLE_ENDPOINT, localhost:50051]"},
      {"ca", Kind::kValue, "FILE",
       "CA certificate, PEM [$SOCLE_CA, <dev>/ca.pem]"},
      {"cert", Kind::kValue, "FILE",
       "terminal certificate, PEM [$SOCLE_CERT, <dev>/terminal.pem]"},
      {"key", Kind::kValue, "FILE",
       "terminal key, PEM [$SOCLE_KEY, <dev>/terminal.key]"},
      {"insecure_for_testing", Kind::kSwitch, "",
       "plaintext, no certificates: tests only [$SOCLE_INSECURE_FOR_TESTING]"},
      {"timeout", Kind::kValue, "DURATION",
       "deadline of each attempt, e.g. 10s, 1m [$SOCLE_TIMEOUT, 10s]"},
      {"json", Kind::kSwitch, "",
       "machine output: one JSON object per line [$SOCLE_JSON]"},
      {"request-id", Kind::kValue, "ID",
       "idempotency key of the write, to retry it safely (default: random)"},
      {"help", Kind::kSwitch, "", "help on the command"},
      {"h", Kind::kSwitch, "", ""},
  };
  return *flags;
}

const std::vector<FlagSpec> kAddressFlags = {
    {"province", Kind::kValue, "TEXT", "province"},
    {"district", Kind::kValue, "TEXT", "district"},
    {"commune", Kind::kValue, "TEXT", "commune"},
    {"village", Kind::kValue, "TEXT", "village"},
    {"street", Kind::kValue, "TEXT", "street, house number or landmark"},
};

const std::vector<FlagSpec> kIdentityFlags = {
    {"national-id", Kind::kValue, "ID", "national ID (optional; unique)"},
    {"given", Kind::kValue, "NAME", "given name(s)"},
    {"family", Kind::kValue, "NAME", "family name"},
    {"sex", Kind::kValue, "SEX", "female, male or other"},
    {"born", Kind::kValue, "DATE", "date of birth, YYYY-MM-DD"},
    {"phone", Kind::kValue, "PHONE", "6 to 15 digits, optional leading +"},
};

const std::vector<FlagSpec> kIncomeFlags = {
    {"income", Kind::kValue, "AMOUNT",
     "own monthly income, e.g. 1250.50 (with --currency)"},
    {"currency", Kind::kValue, "CODE",
     "ISO 4217 code of the amounts, e.g. KHR [$SOCLE_CURRENCY]"},
    {"contributory-pension", Kind::kSwitch, "",
     "receives a contributory pension (=no to clear)"},
};

const std::vector<FlagSpec> kRegisterOnlyFlags = {
    {"office", Kind::kValue, "CODE",
     "registering office, e.g. KH-SR-03 (default: yours)"},
    {"disability-degree", Kind::kValue, "N", "certified disability, 0-100 %"},
    {"disability-certified-on", Kind::kValue, "DATE",
     "date the disability was certified"},
    {"pregnancy-start", Kind::kValue, "DATE",
     "first day of a current pregnancy"},
    {"employment", Kind::kValue, "STATUS",
     "employed, self-employed, unemployed or inactive"},
    {"override-reason", Kind::kValue, "TEXT",
     "register despite possible duplicates, saying why"},
};

const std::vector<FlagSpec> kPageFlags = {
    {"page-size", Kind::kValue, "N", "results per page, 1-500 (default 50)"},
    {"page-token", Kind::kValue, "T", "the page after a previous one"},
    {"all", Kind::kSwitch, "", "every page"},
};

std::vector<FlagSpec> Concat(std::initializer_list<std::vector<FlagSpec>> parts) {
  std::vector<FlagSpec> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Event types and the flags each accepts beside --date/--correction/--reason.
struct EventType {
  std::string name;
  std::string help;
  std::vector<std::string> flags;
  std::vector<std::string> required;
};

const std::vector<EventType>& EventTypes() {
  static const auto* types = new std::vector<EventType>{
      {"birth", "gave birth [--child NUMBER: the newborn, once registered]",
       {"child"}, {}},
      {"death", "died (stops every benefit from the next day)", {}, {}},
      {"pregnancy", "pregnant, --weeks N: gestation week at --date (0-45)",
       {"weeks"}, {"weeks"}},
      {"disability", "disability certified, --degree N (0-100 %)",
       {"degree"}, {"degree"}},
      {"job-lost", "lost their job", {}, {}},
      {"job-found",
       "new job, --wage AMOUNT --currency CODE [--employer X] [--insured]",
       {"wage", "currency", "employer", "insured"}, {"wage"}},
      {"work-accident", "accident at work, --incapacity N (0-100 %)",
       {"incapacity"}, {"incapacity"}},
      {"move",
       "moved district, --office CODE [address flags] [--whole-household]",
       {"office", "province", "district", "commune", "village", "street",
        "whole-household"},
       {"office"}},
  };
  return *types;
}

const std::vector<FlagSpec> kEventFlags = Concat({
    {{"date", Kind::kValue, "DATE", "date of the event, YYYY-MM-DD (required)"},
     {"correction", Kind::kSwitch, "",
      "a correction of the record (with --reason)"},
     {"reason", Kind::kValue, "TEXT", "why the record is corrected"},
     {"child", Kind::kNumber, "NUMBER", "birth: the newborn's number"},
     {"weeks", Kind::kValue, "N", "pregnancy: gestation week at --date"},
     {"degree", Kind::kValue, "N", "disability: degree, 0-100 %"},
     {"wage", Kind::kValue, "AMOUNT", "job-found: monthly wage"},
     {"currency", Kind::kValue, "CODE",
      "job-found: currency of --wage [$SOCLE_CURRENCY]"},
     {"employer", Kind::kValue, "TEXT", "job-found: employer"},
     {"insured", Kind::kSwitch, "", "job-found: contributes to insurance"},
     {"incapacity", Kind::kValue, "N", "work-accident: incapacity, 0-100 %"},
     {"office", Kind::kValue, "CODE", "move: the new office"}},
    kAddressFlags,
    {{"whole-household", Kind::kSwitch, "",
      "move: the head moves the whole household"}},
});

// ---------------------------------------------------------------------------
// Commands.

class Runner;
using Handler = int (*)(Runner&, const ParsedArgs&);

struct CommandSpec {
  std::string name;   // "register", "household add"
  std::string usage;  // after "socle "
  std::string args;   // positionals, for the command list
  std::string summary;
  std::string description;
  std::vector<FlagSpec> flags;
  size_t min_positional = 0;
  size_t max_positional = 0;
  Handler run = nullptr;
};

const std::vector<CommandSpec>& Commands();

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Value helpers. Errors name the flag: "--born: must be a date ...".

absl::Status Bad(absl::string_view what, absl::string_view description) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", description));
}

absl::StatusOr<v1::Date> ToDate(absl::string_view text,
                                absl::string_view field) {
  auto day = socle::ParseDate(text, field);
  if (!day.ok()) return absl::InvalidArgumentError(day.status().message());
  v1::Date date;
  date.set_year(static_cast<int32_t>(day->year()));
  date.set_month(day->month());
  date.set_day(day->day());
  return date;
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

absl::StatusOr<v1::Sex> ToSex(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "female" || t == "f") return v1::SEX_FEMALE;
  if (t == "male" || t == "m") return v1::SEX_MALE;
  if (t == "other") return v1::SEX_OTHER;
  return Bad("--sex", absl::StrCat("'", text, "': give female, male or other"));
}

absl::StatusOr<v1::EmploymentStatus> ToEmployment(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "employed") return v1::EMPLOYMENT_STATUS_EMPLOYED;
  if (t == "self-employed") return v1::EMPLOYMENT_STATUS_SELF_EMPLOYED;
  if (t == "unemployed") return v1::EMPLOYMENT_STATUS_UNEMPLOYED;
  if (t == "inactive") return v1::EMPLOYMENT_STATUS_INACTIVE;
  return Bad("--employment",
             absl::StrCat("'", text,
                          "': give employed, self-employed, unemployed or "
                          "inactive"));
}

constexpr absl::string_view kRelationships =
    "spouse, child, parent, sibling, grandchild, grandparent, "
    "other-relative or non-relative";

absl::StatusOr<v1::Relationship> ToRelationship(absl::string_view text,
                                                absl::string_view flag) {
  std::string t = absl::AsciiStrToLower(text);
  for (char& c : t) {
    if (c == '_') c = '-';
  }
  static const auto* table = new std::map<std::string, v1::Relationship>{
      {"spouse", v1::RELATIONSHIP_SPOUSE},
      {"child", v1::RELATIONSHIP_CHILD},
      {"parent", v1::RELATIONSHIP_PARENT},
      {"sibling", v1::RELATIONSHIP_SIBLING},
      {"grandchild", v1::RELATIONSHIP_GRANDCHILD},
      {"grandparent", v1::RELATIONSHIP_GRANDPARENT},
      {"other-relative", v1::RELATIONSHIP_OTHER_RELATIVE},
      {"non-relative", v1::RELATIONSHIP_NON_RELATIVE},
  };
  auto it = table->find(t);
  if (it == table->end()) {
    return Bad(flag, absl::StrCat("'", text, "': give ", kRelationships));
  }
  return it->second;
}

std::optional<std::string> Env(const EnvLookup& env, const std::string& name) {
  if (!env) return std::nullopt;
  return env(name);
}

// --currency, else $SOCLE_CURRENCY; `for_flag` is the amount's flag.
absl::StatusOr<std::string> CurrencyFor(const ParsedArgs& args,
                                        const EnvLookup& env,
                                        absl::string_view for_flag) {
  std::optional<std::string> c = args.Get("currency");
  if (!c) c = Env(env, "SOCLE_CURRENCY");
  if (!c || c->empty()) {
    return Bad(for_flag, "give the currency too: --currency CODE, e.g. KHR");
  }
  RETURN_IF_ERROR(ValidateCurrency(*c, "--currency"));
  return *c;
}

absl::Status ApplyAddress(const ParsedArgs& args, v1::Address& address) {
  if (auto v = args.Get("province")) address.set_province(*v);
  if (auto v = args.Get("district")) address.set_district(*v);
  if (auto v = args.Get("commune")) address.set_commune(*v);
  if (auto v = args.Get("village")) address.set_village(*v);
  if (auto v = args.Get("street")) address.set_street(*v);
  return absl::OkStatus();
}

bool HasAny(const ParsedArgs& args, const std::vector<FlagSpec>& flags) {
  for (const FlagSpec& f : flags) {
    if (args.Has(f.name)) return true;
  }
  return false;
}

// The fields `update` may change (and `register` may set).
absl::Status ApplyEditable(const ParsedArgs& args, v1::Person& person,
                           const EnvLookup& env) {
  if (auto v = args.Get("national-id")) person.set_national_id(*v);
  if (auto v = args.Get("given")) person.set_given_name(*v);
  if (auto v = args.Get("family")) person.set_family_name(*v);
  if (auto v = args.Get("sex")) {
    ASSIGN_OR_RETURN(v1::Sex sex, ToSex(*v));
    person.set_sex(sex);
  }
  if (auto v = args.Get("born")) {
    ASSIGN_OR_RETURN(*person.mutable_date_of_birth(), ToDate(*v, "--born"));
  }
  if (auto v = args.Get("phone")) person.set_phone(*v);
  RETURN_IF_ERROR(ApplyAddress(args, *person.mutable_address()));
  v1::PersonFacts& facts = *person.mutable_facts();
  if (auto v = args.Get("income")) {
    ASSIGN_OR_RETURN(std::string currency, CurrencyFor(args, env, "--income"));
    ASSIGN_OR_RETURN(*facts.mutable_monthly_income(),
                     ParseMoney(*v, currency, "--income"));
  } else if (args.Has("currency")) {
    return Bad("--currency", "goes with --income");
  }
  if (args.Has("contributory-pension")) {
    facts.set_receives_contributory_pension(
        args.Switch("contributory-pension"));
  }
  return absl::OkStatus();
}

absl::Status CheckPositional(const ParsedArgs& args, size_t index,
                             absl::string_view name) {
  if (args.positional.size() <= index) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is missing"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Running a command.

class Runner {
 public:
  Runner(const CommandSpec& command, const GlobalOptions& options,
         const CliContext& context)
      : command_(command), options_(options), context_(context) {}

  std::ostream& out() { return *context_.out; }
  std::ostream& err() { return *context_.err; }
  bool json() const { return options_.json; }
  const std::string& request_id() const { return options_.request_id; }
  const EnvLookup& env() const { return context_.getenv; }

  // The client, connecting on first use. On failure prints why and returns
  // null; the command then returns exit_code().
  Client* client() {
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
    err() << "socle: cannot set up the connection: "
          << connect_error_.message() << "\n";
    return nullptr;
  }
  // After client() returned null: certificates or options are bad input.
  int connect_exit_code() const { return kExitBadInput; }

  // A problem with what the clerk typed, found before any call.
  int UsageError(const absl::Status& status) {
    err() << "socle " << command_.name << ": " << status.message() << "\n"
          << "Run 'socle help " << command_.name << "' for its flags.\n";
    return kExitBadInput;
  }

  // The server's (or the link's) answer, as one line, then one line per bad
  // field.
  int CallError(const absl::Status& status) {
    std::vector<FieldViolation> violations = GetFieldViolations(status);
    std::string message(status.message());
    if (!violations.empty()) {
      err() << "socle: " << CodeWords(status.code()) << ":\n";
      for (const FieldViolation& v : violations) {
        err() << "  " << v.field << ": " << v.description << "\n";
      }
    } else {
      err() << "socle: " << CodeWords(status.code())
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

  template <typename M>
  void PrintJson(const M& message) {
    out() << ToJson(message) << "\n";
  }

 private:
  static std::string CodeWords(absl::StatusCode code) {
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
        return absl::StrCat("server error (",
                            absl::StatusCodeToString(code), ")");
    }
  }

  const CommandSpec& command_;
  GlobalOptions options_;
  const CliContext& context_;
  std::optional<Client> client_;
  absl::Status connect_error_;
};

#define SOCLE_CLIENT_OR_EXIT_(runner, var)           \
  Client* var = (runner).client();                   \
  if (var == nullptr) return (runner).connect_exit_code()

std::string NameOfMember(const v1::Household& h, absl::string_view number) {
  for (const v1::HouseholdMember& m : h.members()) {
    if (m.beneficiary_number() == number) {
      return DisplayName(m.given_name(), m.family_name());
    }
  }
  return "";
}

std::string WithName(absl::string_view number, absl::string_view name) {
  std::string s = GroupNumber(number);
  if (!name.empty()) absl::StrAppend(&s, " ", name);
  return s;
}

// POSSIBLE_DUPLICATE: the candidates, and how to confirm.
void PrintDuplicate(Runner& r, const ErrorInfo& info) {
  std::vector<std::string> candidates;
  auto it = info.metadata.find("candidates");
  if (it != info.metadata.end()) {
    for (absl::string_view c :
         absl::StrSplit(it->second, ',', absl::SkipWhitespace())) {
      candidates.emplace_back(absl::StripAsciiWhitespace(c));
    }
  }
  r.err() << "socle: not registered: possible duplicate of "
          << (candidates.size() == 1
                  ? std::string("a registered person")
                  : absl::StrCat(candidates.size(), " registered persons"))
          << "\n(same name, birth date and district):\n";
  for (const std::string& number : candidates) {
    // Best effort: the numbers alone still let the clerk look them up.
    auto person = r.client()->GetPerson(number);
    r.err() << "  " << (person.ok() ? PersonLine(*person) : GroupNumber(number))
            << "\n";
  }
  r.err() << "Check with 'socle show NUMBER'. If this is a different person, "
             "re-run the same\ncommand with --override-reason \"how you know "
             "they differ\".\n";
}

int RunRegister(Runner& r, const ParsedArgs& args) {
  auto request = BuildRegister(args, r.env());
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  RegisterOptions options;
  options.duplicate_override_reason = request->duplicate_override_reason();
  options.request_id = r.request_id();
  auto person = client->RegisterPerson(request->person(), options);
  if (!person.ok()) {
    auto info = GetErrorInfo(person.status());
    if (info && info->reason == "POSSIBLE_DUPLICATE") {
      PrintDuplicate(r, *info);
      return ExitCodeFor(person.status().code());
    }
    int code = r.CallError(person.status());
    if (info && info->reason == "NATIONAL_ID_TAKEN") {
      r.err() << "  see who holds it: socle find --national-id "
              << request->person().national_id() << "\n";
    }
    return code;
  }
  if (r.json()) {
    r.PrintJson(*person);
  } else {
    r.out() << "Registered " << DisplayName(*person)
            << "  beneficiary number " << GroupNumber(person->beneficiary_number())
            << "\n";
  }
  return kExitOk;
}

int RunShow(Runner& r, const ParsedArgs& args) {
  auto number = CanonicalPersonNumber(args.positional[0], "NUMBER");
  if (!number.ok()) return r.UsageError(number.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto person = client->GetPerson(*number);
  if (!person.ok()) return r.CallError(person.status());
  if (r.json()) {
    r.PrintJson(*person);
  } else {
    r.out() << PersonDetails(*person);
  }
  return kExitOk;
}

// Pages through `fetch(token)` (one page with --all off), printing each.
template <typename Response, typename Fetch, typename PrintItems>
int Paged(Runner& r, const ParsedArgs& args, std::string token, Fetch fetch,
          PrintItems print_items, absl::string_view none) {
  bool all = args.Switch("all");
  size_t shown = 0;
  std::set<std::string> seen;
  for (;;) {
    absl::StatusOr<Response> page = fetch(token);
    if (!page.ok()) return r.CallError(page.status());
    if (r.json()) {
      r.PrintJson(*page);
    }
    shown += print_items(*page);
    token = page->next_page_token();
    if (token.empty()) break;
    if (!all) {
      if (!r.json()) {
        r.out() << "more: add --page-token " << token << " (or --all)\n";
      }
      return kExitOk;
    }
    if (!seen.insert(token).second) break;  // a server that loops
  }
  if (shown == 0 && !r.json()) r.out() << none << "\n";
  return kExitOk;
}

int RunFind(Runner& r, const ParsedArgs& args) {
  auto request = BuildFind(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  return Paged<v1::FindPersonsResponse>(
      r, args, request->page_token(),
      [&](const std::string& token) {
        v1::FindPersonsRequest page = *request;
        page.set_page_token(token);
        return client->FindPersons(page);
      },
      [&](const v1::FindPersonsResponse& page) {
        if (!r.json()) {
          for (const v1::Person& p : page.persons()) {
            r.out() << PersonLine(p) << "\n";
          }
        }
        return static_cast<size_t>(page.persons_size());
      },
      "No person found.");
}

int RunUpdate(Runner& r, const ParsedArgs& args) {
  auto number = CanonicalPersonNumber(args.positional[0], "NUMBER");
  if (!number.ok()) return r.UsageError(number.status());
  std::optional<int64_t> expected;
  if (auto v = args.Get("expected-version")) {
    auto parsed = ToInt(*v, "--expected-version", 1,
                        std::numeric_limits<int64_t>::max());
    if (!parsed.ok()) return r.UsageError(parsed.status());
    expected = *parsed;
  }
  v1::Person scratch;  // checks every flag before any call
  if (absl::Status s = ApplyPersonEdits(args, scratch, r.env()); !s.ok()) {
    return r.UsageError(s);
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto current = client->GetPerson(*number);
  if (!current.ok()) return r.CallError(current.status());
  v1::Person edited = *current;
  if (absl::Status s = ApplyPersonEdits(args, edited, r.env()); !s.ok()) {
    return r.UsageError(s);
  }
  int64_t version = expected.value_or(current->version());
  auto updated = client->UpdatePerson(*number, version, edited, r.request_id());
  if (!updated.ok()) {
    auto info = GetErrorInfo(updated.status());
    if (info && info->reason == "STALE_VERSION") {
      auto it = info->metadata.find("current_version");
      r.err() << "socle: not saved: the record changed since it was read"
              << (it != info->metadata.end()
                      ? absl::StrCat(" (version ", it->second, ", not ",
                                     version, ")")
                      : std::string())
              << ".\nRe-read it with 'socle show "
              << GroupNumber(*number) << "' and enter the change again.\n";
      return ExitCodeFor(updated.status().code());
    }
    int code = r.CallError(updated.status());
    if (info && info->reason == "NATIONAL_ID_TAKEN") {
      r.err() << "  see who holds it: socle find --national-id "
              << edited.national_id() << "\n";
    }
    return code;
  }
  if (r.json()) {
    r.PrintJson(*updated);
  } else {
    r.out() << "Updated " << WithName(updated->beneficiary_number(),
                                      DisplayName(*updated))
            << "  version " << updated->version() << "\n";
  }
  return kExitOk;
}

void PrintHousehold(Runner& r, const v1::Household& h,
                    absl::string_view what) {
  if (r.json()) {
    r.PrintJson(h);
    return;
  }
  r.out() << what << "\n";
}

int RunHouseholdCreate(Runner& r, const ParsedArgs& args) {
  auto request = BuildCreateHousehold(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto h = client->CreateHousehold(request->head_beneficiary_number(),
                                   request->address(), request->office_code(),
                                   r.request_id());
  if (!h.ok()) return r.CallError(h.status());
  PrintHousehold(
      r, *h,
      absl::StrCat("Created household ", GroupNumber(h->household_number()),
                   "  head ",
                   WithName(h->head_beneficiary_number(),
                            NameOfMember(*h, h->head_beneficiary_number()))));
  return kExitOk;
}

int RunHouseholdShow(Runner& r, const ParsedArgs& args) {
  auto number = CanonicalHouseholdNumber(args.positional[0], "HOUSEHOLD");
  if (!number.ok()) return r.UsageError(number.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto h = client->GetHousehold(*number);
  if (!h.ok()) return r.CallError(h.status());
  if (r.json()) {
    r.PrintJson(*h);
  } else {
    r.out() << HouseholdDetails(*h);
  }
  return kExitOk;
}

int RunHouseholdAdd(Runner& r, const ParsedArgs& args) {
  auto request = BuildAddMember(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto h = client->AddHouseholdMember(request->household_number(),
                                      request->beneficiary_number(),
                                      request->relationship(), r.request_id());
  if (!h.ok()) return r.CallError(h.status());
  PrintHousehold(
      r, *h,
      absl::StrCat("Added ",
                   WithName(request->beneficiary_number(),
                            NameOfMember(*h, request->beneficiary_number())),
                   " to household ", GroupNumber(h->household_number()), " as ",
                   RelationshipName(request->relationship()), "  (",
                   h->members_size(), " members)"));
  return kExitOk;
}

int RunHouseholdRemove(Runner& r, const ParsedArgs& args) {
  auto request = BuildRemoveMember(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto h = client->RemoveHouseholdMember(request->household_number(),
                                         request->beneficiary_number(),
                                         r.request_id());
  if (!h.ok()) return r.CallError(h.status());
  PrintHousehold(r, *h,
                 absl::StrCat("Removed ",
                              GroupNumber(request->beneficiary_number()),
                              " from household ",
                              GroupNumber(h->household_number()), "  (",
                              h->members_size(), " members left)"));
  return kExitOk;
}

int RunHouseholdSetHead(Runner& r, const ParsedArgs& args) {
  auto request = BuildSetHead(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto h = client->SetHouseholdHead(
      request->household_number(), request->beneficiary_number(),
      request->previous_head_relationship(), r.request_id());
  if (!h.ok()) return r.CallError(h.status());
  PrintHousehold(
      r, *h,
      absl::StrCat(WithName(request->beneficiary_number(),
                            NameOfMember(*h, request->beneficiary_number())),
                   " is now head of household ",
                   GroupNumber(h->household_number())));
  return kExitOk;
}

int RunEvent(Runner& r, const ParsedArgs& args) {
  auto request = BuildLifeEvent(args, r.env());
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto response = client->RecordLifeEvent(request->beneficiary_number(),
                                          request->event(), r.request_id());
  if (!response.ok()) return r.CallError(response.status());
  if (r.json()) {
    r.PrintJson(*response);
  } else {
    const v1::LifeEvent& e =
        response->has_event() ? response->event() : request->event();
    std::string what = absl::StrCat("Recorded ",
                                    e.correction() ? "correction: " : "",
                                    EventSummary(e), " on ",
                                    FormatDate(e.date()));
    std::string who = absl::StrCat(
        "for ", WithName(request->beneficiary_number(),
                         DisplayName(response->person())));
    // One line when it fits an 80-column terminal.
    r.out() << what << (what.size() + 1 + who.size() < 80 ? " " : "\n  ")
            << who << "\n";
  }
  return kExitOk;
}

int RunEvents(Runner& r, const ParsedArgs& args) {
  auto number = CanonicalPersonNumber(args.positional[0], "NUMBER");
  if (!number.ok()) return r.UsageError(number.status());
  int32_t page_size = 0;
  if (auto v = args.Get("page-size")) {
    auto n = ToInt(*v, "--page-size", 1, 500);
    if (!n.ok()) return r.UsageError(n.status());
    page_size = static_cast<int32_t>(*n);
  }
  SOCLE_CLIENT_OR_EXIT_(r, client);
  return Paged<v1::ListLifeEventsResponse>(
      r, args, args.Get("page-token").value_or(""),
      [&](const std::string& token) {
        return client->ListLifeEvents(*number, page_size, token);
      },
      [&](const v1::ListLifeEventsResponse& page) {
        if (!r.json()) {
          for (const v1::LifeEvent& e : page.events()) {
            r.out() << EventLine(e) << "\n";
          }
        }
        return static_cast<size_t>(page.events_size());
      },
      "No life event recorded.");
}

int RunHealth(Runner& r, const ParsedArgs&) {
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto status = client->Check();
  if (!status.ok()) return r.CallError(status.status());
  std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(*status);
  if (r.json()) {
    grpc::health::v1::HealthCheckResponse response;
    response.set_status(*status);
    r.PrintJson(response);
  } else {
    r.out() << name << "\n";
  }
  if (*status != grpc::health::v1::HealthCheckResponse::SERVING) {
    r.err() << "socle: the server is up but " << name << "\n";
    return kExitServerError;
  }
  return kExitOk;
}

// `text` wrapped to 80 columns, continuation lines indented by `indent`;
// the first line starts at column `first`.
std::string Wrap(absl::string_view text, size_t first, size_t indent) {
  constexpr size_t kWidth = 79;
  std::string out;
  size_t column = first;
  bool line_start = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line_start && column + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out.push_back(' ');
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    line_start = false;
  }
  return out;
}

// Two columns: "  --flag VALUE" (26 wide) and the wrapped help.
std::string Columns(absl::string_view left, absl::string_view help) {
  constexpr size_t kLeft = 26;
  if (left.size() + 2 > kLeft) {
    return absl::StrCat("  ", left, "\n", std::string(kLeft + 1, ' '),
                        Wrap(help, kLeft + 1, kLeft + 1), "\n");
  }
  return absl::StrCat(absl::StrFormat("  %-*s ", kLeft - 2, left),
                      Wrap(help, kLeft + 1, kLeft + 1), "\n");
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"register",
       "register --given NAME --family NAME --sex SEX --born DATE\n"
       "                      [--district TEXT ...] [options]",
       "", "register a resident",
       "Registers a resident; the server issues the beneficiary number.\n"
       "A possible duplicate (same name, birth date and district) is refused\n"
       "with the candidates listed; re-run with --override-reason to confirm.",
       Concat({kIdentityFlags, kAddressFlags, kIncomeFlags, kRegisterOnlyFlags}),
       0, 0, &RunRegister},
      {"show", "show NUMBER", "NUMBER", "a person's record, household, facts",
       "Shows a person: identity, address, office, household and the facts\n"
       "the eligibility rules read.",
       {}, 1, 1, &RunShow},
      {"find",
       "find (--national-id ID | --name WORDS --born DATE |\n"
       "                  --household H | --office CODE)\n"
       "                  [--page-size N] [--page-token T] [--all]",
       "", "search persons",
       "Finds persons by exactly one of: national ID; name words and date of\n"
       "birth (each word must match one of the person's names; case and\n"
       "accents ignored); household; registering office. With --json, one\n"
       "FindPersonsResponse object per page.",
       Concat({{{"national-id", Kind::kValue, "ID", "national ID"},
                {"name", Kind::kValue, "WORDS", "name words (with --born)"},
                {"born", Kind::kValue, "DATE", "date of birth (with --name)"},
                {"household", Kind::kNumber, "H", "household number"},
                {"office", Kind::kValue, "CODE", "registering office"}},
               kPageFlags}),
       0, 0, &RunFind},
      {"update", "update NUMBER [--expected-version V] [field flags]", "NUMBER",
       "change a person's record",
       "Reads the record, applies the given flags, and saves it if nobody\n"
       "changed it meanwhile (or if it is still at --expected-version).\n"
       "Office, disability, pregnancy and employment change through life\n"
       "events ('socle help event'). An empty value (--phone "") clears a\n"
       "text field.",
       Concat({{{"expected-version", Kind::kValue, "V",
                 "the version you read (default: the one read now)"}},
               kIdentityFlags, kAddressFlags, kIncomeFlags}),
       1, 1, &RunUpdate},
      {"household create",
       "household create --head NUMBER [address flags] [--office CODE]", "",
       "create a household around its head",
       "Creates a household; the head must not belong to one already.",
       Concat({{{"head", Kind::kNumber, "NUMBER", "the head (required)"},
                {"office", Kind::kValue, "CODE",
                 "office (default: the head's)"}},
               kAddressFlags}),
       0, 0, &RunHouseholdCreate},
      {"household show", "household show H", "H",
       "a household and its members", "Shows a household and its members.",
       {}, 1, 1, &RunHouseholdShow},
      {"household add", "household add H NUMBER --relationship R", "H NUMBER",
       "add a member",
       absl::StrCat("Adds a person to household H. R, the relationship to the "
                    "head:\n",
                    Wrap(absl::StrCat(kRelationships, "."), 0, 0)),
       {{"relationship", Kind::kValue, "R",
         "relationship to the head (required)"}},
       2, 2, &RunHouseholdAdd},
      {"household remove", "household remove H NUMBER", "H NUMBER",
       "remove a member",
       "Removes a member. The head cannot be removed while others remain.",
       {}, 2, 2, &RunHouseholdRemove},
      {"household set-head",
       "household set-head H NUMBER [--previous-head-relationship R]",
       "H NUMBER", "make a member the head",
       "Makes a member of household H its head. R: how the old head relates\n"
       "to the new one (same words as 'household add').",
       {{"previous-head-relationship", Kind::kValue, "R",
         "the old head to the new (default other-relative)"}},
       2, 2, &RunHouseholdSetHead},
      {"event",
       "event NUMBER TYPE --date DATE [type options]\n"
       "                   [--correction --reason TEXT]",
       "NUMBER TYPE", "record a life event",
       "Records a dated life event and applies it to the person's facts.\n"
       "After a death only corrections are accepted. TYPE is one of:",
       kEventFlags, 2, 2, &RunEvent},
      {"events", "events NUMBER [--page-size N] [--page-token T] [--all]",
       "NUMBER", "a person's life events",
       "Lists life events in date order. With --json, one\n"
       "ListLifeEventsResponse object per page.",
       kPageFlags, 1, 1, &RunEvents},
      {"health", "health", "", "is the server up?",
       "Asks the server's health service; exit code 0 when it is SERVING.",
       {}, 0, 0, &RunHealth},
  };
  return *commands;
}

// ---------------------------------------------------------------------------
// Help.

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

constexpr absl::string_view kConventions =
    "Numbers print grouped (10000 00017) and may be typed that way, with\n"
    "dashes, or as ten digits; households start with H. Dates: YYYY-MM-DD.\n"
    "Money: an amount in the currency's units with its ISO 4217 code, e.g.\n"
    "--income 1250.50 --currency KHR (VND, JPY, XOF, KRW: no decimals).\n"
    "Flags: --name VALUE or --name=VALUE; _ and - are the same in names;\n"
    "a switch takes =no to turn it off.\n";

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
    "     state, record changed meanwhile\n"
    "  5  not allowed: no valid certificate or login, or your role lacks the\n"
    "     right\n";

std::string MainHelp() {
  std::string out =
      "socle: register residents and households at a one-stop shop.\n\n"
      "Usage: socle [global options] COMMAND [arguments] [options]\n\n"
      "Commands:\n";
  for (const CommandSpec& c : Commands()) {
    std::string left = c.args.empty() ? c.name : absl::StrCat(c.name, " ", c.args);
    absl::StrAppend(&out, absl::StrFormat("  %-27s %s\n", left, c.summary));
  }
  absl::StrAppend(&out, absl::StrFormat("  %-27s %s\n", "help [COMMAND]",
                                        "help on a command"));
  absl::StrAppend(
      &out, "\nGlobal options [environment variable, default]:\n",
      FlagsHelp(GlobalFlags()),
      "  (<dev> is " SOCLE_DEV_CERT_DIR ")\n\n", kConventions, "\n",
      kExitCodes);
  return out;
}

constexpr absl::string_view kCommandFooter =
    "\nGlobal options (socle --help): --endpoint --ca --cert --key --timeout\n"
    "--insecure_for_testing --json --request-id. Exit codes: 0 done,\n"
    "1 server/connection error, 2 bad input, 3 not found, 4 refused by the\n"
    "rules, 5 not allowed.\n";

std::string CommandHelp(const CommandSpec& c, bool footer = true) {
  std::string out = absl::StrCat("Usage: socle ", c.usage, "\n\n",
                                 c.description, "\n");
  if (c.name == "event") {
    for (const EventType& t : EventTypes()) {
      absl::StrAppend(&out, absl::StrFormat("  %-14s ", t.name),
                      Wrap(t.help, 17, 19), "\n");
    }
  }
  if (!c.flags.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", FlagsHelp(c.flags));
  }
  if (footer) absl::StrAppend(&out, kCommandFooter);
  return out;
}

std::string GroupHelp(absl::string_view group) {
  std::string out = absl::StrCat("socle ", group, " commands:\n\n");
  for (const CommandSpec& c : Commands()) {
    if (absl::StartsWith(c.name, absl::StrCat(group, " "))) {
      absl::StrAppend(&out, CommandHelp(c, false), "\n");
    }
  }
  absl::StrAppend(&out, kCommandFooter.substr(1));
  return out;
}

bool IsGroup(absl::string_view word) { return word == "household"; }

// ---------------------------------------------------------------------------

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

}  // namespace

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

absl::StatusOr<GlobalOptions> ResolveGlobalOptions(const ParsedArgs& args,
                                                   const EnvLookup& env) {
  GlobalOptions g;
  auto pick = [&](const char* flag, const char* var,
                  std::string fallback) -> std::string {
    if (auto v = args.Get(flag)) return *v;
    if (auto v = Env(env, var)) return *v;
    return fallback;
  };
  ConnectionOptions& c = g.connection;
  c.endpoint = pick("endpoint", "SOCLE_ENDPOINT", "localhost:50051");
  if (c.endpoint.empty()) return Bad("--endpoint", "must not be empty");
  c.ca_file = pick("ca", "SOCLE_CA", SOCLE_DEV_CERT_DIR "/ca.pem");
  c.cert_file = pick("cert", "SOCLE_CERT", SOCLE_DEV_CERT_DIR "/terminal.pem");
  c.key_file = pick("key", "SOCLE_KEY", SOCLE_DEV_CERT_DIR "/terminal.key");
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
  std::string timeout = pick("timeout", "SOCLE_TIMEOUT", "");
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
  if (auto id = args.Get("request-id")) {
    if (!ValidRequestId(*id)) {
      return Bad("--request-id",
                 "1 to 64 characters of A-Z a-z 0-9 . _ : -");
    }
    g.request_id = *id;
  }
  return g;
}

absl::StatusOr<std::vector<FlagSpec>> CommandFlags(absl::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  if (spec == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown command '", command, "'"));
  }
  return Concat({spec->flags, GlobalFlags()});
}

absl::StatusOr<ParsedArgs> ParseCommandArgs(
    absl::string_view command, const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(std::vector<FlagSpec> flags, CommandFlags(command));
  return ParseArgs(args, flags);
}

absl::StatusOr<std::string> CanonicalPersonNumber(absl::string_view text,
                                                  absl::string_view field) {
  auto id = ParseBeneficiaryNumber(text, field);
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  return FormatBeneficiaryNumber(*id);
}

absl::StatusOr<std::string> CanonicalHouseholdNumber(absl::string_view text,
                                                     absl::string_view field) {
  auto id = ParseHouseholdNumber(text, field);
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  return FormatHouseholdNumber(*id);
}

absl::StatusOr<v1::RegisterPersonRequest> BuildRegister(const ParsedArgs& args,
                                                        const EnvLookup& env) {
  if (!args.positional.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected argument '", args.positional[0],
        "' (values go after their flag, e.g. --given Sokha)"));
  }
  v1::RegisterPersonRequest request;
  v1::Person& person = *request.mutable_person();
  RETURN_IF_ERROR(ApplyEditable(args, person, env));
  if (auto v = args.Get("office")) person.set_office_code(*v);
  v1::PersonFacts& facts = *person.mutable_facts();
  if (auto v = args.Get("disability-degree")) {
    ASSIGN_OR_RETURN(int64_t degree, ToInt(*v, "--disability-degree", 0, 100));
    facts.mutable_disability()->set_certified(true);
    facts.mutable_disability()->set_degree_percent(static_cast<int32_t>(degree));
  }
  if (auto v = args.Get("disability-certified-on")) {
    facts.mutable_disability()->set_certified(true);
    ASSIGN_OR_RETURN(*facts.mutable_disability()->mutable_certified_on(),
                     ToDate(*v, "--disability-certified-on"));
  }
  if (auto v = args.Get("pregnancy-start")) {
    ASSIGN_OR_RETURN(*facts.mutable_pregnancy_start(),
                     ToDate(*v, "--pregnancy-start"));
  }
  if (auto v = args.Get("employment")) {
    ASSIGN_OR_RETURN(v1::EmploymentStatus status, ToEmployment(*v));
    facts.set_employment_status(status);
  }
  if (auto v = args.Get("override-reason")) {
    if (absl::StripAsciiWhitespace(*v).empty()) {
      return Bad("--override-reason", "say why this is a different person");
    }
    request.set_duplicate_override_reason(*v);
  }
  return request;
}

absl::Status ApplyPersonEdits(const ParsedArgs& args, v1::Person& person,
                              const EnvLookup& env) {
  if (!HasAny(args, Concat({kIdentityFlags, kAddressFlags, kIncomeFlags}))) {
    return absl::InvalidArgumentError(
        "nothing to change: give at least one field flag, e.g. --phone");
  }
  if (args.positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[1], "'"));
  }
  return ApplyEditable(args, person, env);
}

absl::StatusOr<v1::FindPersonsRequest> BuildFind(const ParsedArgs& args) {
  v1::FindPersonsRequest request;
  int queries = 0;
  if (auto v = args.Get("national-id")) {
    ++queries;
    if (v->empty()) return Bad("--national-id", "must not be empty");
    request.set_national_id(*v);
  }
  if (args.Has("name") || args.Has("born")) {
    ++queries;
    std::optional<std::string> name = args.Get("name");
    std::optional<std::string> born = args.Get("born");
    if (!name || absl::StripAsciiWhitespace(*name).empty()) {
      return Bad("--name", "give name words with --born");
    }
    if (!born) return Bad("--born", "give the date of birth with --name");
    v1::NameAndBirth* q = request.mutable_name_and_birth();
    q->set_name(*name);
    ASSIGN_OR_RETURN(*q->mutable_date_of_birth(), ToDate(*born, "--born"));
  }
  if (auto v = args.Get("household")) {
    ++queries;
    ASSIGN_OR_RETURN(std::string h, CanonicalHouseholdNumber(*v, "--household"));
    request.set_household_number(h);
  }
  if (auto v = args.Get("office")) {
    ++queries;
    if (v->empty()) return Bad("--office", "must not be empty");
    request.set_office_code(*v);
  }
  if (queries != 1) {
    return absl::InvalidArgumentError(
        "give exactly one of --national-id, --name with --born, "
        "--household, --office");
  }
  if (!args.positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  if (auto v = args.Get("page-size")) {
    ASSIGN_OR_RETURN(int64_t n, ToInt(*v, "--page-size", 1, 500));
    request.set_page_size(static_cast<int32_t>(n));
  }
  if (auto v = args.Get("page-token")) request.set_page_token(*v);
  return request;
}

absl::StatusOr<v1::CreateHouseholdRequest> BuildCreateHousehold(
    const ParsedArgs& args) {
  v1::CreateHouseholdRequest request;
  std::optional<std::string> head = args.Get("head");
  if (!head) return Bad("--head", "the head's beneficiary number is required");
  ASSIGN_OR_RETURN(std::string number, CanonicalPersonNumber(*head, "--head"));
  request.set_head_beneficiary_number(number);
  if (auto v = args.Get("office")) request.set_office_code(*v);
  RETURN_IF_ERROR(ApplyAddress(args, *request.mutable_address()));
  if (!args.positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  return request;
}

namespace {

// HOUSEHOLD NUMBER positionals.
absl::StatusOr<std::pair<std::string, std::string>> HouseholdAndPerson(
    const ParsedArgs& args) {
  RETURN_IF_ERROR(CheckPositional(args, 0, "HOUSEHOLD"));
  RETURN_IF_ERROR(CheckPositional(args, 1, "NUMBER"));
  if (args.positional.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[2], "'"));
  }
  ASSIGN_OR_RETURN(std::string h,
                   CanonicalHouseholdNumber(args.positional[0], "HOUSEHOLD"));
  ASSIGN_OR_RETURN(std::string p,
                   CanonicalPersonNumber(args.positional[1], "NUMBER"));
  return std::make_pair(h, p);
}

}  // namespace

absl::StatusOr<v1::AddHouseholdMemberRequest> BuildAddMember(
    const ParsedArgs& args) {
  ASSIGN_OR_RETURN(auto numbers, HouseholdAndPerson(args));
  v1::AddHouseholdMemberRequest request;
  request.set_household_number(numbers.first);
  request.set_beneficiary_number(numbers.second);
  std::optional<std::string> r = args.Get("relationship");
  if (!r) {
    return Bad("--relationship",
               absl::StrCat("required: the relationship to the head, ",
                            kRelationships));
  }
  ASSIGN_OR_RETURN(v1::Relationship relationship,
                   ToRelationship(*r, "--relationship"));
  request.set_relationship(relationship);
  return request;
}

absl::StatusOr<v1::RemoveHouseholdMemberRequest> BuildRemoveMember(
    const ParsedArgs& args) {
  ASSIGN_OR_RETURN(auto numbers, HouseholdAndPerson(args));
  v1::RemoveHouseholdMemberRequest request;
  request.set_household_number(numbers.first);
  request.set_beneficiary_number(numbers.second);
  return request;
}

absl::StatusOr<v1::SetHouseholdHeadRequest> BuildSetHead(
    const ParsedArgs& args) {
  ASSIGN_OR_RETURN(auto numbers, HouseholdAndPerson(args));
  v1::SetHouseholdHeadRequest request;
  request.set_household_number(numbers.first);
  request.set_beneficiary_number(numbers.second);
  if (auto r = args.Get("previous-head-relationship")) {
    ASSIGN_OR_RETURN(v1::Relationship relationship,
                     ToRelationship(*r, "--previous-head-relationship"));
    request.set_previous_head_relationship(relationship);
  }
  return request;
}

absl::StatusOr<v1::RecordLifeEventRequest> BuildLifeEvent(
    const ParsedArgs& args, const EnvLookup& env) {
  RETURN_IF_ERROR(CheckPositional(args, 0, "NUMBER"));
  RETURN_IF_ERROR(CheckPositional(args, 1, "TYPE"));
  if (args.positional.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positional[2], "'"));
  }
  v1::RecordLifeEventRequest request;
  ASSIGN_OR_RETURN(std::string number,
                   CanonicalPersonNumber(args.positional[0], "NUMBER"));
  request.set_beneficiary_number(number);

  const std::string type = absl::AsciiStrToLower(args.positional[1]);
  const EventType* event_type = nullptr;
  std::vector<std::string> names;
  for (const EventType& t : EventTypes()) {
    names.push_back(t.name);
    if (t.name == type) event_type = &t;
  }
  if (event_type == nullptr) {
    return Bad("TYPE", absl::StrCat("'", args.positional[1],
                                    "' is not an event type: ",
                                    absl::StrJoin(names, ", ")));
  }
  // Flags of another type are a mistake, not something to ignore.
  std::set<std::string> common = {"date", "correction", "reason"};
  for (const FlagSpec& f : GlobalFlags()) {
    common.insert(NormalizeFlagName(f.name));
  }
  for (const auto& [flag, value] : args.values) {
    if (common.count(flag)) continue;
    bool allowed = false;
    for (const std::string& a : event_type->flags) allowed |= a == flag;
    if (!allowed) {
      return Bad(absl::StrCat("--", flag),
                 absl::StrCat("does not apply to a ", type, " event"));
    }
  }
  for (const std::string& required : event_type->required) {
    if (!args.Has(required)) {
      return Bad(absl::StrCat("--", required),
                 absl::StrCat("required for a ", type, " event"));
    }
  }

  v1::LifeEvent& event = *request.mutable_event();
  std::optional<std::string> date = args.Get("date");
  if (!date) return Bad("--date", "the date of the event is required");
  ASSIGN_OR_RETURN(*event.mutable_date(), ToDate(*date, "--date"));
  if (args.Switch("correction")) {
    std::optional<std::string> reason = args.Get("reason");
    if (!reason || absl::StripAsciiWhitespace(*reason).empty()) {
      return Bad("--reason", "a correction needs a reason");
    }
    event.set_correction(true);
    event.set_correction_reason(*reason);
  } else if (args.Has("reason")) {
    return Bad("--reason", "goes with --correction");
  }

  if (type == "birth") {
    v1::BirthEvent* birth = event.mutable_birth();
    if (auto v = args.Get("child")) {
      ASSIGN_OR_RETURN(std::string child, CanonicalPersonNumber(*v, "--child"));
      birth->set_child_beneficiary_number(child);
    }
  } else if (type == "death") {
    event.mutable_death();
  } else if (type == "pregnancy") {
    ASSIGN_OR_RETURN(int64_t weeks, ToInt(*args.Get("weeks"), "--weeks", 0, 45));
    event.mutable_pregnancy()->set_weeks_at_date(static_cast<int32_t>(weeks));
  } else if (type == "disability") {
    ASSIGN_OR_RETURN(int64_t degree,
                     ToInt(*args.Get("degree"), "--degree", 0, 100));
    event.mutable_disability_certified()->set_degree_percent(
        static_cast<int32_t>(degree));
  } else if (type == "job-lost") {
    event.mutable_job_lost();
  } else if (type == "job-found") {
    v1::JobFoundEvent* job = event.mutable_job_found();
    ASSIGN_OR_RETURN(std::string currency, CurrencyFor(args, env, "--wage"));
    ASSIGN_OR_RETURN(*job->mutable_monthly_wage(),
                     ParseMoney(*args.Get("wage"), currency, "--wage"));
    if (auto v = args.Get("employer")) job->set_employer(*v);
    job->set_insured(args.Switch("insured"));
  } else if (type == "work-accident") {
    ASSIGN_OR_RETURN(int64_t incapacity,
                     ToInt(*args.Get("incapacity"), "--incapacity", 0, 100));
    event.mutable_work_accident()->set_incapacity_percent(
        static_cast<int32_t>(incapacity));
  } else if (type == "move") {
    v1::MoveEvent* move = event.mutable_move();
    std::string office = *args.Get("office");
    if (office.empty()) return Bad("--office", "must not be empty");
    move->set_office_code(office);
    RETURN_IF_ERROR(ApplyAddress(args, *move->mutable_address()));
    move->set_whole_household(args.Switch("whole-household"));
  }
  return request;
}

int RunCli(const std::vector<std::string>& args, const CliContext& context) {
  std::ostream& out = *context.out;
  std::ostream& err = *context.err;
  const std::vector<FlagSpec>& globals = GlobalFlags();

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
      err << "socle: unknown flag --" << name
          << " before the command (command flags go after it).\n"
          << "Run 'socle --help' for the commands.\n";
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
      out << MainHelp();
      return kExitOk;
    }
    err << MainHelp();
    return kExitBadInput;
  }

  std::string command = args[i++];
  if (command == "help") {
    std::vector<std::string> topic(args.begin() + i, args.end());
    std::string name = absl::StrJoin(topic, " ");
    if (name.empty()) {
      out << MainHelp();
      return kExitOk;
    }
    if (const CommandSpec* spec = FindCommand(name)) {
      out << CommandHelp(*spec);
      return kExitOk;
    }
    if (IsGroup(name)) {
      out << GroupHelp(name);
      return kExitOk;
    }
    err << "socle: no help on '" << name << "': not a command.\n"
        << "Run 'socle help' for the list.\n";
    return kExitBadInput;
  }
  if (IsGroup(command)) {
    if (i >= args.size() || !FlagName(args[i]).empty()) {
      bool help = wants_help(flag_tokens) ||
                  wants_help({args.begin() + i, args.end()});
      (help ? out : err) << GroupHelp(command);
      return help ? kExitOk : kExitBadInput;
    }
    command = absl::StrCat(command, " ", args[i++]);
  }
  const CommandSpec* spec = FindCommand(command);
  if (spec == nullptr) {
    err << "socle: unknown command '" << command << "'.\n"
        << "Run 'socle help' for the list.\n";
    return kExitBadInput;
  }

  std::vector<std::string> tokens = flag_tokens;
  tokens.insert(tokens.end(), args.begin() + i, args.end());
  if (wants_help(tokens)) {
    out << CommandHelp(*spec);
    return kExitOk;
  }
  auto usage = [&](absl::string_view message) {
    err << "socle " << spec->name << ": " << message << "\n"
        << "Run 'socle help " << spec->name << "' for its flags.\n";
    return kExitBadInput;
  };
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(tokens, Concat({spec->flags, globals}));
  if (!parsed.ok()) return usage(parsed.status().message());
  if (parsed->positional.size() < spec->min_positional) {
    return usage(absl::StrCat("missing arguments: socle ", spec->usage));
  }
  // register/find/update/create report extra arguments themselves.
  if (spec->max_positional > 0 &&
      parsed->positional.size() > spec->max_positional) {
    return usage(absl::StrCat("unexpected argument '",
                              parsed->positional[spec->max_positional], "'"));
  }
  if (spec->max_positional == 0 && spec->name == "health" &&
      !parsed->positional.empty()) {
    return usage(absl::StrCat("unexpected argument '", parsed->positional[0],
                              "'"));
  }
  absl::StatusOr<GlobalOptions> options =
      ResolveGlobalOptions(*parsed, context.getenv);
  if (!options.ok()) return usage(options.status().message());

  Runner runner(*spec, *options, context);
  return spec->run(runner, *parsed);
}

int RunCli(int argc, const char* const* argv, Connection& connection,
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
  return RunCli(args, context);
}

}  // namespace socle::client::cli
