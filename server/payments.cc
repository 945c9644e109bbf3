#include "server/payments.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/audit.h"
#include "server/convert.h"
#include "server/idempotency.h"
#include "server/item_status.h"
#include "server/validation.h"

namespace socle {
namespace {

using storage::CycleRecord;
using storage::LineRecord;
using storage::PaymentRecord;

constexpr char kService[] = "socle.v1.Payments/";
constexpr int kPage = 1000;
constexpr int kMaxReferenceLength = 100;
// A paid_at this far ahead of the server's clock is still accepted (clocks
// of office terminals drift).
constexpr absl::Duration kClockSkew = absl::Minutes(5);

void AddViolations(const absl::Status& status, FieldViolations& v) {
  for (const auto& fv : GetFieldViolations(status)) v.Add(fv.field, fv.description);
}

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

absl::StatusOr<int64_t> ParsePrefixed(absl::string_view text, char prefix,
                                      absl::string_view field, absl::string_view what) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  const std::string example = absl::StrCat(what, " such as ", std::string(1, prefix), "12");
  if (t.empty()) return InvalidField(field, absl::StrCat("is required (a ", example, ")"));
  int64_t id = 0;
  if (absl::ascii_toupper(static_cast<unsigned char>(t[0])) != prefix ||
      !absl::SimpleAtoi(t.substr(1), &id) || id <= 0) {
    return InvalidField(field, absl::StrCat("must be a ", example));
  }
  return id;
}

v1::Money MoneyOf(int64_t minor, absl::string_view currency) {
  v1::Money m;
  m.set_minor_units(minor);
  m.set_currency(std::string(currency));
  return m;
}

std::string Amount(int64_t minor, absl::string_view currency) {
  return absl::StrCat(minor, " ", currency);
}

const char* ChannelName(int channel) {
  switch (channel) {
    case v1::PAYMENT_CHANNEL_CASH: return "cash";
    case v1::PAYMENT_CHANNEL_BANK_TRANSFER: return "bank";
    case v1::PAYMENT_CHANNEL_MOBILE_MONEY: return "mobile";
    default: return "unknown";
  }
}

v1::Cycle CycleView(const CycleRecord& c) {
  v1::Cycle out;
  out.set_cycle_id(FormatCycleId(c.id));
  out.set_programme_code(c.programme_code);
  out.set_period(c.period);
  out.set_status(static_cast<v1::CycleStatus>(c.status));
  int64_t lines = 0;
  for (const storage::CycleTotal& t : c.totals) {
    lines += t.lines;
    *out.add_total_owed() = MoneyOf(t.owed_minor, t.currency);
  }
  out.set_line_count(lines);
  *out.mutable_opened_at() = ToTimestamp(c.opened_at);
  out.set_opened_by(c.opened_by);
  if (c.closed_at) *out.mutable_closed_at() = ToTimestamp(*c.closed_at);
  out.set_closed_by(c.closed_by);
  return out;
}

v1::Line LineView(const LineRecord& l, absl::string_view period) {
  v1::Line out;
  out.set_line_id(FormatLineId(l.id));
  out.set_cycle_id(FormatCycleId(l.cycle_id));
  out.set_programme_code(l.programme_code);
  out.set_period(std::string(period));
  out.set_office_code(l.office_code);
  out.set_beneficiary_number(FormatBeneficiaryNumber(l.person_id));
  out.set_enrolment_id(FormatEnrolmentId(l.enrolment_id));
  *out.mutable_amount() = MoneyOf(l.amount_minor, l.currency);
  out.set_status(LineStatusOf(l.amount_minor, l.paid_minor));
  *out.mutable_paid() = MoneyOf(l.paid_minor, l.currency);
  out.set_payment_count(static_cast<int32_t>(l.payment_count));
  return out;
}

v1::Payment PaymentView(const PaymentRecord& p) {
  v1::Payment out;
  out.set_payment_id(FormatPaymentId(p.id));
  out.set_idempotency_key(p.idempotency_key);
  if (p.line_id != 0) out.set_line_id(FormatLineId(p.line_id));
  out.set_cycle_id(FormatCycleId(p.cycle_id));
  out.set_programme_code(p.programme_code);
  out.set_period(p.period);
  out.set_office_code(p.office_code);
  out.set_beneficiary_number(FormatBeneficiaryNumber(p.person_id));
  *out.mutable_amount() = MoneyOf(p.amount_minor, p.currency);
  out.set_channel(static_cast<v1::PaymentChannel>(p.channel));
  out.set_provider_reference(p.provider_reference);
  *out.mutable_paid_at() = ToTimestamp(p.paid_at);
  out.set_supplement(p.supplement);
  out.set_note(p.note);
  *out.mutable_recorded_at() = ToTimestamp(p.recorded_at);
  out.set_recorded_by(p.recorded_by);
  if (p.reversal_of != 0) out.set_reverses_payment_id(FormatPaymentId(p.reversal_of));
  out.set_reversal_reason(p.reversal_reason);
  if (p.reversed_by != 0) out.set_reversed_by_payment_id(FormatPaymentId(p.reversed_by));
  return out;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// The instant as stored (microseconds), for comparing a replay.
int64_t StoredMicros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Status Refused(absl::string_view reason, std::string message,
                     std::map<std::string, std::string> metadata = {}) {
  return WithErrorInfo(absl::FailedPreconditionError(std::move(message)),
                       {std::string(reason), std::move(metadata)});
}

// Field-level checks of one payment, relative to the item.
void ValidatePaymentRequest(const v1::RecordPaymentRequest& r, absl::Time now,
                            FieldViolations& v) {
  ValidateRequestId(r.idempotency_key(), "idempotency_key", v);
  switch (r.target_case()) {
    case v1::RecordPaymentRequest::kLineId: {
      auto id = ParseLineId(r.line_id(), "line_id");
      if (!id.ok()) AddViolations(id.status(), v);
      if (r.without_line()) v.Add("without_line", "is only for payments by beneficiary");
      break;
    }
    case v1::RecordPaymentRequest::kBeneficiary: {
      const v1::PaymentTarget& b = r.beneficiary();
      auto id = ParseBeneficiaryNumber(b.beneficiary_number(), "beneficiary.beneficiary_number");
      if (!id.ok()) AddViolations(id.status(), v);
      if (b.programme_code().empty()) v.Add("beneficiary.programme_code", "is required");
      auto period = ParsePeriod(b.period(), "beneficiary.period");
      if (!period.ok()) AddViolations(period.status(), v);
      break;
    }
    case v1::RecordPaymentRequest::TARGET_NOT_SET:
      v.Add("target", "give line_id, or beneficiary with programme_code and period");
      break;
  }
  ValidateMoney(r.amount(), "amount", true, v);
  if (r.amount().minor_units() == 0 && !r.amount().currency().empty()) {
    v.Add("amount.minor_units", "must be positive");
  }
  const bool needs_reference = r.channel() == v1::PAYMENT_CHANNEL_BANK_TRANSFER ||
                               r.channel() == v1::PAYMENT_CHANNEL_MOBILE_MONEY;
  if (r.channel() < v1::PAYMENT_CHANNEL_CASH || r.channel() > v1::PAYMENT_CHANNEL_MOBILE_MONEY) {
    v.Add("channel", "is required: cash, bank transfer or mobile money");
  }
  ValidateText(r.provider_reference(), "provider_reference", kMaxReferenceLength,
               needs_reference, v);
  if (r.has_paid_at()) {
    const auto& t = r.paid_at();
    if (t.seconds() < 0 || t.seconds() > 253402300799 || t.nanos() < 0 ||
        t.nanos() > 999999999) {
      v.Add("paid_at", "is not a valid instant");
    } else if (FromTimestamp(t) > now + kClockSkew) {
      v.Add("paid_at", "must not be in the future");
    }
  }
  ValidateText(r.note(), "note", kMaxReasonLength, false, v);
}

// The first field whose value differs between a stored payment and a new
// request under the same key; empty when it is a replay.
std::string DiffersFrom(const PaymentRecord& p, const v1::RecordPaymentRequest& r) {
  if (r.target_case() == v1::RecordPaymentRequest::kLineId) {
    auto line = ParseLineId(r.line_id(), "line_id");
    if (!line.ok() || *line != p.line_id) return "line_id";
  } else {
    const v1::PaymentTarget& b = r.beneficiary();
    auto person = ParseBeneficiaryNumber(b.beneficiary_number(), "");
    if (!person.ok() || *person != p.person_id) return "beneficiary.beneficiary_number";
    if (b.programme_code() != p.programme_code) return "beneficiary.programme_code";
    if (b.period() != p.period) return "beneficiary.period";
  }
  if (r.amount().minor_units() != p.amount_minor) return "amount.minor_units";
  if (r.amount().currency() != p.currency) return "amount.currency";
  if (r.channel() != p.channel) return "channel";
  if (r.provider_reference() != p.provider_reference) return "provider_reference";
  if (r.has_paid_at() && StoredMicros(FromTimestamp(r.paid_at())) != StoredMicros(p.paid_at)) {
    return "paid_at";
  }
  return "";
}

bool IsEffective(const PaymentRecord& p) { return p.reversal_of == 0 && p.reversed_by == 0; }

v1::ReconciliationRow RowOf(const storage::ReconciliationTotals& t) {
  v1::ReconciliationRow r;
  r.set_office_code(t.office_code);
  r.set_programme_code(t.programme_code);
  r.set_currency(t.currency);
  r.set_lines(t.lines);
  r.set_payments(t.payments);
  r.set_owed_minor(t.owed_minor);
  r.set_paid_minor(t.paid_minor);
  r.set_reversed_minor(t.reversed_minor);
  r.set_outstanding_minor(t.outstanding_minor);
  r.set_excess_minor(t.excess_minor);
  r.set_paid_in_full(t.paid_in_full);
  r.set_unpaid(t.unpaid);
  r.set_underpaid(t.underpaid);
  r.set_overpaid(t.overpaid);
  r.set_paid_twice(t.paid_twice);
  r.set_paid_without_entitlement(t.paid_without_entitlement);
  r.set_paid_after_death(t.paid_after_death);
  return r;
}

void AddRow(v1::ReconciliationRow& sum, const v1::ReconciliationRow& r) {
  sum.set_lines(sum.lines() + r.lines());
  sum.set_payments(sum.payments() + r.payments());
  sum.set_owed_minor(sum.owed_minor() + r.owed_minor());
  sum.set_paid_minor(sum.paid_minor() + r.paid_minor());
  sum.set_reversed_minor(sum.reversed_minor() + r.reversed_minor());
  sum.set_outstanding_minor(sum.outstanding_minor() + r.outstanding_minor());
  sum.set_excess_minor(sum.excess_minor() + r.excess_minor());
  sum.set_paid_in_full(sum.paid_in_full() + r.paid_in_full());
  sum.set_unpaid(sum.unpaid() + r.unpaid());
  sum.set_underpaid(sum.underpaid() + r.underpaid());
  sum.set_overpaid(sum.overpaid() + r.overpaid());
  sum.set_paid_twice(sum.paid_twice() + r.paid_twice());
  sum.set_paid_without_entitlement(sum.paid_without_entitlement() +
                                   r.paid_without_entitlement());
  sum.set_paid_after_death(sum.paid_after_death() + r.paid_after_death());
}

bool Balances(const v1::ReconciliationRow& r) {
  return r.owed_minor() - (r.paid_minor() - r.reversed_minor()) ==
         r.outstanding_minor() - r.excess_minor();
}

int64_t Discrepancies(const v1::ReconciliationRow& r) {
  return r.unpaid() + r.underpaid() + r.overpaid() + r.paid_twice() +
         r.paid_without_entitlement() + r.paid_after_death();
}

absl::Status NotFound(absl::string_view what, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
}

}  // namespace

absl::StatusOr<Period> ParsePeriod(absl::string_view text, absl::string_view field) {
  int year = 0, month = 0;
  if (text.empty()) return InvalidField(field, "is required (a month such as 2026-11)");
  if (text.size() != 7 || text[4] != '-' ||
      !std::all_of(text.begin(), text.begin() + 4, absl::ascii_isdigit) ||
      !std::all_of(text.begin() + 5, text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || !absl::SimpleAtoi(text.substr(5), &month) ||
      year < 1 || month < 1 || month > 12) {
    return InvalidField(field, "must be a month written YYYY-MM, such as 2026-11");
  }
  Period p;
  p.text = std::string(text);
  p.first_day = absl::CivilDay(year, month, 1);
  p.last_day = absl::CivilDay(absl::CivilMonth(year, month) + 1) - 1;
  return p;
}

v1::Category ClassifyLine(int64_t owed, int64_t net, int64_t count) {
  if (net == owed) return v1::CATEGORY_PAID_IN_FULL;
  if (net == 0) return v1::CATEGORY_UNPAID;
  if (net < owed) return v1::CATEGORY_UNDERPAID;
  if (count >= 2 && net >= 2 * owed) return v1::CATEGORY_PAID_TWICE;
  return v1::CATEGORY_OVERPAID;
}

v1::LineStatus LineStatusOf(int64_t owed, int64_t net) {
  if (net == 0) return v1::LINE_STATUS_UNPAID;
  if (net < owed) return v1::LINE_STATUS_PARTLY_PAID;
  if (net == owed) return v1::LINE_STATUS_PAID;
  return v1::LINE_STATUS_OVERPAID;
}

std::string FormatCycleId(int64_t id) { return absl::StrCat("C", id); }
std::string FormatLineId(int64_t id) { return absl::StrCat("L", id); }
std::string FormatPaymentId(int64_t id) { return absl::StrCat("P", id); }

absl::StatusOr<int64_t> ParseCycleId(absl::string_view text, absl::string_view field) {
  return ParsePrefixed(text, 'C', field, "cycle id");
}
absl::StatusOr<int64_t> ParseLineId(absl::string_view text, absl::string_view field) {
  return ParsePrefixed(text, 'L', field, "line id");
}
absl::StatusOr<int64_t> ParsePaymentId(absl::string_view text, absl::string_view field) {
  return ParsePrefixed(text, 'P', field, "payment id");
}

// ---------------------------------------------------------------------------
// Cycles

absl::Status Payments::CheckProgramme(absl::string_view code) {
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();
  if (policy == nullptr) return absl::FailedPreconditionError("no policy in force");
  bool known = false;
  for (const v1::Policy& version : policy->policies.versions()) {
    for (const v1::Programme& p : version.programmes()) {
      if (p.code() != code) continue;
      known = true;
      if (p.frequency() == v1::PAYMENT_FREQUENCY_MONTHLY) return absl::OkStatus();
    }
  }
  return InvalidField("programme_code",
                      known ? absl::StrCat("'", code, "' is not paid monthly: it has no payroll")
                            : absl::StrCat("'", code, "' is not a programme of the policy"));
}

absl::StatusOr<v1::Cycle> Payments::OpenCycle(const Caller& caller,
                                              const v1::OpenCycleRequest& request) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  if (request.programme_code().empty()) v.Add("programme_code", "is required");
  auto period = ParsePeriod(request.period(), "period");
  if (!period.ok()) {
    AddViolations(period.status(), v);
  } else if (period->first_day > today + 366) {
    v.Add("period", "must not start more than a year from today");
  }
  RETURN_IF_ERROR(v.ToStatus());
  RETURN_IF_ERROR(CheckProgramme(request.programme_code()));
  v1::Cycle out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kService, "OpenCycle"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        auto existing = txn.FindCycle(request.programme_code(), period->text);
        if (existing.ok()) {
          response.CopyFrom(CycleView(*existing));  // opened already: adds nothing
          return absl::OkStatus();
        }
        if (!absl::IsNotFound(existing.status())) return existing.status();
        CycleRecord cycle;
        cycle.programme_code = request.programme_code();
        cycle.period = period->text;
        cycle.status = v1::CYCLE_STATUS_OPEN;
        cycle.opened_at = now;
        cycle.opened_by = caller.Actor();
        ASSIGN_OR_RETURN(cycle, txn.InsertCycle(cycle, period->first_day, period->last_day));
        v1::Cycle view = CycleView(cycle);
        std::string owed;
        for (const v1::Money& m : view.total_owed()) {
          absl::StrAppend(&owed, owed.empty() ? "" : " + ", Amount(m.minor_units(), m.currency()));
        }
        RETURN_IF_ERROR(AppendAudit(
            txn, now, caller, "OpenCycle", view.cycle_id(),
            absl::StrCat(cycle.programme_code, " ", cycle.period, ": ", view.line_count(),
                         " lines", owed.empty() ? "" : ", owed ", owed)));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Cycle> Payments::GetCycle(const Caller& caller,
                                             const v1::GetCycleRequest& request) {
  ASSIGN_OR_RETURN(int64_t id, ParseCycleId(request.cycle_id(), "cycle_id"));
  v1::Cycle out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto cycle = txn.GetCycle(id);
    if (absl::IsNotFound(cycle.status())) return NotFound("cycle", FormatCycleId(id));
    RETURN_IF_ERROR(cycle.status());
    out = CycleView(*cycle);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListCyclesResponse> Payments::ListCycles(
    const Caller& caller, const v1::ListCyclesRequest& request) {
  FieldViolations v;
  if (!request.period().empty()) {
    auto period = ParsePeriod(request.period(), "period");
    if (!period.ok()) AddViolations(period.status(), v);
  }
  if (request.status() < 0 || request.status() > v1::CYCLE_STATUS_CLOSED) {
    v.Add("status", "is not a cycle status");
  }
  const int page_size = ValidatePageSize(request.page_size(), "page_size", v);
  int64_t before_id = 0;
  if (!request.page_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &decoded) ||
        !absl::StartsWith(decoded, "cycles:") ||
        !absl::SimpleAtoi(absl::string_view(decoded).substr(7), &before_id) || before_id <= 0) {
      v.Add("page_token", "is not a page token of this query");
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  v1::ListCyclesResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<CycleRecord> found,
                     txn.ListCycles(request.programme_code(), request.period(), request.status(),
                                    before_id, page_size + 1));
    const bool more = static_cast<int>(found.size()) > page_size;
    if (more) found.resize(page_size);
    for (const CycleRecord& c : found) *out.add_cycles() = CycleView(c);
    if (more) {
      out.set_next_page_token(absl::WebSafeBase64Escape(absl::StrCat("cycles:", found.back().id)));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Cycle> Payments::CloseCycle(const Caller& caller,
                                               const v1::CloseCycleRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParseCycleId(request.cycle_id(), "cycle_id");
  if (!id.ok()) AddViolations(id.status(), v);
  RETURN_IF_ERROR(v.ToStatus());
  v1::Cycle out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kService, "CloseCycle"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        auto cycle = txn.GetCycle(*id);
        if (absl::IsNotFound(cycle.status())) return NotFound("cycle", FormatCycleId(*id));
        RETURN_IF_ERROR(cycle.status());
        if (cycle->status != v1::CYCLE_STATUS_CLOSED) {
          cycle->status = v1::CYCLE_STATUS_CLOSED;
          cycle->closed_at = now;
          cycle->closed_by = caller.Actor();
          RETURN_IF_ERROR(txn.UpdateCycle(*cycle));
          RETURN_IF_ERROR(AppendAudit(txn, now, caller, "CloseCycle", FormatCycleId(*id),
                                      absl::StrCat(cycle->programme_code, " ", cycle->period)));
        }
        response.CopyFrom(CycleView(*cycle));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<Payments::LineListing> Payments::BeginListLines(
    const Caller& caller, const v1::ListCycleLinesRequest& request) {
  FieldViolations v;
  auto id = ParseCycleId(request.cycle_id(), "cycle_id");
  if (!id.ok()) AddViolations(id.status(), v);
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  if (request.status() < 0 || request.status() > v1::LINE_STATUS_OVERPAID) {
    v.Add("status", "is not a line status");
  }
  if (request.chunk_size() < 0 || request.chunk_size() > kMaxChunk) {
    v.Add("chunk_size", absl::StrCat("must be between 1 and ", kMaxChunk));
  }
  RETURN_IF_ERROR(v.ToStatus());
  LineListing listing;
  listing.request = request;
  listing.cycle_id = *id;
  listing.chunk_size = request.chunk_size() == 0 ? kDefaultChunk : request.chunk_size();
  // A clerk lists the lines of their office; another office's are as absent.
  if (caller.OfficeBound()) {
    if (request.office_code().empty()) listing.request.set_office_code(caller.office_code);
    listing.done = !caller.Sees(listing.request.office_code());
  }
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    auto cycle = txn.GetCycle(*id);
    if (absl::IsNotFound(cycle.status())) return NotFound("cycle", FormatCycleId(*id));
    RETURN_IF_ERROR(cycle.status());
    listing.programme_code = cycle->programme_code;
    listing.period = cycle->period;
    return absl::OkStatus();
  }));
  return listing;
}

absl::StatusOr<v1::ListCycleLinesResponse> Payments::NextLines(LineListing& listing) {
  v1::ListCycleLinesResponse out;
  if (listing.done) return out;
  const v1::LineStatus wanted = listing.request.status();
  // One snapshot per chunk; a filtered chunk reads on until it is full.
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.Clear();
    int64_t after = listing.after_enrolment_id;
    bool done = false;
    while (out.lines_size() < listing.chunk_size) {
      ASSIGN_OR_RETURN(std::vector<LineRecord> page,
                       txn.ListLines(listing.cycle_id, listing.request.office_code(), after,
                                     listing.chunk_size));
      for (const LineRecord& l : page) {
        after = l.enrolment_id;
        if (wanted == v1::LINE_STATUS_UNSPECIFIED ||
            LineStatusOf(l.amount_minor, l.paid_minor) == wanted) {
          *out.add_lines() = LineView(l, listing.period);
          if (out.lines_size() == listing.chunk_size) break;
        }
      }
      if (static_cast<int>(page.size()) < listing.chunk_size) {
        // The end of the cycle: done once this short page is used up.
        done = page.empty() || after == page.back().enrolment_id;
        break;
      }
    }
    listing.after_enrolment_id = after;
    listing.done = done;
    return absl::OkStatus();
  }));
  return out;
}

