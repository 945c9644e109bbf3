// The policy engine as it was before its hot paths were reworked for speed
// (commit 6346593), kept ONLY for engine_equivalence_test.cc: the reworked
// engine must give byte-identical Decisions for the same inputs. Not linked
// into socle-server. Do not change it to follow the engine: when a decision's
// text is changed on purpose, update this copy in the same commit.
#include "server/policy/engine.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/dates.h"
#include "common/field_error.h"

namespace socle::policy::reference {

std::string FormatMoney(int64_t minor_units, const std::string& currency);
absl::StatusOr<std::vector<v1::Decision>> DecideWithVersion(
    const v1::Policy& policy, const EligibilityInput& input,
    const std::vector<std::string>& codes);

namespace {

using absl::CivilDay;
using absl::CivilMonth;

// A recorded pregnancy older than this is treated as ended (the registry
// accepts gestation weeks 0..45).
constexpr int kMaxGestationWeeks = 45;

bool IsUnset(const v1::Date& d) {
  return d.year() == 0 && d.month() == 0 && d.day() == 0;
}

std::optional<CivilDay> ToDay(const v1::Date& d) {
  if (IsUnset(d)) return std::nullopt;
  if (!IsValidDate(d.year(), d.month(), d.day())) return std::nullopt;
  return CivilDay(d.year(), d.month(), d.day());
}

v1::Date ToDate(CivilDay day) {
  v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

std::string Day(CivilDay d) { return FormatDate(d); }
std::string Month(CivilMonth m) {
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

int64_t Clamp64(absl::int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) {
    return std::numeric_limits<int64_t>::max();
  }
  if (v < std::numeric_limits<int64_t>::min()) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

// a * b / c, rounded down (operands are not negative), without overflow.
int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  if (c == 0) return 0;
  return Clamp64(absl::int128(a) * b / c);
}

std::string Percent(int64_t basis_points) {
  return absl::StrFormat("%d.%02d %%", basis_points / 100, basis_points % 100);
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// The day `n` months after `day`: the same day of the month, or, when the
// target month is too short, the first day of the month after it (so that
// one month from 2026-01-31 ends on 2026-02-28, consistent with WholeMonths).
CivilDay Anniversary(CivilDay day, int n) {
  CivilMonth m = CivilMonth(day) + n;
  CivilDay last = CivilDay(m + 1) - 1;
  if (day.day() > last.day()) return last + 1;
  return CivilDay(m.year(), m.month(), day.day());
}

// Whole months from `start` to `end` inclusive: the count of times the
// start's day of month is reached again after `end` + 1 day.
int WholeMonths(CivilDay start, CivilDay end) {
  CivilDay after = end + 1;
  int months = static_cast<int>(CivilMonth(after) - CivilMonth(start));
  if (after.day() < start.day()) --months;
  return std::max(months, 0);
}

bool Covers(const v1::EmploymentPeriod& p, CivilDay day) {
  auto start = ToDay(p.start());
  if (!start || *start > day) return false;
  if (IsUnset(p.end())) {
    return true;  // open: the current job
  }
  auto end = ToDay(p.end());
  return end && day <= *end;
}

std::string SexName(v1::Sex s) {
  switch (s) {
    case v1::SEX_FEMALE: return "female";
    case v1::SEX_MALE: return "male";
    case v1::SEX_OTHER: return "other";
    default: return "not recorded";
  }
}

std::string StatusName(v1::EmploymentStatus s) {
  switch (s) {
    case v1::EMPLOYMENT_STATUS_EMPLOYED: return "employed";
    case v1::EMPLOYMENT_STATUS_SELF_EMPLOYED: return "self-employed";
    case v1::EMPLOYMENT_STATUS_UNEMPLOYED: return "unemployed";
    case v1::EMPLOYMENT_STATUS_INACTIVE: return "inactive";
    default: return "not recorded";
  }
}

enum class Life { kAlive, kDead, kUnborn };

Life LifeOn(const v1::Person& p, CivilDay day) {
  auto death = ToDay(p.date_of_death());
  if (death && *death <= day) return Life::kDead;
  auto birth = ToDay(p.date_of_birth());
  if (birth && *birth > day) return Life::kUnborn;
  return Life::kAlive;
}

struct Pregnancy {
  bool pregnant = false;
  int week = 0;
  std::optional<CivilDay> start;
  std::string why_not;  // when not pregnant
};

Pregnancy PregnancyOn(const v1::Person& p, CivilDay day) {
  Pregnancy out;
  auto start = ToDay(p.facts().pregnancy_start());
  if (!start) {
    out.why_not = "not pregnant";
    return out;
  }
  if (*start > day) {
    out.why_not = absl::StrCat("pregnancy recorded from ", Day(*start),
                               ", after ", Day(day));
    return out;
  }
  auto birth = ToDay(p.facts().last_childbirth());
  if (birth && *birth >= *start && *birth <= day) {
    out.why_not = absl::StrCat("pregnancy ended by the childbirth on ",
                               Day(*birth));
    return out;
  }
  int week = static_cast<int>((day - *start) / 7);
  if (week > kMaxGestationWeeks) {
    out.why_not = absl::StrCat("pregnancy recorded from ", Day(*start), " is ",
                               week, " weeks old: treated as ended");
    return out;
  }
  out.pregnant = true;
  out.week = week;
  out.start = start;
  return out;
}

// The amount of `m` when it is in `currency` (an empty currency is taken as
// `currency`); nullopt otherwise.
std::optional<int64_t> ReadMoney(const v1::Money& m,
                                 const std::string& currency) {
  if (!m.currency().empty() && m.currency() != currency) return std::nullopt;
  return m.minor_units();
}

v1::CriterionResult Line(std::string criterion, const std::string& path,
                         const std::string& alternative, bool held,
                         std::string value, std::string threshold,
                         std::string description) {
  v1::CriterionResult r;
  r.set_criterion(std::move(criterion));
  r.set_path(path);
  r.set_alternative(alternative);
  r.set_held(held);
  r.set_value_read(std::move(value));
  r.set_threshold(std::move(threshold));
  r.set_description(std::move(description));
  return r;
}

struct WageRead {
  int64_t amount = 0;
  bool readable = true;  // false: recorded in another currency
  std::string text;      // for the calculation
};

struct Amount {
  int64_t minor_units = 0;
  bool subsidised = false;
  std::vector<std::string> calculation;
  std::vector<v1::CriterionResult> failed;  // facts that could not be read
};

struct Period {
  bool held = true;
  std::optional<v1::CriterionResult> line;
  int weeks = 0;
  int months = 0;
  CivilDay start;
  std::optional<CivilDay> end;
  std::string text;
};

class Evaluator {
 public:
  Evaluator(const v1::Policy& policy, const EligibilityInput& input)
      : policy_(policy),
        in_(input),
        person_(input.person),
        as_of_(input.as_of),
        as_of_text_(FormatDate(input.as_of)),
        currency_(policy.currency()) {
    bool found = false;
    if (in_.household != nullptr) {
      for (const v1::Person& m : in_.household->members) {
        if (!person_.beneficiary_number().empty() &&
            m.beneficiary_number() == person_.beneficiary_number()) {
          if (!found) members_.push_back(&person_);
          found = true;
        } else {
          members_.push_back(&m);
        }
      }
    }
    if (!found) members_.push_back(&person_);
  }

  v1::Decision Decide(int index) {
    const v1::Programme& prog = policy_.programmes(index);
    const std::string base = absl::StrCat("programmes[", index, "]");
    accident_ = nullptr;

    v1::Decision d;
    d.set_programme_code(prog.code());
    d.set_programme_name(prog.name());
    d.set_guarantee(prog.guarantee());
    d.set_frequency(prog.frequency());
    d.set_policy_version(policy_.version());
    *d.mutable_as_of() = ToDate(as_of_);
    d.set_beneficiary_number(person_.beneficiary_number());

    std::vector<v1::CriterionResult> lines;
    std::string alive_path;
    for (int i = 0; i < prog.criteria_size(); ++i) {
      if (prog.criteria(i).has_alive()) {
        alive_path = absl::StrCat(base, ".criteria[", i, "]");
        break;
      }
    }
    lines.push_back(AliveLine(alive_path, ""));
    bool eligible = lines.back().held();
    for (int i = 0; i < prog.criteria_size(); ++i) {
      const v1::Criterion& c = prog.criteria(i);
      if (c.has_alive()) continue;  // the leading line already says it
      eligible &= Eval(c, absl::StrCat(base, ".criteria[", i, "]"), "", &lines);
    }

    Amount amount = ComputeAmount(prog);
    for (auto& l : amount.failed) {
      eligible = false;
      lines.push_back(std::move(l));
    }
    Period period = ComputePeriod(prog, base);
    if (period.line) {
      eligible &= period.held;
      lines.push_back(std::move(*period.line));
    }
    for (auto& l : lines) *d.add_criteria() = std::move(l);

    d.set_eligible(eligible);
    d.mutable_amount()->set_currency(currency_);
    if (!eligible) return d;

    d.mutable_amount()->set_minor_units(amount.minor_units);
    d.set_subsidised(amount.subsidised);
    *d.mutable_period_start() = ToDate(period.start);
    if (period.end) *d.mutable_period_end() = ToDate(*period.end);
    d.set_duration_weeks(period.weeks);
    d.set_duration_months(period.months);
    if (prog.frequency() != v1::PAYMENT_FREQUENCY_NONE) {
      d.set_payee_beneficiary_number(Payee(prog));
    }
    for (auto& s : amount.calculation) d.add_calculation(std::move(s));
    if (!period.text.empty()) d.add_calculation(period.text);
    return d;
  }

 private:
  std::string Money(int64_t minor) const {
    return FormatMoney(minor, currency_);
  }
  int64_t PolicyMoney(const v1::Money& m) const { return m.minor_units(); }

  std::string Payee(const v1::Programme& prog) const {
    if (prog.payee() == v1::PAYEE_HOUSEHOLD_HEAD && in_.household != nullptr &&
        !in_.household->head_beneficiary_number.empty()) {
      return in_.household->head_beneficiary_number;
    }
    return person_.beneficiary_number();
  }

  v1::CriterionResult AliveLine(const std::string& path,
                                const std::string& alt) const {
    std::string threshold = absl::StrCat("alive on ", as_of_text_);
    switch (LifeOn(person_, as_of_)) {
      case Life::kDead: {
        std::string death = Day(*ToDay(person_.date_of_death()));
        return Line("alive", path, alt, false, absl::StrCat("died ", death),
                    threshold,
                    absl::StrCat("died on ", death, ": nothing is due on ",
                                 as_of_text_));
      }
      case Life::kUnborn: {
        std::string birth = Day(*ToDay(person_.date_of_birth()));
        return Line("alive", path, alt, false, absl::StrCat("born ", birth),
                    threshold,
                    absl::StrCat("born on ", birth, ", after ", as_of_text_));
      }
      case Life::kAlive:
        break;
    }
    return Line("alive", path, alt, true, "alive", threshold,
                absl::StrCat("alive on ", as_of_text_));
  }

  // Appends the line(s) of `c` to `out`; returns whether `c` held.
  bool Eval(const v1::Criterion& c, const std::string& path,
            const std::string& alt, std::vector<v1::CriterionResult>* out) {
    switch (c.kind_case()) {
      case v1::Criterion::kAge:
        out->push_back(Age(c.age(), path, alt));
        break;
      case v1::Criterion::kSex: {
        bool held = person_.sex() == c.sex().sex();
        out->push_back(Line("sex", path, alt, held, SexName(person_.sex()),
                            SexName(c.sex().sex()),
                            absl::StrCat("sex ", SexName(person_.sex()),
                                         ", needs ", SexName(c.sex().sex()))));
        break;
      }
      case v1::Criterion::kAlive:
        out->push_back(AliveLine(path, alt));
        break;
      case v1::Criterion::kResidentRegistered: {
        const std::string& office = person_.office_code();
        bool held = !office.empty();
        out->push_back(Line(
            "resident_registered", path, alt, held,
            held ? office : "no office", "a registering office",
            held ? absl::StrCat("registered at office ", office)
                 : "no registering office recorded"));
        break;
      }
      case v1::Criterion::kDisabilityCertified:
        out->push_back(Disability(c.disability_certified(), path, alt));
        break;
      case v1::Criterion::kPregnant: {
        Pregnancy p = PregnancyOn(person_, as_of_);
        int from = c.pregnant().from_week();
        bool held = p.pregnant && p.week >= from;
        std::string threshold = absl::StrCat("pregnant, week >= ", from);
        std::string value =
            p.pregnant ? absl::StrCat("week ", p.week) : p.why_not;
        std::string desc =
            p.pregnant ? absl::StrCat("pregnant, week ", p.week, " on ",
                                      as_of_text_, ", needs week ", from,
                                      " or later")
                       : absl::StrCat(p.why_not, " on ", as_of_text_,
                                      ", needs pregnant from week ", from);
        out->push_back(Line("pregnant_from_week", path, alt, held, value,
                            threshold, desc));
        break;
      }
      case v1::Criterion::kEmploymentStatus: {
        v1::EmploymentStatus s = person_.facts().employment_status();
        bool held = false;
        std::vector<std::string> names;
        for (int v : c.employment_status().statuses()) {
          names.push_back(StatusName(static_cast<v1::EmploymentStatus>(v)));
          if (v == s) held = true;
        }
        std::string set = absl::StrJoin(names, " or ");
        out->push_back(Line("employment_status_in", path, alt, held,
                            StatusName(s), set,
                            absl::StrCat("employment status ", StatusName(s),
                                         ", needs ", set)));
        break;
      }
      case v1::Criterion::kContributions: {
        const v1::Contributions& k = c.contributions();
        CivilMonth last = CivilMonth(as_of_) - 1;
        CivilMonth first = last - (std::max(k.window_months(), 1) - 1);
        int n = ContributionMonths(first, last);
        bool held = n >= k.at_least_months();
        out->push_back(Line(
            "contribution_months", path, alt, held, Plural(n, "month", "months"),
            absl::StrCat(">= ", k.at_least_months(), " months in ",
                         Month(first), "..", Month(last)),
            absl::StrCat(Plural(n, "month", "months"),
                         " of insured contributions from ", Month(first),
                         " to ", Month(last), ", needs at least ",
                         k.at_least_months())));
        break;
      }
      case v1::Criterion::kLastContract:
        out->push_back(LastContractLine(c.last_contract(), path, alt));
        break;
      case v1::Criterion::kIncomePerHead:
        out->push_back(IncomeLine(c.income_per_head(), path, alt));
        break;
      case v1::Criterion::kWorkAccident:
        out->push_back(AccidentLine(c.work_accident(), path, alt));
        break;
      case v1::Criterion::kNotReceiving: {
        const std::string& code = c.not_receiving().programme_code();
        bool enrolled = in_.active_programmes.contains(code);
        out->push_back(Line(
            "not_receiving", path, alt, !enrolled,
            absl::StrCat(enrolled ? "enrolled in " : "not enrolled in ", code),
            absl::StrCat("not enrolled in ", code),
            absl::StrCat(enrolled ? "actively enrolled in " : "not enrolled in ",
                         code, " on ", as_of_text_,
                         enrolled ? ", which excludes this programme" : "")));
        break;
      }
      case v1::Criterion::kRecentChildbirth:
        out->push_back(ChildbirthLine(c.recent_childbirth(), path, alt));
        break;
      case v1::Criterion::kNoContributoryPension: {
        bool receives = person_.facts().receives_contributory_pension();
        std::string value = receives ? "receives a contributory pension"
                                     : "no contributory pension";
        out->push_back(Line("no_contributory_pension", path, alt, !receives,
                            value, "no contributory pension", value));
        break;
      }
      case v1::Criterion::kAnyOf:
        return AnyOf(c.any_of(), path, alt, out);
      case v1::Criterion::KIND_NOT_SET:
        out->push_back(Line("unknown", path, alt, false, "", "",
                            "criterion with no kind: never holds"));
        return false;
    }
    return out->back().held();
  }

  bool AnyOf(const v1::AnyOf& group, const std::string& path,
             const std::string& alt, std::vector<v1::CriterionResult>* out) {
    size_t group_line = out->size();
    out->push_back(v1::CriterionResult());
    bool any = false;
    std::vector<std::string> parts;
    std::vector<std::string> held_names;
    for (int a = 0; a < group.alternatives_size(); ++a) {
      const v1::Alternative& alternative = group.alternatives(a);
      std::string name = alt.empty()
                             ? alternative.name()
                             : absl::StrCat(alt, " / ", alternative.name());
      bool all = alternative.criteria_size() > 0;
      for (int i = 0; i < alternative.criteria_size(); ++i) {
        all &= Eval(alternative.criteria(i),
                    absl::StrCat(path, ".any_of.alternatives[", a,
                                 "].criteria[", i, "]"),
                    name, out);
      }
      any |= all;
      parts.push_back(absl::StrCat(alternative.name(),
                                   all ? " (holds)" : " (does not hold)"));
      if (all) held_names.push_back(alternative.name());
    }
    (*out)[group_line] = Line(
        "any_of", path, alt, any,
        held_names.empty() ? "none" : absl::StrJoin(held_names, "; "),
        absl::StrCat("one of ", group.alternatives_size(), " alternatives"),
        absl::StrCat("one of: ", absl::StrJoin(parts, "; ")));
    return any;
  }

  v1::CriterionResult Age(const v1::AgeRange& r, const std::string& path,
                          const std::string& alt) const {
    std::string name, threshold, needs;
    if (r.at_least() > 0 && r.under() > 0) {
      name = "age_between";
      threshold = absl::StrCat(">= ", r.at_least(), " and < ", r.under());
      needs = absl::StrCat("at least ", r.at_least(), " and under ", r.under());
    } else if (r.under() > 0) {
      name = "age_under";
      threshold = absl::StrCat("< ", r.under());
      needs = absl::StrCat("under ", r.under());
    } else {
      name = "age_at_least";
      threshold = absl::StrCat(">= ", r.at_least());
      needs = absl::StrCat("at least ", r.at_least());
    }
    auto birth = ToDay(person_.date_of_birth());
    if (!birth || *birth > as_of_) {
      std::string value = birth ? absl::StrCat("born ", Day(*birth))
                                : "date of birth not recorded";
      return Line(name, path, alt, false, value, threshold,
                  absl::StrCat(value, ", needs age ", needs, " on ",
                               as_of_text_));
    }
    int age = AgeInYears(*birth, as_of_);
    bool held = age >= r.at_least() && (r.under() <= 0 || age < r.under());
    return Line(name, path, alt, held, absl::StrCat(age), threshold,
                absl::StrCat("age ", age, " on ", as_of_text_, ", needs ",
                             needs));
  }

  v1::CriterionResult Disability(const v1::DisabilityCertified& k,
                                 const std::string& path,
                                 const std::string& alt) const {
    const v1::Disability& d = person_.facts().disability();
    std::string threshold =
        k.min_degree_percent() > 0
            ? absl::StrCat("certified, >= ", k.min_degree_percent(), " %")
            : "certified";
    if (!d.certified()) {
      return Line("disability_certified", path, alt, false, "not certified",
                  threshold,
                  absl::StrCat("no certified disability, needs ", threshold));
    }
    auto on = ToDay(d.certified_on());
    if (on && *on > as_of_) {
      std::string value = absl::StrCat("certified from ", Day(*on));
      return Line("disability_certified", path, alt, false, value, threshold,
                  absl::StrCat(value, ", after ", as_of_text_));
    }
    bool held = d.degree_percent() >= k.min_degree_percent();
    std::string value = absl::StrCat("certified, ", d.degree_percent(), " %");
    return Line("disability_certified", path, alt, held, value, threshold,
                absl::StrCat("disability ", value, ", needs ", threshold));
  }

  // Calendar months in [first, last] of which insured employment covers at
  // least one day (see Contributions in policy.proto).
  int ContributionMonths(CivilMonth first, CivilMonth last) const {
    std::set<CivilMonth> months;
    for (const v1::EmploymentPeriod& p : person_.facts().employment()) {
      if (!p.insured()) continue;
      auto start = ToDay(p.start());
      if (!start) continue;
      CivilMonth to = last;
      if (!IsUnset(p.end())) {
        auto end = ToDay(p.end());
        if (!end || *end < *start) continue;
        to = std::min(to, CivilMonth(*end));
      }
      for (CivilMonth m = std::max(first, CivilMonth(*start)); m <= to; ++m) {
        months.insert(m);
      }
    }
    return static_cast<int>(months.size());
  }

  // Contribution months over a policy window; 0: the whole career.
  int ContributionMonthsInWindow(int window_months, std::string* span) const {
    CivilMonth last = CivilMonth(as_of_) - 1;
    if (window_months <= 0) {
      *span = absl::StrCat("over the whole career before ",
                           Month(CivilMonth(as_of_)));
      return ContributionMonths(CivilMonth(1, 1), last);
    }
    CivilMonth first = last - (window_months - 1);
    *span = absl::StrCat("from ", Month(first), " to ", Month(last));
    return ContributionMonths(first, last);
  }

  // The last employment period started on or before the decision date
  // (insured only when `insured`), or null.
  const v1::EmploymentPeriod* LastPeriod(bool insured) const {
    const v1::EmploymentPeriod* best = nullptr;
    CivilDay best_start;
    for (const v1::EmploymentPeriod& p : person_.facts().employment()) {
      if (insured && !p.insured()) continue;
      auto start = ToDay(p.start());
      if (!start || *start > as_of_) continue;
      if (best == nullptr || *start >= best_start) {
        best = &p;
        best_start = *start;
      }
    }
    return best;
  }

  v1::CriterionResult LastContractLine(const v1::LastContract& k,
                                       const std::string& path,
                                       const std::string& alt) const {
    std::string threshold = absl::StrCat(">= ", k.at_least_months(), " months");
    const v1::EmploymentPeriod* p = LastPeriod(/*insured=*/false);
    if (p == nullptr) {
      return Line("last_contract_months", path, alt, false,
                  "no employment recorded", threshold,
                  absl::StrCat("no employment recorded, needs a last contract "
                               "of at least ",
                               k.at_least_months(), " months"));
    }
    CivilDay start = *ToDay(p->start());
    CivilDay end = as_of_;
    bool open = true;
    if (auto e = ToDay(p->end()); e && *e < as_of_) {
      end = std::max(*e, start - 1);
      open = false;
    }
    int months = WholeMonths(start, end);
    bool held = months >= k.at_least_months();
    std::string span = absl::StrCat(Day(start), open ? " (ongoing) to " : " to ",
                                     Day(end));
    return Line("last_contract_months", path, alt, held,
                absl::StrCat(Plural(months, "month", "months"), " (", span,
                             ")"),
                threshold,
                absl::StrCat("last contract ", span, ": ",
                             Plural(months, "whole month", "whole months"),
                             ", needs at least ", k.at_least_months()));
  }

  struct Income {
    absl::int128 sum = 0;
    int members = 0;
    std::string unreadable;  // a member's income in another currency
  };

  Income HouseholdIncome() const {
    Income inc;
    for (const v1::Person* m : members_) {
      if (LifeOn(*m, as_of_) != Life::kAlive) continue;
      ++inc.members;
      auto v = ReadMoney(m->facts().monthly_income(), currency_);
      if (!v) {
        inc.unreadable = m->facts().monthly_income().currency();
        continue;
      }
      inc.sum += std::max<int64_t>(*v, 0);
    }
    return inc;
  }

  struct IncomeTestResult {
    bool held = false;
    std::string value, threshold, description;
  };

  IncomeTestResult TestIncome(const v1::IncomePerHead& k) const {
    IncomeTestResult r;
    Income inc = HouseholdIncome();
    int64_t limit = PolicyMoney(k.threshold());
    bool below = k.test() == v1::INCOME_TEST_BELOW;
    r.threshold = absl::StrCat(below ? "< " : "<= ", Money(limit));
    std::string needs =
        absl::StrCat(below ? "below " : "at most ", Money(limit));
    if (!inc.unreadable.empty()) {
      r.value = absl::StrCat("an income recorded in ", inc.unreadable);
      r.description =
          absl::StrCat("a household income is recorded in ", inc.unreadable,
                       ", not ", currency_, ": cannot compare with ", needs);
      return r;
    }
    int n = std::max(inc.members, 1);
    int64_t per_head = Clamp64(inc.sum / n);
    absl::int128 bound = absl::int128(limit) * n;
    r.held = below ? inc.sum < bound : inc.sum <= bound;
    r.value = absl::StrCat(Money(per_head), " per head");
    r.description = absl::StrCat(
        "household income per head ", Money(per_head), " on ", as_of_text_,
        " (", Money(Clamp64(inc.sum)), " for ",
        Plural(n, "living member", "living members"), "), needs ", needs);
    return r;
  }

  v1::CriterionResult IncomeLine(const v1::IncomePerHead& k,
                                 const std::string& path,
                                 const std::string& alt) const {
    IncomeTestResult r = TestIncome(k);
    return Line(k.test() == v1::INCOME_TEST_BELOW ? "income_per_head_below"
                                                  : "income_per_head_at_most",
                path, alt, r.held, r.value, r.threshold, r.description);
  }

  // The accidents on or before the decision date passing `k`; the best one
  // (highest incapacity, then latest, then last recorded) or null.
  const v1::WorkAccident* BestAccident(const v1::WorkAccidentRecorded* k) const {
    const v1::WorkAccident* best = nullptr;
    CivilDay best_day;
    for (const v1::WorkAccident& a : person_.facts().work_accidents()) {
      auto day = ToDay(a.date());
      if (!day || *day > as_of_) continue;
      if (k != nullptr) {
        if (a.incapacity_percent() < k->min_incapacity_percent()) continue;
        if (k->while_employed() || k->while_insured()) {
          bool covered = false;
          for (const auto& p : person_.facts().employment()) {
            if (Covers(p, *day) && (!k->while_insured() || p.insured())) {
              covered = true;
            }
          }
          if (!covered) continue;
        }
      }
      if (best == nullptr ||
          std::make_pair(a.incapacity_percent(), *day) >=
              std::make_pair(best->incapacity_percent(), best_day)) {
        best = &a;
        best_day = *day;
      }
    }
    return best;
  }

  v1::CriterionResult AccidentLine(const v1::WorkAccidentRecorded& k,
                                   const std::string& path,
                                   const std::string& alt) {
    std::string when = k.while_insured()    ? " while in insured employment"
                       : k.while_employed() ? " while employed"
                                            : "";
    std::string threshold =
        absl::StrCat("a work accident", when, ", >= ",
                     k.min_incapacity_percent(), " % incapacity");
    const v1::WorkAccident* a = BestAccident(&k);
    if (a == nullptr) {
      const v1::WorkAccident* any = BestAccident(nullptr);
      std::string value =
          any == nullptr
              ? "no work accident recorded"
              : absl::StrCat(
                    Plural(person_.facts().work_accidents_size(),
                           "work accident", "work accidents"),
                    " recorded, none qualifies (highest ",
                    any->incapacity_percent(), " % on ",
                    Day(*ToDay(any->date())), ")");
      return Line("work_accident", path, alt, false, value, threshold,
                  absl::StrCat(value, ", needs ", threshold));
    }
    if (accident_ == nullptr ||
        a->incapacity_percent() > accident_->incapacity_percent()) {
      accident_ = a;
    }
    std::string value =
        absl::StrCat("accident on ", Day(*ToDay(a->date())), when, ", ",
                     a->incapacity_percent(), " % incapacity");
    return Line("work_accident", path, alt, true, value, threshold,
                absl::StrCat(value, ", needs ", threshold));
  }

  v1::CriterionResult ChildbirthLine(const v1::RecentChildbirth& k,
                                     const std::string& path,
                                     const std::string& alt) const {
    std::string threshold = absl::StrCat("< ", k.within_weeks(), " weeks ago");
    auto birth = ToDay(person_.facts().last_childbirth());
    if (!birth || *birth > as_of_) {
      std::string value =
          birth ? absl::StrCat("childbirth on ", Day(*birth), ", after ",
                               as_of_text_)
                : "no childbirth recorded";
      return Line("childbirth_within_weeks", path, alt, false, value,
                  threshold,
                  absl::StrCat(value, ", needs a childbirth within ",
                               k.within_weeks(), " weeks"));
    }
    int64_t days = as_of_ - *birth;
    bool held = days < int64_t{7} * k.within_weeks();
    std::string value =
        absl::StrCat("gave birth on ", Day(*birth), ", ", days / 7,
                     " weeks and ", Plural(days % 7, "day", "days"), " before ",
                     as_of_text_);
    return Line("childbirth_within_weeks", path, alt, held, value, threshold,
                absl::StrCat(value, ", needs fewer than ", k.within_weeks(),
                             " weeks"));
  }

  // ---- wages ----

  WageRead Unreadable(const v1::Money& m, const std::string& what) const {
    WageRead w;
    w.readable = false;
    w.text = absl::StrCat(what, " recorded in ", m.currency(), ", not ",
                          currency_);
    return w;
  }

  WageRead LastWage() const {
    WageRead w;
    const v1::EmploymentPeriod* p = LastPeriod(/*insured=*/true);
    if (p == nullptr) {
      w.text = "no insured employment recorded: wage 0";
      return w;
    }
    auto v = ReadMoney(p->monthly_wage(), currency_);
    if (!v) return Unreadable(p->monthly_wage(), "last wage");
    w.amount = std::max<int64_t>(*v, 0);
    w.text = absl::StrCat("last insured monthly wage ", Money(w.amount),
                          " (employment from ", Day(*ToDay(p->start())), ")");
    return w;
  }

  // The insured period covering most days of month `m` (ties: the later
  // start), or null.
  const v1::EmploymentPeriod* MonthPeriod(CivilMonth m) const {
    CivilDay mf(m), ml = CivilDay(m + 1) - 1;
    const v1::EmploymentPeriod* best = nullptr;
    int64_t best_days = 0;
    CivilDay best_start;
    for (const v1::EmploymentPeriod& p : person_.facts().employment()) {
      if (!p.insured()) continue;
      auto start = ToDay(p.start());
      if (!start) continue;
      CivilDay end = ml;
      if (!IsUnset(p.end())) {
        auto e = ToDay(p.end());
        if (!e) continue;
        end = std::min(end, *e);
      }
      CivilDay from = std::max(mf, *start);
      int64_t days = end >= from ? end - from + 1 : 0;
      if (days <= 0) continue;
      if (best == nullptr || days > best_days ||
          (days == best_days && *start >= best_start)) {
        best = &p;
        best_days = days;
        best_start = *start;
      }
    }
    return best;
  }

  // The average over the last `over_months` months of contributions before
  // the decision's month (see WAGE_BASIS_AVERAGE_WAGE).
  WageRead AverageWage(int over_months) const {
    WageRead w;
    std::optional<CivilMonth> earliest;
    for (const v1::EmploymentPeriod& p : person_.facts().employment()) {
      auto start = ToDay(p.start());
      if (p.insured() && start && (!earliest || CivilMonth(*start) < *earliest)) {
        earliest = CivilMonth(*start);
      }
    }
    absl::int128 sum = 0;
    int counted = 0;
    CivilMonth newest, oldest;
    for (CivilMonth m = CivilMonth(as_of_) - 1;
         earliest && m >= *earliest && counted < std::max(over_months, 1);
         --m) {
      const v1::EmploymentPeriod* p = MonthPeriod(m);
      if (p == nullptr) continue;
      auto v = ReadMoney(p->monthly_wage(), currency_);
      if (!v) return Unreadable(p->monthly_wage(), "a wage");
      sum += std::max<int64_t>(*v, 0);
      if (counted == 0) newest = m;
      oldest = m;
      ++counted;
    }
    if (counted == 0) {
      w.text = absl::StrCat("no month of insured contributions before ",
                            Month(CivilMonth(as_of_)), ": average wage 0");
      return w;
    }
    w.amount = Clamp64(sum / counted);
    w.text = absl::StrCat("average insured monthly wage ", Money(w.amount),
                          " over the last ",
                          Plural(counted, "month", "months"),
                          " of contributions, ", Month(oldest), " to ",
                          Month(newest), " (", Money(Clamp64(sum)), " / ",
                          counted, ")");
    return w;
  }

  WageRead WageAtAccident(const v1::WorkAccident* a) const {
    WageRead w;
    if (a == nullptr) {
      w.text = "no work accident: wage 0";
      return w;
    }
    CivilDay day = *ToDay(a->date());
    const v1::EmploymentPeriod* best = nullptr;
    for (const v1::EmploymentPeriod& p : person_.facts().employment()) {
      if (Covers(p, day) && (best == nullptr || p.insured())) best = &p;
    }
    if (best == nullptr) {
      w.text = absl::StrCat("no employment on ", Day(day), ": wage 0");
      return w;
    }
    auto v = ReadMoney(best->monthly_wage(), currency_);
    if (!v) return Unreadable(best->monthly_wage(), "the wage at the accident");
    w.amount = std::max<int64_t>(*v, 0);
    w.text = absl::StrCat("monthly wage at the accident on ", Day(day), ": ",
                          Money(w.amount));
    return w;
  }

  WageRead Wage(v1::WageBasis basis, int over_months) const {
    switch (basis) {
      case v1::WAGE_BASIS_LAST_WAGE:
        return LastWage();
      case v1::WAGE_BASIS_AVERAGE_WAGE:
        return AverageWage(over_months);
      case v1::WAGE_BASIS_AT_ACCIDENT:
        return WageAtAccident(accident_ != nullptr ? accident_
                                                   : BestAccident(nullptr));
      default: {
        WageRead w;
        w.text = "no wage basis: wage 0";
        return w;
      }
    }
  }

  void FloorAndCeiling(const v1::Money& floor, bool has_floor,
                       const v1::Money& ceiling, bool has_ceiling,
                       Amount* out) const {
    if (has_floor && out->minor_units < PolicyMoney(floor)) {
      out->minor_units = PolicyMoney(floor);
      out->calculation.push_back(
          absl::StrCat("raised to the floor ", Money(out->minor_units)));
    }
    if (has_ceiling && out->minor_units > PolicyMoney(ceiling)) {
      out->minor_units = PolicyMoney(ceiling);
      out->calculation.push_back(
          absl::StrCat("lowered to the ceiling ", Money(out->minor_units)));
    }
  }

  void AddWageProblem(const WageRead& w, Amount* out) const {
    if (w.readable) return;
    out->failed.push_back(Line("wage_in_policy_currency", "", "", false,
                               w.text, currency_,
                               absl::StrCat(w.text, ": no amount can be "
                                                    "computed")));
  }

  Amount ComputeAmount(const v1::Programme& prog) const {
    Amount out;
    const v1::Entitlement& e = prog.entitlement();
    switch (e.formula_case()) {
      case v1::Entitlement::kFixed:
        out.minor_units = PolicyMoney(e.fixed().amount());
        out.calculation.push_back(
            absl::StrCat("fixed amount ", Money(out.minor_units)));
        break;
      case v1::Entitlement::kPerChild:
        PerChild(e.per_child(), &out);
        break;
      case v1::Entitlement::kWagePercentage: {
        const v1::WagePercentage& f = e.wage_percentage();
        WageRead w = Wage(f.basis(), f.average_over_months());
        AddWageProblem(w, &out);
        out.calculation.push_back(w.text);
        out.minor_units = MulDiv(w.amount, f.basis_points(), 10000);
        out.calculation.push_back(absl::StrCat(Percent(f.basis_points()),
                                               " of ", Money(w.amount), " = ",
                                               Money(out.minor_units)));
        FloorAndCeiling(f.floor(), f.has_floor(), f.ceiling(), f.has_ceiling(),
                        &out);
        break;
      }
      case v1::Entitlement::kWageByIncapacity: {
        const v1::WageByIncapacity& f = e.wage_by_incapacity();
        WageRead w = Wage(f.basis(), f.average_over_months());
        AddWageProblem(w, &out);
        out.calculation.push_back(w.text);
        const v1::WorkAccident* a =
            accident_ != nullptr ? accident_ : BestAccident(nullptr);
        int degree = a == nullptr ? 0 : a->incapacity_percent();
        const v1::IncapacityBand* band = nullptr;
        for (const auto& b : f.bands()) {
          if (b.from_percent() <= degree &&
              (band == nullptr || b.from_percent() >= band->from_percent())) {
            band = &b;
          }
        }
        if (band == nullptr) {
          out.calculation.push_back(absl::StrCat(
              "incapacity ", degree, " % is below every band: amount 0"));
        } else if (band->proportional_to_degree()) {
          out.minor_units = Clamp64(absl::int128(w.amount) *
                                    band->basis_points() * degree / 1000000);
          out.calculation.push_back(absl::StrCat(
              "incapacity ", degree, " % (band from ", band->from_percent(),
              " %): ", Percent(band->basis_points()), " of ", Money(w.amount),
              " times ", degree, " % = ", Money(out.minor_units)));
        } else {
          out.minor_units = MulDiv(w.amount, band->basis_points(), 10000);
          out.calculation.push_back(absl::StrCat(
              "incapacity ", degree, " % (band from ", band->from_percent(),
              " %): ", Percent(band->basis_points()), " of ", Money(w.amount),
              " = ", Money(out.minor_units)));
        }
        FloorAndCeiling(f.floor(), f.has_floor(), f.ceiling(), f.has_ceiling(),
                        &out);
        break;
      }
      case v1::Entitlement::kMembership: {
        out.calculation.push_back("membership: nothing is paid");
        if (e.membership().has_subsidised_when()) {
          IncomeTestResult r = TestIncome(e.membership().subsidised_when());
          out.subsidised = r.held;
          out.calculation.push_back(
              absl::StrCat(r.description, ": premium ",
                           r.held ? "subsidised" : "not subsidised"));
        }
        break;
      }
      case v1::Entitlement::FORMULA_NOT_SET:
        out.calculation.push_back("no entitlement formula: amount 0");
        break;
    }
    return out;
  }

  void PerChild(const v1::PerChild& f, Amount* out) const {
    // Rank keys: born children oldest first, then pregnancies by start; ties
    // by beneficiary number, then by position in the household.
    struct Rank {
      int kind;  // 0 child, 1 pregnancy
      CivilDay day;
      std::string number;
      size_t member;
      bool operator<(const Rank& o) const {
        return std::tie(kind, day, number, member) <
               std::tie(o.kind, o.day, o.number, o.member);
      }
    };
    std::vector<Rank> ranks;
    int children = 0, pregnancies = 0;
    for (size_t i = 0; i < members_.size(); ++i) {
      const v1::Person& m = *members_[i];
      if (LifeOn(m, as_of_) != Life::kAlive) continue;
      auto birth = ToDay(m.date_of_birth());
      if (birth && AgeInYears(*birth, as_of_) < f.child_age_under()) {
        ranks.push_back({0, *birth, m.beneficiary_number(), i});
        ++children;
      }
      if (f.pregnancy_from_week() > 0) {
        Pregnancy p = PregnancyOn(m, as_of_);
        if (p.pregnant && p.week >= f.pregnancy_from_week()) {
          ranks.push_back({1, *p.start, m.beneficiary_number(), i});
          ++pregnancies;
        }
      }
    }
    std::sort(ranks.begin(), ranks.end());
    size_t self = 0;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i] == &person_) self = i;
    }
    int cap = f.max_children_per_household();
    int paid = 0;
    std::vector<std::string> own;
    for (size_t r = 0; r < ranks.size(); ++r) {
      if (ranks[r].member != self) continue;
      bool within = static_cast<int>(r) < cap;
      if (within) ++paid;
      own.push_back(absl::StrCat(ranks[r].kind == 0 ? "child" : "pregnancy",
                                 " ranked ", r + 1,
                                 within ? " (within the cap)"
                                        : " (beyond the cap)"));
    }
    int64_t per = PolicyMoney(f.amount_per_child());
    std::string counted = absl::StrCat(
        Plural(children, "child", "children"), " under ", f.child_age_under());
    if (f.pregnancy_from_week() > 0) {
      absl::StrAppend(&counted, " and ",
                      Plural(pregnancies, "pregnancy", "pregnancies"),
                      " from week ", f.pregnancy_from_week());
    }
    out->calculation.push_back(absl::StrCat(
        "dependants in the household on ", as_of_text_, ": ", counted,
        "; at most ", cap, " paid per household, oldest first"));
    out->calculation.push_back(
        own.empty() ? std::string("this person is not a counted dependant")
                    : absl::StrCat("this person: ", absl::StrJoin(own, ", ")));
    out->minor_units = MulDiv(per, paid, 1);
    out->calculation.push_back(absl::StrCat(paid, " x ", Money(per), " = ",
                                            Money(out->minor_units)));
  }

