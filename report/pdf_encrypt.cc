#include "report/pdf_encrypt.h"

#include "report/internal/qpdf.h"

namespace innsyn::report {

absl::StatusOr<std::string> EncryptPdf(std::string_view pdf, const std::string& password) {
  if (password.empty()) return absl::InvalidArgumentError("the PDF password is empty");
  internal::Qpdf qpdf;
  if (absl::Status s = qpdf.Open(pdf, ""); !s.ok()) return s;
  constexpr std::string_view kWhat = "cannot encrypt the PDF";
  if (absl::Status s = qpdf.StartWrite(kWhat); !s.ok()) return s;
  // The default crypt filter covers every stream and string, embedded
  // files included: no /EFF leaves the attached answer in the clear.
  qpdf_set_r6_encryption_parameters2(qpdf.get(), password.c_str(), password.c_str(),
                                     /*allow_accessibility=*/QPDF_TRUE,
                                     /*allow_extract=*/QPDF_TRUE, /*allow_assemble=*/QPDF_FALSE,
                                     /*allow_annotate_and_form=*/QPDF_FALSE,
                                     /*allow_form_filling=*/QPDF_FALSE,
                                     /*allow_modify_other=*/QPDF_FALSE, qpdf_r3p_full,
                                     /*encrypt_metadata=*/QPDF_TRUE);
  return qpdf.FinishWrite(kWhat);
}

}  // namespace innsyn::report
