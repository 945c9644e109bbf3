// A gMock Connection for tests of code that uses socle::client::Client:
//
//   auto mock = std::make_shared<socle::client::MockConnection>();
//   EXPECT_CALL(*mock, GetPerson).WillOnce(Return(person));
//   socle::client::Client client(mock);
//
// Link GTest::gmock.
#ifndef SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_
#define SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_

#include <gmock/gmock.h>

#include "client/connection.h"

namespace socle::client {

class MockConnection : public Connection {
 public:
  MOCK_METHOD(absl::StatusOr<v1::Person>, RegisterPerson,
              (const v1::RegisterPersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, GetPerson,
              (const v1::GetPersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Person>, UpdatePerson,
              (const v1::UpdatePersonRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::FindPersonsResponse>, FindPersons,
              (const v1::FindPersonsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, CreateHousehold,
              (const v1::CreateHouseholdRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, GetHousehold,
              (const v1::GetHouseholdRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, AddHouseholdMember,
              (const v1::AddHouseholdMemberRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, RemoveHouseholdMember,
              (const v1::RemoveHouseholdMemberRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::Household>, SetHouseholdHead,
              (const v1::SetHouseholdHeadRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::RecordLifeEventResponse>, RecordLifeEvent,
              (const v1::RecordLifeEventRequest&), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListLifeEventsResponse>, ListLifeEvents,
              (const v1::ListLifeEventsRequest&), (override));
  MOCK_METHOD(absl::StatusOr<ServingStatus>, Check, (), (override));
};

}  // namespace socle::client

#endif  // SOCLE_CLIENT_MOCKS_MOCK_CONNECTION_H_
