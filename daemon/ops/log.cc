#include "daemon/ops/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace innsyn::daemon {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kNotice: return "notice";
    case LogLevel::kInfo: return "info";
  }
  return "info";
}

// systemd sets JOURNAL_STREAM to "<device>:<inode>" of the stream it
// connected to stderr; a redirected stderr no longer matches.
bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat info {};
  if (fstat(STDERR_FILENO, &info) != 0) return false;
  return std::string(stream) ==
         StrCat(static_cast<uint64_t>(info.st_dev), ":", static_cast<uint64_t>(info.st_ino));
}

}  // namespace

void Log(LogLevel level, std::string_view message) {
  static const bool journal = StderrIsJournal();
  std::string line;
  if (journal) {
    line = StrCat("<", static_cast<int>(level), ">", LevelName(level), ": ");
  } else {
    line = StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                  " innsynd ", LevelName(level), ": ");
  }
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace innsyn::daemon
