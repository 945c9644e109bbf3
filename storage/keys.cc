#include "storage/keys.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace socle::storage {
namespace {

constexpr unsigned char kFormat = 0x01;
constexpr size_t kHeader = 5;  // format byte + key id
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
constexpr size_t kIndexBytes = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, CtxDeleter>;

// The algorithms, fetched once: OpenSSL 3 otherwise looks the provider's
// implementation up again on every call (EVP_aes_256_gcm(), HMAC()), which
// costs more than sealing a short value.
EVP_CIPHER* Gcm() {
  static EVP_CIPHER* const gcm = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) std::abort();
    return c;
  }();
  return gcm;
}

bool ParseHexKey(absl::string_view hex, KeyRing::Key* key) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int hi = 0, lo = 0;
    auto nibble = [](char c, int* v) {
      if (c >= '0' && c <= '9') { *v = c - '0'; return true; }
      if (c >= 'a' && c <= 'f') { *v = c - 'a' + 10; return true; }
      if (c >= 'A' && c <= 'F') { *v = c - 'A' + 10; return true; }
      return false;
    };
    if (!nibble(hex[2 * i], &hi) || !nibble(hex[2 * i + 1], &lo)) return false;
    (*key)[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

// The file's lines, after checking that only its owner may read it: a key
// file readable by others is a key already shared.
absl::StatusOr<std::vector<std::string>> ReadKeyFile(const std::string& path,
                                                     absl::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " file ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " file ", path,
                     " is readable or writable by others; chmod 600 it"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " file ", path));
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void Cleanse(std::string& s) { OPENSSL_cleanse(s.data(), s.size()); }

}  // namespace

KeyRing::~KeyRing() {
  EVP_MAC_CTX_free(index_mac_);
  for (auto& [id, key] : data_keys_) OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(index_key_.data(), index_key_.size());
}

absl::StatusOr<std::shared_ptr<const KeyRing>> KeyRing::Load(
    const std::string& data_keys_path, const std::string& index_key_path) {
  std::map<uint32_t, Key> keys;
  {
    auto lines = ReadKeyFile(data_keys_path, "data keys");
    if (!lines.ok()) return lines.status();
    for (size_t n = 0; n < lines->size(); ++n) {
      std::string& raw = (*lines)[n];
      absl::string_view line = raw;
      if (size_t hash = line.find('#'); hash != line.npos) line = line.substr(0, hash);
      line = absl::StripAsciiWhitespace(line);
      if (line.empty()) {
        Cleanse(raw);
        continue;
      }
      std::vector<absl::string_view> parts =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      uint32_t id = 0;
      Key key;
      bool ok = parts.size() == 2 && absl::SimpleAtoi(parts[0], &id) && id >= 1 &&
                ParseHexKey(parts[1], &key);
      Cleanse(raw);
      const std::string where = absl::StrCat(data_keys_path, ":", n + 1, ": ");
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "expected '<key id >= 1> <64 hex digits>' (a 256-bit key)"));
      }
      if (!keys.emplace(id, key).second) {
        return absl::InvalidArgumentError(absl::StrCat(where, "key id ", id, " repeated"));
      }
      OPENSSL_cleanse(key.data(), key.size());
    }
    if (keys.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(data_keys_path, ": no key"));
    }
  }
  Key index_key;
  {
    auto lines = ReadKeyFile(index_key_path, "index key");
    if (!lines.ok()) return lines.status();
    int found = 0;
    bool ok = true;
    for (std::string& raw : *lines) {
      absl::string_view line = absl::StripAsciiWhitespace(raw);
      if (!line.empty() && line[0] != '#') {
        ++found;
        ok = ok && ParseHexKey(line, &index_key);
      }
      Cleanse(raw);
    }
    if (found != 1 || !ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          index_key_path, ": expected one line of 64 hex digits (a 256-bit key)"));
    }
  }
  auto ring = Make(std::move(keys), index_key);
  OPENSSL_cleanse(index_key.data(), index_key.size());
  return ring;
}

