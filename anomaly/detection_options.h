// The anomaly detectors' settings: one plain struct per rule with the
// defaults a small Norwegian clinic starts from, filled from the
// [detection] table of innsynd's TOML config by ReadDetectionOptions, in
// one place. Times of day are local times in `time_zone`.
#ifndef INNSYN_ANOMALY_DETECTION_OPTIONS_H_
#define INNSYN_ANOMALY_DETECTION_OPTIONS_H_

#include <toml++/toml.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "innsyn/v1/ledger.pb.h"

namespace innsyn::anomaly {

// Opening hours in local time: for each weekday (0 = Monday ... 6 = Sunday)
// the intervals [open, close) in minutes after local midnight. An empty day
// is closed.
struct OpeningHours {
  std::array<std::vector<std::pair<int, int>>, 7> days;
  // Mon-Fri 07:00-20:00, Sat 10:00-15:00, Sun closed.
  static OpeningHours Default();
};

// Settings every rule has.
struct RuleOptions {
  bool enabled = true;
  v1::AlertSeverity severity = v1::ALERT_SEVERITY_MEDIUM;
};

struct DetectionOptions {
  // Off: no detector runs and no alert is raised.
  bool enabled = true;
  // The staff roster (TOML, see roster.h). Empty: no roster; the rules that
  // need one (unknown_or_dormant_actor, self_or_related) see only what the
  // events themselves say.
  std::string roster_file;
  // The clinic's time zone, for opening hours and day boundaries.
  std::string time_zone = "Europe/Oslo";
  OpeningHours opening_hours = OpeningHours::Default();
  // Local dates ("YYYY-MM-DD") the clinic is closed, such as public holidays.
  std::vector<std::string> closed_dates;
  // Actor roles (roster role, else the event's actor.role) that are
  // clinicians: their reads and changes of health data need a care link.
  std::vector<std::string> clinical_roles = {
      "dentist",      "hygienist", "dental_nurse", "oral_surgeon",    "orthodontist",
      "periodontist", "doctor",    "nurse",        "physiotherapist", "psychologist"};
  // Staff roles that are not clinical, each with the kinds of data
  // (DataKindName: "contact_details", "appointment", "invoice", ...) its
  // work touches; any other kind raises role_data_access. Every role the
  // roster names must be clinical, non-staff or listed here: the engine
  // refuses a roster with a role it does not know, and treats an event
  // from an unknown role as a clinician's (its health data needs a care
  // link) and counts it (Engine::UnknownRoleEvents).
  std::map<std::string, std::vector<std::string>> role_data = {
      {"receptionist",
       {"contact_details", "appointment", "invoice", "consent", "web_form", "account"}},
      {"billing_clerk", {"contact_details", "appointment", "invoice", "account"}},
      {"manager", {"contact_details", "appointment", "invoice", "consent", "web_form", "account"}},
  };
  // The purposes of use (PurposeFromName: "treatment", "billing", "research",
  // ...) a staff role's work has; an event with another purpose raises
  // role_purpose (an event that gives none is not judged by it). A
  // clinical role takes `clinical_purposes` unless role_purposes names it;
  // every role in role_data must be named in role_purposes, and
  // role_purposes names no role that is neither. An unknown role, judged
  // as a clinician, takes `clinical_purposes`. Research (which needs its
  // own approval) and system administration are no one's by default, and
  // legal requests (police, courts, authorities) only the manager's.
  std::vector<std::string> clinical_purposes = {"treatment", "emergency", "administration",
                                                "billing",   "quality",   "patient_request"};
  std::map<std::string, std::vector<std::string>> role_purposes = {
      {"receptionist", {"treatment", "administration", "billing", "patient_request"}},
      {"billing_clerk", {"administration", "billing", "patient_request"}},
      {"manager", {"administration", "billing", "quality", "legal", "patient_request"}},
  };
  // Actor roles that are not staff: patients using the portal or website,
  // and system accounts. Staff rules (off_hours, volume_spike,
  // unknown_or_dormant_actor, no_care_relationship) skip them.
  std::vector<std::string> non_staff_roles = {"patient", "visitor", "system"};
  // How far back the ledger is replayed at start to rebuild the detectors'
  // state; at least the longest window of any rule.
  absl::Duration replay_window = absl::Hours(24 * 400);

