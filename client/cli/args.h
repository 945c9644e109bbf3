// Command-line arguments of the socle tool, parsed by hand: GNU-style long
// flags ("--given Sokha" or "--given=Sokha"), switches ("--json",
// "--insured=no"), positional arguments anywhere. Underscores and dashes in
// flag names are the same ("--request_id" is "--request-id").
#ifndef SOCLE_CLIENT_CLI_ARGS_H_
#define SOCLE_CLIENT_CLI_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace socle::client::cli {

struct FlagSpec {
  enum Kind {
    kValue,   // takes a value
    kNumber,  // takes a beneficiary or household number, which may be typed
              // in two groups: "--head 10000 00017"
    kSwitch,  // no value; "--flag=no" turns it off
    kRepeated,  // takes a value and may be given again ("--programme A
                // --programme B"); a value may also list several, separated
                // by commas ("--programme A,B")
  };
  std::string name;        // without dashes, e.g. "national-id"
  Kind kind = kValue;
  std::string value_name;  // for help, e.g. "DATE"
  std::string help;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  // Flag name -> value ("true"/"false" for switches; the last one for a
  // repeated flag). Only flags given.
  std::map<std::string, std::string> values;
  // Repeated flags: every value, in order, comma-separated lists split,
  // empty items dropped.
  std::map<std::string, std::vector<std::string>> lists;

  bool Has(absl::string_view name) const;
  // The value, or nullopt when the flag was not given.
  std::optional<std::string> Get(absl::string_view name) const;
  // A switch: false when not given.
  bool Switch(absl::string_view name) const;
  // A repeated flag's values; empty when not given.
  std::vector<std::string> GetAll(absl::string_view name) const;
};

// "Flag_Name" -> "flag-name": the key of ParsedArgs::values. A spec's name
// may be written either way (for help); it matches in this form.
std::string NormalizeFlagName(absl::string_view name);

// Turns "--Flag_Name" into "flag-name"; empty when `token` is not a flag.
std::string FlagName(absl::string_view token);

// True for the first half of a number typed in two groups: five digits, or
// "H" and five digits.
bool IsFirstNumberGroup(absl::string_view token);
bool IsSecondNumberGroup(absl::string_view token);

// Parses `args` against `specs`. INVALID_ARGUMENT with a message naming the
// flag ("--given: needs a value", "unknown flag --foo", "--given given
// twice"). "--" ends the flags. Positionals that are numbers typed in two
// groups ("10000 00017") are joined into one.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs);

// "yes/no/true/false/1/0/on/off" (any case); nullopt otherwise.
std::optional<bool> ParseBool(absl::string_view text);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_ARGS_H_
