// The signed answer inside its PDF: the innsyn report carries its
// machine-readable answer (answer.h, the proto3 JSON of the SignedAnswer)
// as an embedded file, so the PDF is one self-contained document that
// `innsynctl verify-report` checks alone, and that --encrypt protects
// whole. The attachment is a PDF file specification named
// kAnswerAttachmentName in the catalog's /Names /EmbeddedFiles tree and
// listed in its /AF array with /AFRelationship /Data (PDF 2.0 §14.13, the
// associated file of PDF/A-3), of subtype application/json. Everything
// happens in memory: the answer never touches a disk in the clear.
// Pure functions; thread-safe.
#ifndef INNSYN_REPORT_PDF_ATTACHMENT_H_
#define INNSYN_REPORT_PDF_ATTACHMENT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace innsyn::report {

inline constexpr std::string_view kAnswerAttachmentName = "innsyn-answer.json";

// `pdf` with `answer_json` attached as kAnswerAttachmentName, dated
// `modified`; an attachment list it had is replaced. The same input gives
// the same bytes (a deterministic /ID). InvalidArgument if `pdf` is not a
// PDF.
absl::StatusOr<std::string> AttachAnswer(std::string_view pdf, std::string_view answer_json,
                                         absl::Time modified);

// What verify-report reads from a received PDF.
struct PdfContents {
  std::string keywords;                    // the document information's /Keywords
  std::optional<std::string> answer_json;  // the attachment, if it has one
};

// Opens `pdf` with `password` ("" for none). PermissionDenied if it is
// encrypted and the password does not open it; InvalidArgument if it is
// not a readable PDF or its attachment cannot be decoded.
absl::StatusOr<PdfContents> ReadPdfContents(std::string_view pdf, const std::string& password);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_PDF_ATTACHMENT_H_
