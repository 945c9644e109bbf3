#include "server/access/access.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "server/access/passwords.h"
#include "server/access/roles.h"
#include "server/audit.h"
#include "server/convert.h"
#include "server/idempotency.h"
#include "server/validation.h"

namespace socle {
namespace {

constexpr char kWrongCredentials[] = "user name or password is wrong";

bool IsValidUserName(absl::string_view name) {
  if (name.size() < 3 || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

void ValidateUserName(absl::string_view name, absl::string_view field,
                      FieldViolations& v) {
  if (!IsValidUserName(name)) {
    v.Add(field, "must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'");
  }
}

void ValidatePassword(absl::string_view password, absl::string_view field,
                      FieldViolations& v) {
  if (password.size() < 12) {
    v.Add(field, "must be at least 12 characters");
  } else if (password.size() > 256) {
    v.Add(field, "must be at most 256 characters");
  }
}

v1::User ToProto(const storage::UserRecord& r) {
  v1::User u;
  u.set_user_name(r.user_name);
  u.set_display_name(r.display_name);
  u.set_role(static_cast<v1::Role>(r.role));
  u.set_office_code(r.office_code);
  u.set_disabled(r.disabled);
  *u.mutable_created_at() = ToTimestamp(r.created_at);
  *u.mutable_updated_at() = ToTimestamp(r.updated_at);
  return u;
}

// Every user of `office_code` (empty: every office), by name, page by page.
absl::StatusOr<std::vector<storage::UserRecord>> AllUsers(storage::ReadTxn& txn,
                                                          absl::string_view office_code) {
  std::vector<storage::UserRecord> users;
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<storage::UserRecord> page,
                     txn.ListUsers(office_code, after, 500));
    if (page.empty()) return users;
    after = page.back().user_name;
    for (auto& u : page) users.push_back(std::move(u));
  }
}

absl::Status UserNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("no user named '", name, "'"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    const AccessOptions& options, storage::Store* store, const Clock* clock) {
  if (options.insecure_for_testing) {
    // No certificates, no principals: loopback tests only (the server
    // refuses other addresses in this mode).
    return std::unique_ptr<AccessControl>(new AccessControl(
        options, Principals(), TokenSigner(std::string(32, 'x')), store, clock));
  }
  if (options.principals_file.empty()) {
    return absl::InvalidArgumentError(
        "--principals is required: the file that maps client certificates to "
        "terminals and roles (see deploy/principals.textproto)");
  }
  if (options.token_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--token_key is required: the key that signs login tokens "
        "(make one with `openssl rand -hex 32`)");
  }
  if (options.token_ttl <= absl::ZeroDuration() || options.token_ttl > absl::Hours(12)) {
    return absl::InvalidArgumentError("--token_ttl must be between 1s and 12h");
  }
  if (options.password_iterations < 1000) {
    return absl::InvalidArgumentError("--password_iterations must be at least 1000");
  }
  ASSIGN_OR_RETURN(Principals principals, Principals::Load(options.principals_file));
  ASSIGN_OR_RETURN(TokenSigner signer, TokenSigner::FromFile(options.token_key_file));
  std::unique_ptr<AccessControl> access(new AccessControl(
      options, std::move(principals), std::move(signer), store, clock));
  RETURN_IF_ERROR(access->LoadRevocations());
  return access;
}

absl::Status AccessControl::LoadRevocations() {
  std::vector<storage::UserRecord> users;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(users, AllUsers(txn, ""));
    return absl::OkStatus();
  }));
  absl::MutexLock lock(&mu_);
  for (const storage::UserRecord& u : users) {
    revoked_before_[u.user_name] = u.disabled ? absl::InfiniteFuture() : u.updated_at;
  }
  return absl::OkStatus();
}

absl::Time AccessControl::RevokedBefore(absl::string_view user) const {
  absl::MutexLock lock(&mu_);
  auto it = revoked_before_.find(user);
  return it == revoked_before_.end() ? absl::InfinitePast() : it->second;
}

void AccessControl::Revoke(const std::string& user, absl::Time before, bool disabled) {
  absl::MutexLock lock(&mu_);
  revoked_before_[user] = disabled ? absl::InfiniteFuture() : before;
}

