#include "server/eligibility.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "google/protobuf/text_format.h"
#include "server/access/read_audit.h"
#include "server/audit.h"
#include "server/convert.h"
#include "server/idempotency.h"
#include "server/policy/engine.h"
#include "server/policy/policy_loader.h"
#include "server/validation.h"

namespace socle {
namespace {

using storage::EnrolmentRecord;
using storage::PersonRecord;

constexpr char kEligibility[] = "socle.v1.Eligibility/";
constexpr char kPolicyAdmin[] = "socle.v1.PolicyAdmin/";
constexpr int kBatch = 1000;

bool IsCurrent(int status) {
  return status == v1::ENROLMENT_STATUS_ACTIVE || status == v1::ENROLMENT_STATUS_SUSPENDED;
}

void AddViolations(const absl::Status& status, FieldViolations& v) {
  for (const auto& fv : GetFieldViolations(status)) v.Add(fv.field, fv.description);
}

v1::Enrolment EnrolmentView(const EnrolmentRecord& r) {
  v1::Enrolment e;
  if (!r.details.empty()) e.ParseFromString(r.details);
  e.set_enrolment_id(FormatEnrolmentId(r.id));
  e.set_beneficiary_number(FormatBeneficiaryNumber(r.person_id));
  e.set_programme_code(r.programme_code);
  e.set_office_code(r.office_code);
  e.set_status(static_cast<v1::EnrolmentStatus>(r.status));
  *e.mutable_start_date() = ToProtoDate(r.start_date);
  if (r.end_date) {
    *e.mutable_end_date() = ToProtoDate(*r.end_date);
  } else {
    e.clear_end_date();
  }
  e.mutable_amount()->set_minor_units(r.amount_minor);
  e.mutable_amount()->set_currency(r.currency);
  e.set_policy_version(r.policy_version);
  e.set_version(r.version);
  *e.mutable_created_at() = ToTimestamp(r.created_at);
  *e.mutable_updated_at() = ToTimestamp(r.updated_at);
  return e;
}

// Stores the fields that have no column of their own.
void SetDetails(const v1::Enrolment& e, EnrolmentRecord& r) {
  v1::Enrolment rest;
  rest.set_end_reason(e.end_reason());
  rest.set_frequency(e.frequency());
  rest.set_override_reason(e.override_reason());
  rest.set_payee_beneficiary_number(e.payee_beneficiary_number());
  if (IsSet(e.planned_end_date())) *rest.mutable_planned_end_date() = e.planned_end_date();
  rest.set_subsidised(e.subsidised());
  rest.set_suspend_reason(e.suspend_reason());
  rest.set_programme_name(e.programme_name());
  r.details = rest.SerializeAsString();
}

// Everything the engine reads about one person, loaded in one snapshot.
struct PersonContext {
  v1::Person person;
  PersonRecord record;
  std::unique_ptr<policy::HouseholdView> household;
  absl::flat_hash_set<std::string> active_programmes;
};

absl::flat_hash_set<std::string> ActiveOn(const std::vector<EnrolmentRecord>& enrolments,
                                          absl::CivilDay day) {
  absl::flat_hash_set<std::string> codes;
  for (const EnrolmentRecord& e : enrolments) {
    if (e.status != v1::ENROLMENT_STATUS_ACTIVE) continue;
    if (e.start_date > day) continue;
    if (e.end_date && *e.end_date < day) continue;
    codes.insert(e.programme_code);
  }
  return codes;
}

// A person of another office answers as a missing one to a caller bound to
// an office.
absl::StatusOr<PersonContext> LoadContext(storage::ReadTxn& txn, const Caller& caller,
                                          int64_t person_id, absl::CivilDay as_of) {
  PersonContext c;
  storage::Lookahead ahead;
  ahead.person_id = person_id;
  ahead.membership_of = person_id;
  ahead.enrolments_of = person_id;
  txn.Prefetch(ahead);
  auto record = txn.GetPerson(person_id);
  if (absl::IsNotFound(record.status()) ||
      (record.ok() && !caller.Sees(record->office_code))) {
    return absl::NotFoundError(
        absl::StrCat("person ", FormatBeneficiaryNumber(person_id), " not found"));
  }
  RETURN_IF_ERROR(record.status());
  c.record = *std::move(record);
  int64_t household_id = 0;
  auto membership = txn.GetMembership(person_id);
  if (membership.ok()) {
    household_id = membership->household_id;
  } else if (!absl::IsNotFound(membership.status())) {
    return membership.status();
  }
  c.person = ToProto(c.record, household_id);
  if (household_id != 0) {
    ASSIGN_OR_RETURN(storage::HouseholdRecord household, txn.GetHousehold(household_id));
    ASSIGN_OR_RETURN(std::vector<storage::MemberRecord> members, txn.ListMembers(household_id));
    c.household = std::make_unique<policy::HouseholdView>();
    c.household->head_beneficiary_number = FormatBeneficiaryNumber(household.head_person_id);
    for (const storage::MemberRecord& m : members) {
      if (m.person_id == person_id) {
        c.household->members.push_back(c.person);
        continue;
      }
      ASSIGN_OR_RETURN(PersonRecord member, txn.GetPerson(m.person_id));
      c.household->members.push_back(ToProto(member, household_id));
    }
  }
  ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> enrolments,
                   txn.ListEnrolmentsByPerson(person_id));
  c.active_programmes = ActiveOn(enrolments, as_of);
  return c;
}

policy::EligibilityInput InputOf(const PersonContext& c, absl::CivilDay as_of) {
  return policy::EligibilityInput{.person = c.person,
                                  .household = c.household.get(),
                                  .active_programmes = c.active_programmes,
                                  .as_of = as_of};
}

// The criteria that made a decision negative, for a clerk.
std::vector<std::string> FailedCriteria(const v1::Decision& d) {
  std::vector<std::string> out;
  for (const v1::CriterionResult& c : d.criteria()) {
    if (!c.held() && c.alternative().empty()) out.push_back(c.description());
  }
  if (out.empty()) {
    for (const v1::CriterionResult& c : d.criteria()) {
      if (!c.held()) out.push_back(c.description());
    }
  }
  return out;
}

absl::StatusOr<absl::CivilDay> DateOrToday(const v1::Date& date, absl::string_view field,
                                           absl::CivilDay today) {
  if (!IsSet(date)) return today;
  FieldViolations v;
  auto day = ValidateDate(date, field, true, false, today, v);
  RETURN_IF_ERROR(v.ToStatus());
  return *day;
}

v1::PolicyInfo Summary(const v1::PolicySet& set, absl::CivilDay today) {
  v1::PolicyInfo info;
  for (const v1::Policy& p : set.versions()) info.add_versions(p.version());
  const v1::Policy* in_force = policy::PolicyInForce(set, today);
  if (in_force == nullptr && set.versions_size() > 0) {
    in_force = &set.versions(set.versions_size() - 1);
  }
  if (in_force != nullptr) {
    if (policy::PolicyInForce(set, today) == in_force) {
      info.set_version_in_force(in_force->version());
    }
    *info.mutable_effective_from() = in_force->effective_from();
    for (const v1::Programme& p : in_force->programmes()) {
      v1::ProgrammeSummary* s = info.add_programmes();
      s->set_code(p.code());
      s->set_name(p.name());
      s->set_guarantee(p.guarantee());
      s->set_frequency(p.frequency());
    }
  }
  return info;
}

absl::StatusOr<std::shared_ptr<const ActivePolicy>> FromRecord(
    const storage::PolicyRecord& record) {
  ASSIGN_OR_RETURN(policy::LoadedPolicy loaded,
                   policy::ValidatePolicyText(record.text, record.file_name));
  auto active = std::make_shared<ActivePolicy>();
  active->policies = std::move(loaded.policies);
  active->text = record.text;
  active->file_name = record.file_name;
  active->activated_at = record.activated_at;
  active->activated_by = record.activated_by;
  return active;
}

// Monthly cost of one decision: monthly amounts, one-off amounts counted
// once, memberships nothing.
int64_t MonthlyCost(const v1::Decision& d) {
  if (!d.eligible()) return 0;
  if (d.frequency() == v1::PAYMENT_FREQUENCY_MONTHLY ||
      d.frequency() == v1::PAYMENT_FREQUENCY_ONE_OFF) {
    return d.amount().minor_units();
  }
  return 0;
}

// Every person of the registry, with households and active programmes, for
// whole-registry computations (simulation, coverage).
struct RegistrySnapshot {
  std::vector<PersonRecord> persons;
  absl::flat_hash_map<int64_t, int64_t> household_of;  // person -> household
  absl::flat_hash_map<int64_t, std::vector<int64_t>> members;  // household -> persons
  absl::flat_hash_map<int64_t, int64_t> head_of;  // household -> head person
  absl::flat_hash_map<int64_t, std::vector<EnrolmentRecord>> enrolments;  // active, by person
};

absl::StatusOr<RegistrySnapshot> LoadSnapshot(storage::ReadTxn& txn) {
  RegistrySnapshot s;
  int64_t after = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<PersonRecord> batch, txn.ListPersons(after, kBatch));
    if (batch.empty()) break;
    after = batch.back().id;
    for (PersonRecord& p : batch) s.persons.push_back(std::move(p));
  }
  after = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<storage::MemberRecord> batch,
                     txn.ListMemberships(after, kBatch));
    if (batch.empty()) break;
    after = batch.back().person_id;
    for (const storage::MemberRecord& m : batch) {
      s.household_of[m.person_id] = m.household_id;
      s.members[m.household_id].push_back(m.person_id);
      if (m.relationship == v1::RELATIONSHIP_HEAD) s.head_of[m.household_id] = m.person_id;
    }
  }
  after = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> batch,
                     txn.ListEnrolmentsByStatus(v1::ENROLMENT_STATUS_ACTIVE, "", after, kBatch));
    if (batch.empty()) break;
    after = batch.back().id;
    for (EnrolmentRecord& e : batch) s.enrolments[e.person_id].push_back(std::move(e));
  }
  return s;
}

}  // namespace

