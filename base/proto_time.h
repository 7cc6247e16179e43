// Conversions between protobuf Timestamps and absl::Time, in one place for
// every module. ToProto keeps the nanoseconds; ToProtoMicros keeps whole
// microseconds, as the ledger stores committed_at. Both round towards the
// past, so that nanos is never negative, as google.protobuf.Timestamp
// requires. Pure; thread-safe.
#ifndef INNSYN_BASE_PROTO_TIME_H_
#define INNSYN_BASE_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace innsyn {

inline absl::Time FromProto(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

inline google::protobuf::Timestamp ToProto(absl::Time time) {
  const int64_t seconds = absl::ToUnixSeconds(time);  // floors
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

inline google::protobuf::Timestamp ToProtoMicros(absl::Time time) {
  return ToProto(absl::FromUnixMicros(absl::ToUnixMicros(time)));  // floors to a microsecond
}

}  // namespace innsyn

#endif  // INNSYN_BASE_PROTO_TIME_H_
