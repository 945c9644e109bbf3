#include "client/cli/access_commands.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/format.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

// The password: the first line of --password-file, else of standard input
// (without echo when it is a terminal). Never a command-line value, which
// other users of the machine could read in the process list.
absl::StatusOr<std::string> ReadPassword(Runner& r, const ParsedArgs& args,
                                         absl::string_view prompt) {
  std::string line;
  if (auto file = args.Get("password-file")) {
    std::ifstream in(*file);
    if (!in) return Bad("--password-file", absl::StrCat("cannot read ", *file));
    std::getline(in, line);
  } else {
    const bool tty = isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty) {
      r.err() << prompt << std::flush;
      tcgetattr(STDIN_FILENO, &saved);
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::getline(std::cin, line);
    if (tty) {
      tcsetattr(STDIN_FILENO, TCSANOW, &saved);
      r.err() << "\n";
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Bad("password", "is empty");
  return line;
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string temp = path + ".tmp";
  // Readable by the user alone: the token acts for them until it expires.
  const mode_t old = umask(077);
  {
    std::ofstream out(temp, std::ios::trunc);
    out << token << "\n";
    out.close();
    if (!out) {
      umask(old);
      return Bad("--token-file", absl::StrCat("cannot write ", temp));
    }
  }
  umask(old);
  std::filesystem::rename(temp, path, ec);
  if (ec) return Bad("--token-file", absl::StrCat("cannot write ", path, ": ", ec.message()));
  return absl::OkStatus();
}

std::string RoleWord(v1::Role role) {
  switch (role) {
    case v1::ROLE_CLERK: return "clerk";
    case v1::ROLE_SUPERVISOR: return "supervisor";
    default: return std::string(absl::AsciiStrToLower(v1::Role_Name(role)));
  }
}

int RunLogin(Runner& r, const ParsedArgs& args) {
  std::string user;
  if (auto v = args.Get("user")) {
    user = *v;
  } else {
    return r.UsageError(Bad("--user", "is required"));
  }
  auto password = ReadPassword(r, args, absl::StrCat("Password for ", user, ": "));
  if (!password.ok()) return r.UsageError(password.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto response = client->Login(user, *password);
  if (!response.ok()) return r.CallError(response.status());
  const std::string& path = r.options().token_file;
  if (absl::Status written = WriteTokenFile(path, response->token()); !written.ok()) {
    return r.UsageError(written);
  }
  if (r.json()) {
    v1::LoginResponse shown = *response;
    shown.clear_token();  // kept in the token file, not printed
    r.PrintJson(shown);
  } else {
    const absl::Time until = absl::FromUnixSeconds(response->expires_at().seconds());
    r.out() << "Logged in as " << response->user().user_name() << " ("
            << RoleWord(response->user().role()) << ", "
            << response->user().office_code() << ") until "
            << absl::FormatTime("%Y-%m-%d %H:%M UTC", until, absl::UTCTimeZone()) << "\n";
  }
  return kExitOk;
}

int RunLogout(Runner& r, const ParsedArgs&) {
  std::error_code ec;
  std::filesystem::remove(r.options().token_file, ec);
  if (!r.json()) r.out() << "Logged out.\n";
  return kExitOk;
}

void PrintUser(Runner& r, const v1::User& u) {
  if (r.json()) {
    r.PrintJson(u);
    return;
  }
  r.out() << u.user_name() << "  " << RoleWord(u.role()) << "  " << u.office_code()
          << (u.disabled() ? "  disabled" : "")
          << (u.display_name().empty() ? "" : absl::StrCat("  ", u.display_name())) << "\n";
}

absl::StatusOr<v1::Role> ParseRole(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "clerk") return v1::ROLE_CLERK;
  if (lower == "supervisor") return v1::ROLE_SUPERVISOR;
  return Bad("--role", "must be clerk or supervisor");
}

int RunUserAdd(Runner& r, const ParsedArgs& args) {
  v1::User user;
  user.set_user_name(args.positional[0]);
  auto office = args.Get("office");
  if (!office) return r.UsageError(Bad("--office", "is required"));
  user.set_office_code(*office);
  auto role = ParseRole(args.Get("role").value_or("clerk"));
  if (!role.ok()) return r.UsageError(role.status());
  user.set_role(*role);
  if (auto v = args.Get("display-name")) user.set_display_name(*v);
  auto password = ReadPassword(r, args, absl::StrCat("New password for ", user.user_name(), ": "));
  if (!password.ok()) return r.UsageError(password.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto added = client->AddUser(user, *password);
  if (!added.ok()) return r.CallError(added.status());
  PrintUser(r, *added);
  return kExitOk;
}

int RunUserDisable(Runner& r, const ParsedArgs& args) {
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto user = client->DisableUser(args.positional[0]);
  if (!user.ok()) return r.CallError(user.status());
  PrintUser(r, *user);
  return kExitOk;
}

int RunUserReset(Runner& r, const ParsedArgs& args) {
  auto password = ReadPassword(r, args, absl::StrCat("New password for ", args.positional[0], ": "));
  if (!password.ok()) return r.UsageError(password.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto user = client->ResetPassword(args.positional[0], *password);
  if (!user.ok()) return r.CallError(user.status());
  PrintUser(r, *user);
  return kExitOk;
}

int RunUserList(Runner& r, const ParsedArgs& args) {
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto users = client->ListUsers(args.Get("office").value_or(""));
  if (!users.ok()) return r.CallError(users.status());
  if (r.json()) {
    r.PrintJson(*users);
  } else if (users->users().empty()) {
    r.out() << "No user.\n";
  } else {
    for (const v1::User& u : users->users()) PrintUser(r, u);
  }
  return kExitOk;
}

const FlagSpec kPasswordFile{"password-file", Kind::kValue, "FILE",
                             "read the password from the first line of FILE "
                             "(default: standard input, without echo)"};

}  // namespace

std::string DefaultTokenFile(const EnvLookup& env) {
  if (auto v = Env(env, "SOCLE_TOKEN_FILE")) return *v;
  if (auto v = Env(env, "XDG_CONFIG_HOME")) return absl::StrCat(*v, "/socle/token");
  if (auto v = Env(env, "HOME")) return absl::StrCat(*v, "/.config/socle/token");
  return ".socle-token";
}

std::vector<CommandSpec>* WithLoginCommands(std::vector<CommandSpec>* commands) {
  commands->push_back(
      {"login", "login --user NAME [--password-file FILE]", "",
       "log in at this terminal",
       "Logs a clerk or supervisor in at this terminal, asking for the\n"
       "password. The token is kept in the token file (readable by you\n"
       "alone; --token-file) and sent with every later command until it\n"
       "expires; then log in again. Repeated wrong passwords lock the user\n"
       "and the terminal out for a while.",
       {{"user", Kind::kValue, "NAME", "your user name (required)"}, kPasswordFile},
       0, 0, &RunLogin});
  commands->push_back({"logout", "logout", "", "forget the login token",
                       "Removes the token file: the next command needs a login.", {}, 0, 0,
                       &RunLogout});
  return commands;
}

std::vector<CommandSpec>* WithUserCommands(std::vector<CommandSpec>* commands) {
  commands->push_back(
      {"user add",
       "user add NAME --office CODE [--role clerk|supervisor] [--display-name TEXT]\n"
       "                 [--password-file FILE]",
       "NAME", "create a clerk or supervisor",
       "Creates a user who logs in at the terminals of one office. NAME: 3 to\n"
       "64 characters of a-z 0-9 . _ -. The password (12 characters or more)\n"
       "is read from standard input and stored only as a salted hash.",
       {{"office", Kind::kValue, "CODE", "the user's office (required)"},
        {"role", Kind::kValue, "ROLE", "clerk (default) or supervisor"},
        {"display-name", Kind::kValue, "TEXT", "full name, for the audit reader"},
        kPasswordFile},
       1, 1, &RunUserAdd});
  commands->push_back({"user disable", "user disable NAME", "NAME", "stop a user logging in",
                       "Disables a user: no new login, and tokens already issued are\n"
                       "refused (at once on this server; on other replicas when they\n"
                       "expire).",
                       {}, 1, 1, &RunUserDisable});
  commands->push_back({"user reset-password", "user reset-password NAME [--password-file FILE]",
                       "NAME", "set a new password",
                       "Sets a new password and re-enables the user; tokens issued before\n"
                       "are refused.",
                       {kPasswordFile}, 1, 1, &RunUserReset});
  commands->push_back({"user list", "user list [--office CODE]", "", "list users",
                       "Lists the users of an office, or of every office.",
                       {{"office", Kind::kValue, "CODE", "one office only"}}, 0, 0,
                       &RunUserList});
  return commands;
}

}  // namespace socle::client::cli
