// Plain records as the Store keeps them. No protobuf, no SQL: the server
// converts to and from the wire types; each backend maps them to its tables.
//
// Stored enum values (sex, relationship, event type) are the socle.v1 proto
// enum numbers, persisted: DO NOT CHANGE them.
#ifndef SOCLE_STORAGE_RECORDS_H_
#define SOCLE_STORAGE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"

namespace socle::storage {

struct PersonRecord {
  int64_t id = 0;       // assigned by the store on insert; >= 1
  int64_t version = 0;  // 1 on insert; the logic increments it on update
  // Empty: none; unique when not empty. Stored sealed (storage/keys.h), and
  // found and kept unique through its blind index.
  std::string national_id;
  std::string given_name;
  std::string family_name;
  int sex = 0;
  absl::CivilDay date_of_birth;
  std::optional<absl::CivilDay> date_of_death;
  std::string province;
  std::string district;
  std::string commune;
  std::string village;
  std::string street;
  std::string phone;
  std::string office_code;
  // NormalizeName(given + " " + family) and NormalizeName(district): the keys
  // of duplicate detection and name search.
  std::string name_key;
  std::string district_key;
  // Serialized socle.v1.PersonFacts: opaque to the store, stored sealed
  // (disability, income and the other facts the rules read).
  std::string facts;
  std::string duplicate_override_reason;
  absl::Time registered_at;
  absl::Time updated_at;
};

// What makes two living persons possible duplicates of each other: the
// same name key, date of birth and district key (PersonRecord).
struct DuplicateKey {
  std::string name_key;
  absl::CivilDay date_of_birth;
  std::string district_key;
};

struct HouseholdRecord {
  int64_t id = 0;  // assigned by the store on insert
  int64_t version = 0;
  std::string office_code;
  std::string province;
  std::string district;
  std::string commune;
  std::string village;
  std::string street;
  int64_t head_person_id = 0;
  absl::Time created_at;
};

struct MemberRecord {
  int64_t household_id = 0;
  int64_t person_id = 0;
  int relationship = 0;
  // Order of joining within the household; assigned by the store on insert.
  int64_t seq = 0;
};

struct LifeEventRecord {
  int64_t id = 0;  // assigned by the store on insert
  int64_t person_id = 0;
  absl::CivilDay date;
  int type = 0;  // the socle.v1.LifeEvent oneof field number
  // Serialized socle.v1.LifeEvent: opaque to the store, stored sealed (it
  // holds wages, disability degrees, ...).
  std::string details;
  bool correction = false;
  absl::Time recorded_at;
  std::string recorded_by;
  std::string office_code;
};

// A mutating request, kept forever under its client-generated id.
struct RequestRecord {
  std::string request_id;
  std::string method;    // full gRPC method name
  // Serialized request (deterministic) and first answer; stored sealed,
  // since they hold whatever personal data the call carried.
  std::string request;
  std::string response;
  absl::Time created_at;
};

// One batch of a key rotation (Txn::ResealPersons, ResealLifeEvents,
// ResealRequests).
struct ResealBatch {
  int64_t scanned = 0;   // rows read
  int64_t resealed = 0;  // rows written under the newest key
  // The cursor to pass next: the last row read (persons: id; requests:
  // request id); unchanged when none was read, i.e. the table is done.
  int64_t last_person_id = 0;
  int64_t last_event_id = 0;
  std::string last_request_id;
};

// One entry of the hash-chained audit trail: defined with its hash in
// common/audit_chain.h, which the auditor's tool shares.
using AuditRecord = ::socle::AuditEntry;

// What QueryAudit selects; empty fields (and absent times) select all.
struct AuditFilter {
  std::string subject;       // exactly, e.g. a beneficiary number
  std::string actor_prefix;  // actors starting with this (byte-wise)
  std::string office_code;   // exactly
  std::optional<absl::Time> since;  // at >= since
  std::optional<absl::Time> until;  // at < until
};

// A person in a programme. Stored status values are socle.v1.EnrolmentStatus
// numbers (1 active, 2 suspended, 3 ended): DO NOT CHANGE them.
struct EnrolmentRecord {
  int64_t id = 0;  // assigned by the store on insert
  int64_t person_id = 0;
  std::string programme_code;
  std::string office_code;  // the person's office when enrolled
  int status = 0;
  absl::CivilDay start_date;
  std::optional<absl::CivilDay> end_date;
  int64_t amount_minor = 0;  // entitlement per period
  std::string currency;
  std::string policy_version;
  int64_t version = 0;
  absl::Time created_at;
  absl::Time updated_at;
  // Serialized socle.v1.Enrolment with the remaining fields (reasons, payee,
  // frequency, planned end): opaque to the store.
  std::string details;
};

// One activation of a policy text; the latest is in force.
struct PolicyRecord {
  int64_t seq = 0;  // assigned by the store on insert
  absl::Time activated_at;
  std::string activated_by;
  std::string file_name;
  std::string text;
};

// A clerk or supervisor who logs in at the terminals of one office (issue
// 6). Stored role values are socle.v1.Role numbers (1 clerk, 2 supervisor):
// DO NOT CHANGE them.
struct UserRecord {
  std::string user_name;  // the key: 3 to 64 characters of [a-z0-9._-]
  std::string display_name;
  int role = 0;
  std::string office_code;
  bool disabled = false;
  // A self-describing salted hash ("pbkdf2-sha256$ITERATIONS$SALT$HASH"):
  // opaque to the store, never a password.
  std::string password_hash;
  int64_t version = 0;  // 1 on insert; the logic increments it on update
  absl::Time created_at;
  absl::Time updated_at;
};

// Cursor for ordered listings of life events: (date, id) of the last one seen.
struct EventCursor {
  absl::CivilDay date;
  int64_t id = 0;
};

// The amounts owed by one cycle in one currency, frozen when it was opened.
struct CycleTotal {
  std::string currency;
  int64_t lines = 0;
  int64_t owed_minor = 0;
};

// A payroll cycle: one programme, one period. Stored status values are
// socle.v1.CycleStatus numbers (1 open, 2 closed): DO NOT CHANGE them.
struct CycleRecord {
  int64_t id = 0;  // assigned by the store on insert
  std::string programme_code;
  std::string period;  // "YYYY-MM"
  int status = 0;
  absl::Time opened_at;
  std::string opened_by;
  std::optional<absl::Time> closed_at;  // set once closed
  std::string closed_by;
  // Read only: computed by the store when the cycle is opened, by currency.
  std::vector<CycleTotal> totals;
};

// One entitlement line of a cycle, made by the store when the cycle is
// opened (never inserted one by one, never changed afterwards).
struct LineRecord {
  int64_t id = 0;
  int64_t cycle_id = 0;
  int64_t enrolment_id = 0;
  int64_t person_id = 0;
  std::string programme_code;
  std::string office_code;  // the enrolment's office at opening
  int64_t amount_minor = 0;  // owed, frozen at opening
  std::string currency;
  // Read only, computed when read: the payments against the line that are
  // not reversal entries and not reversed, their count and their sum.
  int64_t payment_count = 0;
  int64_t paid_minor = 0;
};

// A payment, or the reversal of one. Never updated or deleted. Stored
// channel values are socle.v1.PaymentChannel numbers: DO NOT CHANGE them.
struct PaymentRecord {
  int64_t id = 0;  // assigned by the store on insert
  // Unique forever; empty for a reversal entry.
  std::string idempotency_key;
  int64_t cycle_id = 0;
  int64_t line_id = 0;  // 0: recorded without a line
  int64_t person_id = 0;
  std::string programme_code;
  std::string period;  // the cycle's, "YYYY-MM"
  std::string office_code;
  int64_t amount_minor = 0;  // > 0; a reversal carries the amount reversed
  std::string currency;
  int channel = 0;
  std::string provider_reference;  // may be empty (cash)
  absl::Time paid_at;
  bool supplement = false;
  std::string note;
  absl::Time recorded_at;
  std::string recorded_by;
  // A reversal entry: the id of the payment it reverses (unique: a payment
  // is reversed at most once), and why. 0 and empty for a payment.
  int64_t reversal_of = 0;
  std::string reversal_reason;
  // Read only, computed when read: the reversal entry of this payment, 0
  // when it is not reversed.
  int64_t reversed_by = 0;
};

// The cycles of one period, for reconciliation.
struct PeriodFilter {
  std::string period;          // "YYYY-MM"
  absl::CivilDay first_day;    // the period's first day
  std::string office_code;     // empty: every office
  std::string programme_code;  // empty: every programme
};

// Cursor for listings of lines across the cycles of a period.
struct LineCursor {
  int64_t cycle_id = 0;
  int64_t enrolment_id = 0;
};

// A payment of a period that is not a reversal entry and not reversed, with
// its person's date of death, for reconciliation.
struct EffectivePayment {
  PaymentRecord payment;
  std::optional<absl::CivilDay> date_of_death;
};

// Reconciliation of one office, programme and currency over the cycles of
// one period, computed by the store in set-based aggregates. "Net" of a
// line is the sum of its payments that are not reversal entries and not
// reversed; "n" is their count.
struct ReconciliationTotals {
  std::string office_code;
  std::string programme_code;
  std::string currency;
  int64_t lines = 0;
  int64_t owed_minor = 0;  // sum of the lines' amounts
  // Payment entries (not reversal entries), reversed or not, and their sum.
  int64_t payments = 0;
  int64_t paid_minor = 0;
  // Sum of the reversal entries.
  int64_t reversed_minor = 0;
  // Sum over lines of max(owed - net, 0).
  int64_t outstanding_minor = 0;
  // Sum over lines of max(net - owed, 0), plus the sum of the payments
  // without a line that are not reversed.
  int64_t excess_minor = 0;
  // Lines: net == owed; net == 0; 0 < net < owed; net > owed and not paid
  // twice; n >= 2 and net >= 2 * owed.
  int64_t paid_in_full = 0;
  int64_t unpaid = 0;
  int64_t underpaid = 0;
  int64_t overpaid = 0;
  int64_t paid_twice = 0;
  // Payments not reversed and not reversal entries: those to a person who
  // died before the period's first day; of the others, those without a line.
  int64_t paid_after_death = 0;
  int64_t paid_without_entitlement = 0;
};

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_RECORDS_H_