absl::Status AccessControl::CheckFailures(const std::string& key, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return absl::OkStatus();
  const std::deque<absl::Time>& times = it->second;
  const absl::Time horizon = now - options_.failed_login_window;
  int recent = 0;
  for (absl::Time t : times) recent += t > horizon;
  if (recent < options_.max_failed_logins) return absl::OkStatus();
  // The oldest recent failure leaves the window first.
  absl::Time oldest = absl::InfiniteFuture();
  for (absl::Time t : times) {
    if (t > horizon) oldest = std::min(oldest, t);
  }
  const int64_t wait = absl::ToInt64Seconds(
      absl::Ceil(oldest + options_.failed_login_window - now, absl::Seconds(1)));
  return WithErrorInfo(
      absl::ResourceExhaustedError(absl::StrCat(
          "too many failed logins (", key.substr(0, key.find(':')),
          "); try again in ", wait, " s")),
      {"TOO_MANY_FAILED_LOGINS", {{"retry_after_seconds", absl::StrCat(wait)}}});
}

void AccessControl::RecordFailure(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // Bounded memory under a spray of user names: forget failures that have
  // left the window whenever the table grows large.
  if (failures_.size() > 100000) {
    const absl::Time horizon = now - options_.failed_login_window;
    absl::erase_if(failures_, [&](const auto& kv) {
      return kv.second.empty() || kv.second.back() <= horizon;
    });
  }
  std::deque<absl::Time>& times = failures_[key];
  times.push_back(now);
  while (static_cast<int>(times.size()) > options_.max_failed_logins) times.pop_front();
}

absl::StatusOr<Caller> AccessControl::Authorize(absl::string_view cn,
                                                absl::string_view bearer,
                                                absl::string_view method) const {
  if (options_.insecure_for_testing) {
    Caller caller;
    caller.kind = CallerKind::kTest;
    caller.id = "insecure-test";
    return caller;
  }
  if (cn.empty()) return absl::UnauthenticatedError("a client certificate is required");
  const PrincipalEntry* principal = principals_.Find(cn);
  if (principal == nullptr) {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate '", cn, "' is not in the server's principals file"));
  }
  Caller caller;
  caller.id = std::string(cn);
  if (principal->role != Role::kNone) {
    caller.role = principal->role;
    caller.kind = principal->role == Role::kMinistry || principal->role == Role::kStatistics
                      ? CallerKind::kMinistry
                      : CallerKind::kAdmin;
  } else {
    caller.kind = CallerKind::kTerminal;
    caller.office_code = principal->terminal_office;
    if (principal->office_from_certificate) {
      std::vector<absl::string_view> parts = absl::StrSplit(cn, ':');
      if (parts.size() != 3 || parts[0] != "terminal" || !IsValidOfficeCode(parts[1]) ||
          parts[2].empty()) {
        return absl::UnauthenticatedError(absl::StrCat(
            "certificate '", cn, "' names no office (terminal:OFFICE:NAME)"));
      }
      caller.office_code = std::string(parts[1]);
    }
    if (method == kLoginMethod) return caller;
    if (bearer.empty()) {
      return absl::UnauthenticatedError(
          "no user is logged in at this terminal: log in first (socle login)");
    }
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(TokenClaims claims, signer_.Verify(bearer, now));
    if (claims.terminal != caller.id || claims.office_code != caller.office_code) {
      return absl::UnauthenticatedError(
          "login token was issued to another terminal; log in at this one (socle login)");
    }
    if (claims.role != Role::kClerk && claims.role != Role::kSupervisor) {
      return absl::UnauthenticatedError("login token names no clerk or supervisor role");
    }
    if (claims.issued_at < RevokedBefore(claims.user)) {
      return absl::UnauthenticatedError(
          "login token was revoked (user disabled or password reset); log in again");
    }
    caller.user = claims.user;
    caller.role = claims.role;
  }
  if (method == kLoginMethod) {
    return absl::PermissionDeniedError(
        "log in at an office terminal; systems and workstations need no login");
  }
  if (!RoleMayCall(caller.role, method)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", RoleName(caller.role), " may not call ", method));
  }
  return caller;
}