// ---------------------------------------------------------------------------
// Payments

struct Payments::Plan {
  // A replay: the payment already recorded under the key.
  std::optional<PaymentRecord> replay;
  // Otherwise the payment to insert.
  PaymentRecord record;
  std::string cycle_name;
};

absl::StatusOr<Payments::Plan> Payments::PlanPayment(storage::ReadTxn& txn,
                                                     const Caller& caller,
                                                     const v1::RecordPaymentRequest& r,
                                                     absl::Time now) {
  Plan plan;
  if (r.supplement() && !caller.MayOverride()) {
    return WithErrorInfo(
        absl::PermissionDeniedError("supplement: a supplement payment needs a supervisor"),
        {"SUPERVISOR_REQUIRED", {{"field", "supplement"}}});
  }
  storage::Lookahead ahead;
  ahead.payment_key = r.idempotency_key();
  if (r.target_case() == v1::RecordPaymentRequest::kLineId) {
    absl::StatusOr<int64_t> line_id = ParseLineId(r.line_id(), "line_id");
    if (line_id.ok()) {
      ahead.line_id = *line_id;
      ahead.person_of_line = *line_id;
    }
  } else {
    absl::StatusOr<int64_t> person_id =
        ParseBeneficiaryNumber(r.beneficiary().beneficiary_number(), "beneficiary");
    if (person_id.ok()) {
      ahead.person_id = *person_id;
      ahead.enrolments_of = *person_id;
    }
  }
  ahead.inserts_payment = true;  // every caller inserts what it plans
  ahead.appends_audit = true;
  txn.Prefetch(ahead);
  auto prior = txn.GetPaymentByKey(r.idempotency_key());
  if (prior.ok() && !caller.Sees(prior->office_code)) {
    // Another office's payment: say nothing about it.
    return WithErrorInfo(
        absl::AlreadyExistsError("idempotency_key is already used; generate a new one"),
        {"IDEMPOTENCY_KEY_REUSED", {{"field", "idempotency_key"}}});
  }
  if (prior.ok()) {
    const std::string field = DiffersFrom(*prior, r);
    if (!field.empty()) {
      return WithErrorInfo(
          absl::AlreadyExistsError(absl::StrCat(
              "idempotency_key was already used for payment ", FormatPaymentId(prior->id),
              " with a different ", field)),
          {"IDEMPOTENCY_KEY_REUSED", {{"field", field}, {"payment_id", FormatPaymentId(prior->id)}}});
    }
    plan.replay = *std::move(prior);
    return plan;
  }
  if (!absl::IsNotFound(prior.status())) return prior.status();

  std::optional<LineRecord> line;
  CycleRecord cycle;
  int64_t person_id = 0;
  if (r.target_case() == v1::RecordPaymentRequest::kLineId) {
    ASSIGN_OR_RETURN(int64_t line_id, ParseLineId(r.line_id(), "line_id"));
    auto found = txn.GetLine(line_id);
    if (absl::IsNotFound(found.status()) ||
        (found.ok() && !caller.Sees(found->office_code))) {
      return NotFound("line", FormatLineId(line_id));
    }
    RETURN_IF_ERROR(found.status());
    line = *std::move(found);
    ASSIGN_OR_RETURN(cycle, txn.GetCycle(line->cycle_id));
    person_id = line->person_id;
  } else {
    const v1::PaymentTarget& b = r.beneficiary();
    ASSIGN_OR_RETURN(person_id, ParseBeneficiaryNumber(b.beneficiary_number(),
                                                       "beneficiary.beneficiary_number"));
    auto found = txn.FindCycle(b.programme_code(), b.period());
    if (absl::IsNotFound(found.status())) {
      return absl::NotFoundError(
          absl::StrCat("no cycle of ", b.programme_code(), " for ", b.period()));
    }
    RETURN_IF_ERROR(found.status());
    cycle = *std::move(found);
    auto person = txn.GetPerson(person_id);
    if (absl::IsNotFound(person.status()) ||
        (person.ok() && !caller.Sees(person->office_code))) {
      return NotFound("person", FormatBeneficiaryNumber(person_id));
    }
    RETURN_IF_ERROR(person.status());
    ASSIGN_OR_RETURN(std::vector<storage::EnrolmentRecord> enrolments,
                     txn.ListEnrolmentsByPerson(person_id));
    std::vector<LineRecord> lines;
    for (const storage::EnrolmentRecord& e : enrolments) {
      if (e.programme_code != cycle.programme_code) continue;
      auto l = txn.GetLineByEnrolment(cycle.id, e.id);
      if (absl::IsNotFound(l.status())) continue;
      RETURN_IF_ERROR(l.status());
      lines.push_back(*std::move(l));
    }
    if (lines.size() > 1) {
      return Refused("AMBIGUOUS_LINE",
                     absl::StrCat("person ", b.beneficiary_number(), " has ", lines.size(),
                                  " lines in cycle ", FormatCycleId(cycle.id), "; give line_id"));
    }
    if (lines.size() == 1) {
      line = std::move(lines.front());
    } else if (!r.without_line()) {
      return Refused("NO_LINE",
                     absl::StrCat("person ", FormatBeneficiaryNumber(person_id),
                                  " has no line in cycle ", FormatCycleId(cycle.id), " (",
                                  cycle.programme_code, " ", cycle.period,
                                  "); set without_line to record money already paid out"));
    }
  }
  const std::string cycle_name = FormatCycleId(cycle.id);
  if (cycle.status == v1::CYCLE_STATUS_CLOSED) {
    return Refused("CYCLE_CLOSED",
                   absl::StrCat("cycle ", cycle_name, " (", cycle.programme_code, " ",
                                cycle.period, ") is closed: no payment is recorded against it"),
                   {{"cycle_id", cycle_name}});
  }
  ASSIGN_OR_RETURN(Period period, ParsePeriod(cycle.period, "period"));
  auto person = txn.GetPerson(person_id);
  if (absl::IsNotFound(person.status())) return NotFound("person", FormatBeneficiaryNumber(person_id));
  RETURN_IF_ERROR(person.status());
  if (person->date_of_death && *person->date_of_death < period.first_day) {
    const std::string died = FormatDate(*person->date_of_death);
    return Refused("PERSON_DECEASED",
                   absl::StrCat("person ", FormatBeneficiaryNumber(person_id), " died on ", died,
                                ", before ", cycle.period, ": nothing is owed"),
                   {{"date_of_death", died}});
  }
  if (line) {
    if (r.amount().currency() != line->currency) {
      return InvalidField("amount.currency",
                          absl::StrCat("must be ", line->currency, ", the line's currency"));
    }
    if (line->paid_minor >= line->amount_minor && !r.supplement()) {
      return Refused("LINE_PAID_IN_FULL",
                     absl::StrCat("line ", FormatLineId(line->id), " is already paid in full (",
                                  Amount(line->paid_minor, line->currency),
                                  "); set supplement to pay more on purpose"),
                     {{"line_id", FormatLineId(line->id)}});
    }
  } else if (!cycle.totals.empty() &&
             std::none_of(cycle.totals.begin(), cycle.totals.end(),
                          [&](const storage::CycleTotal& t) {
                            return t.currency == r.amount().currency();
                          })) {
    return InvalidField("amount.currency",
                        absl::StrCat("must be a currency of cycle ", cycle_name, " (",
                                     cycle.totals.front().currency, ")"));
  }

  PaymentRecord& p = plan.record;
  p.idempotency_key = r.idempotency_key();
  p.cycle_id = cycle.id;
  p.line_id = line ? line->id : 0;
  p.person_id = person_id;
  p.programme_code = cycle.programme_code;
  p.period = cycle.period;
  p.office_code = line ? line->office_code : person->office_code;
  p.amount_minor = r.amount().minor_units();
  p.currency = r.amount().currency();
  p.channel = r.channel();
  p.provider_reference = r.provider_reference();
  p.paid_at = r.has_paid_at() ? absl::FromUnixMicros(StoredMicros(FromTimestamp(r.paid_at())))
                              : now;
  p.supplement = r.supplement();
  p.note = r.note();
  p.recorded_at = now;
  plan.cycle_name = cycle_name;
  return plan;
}

