#include "anomaly/internal/local_clock.h"

#include <fmt/format.h>

#include <charconv>

#include "absl/time/civil_time.h"

namespace innsyn::anomaly::internal {
namespace {

// Every time zone in the tz database changes its UTC offset only on a
// quarter-hour boundary of UTC.
constexpr int64_t kOffsetSliceSeconds = 15 * kSecondsPerMinute;
// 1970-01-01 was a Thursday: weekday 3 with Monday = 0.
constexpr int64_t kEpochWeekday = 3;

std::optional<int> ParseFixedDigits(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "HH:MM" to minutes after midnight, 00:00 .. 24:00.
std::optional<int> ParseClock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  std::optional<int> hours = ParseFixedDigits(text.substr(0, 2));
  std::optional<int> minutes = ParseFixedDigits(text.substr(3, 2));
  if (!hours || !minutes || *minutes >= 60) return std::nullopt;
  int total = *hours * 60 + *minutes;
  if (total > kMinutesPerDay) return std::nullopt;
  return total;
}

}  // namespace

std::optional<int64_t> ParseLocalDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  std::optional<int> year = ParseFixedDigits(text.substr(0, 4));
  std::optional<int> month = ParseFixedDigits(text.substr(5, 2));
  std::optional<int> day = ParseFixedDigits(text.substr(8, 2));
  if (!year || !month || !day) return std::nullopt;
  absl::CivilDay civil(*year, *month, *day);
  // CivilDay normalises 2026-02-30 to March; a real date survives intact.
  if (civil.year() != *year || civil.month() != *month || civil.day() != *day) return std::nullopt;
  return civil - absl::CivilDay(1970, 1, 1);
}

std::string FormatLocalDate(int64_t day) {
  absl::CivilDay civil = absl::CivilDay(1970, 1, 1) + day;
  return fmt::format("{:04d}-{:02d}-{:02d}", civil.year(), civil.month(), civil.day());
}

std::optional<std::pair<int, int>> ParseOpeningInterval(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') return std::nullopt;
  std::optional<int> open = ParseClock(text.substr(0, 5));
  std::optional<int> close = ParseClock(text.substr(6, 5));
  if (!open || !close || *open >= *close) return std::nullopt;
  return std::pair{*open, *close};
}

absl::StatusOr<LocalClock> LocalClock::Create(const DetectionOptions& options) {
  LocalClock clock;
  if (!absl::LoadTimeZone(options.time_zone, &clock.zone_)) {
    return absl::InvalidArgumentError(fmt::format(
        "config: detection.time_zone \"{}\" is not a known time zone", options.time_zone));
  }
  for (const std::string& date : options.closed_dates) {
    std::optional<int64_t> day = ParseLocalDate(date);
    if (!day) {
      return absl::InvalidArgumentError(
          fmt::format("config: detection.closed_dates: \"{}\" is not a date (YYYY-MM-DD)", date));
    }
    clock.closed_days_.insert(*day);
  }
  clock.hours_ = options.opening_hours;
  return clock;
}

int64_t LocalClock::OffsetSeconds(int64_t unix_seconds) const {
  int64_t slice = FloorDiv(unix_seconds, kOffsetSliceSeconds);
  if (slice != cached_slice_) {
    cached_slice_ = slice;
    cached_offset_ = zone_.At(absl::FromUnixSeconds(unix_seconds)).offset;
  }
  return cached_offset_;
}

LocalTime LocalClock::At(absl::Time time) const {
  int64_t unix_seconds = absl::ToUnixSeconds(time);
  int64_t local_seconds = unix_seconds + OffsetSeconds(unix_seconds);
  LocalTime local;
  local.day = FloorDiv(local_seconds, kSecondsPerDay);
  local.hour = FloorDiv(local_seconds, kSecondsPerHour);
  local.minute_of_day =
      static_cast<int>((local_seconds - local.day * kSecondsPerDay) / kSecondsPerMinute);
  local.weekday = static_cast<int>(((local.day + kEpochWeekday) % 7 + 7) % 7);
  return local;
}

bool LocalClock::IsOpen(const LocalTime& local) const { return IsOpen(local, hours_); }

bool LocalClock::IsOpen(const LocalTime& local, const OpeningHours& hours) const {
  if (closed_days_.contains(local.day)) return false;
  for (const auto& [open, close] : hours.days[local.weekday]) {
    if (local.minute_of_day >= open && local.minute_of_day < close) return true;
  }
  return false;
}

int64_t LocalClock::OpenMinutesBetween(absl::Time from, absl::Time to) const {
  if (to <= from) return 0;
  LocalTime start = At(from);
  LocalTime end = At(to);
  int64_t start_minute = start.day * kMinutesPerDay + start.minute_of_day;
  int64_t end_minute = end.day * kMinutesPerDay + end.minute_of_day;
  int64_t total = 0;
  for (int64_t day = start.day; day <= end.day; ++day) {
    if (closed_days_.contains(day)) continue;
    int weekday = static_cast<int>(((day + kEpochWeekday) % 7 + 7) % 7);
    for (const auto& [open, close] : hours_.days[weekday]) {
      int64_t lo = std::max(start_minute, day * kMinutesPerDay + open);
      int64_t hi = std::min(end_minute, day * kMinutesPerDay + close);
      if (hi > lo) total += hi - lo;
    }
  }
  return total;
}

std::string LocalClock::FormatMinute(absl::Time time) const {
  LocalTime local = At(time);
  return fmt::format("{} {:02d}:{:02d}", FormatLocalDate(local.day), local.minute_of_day / 60,
                     local.minute_of_day % 60);
}

}  // namespace innsyn::anomaly::internal