std::string FormatEnrolmentId(int64_t id) { return absl::StrCat("E", id); }

absl::StatusOr<int64_t> ParseEnrolmentId(absl::string_view text, absl::string_view field) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  int64_t id = 0;
  if (t.empty()) return InvalidField(field, "is required (an enrolment id such as E12)");
  if ((t[0] != 'E' && t[0] != 'e') || !absl::SimpleAtoi(t.substr(1), &id) || id <= 0) {
    return InvalidField(field, "must be an enrolment id such as E12");
  }
  return id;
}

absl::Status Eligibility::LoadAtStart(const std::vector<std::string>& files) {
  absl::StatusOr<storage::PolicyRecord> latest = absl::NotFoundError("");
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    latest = txn.GetActivePolicy();
    if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
    return absl::OkStatus();
  }));
  if (files.empty()) {
    if (!latest.ok()) {
      return absl::FailedPreconditionError(
          "no policy in force: start socle-server with --policy=FILE");
    }
    ASSIGN_OR_RETURN(auto active, FromRecord(*latest));
    policy_.Set(std::move(active));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(policy::LoadedPolicy loaded, policy::LoadPolicyFiles(files));
  storage::PolicyRecord record;
  record.file_name = absl::StrJoin(files, ",");
  if (files.size() == 1) {
    std::ifstream in(files[0]);
    std::stringstream text;
    text << in.rdbuf();
    record.text = text.str();
  } else {
    google::protobuf::TextFormat::PrintToString(loaded.policies, &record.text);
  }
  record.activated_at = clock_.Now();
  record.activated_by = "socle-server --policy";
  if (!latest.ok() || latest->text != record.text) {
    Caller server{CallerKind::kAdmin, "socle-server", "", Role::kNone, ""};
    RETURN_IF_ERROR(store_.Write([&](storage::Txn& txn) -> absl::Status {
      ASSIGN_OR_RETURN(record.seq, txn.InsertPolicy(record));
      return AppendAudit(txn, record.activated_at, server, "ActivatePolicy",
                         record.file_name, "policy file given at start");
    }));
  } else {
    record = *latest;
  }
  auto active = std::make_shared<ActivePolicy>();
  active->policies = std::move(loaded.policies);
  active->text = record.text;
  active->file_name = record.file_name;
  active->activated_at = record.activated_at;
  active->activated_by = record.activated_by;
  policy_.Set(std::move(active));
  return absl::OkStatus();
}

