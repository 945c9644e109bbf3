#include "client/cli/eligibility_format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/format.h"
#include "client/cli/money.h"

namespace socle::client::cli {
namespace {

bool IsSet(const v1::Date& d) {
  return d.year() != 0 || d.month() != 0 || d.day() != 0;
}

std::string Pad(absl::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// "from 2026-01-01 to 2026-03-10 (10 weeks)"; "" when no date is set.
std::string Period(const v1::Date& start, const v1::Date& end,
                   int32_t weeks = 0, int32_t months = 0) {
  std::string out;
  if (IsSet(start)) absl::StrAppend(&out, "from ", FormatDate(start));
  if (IsSet(end)) {
    absl::StrAppend(&out, out.empty() ? "" : " ", "to ", FormatDate(end));
  }
  if (weeks > 0) {
    absl::StrAppend(&out, " (", weeks, weeks == 1 ? " week)" : " weeks)");
  } else if (months > 0) {
    absl::StrAppend(&out, " (", months, months == 1 ? " month)" : " months)");
  }
  return out;
}

}  // namespace

std::string GuaranteeName(v1::Guarantee guarantee) {
  switch (guarantee) {
    case v1::GUARANTEE_HEALTH: return "health";
    case v1::GUARANTEE_CHILDREN: return "children";
    case v1::GUARANTEE_WORKING_AGE: return "working age";
    case v1::GUARANTEE_OLD_AGE: return "old age";
    default: return "";
  }
}

std::string FrequencyName(v1::PaymentFrequency frequency) {
  switch (frequency) {
    case v1::PAYMENT_FREQUENCY_MONTHLY: return "monthly";
    case v1::PAYMENT_FREQUENCY_ONE_OFF: return "one-off";
    case v1::PAYMENT_FREQUENCY_NONE: return "membership";
    default: return "";
  }
}

std::string EnrolmentStatusName(v1::EnrolmentStatus status) {
  switch (status) {
    case v1::ENROLMENT_STATUS_ACTIVE: return "active";
    case v1::ENROLMENT_STATUS_SUSPENDED: return "suspended";
    case v1::ENROLMENT_STATUS_ENDED: return "ended";
    default: return "";
  }
}

std::string AmountPerPeriod(const v1::Money& amount,
                            v1::PaymentFrequency frequency) {
  switch (frequency) {
    case v1::PAYMENT_FREQUENCY_MONTHLY:
      return absl::StrCat(FormatMoneyGrouped(amount), "/month");
    case v1::PAYMENT_FREQUENCY_ONE_OFF:
      return absl::StrCat(FormatMoneyGrouped(amount), " once");
    case v1::PAYMENT_FREQUENCY_NONE:
      return "membership";
    default:
      return FormatMoneyGrouped(amount);
  }
}

std::string DecisionBlock(const v1::Decision& d) {
  std::string out = d.programme_code();
  if (!d.programme_name().empty()) absl::StrAppend(&out, "  ", d.programme_name());
  if (!GuaranteeName(d.guarantee()).empty()) {
    absl::StrAppend(&out, "  (", GuaranteeName(d.guarantee()), ")");
  }
  out.push_back('\n');

  if (d.eligible()) {
    std::string line = "ELIGIBLE  ";
    if (d.frequency() == v1::PAYMENT_FREQUENCY_NONE) {
      absl::StrAppend(&line, "membership",
                      d.subsidised() ? ", premium subsidised" : "");
    } else {
      absl::StrAppend(&line, AmountPerPeriod(d.amount(), d.frequency()));
    }
    std::string period = Period(d.period_start(), d.period_end(),
                                d.duration_weeks(), d.duration_months());
    if (!period.empty()) absl::StrAppend(&line, " ", period);
    absl::StrAppend(&out, "  ", WrapKeepingSpaces(line, 2, 12), "\n");
    if (!d.payee_beneficiary_number().empty() &&
        d.payee_beneficiary_number() != d.beneficiary_number()) {
      absl::StrAppend(&out, "  paid to ",
                      GroupNumber(d.payee_beneficiary_number()), "\n");
    }
  } else {
    absl::StrAppend(&out, "  not eligible\n");
  }

  // Criterion names in one column, descriptions aligned after them.
  size_t width = 0;
  for (const v1::CriterionResult& c : d.criteria()) {
    size_t indent = c.alternative().empty() ? 2 : 4;
    width = std::max(width, indent + 2 + c.criterion().size());
  }
  width = std::min<size_t>(width, 30);
  for (const v1::CriterionResult& c : d.criteria()) {
    std::string left = absl::StrCat(
        std::string(c.alternative().empty() ? 2 : 4, ' '), c.held() ? "+" : "-",
        " ", c.criterion());
    std::string text = c.description();
    if (text.empty()) {
      text = c.value_read();
      if (!c.threshold().empty()) absl::StrAppend(&text, ", needs ", c.threshold());
    }
    if (!c.alternative().empty()) text = absl::StrCat("[", c.alternative(), "] ", text);
    size_t column = std::max(width, left.size()) + 2;
    size_t indent = column <= 40 ? column : 8;
    absl::StrAppend(&out, Pad(left, column - 2), "  ", WrapKeepingSpaces(text, column, indent),
                    "\n");
  }
  if (!d.calculation().empty()) {
    absl::StrAppend(&out, "  calculation:\n");
    for (const std::string& line : d.calculation()) {
      absl::StrAppend(&out, "    ", WrapKeepingSpaces(line, 4, 6), "\n");
    }
  }
  if (!d.policy_version().empty()) {
    absl::StrAppend(&out, "  policy ", d.policy_version(), "\n");
  }
  return out;
}

std::string EnrolmentTitle(const v1::Enrolment& e) {
  std::string out = e.enrolment_id();
  absl::StrAppend(&out, "  ", e.programme_code());
  if (!e.programme_name().empty()) absl::StrAppend(&out, " ", e.programme_name());
  absl::StrAppend(&out, "  ", GroupNumber(e.beneficiary_number()));
  std::string status = EnrolmentStatusName(e.status());
  if (!status.empty()) absl::StrAppend(&out, "  ", status);
  return out;
}

std::string EnrolmentLine(const v1::Enrolment& e) {
  std::vector<std::string> parts = {e.enrolment_id(),
                                    GroupNumber(e.beneficiary_number()),
                                    e.programme_code()};
  std::string status = EnrolmentStatusName(e.status());
  if (!status.empty()) parts.push_back(status);
  v1::Date end = IsSet(e.end_date()) ? e.end_date() : e.planned_end_date();
  std::string period = Period(e.start_date(), end);
  if (!period.empty()) parts.push_back(period);
  if (e.frequency() == v1::PAYMENT_FREQUENCY_NONE) {
    parts.push_back(e.subsidised() ? "membership, subsidised" : "membership");
  } else if (!e.amount().currency().empty() || e.amount().minor_units() != 0) {
    parts.push_back(AmountPerPeriod(e.amount(), e.frequency()));
  }
  if (!e.office_code().empty()) parts.push_back(e.office_code());
  std::string out = absl::StrCat(WrapKeepingSpaces(absl::StrJoin(parts, "  "), 0, 4), "\n");
  if (e.status() == v1::ENROLMENT_STATUS_ENDED && !e.end_reason().empty()) {
    absl::StrAppend(&out, "    ended: ", WrapKeepingSpaces(e.end_reason(), 11, 11), "\n");
  }
  if (e.status() == v1::ENROLMENT_STATUS_SUSPENDED &&
      !e.suspend_reason().empty()) {
    absl::StrAppend(&out, "    suspended: ", WrapKeepingSpaces(e.suspend_reason(), 15, 15),
                    "\n");
  }
  if (!e.override_reason().empty()) {
    absl::StrAppend(&out, "    override: ", WrapKeepingSpaces(e.override_reason(), 14, 14),
                    "\n");
  }
  return out;
}

std::string PolicySummary(const v1::PolicyInfo& info) {
  std::string out;
  if (!info.versions().empty()) {
    absl::StrAppend(&out, "versions   ",
                    WrapKeepingSpaces(absl::StrJoin(info.versions(), ", "), 11, 11), "\n");
  }
  if (!info.version_in_force().empty()) {
    absl::StrAppend(&out, "in force   ", info.version_in_force());
    if (IsSet(info.effective_from())) {
      absl::StrAppend(&out, " (from ", FormatDate(info.effective_from()), ")");
    }
    out.push_back('\n');
  }
  std::string activated = FormatTimestamp(info.activated_at());
  if (!activated.empty() || !info.activated_by().empty()) {
    absl::StrAppend(&out, "activated  ", activated,
                    info.activated_by().empty() || activated.empty() ? "" : " ",
                    info.activated_by().empty()
                        ? ""
                        : absl::StrCat("by ", info.activated_by()),
                    "\n");
  }
  absl::StrAppend(&out, "programmes (", info.programmes_size(), ")\n");
  size_t code_width = 4, name_width = 4;
  for (const v1::ProgrammeSummary& p : info.programmes()) {
    code_width = std::max(code_width, p.code().size());
    name_width = std::max(name_width, p.name().size());
  }
  name_width = std::min<size_t>(name_width, 36);
  for (const v1::ProgrammeSummary& p : info.programmes()) {
    absl::StrAppend(&out, "  ", Pad(p.code(), code_width), "  ",
                    Pad(p.name(), name_width), "  ",
                    Pad(GuaranteeName(p.guarantee()), 11), "  ",
                    FrequencyName(p.frequency()));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out.push_back('\n');
  }
  return out;
}

}  // namespace socle::client::cli
