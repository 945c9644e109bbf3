// The principals file: which certificate identities may connect, and as what
// (an office terminal, or a system with one role). Loaded and validated at
// start like the policy: a bad file stops the server with file:line.
#ifndef SOCLE_SERVER_ACCESS_PRINCIPALS_H_
#define SOCLE_SERVER_ACCESS_PRINCIPALS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/caller.h"

namespace socle {

struct PrincipalEntry {
  std::string certificate;  // exact, or a prefix when `prefix`
  bool prefix = false;
  std::string terminal_office;  // set for terminals of one office
  // A terminal whose office is the second field of "terminal:OFFICE:NAME".
  bool office_from_certificate = false;
  Role role = Role::kNone;      // set for systems
};

class Principals {
 public:
  // Parses and validates a text-format socle.v1.PrincipalsFile.
  static absl::StatusOr<Principals> Parse(absl::string_view text,
                                          const std::string& file_name);
  static absl::StatusOr<Principals> Load(const std::string& path);

  // The entry for a certificate common name: an exact entry, else the
  // longest matching prefix; null when none. Valid as long as this object.
  // Run on every call: one hash lookup per distinct prefix length, however
  // many terminals the file lists.
  const PrincipalEntry* Find(absl::string_view common_name) const;

 private:
  absl::flat_hash_map<std::string, PrincipalEntry> exact_;
  absl::flat_hash_map<std::string, PrincipalEntry> prefixes_;
  std::vector<size_t> prefix_lengths_;  // of prefixes_' keys, longest first
};

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_PRINCIPALS_H_
