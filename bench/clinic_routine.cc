// The events of the clinic's normal routine, and the final ordering and
// numbering of all events.
#include <fmt/format.h>

#include <algorithm>

#include "anomaly/event_conventions.h"
#include "base/strings.h"
#include "bench/clinic_sim_internal.h"

namespace innsyn::bench::sim {
namespace {

using namespace innsyn::v1;  // the enum values

struct Recipient {
  const char* id;
  const char* name;
};
constexpr Recipient kInsurer{"995568217", "Gjensidige Forsikring"};
constexpr Recipient kNav{"889640782", "NAV"};
constexpr Recipient kHelfo{"986965610", "Helfo"};
constexpr Recipient kHospital{"993467049", "Oslo universitetssykehus HF"};
constexpr const char* kUserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)";

void SetRecipient(AccessEvent& event, const Recipient& recipient) {
  event.mutable_recipient()->set_id(recipient.id);
  event.mutable_recipient()->set_name(recipient.name);
}

}  // namespace

v1::AccessEvent& Builder::AddFor(absl::Time at, Source source, const std::string& actor_id,
                                 const std::string& role, v1::ActionCode action,
                                 v1::ActionSubtype subtype, v1::DataObjectType type,
                                 v1::PurposeOfUse purpose, bool normal) {
  Draft& draft = drafts_.emplace_back();
  draft.at = at;
  draft.order = order_++;
  draft.source = source;
  draft.normal = normal;
  AccessEvent& e = draft.event;
  e.mutable_source()->set_system(SystemName(source));
  e.mutable_source()->set_instance(InstanceName(source));
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(at));
  e.mutable_actor()->set_id(actor_id);
  e.mutable_actor()->set_role(role);
  e.set_action(action);
  e.set_action_subtype(subtype);
  e.mutable_data_object()->set_type(type);
  e.set_purpose_of_use(purpose);
  e.set_outcome(OUTCOME_SUCCESS);
  return e;
}

v1::AccessEvent& Builder::Add(absl::Time at, Source source, int actor, int patient,
                              v1::ActionCode action, v1::ActionSubtype subtype,
                              v1::DataObjectType type, v1::PurposeOfUse purpose, bool normal) {
  const StaffInfo& info = staff_[static_cast<size_t>(actor)];
  AccessEvent& e =
      AddFor(at, source, info.member.id, info.member.role, action, subtype, type, purpose, normal);
  e.mutable_actor()->set_display_name(info.member.name);
  e.mutable_actor()->set_hpr_number(info.hpr);
  e.mutable_actor()->set_organisation("Tannhelse Sentrum AS");
  e.set_network_address(info.address);
  e.set_workstation(info.workstation);
  SetSubject(e, patient);
  return e;
}

void Builder::SetSubject(v1::AccessEvent& event, int patient) const {
  const Patient& p = patients_[static_cast<size_t>(patient)];
  event.mutable_subject()->set_id(p.id);
  event.mutable_subject()->set_kind(SUBJECT_KIND_PATIENT);
  event.mutable_subject()->set_display_name(StrCat(p.first_name, " ", p.surname));
}

int Builder::Label(IncidentLabel label) {
  label.id = fmt::format("inc-{:03d}/{}", labels_.size() + 1, label.rule);
  labels_.push_back(std::move(label));
  return static_cast<int>(labels_.size() - 1);
}

// At go-live the journal system sent every patient's contact details and
// every appointment already booked, as its system account.
void Builder::EmitImport() {
  absl::Time at = import_at_;
  for (size_t p = 0; p < patients_.size(); ++p) {
    AccessEvent& e = AddFor(at, Source::kJournal, "journal-sync", "system", ACTION_CODE_CREATE,
                            ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_CONTACT_DETAILS,
                            PURPOSE_OF_USE_ADMINISTRATION);
    e.mutable_actor()->set_display_name("Journal integration");
    SetSubject(e, static_cast<int>(p));
    e.mutable_data_object()->set_id(StrCat("contact-", patients_[p].id));
    (*e.mutable_attributes())[std::string(anomaly::kImport)] = "go-live";
    (*e.mutable_attributes())[std::string(anomaly::kContactSurname)] = patients_[p].surname;
    (*e.mutable_attributes())[std::string(anomaly::kContactAddress)] = patients_[p].address;
    if (p % 50 == 49) at += absl::Seconds(1);
  }
}

