#include "anomaly/internal/care_links.h"

#include <algorithm>

#include "anomaly/event_conventions.h"
#include "base/proto_time.h"

namespace innsyn::anomaly::internal {
namespace {

constexpr int64_t kHoursPerDay = 24;
// Kept past its last use, for events that arrive a little out of order.
constexpr absl::Duration kPruneSlack = absl::Hours(kHoursPerDay);

std::optional<absl::Time> AttributeTime(const v1::AccessEvent& event, std::string_view name) {
  auto it = event.attributes().find(std::string(name));
  if (it == event.attributes().end()) return std::nullopt;
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, it->second, &time, &error)) return std::nullopt;
  return time;
}

std::string Attribute(const v1::AccessEvent& event, std::string_view name) {
  auto it = event.attributes().find(std::string(name));
  return it == event.attributes().end() ? std::string() : it->second;
}

}  // namespace

absl::Time EventTime(const v1::AccessEvent& event) { return FromProto(event.occurred_at()); }

bool IsHealthData(v1::DataObjectType type) {
  return type == v1::DATA_OBJECT_TYPE_JOURNAL_NOTE || type == v1::DATA_OBJECT_TYPE_IMAGE ||
         type == v1::DATA_OBJECT_TYPE_TREATMENT_PLAN || type == v1::DATA_OBJECT_TYPE_REFERRAL;
}

bool NeedsCareLink(const v1::AccessEvent& event) {
  if (!IsHealthData(event.data_object().type())) return false;
  switch (event.action()) {
    case v1::ACTION_CODE_CREATE:
    case v1::ACTION_CODE_READ:
    case v1::ACTION_CODE_UPDATE: return true;
    default:
      return event.action_subtype() == v1::ACTION_SUBTYPE_PRINT ||
             event.action_subtype() == v1::ACTION_SUBTYPE_EXPORT;
  }
}

bool IsBreakGlass(const v1::AccessEvent& event) {
  return event.action_subtype() == v1::ACTION_SUBTYPE_BREAK_GLASS ||
         event.purpose_of_use() == v1::PURPOSE_OF_USE_EMERGENCY;
}

bool IsTreatment(const v1::AccessEvent& event) {
  bool write = event.action() == v1::ACTION_CODE_CREATE || event.action() == v1::ACTION_CODE_UPDATE;
  bool purpose = event.purpose_of_use() == v1::PURPOSE_OF_USE_TREATMENT ||
                 event.purpose_of_use() == v1::PURPOSE_OF_USE_EMERGENCY;
  return write && purpose && IsHealthData(event.data_object().type());
}

bool IsDisclosure(const v1::AccessEvent& event) {
  return event.action_subtype() == v1::ACTION_SUBTYPE_DISCLOSE;
}

CareLinks::CareLinks(const DetectionOptions& options)
    : before_(absl::Hours(kHoursPerDay * options.no_care_relationship.days_before)),
      after_(absl::Hours(kHoursPerDay * options.no_care_relationship.days_after)),
      treatment_(absl::Hours(kHoursPerDay * options.no_care_relationship.treatment_days)),
      referral_(absl::Hours(kHoursPerDay * options.no_care_relationship.referral_days)) {}

void CareLinks::Observe(const v1::AccessEvent& event, absl::Time at) {
  switch (event.data_object().type()) {
    case v1::DATA_OBJECT_TYPE_APPOINTMENT: ObserveAppointment(event, at); return;
    case v1::DATA_OBJECT_TYPE_CONSENT: ObserveConsent(event, at); return;
    case v1::DATA_OBJECT_TYPE_REFERRAL: ObserveReferral(event, at); return;
    default: return;
  }
}

void CareLinks::ObserveAppointment(const v1::AccessEvent& event, absl::Time at) {
  const std::string& id =
      event.data_object().id().empty() ? event.event_id() : event.data_object().id();
  auto found = subjects_.find(event.subject().id());
  if (event.action() == v1::ACTION_CODE_DELETE) {
    if (found == subjects_.end()) return;
    std::erase_if(found->second.appointments, [&](const Appointment& a) { return a.id == id; });
    return;
  }
  if (event.action() != v1::ACTION_CODE_CREATE && event.action() != v1::ACTION_CODE_UPDATE) return;
  std::string clinician = Attribute(event, kAppointmentClinician);
  std::optional<absl::Time> start = AttributeTime(event, kAppointmentStart);
  if (clinician.empty() || !start) return;
  std::vector<Appointment>& appointments = subjects_[event.subject().id()].appointments;
  for (Appointment& appointment : appointments) {
    if (appointment.id != id) continue;
    appointment.clinician = std::move(clinician);
    appointment.start = *start;
    return;
  }
  appointments.push_back({id, std::move(clinician), *start, at});
}

void CareLinks::ObserveConsent(const v1::AccessEvent& event, absl::Time at) {
  const std::string& recipient = event.recipient().id();
  if (recipient.empty()) return;
  bool given = event.action_subtype() == v1::ACTION_SUBTYPE_CONSENT_GIVEN;
  bool withdrawn = event.action_subtype() == v1::ACTION_SUBTYPE_CONSENT_WITHDRAWN;
  if (!given && !withdrawn) return;
  auto found = subjects_.find(event.subject().id());
  if (withdrawn) {
    if (found == subjects_.end()) return;
    for (Consent& consent : found->second.consents) {
      if (consent.recipient == recipient) consent.withdrawn_at = std::min(consent.withdrawn_at, at);
    }
    return;
  }
  std::optional<absl::Time> until = AttributeTime(event, kConsentValidUntil);
  Consent consent{recipient, at, until.value_or(absl::InfiniteFuture()), absl::InfiniteFuture()};
  std::vector<Consent>& consents = subjects_[event.subject().id()].consents;
  for (Consent& existing : consents) {
    if (existing.recipient == recipient) {
      existing = consent;
      return;
    }
  }
  consents.push_back(consent);
}