Registry::LifeEventHook Eligibility::DeathHook() {
  return [](storage::Txn& txn, const Caller& caller, const PersonRecord& person,
            const v1::LifeEvent& event) -> absl::Status {
    if (!event.has_death() || !person.date_of_death) return absl::OkStatus();
    const absl::CivilDay died = *person.date_of_death;
    ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> enrolments,
                     txn.ListEnrolmentsByPerson(person.id));
    for (EnrolmentRecord& e : enrolments) {
      v1::Enrolment view = EnrolmentView(e);
      const bool ended_by_death = e.status == v1::ENROLMENT_STATUS_ENDED &&
                                  absl::StartsWith(view.end_reason(), "death");
      if (!IsCurrent(e.status) && !ended_by_death) continue;
      // Entitlement runs to the day of death; an enrolment starting later
      // ends the day before its start (nothing owed).
      e.status = v1::ENROLMENT_STATUS_ENDED;
      e.end_date = died < e.start_date ? e.start_date - 1 : died;
      view.set_end_reason(absl::StrCat("death on ", FormatDate(died)));
      SetDetails(view, e);
      ++e.version;
      e.updated_at = event.has_recorded_at()
                         ? absl::FromUnixSeconds(event.recorded_at().seconds())
                         : e.updated_at;
      RETURN_IF_ERROR(txn.UpdateEnrolment(e));
      RETURN_IF_ERROR(AppendAudit(txn, e.updated_at, caller, "EndEnrolment",
                                  FormatEnrolmentId(e.id), view.end_reason()));
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<v1::CheckEligibilityResponse> Eligibility::CheckEligibility(
    const Caller& caller, const v1::CheckEligibilityRequest& request) {
  v1::CheckEligibilityResponse out;
  RETURN_IF_ERROR(CheckEligibility(caller, request, &out));
  return out;
}

absl::Status Eligibility::CheckEligibility(const Caller& caller,
                                           const v1::CheckEligibilityRequest& request,
                                           v1::CheckEligibilityResponse* out) {
  const absl::CivilDay today = clock_.Today();
  FieldViolations v;
  auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
  if (!id.ok()) AddViolations(id.status(), v);
  auto as_of = DateOrToday(request.as_of(), "as_of", today);
  if (!as_of.ok()) AddViolations(as_of.status(), v);
  if (!v1::EligibilityView_IsValid(request.view())) {
    v.Add("view", absl::StrCat("unknown view ", request.view(),
                               " (ELIGIBILITY_VIEW_BASIC or ELIGIBILITY_VIEW_FULL)"));
  }
  RETURN_IF_ERROR(v.ToStatus());
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();
  std::vector<std::string> codes(request.programme_codes().begin(),
                                 request.programme_codes().end());
  // The read transaction only reads; the engine runs after it, so that a
  // reader connection is not held while the explanations are written.
  std::optional<PersonContext> context;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(context, LoadContext(txn, caller, *id, *as_of));
    return absl::OkStatus();
  }));
  // Built in place: `out` is on the call's arena when gRPC allocated it.
  absl::Status decided = policy::DecideInto(policy->policies, InputOf(*context, *as_of), codes,
                                            out->mutable_decisions());
  if (!decided.ok()) {
    // The engine names "programmes[i]"; the request field is programme_codes.
    std::vector<FieldViolation> renamed = GetFieldViolations(decided);
    if (renamed.empty()) return decided;
    for (FieldViolation& fv : renamed) {
      if (absl::StartsWith(fv.field, "programmes")) {
        fv.field = absl::StrCat("programme_codes", fv.field.substr(10));
      }
    }
    FieldViolations again;
    for (const auto& fv : renamed) again.Add(fv.field, fv.description);
    return again.ToStatus();
  }
  if (request.view() == v1::ELIGIBILITY_VIEW_BASIC) {
    // Only the lines that did not hold: why not, without the rest.
    for (v1::Decision& d : *out->mutable_decisions()) {
      auto* lines = d.mutable_criteria();
      lines->erase(std::remove_if(lines->begin(), lines->end(),
                                  [](const v1::CriterionResult& c) { return c.held(); }),
                   lines->end());
    }
  }
  const v1::Policy* in_force = policy::PolicyInForce(policy->policies, *as_of);
  if (in_force != nullptr) out->set_policy_version(in_force->version());
  *out->mutable_as_of() = ToProtoDate(*as_of);
  return AuditMinistryRead(store_, clock_.Now(), caller, "CheckEligibility",
                           FormatBeneficiaryNumber(*id));
}