  // Start and end of entitlement; a "duration_by_contributions" line when the
  // programme has a duration table.
  Period ComputePeriod(const v1::Programme& prog,
                       const std::string& base) const {
    Period out;
    out.start = as_of_;
    if (!prog.has_duration()) return out;
    const v1::DurationLimit& d = prog.duration();
    if (d.by_contribution_months_size() > 0) {
      std::string span;
      int n = ContributionMonthsInWindow(d.contribution_window_months(), &span);
      const v1::DurationStep* step = nullptr;
      for (const auto& s : d.by_contribution_months()) {
        if (s.from_contribution_months() <= n &&
            (step == nullptr ||
             s.from_contribution_months() >= step->from_contribution_months())) {
          step = &s;
        }
      }
      int first = d.by_contribution_months(0).from_contribution_months();
      for (const auto& s : d.by_contribution_months()) {
        first = std::min(first, s.from_contribution_months());
      }
      out.held = step != nullptr;
      std::string value = Plural(n, "month", "months");
      std::string desc = absl::StrCat(value, " of insured contributions ",
                                      span);
      if (step != nullptr) {
        out.months = step->months();
        absl::StrAppend(&desc, ": ", Plural(out.months, "month", "months"),
                        " of benefit (step from ",
                        step->from_contribution_months(), " months)");
      } else {
        absl::StrAppend(&desc, ", needs at least ", first,
                        " for the shortest duration");
      }
      out.line = Line("duration_by_contributions",
                      absl::StrCat(base, ".duration.by_contribution_months"),
                      "", out.held, value, absl::StrCat(">= ", first, " months"),
                      desc);
    } else if (d.max_weeks() > 0) {
      out.weeks = d.max_weeks();
    } else if (d.max_months() > 0) {
      out.months = d.max_months();
    }
    if (out.weeks == 0 && out.months == 0) return out;

    auto end_from = [&](CivilDay start) {
      return out.weeks > 0 ? start + int64_t{7} * out.weeks - 1
                           : Anniversary(start, out.months) - 1;
    };
    std::string anchor_text = "from the decision date";
    if (d.anchor() == v1::PERIOD_ANCHOR_LAST_CHILDBIRTH) {
      auto birth = ToDay(person_.facts().last_childbirth());
      if (birth && *birth <= as_of_ && end_from(*birth) >= as_of_) {
        out.start = *birth;
        anchor_text = "from the childbirth";
      }
    }
    out.end = end_from(out.start);
    out.text = absl::StrCat(
        "for at most ",
        out.weeks > 0 ? Plural(out.weeks, "week", "weeks")
                      : Plural(out.months, "month", "months"),
        " ", anchor_text, ": ", Day(out.start), " to ", Day(*out.end));
    return out;
  }

