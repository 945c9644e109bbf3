// The client library's front door: typed calls for a terminal application or
// a ministry system, with no gRPC in sight. Thin and cheap to copy (it shares
// its Connection). Never throws: every call returns absl::StatusOr.
//
// Errors keep the server's code and message; details are on the status:
//   socle::GetFieldViolations(status)  for INVALID_ARGUMENT (bad fields),
//   socle::GetErrorInfo(status)        for ALREADY_EXISTS / ABORTED, with
//     reason POSSIBLE_DUPLICATE (metadata "candidates": comma-separated
//     beneficiary numbers), NATIONAL_ID_TAKEN, REQUEST_ID_REUSED (metadata
//     "field"), STALE_VERSION (metadata "current_version");
//   for FAILED_PRECONDITION from Enrol, reason NOT_ELIGIBLE (metadata
//     "failed_criteria": the failed criteria's descriptions joined by "; ").
//
// Writes: every write carries a request_id (idempotency key). When the caller
// leaves it empty the Client generates one (GenerateRequestId) and sends that
// same id on every retry of the call, so the server applies the write once.
// A caller that wants to retry a write later itself (e.g. after a crash)
// generates the id first, keeps it, and passes it in.
#ifndef SOCLE_CLIENT_CLIENT_H_
#define SOCLE_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "client/connection.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/payments.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client {

// 128 random bits from a cryptographically seeded generator, as 32 lower-case
// hex characters: a valid request_id that no other terminal will produce.
std::string GenerateRequestId();

// A calendar day as a socle.v1.Date.
v1::Date ToProtoDate(absl::CivilDay day);

struct RegisterOptions {
  // Confirms registration despite possible duplicates (stored with the person).
  std::string duplicate_override_reason;
  // Generated when empty.
  std::string request_id;
};

struct RegisterPersonsOptions {
  // The idempotency key of the whole batch; generated when empty. A caller
  // that may send the batch again later (after a crash, a lost link) sets
  // it and keeps it: the same id always gives back the first answer.
  std::string request_id;
};

struct PageOptions {
  int32_t page_size = 0;  // 0: the server's default (50); at most 500
  std::string page_token;  // from the previous page's next_page_token
};

class Client {
 public:
  explicit Client(std::shared_ptr<Connection> connection);

  // Persons. Numbers may be typed with spaces or dashes ("10000 00017").
  absl::StatusOr<v1::Person> RegisterPerson(const v1::Person& person,
                                            RegisterOptions options = {});
  // Many persons in one call (1 to 10,000, within the 4 MiB message
  // limit), each with its own result: see RegisteredPerson. The call fails
  // as a whole only for a bad batch or an unavailable store.
  absl::StatusOr<v1::RegisterPersonsResponse> RegisterPersons(
      std::vector<v1::PersonToRegister> persons,
      RegisterPersonsOptions options = {});
  absl::StatusOr<v1::Person> GetPerson(absl::string_view beneficiary_number);
  // Replaces the editable fields with those of `person`; ABORTED (reason
  // STALE_VERSION) when the record is no longer at `expected_version`.
  absl::StatusOr<v1::Person> UpdatePerson(absl::string_view beneficiary_number,
                                          int64_t expected_version,
                                          const v1::Person& person,
                                          std::string request_id = "");

  absl::StatusOr<v1::FindPersonsResponse> FindPersons(
      const v1::FindPersonsRequest& request);
  absl::StatusOr<v1::FindPersonsResponse> FindByNationalId(
      absl::string_view national_id, PageOptions page = {});
  // `name`: one or more words, each matching a word of the person's names.
  absl::StatusOr<v1::FindPersonsResponse> FindByNameAndBirth(
      absl::string_view name, absl::CivilDay date_of_birth,
      PageOptions page = {});
  absl::StatusOr<v1::FindPersonsResponse> FindByHousehold(
      absl::string_view household_number, PageOptions page = {});
  absl::StatusOr<v1::FindPersonsResponse> FindByOffice(
      absl::string_view office_code, PageOptions page = {});

