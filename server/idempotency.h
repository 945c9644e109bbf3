// Exactly-once mutations keyed by a client-generated request id.
#ifndef SOCLE_SERVER_IDEMPOTENCY_H_
#define SOCLE_SERVER_IDEMPOTENCY_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "server/caller.h"
#include "storage/store.h"

namespace socle {

// The path of the first field (in field-number order) whose value differs
// between two messages of the same type, e.g. "person.address.district";
// empty when they are equal.
std::string FirstDifference(const google::protobuf::Message& a,
                            const google::protobuf::Message& b);

// The request as stored for comparison: deterministic bytes of `request`
// with its `request_id` field cleared.
std::string CanonicalRequest(const google::protobuf::Message& request);

// Runs `body` in one store transaction, exactly once per `request_id` of
// one caller (its certificate identity, Caller::id):
// - the first time, `body` runs and, when it succeeds, its answer is stored
//   with the request and the caller in the same transaction;
// - a replay of the same request by the same caller returns the stored
//   answer, running nothing;
// - the same id with another method or different content returns
//   ALREADY_EXISTS with ErrorInfo REQUEST_ID_REUSED naming the differing field;
// - the same id from another caller returns REQUEST_ID_REUSED naming
//   "request_id", and nothing of the first request or its answer: ids are
//   random, so only a leaked or copied id meets another caller's, and the
//   answer or the differing field would tell that caller what was asked.
//   Requests stored before they were kept with their caller answer any
//   caller, as they did then.
// A failed `body` stores nothing, so the id may be used again.
absl::Status RunIdempotent(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id, const google::protobuf::Message& request,
    absl::Time now, google::protobuf::Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, google::protobuf::Message&)> body);

// RunIdempotent for a body whose first steps are the lookups of `ahead`
// (before it writes anything): the store may send them together with the
// request id's (storage::ReadTxn::Prefetch).
absl::Status RunIdempotent(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id, const google::protobuf::Message& request,
    absl::Time now, const storage::Lookahead& ahead, google::protobuf::Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, google::protobuf::Message&)> body);

// RunIdempotent for a request too large to keep whole (a batch of persons):
// `fingerprint` (digests of the request's parts) is stored and compared in
// place of the request, and `differing_field(prior)` names the first part
// whose digest differs from the stored fingerprint `prior`. Written alone
// (Store::WriteAlone): a batch is a large transaction.
absl::Status RunIdempotentByFingerprint(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id,
    absl::string_view fingerprint,
    absl::FunctionRef<std::string(const std::string& prior)> differing_field, absl::Time now,
    google::protobuf::Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, google::protobuf::Message&)> body);

}  // namespace socle

#endif  // SOCLE_SERVER_IDEMPOTENCY_H_
