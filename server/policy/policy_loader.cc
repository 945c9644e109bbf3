#include "server/policy/policy_loader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "server/policy/engine.h"

namespace socle::policy {
namespace {

namespace pb = google::protobuf;
using absl::CivilDay;

constexpr int kMaxProblems = 200;
constexpr int kMaxAnyOfDepth = 4;
constexpr int kMaxGestationWeeks = 45;
constexpr int kMaxAge = 150;
constexpr int kMaxBasisPoints = 10000;

// A field path: names with an index for repeated fields (-1 for singular).
struct Segment {
  std::string name;
  int index;
};
using Path = std::vector<Segment>;

Path Sub(const Path& p, absl::string_view name, int index = -1) {
  Path q = p;
  q.push_back({std::string(name), index});
  return q;
}

std::string PathString(const Path& p) {
  std::string out;
  for (const Segment& s : p) {
    if (!out.empty()) out.push_back('.');
    absl::StrAppend(&out, s.name);
    if (s.index >= 0) absl::StrAppend(&out, "[", s.index, "]");
  }
  return out;
}

// Where a version came from: a file and its parse tree (both may be absent
// for a set built in code) and the version's index in that file.
struct Source {
  std::string file;
  const pb::TextFormat::ParseInfoTree* tree = nullptr;
  int index_in_file = 0;
};

// The 1-based line of `path` in `tree`, or of its nearest ancestor written
// in the file; 0 when none is.
int LineOf(const pb::TextFormat::ParseInfoTree* tree, const Path& path) {
  const pb::Descriptor* desc = v1::PolicySet::descriptor();
  int line = -1;
  for (const Segment& s : path) {
    if (tree == nullptr || desc == nullptr) break;
    const pb::FieldDescriptor* f = desc->FindFieldByName(s.name);
    if (f == nullptr) break;
    int index = f->is_repeated() ? std::max(s.index, 0) : -1;
    pb::TextFormat::ParseLocation loc = tree->GetLocation(f, index);
    if (loc.line < 0) break;
    line = loc.line;
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(f, index);
    desc = f->message_type();
  }
  return line + 1;
}

class Problems {
 public:
  void Syntax(const std::string& file, int line, int column,
              const std::string& message) {
    Push("", absl::StrCat(file, ":", line + 1, ":", column + 1, ": ", message),
         "");
  }

  void Add(const Source& src, const Path& path, absl::string_view message) {
    std::string where;
    if (!src.file.empty()) {
      int line = LineOf(src.tree, path);
      where = line > 0 ? absl::StrCat(src.file, ":", line, ": ")
                       : absl::StrCat(src.file, ": ");
    }
    Push(PathString(path), where, std::string(message));
  }

  bool empty() const { return lines_.empty(); }

  absl::Status ToStatus() const {
    if (lines_.empty()) return absl::OkStatus();
    std::string message = absl::StrJoin(lines_, "\n");
    if (dropped_ > 0) {
      absl::StrAppend(&message, "\n... and ", dropped_, " more problems");
    }
    absl::Status status = absl::InvalidArgumentError(message);
    SetFieldViolations(status, violations_);
    return status;
  }

 private:
  // `where` is "file:line: " (or a whole syntax message when `field` is "").
  void Push(const std::string& field, const std::string& where,
            const std::string& message) {
    if (static_cast<int>(lines_.size()) >= kMaxProblems) {
      ++dropped_;
      return;
    }
    if (field.empty()) {
      lines_.push_back(where);
      violations_.push_back({"", where});
      return;
    }
    lines_.push_back(absl::StrCat(where, field, ": ", message));
    violations_.push_back({field, absl::StrCat(where, message)});
  }

  std::vector<std::string> lines_;
  std::vector<FieldViolation> violations_;
  int dropped_ = 0;
};

bool IsIdentifierChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// The text-format parser reports an unknown field or enum value at the token
// after the bad name (often the next line). For those two messages the
// collector moves the position back to the name itself.
class Collector : public pb::io::ErrorCollector {
 public:
  Collector(std::string file, absl::string_view text, Problems* problems)
      : file_(std::move(file)),
        lines_(absl::StrSplit(text, '\n')),
        problems_(problems) {}

