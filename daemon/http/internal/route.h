// What the HTTP listener's routes share: the answer a route returns (the
// listener writes it, counts it and adds Retry-After), who the caller is,
// and the Content-Type check. Private to daemon/http.
#ifndef INNSYN_DAEMON_HTTP_INTERNAL_ROUTE_H_
#define INNSYN_DAEMON_HTTP_INTERNAL_ROUTE_H_

#include <httplib.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/auth/call_gate.h"

namespace innsyn::daemon::http {

inline constexpr char kJson[] = "application/json";
inline constexpr char kFhirJson[] = "application/fhir+json";

struct Reply {
  int code = 200;
  std::string content_type = kJson;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// A refusal in the listener's own JSON error body, with the HTTP status
// HttpStatusFor gives unless `http_code` is set.
Reply JsonError(const absl::Status& status, int http_code = 0);

// The caller: from its client certificate with mTLS, else the peer address
// with kLocalRole (loopback development mode), as the gRPC CallGate says.
absl::StatusOr<Caller> CallerOf(const httplib::Request& request, bool mtls);

// OK if the request's Content-Type (parameters aside) is one of `accepted`;
// else InvalidArgument, which the routes answer with 415.
absl::Status CheckContentType(const httplib::Request& request,
                              std::initializer_list<std::string_view> accepted);
inline constexpr int kUnsupportedMediaType = 415;

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_INTERNAL_ROUTE_H_
