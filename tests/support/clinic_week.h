// Times in a fixed week for integration tests that depend on the weekday
// and the hour (detection rules): days are counted from a Monday two to
// three weeks before innsyn's clock (which scripts/test-at.sh may shift),
// so that the weekdays are the same on any date and no event lies ahead.
#ifndef INNSYN_TESTS_SUPPORT_CLINIC_WEEK_H_
#define INNSYN_TESTS_SUPPORT_CLINIC_WEEK_H_

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace innsyn::testing {

const absl::TimeZone& OsloZone();
// That Monday, in Europe/Oslo.
absl::CivilDay FirstMonday();
// `hour`:`minute` Oslo time on FirstMonday() + `day`.
absl::Time OsloTime(int day, int hour, int minute = 0);

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_CLINIC_WEEK_H_