absl::StatusOr<v1::Enrolment> Eligibility::Enrol(const Caller& caller,
                                                 const v1::EnrolRequest& request) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
  if (!id.ok()) AddViolations(id.status(), v);
  if (request.programme_code().empty()) v.Add("programme_code", "is required");
  auto start = DateOrToday(request.start_date(), "start_date", today);
  if (!start.ok()) AddViolations(start.status(), v);
  if (start.ok() && *start > today + 366) {
    v.Add("start_date", "must be within a year from today");
  }
  ValidateText(request.override_reason(), "override_reason", kMaxReasonLength, false, v);
  RETURN_IF_ERROR(v.ToStatus());
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();

  v1::Enrolment out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kEligibility, "Enrol"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(PersonContext context, LoadContext(txn, caller, *id, *start));
        if (context.record.date_of_death && *context.record.date_of_death < *start) {
          return absl::FailedPreconditionError(absl::StrCat(
              "person ", FormatBeneficiaryNumber(*id), " died on ",
              FormatDate(*context.record.date_of_death)));
        }
        auto decisions = policy::Decide(policy->policies, InputOf(context, *start),
                                        {request.programme_code()});
        if (!decisions.ok()) {
          if (absl::IsInvalidArgument(decisions.status())) {
            return InvalidField("programme_code",
                                absl::StrCat("'", request.programme_code(),
                                             "' is not a programme of the policy in force on ",
                                             FormatDate(*start)));
          }
          return decisions.status();
        }
        const v1::Decision& d = decisions->front();
        if (!d.eligible() && !request.override_reason().empty() && !caller.MayOverride()) {
          return WithErrorInfo(
              absl::PermissionDeniedError(absl::StrCat(
                  "override_reason: enrolling a person not eligible for ",
                  d.programme_code(), " needs a supervisor")),
              {"SUPERVISOR_REQUIRED", {{"field", "override_reason"}}});
        }
        if (!d.eligible() && request.override_reason().empty()) {
          std::vector<std::string> failed = FailedCriteria(d);
          return WithErrorInfo(
              absl::FailedPreconditionError(absl::StrCat(
                  "not eligible for ", d.programme_code(), " on ", FormatDate(*start), ": ",
                  absl::StrJoin(failed, "; "),
                  " (a supervisor may enrol anyway with an override reason)")),
              {"NOT_ELIGIBLE", {{"failed_criteria", absl::StrJoin(failed, "; ")}}});
        }
        EnrolmentRecord record;
        record.person_id = *id;
        record.programme_code = d.programme_code();
        record.office_code = context.record.office_code;
        record.status = v1::ENROLMENT_STATUS_ACTIVE;
        record.start_date = *start;
        record.amount_minor = d.amount().minor_units();
        record.currency = d.amount().currency();
        record.policy_version = d.policy_version();
        record.version = 1;
        record.created_at = now;
        record.updated_at = now;
        v1::Enrolment details;
        details.set_frequency(d.frequency());
        details.set_override_reason(d.eligible() ? "" : request.override_reason());
        details.set_payee_beneficiary_number(d.payee_beneficiary_number().empty()
                                                 ? FormatBeneficiaryNumber(*id)
                                                 : d.payee_beneficiary_number());
        if (IsSet(d.period_end())) *details.mutable_planned_end_date() = d.period_end();
        details.set_subsidised(d.subsidised());
        details.set_programme_name(d.programme_name());
        SetDetails(details, record);
        auto inserted = txn.InsertEnrolment(record);
        if (absl::IsAlreadyExists(inserted.status())) {
          return WithErrorInfo(
              absl::AlreadyExistsError(absl::StrCat(
                  "person ", FormatBeneficiaryNumber(*id), " is already enrolled in ",
                  d.programme_code())),
              {"ALREADY_ENROLLED", {}});
        }
        RETURN_IF_ERROR(inserted.status());
        record.id = *inserted;
        RETURN_IF_ERROR(AppendAudit(
            txn, now, caller, "Enrol", FormatBeneficiaryNumber(*id),
            absl::StrCat(FormatEnrolmentId(record.id), " ", d.programme_code(),
                         d.eligible() ? "" : " (override)")));
        response.CopyFrom(EnrolmentView(record));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Enrolment> Eligibility::ChangeEnrolment(
    const Caller& caller, const v1::ChangeEnrolmentRequest& request, Change change,
    absl::string_view method) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParseEnrolmentId(request.enrolment_id(), "enrolment_id");
  if (!id.ok()) AddViolations(id.status(), v);
  ValidateText(request.reason(), "reason", kMaxReasonLength, change != Change::kResume, v);
  auto date = DateOrToday(request.date(), "date", today);
  if (!date.ok()) AddViolations(date.status(), v);
  if (change != Change::kEnd && IsSet(request.date())) {
    v.Add("date", "is only for ending an enrolment");
  }
  RETURN_IF_ERROR(v.ToStatus());
  v1::Enrolment out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kEligibility, method), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        auto found = txn.GetEnrolment(*id);
        if (absl::IsNotFound(found.status()) ||
            (found.ok() && !caller.Sees(found->office_code))) {
          return absl::NotFoundError(
              absl::StrCat("enrolment ", FormatEnrolmentId(*id), " not found"));
        }
        RETURN_IF_ERROR(found.status());
        EnrolmentRecord e = *std::move(found);
        v1::Enrolment view = EnrolmentView(e);
        const std::string name = FormatEnrolmentId(e.id);
        switch (change) {
          case Change::kSuspend:
            if (e.status != v1::ENROLMENT_STATUS_ACTIVE) {
              return absl::FailedPreconditionError(
                  absl::StrCat("enrolment ", name, " is not active"));
            }
            e.status = v1::ENROLMENT_STATUS_SUSPENDED;
            view.set_suspend_reason(request.reason());
            break;
          case Change::kResume: {
            if (e.status != v1::ENROLMENT_STATUS_SUSPENDED) {
              return absl::FailedPreconditionError(
                  absl::StrCat("enrolment ", name, " is not suspended"));
            }
            ASSIGN_OR_RETURN(PersonRecord person, txn.GetPerson(e.person_id));
            if (person.date_of_death) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "person ", FormatBeneficiaryNumber(person.id), " died on ",
                  FormatDate(*person.date_of_death)));
            }
            e.status = v1::ENROLMENT_STATUS_ACTIVE;
            view.clear_suspend_reason();
            break;
          }
          case Change::kEnd:
            if (!IsCurrent(e.status)) {
              return absl::FailedPreconditionError(
                  absl::StrCat("enrolment ", name, " has already ended"));
            }
            if (*date < e.start_date - 1) {
              return InvalidField("date", absl::StrCat("must not be before the day before the start (",
                                                       FormatDate(e.start_date), ")"));
            }
            e.status = v1::ENROLMENT_STATUS_ENDED;
            e.end_date = *date;
            view.set_end_reason(request.reason());
            break;
        }
        SetDetails(view, e);
        ++e.version;
        e.updated_at = now;
        absl::Status updated = txn.UpdateEnrolment(e);
        if (absl::IsAlreadyExists(updated)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the person has another current enrolment in ", e.programme_code));
        }
        RETURN_IF_ERROR(updated);
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, method, name, request.reason()));
        response.CopyFrom(EnrolmentView(e));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Enrolment> Eligibility::SuspendEnrolment(
    const Caller& caller, const v1::ChangeEnrolmentRequest& request) {
  return ChangeEnrolment(caller, request, Change::kSuspend, "SuspendEnrolment");
}
absl::StatusOr<v1::Enrolment> Eligibility::ResumeEnrolment(
    const Caller& caller, const v1::ChangeEnrolmentRequest& request) {
  return ChangeEnrolment(caller, request, Change::kResume, "ResumeEnrolment");
}
absl::StatusOr<v1::Enrolment> Eligibility::EndEnrolment(
    const Caller& caller, const v1::ChangeEnrolmentRequest& request) {
  return ChangeEnrolment(caller, request, Change::kEnd, "EndEnrolment");
}

