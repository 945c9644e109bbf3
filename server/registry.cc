#include "server/registry.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include <openssl/sha.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/dates.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/normalize.h"
#include "common/status_macros.h"
#include "server/access/read_audit.h"
#include "server/audit.h"
#include "server/convert.h"
#include "server/idempotency.h"
#include "server/item_status.h"
#include "server/validation.h"

namespace socle {
namespace {

using storage::HouseholdRecord;
using storage::MemberRecord;
using storage::PersonRecord;

constexpr char kService[] = "socle.v1.Registry/";

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }

// NOT_FOUND that names the number the caller typed, and nothing else.
absl::Status PersonNotFound(int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("person ", FormatBeneficiaryNumber(id), " not found"));
}
absl::Status HouseholdNotFound(int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("household ", FormatHouseholdNumber(id), " not found"));
}

// A person or household of another office answers exactly as a missing one
// to a caller bound to an office.
absl::StatusOr<PersonRecord> LoadPerson(storage::ReadTxn& txn, const Caller& caller,
                                        int64_t id) {
  auto person = txn.GetPerson(id);
  if (absl::IsNotFound(person.status()) ||
      (person.ok() && !caller.Sees(person->office_code))) {
    return PersonNotFound(id);
  }
  return person;
}

absl::StatusOr<HouseholdRecord> LoadHousehold(storage::ReadTxn& txn, const Caller& caller,
                                              int64_t id) {
  auto household = txn.GetHousehold(id);
  if (absl::IsNotFound(household.status()) ||
      (household.ok() && !caller.Sees(household->office_code))) {
    return HouseholdNotFound(id);
  }
  return household;
}

// The person's household id, or 0.
absl::StatusOr<int64_t> HouseholdOf(storage::ReadTxn& txn, int64_t person_id) {
  auto membership = txn.GetMembership(person_id);
  if (membership.ok()) return membership->household_id;
  if (absl::IsNotFound(membership.status())) return 0;
  return membership.status();
}

absl::StatusOr<v1::Person> PersonView(storage::ReadTxn& txn,
                                      const PersonRecord& person) {
  ASSIGN_OR_RETURN(int64_t household_id, HouseholdOf(txn, person.id));
  return ToProto(person, household_id);
}

absl::StatusOr<v1::Household> HouseholdView(storage::ReadTxn& txn,
                                            const HouseholdRecord& household) {
  ASSIGN_OR_RETURN(std::vector<MemberRecord> members, txn.ListMembers(household.id));
  std::vector<PersonRecord> persons;
  persons.reserve(members.size());
  for (const MemberRecord& m : members) {
    ASSIGN_OR_RETURN(PersonRecord p, txn.GetPerson(m.person_id));
    persons.push_back(std::move(p));
  }
  return ToProto(household, members, persons);
}

// Page tokens are opaque to clients: "<query kind>:<cursor>" in web-safe
// base64. A token from another query is refused.
std::string MakePageToken(absl::string_view kind, absl::string_view cursor) {
  return absl::WebSafeBase64Escape(absl::StrCat(kind, ":", cursor));
}

absl::StatusOr<std::string> ReadPageToken(absl::string_view token,
                                          absl::string_view kind,
                                          absl::string_view field) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      !absl::StartsWith(decoded, absl::StrCat(kind, ":"))) {
    return InvalidField(field, "is not a page token of this query");
  }
  return decoded.substr(kind.size() + 1);
}

absl::StatusOr<int64_t> ReadIdPageToken(absl::string_view token,
                                        absl::string_view kind,
                                        absl::string_view field) {
  if (token.empty()) return 0;
  ASSIGN_OR_RETURN(std::string cursor, ReadPageToken(token, kind, field));
  int64_t id = 0;
  if (!absl::SimpleAtoi(cursor, &id) || id < 0) {
    return InvalidField(field, "is not a page token of this query");
  }
  return id;
}

void CheckEditableIdentity(const v1::Person& person, absl::CivilDay today,
                           FieldViolations& v) {
  ValidatePersonIdentity(person, "person", today, v);
}

absl::Status RequireSameOffice(const PersonRecord& person,
                               const HouseholdRecord& household) {
  if (person.office_code != household.office_code) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person ", FormatBeneficiaryNumber(person.id), " belongs to office ",
        person.office_code, ", the household to office ", household.office_code,
        ": record a move first"));
  }
  return absl::OkStatus();
}

absl::Status RequireAlive(const PersonRecord& person) {
  if (person.date_of_death) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person ", FormatBeneficiaryNumber(person.id), " died on ",
        FormatDate(*person.date_of_death)));
  }
  return absl::OkStatus();
}

// Checks one registration as RegisterPerson and RegisterPersons take it
// (`person` and `duplicate_override_reason` have the same paths in both) and
// builds its record. `v` may already hold the request's own violations, so
// that every bad field is reported at once.
absl::StatusOr<PersonRecord> PrepareRegistration(const Caller& caller, const v1::Person& in,
                                                 const std::string& override_reason,
                                                 absl::Time now, FieldViolations v) {
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  ValidatePersonIdentity(in, "person", today, v);
  ValidateFacts(in.facts(), "person.facts", today, v);
  const std::string& office = in.office_code().empty() ? caller.office_code : in.office_code();
  ValidateOfficeCode(office, "person.office_code", true, v);
  ValidateText(override_reason, "duplicate_override_reason", kMaxReasonLength, false, v);
  RETURN_IF_ERROR(v.ToStatus());
  if (caller.OfficeBound() && office != caller.office_code) {
    return WithErrorInfo(
        absl::PermissionDeniedError(absl::StrCat(
            "person.office_code: a clerk registers at their own office (",
            caller.office_code, "); a move to another district is recorded as a MOVE event")),
        {"OTHER_OFFICE", {{"field", "person.office_code"}}});
  }
  if (!override_reason.empty() && !caller.MayOverride()) {
    return WithErrorInfo(
        absl::PermissionDeniedError(
            "duplicate_override_reason: registering a possible duplicate needs a supervisor"),
        {"SUPERVISOR_REQUIRED", {{"field", "duplicate_override_reason"}}});
  }
  PersonRecord record;
  ApplyIdentity(in, record);
  record.version = 1;
  record.office_code = office;
  record.facts = in.facts().SerializeAsString();
  record.duplicate_override_reason = override_reason;
  record.registered_at = now;
  record.updated_at = now;
  return record;
}

