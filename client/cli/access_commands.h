// Login at a terminal (`socle login`, `socle logout`) and user
// administration (`socle-admin user add|disable|reset-password|list`).
#ifndef SOCLE_CLIENT_CLI_ACCESS_COMMANDS_H_
#define SOCLE_CLIENT_CLI_ACCESS_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/commands.h"
#include "client/cli/tool.h"

namespace socle::client::cli {

// Appends `login` and `logout` to socle's commands.
std::vector<CommandSpec>* WithLoginCommands(std::vector<CommandSpec>* commands);
// Appends `user add|disable|reset-password|list` to socle-admin's commands.
std::vector<CommandSpec>* WithUserCommands(std::vector<CommandSpec>* commands);

// Where socle keeps the login token: --token-file, else $SOCLE_TOKEN_FILE,
// else $XDG_CONFIG_HOME/socle/token, else $HOME/.config/socle/token.
std::string DefaultTokenFile(const EnvLookup& env);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_ACCESS_COMMANDS_H_
