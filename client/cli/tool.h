// Internal to client/cli/: the machinery shared by the socle and socle-admin
// commands. A Tool is a program name, a command table and its defaults;
// RunTool parses the global options and the command words, prints help,
// and runs the command's handler with a Runner (output streams, the client,
// error reporting). Not part of the client library's API.
#ifndef SOCLE_CLIENT_CLI_TOOL_H_
#define SOCLE_CLIENT_CLI_TOOL_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/client.h"
#include "socle/v1/types.pb.h"

namespace socle::client::cli {

class Runner;
using Handler = int (*)(Runner&, const ParsedArgs&);

// CommandSpec::max_positional: the handler reports extra arguments itself.
inline constexpr size_t kHandlerChecksPositionals =
    std::numeric_limits<size_t>::max();

struct CommandSpec {
  std::string name;   // "register", "household add"
  std::string usage;  // after "<program> "
  std::string args;   // positionals, for the command list
  std::string summary;
  std::string description;  // may span lines; no trailing newline
  std::vector<FlagSpec> flags;
  size_t min_positional = 0;
  size_t max_positional = 0;
  Handler run = nullptr;
};

struct Tool {
  std::string program;  // "socle"
  std::string tagline;  // the first line of the main help
  const std::vector<CommandSpec>* commands = nullptr;
  // First words of two-word commands ("household" for "household add").
  std::vector<std::string> groups;
  CertificateDefaults certificates;
  // Printed in the main help between the global options and the exit codes.
  std::string conventions;
};

// The global options, with the defaults of `certificates` in their help.
std::vector<FlagSpec> GlobalFlags(const CertificateDefaults& certificates);

std::vector<FlagSpec> Concat(std::initializer_list<std::vector<FlagSpec>> parts);

const CommandSpec* FindCommand(const Tool& tool, absl::string_view name);

// Runs `tool` on `args` (program name excluded); returns the exit code.
int RunTool(const Tool& tool, const std::vector<std::string>& args,
            const CliContext& context);

// The help texts, fitting 80 columns.
std::string MainHelp(const Tool& tool);
std::string CommandHelp(const Tool& tool, const CommandSpec& command,
                        bool footer = true);

// What a running command uses: its streams, the client (connected on first
// use), and the uniform reporting of usage and call errors.
class Runner {
 public:
  Runner(const Tool& tool, const CommandSpec& command,
         const GlobalOptions& options, const CliContext& context)
      : tool_(tool), command_(command), options_(options), context_(context) {}

  std::ostream& out() { return *context_.out; }
  std::ostream& err() { return *context_.err; }
  bool json() const { return options_.json; }
  const GlobalOptions& options() const { return options_; }
  const std::string& request_id() const { return options_.request_id; }
  const EnvLookup& env() const { return context_.getenv; }
  const std::string& program() const { return tool_.program; }

  // The client, connecting on first use. On failure prints why and returns
  // null; the command then returns connect_exit_code().
  Client* client();
  // After client() returned null: certificates or options are bad input.
  int connect_exit_code() const { return kExitBadInput; }

  // A problem with what the user typed, found before any call.
  int UsageError(const absl::Status& status);

  // The server's (or the link's) answer, as one line, then one line per bad
  // field.
  int CallError(const absl::Status& status);

  template <typename M>
  void PrintJson(const M& message) {
    out() << ToJson(message) << "\n";
  }

  static std::string CodeWords(absl::StatusCode code);

 private:
  const Tool& tool_;
  const CommandSpec& command_;
  GlobalOptions options_;
  const CliContext& context_;
  std::optional<Client> client_;
  absl::Status connect_error_;
};

#define SOCLE_CLIENT_OR_EXIT_(runner, var) \
  Client* var = (runner).client();         \
  if (var == nullptr) return (runner).connect_exit_code()

// Value helpers. Errors name the flag or argument: "--born: must be ...".
absl::Status Bad(absl::string_view what, absl::string_view description);
absl::StatusOr<v1::Date> ToDate(absl::string_view text,
                                absl::string_view field);
absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view text,
                                          absl::string_view field);
absl::StatusOr<int64_t> ToInt(absl::string_view text, absl::string_view flag,
                              int64_t low, int64_t high);
std::optional<std::string> Env(const EnvLookup& env, const std::string& name);
// INVALID_ARGUMENT "<name> is missing" when there is no positional `index`.
absl::Status CheckPositional(const ParsedArgs& args, size_t index,
                             absl::string_view name);
// INVALID_ARGUMENT "unexpected argument 'x'" beyond the first `count`.
absl::Status NoMorePositionals(const ParsedArgs& args, size_t count);
// Two columns: "  --flag VALUE" (26 wide) and the wrapped help.
std::string Columns(absl::string_view left, absl::string_view help);

// --page-size (1-500) and --page-token, as the library's PageOptions.
absl::StatusOr<PageOptions> PageFlags(const ParsedArgs& args);

// Pages through `fetch(token)` (one page without --all), printing each page
// with `print_items` (which returns how many items it printed); JSON: one
// response object per line. `none` is printed when nothing was found.
template <typename Response, typename Fetch, typename PrintItems>
int Paged(Runner& r, const ParsedArgs& args, std::string token, Fetch fetch,
          PrintItems print_items, absl::string_view none) {
  bool all = args.Switch("all");
  size_t shown = 0;
  std::set<std::string> seen;
  for (;;) {
    absl::StatusOr<Response> page = fetch(token);
    if (!page.ok()) return r.CallError(page.status());
    if (r.json()) {
      r.PrintJson(*page);
    }
    shown += print_items(*page);
    token = page->next_page_token();
    if (token.empty()) break;
    if (!all) {
      if (!r.json()) {
        r.out() << "more: add --page-token " << token << " (or --all)\n";
      }
      return kExitOk;
    }
    if (!seen.insert(token).second) break;  // a server that loops
  }
  if (shown == 0 && !r.json()) r.out() << none << "\n";
  return kExitOk;
}

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_TOOL_H_
