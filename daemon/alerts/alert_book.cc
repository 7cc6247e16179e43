#include "daemon/alerts/alert_book.h"

#include <algorithm>

#include "base/proto_time.h"

namespace innsyn::daemon {
namespace {

bool Matches(const AlertFilter& filter, const v1::AlertView& view) {
  const v1::Alert& alert = view.alert();
  if (!filter.states.empty() &&
      std::find(filter.states.begin(), filter.states.end(), view.state()) == filter.states.end()) {
    return false;
  }
  if (!filter.rule.empty() && alert.rule() != filter.rule) return false;
  if (!filter.actor_id.empty() && alert.actor_id() != filter.actor_id) return false;
  if (!filter.subject_id.empty() && alert.subject_id() != filter.subject_id) return false;
  const absl::Time occurred = FromProto(alert.occurred_at());
  if (filter.from && occurred < *filter.from) return false;
  if (filter.to && occurred >= *filter.to) return false;
  return true;
}

}  // namespace

v1::AlertState IncidentState(const std::vector<v1::AlertState>& states) {
  for (v1::AlertState state :
       {v1::ALERT_STATE_OPEN, v1::ALERT_STATE_ACKNOWLEDGED, v1::ALERT_STATE_RESOLVED_VIOLATION,
        v1::ALERT_STATE_RESOLVED_JUSTIFIED}) {
    if (std::find(states.begin(), states.end(), state) != states.end()) return state;
  }
  return states.empty() ? v1::ALERT_STATE_UNSPECIFIED : v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE;
}

bool IsResolved(v1::AlertState state) {
  return state == v1::ALERT_STATE_RESOLVED_JUSTIFIED ||
         state == v1::ALERT_STATE_RESOLVED_VIOLATION ||
         state == v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE;
}

std::string_view AlertStateName(v1::AlertState state) {
  switch (state) {
    case v1::ALERT_STATE_OPEN: return "open";
    case v1::ALERT_STATE_ACKNOWLEDGED: return "acknowledged";
    case v1::ALERT_STATE_RESOLVED_JUSTIFIED: return "justified";
    case v1::ALERT_STATE_RESOLVED_VIOLATION: return "violation";
    case v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE: return "false_positive";
    default: return "unspecified";
  }
}

std::string_view SeverityName(v1::AlertSeverity severity) {
  switch (severity) {
    case v1::ALERT_SEVERITY_LOW: return "low";
    case v1::ALERT_SEVERITY_MEDIUM: return "medium";
    case v1::ALERT_SEVERITY_HIGH: return "high";
    case v1::ALERT_SEVERITY_CRITICAL: return "critical";
    default: return "unspecified";
  }
}

bool AlertBook::Apply(uint64_t seq, const v1::LedgerEntry& entry) {
  absl::MutexLock lock(&mu_);
  if (seq < applied_size_) return false;  // read again by a replay
  applied_size_ = seq + 1;
  if (entry.has_alert()) {
    if (by_id_.contains(entry.alert().alert_id())) return false;  // a repeat changes nothing
    Record record;
    *record.view.mutable_alert() = entry.alert();
    record.view.set_seq(seq);
    *record.view.mutable_raised_at() = entry.committed_at();
    record.view.set_state(v1::ALERT_STATE_OPEN);
    by_id_[entry.alert().alert_id()] = alerts_.size();
    updates_.emplace_back(seq, alerts_.size());
    alerts_.push_back(std::move(record));
    return true;
  }
  if (!entry.has_alert_decision()) return false;
  const v1::AlertDecision& decision = entry.alert_decision();
  auto found = by_id_.find(decision.alert_id());
  if (found == by_id_.end()) return false;
  v1::AlertView& view = alerts_[found->second].view;
  v1::AlertDecisionRecord* record = view.add_decisions();
  record->set_seq(seq);
  *record->mutable_committed_at() = entry.committed_at();
  *record->mutable_decision() = decision;
  const bool reopens = IsResolved(view.state()) && !IsResolved(decision.state());
  if (!reopens) {
    view.set_state(decision.state());
    if (decision.has_notify_authority_by()) {
      *view.mutable_notify_authority_by() = decision.notify_authority_by();
    }
  }
  updates_.emplace_back(seq, found->second);
  return true;
}

void AlertBook::AppliedThrough(uint64_t size) {
  absl::MutexLock lock(&mu_);
  applied_size_ = std::max(applied_size_, size);
}

bool AlertBook::WaitApplied(uint64_t size, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto applied = [this, size]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return applied_size_ >= size; };
  return mu_.AwaitWithTimeout(absl::Condition(&applied), timeout);
}

