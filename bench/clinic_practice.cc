// How clinics actually work, beyond one clinician per booked patient: a
// dentist called in to a hygienist's appointment, referrals to the clinic's
// oral surgeon triaged before any booking, a dentist covering for a sick
// colleague whose bookings stay on the colleague's name, the month-end
// invoice run at the reception, and an X-ray system quiet on Friday
// afternoons and Saturdays.
#include <fmt/format.h>

#include <algorithm>

#include "anomaly/event_conventions.h"
#include "base/strings.h"
#include "bench/clinic_sim_internal.h"

namespace innsyn::bench::sim {
namespace {

using namespace innsyn::v1;  // the enum values

// One in so many dentist appointments ends in a referral to the surgeon,
// one in so many hygienist appointments calls a dentist in, one in so many
// dentist-days is a sick day.
constexpr int kReferralOneIn = 12;
constexpr int kCallInOneIn = 10;
constexpr int kSickDayOneIn = 40;
// Patients in the month-end invoice run.
constexpr int kMonthEndInvoices = 58;

}  // namespace

bool Builder::XrayQuiet(absl::Time t) const {
  const absl::CivilSecond local = absl::ToCivilSecond(t, tz_);
  const absl::Weekday weekday = absl::GetWeekday(absl::CivilDay(local));
  return weekday == absl::Weekday::saturday ||
         (weekday == absl::Weekday::friday && local.hour() >= kXrayFridayLastHour);
}

int Builder::Performer(const Appointment& a) const {
  auto found = cover_.find({DayOf(a.start), a.clinician});
  return found == cover_.end() ? a.clinician : found->second;
}

// A dentist's appointment now and then ends in a referral to the oral
// surgeon, who reads it within a few days, before reception books the
// patient in with them.
void Builder::MakeReferrals() {
  std::vector<int> surgeons = StaffWithRole("oral_surgeon");
  if (surgeons.empty()) return;
  const size_t count = appointments_.size();
  for (size_t i = 0; i < count; ++i) {
    const Appointment a = appointments_[i];
    if (staff_[static_cast<size_t>(a.clinician)].member.role != "dentist") continue;
    if (a.cancelled_at != absl::InfiniteFuture() || a.start < import_at_) continue;
    if (random_() % kReferralOneIn != 0) continue;
    const int surgeon = surgeons[random_() % surgeons.size()];
    const absl::Time written = a.End() - absl::Minutes(4);
    std::optional<Shift> triage_shift;
    int triage_day = DayOf(written) + 1;
    for (; triage_day < DayOf(written) + 5 && !triage_shift; ++triage_day) {
      triage_shift = ShiftOf(surgeon, triage_day);
    }
    if (!triage_shift) continue;
    Referral referral{a.clinician,
                      surgeon,
                      a.patient,
                      written,
                      Between(random_, triage_shift->start, triage_shift->end - absl::Hours(1)),
                      fmt::format("ref-int-{}", a.id)};
    // Reception books the visit after the triage, in the surgeon's
    // morning a few days on.
    std::optional<Shift> visit_shift;
    int visit_day = triage_day + 3;
    for (; visit_day < options_.days && !visit_shift; ++visit_day) {
      visit_shift = ShiftOf(surgeon, visit_day);
    }
    if (!visit_shift) continue;
    Appointment visit;
    visit.clinician = surgeon;
    visit.patient = a.patient;
    visit.start = visit_shift->start + absl::Hours(Uniform(random_, 0, 2));
    visit.length = absl::Minutes(60);
    visit.id = fmt::format("appt-{}", next_appointment_++);
    visit.original_start = visit.start;
    const absl::Time booking = referral.triaged + absl::Minutes(Uniform(random_, 20, 240));
    const int r = ReceptionistAt(booking, a.patient);
    visit.booked_by = r >= 0 ? r : kWebsite;
    visit.booked_at = booking;
    appointments_.push_back(visit);
    referrals_.push_back(std::move(referral));
  }
  std::stable_sort(appointments_.begin(), appointments_.end(),
                   [](const Appointment& x, const Appointment& y) { return x.start < y.start; });
}

// Now and then a dentist is off sick; the bookings stay on their name and
// a colleague at work that day sees their patients.
void Builder::MakeSickDays() {
  std::vector<int> dentists = StaffWithRole("dentist");
  if (dentists.size() < 2) return;
  for (int day = 0; day < options_.days; ++day) {
    for (int sick : dentists) {
      if (!ShiftOf(sick, day) || random_() % kSickDayOneIn != 0) continue;
      int colleague = -1;
      for (int d : dentists) {
        if (d != sick && ShiftOf(d, day) && !cover_.contains({day, d})) colleague = d;
      }
      if (colleague < 0) continue;
      cover_[{day, sick}] = colleague;
      staff_[static_cast<size_t>(sick)].shifts[static_cast<size_t>(day)] = std::nullopt;
      break;  // one sick dentist a day at most
    }
  }
}

// Now and then a hygienist asks a dentist at work to look in: the dentist
// reads the journal and the images and writes a note of their own.
void Builder::MaybeCallIn(const Appointment& a) {
  if (random_() % kCallInOneIn != 0) return;
  const absl::Time t = a.start + absl::Minutes(20);
  std::vector<int> present;
  for (int d : StaffWithRole("dentist")) {
    auto shift = ShiftOf(d, DayOf(t));
    if (shift && shift->Contains(t)) present.push_back(d);
  }
  if (present.empty()) return;
  const int dentist = present[random_() % present.size()];
  const Patient& patient = patients_[static_cast<size_t>(a.patient)];
  AccessEvent& journal =
      Add(t, Source::kJournal, dentist, a.patient, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
          DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT);
  journal.mutable_data_object()->set_id(StrCat("journal-", patient.id));
  if (!XrayQuiet(t)) {
    AccessEvent& image =
        Add(t + absl::Minutes(1), Source::kXray, dentist, a.patient, ACTION_CODE_READ,
            ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_IMAGE, PURPOSE_OF_USE_TREATMENT);
    image.mutable_data_object()->set_id(StrCat("img-", patient.id));
  }
  AccessEvent& note =
      Add(t + absl::Minutes(6), Source::kJournal, dentist, a.patient, ACTION_CODE_CREATE,
          ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT);
  note.mutable_data_object()->set_id(StrCat("note-callin-", a.id));
}

void Builder::EmitReferrals() {
  for (const Referral& r : referrals_) {
    const Patient& patient = patients_[static_cast<size_t>(r.patient)];
    const int dentist = r.dentist;
    AccessEvent& written =
        Add(r.written, Source::kJournal, dentist, r.patient, ACTION_CODE_CREATE,
            ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_REFERRAL, PURPOSE_OF_USE_TREATMENT);
    written.mutable_data_object()->set_id(r.id);
    (*written.mutable_attributes())[std::string(anomaly::kReferralAddressee)] =
        staff_[static_cast<size_t>(r.surgeon)].member.id;
    // Triage: the referral, the journal and the images.
    AccessEvent& read =
        Add(r.triaged, Source::kJournal, r.surgeon, r.patient, ACTION_CODE_READ,
            ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_REFERRAL, PURPOSE_OF_USE_TREATMENT);
    read.mutable_data_object()->set_id(r.id);
    AccessEvent& journal =
        Add(r.triaged + absl::Minutes(2), Source::kJournal, r.surgeon, r.patient, ACTION_CODE_READ,
            ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT);
    journal.mutable_data_object()->set_id(StrCat("journal-", patient.id));
    if (!XrayQuiet(r.triaged + absl::Minutes(4))) {
      AccessEvent& image =
          Add(r.triaged + absl::Minutes(4), Source::kXray, r.surgeon, r.patient, ACTION_CODE_READ,
              ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_IMAGE, PURPOSE_OF_USE_TREATMENT);
      image.mutable_data_object()->set_id(StrCat("img-", patient.id));
    }
  }
}

// On the last weekday of each month a receptionist on the early shift
// issues the month's collective invoices: dozens of patients in an hour.
void Builder::EmitMonthEndInvoicing() {
  for (int day = 0; day < options_.days; ++day) {
    if (IsClosedDay(day) || absl::GetWeekday(Day(day)) == absl::Weekday::saturday) continue;
    int next = day + 1;
    while (next < options_.days &&
           (IsClosedDay(next) || absl::GetWeekday(Day(next)) == absl::Weekday::saturday)) {
      ++next;
    }
    // Not the month's last weekday, or the period ends before it.
    if (Day(next).month() == Day(day).month()) continue;
    const absl::Time start = Local(day, 9, 0);
    int receptionist = -1;
    for (int r : StaffWithRole("receptionist")) {
      auto shift = ShiftOf(r, day);
      if (shift && shift->Contains(start) && shift->Contains(start + absl::Hours(1))) {
        receptionist = r;
      }
    }
    if (receptionist < 0) continue;
    // The month's most recent invoices, one a patient.
    std::vector<size_t> picked;
    std::vector<bool> seen(patients_.size(), false);
    for (size_t i = invoice_queue_.size(); i-- > 0 && picked.size() < kMonthEndInvoices;) {
      if (invoice_times_[i] >= start || DayOf(invoice_times_[i]) < day - 31) continue;
      const size_t p = static_cast<size_t>(invoice_queue_[i]);
      if (seen[p]) continue;
      seen[p] = true;
      picked.push_back(i);
    }
    for (size_t k = 0; k < picked.size(); ++k) {
      const size_t i = picked[k];
      AccessEvent& e =
          Add(start + absl::Seconds(static_cast<int64_t>(k) * 3500 / kMonthEndInvoices),
              Source::kBilling, receptionist, invoice_queue_[i], ACTION_CODE_UPDATE,
              ACTION_SUBTYPE_UPDATE, DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING);
      e.mutable_data_object()->set_id(fmt::format("inv-{}", i + 1));
      e.mutable_data_object()->set_description("samlefaktura");
    }
  }
}

}  // namespace innsyn::bench::sim
