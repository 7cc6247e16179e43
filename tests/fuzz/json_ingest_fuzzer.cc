// Fuzzes innsynctl's proto3 JSON ingest path: lines of JSON parsed into
// AccessEvents, then checked by the same validation innsynd applies.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "ctl/json_events.h"
#include "daemon/services/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<innsyn::ctl::JsonEvents> events = innsyn::ctl::ReadJsonEvents(in);
  if (!events.ok()) return 0;
  for (const innsyn::v1::AccessEvent& event : events->events) {
    (void)innsyn::daemon::ValidateEvent(event, absl::FromUnixSeconds(1764000000));
  }
  return 0;
}
