#include "client/cli/format.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/cli/money.h"
#include "google/protobuf/util/json_util.h"

namespace socle::client::cli {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void Row(std::string& out, absl::string_view label, absl::string_view value) {
  if (value.empty()) return;
  absl::StrAppend(&out, absl::StrFormat("  %-13s %s\n", label, value));
}

}  // namespace

std::string GroupNumber(absl::string_view number) {
  absl::string_view prefix;
  absl::string_view digits = number;
  if (!digits.empty() && digits[0] == 'H') {
    prefix = "H";
    digits.remove_prefix(1);
  }
  if (digits.size() != 10 || !AllDigits(digits)) return std::string(number);
  return absl::StrCat(prefix, digits.substr(0, 5), " ", digits.substr(5));
}

std::string DisplayName(absl::string_view given, absl::string_view family) {
  std::string upper = absl::AsciiStrToUpper(family);
  if (given.empty()) return upper;
  if (upper.empty()) return std::string(given);
  return absl::StrCat(given, " ", upper);
}

std::string DisplayName(const v1::Person& person) {
  return DisplayName(person.given_name(), person.family_name());
}

std::string FormatDate(const v1::Date& date) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatAddress(const v1::Address& a) {
  std::vector<std::string> parts;
  for (const std::string* p : {&a.street(), &a.village(), &a.commune(),
                               &a.district(), &a.province()}) {
    if (!p->empty()) parts.push_back(*p);
  }
  return absl::StrJoin(parts, ", ");
}

std::string SexName(v1::Sex sex) {
  switch (sex) {
    case v1::SEX_FEMALE: return "female";
    case v1::SEX_MALE: return "male";
    case v1::SEX_OTHER: return "other";
    default: return "";
  }
}

std::string EmploymentName(v1::EmploymentStatus status) {
  switch (status) {
    case v1::EMPLOYMENT_STATUS_EMPLOYED: return "employed";
    case v1::EMPLOYMENT_STATUS_SELF_EMPLOYED: return "self-employed";
    case v1::EMPLOYMENT_STATUS_UNEMPLOYED: return "unemployed";
    case v1::EMPLOYMENT_STATUS_INACTIVE: return "inactive";
    default: return "";
  }
}

std::string RelationshipName(v1::Relationship r) {
  switch (r) {
    case v1::RELATIONSHIP_HEAD: return "head";
    case v1::RELATIONSHIP_SPOUSE: return "spouse";
    case v1::RELATIONSHIP_CHILD: return "child";
    case v1::RELATIONSHIP_PARENT: return "parent";
    case v1::RELATIONSHIP_SIBLING: return "sibling";
    case v1::RELATIONSHIP_GRANDCHILD: return "grandchild";
    case v1::RELATIONSHIP_GRANDPARENT: return "grandparent";
    case v1::RELATIONSHIP_OTHER_RELATIVE: return "other-relative";
    case v1::RELATIONSHIP_NON_RELATIVE: return "non-relative";
    default: return "";
  }
}

std::string PersonLine(const v1::Person& p) {
  std::string line = absl::StrCat(GroupNumber(p.beneficiary_number()), "  ",
                                  DisplayName(p));
  for (const std::string& part :
       {SexName(p.sex()), FormatDate(p.date_of_birth()), p.office_code()}) {
    if (!part.empty()) absl::StrAppend(&line, "  ", part);
  }
  if (!FormatDate(p.date_of_death()).empty()) {
    absl::StrAppend(&line, "  died ", FormatDate(p.date_of_death()));
  }
  return line;
}

