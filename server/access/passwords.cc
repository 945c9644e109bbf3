#include "server/access/passwords.h"

#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace socle {
namespace {

constexpr absl::string_view kScheme = "pbkdf2-sha256";
constexpr int kSaltBytes = 16;
constexpr int kHashBytes = 32;

bool Derive(absl::string_view password, const std::string& salt, int iterations,
            unsigned char* out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           kHashBytes, out) == 1;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password, int iterations) {
  if (iterations < 1000) {
    return absl::InvalidArgumentError("password hashing needs at least 1000 iterations");
  }
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
    return absl::InternalError("no random bytes for a password salt");
  }
  unsigned char hash[kHashBytes];
  if (!Derive(password, salt, iterations, hash)) {
    return absl::InternalError("password hashing failed");
  }
  return absl::StrCat(kScheme, "$", iterations, "$", absl::Base64Escape(salt), "$",
                      absl::Base64Escape(absl::string_view(
                          reinterpret_cast<const char*>(hash), kHashBytes)));
}

bool VerifyPassword(absl::string_view password, absl::string_view stored) {
  std::vector<absl::string_view> parts = absl::StrSplit(stored, '$');
  int iterations = 0;
  std::string salt, expected;
  if (parts.size() != 4 || parts[0] != kScheme ||
      !absl::SimpleAtoi(parts[1], &iterations) || iterations < 1000 ||
      iterations > 100000000 || !absl::Base64Unescape(parts[2], &salt) ||
      !absl::Base64Unescape(parts[3], &expected) || expected.size() != kHashBytes) {
    return false;
  }
  unsigned char hash[kHashBytes];
  if (!Derive(password, salt, iterations, hash)) return false;
  return CRYPTO_memcmp(hash, expected.data(), kHashBytes) == 0;
}

}  // namespace socle