void Builder::EmitAppointments() {
  for (const Appointment& a : appointments_) EmitAppointment(a);
}

void Builder::EmitAppointment(const Appointment& a) {
  const StaffInfo& clinician = staff_[static_cast<size_t>(a.clinician)];
  Patient& patient = patients_[static_cast<size_t>(a.patient)];
  auto booking = [&](absl::Time at, int by, ActionCode action, ActionSubtype subtype,
                     absl::Time start) {
    AccessEvent* e;
    bool check_contact = false;
    if (by == kImport) {
      e = &AddFor(at, Source::kJournal, "journal-sync", "system", action, subtype,
                  DATA_OBJECT_TYPE_APPOINTMENT, PURPOSE_OF_USE_ADMINISTRATION);
      SetSubject(*e, a.patient);
      (*e->mutable_attributes())[std::string(anomaly::kImport)] = "go-live";
    } else if (by == kWebsite) {
      AccessEvent& login = AddFor(at - absl::Seconds(40 + random_() % 200), Source::kWebsite,
                                  patient.id, "patient", ACTION_CODE_EXECUTE, ACTION_SUBTYPE_LOGIN,
                                  DATA_OBJECT_TYPE_ACCOUNT, PURPOSE_OF_USE_PATIENT_REQUEST);
      SetSubject(login, a.patient);
      login.mutable_data_object()->set_id(StrCat("web-", patient.id));
      login.set_network_address(patient.website_address);
      login.set_user_agent(kUserAgent);
      e = &AddFor(at, Source::kWebsite, patient.id, "patient", action, subtype,
                  DATA_OBJECT_TYPE_APPOINTMENT, PURPOSE_OF_USE_PATIENT_REQUEST);
      SetSubject(*e, a.patient);
      e->set_network_address(patient.website_address);
      e->set_user_agent(kUserAgent);
    } else {
      e = &Add(at, Source::kJournal, by, a.patient, action, subtype, DATA_OBJECT_TYPE_APPOINTMENT,
               PURPOSE_OF_USE_ADMINISTRATION);
      // On the phone, reception often checks the patient's contact details.
      check_contact = random_() % 2 == 0;
    }
    e->mutable_data_object()->set_id(a.id);
    (*e->mutable_attributes())[std::string(anomaly::kAppointmentClinician)] = clinician.member.id;
    (*e->mutable_attributes())[std::string(anomaly::kAppointmentStart)] = Rfc3339(start);
    // Added only now: adding an event may move the others, `e` with them.
    if (check_contact) {
      AccessEvent& contact =
          Add(at + absl::Minutes(1), Source::kJournal, by, a.patient, ACTION_CODE_READ,
              ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_CONTACT_DETAILS, PURPOSE_OF_USE_ADMINISTRATION);
      contact.mutable_data_object()->set_id(StrCat("contact-", patient.id));
    }
  };
  if (a.booked_by == kImport || a.booked_at >= import_at_) {
    booking(a.booked_at, a.booked_by, ACTION_CODE_CREATE, ACTION_SUBTYPE_CREATE, a.original_start);
  }
  if (a.moved_at != absl::InfinitePast()) {
    booking(a.moved_at, a.moved_by, ACTION_CODE_UPDATE, ACTION_SUBTYPE_UPDATE, a.start);
  }
  if (a.cancelled_at != absl::InfiniteFuture()) {
    int by = ReceptionistAt(a.cancelled_at, a.patient);
    booking(a.cancelled_at, by >= 0 ? by : kWebsite, ACTION_CODE_DELETE, ACTION_SUBTYPE_DELETE,
            a.start);
    return;
  }
  // The clinician who reads and writes: the booked one before and after
  // the day, whoever covers for them on it.
  int c = a.clinician;
  const bool chair = clinician.member.role != "dental_nurse";
  const int day = DayOf(a.start);
  auto read = [&](absl::Time at, Source source, DataObjectType type) {
    if (source == Source::kXray && XrayQuiet(at)) return;
    AccessEvent& e = Add(at, source, c, a.patient, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW, type,
                         PURPOSE_OF_USE_TREATMENT);
    e.mutable_data_object()->set_id(
        StrCat(type == DATA_OBJECT_TYPE_IMAGE ? "img-" : "journal-", patient.id));
  };
  // A time in the clinician's shift on `d`, after `after`, or none.
  auto in_shift = [&](int d, absl::Time after) -> std::optional<absl::Time> {
    auto shift = ShiftOf(c, d);
    if (!shift) return std::nullopt;
    absl::Time from = std::max(shift->start, after + absl::Minutes(1));
    if (from >= shift->end) return std::nullopt;
    return Between(random_, from, shift->end);
  };
  // Preparing a day or two before: only once the booking is known.
  if (random_() % 100 < 40) {
    int before = DayOf(a.start) - 1 - static_cast<int>(random_() % 2);
    if (auto t = in_shift(before, a.Known()); t && *t < a.start) {
      read(*t, Source::kJournal, DATA_OBJECT_TYPE_JOURNAL_NOTE);
    }
  }
  if (int r = ReceptionistAt(a.start - absl::Minutes(5), a.patient); r >= 0) {
    AccessEvent& e =
        Add(a.start - absl::Minutes(5), Source::kJournal, r, a.patient, ACTION_CODE_READ,
            ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_APPOINTMENT, PURPOSE_OF_USE_ADMINISTRATION);
    e.mutable_data_object()->set_id(a.id);
    if (random_() % 5 == 0) {
      AccessEvent& contact =
          Add(a.start - absl::Minutes(4), Source::kJournal, r, a.patient, ACTION_CODE_READ,
              ACTION_SUBTYPE_VIEW, DATA_OBJECT_TYPE_CONTACT_DETAILS, PURPOSE_OF_USE_ADMINISTRATION);
      contact.mutable_data_object()->set_id(StrCat("contact-", patient.id));
    }
  }
  c = Performer(a);
  read(a.start + absl::Minutes(1), Source::kJournal, DATA_OBJECT_TYPE_JOURNAL_NOTE);
  if (clinician.member.role == "hygienist") MaybeCallIn(a);
  if (chair) {
    read(a.start + absl::Minutes(3), Source::kXray, DATA_OBJECT_TYPE_IMAGE);
    if (random_() % 100 < 30 && !XrayQuiet(a.start + absl::Minutes(9))) {
      AccessEvent& e =
          Add(a.start + absl::Minutes(9), Source::kXray, c, a.patient, ACTION_CODE_CREATE,
              ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_IMAGE, PURPOSE_OF_USE_TREATMENT);
      e.mutable_data_object()->set_id(fmt::format("img-{}-{}", patient.id, a.id));
      e.mutable_data_object()->set_description("bitewing");
    }
  }
  const absl::Time end = a.End();
  if (clinician.member.role == "dentist" && random_() % 10 == 0) {
    AccessEvent& e =
        Add(end - absl::Minutes(8), Source::kJournal, c, a.patient, ACTION_CODE_CREATE,
            ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_TREATMENT_PLAN, PURPOSE_OF_USE_TREATMENT);
    e.mutable_data_object()->set_id(StrCat("plan-", a.id));
  }
  AccessEvent& note =
      Add(end - absl::Minutes(6), Source::kJournal, c, a.patient, ACTION_CODE_CREATE,
          ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_TREATMENT);
  note.mutable_data_object()->set_id(StrCat("note-", a.id));
  note.set_legal_basis("helsepersonelloven § 39");
  if (clinician.member.role == "dentist" && random_() % 25 == 0) {
    AccessEvent& referral =
        Add(end - absl::Minutes(4), Source::kJournal, c, a.patient, ACTION_CODE_CREATE,
            ACTION_SUBTYPE_CREATE, DATA_OBJECT_TYPE_REFERRAL, PURPOSE_OF_USE_TREATMENT);
    referral.mutable_data_object()->set_id(StrCat("ref-", a.id));
    AccessEvent& sent =
        Add(end - absl::Minutes(3), Source::kJournal, c, a.patient, ACTION_CODE_EXECUTE,
            ACTION_SUBTYPE_DISCLOSE, DATA_OBJECT_TYPE_REFERRAL, PURPOSE_OF_USE_TREATMENT);
    sent.mutable_data_object()->set_id(StrCat("ref-", a.id));
    SetRecipient(sent, kHospital);
    sent.set_legal_basis("helsepersonelloven § 45");
  }
  // A consent the patient gave on the website before the visit, and the
  // disclosure it covers right after; a quarter withdraw it later.
  if (clinician.member.role == "dentist" && patient.consent != 0 && !patient.consent_done) {
    patient.consent_done = true;
    const Recipient& to = patient.consent == 1 ? kInsurer : kNav;
    absl::Time given = Between(random_, std::max(import_at_, a.start - absl::Hours(24 * 10)),
                               a.start - absl::Hours(1));
    AccessEvent& consent = AddFor(given, Source::kWebsite, patient.id, "patient",
                                  ACTION_CODE_CREATE, ACTION_SUBTYPE_CONSENT_GIVEN,
                                  DATA_OBJECT_TYPE_CONSENT, PURPOSE_OF_USE_PATIENT_REQUEST);
    SetSubject(consent, a.patient);
    consent.mutable_data_object()->set_id(StrCat("consent-", patient.id, "-", to.id));
    consent.set_network_address(patient.website_address);
    SetRecipient(consent, to);
    (*consent.mutable_attributes())[std::string(anomaly::kConsentValidUntil)] =
        Rfc3339(given + absl::Hours(24 * 365));
    AccessEvent& sent =
        Add(end - absl::Minutes(2), Source::kJournal, c, a.patient, ACTION_CODE_EXECUTE,
            ACTION_SUBTYPE_DISCLOSE, DATA_OBJECT_TYPE_JOURNAL_NOTE, PURPOSE_OF_USE_PATIENT_REQUEST);
    sent.mutable_data_object()->set_id(StrCat("note-", a.id));
    SetRecipient(sent, to);
    if (random_() % 4 == 0) {
      absl::Time withdrawn = end + absl::Hours(24 * (3 + static_cast<int>(random_() % 18)));
      AccessEvent& w = AddFor(withdrawn, Source::kWebsite, patient.id, "patient",
                              ACTION_CODE_UPDATE, ACTION_SUBTYPE_CONSENT_WITHDRAWN,
                              DATA_OBJECT_TYPE_CONSENT, PURPOSE_OF_USE_PATIENT_REQUEST);
      SetSubject(w, a.patient);
      w.mutable_data_object()->set_id(StrCat("consent-", patient.id, "-", to.id));
      w.set_network_address(patient.website_address);
      SetRecipient(w, to);
    }
  }
  // The invoice at checkout, by the reception if staffed, else at the chair.
  int cashier = ReceptionistAt(end, a.patient);
  AccessEvent& invoice = Add(end + absl::Minutes(1), Source::kBilling, cashier >= 0 ? cashier : c,
                             a.patient, ACTION_CODE_CREATE, ACTION_SUBTYPE_CREATE,
                             DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING);
  invoice.mutable_data_object()->set_id(fmt::format("inv-{}", next_invoice_++));
  invoice_queue_.push_back(a.patient);
  invoice_times_.push_back(end + absl::Minutes(1));
  // A follow-up look a few days later.
  c = a.clinician;
  if (random_() % 100 < 15) {
    int after = day + 1 + static_cast<int>(random_() % 4);
    if (auto t = in_shift(after, end)) {
      read(*t, Source::kJournal, DATA_OBJECT_TYPE_JOURNAL_NOTE);
      if (chair && random_() % 2 == 0)
        read(*t + absl::Minutes(1), Source::kXray, DATA_OBJECT_TYPE_IMAGE);
    }
  }
}