absl::StatusOr<v1::Payment> Payments::ApplyPayment(storage::Txn& txn, const Caller& caller,
                                                   Plan& plan, absl::Time now) {
  PaymentRecord& p = plan.record;
  p.recorded_by = caller.Actor();
  ASSIGN_OR_RETURN(p.id, txn.InsertPayment(p));
  RETURN_IF_ERROR(AppendAudit(
      txn, now, caller, "RecordPayment", FormatPaymentId(p.id),
      absl::StrCat(p.line_id != 0 ? FormatLineId(p.line_id) : "no line", " ", plan.cycle_name,
                   " ", Amount(p.amount_minor, p.currency), " ", ChannelName(p.channel),
                   p.supplement ? " supplement" : "", " key ", p.idempotency_key)));
  return PaymentView(p);
}

absl::StatusOr<v1::Payment> Payments::RecordPayment(const Caller& caller,
                                                    const v1::RecordPaymentRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidatePaymentRequest(request, now, v);
  RETURN_IF_ERROR(v.ToStatus());
  v1::Payment out;
  RETURN_IF_ERROR(store_.Write([&](storage::Txn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Plan plan, PlanPayment(txn, caller, request, now));
    if (plan.replay) {
      out = PaymentView(*plan.replay);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(out, ApplyPayment(txn, caller, plan, now));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::PaymentResult> Payments::RecordAlone(const Caller& caller,
                                                        const v1::RecordPaymentRequest& item,
                                                        absl::Time now) {
  v1::PaymentResult result;
  result.set_idempotency_key(item.idempotency_key());
  absl::Status status = store_.Write([&](storage::Txn& txn) -> absl::Status {
    result.clear_payment();
    result.set_replayed(false);
    ASSIGN_OR_RETURN(Plan plan, PlanPayment(txn, caller, item, now));
    if (plan.replay) {
      *result.mutable_payment() = PaymentView(*plan.replay);
      result.set_replayed(true);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(*result.mutable_payment(), ApplyPayment(txn, caller, plan, now));
    return absl::OkStatus();
  });
  if (!status.ok() && !IsItemError(status)) return status;
  if (!status.ok()) result.clear_payment();
  *result.mutable_status() = RpcStatus(status);
  return result;
}

absl::StatusOr<v1::RecordPaymentsResponse> Payments::RecordPayments(
    const Caller& caller, const v1::RecordPaymentsRequest& request) {
  const absl::Time now = clock_.Now();
  if (request.items_size() == 0 || request.items_size() > kMaxBatch) {
    return InvalidField("items", absl::StrCat("must hold 1 to ", kMaxBatch, " payments"));
  }
  const int n = request.items_size();
  // Field checks first: an item with a bad field fails alone, before the
  // store is touched.
  std::vector<absl::Status> invalid(n);
  for (int i = 0; i < n; ++i) {
    FieldViolations v;
    ValidatePaymentRequest(request.items(i), now, v);
    invalid[i] = v.ToStatus();
  }
  // The whole batch in one transaction: each item is planned by reads
  // (seeing the items before it) and fails alone; a store failure fails the
  // call, with nothing recorded.
  std::vector<v1::PaymentResult> results(n);
  absl::Status batch = store_.Write([&](storage::Txn& txn) -> absl::Status {
    for (int i = 0; i < n; ++i) {
      v1::PaymentResult& result = results[i];
      result.Clear();
      result.set_index(i);
      result.set_idempotency_key(request.items(i).idempotency_key());
      if (!invalid[i].ok()) {
        *result.mutable_status() = RpcStatus(invalid[i]);
        continue;
      }
      absl::StatusOr<Plan> plan = PlanPayment(txn, caller, request.items(i), now);
      if (!plan.ok()) {
        if (!IsItemError(plan.status())) return plan.status();
        *result.mutable_status() = RpcStatus(plan.status());
        continue;
      }
      if (plan->replay) {
        *result.mutable_payment() = PaymentView(*plan->replay);
        result.set_replayed(true);
      } else {
        // A failed insert (a key taken meanwhile by another replica) fails
        // the transaction; the items are then recorded one by one below.
        ASSIGN_OR_RETURN(*result.mutable_payment(), ApplyPayment(txn, caller, *plan, now));
      }
      *result.mutable_status() = RpcStatus(absl::OkStatus());
    }
    return absl::OkStatus();
  });
  if (!batch.ok()) {
    if (!IsItemError(batch) && !absl::IsAborted(batch)) return batch;
    for (int i = 0; i < n; ++i) {
      if (!invalid[i].ok()) continue;
      ASSIGN_OR_RETURN(results[i], RecordAlone(caller, request.items(i), now));
      results[i].set_index(i);
    }
  }
  v1::RecordPaymentsResponse out;
  for (v1::PaymentResult& r : results) {
    if (r.status().code() != 0) {
      out.set_failed(out.failed() + 1);
    } else if (r.replayed()) {
      out.set_replayed(out.replayed() + 1);
    } else {
      out.set_recorded(out.recorded() + 1);
    }
    *out.add_results() = std::move(r);
  }
  return out;
}

absl::StatusOr<v1::Payment> Payments::ReversePayment(const Caller& caller,
                                                     const v1::ReversePaymentRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParsePaymentId(request.payment_id(), "payment_id");
  if (!id.ok()) AddViolations(id.status(), v);
  ValidateText(request.reason(), "reason", kMaxReasonLength, true, v);
  RETURN_IF_ERROR(v.ToStatus());
  v1::Payment out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kService, "ReversePayment"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        const std::string name = FormatPaymentId(*id);
        auto found = txn.GetPayment(*id);
        if (absl::IsNotFound(found.status()) ||
            (found.ok() && !caller.Sees(found->office_code))) {
          return NotFound("payment", name);
        }
        RETURN_IF_ERROR(found.status());
        const PaymentRecord& original = *found;
        if (original.reversal_of != 0) {
          return Refused("NOT_REVERSIBLE",
                         absl::StrCat(name, " is itself the reversal of ",
                                      FormatPaymentId(original.reversal_of),
                                      "; record a new payment instead"));
        }
        if (original.reversed_by != 0) {
          return Refused("ALREADY_REVERSED",
                         absl::StrCat("payment ", name, " was already reversed by ",
                                      FormatPaymentId(original.reversed_by)),
                         {{"reversed_by_payment_id", FormatPaymentId(original.reversed_by)}});
        }
        PaymentRecord reversal = original;
        reversal.id = 0;
        reversal.idempotency_key.clear();
        reversal.paid_at = now;
        reversal.supplement = false;
        reversal.note.clear();
        reversal.recorded_at = now;
        reversal.recorded_by = caller.Actor();
        reversal.reversal_of = original.id;
        reversal.reversal_reason = request.reason();
        reversal.reversed_by = 0;
        auto inserted = txn.InsertPayment(reversal);
        if (absl::IsAlreadyExists(inserted.status())) {
          return Refused("ALREADY_REVERSED", absl::StrCat("payment ", name, " was already reversed"));
        }
        RETURN_IF_ERROR(inserted.status());
        reversal.id = *inserted;
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "ReversePayment",
                                    FormatPaymentId(reversal.id),
                                    absl::StrCat("reverses ", name, " ",
                                                 Amount(original.amount_minor, original.currency),
                                                 ": ", request.reason())));
        response.CopyFrom(PaymentView(reversal));
        return absl::OkStatus();
      }));
  return out;
}