absl::StatusOr<std::shared_ptr<const KeyRing>> KeyRing::Make(
    std::map<uint32_t, Key> data_keys, const Key& index_key) {
  if (data_keys.empty()) return absl::InvalidArgumentError("no data key");
  if (data_keys.count(0) != 0) {
    return absl::InvalidArgumentError("data key id 0 is reserved");
  }
  std::shared_ptr<KeyRing> ring(new KeyRing());
  ring->data_keys_ = std::move(data_keys);
  ring->current_ = ring->data_keys_.rbegin()->first;
  ring->index_key_ = index_key;
  // The blind index's HMAC, keyed once; each BlindIndex call copies it.
  static EVP_MAC* const hmac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  ring->index_mac_ = EVP_MAC_CTX_new(hmac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (ring->index_mac_ == nullptr ||
      EVP_MAC_init(ring->index_mac_, ring->index_key_.data(), ring->index_key_.size(),
                   params) != 1) {
    return absl::InternalError("cannot set up HMAC-SHA-256");
  }
  return std::shared_ptr<const KeyRing>(std::move(ring));
}

std::shared_ptr<const KeyRing> KeyRing::ProcessTestKeys() {
  static const std::shared_ptr<const KeyRing> ring = [] {
    Key data, index;
    RAND_bytes(data.data(), data.size());
    RAND_bytes(index.data(), index.size());
    return *Make({{1, data}}, index);
  }();
  return ring;
}

std::string KeyRing::Context(absl::string_view table, absl::string_view column,
                             absl::string_view row) {
  return absl::StrCat(table, "/", column, "/", row);
}

std::string KeyRing::Context(absl::string_view table, absl::string_view column,
                             int64_t row) {
  return absl::StrCat(table, "/", column, "/", row);
}

uint32_t KeyRing::KeyIdOf(absl::string_view sealed) {
  if (sealed.size() < kHeader + kNonce + kTag ||
      static_cast<unsigned char>(sealed[0]) != kFormat) {
    return 0;
  }
  uint32_t id = 0;
  for (size_t i = 1; i < kHeader; ++i) {
    id = (id << 8) | static_cast<unsigned char>(sealed[i]);
  }
  return id;
}

namespace {

// Fills `out` with `n` (at most kNoncePool) bytes from the system's random
// generator, taken from a per-thread pool refilled kNoncePool bytes at a
// time: one RAND_bytes call per 341 nonces instead of one each, whose fixed
// cost (the DRBG's lock and reseed checks) was a third of sealing a value.
// The bytes are the generator's own, each handed out once.
constexpr size_t kNoncePool = 4096;

void RandomBytes(unsigned char* out, size_t n) {
  thread_local unsigned char pool[kNoncePool];
  thread_local size_t used = kNoncePool;
  if (n > kNoncePool - used) {
    // A failure of the system's random source is not a condition the caller
    // can handle; aborting beats writing a value with a predictable nonce.
    if (RAND_bytes(pool, static_cast<int>(kNoncePool)) != 1) std::abort();
    used = 0;
  }
  std::memcpy(out, pool + used, n);
  // Erased once handed out: the pool never holds a nonce already in use.
  std::memset(pool + used, 0, n);
  used += n;
}

}  // namespace

std::string KeyRing::Seal(absl::string_view plaintext,
                          absl::string_view context) const {
  const Key& key = data_keys_.at(current_);
  std::string out(kHeader + kNonce + plaintext.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kFormat;
  for (int i = 0; i < 4; ++i) p[1 + i] = static_cast<unsigned char>(current_ >> (24 - 8 * i));
  // A failure of AES-GCM here is not a condition the caller can handle
  // either (see RandomBytes).
  RandomBytes(p + kHeader, kNonce);
  const std::string aad = absl::StrCat(absl::string_view(out.data(), kHeader), context);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex(ctx.get(), Gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), p + kHeader) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), p + kHeader + kNonce, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), p + kHeader + kNonce + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                          p + kHeader + kNonce + plaintext.size()) == 1;
  if (!ok) std::abort();
  return out;
}

absl::StatusOr<std::string> KeyRing::Open(absl::string_view sealed,
                                          absl::string_view context) const {
  const uint32_t id = KeyIdOf(sealed);
  if (id == 0) return absl::DataLossError("sealed value is malformed");
  auto key = data_keys_.find(id);
  if (key == data_keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a stored value is sealed with data key ", id,
        ", which the data keys file lacks"));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t n = sealed.size() - kHeader - kNonce - kTag;
  const std::string aad = absl::StrCat(sealed.substr(0, kHeader), context);
  std::string out(n, '\0');
  unsigned char tag[kTag];
  std::memcpy(tag, p + kHeader + kNonce + n, kTag);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), Gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->second.data(), p + kHeader) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        p + kHeader + kNonce, static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                          &len) == 1;
  if (!ok) {
    Cleanse(out);
    return absl::DataLossError(
        "a stored value failed authentication (altered, or moved from another row)");
  }
  return out;
}

std::string KeyRing::BlindIndex(absl::string_view national_id) const {
  // Exactly the bytes given, as the plaintext column compared them: the
  // registry normalises national IDs before they reach the store
  // (server/convert.cc, Registry::FindPersons).
  std::string id(national_id);
  if (id.empty()) return "";
  // Domain separation: this key must never produce the same bytes for any
  // other purpose.
  std::string message = absl::StrCat("socle.national_id.v1", std::string(1, '\0'), id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  MacCtx ctx(EVP_MAC_CTX_dup(index_mac_));
  if (ctx == nullptr ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac, &mac_len, sizeof(mac)) != 1 || mac_len < kIndexBytes) {
    std::abort();
  }
  Cleanse(id);
  Cleanse(message);
  return std::string(reinterpret_cast<const char*>(mac), kIndexBytes);
}

}  // namespace socle::storage
