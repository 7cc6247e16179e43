#include "ctl/forward/progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace innsyn::ctl::forward {
namespace {

constexpr absl::Duration kTerminalEvery = absl::Milliseconds(250);
constexpr absl::Duration kJournalEvery = absl::Minutes(1);
constexpr int kBarWidth = 30;

}  // namespace

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1 << 20)) return fmt::format("{:.1f} KiB", n / 1024.0);
  if (n < (1ULL << 30)) return fmt::format("{:.1f} MiB", n / 1048576.0);
  return fmt::format("{:.1f} GiB", n / 1073741824.0);
}

Progress::Progress(std::FILE* out, bool once)
    : out_(out),
      once_(once),
      terminal_(isatty(fileno(out)) != 0),
      started_(absl::Now()),
      last_shown_(absl::Now()) {}

std::string Progress::Line(const ForwardStats& stats) const {
  std::string line;
  if (once_) {
    double done = stats.file_bytes == 0 ? 1.0 : double(stats.bytes_done) / stats.file_bytes;
    int filled = static_cast<int>(done * kBarWidth);
    line = fmt::format("[{}{}] {:3.0f}%  ", std::string(filled, '#'),
                       std::string(kBarWidth - filled, ' '), done * 100);
  }
  line += fmt::format("{} events sent, {:.0f}/s", Thousands(stats.events), rate_);
  if (stats.duplicates > 0)
    line += fmt::format(", {} already recorded", Thousands(stats.duplicates));
  if (stats.rejected > 0) line += fmt::format(", {} rejected", Thousands(stats.rejected));
  if (!once_) {
    line += fmt::format("; lag {}{} lines ({})", stats.lag_bytes > kMaxLinesScanBytes ? ">" : "",
                        Thousands(stats.lag_lines), Bytes(stats.lag_bytes));
  }
  if (!stats.waiting.empty()) line += "; " + stats.waiting;
  return line;
}

void Progress::Show(const ForwardStats& stats, bool done) {
  const absl::Time now = absl::Now();
  const absl::Duration every = terminal_ ? kTerminalEvery : kJournalEvery;
  if (done) {
    const double seconds = absl::ToDoubleSeconds(now - started_);
    if (line_open_) std::fputs("\r\033[K", out_);
    fmt::print(out_,
               "forwarded {} events from {} in {:.1f} s ({:.0f} events/s); {} already "
               "recorded, {} rejected\n",
               Thousands(stats.events), stats.file, seconds,
               seconds > 0 ? stats.events / seconds : 0.0, Thousands(stats.duplicates),
               Thousands(stats.rejected));
    line_open_ = false;
    std::fflush(out_);
    return;
  }
  if (now - last_shown_ < every) return;
  const double seconds = absl::ToDoubleSeconds(now - last_shown_);
  rate_ = (stats.events - last_events_) / seconds;
  last_events_ = stats.events;
  last_shown_ = now;
  if (terminal_) {
    fmt::print(out_, "\r\033[K{}", Line(stats));
    line_open_ = true;
  } else if (!once_ && (rate_ > 0 || !stats.waiting.empty())) {
    fmt::print(out_, "{}\n", Line(stats));
  }
  std::fflush(out_);
}

void Progress::Log(const std::string& line) {
  if (line_open_) std::fputs("\r\033[K", out_);
  line_open_ = false;
  fmt::print(out_, "innsynctl: forward: {}\n", line);
  std::fflush(out_);
}

}  // namespace innsyn::ctl::forward
