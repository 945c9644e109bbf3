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

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace socle::storage {

struct PersonRecord {
  int64_t id = 0;       // assigned by the store on insert; >= 1
  int64_t version = 0;  // 1 on insert; the logic increments it on update
  std::string national_id;  // empty: none; unique when not empty
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
  // Serialized socle.v1.PersonFacts: opaque to the store.
  std::string facts;
  std::string duplicate_override_reason;
  absl::Time registered_at;
  absl::Time updated_at;
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
  // Serialized socle.v1.LifeEvent: opaque to the store.
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
  std::string request;   // serialized request (deterministic)
  std::string response;  // serialized first answer
  absl::Time created_at;
};

// One entry of the hash-chained audit trail.
struct AuditRecord {
  int64_t seq = 0;  // 1, 2, 3, ... with no gap; chosen by the caller
  absl::Time at;
  std::string actor;        // certificate identity (and later, user)
  std::string office_code;  // the actor's office, empty for none
  std::string action;       // e.g. "RegisterPerson"
  std::string subject;      // e.g. a beneficiary number
  std::string details;      // short, no personal data beyond the subject
  std::string prev_hash;    // hex SHA-256 of the previous entry, "" for seq 1
  std::string hash;         // hex SHA-256 over prev_hash and this entry
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

// Cursor for ordered listings of life events: (date, id) of the last one seen.
struct EventCursor {
  absl::CivilDay date;
  int64_t id = 0;
};

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_RECORDS_H_
