// Explain: the patient-facing reason for an access, from the same
// CareLinks the detectors use.
#include <algorithm>

#include "anomaly/engine.h"
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
    // expected links them to the patient.
    bool clinician = std::find(options.clinical_roles.begin(), options.clinical_roles.end(),
                               event->actor().role()) != options.clinical_roles.end();
    if (time < at && clinician && internal::IsTreatment(*event) &&
        links.Find(event->subject().id(), event->actor().id(), time, time)) {
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

}  // namespace

std::string Explain(const v1::AccessEvent& access, absl::Span<const v1::AccessEvent> history,
                    const DetectionOptions& options) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(options.time_zone, &zone)) zone = absl::UTCTimeZone();
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
  std::optional<CareLink> link =
      links.Find(access.subject().id(), access.actor().id(), at, at + internal::kLateBookingGrace);
  if (!link) return std::string();
  if (link->kind == CareLink::Kind::kAppointment) {
    return StrCat("appointment ", absl::FormatTime("%Y-%m-%d %H:%M", link->when, zone),
                  " with this clinician");
  }
  return StrCat("treated by this clinician on ", absl::FormatTime("%Y-%m-%d", link->when, zone));
}

}  // namespace innsyn::anomaly
