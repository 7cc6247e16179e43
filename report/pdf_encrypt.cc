#include "report/pdf_encrypt.h"

// qpdf's C API: its C++ headers (JSON.hh) do not compile with clang and
// libstdc++ 12, which the sanitizer build uses.
#include <qpdf/qpdf-c.h>

#include "base/strings.h"

namespace innsyn::report {
namespace {

// One qpdf object for the life of a call; its errors are returned, never
// printed.
class Qpdf {
 public:
  Qpdf() : data_(qpdf_init()) {
    qpdf_silence_errors(data_);
    qpdf_set_suppress_warnings(data_, QPDF_TRUE);
  }
  ~Qpdf() { qpdf_cleanup(&data_); }
  Qpdf(const Qpdf&) = delete;
  Qpdf& operator=(const Qpdf&) = delete;
  qpdf_data get() { return data_; }

  // `pdf`, opened with `password`.
  absl::Status Open(std::string_view pdf, const std::string& password) {
    if ((qpdf_read_memory(data_, "report", pdf.data(), pdf.size(), password.c_str()) &
         QPDF_ERRORS) == 0) {
      return absl::OkStatus();
    }
    qpdf_error error = qpdf_get_error(data_);
    if (error != nullptr && qpdf_get_error_code(data_, error) == qpdf_e_password) {
      return absl::PermissionDeniedError("the PDF is encrypted and the password does not open it");
    }
    return absl::InvalidArgumentError(StrCat("not a readable PDF: ", LastError(error)));
  }

  std::string LastError(qpdf_error error) {
    if (error == nullptr) error = qpdf_get_error(data_);
    return error == nullptr ? "unknown error" : qpdf_get_error_full_text(data_, error);
  }

 private:
  qpdf_data data_;
};

}  // namespace

absl::StatusOr<std::string> EncryptPdf(std::string_view pdf, const std::string& password) {
  if (password.empty()) return absl::InvalidArgumentError("the PDF password is empty");
  Qpdf qpdf;
  if (absl::Status s = qpdf.Open(pdf, ""); !s.ok()) return s;
  if ((qpdf_init_write_memory(qpdf.get()) & QPDF_ERRORS) != 0) {
    return absl::InternalError(StrCat("cannot encrypt the PDF: ", qpdf.LastError(nullptr)));
  }
  qpdf_set_r6_encryption_parameters2(qpdf.get(), password.c_str(), password.c_str(),
                                     /*allow_accessibility=*/QPDF_TRUE,
                                     /*allow_extract=*/QPDF_TRUE, /*allow_assemble=*/QPDF_FALSE,
                                     /*allow_annotate_and_form=*/QPDF_FALSE,
                                     /*allow_form_filling=*/QPDF_FALSE,
                                     /*allow_modify_other=*/QPDF_FALSE, qpdf_r3p_full,
                                     /*encrypt_metadata=*/QPDF_TRUE);
  if ((qpdf_write(qpdf.get()) & QPDF_ERRORS) != 0) {
    return absl::InternalError(StrCat("cannot encrypt the PDF: ", qpdf.LastError(nullptr)));
  }
  return std::string(reinterpret_cast<const char*>(qpdf_get_buffer(qpdf.get())),
                     qpdf_get_buffer_length(qpdf.get()));
}

absl::StatusOr<std::string> PdfKeywords(std::string_view pdf, const std::string& password) {
  Qpdf qpdf;
  if (absl::Status s = qpdf.Open(pdf, password); !s.ok()) return s;
  const char* keywords = qpdf_get_info_key(qpdf.get(), "/Keywords");
  return keywords == nullptr ? std::string() : std::string(keywords);
}

}  // namespace innsyn::report
