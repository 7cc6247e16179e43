// The injected incidents: several of every rule's kind, each labelled.
// verification_failed is not among them: it comes from innsynd's
// self-verification of the ledger, not from events.
//
// Each scenario breaks one routine and otherwise behaves: sessions read the
// actor's own patients unless the point is reading someone else's, happen in
// the actor's shift unless the point is the hour, and stay clear of the
// days a source is silenced. Each scenario is labelled with the one rule
// that names it best: a dentist opening a relative's journal has no care
// link either, but is self_or_related, as break-the-glass access is
// break_glass.
#include "bench/clinic_incidents.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/strings.h"

namespace innsyn::bench::sim {

void Builder::InjectIncidents() { Incidents(*this).Run(); }

void Incidents::NoCareRelationship() {
  std::vector<int> clinicians = Clinicians();
  for (int k = 0; k < 6; ++k) {
    int c = clinicians[static_cast<size_t>(k) % clinicians.size()];
    auto shift = ShiftNear(c, Target(k, 6));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    int p = NeverHad(c);
    std::string scenario = "reads the journal of a patient never seen";
    if (k == 5) {
      // A patient whose appointment with them was cancelled.
      for (const Appointment& a : b_.appointments_) {
        if (a.clinician != c || a.cancelled_at > t - absl::Hours(24) || a.start < t ||
            a.start > t + absl::Hours(24 * 6) || picked_.count(a.patient)) {
          continue;
        }
        bool other = false;
        for (const Appointment& o : b_.appointments_) {
          if (&o != &a && o.clinician == c && o.patient == a.patient) other = true;
        }
        if (other) continue;
        p = a.patient;
        picked_.insert(p);
        scenario = "reads the journal of a patient who cancelled the appointment";
        break;
      }
    }
    int label = Label("no_care_relationship", scenario, StaffId(c), PatientAt(p).id, t, t);
    Session(label, c, t, {p});
  }
}

void Incidents::OffHours() {
  std::vector<int> chair = ChairClinicians();
  std::vector<std::pair<absl::Time, std::string>> sessions;
  auto day_near = [&](int target, absl::Weekday weekday) {
    for (int d = target; d < Days() - 1; ++d) {
      if (absl::GetWeekday(b_.Day(d)) == weekday && !SilentDay(d)) return d;
    }
    return -1;
  };
  if (int d = day_near(Target(0, 5), absl::Weekday::tuesday); d >= 0) {
    sessions.push_back({b_.Local(d, 22, 30), "a session at 22:30 on a weekday"});
  }
  if (int d = day_near(Target(1, 5), absl::Weekday::sunday); d >= 0) {
    sessions.push_back({b_.Local(d, 12, 10), "a session on a Sunday"});
  }
  if (int d = day_near(Target(2, 5), absl::Weekday::saturday); d >= 0) {
    sessions.push_back({b_.Local(d, 16, 20), "a session on a Saturday after closing"});
  }
  if (int d = day_near(Target(3, 5), absl::Weekday::thursday); d >= 0) {
    sessions.push_back({b_.Local(d, 6, 5), "a session at 06:05, before opening"});
  }
  if (int d = day_near(Target(4, 5), absl::Weekday::wednesday); d >= 0) {
    sessions.push_back({b_.Local(d, 23, 10), "a late session at 23:10"});
  }
  // Around the change to summer time: the night it happens, and the first
  // evening after closing in the new offset.
  absl::TimeZone::CivilTransition transition;
  if (b_.tz_.NextTransition(b_.Local(0, 0, 0), &transition)) {
    absl::Time change = absl::FromCivil(transition.to, b_.tz_);
    int d = b_.DayOf(change);
    if (d >= 0 && d < Days() - 1) {
      sessions.push_back({change + absl::Minutes(15), "a session just after the clock change"});
      int next = d + 1;
      while (next < Days() - 1 && !Weekday(next)) ++next;
      if (next < Days() - 1) {
        sessions.push_back({b_.Local(next, 20, 20),
                            "a session at 20:20, the first weekday of "
                            "the new offset"});
      }
    }
  }
  for (int d = 0; d < Days(); ++d) {
    if (b_.closed_[static_cast<size_t>(d)] &&
        absl::GetWeekday(b_.Day(d)) != absl::Weekday::sunday) {
      sessions.push_back({b_.Local(d, 11, 0), "a session on a public holiday"});
      break;
    }
  }
  for (size_t k = 0; k < sessions.size(); ++k) {
    auto [t, scenario] = sessions[k];
    // The next clinician in turn who is employed that day and has patients.
    int c = -1;
    std::vector<int> patients;
    for (size_t i = 0; i < chair.size() && c < 0; ++i) {
      int candidate = chair[(k + i) % chair.size()];
      const anomaly::StaffMember& member = Staff(candidate).member;
      absl::CivilDay day = b_.Day(b_.DayOf(t));
      if ((member.start && day < *member.start) || (member.end && day > *member.end)) continue;
      patients = TreatedBefore(candidate, t);
      if (patients.size() >= 3) c = candidate;
    }
    if (c < 0) continue;
    patients.resize(std::min<size_t>(patients.size(), 3));
    int label = Label("off_hours", scenario, StaffId(c), "", t, t);
    Session(label, c, t, patients);
    used_.insert({c, b_.DayOf(t)});
  }
}

// Clinicians opening 60 to 75 of their own patients in one clock hour; a
// receptionist the contact details of 70; the billing clerk 65 invoices.
void Incidents::VolumeSpike() {
  std::vector<int> chair = ChairClinicians();
  std::vector<int> actors = {chair[0], chair[1 % chair.size()], chair[2 % chair.size()]};
  for (int r : b_.StaffWithRole("receptionist")) {
    actors.push_back(r);
    break;
  }
  for (int r : b_.StaffWithRole("billing_clerk")) actors.push_back(r);
  for (size_t k = 0; k < actors.size(); ++k) {
    int actor = actors[k];
    int count = 60 + static_cast<int>(random_() % 16);
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto shift =
          ShiftNear(actor, Target(static_cast<int>(k), static_cast<int>(actors.size()), 0.5, 0.95) +
                               attempt * 3);
      if (!shift) break;
      absl::Time hour = absl::FromCivil(
          absl::CivilHour(absl::ToCivilHour(shift->start + absl::Hours(2), b_.tz_)), b_.tz_);
      std::vector<int> patients;
      if (Staff(actor).IsClinician()) {
        patients = TreatedBefore(actor, hour);
      } else {
        while (static_cast<int>(patients.size()) < count) {
          int p = static_cast<int>(random_() % static_cast<uint64_t>(b_.options_.patients));
          if (std::find(patients.begin(), patients.end(), p) == patients.end()) {
            patients.push_back(p);
          }
        }
      }
      if (static_cast<int>(patients.size()) < 60) continue;
      patients.resize(static_cast<size_t>(std::min<int>(count, static_cast<int>(patients.size()))));
      absl::Time t = hour + absl::Minutes(1);
      int label = Label("volume_spike",
                        fmt::format("opens {} patients' records in one hour", patients.size()),
                        StaffId(actor), "", t, t);
      size_t first = b_.drafts_.size();
      DataObjectType type = TypeFor(actor);
      for (size_t i = 0; i < patients.size(); ++i) {
        Access(t + absl::Seconds(static_cast<int64_t>(i) * 3300 /
                                 static_cast<int64_t>(patients.size())),
               SourceFor(type), actor, patients[i], type, ACTION_SUBTYPE_VIEW, PurposeFor(type));
      }
      TagSince(first, label);
      b_.labels_[static_cast<size_t>(label)].to = t + absl::Minutes(56);
      break;
    }
  }
}

