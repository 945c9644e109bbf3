// Key rotation: re-sealing personal data at rest under the newest data key
// (socle.v1.KeysAdmin, proto/socle/v1/keys.proto). No gRPC here.
#ifndef SOCLE_SERVER_KEYS_H_
#define SOCLE_SERVER_KEYS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/caller.h"
#include "socle/v1/keys.pb.h"
#include "storage/store.h"

namespace socle {

class KeyRotation {
 public:
  // `current_key_id`: the newest data key of the store's key ring, reported
  // in answers.
  KeyRotation(storage::Store* store, const Clock* clock, uint32_t current_key_id)
      : store_(*store), clock_(*clock), current_key_id_(current_key_id) {}

  // See KeysAdmin.RotateKeys. Each batch that rewrites rows appends one
  // audit entry ("RotateKeys", subject the table, the counts) in its own
  // transaction.
  absl::StatusOr<v1::RotateKeysResponse> RotateKeys(
      const Caller& caller, const v1::RotateKeysRequest& request);

 private:
  storage::Store& store_;
  const Clock& clock_;
  const uint32_t current_key_id_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_KEYS_H_