// The billing clerk: Helfo claims for a quarter of the invoices (direct
// settlement, a legal basis), and reminders for unpaid ones two weeks on.
void Builder::EmitBillingClerk() {
  std::vector<int> clerks = StaffWithRole("billing_clerk");
  if (clerks.empty()) return;
  const int clerk = clerks.front();
  auto next_shift_time = [&](absl::Time after) -> std::optional<absl::Time> {
    for (int d = DayOf(after); d < options_.days; ++d) {
      auto shift = ShiftOf(clerk, d);
      if (!shift || shift->end <= after) continue;
      return Between(random_, std::max(shift->start, after), shift->end);
    }
    return std::nullopt;
  };
  for (size_t i = 0; i < invoice_queue_.size(); ++i) {
    int p = invoice_queue_[i];
    uint64_t draw = random_() % 100;
    if (draw < 25) {
      auto t = next_shift_time(invoice_times_[i] + absl::Hours(12));
      if (!t) continue;
      AccessEvent& e =
          Add(*t, Source::kBilling, clerk, p, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_DISCLOSE,
              DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING);
      e.mutable_data_object()->set_id(fmt::format("inv-{}", i + 1));
      SetRecipient(e, kHelfo);
      e.set_legal_basis("folketrygdloven § 22-2 (direkte oppgjør)");
    } else if (draw < 37) {
      auto t = next_shift_time(invoice_times_[i] + absl::Hours(24 * 14));
      if (!t) continue;
      AccessEvent& e = Add(*t, Source::kBilling, clerk, p, ACTION_CODE_UPDATE,
                           ACTION_SUBTYPE_UPDATE, DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_BILLING);
      e.mutable_data_object()->set_id(fmt::format("inv-{}", i + 1));
      e.mutable_data_object()->set_description("purring");
    }
  }
}