// Own record, a relative in the roster, a relative by surname and address,
// and co-workers' records.
void Incidents::SelfOrRelated() {
  std::vector<int> with_record;
  for (size_t s = 0; s < b_.staff_.size(); ++s) {
    if (b_.staff_[s].working && b_.staff_[s].own_patient >= 0)
      with_record.push_back(static_cast<int>(s));
  }
  if (with_record.size() < 2) return;
  struct Case {
    int actor;
    int patient;
    std::string scenario;
  };
  std::vector<Case> cases;
  for (int s : with_record) {
    const StaffInfo& info = Staff(s);
    if (cases.size() < 2) cases.push_back({s, info.own_patient, "opens their own record"});
    if (info.roster_relative >= 0 && cases.size() < 4) {
      cases.push_back({s, info.roster_relative, "opens a relative's record (in the roster)"});
    }
    if (!info.relatives.empty() && cases.size() < 4) {
      cases.push_back(
          {s, info.relatives.front(), "opens a relative's record (same surname and address)"});
    }
  }
  // Co-workers: the next employee's record, by one without a record of
  // their own too.
  cases.push_back(
      {with_record[1], Staff(with_record[0]).own_patient, "opens a co-worker's record"});
  for (size_t s = 0; s < b_.staff_.size(); ++s) {
    if (b_.staff_[s].working && b_.staff_[s].own_patient < 0) {
      cases.push_back({static_cast<int>(s), Staff(with_record.back()).own_patient,
                       "opens a co-worker's record"});
      break;
    }
  }
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    auto shift = ShiftNear(c.actor, Target(static_cast<int>(k), static_cast<int>(cases.size())));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    const std::string& subject = PatientAt(c.patient).id;
    int label = Label("self_or_related", c.scenario, StaffId(c.actor), subject, t, t);
    Session(label, c.actor, t, {c.patient});
  }
}

