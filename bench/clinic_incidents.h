// The incident injection's working class, shared by clinic_incidents.cc
// (what staff do) and clinic_incidents_systems.cc (disclosures, logins,
// accounts, networks and the sources' own health). Private to bench/.
#ifndef INNSYN_BENCH_CLINIC_INCIDENTS_H_
#define INNSYN_BENCH_CLINIC_INCIDENTS_H_

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "bench/clinic_sim_internal.h"

namespace innsyn::bench::sim {

using namespace innsyn::v1;  // the enum values

// Draws from a random stream of its own, so that the routine is the same
// with incidents on or off.
class Incidents {
 public:
  explicit Incidents(Builder& b) : b_(b), random_(b.options_.seed ^ 0x1c1de475ull) {}

  void Run() {
    PlanSilences();
    NoCareRelationship();
    OffHours();
    VolumeSpike();
    SelfOrRelated();
    BulkExport();
    DisclosureWithoutConsent();
    LoginFailures();
    BreakGlass();
    RoleDataAccess();
    UnknownOrDormant();
    DisallowedNetwork();
    SequenceGaps();
    RolePurpose();
  }

 private:
  int Days() const { return b_.options_.days; }
  const StaffInfo& Staff(int s) const { return b_.staff_[static_cast<size_t>(s)]; }
  const std::string& StaffId(int s) const { return Staff(s).member.id; }
  const Patient& PatientAt(int p) const { return b_.patients_[static_cast<size_t>(p)]; }
  bool SilentDay(int day) const {
    for (const Silence& s : b_.silences_) {
      if (s.day == day) return true;
    }
    return false;
  }
  bool Weekday(int day) const {
    auto w = absl::GetWeekday(b_.Day(day));
    return !b_.IsClosedDay(day) && w != absl::Weekday::saturday && w != absl::Weekday::sunday;
  }

  // The first day from `target` on (wrapping) on which `staff` works, that
  // no source is silent and, if there is such a day, no other incident of
  // theirs is planned.
  std::optional<Shift> ShiftNear(int staff, int target) {
    for (bool share : {false, true}) {
      for (int i = 0; i < Days(); ++i) {
        int day = 2 + (target - 2 + i) % std::max(1, Days() - 3);
        auto shift = b_.ShiftOf(staff, day);
        if (!shift || SilentDay(day) || (!share && used_.count({staff, day}))) continue;
        used_.insert({staff, day});
        return shift;
      }
    }
    return std::nullopt;
  }
  int Target(int k, int n, double from = 0.1, double to = 0.95) const {
    return static_cast<int>(Days() * (from + (to - from) * (k + 0.5) / n));
  }
  absl::Time InShift(const Shift& shift) {
    return b_.Between(random_, shift.start + absl::Minutes(30), shift.end - absl::Minutes(45));
  }

  // Patients `c` treated in the 20 days before `t` (a treatment and an
  // appointment link both), most recent first.
  std::vector<int> TreatedBefore(int c, absl::Time t) const {
    std::vector<int> found;
    std::set<int> seen;
    for (auto it = b_.appointments_.rbegin(); it != b_.appointments_.rend(); ++it) {
      const Appointment& a = *it;
      if (a.start > t) continue;
      if (a.start < t - absl::Hours(24 * 20)) break;
      if (a.clinician != c || a.cancelled_at != absl::InfiniteFuture()) continue;
      if (a.End() > t - absl::Minutes(10) || a.Known() >= t) continue;
      if (seen.insert(a.patient).second) found.push_back(a.patient);
    }
    return found;
  }
  // A patient `c` never had an appointment with, booked or cancelled.
  int NeverHad(int c) {
    while (true) {
      int p = static_cast<int>(random_() % static_cast<uint64_t>(b_.options_.patients));
      bool had = false;
      for (const Appointment& a : b_.appointments_) {
        if (a.clinician == c && a.patient == p) {
          had = true;
          break;
        }
      }
      if (!had && !picked_.count(p)) {
        picked_.insert(p);
        return p;
      }
    }
  }
  std::vector<int> Clinicians() const {
    std::vector<int> found = b_.StaffWithRole("dentist");
    for (int s : b_.StaffWithRole("hygienist")) found.push_back(s);
    for (int s : b_.StaffWithRole("dental_nurse")) found.push_back(s);
    for (int s : b_.StaffWithRole("oral_surgeon")) found.push_back(s);
    return found;
  }
  std::vector<int> ChairClinicians() const {
    std::vector<int> found = b_.StaffWithRole("dentist");
    for (int s : b_.StaffWithRole("hygienist")) found.push_back(s);
    return found;
  }

