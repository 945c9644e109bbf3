#include "server/keys.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "server/audit.h"

namespace socle {

absl::StatusOr<v1::RotateKeysResponse> KeyRotation::RotateKeys(
    const Caller& caller, const v1::RotateKeysRequest& request) {
  // Rewriting the whole registry is an administrator's act (the role table
  // of issue 6 may refine this; the check stays as a floor).
  if (caller.kind != CallerKind::kAdmin && caller.kind != CallerKind::kTest) {
    return absl::PermissionDeniedError("key rotation is for administrators");
  }
  FieldViolations v;
  if (request.batch_size() < 0 || request.batch_size() > 5000) {
    v.Add("batch_size", "must be between 0 (500) and 5000");
  }
  if (request.max_batches() < 0 || request.max_batches() > 1000) {
    v.Add("max_batches", "must be between 0 (20) and 1000");
  }
  RETURN_IF_ERROR(v.ToStatus());
  const int batch_size = request.batch_size() == 0 ? 500 : request.batch_size();
  const int max_batches = request.max_batches() == 0 ? 20 : request.max_batches();

  v1::RotateKeysResponse out;
  out.set_key_id(current_key_id_);
  v1::RotateKeysCursor& cursor = *out.mutable_next();
  cursor = request.after();
  auto all_done = [&] {
    return cursor.persons_done() && cursor.events_done() && cursor.requests_done();
  };
  for (int b = 0; b < max_batches && !all_done(); ++b) {
    enum class Table { kPersons, kEvents, kRequests };
    const Table table = !cursor.persons_done() ? Table::kPersons
                        : !cursor.events_done() ? Table::kEvents
                                                : Table::kRequests;
    static constexpr const char* kNames[] = {"persons", "life_events", "requests"};
    storage::ResealBatch batch;
    // One transaction per batch: a batch either rewrites all its rows or
    // none, and a long rotation never holds the writer for long.
    RETURN_IF_ERROR(store_.Write([&](storage::Txn& txn) -> absl::Status {
      absl::StatusOr<storage::ResealBatch> done =
          table == Table::kPersons
              ? txn.ResealPersons(cursor.after_person_id(), batch_size)
          : table == Table::kEvents
              ? txn.ResealLifeEvents(cursor.after_event_id(), batch_size)
              : txn.ResealRequests(cursor.after_request_id(), batch_size);
      ASSIGN_OR_RETURN(batch, std::move(done));
      if (batch.resealed == 0) return absl::OkStatus();
      return AppendAudit(txn, clock_.Now(), caller, "RotateKeys",
                         kNames[static_cast<int>(table)],
                         absl::StrCat(batch.resealed, " of ", batch.scanned,
                                      " rows resealed under data key ", current_key_id_));
    }));
    out.set_scanned(out.scanned() + batch.scanned);
    out.set_resealed(out.resealed() + batch.resealed);
    const bool table_done = batch.scanned < batch_size;
    switch (table) {
      case Table::kPersons:
        cursor.set_after_person_id(batch.last_person_id);
        cursor.set_persons_done(table_done);
        break;
      case Table::kEvents:
        cursor.set_after_event_id(batch.last_event_id);
        cursor.set_events_done(table_done);
        break;
      case Table::kRequests:
        cursor.set_after_request_id(batch.last_request_id);
        cursor.set_requests_done(table_done);
        break;
    }
  }
  out.set_done(all_done());
  return out;
}

}  // namespace socle
