#include "report/internal/qpdf.h"

#include "base/strings.h"

namespace innsyn::report::internal {

Qpdf::Qpdf() : data_(qpdf_init()) {
  qpdf_silence_errors(data_);
  qpdf_set_suppress_warnings(data_, QPDF_TRUE);
}

Qpdf::~Qpdf() { qpdf_cleanup(&data_); }

absl::Status Qpdf::Open(std::string_view pdf, const std::string& password) {
  if ((qpdf_read_memory(data_, "report", pdf.data(), pdf.size(), password.c_str()) & QPDF_ERRORS) ==
      0) {
    return absl::OkStatus();
  }
  qpdf_error error = qpdf_get_error(data_);
  if (error != nullptr && qpdf_get_error_code(data_, error) == qpdf_e_password) {
    return absl::PermissionDeniedError("the PDF is encrypted and the password does not open it");
  }
  return absl::InvalidArgumentError(
      StrCat("not a readable PDF: ",
             error == nullptr ? "unknown error" : qpdf_get_error_full_text(data_, error)));
}

std::string Qpdf::ErrorText() {
  qpdf_error error = qpdf_get_error(data_);
  return error == nullptr ? "unknown error" : qpdf_get_error_full_text(data_, error);
}

absl::Status Qpdf::Check(absl::StatusCode code, std::string_view what) {
  if (qpdf_has_error(data_) == QPDF_FALSE) return absl::OkStatus();
  return absl::Status(code, StrCat(what, ": ", ErrorText()));
}

absl::Status Qpdf::StartWrite(std::string_view what) {
  if ((qpdf_init_write_memory(data_) & QPDF_ERRORS) != 0) {
    return absl::InternalError(StrCat(what, ": ", ErrorText()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Qpdf::FinishWrite(std::string_view what) {
  if ((qpdf_write(data_) & QPDF_ERRORS) != 0) {
    return absl::InternalError(StrCat(what, ": ", ErrorText()));
  }
  return std::string(reinterpret_cast<const char*>(qpdf_get_buffer(data_)),
                     qpdf_get_buffer_length(data_));
}

}  // namespace innsyn::report::internal
