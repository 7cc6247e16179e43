// innsynctl's JSON ingest path: AccessEvents given one a line in the proto3
// JSON mapping (the form `innsynctl append --json` reads on stdin). The
// whole input is parsed before anything is sent, so that a typo on line 9000
// does not leave 8999 events half-recorded. Pure; thread-safe.
#ifndef INNSYN_CTL_JSON_EVENTS_H_
#define INNSYN_CTL_JSON_EVENTS_H_

#include <istream>
#include <vector>

#include "absl/status/statusor.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::ctl {

// Events read with the line each came from, for error messages.
struct JsonEvents {
  std::vector<v1::AccessEvent> events;
  std::vector<size_t> lines;
};

// Parses every non-blank line; unknown fields are errors (a misspelt field
// would be lost silently). On any bad line returns InvalidArgument listing
// the first few bad lines.
absl::StatusOr<JsonEvents> ReadJsonEvents(std::istream& in);

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_JSON_EVENTS_H_
