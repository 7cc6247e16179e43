// The flags of `innsynctl append` that describe one access event, and their
// conversion to a v1::AccessEvent. Only the shape of each value is checked
// here (a known enum label, a time, key=value); whether the event as a
// whole is acceptable is the server's call, so the rules live in one place.
#ifndef INNSYN_CTL_EVENT_FLAGS_H_
#define INNSYN_CTL_EVENT_FLAGS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::ctl {

struct EventFlags {
  std::string event_id;  // empty: a new random id
  std::string source;    // "system/instance" or "system"
  uint64_t source_seq = 0;
  std::string occurred_at;  // empty: now
  std::string actor_id, actor_name, actor_role, hpr, org;
  std::string subject_id, subject_kind;
  std::string action, subtype;
  std::string object_type, object_id;
  std::string purpose, legal_basis;
  std::string outcome = "success";
  std::string network_address, workstation, user_agent;
  std::string recipient_id, recipient_name;
  std::string reason_text;
  std::vector<std::string> attributes;  // "key=value"
};

// Registers the event flags on `group`, with their choices in the help.
void AddEventFlags(CLI::Option_group& group, EventFlags& flags);

// The flags that a usable event needs but were not given, as "--flag" names.
std::vector<std::string> MissingEventFlags(const EventFlags& flags);

// Builds the event; InvalidArgument names the flag whose value is wrong.
absl::StatusOr<v1::AccessEvent> BuildEvent(const EventFlags& flags);

// A random RFC 4122 version 4 UUID, for events given without --event-id:
// retrying the same command then records a second event, so scripts that
// retry should pass their own id.
std::string NewEventId();

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_EVENT_FLAGS_H_
