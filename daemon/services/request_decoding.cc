#include "daemon/services/request_decoding.h"

#include <map>
#include <vector>

#include "base/strings.h"
#include "daemon/services/validation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace innsyn::daemon {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Deeper nesting than the event messages have means the bytes are not ours.
constexpr int kMaxNestingDepth = 16;

std::optional<std::string> Find(std::string_view bytes, const google::protobuf::Descriptor& type,
                                const std::string& path, int depth) {
  if (depth > kMaxNestingDepth) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  std::map<int, int> occurrences;  // field number -> how many seen, for [i]
  while (uint32_t tag = in.ReadTag()) {
    const FieldDescriptor* field = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    bool nested = field != nullptr && (field->type() == FieldDescriptor::TYPE_STRING ||
                                       field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!nested ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    std::string value;
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || !in.ReadString(&value, static_cast<int>(length))) {
      return std::nullopt;
    }
    std::string name = path.empty() ? field->name() : StrCat(path, ".", field->name());
    if (field->is_repeated()) name = StrCat(name, "[", occurrences[field->number()]++, "]");
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(value)) return name;
    } else if (auto found = Find(value, *field->message_type(), name, depth + 1)) {
      return found;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> FindInvalidUtf8Field(std::string_view bytes,
                                                const google::protobuf::Descriptor& type) {
  return Find(bytes, type, "", 0);
}

absl::Status DecodeAppendRequest(const grpc::ByteBuffer& buffer, v1::AppendRequest& request) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return absl::InvalidArgumentError("request is unreadable");
  std::string bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (request.ParseFromString(bytes)) return absl::OkStatus();
  if (std::optional<std::string> field = FindInvalidUtf8Field(bytes, *request.GetDescriptor())) {
    // "events[3].actor.display_name" -> "events[3]: actor.display_name"
    size_t dot = field->find("].");
    if (dot != std::string::npos) field->replace(dot, 2, "]: ");
    return absl::InvalidArgumentError(StrCat(*field, " is not valid UTF-8"));
  }
  return absl::InvalidArgumentError("request is not a valid innsyn.v1.AppendRequest");
}

}  // namespace innsyn::daemon