  void AddError(int line, pb::io::ColumnNumber column,
                const std::string& message) override {
    std::string name = BadName(message);
    if (!name.empty()) FindBefore(name, &line, &column);
    problems_->Syntax(file_, line, column, message);
  }

 private:
  static std::string BadName(const std::string& message) {
    for (const std::string marker :
         {"has no field named \"", "Unknown enumeration value of \""}) {
      size_t at = message.find(marker);
      if (at == std::string::npos) continue;
      size_t start = at + marker.size();
      size_t end = message.find('"', start);
      if (end != std::string::npos) return message.substr(start, end - start);
    }
    return "";
  }

  // The last whole-word occurrence of `name` at or before (line, column),
  // ignoring '#' comments; leaves the position alone when there is none.
  void FindBefore(const std::string& name, int* line, int* column) const {
    for (int l = std::min<int>(*line, static_cast<int>(lines_.size()) - 1);
         l >= 0 && l >= *line - 50; --l) {
      absl::string_view text = lines_[l];
      text = text.substr(0, text.find('#'));
      if (l == *line && *column >= 0 &&
          static_cast<size_t>(*column) < text.size()) {
        text = text.substr(0, *column);
      }
      for (size_t at = text.rfind(name); at != absl::string_view::npos;
           at = at == 0 ? absl::string_view::npos : text.rfind(name, at - 1)) {
        size_t end = at + name.size();
        if ((at == 0 || !IsIdentifierChar(text[at - 1])) &&
            (end >= text.size() || !IsIdentifierChar(text[end]))) {
          *line = l;
          *column = static_cast<int>(at);
          return;
        }
      }
    }
  }

  std::string file_;
  std::vector<std::string> lines_;
  Problems* problems_;
};

bool IsUnset(const v1::Date& d) {
  return d.year() == 0 && d.month() == 0 && d.day() == 0;
}

std::string DateText(const v1::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

bool IsCurrencyCode(const std::string& c) {
  if (c.size() != 3) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

bool IsProgrammeCode(const std::string& c) {
  if (c.empty() || c.size() > 32 || c[0] < 'A' || c[0] > 'Z') return false;
  for (char ch : c) {
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) {
      return false;
    }
  }
  return true;
}

bool IsVersionString(const std::string& v) {
  if (v.empty() || v.size() > 32) return false;
  for (char ch : v) {
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-')) {
      return false;
    }
  }
  return true;
}

// Checks one version. Cross-version rules are in CheckAcrossVersions.
class VersionChecker {
 public:
  VersionChecker(const Source& src, Problems* problems)
      : src_(src), problems_(problems) {}

  void Check(const v1::Policy& v, const Path& p) {
    if (v.version().empty()) {
      Add(Sub(p, "version"), "is required");
    } else if (!IsVersionString(v.version())) {
      Add(Sub(p, "version"),
          "must be 1 to 32 characters of letters, digits, '.', '_' or '-'");
    }
    auto from = CheckDate(v.effective_from(), v.has_effective_from(),
                          Sub(p, "effective_from"), /*required=*/true);
    auto until = CheckDate(v.effective_until(), v.has_effective_until(),
                           Sub(p, "effective_until"), /*required=*/false);
    if (from && until && *until < *from) {
      Add(Sub(p, "effective_until"),
          absl::StrCat("must not be before effective_from (",
                       FormatDate(*from), ")"));
    }
    currency_ = v.currency();
    currency_ok_ = IsCurrencyCode(currency_);
    if (currency_.empty()) {
      Add(Sub(p, "currency"), "is required");
    } else if (!currency_ok_) {
      Add(Sub(p, "currency"),
          "must be an ISO 4217 code: three upper-case letters, e.g. \"KHR\"");
    }
    if (v.programmes_size() == 0) {
      Add(Sub(p, "programmes"), "must define at least one programme");
    }
    codes_.clear();
    for (const v1::Programme& prog : v.programmes()) codes_.insert(prog.code());
    version_ = v.version();
    absl::flat_hash_map<std::string, int> first;
    for (int i = 0; i < v.programmes_size(); ++i) {
      Path pp = Sub(p, "programmes", i);
      const v1::Programme& prog = v.programmes(i);
      if (!prog.code().empty()) {
        auto [it, inserted] = first.emplace(prog.code(), i);
        if (!inserted) {
          Add(Sub(pp, "code"),
              absl::StrCat("duplicate programme code \"", prog.code(),
                           "\" (also programmes[", it->second, "])"));
        }
      }
      CheckProgramme(prog, pp);
    }
  }

