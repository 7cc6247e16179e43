// The JSON side of innsynd's HTTP listener: requests decoded from the proto3
// JSON mapping (the one `innsynctl append --json` reads: unknown fields are
// errors, since a misspelt field would be lost silently), answers encoded in
// it, and errors as JSON bodies in the shape of Google's HTTP APIs:
//   {"error": {"code": 400, "status": "INVALID_ARGUMENT",
//              "message": "events[3] (event_id \"e-17\"): actor.id is required",
//              "event": 3, "field": "actor.id"}}
// ("event" and "field" when the message names them). No transport here, so
// that the fuzz targets can drive it. Pure; thread-safe.
#ifndef INNSYN_DAEMON_HTTP_JSON_CODEC_H_
#define INNSYN_DAEMON_HTTP_JSON_CODEC_H_

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innsyn/v1/service.pb.h"

namespace innsyn::daemon::http {

// InvalidArgument naming where the JSON went wrong; `message` untouched then
// but for what was parsed before the error.
absl::Status DecodeJson(std::string_view body, google::protobuf::Message& message);
// An AppendRequest, refused whole if any part of it is not the mapping.
absl::Status DecodeAppendRequest(std::string_view body, v1::AppendRequest& request);
// Any JSON document, for the resources (FHIR) that have no proto here.
absl::StatusOr<google::protobuf::Value> ParseJsonValue(std::string_view body);

// The proto3 JSON of `message`, field names in lowerCamelCase.
std::string EncodeJson(const google::protobuf::Message& message);
std::string EncodeJsonValue(const google::protobuf::Value& value);

// The HTTP status for a status code, as Google's HTTP APIs map them
// (INVALID_ARGUMENT 400, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, ...).
int HttpStatusFor(absl::StatusCode code);
// The JSON error body for `status` (not OK); `http_code` if the HTTP status
// is not the one HttpStatusFor gives (415, 413).
std::string ErrorJson(const absl::Status& status, int http_code = 0);

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_JSON_CODEC_H_