  // A clinician reads or changes a patient's health data (journal notes,
  // images, treatment plans, referrals) with neither an appointment with
  // that clinician starting from `days_before` days before to `days_after`
  // days after the access, nor a treatment by them in the last
  // `treatment_days` days, nor a referral addressed to them in the last
  // `referral_days` days. A clinician called in to a colleague's appointment
  // (their own treatment entry while the patient is booked with the
  // colleague) has a care link; so has one covering for a colleague not at
  // work that day (see `covering`).
  struct NoCareRelationship : RuleOptions {
    int days_before = 30;
    int days_after = 7;
    int treatment_days = 365;
    int referral_days = 30;
  } no_care_relationship{{true, v1::ALERT_SEVERITY_HIGH}};

  // Staff access outside opening hours or on a closed date.
  struct OffHours : RuleOptions {
  } off_hours{{true, v1::ALERT_SEVERITY_MEDIUM}};

  // Distinct patients an actor accessed within a sliding `window`, counted
  // apart for health data and for administrative data (contact details,
  // appointments, invoices, consents): alert above max(`floor`,
  // `multiplier` x the actor's own average of that kind over their active
  // clock hours in the last `baseline_days`). With fewer than
  // `min_baseline_hours` active hours of history, `floor` alone applies.
  // Issuing invoices (a create or update of an invoice for billing, as a
  // month-end run does) is billing work and not counted. One alert a
  // burst: the next only after the window has dropped under the limit.
  struct VolumeSpike : RuleOptions {
    absl::Duration window = absl::Minutes(60);
    int floor = 30;
    double multiplier = 3.0;
    int baseline_days = 28;
    int min_baseline_hours = 20;
  } volume_spike{{true, v1::ALERT_SEVERITY_HIGH}};

  // An employee opens their own record, a co-worker's, or a relative's
  // (same surname and address, or a relation listed in the roster).
  struct SelfOrRelated : RuleOptions {
  } self_or_related{{true, v1::ALERT_SEVERITY_HIGH}};

  // Print or export of more than `max_subjects` distinct patients by one
  // actor within `window`.
  struct BulkExport : RuleOptions {
    int max_subjects = 20;
    absl::Duration window = absl::Minutes(10);
  } bulk_export{{true, v1::ALERT_SEVERITY_HIGH}};

  // A disclosure to a recipient with no active consent from the patient for
  // that recipient, and no legal basis recorded on the event.
  struct DisclosureWithoutConsent : RuleOptions {
  } disclosure_without_consent{{true, v1::ALERT_SEVERITY_HIGH}};

  // More than `max_failures` failed logins within `window`, per account or
  // per network address.
  struct LoginFailures : RuleOptions {
    int max_failures = 10;
    absl::Duration window = absl::Minutes(5);
  } login_failures{{true, v1::ALERT_SEVERITY_MEDIUM}};

  // Every emergency ("break the glass") access.
  struct BreakGlass : RuleOptions {
  } break_glass{{true, v1::ALERT_SEVERITY_MEDIUM}};

  // An actor not in the roster, outside their start and end dates, or
  // unseen for `dormant_days`. Without a roster, only dormancy.
  struct UnknownOrDormantActor : RuleOptions {
    int dormant_days = 90;
  } unknown_or_dormant_actor{{true, v1::ALERT_SEVERITY_HIGH}};

  // Access from outside the networks (CIDR) configured for its source
  // system. Sources without networks are not checked.
  struct DisallowedNetwork : RuleOptions {
    std::map<std::string, std::vector<std::string>> networks_by_source;
  } disallowed_network{{true, v1::ALERT_SEVERITY_HIGH}, {}};