 private:
  void Add(const Path& path, absl::string_view message) {
    problems_->Add(src_, path, message);
  }

  std::optional<CivilDay> CheckDate(const v1::Date& d, bool present,
                                    const Path& p, bool required) {
    if (!present || IsUnset(d)) {
      if (required) Add(p, "is required");
      return std::nullopt;
    }
    if (!IsValidDate(d.year(), d.month(), d.day())) {
      Add(p, absl::StrCat("is not a calendar date (", DateText(d), ")"));
      return std::nullopt;
    }
    return CivilDay(d.year(), d.month(), d.day());
  }

  void CheckEnum(int value, const pb::EnumDescriptor* type, const Path& p,
                 bool required) {
    if (type->FindValueByNumber(value) == nullptr) {
      Add(p, absl::StrCat("unknown ", type->name(), " value ", value));
    } else if (required && value == 0) {
      Add(p, "is required");
    }
  }

  void CheckRange(int64_t value, int64_t lo, int64_t hi, const Path& p,
                  absl::string_view unit = "") {
    if (value < lo || value > hi) {
      if (lo == 0 && value < 0 && hi == INT32_MAX) {
        Add(p, "must not be negative");
      } else if (hi == INT32_MAX) {
        Add(p, absl::StrCat("must be at least ", lo, unit));
      } else {
        Add(p, absl::StrCat("must be ", lo, "..", hi, unit, " (is ", value,
                            ")"));
      }
    }
  }

  // Returns whether the amount is usable (present and not negative).
  bool CheckMoney(const v1::Money& m, bool present, const Path& p,
                  bool required) {
    if (!present) {
      if (required) Add(p, "is required");
      return false;
    }
    bool ok = true;
    if (m.minor_units() < 0) {
      Add(Sub(p, "minor_units"), "must not be negative");
      ok = false;
    }
    if (!m.currency().empty() && currency_ok_ && m.currency() != currency_) {
      Add(Sub(p, "currency"),
          absl::StrCat("must be ", currency_,
                       ", the policy's currency, or be left out"));
      ok = false;
    }
    return ok;
  }

  void CheckIncome(const v1::IncomePerHead& k, const Path& p) {
    CheckMoney(k.threshold(), k.has_threshold(), Sub(p, "threshold"),
               /*required=*/true);
    CheckEnum(k.test(), v1::IncomeTest_descriptor(), Sub(p, "test"),
              /*required=*/true);
  }

  void CheckProgramme(const v1::Programme& prog, const Path& p) {
    if (prog.code().empty()) {
      Add(Sub(p, "code"), "is required");
    } else if (!IsProgrammeCode(prog.code())) {
      Add(Sub(p, "code"),
          "must be 1 to 32 characters: an upper-case letter, then upper-case "
          "letters, digits or '_'");
    }
    if (prog.name().empty()) Add(Sub(p, "name"), "is required");
    CheckEnum(prog.guarantee(), v1::Guarantee_descriptor(),
              Sub(p, "guarantee"), /*required=*/true);
    CheckEnum(prog.frequency(), v1::PaymentFrequency_descriptor(),
              Sub(p, "frequency"), /*required=*/true);
    CheckEnum(prog.payee(), v1::Payee_descriptor(), Sub(p, "payee"),
              /*required=*/false);
    self_code_ = prog.code();
    for (int i = 0; i < prog.criteria_size(); ++i) {
      CheckCriterion(prog.criteria(i), Sub(p, "criteria", i), 0);
    }
    CheckEntitlement(prog, Sub(p, "entitlement"));
    if (prog.has_duration()) CheckDuration(prog, Sub(p, "duration"));
  }

