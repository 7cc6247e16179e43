#include "tests/support/clinic_week.h"

#include "base/clock.h"

namespace innsyn::testing {

const absl::TimeZone& OsloZone() {
  static const absl::TimeZone* const kOslo = [] {
    auto* zone = new absl::TimeZone;
    absl::LoadTimeZone("Europe/Oslo", zone);
    return zone;
  }();
  return *kOslo;
}

absl::CivilDay FirstMonday() {
  static const absl::CivilDay kMonday = [] {
    absl::CivilDay day = absl::ToCivilDay(Now(), OsloZone()) - 14;
    while (absl::GetWeekday(day) != absl::Weekday::monday) --day;
    return day;
  }();
  return kMonday;
}

absl::Time OsloTime(int day, int hour, int minute) {
  const absl::CivilDay date = FirstMonday() + day;
  return absl::FromCivil(absl::CivilMinute(date.year(), date.month(), date.day(), hour, minute),
                         OsloZone());
}

}  // namespace innsyn::testing
