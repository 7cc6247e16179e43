// The detectors' state behind Engine, and the rule functions that read and
// update it, split by kind over staff_rules.cc, care_rules.cc and
// source_rules.cc. Everything here is keyed by the ids in the events and
// bounded by the rules' windows: the hourly Sweep drops what no rule can
// still use.
//
// Thread safety: none; owned by one Engine.
#ifndef INNSYN_ANOMALY_INTERNAL_ENGINE_STATE_H_
#define INNSYN_ANOMALY_INTERNAL_ENGINE_STATE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "anomaly/engine.h"
#include "anomaly/internal/burst_window.h"
#include "anomaly/internal/care_links.h"
#include "anomaly/internal/local_clock.h"
#include "anomaly/internal/networks.h"

namespace innsyn::anomaly {
namespace internal {

// One staff actor's volume of one kind of data (health or
// administrative), for volume_spike: the sliding window, and the actor's
// baseline from clock hours.
struct VolumeState {
  BurstWindow window;
  // The current local clock hour's distinct patients, for the baseline.
  int64_t hour = INT64_MIN;
  absl::flat_hash_set<std::string> hour_subjects;
  double threshold = 0;
  // Completed active hours within baseline_days: (hour, distinct patients).
  std::deque<std::pair<int64_t, int>> past_hours;
  int64_t past_sum = 0;
};
inline constexpr int kVolumeKinds = 2;  // 0: health data, 1: administrative

// One staff actor's history, for off_hours, volume_spike and
// unknown_or_dormant_actor.
struct ActorState {
  absl::Time last_seen = absl::InfinitePast();
  int64_t off_hours_day = INT64_MIN;  // local day already checked for an alert
  int64_t unknown_day = INT64_MIN;
  std::array<VolumeState, kVolumeKinds> volume;
};

// One source (system, instance): its last event, for source_silent, and its
// own sequence numbers, for source_sequence_gap.
struct SourceState {
  std::string system;
  std::string instance;
  absl::Time last_seen = absl::InfinitePast();
  uint64_t last_ledger_seq = 0;
  uint64_t next_source_seq = 0;  // 0: no source_seq seen yet
  // Local clock hours (LocalTime::hour) in which the source sent events,
  // within known_days: when it usually works, learned from itself, so that
  // an X-ray sensor idle after its last patient is not "silent".
  absl::flat_hash_set<int64_t> active_hours;
  // Those of them in which it sent staff's events (not patients' or
  // systems'): when the clinic was at work, as this source shows it.
  absl::flat_hash_set<int64_t> staff_hours;
  // Local days of a silence source_silent raised, from the day it began to
  // the day the source came back: an outage is not a quiet day to compare
  // with. A raised silence not yet over began on silence_alerted_from.
  absl::flat_hash_set<int64_t> alerted_days;
  std::optional<int64_t> silence_alerted_from;
  struct Gap {
    absl::Time noticed;                                  // occurred_at of the event after the gap
    uint64_t revealed_by;                                // ledger seq of that event
    std::vector<std::pair<uint64_t, uint64_t>> missing;  // [first, last] ranges
  };
  std::vector<Gap> gaps;
};

// A clinician's access with no care link yet, waiting kLateBookingGrace for
// an appointment booked after it. One per actor, patient and local day.
struct PendingAccess {
  std::string key;
  std::string actor;
  std::string subject;
  std::string source_system;
  std::string what;  // "read the journal"
  int64_t day;
  absl::Time first_time;
  std::vector<uint64_t> evidence;
  // The latest treatment among these accesses, recorded if an appointment
  // booked late turns out to cover them.
  absl::Time treatment = absl::InfinitePast();
};

// "surname|address", normalised (lower case, no white space); "" if
// either is missing.
std::string ContactKey(std::string_view surname, std::string_view address);
// What the data object is, in words: "journal note", "image", ...
std::string_view DescribeData(v1::DataObjectType type);
// "research", "a legal request", ...: a purpose of use in a summary.
std::string_view DescribePurpose(v1::PurposeOfUse purpose);

// What Observe works out once per access event.
struct EventContext {
  uint64_t seq;
  const v1::AccessEvent& event;
  absl::Time time;
  LocalTime local;
  const StaffMember* member;
  const std::string& role;  // the roster's, else the event's
  bool staff;
  bool clinician;
  bool self_or_related;  // self_or_related found it: no_care leaves it alone
};

}  // namespace internal

struct Engine::State {
  State(DetectionOptions options, Roster roster, internal::LocalClock clock);