absl::Status NationalIdTaken() {
  return WithErrorInfo(
      absl::AlreadyExistsError("a person with this national ID is already registered"),
      {"NATIONAL_ID_TAKEN", {{"field", "person.national_id"}}});
}

// `ids` ascending, not empty.
absl::Status PossibleDuplicate(const std::vector<int64_t>& ids) {
  std::vector<std::string> numbers;
  numbers.reserve(ids.size());
  for (int64_t id : ids) numbers.push_back(FormatBeneficiaryNumber(id));
  return WithErrorInfo(
      absl::AlreadyExistsError(absl::StrCat(
          "possible duplicate of ", absl::StrJoin(numbers, ", "),
          " (same name, date of birth and district); confirm with a "
          "duplicate_override_reason to register anyway")),
      {"POSSIBLE_DUPLICATE", {{"candidates", absl::StrJoin(numbers, ",")}}});
}

const char* RegisteredDetails(const PersonRecord& record) {
  return record.duplicate_override_reason.empty() ? "registered"
                                                  : "registered with duplicate override";
}

// What RegisterPersons keeps of a request for its replays: a 16-byte
// SHA-256 prefix of each person's deterministic bytes, so that a reused
// request id with other content is found, and the first differing person
// named, without storing every person a second time.
constexpr size_t kPersonDigestBytes = 16;

std::string BatchFingerprint(const v1::RegisterPersonsRequest& request) {
  std::string out;
  out.reserve(request.persons_size() * kPersonDigestBytes);
  for (const v1::PersonToRegister& item : request.persons()) {
    const std::string bytes = CanonicalRequest(item);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    out.append(reinterpret_cast<const char*>(digest), kPersonDigestBytes);
  }
  return out;
}

std::string FirstDifferingPerson(absl::string_view prior, absl::string_view now) {
  const size_t n = std::min(prior.size(), now.size()) / kPersonDigestBytes;
  for (size_t i = 0; i < n; ++i) {
    if (prior.substr(i * kPersonDigestBytes, kPersonDigestBytes) !=
        now.substr(i * kPersonDigestBytes, kPersonDigestBytes)) {
      return absl::StrCat("persons[", i, "]");
    }
  }
  return "persons";
}

}  // namespace

