#include "server/idempotency.h"

#include "gtest/gtest.h"
#include "socle/v1/registry.pb.h"

namespace socle {
namespace {

TEST(FirstDifferenceTest, NamesTheFirstDifferingFieldPath) {
  v1::RegisterPersonRequest a;
  a.mutable_person()->set_given_name("Sokha");
  a.mutable_person()->mutable_address()->set_district("Siem Reap");
  v1::RegisterPersonRequest b = a;
  EXPECT_EQ(FirstDifference(a, b), "");
  b.mutable_person()->mutable_address()->set_district("Puok");
  EXPECT_EQ(FirstDifference(a, b), "person.address.district");
  b = a;
  b.set_duplicate_override_reason("twins");
  EXPECT_EQ(FirstDifference(a, b), "duplicate_override_reason");
  b = a;
  b.mutable_person()->mutable_facts()->add_employment();
  EXPECT_EQ(FirstDifference(a, b), "person.facts.employment");
  a.mutable_person()->mutable_facts()->add_employment()->set_employer("A");
  b.mutable_person()->mutable_facts()->mutable_employment(0)->set_employer("B");
  EXPECT_EQ(FirstDifference(a, b), "person.facts.employment[0].employer");
}

TEST(CanonicalRequestTest, IgnoresTheRequestIdAndIsDeterministic) {
  v1::RegisterPersonRequest a;
  a.set_request_id("one");
  a.mutable_person()->set_given_name("Sokha");
  v1::RegisterPersonRequest b = a;
  b.set_request_id("two");
  EXPECT_EQ(CanonicalRequest(a), CanonicalRequest(b));
  b.mutable_person()->set_given_name("Dara");
  EXPECT_NE(CanonicalRequest(a), CanonicalRequest(b));
}

}  // namespace
}  // namespace socle
