#include "daemon/http/json_codec.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>

#include "absl/strings/ascii.h"
#include "base/strings.h"

namespace innsyn::daemon::http {
namespace {

namespace protobuf = google::protobuf;

protobuf::Value StringValue(std::string_view text) {
  protobuf::Value value;
  value.set_string_value(std::string(text));
  return value;
}

protobuf::Value NumberValue(double number) {
  protobuf::Value value;
  value.set_number_value(number);
  return value;
}

// From a validation message ("events[3] (event_id \"e-17\"): actor.id is
// required"): the event's index and the field, when it names them.
void AddEventAndField(std::string_view message, protobuf::Struct& error) {
  constexpr std::string_view kEvents = "events[";
  if (!message.starts_with(kEvents)) return;
  size_t close = message.find(']');
  if (close == std::string_view::npos) return;
  size_t index = 0;
  std::string_view digits = message.substr(kEvents.size(), close - kEvents.size());
  if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) {
    return;
  }
  (*error.mutable_fields())["event"] = NumberValue(static_cast<double>(index));
  size_t colon = message.find(": ", close);
  if (colon == std::string_view::npos) return;
  std::string_view rest = message.substr(colon + 2);
  std::string_view field = rest.substr(0, rest.find(' '));
  auto is_field_char = [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.';
  };
  if (field.empty() || !std::all_of(field.begin(), field.end(), is_field_char)) return;
  (*error.mutable_fields())["field"] = StringValue(field);
}

}  // namespace

absl::Status DecodeJson(std::string_view body, protobuf::Message& message) {
  protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field would be lost silently
  auto status = protobuf::util::JsonStringToMessage(protobuf::StringPiece(body.data(), body.size()),
                                                    &message, options);
  if (status.ok()) return absl::OkStatus();
  std::string reason(status.message());
  return absl::InvalidArgumentError(StrCat("the body is not the JSON of ",
                                           message.GetDescriptor()->full_name(), ": ",
                                           reason.substr(0, reason.find('\n'))));
}

absl::Status DecodeAppendRequest(std::string_view body, v1::AppendRequest& request) {
  return DecodeJson(body, request);
}

absl::StatusOr<protobuf::Value> ParseJsonValue(std::string_view body) {
  protobuf::Value value;
  if (absl::Status s = DecodeJson(body, value); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("the body is not JSON: ", s.message()));
  }
  return value;
}

std::string EncodeJson(const protobuf::Message& message) {
  std::string json;
  // Only a message with an unset required Any could fail; innsyn has none.
  (void)protobuf::util::MessageToJsonString(message, &json);
  return json;
}

std::string EncodeJsonValue(const protobuf::Value& value) { return EncodeJson(value); }

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorJson(const absl::Status& status, int http_code) {
  protobuf::Struct error;
  auto& fields = *error.mutable_fields();
  fields["code"] = NumberValue(http_code != 0 ? http_code : HttpStatusFor(status.code()));
  fields["status"] = StringValue(std::string(absl::StatusCodeToString(status.code())));
  const std::string message(status.message());
  fields["message"] = StringValue(message);
  AddEventAndField(message, error);
  protobuf::Struct body;
  *(*body.mutable_fields())["error"].mutable_struct_value() = std::move(error);
  return EncodeJson(body);
}

}  // namespace innsyn::daemon::http
