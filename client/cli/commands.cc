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
#include "client/cli/eligibility_format.h"
#include "client/cli/format.h"
#include "client/cli/import_commands.h"
#include "client/cli/money.h"
#include "client/cli/access_commands.h"
#include "client/cli/payment_commands.h"
#include "client/cli/tool.h"
#include "client/client.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

// ---------------------------------------------------------------------------
// Flag tables.

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

// "  birth          gave birth ..." one line (or more) per event type, for
// the help of `event`; no trailing newline.
std::string EventTypesHelp() {
  std::vector<std::string> lines;
  for (const EventType& t : EventTypes()) {
    lines.push_back(absl::StrCat(absl::StrFormat("  %-14s ", t.name),
                                 Wrap(t.help, 17, 19)));
  }
  return absl::StrJoin(lines, "\n");
}

// ---------------------------------------------------------------------------
// Value helpers. Errors name the flag: "--born: must be a date ...".

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
    r.err() << r.program() << ": the server is up but " << name << "\n";
    return kExitServerError;
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Eligibility and enrolment.

std::optional<absl::CivilDay> DayOf(const v1::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) {
    return std::nullopt;
  }
  return absl::CivilDay(date.year(), date.month(), date.day());
}

int RunCheck(Runner& r, const ParsedArgs& args) {
  auto request = BuildCheck(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto response = client->CheckEligibility(
      request->beneficiary_number(),
      {request->programme_codes().begin(), request->programme_codes().end()},
      DayOf(request->as_of()), request->view());
  if (!response.ok()) return r.CallError(response.status());
  if (r.json()) {
    r.PrintJson(*response);
    return kExitOk;
  }
  std::string as_of = FormatDate(response->as_of());
  if (as_of.empty()) as_of = FormatDate(request->as_of());
  r.out() << "Eligibility of " << GroupNumber(request->beneficiary_number())
          << (as_of.empty() ? "" : " on ") << as_of;
  if (!response->policy_version().empty()) {
    r.out() << " (policy " << response->policy_version() << ")";
  }
  r.out() << "\n";
  if (response->decisions().empty()) {
    r.out() << "No programme to decide on.\n";
  }
  for (const v1::Decision& d : response->decisions()) {
    r.out() << "\n" << DecisionBlock(d);
  }
  return kExitOk;
}

// NOT_ELIGIBLE: the failed criteria, and how a supervisor overrides.
void PrintNotEligible(Runner& r, const v1::EnrolRequest& request,
                      const ErrorInfo& info, const absl::Status& status) {
  std::string number = GroupNumber(request.beneficiary_number());
  std::string on = FormatDate(request.start_date());
  r.err() << r.program() << ": not enrolled: " << number
          << " is not eligible for " << request.programme_code()
          << (on.empty() ? "" : " on ") << on << ":\n";
  std::vector<std::string> failed;
  auto it = info.metadata.find("failed_criteria");
  if (it != info.metadata.end()) {
    for (absl::string_view c : absl::StrSplit(it->second, "; ")) {
      c = absl::StripAsciiWhitespace(c);
      if (!c.empty()) failed.emplace_back(c);
    }
  }
  if (failed.empty()) failed.emplace_back(status.message());
  for (const std::string& c : failed) {
    r.err() << "  - " << WrapKeepingSpaces(c, 4, 4) << "\n";
  }
  if (request.override_reason().empty()) {
    r.err() << "A supervisor can enrol anyway: re-run the same command with\n"
               "--override-reason \"why\" (the reason is kept with the "
               "enrolment).\n";
  }
  r.err() << "The whole decision: " << r.program() << " check " << number
          << " --programme " << request.programme_code()
          << (on.empty() ? "" : " --as-of ") << on << "\n";
}

int RunEnrol(Runner& r, const ParsedArgs& args) {
  auto request = BuildEnrol(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto e = client->Enrol(request->beneficiary_number(),
                         request->programme_code(),
                         DayOf(request->start_date()),
                         request->override_reason(), r.request_id());
  if (!e.ok()) {
    auto info = GetErrorInfo(e.status());
    if (info && info->reason == "NOT_ELIGIBLE") {
      PrintNotEligible(r, *request, *info, e.status());
      return ExitCodeFor(e.status().code());
    }
    int code = r.CallError(e.status());
    if (e.status().code() == absl::StatusCode::kAlreadyExists &&
        !(info && info->reason == "REQUEST_ID_REUSED")) {
      r.err() << "  see the person's enrolments: " << r.program()
              << " enrolments " << GroupNumber(request->beneficiary_number())
              << "\n";
    }
    return code;
  }
  if (r.json()) {
    r.PrintJson(*e);
    return kExitOk;
  }
  std::string programme = e->programme_code();
  if (!e->programme_name().empty()) {
    absl::StrAppend(&programme, " ", e->programme_name());
  }
  r.out() << Wrap(absl::StrCat("Enrolled ",
                               GroupNumber(e->beneficiary_number()), " in ",
                               programme, ": enrolment ", e->enrolment_id()),
                  0, 2)
          << "\n";
  std::string what =
      e->frequency() == v1::PAYMENT_FREQUENCY_NONE
          ? std::string(e->subsidised() ? "membership, premium subsidised"
                                        : "membership")
          : AmountPerPeriod(e->amount(), e->frequency());
  if (!FormatDate(e->start_date()).empty()) {
    absl::StrAppend(&what, " from ", FormatDate(e->start_date()));
  }
  if (!FormatDate(e->planned_end_date()).empty()) {
    absl::StrAppend(&what, " to ", FormatDate(e->planned_end_date()));
  }
  if (!e->policy_version().empty()) {
    absl::StrAppend(&what, " (policy ", e->policy_version(), ")");
  }
  r.out() << "  " << WrapKeepingSpaces(what, 2, 4) << "\n";
  if (!e->payee_beneficiary_number().empty() &&
      e->payee_beneficiary_number() != e->beneficiary_number()) {
    r.out() << "  paid to " << GroupNumber(e->payee_beneficiary_number())
            << "\n";
  }
  if (!e->override_reason().empty()) {
    r.out() << "  override: " << WrapKeepingSpaces(e->override_reason(), 12, 12)
            << "\n";
  }
  return kExitOk;
}

int RunEnrolments(Runner& r, const ParsedArgs& args) {
  auto request = BuildListEnrolments(args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  return Paged<v1::ListEnrolmentsResponse>(
      r, args, request->page_token(),
      [&](const std::string& token) {
        v1::ListEnrolmentsRequest page = *request;
        page.set_page_token(token);
        return client->ListEnrolments(page);
      },
      [&](const v1::ListEnrolmentsResponse& page) {
        if (!r.json()) {
          for (const v1::Enrolment& e : page.enrolments()) {
            r.out() << EnrolmentLine(e);
          }
        }
        return static_cast<size_t>(page.enrolments_size());
      },
      "No enrolment found.");
}

int RunChange(Runner& r, const ParsedArgs& args, absl::string_view action) {
  auto request = BuildChangeEnrolment(action, args);
  if (!request.ok()) return r.UsageError(request.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  absl::StatusOr<v1::Enrolment> e;
  std::string done;
  if (action == "suspend") {
    e = client->SuspendEnrolment(request->enrolment_id(), request->reason(),
                                 r.request_id());
    done = "Suspended";
  } else if (action == "resume") {
    e = client->ResumeEnrolment(request->enrolment_id(), request->reason(),
                                r.request_id());
    done = "Resumed";
  } else {
    e = client->EndEnrolment(request->enrolment_id(), request->reason(),
                             DayOf(request->date()), r.request_id());
    done = "Ended";
  }
  if (!e.ok()) return r.CallError(e.status());
  if (r.json()) {
    r.PrintJson(*e);
    return kExitOk;
  }
  std::string line = absl::StrCat(done, " enrolment ", e->enrolment_id());
  if (!e->programme_code().empty() || !e->beneficiary_number().empty()) {
    absl::StrAppend(&line, " (", e->programme_code(),
                    e->programme_code().empty() ? "" : ", ",
                    GroupNumber(e->beneficiary_number()), ")");
  }
  if (action == "end" && !FormatDate(e->end_date()).empty()) {
    absl::StrAppend(&line, "; last day ", FormatDate(e->end_date()));
  }
  r.out() << Wrap(line, 0, 2) << "\n";
  return kExitOk;
}

int RunSuspend(Runner& r, const ParsedArgs& args) {
  return RunChange(r, args, "suspend");
}
int RunResume(Runner& r, const ParsedArgs& args) {
  return RunChange(r, args, "resume");
}
int RunEnd(Runner& r, const ParsedArgs& args) {
  return RunChange(r, args, "end");
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = WithLoginCommands(WithClerkPaymentCommands(WithClerkImportCommands(new std::vector<CommandSpec>{
      {"register",
       "register --given NAME --family NAME --sex SEX --born DATE\n"
       "                      [--district TEXT ...] [options]",
       "", "register a resident",
       "Registers a resident; the server issues the beneficiary number.\n"
       "A possible duplicate (same name, birth date and district) is refused\n"
       "with the candidates listed; re-run with --override-reason to confirm.",
       Concat({kIdentityFlags, kAddressFlags, kIncomeFlags, kRegisterOnlyFlags}),
       0, kHandlerChecksPositionals, &RunRegister},
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
       0, kHandlerChecksPositionals, &RunFind},
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
       0, kHandlerChecksPositionals, &RunHouseholdCreate},
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
       absl::StrCat(
           "Records a dated life event and applies it to the person's facts.\n"
           "After a death only corrections are accepted. TYPE is one of:\n",
           EventTypesHelp()),
       kEventFlags, 2, 2, &RunEvent},
      {"events", "events NUMBER [--page-size N] [--page-token T] [--all]",
       "NUMBER", "a person's life events",
       "Lists life events in date order. With --json, one\n"
       "ListLifeEventsResponse object per page.",
       kPageFlags, 1, 1, &RunEvents},
      {"check",
       "check NUMBER [--programme CODE ...] [--as-of DATE] [--view VIEW]",
       "NUMBER", "eligibility for each programme, and why",
       "Decides, for every programme of the policy in force (or the ones\n"
       "given), whether the person qualifies on a date (default today), how\n"
       "much and for how long, and why: one line per criterion, + held,\n"
       "- failed; then how the amount was worked out and the policy version.\n"
       "With --view basic, only the failed criteria are listed (why not).\n"
       "With --json, one CheckEligibilityResponse object.",
       {{"programme", Kind::kRepeated, "CODE",
         "only this programme, e.g. CHILD; repeat it, or list A,B"},
        {"as-of", Kind::kValue, "DATE", "the decision date (default today)"},
        {"view", Kind::kValue, "VIEW",
         "full (default): every criterion; basic: the failed ones"}},
       1, 1, &RunCheck},
      {"enrol",
       "enrol NUMBER PROGRAMME [--start DATE] [--override-reason TEXT]",
       "NUMBER PROGRAMME", "enrol a person in a programme",
       "Enrols the person in PROGRAMME from --start (default today) when the\n"
       "rules find them eligible on that day; the amount and the policy\n"
       "version are kept with the enrolment. When they are not eligible the\n"
       "failed criteria are listed (exit code 4), and a supervisor may enrol\n"
       "them anyway with --override-reason, which is stored.",
       {{"start", Kind::kValue, "DATE", "first day of entitlement (default today)"},
        {"override-reason", Kind::kValue, "TEXT",
         "supervisors: enrol although not eligible, saying why"}},
       2, 2, &RunEnrol},
      {"enrolments",
       "enrolments NUMBER [--all]\n"
       "       socle enrolments --programme CODE --office CODE [--status S]\n"
       "                        [--page-size N] [--page-token T] [--all]",
       "[NUMBER]", "a person's or a programme's enrolments",
       "Lists the enrolments of a person, or those of a programme in an\n"
       "office (S: active, suspended or ended; default every status). With\n"
       "--json, one ListEnrolmentsResponse object per page.",
       Concat({{{"programme", Kind::kValue, "CODE", "the programme, e.g. CHILD"},
                {"office", Kind::kValue, "CODE", "the office, e.g. KH-SR-03"},
                {"status", Kind::kValue, "S",
                 "active, suspended or ended (default: all)"}},
               kPageFlags}),
       0, kHandlerChecksPositionals, &RunEnrolments},
      {"enrolment suspend", "enrolment suspend ID --reason TEXT", "ID",
       "stop payments for a while",
       "Suspends an active enrolment (e.g. E12): nothing is paid until it is\n"
       "resumed.",
       {{"reason", Kind::kValue, "TEXT", "why (required)"}}, 1, 1, &RunSuspend},
      {"enrolment resume", "enrolment resume ID [--reason TEXT]", "ID",
       "resume a suspended enrolment",
       "Resumes a suspended enrolment.",
       {{"reason", Kind::kValue, "TEXT", "why (optional)"}}, 1, 1, &RunResume},
      {"enrolment end", "enrolment end ID --reason TEXT [--date DATE]", "ID",
       "end an enrolment",
       "Ends an active or suspended enrolment; --date is the last day of\n"
       "entitlement (default today).",
       {{"reason", Kind::kValue, "TEXT", "why (required)"},
        {"date", Kind::kValue, "DATE", "last day of entitlement (default today)"}},
       1, 1, &RunEnd},
      {"health", "health", "", "is the server up?",
       "Asks the server's health service; exit code 0 when it is SERVING.",
       {}, 0, 0, &RunHealth},
  })));
  return *commands;
}

constexpr absl::string_view kConventions =
    "Numbers print grouped (10000 00017) and may be typed that way, with\n"
    "dashes, or as ten digits; households start with H, enrolments with E.\n"
    "Dates: YYYY-MM-DD. Programme codes as in the policy (CHILD, OLD_AGE).\n"
    "Money: an amount in the currency's units with its ISO 4217 code, e.g.\n"
    "--income 1250.50 --currency KHR (VND, JPY, XOF, KRW: no decimals).\n"
    "Flags: --name VALUE or --name=VALUE; _ and - are the same in names;\n"
    "a switch takes =no to turn it off.\n";

const Tool& SocleTool() {
  static const auto* tool = new Tool{
      "socle",
      "the one-stop shop's registry, eligibility checks and enrolments.",
      &Commands(),
      {"household", "enrolment"},
      TerminalCertificates(),
      std::string(kConventions)};
  return *tool;
}

}  // namespace

