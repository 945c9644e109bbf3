#include "common/audit_chain.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace socle {
namespace {

// Length-prefixed fields, so that no two different entries hash the same text.
void AddField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field, ";");
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

constexpr absl::string_view kCheckpointHeader = "socle audit checkpoint v1";
constexpr absl::string_view kTimeFormat = "%Y-%m-%dT%H:%M:%SZ";

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

Bio MemoryBio(absl::string_view data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string Fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return "";
  std::string fingerprint =
      Sha256Hex(absl::string_view(reinterpret_cast<const char*>(der), length));
  OPENSSL_free(der);
  return fingerprint;
}

bool IsHexHash(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) ||
        absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AuditHash(const AuditEntry& e) {
  std::string text;
  AddField(text, e.prev_hash);
  AddField(text, absl::StrCat(e.seq));
  AddField(text, absl::StrCat(absl::ToUnixMicros(e.at)));
  AddField(text, e.actor);
  AddField(text, e.office_code);
  AddField(text, e.action);
  AddField(text, e.subject);
  AddField(text, e.details);
  return Sha256Hex(text);
}

bool AuditChainChecker::Add(const AuditEntry& e) {
  ++count_;
  last_seq_ = e.seq;
  last_hash_ = e.hash;
  if (e.seq == watched_seq_ && !watched_seen_) {
    watched_seen_ = true;
    watched_hash_ = e.hash;
  }
  if (!intact()) return false;
  const int64_t expected = expected_seq_;
  AuditBreak& b = first_break_;
  if (e.seq > expected) {
    b.kind = AuditBreak::kMissing;
    b.description =
        expected == 1
            ? absl::StrCat("entry 1 is missing: the chain starts at entry ", e.seq,
                           " (removed, or moved later)")
            : absl::StrCat("entry ", expected, " is missing: entry ", e.seq,
                           " follows entry ", expected - 1, " (removed, or moved later)");
  } else if (e.seq < expected) {
    b.kind = AuditBreak::kOutOfOrder;
    b.description = absl::StrCat("entry ", e.seq, " comes again after entry ",
                                 expected - 1, " (moved or duplicated)");
  } else if (AuditHash(e) != e.hash) {
    b.kind = AuditBreak::kAltered;
    b.description = absl::StrCat("entry ", expected,
                                 " was altered: its fields no longer give its hash");
  } else if (e.prev_hash != prev_hash_) {
    b.kind = AuditBreak::kBrokenLink;
    b.description =
        expected == 1
            ? "entry 1 names a previous entry: it was replaced, or entries "
              "before it were removed"
            : absl::StrCat("entry ", expected, " does not follow entry ", expected - 1,
                           ": entry ", expected - 1,
                           " was rewritten (hash recomputed), or entry ", expected,
                           " was inserted or replaced");
  } else {
    prev_hash_ = e.hash;
    ++expected_seq_;
    return true;
  }
  b.seq = expected;
  return false;
}

AuditBreak CheckAuditChain(const std::vector<AuditEntry>& chain) {
  AuditChainChecker checker;
  for (const AuditEntry& e : chain) {
    if (!checker.Add(e)) break;
  }
  return checker.first_break();
}

CheckpointMatch MatchCheckpoint(const AuditChainChecker& checker,
                                const AuditCheckpoint& checkpoint) {
  CheckpointMatch m;
  if (checkpoint.seq == 0) {
    m.description = "the checkpoint is of an empty trail";
    return m;
  }
  if (!checker.watched_seen()) {
    m.kind = CheckpointMatch::kTruncatedTail;
    m.description = absl::StrCat(
        "truncated tail: the checkpoint is at entry ", checkpoint.seq,
        checker.count() == 0 ? ", the chain is empty"
                             : absl::StrCat(", the chain ends at entry ", checker.last_seq()));
    return m;
  }
  if (checker.watched_hash() != checkpoint.hash) {
    m.kind = CheckpointMatch::kRewritten;
    m.description = absl::StrCat("rewritten history: entry ", checkpoint.seq,
                                 " no longer has the checkpoint's hash");
    return m;
  }
  m.description = absl::StrCat("entry ", checkpoint.seq, " still has the checkpoint's hash");
  return m;
}

std::string CheckpointPayload(const AuditCheckpoint& c) {
  return absl::StrCat(kCheckpointHeader, "\n",                            //
                      "seq: ", c.seq, "\n",                               //
                      "hash: ", c.hash.empty() ? "-" : c.hash, "\n",      //
                      "time: ", absl::FormatTime(kTimeFormat, c.time, absl::UTCTimeZone()),
                      "\n",                                               //
                      "key: ", c.key_fingerprint, "\n");
}

std::string FormatCheckpointFile(const AuditCheckpoint& c) {
  return absl::StrCat(CheckpointPayload(c), "signature: ",
                      absl::Base64Escape(c.signature), "\n");
}

