// The client library's front door: typed calls for a terminal application or
// a ministry system, with no gRPC in sight. Thin and cheap to copy (it shares
// its Connection). Never throws: every call returns absl::StatusOr.
//
// Errors keep the server's code and message; details are on the status:
//   socle::GetFieldViolations(status)  for INVALID_ARGUMENT (bad fields),
//   socle::GetErrorInfo(status)        for ALREADY_EXISTS / ABORTED, with
//     reason POSSIBLE_DUPLICATE (metadata "candidates": comma-separated
//     beneficiary numbers), NATIONAL_ID_TAKEN, REQUEST_ID_REUSED (metadata
//     "field"), STALE_VERSION (metadata "current_version").
//
// Writes: every write carries a request_id (idempotency key). When the caller
// leaves it empty the Client generates one (GenerateRequestId) and sends that
// same id on every retry of the call, so the server applies the write once.
// A caller that wants to retry a write later itself (e.g. after a crash)
// generates the id first, keeps it, and passes it in.
#ifndef SOCLE_CLIENT_CLIENT_H_
#define SOCLE_CLIENT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "client/connection.h"
#include "socle/v1/registry.pb.h"

namespace socle::client {

// 128 random bits from a cryptographically seeded generator, as 32 lower-case
// hex characters: a valid request_id that no other terminal will produce.
std::string GenerateRequestId();

struct RegisterOptions {
  // Confirms registration despite possible duplicates (stored with the person).
  std::string duplicate_override_reason;
  // Generated when empty.
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

  // The server's health (grpc.health.v1, service ""): SERVING when it takes
  // calls.
  absl::StatusOr<ServingStatus> Check();

  const std::shared_ptr<Connection>& connection() const { return connection_; }

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace socle::client

#endif  // SOCLE_CLIENT_CLIENT_H_