// The manager looks over a few recent invoices most days.
void Builder::EmitManager() {
  for (int manager : StaffWithRole("manager")) {
    for (int day = 0; day < options_.days; ++day) {
      auto shift = ShiftOf(manager, day);
      if (!shift) continue;
      auto first = std::lower_bound(appointments_.begin(), appointments_.end(),
                                    shift->start - absl::Hours(24 * 7),
                                    [](const Appointment& a, absl::Time t) { return a.start < t; });
      auto last = std::lower_bound(appointments_.begin(), appointments_.end(), shift->start,
                                   [](const Appointment& a, absl::Time t) { return a.start < t; });
      if (first == last) continue;
      int reads = Uniform(random_, 1, 6);
      for (int i = 0; i < reads; ++i) {
        const Appointment& a =
            first[static_cast<std::ptrdiff_t>(random_() % static_cast<uint64_t>(last - first))];
        if (a.cancelled_at != absl::InfiniteFuture()) continue;
        AccessEvent& e = Add(Between(random_, shift->start, shift->end), Source::kBilling, manager,
                             a.patient, ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
                             DATA_OBJECT_TYPE_INVOICE, PURPOSE_OF_USE_QUALITY);
        e.mutable_data_object()->set_id(StrCat("inv-of-", a.id));
      }
    }
  }
}

