#include "tests/bench/disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace socle::bench {

LoadStats MeasureDurableCommits(const std::string& dir, absl::Duration duration,
                                int64_t max_commits) {
  const std::string path = dir + "/fdatasync.probe";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0) {
    LoadStats failed;
    failed.failed = 1;
    failed.first_error = absl::StrCat("cannot create ", path, ": ", std::strerror(errno));
    return failed;
  }
  constexpr int64_t kFileBytes = 1 << 20;
  char record[128];
  std::memset(record, 0, sizeof record);
  bool preallocated = true;
  for (int64_t off = 0; off < kFileBytes && preallocated; off += sizeof record) {
    preallocated = ::pwrite(fd, record, sizeof record, off) == static_cast<ssize_t>(sizeof record);
  }
  if (!preallocated || ::fsync(fd) != 0) {
    ::close(fd);
    LoadStats failed;
    failed.failed = 1;
    failed.first_error = absl::StrCat("cannot preallocate ", path, ": ", std::strerror(errno));
    return failed;
  }
  std::memset(record, 'w', sizeof record);
  LoadStats stats = RunClosedLoop(
      1, duration,
      [&](int, int64_t i) -> absl::Status {
        const off_t offset = static_cast<off_t>((i * sizeof record) % kFileBytes);
        if (::pwrite(fd, record, sizeof record, offset) != static_cast<ssize_t>(sizeof record) ||
            ::fdatasync(fd) != 0) {
          return absl::UnavailableError(absl::StrCat("write/fdatasync: ", std::strerror(errno)));
        }
        return absl::OkStatus();
      },
      "disk: write + fdatasync", max_commits);
  ::close(fd);
  ::unlink(path.c_str());
  return stats;
}

}  // namespace socle::bench
