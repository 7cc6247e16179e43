#include "daemon/services/request_decoding.h"

#include <gtest/gtest.h>

#include "tests/support/test_events.h"

namespace innsyn::daemon {
namespace {

using innsyn::testing::JournalRead;

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Serialises without protobuf's UTF-8 check, as a foreign client might.
std::string RequestBytes(const v1::AppendRequest& request) {
  std::string bytes;
  request.SerializePartialToString(&bytes);
  return bytes;
}

TEST(RequestDecoding, ValidRequestDecodes) {
  v1::AppendRequest request;
  *request.add_events() = JournalRead(1, "p", "a");
  v1::AppendRequest decoded;
  ASSERT_TRUE(DecodeAppendRequest(ToBuffer(RequestBytes(request)), decoded).ok());
  EXPECT_EQ(decoded.events(0).event_id(), "ev-1");
}

TEST(RequestDecoding, InvalidUtf8NamesTheEventAndField) {
  v1::AppendRequest request;
  *request.add_events() = JournalRead(1, "p", "a");
  *request.add_events() = JournalRead(2, "p", "a");
  request.mutable_events(1)->mutable_actor()->set_display_name("Bj\xf8rn");  // Latin-1, not UTF-8
  v1::AppendRequest decoded;
  absl::Status status = DecodeAppendRequest(ToBuffer(RequestBytes(request)), decoded);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "events[1]: actor.display_name is not valid UTF-8");
}

TEST(RequestDecoding, InvalidUtf8InAnAttributeValueIsFound) {
  v1::AppendRequest request;
  for (int i = 0; i < 3; ++i) *request.add_events() = JournalRead(i, "p", "a");
  (*request.mutable_events(2)->mutable_attributes())["room"] = "\xc3\x28";
  EXPECT_EQ(FindInvalidUtf8Field(RequestBytes(request), *request.GetDescriptor()),
            "events[2].attributes[0].value");
}

TEST(RequestDecoding, GarbageIsRejectedWithoutAField) {
  v1::AppendRequest decoded;
  absl::Status status = DecodeAppendRequest(ToBuffer("\xff\xff\xff\xff"), decoded);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "request is not a valid innsyn.v1.AppendRequest");
}

}  // namespace
}  // namespace innsyn::daemon
