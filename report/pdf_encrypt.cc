#include "report/pdf_encrypt.h"

#include <exception>
#include <memory>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include "base/strings.h"

namespace innsyn::report {
namespace {

// `pdf` parsed by qpdf, opened with `password`; qpdf's warnings are not
// printed (its errors are returned).
absl::Status Open(QPDF& qpdf, std::string_view pdf, const std::string& password) {
  qpdf.setSuppressWarnings(true);
  try {
    qpdf.processMemoryFile("report", pdf.data(), pdf.size(), password.c_str());
  } catch (const QPDFExc& e) {
    if (e.getErrorCode() == qpdf_e_password) {
      return absl::PermissionDeniedError("the PDF is encrypted and the password does not open it");
    }
    return absl::InvalidArgumentError(StrCat("not a readable PDF: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("not a readable PDF: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EncryptPdf(std::string_view pdf, const std::string& password) {
  if (password.empty()) return absl::InvalidArgumentError("the PDF password is empty");
  QPDF qpdf;
  if (absl::Status s = Open(qpdf, pdf, ""); !s.ok()) return s;
  try {
    QPDFWriter writer(qpdf);
    writer.setOutputMemory();
    writer.setR6EncryptionParameters(password.c_str(), password.c_str(),
                                     /*allow_accessibility=*/true, /*allow_extract=*/true,
                                     /*allow_assemble=*/false, /*allow_annotate_and_form=*/false,
                                     /*allow_form_filling=*/false, /*allow_modify_other=*/false,
                                     qpdf_r3p_full, /*encrypt_metadata_aes=*/true);
    writer.write();
    std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
    return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("cannot encrypt the PDF: ", e.what()));
  }
}

absl::StatusOr<std::string> PdfKeywords(std::string_view pdf, const std::string& password) {
  QPDF qpdf;
  if (absl::Status s = Open(qpdf, pdf, password); !s.ok()) return s;
  try {
    QPDFObjectHandle info = qpdf.getTrailer().getKey("/Info");
    if (!info.isDictionary()) return std::string();
    QPDFObjectHandle keywords = info.getKey("/Keywords");
    if (!keywords.isString()) return std::string();
    return keywords.getUTF8Value();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("not a readable PDF: ", e.what()));
  }
}

}  // namespace innsyn::report
