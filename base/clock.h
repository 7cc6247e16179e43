// The wall clock innsyn reads, in one place, so that the whole system can be
// run at a chosen date in tests.
//
// Now() is absl::Now() shifted by INNSYN_TEST_CLOCK_OFFSET_SECONDS (whole
// seconds, may be negative) if that is set in the environment: innsynd,
// innsynctl and the test programs that share an environment then share one
// shifted clock, and a test suite can be run on a Sunday night in winter or
// across a change to summer time (scripts/test-at.sh). The offset is read
// once, at the first call. It is for tests only: innsynd logs a warning
// when it runs shifted (ClockOffset()).
//
// Use Now() for every time that is recorded or compared with one that is
// (committed_at, occurred_at checks, alert times, deadlines shown to people,
// metrics' timestamps). Waiting and timing use absl::Now(): absl's waits
// (AwaitWithDeadline) and gRPC's deadlines run on the real clock.
// Thread-safe.
#ifndef INNSYN_BASE_CLOCK_H_
#define INNSYN_BASE_CLOCK_H_

#include <cstdlib>
#include <optional>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace innsyn {

inline constexpr char kClockOffsetVariable[] = "INNSYN_TEST_CLOCK_OFFSET_SECONDS";

// The shift, if the environment sets one; nullopt otherwise (or if the value
// is not a whole number of seconds, which is then ignored).
inline std::optional<absl::Duration> ClockOffset() {
  static const std::optional<absl::Duration> offset = []() -> std::optional<absl::Duration> {
    const char* value = std::getenv(kClockOffsetVariable);
    int64_t seconds = 0;
    if (value == nullptr || !absl::SimpleAtoi(value, &seconds)) return std::nullopt;
    return absl::Seconds(seconds);
  }();
  return offset;
}

inline absl::Time Now() { return absl::Now() + ClockOffset().value_or(absl::ZeroDuration()); }

}  // namespace innsyn

#endif  // INNSYN_BASE_CLOCK_H_
