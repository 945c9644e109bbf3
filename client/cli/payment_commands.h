// Internal to client/cli/: the payment commands. `socle pay` for clerks
// recording cash at the counter; `socle-admin cycle ...`, `payment reverse`
// and `reconcile` for administrators. The command tables of socle and
// socle-admin append these.
#ifndef SOCLE_CLIENT_CLI_PAYMENT_COMMANDS_H_
#define SOCLE_CLIENT_CLI_PAYMENT_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/cli/tool.h"
#include "socle/v1/payments.pb.h"

namespace socle::client::cli {

// Appends socle's payment commands to `commands` and returns it.
std::vector<CommandSpec>* WithClerkPaymentCommands(std::vector<CommandSpec>* commands);
// Appends socle-admin's payment commands to `commands` and returns it.
std::vector<CommandSpec>* WithAdminPaymentCommands(std::vector<CommandSpec>* commands);

// `socle pay LINE_ID --amount X [--currency C] [--channel cash|bank|mobile]
// [--reference R] [--idempotency-key K] [--supplement] [--note TEXT]`. The
// key is --idempotency-key (not --key, the TLS key file of every command),
// else `generated_key`. `env` supplies SOCLE_CURRENCY.
absl::StatusOr<v1::RecordPaymentRequest> BuildPay(const ParsedArgs& args,
                                                  const EnvLookup& env,
                                                  absl::string_view generated_key);

// A fresh idempotency key for a payment: "pay-" and 32 hex characters.
std::string NewPaymentKey();

// "l3" -> "L3", "c12" -> "C12", "p7" -> "P7"; INVALID_ARGUMENT naming
// `field` unless the letter and a positive number.
absl::StatusOr<std::string> CanonicalId(absl::string_view text, char letter,
                                        absl::string_view field);

// "2026-11"; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> CanonicalPeriod(absl::string_view text, absl::string_view field);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_PAYMENT_COMMANDS_H_
