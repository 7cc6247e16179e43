#include "tests/support/test_events.h"

#include "base/proto_time.h"

namespace innsyn::testing {

v1::AccessEvent JournalRead(int n, const std::string& subject_id, const std::string& actor_id,
                            std::optional<absl::Time> occurred_at) {
  v1::AccessEvent event;
  event.set_event_id("ev-" + std::to_string(n));
  event.mutable_source()->set_system("opus-dental");
  event.mutable_source()->set_instance("clinic-1");
  event.set_source_seq(static_cast<uint64_t>(n) + 1);
  *event.mutable_occurred_at() = ToProtoMicros(
      occurred_at.value_or(absl::FromUnixSeconds(kTestEventsStartUnixSeconds) + absl::Seconds(n)));
  event.mutable_actor()->set_id(actor_id);
  event.mutable_actor()->set_display_name("Dr. " + actor_id);
  event.mutable_actor()->set_role("dentist");
  event.mutable_actor()->set_hpr_number("1234567");
  event.mutable_subject()->set_id(subject_id);
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.set_action(v1::ACTION_CODE_READ);
  event.set_action_subtype(v1::ACTION_SUBTYPE_VIEW);
  event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_JOURNAL_NOTE);
  event.mutable_data_object()->set_id("note-" + std::to_string(n));
  event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
  event.set_legal_basis("pasientjournalloven § 22");
  event.set_outcome(v1::OUTCOME_SUCCESS);
  event.set_network_address("10.0.0.17");
  event.set_workstation("surgery-2");
  return event;
}

}  // namespace innsyn::testing
