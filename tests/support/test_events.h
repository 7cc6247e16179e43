// Valid access events for tests: a clinician reading a patient's journal.
#ifndef INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_
#define INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::testing {

// A valid journal read by `actor_id` of `subject_id`, with event_id
// "ev-<n>" from source opus-dental/clinic-1, occurring `occurred_at`.
v1::AccessEvent JournalRead(int n, const std::string& subject_id, const std::string& actor_id,
                            absl::Time occurred_at = innsyn::Now() - absl::Minutes(1));

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_TEST_EVENTS_H_
