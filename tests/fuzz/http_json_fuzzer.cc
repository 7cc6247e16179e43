// Fuzzes innsynd's HTTP JSON decoder: a body decoded as an AppendRequest,
// checked by the same validation as gRPC, and any refusal turned into the
// JSON error body, which must itself be JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"
#include "daemon/http/json_codec.h"
#include "daemon/services/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = innsyn::daemon::http;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  innsyn::v1::AppendRequest request;
  absl::Status status = http::DecodeAppendRequest(body, request);
  if (status.ok()) {
    status = innsyn::daemon::ValidateAppendRequest(request, absl::FromUnixSeconds(1764000000));
  }
  if (!status.ok() && !http::ParseJsonValue(http::ErrorJson(status)).ok()) std::abort();
  return 0;
}