  DetectionOptions options;
  Roster roster;
  internal::LocalClock clock;
  absl::flat_hash_set<std::string> clinical_roles;
  absl::flat_hash_set<std::string> non_staff_roles;
  // role_data: each non-clinical staff role's kinds of data.
  absl::flat_hash_map<std::string, absl::flat_hash_set<int>> role_data_kinds;
  // clinical_purposes and role_purposes, as purposes of use.
  absl::flat_hash_set<int> clinical_purposes;
  absl::flat_hash_map<std::string, absl::flat_hash_set<int>> role_purposes;
  // Events whose actor's role no setting names, by role.
  std::map<std::string, uint64_t> unknown_role_events;
  absl::flat_hash_map<std::string, internal::NetworkList> networks_by_source;
  // "surname|address", normalised, of staff in the roster, and of patients
  // from their contact details: equal keys are relatives.
  absl::flat_hash_map<std::string, std::string> staff_contact_key;
  absl::flat_hash_map<std::string, std::string> subject_contact_key;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> related_by_actor;
  // The roster's related_subject_pseudonyms, by actor.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> related_pseudonyms_by_actor;
  // A staff member's household taken from their own record's contact
  // details, by staff id: used when the roster gives no surname and address.
  absl::flat_hash_map<std::string, std::string> household_by_staff;
  Engine::SubjectPseudonymFunction subject_pseudonym;

  // Alert ids raised, with the time of the activity they are about; kept
  // while a rule could still see the same incident (see kRaisedRetention).
  // Ids marked by MarkRaised alone are kept for good.
  absl::flat_hash_map<std::string, absl::Time> raised;
  internal::CareLinks care;
  absl::flat_hash_map<std::string, internal::ActorState> actors;
  absl::flat_hash_map<std::string, internal::BurstWindow> exports_by_actor;
  absl::flat_hash_map<std::string, internal::BurstWindow> login_failures_by_account;
  absl::flat_hash_map<std::string, internal::BurstWindow> login_failures_by_address;
  absl::flat_hash_map<std::string, internal::SourceState> sources;
  std::deque<internal::PendingAccess> pending;  // in order of first access
  absl::flat_hash_map<std::string, internal::PendingAccess*> pending_by_key;

  absl::Time latest = absl::InfinitePast();  // latest occurred_at seen
  absl::Time next_sweep = absl::InfinitePast();
  absl::Time next_care_prune = absl::InfinitePast();
  std::string key_buffer;  // reused to build map keys
  std::vector<v1::Alert> out;

  // The roster's relatives and contact keys, again after SetRoster.
  void IndexRoster();
  // Starts an alert about activity at `occurred_at` unless `id` is already
  // raised; nullptr if it is.
  v1::Alert* Raise(std::string id, std::string_view rule, const RuleOptions& rule_options,
                   absl::Time occurred_at);
  // An alert about one event: actor, subject, source, time and evidence.
  v1::Alert* RaiseFor(const internal::EventContext& context, std::string id, std::string_view rule,
                      const RuleOptions& rule_options);
  std::string LocalDate(int64_t day) const { return internal::FormatLocalDate(day); }
  void Sweep(absl::Time now);

  // staff_rules.cc
  void CheckOffHours(internal::EventContext& context, internal::ActorState& actor);
  void CheckVolume(internal::EventContext& context, internal::ActorState& actor);
  void CheckUnknownOrDormant(internal::EventContext& context, internal::ActorState& actor);
  void CheckSelfOrRelated(internal::EventContext& context);
  void CheckBulkExport(internal::EventContext& context);
  void CheckBreakGlass(internal::EventContext& context);
  void CheckNetwork(internal::EventContext& context);
  void CheckRoleData(internal::EventContext& context);
  void CheckRolePurpose(internal::EventContext& context);
  void ObserveContactDetails(const v1::AccessEvent& event);
  // A go-live fact: what the rules learn from it, and no check.
  void ObserveBaseline(const v1::AccessEvent& event);
  // The staff member whose own record `subject_id` is, by id or pseudonym.
  const StaffMember* OwnerOfRecord(const std::string& subject_id);
  // The subject's pseudonym when the roster uses pseudonyms, else "".
  std::string PseudonymIfNeeded(const std::string& subject_id) const;

  // care_rules.cc
  void CheckCareRelationship(internal::EventContext& context);
  void ResolvePending(absl::Time now);
  // No care link for `access`: a call-in or a cover, or an alert.
  void JudgeUnlinked(const internal::PendingAccess& access);
  void CheckDisclosure(internal::EventContext& context);

  // source_rules.cc
  void CheckLoginFailure(internal::EventContext& context);
  void ObserveSource(internal::EventContext& context);
  void ExpireGaps(internal::SourceState& source, absl::Time now);
  void CheckSilence(absl::Time now);
  // The local hours in [first_hour, last_hour] in which the clinic was at
  // work by its other sources (a staff event from any of them); nullopt if
  // no other source has sent staff events within known_days.
  std::optional<absl::flat_hash_set<int64_t>> ClinicAtWork(const internal::SourceState& silent,
                                                           int64_t first_hour,
                                                           int64_t last_hour) const;
};

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_INTERNAL_ENGINE_STATE_H_
