// The audit trail: every mutation appends an entry in its own transaction.
// Entries are hash-chained (common/audit_chain.h, shared with the auditor's
// tool): an altered, removed or reordered entry breaks the chain from that
// point on.
#ifndef SOCLE_SERVER_AUDIT_H_
#define SOCLE_SERVER_AUDIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"
#include "server/caller.h"
#include "storage/store.h"

namespace socle {

// Appends one entry after the current head of the trail, inside `txn`.
absl::Status AppendAudit(storage::Txn& txn, absl::Time now,
                         const Caller& caller, absl::string_view action,
                         absl::string_view subject, absl::string_view details);

// One entry of AppendAudits.
struct AuditEvent {
  std::string action;
  std::string subject;
  std::string details;
};

// Appends `events` in order after the current head of the trail, inside
// `txn`: the entries AppendAudit would append one by one, written together.
absl::Status AppendAudits(storage::Txn& txn, absl::Time now, const Caller& caller,
                          const std::vector<AuditEvent>& events);

// Where the chain breaks: the seq expected at the first position whose entry
// does not follow from its predecessor (altered, removed, inserted or
// reordered), or 0 when the chain is intact. An entry altered together with
// its own hash is reported at the next position, whose link no longer holds.
int64_t FirstBrokenAuditEntry(const std::vector<storage::AuditRecord>& chain);

}  // namespace socle

#endif  // SOCLE_SERVER_AUDIT_H_