absl::StatusOr<v1::Person> Registry::RegisterPerson(
    const Caller& caller, const v1::RegisterPersonRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  ASSIGN_OR_RETURN(PersonRecord record,
                   PrepareRegistration(caller, request.person(),
                                       request.duplicate_override_reason(), now, std::move(v)));
  storage::Lookahead ahead;
  ahead.national_id = record.national_id;
  if (record.duplicate_override_reason.empty()) {
    ahead.duplicates =
        storage::DuplicateKey{record.name_key, record.date_of_birth, record.district_key};
  }
  ahead.inserts_person = true;
  ahead.appends_audit = true;
  v1::Person out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("RegisterPerson"), request.request_id(), request, now, ahead, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        if (!record.national_id.empty()) {
          auto taken = txn.GetPersonByNationalId(record.national_id);
          if (taken.ok()) return NationalIdTaken();
          if (!absl::IsNotFound(taken.status())) return taken.status();
        }
        if (record.duplicate_override_reason.empty()) {
          ASSIGN_OR_RETURN(std::vector<PersonRecord> candidates,
                           txn.FindPossibleDuplicates(record.name_key,
                                                      record.date_of_birth,
                                                      record.district_key));
          if (!candidates.empty()) {
            std::vector<int64_t> ids;
            for (const PersonRecord& c : candidates) ids.push_back(c.id);
            return PossibleDuplicate(ids);
          }
        }
        ASSIGN_OR_RETURN(record.id, txn.InsertPerson(record));
        if (record.id > kMaxNumberedId) {
          return absl::ResourceExhaustedError("beneficiary numbers exhausted");
        }
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "RegisterPerson",
                                    FormatBeneficiaryNumber(record.id),
                                    RegisteredDetails(record)));
        response.CopyFrom(ToProto(record, 0));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::RegisterPersonsResponse> Registry::RegisterPersons(
    const Caller& caller, const v1::RegisterPersonsRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  const int n = request.persons_size();
  if (n == 0 || n > kMaxRegisterBatch) {
    v.Add("persons", absl::StrCat("must hold 1 to ", kMaxRegisterBatch, " persons"));
  }
  RETURN_IF_ERROR(v.ToStatus());

  // Each person checked on its own first, outside the transaction (the
  // writer is shared); a refused person takes no further part.
  std::vector<absl::Status> outcome(n);
  std::vector<PersonRecord> records(n);
  for (int i = 0; i < n; ++i) {
    const v1::PersonToRegister& item = request.persons(i);
    auto record = PrepareRegistration(caller, item.person(), item.duplicate_override_reason(),
                                      now, FieldViolations());
    if (record.ok()) {
      records[i] = *std::move(record);
    } else {
      outcome[i] = record.status();
    }
  }
  std::vector<int> checked;  // the persons that passed, in request order
  for (int i = 0; i < n; ++i) {
    if (outcome[i].ok()) checked.push_back(i);
  }
  const std::string fingerprint = BatchFingerprint(request);

  v1::RegisterPersonsResponse out;
  const auto body = [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
    // The store may run this more than once: everything below is rebuilt.
    std::vector<absl::Status> decided = outcome;
    std::vector<std::string> national_ids;
    std::vector<storage::DuplicateKey> keys;
    national_ids.reserve(checked.size());
    keys.reserve(checked.size());
    for (int i : checked) {
      national_ids.push_back(records[i].national_id);
      keys.push_back({records[i].name_key, records[i].date_of_birth, records[i].district_key});
    }
    ASSIGN_OR_RETURN(std::vector<bool> held, txn.NationalIdsHeld(national_ids));
    ASSIGN_OR_RETURN(std::vector<std::vector<int64_t>> registered_alike,
                     txn.FindPossibleDuplicateIds(keys));
    if (held.size() != checked.size() || registered_alike.size() != checked.size()) {
      return absl::InternalError("bulk lookups answered the wrong number of persons");
    }
    // In request order, each person sees those accepted before it in this
    // call: their numbers are known once they are inserted, so a possible
    // duplicate of one of them is answered after the insert.
    absl::flat_hash_set<std::string> ids_in_batch;
    absl::flat_hash_map<std::tuple<std::string, int64_t, std::string>, std::vector<int>>
        alike_in_batch;
    std::vector<int> accepted;
    // A possible duplicate: of the registered (registered_alike) and of the
    // persons accepted before it in this call (earlier_alike).
    std::vector<char> possible_duplicate(n, 0);
    std::vector<std::vector<int>> earlier_alike(n);
    for (size_t k = 0; k < checked.size(); ++k) {
      const int i = checked[k];
      const PersonRecord& r = records[i];
      if (!r.national_id.empty() && (held[k] || ids_in_batch.contains(r.national_id))) {
        decided[i] = NationalIdTaken();
        continue;
      }
      std::vector<int>& alike = alike_in_batch[{
          r.name_key, r.date_of_birth - absl::CivilDay(1970, 1, 1), r.district_key}];
      if (r.duplicate_override_reason.empty() &&
          (!registered_alike[k].empty() || !alike.empty())) {
        possible_duplicate[i] = 1;
        earlier_alike[i] = alike;
        continue;
      }
      if (!r.national_id.empty()) ids_in_batch.insert(r.national_id);
      alike.push_back(i);
      accepted.push_back(i);
    }
    std::vector<PersonRecord> rows;
    rows.reserve(accepted.size());
    for (int i : accepted) rows.push_back(records[i]);
    RETURN_IF_ERROR(txn.InsertPersons(rows));
    std::vector<int64_t> id_of(n, 0);
    std::vector<AuditEvent> events;
    events.reserve(rows.size());
    for (size_t a = 0; a < rows.size(); ++a) {
      if (rows[a].id > kMaxNumberedId) {
        return absl::ResourceExhaustedError("beneficiary numbers exhausted");
      }
      id_of[accepted[a]] = rows[a].id;
      events.push_back({"RegisterPersons", FormatBeneficiaryNumber(rows[a].id),
                        RegisteredDetails(rows[a])});
    }
    RETURN_IF_ERROR(AppendAudits(txn, now, caller, events));

    auto& answer = static_cast<v1::RegisterPersonsResponse&>(response);
    size_t k = 0;  // position in `checked`
    for (int i = 0; i < n; ++i) {
      v1::RegisteredPerson* result = answer.add_results();
      result->set_index(i);
      const bool was_checked = k < checked.size() && checked[k] == i;
      if (id_of[i] != 0) {
        result->set_beneficiary_number(FormatBeneficiaryNumber(id_of[i]));
        *result->mutable_status() = RpcStatus(absl::OkStatus());
        answer.set_registered(answer.registered() + 1);
      } else {
        absl::Status refused = decided[i];
        if (possible_duplicate[i]) {
          std::vector<int64_t> ids = registered_alike[k];
          for (int e : earlier_alike[i]) ids.push_back(id_of[e]);
          refused = PossibleDuplicate(ids);
        }
        *result->mutable_status() = RpcStatus(refused);
        answer.set_failed(answer.failed() + 1);
      }
      if (was_checked) ++k;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(RunIdempotentByFingerprint(
      store_, caller, Method("RegisterPersons"), request.request_id(), fingerprint,
      [&](const std::string& prior) { return FirstDifferingPerson(prior, fingerprint); }, now,
      out, body));
  return out;
}

absl::StatusOr<v1::Person> Registry::GetPerson(const Caller& caller,
                                               const v1::GetPersonRequest& request) {
  ASSIGN_OR_RETURN(int64_t id, ParseBeneficiaryNumber(request.beneficiary_number(),
                                                      "beneficiary_number"));
  v1::Person out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, id));
    ASSIGN_OR_RETURN(out, PersonView(txn, person));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(AuditMinistryRead(store_, clock_.Now(), caller, "GetPerson",
                                    out.beneficiary_number()));
  return out;
}

