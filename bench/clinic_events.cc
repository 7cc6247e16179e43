#include "bench/clinic_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace innsyn::bench {

std::string PatientId(uint64_t patient) {
  return fmt::format("{:011d}", 10000000000ULL + patient * 7919);
}

// Events spread over the 89 days before now, never in the future.
constexpr uint64_t kSpreadSeconds = 89ULL * 24 * 3600;

v1::AccessEvent MakeEvent(uint64_t n, std::mt19937_64& random, const ClinicMix& options,
                          MixSources& sources) {
  using namespace v1;
  AccessEvent event;
  event.set_event_id(fmt::format("bench-{}", n));
  int kind = static_cast<int>(random() % 100);
  uint64_t patient = random() % static_cast<uint64_t>(options.patients);
  uint64_t staff = random() % static_cast<uint64_t>(options.staff);
  event.mutable_subject()->set_id(PatientId(patient));
  event.mutable_subject()->set_kind(SUBJECT_KIND_PATIENT);
  event.mutable_subject()->set_display_name(fmt::format("Patient {}", patient));
  auto now = std::chrono::system_clock::now() - std::chrono::hours(24 * 90) +
             std::chrono::seconds(n * 7 % kSpreadSeconds);
  event.mutable_occurred_at()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  event.set_outcome(OUTCOME_SUCCESS);
  event.mutable_source()->set_instance(sources.instance);
  if (kind < 80) {
    event.mutable_source()->set_system("opus-dental");
    event.set_source_seq(++sources.journal_seq);
    event.mutable_actor()->set_id(fmt::format("staff-{}", staff));
    event.mutable_actor()->set_display_name(fmt::format("Tannlege {}", staff));
    event.mutable_actor()->set_role(staff % 3 == 0 ? "hygienist" : "dentist");
    event.mutable_actor()->set_hpr_number(fmt::format("{}", 9000000 + staff));
    bool update = kind < 15;
    event.set_action(update ? ACTION_CODE_UPDATE : ACTION_CODE_READ);
    event.set_action_subtype(update ? ACTION_SUBTYPE_UPDATE : ACTION_SUBTYPE_VIEW);
    event.mutable_data_object()->set_type(kind % 4 == 0 ? DATA_OBJECT_TYPE_IMAGE
                                                        : DATA_OBJECT_TYPE_JOURNAL_NOTE);
    event.mutable_data_object()->set_id(fmt::format("doc-{}", n));
    event.set_purpose_of_use(PURPOSE_OF_USE_TREATMENT);
    event.set_legal_basis("helsepersonelloven § 39");
    event.set_network_address(fmt::format("10.1.0.{}", 10 + staff));
    event.set_workstation(fmt::format("surgery-{}", staff % 6));
  } else if (kind < 90) {
    event.mutable_source()->set_system("billing");
    event.set_source_seq(++sources.billing_seq);
    event.mutable_actor()->set_id("billing-1");
    event.mutable_actor()->set_role("receptionist");
    event.set_action(ACTION_CODE_CREATE);
    event.set_action_subtype(ACTION_SUBTYPE_CREATE);
    event.mutable_data_object()->set_type(DATA_OBJECT_TYPE_INVOICE);
    event.mutable_data_object()->set_id(fmt::format("inv-{}", n));
    event.set_purpose_of_use(PURPOSE_OF_USE_BILLING);
  } else {
    event.mutable_source()->set_system("website");
    event.set_source_seq(++sources.website_seq);
    event.mutable_actor()->set_id(event.subject().id());
    event.mutable_actor()->set_role("patient");
    bool login = kind < 95;
    event.set_action(login ? ACTION_CODE_EXECUTE : ACTION_CODE_CREATE);
    event.set_action_subtype(login ? ACTION_SUBTYPE_LOGIN : ACTION_SUBTYPE_CREATE);
    event.mutable_data_object()->set_type(login ? DATA_OBJECT_TYPE_ACCOUNT
                                                : DATA_OBJECT_TYPE_APPOINTMENT);
    event.set_network_address(fmt::format("84.210.{}.{}", random() % 256, random() % 256));
    event.set_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)");
    event.set_purpose_of_use(PURPOSE_OF_USE_PATIENT_REQUEST);
  }
  return event;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

}  // namespace innsyn::bench
