#include "server/access/tokens.h"

#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace socle {
namespace {

constexpr absl::string_view kVersion = "socle-token-1";

}  // namespace

absl::StatusOr<TokenSigner> TokenSigner::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read --token_key file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string key(absl::StripAsciiWhitespace(buffer.str()));
  if (key.size() < 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--token_key file ", path,
        " holds fewer than 32 bytes (make one with `openssl rand -hex 32`)"));
  }
  return TokenSigner(std::move(key));
}

std::string TokenSigner::Mac(absl::string_view payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac,
       &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

absl::StatusOr<std::string> TokenSigner::Issue(const TokenClaims& c) const {
  for (absl::string_view field : {absl::string_view(c.user),
                                  absl::string_view(c.office_code),
                                  absl::string_view(c.terminal)}) {
    if (field.find('\n') != absl::string_view::npos) {
      return absl::InvalidArgumentError("a token field holds a line break");
    }
  }
  const std::string payload = absl::StrJoin(
      {std::string(kVersion), c.user, absl::StrCat(static_cast<int>(c.role)),
       c.office_code, c.terminal, absl::StrCat(absl::ToUnixMicros(c.issued_at)),
       absl::StrCat(absl::ToUnixMicros(c.expires_at))},
      "\n");
  return absl::StrCat(absl::WebSafeBase64Escape(payload), ".",
                      absl::WebSafeBase64Escape(Mac(payload)));
}

absl::StatusOr<TokenClaims> TokenSigner::Verify(absl::string_view token,
                                                absl::Time now) const {
  auto bad = [](absl::string_view why) {
    return absl::UnauthenticatedError(
        absl::StrCat("login token ", why, "; log in again (socle login)"));
  };
  std::vector<absl::string_view> halves = absl::StrSplit(token, '.');
  std::string payload, mac;
  // Only the canonical encoding is accepted, so that no two strings name
  // the same token (base64's spare bits would otherwise let a character
  // change without changing the bytes).
  if (token.size() > 2048 || halves.size() != 2 ||
      !absl::WebSafeBase64Unescape(halves[0], &payload) ||
      !absl::WebSafeBase64Unescape(halves[1], &mac) ||
      absl::WebSafeBase64Escape(payload) != halves[0] ||
      absl::WebSafeBase64Escape(mac) != halves[1]) {
    return bad("is malformed");
  }
  const std::string expected = Mac(payload);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return bad("is not valid (bad signature)");
  }
  std::vector<std::string> f = absl::StrSplit(payload, '\n');
  int role = 0;
  int64_t issued = 0, expires = 0;
  if (f.size() != 7 || f[0] != kVersion || !absl::SimpleAtoi(f[2], &role) ||
      !absl::SimpleAtoi(f[5], &issued) || !absl::SimpleAtoi(f[6], &expires)) {
    return bad("is malformed");
  }
  TokenClaims c;
  c.user = f[1];
  c.role = static_cast<Role>(role);
  c.office_code = f[3];
  c.terminal = f[4];
  c.issued_at = absl::FromUnixMicros(issued);
  c.expires_at = absl::FromUnixMicros(expires);
  if (now >= c.expires_at) return bad("has expired");
  return c;
}

}  // namespace socle
