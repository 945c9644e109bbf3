// The one storage interface. Every call is one transaction.
//
// Contracts shared by all backends (the conformance suite in tests/storage
// checks each of them):
// - Write runs `fn` inside a transaction (a savepoint of a group commit in the
//   SQLite backend). When `fn` returns OK, Write returns OK only after the
//   transaction is durable; when `fn` returns an error, nothing it wrote is
//   kept and Write returns that error unchanged. `fn` may run more than once
//   (a backend retries on serialization conflicts), so it must not have side
//   effects outside the transaction other than assigning results.
// - Read runs `fn` on a consistent snapshot and never waits for the writer.
// - Lookups of a missing row return NOT_FOUND; unique violations return
//   ALREADY_EXISTS; an unusable database returns UNAVAILABLE or INTERNAL.
//   Messages name no SQL and no personal data.
#ifndef SOCLE_STORAGE_STORE_H_
#define SOCLE_STORAGE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/records.h"

namespace socle::storage {

// Lookups that a transaction is about to make, each only when set (see
// ReadTxn::Prefetch).
struct Lookahead {
  std::string request_id;                  // GetRequest
  std::string national_id;                 // GetPersonByNationalId
  std::optional<DuplicateKey> duplicates;  // FindPossibleDuplicates
  std::string payment_key;                 // GetPaymentByKey
  int64_t line_id = 0;                     // GetLine
  int64_t person_of_line = 0;              // GetPerson of this line's person
  int64_t person_id = 0;                   // GetPerson
  int64_t membership_of = 0;               // GetMembership (a person id)
  int64_t enrolments_of = 0;               // ListEnrolmentsByPerson (a person id)
  bool inserts_person = false;             // InsertPerson (the id it assigns)
  bool inserts_payment = false;            // InsertPayment (the id it assigns)
  bool appends_audit = false;              // LastAudit, before AppendAudit
};

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  // A hint: the caller is about to make the lookups of `ahead`, in any
  // order, before it writes anything. A backend that pays a round trip per
  // statement (PostgreSQL) sends them together now and answers each from
  // what it received, as long as the transaction has changed nothing since:
  // a write drops the answers not yet taken, and a lookup asked for after
  // it runs as usual. So every answer is the one the lookup would have got
  // without the hint. An insert announced may draw its id now; an id drawn
  // and not used is a gap in the numbering, as a rolled back insert leaves.
  // The default does nothing.
  virtual void Prefetch(const Lookahead& ahead) { (void)ahead; }