  void CheckCriterion(const v1::Criterion& c, const Path& p, int depth) {
    switch (c.kind_case()) {
      case v1::Criterion::KIND_NOT_SET:
        Add(p,
            "must set one criterion kind (age, sex, alive, "
            "resident_registered, disability_certified, pregnant, "
            "employment_status, contributions, last_contract, "
            "income_per_head, work_accident, not_receiving, "
            "recent_childbirth, no_contributory_pension or any_of)");
        break;
      case v1::Criterion::kAge: {
        const v1::AgeRange& a = c.age();
        Path q = Sub(p, "age");
        if (a.at_least() == 0 && a.under() == 0) {
          Add(q, "set at_least, under or both");
        }
        CheckRange(a.at_least(), 0, kMaxAge, Sub(q, "at_least"));
        CheckRange(a.under(), 0, kMaxAge, Sub(q, "under"));
        if (a.at_least() > 0 && a.under() > 0 && a.under() <= a.at_least()) {
          Add(Sub(q, "under"), absl::StrCat("must be greater than at_least (",
                                            a.at_least(), ")"));
        }
        break;
      }
      case v1::Criterion::kSex:
        CheckEnum(c.sex().sex(), v1::Sex_descriptor(), Sub(Sub(p, "sex"), "sex"),
                  /*required=*/true);
        break;
      case v1::Criterion::kAlive:
      case v1::Criterion::kResidentRegistered:
      case v1::Criterion::kNoContributoryPension:
        break;
      case v1::Criterion::kDisabilityCertified:
        CheckRange(c.disability_certified().min_degree_percent(), 0, 100,
                   Sub(Sub(p, "disability_certified"), "min_degree_percent"),
                   " %");
        break;
      case v1::Criterion::kPregnant:
        CheckRange(c.pregnant().from_week(), 0, kMaxGestationWeeks,
                   Sub(Sub(p, "pregnant"), "from_week"), " weeks");
        break;
      case v1::Criterion::kEmploymentStatus: {
        Path q = Sub(p, "employment_status");
        const auto& statuses = c.employment_status().statuses();
        if (statuses.empty()) Add(q, "must list at least one status");
        for (int i = 0; i < statuses.size(); ++i) {
          CheckEnum(statuses[i], v1::EmploymentStatus_descriptor(),
                    Sub(q, "statuses", i), /*required=*/true);
        }
        break;
      }
      case v1::Criterion::kContributions: {
        const v1::Contributions& k = c.contributions();
        Path q = Sub(p, "contributions");
        CheckRange(k.window_months(), 1, 1200, Sub(q, "window_months"),
                   " months");
        CheckRange(k.at_least_months(), 1, 1200, Sub(q, "at_least_months"),
                   " months");
        if (k.window_months() >= 1 && k.at_least_months() > k.window_months()) {
          Add(Sub(q, "at_least_months"),
              absl::StrCat("must not exceed window_months (",
                           k.window_months(), ")"));
        }
        break;
      }
      case v1::Criterion::kLastContract:
        CheckRange(c.last_contract().at_least_months(), 1, 1200,
                   Sub(Sub(p, "last_contract"), "at_least_months"), " months");
        break;
      case v1::Criterion::kIncomePerHead:
        CheckIncome(c.income_per_head(), Sub(p, "income_per_head"));
        break;
      case v1::Criterion::kWorkAccident:
        CheckRange(c.work_accident().min_incapacity_percent(), 0, 100,
                   Sub(Sub(p, "work_accident"), "min_incapacity_percent"),
                   " %");
        break;
      case v1::Criterion::kNotReceiving: {
        const std::string& code = c.not_receiving().programme_code();
        Path q = Sub(Sub(p, "not_receiving"), "programme_code");
        if (code.empty()) {
          Add(q, "is required");
        } else if (!codes_.contains(code)) {
          Add(q, absl::StrCat("unknown programme \"", code, "\" in version ",
                              version_));
        } else if (code == self_code_) {
          Add(q, "must name another programme than its own");
        }
        break;
      }
      case v1::Criterion::kRecentChildbirth:
        CheckRange(c.recent_childbirth().within_weeks(), 1, 520,
                   Sub(Sub(p, "recent_childbirth"), "within_weeks"), " weeks");
        break;
      case v1::Criterion::kAnyOf: {
        Path q = Sub(p, "any_of");
        const v1::AnyOf& g = c.any_of();
        if (depth + 1 > kMaxAnyOfDepth) {
          Add(q, absl::StrCat("any_of groups nest at most ", kMaxAnyOfDepth,
                              " deep"));
          break;
        }
        if (g.alternatives_size() == 0) {
          Add(q, "empty any-of group: must have at least one alternative");
        }
        for (int a = 0; a < g.alternatives_size(); ++a) {
          Path alt = Sub(q, "alternatives", a);
          if (g.alternatives(a).name().empty()) {
            Add(Sub(alt, "name"), "is required");
          }
          if (g.alternatives(a).criteria_size() == 0) {
            Add(Sub(alt, "criteria"),
                "empty alternative: must have at least one criterion");
          }
          for (int i = 0; i < g.alternatives(a).criteria_size(); ++i) {
            CheckCriterion(g.alternatives(a).criteria(i),
                           Sub(alt, "criteria", i), depth + 1);
          }
        }
        break;
      }
    }
  }

