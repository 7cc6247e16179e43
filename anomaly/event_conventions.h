// What the detectors read from access events beyond the core fields: how
// clinic software reports appointments, consents and contact details so
// that care links, consents and relatives can be known. These are the
// names of AccessEvent.attributes the README documents for integrators.
//
// Appointment (booked, moved or cancelled, by the journal system, the
// reception or the website): data_object.type = APPOINTMENT, subject = the
// patient, action CREATE or UPDATE (booked or moved) or DELETE (cancelled),
// data_object.id = the appointment's id, and the attributes
//   appointment.clinician  the clinician's actor id (required for a care link)
//   appointment.start      RFC 3339 start time, for example 2026-11-20T10:00:00+01:00
//
// Treatment: a CREATE or UPDATE of a journal note, image, treatment plan or
// referral by a clinician, with purpose TREATMENT or EMERGENCY, that was
// itself expected (covered by a care link), links that clinician to the
// patient for the following `treatment_days`.
//
// Referral inside the clinic: a CREATE, UPDATE or disclosure of a
// referral (data_object.type = REFERRAL) with the attribute
//   referral.addressee     the actor id of the clinician it is addressed to
// links that clinician to the patient for `referral_days` (triage before
// any booking exists). A referral to oneself links no one.
//
// Call-in: a clinician's own treatment entry (a note, an image, a plan)
// about a patient booked with a colleague, from 3 hours before to 30
// minutes after that appointment's start, links them to the patient, with
// their reads of the same day.
//
// Go-live import: an event with the attribute
//   import                 "go-live" (or any non-empty text)
// records state the clinic had before innsyn; Explain says so.
//
// Consent: data_object.type = CONSENT, action_subtype CONSENT_GIVEN or
// CONSENT_WITHDRAWN, subject = the patient, recipient.id = whom the consent
// lets the clinic disclose to, and optionally
//   consent.valid_until    RFC 3339 time the consent lapses
//
// Contact details (for relatives): data_object.type = CONTACT_DETAILS,
// action CREATE or UPDATE, subject = the patient, and the attributes
//   contact.surname, contact.address
// The detectors compare them, normalised (case, spaces), with the roster's.
#ifndef INNSYN_ANOMALY_EVENT_CONVENTIONS_H_
#define INNSYN_ANOMALY_EVENT_CONVENTIONS_H_

#include <string_view>

namespace innsyn::anomaly {

inline constexpr std::string_view kAppointmentClinician = "appointment.clinician";
inline constexpr std::string_view kAppointmentStart = "appointment.start";
inline constexpr std::string_view kConsentValidUntil = "consent.valid_until";
inline constexpr std::string_view kContactSurname = "contact.surname";
inline constexpr std::string_view kContactAddress = "contact.address";
inline constexpr std::string_view kReferralAddressee = "referral.addressee";
inline constexpr std::string_view kImport = "import";

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_EVENT_CONVENTIONS_H_