  virtual absl::StatusOr<PersonRecord> GetPerson(int64_t id) = 0;
  // NOT_FOUND when no person has this national ID.
  virtual absl::StatusOr<PersonRecord> GetPersonByNationalId(
      absl::string_view national_id) = 0;
  // Living persons (no date of death) with exactly this name key, date of
  // birth and district key, by id.
  virtual absl::StatusOr<std::vector<PersonRecord>> FindPossibleDuplicates(
      absl::string_view name_key, absl::CivilDay date_of_birth,
      absl::string_view district_key) = 0;
  // Persons born on `date_of_birth` whose name key contains every word of
  // `words` as a whole word; ids > after_id, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<PersonRecord>> FindPersonsByNameAndBirth(
      const std::vector<std::string>& words, absl::CivilDay date_of_birth,
      int64_t after_id, int limit) = 0;
  virtual absl::StatusOr<std::vector<PersonRecord>> FindPersonsByOffice(
      absl::string_view office_code, int64_t after_id, int limit) = 0;
  virtual absl::StatusOr<std::vector<PersonRecord>> FindPersonsByHousehold(
      int64_t household_id, int64_t after_id, int limit) = 0;

  virtual absl::StatusOr<HouseholdRecord> GetHousehold(int64_t id) = 0;
  // Members by seq (joining order).
  virtual absl::StatusOr<std::vector<MemberRecord>> ListMembers(
      int64_t household_id) = 0;
  // NOT_FOUND when the person belongs to no household.
  virtual absl::StatusOr<MemberRecord> GetMembership(int64_t person_id) = 0;

  // Events of a person ordered by (date, id), strictly after `after` when
  // given, at most `limit`.
  virtual absl::StatusOr<std::vector<LifeEventRecord>> ListLifeEvents(
      int64_t person_id, std::optional<EventCursor> after, int limit) = 0;

  // Every person, by id: ids > after_id, at most `limit`.
  virtual absl::StatusOr<std::vector<PersonRecord>> ListPersons(int64_t after_id,
                                                                int limit) = 0;
  // Every household membership, by person id: person ids > after_person_id,
  // at most `limit`.
  virtual absl::StatusOr<std::vector<MemberRecord>> ListMemberships(
      int64_t after_person_id, int limit) = 0;

  virtual absl::StatusOr<EnrolmentRecord> GetEnrolment(int64_t id) = 0;
  // All enrolments of a person, by id.
  virtual absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByPerson(
      int64_t person_id) = 0;
  // Enrolments in a programme at an office, with `status` (0: any); ids >
  // after_id, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByProgramme(
      absl::string_view programme_code, absl::string_view office_code,
      int status, int64_t after_id, int limit) = 0;
  // Enrolments with `status` (0: any) at `office_code` (empty: every office);
  // ids > after_id, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolmentsByStatus(
      int status, absl::string_view office_code, int64_t after_id,
      int limit) = 0;

  // The latest activation; NOT_FOUND when none.
  virtual absl::StatusOr<PolicyRecord> GetActivePolicy() = 0;

  // Payments: cycles, lines, payments (issue 5). Every backend implements
  // them; the defaults answer UNIMPLEMENTED only so that a backend can gain
  // them one at a time.
  //
  // A payment is "effective" when it is not a reversal entry and no
  // reversal entry reverses it; the "net" of a line is the sum of its
  // effective payments.

  // With its totals. NOT_FOUND when absent.
  virtual absl::StatusOr<CycleRecord> GetCycle(int64_t id);
  // The cycle of a programme and period; NOT_FOUND when none.
  virtual absl::StatusOr<CycleRecord> FindCycle(absl::string_view programme_code,
                                                absl::string_view period);
  // Cycles with ids < before_id (0: no bound), highest id first, with
  // `programme_code` and `period` (empty: any) and `status` (0: any); at
  // most `limit`, with their totals.
  virtual absl::StatusOr<std::vector<CycleRecord>> ListCycles(
      absl::string_view programme_code, absl::string_view period, int status,
      int64_t before_id, int limit);
  // With its payment figures. NOT_FOUND when absent.
  virtual absl::StatusOr<LineRecord> GetLine(int64_t id);
  // NOT_FOUND when the enrolment has no line in the cycle.
  virtual absl::StatusOr<LineRecord> GetLineByEnrolment(int64_t cycle_id,
                                                        int64_t enrolment_id);
  // Lines of a cycle at `office_code` (empty: every office), by enrolment
  // id: enrolment ids > after_enrolment_id, at most `limit`, with their
  // payment figures.
  virtual absl::StatusOr<std::vector<LineRecord>> ListLines(
      int64_t cycle_id, absl::string_view office_code,
      int64_t after_enrolment_id, int limit);
  // With reversed_by. NOT_FOUND when absent.
  virtual absl::StatusOr<PaymentRecord> GetPayment(int64_t id);
  // NOT_FOUND when no payment was ever recorded under the key.
  virtual absl::StatusOr<PaymentRecord> GetPaymentByKey(
      absl::string_view idempotency_key);
  // Every entry against a line (payments and reversal entries), by id, with
  // reversed_by.
  virtual absl::StatusOr<std::vector<PaymentRecord>> ListPaymentsByLine(
      int64_t line_id);

  // Reconciliation of the cycles of `filter.period`, one row per office,
  // programme and currency having a line or a payment (see
  // ReconciliationTotals for every figure), in that order. Set-based: the
  // work is done by the database, not row by row in the caller.
  virtual absl::StatusOr<std::vector<ReconciliationTotals>> ReconcilePeriod(
      const PeriodFilter& filter);
  // Lines of the period's cycles (filtered by office and programme) whose
  // net differs from the amount owed, ordered by (cycle_id, enrolment_id),
  // strictly after `after` when given, at most `limit`, with their payment
  // figures.
  virtual absl::StatusOr<std::vector<LineRecord>> ListUnbalancedLines(
      const PeriodFilter& filter, std::optional<LineCursor> after, int limit);
  // Effective payments of the period (filtered by office and programme)
  // that have no line or whose person died before `filter.first_day`, with
  // the person's date of death; ids > after_id, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<EffectivePayment>> ListIrregularPayments(
      const PeriodFilter& filter, int64_t after_id, int limit);
  // Effective payments of the period (filtered by office and programme, and
  // by `channel` unless 0) with a non-empty provider reference; ids >
  // after_id, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<PaymentRecord>> ListReferencedPayments(
      const PeriodFilter& filter, int channel, int64_t after_id, int limit);

  // Users (issue 6). NOT_FOUND when no user has this name.
  virtual absl::StatusOr<UserRecord> GetUser(absl::string_view user_name) = 0;
  // Users of `office_code` (empty: every office) with names > after_name, by
  // name, at most `limit`.
  virtual absl::StatusOr<std::vector<UserRecord>> ListUsers(
      absl::string_view office_code, absl::string_view after_name,
      int limit) = 0;

  // NOT_FOUND when the id was never used.
  virtual absl::StatusOr<RequestRecord> GetRequest(
      absl::string_view request_id) = 0;

  // NOT_FOUND when the trail is empty.
  virtual absl::StatusOr<AuditRecord> LastAudit() = 0;
  // Entries with seq > after_seq, by seq, at most `limit`.
  virtual absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t after_seq,
                                                             int limit) = 0;
  // Entries matching every condition of `filter`, with seq > after_seq, by
  // seq, at most `limit`. Indexed by subject and by office; the other
  // conditions alone scan the trail in seq order.
  virtual absl::StatusOr<std::vector<AuditRecord>> QueryAudit(
      const AuditFilter& filter, int64_t after_seq, int limit) = 0;

  // Bulk registration (RegisterPersons). The defaults (store.cc) run the
  // one-row methods in turn; a backend overrides them where one statement
  // per batch saves a round trip per person.
  //
  // Whether a registered person holds each of `national_ids` (result[i] for
  // national_ids[i]; an empty ID is never held).
  virtual absl::StatusOr<std::vector<bool>> NationalIdsHeld(
      const std::vector<std::string>& national_ids);
  // For each key, the ids FindPossibleDuplicates would return (ascending).
  virtual absl::StatusOr<std::vector<std::vector<int64_t>>> FindPossibleDuplicateIds(
      const std::vector<DuplicateKey>& keys);
};

