// A simulated Norwegian dental clinic for the detection-quality benchmark:
// from a seed, the time-ordered access events a clinic's journal, X-ray,
// billing and website systems would send innsyn over a period, the staff
// roster, and labels for the incidents injected among them, so that the
// anomaly detectors' alerts can be scored against known truth.
//
// Normal traffic follows the clinic's routine and event_conventions.h
// exactly: work inside opening hours, clinicians reading only the records of
// patients booked with them (prep reads a day or two before, follow-ups a
// few days after), disclosures covered by consent or a legal basis, sources
// numbering their events without gaps, staff on the clinic's networks.
// Staff's own and their relatives' records exist but normal traffic never
// opens them. Each incident breaks one routine and is labelled with the rule
// that names it best (a dentist reading her brother's journal has no care
// link either, but is self_or_related). Incidents are drawn from a random
// stream of their own, so that the routine is the same with them on or off,
// except that a silenced source's events of that day are left out.
//
// Deterministic: the same options give byte-identical events and labels.
#ifndef INNSYN_BENCH_CLINIC_SIM_H_
#define INNSYN_BENCH_CLINIC_SIM_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "anomaly/detection_options.h"
#include "anomaly/roster.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::bench {

struct ClinicOptions {
  uint64_t seed = 1;
  // Working staff (at least 6: a dentist, a hygienist, a dental nurse, a
  // receptionist, the billing clerk and the manager). The roster also lists
  // a former employee, a future hire and two locums who do not work in the
  // period.
  int staff = 12;
  int patients = 5'000;
  int days = 90;
  // A Monday; 90 days from 2026-01-05 cross the change to summer time on
  // 2026-03-29 and Easter.
  absl::CivilDay first_day{2026, 1, 5};
  std::string time_zone = "Europe/Oslo";
  bool incidents = true;
};

// What was injected: one rule the scenario should trigger. An alert of that
// rule is about this incident if it names the same actor (and subject, when
// set; and source, when set) and happened within [from, to], or if its
// evidence includes one of `event_ids`.
struct IncidentLabel {
  std::string id;        // "inc-017/off_hours"
  std::string rule;      // a name from anomaly::kRuleNames
  std::string scenario;  // what happened, for the reviewer
  std::string actor_id;  // empty: any actor (source health, password spraying)
  std::string subject_id;
  std::string source_system;
  absl::Time from;
  absl::Time to;
  std::vector<std::string> event_ids;  // the injected events (or the event after a gap)
  // When the incident began: its first event (for a gap in the numbering,
  // the event after it, the first sign of it), or for a silent source the
  // time its first unsent event would have been sent.
  absl::Time began = absl::InfiniteFuture();
};

struct Clinic {
  ClinicOptions options;
  // Sorted by occurred_at; source_seq increases per source. May start
  // before the period (the last activity of a dormant account).
  std::vector<v1::AccessEvent> events;
  std::vector<anomaly::StaffMember> roster;
  int working_staff = 0;
  std::vector<IncidentLabel> incidents;
  // Local dates inside the period the clinic is closed (public holidays).
  std::vector<std::string> closed_dates;
  // CIDR networks per source system; sources without are not checked.
  std::map<std::string, std::vector<std::string>> networks_by_source;
  // When a source works, where it differs from the clinic's opening hours
  // (the X-ray system: not on Friday afternoons and Saturdays).
  std::map<std::string, anomaly::OpeningHours> source_schedules;
  absl::Time period_start;  // local midnight of the first day
  absl::Time period_end;    // local midnight after the last day
};

// Fails (InvalidArgument) on options out of range or a time zone that
// cannot be loaded.
absl::StatusOr<Clinic> GenerateClinic(const ClinicOptions& options);

// The roster as the TOML file described in anomaly/roster.h.
std::string RosterToml(const std::vector<anomaly::StaffMember>& roster);

}  // namespace innsyn::bench

#endif  // INNSYN_BENCH_CLINIC_SIM_H_