  void CheckFloorCeiling(const v1::Money& floor, bool has_floor,
                         const v1::Money& ceiling, bool has_ceiling,
                         const Path& p) {
    bool floor_ok = CheckMoney(floor, has_floor, Sub(p, "floor"), false);
    bool ceiling_ok = CheckMoney(ceiling, has_ceiling, Sub(p, "ceiling"), false);
    if (floor_ok && ceiling_ok && floor.minor_units() > ceiling.minor_units()) {
      Add(Sub(p, "floor"),
          absl::StrCat("floor ", FormatMoney(floor.minor_units(), currency_),
                       " exceeds ceiling ",
                       FormatMoney(ceiling.minor_units(), currency_)));
    }
  }

  void CheckWageBasis(v1::WageBasis basis, int average_over_months,
                      const Path& p) {
    CheckEnum(basis, v1::WageBasis_descriptor(), Sub(p, "basis"),
              /*required=*/true);
    if (basis == v1::WAGE_BASIS_AVERAGE_WAGE) {
      CheckRange(average_over_months, 1, 1200, Sub(p, "average_over_months"),
                 " months");
    } else if (average_over_months != 0) {
      Add(Sub(p, "average_over_months"),
          "only goes with WAGE_BASIS_AVERAGE_WAGE");
    }
  }