void CareLinks::ObserveReferral(const v1::AccessEvent& event, absl::Time at) {
  bool write = event.action() == v1::ACTION_CODE_CREATE || event.action() == v1::ACTION_CODE_UPDATE;
  if (!write && !IsDisclosure(event)) return;
  std::string addressee = Attribute(event, kReferralAddressee);
  if (addressee.empty() || addressee == event.actor().id()) return;
  std::vector<Referral>& referrals = subjects_[event.subject().id()].referrals;
  for (Referral& referral : referrals) {
    if (referral.addressee != addressee) continue;
    referral.at = std::max(referral.at, at);
    referral.from = event.actor().id();
    return;
  }
  referrals.push_back({std::move(addressee), event.actor().id(), at});
}

void CareLinks::RecordTreatment(const std::string& subject, const std::string& clinician,
                                absl::Time at) {
  std::vector<Treatment>& treatments = subjects_[subject].treatments;
  for (Treatment& treatment : treatments) {
    if (treatment.clinician != clinician) continue;
    treatment.last = std::max(treatment.last, at);
    return;
  }
  treatments.push_back({clinician, at});
}

std::optional<CareLink> CareLinks::Find(const std::string& subject, const std::string& clinician,
                                        absl::Time access, absl::Time booked_by) const {
  auto found = subjects_.find(subject);
  if (found == subjects_.end()) return std::nullopt;
  std::optional<CareLink> best;
  absl::Duration best_distance = absl::InfiniteDuration();
  for (const Appointment& appointment : found->second.appointments) {
    if (appointment.clinician != clinician || appointment.booked_at > booked_by) continue;
    if (appointment.start < access - before_ || appointment.start > access + after_) continue;
    absl::Duration distance = absl::AbsDuration(appointment.start - access);
    if (distance < best_distance) {
      best_distance = distance;
      best = CareLink{CareLink::Kind::kAppointment, appointment.start, {}};
    }
  }
  if (best) return best;
  for (const Treatment& treatment : found->second.treatments) {
    if (treatment.clinician == clinician && treatment.last >= access - treatment_) {
      return CareLink{CareLink::Kind::kTreatment, treatment.last, {}};
    }
  }
  for (const Referral& referral : found->second.referrals) {
    if (referral.addressee == clinician && referral.at <= booked_by &&
        referral.at >= access - referral_) {
      return CareLink{CareLink::Kind::kReferral, referral.at, referral.from};
    }
  }
  return std::nullopt;
}

template <typename Counts>
std::optional<BookedSlot> CareLinks::NearestSlot(const std::string& subject, absl::Time at,
                                                 absl::Duration before, absl::Duration after,
                                                 Counts counts) const {
  auto found = subjects_.find(subject);
  if (found == subjects_.end()) return std::nullopt;
  std::optional<BookedSlot> best;
  absl::Duration best_distance = absl::InfiniteDuration();
  for (const Appointment& appointment : found->second.appointments) {
    if (!counts(appointment)) continue;
    if (appointment.start < at - before || appointment.start > at + after) continue;
    absl::Duration distance = absl::AbsDuration(appointment.start - at);
    if (distance < best_distance) {
      best_distance = distance;
      best = BookedSlot{appointment.clinician, appointment.start};
    }
  }
  return best;
}

std::optional<BookedSlot> CareLinks::ColleagueSlot(const std::string& subject,
                                                   const std::string& clinician,
                                                   absl::Time at) const {
  return NearestSlot(subject, at, kSlotBefore, kSlotAfter, [&](const Appointment& appointment) {
    return appointment.clinician != clinician && appointment.booked_at <= at;
  });
}

std::optional<BookedSlot> CareLinks::AnySlot(const std::string& subject, absl::Time at,
                                             absl::Duration before, absl::Duration after) const {
  return NearestSlot(subject, at, before, after, [&](const Appointment& appointment) {
    return appointment.booked_at <= at + kLateBookingGrace;
  });
}

std::optional<absl::Time> CareLinks::ActiveConsent(const std::string& subject,
                                                   const std::string& recipient,
                                                   absl::Time at) const {
  auto found = subjects_.find(subject);
  if (found == subjects_.end()) return std::nullopt;
  for (const Consent& consent : found->second.consents) {
    if (consent.recipient != recipient) continue;
    if (consent.given_at <= at && at < consent.valid_until && at < consent.withdrawn_at) {
      return consent.given_at;
    }
  }
  return std::nullopt;
}

void CareLinks::Prune(absl::Time now) {
  absl::Time earliest_access = now - kLateBookingGrace - kPruneSlack;
  for (auto it = subjects_.begin(); it != subjects_.end();) {
    Subject& subject = it->second;
    std::erase_if(subject.appointments,
                  [&](const Appointment& a) { return a.start < earliest_access - before_; });
    std::erase_if(subject.treatments,
                  [&](const Treatment& t) { return t.last < earliest_access - treatment_; });
    std::erase_if(subject.referrals,
                  [&](const Referral& r) { return r.at < earliest_access - referral_; });
    std::erase_if(subject.consents, [&](const Consent& c) {
      return std::min(c.valid_until, c.withdrawn_at) < earliest_access;
    });
    if (subject.empty()) {
      subjects_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace innsyn::anomaly::internal