absl::StatusOr<v1::ListEnrolmentsResponse> Eligibility::ListEnrolments(
    const Caller& caller, const v1::ListEnrolmentsRequest& request) {
  FieldViolations v;
  const int page_size = ValidatePageSize(request.page_size(), "page_size", v);
  int64_t person_id = 0;
  std::string kind;
  if (request.has_programme_office()) {
    kind = "po";
    const v1::ProgrammeOffice& po = request.programme_office();
    if (po.programme_code().empty()) v.Add("programme_office.programme_code", "is required");
    ValidateOfficeCode(po.office_code(), "programme_office.office_code", true, v);
    if (!v1::EnrolmentStatus_IsValid(po.status())) {
      v.Add("programme_office.status", "is not a known status");
    }
  } else if (request.query_case() == v1::ListEnrolmentsRequest::kBeneficiaryNumber) {
    kind = "person";
    auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
    if (id.ok()) {
      person_id = *id;
    } else {
      AddViolations(id.status(), v);
    }
  } else {
    v.Add("query", "give beneficiary_number or programme_office");
  }
  int64_t after_id = 0;
  if (!request.page_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &decoded) ||
        !absl::StartsWith(decoded, kind + ":") ||
        !absl::SimpleAtoi(absl::string_view(decoded).substr(kind.size() + 1), &after_id)) {
      v.Add("page_token", "is not a page token of this query");
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  v1::ListEnrolmentsResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    std::vector<EnrolmentRecord> found;
    if (kind == "person") {
      auto person = txn.GetPerson(person_id);
      if (absl::IsNotFound(person.status()) ||
          (person.ok() && !caller.Sees(person->office_code))) {
        return absl::NotFoundError(
            absl::StrCat("person ", FormatBeneficiaryNumber(person_id), " not found"));
      }
      RETURN_IF_ERROR(person.status());
      ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> all, txn.ListEnrolmentsByPerson(person_id));
      for (EnrolmentRecord& e : all) {
        if (e.id > after_id && static_cast<int>(found.size()) <= page_size) {
          found.push_back(std::move(e));
        }
      }
    } else {
      const v1::ProgrammeOffice& po = request.programme_office();
      // Another office's enrolments do not exist for a clerk.
      if (!caller.Sees(po.office_code())) return absl::OkStatus();
      ASSIGN_OR_RETURN(found, txn.ListEnrolmentsByProgramme(po.programme_code(), po.office_code(),
                                                            po.status(), after_id, page_size + 1));
    }
    const bool more = static_cast<int>(found.size()) > page_size;
    if (more) found.resize(page_size);
    for (const EnrolmentRecord& e : found) *out.add_enrolments() = EnrolmentView(e);
    if (more) {
      out.set_next_page_token(
          absl::WebSafeBase64Escape(absl::StrCat(kind, ":", found.back().id)));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::RecertifyResponse> Eligibility::Recertify(
    const Caller& caller, const v1::RecertifyRequest& request) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto as_of = DateOrToday(request.as_of(), "as_of", today);
  if (!as_of.ok()) AddViolations(as_of.status(), v);
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  RETURN_IF_ERROR(v.ToStatus());
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();
  const v1::Policy* in_force = policy::PolicyInForce(policy->policies, *as_of);
  if (in_force == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no policy version is in force on ", FormatDate(*as_of)));
  }

  v1::RecertifyResponse out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kEligibility, "Recertify"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        v1::RecertifyResponse report;
        *report.mutable_as_of() = ToProtoDate(*as_of);
        report.set_policy_version(in_force->version());
        int64_t after = 0;
        while (true) {
          ASSIGN_OR_RETURN(std::vector<EnrolmentRecord> batch,
                           txn.ListEnrolmentsByStatus(v1::ENROLMENT_STATUS_ACTIVE,
                                                      request.office_code(), after, kBatch));
          if (batch.empty()) break;
          after = batch.back().id;
          for (EnrolmentRecord& e : batch) {
            if (e.start_date > *as_of) continue;  // not started yet
            report.set_checked(report.checked() + 1);
            const v1::Enrolment before = EnrolmentView(e);
            v1::Enrolment view = before;
            std::string explanation;
            ASSIGN_OR_RETURN(PersonContext context, LoadContext(txn, caller, e.person_id, *as_of));
            // The programme itself is not "another" programme.
            context.active_programmes.erase(e.programme_code);
            auto decisions = policy::Decide(policy->policies, InputOf(context, *as_of),
                                            {e.programme_code});
            const bool planned_end_passed =
                IsSet(before.planned_end_date()) &&
                ToCivilDay(before.planned_end_date()) < *as_of;
            if (planned_end_passed) {
              e.status = v1::ENROLMENT_STATUS_ENDED;
              e.end_date = ToCivilDay(before.planned_end_date());
              explanation = absl::StrCat("ended: duration limit reached on ",
                                         FormatDate(*e.end_date));
            } else if (!decisions.ok()) {
              // The programme left the policy: nothing is owed under it.
              e.status = v1::ENROLMENT_STATUS_ENDED;
              e.end_date = std::max(e.start_date, *as_of - 1);
              explanation = absl::StrCat("ended: ", e.programme_code,
                                         " is not in policy ", in_force->version());
            } else if (!decisions->front().eligible()) {
              if (!before.override_reason().empty()) {
                report.set_unchanged(report.unchanged() + 1);
                continue;  // kept by a supervisor's override
              }
              e.status = v1::ENROLMENT_STATUS_ENDED;
              e.end_date = std::max(e.start_date, *as_of - 1);
              explanation = absl::StrCat(
                  "ended: ", absl::StrJoin(FailedCriteria(decisions->front()), "; "));
            } else if (decisions->front().amount().minor_units() != e.amount_minor ||
                       decisions->front().amount().currency() != e.currency) {
              const v1::Decision& d = decisions->front();
              explanation = absl::StrCat(
                  "amount ", policy::FormatMoney(e.amount_minor, e.currency), " -> ",
                  policy::FormatMoney(d.amount().minor_units(), d.amount().currency()));
              e.amount_minor = d.amount().minor_units();
              e.currency = d.amount().currency();
              e.policy_version = d.policy_version();
            } else {
              report.set_unchanged(report.unchanged() + 1);
              continue;
            }
            if (e.status == v1::ENROLMENT_STATUS_ENDED) {
              view.set_end_reason(absl::StrCat("recertification on ", FormatDate(*as_of),
                                               ": ", explanation.substr(7)));
              report.set_ended(report.ended() + 1);
            } else {
              report.set_adjusted(report.adjusted() + 1);
            }
            SetDetails(view, e);
            ++e.version;
            e.updated_at = now;
            RETURN_IF_ERROR(txn.UpdateEnrolment(e));
            RETURN_IF_ERROR(AppendAudit(txn, now, caller, "Recertify", FormatEnrolmentId(e.id),
                                        explanation));
            v1::EnrolmentChange* change = report.add_changes();
            *change->mutable_before() = before;
            *change->mutable_after() = EnrolmentView(e);
            change->set_explanation(explanation);
          }
        }
        response.CopyFrom(report);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::PolicyInfo> Eligibility::GetPolicy(const Caller& caller,
                                                      const v1::GetPolicyRequest& request) {
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();
  v1::PolicyInfo info = Summary(policy->policies, clock_.Today());
  info.set_text(policy->text);
  *info.mutable_activated_at() = ToTimestamp(policy->activated_at);
  info.set_activated_by(policy->activated_by);
  return info;
}

namespace {

std::string FileNameOr(absl::string_view name) {
  return name.empty() ? "policy" : std::string(name);
}

}  // namespace

absl::StatusOr<v1::PolicyInfo> Eligibility::ValidatePolicy(
    const Caller& caller, const v1::ValidatePolicyRequest& request) {
  ASSIGN_OR_RETURN(policy::LoadedPolicy loaded,
                   policy::ValidatePolicyText(request.text(), FileNameOr(request.file_name())));
  return Summary(loaded.policies, clock_.Today());
}

absl::StatusOr<v1::PolicyInfo> Eligibility::ActivatePolicy(
    const Caller& caller, const v1::ActivatePolicyRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(policy::LoadedPolicy loaded,
                   policy::ValidatePolicyText(request.text(), FileNameOr(request.file_name())));
  if (policy::PolicyInForce(loaded.policies, absl::ToCivilDay(now, absl::UTCTimeZone())) ==
      nullptr) {
    return InvalidField("text", "no version of this policy is in force today");
  }
  storage::PolicyRecord record;
  record.activated_at = now;
  record.activated_by = caller.Actor();
  record.file_name = FileNameOr(request.file_name());
  record.text = request.text();
  v1::PolicyInfo out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat(kPolicyAdmin, "ActivatePolicy"), request.request_id(), request, now,
      out, [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(record.seq, txn.InsertPolicy(record));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "ActivatePolicy", record.file_name,
                                    absl::StrCat("activation ", record.seq)));
        v1::PolicyInfo info = Summary(loaded.policies, absl::ToCivilDay(now, absl::UTCTimeZone()));
        *info.mutable_activated_at() = ToTimestamp(now);
        info.set_activated_by(caller.Actor());
        response.CopyFrom(info);
        return absl::OkStatus();
      }));
  // Put the stored latest activation in force (also right for a replay).
  absl::StatusOr<storage::PolicyRecord> latest = absl::NotFoundError("");
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    latest = txn.GetActivePolicy();
    return latest.status();
  }));
  ASSIGN_OR_RETURN(auto active, FromRecord(*latest));
  policy_.Set(std::move(active));
  return out;
}

