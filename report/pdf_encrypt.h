// The innsyn report protected for e-mail: a PDF encrypted with AES-256
// (the PDF 2.0 security handler, R6) by qpdf, which a reader opens with a
// password the patient receives another way (e.g. by SMS). Everything in
// the PDF is encrypted, its metadata and its attached answer
// (pdf_attachment.h) included. Thread-safe.
#ifndef INNSYN_REPORT_PDF_ENCRYPT_H_
#define INNSYN_REPORT_PDF_ENCRYPT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace innsyn::report {

// `pdf` encrypted with AES-256 (R6), `password` as both user and owner
// password: nothing of the PDF, its metadata and attachments included, can
// be read without it. Printing and copying text stay allowed for whoever
// has the password. InvalidArgument if `password` is empty or `pdf` is not
// a PDF.
absl::StatusOr<std::string> EncryptPdf(std::string_view pdf, const std::string& password);

}  // namespace innsyn::report

#endif  // INNSYN_REPORT_PDF_ENCRYPT_H_
