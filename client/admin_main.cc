// socle-admin: the command for ministry administrators (policy, costing,
// coverage, recertification). Everything but the process plumbing lives in
// client/cli/ (see RunAdminCli).
#include <grpc/support/log.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli/admin_commands.h"
#include "client/cli/commands.h"
#include "client/connection.h"

namespace {

// gRPC's own log lines are noise on the terminal: the command reports the
// outcome itself. GRPC_VERBOSITY turns them back on.
void SilentLog(gpr_log_func_args*) {}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function(&SilentLog);
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  socle::client::cli::CliContext context;
  context.make_connection = [](const socle::client::ConnectionOptions& o) {
    return socle::client::MakeConnection(o);
  };
  context.getenv = socle::client::cli::ProcessEnvironment();
  context.out = &std::cout;
  context.err = &std::cerr;
  return socle::client::cli::RunAdminCli(args, context);
}