absl::StatusOr<v1::Person> Registry::UpdatePerson(
    const Caller& caller, const v1::UpdatePersonRequest& request) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
  if (!id.ok()) {
    for (const auto& fv : GetFieldViolations(id.status())) v.Add(fv.field, fv.description);
  }
  if (request.expected_version() <= 0) {
    v.Add("expected_version", "is required: the version you read");
  }
  CheckEditableIdentity(request.person(), today, v);
  ValidateMoney(request.person().facts().monthly_income(),
                "person.facts.monthly_income", false, v);
  RETURN_IF_ERROR(v.ToStatus());

  v1::Person out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("UpdatePerson"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, *id));
        if (person.version != request.expected_version()) {
          return WithErrorInfo(
              absl::AbortedError(absl::StrCat(
                  "the record changed since it was read (version ",
                  request.expected_version(), ", now ", person.version,
                  "): read it again and reapply the change")),
              {"STALE_VERSION",
               {{"current_version", absl::StrCat(person.version)}}});
        }
        if (person.date_of_death && ToCivilDay(request.person().date_of_birth()) >
                                        *person.date_of_death) {
          return InvalidField("person.date_of_birth",
                              "must not be after the recorded date of death");
        }
        ApplyIdentity(request.person(), person);
        v1::PersonFacts facts = ParseFacts(person);
        *facts.mutable_monthly_income() = request.person().facts().monthly_income();
        facts.set_receives_contributory_pension(
            request.person().facts().receives_contributory_pension());
        person.facts = facts.SerializeAsString();
        if (!person.national_id.empty()) {
          auto holder = txn.GetPersonByNationalId(person.national_id);
          if (holder.ok() && holder->id != person.id) {
            return WithErrorInfo(
                absl::AlreadyExistsError(
                    "a person with this national ID is already registered"),
                {"NATIONAL_ID_TAKEN", {{"field", "person.national_id"}}});
          }
          if (!holder.ok() && !absl::IsNotFound(holder.status())) {
            return holder.status();
          }
        }
        ++person.version;
        person.updated_at = now;
        RETURN_IF_ERROR(txn.UpdatePerson(person));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "UpdatePerson",
                                    FormatBeneficiaryNumber(person.id),
                                    absl::StrCat("version ", person.version)));
        ASSIGN_OR_RETURN(v1::Person view, PersonView(txn, person));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::FindPersonsResponse> Registry::FindPersons(
    const Caller& caller, const v1::FindPersonsRequest& request) {
  const absl::CivilDay today = clock_.Today();
  FieldViolations v;
  const int page_size = ValidatePageSize(request.page_size(), "page_size", v);
  std::vector<std::string> words;
  std::optional<absl::CivilDay> born;
  int64_t household_id = 0;
  std::string national_id;
  std::string kind;
  switch (request.query_case()) {
    case v1::FindPersonsRequest::kNationalId:
      kind = "nid";
      national_id = std::string(absl::StripAsciiWhitespace(request.national_id()));
      absl::AsciiStrToUpper(&national_id);
      if (national_id.empty()) v.Add("national_id", "is required");
      break;
    case v1::FindPersonsRequest::kNameAndBirth:
      kind = "name";
      ValidateText(request.name_and_birth().name(), "name_and_birth.name",
                   kMaxNameLength * 2, true, v);
      words = NameWords(request.name_and_birth().name());
      if (words.empty() && !request.name_and_birth().name().empty()) {
        v.Add("name_and_birth.name", "must contain at least one letter");
      }
      born = ValidateDate(request.name_and_birth().date_of_birth(),
                          "name_and_birth.date_of_birth", true, true, today, v);
      break;
    case v1::FindPersonsRequest::kHouseholdNumber: {
      kind = "hh";
      auto parsed = ParseHouseholdNumber(request.household_number(), "household_number");
      if (parsed.ok()) {
        household_id = *parsed;
      } else {
        for (const auto& fv : GetFieldViolations(parsed.status())) v.Add(fv.field, fv.description);
      }
      break;
    }
    case v1::FindPersonsRequest::kOfficeCode:
      kind = "office";
      ValidateOfficeCode(request.office_code(), "office_code", true, v);
      break;
    case v1::FindPersonsRequest::QUERY_NOT_SET:
      v.Add("query", "give one of national_id, name_and_birth, household_number, office_code");
      break;
  }
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(int64_t after_id,
                   ReadIdPageToken(request.page_token(), kind, "page_token"));

  v1::FindPersonsResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    std::vector<PersonRecord> found;
    if (request.query_case() == v1::FindPersonsRequest::kNationalId) {
      if (after_id == 0) {
        auto person = txn.GetPersonByNationalId(national_id);
        if (person.ok()) {
          found.push_back(*std::move(person));
        } else if (!absl::IsNotFound(person.status())) {
          return person.status();
        }
      }
    } else if (request.query_case() == v1::FindPersonsRequest::kNameAndBirth) {
      ASSIGN_OR_RETURN(found, txn.FindPersonsByNameAndBirth(words, *born, after_id,
                                                            page_size + 1));
    } else if (request.query_case() == v1::FindPersonsRequest::kHouseholdNumber) {
      auto household = LoadHousehold(txn, caller, household_id);
      if (!household.ok()) return household.status();
      ASSIGN_OR_RETURN(found, txn.FindPersonsByHousehold(household_id, after_id,
                                                         page_size + 1));
    } else {
      ASSIGN_OR_RETURN(found, txn.FindPersonsByOffice(request.office_code(),
                                                      after_id, page_size + 1));
    }
    const bool more = static_cast<int>(found.size()) > page_size;
    if (more) found.resize(page_size);
    for (const PersonRecord& p : found) {
      if (!caller.Sees(p.office_code)) continue;  // as if absent
      ASSIGN_OR_RETURN(*out.add_persons(), PersonView(txn, p));
    }
    if (more) {
      out.set_next_page_token(MakePageToken(kind, absl::StrCat(found.back().id)));
    }
    return absl::OkStatus();
  }));
  if (out.persons_size() > 0) {
    std::vector<std::string> numbers;
    for (const v1::Person& p : out.persons()) numbers.push_back(p.beneficiary_number());
    RETURN_IF_ERROR(AuditMinistryRead(store_, clock_.Now(), caller, "FindPersons",
                                      absl::StrJoin(numbers, ",")));
  }
  return out;
}

