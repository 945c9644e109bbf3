// Conversions between wire messages (socle.v1) and store records.
#ifndef SOCLE_SERVER_CONVERT_H_
#define SOCLE_SERVER_CONVERT_H_

#include <optional>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "socle/v1/registry.pb.h"
#include "socle/v1/types.pb.h"
#include "storage/records.h"

namespace socle {

// An all-zero Date is "unset". Callers validate before converting.
bool IsSet(const v1::Date& date);
absl::CivilDay ToCivilDay(const v1::Date& date);
v1::Date ToProtoDate(absl::CivilDay day);
std::optional<absl::CivilDay> ToOptionalDay(const v1::Date& date);
google::protobuf::Timestamp ToTimestamp(absl::Time t);

// The person as the API shows it. `household_id` is 0 for none.
v1::Person ToProto(const storage::PersonRecord& record, int64_t household_id);
// Facts stored with the person (empty when the blob is empty or unreadable).
v1::PersonFacts ParseFacts(const storage::PersonRecord& record);

// Copies the client-settable identity fields of `person` into `record` and
// recomputes the search keys. Does not touch id, version, office, facts,
// death, timestamps.
void ApplyIdentity(const v1::Person& person, storage::PersonRecord& record);

v1::Household ToProto(const storage::HouseholdRecord& household,
                      const std::vector<storage::MemberRecord>& members,
                      const std::vector<storage::PersonRecord>& member_persons);

}  // namespace socle

#endif  // SOCLE_SERVER_CONVERT_H_
