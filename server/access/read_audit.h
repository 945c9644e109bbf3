// Reads of personal records by ministry systems are audited with the
// system's identity (issue 6): one entry per call, in its own transaction,
// before the answer leaves the server. Other callers' reads are not.
#ifndef SOCLE_SERVER_ACCESS_READ_AUDIT_H_
#define SOCLE_SERVER_ACCESS_READ_AUDIT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/audit.h"
#include "server/caller.h"
#include "storage/store.h"

namespace socle {

// When the caller is a ministry system, appends "Read<action>" about
// `subject` (beneficiary or household numbers, comma-separated); an audit
// that cannot be written fails the call, so no read goes unrecorded.
inline absl::Status AuditMinistryRead(storage::Store& store, absl::Time now,
                                      const Caller& caller, absl::string_view action,
                                      absl::string_view subject) {
  if (caller.kind != CallerKind::kMinistry) return absl::OkStatus();
  return store.Write([&](storage::Txn& txn) {
    return AppendAudit(txn, now, caller, absl::StrCat("Read", action), subject, "");
  });
}

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_READ_AUDIT_H_
