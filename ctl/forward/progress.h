// What `innsynctl forward` shows while it runs. On a terminal (stderr is a
// TTY): one line redrawn in place, a progress bar with `--once`, else
// events sent, the rate and the lag. Elsewhere (the systemd journal): a
// line a minute while events flow. Always a summary at the end.
// Not thread-safe; called from the forwarder's thread.
#ifndef INNSYN_CTL_FORWARD_PROGRESS_H_
#define INNSYN_CTL_FORWARD_PROGRESS_H_

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "ctl/forward/forwarder.h"

namespace innsyn::ctl::forward {

class Progress {
 public:
  Progress(std::FILE* out, bool once);
  void Show(const ForwardStats& stats, bool done);
  // A message line, which must not end up in the middle of a progress line.
  void Log(const std::string& line);

 private:
  std::string Line(const ForwardStats& stats) const;

  std::FILE* out_;
  bool once_;
  bool terminal_;
  bool line_open_ = false;  // a progress line is drawn without its line break
  absl::Time started_;
  absl::Time last_shown_;
  uint64_t last_events_ = 0;
  double rate_ = 0;  // events/s since the last line shown
};

// 1234567 -> "1,234,567"; 1536 bytes -> "1.5 KiB".
std::string Thousands(uint64_t n);
std::string Bytes(uint64_t n);

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_PROGRESS_H_
