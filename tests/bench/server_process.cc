#include "tests/bench/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace socle::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, std::vector<std::string> flags, const std::string& dir) {
  const std::string port_file = dir + "/server.port";
  const std::string out = dir + "/server.out";
  const std::string err = dir + "/server.err";
  ::unlink(port_file.c_str());
  flags.insert(flags.begin(), binary);
  flags.push_back("--port=0");
  flags.push_back("--port_file=" + port_file);
  std::vector<char*> argv;
  for (std::string& f : flags) argv.push_back(f.data());
  argv.push_back(nullptr);

  std::unique_ptr<ServerProcess> child(new ServerProcess);
  child->pid_ = ::fork();
  if (child->pid_ < 0) {
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (child->pid_ == 0) {
    const int in_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(out.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    const int err_fd = ::open(err.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(child->pid_, &status, WNOHANG) == child->pid_) {
      child->pid_ = -1;
      std::string message(absl::StripAsciiWhitespace(ReadAll(err)));
      if (message.empty()) message = absl::StrCat("exit status ", status);
      return absl::UnavailableError(absl::StrCat(binary, " did not start: ", message));
    }
    const std::string text = ReadAll(port_file);
    if (!text.empty() && text.back() == '\n' &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &child->port_) && child->port_ > 0) {
      return child;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(binary, " did not listen within a minute"));
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace socle::bench
