#include "server/audit.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace socle {

absl::Status AppendAudit(storage::Txn& txn, absl::Time now,
                         const Caller& caller, absl::string_view action,
                         absl::string_view subject, absl::string_view details) {
  storage::AuditRecord entry;
  auto head = txn.LastAudit();
  if (head.ok()) {
    entry.seq = head->seq + 1;
    entry.prev_hash = head->hash;
  } else if (absl::IsNotFound(head.status())) {
    entry.seq = 1;
  } else {
    return head.status();
  }
  entry.at = now;
  entry.actor = caller.Actor();
  entry.office_code = caller.office_code;
  entry.action = std::string(action);
  entry.subject = std::string(subject);
  entry.details = std::string(details);
  entry.hash = AuditHash(entry);
  return txn.AppendAudit(entry);
}

int64_t FirstBrokenAuditEntry(const std::vector<storage::AuditRecord>& chain) {
  return CheckAuditChain(chain).seq;
}

}  // namespace socle
