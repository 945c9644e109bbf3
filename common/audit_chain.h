// The audit trail's chain and its signed checkpoints, shared by the server
// (which appends and signs) and the auditor's tool (which re-verifies
// everything itself and trusts nothing the server says about the chain).
//
// Chain: entry n's hash is SHA-256 over entry n-1's hash and entry n's
// fields (length-prefixed), so an altered, removed, inserted or reordered
// entry breaks the chain from that point on. The function is persisted in
// every stored hash: DO NOT CHANGE it.
//
// Checkpoint: the head (seq, hash) at a time, signed with Ed25519 by the
// server's audit signing key. An auditor keeps checkpoints; a later chain
// that no longer holds the checkpoint's entry, or holds a different one, was
// truncated or rewritten, even if it is internally consistent.
#ifndef SOCLE_COMMON_AUDIT_CHAIN_H_
#define SOCLE_COMMON_AUDIT_CHAIN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace socle {

// One entry of the hash-chained audit trail (storage::AuditRecord).
struct AuditEntry {
  int64_t seq = 0;  // 1, 2, 3, ... with no gap; chosen by the caller
  absl::Time at;            // microsecond precision (what the hash covers)
  std::string actor;        // certificate identity (and later, user)
  std::string office_code;  // the actor's office, empty for none
  std::string action;       // e.g. "RegisterPerson"
  std::string subject;      // e.g. a beneficiary number
  std::string details;      // short, no personal data beyond the subject
  std::string prev_hash;    // hex SHA-256 of the previous entry, "" for seq 1
  std::string hash;         // hex SHA-256 over prev_hash and this entry
};

// The hash an entry must carry (64 lowercase hex digits), from its fields
// and prev_hash (not from `hash`).
std::string AuditHash(const AuditEntry& entry);

// What is wrong at the first position where the chain breaks.
struct AuditBreak {
  enum Kind {
    kNone = 0,
    // The entry's fields do not give its stored hash: edited in place.
    kAltered,
    // The expected seq is missing: a later entry comes first (removed, or
    // moved later).
    kMissing,
    // An entry with a seq already passed comes again (moved earlier,
    // duplicated).
    kOutOfOrder,
    // The entry is self-consistent but its prev_hash is not the previous
    // entry's hash: the previous entry was rewritten with a recomputed hash,
    // or this one was inserted or replaced.
    kBrokenLink,
  };
  Kind kind = kNone;
  // The seq expected at that position (the place of the break).
  int64_t seq = 0;
  // One line for the auditor, naming seqs, never entry contents.
  std::string description;
};

// Checks a chain fed in listing order (by seq), one entry at a time, so that
// a chain of millions needs no memory. The first break is kept; entries after
// it are counted but not checked.
class AuditChainChecker {
 public:
  // Returns false once the chain is broken (at this entry or before).
  bool Add(const AuditEntry& entry);

  bool intact() const { return first_break_.kind == AuditBreak::kNone; }
  const AuditBreak& first_break() const { return first_break_; }
  // Entries fed, and the seq and hash of the last one (0 and "" for none).
  int64_t count() const { return count_; }
  int64_t last_seq() const { return last_seq_; }
  const std::string& last_hash() const { return last_hash_; }

  // Remembers the stored hash of the entry with `seq` when it is fed (call
  // before feeding): see watched_hash().
  void Watch(int64_t seq) { watched_seq_ = seq; }
  // Whether an entry with the watched seq was fed, and its stored hash.
  bool watched_seen() const { return watched_seen_; }
  const std::string& watched_hash() const { return watched_hash_; }

 private:
  int64_t expected_seq_ = 1;
  std::string prev_hash_;
  AuditBreak first_break_;
  int64_t count_ = 0;
  int64_t last_seq_ = 0;
  std::string last_hash_;
  int64_t watched_seq_ = -1;
  bool watched_seen_ = false;
  std::string watched_hash_;
};

// The first break of a whole chain; kind kNone when intact.
AuditBreak CheckAuditChain(const std::vector<AuditEntry>& chain);

// A signed statement of the chain's head.
struct AuditCheckpoint {
  int64_t seq = 0;    // the head's seq; 0 for an empty trail
  std::string hash;   // the head's hash; "" for an empty trail
  absl::Time time;    // when the checkpoint was made, whole seconds, UTC
  // Hex SHA-256 of the signing public key (DER SubjectPublicKeyInfo).
  std::string key_fingerprint;
  std::string signature;  // raw Ed25519 signature (64 bytes)
};

// The bytes that are signed: every field but the signature, as text.
std::string CheckpointPayload(const AuditCheckpoint& checkpoint);

// The checkpoint file: the payload's lines, then "signature: BASE64".
// Self-describing text, one "name: value" a line.
std::string FormatCheckpointFile(const AuditCheckpoint& checkpoint);
// INVALID_ARGUMENT naming the line or field that is wrong.
absl::StatusOr<AuditCheckpoint> ParseCheckpointFile(absl::string_view text);

// The server's signing key. Thread-safe once made.
class AuditSigner {
 public:
  // An Ed25519 private key in PEM (PKCS#8, as `openssl genpkey -algorithm
  // ed25519` writes). INVALID_ARGUMENT when it is not one.
  static absl::StatusOr<std::unique_ptr<AuditSigner>> FromPrivateKeyPem(
      absl::string_view pem);
  ~AuditSigner();
  AuditSigner(const AuditSigner&) = delete;
  AuditSigner& operator=(const AuditSigner&) = delete;

  // Fills key_fingerprint and signature of `checkpoint`.
  absl::Status Sign(AuditCheckpoint& checkpoint) const;
  const std::string& fingerprint() const { return fingerprint_; }
  // The public key in PEM, for auditors.
  const std::string& public_key_pem() const { return public_key_pem_; }

 private:
  AuditSigner() = default;
  void* key_ = nullptr;  // EVP_PKEY*
  std::string fingerprint_;
  std::string public_key_pem_;
};

// Hex SHA-256 of an Ed25519 public key given in PEM; INVALID_ARGUMENT when
// it is not one.
absl::StatusOr<std::string> PublicKeyFingerprint(absl::string_view public_key_pem);

// OK when `checkpoint` is signed by the key in `public_key_pem`.
// INVALID_ARGUMENT for a key that is not an Ed25519 public key;
// PERMISSION_DENIED when the checkpoint names another key or the signature
// does not match (forged or altered checkpoint).
absl::Status VerifyCheckpoint(const AuditCheckpoint& checkpoint,
                              absl::string_view public_key_pem);

// How a whole chain relates to an earlier checkpoint of it.
struct CheckpointMatch {
  enum Kind {
    // The checkpoint's entry is there with the checkpoint's hash.
    kHeld = 0,
    // The chain ends before the checkpoint's entry: entries were cut off.
    kTruncatedTail,
    // The checkpoint's entry is there with another hash: history up to it
    // was rewritten (possibly with every hash recomputed).
    kRewritten,
  };
  Kind kind = kHeld;
  std::string description;  // one line for the auditor
};

// `checker` must have Watch()ed checkpoint.seq before being fed the whole
// chain. Says nothing of the signature (see VerifyCheckpoint).
CheckpointMatch MatchCheckpoint(const AuditChainChecker& checker,
                                const AuditCheckpoint& checkpoint);

}  // namespace socle

#endif  // SOCLE_COMMON_AUDIT_CHAIN_H_
