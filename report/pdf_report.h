// The innsyn report as a person reads it: an A4 PDF in bokmål or English,
// laid out with pango and cairo, fonts embedded. It names the controller,
// the patient (identity number masked), the period, every access in time
// order with who, what, why and the explanation innsyn knows, disclosures,
// where the data came from, how long the log is kept, the patient's rights,
// that the report itself was logged, and the signed checkpoint and answer
// digest that tie it to its machine-readable answer (answer.h). The PDF's
// keywords carry that digest, and the answer itself is attached to it
// (pdf_attachment.h), so the PDF is checked alone. Pure: the same answer
// gives the same bytes. Thread-safe.
#ifndef INNSYN_REPORT_PDF_REPORT_H_
#define INNSYN_REPORT_PDF_REPORT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "innsyn/v1/report.pb.h"

namespace innsyn::report {

// Times are shown in this zone, summer time included (tzdata, via absl).
inline constexpr std::string_view kReportTimeZone = "Europe/Oslo";

// The PDF's keywords: this prefix, then the answer's hex digest.
inline constexpr std::string_view kDigestKeywordPrefix = "innsyn-answer-sha256:";

// The PDF of `signed_answer`, with the answer attached; its language is
// answer().language(). The keywords hold kDigestKeywordPrefix + digest.
absl::StatusOr<std::string> RenderPdf(const v1::SignedAnswer& signed_answer);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_PDF_REPORT_H_