// Patients log in to see their appointments at any hour, mostly in the
// day and evening; now and then a typo first. Some update their address.
// Visitors send the contact form.
void Builder::EmitWebsite() {
  const absl::Time start = Local(0, 0, 0);
  for (int p = 0; p < options_.patients; ++p) {
    Patient& patient = patients_[static_cast<size_t>(p)];
    int logins = static_cast<int>(random_() % 4);
    for (int i = 0; i < logins; ++i) {
      int day = static_cast<int>(random_() % static_cast<uint64_t>(options_.days));
      int hour = static_cast<int>(random_() % 100 < 90 ? 7 + random_() % 16 : random_() % 24);
      absl::Time at =
          Local(day, hour, static_cast<int>(random_() % 60), static_cast<int>(random_() % 60));
      if (at < start) continue;
      auto web = [&](absl::Time t, ActionCode action, ActionSubtype subtype,
                     DataObjectType type) -> AccessEvent& {
        AccessEvent& e = AddFor(t, Source::kWebsite, patient.id, "patient", action, subtype, type,
                                PURPOSE_OF_USE_PATIENT_REQUEST);
        SetSubject(e, p);
        e.set_network_address(patient.website_address);
        e.set_user_agent(kUserAgent);
        return e;
      };
      if (random_() % 100 < 3) {
        AccessEvent& failed = web(at - absl::Seconds(10 + random_() % 30), ACTION_CODE_EXECUTE,
                                  ACTION_SUBTYPE_LOGIN_FAILED, DATA_OBJECT_TYPE_ACCOUNT);
        failed.set_outcome(OUTCOME_DENIED);
        failed.mutable_data_object()->set_id(StrCat("web-", patient.id));
      }
      web(at, ACTION_CODE_EXECUTE, ACTION_SUBTYPE_LOGIN, DATA_OBJECT_TYPE_ACCOUNT)
          .mutable_data_object()
          ->set_id(StrCat("web-", patient.id));
      web(at + absl::Seconds(20 + random_() % 100), ACTION_CODE_READ, ACTION_SUBTYPE_VIEW,
          DATA_OBJECT_TYPE_APPOINTMENT);
      if (random_() % 100 < 2) {
        patient.address = NewAddress();
        AccessEvent& moved = web(at + absl::Minutes(3), ACTION_CODE_UPDATE, ACTION_SUBTYPE_UPDATE,
                                 DATA_OBJECT_TYPE_CONTACT_DETAILS);
        moved.mutable_data_object()->set_id(StrCat("contact-", patient.id));
        (*moved.mutable_attributes())[std::string(anomaly::kContactSurname)] = patient.surname;
        (*moved.mutable_attributes())[std::string(anomaly::kContactAddress)] = patient.address;
      }
    }
  }
  int visitor = 1;
  for (int day = 0; day < options_.days; ++day) {
    int forms = Uniform(random_, 0, 4);
    for (int i = 0; i < forms; ++i) {
      std::string id = fmt::format("visitor-{}", visitor++);
      AccessEvent& e =
          AddFor(Local(day, 8 + static_cast<int>(random_() % 14), static_cast<int>(random_() % 60)),
                 Source::kWebsite, id, "visitor", ACTION_CODE_CREATE, ACTION_SUBTYPE_CREATE,
                 DATA_OBJECT_TYPE_WEB_FORM, PURPOSE_OF_USE_PATIENT_REQUEST);
      e.mutable_subject()->set_id(id);
      e.mutable_subject()->set_kind(SUBJECT_KIND_WEBSITE_VISITOR);
      e.mutable_data_object()->set_id(StrCat("form-", id));
      e.set_network_address(fmt::format("46.9.{}.{}", random_() % 256, 1 + random_() % 254));
      e.set_user_agent(kUserAgent);
    }
  }
}

