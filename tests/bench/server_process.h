// socle-server as a child process, so that its memory is its own.
#ifndef SOCLE_TESTS_BENCH_SERVER_PROCESS_H_
#define SOCLE_TESTS_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace socle::bench {

class ServerProcess {
 public:
  // Runs `binary` with `flags` plus --port=0 and --port_file in `dir`, and
  // waits (up to a minute) until it listens. Its output goes to
  // `dir`/server.out and server.err. UNAVAILABLE with its last error line when
  // it exits instead.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, std::vector<std::string> flags, const std::string& dir);
  // Stops it with SIGTERM (SIGKILL after 10 s).
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace socle::bench

#endif  // SOCLE_TESTS_BENCH_SERVER_PROCESS_H_
