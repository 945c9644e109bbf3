// Personal data at rest: the keys, the sealed-value format and the blind
// index. Both backends seal the same columns with the same KeyRing, so a
// database moved from one backend to the other (or a backup) is readable
// with the same key files, and unreadable without them.
//
// Sealed value (persisted: DO NOT CHANGE; a new layout takes a new format
// byte):
//
//   byte 0       format, 0x01
//   bytes 1..4   key id, big-endian uint32 (>= 1)
//   bytes 5..16  nonce, 96 random bits (RAND_bytes), fresh for every value
//   bytes 17..   AES-256-GCM ciphertext, then the 16-byte tag
//
// The GCM additional data is the 5 header bytes followed by the value's
// context, "<table>/<column>/<row identity>" (see Context()): a sealed value
// copied to another row, another column or another table fails to open, as
// does one whose key id was changed.
//
// Why random nonces are safe here: with 96-bit random nonces the chance of a
// repeat stays below 2^-32 for 2^32 values under one key (NIST SP 800-38D
// 8.3); a registry of a country's residents, resealed at each rotation,
// stays far below that.
//
// Blind index: HMAC-SHA-256 under a separate index key over the national ID
// as the registry normalises it (ASCII whitespace stripped at both ends,
// ASCII upper case, before it reaches the store: the index hashes the
// bytes it is given, as the store compares them), truncated to 16 bytes (128 bits: collisions among a
// country's IDs are out of reach, and the truncation saves index space).
// It lets the database enforce uniqueness and find a person by national ID
// without holding the ID; without the index key an attacker holding the
// database cannot test guesses offline. The index key is never rotated by
// `socle-admin keys rotate` (the indexes would all change at once); it is a
// separate file so that it can be kept as long as the data lives.
#ifndef SOCLE_STORAGE_KEYS_H_
#define SOCLE_STORAGE_KEYS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace socle::storage {

class KeyRing {
 public:
  using Key = std::array<unsigned char, 32>;

  // Reads the key files. `data_keys_path`: one key a line, "<id> <64 hex
  // digits>" (id a decimal integer >= 1, unique), '#' starts a comment, blank
  // lines ignored; the highest id seals new values, every listed key opens
  // values. `index_key_path`: one line of 64 hex digits. Both files must be
  // readable by their owner only (mode 0600 or stricter): FAILED_PRECONDITION
  // otherwise. Errors name the file and line, never key material.
  static absl::StatusOr<std::shared_ptr<const KeyRing>> Load(
      const std::string& data_keys_path, const std::string& index_key_path);
  // From keys in memory (tests, tools). INVALID_ARGUMENT when `data_keys` is
  // empty or has id 0.
  static absl::StatusOr<std::shared_ptr<const KeyRing>> Make(
      std::map<uint32_t, Key> data_keys, const Key& index_key);
  // Keys drawn at random once per process and shared by every caller: for
  // tests and in-process servers of tests only. Whatever they seal is
  // unreadable once the process ends (socle-server's main() never uses them).
  static std::shared_ptr<const KeyRing> ProcessTestKeys();

  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // "<table>/<column>/<row>": the context of a sealed value.
  static std::string Context(absl::string_view table, absl::string_view column,
                             absl::string_view row);
  static std::string Context(absl::string_view table, absl::string_view column,
                             int64_t row);

  // Seals `plaintext` under the newest key, bound to `context`.
  std::string Seal(absl::string_view plaintext, absl::string_view context) const;
  // The plaintext of a value sealed by Seal with the same context. DATA_LOSS
  // when the value is malformed, was altered, or belongs to another context;
  // FAILED_PRECONDITION when its key is not in this ring (the key file lacks
  // an old key that data still uses: see `socle-admin keys rotate`).
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view context) const;
  // The id of the key that sealed `sealed`; 0 when it is not a sealed value.
  static uint32_t KeyIdOf(absl::string_view sealed);

  // The newest key's id: the one Seal uses.
  uint32_t current_key_id() const { return current_; }
  // The 16-byte blind index of a national ID, as given (see above); empty
  // for an empty ID.
  std::string BlindIndex(absl::string_view national_id) const;

 private:
  KeyRing() = default;

  std::map<uint32_t, Key> data_keys_;
  uint32_t current_ = 0;
  Key index_key_{};
  // HMAC-SHA-256 keyed with index_key_, copied by each BlindIndex call
  // (EVP_MAC_CTX_dup only reads it, so concurrent calls are safe).
  evp_mac_ctx_st* index_mac_ = nullptr;
};

}  // namespace socle::storage

#endif  // SOCLE_STORAGE_KEYS_H_