const AlertBook::Record* AlertBook::FindLocked(const std::string& alert_id) const {
  auto found = by_id_.find(alert_id);
  return found == by_id_.end() ? nullptr : &alerts_[found->second];
}

std::optional<v1::AlertView> AlertBook::Find(const std::string& alert_id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Record* record = FindLocked(alert_id);
  if (record == nullptr) return std::nullopt;
  return record->view;
}

std::vector<std::string> AlertBook::AlertIds() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> ids;
  ids.reserve(alerts_.size());
  for (const Record& record : alerts_) ids.push_back(record.view.alert().alert_id());
  return ids;
}

std::optional<uint64_t> AlertBook::SeqOf(const std::string& alert_id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Record* record = FindLocked(alert_id);
  if (record == nullptr) return std::nullopt;
  return record->view.seq();
}

std::vector<v1::AlertView> AlertBook::List(const AlertFilter& filter, uint64_t after_seq,
                                           size_t limit, bool& more) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::AlertView> views;
  more = false;
  auto first = std::upper_bound(alerts_.begin(), alerts_.end(), after_seq,
                                [](uint64_t seq, const Record& r) { return seq < r.view.seq(); });
  for (auto it = first; it != alerts_.end(); ++it) {
    if (!Matches(filter, it->view)) continue;
    if (views.size() == limit) {
      more = true;
      break;
    }
    views.push_back(it->view);
  }
  return views;
}

void AlertBook::SetIncidentTimeZone(absl::TimeZone zone) {
  absl::MutexLock lock(&mu_);
  incident_zone_ = zone;
}

std::vector<v1::Incident> AlertBook::ListIncidents(const AlertFilter& filter, uint64_t after_seq,
                                                   size_t limit, bool& more) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const v1::AlertView*> views;
  std::vector<const v1::Alert*> alerts;
  for (const Record& record : alerts_) {
    if (!Matches(filter, record.view)) continue;
    views.push_back(&record.view);
    alerts.push_back(&record.view.alert());
  }
  std::vector<v1::Incident> incidents;
  more = false;
  for (const anomaly::Incident& group : anomaly::GroupIntoIncidents(alerts, incident_zone_)) {
    if (views[group.alerts.front()]->seq() <= after_seq) continue;
    if (incidents.size() == limit) {
      more = true;
      break;
    }
    v1::Incident& incident = incidents.emplace_back();
    incident.set_incident_id(group.incident_id);
    incident.set_rule(group.rule);
    incident.set_actor_id(group.actor_id);
    incident.set_local_date(group.local_date);
    incident.set_severity(group.severity);
    for (const std::string& subject : group.subject_ids) incident.add_subject_ids(subject);
    std::vector<v1::AlertState> states;
    for (size_t i : group.alerts) {
      *incident.add_alerts() = *views[i];
      states.push_back(views[i]->state());
    }
    incident.set_state(IncidentState(states));
  }
  return incidents;
}

std::vector<v1::AlertUpdate> AlertBook::UpdatesAfter(uint64_t after_seq, size_t limit) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::AlertUpdate> updates;
  auto first = std::upper_bound(
      updates_.begin(), updates_.end(), after_seq,
      [](uint64_t seq, const std::pair<uint64_t, size_t>& u) { return seq < u.first; });
  for (auto it = first; it != updates_.end() && updates.size() < limit; ++it) {
    v1::AlertUpdate& update = updates.emplace_back();
    update.set_seq(it->first);
    *update.mutable_alert() = alerts_[it->second].view;
  }
  return updates;
}

bool AlertBook::WaitForUpdatesAfter(uint64_t after_seq, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto newer = [this, after_seq]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !updates_.empty() && updates_.back().first > after_seq;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&newer), timeout);
}

uint64_t AlertBook::LatestUpdateSeq() const {
  absl::ReaderMutexLock lock(&mu_);
  return updates_.empty() ? 0 : updates_.back().first;
}

std::map<std::pair<std::string, std::string>, uint64_t> AlertBook::UnresolvedCounts() const {
  absl::ReaderMutexLock lock(&mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> counts;
  for (const Record& record : alerts_) {
    if (IsResolved(record.view.state())) continue;
    ++counts[{record.view.alert().rule(),
              std::string(SeverityName(record.view.alert().severity()))}];
  }
  return counts;
}

size_t AlertBook::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return alerts_.size();
}

}  // namespace innsyn::daemon