  const v1::Policy& policy_;
  const EligibilityInput& in_;
  const v1::Person& person_;
  const CivilDay as_of_;
  // as_of_ as written in the explanations (formatted once: a decision
  // writes it several times).
  const std::string as_of_text_;
  const std::string currency_;
  // The household's members, the person among them (as &person_).
  std::vector<const v1::Person*> members_;
  // The accident a held work_accident criterion relied on, for this decision.
  const v1::WorkAccident* accident_ = nullptr;
};

int CurrencyExponent(const std::string& c) {
  if (c.size() != 3) return 2;
  static const char* const kZero[] = {"BIF", "CLP", "DJF", "GNF", "ISK",
                                      "JPY", "KMF", "KRW", "PYG", "RWF",
                                      "UGX", "UYI", "VND", "VUV", "XAF",
                                      "XOF", "XPF"};
  static const char* const kThree[] = {"BHD", "IQD", "JOD", "KWD",
                                       "LYD", "OMR", "TND"};
  for (const char* z : kZero) {
    if (std::memcmp(c.data(), z, 3) == 0) return 0;
  }
  for (const char* t : kThree) {
    if (std::memcmp(c.data(), t, 3) == 0) return 3;
  }
  return 2;
}

}  // namespace

std::string FormatMoney(int64_t minor_units, const std::string& currency) {
  int exponent = CurrencyExponent(currency);
  uint64_t scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;
  bool negative = minor_units < 0;
  uint64_t abs = negative ? 0 - static_cast<uint64_t>(minor_units)
                          : static_cast<uint64_t>(minor_units);
  std::string whole = absl::StrCat(abs / scale);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  std::string out = negative ? "-" : "";
  absl::StrAppend(&out, grouped);
  if (exponent > 0) {
    // The fraction, zero-padded to `exponent` digits.
    char fraction[4] = {'.', '0', '0', '0'};
    uint64_t rest = abs % scale;
    for (int i = exponent; i >= 1; --i, rest /= 10) {
      fraction[i] = static_cast<char>('0' + rest % 10);
    }
    out.append(fraction, exponent + 1);
  }
  if (!currency.empty()) absl::StrAppend(&out, " ", currency);
  return out;
}

