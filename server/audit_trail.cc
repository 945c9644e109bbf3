#include "server/audit_trail.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "server/convert.h"

namespace socle {
namespace {

constexpr absl::string_view kTokenPrefix = "audit:";

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

bool ValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.nanos() >= 0 && t.nanos() < 1'000'000'000;
}

}  // namespace

v1::AuditEntry ToProto(const storage::AuditRecord& r) {
  v1::AuditEntry e;
  e.set_seq(r.seq);
  *e.mutable_at() = ToTimestamp(r.at);
  e.set_actor(r.actor);
  e.set_office_code(r.office_code);
  e.set_action(r.action);
  e.set_subject(r.subject);
  e.set_details(r.details);
  e.set_prev_hash(r.prev_hash);
  e.set_hash(r.hash);
  return e;
}

absl::StatusOr<v1::ListAuditChainResponse> AuditTrail::ListChain(
    const Caller&, const v1::ListAuditChainRequest& request) {
  FieldViolations v;
  if (request.after_seq() < 0) v.Add("after_seq", "must not be negative");
  if (request.page_size() < 0) v.Add("page_size", "must not be negative");
  RETURN_IF_ERROR(v.ToStatus());
  const int size = request.page_size() == 0
                       ? kDefaultChainPage
                       : std::min(request.page_size(), kMaxChainPage);
  v1::ListAuditChainResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.Clear();
    // One more than asked, to tell whether the page ends the chain.
    ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> entries,
                     txn.ListAudit(request.after_seq(), size + 1));
    out.set_end_of_chain(entries.size() <= static_cast<size_t>(size));
    if (!out.end_of_chain()) entries.pop_back();
    for (const storage::AuditRecord& e : entries) *out.add_entries() = ToProto(e);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::QueryAuditResponse> AuditTrail::Query(
    const Caller&, const v1::QueryAuditRequest& request) {
  FieldViolations v;
  storage::AuditFilter filter;
  filter.subject = request.subject();
  filter.actor_prefix = request.actor_prefix();
  filter.office_code = request.office_code();
  if (request.has_since()) {
    if (ValidTimestamp(request.since())) {
      filter.since = FromTimestamp(request.since());
    } else {
      v.Add("since", "is not a valid timestamp");
    }
  }
  if (request.has_until()) {
    if (ValidTimestamp(request.until())) {
      filter.until = FromTimestamp(request.until());
    } else {
      v.Add("until", "is not a valid timestamp");
    }
  }
  if (filter.since && filter.until && *filter.until <= *filter.since) {
    v.Add("until", "must be after since");
  }
  if (request.page_size() < 0) v.Add("page_size", "must not be negative");
  int64_t after_seq = 0;
  if (!request.page_token().empty()) {
    std::string decoded;
    absl::string_view rest;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &decoded) ||
        !absl::StartsWith(decoded, kTokenPrefix) ||
        !absl::SimpleAtoi((rest = absl::string_view(decoded).substr(kTokenPrefix.size())),
                          &after_seq) ||
        after_seq < 0) {
      v.Add("page_token", "is not a page token of this query");
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  const int size = request.page_size() == 0
                       ? kDefaultQueryPage
                       : std::min(request.page_size(), kMaxQueryPage);
  v1::QueryAuditResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    out.Clear();
    ASSIGN_OR_RETURN(std::vector<storage::AuditRecord> entries,
                     txn.QueryAudit(filter, after_seq, size + 1));
    const bool more = entries.size() > static_cast<size_t>(size);
    if (more) entries.pop_back();
    for (const storage::AuditRecord& e : entries) *out.add_entries() = ToProto(e);
    if (more) {
      out.set_next_page_token(absl::WebSafeBase64Escape(
          absl::StrCat(kTokenPrefix, entries.back().seq)));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::AuditCheckpoint> AuditTrail::GetCheckpoint(
    const Caller&, const v1::GetAuditCheckpointRequest&) {
  if (signer_ == nullptr) {
    return WithErrorInfo(
        absl::FailedPreconditionError(
            "this server has no audit signing key (--audit_signing_key)"),
        ErrorInfo{"NO_AUDIT_SIGNING_KEY", {}});
  }
  AuditCheckpoint checkpoint;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    absl::StatusOr<storage::AuditRecord> head = txn.LastAudit();
    if (head.ok()) {
      checkpoint.seq = head->seq;
      checkpoint.hash = head->hash;
    } else if (absl::IsNotFound(head.status())) {
      checkpoint.seq = 0;
      checkpoint.hash.clear();
    } else {
      return head.status();
    }
    return absl::OkStatus();
  }));
  checkpoint.time = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
  RETURN_IF_ERROR(signer_->Sign(checkpoint));
  v1::AuditCheckpoint out;
  out.set_seq(checkpoint.seq);
  out.set_hash(checkpoint.hash);
  *out.mutable_time() = ToTimestamp(checkpoint.time);
  out.set_key_fingerprint(checkpoint.key_fingerprint);
  out.set_signature(checkpoint.signature);
  return out;
}

}  // namespace socle
