// Human-readable eligibility decisions, enrolments and policy summaries for
// socle and socle-admin, sized for 80-column terminals. Plain ASCII only
// ("+" held, "-" failed), for old terminals. Money prints exactly, grouped by
// thousands ("40,000.00 KHR/month"); no floating point.
#ifndef SOCLE_CLIENT_CLI_ELIGIBILITY_FORMAT_H_
#define SOCLE_CLIENT_CLI_ELIGIBILITY_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/policy.pb.h"

namespace socle::client::cli {

std::string GuaranteeName(v1::Guarantee guarantee);           // "old age"
std::string FrequencyName(v1::PaymentFrequency frequency);    // "monthly"
std::string EnrolmentStatusName(v1::EnrolmentStatus status);  // "active"

// "40,000.00 KHR/month", "120,000.00 KHR once", "membership".
std::string AmountPerPeriod(const v1::Money& amount,
                            v1::PaymentFrequency frequency);

// One decision as a block of lines (each ending in "\n"):
//   OLD_AGE  Social pension  (old age)
//     ELIGIBLE  40,000.00 KHR/month from 2026-11-25
//     + alive         alive on 2026-11-25
//     + age_at_least  age 61 on 2026-11-25, needs at least 60
//     calculation:
//       fixed amount 40,000.00 KHR
//     policy 2026.1
// A payee other than the person gets a "  paid to NUMBER" line after the
// amount. Lines of an any-of alternative are indented under the group's
// line and name their alternative in brackets.
std::string DecisionBlock(const v1::Decision& decision);

// "E12  10000 00017  CHILD  active  from 2026-01-01  40,000.00 KHR/month",
// then, for a suspended or ended enrolment, an indented line with the reason.
std::string EnrolmentLine(const v1::Enrolment& enrolment);

// "E12  CHILD Child allowance  10000 00017  active": who and what.
std::string EnrolmentTitle(const v1::Enrolment& enrolment);

// Versions, the version in force, programmes: for policy show/validate.
std::string PolicySummary(const v1::PolicyInfo& info);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_ELIGIBILITY_FORMAT_H_
