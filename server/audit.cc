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

// The entry after (prev_seq, prev_hash), with its own hash.
storage::AuditRecord ChainedEntry(int64_t prev_seq, std::string prev_hash, absl::Time now,
                                  const Caller& caller, absl::string_view action,
                                  absl::string_view subject, absl::string_view details) {
  storage::AuditRecord entry;
  entry.seq = prev_seq + 1;
  entry.prev_hash = std::move(prev_hash);
  entry.at = now;
  entry.actor = caller.Actor();
  entry.office_code = caller.office_code;
  entry.action = std::string(action);
  entry.subject = std::string(subject);
  entry.details = std::string(details);
  entry.hash = AuditHash(entry);
  return entry;
}

}  // namespace

absl::Status AppendAudits(storage::Txn& txn, absl::Time now, const Caller& caller,
                          const std::vector<AuditEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  int64_t seq = 0;
  std::string hash;
  RETURN_IF_ERROR(ReadHead(txn, seq, hash));
  std::vector<storage::AuditRecord> entries;
  entries.reserve(events.size());
  for (const AuditEvent& e : events) {
    entries.push_back(ChainedEntry(seq, std::move(hash), now, caller, e.action, e.subject,
                                   e.details));
    seq = entries.back().seq;
    hash = entries.back().hash;
  }
  return txn.AppendAudits(entries);
}

absl::Status AppendAudit(storage::Txn& txn, absl::Time now,
                         const Caller& caller, absl::string_view action,
                         absl::string_view subject, absl::string_view details) {
  int64_t seq = 0;
  std::string hash;
  RETURN_IF_ERROR(ReadHead(txn, seq, hash));
  return txn.AppendAudit(
      ChainedEntry(seq, std::move(hash), now, caller, action, subject, details));
}

int64_t FirstBrokenAuditEntry(const std::vector<storage::AuditRecord>& chain) {
  return CheckAuditChain(chain).seq;
}

}  // namespace socle
