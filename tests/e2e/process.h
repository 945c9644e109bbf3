// Running the project's binaries from tests.
#ifndef SOCLE_TESTS_E2E_PROCESS_H_
#define SOCLE_TESTS_E2E_PROCESS_H_

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace socle::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `command` with /bin/sh, standard input from /dev/null; `scratch` is a
// directory for the captured output.
inline ProcessResult RunShell(const std::string& command, const std::string& scratch) {
  static int counter = 0;
  const std::string out = absl::StrCat(scratch, "/out-", ++counter);
  const std::string err = absl::StrCat(scratch, "/err-", counter);
  const std::string full =
      absl::StrCat("(", command, ") </dev/null >", out, " 2>", err);
  const int status = std::system(full.c_str());
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadWholeFile(out);
  r.err = ReadWholeFile(err);
  return r;
}

// Single-quotes `s` for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace socle::testing

#endif  // SOCLE_TESTS_E2E_PROCESS_H_
