#include "storage/sealed_columns.h"

#include "common/status_macros.h"

namespace socle::storage {

SealedPerson SealPerson(const KeyRing& keys, int64_t id,
                        absl::string_view national_id, absl::string_view facts) {
  SealedPerson s;
  if (!national_id.empty()) {
    s.national_id =
        keys.Seal(national_id, KeyRing::Context("persons", "national_id", id));
    s.national_id_index = keys.BlindIndex(national_id);
  }
  s.facts = keys.Seal(facts, KeyRing::Context("persons", "facts", id));
  return s;
}

absl::Status OpenPerson(const KeyRing& keys, absl::string_view national_id,
                        absl::string_view facts, PersonRecord* p) {
  if (national_id.empty()) {
    p->national_id.clear();
  } else {
    ASSIGN_OR_RETURN(p->national_id,
                     keys.Open(national_id,
                               KeyRing::Context("persons", "national_id", p->id)));
  }
  ASSIGN_OR_RETURN(p->facts,
                   keys.Open(facts, KeyRing::Context("persons", "facts", p->id)));
  return absl::OkStatus();
}

SealedRequest SealRequest(const KeyRing& keys, const RequestRecord& r) {
  return {keys.Seal(r.request, KeyRing::Context("requests", "request", r.request_id)),
          keys.Seal(r.response,
                    KeyRing::Context("requests", "response", r.request_id))};
}

absl::Status OpenRequest(const KeyRing& keys, absl::string_view request,
                         absl::string_view response, RequestRecord* r) {
  ASSIGN_OR_RETURN(r->request,
                   keys.Open(request, KeyRing::Context("requests", "request",
                                                       r->request_id)));
  ASSIGN_OR_RETURN(r->response,
                   keys.Open(response, KeyRing::Context("requests", "response",
                                                        r->request_id)));
  return absl::OkStatus();
}

}  // namespace socle::storage
