// Valid access events for tests: a clinician reading a patient's journal.
#ifndef INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_
#define INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::testing {

// When JournalRead's events occur unless told: a Monday morning in the past,
// so that the same n always gives the same event, byte for byte (a retry
// is a resend of the same bytes; a different event under a used event_id
// is refused), and no test depends on the day it runs.
inline constexpr int64_t kTestEventsStartUnixSeconds = 1'772'438'400;  // 2026-03-02T08:00:00Z

// A valid journal read by `actor_id` of `subject_id`, with event_id
// "ev-<n>" from source opus-dental/clinic-1, occurring `occurred_at`, or by
// default n seconds after kTestEventsStartUnixSeconds.
v1::AccessEvent JournalRead(int n, const std::string& subject_id, const std::string& actor_id,
                            std::optional<absl::Time> occurred_at = std::nullopt);

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_
