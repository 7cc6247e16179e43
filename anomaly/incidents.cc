#include "anomaly/incidents.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"

namespace innsyn::anomaly {
namespace {

std::string LocalDate(const v1::Alert& alert, const absl::TimeZone& zone) {
  return absl::FormatTime("%Y-%m-%d", FromProto(alert.occurred_at()), zone);
}

}  // namespace

std::string IncidentId(const v1::Alert& alert, const absl::TimeZone& zone) {
  if (alert.actor_id().empty()) return alert.alert_id();
  return absl::StrCat(alert.rule(), "/", alert.actor_id(), "/", LocalDate(alert, zone));
}

std::vector<Incident> GroupIntoIncidents(absl::Span<const v1::Alert* const> alerts,
                                         const absl::TimeZone& zone) {
  std::vector<Incident> incidents;
  absl::flat_hash_map<std::string, size_t> by_id;
  for (size_t i = 0; i < alerts.size(); ++i) {
    const v1::Alert& alert = *alerts[i];
    std::string id = IncidentId(alert, zone);
    auto [found, inserted] = by_id.try_emplace(id, incidents.size());
    if (inserted) {
      Incident& incident = incidents.emplace_back();
      incident.incident_id = std::move(id);
      incident.rule = alert.rule();
      incident.actor_id = alert.actor_id();
      incident.local_date = LocalDate(alert, zone);
      incident.severity = alert.severity();
    }
    Incident& incident = incidents[found->second];
    incident.alerts.push_back(i);
    incident.severity = std::max(incident.severity, alert.severity());
    const std::string& subject = alert.subject_id();
    if (!subject.empty() && std::find(incident.subject_ids.begin(), incident.subject_ids.end(),
                                      subject) == incident.subject_ids.end()) {
      incident.subject_ids.push_back(subject);
    }
  }
  return incidents;
}

}  // namespace innsyn::anomaly