// Printing or exporting 22 to 30 patients in five minutes, in a clock hour
// with so little other work that the hour stays within the volume floor.
void Incidents::BulkExport() {
  std::vector<int> actors;
  for (const char* role : {"billing_clerk", "dentist", "manager", "receptionist", "hygienist"}) {
    std::vector<int> found = b_.StaffWithRole(role);
    if (!found.empty()) actors.push_back(found.front());
  }
  for (size_t k = 0; k < actors.size(); ++k) {
    int actor = actors[k];
    const bool clinician = Staff(actor).IsClinician();
    for (int attempt = 0; attempt < 6; ++attempt) {
      auto shift =
          ShiftNear(actor, Target(static_cast<int>(k), static_cast<int>(actors.size()), 0.4, 0.95) +
                               attempt * 2);
      if (!shift) break;
      // The quietest clock hour of the shift.
      absl::Time best;
      size_t best_count = SIZE_MAX;
      for (absl::Time h =
               absl::FromCivil(absl::ToCivilHour(shift->start, b_.tz_), b_.tz_) + absl::Hours(1);
           h + absl::Hours(1) <= shift->end; h += absl::Hours(1)) {
        std::set<std::string> seen;
        for (const Draft& d : b_.drafts_) {
          if (d.at >= h && d.at < h + absl::Hours(1) && d.event.actor().id() == StaffId(actor)) {
            seen.insert(d.event.subject().id());
          }
        }
        if (seen.size() < best_count) {
          best_count = seen.size();
          best = h;
        }
      }
      if (best_count > 8) continue;
      int size =
          std::min<int>(30 - static_cast<int>(best_count), 22 + static_cast<int>(random_() % 9));
      std::vector<int> patients;
      if (clinician) {
        patients = TreatedBefore(actor, best);
      } else {
        while (static_cast<int>(patients.size()) < size) {
          int p = static_cast<int>(random_() % static_cast<uint64_t>(b_.options_.patients));
          if (std::find(patients.begin(), patients.end(), p) == patients.end())
            patients.push_back(p);
        }
      }
      if (static_cast<int>(patients.size()) < size) continue;
      patients.resize(static_cast<size_t>(size));
      absl::Time t = best + absl::Minutes(20);
      ActionSubtype subtype = k % 2 == 0 ? ACTION_SUBTYPE_EXPORT : ACTION_SUBTYPE_PRINT;
      int label = Label("bulk_export",
                        fmt::format("{} {} patients' records in five minutes",
                                    subtype == ACTION_SUBTYPE_EXPORT ? "exports" : "prints", size),
                        StaffId(actor), "", t, t + absl::Minutes(5));
      size_t first = b_.drafts_.size();
      DataObjectType type = TypeFor(actor);
      for (int i = 0; i < size; ++i) {
        Access(t + absl::Seconds(i * 290 / size), SourceFor(type), actor,
               patients[static_cast<size_t>(i)], type, subtype, PurposeFor(type));
      }
      TagSince(first, label);
      break;
    }
  }
}