absl::StatusOr<v1::SimulatePolicyResponse> Eligibility::SimulatePolicy(
    const Caller& caller, const v1::SimulatePolicyRequest& request) {
  const absl::CivilDay today = clock_.Today();
  FieldViolations v;
  auto as_of = DateOrToday(request.as_of(), "as_of", today);
  if (!as_of.ok()) AddViolations(as_of.status(), v);
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(policy::LoadedPolicy draft,
                   policy::ValidatePolicyText(request.text(), FileNameOr(request.file_name())));
  const v1::Policy* draft_version = policy::PolicyInForce(draft.policies, *as_of);
  if (draft_version == nullptr) draft_version = &draft.policies.versions(draft.policies.versions_size() - 1);
  std::shared_ptr<const ActivePolicy> current = policy_.Get();
  const v1::Policy* current_version = policy::PolicyInForce(current->policies, *as_of);

  v1::SimulatePolicyResponse out;
  *out.mutable_as_of() = ToProtoDate(*as_of);
  out.set_draft_version(draft_version->version());
  if (current_version != nullptr) out.set_current_version(current_version->version());

  // (programme, office) -> row; std::map keeps the report ordered.
  std::map<std::pair<std::string, std::string>, v1::SimulationRow> rows;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(RegistrySnapshot s, LoadSnapshot(txn));
    absl::flat_hash_map<int64_t, size_t> index;
    for (size_t i = 0; i < s.persons.size(); ++i) index[s.persons[i].id] = i;
    std::vector<v1::Person> views(s.persons.size());
    for (size_t i = 0; i < s.persons.size(); ++i) {
      auto h = s.household_of.find(s.persons[i].id);
      views[i] = ToProto(s.persons[i], h == s.household_of.end() ? 0 : h->second);
    }
    absl::flat_hash_map<int64_t, policy::HouseholdView> households;
    for (const auto& [household_id, members] : s.members) {
      policy::HouseholdView& view = households[household_id];
      auto head = s.head_of.find(household_id);
      if (head != s.head_of.end()) {
        view.head_beneficiary_number = FormatBeneficiaryNumber(head->second);
      }
      for (int64_t m : members) {
        auto it = index.find(m);
        if (it != index.end()) view.members.push_back(views[it->second]);
      }
    }
    for (size_t i = 0; i < s.persons.size(); ++i) {
      const PersonRecord& p = s.persons[i];
      if (!request.office_code().empty() && p.office_code != request.office_code()) continue;
      if (p.date_of_death && *p.date_of_death <= *as_of) continue;
      if (p.date_of_birth > *as_of) continue;
      out.set_persons_evaluated(out.persons_evaluated() + 1);
      auto h = s.household_of.find(p.id);
      auto e = s.enrolments.find(p.id);
      policy::EligibilityInput input{
          .person = views[i],
          .household = h != s.household_of.end() ? &households[h->second] : nullptr,
          .active_programmes = e != s.enrolments.end()
                                   ? ActiveOn(e->second, *as_of)
                                   : absl::flat_hash_set<std::string>(),
          .as_of = *as_of};
      ASSIGN_OR_RETURN(std::vector<v1::Decision> under_draft,
                       policy::DecideWithVersion(*draft_version, input));
      std::vector<v1::Decision> under_current;
      if (current_version != nullptr) {
        ASSIGN_OR_RETURN(under_current, policy::DecideWithVersion(*current_version, input));
      }
      absl::flat_hash_map<std::string, const v1::Decision*> now_by_code;
      for (const v1::Decision& d : under_current) now_by_code[d.programme_code()] = &d;
      absl::flat_hash_set<std::string> seen;
      for (const v1::Decision& d : under_draft) {
        seen.insert(d.programme_code());
        v1::SimulationRow& row = rows[{d.programme_code(), p.office_code}];
        auto now_it = now_by_code.find(d.programme_code());
        const bool eligible_now = now_it != now_by_code.end() && now_it->second->eligible();
        if (d.eligible()) row.set_eligible_draft(row.eligible_draft() + 1);
        if (eligible_now) row.set_eligible_current(row.eligible_current() + 1);
        row.mutable_monthly_cost_draft()->set_minor_units(
            row.monthly_cost_draft().minor_units() + MonthlyCost(d));
        if (now_it != now_by_code.end()) {
          row.mutable_monthly_cost_current()->set_minor_units(
              row.monthly_cost_current().minor_units() + MonthlyCost(*now_it->second));
        }
        if (d.eligible() && !eligible_now) row.set_gainers(row.gainers() + 1);
        if (!d.eligible() && eligible_now) row.set_losers(row.losers() + 1);
      }
      for (const v1::Decision& d : under_current) {
        if (seen.contains(d.programme_code())) continue;  // programme dropped by the draft
        v1::SimulationRow& row = rows[{d.programme_code(), p.office_code}];
        if (d.eligible()) {
          row.set_eligible_current(row.eligible_current() + 1);
          row.set_losers(row.losers() + 1);
        }
        row.mutable_monthly_cost_current()->set_minor_units(
            row.monthly_cost_current().minor_units() + MonthlyCost(d));
      }
    }
    return absl::OkStatus();
  }));
  const std::string draft_currency = draft_version->currency();
  const std::string current_currency =
      current_version != nullptr ? current_version->currency() : draft_currency;
  std::map<std::string, v1::SimulationRow> totals;
  for (auto& [key, row] : rows) {
    row.set_programme_code(key.first);
    row.set_office_code(key.second);
    row.mutable_monthly_cost_draft()->set_currency(draft_currency);
    row.mutable_monthly_cost_current()->set_currency(current_currency);
    v1::SimulationRow& total = totals[key.first];
    total.set_programme_code(key.first);
    total.set_eligible_draft(total.eligible_draft() + row.eligible_draft());
    total.set_eligible_current(total.eligible_current() + row.eligible_current());
    total.mutable_monthly_cost_draft()->set_minor_units(
        total.monthly_cost_draft().minor_units() + row.monthly_cost_draft().minor_units());
    total.mutable_monthly_cost_draft()->set_currency(draft_currency);
    total.mutable_monthly_cost_current()->set_minor_units(
        total.monthly_cost_current().minor_units() + row.monthly_cost_current().minor_units());
    total.mutable_monthly_cost_current()->set_currency(current_currency);
    total.set_gainers(total.gainers() + row.gainers());
    total.set_losers(total.losers() + row.losers());
    *out.add_rows() = row;
  }
  for (auto& [code, total] : totals) *out.add_totals() = total;
  return out;
}