Clinic Builder::Finish() {
  // A silenced source's events of that day were never sent; the silence
  // began when the first of them would have been.
  auto silenced = [&](const Draft& d) {
    if (!d.normal) return false;
    for (const Silence& s : silences_) {
      if (s.source != d.source || DayOf(d.at) != s.day) continue;
      absl::Time& began = labels_[static_cast<size_t>(s.label)].began;
      began = std::min(began, d.at);
      return true;
    }
    return false;
  };
  const absl::Time period_end = Local(options_.days, 0, 0);
  drafts_.erase(std::remove_if(drafts_.begin(), drafts_.end(),
                               [&](const Draft& d) { return silenced(d) || d.at >= period_end; }),
                drafts_.end());
  std::sort(drafts_.begin(), drafts_.end(), [](const Draft& a, const Draft& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  std::vector<uint64_t> next_seq(kSourceCount, 1);
  std::vector<bool> gap_done(gaps_.size(), false);
  Clinic clinic;
  clinic.options = options_;
  clinic.events.reserve(drafts_.size());
  for (Draft& d : drafts_) {
    size_t source = static_cast<size_t>(d.source);
    std::vector<int> labels = d.labels;
    for (size_t g = 0; g < gaps_.size(); ++g) {
      if (gap_done[g] || gaps_[g].source != d.source || gaps_[g].at > d.at) continue;
      gap_done[g] = true;
      next_seq[source] += static_cast<uint64_t>(gaps_[g].skip);
      labels.push_back(gaps_[g].label);
    }
    uint64_t seq = next_seq[source]++;
    d.event.set_source_seq(seq);
    d.event.set_event_id(
        fmt::format("{}-{}-{:07d}", SystemName(d.source), InstanceName(d.source), seq));
    for (int label : labels) {
      IncidentLabel& labelled = labels_[static_cast<size_t>(label)];
      labelled.event_ids.push_back(d.event.event_id());
      labelled.began = std::min(labelled.began, d.at);
    }
    clinic.events.push_back(std::move(d.event));
  }
  for (const StaffInfo& info : staff_) {
    clinic.roster.push_back(info.member);
    if (info.working) ++clinic.working_staff;
  }
  clinic.incidents = std::move(labels_);
  clinic.closed_dates = closed_dates_;
  for (Source source : {Source::kJournal, Source::kXray, Source::kBilling}) {
    clinic.networks_by_source[SystemName(source)] = {"10.20.0.0/16"};
  }
  anomaly::OpeningHours xray = anomaly::OpeningHours::Default();
  xray.days[4] = {{7 * 60, kXrayFridayLastHour * 60}};
  xray.days[5] = {};
  clinic.source_schedules[SystemName(Source::kXray)] = xray;
  clinic.period_start = Local(0, 0, 0);
  clinic.period_end = Local(options_.days, 0, 0);
  return clinic;
}

}  // namespace innsyn::bench::sim
