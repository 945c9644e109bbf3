// The sealed columns both backends share, so that they seal the same values
// under the same contexts (storage/keys.h): a backend maps these strings to
// its columns and never sees a key.
//
// Contexts (persisted: DO NOT CHANGE, or stored values stop opening):
//   persons/national_id/<id>   persons/facts/<id>
//   life_events/details/<id>
//   requests/request/<request id>   requests/response/<request id>
#ifndef SOCLE_STORAGE_SEALED_COLUMNS_H_
#define SOCLE_STORAGE_SEALED_COLUMNS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace socle::storage {

// A person's sealed columns as written.
struct SealedPerson {
  std::string national_id;        // empty when the person has none
  std::string national_id_index;  // empty when the person has none
  std::string facts;              // always sealed, even when empty
};
SealedPerson SealPerson(const KeyRing& keys, int64_t id,
                        absl::string_view national_id, absl::string_view facts);
// Fills p->national_id and p->facts of person p->id from the stored columns
// (`national_id` empty when none). DATA_LOSS / FAILED_PRECONDITION as
// KeyRing::Open.
absl::Status OpenPerson(const KeyRing& keys, absl::string_view national_id,
                        absl::string_view facts, PersonRecord* p);

// A life event's details (a disability certified, a wage found, ...).
inline std::string SealEventDetails(const KeyRing& keys, int64_t id,
                                    absl::string_view details) {
  return keys.Seal(details, KeyRing::Context("life_events", "details", id));
}
inline absl::StatusOr<std::string> OpenEventDetails(const KeyRing& keys, int64_t id,
                                                    absl::string_view sealed) {
  return keys.Open(sealed, KeyRing::Context("life_events", "details", id));
}

struct SealedRequest {
  std::string request;
  std::string response;
};
SealedRequest SealRequest(const KeyRing& keys, const RequestRecord& r);
// Fills r->request and r->response of request r->request_id from the stored
// columns.
absl::Status OpenRequest(const KeyRing& keys, absl::string_view request,
                         absl::string_view response, RequestRecord* r);

// Whether a stored sealed value is under another key than the newest.
inline bool UnderOldKey(const KeyRing& keys, absl::string_view sealed) {
  return KeyRing::KeyIdOf(sealed) != keys.current_key_id();
}

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_SEALED_COLUMNS_H_