  // Households. `office_code` empty: the head's office.
  absl::StatusOr<v1::Household> CreateHousehold(
      absl::string_view head_beneficiary_number, const v1::Address& address,
      absl::string_view office_code = "", std::string request_id = "");
  absl::StatusOr<v1::Household> GetHousehold(
      absl::string_view household_number);
  absl::StatusOr<v1::Household> AddHouseholdMember(
      absl::string_view household_number, absl::string_view beneficiary_number,
      v1::Relationship relationship, std::string request_id = "");
  absl::StatusOr<v1::Household> RemoveHouseholdMember(
      absl::string_view household_number, absl::string_view beneficiary_number,
      std::string request_id = "");
  // `previous_head_relationship` UNSPECIFIED: the server's default
  // (OTHER_RELATIVE).
  absl::StatusOr<v1::Household> SetHouseholdHead(
      absl::string_view household_number, absl::string_view beneficiary_number,
      v1::Relationship previous_head_relationship =
          v1::RELATIONSHIP_UNSPECIFIED,
      std::string request_id = "");

  // Life events.
  absl::StatusOr<v1::RecordLifeEventResponse> RecordLifeEvent(
      absl::string_view beneficiary_number, const v1::LifeEvent& event,
      std::string request_id = "");
  absl::StatusOr<v1::ListLifeEventsResponse> ListLifeEvents(
      absl::string_view beneficiary_number, int32_t page_size = 0,
      absl::string_view page_token = "");

  // Eligibility. Dates left unset mean today (UTC) on the server. Programme
  // codes as in the policy ("CHILD"); empty `programme_codes`: every
  // programme of the policy in force. `view`: ELIGIBILITY_VIEW_BASIC for
  // decisions with only their failed criterion lines (see eligibility.proto);
  // unspecified: FULL.
  absl::StatusOr<v1::CheckEligibilityResponse> CheckEligibility(
      absl::string_view beneficiary_number,
      std::vector<std::string> programme_codes = {},
      std::optional<absl::CivilDay> as_of = {},
      v1::EligibilityView view = v1::ELIGIBILITY_VIEW_UNSPECIFIED);

  // Enrolment. Enrol is refused with FAILED_PRECONDITION (ErrorInfo reason
  // NOT_ELIGIBLE) unless `override_reason` (a supervisor's) is given, and
  // with ALREADY_EXISTS when the person is already enrolled.
  absl::StatusOr<v1::Enrolment> Enrol(absl::string_view beneficiary_number,
                                      absl::string_view programme_code,
                                      std::optional<absl::CivilDay> start = {},
                                      std::string override_reason = "",
                                      std::string request_id = "");
  absl::StatusOr<v1::Enrolment> SuspendEnrolment(
      absl::string_view enrolment_id, absl::string_view reason,
      std::string request_id = "");
  // `reason` is optional for a resumption.
  absl::StatusOr<v1::Enrolment> ResumeEnrolment(
      absl::string_view enrolment_id, absl::string_view reason = "",
      std::string request_id = "");
  // `last_day`: the last day of entitlement; unset: today.
  absl::StatusOr<v1::Enrolment> EndEnrolment(
      absl::string_view enrolment_id, absl::string_view reason,
      std::optional<absl::CivilDay> last_day = {},
      std::string request_id = "");
  absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolmentsOfPerson(
      absl::string_view beneficiary_number, PageOptions page = {});
  // `status` UNSPECIFIED: every status.
  absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolmentsOfProgramme(
      absl::string_view programme_code, absl::string_view office_code,
      v1::EnrolmentStatus status = v1::ENROLMENT_STATUS_UNSPECIFIED,
      PageOptions page = {});
  absl::StatusOr<v1::ListEnrolmentsResponse> ListEnrolments(
      const v1::ListEnrolmentsRequest& request);
  // Re-checks the active enrolments (of `office_code`, or every office).
  absl::StatusOr<v1::RecertifyResponse> Recertify(
      std::optional<absl::CivilDay> as_of = {},
      absl::string_view office_code = "", std::string request_id = "");

