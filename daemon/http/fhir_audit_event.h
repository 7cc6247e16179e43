// FHIR R4 AuditEvent (IHE Basic Audit Log Patterns, BALP) to and from
// innsyn's AccessEvent; the mapping, element by element, is the table
// "FHIR AuditEvent mapping" in the README. An AuditEvent that cannot be
// mapped is refused with InvalidArgument whose message begins with the
// element at fault, for example
//   AuditEvent.entity[0].what.identifier: the patient needs an identifier ...
// The reverse mapping gives every field back, so that an event recorded
// from an AuditEvent, searched and read again is the same AccessEvent.
// JSON arrives as google.protobuf.Value (json_codec.h). Pure; thread-safe.
#ifndef INNSYN_DAEMON_HTTP_FHIR_AUDIT_EVENT_H_
#define INNSYN_DAEMON_HTTP_FHIR_AUDIT_EVENT_H_

#include <google/protobuf/struct.pb.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::daemon::http {

// The content type of the Binary a search with proof=true adds to its
// Bundle: the page's answer, proven complete (README, "Complete answers
// over HTTP").
inline constexpr char kAnswerProofType[] = "application/vnd.innsyn.answer-proof+json";

// Identifier systems (OIDs of the Norwegian Directorate of eHealth).
inline constexpr char kNationalIdSystem[] = "urn:oid:2.16.578.1.12.4.1.4.1";  // fødselsnummer
inline constexpr char kDNumberSystem[] = "urn:oid:2.16.578.1.12.4.1.4.2";     // D-nummer
inline constexpr char kHprSystem[] = "urn:oid:2.16.578.1.12.4.1.4.4";         // HPR-nummer
// innsyn's own code systems, for what FHIR's value sets do not say.
inline constexpr char kActionSubtypeSystem[] = "urn:innsyn:action-subtype";
inline constexpr char kDataObjectTypeSystem[] = "urn:innsyn:data-object-type";
inline constexpr char kSubjectKindSystem[] = "urn:innsyn:subject-kind";

// `path` names the resource in messages ("AuditEvent", or
// "Bundle.entry[3].resource").
absl::StatusOr<v1::AccessEvent> AuditEventToAccessEvent(const google::protobuf::Value& resource,
                                                        std::string_view path = "AuditEvent");

// The AuditEvent (BALP shape) of an event; its id is the event_id.
google::protobuf::Value AccessEventToAuditEvent(const v1::AccessEvent& event);

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_FHIR_AUDIT_EVENT_H_