  AccessEvent& Access(absl::Time t, Source source, int actor, int patient, DataObjectType type,
                      ActionSubtype subtype = ACTION_SUBTYPE_VIEW,
                      PurposeOfUse purpose = PURPOSE_OF_USE_TREATMENT) {
    AccessEvent& e = b_.Add(t, source, actor, patient, ACTION_CODE_READ, subtype, type, purpose,
                            /*normal=*/false);
    e.mutable_data_object()->set_id(
        StrCat(type == DATA_OBJECT_TYPE_IMAGE ? "img-" : "rec-", PatientAt(patient).id));
    return e;
  }
  // Purpose and data kind that fit the actor's role.
  DataObjectType TypeFor(int staff) const {
    const std::string& role = Staff(staff).member.role;
    if (Staff(staff).IsClinician()) return DATA_OBJECT_TYPE_JOURNAL_NOTE;
    if (role == "billing_clerk" || role == "manager") return DATA_OBJECT_TYPE_INVOICE;
    return DATA_OBJECT_TYPE_CONTACT_DETAILS;
  }
  Source SourceFor(DataObjectType type) const {
    if (type == DATA_OBJECT_TYPE_INVOICE) return Source::kBilling;
    if (type == DATA_OBJECT_TYPE_IMAGE) return Source::kXray;
    return Source::kJournal;
  }
  PurposeOfUse PurposeFor(DataObjectType type) const {
    if (type == DATA_OBJECT_TYPE_INVOICE) return PURPOSE_OF_USE_BILLING;
    if (type == DATA_OBJECT_TYPE_JOURNAL_NOTE || type == DATA_OBJECT_TYPE_IMAGE) {
      return PURPOSE_OF_USE_TREATMENT;
    }
    return PURPOSE_OF_USE_ADMINISTRATION;
  }

  int Label(const std::string& rule, const std::string& scenario, const std::string& actor,
            const std::string& subject, absl::Time from, absl::Time to,
            const std::string& source = "") {
    IncidentLabel label;
    label.rule = rule;
    label.scenario = scenario;
    label.actor_id = actor;
    label.subject_id = subject;
    label.source_system = source;
    label.from = from;
    label.to = to;
    return b_.Label(std::move(label));
  }
  // Tags the events added since `first` with `label`.
  void TagSince(size_t first, int label) {
    for (size_t i = first; i < b_.drafts_.size(); ++i) b_.drafts_[i].labels.push_back(label);
  }

  // A session of `actor` reading `patients` from `t`, a minute apart.
  void Session(int label, int actor, absl::Time t, const std::vector<int>& patients,
               const std::string& network = "") {
    size_t first = b_.drafts_.size();
    DataObjectType type = TypeFor(actor);
    for (size_t i = 0; i < patients.size(); ++i) {
      AccessEvent& e = Access(t + absl::Minutes(static_cast<int>(i)), SourceFor(type), actor,
                              patients[i], type, ACTION_SUBTYPE_VIEW, PurposeFor(type));
      if (!network.empty()) e.set_network_address(network);
    }
    TagSince(first, label);
    b_.labels_[static_cast<size_t>(label)].to =
        t + absl::Minutes(static_cast<int>(patients.size()));
  }

  void PlanSilences();
  void NoCareRelationship();
  void OffHours();
  void VolumeSpike();
  void SelfOrRelated();
  void BulkExport();
  void DisclosureWithoutConsent();
  void LoginFailures();
  void BreakGlass();
  void RoleDataAccess();
  void UnknownOrDormant();
  void DisallowedNetwork();
  void SequenceGaps();
  void RolePurpose();

  Builder& b_;
  std::mt19937_64 random_;
  std::set<std::pair<int, int>> used_;  // (staff, day) with an incident
  std::set<int> picked_;                // patients already used as strangers
};

}  // namespace innsyn::bench::sim

#endif  // INNSYN_BENCH_CLINIC_INCIDENTS_H_