// ---------------------------------------------------------------------------
// Reconciliation

absl::StatusOr<v1::ReconciliationReport> Payments::Reconcile(
    const Caller& caller, const v1::ReconcileRequest& request) {
  FieldViolations v;
  auto period = ParsePeriod(request.period(), "period");
  if (!period.ok()) AddViolations(period.status(), v);
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  if (request.max_discrepancies() < 0 || request.max_discrepancies() > kMaxDiscrepancies) {
    v.Add("max_discrepancies", absl::StrCat("must be between 0 and ", kMaxDiscrepancies));
  }
  RETURN_IF_ERROR(v.ToStatus());
  const int max = request.max_discrepancies() == 0 ? kDefaultDiscrepancies
                                                   : request.max_discrepancies();
  storage::PeriodFilter filter;
  filter.period = period->text;
  filter.first_day = period->first_day;
  filter.office_code = request.office_code();
  filter.programme_code = request.programme_code();

  v1::ReconciliationReport out;
  // One snapshot: the counts and the discrepancies listed agree.
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.Clear();
    out.set_period(period->text);
    out.set_office_code(request.office_code());
    out.set_programme_code(request.programme_code());
    ASSIGN_OR_RETURN(std::vector<storage::ReconciliationTotals> totals,
                     txn.ReconcilePeriod(filter));
    std::map<std::string, v1::ReconciliationRow> by_currency;
    bool balanced = true;
    int64_t discrepancies = 0;
    for (const storage::ReconciliationTotals& t : totals) {
      v1::ReconciliationRow row = RowOf(t);
      balanced = balanced && Balances(row);
      discrepancies += Discrepancies(row);
      v1::ReconciliationRow& sum = by_currency[t.currency];
      sum.set_currency(t.currency);
      AddRow(sum, row);
      *out.add_rows() = std::move(row);
    }
    for (auto& [currency, sum] : by_currency) *out.add_totals() = sum;
    out.set_balanced(balanced);

    std::vector<v1::Discrepancy> found;
    // Payments without a line or after death first: they are the fewest and
    // the gravest.
    int64_t after = 0;
    while (static_cast<int>(found.size()) < max) {
      ASSIGN_OR_RETURN(std::vector<storage::EffectivePayment> page,
                       txn.ListIrregularPayments(filter, after, kPage));
      for (const storage::EffectivePayment& e : page) {
        after = e.payment.id;
        if (static_cast<int>(found.size()) >= max) break;
        const PaymentRecord& p = e.payment;
        v1::Discrepancy& d = found.emplace_back();
        const bool dead = e.date_of_death && *e.date_of_death < period->first_day;
        d.set_category(dead ? v1::CATEGORY_PAID_AFTER_DEATH
                            : v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT);
        d.set_cycle_id(FormatCycleId(p.cycle_id));
        d.set_office_code(p.office_code);
        d.set_programme_code(p.programme_code);
        d.set_beneficiary_number(FormatBeneficiaryNumber(p.person_id));
        *d.mutable_paid() = MoneyOf(p.amount_minor, p.currency);
        *d.mutable_owed() = MoneyOf(0, p.currency);
        d.add_payment_ids(FormatPaymentId(p.id));
        if (dead) *d.mutable_date_of_death() = ToProtoDate(*e.date_of_death);
        if (p.line_id != 0) {
          d.set_line_id(FormatLineId(p.line_id));
          ASSIGN_OR_RETURN(LineRecord line, txn.GetLine(p.line_id));
          *d.mutable_owed() = MoneyOf(line.amount_minor, line.currency);
        }
      }
      if (static_cast<int>(page.size()) < kPage) break;
    }
    std::optional<storage::LineCursor> cursor;
    while (static_cast<int>(found.size()) < max) {
      ASSIGN_OR_RETURN(std::vector<LineRecord> page,
                       txn.ListUnbalancedLines(filter, cursor, kPage));
      for (const LineRecord& l : page) {
        cursor = storage::LineCursor{l.cycle_id, l.enrolment_id};
        if (static_cast<int>(found.size()) >= max) break;
        v1::Discrepancy& d = found.emplace_back();
        d.set_category(ClassifyLine(l.amount_minor, l.paid_minor, l.payment_count));
        d.set_line_id(FormatLineId(l.id));
        d.set_cycle_id(FormatCycleId(l.cycle_id));
        d.set_office_code(l.office_code);
        d.set_programme_code(l.programme_code);
        d.set_beneficiary_number(FormatBeneficiaryNumber(l.person_id));
        *d.mutable_owed() = MoneyOf(l.amount_minor, l.currency);
        *d.mutable_paid() = MoneyOf(l.paid_minor, l.currency);
        if (l.payment_count > 0) {
          ASSIGN_OR_RETURN(std::vector<PaymentRecord> entries, txn.ListPaymentsByLine(l.id));
          for (const PaymentRecord& p : entries) {
            if (IsEffective(p)) d.add_payment_ids(FormatPaymentId(p.id));
          }
        }
      }
      if (static_cast<int>(page.size()) < kPage) break;
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const v1::Discrepancy& a, const v1::Discrepancy& b) {
                       return std::tie(a.office_code(), a.programme_code()) <
                              std::tie(b.office_code(), b.programme_code());
                     });
    for (v1::Discrepancy& d : found) *out.add_discrepancies() = std::move(d);
    out.set_discrepancies_omitted(std::max<int64_t>(0, discrepancies - out.discrepancies_size()));
    return absl::OkStatus();
  }));
  *out.mutable_computed_at() = ToTimestamp(clock_.Now());
  return out;
}