absl::StatusOr<std::vector<FlagSpec>> CommandFlags(absl::string_view command) {
  const CommandSpec* spec = FindCommand(SocleTool(), command);
  if (spec == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown command '", command, "'"));
  }
  return Concat({spec->flags, GlobalFlags(TerminalCertificates())});
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
  for (const FlagSpec& f : GlobalFlags(TerminalCertificates())) {
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

absl::StatusOr<std::string> CanonicalEnrolmentId(absl::string_view text,
                                                 absl::string_view field) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  int64_t id = 0;
  if (t.size() < 2 || (t[0] != 'E' && t[0] != 'e') ||
      !absl::ascii_isdigit(static_cast<unsigned char>(t[1])) ||
      !absl::SimpleAtoi(t.substr(1), &id) || id <= 0) {
    return Bad(field, absl::StrCat("'", text,
                                   "' is not an enrolment id such as E12"));
  }
  return absl::StrCat("E", id);
}

absl::StatusOr<std::string> CanonicalProgrammeCode(absl::string_view text,
                                                   absl::string_view field) {
  std::string code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  for (char& c : code) {
    if (c == '-') c = '_';
  }
  bool ok = !code.empty() && code.size() <= 32 &&
            absl::ascii_isupper(static_cast<unsigned char>(code[0]));
  for (char c : code) {
    ok = ok && (absl::ascii_isupper(static_cast<unsigned char>(c)) ||
                absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_');
  }
  if (!ok) {
    return Bad(field, absl::StrCat("'", text,
                                   "' is not a programme code, e.g. CHILD"));
  }
  return code;
}

absl::StatusOr<v1::CheckEligibilityRequest> BuildCheck(const ParsedArgs& args) {
  RETURN_IF_ERROR(CheckPositional(args, 0, "NUMBER"));
  RETURN_IF_ERROR(NoMorePositionals(args, 1));
  v1::CheckEligibilityRequest request;
  ASSIGN_OR_RETURN(std::string number,
                   CanonicalPersonNumber(args.positional[0], "NUMBER"));
  request.set_beneficiary_number(number);
  if (args.Has("programme") && args.GetAll("programme").empty()) {
    return Bad("--programme", "give a programme code, e.g. CHILD");
  }
  std::set<std::string> seen;
  for (const std::string& typed : args.GetAll("programme")) {
    ASSIGN_OR_RETURN(std::string code,
                     CanonicalProgrammeCode(typed, "--programme"));
    if (seen.insert(code).second) request.add_programme_codes(code);
  }
  if (auto v = args.Get("as-of")) {
    ASSIGN_OR_RETURN(*request.mutable_as_of(), ToDate(*v, "--as-of"));
  }
  if (auto v = args.Get("view")) {
    const std::string view = absl::AsciiStrToLower(absl::StripAsciiWhitespace(*v));
    if (view == "basic") {
      request.set_view(v1::ELIGIBILITY_VIEW_BASIC);
    } else if (view == "full") {
      request.set_view(v1::ELIGIBILITY_VIEW_FULL);
    } else {
      return Bad("--view", absl::StrCat("'", *v, "' is not a view: basic or full"));
    }
  }
  return request;
}

absl::StatusOr<v1::EnrolRequest> BuildEnrol(const ParsedArgs& args) {
  RETURN_IF_ERROR(CheckPositional(args, 0, "NUMBER"));
  RETURN_IF_ERROR(CheckPositional(args, 1, "PROGRAMME"));
  RETURN_IF_ERROR(NoMorePositionals(args, 2));
  v1::EnrolRequest request;
  ASSIGN_OR_RETURN(std::string number,
                   CanonicalPersonNumber(args.positional[0], "NUMBER"));
  request.set_beneficiary_number(number);
  ASSIGN_OR_RETURN(std::string code,
                   CanonicalProgrammeCode(args.positional[1], "PROGRAMME"));
  request.set_programme_code(code);
  if (auto v = args.Get("start")) {
    ASSIGN_OR_RETURN(*request.mutable_start_date(), ToDate(*v, "--start"));
  }
  if (auto v = args.Get("override-reason")) {
    if (absl::StripAsciiWhitespace(*v).empty()) {
      return Bad("--override-reason",
                 "say why the person is enrolled despite the rules");
    }
    request.set_override_reason(*v);
  }
  return request;
}

absl::StatusOr<v1::ListEnrolmentsRequest> BuildListEnrolments(
    const ParsedArgs& args) {
  v1::ListEnrolmentsRequest request;
  if (!args.positional.empty()) {
    RETURN_IF_ERROR(NoMorePositionals(args, 1));
    for (const char* flag : {"programme", "office", "status"}) {
      if (args.Has(flag)) {
        return Bad(absl::StrCat("--", flag),
                   "not with NUMBER: list a person's enrolments, or a "
                   "programme's in an office");
      }
    }
    ASSIGN_OR_RETURN(std::string number,
                     CanonicalPersonNumber(args.positional[0], "NUMBER"));
    request.set_beneficiary_number(number);
  } else {
    if (!args.Has("programme")) {
      return Bad("--programme",
                 "give NUMBER, or --programme CODE with --office CODE");
    }
    if (!args.Has("office")) {
      return Bad("--office", "give the office with --programme");
    }
    v1::ProgrammeOffice* query = request.mutable_programme_office();
    ASSIGN_OR_RETURN(std::string code, CanonicalProgrammeCode(
                                           *args.Get("programme"),
                                           "--programme"));
    query->set_programme_code(code);
    std::string office(absl::StripAsciiWhitespace(*args.Get("office")));
    if (office.empty()) return Bad("--office", "must not be empty");
    query->set_office_code(office);
    if (auto v = args.Get("status")) {
      std::string t = absl::AsciiStrToLower(*v);
      if (t == "active") {
        query->set_status(v1::ENROLMENT_STATUS_ACTIVE);
      } else if (t == "suspended") {
        query->set_status(v1::ENROLMENT_STATUS_SUSPENDED);
      } else if (t == "ended") {
        query->set_status(v1::ENROLMENT_STATUS_ENDED);
      } else if (t != "all") {
        return Bad("--status",
                   absl::StrCat("'", *v, "': give active, suspended or ended"));
      }
    }
  }
  ASSIGN_OR_RETURN(PageOptions page, PageFlags(args));
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
  return request;
}

absl::StatusOr<v1::ChangeEnrolmentRequest> BuildChangeEnrolment(
    absl::string_view action, const ParsedArgs& args) {
  if (action != "suspend" && action != "resume" && action != "end") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", action, "': give suspend, resume or end"));
  }
  RETURN_IF_ERROR(CheckPositional(args, 0, "ID"));
  RETURN_IF_ERROR(NoMorePositionals(args, 1));
  v1::ChangeEnrolmentRequest request;
  ASSIGN_OR_RETURN(std::string id, CanonicalEnrolmentId(args.positional[0], "ID"));
  request.set_enrolment_id(id);
  std::optional<std::string> reason = args.Get("reason");
  if (action != "resume" &&
      (!reason || absl::StripAsciiWhitespace(*reason).empty())) {
    return Bad("--reason", absl::StrCat("say why (required to ", action,
                                        " an enrolment)"));
  }
  if (reason) request.set_reason(*reason);
  if (auto v = args.Get("date")) {
    if (action != "end") {
      return Bad("--date", "only for end: the last day of entitlement");
    }
    ASSIGN_OR_RETURN(*request.mutable_date(), ToDate(*v, "--date"));
  }
  return request;
}

int RunCli(const std::vector<std::string>& args, const CliContext& context) {
  return RunTool(SocleTool(), args, context);
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
