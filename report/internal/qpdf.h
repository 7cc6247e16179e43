// One qpdf document for the life of a call, through qpdf's C API: its C++
// headers (JSON.hh) do not compile with clang and libstdc++ 12, which the
// sanitizer build uses. Errors come back as statuses, never printed.
// Private to report/. Not thread-safe: one object a thread.
#ifndef INNSYN_REPORT_INTERNAL_QPDF_H_
#define INNSYN_REPORT_INTERNAL_QPDF_H_

#include <qpdf/qpdf-c.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace innsyn::report::internal {

class Qpdf {
 public:
  Qpdf();
  ~Qpdf();
  Qpdf(const Qpdf&) = delete;
  Qpdf& operator=(const Qpdf&) = delete;
  qpdf_data get() { return data_; }

  // `pdf` opened with `password` ("" for none); the bytes are copied.
  // PermissionDenied if it is encrypted and `password` does not open it,
  // InvalidArgument if it is not a readable PDF.
  absl::Status Open(std::string_view pdf, const std::string& password);

  // The error an object function (which returns no code) left, as
  // `code` naming `what`; OK if there is none.
  absl::Status Check(absl::StatusCode code, std::string_view what);

  // Begins writing to memory; set the writer's options between this and
  // FinishWrite.
  absl::Status StartWrite(std::string_view what);
  absl::StatusOr<std::string> FinishWrite(std::string_view what);

 private:
  std::string ErrorText();

  qpdf_data data_;
};

}  // namespace innsyn::report::internal

#endif  // INNSYN_REPORT_INTERNAL_QPDF_H_