absl::StatusOr<AuditCheckpoint> ParseCheckpointFile(absl::string_view text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (lines.empty() || absl::StripAsciiWhitespace(lines[0]) != kCheckpointHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("line 1: not an audit checkpoint (expected '", kCheckpointHeader,
                     "')"));
  }
  std::map<std::string, std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", i + 1, ": expected 'name: value'"));
    }
    std::string name(absl::StripAsciiWhitespace(lines[i].substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (!fields.emplace(name, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", i + 1, ": ", name, " given twice"));
    }
  }
  for (const char* name : {"seq", "hash", "time", "key", "signature"}) {
    if (!fields.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": missing"));
    }
  }
  if (fields.size() != 5) {
    return absl::InvalidArgumentError("unknown fields in the checkpoint");
  }
  AuditCheckpoint c;
  if (!absl::SimpleAtoi(fields["seq"], &c.seq) || c.seq < 0) {
    return absl::InvalidArgumentError("seq: must be a whole number >= 0");
  }
  c.hash = fields["hash"] == "-" ? "" : fields["hash"];
  if (c.seq == 0 ? !c.hash.empty() : !IsHexHash(c.hash)) {
    return absl::InvalidArgumentError(
        "hash: must be 64 lowercase hex digits ('-' for an empty trail at seq 0)");
  }
  std::string error;
  if (!absl::ParseTime(kTimeFormat, fields["time"], &c.time, &error)) {
    return absl::InvalidArgumentError("time: must be YYYY-MM-DDTHH:MM:SSZ");
  }
  c.key_fingerprint = fields["key"];
  if (!IsHexHash(c.key_fingerprint)) {
    return absl::InvalidArgumentError("key: must be 64 lowercase hex digits");
  }
  if (!absl::Base64Unescape(fields["signature"], &c.signature) ||
      c.signature.size() != 64) {
    return absl::InvalidArgumentError(
        "signature: must be a base64 Ed25519 signature (64 bytes)");
  }
  return c;
}

absl::StatusOr<std::unique_ptr<AuditSigner>> AuditSigner::FromPrivateKeyPem(
    absl::string_view pem) {
  Bio bio = MemoryBio(pem);
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
               : nullptr);
  if (key == nullptr || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        "not an Ed25519 private key in PEM (make one with: openssl genpkey "
        "-algorithm ed25519)");
  }
  std::unique_ptr<AuditSigner> signer(new AuditSigner);
  signer->fingerprint_ = Fingerprint(key.get());
  Bio out(BIO_new(BIO_s_mem()));
  if (out == nullptr || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1 ||
      signer->fingerprint_.empty()) {
    return absl::InternalError("cannot derive the audit public key");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(out.get(), &data);
  signer->public_key_pem_.assign(data, length);
  signer->key_ = key.release();
  return signer;
}

AuditSigner::~AuditSigner() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

absl::Status AuditSigner::Sign(AuditCheckpoint& checkpoint) const {
  checkpoint.key_fingerprint = fingerprint_;
  const std::string payload = CheckpointPayload(checkpoint);
  MdCtx ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t length = sizeof(signature);
  // Ed25519 hashes the message itself: no digest is given.
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         static_cast<EVP_PKEY*>(key_)) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &length,
                     reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) != 1) {
    return absl::InternalError("cannot sign the audit checkpoint");
  }
  checkpoint.signature.assign(reinterpret_cast<const char*>(signature), length);
  return absl::OkStatus();
}

namespace {

absl::StatusOr<Pkey> ReadPublicKey(absl::string_view pem) {
  Bio bio = MemoryBio(pem);
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("not an Ed25519 public key in PEM");
  }
  return key;
}

}  // namespace

absl::StatusOr<std::string> PublicKeyFingerprint(absl::string_view public_key_pem) {
  absl::StatusOr<Pkey> key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  return Fingerprint(key->get());
}

absl::Status VerifyCheckpoint(const AuditCheckpoint& checkpoint,
                              absl::string_view public_key_pem) {
  absl::StatusOr<Pkey> key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  const std::string fingerprint = Fingerprint(key->get());
  if (fingerprint != checkpoint.key_fingerprint) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the checkpoint names signing key ", checkpoint.key_fingerprint,
        ", not the public key given (", fingerprint, ")"));
  }
  const std::string payload = CheckpointPayload(checkpoint);
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1) {
    return absl::InternalError("cannot verify signatures");
  }
  if (EVP_DigestVerify(ctx.get(),
                       reinterpret_cast<const unsigned char*>(checkpoint.signature.data()),
                       checkpoint.signature.size(),
                       reinterpret_cast<const unsigned char*>(payload.data()),
                       payload.size()) != 1) {
    return absl::PermissionDeniedError(
        "the checkpoint's signature does not match: forged or altered checkpoint");
  }
  return absl::OkStatus();
}

}  // namespace socle