void Incidents::BreakGlass() {
  std::vector<int> chair = ChairClinicians();
  for (int k = 0; k < 5; ++k) {
    int c = chair[static_cast<size_t>(k + 1) % chair.size()];
    auto shift = ShiftNear(c, Target(k, 5, 0.15, 0.9));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    int p = NeverHad(c);
    int label = Label("break_glass", "emergency access to another dentist's patient", StaffId(c),
                      PatientAt(p).id, t, t);
    AccessEvent& e =
        b_.Add(t, Source::kJournal, c, p, ACTION_CODE_READ, ACTION_SUBTYPE_BREAK_GLASS,
               DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_EMERGENCY, /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("rec-", PatientAt(p).id));
    e.set_reason("Akutt smerte, fast tannlege ikke til stede");
    b_.Tag(label);
  }
}

}  // namespace innsyn::bench::sim

namespace innsyn::bench::sim {

// A receptionist reads a well-known patient's journal notes and treatment
// plan: a non-clinical role in clinical data.
void Incidents::RoleDataAccess() {
  std::vector<int> desk = b_.StaffWithRole("receptionist");
  if (desk.empty()) return;
  for (int k = 0; k < 4; ++k) {
    int r = desk[static_cast<size_t>(k) % desk.size()];
    auto shift = ShiftNear(r, Target(k, 4, 0.2, 0.9));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    int p = NeverHad(r);
    int label =
        Label("role_data_access", "a receptionist reads a patient's journal and treatment plan",
              StaffId(r), PatientAt(p).id, t, t + absl::Minutes(3));
    size_t first = b_.drafts_.size();
    Access(t, Source::kJournal, r, p, DATA_OBJECT_TYPE_JOURNAL_NOTE, ACTION_SUBTYPE_VIEW,
           PURPOSE_OF_USE_ADMINISTRATION);
    Access(t + absl::Minutes(2), Source::kJournal, r, p, DATA_OBJECT_TYPE_TREATMENT_PLAN,
           ACTION_SUBTYPE_VIEW, PURPOSE_OF_USE_ADMINISTRATION);
    TagSince(first, label);
  }
}

// A purpose the role does not have, on data it may touch, so that only
// the purpose tells: a dentist gathers their own recent patients' journals
// and images for a talk ("research", which needs its own approval); a
// receptionist looks up a patient's address for a caller who says they are
// the police (a "legal" request, the manager's to answer).
void Incidents::RolePurpose() {
  std::vector<int> dentists = b_.StaffWithRole("dentist");
  std::vector<int> desk = b_.StaffWithRole("receptionist");
  for (int k = 0; k < 4; ++k) {
    bool talk = k % 2 == 0 || desk.empty();
    if (talk && dentists.empty()) continue;
    int s = talk ? dentists[static_cast<size_t>(k / 2) % dentists.size()]
                 : desk[static_cast<size_t>(k / 2) % desk.size()];
    auto shift = ShiftNear(s, Target(k, 4, 0.25, 0.95));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    std::vector<int> patients;
    if (talk) {
      patients = TreatedBefore(s, t);
      if (patients.size() > 3) patients.resize(3);
    } else {
      patients = {static_cast<int>(random_() % static_cast<uint64_t>(b_.options_.patients))};
    }
    if (patients.empty()) continue;
    int label = Label("role_purpose",
                      talk ? "a dentist reads their own patients' journals and images for a talk"
                           : "a receptionist looks up an address for a caller claiming to be "
                             "the police",
                      StaffId(s), talk ? "" : PatientAt(patients[0]).id, t,
                      t + absl::Minutes(2 * static_cast<int>(patients.size())));
    size_t first = b_.drafts_.size();
    for (size_t i = 0; i < patients.size(); ++i) {
      absl::Time at = t + absl::Minutes(2 * static_cast<int>(i));
      if (talk) {
        Access(at, Source::kJournal, s, patients[i], DATA_OBJECT_TYPE_JOURNAL_NOTE,
               ACTION_SUBTYPE_VIEW, PURPOSE_OF_USE_RESEARCH);
        Access(at + absl::Minutes(1), Source::kXray, s, patients[i], DATA_OBJECT_TYPE_IMAGE,
               ACTION_SUBTYPE_VIEW, PURPOSE_OF_USE_RESEARCH);
      } else {
        Access(at, Source::kJournal, s, patients[i], DATA_OBJECT_TYPE_CONTACT_DETAILS,
               ACTION_SUBTYPE_VIEW, PURPOSE_OF_USE_LEGAL);
      }
    }
    TagSince(first, label);
  }
}

}  // namespace innsyn::bench::sim