absl::StatusOr<v1::Household> Registry::CreateHousehold(
    const Caller& caller, const v1::CreateHouseholdRequest& request) {
  const absl::Time now = clock_.Now();
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  ValidateOfficeCode(request.office_code(), "office_code", false, v);
  ValidateAddress(request.address(), "address", false, v);
  auto head = ParseBeneficiaryNumber(request.head_beneficiary_number(),
                                     "head_beneficiary_number");
  if (!head.ok()) {
    for (const auto& fv : GetFieldViolations(head.status())) v.Add(fv.field, fv.description);
  }
  RETURN_IF_ERROR(v.ToStatus());

  v1::Household out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("CreateHousehold"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, *head));
        RETURN_IF_ERROR(RequireAlive(person));
        ASSIGN_OR_RETURN(int64_t current, HouseholdOf(txn, person.id));
        if (current != 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "person ", FormatBeneficiaryNumber(person.id),
              " already belongs to household ", FormatHouseholdNumber(current)));
        }
        HouseholdRecord household;
        household.version = 1;
        household.office_code =
            request.office_code().empty() ? person.office_code : request.office_code();
        if (household.office_code != person.office_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the head belongs to office ", person.office_code,
              ", not ", household.office_code));
        }
        const v1::Address& a = request.address();
        const bool has_address = !a.province().empty() || !a.district().empty() ||
                                 !a.commune().empty() || !a.village().empty() ||
                                 !a.street().empty();
        household.province = has_address ? a.province() : person.province;
        household.district = has_address ? a.district() : person.district;
        household.commune = has_address ? a.commune() : person.commune;
        household.village = has_address ? a.village() : person.village;
        household.street = has_address ? a.street() : person.street;
        household.head_person_id = person.id;
        household.created_at = now;
        ASSIGN_OR_RETURN(household.id, txn.InsertHousehold(household));
        MemberRecord member;
        member.household_id = household.id;
        member.person_id = person.id;
        member.relationship = v1::RELATIONSHIP_HEAD;
        RETURN_IF_ERROR(txn.InsertMember(member));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "CreateHousehold",
                                    FormatHouseholdNumber(household.id),
                                    absl::StrCat("head ", FormatBeneficiaryNumber(person.id))));
        ASSIGN_OR_RETURN(v1::Household view, HouseholdView(txn, household));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Household> Registry::GetHousehold(
    const Caller& caller, const v1::GetHouseholdRequest& request) {
  ASSIGN_OR_RETURN(int64_t id, ParseHouseholdNumber(request.household_number(),
                                                    "household_number"));
  v1::Household out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(HouseholdRecord household, LoadHousehold(txn, caller, id));
    ASSIGN_OR_RETURN(out, HouseholdView(txn, household));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(AuditMinistryRead(store_, clock_.Now(), caller, "GetHousehold",
                                    out.household_number()));
  return out;
}

namespace {

// Validates the request id and the two numbers every membership call carries.
absl::Status ValidateMembershipCall(absl::string_view request_id,
                                    absl::string_view household_number,
                                    absl::string_view beneficiary_number,
                                    int64_t& household_id, int64_t& person_id,
                                    FieldViolations& v) {
  ValidateRequestId(request_id, "request_id", v);
  auto h = ParseHouseholdNumber(household_number, "household_number");
  if (h.ok()) {
    household_id = *h;
  } else {
    for (const auto& fv : GetFieldViolations(h.status())) v.Add(fv.field, fv.description);
  }
  auto p = ParseBeneficiaryNumber(beneficiary_number, "beneficiary_number");
  if (p.ok()) {
    person_id = *p;
  } else {
    for (const auto& fv : GetFieldViolations(p.status())) v.Add(fv.field, fv.description);
  }
  return v.ToStatus();
}

bool IsMemberRelationship(int r) {
  return v1::Relationship_IsValid(r) && r != v1::RELATIONSHIP_UNSPECIFIED &&
         r != v1::RELATIONSHIP_HEAD;
}

}  // namespace

