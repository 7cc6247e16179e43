// Fuzzes what innsynd does with an Append request's bytes before anything
// reaches the ledger: decoding (with the path of invalid UTF-8) and
// validation. Any input must give OK or a status naming the problem; no
// input may crash, leak or read out of bounds.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "daemon/services/request_decoding.h"
#include "daemon/services/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  grpc::Slice slice(data, size);
  grpc::ByteBuffer buffer(&slice, 1);
  innsyn::v1::AppendRequest request;
  absl::Status decoded = innsyn::daemon::DecodeAppendRequest(buffer, request);
  if (!decoded.ok()) return 0;
  // A fixed "now", so that a failure replays the same way.
  (void)innsyn::daemon::ValidateAppendRequest(request, absl::FromUnixSeconds(1764000000));
  return 0;
}