const v1::Policy* PolicyInForce(const v1::PolicySet& policies,
                                absl::CivilDay day) {
  struct Entry {
    CivilDay from;
    int index;
  };
  std::vector<Entry> entries;
  for (int i = 0; i < policies.versions_size(); ++i) {
    if (auto from = ToDay(policies.versions(i).effective_from())) {
      entries.push_back({*from, i});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.from < b.from; });
  const v1::Policy* found = nullptr;
  for (size_t k = 0; k < entries.size(); ++k) {
    const v1::Policy& v = policies.versions(entries[k].index);
    if (entries[k].from > day) break;
    std::optional<CivilDay> until = ToDay(v.effective_until());
    if (!until && k + 1 < entries.size()) until = entries[k + 1].from - 1;
    if (!until || day <= *until) found = &v;  // the latest-starting wins
  }
  return found;
}

absl::StatusOr<std::vector<v1::Decision>> DecideWithVersion(
    const v1::Policy& policy, const EligibilityInput& input,
    const std::vector<std::string>& codes) {
  std::vector<int> chosen;
  if (codes.empty()) {
    for (int i = 0; i < policy.programmes_size(); ++i) chosen.push_back(i);
  } else {
    absl::flat_hash_map<std::string, int> by_code;
    for (int i = 0; i < policy.programmes_size(); ++i) {
      by_code.emplace(policy.programmes(i).code(), i);
    }
    absl::flat_hash_map<std::string, size_t> seen;
    for (size_t i = 0; i < codes.size(); ++i) {
      std::string field = absl::StrCat("programmes[", i, "]");
      auto it = by_code.find(codes[i]);
      if (it == by_code.end()) {
        return InvalidField(field, absl::StrCat("unknown programme \"",
                                                codes[i], "\" in policy ",
                                                policy.version()));
      }
      if (auto [s, inserted] = seen.emplace(codes[i], i); !inserted) {
        return InvalidField(field,
                            absl::StrCat("repeats \"", codes[i],
                                         "\" (programmes[", s->second, "])"));
      }
      chosen.push_back(it->second);
    }
  }
  Evaluator evaluator(policy, input);
  std::vector<v1::Decision> out;
  out.reserve(chosen.size());
  for (int i : chosen) out.push_back(evaluator.Decide(i));
  return out;
}

absl::StatusOr<std::vector<v1::Decision>> Decide(
    const v1::PolicySet& policies, const EligibilityInput& input,
    const std::vector<std::string>& codes) {
  const v1::Policy* policy = PolicyInForce(policies, input.as_of);
  if (policy == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no policy version is in force on ", FormatDate(input.as_of)));
  }
  return reference::DecideWithVersion(*policy, input, codes);
}

}  // namespace socle::policy::reference
