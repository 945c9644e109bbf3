// Txn over one PostgreSQL connection. The transaction itself (BEGIN,
// SAVEPOINT, COMMIT) is run by PgStore; this class only runs the statements
// of the Store methods. Internal to the PostgreSQL backend.
#ifndef SOCLE_STORAGE_POSTGRES_PG_TXN_H_
#define SOCLE_STORAGE_POSTGRES_PG_TXN_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace socle::storage::pg_internal {

class PgTxn final : public Txn {
 public:
  // `keys` seal and open the personal data (storage/keys.h); both must
  // outlive the txn.
  PgTxn(Connection* conn, const KeyRing* keys) : conn_(conn), keys_(keys) {}

  // The store rolled back to the savepoint of the call that just ran (it
  // failed): what the txn remembers of that call's writes is forgotten.
  void CallRolledBack() {
    audit_head_.reset();
    cycles_.clear();
    checked_ = Checked();
  }

  void Prefetch(const Lookahead& ahead) override;
  absl::StatusOr<PersonRecord> GetPerson(int64_t id) override;
  absl::StatusOr<PersonRecord> GetPersonByNationalId(
      absl::string_view national_id) override;
  absl::StatusOr<std::vector<PersonRecord>> FindPossibleDuplicates(
      absl::string_view name_key, absl::CivilDay date_of_birth,
      absl::string_view district_key) override;
  absl::StatusOr<std::vector<PersonRecord>> FindPersonsByNameAndBirth(
      const std::vector<std::string>& words, absl::CivilDay date_of_birth,
      int64_t after_id, int limit) override;
  absl::StatusOr<std::vector<PersonRecord>> FindPersonsByOffice(
      absl::string_view office_code, int64_t after_id, int limit) override;
  absl::StatusOr<std::vector<PersonRecord>> FindPersonsByHousehold(
      int64_t household_id, int64_t after_id, int limit) override;
  absl::StatusOr<HouseholdRecord> GetHousehold(int64_t id) override;
  absl::StatusOr<std::vector<MemberRecord>> ListMembers(
      int64_t household_id) override;
  absl::StatusOr<MemberRecord> GetMembership(int64_t person_id) override;
  absl::StatusOr<std::vector<LifeEventRecord>> ListLifeEvents(
      int64_t person_id, std::optional<EventCursor> after, int limit) override;
  absl::StatusOr<std::vector<PersonRecord>> ListPersons(int64_t after_id,
                                                        int limit) override;
  absl::StatusOr<std::vector<MemberRecord>> ListMemberships(
      int64_t after_person_id, int limit) override;
  absl::StatusOr<EnrolmentRecord> GetEnrolment(int64_t id) override;
  absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByPerson(
      int64_t person_id) override;
  absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByProgramme(
      absl::string_view programme_code, absl::string_view office_code,
      int status, int64_t after_id, int limit) override;
  absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByStatus(
      int status, absl::string_view office_code, int64_t after_id,
      int limit) override;
  absl::StatusOr<PolicyRecord> GetActivePolicy() override;
  absl::StatusOr<UserRecord> GetUser(absl::string_view user_name) override;
  absl::StatusOr<std::vector<UserRecord>> ListUsers(
      absl::string_view office_code, absl::string_view after_name,
      int limit) override;
  absl::StatusOr<RequestRecord> GetRequest(
      absl::string_view request_id) override;
  absl::StatusOr<AuditRecord> LastAudit() override;
  absl::StatusOr<std::vector<AuditRecord>> QueryAudit(const AuditFilter& filter,
                                                      int64_t after_seq,
                                                      int limit) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t after_seq,
                                                     int limit) override;
  absl::StatusOr<CycleRecord> GetCycle(int64_t id) override;
  absl::StatusOr<CycleRecord> FindCycle(absl::string_view programme_code,
                                        absl::string_view period) override;
  absl::StatusOr<std::vector<CycleRecord>> ListCycles(
      absl::string_view programme_code, absl::string_view period, int status,
      int64_t before_id, int limit) override;
  absl::StatusOr<LineRecord> GetLine(int64_t id) override;
  absl::StatusOr<LineRecord> GetLineByEnrolment(int64_t cycle_id,
                                                int64_t enrolment_id) override;
  absl::StatusOr<std::vector<LineRecord>> ListLines(
      int64_t cycle_id, absl::string_view office_code,
      int64_t after_enrolment_id, int limit) override;
  absl::StatusOr<PaymentRecord> GetPayment(int64_t id) override;
  absl::StatusOr<PaymentRecord> GetPaymentByKey(
      absl::string_view idempotency_key) override;
  absl::StatusOr<std::vector<PaymentRecord>> ListPaymentsByLine(
      int64_t line_id) override;
  absl::StatusOr<std::vector<ReconciliationTotals>> ReconcilePeriod(
      const PeriodFilter& filter) override;
  absl::StatusOr<std::vector<LineRecord>> ListUnbalancedLines(
      const PeriodFilter& filter, std::optional<LineCursor> after,
      int limit) override;
  absl::StatusOr<std::vector<EffectivePayment>> ListIrregularPayments(
      const PeriodFilter& filter, int64_t after_id, int limit) override;
  absl::StatusOr<std::vector<PaymentRecord>> ListReferencedPayments(
      const PeriodFilter& filter, int channel, int64_t after_id,
      int limit) override;

  absl::StatusOr<int64_t> InsertPerson(const PersonRecord& person) override;
  absl::Status UpdatePerson(const PersonRecord& person) override;
  absl::StatusOr<int64_t> InsertHousehold(
      const HouseholdRecord& household) override;
  absl::Status UpdateHousehold(const HouseholdRecord& household) override;
  absl::Status InsertMember(const MemberRecord& member) override;
  absl::Status UpdateMember(const MemberRecord& member) override;
  absl::Status DeleteMember(int64_t household_id, int64_t person_id) override;
  absl::StatusOr<int64_t> InsertLifeEvent(
      const LifeEventRecord& event) override;
  absl::StatusOr<int64_t> InsertEnrolment(
      const EnrolmentRecord& enrolment) override;
  absl::Status UpdateEnrolment(const EnrolmentRecord& enrolment) override;
  absl::StatusOr<int64_t> InsertPolicy(const PolicyRecord& policy) override;
  absl::Status InsertUser(const UserRecord& user) override;
  absl::Status UpdateUser(const UserRecord& user) override;
  absl::Status PutRequest(const RequestRecord& request) override;
  absl::StatusOr<ResealBatch> ResealPersons(int64_t after_id, int limit) override;
  absl::StatusOr<ResealBatch> ResealLifeEvents(int64_t after_id, int limit) override;
  absl::StatusOr<ResealBatch> ResealRequests(absl::string_view after_request_id,
                                             int limit) override;
  absl::Status AppendAudit(const AuditRecord& entry) override;

  absl::StatusOr<std::vector<bool>> NationalIdsHeld(
      const std::vector<std::string>& national_ids) override;
  absl::StatusOr<std::vector<std::vector<int64_t>>> FindPossibleDuplicateIds(
      const std::vector<DuplicateKey>& keys) override;
  absl::Status InsertPersons(std::vector<PersonRecord>& persons) override;
  absl::Status AppendAudits(const std::vector<AuditRecord>& entries) override;
  absl::StatusOr<CycleRecord> InsertCycle(const CycleRecord& cycle,
                                          absl::CivilDay first_day,
                                          absl::CivilDay last_day) override;
  absl::Status UpdateCycle(const CycleRecord& cycle) override;
  absl::StatusOr<int64_t> InsertPayment(const PaymentRecord& payment) override;

 private:
  absl::StatusOr<std::vector<PersonRecord>> Persons(Sql id,
                                                    const Params& params);
  absl::StatusOr<std::vector<EnrolmentRecord>> Enrolments(Sql id,
                                                          const Params& params);
  absl::StatusOr<std::vector<CycleRecord>> Cycles(Sql id,
                                                  const Params& params);
  absl::StatusOr<std::vector<LineRecord>> Lines(Sql id, const Params& params);
  absl::StatusOr<std::vector<PaymentRecord>> Payments(Sql id,
                                                      const Params& params);
  // The next value of a sequence (kNextPersonId and the like): the id of a
  // row about to be inserted.
  absl::StatusOr<int64_t> NextId(Sql id, const ErrorContext& context);
  // Runs a guarded INSERT ... RETURNING of one id. An INSERT ... SELECT
  // that may insert nothing names why with `none_inserted`
  // (FAILED_PRECONDITION).
  absl::StatusOr<int64_t> InsertReturningId(Sql id, const Params& params,
                                            const ErrorContext& context,
                                            const char* none_inserted = nullptr);
  // Runs a guarded statement that changes exactly one row (UPDATE/DELETE by
  // key): NOT_FOUND with `not_found` when it changes none.
  absl::Status ChangeOne(Sql id, const Params& params,
                         const ErrorContext& context, const char* not_found);

  Connection* conn_;
  const KeyRing* keys_;
  std::vector<std::string> padded_words_;  // reused by the name search
  // The head of the audit trail as this transaction sees it, once read or
  // appended: every write reads the head (LastAudit) before appending after
  // it, and a transaction's snapshot never changes, so within one
  // transaction the head changes only by its own appends (and the writers'
  // lock keeps other socle writers out until it commits). Kept, the next
  // calls of the group skip a statement and a round trip each. Forgotten
  // when an append fails and when the store rolls a call back.
  std::optional<AuditRecord> audit_head_;
  // Cycles read by id (GetCycle), kept for the transaction as the audit
  // head is: a group of payments is mostly paid against one cycle, and a
  // cycle changes only by UpdateCycle (its lines and totals never), which
  // forgets them, as InsertCycle and a call rolled back do.
  std::map<int64_t, CycleRecord> cycles_;
  // What the transaction's reads showed, so that an insert whose every
  // failure they rule out may be deferred (Connection::DeferWrite): the
  // writers' lock keeps other writers out, and rows are never deleted, so
  // only the transaction's own writes, which forget what they may change,
  // or a call rolled back, could make them untrue. An insert not covered
  // runs at once, so that fn sees its error (store.h: fn may recover).
  struct Checked {
    std::string national_id_absent;  // GetPersonByNationalId: NOT_FOUND
    std::string payment_key_absent;  // GetPaymentByKey: NOT_FOUND
    int64_t person_found = 0;        // the last read of each, found
    int64_t line_found = 0;
    int64_t cycle_found = 0;
  };
  Checked checked_;
  // The line whose person Prefetch announced (0: none), for GetPerson.
  int64_t person_of_line_ = 0;
};

}  // namespace socle::storage::pg_internal

#endif  // SOCLE_STORAGE_POSTGRES_PG_TXN_H_