absl::StatusOr<v1::CoverageReport> Eligibility::GetCoverage(
    const Caller& caller, const v1::GetCoverageRequest& request) {
  FieldViolations v;
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  RETURN_IF_ERROR(v.ToStatus());
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  std::shared_ptr<const ActivePolicy> policy = policy_.Get();
  // Guarantee of each programme code, from every version (an enrolment may
  // date from an older one).
  absl::flat_hash_map<std::string, v1::Guarantee> guarantee_of;
  for (const v1::Policy& p : policy->policies.versions()) {
    for (const v1::Programme& programme : p.programmes()) {
      guarantee_of[programme.code()] = programme.guarantee();
    }
  }
  std::map<std::pair<std::string, int>, v1::CoverageRow> rows;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(RegistrySnapshot s, LoadSnapshot(txn));
    for (const PersonRecord& p : s.persons) {
      if (!request.office_code().empty() && p.office_code != request.office_code()) continue;
      if (!caller.Sees(p.office_code)) continue;  // a supervisor: their office only
      if (p.date_of_death && *p.date_of_death < today) continue;
      absl::flat_hash_set<int> covered;
      auto e = s.enrolments.find(p.id);
      if (e != s.enrolments.end()) {
        for (const std::string& code : ActiveOn(e->second, today)) {
          auto g = guarantee_of.find(code);
          if (g != guarantee_of.end()) covered.insert(g->second);
        }
      }
      for (int g = v1::GUARANTEE_HEALTH; g <= v1::GUARANTEE_OLD_AGE; ++g) {
        v1::CoverageRow& row = rows[{p.office_code, g}];
        row.set_registered(row.registered() + 1);
        if (covered.contains(g)) row.set_covered(row.covered() + 1);
      }
    }
    return absl::OkStatus();
  }));
  v1::CoverageReport out;
  for (auto& [key, row] : rows) {
    row.set_office_code(key.first);
    row.set_guarantee(static_cast<v1::Guarantee>(key.second));
    *out.add_rows() = row;
  }
  *out.mutable_computed_at() = ToTimestamp(now);
  return out;
}

}  // namespace socle