std::string PersonDetails(const v1::Person& p) {
  std::string out = absl::StrCat(GroupNumber(p.beneficiary_number()), "  ",
                                 DisplayName(p), "\n");
  Row(out, "sex", SexName(p.sex()));
  Row(out, "born", FormatDate(p.date_of_birth()));
  Row(out, "died", FormatDate(p.date_of_death()));
  Row(out, "national ID", p.national_id());
  Row(out, "address", FormatAddress(p.address()));
  Row(out, "phone", p.phone());
  Row(out, "office", p.office_code());
  Row(out, "household", p.household_number().empty()
                            ? "none"
                            : GroupNumber(p.household_number()));
  Row(out, "duplicate ok", p.duplicate_override_reason());
  Row(out, "registered", FormatTimestamp(p.registered_at()));
  Row(out, "updated", FormatTimestamp(p.updated_at()));
  Row(out, "version", p.version() > 0 ? absl::StrCat(p.version()) : "");

  const v1::PersonFacts& f = p.facts();
  std::string facts;
  if (f.disability().certified() || f.disability().degree_percent() > 0) {
    std::string d = absl::StrCat(f.disability().degree_percent(), " %");
    std::string on = FormatDate(f.disability().certified_on());
    if (f.disability().certified()) {
      absl::StrAppend(&d, ", certified", on.empty() ? "" : " ", on);
    }
    Row(facts, "disability", d);
  }
  if (!FormatDate(f.pregnancy_start()).empty()) {
    Row(facts, "pregnant", absl::StrCat("since ", FormatDate(f.pregnancy_start())));
  }
  Row(facts, "last birth", FormatDate(f.last_childbirth()));
  Row(facts, "employment", EmploymentName(f.employment_status()));
  for (const v1::EmploymentPeriod& e : f.employment()) {
    std::string line = absl::StrCat(FormatDate(e.start()), " to ",
                                    FormatDate(e.end()).empty()
                                        ? std::string("now")
                                        : FormatDate(e.end()));
    if (!e.monthly_wage().currency().empty()) {
      absl::StrAppend(&line, "  ", FormatMoney(e.monthly_wage()), "/month");
    }
    if (!e.employer().empty()) absl::StrAppend(&line, "  ", e.employer());
    if (e.insured()) absl::StrAppend(&line, "  insured");
    Row(facts, "job", line);
  }
  if (!f.monthly_income().currency().empty()) {
    Row(facts, "income", absl::StrCat(FormatMoney(f.monthly_income()), "/month"));
  }
  if (f.receives_contributory_pension()) {
    Row(facts, "pension", "receives a contributory pension");
  }
  for (const v1::WorkAccident& a : f.work_accidents()) {
    Row(facts, "work accident",
        absl::StrCat(FormatDate(a.date()), ", incapacity ",
                     a.incapacity_percent(), " %"));
  }
  absl::StrAppend(&out, "facts\n", facts.empty() ? "  (none recorded)\n" : facts);
  return out;
}

std::string HouseholdDetails(const v1::Household& h) {
  std::string out =
      absl::StrCat("household ", GroupNumber(h.household_number()), "\n");
  Row(out, "office", h.office_code());
  Row(out, "address", FormatAddress(h.address()));
  Row(out, "created", FormatTimestamp(h.created_at()));
  Row(out, "version", h.version() > 0 ? absl::StrCat(h.version()) : "");
  absl::StrAppend(&out, "members\n");
  for (const v1::HouseholdMember& m : h.members()) {
    std::string relationship = RelationshipName(m.relationship());
    if (m.beneficiary_number() == h.head_beneficiary_number()) {
      relationship = "head";
    }
    absl::StrAppend(
        &out, absl::StrFormat("  %-12s %-30s %s\n",
                              GroupNumber(m.beneficiary_number()),
                              DisplayName(m.given_name(), m.family_name()),
                              relationship));
  }
  if (h.members().empty() && !h.head_beneficiary_number().empty()) {
    absl::StrAppend(&out, absl::StrFormat(
                              "  %-12s %-30s head\n",
                              GroupNumber(h.head_beneficiary_number()), ""));
  }
  return out;
}

