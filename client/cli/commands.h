// The socle command for district clerks, as functions that tests drive
// against a MockConnection: argument parsing and request building are
// separate from running, and RunCli is the whole program minus main().
#ifndef SOCLE_CLIENT_CLI_COMMANDS_H_
#define SOCLE_CLIENT_CLI_COMMANDS_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/args.h"
#include "client/connection.h"
#include "socle/v1/eligibility.pb.h"
#include "socle/v1/registry.pb.h"

namespace socle::client::cli {

// Exit codes of the socle command (documented in `socle --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // UNAVAILABLE, INTERNAL, ...
inline constexpr int kExitBadInput = 2;     // usage, INVALID_ARGUMENT
inline constexpr int kExitNotFound = 3;     // NOT_FOUND
inline constexpr int kExitRefused = 4;      // ALREADY_EXISTS, FAILED_PRECONDITION,
                                            // ABORTED, OUT_OF_RANGE
inline constexpr int kExitNotAllowed = 5;   // UNAUTHENTICATED, PERMISSION_DENIED
inline constexpr int kExitPartlyRefused = 6; // import: some persons refused, the
                                             // others registered

// The exit code for a call that ended with `code`.
int ExitCodeFor(absl::StatusCode code);

// Looks up an environment variable; nullopt when unset.
using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv).
EnvLookup ProcessEnvironment();

using ConnectionFactory =
    std::function<absl::StatusOr<std::shared_ptr<Connection>>(
        const ConnectionOptions&)>;

// Where a command's client certificate and key come from when --cert and
// --key are not given: the first environment variable set, else a file of
// the development certificate directory (made by deploy/certs.sh).
struct CertificateDefaults {
  std::vector<std::string> cert_env = {"SOCLE_CERT"};
  std::vector<std::string> key_env = {"SOCLE_KEY"};
  std::string cert_file = "terminal.pem";
  std::string key_file = "terminal.key";
  std::string who = "terminal";  // in the help: "terminal certificate"
  // Whether users log in (a terminal): the login token file is read and
  // sent with each call.
  bool login = true;
};
// socle's: $SOCLE_CERT/$SOCLE_KEY, else <dev>/terminal.pem and terminal.key.
const CertificateDefaults& TerminalCertificates();

// Options valid for every command, from a flag, else an environment
// variable, else the development default.
struct GlobalOptions {
  ConnectionOptions connection;
  bool json = false;
  std::string request_id;  // empty: the client generates one per write
  // Where the login token is kept (socle login); empty for tools without
  // login.
  std::string token_file;
};
// With the terminal's certificate defaults.
absl::StatusOr<GlobalOptions> ResolveGlobalOptions(const ParsedArgs& args,
                                                   const EnvLookup& env);
absl::StatusOr<GlobalOptions> ResolveGlobalOptions(
    const ParsedArgs& args, const EnvLookup& env,
    const CertificateDefaults& certificates);

// The flags a command accepts (its own, plus the global ones). `command` is
// "register", "household add", ... NOT_FOUND for an unknown command.
absl::StatusOr<std::vector<FlagSpec>> CommandFlags(absl::string_view command);
// Parses the arguments that follow the command words.
absl::StatusOr<ParsedArgs> ParseCommandArgs(
    absl::string_view command, const std::vector<std::string>& args);

// Request builders. INVALID_ARGUMENT with a message naming the flag or
// argument at fault. `env` supplies SOCLE_CURRENCY, the default for
// --currency. request_id is left empty (the Client fills it in).
absl::StatusOr<v1::RegisterPersonRequest> BuildRegister(
    const ParsedArgs& args, const EnvLookup& env = nullptr);
// `update`: applies the editable-field flags to `person`. INVALID_ARGUMENT
// when a flag is bad or when no field flag is given.
absl::Status ApplyPersonEdits(const ParsedArgs& args, v1::Person& person,
                              const EnvLookup& env = nullptr);
absl::StatusOr<v1::FindPersonsRequest> BuildFind(const ParsedArgs& args);
absl::StatusOr<v1::CreateHouseholdRequest> BuildCreateHousehold(
    const ParsedArgs& args);
// Positionals: HOUSEHOLD NUMBER.
absl::StatusOr<v1::AddHouseholdMemberRequest> BuildAddMember(
    const ParsedArgs& args);
absl::StatusOr<v1::RemoveHouseholdMemberRequest> BuildRemoveMember(
    const ParsedArgs& args);
absl::StatusOr<v1::SetHouseholdHeadRequest> BuildSetHead(
    const ParsedArgs& args);
// Positionals: NUMBER TYPE.
absl::StatusOr<v1::RecordLifeEventRequest> BuildLifeEvent(
    const ParsedArgs& args, const EnvLookup& env = nullptr);

// Eligibility and enrolment. Positional NUMBER (and PROGRAMME for enrol);
// programme codes are upper-cased and checked ([A-Z][A-Z0-9_]{0,31}).
absl::StatusOr<v1::CheckEligibilityRequest> BuildCheck(const ParsedArgs& args);
absl::StatusOr<v1::EnrolRequest> BuildEnrol(const ParsedArgs& args);
// Either NUMBER, or --programme and --office [--status].
absl::StatusOr<v1::ListEnrolmentsRequest> BuildListEnrolments(
    const ParsedArgs& args);
// `action`: "suspend", "resume" or "end"; positional ENROLMENT_ID.
absl::StatusOr<v1::ChangeEnrolmentRequest> BuildChangeEnrolment(
    absl::string_view action, const ParsedArgs& args);

// "e12" -> "E12"; INVALID_ARGUMENT naming `field` unless "E" and a positive
// number.
absl::StatusOr<std::string> CanonicalEnrolmentId(absl::string_view text,
                                                 absl::string_view field);
// "child" -> "CHILD"; INVALID_ARGUMENT naming `field` unless a programme code.
absl::StatusOr<std::string> CanonicalProgrammeCode(absl::string_view text,
                                                   absl::string_view field);

// Beneficiary and household numbers as typed ("10000 00017", "1000-000017")
// to the canonical form, checking the check digit; INVALID_ARGUMENT naming
// `field` for a typo.
absl::StatusOr<std::string> CanonicalPersonNumber(absl::string_view text,
                                                  absl::string_view field);
absl::StatusOr<std::string> CanonicalHouseholdNumber(absl::string_view text,
                                                     absl::string_view field);

struct CliContext {
  ConnectionFactory make_connection;  // called at most once, after parsing
  EnvLookup getenv;
  std::ostream* out;  // results
  std::ostream* err;  // errors and hints
};

// Runs the socle command; `args` excludes the program name. Returns the exit
// code.
int RunCli(const std::vector<std::string>& args, const CliContext& context);

// For tests: runs against `connection` with an empty environment. argv[0]
// is the program name.
int RunCli(int argc, const char* const* argv, Connection& connection,
           std::ostream& out, std::ostream& err);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_COMMANDS_H_