absl::StatusOr<v1::LoginResponse> AccessControl::Login(const Caller& terminal,
                                                       const v1::LoginRequest& request) {
  FieldViolations v;
  if (request.user_name().empty()) v.Add("user_name", "is required");
  if (request.password().empty()) v.Add("password", "is required");
  if (request.user_name().size() > 64) v.Add("user_name", "is too long");
  RETURN_IF_ERROR(v.ToStatus());
  if (terminal.kind != CallerKind::kTerminal && terminal.kind != CallerKind::kTest) {
    return absl::PermissionDeniedError("log in at an office terminal");
  }
  const absl::Time now = clock_.Now();
  const std::string user_key = absl::StrCat("user:", request.user_name());
  const std::string terminal_key = absl::StrCat("terminal:", terminal.id);
  RETURN_IF_ERROR(CheckFailures(user_key, now));
  RETURN_IF_ERROR(CheckFailures(terminal_key, now));

  std::optional<storage::UserRecord> user;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    absl::StatusOr<storage::UserRecord> found = txn.GetUser(request.user_name());
    if (found.ok()) {
      user = *std::move(found);
    } else if (!absl::IsNotFound(found.status())) {
      return found.status();
    }
    return absl::OkStatus();
  }));
  // The hash runs whether or not the user exists, so that timing does not
  // tell which user names exist.
  static const std::string* const kDecoy =
      new std::string(*HashPassword("decoy password", kDefaultPasswordIterations));
  const bool password_ok =
      VerifyPassword(request.password(), user ? user->password_hash : *kDecoy);
  const bool ok = user && password_ok && !user->disabled &&
                  (terminal.kind == CallerKind::kTest ||
                   user->office_code == terminal.office_code);
  if (!ok) {
    RecordFailure(user_key, now);
    RecordFailure(terminal_key, now);
    (void)store_.Write([&](storage::Txn& txn) {
      return AppendAudit(txn, now, terminal, "LoginFailed", request.user_name(), "");
    });
    return absl::UnauthenticatedError(kWrongCredentials);
  }
  {
    absl::MutexLock lock(&mu_);
    failures_.erase(user_key);
  }
  TokenClaims claims;
  claims.user = user->user_name;
  claims.role = static_cast<Role>(user->role);
  claims.office_code = user->office_code;
  claims.terminal = terminal.id;
  claims.issued_at = now;
  claims.expires_at = now + options_.token_ttl;
  ASSIGN_OR_RETURN(std::string token, signer_.Issue(claims));
  Caller actor = terminal;
  actor.user = user->user_name;
  actor.role = claims.role;
  RETURN_IF_ERROR(store_.Write([&](storage::Txn& txn) {
    return AppendAudit(txn, now, actor, "Login", user->user_name, "");
  }));
  v1::LoginResponse response;
  response.set_token(std::move(token));
  *response.mutable_expires_at() = ToTimestamp(claims.expires_at);
  *response.mutable_user() = ToProto(*user);
  return response;
}

