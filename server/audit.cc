#include "server/audit.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace socle {
namespace {

// Length-prefixed fields, so that no two different entries hash the same text.
void AddField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field, ";");
}

}  // namespace

std::string AuditHash(const storage::AuditRecord& e) {
  std::string text;
  AddField(text, e.prev_hash);
  AddField(text, absl::StrCat(e.seq));
  AddField(text, absl::StrCat(absl::ToUnixMicros(e.at)));
  AddField(text, e.actor);
  AddField(text, e.office_code);
  AddField(text, e.action);
  AddField(text, e.subject);
  AddField(text, e.details);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

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
  std::string prev_hash;
  int64_t expected_seq = 1;
  for (const storage::AuditRecord& e : chain) {
    if (e.seq != expected_seq || e.prev_hash != prev_hash ||
        e.hash != AuditHash(e)) {
      return expected_seq;
    }
    prev_hash = e.hash;
    ++expected_seq;
  }
  return 0;
}

}  // namespace socle