std::string EventSummary(const v1::LifeEvent& e) {
  switch (e.event_case()) {
    case v1::LifeEvent::kBirth:
      return e.birth().child_beneficiary_number().empty()
                 ? "birth"
                 : absl::StrCat("birth, child ",
                                GroupNumber(e.birth().child_beneficiary_number()));
    case v1::LifeEvent::kDeath:
      return "death";
    case v1::LifeEvent::kPregnancy:
      return absl::StrCat("pregnancy, week ", e.pregnancy().weeks_at_date());
    case v1::LifeEvent::kDisabilityCertified:
      return absl::StrCat("disability certified, ",
                          e.disability_certified().degree_percent(), " %");
    case v1::LifeEvent::kJobLost:
      return "job lost";
    case v1::LifeEvent::kJobFound: {
      std::string s = "job found";
      const v1::JobFoundEvent& j = e.job_found();
      if (!j.monthly_wage().currency().empty()) {
        absl::StrAppend(&s, ", ", FormatMoney(j.monthly_wage()), "/month");
      }
      if (!j.employer().empty()) absl::StrAppend(&s, ", ", j.employer());
      if (j.insured()) absl::StrAppend(&s, ", insured");
      return s;
    }
    case v1::LifeEvent::kWorkAccident:
      return absl::StrCat("work accident, incapacity ",
                          e.work_accident().incapacity_percent(), " %");
    case v1::LifeEvent::kMove: {
      std::string s = absl::StrCat("move to ", e.move().office_code());
      std::string address = FormatAddress(e.move().address());
      if (!address.empty()) absl::StrAppend(&s, ", ", address);
      if (e.move().whole_household()) absl::StrAppend(&s, ", whole household");
      return s;
    }
    case v1::LifeEvent::EVENT_NOT_SET:
      break;
  }
  return "event";
}

std::string EventLine(const v1::LifeEvent& e) {
  std::string line = absl::StrCat(FormatDate(e.date()), "  ", EventSummary(e));
  if (!e.office_code().empty()) absl::StrAppend(&line, "  ", e.office_code());
  if (e.correction()) {
    absl::StrAppend(&line, "\n            correction: ", e.correction_reason());
  }
  return line;
}

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

std::string WrapKeepingSpaces(absl::string_view text, size_t first,
                              size_t indent) {
  constexpr size_t kWidth = 79;
  std::string out;
  size_t column = first;
  bool line_start = true;
  size_t i = 0;
  while (i < text.size()) {
    size_t word_start = text.find_first_not_of(' ', i);
    if (word_start == absl::string_view::npos) break;
    absl::string_view spaces = text.substr(i, word_start - i);
    size_t word_end = text.find(' ', word_start);
    if (word_end == absl::string_view::npos) word_end = text.size();
    absl::string_view word = text.substr(word_start, word_end - word_start);
    if (!line_start && column + spaces.size() + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '), word);
      column = indent + word.size();
    } else {
      absl::StrAppend(&out, spaces, word);
      column += spaces.size() + word.size();
    }
    line_start = false;
    i = word_end;
  }
  return out;
}

std::string FormatCount(int64_t n) {
  return FormatMinorUnitsGrouped(n, 0);
}

std::string FormatPercent(int64_t part, int64_t whole) {
  if (whole <= 0) return "-";
  // Tenths of a percent, rounded toward minus infinity; 128 bits so that
  // part * 1000 cannot overflow.
  absl::int128 tenths = absl::int128(part) * 1000;
  absl::int128 w = whole;
  absl::int128 q = tenths / w;
  if (tenths % w != 0 && tenths < 0) q -= 1;
  bool negative = q < 0;
  absl::uint128 magnitude =
      negative ? absl::uint128(-q) : absl::uint128(q);
  uint64_t whole_part = absl::Uint128Low64(magnitude / 10);
  uint64_t decimal = absl::Uint128Low64(magnitude % 10);
  return absl::StrCat(negative ? "-" : "", whole_part, ".", decimal, " %");
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "{}";
  }
  return json;
}

std::string CsvField(absl::string_view text) {
  // A value that starts like a formula (a provider's reference, a name) is
  // not run by a spreadsheet: it is prefixed with a quote.
  const bool formula = !text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '@' ||
                                         (text[0] == '-' && text.size() > 1 &&
                                          !absl::ascii_isdigit(static_cast<unsigned char>(text[1]))));
  const std::string safe = formula ? absl::StrCat("'", text) : std::string(text);
  text = safe;
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  quoted.reserve(fields.size());
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrCat(absl::StrJoin(quoted, ","), "\r\n");
}

absl::StatusOr<std::vector<std::string>> CsvFields(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted field is not closed");
  for (std::string& f : fields) f = std::string(absl::StripAsciiWhitespace(f));
  return fields;
}

}  // namespace socle::client::cli
