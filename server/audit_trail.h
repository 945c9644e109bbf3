// The audit trail for auditors (socle.v1.AuditAdmin): the raw chain, queries,
// and signed checkpoints of the head. Reads only; no gRPC in it.
#ifndef SOCLE_SERVER_AUDIT_TRAIL_H_
#define SOCLE_SERVER_AUDIT_TRAIL_H_

#include "absl/status/statusor.h"
#include "common/audit_chain.h"
#include "common/clock.h"
#include "server/caller.h"
#include "socle/v1/audit.pb.h"
#include "storage/store.h"

namespace socle {

class AuditTrail {
 public:
  // `signer` may be null: GetCheckpoint then answers FAILED_PRECONDITION.
  // Every pointer must outlive this object.
  AuditTrail(storage::Store* store, const Clock* clock, const AuditSigner* signer)
      : store_(*store), clock_(*clock), signer_(signer) {}

  // Entries exactly as stored, from request.after_seq() on (see
  // audit.proto). INVALID_ARGUMENT for a negative after_seq or page_size.
  absl::StatusOr<v1::ListAuditChainResponse> ListChain(
      const Caller& caller, const v1::ListAuditChainRequest& request);
  // INVALID_ARGUMENT naming the field for a bad page token, page size or
  // time range.
  absl::StatusOr<v1::QueryAuditResponse> Query(const Caller& caller,
                                               const v1::QueryAuditRequest& request);
  // The head at this moment, signed; FAILED_PRECONDITION (reason
  // NO_AUDIT_SIGNING_KEY) without a signer.
  absl::StatusOr<v1::AuditCheckpoint> GetCheckpoint(
      const Caller& caller, const v1::GetAuditCheckpointRequest& request);

  static constexpr int kDefaultChainPage = 1000;
  static constexpr int kMaxChainPage = 5000;
  static constexpr int kDefaultQueryPage = 100;
  static constexpr int kMaxQueryPage = 1000;

 private:
  storage::Store& store_;
  const Clock& clock_;
  const AuditSigner* signer_;
};

v1::AuditEntry ToProto(const storage::AuditRecord& record);

}  // namespace socle

#endif  // SOCLE_SERVER_AUDIT_TRAIL_H_
