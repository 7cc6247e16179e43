#include "ctl/command.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace innsyn::ctl {
namespace {

constexpr char kVerificationFailedPayload[] = "type.innsyn.dev/innsynctl.VerificationFailed";

}  // namespace

absl::Status VerificationFailure(std::string_view what) {
  absl::Status status = absl::DataLossError(std::string(what));
  status.SetPayload(kVerificationFailedPayload, absl::Cord());
  return status;
}

bool IsVerificationFailure(const absl::Status& status) {
  return status.GetPayload(kVerificationFailedPayload).has_value();
}

int ReportError(const absl::Status& status) {
  if (IsVerificationFailure(status)) {
    fmt::print("FAILED: {}\n", std::string(status.message()));
    return kExitFailed;
  }
  fmt::print(stderr, "innsynctl: {}: {}\n", absl::StatusCodeToString(status.code()),
             std::string(status.message()));
  return kExitError;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return text.str();
}

}  // namespace innsyn::ctl