  // Policy administration. `text` is a text-format socle.v1.PolicySet;
  // `file_name` names it in the server's messages. A bad policy is
  // INVALID_ARGUMENT with one field violation per problem (field: the path
  // in the policy; description: "<file>:<line>: <what is wrong>").
  absl::StatusOr<v1::PolicyInfo> GetPolicy();
  absl::StatusOr<v1::PolicyInfo> ValidatePolicy(absl::string_view text,
                                                absl::string_view file_name = "");
  absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(
      absl::string_view text, absl::string_view file_name = "",
      std::optional<absl::CivilDay> as_of = {},
      absl::string_view office_code = "");
  absl::StatusOr<v1::PolicyInfo> ActivatePolicy(absl::string_view text,
                                                absl::string_view file_name = "",
                                                std::string request_id = "");
  // `office_code` empty: every office.
  absl::StatusOr<v1::CoverageReport> GetCoverage(
      absl::string_view office_code = "");

  // Keys of personal data at rest: one call of a rotation (see
  // KeysAdmin.RotateKeys); pass the answer's `next` to the next call until
  // `done`.
  absl::StatusOr<v1::RotateKeysResponse> RotateKeys(
      const v1::RotateKeysCursor& after, int batch_size = 0, int max_batches = 0);

  // Payments. Cycles are "C12", lines "L3", payments "P7"; periods
  // "YYYY-MM". Opening a programme's cycle for a period again returns the
  // same cycle.
  absl::StatusOr<v1::Cycle> OpenCycle(absl::string_view programme_code,
                                      absl::string_view period,
                                      std::string request_id = "");
  absl::StatusOr<v1::Cycle> GetCycle(absl::string_view cycle_id);
  absl::StatusOr<v1::ListCyclesResponse> ListCycles(
      const v1::ListCyclesRequest& request);
  absl::StatusOr<v1::Cycle> CloseCycle(absl::string_view cycle_id,
                                       std::string request_id = "");
  // Streams the lines of a cycle to `on_line`, which returns false to stop.
  absl::Status ListCycleLines(const v1::ListCycleLinesRequest& request,
                              const std::function<bool(const v1::Line&)>& on_line);
  // Records a payment exactly once under request.idempotency_key(). When the
  // key is empty one is generated and sent on every retry of this call; a
  // caller that may retry later (after a crash, a lost link) sets the key
  // itself and keeps it: the same key always gives back the same payment.
  absl::StatusOr<v1::Payment> RecordPayment(v1::RecordPaymentRequest request);
  // A batch; items without a key get one generated (see RecordPayment).
  absl::StatusOr<v1::RecordPaymentsResponse> RecordPayments(
      v1::RecordPaymentsRequest request);
  absl::StatusOr<v1::Payment> ReversePayment(absl::string_view payment_id,
                                             absl::string_view reason,
                                             std::string request_id = "");
  absl::StatusOr<v1::ReconciliationReport> Reconcile(
      const v1::ReconcileRequest& request);
  absl::StatusOr<v1::StatementReconciliation> ReconcileStatement(
      const v1::ReconcileStatementRequest& request);

  // Logs a clerk or supervisor in at this terminal; the token goes into
  // ConnectionOptions::token of the connections that act for the user.
  absl::StatusOr<v1::LoginResponse> Login(absl::string_view user_name,
                                          absl::string_view password);
  // User administration (administrators). Writes generate a request_id.
  absl::StatusOr<v1::User> AddUser(const v1::User& user, absl::string_view password);
  absl::StatusOr<v1::User> DisableUser(absl::string_view user_name);
  absl::StatusOr<v1::User> ResetPassword(absl::string_view user_name,
                                         absl::string_view password);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(absl::string_view office_code = "");
  // The audit trail (auditors and administrators). ListAuditChain: one page
  // of the raw chain after `after_seq` (see audit.proto); the caller checks
  // it with common/audit_chain.h.
  absl::StatusOr<v1::ListAuditChainResponse> ListAuditChain(int64_t after_seq,
                                                            int page_size = 0);
  absl::StatusOr<v1::QueryAuditResponse> QueryAudit(const v1::QueryAuditRequest& request);
  absl::StatusOr<v1::AuditCheckpoint> GetAuditCheckpoint();

  // The server's health (grpc.health.v1, service ""): SERVING when it takes
  // calls.
  absl::StatusOr<ServingStatus> Check();

  const std::shared_ptr<Connection>& connection() const { return connection_; }

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace socle::client

#endif  // SOCLE_CLIENT_CLIENT_H_
