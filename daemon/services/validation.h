// Validation of incoming access events, done by the ingest handler before
// anything is written. The ledger keeps every entry forever and hashes its
// exact bytes, so a bad event can never be corrected later: it must be
// refused here, with a message that tells the client which event and which
// field to fix.
//
// Errors are InvalidArgument, prefixed with the event, for example
//   events[3] (event_id "e-17"): actor.id is required
// Messages quote the client-chosen event_id and attribute keys (escaped and
// shortened) but never the contents of personal fields (subject and actor
// ids, names, free text, network address), since they end up in logs.
//
// All functions are pure and thread-safe.
#ifndef INNSYN_DAEMON_SERVICES_VALIDATION_H_
#define INNSYN_DAEMON_SERVICES_VALIDATION_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "innsyn/v1/event.pb.h"
#include "innsyn/v1/service.pb.h"

namespace innsyn::daemon {

// Limits. Sizes are in bytes of UTF-8.
inline constexpr size_t kMaxEventsPerRequest = 10000;
// event_id, source.system/instance, actor.id, actor.hpr_number, subject.id,
// data_object.id, recipient.id.
inline constexpr size_t kMaxIdBytes = 256;
// Names, roles, organisation, descriptions, legal basis, workstation, user agent.
inline constexpr size_t kMaxTextBytes = 1024;
// The free-text reason (for example a break-the-glass justification).
inline constexpr size_t kMaxReasonBytes = 4096;
inline constexpr size_t kMaxAttributes = 32;
inline constexpr size_t kMaxAttributeKeyBytes = 64;
inline constexpr size_t kMaxAttributeValueBytes = 1024;
// Longest textual IPv6 address, with an embedded IPv4 address
// (INET6_ADDRSTRLEN less its terminating NUL).
inline constexpr size_t kMaxNetworkAddressBytes = 45;
// How far occurred_at may lie ahead of the daemon's clock: client clocks drift.
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);

// Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool IsValidUtf8(std::string_view text);

// Checks one event against `now` (the daemon's clock). On failure the
// message starts with `event (event_id "...")`.
absl::Status ValidateEvent(const innsyn::v1::AccessEvent& event, absl::Time now);

// Checks a whole request: at least one and at most kMaxEventsPerRequest
// events, each valid, and no two events with the same (source, event_id) but
// different contents (identical repeats are harmless retries, deduplicated
// by the ledger). Returns the first problem found, in request order; the
// caller then writes nothing of the request.
absl::Status ValidateAppendRequest(const innsyn::v1::AppendRequest& request, absl::Time now);
// The same for the events of any request (an import's).
using AccessEvents = google::protobuf::RepeatedPtrField<innsyn::v1::AccessEvent>;
absl::Status ValidateEvents(const AccessEvents& events, absl::Time now);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_VALIDATION_H_
