// The status of one item of a batch call (RecordPayments, RegisterPersons),
// answered inside a successful response.
#ifndef SOCLE_SERVER_ITEM_STATUS_H_
#define SOCLE_SERVER_ITEM_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace socle {

// google.rpc.Status of one batch item, with the details the adapters' status
// conversion would attach (BadRequest, ErrorInfo). INTERNAL and UNKNOWN
// texts stay in the server log.
google::rpc::Status RpcStatus(const absl::Status& status);

// An item's own failure (it fails alone), as opposed to the store failing,
// which fails the whole call.
bool IsItemError(const absl::Status& s);

}  // namespace socle

#endif  // SOCLE_SERVER_ITEM_STATUS_H_
