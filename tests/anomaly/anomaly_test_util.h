// Events and an engine harness for the anomaly tests: a clinic in
// Europe/Oslo whose dentist dr.lie, receptionist resepsjon and patients
// p1, p2, ... show up in the events.
#ifndef INNSYN_TESTS_ANOMALY_ANOMALY_TEST_UTIL_H_
#define INNSYN_TESTS_ANOMALY_ANOMALY_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "anomaly/engine.h"
#include "anomaly/event_conventions.h"

namespace innsyn::anomaly::testing {

// An RFC 3339 time, for example "2026-01-12T09:00:00Z".
inline absl::Time At(const std::string& text) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &time, &error)) << text << ": " << error;
  return time;
}

inline void SetTime(v1::AccessEvent& event, absl::Time time) {
  event.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(time));
}

// A successful access by `actor` (`role`) to `subject`'s data of `type`.
inline v1::AccessEvent Access(const std::string& actor, const std::string& role,
                              const std::string& subject, absl::Time time,
                              v1::DataObjectType type = v1::DATA_OBJECT_TYPE_JOURNAL_NOTE,
                              v1::ActionCode action = v1::ACTION_CODE_READ) {
  static int next_id = 0;
  v1::AccessEvent event;
  event.set_event_id("ev-" + std::to_string(++next_id));
  event.mutable_source()->set_system("opus-dental");
  event.mutable_source()->set_instance("clinic-1");
  SetTime(event, time);
  event.mutable_actor()->set_id(actor);
  event.mutable_actor()->set_role(role);
  event.mutable_subject()->set_id(subject);
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_PATIENT);
  event.set_action(action);
  event.set_action_subtype(action == v1::ACTION_CODE_READ     ? v1::ACTION_SUBTYPE_VIEW
                           : action == v1::ACTION_CODE_CREATE ? v1::ACTION_SUBTYPE_CREATE
                           : action == v1::ACTION_CODE_UPDATE ? v1::ACTION_SUBTYPE_UPDATE
                                                              : v1::ACTION_SUBTYPE_DELETE);
  event.mutable_data_object()->set_type(type);
  event.set_purpose_of_use(v1::PURPOSE_OF_USE_TREATMENT);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return event;
}

inline v1::AccessEvent JournalRead(const std::string& actor, const std::string& subject,
                                   absl::Time time) {
  return Access(actor, "dentist", subject, time);
}

// The reception books (CREATE), moves (UPDATE) or cancels (DELETE)
// appointment `id` of `subject` with `clinician` starting at `start`.
inline v1::AccessEvent Appointment(const std::string& id, const std::string& subject,
                                   const std::string& clinician, const std::string& start,
                                   absl::Time booked_at,
                                   v1::ActionCode action = v1::ACTION_CODE_CREATE) {
  v1::AccessEvent event = Access("resepsjon", "receptionist", subject, booked_at,
                                 v1::DATA_OBJECT_TYPE_APPOINTMENT, action);
  event.set_purpose_of_use(v1::PURPOSE_OF_USE_ADMINISTRATION);
  event.mutable_data_object()->set_id(id);
  (*event.mutable_attributes())[std::string(kAppointmentClinician)] = clinician;
  (*event.mutable_attributes())[std::string(kAppointmentStart)] = start;
  return event;
}

inline v1::AccessEvent Consent(const std::string& subject, const std::string& recipient,
                               absl::Time time, bool given = true) {
  v1::AccessEvent event = Access(subject, "patient", subject, time, v1::DATA_OBJECT_TYPE_CONSENT,
                                 v1::ACTION_CODE_CREATE);
  event.set_action_subtype(given ? v1::ACTION_SUBTYPE_CONSENT_GIVEN
                                 : v1::ACTION_SUBTYPE_CONSENT_WITHDRAWN);
  event.mutable_recipient()->set_id(recipient);
  return event;
}

inline v1::AccessEvent Disclosure(const std::string& actor, const std::string& subject,
                                  const std::string& recipient, absl::Time time) {
  v1::AccessEvent event = Access(actor, "dentist", subject, time);
  event.set_action(v1::ACTION_CODE_EXECUTE);
  event.set_action_subtype(v1::ACTION_SUBTYPE_DISCLOSE);
  event.mutable_recipient()->set_id(recipient);
  return event;
}

inline v1::AccessEvent FailedLogin(const std::string& account, const std::string& address,
                                   absl::Time time) {
  v1::AccessEvent event = Access(account, "patient", account, time, v1::DATA_OBJECT_TYPE_ACCOUNT,
                                 v1::ACTION_CODE_EXECUTE);
  event.mutable_source()->set_system("website");
  event.set_action_subtype(v1::ACTION_SUBTYPE_LOGIN_FAILED);
  event.set_outcome(v1::OUTCOME_DENIED);
  event.set_network_address(address);
  return event;
}

inline std::vector<std::string> Ids(const std::vector<v1::Alert>& alerts) {
  std::vector<std::string> ids;
  for (const v1::Alert& alert : alerts) ids.push_back(alert.alert_id());
  return ids;
}

inline std::vector<uint64_t> Evidence(const v1::Alert& alert) {
  return {alert.evidence_seqs().begin(), alert.evidence_seqs().end()};
}

inline StaffMember Staff(const std::string& id, const std::string& role) {
  StaffMember member;
  member.id = id;
  member.role = role;
  return member;
}

// Options with every rule on and the defaults otherwise.
inline DetectionOptions TestOptions() { return DetectionOptions(); }

// An engine fed entries with seqs 0, 1, 2, ... that keeps every alert.
class Harness {
 public:
  explicit Harness(DetectionOptions options = TestOptions(), Roster roster = Roster()) {
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(std::move(options), std::move(roster));
    EXPECT_TRUE(engine.ok()) << engine.status();
    if (engine.ok()) engine_ = std::move(*engine);
  }

  // Feeds the event; returns its seq.
  uint64_t Feed(const v1::AccessEvent& event) {
    v1::LedgerEntry entry;
    entry.set_seq(next_seq_);
    *entry.mutable_access_event() = event;
    return FeedEntry(entry);
  }
  uint64_t FeedEntry(const v1::LedgerEntry& entry) {
    entries_.push_back(entry);
    for (v1::Alert& alert : engine_->Observe(next_seq_, entry)) alerts_.push_back(std::move(alert));
    return next_seq_++;
  }
  void Tick(absl::Time now) {
    for (v1::Alert& alert : engine_->Tick(now)) alerts_.push_back(std::move(alert));
  }

  Engine& engine() { return *engine_; }
  const std::vector<v1::Alert>& alerts() const { return alerts_; }
  std::vector<std::string> ids() const { return Ids(alerts_); }
  const std::vector<v1::LedgerEntry>& entries() const { return entries_; }
  // The alerts of one rule.
  std::vector<v1::Alert> Of(std::string_view rule) const {
    std::vector<v1::Alert> found;
    for (const v1::Alert& alert : alerts_) {
      if (alert.rule() == rule) found.push_back(alert);
    }
    return found;
  }

 private:
  std::unique_ptr<Engine> engine_;
  uint64_t next_seq_ = 0;
  std::vector<v1::Alert> alerts_;
  std::vector<v1::LedgerEntry> entries_;
};

}  // namespace innsyn::anomaly::testing

#endif  // INNSYN_TESTS_ANOMALY_ANOMALY_TEST_UTIL_H_
