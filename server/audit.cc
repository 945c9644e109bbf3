#include "server/audit.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace socle {

namespace {

// The seq and hash the next entry follows: (0, "") for an empty trail.
absl::Status ReadHead(storage::Txn& txn, int64_t& seq, std::string& hash) {
  auto head = txn.LastAudit();
  if (head.ok()) {
    seq = head->seq;
    hash = head->hash;
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(head.status())) return head.status();
  seq = 0;
  hash.clear();
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendAudits(storage::Txn& txn, absl::Time now, const Caller& caller,
                          const std::vector<AuditEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  int64_t seq = 0;
  std::string hash;
  RETURN_IF_ERROR(ReadHead(txn, seq, hash));
  std::vector<storage::AuditRecord> entries(events.size());
  const std::string actor = caller.Actor();
  for (size_t i = 0; i < events.size(); ++i) {
    storage::AuditRecord& entry = entries[i];
    entry.seq = ++seq;
    entry.prev_hash = std::move(hash);
    entry.at = now;
    entry.actor = actor;
    entry.office_code = caller.office_code;
    entry.action = events[i].action;
    entry.subject = events[i].subject;
    entry.details = events[i].details;
    entry.hash = AuditHash(entry);
    hash = entry.hash;
  }
  return txn.AppendAudits(entries);
}

absl::Status AppendAudit(storage::Txn& txn, absl::Time now,
                         const Caller& caller, absl::string_view action,
                         absl::string_view subject, absl::string_view details) {
  storage::AuditRecord entry;
  int64_t head_seq = 0;
  RETURN_IF_ERROR(ReadHead(txn, head_seq, entry.prev_hash));
  entry.seq = head_seq + 1;
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
