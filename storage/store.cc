// The defaults of the bulk-registration methods: the one-row methods, in
// order. Correct on every backend; a backend overrides them where one
// statement per batch saves a round trip per person.
#include "storage/store.h"

#include "common/status_macros.h"

namespace socle::storage {

absl::StatusOr<std::vector<bool>> ReadTxn::NationalIdsHeld(
    const std::vector<std::string>& national_ids) {
  std::vector<bool> held(national_ids.size(), false);
  for (size_t i = 0; i < national_ids.size(); ++i) {
    if (national_ids[i].empty()) continue;
    auto person = GetPersonByNationalId(national_ids[i]);
    if (person.ok()) {
      held[i] = true;
    } else if (!absl::IsNotFound(person.status())) {
      return person.status();
    }
  }
  return held;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> ReadTxn::FindPossibleDuplicateIds(
    const std::vector<DuplicateKey>& keys) {
  std::vector<std::vector<int64_t>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSIGN_OR_RETURN(std::vector<PersonRecord> found,
                     FindPossibleDuplicates(keys[i].name_key, keys[i].date_of_birth,
                                            keys[i].district_key));
    out[i].reserve(found.size());
    for (const PersonRecord& p : found) out[i].push_back(p.id);
  }
  return out;
}

absl::Status Txn::InsertPersons(std::vector<PersonRecord>& persons) {
  for (PersonRecord& p : persons) {
    ASSIGN_OR_RETURN(p.id, InsertPerson(p));
  }
  return absl::OkStatus();
}

absl::Status Txn::AppendAudits(const std::vector<AuditRecord>& entries) {
  for (const AuditRecord& e : entries) RETURN_IF_ERROR(AppendAudit(e));
  return absl::OkStatus();
}

}  // namespace socle::storage