absl::StatusOr<v1::Household> Registry::AddHouseholdMember(
    const Caller& caller, const v1::AddHouseholdMemberRequest& request) {
  const absl::Time now = clock_.Now();
  int64_t household_id = 0, person_id = 0;
  FieldViolations v;
  if (!IsMemberRelationship(request.relationship())) {
    v.Add("relationship", "is required: the relationship to the head (not HEAD; use SetHouseholdHead)");
  }
  RETURN_IF_ERROR(ValidateMembershipCall(request.request_id(), request.household_number(),
                                         request.beneficiary_number(), household_id,
                                         person_id, v));
  v1::Household out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("AddHouseholdMember"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(HouseholdRecord household, LoadHousehold(txn, caller, household_id));
        ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, person_id));
        RETURN_IF_ERROR(RequireAlive(person));
        RETURN_IF_ERROR(RequireSameOffice(person, household));
        ASSIGN_OR_RETURN(int64_t current, HouseholdOf(txn, person.id));
        if (current != 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "person ", FormatBeneficiaryNumber(person.id),
              " already belongs to household ", FormatHouseholdNumber(current)));
        }
        MemberRecord member;
        member.household_id = household.id;
        member.person_id = person.id;
        member.relationship = request.relationship();
        RETURN_IF_ERROR(txn.InsertMember(member));
        ++household.version;
        RETURN_IF_ERROR(txn.UpdateHousehold(household));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "AddHouseholdMember",
                                    FormatHouseholdNumber(household.id),
                                    absl::StrCat("member ", FormatBeneficiaryNumber(person.id))));
        ASSIGN_OR_RETURN(v1::Household view, HouseholdView(txn, household));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Household> Registry::RemoveHouseholdMember(
    const Caller& caller, const v1::RemoveHouseholdMemberRequest& request) {
  const absl::Time now = clock_.Now();
  int64_t household_id = 0, person_id = 0;
  FieldViolations v;
  RETURN_IF_ERROR(ValidateMembershipCall(request.request_id(), request.household_number(),
                                         request.beneficiary_number(), household_id,
                                         person_id, v));
  v1::Household out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("RemoveHouseholdMember"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(HouseholdRecord household, LoadHousehold(txn, caller, household_id));
        if (household.head_person_id == person_id) {
          return absl::FailedPreconditionError(
              "the head cannot be removed: set another head first");
        }
        absl::Status deleted = txn.DeleteMember(household.id, person_id);
        if (absl::IsNotFound(deleted)) {
          return absl::NotFoundError(absl::StrCat(
              "person ", FormatBeneficiaryNumber(person_id),
              " is not a member of household ", FormatHouseholdNumber(household.id)));
        }
        RETURN_IF_ERROR(deleted);
        ++household.version;
        RETURN_IF_ERROR(txn.UpdateHousehold(household));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, "RemoveHouseholdMember",
                                    FormatHouseholdNumber(household.id),
                                    absl::StrCat("member ", FormatBeneficiaryNumber(person_id))));
        ASSIGN_OR_RETURN(v1::Household view, HouseholdView(txn, household));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Household> Registry::SetHouseholdHead(
    const Caller& caller, const v1::SetHouseholdHeadRequest& request) {
  const absl::Time now = clock_.Now();
  int64_t household_id = 0, person_id = 0;
  FieldViolations v;
  const int previous = request.previous_head_relationship() == v1::RELATIONSHIP_UNSPECIFIED
                           ? v1::RELATIONSHIP_OTHER_RELATIVE
                           : request.previous_head_relationship();
  if (!IsMemberRelationship(previous)) {
    v.Add("previous_head_relationship", "must be a relationship other than HEAD");
  }
  RETURN_IF_ERROR(ValidateMembershipCall(request.request_id(), request.household_number(),
                                         request.beneficiary_number(), household_id,
                                         person_id, v));
  v1::Household out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("SetHouseholdHead"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(HouseholdRecord household, LoadHousehold(txn, caller, household_id));
        auto membership = txn.GetMembership(person_id);
        if (absl::IsNotFound(membership.status()) ||
            (membership.ok() && membership->household_id != household.id)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "person ", FormatBeneficiaryNumber(person_id),
              " is not a member of household ", FormatHouseholdNumber(household.id),
              ": add them first"));
        }
        RETURN_IF_ERROR(membership.status());
        ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, person_id));
        RETURN_IF_ERROR(RequireAlive(person));
        if (household.head_person_id != person_id) {
          auto old_head = txn.GetMembership(household.head_person_id);
          if (old_head.ok()) {
            old_head->relationship = previous;
            RETURN_IF_ERROR(txn.UpdateMember(*old_head));
          } else if (!absl::IsNotFound(old_head.status())) {
            return old_head.status();
          }
          MemberRecord head = *membership;
          head.relationship = v1::RELATIONSHIP_HEAD;
          RETURN_IF_ERROR(txn.UpdateMember(head));
          household.head_person_id = person_id;
          ++household.version;
          RETURN_IF_ERROR(txn.UpdateHousehold(household));
          RETURN_IF_ERROR(AppendAudit(txn, now, caller, "SetHouseholdHead",
                                      FormatHouseholdNumber(household.id),
                                      absl::StrCat("head ", FormatBeneficiaryNumber(person_id))));
        }
        ASSIGN_OR_RETURN(v1::Household view, HouseholdView(txn, household));
        response.CopyFrom(view);
        return absl::OkStatus();
      }));
  return out;
}

namespace {

const char* EventName(v1::LifeEvent::EventCase c) {
  switch (c) {
    case v1::LifeEvent::kBirth: return "birth";
    case v1::LifeEvent::kDeath: return "death";
    case v1::LifeEvent::kPregnancy: return "pregnancy";
    case v1::LifeEvent::kDisabilityCertified: return "disability certified";
    case v1::LifeEvent::kJobLost: return "job lost";
    case v1::LifeEvent::kJobFound: return "job found";
    case v1::LifeEvent::kWorkAccident: return "work accident";
    case v1::LifeEvent::kMove: return "move";
    case v1::LifeEvent::EVENT_NOT_SET: return "none";
  }
  return "unknown";
}

void ValidateEvent(const v1::LifeEvent& e, absl::CivilDay today, FieldViolations& v) {
  ValidateDate(e.date(), "event.date", true, true, today, v);
  switch (e.event_case()) {
    case v1::LifeEvent::EVENT_NOT_SET:
      v.Add("event.event", "is required: one of birth, death, pregnancy, disability_certified, "
                           "job_lost, job_found, work_accident, move");
      break;
    case v1::LifeEvent::kBirth:
      if (!e.birth().child_beneficiary_number().empty()) {
        auto child = ParseBeneficiaryNumber(e.birth().child_beneficiary_number(),
                                            "event.birth.child_beneficiary_number");
        if (!child.ok()) {
          for (const auto& fv : GetFieldViolations(child.status())) v.Add(fv.field, fv.description);
        }
      }
      break;
    case v1::LifeEvent::kPregnancy:
      if (e.pregnancy().weeks_at_date() < 0 || e.pregnancy().weeks_at_date() > 45) {
        v.Add("event.pregnancy.weeks_at_date", "must be between 0 and 45");
      }
      break;
    case v1::LifeEvent::kDisabilityCertified:
      if (e.disability_certified().degree_percent() < 1 ||
          e.disability_certified().degree_percent() > 100) {
        v.Add("event.disability_certified.degree_percent", "must be between 1 and 100");
      }
      break;
    case v1::LifeEvent::kJobFound:
      ValidateMoney(e.job_found().monthly_wage(), "event.job_found.monthly_wage", true, v);
      ValidateText(e.job_found().employer(), "event.job_found.employer", kMaxNameLength,
                   false, v);
      break;
    case v1::LifeEvent::kWorkAccident:
      if (e.work_accident().incapacity_percent() < 0 ||
          e.work_accident().incapacity_percent() > 100) {
        v.Add("event.work_accident.incapacity_percent", "must be between 0 and 100");
      }
      break;
    case v1::LifeEvent::kMove:
      ValidateOfficeCode(e.move().office_code(), "event.move.office_code", true, v);
      ValidateAddress(e.move().address(), "event.move.address", true, v);
      break;
    case v1::LifeEvent::kDeath:
    case v1::LifeEvent::kJobLost:
      break;
  }
  if (e.correction()) {
    ValidateText(e.correction_reason(), "event.correction_reason", kMaxReasonLength, true, v);
  } else if (!e.correction_reason().empty()) {
    v.Add("event.correction_reason", "is only for corrections (set correction)");
  }
}

void MovePersonRecord(PersonRecord& p, const v1::MoveEvent& move) {
  p.office_code = move.office_code();
  p.province = move.address().province();
  p.district = move.address().district();
  p.commune = move.address().commune();
  p.village = move.address().village();
  p.street = move.address().street();
  p.district_key = NormalizeName(p.district);
}

}  // namespace