  // A source that has sent events in the last `known_days` sends nothing
  // for `max_silence` of opening hours in which it usually works: the hours
  // it was active on most days of the same kind (weekday, Saturday,
  // Sunday), and only those its schedule in `schedules` allows (by source
  // system; a weekday not given keeps the clinic's opening hours), so that
  // an X-ray system idle on Friday afternoons is not "silent" then. Only
  // hours in which the clinic's other sources sent staff's events count
  // (all of them if no other source has), and the source must be quieter
  // than on every day of the same kind in `known_days` on which it worked
  // (days of a raised silence excepted): a clinic gone home early, or a
  // sensor idle as on other mornings, is not a lost log.
  struct SourceSilent : RuleOptions {
    absl::Duration max_silence = absl::Hours(2);
    int known_days = 14;
    std::map<std::string, OpeningHours> schedules;
  } source_silent{{true, v1::ALERT_SEVERITY_HIGH}, absl::Hours(2), 14, {}};

  // A staff member in a non-clinical role (role_data) touches a kind of
  // data that role does not work with: a receptionist reading a journal.
  struct RoleDataAccess : RuleOptions {
  } role_data_access{{true, v1::ALERT_SEVERITY_HIGH}};

  // A staff member's access gives a purpose of use their role does not
  // have (clinical_purposes, role_purposes): a dentist reading their own
  // patients' journals "for research", a receptionist looking up an
  // address for a "legal" request. One alert per person, patient and day.
  struct RolePurpose : RuleOptions {
  } role_purpose{{true, v1::ALERT_SEVERITY_MEDIUM}};

  // A clinician handles a patient booked in the same slot with a colleague
  // who has not been at work that day: one low notice per covering
  // clinician and day, instead of no_care_relationship per patient.
  struct Covering : RuleOptions {
  } covering{{true, v1::ALERT_SEVERITY_LOW}};

  // A source's own sequence numbers (source_seq) skip, and the missing
  // numbers have not arrived within `grace`.
  struct SourceSequenceGap : RuleOptions {
    absl::Duration grace = absl::Minutes(5);
  } source_sequence_gap{{true, v1::ALERT_SEVERITY_HIGH}};

  // innsynd's self-verification of the ledger failed.
  struct VerificationFailed : RuleOptions {
  } verification_failed{{true, v1::ALERT_SEVERITY_CRITICAL}};
};

// Every rule's name, as alerts and the config use it.
inline constexpr std::array<std::string_view, 16> kRuleNames = {
    "no_care_relationship", "off_hours",        "volume_spike",
    "self_or_related",      "bulk_export",      "disclosure_without_consent",
    "login_failures",       "break_glass",      "unknown_or_dormant_actor",
    "disallowed_network",   "source_silent",    "source_sequence_gap",
    "verification_failed",  "role_data_access", "covering",
    "role_purpose"};

// The name of a kind of data in role_data ("journal_note", "image",
// "contact_details", "invoice", "referral", "appointment",
// "treatment_plan", "consent", "web_form", "account"), and back.
std::string_view DataKindName(v1::DataObjectType type);
std::optional<v1::DataObjectType> DataKindFromName(std::string_view name);
// The purpose of use a name in clinical_purposes and role_purposes stands
// for ("treatment", "emergency", "administration", "billing", "quality",
// "legal", "patient_request", "research", "system").
std::optional<v1::PurposeOfUse> PurposeFromName(std::string_view name);

// Reads the [detection] table (`detection` is that table) into `options`,
// over its defaults. Keys: enabled, roster_file, time_zone, closed_dates,
// clinical_roles, non_staff_roles, [role_data] (role = list of kinds of
// data), clinical_purposes, [role_purposes] (role = list of purposes),
// replay_window_days, [opening_hours]
// (monday .. sunday, each a list of "HH:MM-HH:MM"; a day given replaces its
// default, [] closes it), and a sub-table per rule (kRuleNames) with
// enabled, severity ("low" .. "critical") and the rule's fields in
// snake_case, durations in whole units: days_before, days_after,
// treatment_days, referral_days, window_minutes, floor, multiplier,
// baseline_days, min_baseline_hours,
// max_subjects, window_minutes, max_failures, dormant_days, [networks]
// (source system = list of CIDRs), max_silence_minutes, known_days,
// [schedules.<source system>] (as opening_hours), grace_minutes. InvalidArgument names the setting
// ("config: detection.bulk_export.max_subjects must be ...") on an unknown key, a wrong type or a
// value out of range; then `options` is unchanged.
absl::Status ReadDetectionOptions(const toml::table& detection, DetectionOptions& options);

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_DETECTION_OPTIONS_H_
