// Fuzzes the FHIR AuditEvent mapper: any JSON body either is refused with a
// message naming an element of the AuditEvent, or maps to an AccessEvent
// whose AuditEvent maps back to the same AccessEvent (nothing is lost or
// changed on the way out, as the search answers it).
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/strings/match.h"
#include "daemon/http/fhir_audit_event.h"
#include "daemon/http/json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = innsyn::daemon::http;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<google::protobuf::Value> resource = http::ParseJsonValue(body);
  if (!resource.ok()) return 0;
  absl::StatusOr<innsyn::v1::AccessEvent> event = http::AuditEventToAccessEvent(*resource);
  if (!event.ok()) {
    if (!absl::StartsWith(event.status().message(), "AuditEvent")) std::abort();
    return 0;
  }
  absl::StatusOr<innsyn::v1::AccessEvent> again =
      http::AuditEventToAccessEvent(http::AccessEventToAuditEvent(*event));
  if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(*event, *again)) {
    std::abort();
  }
  return 0;
}
