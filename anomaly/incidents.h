// Alerts grouped into incidents, so that the privacy officer triages one
// thing for each piece of behaviour rather than one row for each patient:
// the alerts of one rule about one actor on one local day (in the clinic's
// time zone, Europe/Oslo by default) are one incident, listing the
// patients. An incident is a view computed from the alerts whenever it is
// asked for; the ledger still records every alert and every decision on
// it. An alert about no actor (a silent source, a failed verification) is
// an incident of its own. Pure functions; thread-safe.
#ifndef INNSYN_ANOMALY_INCIDENTS_H_
#define INNSYN_ANOMALY_INCIDENTS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"

namespace innsyn::anomaly {

struct Incident {
  // "<rule>/<actor_id>/<YYYY-MM-DD>"; for an alert about no actor, its
  // alert id.
  std::string incident_id;
  std::string rule;
  std::string actor_id;
  std::string local_date;                // YYYY-MM-DD in the zone
  v1::AlertSeverity severity{};          // the highest of its alerts
  std::vector<std::string> subject_ids;  // each once, in the order of the alerts
  std::vector<size_t> alerts;            // positions in the input, in input order
};

// The incident `alert` belongs to, by id.
std::string IncidentId(const v1::Alert& alert, const absl::TimeZone& zone);

// `alerts` grouped into incidents, in the order of each incident's first
// alert. Every alert is in exactly one incident.
std::vector<Incident> GroupIntoIncidents(absl::Span<const v1::Alert* const> alerts,
                                         const absl::TimeZone& zone);

}  // namespace innsyn::anomaly

#endif  // INNSYN_ANOMALY_INCIDENTS_H_
