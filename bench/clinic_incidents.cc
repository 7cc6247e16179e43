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
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "anomaly/event_conventions.h"
#include "bench/clinic_sim_internal.h"
#include "storage/strings.h"

namespace innsyn::bench::sim {

using namespace innsyn::v1;  // the enum values

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
    UnknownOrDormant();
    DisallowedNetwork();
    SequenceGaps();
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
    e.mutable_data_object()->set_id(StrCat(type == DATA_OBJECT_TYPE_IMAGE ? "img-" : "rec-",
                                           PatientAt(patient).id));
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
  void UnknownOrDormant();
  void DisallowedNetwork();
  void SequenceGaps();

  Builder& b_;
  std::mt19937_64 random_;
  std::set<std::pair<int, int>> used_;  // (staff, day) with an incident
  std::set<int> picked_;                // patients already used as strangers
};

// Two silent days each for the X-ray and the billing integration: sources
// whose loss leaves the journal's care links intact.
void Incidents::PlanSilences() {
  const Source sources[] = {Source::kBilling, Source::kXray, Source::kBilling, Source::kXray};
  for (int k = 0; k < 4; ++k) {
    int day = Target(k, 4, 0.25, 0.9);
    while (day < Days() - 1 && (!Weekday(day) || !Weekday(day - 1) || SilentDay(day))) ++day;
    if (day >= Days() - 1) continue;
    b_.silences_.push_back({sources[k], day});
    std::string system = SystemName(sources[k]);
    Label("source_silent", StrCat(system, " sends nothing all ", absl::FormatCivilTime(b_.Day(day))),
          "", "", b_.Local(day - 1, 12, 0), b_.Local(day + 1, 12, 0), system);
  }
}

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
        sessions.push_back({b_.Local(next, 20, 20), "a session at 20:20, the first weekday of "
                                                    "the new offset"});
      }
    }
  }
  for (int d = 0; d < Days(); ++d) {
    if (b_.closed_[static_cast<size_t>(d)] && absl::GetWeekday(b_.Day(d)) != absl::Weekday::sunday) {
      sessions.push_back({b_.Local(d, 11, 0), "a session on a public holiday"});
      break;
    }
  }
  for (size_t k = 0; k < sessions.size(); ++k) {
    auto [t, scenario] = sessions[k];
    int c = chair[k % chair.size()];
    std::vector<int> patients = TreatedBefore(c, t);
    if (patients.size() < 3) {
      c = chair[(k + 1) % chair.size()];
      patients = TreatedBefore(c, t);
    }
    if (patients.empty()) continue;
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
      auto shift = ShiftNear(actor, Target(static_cast<int>(k), static_cast<int>(actors.size()),
                                           0.5, 0.95) + attempt * 3);
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
        Access(t + absl::Seconds(static_cast<int64_t>(i) * 3300 / static_cast<int64_t>(
                                                                      patients.size())),
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
    if (b_.staff_[s].working && b_.staff_[s].own_patient >= 0) with_record.push_back(static_cast<int>(s));
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
      cases.push_back({s, info.relatives.front(),
                       "opens a relative's record (same surname and address)"});
    }
  }
  // Co-workers: the next employee's record, by one without a record of
  // their own too.
  cases.push_back({with_record[1], Staff(with_record[0]).own_patient,
                   "opens a co-worker's record"});
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
      auto shift = ShiftNear(actor, Target(static_cast<int>(k), static_cast<int>(actors.size()),
                                           0.4, 0.95) + attempt * 2);
      if (!shift) break;
      // The quietest clock hour of the shift.
      absl::Time best;
      size_t best_count = SIZE_MAX;
      for (absl::Time h = absl::FromCivil(absl::ToCivilHour(shift->start, b_.tz_), b_.tz_) +
                          absl::Hours(1);
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
      int size = std::min<int>(30 - static_cast<int>(best_count), 22 + static_cast<int>(random_() % 9));
      std::vector<int> patients;
      if (clinician) {
        patients = TreatedBefore(actor, best);
      } else {
        while (static_cast<int>(patients.size()) < size) {
          int p = static_cast<int>(random_() % static_cast<uint64_t>(b_.options_.patients));
          if (std::find(patients.begin(), patients.end(), p) == patients.end()) patients.push_back(p);
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

// Disclosures to a third party that no consent or legal basis covers, right
// after the discloser's own appointment with the patient.
void Incidents::DisclosureWithoutConsent() {
  struct Recipient {
    const char* id;
    const char* name;
  };
  const Recipient insurer{"995568217", "Gjensidige Forsikring"};
  const Recipient other_insurer{"980545222", "If Skadeforsikring"};
  const Recipient nav{"889640782", "NAV"};
  const Recipient collector{"937361928", "Intrum AS"};
  std::vector<int> dentists = b_.StaffWithRole("dentist");
  const char* scenarios[] = {"to an insurer with no consent",
                             "to NAV after the patient withdrew consent",
                             "to an insurer after the consent lapsed",
                             "to an insurer other than the one consented to",
                             "to NAV with no consent"};
  for (int k = 0; k < 5; ++k) {
    int c = dentists[static_cast<size_t>(k) % dentists.size()];
    auto shift = ShiftNear(c, Target(k, 5, 0.3, 0.95));
    if (!shift) continue;
    const Appointment* found = nullptr;
    for (const Appointment& a : b_.appointments_) {
      if (a.clinician == c && a.start >= shift->start && a.End() <= shift->end &&
          a.cancelled_at == absl::InfiniteFuture() && PatientAt(a.patient).consent == 0 &&
          !picked_.count(a.patient)) {
        found = &a;
        break;
      }
    }
    if (!found) continue;
    int p = found->patient;
    picked_.insert(p);
    const Patient& patient = PatientAt(p);
    absl::Time t = found->End() + absl::Minutes(3);
    const Recipient& to = k == 0 || k == 2 ? insurer : k == 3 ? other_insurer : nav;
    auto consent = [&](absl::Time at, ActionSubtype subtype, const Recipient& r,
                       std::optional<absl::Time> until) {
      AccessEvent& e = b_.AddFor(at, Source::kWebsite, patient.id, "patient",
                                 subtype == ACTION_SUBTYPE_CONSENT_GIVEN ? ACTION_CODE_CREATE
                                                                         : ACTION_CODE_UPDATE,
                                 subtype, DATA_OBJECT_TYPE_CONSENT, PURPOSE_OF_USE_PATIENT_REQUEST,
                                 /*normal=*/false);
      b_.SetSubject(e, p);
      e.mutable_data_object()->set_id(StrCat("consent-", patient.id, "-", r.id));
      e.set_network_address(patient.website_address);
      e.mutable_recipient()->set_id(r.id);
      e.mutable_recipient()->set_name(r.name);
      if (until) (*e.mutable_attributes())[std::string(anomaly::kConsentValidUntil)] = b_.Rfc3339(*until);
    };
    absl::Time earliest = b_.import_at_ + absl::Hours(2);
    absl::Time given = std::max(earliest, t - absl::Hours(24 * 12));
    if (k == 1) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, nav, t + absl::Hours(24 * 365));
      consent(given + (t - given) / 2, ACTION_SUBTYPE_CONSENT_WITHDRAWN, nav, std::nullopt);
    } else if (k == 2) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, insurer, given + (t - given) / 2);
    } else if (k == 3) {
      consent(given, ACTION_SUBTYPE_CONSENT_GIVEN, insurer, t + absl::Hours(24 * 365));
    }
    int label = Label("disclosure_without_consent", StrCat("discloses a journal note ", scenarios[k]),
                      StaffId(c), patient.id, t, t);
    AccessEvent& e = b_.Add(t, Source::kJournal, c, p, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_DISCLOSE,
                            DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_PATIENT_REQUEST,
                            /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("note-", found->id));
    e.mutable_recipient()->set_id(to.id);
    e.mutable_recipient()->set_name(to.name);
    b_.Tag(label);
  }
  // The billing clerk sends an unpaid invoice to a debt collector with no
  // legal basis recorded.
  for (int clerk : b_.StaffWithRole("billing_clerk")) {
    auto shift = ShiftNear(clerk, Target(1, 3));
    if (!shift || b_.invoice_queue_.empty()) break;
    absl::Time t = InShift(*shift);
    int p = b_.invoice_queue_[random_() % b_.invoice_queue_.size()];
    int label = Label("disclosure_without_consent", "sends an invoice to a debt collector with no "
                      "legal basis", StaffId(clerk), PatientAt(p).id, t, t);
    AccessEvent& e = b_.Add(t, Source::kBilling, clerk, p, ACTION_CODE_EXECUTE,
                            ACTION_SUBTYPE_DISCLOSE, DATA_OBJECT_TYPE_INVOICE,
                            PURPOSE_OF_USE_BILLING, /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("inv-collect-", PatientAt(p).id));
    e.mutable_recipient()->set_id(collector.id);
    e.mutable_recipient()->set_name(collector.name);
    b_.Tag(label);
  }
}