absl::StatusOr<v1::StatementReconciliation> Payments::ReconcileStatement(
    const Caller& caller, const v1::ReconcileStatementRequest& request) {
  FieldViolations v;
  auto period = ParsePeriod(request.period(), "period");
  if (!period.ok()) AddViolations(period.status(), v);
  if (request.channel() < 0 || request.channel() > v1::PAYMENT_CHANNEL_MOBILE_MONEY) {
    v.Add("channel", "is not a payment channel");
  }
  if (request.rows_size() > kMaxStatementRows) {
    v.Add("rows", absl::StrCat("must hold at most ", kMaxStatementRows, " rows"));
  }
  if (request.max_lines() < 0 || request.max_lines() > kMaxDiscrepancies) {
    v.Add("max_lines", absl::StrCat("must be between 0 and ", kMaxDiscrepancies));
  }
  absl::flat_hash_map<std::string, int> row_of;  // reference -> row index
  for (int i = 0; i < request.rows_size() && i < kMaxStatementRows; ++i) {
    const v1::StatementRow& row = request.rows(i);
    const std::string prefix = absl::StrCat("rows[", i, "]");
    const size_t before = v.violations().size();
    ValidateText(row.provider_reference(), Path(prefix, "provider_reference"),
                 kMaxReferenceLength, true, v);
    ValidateMoney(row.amount(), Path(prefix, "amount"), true, v);
    if (IsSet(row.date()) && !IsValidDate(row.date().year(), row.date().month(), row.date().day())) {
      v.Add(Path(prefix, "date"), "is not a calendar date");
    }
    if (v.violations().size() == before) {
      auto [it, inserted] = row_of.emplace(row.provider_reference(), i);
      if (!inserted) {
        v.Add(Path(prefix, "provider_reference"),
              absl::StrCat("appears twice in the statement (also rows[", it->second, "])"));
      }
    }
    if (v.violations().size() >= 100) break;  // enough to fix the file
  }
  RETURN_IF_ERROR(v.ToStatus());
  const int max = request.max_lines() == 0 ? kDefaultDiscrepancies : request.max_lines();
  storage::PeriodFilter filter;
  filter.period = period->text;
  filter.first_day = period->first_day;
  filter.programme_code = request.programme_code();

  // The recorded payments of one statement reference.
  struct Recorded {
    std::map<std::string, int64_t> by_currency;
    bool any = false;
    PaymentRecord first;
  };
  v1::StatementReconciliation out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.Clear();
    out.set_period(period->text);
    absl::flat_hash_map<std::string, Recorded> recorded;  // statement references only
    std::vector<v1::StatementLine> lines;
    std::map<std::string, int64_t> recorded_total;
    int64_t missing_on_statement = 0;
    int64_t after = 0;
    for (;;) {
      ASSIGN_OR_RETURN(std::vector<PaymentRecord> page,
                       txn.ListReferencedPayments(filter, request.channel(), after, kPage));
      for (PaymentRecord& p : page) {
        after = p.id;
        recorded_total[p.currency] += p.amount_minor;
        if (!row_of.contains(p.provider_reference)) {
          ++missing_on_statement;
          v1::StatementLine& l = lines.emplace_back();
          l.set_match(v1::STATEMENT_MATCH_MISSING_ON_STATEMENT);
          l.set_provider_reference(p.provider_reference);
          l.set_payment_id(FormatPaymentId(p.id));
          *l.mutable_recorded_amount() = MoneyOf(p.amount_minor, p.currency);
          l.set_office_code(p.office_code);
          if (p.line_id != 0) l.set_line_id(FormatLineId(p.line_id));
          continue;
        }
        Recorded& r = recorded[p.provider_reference];
        r.by_currency[p.currency] += p.amount_minor;
        if (!r.any) {
          r.any = true;
          r.first = std::move(p);
        }
      }
      if (static_cast<int>(page.size()) < kPage) break;
    }
    std::map<std::string, int64_t> statement_total;
    for (const v1::StatementRow& row : request.rows()) {
      statement_total[row.amount().currency()] += row.amount().minor_units();
      v1::StatementLine l;
      l.set_provider_reference(row.provider_reference());
      *l.mutable_statement_amount() = row.amount();
      if (IsSet(row.date())) *l.mutable_statement_date() = row.date();
      auto it = recorded.find(row.provider_reference());
      if (it == recorded.end()) {
        l.set_match(v1::STATEMENT_MATCH_MISSING_IN_SOCLE);
        out.set_missing_in_socle(out.missing_in_socle() + 1);
        lines.push_back(std::move(l));
        continue;
      }
      const Recorded& r = it->second;
      const PaymentRecord& first = r.first;
      l.set_payment_id(FormatPaymentId(first.id));
      l.set_office_code(first.office_code);
      if (first.line_id != 0) l.set_line_id(FormatLineId(first.line_id));
      const bool same = r.by_currency.size() == 1 &&
                        r.by_currency.begin()->first == row.amount().currency() &&
                        r.by_currency.begin()->second == row.amount().minor_units();
      if (r.by_currency.size() == 1) {
        *l.mutable_recorded_amount() =
            MoneyOf(r.by_currency.begin()->second, r.by_currency.begin()->first);
      } else {
        *l.mutable_recorded_amount() = MoneyOf(first.amount_minor, first.currency);
      }
      if (same) {
        out.set_matched(out.matched() + 1);
        continue;
      }
      l.set_match(v1::STATEMENT_MATCH_AMOUNT_DIFFERS);
      out.set_amount_differs(out.amount_differs() + 1);
      lines.push_back(std::move(l));
    }
    out.set_missing_on_statement(missing_on_statement);
    std::stable_sort(lines.begin(), lines.end(),
                     [](const v1::StatementLine& a, const v1::StatementLine& b) {
                       return a.provider_reference() < b.provider_reference();
                     });
    const int64_t listed = std::min<int64_t>(max, static_cast<int64_t>(lines.size()));
    for (int64_t i = 0; i < listed; ++i) *out.add_lines() = std::move(lines[i]);
    out.set_lines_omitted(static_cast<int64_t>(lines.size()) - listed);
    for (const auto& [currency, sum] : statement_total) {
      *out.add_statement_total() = MoneyOf(sum, currency);
    }
    for (const auto& [currency, sum] : recorded_total) {
      *out.add_recorded_total() = MoneyOf(sum, currency);
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace socle
