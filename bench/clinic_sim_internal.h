// The clinic simulation's working state, shared by the normal routine
// (clinic_sim.cc) and the incident injection (clinic_incidents.cc). Private
// to bench/.
#ifndef INNSYN_BENCH_CLINIC_SIM_INTERNAL_H_
#define INNSYN_BENCH_CLINIC_SIM_INTERNAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "bench/clinic_sim.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::bench::sim {

enum class Source { kJournal, kXray, kBilling, kWebsite };
inline constexpr int kSourceCount = 4;
// From this local hour on Fridays the X-ray system is idle.
inline constexpr int kXrayFridayLastHour = 12;
const char* SystemName(Source source);
const char* InstanceName(Source source);

struct Shift {
  absl::Time start;
  absl::Time end;
  bool Contains(absl::Time t) const { return t >= start && t < end; }
};

struct StaffInfo {
  anomaly::StaffMember member;
  bool working = true;  // counted in staff-days; false for roster-only entries
  std::string hpr;
  std::string address;  // workstation network address
  std::string workstation;
  std::vector<std::optional<Shift>> shifts;  // by day of the period
  int own_patient = -1;                      // index of the employee's own record
  std::vector<int> relatives;                // by address (same household)
  int roster_relative = -1;                  // listed in related_subject_ids
  bool IsClinician() const;
};

struct Patient {
  std::string id;
  std::string first_name;
  std::string surname;
  std::string address;
  int home_dentist = -1;    // index into staff
  bool off_limits = false;  // a staff member's or relative's record
  std::string website_address;
  absl::Time last_booked = absl::InfinitePast();
  int consent = 0;  // 0 none, 1 insurer, 2 NAV: consents to give at a visit
  bool consent_done = false;
};

inline constexpr int kWebsite = -1;
inline constexpr int kImport = -2;

struct Appointment {
  int clinician = -1;
  int patient = -1;
  absl::Time start;
  absl::Duration length;
  absl::Time booked_at;  // the CREATE event (or the import)
  absl::Time moved_at = absl::InfinitePast();
  absl::Time cancelled_at = absl::InfiniteFuture();
  std::string id;
  int booked_by = -1;  // staff index; kWebsite: the patient; kImport: the go-live import
  int moved_by = -1;
  absl::Time original_start;  // the start first booked, if moved
  absl::Time Known() const { return std::max(booked_at, moved_at); }
  absl::Time End() const { return start + length; }
};

// One event before sorting, with the labels it belongs to.
struct Draft {
  absl::Time at;
  uint64_t order = 0;  // ties in `at` keep generation order
  Source source = Source::kJournal;
  v1::AccessEvent event;
  std::vector<int> labels;
  bool normal = true;
};

// A skip in a source's numbering, applied when numbers are assigned.
struct SequenceGap {
  Source source;
  absl::Time at;  // the first event of the source at or after this skips
  int skip = 1;
  int label = -1;
};

// A source sending nothing for one local day.
struct Silence {
  Source source;
  int day = 0;
  int label = -1;
};

class Builder {
 public:
  Builder(const ClinicOptions& options, absl::TimeZone tz);

  // Normal routine.
  void MakeStaff();
  void MakePatients();
  void MakeShifts();
  void MakeAppointments();
  // clinic_practice.cc: how clinics actually work.
  void MakeReferrals();
  void MakeSickDays();
  void EmitReferrals();
  void EmitMonthEndInvoicing();
  void MaybeCallIn(const Appointment& appointment);
  // The X-ray system sends nothing on Friday afternoons and Saturdays.
  bool XrayQuiet(absl::Time t) const;
  // Who does the work of `appointment` on its day: its clinician, or the
  // colleague covering for them.
  int Performer(const Appointment& appointment) const;
  void EmitImport();
  void EmitAppointments();
  void EmitBillingClerk();
  void EmitManager();
  void EmitWebsite();
  // clinic_incidents.cc
  void InjectIncidents();
  // Sorts, drops silenced events, numbers sources, names events, fills labels.
  Clinic Finish();

  // ---- Helpers shared by both files ----
  absl::Time Local(int day, int hour, int minute, int second = 0) const;
  absl::CivilDay Day(int day) const { return options_.first_day + day; }
  int DayOf(absl::Time t) const;
  bool IsClosedDay(int day) const;
  std::optional<Shift> ShiftOf(int staff, int day) const;
  // A uniformly random time in [from, to).
  absl::Time Between(std::mt19937_64& random, absl::Time from, absl::Time to) const;
  int Uniform(std::mt19937_64& random, int low, int high) const;  // [low, high]
  bool Chance(std::mt19937_64& random, double p) const;
  // A new event from `actor` about `patient` (subject kind PATIENT).
  v1::AccessEvent& Add(absl::Time at, Source source, int actor, int patient, v1::ActionCode action,
                       v1::ActionSubtype subtype, v1::DataObjectType type, v1::PurposeOfUse purpose,
                       bool normal = true);
  // The same for a non-staff actor (patient on the website, visitor, system).
  v1::AccessEvent& AddFor(absl::Time at, Source source, const std::string& actor_id,
                          const std::string& role, v1::ActionCode action, v1::ActionSubtype subtype,
                          v1::DataObjectType type, v1::PurposeOfUse purpose, bool normal = true);
  void SetSubject(v1::AccessEvent& event, int patient) const;
  int Label(IncidentLabel label);  // returns its index
  void Tag(int label) { drafts_.back().labels.push_back(label); }
  std::string Rfc3339(absl::Time t) const;
  // A receptionist on duty at `t` to see to `patient`, or -1.
  int ReceptionistAt(absl::Time t, int patient) const;
  std::vector<int> StaffWithRole(const std::string& role, bool working_only = true) const;

 private:
  friend class Incidents;
  void FillSlots(int clinician, int day, absl::Duration slot, absl::Time from, absl::Time to);
  void Book(Appointment& appointment);
  void EmitAppointment(const Appointment& appointment);
  int PickPatient(int clinician, absl::Time start);

  ClinicOptions options_;
  absl::TimeZone tz_;
  std::mt19937_64 random_;  // the normal routine's stream
  std::vector<StaffInfo> staff_;
  std::vector<Patient> patients_;
  std::vector<Appointment> appointments_;
  std::vector<Draft> drafts_;
  std::vector<IncidentLabel> labels_;
  std::vector<SequenceGap> gaps_;
  std::vector<Silence> silences_;
  std::vector<std::string> closed_dates_;
  std::vector<bool> closed_;  // by day
  // Patients each clinician saw (appointment ended), for follow-up picks.
  std::vector<std::vector<int>> follow_up_queue_;
  absl::Time import_at_;
  uint64_t order_ = 0;
  int next_appointment_ = 1;
  int next_invoice_ = 1;
  std::vector<int> invoice_queue_;  // patients with an invoice, by creation
  std::vector<absl::Time> invoice_times_;
  std::vector<std::string> used_addresses_;  // sorted
  // An internal referral to the oral surgeon: from a dentist's
  // appointment, triaged by the surgeon before the booking.
  struct Referral {
    int dentist = -1;
    int surgeon = -1;
    int patient = -1;
    absl::Time written;
    absl::Time triaged;
    std::string id;
  };
  std::vector<Referral> referrals_;
  // Sick days: (day, clinician) -> the colleague covering.
  std::map<std::pair<int, int>, int> cover_;
  std::string NewAddress();
};

}  // namespace innsyn::bench::sim

#endif  // INNSYN_BENCH_CLINIC_SIM_INTERNAL_H_
