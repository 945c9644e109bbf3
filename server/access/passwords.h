// Password hashing: PBKDF2-HMAC-SHA-256 (OpenSSL) with a random 16-byte salt.
// The stored form is self-describing, "pbkdf2-sha256$ITERATIONS$SALT$HASH"
// (salt and hash in base64), so the iteration count can be raised later
// without invalidating existing hashes.
#ifndef SOCLE_SERVER_ACCESS_PASSWORDS_H_
#define SOCLE_SERVER_ACCESS_PASSWORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace socle {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA-256.
inline constexpr int kDefaultPasswordIterations = 600000;

absl::StatusOr<std::string> HashPassword(absl::string_view password, int iterations);

// Whether `password` matches `stored`, compared in constant time. False for
// a malformed stored hash.
bool VerifyPassword(absl::string_view password, absl::string_view stored);

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_PASSWORDS_H_
