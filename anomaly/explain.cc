// Explain: the patient-facing reason for an access, from the same
// CareLinks the detectors use.
#include <algorithm>

#include "absl/time/civil_time.h"
#include "anomaly/engine.h"
#include "anomaly/event_conventions.h"
#include "anomaly/internal/care_links.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::CareLink;
using internal::CareLinks;
using internal::EventTime;

// The care links of the access's patient as they stood when it happened:
// appointments booked up to the late-booking grace after it, consents and
// treatments before it.
CareLinks LinksAt(const v1::AccessEvent& access, absl::Span<const v1::AccessEvent> history,
                  const DetectionOptions& options) {
  absl::Time at = EventTime(access);
  std::vector<const v1::AccessEvent*> events;
  for (const v1::AccessEvent& event : history) {
    if (event.subject().id() == access.subject().id()) events.push_back(&event);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto* a, const auto* b) { return EventTime(*a) < EventTime(*b); });
  CareLinks links(options);
  for (const v1::AccessEvent* event : events) {
    absl::Time time = EventTime(*event);
    if (time > at + internal::kLateBookingGrace) break;
    links.Observe(*event, time);
    // As the detector does: a clinician's treatment that was itself
    // expected, or served a colleague's appointment, or was recorded at
    // go-live (the clinic's state before innsyn), links them to the patient.
    bool clinician = std::find(options.clinical_roles.begin(), options.clinical_roles.end(),
                               event->actor().role()) != options.clinical_roles.end();
    const bool imported = event->attributes().contains(std::string(kImport));
    if (time < at && clinician && internal::IsTreatment(*event) &&
        (imported || links.Find(event->subject().id(), event->actor().id(), time, time) ||
         links.ColleagueSlot(event->subject().id(), event->actor().id(), time))) {
      links.RecordTreatment(event->subject().id(), event->actor().id(), time);
    }
  }
  return links;
}

std::string ExplainDisclosure(const v1::AccessEvent& access,
                              absl::Span<const v1::AccessEvent> history,
                              const DetectionOptions& options, const absl::TimeZone& zone) {
  if (!access.legal_basis().empty()) return StrCat("disclosed under ", access.legal_basis());
  CareLinks links = LinksAt(access, history, options);
  std::optional<absl::Time> given =
      links.ActiveConsent(access.subject().id(), access.recipient().id(), EventTime(access));
  if (!given) return std::string();
  const std::string& recipient =
      access.recipient().name().empty() ? access.recipient().id() : access.recipient().name();
  return StrCat("disclosed to ", recipient, " with your consent given ",
                absl::FormatTime("%Y-%m-%d", *given, zone));
}

// How close to an appointment a receptionist's look at the patient's
// contact details is a check-in, and how close to a booking the same
// person made it is the phone call that booking was.
// A check-in looks from 4 hours before the appointment's start to an hour
// after it.
constexpr absl::Duration kCheckInEarliest = absl::Hours(4);
constexpr absl::Duration kCheckInLatest = absl::Hours(1);
constexpr absl::Duration kPhoneCall = absl::Minutes(30);

std::string_view BookingVerb(const v1::AccessEvent& event) {
  switch (event.action()) {
    case v1::ACTION_CODE_CREATE: return "booked";
    case v1::ACTION_CODE_DELETE: return "cancelled";
    default: return "changed";
  }
}

// A clinician's access to a patient booked with a colleague at about that
// time: called in (their own treatment entry that day) or covering (the
// colleague did not touch the patient's record that day).
std::string ExplainColleagueSlot(const v1::AccessEvent& access,
                                 absl::Span<const v1::AccessEvent> history, const CareLinks& links,
                                 const absl::TimeZone& zone) {
  const absl::Time at = EventTime(access);
  std::optional<internal::BookedSlot> slot =
      links.ColleagueSlot(access.subject().id(), access.actor().id(), at);
  if (!slot) return std::string();
  const absl::CivilDay day = absl::ToCivilDay(at, zone);
  bool treated = false;
  bool colleague_there = false;
  for (const v1::AccessEvent& event : history) {
    if (event.subject().id() != access.subject().id()) continue;
    if (absl::ToCivilDay(EventTime(event), zone) != day) continue;
    if (event.actor().id() == access.actor().id() && internal::IsTreatment(event)) treated = true;
    if (event.actor().id() == slot->clinician) colleague_there = true;
  }
  const std::string when = absl::FormatTime("%Y-%m-%d %H:%M", slot->start, zone);
  if (!colleague_there) {
    return StrCat("covering for ", slot->clinician, " at your appointment ", when);
  }
  if (treated) return StrCat("called in by ", slot->clinician, " during your appointment ", when);
  return std::string();
}