// Guessing one account's password (from one address or many) and trying
// one password on many accounts from one address.
void Incidents::LoginFailures() {
  struct Attack {
    int failures;
    int addresses;
    int seconds;
    bool spray;
    const char* scenario;
  };
  const Attack attacks[] = {
      {20, 1, 120, false, "20 failed logins on one account in two minutes"},
      {16, 16, 180, false, "16 failed logins on one account from 16 addresses"},
      {12, 2, 240, false, "12 failed logins on one account in four minutes"},
      {25, 1, 180, true, "password spraying: 25 accounts from one address"},
      {14, 1, 240, true, "password spraying: 14 accounts from one address"}};
  int k = 0;
  for (const Attack& attack : attacks) {
    int day = Target(k, 5);
    while (SilentDay(day)) ++day;
    absl::Time t = b_.Local(day, static_cast<int>(random_() % 24), static_cast<int>(random_() % 60));
    int victim = NeverHad(-1);
    std::string attacker = fmt::format("185.220.{}.{}", 100 + k, 7 + k);
    int label = Label("login_failures", attack.scenario,
                      attack.spray ? "" : PatientAt(victim).id, attack.spray ? "" : PatientAt(victim).id,
                      t, t + absl::Seconds(attack.seconds));
    size_t first = b_.drafts_.size();
    for (int i = 0; i < attack.failures; ++i) {
      int account = attack.spray ? NeverHad(-1) : victim;
      const Patient& patient = PatientAt(account);
      AccessEvent& e = b_.AddFor(t + absl::Seconds(i * attack.seconds / attack.failures),
                                 Source::kWebsite, patient.id, "patient", ACTION_CODE_EXECUTE,
                                 ACTION_SUBTYPE_LOGIN_FAILED, DATA_OBJECT_TYPE_ACCOUNT,
                                 PURPOSE_OF_USE_PATIENT_REQUEST, /*normal=*/false);
      b_.SetSubject(e, account);
      e.set_outcome(OUTCOME_DENIED);
      e.mutable_data_object()->set_id(StrCat("web-", patient.id));
      e.set_network_address(attack.addresses == 1
                                ? attacker
                                : fmt::format("91.{}.{}.{}", 190 + k, i % attack.addresses, 20 + i));
      e.set_user_agent("python-requests/2.31");
    }
    TagSince(first, label);
    ++k;
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
    AccessEvent& e = b_.Add(t, Source::kJournal, c, p, ACTION_CODE_READ,
                            ACTION_SUBTYPE_BREAK_GLASS, DATA_OBJECT_TYPE_JOURNAL_NOTE,
                            PURPOSE_OF_USE_EMERGENCY, /*normal=*/false);
    e.mutable_data_object()->set_id(StrCat("rec-", PatientAt(p).id));
    e.set_reason("Akutt smerte, fast tannlege ikke til stede");
    b_.Tag(label);
  }
}

