// The innsyn report as FHIR R4: a Bundle (type "collection") of AuditEvent
// resources after IHE's Basic Audit Log Patterns (BALP), one per access in
// the answer, with the Norwegian identifier systems: the national identity
// number (urn:oid:2.16.578.1.12.4.1.4.1) for the patient and the HPR
// number (urn:oid:2.16.578.1.12.4.1.4.4) for health personnel. Each
// AuditEvent's id is "seq-<n>", the ledger entry it comes from. The
// signed answer (answer.h) rides in the same Bundle as its last entry, a
// Binary "innsyn-answer" of contentType application/json, so that the
// bundle is one file that proves itself, as the PDF is. The AuditEvents are
// made from the answer alone, so a verifier makes them again and compares.
// Every AuditEvent maps back, through innsynd's FHIR feed (POST /fhir), to
// the access event as the answer shows it. Pure; thread-safe.
#ifndef INNSYN_REPORT_FHIR_REPORT_H_
#define INNSYN_REPORT_FHIR_REPORT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "innsyn/v1/report.pb.h"

namespace innsyn::report {

inline constexpr char kNationalIdentityNumberSystem[] = "urn:oid:2.16.578.1.12.4.1.4.1";
inline constexpr char kHprNumberSystem[] = "urn:oid:2.16.578.1.12.4.1.4.4";
inline constexpr char kAnswerBinaryId[] = "innsyn-answer";

// The Bundle in JSON (application/fhir+json), indented.
absl::StatusOr<std::string> RenderFhir(const v1::SignedAnswer& signed_answer);

// The signed answer's JSON that `bundle_json` carries in its Binary
// "innsyn-answer", or nullopt if it carries none (a bundle made before
// bundles carried their answer). InvalidArgument if it is no Bundle.
absl::StatusOr<std::optional<std::string>> AnswerInBundle(std::string_view bundle_json);

// That the bundle's entries, the answer aside, are exactly the AuditEvents
// RenderFhir makes from `answer`, in order: DataLoss naming the first that
// is not.
absl::Status CheckBundleEvents(std::string_view bundle_json, const v1::InnsynAnswer& answer);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_FHIR_REPORT_H_