  void CheckEntitlement(const v1::Programme& prog, const Path& p) {
    const v1::Entitlement& e = prog.entitlement();
    bool membership = e.has_membership();
    switch (e.formula_case()) {
      case v1::Entitlement::FORMULA_NOT_SET:
        Add(p,
            "must set one formula: fixed, per_child, wage_percentage, "
            "wage_by_incapacity or membership");
        break;
      case v1::Entitlement::kFixed:
        CheckMoney(e.fixed().amount(), e.fixed().has_amount(),
                   Sub(Sub(p, "fixed"), "amount"), /*required=*/true);
        break;
      case v1::Entitlement::kPerChild: {
        const v1::PerChild& f = e.per_child();
        Path q = Sub(p, "per_child");
        CheckMoney(f.amount_per_child(), f.has_amount_per_child(),
                   Sub(q, "amount_per_child"), /*required=*/true);
        CheckRange(f.max_children_per_household(), 1, INT32_MAX,
                   Sub(q, "max_children_per_household"));
        CheckRange(f.child_age_under(), 1, kMaxAge, Sub(q, "child_age_under"));
        CheckRange(f.pregnancy_from_week(), 0, kMaxGestationWeeks,
                   Sub(q, "pregnancy_from_week"), " weeks");
        break;
      }
      case v1::Entitlement::kWagePercentage: {
        const v1::WagePercentage& f = e.wage_percentage();
        Path q = Sub(p, "wage_percentage");
        CheckWageBasis(f.basis(), f.average_over_months(), q);
        CheckRange(f.basis_points(), 0, kMaxBasisPoints,
                   Sub(q, "basis_points"), " basis points");
        CheckFloorCeiling(f.floor(), f.has_floor(), f.ceiling(),
                          f.has_ceiling(), q);
        break;
      }
      case v1::Entitlement::kWageByIncapacity: {
        const v1::WageByIncapacity& f = e.wage_by_incapacity();
        Path q = Sub(p, "wage_by_incapacity");
        CheckWageBasis(f.basis(), f.average_over_months(), q);
        if (f.bands_size() == 0) Add(Sub(q, "bands"), "must have at least one band");
        for (int i = 0; i < f.bands_size(); ++i) {
          Path b = Sub(q, "bands", i);
          CheckRange(f.bands(i).from_percent(), 0, 100,
                     Sub(b, "from_percent"), " %");
          CheckRange(f.bands(i).basis_points(), 0, kMaxBasisPoints,
                     Sub(b, "basis_points"), " basis points");
          if (i > 0 &&
              f.bands(i).from_percent() <= f.bands(i - 1).from_percent()) {
            Add(Sub(b, "from_percent"),
                absl::StrCat("must be greater than the previous band's (",
                             f.bands(i - 1).from_percent(), ")"));
          }
        }
        CheckFloorCeiling(f.floor(), f.has_floor(), f.ceiling(),
                          f.has_ceiling(), q);
        break;
      }
      case v1::Entitlement::kMembership:
        if (e.membership().has_subsidised_when()) {
          CheckIncome(e.membership().subsidised_when(),
                      Sub(Sub(p, "membership"), "subsidised_when"));
        }
        break;
    }
    Path freq = Sub(Path(p.begin(), p.end() - 1), "frequency");
    if (membership && prog.frequency() != v1::PAYMENT_FREQUENCY_NONE &&
        prog.frequency() != v1::PAYMENT_FREQUENCY_UNSPECIFIED) {
      Add(freq, "must be PAYMENT_FREQUENCY_NONE for a membership");
    }
    if (!membership && e.formula_case() != v1::Entitlement::FORMULA_NOT_SET &&
        prog.frequency() == v1::PAYMENT_FREQUENCY_NONE) {
      Add(freq, "PAYMENT_FREQUENCY_NONE is only for a membership entitlement");
    }
  }