// Accounts not in the roster, used after the end date or before the start
// date, and locums' accounts back after more than dormant_days.
void Incidents::UnknownOrDormant() {
  std::vector<int> roster_only;
  for (size_t s = 0; s < b_.staff_.size(); ++s) {
    if (!b_.staff_[s].working) roster_only.push_back(static_cast<int>(s));
  }
  auto open_time = [&](int target) {
    int day = target;
    while (day < Days() - 1 && (!Weekday(day) || SilentDay(day))) ++day;
    return b_.Local(day, 9 + static_cast<int>(random_() % 6), static_cast<int>(random_() % 60));
  };
  auto read = [&](absl::Time t, const std::string& actor, const std::string& role, int p,
                  const std::string& address) -> AccessEvent& {
    AccessEvent& e = b_.AddFor(t, Source::kJournal, actor, role, ACTION_CODE_READ,
                               ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_APPOINTMENT,
                               PURPOSE_OF_USE_ADMINISTRATION, /*normal=*/false);
    b_.SetSubject(e, p);
    e.set_network_address(address);
    e.set_workstation("resepsjon-1");
    return e;
  };
  struct Case {
    std::string actor;
    std::string role;
    std::string scenario;
    int dormant_days = 0;
  };
  std::vector<Case> cases = {
      {"it.konsulent", "it_support", "an account not in the roster"},
      {"test.bruker", "receptionist", "a test account not in the roster"},
      {StaffId(roster_only[0]), "receptionist", "a former employee after their end date"},
      {StaffId(roster_only[1]), "receptionist", "a future employee before their start date"},
      {StaffId(roster_only[2]), "receptionist", "a locum back after 100 days", 100},
      {StaffId(roster_only[3]), "receptionist", "a locum back after 130 days", 130}};
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    absl::Time t = open_time(Target(static_cast<int>(k), static_cast<int>(cases.size()), 0.15, 0.9));
    if (c.dormant_days > 0) {
      // The last use before: a weekday morning dormant_days earlier.
      int day = b_.DayOf(t) - c.dormant_days;
      while (absl::GetWeekday(b_.Day(day)) == absl::Weekday::saturday ||
             absl::GetWeekday(b_.Day(day)) == absl::Weekday::sunday) {
        --day;
      }
      absl::Time before = b_.Local(day, 10, 30);
      read(before, c.actor, c.role, NeverHad(-1), "10.20.2.99");
    }
    int label = Label("unknown_or_dormant_actor", c.scenario, c.actor, "", t, t + absl::Minutes(2));
    size_t first = b_.drafts_.size();
    for (int i = 0; i < 2; ++i) {
      read(t + absl::Minutes(i), c.actor, c.role, NeverHad(-1), "10.20.2.99");
    }
    TagSince(first, label);
  }
}