absl::Status Registry::ApplyEvent(storage::Txn& txn, const Caller& caller,
                                  PersonRecord& person, v1::LifeEvent& event,
                                  absl::Time now) {
  const absl::CivilDay date = ToCivilDay(event.date());
  const std::string number = FormatBeneficiaryNumber(person.id);
  if (date < person.date_of_birth) {
    return InvalidField("event.date", "must not be before the date of birth");
  }
  if (person.date_of_death && !event.correction()) {
    if (event.has_death()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "person ", number, " is already recorded dead on ",
          FormatDate(*person.date_of_death), "; record a correction to change it"));
    }
    if (date > *person.date_of_death) {
      return absl::FailedPreconditionError(absl::StrCat(
          "person ", number, " died on ", FormatDate(*person.date_of_death),
          "; only a correction can be recorded after a death"));
    }
  }
  v1::PersonFacts facts = ParseFacts(person);
  switch (event.event_case()) {
    case v1::LifeEvent::kBirth: {
      facts.clear_pregnancy_start();
      *facts.mutable_last_childbirth() = event.date();
      if (!event.birth().child_beneficiary_number().empty()) {
        auto child_id = ParseBeneficiaryNumber(event.birth().child_beneficiary_number(),
                                               "event.birth.child_beneficiary_number");
        RETURN_IF_ERROR(child_id.status());
        auto child = txn.GetPerson(*child_id);
        if (absl::IsNotFound(child.status())) {
          return absl::NotFoundError(absl::StrCat("child ", FormatBeneficiaryNumber(*child_id),
                                                  " not found"));
        }
        RETURN_IF_ERROR(child.status());
      }
      break;
    }
    case v1::LifeEvent::kDeath:
      person.date_of_death = date;
      break;
    case v1::LifeEvent::kPregnancy:
      *facts.mutable_pregnancy_start() =
          ToProtoDate(date - 7 * event.pregnancy().weeks_at_date());
      break;
    case v1::LifeEvent::kDisabilityCertified:
      facts.mutable_disability()->set_certified(true);
      *facts.mutable_disability()->mutable_certified_on() = event.date();
      facts.mutable_disability()->set_degree_percent(
          event.disability_certified().degree_percent());
      break;
    case v1::LifeEvent::kJobLost: {
      const int n = facts.employment_size();
      if (n > 0 && !IsSet(facts.employment(n - 1).end())) {
        if (date < ToCivilDay(facts.employment(n - 1).start())) {
          return InvalidField("event.date", "must not be before the start of the current job");
        }
        *facts.mutable_employment(n - 1)->mutable_end() = event.date();
      }
      facts.set_employment_status(v1::EMPLOYMENT_STATUS_UNEMPLOYED);
      break;
    }
    case v1::LifeEvent::kJobFound: {
      const int n = facts.employment_size();
      if (n > 0) {
        const v1::EmploymentPeriod& last = facts.employment(n - 1);
        const absl::CivilDay last_start = ToCivilDay(last.start());
        const std::optional<absl::CivilDay> last_end = ToOptionalDay(last.end());
        if (date <= last_start || (last_end && date <= *last_end)) {
          return InvalidField("event.date", "must be after the previous job's start and end");
        }
        if (!last_end) *facts.mutable_employment(n - 1)->mutable_end() = ToProtoDate(date - 1);
      }
      v1::EmploymentPeriod* job = facts.add_employment();
      *job->mutable_start() = event.date();
      *job->mutable_monthly_wage() = event.job_found().monthly_wage();
      job->set_employer(event.job_found().employer());
      job->set_insured(event.job_found().insured());
      facts.set_employment_status(v1::EMPLOYMENT_STATUS_EMPLOYED);
      break;
    }
    case v1::LifeEvent::kWorkAccident: {
      v1::WorkAccident* accident = facts.add_work_accidents();
      *accident->mutable_date() = event.date();
      accident->set_incapacity_percent(event.work_accident().incapacity_percent());
      break;
    }
    case v1::LifeEvent::kMove: {
      const v1::MoveEvent& move = event.move();
      if (move.office_code() == person.office_code) {
        return InvalidField("event.move.office_code",
                            "is the person's current office: a move changes district");
      }
      ASSIGN_OR_RETURN(int64_t household_id, HouseholdOf(txn, person.id));
      if (household_id != 0) {
        ASSIGN_OR_RETURN(HouseholdRecord household, txn.GetHousehold(household_id));
        ASSIGN_OR_RETURN(std::vector<MemberRecord> members, txn.ListMembers(household_id));
        const bool is_head = household.head_person_id == person.id;
        if (move.whole_household()) {
          if (!is_head) {
            return absl::FailedPreconditionError(
                "only the head's move can take the whole household");
          }
          for (const MemberRecord& m : members) {
            if (m.person_id == person.id) continue;
            ASSIGN_OR_RETURN(PersonRecord other, txn.GetPerson(m.person_id));
            MovePersonRecord(other, move);
            ++other.version;
            other.updated_at = now;
            RETURN_IF_ERROR(txn.UpdatePerson(other));
          }
          household.office_code = move.office_code();
          household.province = move.address().province();
          household.district = move.address().district();
          household.commune = move.address().commune();
          household.village = move.address().village();
          household.street = move.address().street();
          ++household.version;
          RETURN_IF_ERROR(txn.UpdateHousehold(household));
        } else if (is_head && members.size() > 1) {
          return absl::FailedPreconditionError(
              "the head of a household with other members moves with "
              "whole_household, or another head is set first");
        } else if (is_head) {
          // A household of one moves with its only member.
          household.office_code = move.office_code();
          household.province = move.address().province();
          household.district = move.address().district();
          household.commune = move.address().commune();
          household.village = move.address().village();
          household.street = move.address().street();
          ++household.version;
          RETURN_IF_ERROR(txn.UpdateHousehold(household));
        } else {
          // A member moving alone leaves the household.
          RETURN_IF_ERROR(txn.DeleteMember(household_id, person.id));
          ++household.version;
          RETURN_IF_ERROR(txn.UpdateHousehold(household));
        }
      } else if (move.whole_household()) {
        return InvalidField("event.move.whole_household",
                            "the person belongs to no household");
      }
      MovePersonRecord(person, move);
      break;
    }
    case v1::LifeEvent::EVENT_NOT_SET:
      return InvalidField("event.event", "is required");
  }
  person.facts = facts.SerializeAsString();
  ++person.version;
  person.updated_at = now;
  RETURN_IF_ERROR(txn.UpdatePerson(person));

  storage::LifeEventRecord record;
  record.person_id = person.id;
  record.date = date;
  record.type = static_cast<int>(event.event_case());
  record.correction = event.correction();
  record.recorded_at = now;
  record.recorded_by = caller.Actor();
  record.office_code = person.office_code;
  event.set_beneficiary_number(number);
  *event.mutable_recorded_at() = ToTimestamp(now);
  event.set_recorded_by(caller.Actor());
  event.set_office_code(person.office_code);
  record.details = event.SerializeAsString();
  ASSIGN_OR_RETURN(int64_t event_id, txn.InsertLifeEvent(record));
  event.set_event_id(absl::StrCat(event_id));
  for (const LifeEventHook& hook : hooks_) {
    RETURN_IF_ERROR(hook(txn, caller, person, event));
  }
  return AppendAudit(txn, now, caller, "RecordLifeEvent", number,
                     absl::StrCat(EventName(event.event_case()), " on ",
                                  FormatDate(date),
                                  event.correction() ? " (correction)" : ""));
}

