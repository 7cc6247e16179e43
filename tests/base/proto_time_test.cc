#include "base/proto_time.h"

#include <gtest/gtest.h>

namespace innsyn {
namespace {

TEST(ProtoTime, RoundTripsToTheNanosecond) {
  const absl::Time time = absl::FromUnixNanos(1'795'000'000'123'456'789);
  google::protobuf::Timestamp timestamp = ToProto(time);
  EXPECT_EQ(timestamp.seconds(), 1'795'000'000);
  EXPECT_EQ(timestamp.nanos(), 123'456'789);
  EXPECT_EQ(FromProto(timestamp), time);
}

TEST(ProtoTime, MicrosKeepsWholeMicroseconds) {
  google::protobuf::Timestamp timestamp =
      ToProtoMicros(absl::FromUnixNanos(1'795'000'000'123'456'789));
  EXPECT_EQ(timestamp.nanos(), 123'456'000);
}

TEST(ProtoTime, TimesBeforeTheEpochRoundTowardsThePastSoNanosAreNeverNegative) {
  const absl::Time time = absl::UnixEpoch() - absl::Nanoseconds(1'500'000'001);
  google::protobuf::Timestamp timestamp = ToProto(time);
  EXPECT_EQ(timestamp.seconds(), -2);
  EXPECT_EQ(timestamp.nanos(), 499'999'999);
  EXPECT_EQ(FromProto(timestamp), time);
  google::protobuf::Timestamp micros = ToProtoMicros(time);
  EXPECT_EQ(micros.seconds(), -2);
  EXPECT_EQ(micros.nanos(), 499'999'000);
}

}  // namespace
}  // namespace innsyn
