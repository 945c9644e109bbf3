// Internal to client/cli/: socle-admin's audit commands. `audit verify`
// re-checks the whole hash chain on this side (common/audit_chain.h), and
// against a signed checkpoint the auditor kept; `audit checkpoint` saves a
// signed checkpoint; `audit query` lists entries by subject, actor, office
// and time.
#ifndef SOCLE_CLIENT_CLI_AUDIT_COMMANDS_H_
#define SOCLE_CLIENT_CLI_AUDIT_COMMANDS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli/tool.h"

namespace socle::client::cli {

// Appends socle-admin's audit commands to `commands` and returns it.
std::vector<CommandSpec>* WithAdminAuditCommands(std::vector<CommandSpec>* commands);

// "2026-11-25" (midnight UTC), "2026-11-25T10:30:00Z" or with an offset
// ("+07:00"). INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text, absl::string_view flag);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_AUDIT_COMMANDS_H_
