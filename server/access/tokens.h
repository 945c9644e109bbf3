// Login tokens: short-lived, signed with HMAC-SHA-256 under a key read from a
// file (shared by every replica), so any replica can check a token without a
// database read. A token names the user, the role, the office, and the
// certificate of the terminal it was issued to: it is refused from any other
// terminal.
#ifndef SOCLE_SERVER_ACCESS_TOKENS_H_
#define SOCLE_SERVER_ACCESS_TOKENS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/caller.h"

namespace socle {

struct TokenClaims {
  std::string user;
  Role role = Role::kNone;
  std::string office_code;
  std::string terminal;  // the certificate identity of the terminal
  absl::Time issued_at;
  absl::Time expires_at;
};

class TokenSigner {
 public:
  // The key file holds at least 32 bytes (e.g. `openssl rand -hex 32`);
  // surrounding whitespace is ignored.
  static absl::StatusOr<TokenSigner> FromFile(const std::string& path);
  explicit TokenSigner(std::string key) : key_(std::move(key)) {}

  absl::StatusOr<std::string> Issue(const TokenClaims& claims) const;
  // UNAUTHENTICATED for a malformed, tampered or expired token; the message
  // says which, without echoing the token.
  absl::StatusOr<TokenClaims> Verify(absl::string_view token, absl::Time now) const;

 private:
  std::string Mac(absl::string_view payload) const;
  std::string key_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_TOKENS_H_