absl::StatusOr<v1::RecordLifeEventResponse> Registry::RecordLifeEvent(
    const Caller& caller, const v1::RecordLifeEventRequest& request) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
  if (!id.ok()) {
    for (const auto& fv : GetFieldViolations(id.status())) v.Add(fv.field, fv.description);
  }
  ValidateEvent(request.event(), today, v);
  RETURN_IF_ERROR(v.ToStatus());

  v1::RecordLifeEventResponse out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, Method("RecordLifeEvent"), request.request_id(), request, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        ASSIGN_OR_RETURN(PersonRecord person, LoadPerson(txn, caller, *id));
        v1::LifeEvent event = request.event();
        event.clear_event_id();
        event.clear_recorded_at();
        event.clear_recorded_by();
        event.clear_office_code();
        RETURN_IF_ERROR(ApplyEvent(txn, caller, person, event, now));
        v1::RecordLifeEventResponse answer;
        *answer.mutable_event() = event;
        ASSIGN_OR_RETURN(*answer.mutable_person(), PersonView(txn, person));
        response.CopyFrom(answer);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::ListLifeEventsResponse> Registry::ListLifeEvents(
    const Caller& caller, const v1::ListLifeEventsRequest& request) {
  FieldViolations v;
  auto id = ParseBeneficiaryNumber(request.beneficiary_number(), "beneficiary_number");
  if (!id.ok()) {
    for (const auto& fv : GetFieldViolations(id.status())) v.Add(fv.field, fv.description);
  }
  const int page_size = ValidatePageSize(request.page_size(), "page_size", v);
  std::optional<storage::EventCursor> after;
  if (!request.page_token().empty()) {
    auto cursor = ReadPageToken(request.page_token(), "ev", "page_token");
    std::vector<std::string> parts;
    if (cursor.ok()) parts = absl::StrSplit(*cursor, ':');
    storage::EventCursor c;
    absl::StatusOr<absl::CivilDay> day =
        parts.size() == 2 ? ParseDate(parts[0], "page_token")
                          : absl::InvalidArgumentError("");
    if (!day.ok() || !absl::SimpleAtoi(parts[1], &c.id)) {
      v.Add("page_token", "is not a page token of this query");
    } else {
      c.date = *day;
      after = c;
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  v1::ListLifeEventsResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    RETURN_IF_ERROR(LoadPerson(txn, caller, *id).status());
    ASSIGN_OR_RETURN(std::vector<storage::LifeEventRecord> events,
                     txn.ListLifeEvents(*id, after, page_size + 1));
    const bool more = static_cast<int>(events.size()) > page_size;
    if (more) events.resize(page_size);
    for (const storage::LifeEventRecord& e : events) {
      v1::LifeEvent* event = out.add_events();
      event->ParseFromString(e.details);
      event->set_event_id(absl::StrCat(e.id));
    }
    if (more) {
      out.set_next_page_token(MakePageToken(
          "ev", absl::StrCat(FormatDate(events.back().date), ":", events.back().id)));
    }
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(AuditMinistryRead(store_, clock_.Now(), caller, "ListLifeEvents",
                                    FormatBeneficiaryNumber(*id)));
  return out;
}

}  // namespace socle
