// Conversions between protobuf Timestamps and absl::Time for innsynd's
// services, in one place. ToProto keeps whole microseconds, as the ledger
// stores committed_at.
#ifndef INNSYN_DAEMON_PROTO_TIME_H_
#define INNSYN_DAEMON_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace innsyn::daemon {

inline absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(time);
  ts.set_seconds(micros / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return ts;
}

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_PROTO_TIME_H_