  void CheckDuration(const v1::Programme& prog, const Path& p) {
    const v1::DurationLimit& d = prog.duration();
    if (prog.frequency() == v1::PAYMENT_FREQUENCY_NONE) {
      Add(p, "a membership has no duration");
    }
    CheckRange(d.max_weeks(), 0, INT32_MAX, Sub(p, "max_weeks"));
    CheckRange(d.max_months(), 0, INT32_MAX, Sub(p, "max_months"));
    CheckRange(d.contribution_window_months(), 0, INT32_MAX,
               Sub(p, "contribution_window_months"));
    CheckEnum(d.anchor(), v1::PeriodAnchor_descriptor(), Sub(p, "anchor"),
              /*required=*/false);
    int set = (d.max_weeks() > 0) + (d.max_months() > 0) +
              (d.by_contribution_months_size() > 0);
    if (set == 0) {
      Add(p, "set one of max_weeks, max_months or by_contribution_months");
    } else if (set > 1) {
      Add(p, "set only one of max_weeks, max_months and by_contribution_months");
    }
    for (int i = 0; i < d.by_contribution_months_size(); ++i) {
      const v1::DurationStep& s = d.by_contribution_months(i);
      Path q = Sub(p, "by_contribution_months", i);
      CheckRange(s.from_contribution_months(), 0, INT32_MAX,
                 Sub(q, "from_contribution_months"));
      CheckRange(s.months(), 1, INT32_MAX, Sub(q, "months"));
      if (i == 0) continue;
      const v1::DurationStep& prev = d.by_contribution_months(i - 1);
      if (s.from_contribution_months() <= prev.from_contribution_months()) {
        Add(Sub(q, "from_contribution_months"),
            absl::StrCat("duration table not increasing: must be greater than "
                         "the previous step's (",
                         prev.from_contribution_months(), ")"));
      }
      if (s.months() <= prev.months()) {
        Add(Sub(q, "months"),
            absl::StrCat("duration table not increasing: must be greater than "
                         "the previous step's (",
                         prev.months(), ")"));
      }
    }
  }

  Source src_;
  Problems* problems_;
  std::string version_;
  std::string currency_;
  bool currency_ok_ = false;
  absl::flat_hash_set<std::string> codes_;
  std::string self_code_;
};

struct Located {
  const v1::Policy* policy;
  Source source;
};

// Duplicate version strings and overlapping dates, reported against the
// later version (in file order, then position).
void CheckAcrossVersions(const std::vector<Located>& versions,
                         Problems* problems) {
  auto path_of = [](const Located& l, absl::string_view field) {
    return Sub(Path{{"versions", l.source.index_in_file}}, field);
  };
  auto where = [](const Located& l) {
    std::string at = absl::StrCat("versions[", l.source.index_in_file, "]");
    return l.source.file.empty() ? at
                                 : absl::StrCat(l.source.file, " ", at);
  };
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t i = 0; i < versions.size(); ++i) {
    const std::string& v = versions[i].policy->version();
    if (v.empty()) continue;
    auto [it, inserted] = seen.emplace(v, i);
    if (!inserted) {
      problems->Add(versions[i].source, path_of(versions[i], "version"),
                    absl::StrCat("duplicate version \"", v, "\" (also ",
                                 where(versions[it->second]), ")"));
    }
  }

  struct Range {
    CivilDay from;
    std::optional<CivilDay> until;
    size_t index;
  };
  std::vector<Range> ranges;
  for (size_t i = 0; i < versions.size(); ++i) {
    const v1::Date& f = versions[i].policy->effective_from();
    const v1::Date& u = versions[i].policy->effective_until();
    if (!IsValidDate(f.year(), f.month(), f.day())) continue;
    Range r{CivilDay(f.year(), f.month(), f.day()), std::nullopt, i};
    if (IsValidDate(u.year(), u.month(), u.day())) {
      r.until = CivilDay(u.year(), u.month(), u.day());
    }
    ranges.push_back(r);
  }
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const Range& a, const Range& b) { return a.from < b.from; });
  for (size_t k = 1; k < ranges.size(); ++k) {
    const Range& a = ranges[k - 1];
    const Range& b = ranges[k];
    bool overlap = a.from == b.from || (a.until && *a.until >= b.from);
    if (!overlap) continue;
    // Report against the later-listed of the two.
    const Range& later = a.index > b.index ? a : b;
    const Range& other = a.index > b.index ? b : a;
    const v1::Policy& lp = *versions[later.index].policy;
    const v1::Policy& op = *versions[other.index].policy;
    std::string other_span =
        other.until ? absl::StrCat(FormatDate(other.from), " to ",
                                   FormatDate(*other.until))
                    : absl::StrCat("from ", FormatDate(other.from));
    problems->Add(
        versions[later.index].source,
        path_of(versions[later.index], "effective_from"),
        absl::StrCat("overlapping versions: \"", lp.version(), "\" from ",
                     FormatDate(later.from), " overlaps \"", op.version(),
                     "\" (", other_span, ", ", where(versions[other.index]),
                     ")"));
  }
}