class Txn : public ReadTxn {
 public:
  // Assigns and returns the id. ALREADY_EXISTS when the national ID is taken.
  virtual absl::StatusOr<int64_t> InsertPerson(const PersonRecord& person) = 0;
  // Overwrites every column of the row `person.id` (NOT_FOUND if absent;
  // ALREADY_EXISTS when the national ID is taken by another person).
  virtual absl::Status UpdatePerson(const PersonRecord& person) = 0;

  virtual absl::StatusOr<int64_t> InsertHousehold(
      const HouseholdRecord& household) = 0;
  virtual absl::Status UpdateHousehold(const HouseholdRecord& household) = 0;
  // Assigns seq. ALREADY_EXISTS when the person already belongs to a household.
  virtual absl::Status InsertMember(const MemberRecord& member) = 0;
  // Updates the relationship of an existing member (NOT_FOUND if absent).
  virtual absl::Status UpdateMember(const MemberRecord& member) = 0;
  // NOT_FOUND when the person is not a member of that household.
  virtual absl::Status DeleteMember(int64_t household_id,
                                    int64_t person_id) = 0;

  // Assigns and returns the id.
  virtual absl::StatusOr<int64_t> InsertLifeEvent(
      const LifeEventRecord& event) = 0;

  // Assigns and returns the id. ALREADY_EXISTS when the person already has an
  // active or suspended enrolment in the programme.
  virtual absl::StatusOr<int64_t> InsertEnrolment(
      const EnrolmentRecord& enrolment) = 0;
  // Overwrites every column of row `enrolment.id` (NOT_FOUND if absent;
  // ALREADY_EXISTS as for insert when reactivating).
  virtual absl::Status UpdateEnrolment(const EnrolmentRecord& enrolment) = 0;

  // Assigns and returns the seq.
  virtual absl::StatusOr<int64_t> InsertPolicy(const PolicyRecord& policy) = 0;

  // Inserts the cycle (status, opening and closing fields as given; id
  // assigned) and, set-based in the database, its lines: one per enrolment
  // in cycle.programme_code with status active (1), start_date <= last_day,
  // end_date absent or >= first_day, and amount_minor > 0, copying its
  // person, office, amount and currency. Then freezes the totals per
  // currency. Returns the cycle as stored. ALREADY_EXISTS when the
  // programme already has a cycle for the period.
  virtual absl::StatusOr<CycleRecord> InsertCycle(const CycleRecord& cycle,
                                                  absl::CivilDay first_day,
                                                  absl::CivilDay last_day);
  // Overwrites status, closed_at and closed_by of row `cycle.id` (NOT_FOUND
  // if absent).
  virtual absl::Status UpdateCycle(const CycleRecord& cycle);
  // Assigns and returns the id. ALREADY_EXISTS when the idempotency key is
  // taken, or when the payment named by reversal_of is already reversed;
  // FAILED_PRECONDITION when the cycle, line, person or reversed payment
  // does not exist.
  virtual absl::StatusOr<int64_t> InsertPayment(const PaymentRecord& payment);

  // ALREADY_EXISTS when the user name is taken.
  virtual absl::Status InsertUser(const UserRecord& user) = 0;
  // Overwrites every column of the row `user.user_name` (NOT_FOUND if absent).
  virtual absl::Status UpdateUser(const UserRecord& user) = 0;

