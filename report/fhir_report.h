// The innsyn report as FHIR R4: a Bundle (type "collection") of AuditEvent
// resources after IHE's Basic Audit Log Patterns (BALP), one per access in
// the answer, with the Norwegian identifier systems: the national identity
// number (urn:oid:2.16.578.1.12.4.1.4.1) for the patient and the HPR
// number (urn:oid:2.16.578.1.12.4.1.4.4) for health personnel. Each
// AuditEvent's id is "seq-<n>", the ledger entry it comes from, so that
// the signed answer it goes with proves it. Pure; thread-safe.
#ifndef INNSYN_REPORT_FHIR_REPORT_H_
#define INNSYN_REPORT_FHIR_REPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "innsyn/v1/report.pb.h"

namespace innsyn::report {

inline constexpr char kNationalIdentityNumberSystem[] = "urn:oid:2.16.578.1.12.4.1.4.1";
inline constexpr char kHprNumberSystem[] = "urn:oid:2.16.578.1.12.4.1.4.4";

// The Bundle in JSON (application/fhir+json), indented.
absl::StatusOr<std::string> RenderFhir(const v1::SignedAnswer& signed_answer);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_FHIR_REPORT_H_