absl::StatusOr<v1::User> AccessControl::AddUser(const Caller& caller,
                                                const v1::AddUserRequest& request) {
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  const v1::User& in = request.user();
  ValidateUserName(in.user_name(), "user.user_name", v);
  ValidateText(in.display_name(), "user.display_name", 100, false, v);
  if (in.role() != v1::ROLE_CLERK && in.role() != v1::ROLE_SUPERVISOR) {
    v.Add("user.role", "must be ROLE_CLERK or ROLE_SUPERVISOR");
  }
  ValidateOfficeCode(in.office_code(), "user.office_code", true, v);
  ValidatePassword(request.password(), "password", v);
  RETURN_IF_ERROR(v.ToStatus());
  const absl::Time now = clock_.Now();
  storage::UserRecord record;
  record.user_name = in.user_name();
  record.display_name = in.display_name();
  record.role = in.role();
  record.office_code = in.office_code();
  ASSIGN_OR_RETURN(record.password_hash,
                   HashPassword(request.password(), options_.password_iterations));
  record.version = 1;
  record.created_at = now;
  record.updated_at = now;
  // The password is never kept in the request log: a replay is recognised
  // by everything else.
  v1::AddUserRequest kept = request;
  kept.clear_password();
  v1::User out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, "socle.v1.UserAdmin/AddUser", request.request_id(), kept, now, out,
      [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        absl::Status inserted = txn.InsertUser(record);
        if (absl::IsAlreadyExists(inserted)) {
          return WithErrorInfo(
              absl::AlreadyExistsError(
                  absl::StrCat("user name '", record.user_name, "' is taken")),
              {"USER_NAME_TAKEN", {{"field", "user.user_name"}}});
        }
        RETURN_IF_ERROR(inserted);
        RETURN_IF_ERROR(AppendAudit(
            txn, now, caller, "AddUser", record.user_name,
            absl::StrCat("role=", RoleName(static_cast<Role>(record.role)),
                         " office=", record.office_code)));
        response.CopyFrom(ToProto(record));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::User> AccessControl::ChangeUser(
    const Caller& caller, absl::string_view method,
    const google::protobuf::Message& request, absl::string_view request_id,
    absl::string_view user_name, bool disable, absl::string_view new_password) {
  const absl::Time now = clock_.Now();
  std::string new_hash;
  if (!disable) {
    ASSIGN_OR_RETURN(new_hash, HashPassword(new_password, options_.password_iterations));
  }
  v1::User out;
  RETURN_IF_ERROR(RunIdempotent(
      store_, caller, absl::StrCat("socle.v1.UserAdmin/", method), request_id, request, now,
      out, [&](storage::Txn& txn, google::protobuf::Message& response) -> absl::Status {
        absl::StatusOr<storage::UserRecord> user = txn.GetUser(user_name);
        if (absl::IsNotFound(user.status())) return UserNotFound(user_name);
        RETURN_IF_ERROR(user.status());
        if (disable) {
          user->disabled = true;
        } else {
          user->disabled = false;
          user->password_hash = new_hash;
        }
        user->version += 1;
        user->updated_at = now;
        RETURN_IF_ERROR(txn.UpdateUser(*user));
        RETURN_IF_ERROR(AppendAudit(txn, now, caller, method, user->user_name, ""));
        response.CopyFrom(ToProto(*user));
        return absl::OkStatus();
      }));
  // Tokens issued before the change are refused from now on; the stored
  // state decides (a replayed request changes nothing).
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(storage::UserRecord user, txn.GetUser(user_name));
    Revoke(user.user_name, user.updated_at, user.disabled);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::User> AccessControl::DisableUser(
    const Caller& caller, const v1::DisableUserRequest& request) {
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  ValidateUserName(request.user_name(), "user_name", v);
  RETURN_IF_ERROR(v.ToStatus());
  return ChangeUser(caller, "DisableUser", request, request.request_id(),
                    request.user_name(), /*disable=*/true, "");
}

absl::StatusOr<v1::User> AccessControl::ResetPassword(
    const Caller& caller, const v1::ResetPasswordRequest& request) {
  FieldViolations v;
  ValidateRequestId(request.request_id(), "request_id", v);
  ValidateUserName(request.user_name(), "user_name", v);
  ValidatePassword(request.password(), "password", v);
  RETURN_IF_ERROR(v.ToStatus());
  v1::ResetPasswordRequest kept = request;
  kept.clear_password();
  return ChangeUser(caller, "ResetPassword", kept, request.request_id(),
                    request.user_name(), /*disable=*/false, request.password());
}

absl::StatusOr<v1::ListUsersResponse> AccessControl::ListUsers(
    const Caller& caller, const v1::ListUsersRequest& request) {
  (void)caller;
  if (!request.office_code().empty() && !IsValidOfficeCode(request.office_code())) {
    return InvalidField("office_code", "is not an office code (e.g. KH-SR-03)");
  }
  v1::ListUsersResponse out;
  RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<storage::UserRecord> users,
                     AllUsers(txn, request.office_code()));
    out.clear_users();
    for (const auto& u : users) *out.add_users() = ToProto(u);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace socle
