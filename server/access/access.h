// Access control (issue 6): who the caller of each call is, what their role
// may do, clerk login, and user administration.
//
// Authorize() runs before every call's logic (see server/grpc/dispatch.h):
// certificate identity -> principals file -> (terminals) login token ->
// role table. The logic then scopes clerks and supervisors to their office
// (Caller::Sees) and checks overrides (Caller::MayOverride).
#ifndef SOCLE_SERVER_ACCESS_ACCESS_H_
#define SOCLE_SERVER_ACCESS_ACCESS_H_

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "server/access/principals.h"
#include "server/access/tokens.h"
#include "server/caller.h"
#include "socle/v1/access.pb.h"
#include "storage/store.h"

namespace socle {

struct AccessOptions {
  std::string principals_file;
  std::string token_key_file;
  absl::Duration token_ttl = absl::Hours(1);
  // For new password hashes; existing hashes keep their own count.
  int password_iterations = 600000;
  // Failed logins allowed per user and per terminal within the window;
  // beyond, logins are refused until the oldest failure leaves the window.
  int max_failed_logins = 5;
  absl::Duration failed_login_window = absl::Minutes(15);
  // Testing only (loopback, no certificates): every call is a kTest caller
  // allowed everything.
  bool insecure_for_testing = false;
};

class AccessControl {
 public:
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(
      const AccessOptions& options, storage::Store* store, const Clock* clock);

  // The caller of a call to `method` (full name, "socle.v1.Registry.GetPerson"),
  // from the client certificate's common name (empty: none) and the bearer
  // token of the `authorization` metadata (empty: none). UNAUTHENTICATED for
  // an unknown certificate or a missing, bad or expired token;
  // PERMISSION_DENIED when the role may not call the method.
  absl::StatusOr<Caller> Authorize(absl::string_view certificate_cn,
                                   absl::string_view bearer_token,
                                   absl::string_view method) const;

  absl::StatusOr<v1::LoginResponse> Login(const Caller& terminal,
                                          const v1::LoginRequest& request);
  absl::StatusOr<v1::User> AddUser(const Caller& caller, const v1::AddUserRequest& request);
  absl::StatusOr<v1::User> DisableUser(const Caller& caller,
                                       const v1::DisableUserRequest& request);
  absl::StatusOr<v1::User> ResetPassword(const Caller& caller,
                                         const v1::ResetPasswordRequest& request);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const Caller& caller,
                                                  const v1::ListUsersRequest& request);

 private:
  AccessControl(const AccessOptions& options, Principals principals,
                TokenSigner signer, storage::Store* store, const Clock* clock)
      : options_(options),
        principals_(std::move(principals)),
        signer_(std::move(signer)),
        store_(*store),
        clock_(*clock) {}

  absl::Status LoadRevocations();
  // Tokens of `user` issued before the returned time are refused (the user
  // was disabled or their password reset); InfinitePast when none.
  absl::Time RevokedBefore(absl::string_view user) const;
  void Revoke(const std::string& user, absl::Time before, bool disabled);
  // RESOURCE_EXHAUSTED while `key` has too many recent failures.
  absl::Status CheckFailures(const std::string& key, absl::Time now) const;
  void RecordFailure(const std::string& key, absl::Time now);
  absl::StatusOr<v1::User> ChangeUser(const Caller& caller, absl::string_view method,
                                      const google::protobuf::Message& request,
                                      absl::string_view request_id,
                                      absl::string_view user_name, bool disable,
                                      absl::string_view new_password);

  const AccessOptions options_;
  const Principals principals_;
  const TokenSigner signer_;
  storage::Store& store_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  // user -> tokens issued before this time are refused (infinite future for
  // a disabled user).
  absl::flat_hash_map<std::string, absl::Time> revoked_before_ ABSL_GUARDED_BY(mu_);
  // "user:NAME" / "terminal:CN" -> times of recent failed logins.
  absl::flat_hash_map<std::string, std::deque<absl::Time>> failures_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace socle

#endif  // SOCLE_SERVER_ACCESS_ACCESS_H_
