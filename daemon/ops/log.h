// innsynd's log: one event a line on stderr, with a level. Under systemd
// (stderr connected to the journal, JOURNAL_STREAM set) each line starts
// with the sd-daemon priority prefix "<N>", so that journald records the
// level and `journalctl -p warning` filters on it; on a terminal each line
// starts with the UTC time instead. Newlines in a message become spaces.
// Thread-safe: each line is one write(2).
#ifndef INNSYN_DAEMON_OPS_LOG_H_
#define INNSYN_DAEMON_OPS_LOG_H_

#include <string_view>

#include "base/strings.h"

namespace innsyn::daemon {

// syslog(3) priorities.
enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

void Log(LogLevel level, std::string_view message);

template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, StrCat(args...));
}
template <typename... Args>
void LogNotice(const Args&... args) {
  Log(LogLevel::kNotice, StrCat(args...));
}
template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, StrCat(args...));
}

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_OPS_LOG_H_