// Reception's look at contact details, consents or invoices: a check-in for
// an appointment that day, or a phone call in which they booked, moved or
// cancelled one.
std::string ExplainDesk(const v1::AccessEvent& access, absl::Span<const v1::AccessEvent> history,
                        const CareLinks& links, const absl::TimeZone& zone) {
  const absl::Time at = EventTime(access);
  const v1::AccessEvent* call = nullptr;
  for (const v1::AccessEvent& event : history) {
    if (event.subject().id() != access.subject().id() ||
        event.actor().id() != access.actor().id() ||
        event.data_object().type() != v1::DATA_OBJECT_TYPE_APPOINTMENT ||
        event.action() == v1::ACTION_CODE_READ) {
      continue;
    }
    if (absl::AbsDuration(EventTime(event) - at) > kPhoneCall) continue;
    if (call == nullptr ||
        absl::AbsDuration(EventTime(event) - at) < absl::AbsDuration(EventTime(*call) - at)) {
      call = &event;
    }
  }
  if (call != nullptr) {
    return StrCat("phone call: your appointment ", BookingVerb(*call), " by them at ",
                  absl::FormatTime("%H:%M", EventTime(*call), zone));
  }
  std::optional<internal::BookedSlot> slot =
      links.AnySlot(access.subject().id(), at, kCheckInLatest, kCheckInEarliest);
  if (slot && absl::ToCivilDay(slot->start, zone) == absl::ToCivilDay(at, zone)) {
    return StrCat("check-in for your appointment ",
                  absl::FormatTime("%Y-%m-%d %H:%M", slot->start, zone));
  }
  return std::string();
}

}  // namespace

std::string Explain(const v1::AccessEvent& access, absl::Span<const v1::AccessEvent> history,
                    const DetectionOptions& options) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(options.time_zone, &zone)) zone = absl::UTCTimeZone();
  if (auto imported = access.attributes().find(std::string(kImport));
      imported != access.attributes().end() && !imported->second.empty()) {
    return StrCat("recorded at go-live (", imported->second, "): imported from ",
                  access.source().system());
  }
  if (access.data_object().type() == v1::DATA_OBJECT_TYPE_APPOINTMENT) {
    return "your appointment booking";
  }
  if (!access.actor().id().empty() && access.actor().id() == access.subject().id()) {
    return StrCat("you yourself, through ", access.source().system());
  }
  if (internal::IsBreakGlass(access)) {
    return "emergency access (break the glass), reviewed by the clinic";
  }
  if (internal::IsDisclosure(access)) return ExplainDisclosure(access, history, options, zone);
  if (access.purpose_of_use() == v1::PURPOSE_OF_USE_BILLING ||
      access.data_object().type() == v1::DATA_OBJECT_TYPE_INVOICE) {
    return "invoice/billing";
  }
  CareLinks links = LinksAt(access, history, options);
  absl::Time at = EventTime(access);
  if (!internal::IsHealthData(access.data_object().type())) {
    return ExplainDesk(access, history, links, zone);
  }
  std::optional<CareLink> link =
      links.Find(access.subject().id(), access.actor().id(), at, at + internal::kLateBookingGrace);
  if (!link) return ExplainColleagueSlot(access, history, links, zone);
  switch (link->kind) {
    case CareLink::Kind::kAppointment:
      return StrCat("appointment ", absl::FormatTime("%Y-%m-%d %H:%M", link->when, zone),
                    " with this clinician");
    case CareLink::Kind::kReferral:
      return StrCat("referral to this clinician from ", link->from, " on ",
                    absl::FormatTime("%Y-%m-%d", link->when, zone));
    case CareLink::Kind::kTreatment: break;
  }
  return StrCat("treated by this clinician on ", absl::FormatTime("%Y-%m-%d", link->when, zone));
}

}  // namespace innsyn::anomaly