  // ALREADY_EXISTS when the request id is already stored.
  virtual absl::Status PutRequest(const RequestRecord& request) = 0;

  // Key rotation (`socle-admin keys rotate`). Personal data is sealed at
  // rest by every backend (storage/keys.h): persons' national_id and facts,
  // life events' details, requests' request and response. These re-seal, under the store's newest
  // data key, the values of up to `limit` rows after the cursor (persons by
  // id, life events by id, requests by request id) that another key sealed, and seal those
  // written before encryption existed (schema migration 5). Rows already
  // under the newest key are not written, so a batch is idempotent and a
  // rotation interrupted anywhere resumes from any earlier cursor.
  // FAILED_PRECONDITION when a value's key is missing from the key file.
  virtual absl::StatusOr<ResealBatch> ResealPersons(int64_t after_id, int limit);
  virtual absl::StatusOr<ResealBatch> ResealLifeEvents(int64_t after_id, int limit);
  virtual absl::StatusOr<ResealBatch> ResealRequests(
      absl::string_view after_request_id, int limit);

  // ALREADY_EXISTS when the seq is taken.
  virtual absl::Status AppendAudit(const AuditRecord& entry) = 0;

  // Bulk registration, as InsertPerson and AppendAudit row after row (the
  // defaults do exactly that). InsertPersons sets each person's id, ascending
  // in order; ALREADY_EXISTS when a national ID is taken, after which the
  // transaction must fail (some of the persons may have been written).
  virtual absl::Status InsertPersons(std::vector<PersonRecord>& persons);
  virtual absl::Status AppendAudits(const std::vector<AuditRecord>& entries);
};

class Store {
 public:
  virtual ~Store() = default;
  virtual absl::Status Read(absl::FunctionRef<absl::Status(ReadTxn&)> fn) = 0;
  virtual absl::Status Write(absl::FunctionRef<absl::Status(Txn&)> fn) = 0;
  // Write, for one large call (a batch of thousands of rows): the backend
  // may keep it out of the groups of small calls. SQLite does, and runs it
  // without the savepoint that isolates a call within a group, whose
  // sub-journal would copy every page the call changes; it commits a few
  // large calls queued together as one transaction, and runs each again on
  // its own should one of them fail.
  virtual absl::Status WriteAlone(absl::FunctionRef<absl::Status(Txn&)> fn) {
    return Write(fn);
  }
};

// The defaults of the payment methods: UNIMPLEMENTED (see ReadTxn).
namespace store_internal {
inline absl::Status PaymentsUnimplemented() {
  return absl::UnimplementedError("this store has no payments yet");
}
}  // namespace store_internal

inline absl::StatusOr<CycleRecord> ReadTxn::GetCycle(int64_t) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<CycleRecord> ReadTxn::FindCycle(absl::string_view,
                                                      absl::string_view) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<CycleRecord>> ReadTxn::ListCycles(
    absl::string_view, absl::string_view, int, int64_t, int) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<LineRecord> ReadTxn::GetLine(int64_t) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<LineRecord> ReadTxn::GetLineByEnrolment(int64_t,
                                                              int64_t) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<LineRecord>> ReadTxn::ListLines(
    int64_t, absl::string_view, int64_t, int) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<PaymentRecord> ReadTxn::GetPayment(int64_t) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<PaymentRecord> ReadTxn::GetPaymentByKey(
    absl::string_view) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<PaymentRecord>> ReadTxn::ListPaymentsByLine(
    int64_t) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<ReconciliationTotals>>
ReadTxn::ReconcilePeriod(const PeriodFilter&) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<LineRecord>> ReadTxn::ListUnbalancedLines(
    const PeriodFilter&, std::optional<LineCursor>, int) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<EffectivePayment>>
ReadTxn::ListIrregularPayments(const PeriodFilter&, int64_t, int) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<std::vector<PaymentRecord>>
ReadTxn::ListReferencedPayments(const PeriodFilter&, int, int64_t, int) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<CycleRecord> Txn::InsertCycle(const CycleRecord&,
                                                    absl::CivilDay,
                                                    absl::CivilDay) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::Status Txn::UpdateCycle(const CycleRecord&) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<int64_t> Txn::InsertPayment(const PaymentRecord&) {
  return store_internal::PaymentsUnimplemented();
}
inline absl::StatusOr<ResealBatch> Txn::ResealPersons(int64_t, int) {
  return absl::UnimplementedError("this store cannot rotate keys");
}
inline absl::StatusOr<ResealBatch> Txn::ResealLifeEvents(int64_t, int) {
  return absl::UnimplementedError("this store cannot rotate keys");
}
inline absl::StatusOr<ResealBatch> Txn::ResealRequests(absl::string_view, int) {
  return absl::UnimplementedError("this store cannot rotate keys");
}

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_STORE_H_
