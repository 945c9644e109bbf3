#include "client/client.h"

#include <random>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"

namespace socle::client {
namespace {

std::string IdOrNew(std::string request_id) {
  return request_id.empty() ? GenerateRequestId() : std::move(request_id);
}

v1::FindPersonsRequest PagedFind(const PageOptions& page) {
  v1::FindPersonsRequest request;
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
  return request;
}

}  // namespace

std::string GenerateRequestId() {
  // absl::BitGen is seeded from the OS entropy source (and re-seeded per
  // instance); guarded because BitGen is not thread-safe.
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    hi = absl::Uniform<uint64_t>(*gen);
    lo = absl::Uniform<uint64_t>(*gen);
  }
  std::string bytes(16, '\0');
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<char>(lo >> (56 - 8 * i));
  }
  return absl::BytesToHexString(bytes);
}

v1::Date ToProtoDate(absl::CivilDay day) {
  v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

Client::Client(std::shared_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

absl::StatusOr<v1::Person> Client::RegisterPerson(const v1::Person& person,
                                                  RegisterOptions options) {
  v1::RegisterPersonRequest request;
  request.set_request_id(IdOrNew(std::move(options.request_id)));
  *request.mutable_person() = person;
  request.set_duplicate_override_reason(options.duplicate_override_reason);
  return connection_->RegisterPerson(request);
}

absl::StatusOr<v1::RegisterPersonsResponse> Client::RegisterPersons(
    std::vector<v1::PersonToRegister> persons, RegisterPersonsOptions options) {
  v1::RegisterPersonsRequest request;
  request.set_request_id(IdOrNew(std::move(options.request_id)));
  request.mutable_persons()->Reserve(static_cast<int>(persons.size()));
  for (v1::PersonToRegister& person : persons) {
    *request.add_persons() = std::move(person);
  }
  return connection_->RegisterPersons(request);
}

absl::StatusOr<v1::Person> Client::GetPerson(
    absl::string_view beneficiary_number) {
  v1::GetPersonRequest request;
  request.set_beneficiary_number(std::string(beneficiary_number));
  return connection_->GetPerson(request);
}

absl::StatusOr<v1::Person> Client::UpdatePerson(
    absl::string_view beneficiary_number, int64_t expected_version,
    const v1::Person& person, std::string request_id) {
  v1::UpdatePersonRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_expected_version(expected_version);
  *request.mutable_person() = person;
  return connection_->UpdatePerson(request);
}

absl::StatusOr<v1::FindPersonsResponse> Client::FindPersons(
    const v1::FindPersonsRequest& request) {
  return connection_->FindPersons(request);
}

absl::StatusOr<v1::FindPersonsResponse> Client::FindByNationalId(
    absl::string_view national_id, PageOptions page) {
  v1::FindPersonsRequest request = PagedFind(page);
  request.set_national_id(std::string(national_id));
  return connection_->FindPersons(request);
}

absl::StatusOr<v1::FindPersonsResponse> Client::FindByNameAndBirth(
    absl::string_view name, absl::CivilDay date_of_birth, PageOptions page) {
  v1::FindPersonsRequest request = PagedFind(page);
  v1::NameAndBirth* query = request.mutable_name_and_birth();
  query->set_name(std::string(name));
  *query->mutable_date_of_birth() = ToProtoDate(date_of_birth);
  return connection_->FindPersons(request);
}

absl::StatusOr<v1::FindPersonsResponse> Client::FindByHousehold(
    absl::string_view household_number, PageOptions page) {
  v1::FindPersonsRequest request = PagedFind(page);
  request.set_household_number(std::string(household_number));
  return connection_->FindPersons(request);
}

absl::StatusOr<v1::FindPersonsResponse> Client::FindByOffice(
    absl::string_view office_code, PageOptions page) {
  v1::FindPersonsRequest request = PagedFind(page);
  request.set_office_code(std::string(office_code));
  return connection_->FindPersons(request);
}

absl::StatusOr<v1::Household> Client::CreateHousehold(
    absl::string_view head_beneficiary_number, const v1::Address& address,
    absl::string_view office_code, std::string request_id) {
  v1::CreateHouseholdRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_office_code(std::string(office_code));
  *request.mutable_address() = address;
  request.set_head_beneficiary_number(std::string(head_beneficiary_number));
  return connection_->CreateHousehold(request);
}

absl::StatusOr<v1::Household> Client::GetHousehold(
    absl::string_view household_number) {
  v1::GetHouseholdRequest request;
  request.set_household_number(std::string(household_number));
  return connection_->GetHousehold(request);
}

absl::StatusOr<v1::Household> Client::AddHouseholdMember(
    absl::string_view household_number, absl::string_view beneficiary_number,
    v1::Relationship relationship, std::string request_id) {
  v1::AddHouseholdMemberRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_household_number(std::string(household_number));
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_relationship(relationship);
  return connection_->AddHouseholdMember(request);
}

absl::StatusOr<v1::Household> Client::RemoveHouseholdMember(
    absl::string_view household_number, absl::string_view beneficiary_number,
    std::string request_id) {
  v1::RemoveHouseholdMemberRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_household_number(std::string(household_number));
  request.set_beneficiary_number(std::string(beneficiary_number));
  return connection_->RemoveHouseholdMember(request);
}

absl::StatusOr<v1::Household> Client::SetHouseholdHead(
    absl::string_view household_number, absl::string_view beneficiary_number,
    v1::Relationship previous_head_relationship, std::string request_id) {
  v1::SetHouseholdHeadRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_household_number(std::string(household_number));
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_previous_head_relationship(previous_head_relationship);
  return connection_->SetHouseholdHead(request);
}

absl::StatusOr<v1::RecordLifeEventResponse> Client::RecordLifeEvent(
    absl::string_view beneficiary_number, const v1::LifeEvent& event,
    std::string request_id) {
  v1::RecordLifeEventRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_beneficiary_number(std::string(beneficiary_number));
  *request.mutable_event() = event;
  return connection_->RecordLifeEvent(request);
}

absl::StatusOr<v1::ListLifeEventsResponse> Client::ListLifeEvents(
    absl::string_view beneficiary_number, int32_t page_size,
    absl::string_view page_token) {
  v1::ListLifeEventsRequest request;
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_page_size(page_size);
  request.set_page_token(std::string(page_token));
  return connection_->ListLifeEvents(request);
}

absl::StatusOr<v1::CheckEligibilityResponse> Client::CheckEligibility(
    absl::string_view beneficiary_number,
    std::vector<std::string> programme_codes,
    std::optional<absl::CivilDay> as_of, v1::EligibilityView view) {
  v1::CheckEligibilityRequest request;
  request.set_beneficiary_number(std::string(beneficiary_number));
  for (std::string& code : programme_codes) {
    request.add_programme_codes(std::move(code));
  }
  if (as_of) *request.mutable_as_of() = ToProtoDate(*as_of);
  request.set_view(view);
  return connection_->CheckEligibility(request);
}

absl::StatusOr<v1::Enrolment> Client::Enrol(
    absl::string_view beneficiary_number, absl::string_view programme_code,
    std::optional<absl::CivilDay> start, std::string override_reason,
    std::string request_id) {
  v1::EnrolRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_programme_code(std::string(programme_code));
  if (start) *request.mutable_start_date() = ToProtoDate(*start);
  request.set_override_reason(std::move(override_reason));
  return connection_->Enrol(request);
}

namespace {

v1::ChangeEnrolmentRequest Change(absl::string_view enrolment_id,
                                  absl::string_view reason,
                                  std::string request_id) {
  v1::ChangeEnrolmentRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_enrolment_id(std::string(enrolment_id));
  request.set_reason(std::string(reason));
  return request;
}

}  // namespace

absl::StatusOr<v1::Enrolment> Client::SuspendEnrolment(
    absl::string_view enrolment_id, absl::string_view reason,
    std::string request_id) {
  return connection_->SuspendEnrolment(
      Change(enrolment_id, reason, std::move(request_id)));
}

absl::StatusOr<v1::Enrolment> Client::ResumeEnrolment(
    absl::string_view enrolment_id, absl::string_view reason,
    std::string request_id) {
  return connection_->ResumeEnrolment(
      Change(enrolment_id, reason, std::move(request_id)));
}

absl::StatusOr<v1::Enrolment> Client::EndEnrolment(
    absl::string_view enrolment_id, absl::string_view reason,
    std::optional<absl::CivilDay> last_day, std::string request_id) {
  v1::ChangeEnrolmentRequest request =
      Change(enrolment_id, reason, std::move(request_id));
  if (last_day) *request.mutable_date() = ToProtoDate(*last_day);
  return connection_->EndEnrolment(request);
}

absl::StatusOr<v1::ListEnrolmentsResponse> Client::ListEnrolmentsOfPerson(
    absl::string_view beneficiary_number, PageOptions page) {
  v1::ListEnrolmentsRequest request;
  request.set_beneficiary_number(std::string(beneficiary_number));
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
  return connection_->ListEnrolments(request);
}

absl::StatusOr<v1::ListEnrolmentsResponse> Client::ListEnrolmentsOfProgramme(
    absl::string_view programme_code, absl::string_view office_code,
    v1::EnrolmentStatus status, PageOptions page) {
  v1::ListEnrolmentsRequest request;
  v1::ProgrammeOffice* query = request.mutable_programme_office();
  query->set_programme_code(std::string(programme_code));
  query->set_office_code(std::string(office_code));
  query->set_status(status);
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
  return connection_->ListEnrolments(request);
}

absl::StatusOr<v1::ListEnrolmentsResponse> Client::ListEnrolments(
    const v1::ListEnrolmentsRequest& request) {
  return connection_->ListEnrolments(request);
}

absl::StatusOr<v1::RecertifyResponse> Client::Recertify(
    std::optional<absl::CivilDay> as_of, absl::string_view office_code,
    std::string request_id) {
  v1::RecertifyRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  if (as_of) *request.mutable_as_of() = ToProtoDate(*as_of);
  request.set_office_code(std::string(office_code));
  return connection_->Recertify(request);
}

absl::StatusOr<v1::PolicyInfo> Client::GetPolicy() {
  return connection_->GetPolicy(v1::GetPolicyRequest());
}

absl::StatusOr<v1::PolicyInfo> Client::ValidatePolicy(
    absl::string_view text, absl::string_view file_name) {
  v1::ValidatePolicyRequest request;
  request.set_text(std::string(text));
  request.set_file_name(std::string(file_name));
  return connection_->ValidatePolicy(request);
}

absl::StatusOr<v1::SimulatePolicyResponse> Client::SimulatePolicy(
    absl::string_view text, absl::string_view file_name,
    std::optional<absl::CivilDay> as_of, absl::string_view office_code) {
  v1::SimulatePolicyRequest request;
  request.set_text(std::string(text));
  request.set_file_name(std::string(file_name));
  if (as_of) *request.mutable_as_of() = ToProtoDate(*as_of);
  request.set_office_code(std::string(office_code));
  return connection_->SimulatePolicy(request);
}

absl::StatusOr<v1::PolicyInfo> Client::ActivatePolicy(
    absl::string_view text, absl::string_view file_name,
    std::string request_id) {
  v1::ActivatePolicyRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_text(std::string(text));
  request.set_file_name(std::string(file_name));
  return connection_->ActivatePolicy(request);
}

absl::StatusOr<v1::CoverageReport> Client::GetCoverage(
    absl::string_view office_code) {
  v1::GetCoverageRequest request;
  request.set_office_code(std::string(office_code));
  return connection_->GetCoverage(request);
}

absl::StatusOr<v1::RotateKeysResponse> Client::RotateKeys(
    const v1::RotateKeysCursor& after, int batch_size, int max_batches) {
  v1::RotateKeysRequest request;
  *request.mutable_after() = after;
  request.set_batch_size(batch_size);
  request.set_max_batches(max_batches);
  return connection_->RotateKeys(request);
}

absl::StatusOr<v1::Cycle> Client::OpenCycle(absl::string_view programme_code,
                                            absl::string_view period,
                                            std::string request_id) {
  v1::OpenCycleRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_programme_code(std::string(programme_code));
  request.set_period(std::string(period));
  return connection_->OpenCycle(request);
}

absl::StatusOr<v1::Cycle> Client::GetCycle(absl::string_view cycle_id) {
  v1::GetCycleRequest request;
  request.set_cycle_id(std::string(cycle_id));
  return connection_->GetCycle(request);
}

absl::StatusOr<v1::ListCyclesResponse> Client::ListCycles(
    const v1::ListCyclesRequest& request) {
  return connection_->ListCycles(request);
}

absl::StatusOr<v1::Cycle> Client::CloseCycle(absl::string_view cycle_id,
                                             std::string request_id) {
  v1::CloseCycleRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_cycle_id(std::string(cycle_id));
  return connection_->CloseCycle(request);
}

absl::Status Client::ListCycleLines(
    const v1::ListCycleLinesRequest& request,
    const std::function<bool(const v1::Line&)>& on_line) {
  return connection_->ListCycleLines(
      request, [&](const v1::ListCycleLinesResponse& chunk) {
        for (const v1::Line& line : chunk.lines()) {
          if (!on_line(line)) return false;
        }
        return true;
      });
}

absl::StatusOr<v1::Payment> Client::RecordPayment(
    v1::RecordPaymentRequest request) {
  if (request.idempotency_key().empty()) {
    request.set_idempotency_key(GenerateRequestId());
  }
  return connection_->RecordPayment(request);
}

absl::StatusOr<v1::RecordPaymentsResponse> Client::RecordPayments(
    v1::RecordPaymentsRequest request) {
  for (v1::RecordPaymentRequest& item : *request.mutable_items()) {
    if (item.idempotency_key().empty()) {
      item.set_idempotency_key(GenerateRequestId());
    }
  }
  return connection_->RecordPayments(request);
}

absl::StatusOr<v1::Payment> Client::ReversePayment(absl::string_view payment_id,
                                                   absl::string_view reason,
                                                   std::string request_id) {
  v1::ReversePaymentRequest request;
  request.set_request_id(IdOrNew(std::move(request_id)));
  request.set_payment_id(std::string(payment_id));
  request.set_reason(std::string(reason));
  return connection_->ReversePayment(request);
}

absl::StatusOr<v1::LoginResponse> Client::Login(absl::string_view user_name,
                                                absl::string_view password) {
  v1::LoginRequest request;
  request.set_user_name(std::string(user_name));
  request.set_password(std::string(password));
  return connection_->Login(request);
}

absl::StatusOr<v1::User> Client::AddUser(const v1::User& user, absl::string_view password) {
  v1::AddUserRequest request;
  request.set_request_id(GenerateRequestId());
  *request.mutable_user() = user;
  request.set_password(std::string(password));
  return connection_->AddUser(request);
}

absl::StatusOr<v1::User> Client::DisableUser(absl::string_view user_name) {
  v1::DisableUserRequest request;
  request.set_request_id(GenerateRequestId());
  request.set_user_name(std::string(user_name));
  return connection_->DisableUser(request);
}

absl::StatusOr<v1::User> Client::ResetPassword(absl::string_view user_name,
                                               absl::string_view password) {
  v1::ResetPasswordRequest request;
  request.set_request_id(GenerateRequestId());
  request.set_user_name(std::string(user_name));
  request.set_password(std::string(password));
  return connection_->ResetPassword(request);
}

absl::StatusOr<v1::ListUsersResponse> Client::ListUsers(absl::string_view office_code) {
  v1::ListUsersRequest request;
  request.set_office_code(std::string(office_code));
  return connection_->ListUsers(request);
}

absl::StatusOr<v1::ReconciliationReport> Client::Reconcile(
    const v1::ReconcileRequest& request) {
  return connection_->Reconcile(request);
}

absl::StatusOr<v1::StatementReconciliation> Client::ReconcileStatement(
    const v1::ReconcileStatementRequest& request) {
  return connection_->ReconcileStatement(request);
}

absl::StatusOr<v1::ListAuditChainResponse> Client::ListAuditChain(int64_t after_seq,
                                                                  int page_size) {
  v1::ListAuditChainRequest request;
  request.set_after_seq(after_seq);
  request.set_page_size(page_size);
  return connection_->ListAuditChain(request);
}

absl::StatusOr<v1::QueryAuditResponse> Client::QueryAudit(
    const v1::QueryAuditRequest& request) {
  return connection_->QueryAudit(request);
}

absl::StatusOr<v1::AuditCheckpoint> Client::GetAuditCheckpoint() {
  return connection_->GetAuditCheckpoint(v1::GetAuditCheckpointRequest());
}

absl::StatusOr<ServingStatus> Client::Check() { return connection_->Check(); }

}  // namespace socle::client
