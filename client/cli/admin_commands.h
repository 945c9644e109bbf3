// socle-admin: the command for ministry administrators. It validates, shows,
// simulates (costs) and activates the national policy, reports coverage per
// office and guarantee, and runs recertification; payment cycles and
// reconciliation; the audit trail (cli/audit_commands.h). Same global options, help
// and exit codes as socle (client/cli/commands.h), but it authenticates with
// the administrator's certificate by default. Tests drive RunAdminCli
// against a MockConnection.
#ifndef SOCLE_CLIENT_CLI_ADMIN_COMMANDS_H_
#define SOCLE_CLIENT_CLI_ADMIN_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/commands.h"
#include "client/connection.h"
#include "socle/v1/eligibility.pb.h"

namespace socle::client::cli {

// --cert: $SOCLE_ADMIN_CERT, else $SOCLE_CERT, else <dev>/admin.pem;
// --key:  $SOCLE_ADMIN_KEY, else $SOCLE_KEY, else <dev>/admin.key.
const CertificateDefaults& AdminCertificates();

// The text of a file (a policy, a CSV to import). INVALID_ARGUMENT naming
// `path` when it cannot
// be read (missing, a directory, unreadable).
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// The problems of a refused policy, one a line, "file:line: field: message"
// (the server's field violations carry the path in `field` and
// "file:line: message" in `description`). A violation without a location is
// put against `file_name`; a status without violations gives the lines of
// its message.
std::vector<std::string> PolicyProblemLines(const absl::Status& status,
                                            absl::string_view file_name);

// Runs socle-admin; `args` excludes the program name. Returns the exit code.
int RunAdminCli(const std::vector<std::string>& args,
                const CliContext& context);

// For tests: runs against `connection` with an empty environment. argv[0]
// is the program name.
int RunAdminCli(int argc, const char* const* argv, Connection& connection,
                std::ostream& out, std::ostream& err);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_ADMIN_COMMANDS_H_