struct ParsedFile {
  std::string file;
  v1::PolicySet set;
  std::unique_ptr<pb::TextFormat::ParseInfoTree> tree;
};

bool Parse(absl::string_view text, const std::string& file, ParsedFile* out,
           Problems* problems) {
  out->file = file;
  out->tree = std::make_unique<pb::TextFormat::ParseInfoTree>();
  Collector collector(file, text, problems);
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(out->tree.get());
  bool ok = parser.ParseFromString(std::string(text), &out->set);
  if (!ok && problems->empty()) {
    problems->Syntax(file, -1, -1, "could not be parsed");
  }
  return ok;
}

absl::StatusOr<LoadedPolicy> ValidateParsed(
    const std::vector<ParsedFile>& files) {
  Problems problems;
  std::vector<Located> all;
  for (const ParsedFile& f : files) {
    if (f.set.versions_size() == 0) {
      problems.Add(Source{f.file, f.tree.get(), 0}, Path{{"versions", -1}},
                   "must hold at least one version");
    }
    for (int i = 0; i < f.set.versions_size(); ++i) {
      Source src{f.file, f.tree.get(), i};
      VersionChecker(src, &problems)
          .Check(f.set.versions(i), Path{{"versions", i}});
      all.push_back({&f.set.versions(i), src});
    }
  }
  CheckAcrossVersions(all, &problems);
  if (!problems.empty()) return problems.ToStatus();

  LoadedPolicy out;
  std::vector<const v1::Policy*> sorted;
  for (const Located& l : all) sorted.push_back(l.policy);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const v1::Policy* a, const v1::Policy* b) {
                     const v1::Date& x = a->effective_from();
                     const v1::Date& y = b->effective_from();
                     return std::make_tuple(x.year(), x.month(), x.day()) <
                            std::make_tuple(y.year(), y.month(), y.day());
                   });
  for (const v1::Policy* p : sorted) *out.policies.add_versions() = *p;
  for (const ParsedFile& f : files) out.files.push_back(f.file);
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the policy file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the policy file"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<LoadedPolicy> ValidatePolicyText(absl::string_view text,
                                                absl::string_view filename) {
  std::vector<ParsedFile> files(1);
  Problems problems;
  std::string name = filename.empty() ? "policy" : std::string(filename);
  if (!Parse(text, name, &files[0], &problems)) {
    return problems.ToStatus();
  }
  return ValidateParsed(files);
}

absl::StatusOr<LoadedPolicy> LoadPolicyFile(const std::string& path) {
  return LoadPolicyFiles({path});
}

absl::StatusOr<LoadedPolicy> LoadPolicyFiles(
    const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return absl::InvalidArgumentError("no policy file given");
  }
  std::vector<ParsedFile> files(paths.size());
  Problems problems;
  bool parsed = true;
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StatusOr<std::string> text = ReadFile(paths[i]);
    if (!text.ok()) return text.status();
    parsed &= Parse(*text, paths[i], &files[i], &problems);
  }
  if (!parsed) return problems.ToStatus();
  return ValidateParsed(files);
}

absl::Status ValidatePolicySet(const v1::PolicySet& policies) {
  Problems problems;
  std::vector<Located> all;
  if (policies.versions_size() == 0) {
    problems.Add(Source{}, Path{{"versions", -1}},
                 "must hold at least one version");
  }
  for (int i = 0; i < policies.versions_size(); ++i) {
    Source src{"", nullptr, i};
    VersionChecker(src, &problems)
        .Check(policies.versions(i), Path{{"versions", i}});
    all.push_back({&policies.versions(i), src});
  }
  CheckAcrossVersions(all, &problems);
  return problems.ToStatus();
}

}  // namespace socle::policy
