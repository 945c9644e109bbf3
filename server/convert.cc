#include "server/convert.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/normalize.h"

namespace socle {

bool IsSet(const v1::Date& date) {
  return date.year() != 0 || date.month() != 0 || date.day() != 0;
}

absl::CivilDay ToCivilDay(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date ToProtoDate(absl::CivilDay day) {
  v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

std::optional<absl::CivilDay> ToOptionalDay(const v1::Date& date) {
  if (!IsSet(date)) return std::nullopt;
  return ToCivilDay(date);
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

v1::PersonFacts ParseFacts(const storage::PersonRecord& record) {
  v1::PersonFacts facts;
  if (!record.facts.empty()) facts.ParseFromString(record.facts);
  return facts;
}

v1::Person ToProto(const storage::PersonRecord& r, int64_t household_id) {
  v1::Person p;
  p.set_beneficiary_number(FormatBeneficiaryNumber(r.id));
  p.set_version(r.version);
  p.set_national_id(r.national_id);
  p.set_given_name(r.given_name);
  p.set_family_name(r.family_name);
  p.set_sex(static_cast<v1::Sex>(r.sex));
  *p.mutable_date_of_birth() = ToProtoDate(r.date_of_birth);
  if (r.date_of_death) *p.mutable_date_of_death() = ToProtoDate(*r.date_of_death);
  v1::Address* a = p.mutable_address();
  a->set_province(r.province);
  a->set_district(r.district);
  a->set_commune(r.commune);
  a->set_village(r.village);
  a->set_street(r.street);
  p.set_phone(r.phone);
  p.set_office_code(r.office_code);
  if (household_id > 0) p.set_household_number(FormatHouseholdNumber(household_id));
  *p.mutable_facts() = ParseFacts(r);
  *p.mutable_registered_at() = ToTimestamp(r.registered_at);
  *p.mutable_updated_at() = ToTimestamp(r.updated_at);
  p.set_duplicate_override_reason(r.duplicate_override_reason);
  return p;
}

void ApplyIdentity(const v1::Person& p, storage::PersonRecord& r) {
  r.national_id = std::string(absl::StripAsciiWhitespace(p.national_id()));
  absl::AsciiStrToUpper(&r.national_id);
  r.given_name = std::string(absl::StripAsciiWhitespace(p.given_name()));
  r.family_name = std::string(absl::StripAsciiWhitespace(p.family_name()));
  r.sex = p.sex();
  r.date_of_birth = ToCivilDay(p.date_of_birth());
  r.province = std::string(absl::StripAsciiWhitespace(p.address().province()));
  r.district = std::string(absl::StripAsciiWhitespace(p.address().district()));
  r.commune = std::string(absl::StripAsciiWhitespace(p.address().commune()));
  r.village = std::string(absl::StripAsciiWhitespace(p.address().village()));
  r.street = std::string(absl::StripAsciiWhitespace(p.address().street()));
  r.phone.clear();
  for (char c : p.phone()) {
    if (c != ' ' && c != '-' && c != '(' && c != ')') r.phone.push_back(c);
  }
  r.name_key = NormalizeName(absl::StrCat(r.given_name, " ", r.family_name));
  r.district_key = NormalizeName(r.district);
}

v1::Household ToProto(const storage::HouseholdRecord& h,
                      const std::vector<storage::MemberRecord>& members,
                      const std::vector<storage::PersonRecord>& persons) {
  v1::Household out;
  out.set_household_number(FormatHouseholdNumber(h.id));
  out.set_version(h.version);
  out.set_office_code(h.office_code);
  v1::Address* a = out.mutable_address();
  a->set_province(h.province);
  a->set_district(h.district);
  a->set_commune(h.commune);
  a->set_village(h.village);
  a->set_street(h.street);
  out.set_head_beneficiary_number(FormatBeneficiaryNumber(h.head_person_id));
  *out.mutable_created_at() = ToTimestamp(h.created_at);
  // Head first, then by joining order.
  auto add = [&](size_t i) {
    v1::HouseholdMember* m = out.add_members();
    m->set_beneficiary_number(FormatBeneficiaryNumber(members[i].person_id));
    m->set_relationship(static_cast<v1::Relationship>(members[i].relationship));
    if (i < persons.size()) {
      m->set_given_name(persons[i].given_name);
      m->set_family_name(persons[i].family_name);
    }
  };
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].person_id == h.head_person_id) add(i);
  }
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].person_id != h.head_person_id) add(i);
  }
  return out;
}

}  // namespace socle