// Staff reaching the journal, X-ray or billing systems from outside the
// clinic's network.
void Incidents::DisallowedNetwork() {
  std::vector<int> chair = ChairClinicians();
  struct Case {
    int actor;
    const char* address;
    bool image;
  };
  std::vector<Case> cases = {{chair[0], "203.0.113.7", false},
                             {chair[1 % chair.size()], "198.51.100.23", true},
                             {chair[2 % chair.size()], "2001:db8::7", false}};
  for (int r : b_.StaffWithRole("receptionist")) {
    cases.push_back({r, "192.168.1.50", false});
    break;
  }
  for (int r : b_.StaffWithRole("billing_clerk")) cases.push_back({r, "203.0.113.99", false});
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    auto shift = ShiftNear(c.actor, Target(static_cast<int>(k), static_cast<int>(cases.size()),
                                           0.2, 0.95));
    if (!shift) continue;
    absl::Time t = InShift(*shift);
    std::vector<int> patients;
    if (Staff(c.actor).IsClinician()) {
      patients = TreatedBefore(c.actor, t);
    } else {
      patients = {NeverHad(-1), NeverHad(-1)};
    }
    if (patients.empty()) continue;
    patients.resize(std::min<size_t>(patients.size(), 2));
    int label = Label("disallowed_network", StrCat("access from ", c.address), StaffId(c.actor), "",
                      t, t);
    if (c.image) {
      size_t first = b_.drafts_.size();
      for (size_t i = 0; i < patients.size(); ++i) {
        Access(t + absl::Minutes(static_cast<int>(i)), Source::kXray, c.actor, patients[i],
               DATA_OBJECT_TYPE_IMAGE)
            .set_network_address(c.address);
      }
      TagSince(first, label);
      b_.labels_[static_cast<size_t>(label)].to = t + absl::Minutes(2);
    } else {
      Session(label, c.actor, t, patients, c.address);
    }
  }
}

void Incidents::SequenceGaps() {
  const std::pair<Source, int> gaps[] = {{Source::kJournal, 1},
                                         {Source::kXray, 2},
                                         {Source::kBilling, 1},
                                         {Source::kWebsite, 5},
                                         {Source::kJournal, 3}};
  int k = 0;
  for (auto [source, skip] : gaps) {
    int day = Target(k, 5, 0.1, 0.9);
    while (day < Days() - 1 && (!Weekday(day) || SilentDay(day))) ++day;
    absl::Time at = b_.Local(day, 10 + k, 7);
    std::string system = SystemName(source);
    int label = Label("source_sequence_gap",
                      fmt::format("{} skips {} sequence number{}", system, skip, skip > 1 ? "s" : ""),
                      "", "", at, at + absl::Hours(24), system);
    b_.gaps_.push_back({source, at, skip, label});
    ++k;
  }
}

void Builder::InjectIncidents() { Incidents(*this).Run(); }

}  // namespace innsyn::bench::sim
