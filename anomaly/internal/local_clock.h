// The clinic's wall clock: converts event times to local days, minutes and
// weekdays in the configured time zone, and says whether the clinic is open.
// Conversions are cached per 15-minute slice of UTC, since every time zone
// changes its offset only on such a boundary, so the per-event cost is a
// few integer operations.
//
// Thread safety: none (the cache is mutable); owned by one Engine.
#ifndef INNSYN_ANOMALY_INTERNAL_LOCAL_CLOCK_H_
#define INNSYN_ANOMALY_INTERNAL_LOCAL_CLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "anomaly/detection_options.h"

namespace innsyn::anomaly::internal {

inline constexpr int64_t kSecondsPerMinute = 60;
inline constexpr int64_t kSecondsPerHour = 3600;
inline constexpr int64_t kSecondsPerDay = 86400;
inline constexpr int kMinutesPerDay = 1440;

// a / b rounded down, for times before 1970 too.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// One instant in local time. `day` counts local days since 1970-01-01.
struct LocalTime {
  int64_t day = 0;
  int64_t hour = 0;       // local hours since 1970-01-01T00 local
  int minute_of_day = 0;  // 0 .. 1439
  int weekday = 0;        // 0 = Monday ... 6 = Sunday
};

// "YYYY-MM-DD" to days since 1970-01-01; nullopt if malformed.
std::optional<int64_t> ParseLocalDate(std::string_view text);
// Days since 1970-01-01 to "YYYY-MM-DD".
std::string FormatLocalDate(int64_t day);
// "HH:MM-HH:MM" to [open, close) minutes after midnight; nullopt if
// malformed or empty.
std::optional<std::pair<int, int>> ParseOpeningInterval(std::string_view text);

class LocalClock {
 public:
  // InvalidArgument naming the setting on a bad time zone or closed date.
  static absl::StatusOr<LocalClock> Create(const DetectionOptions& options);

  LocalTime At(absl::Time time) const;
  // Open at this local time: inside the day's opening hours and not a
  // closed date.
  bool IsOpen(const LocalTime& local) const;
  // Open by `hours` (a source's schedule) on a day the clinic is not closed.
  bool IsOpen(const LocalTime& local, const OpeningHours& hours) const;
  // Minutes the clinic was open in [from, to).
  int64_t OpenMinutesBetween(absl::Time from, absl::Time to) const;
  // "YYYY-MM-DD HH:MM" in local time.
  std::string FormatMinute(absl::Time time) const;

 private:
  LocalClock() = default;
  int64_t OffsetSeconds(int64_t unix_seconds) const;

  absl::TimeZone zone_;
  OpeningHours hours_;
  absl::flat_hash_set<int64_t> closed_days_;
  mutable int64_t cached_slice_ = INT64_MIN;
  mutable int64_t cached_offset_ = 0;
};

}  // namespace innsyn::anomaly::internal

#endif  // INNSYN_ANOMALY_INTERNAL_LOCAL_CLOCK_H_
