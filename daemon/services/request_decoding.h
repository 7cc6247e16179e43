// Decoding of AppendRequest bytes in the ingest handler itself, rather than
// in gRPC's generic unmarshaller, so that a request protobuf refuses to parse
// (typically a string field holding invalid UTF-8) gets INVALID_ARGUMENT
// naming the event and field, not a bare INTERNAL "failed to parse".
// Pure and thread-safe.
#ifndef INNSYN_DAEMON_SERVICES_REQUEST_DECODING_H_
#define INNSYN_DAEMON_SERVICES_REQUEST_DECODING_H_

#include <grpcpp/support/byte_buffer.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "innsyn/v1/service.pb.h"

namespace innsyn::daemon {

absl::Status DecodeAppendRequest(const grpc::ByteBuffer& buffer, v1::AppendRequest& request);

// The path (for example "events[3].actor.display_name") of the first string
// field in the wire bytes of a `type` message that is not valid UTF-8.
std::optional<std::string> FindInvalidUtf8Field(std::string_view bytes,
                                                const google::protobuf::Descriptor& type);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_REQUEST_DECODING_H_
