// The alerts the ledger holds and where each stands: every Alert entry and
// every AlertDecision entry, applied in seq order by one writer (the alert
// monitor, as it reads committed entries). Nothing here is the record; the
// ledger is, and the book is rebuilt from it at start. Answers ListAlerts
// (alert by alert, or grouped into incidents by anomaly/incidents.h),
// feeds WatchAlerts, and lets UpdateAlert wait until its decision shows.
// Thread-safe: Apply from one thread, everything else from any.
#ifndef INNSYN_DAEMON_ALERTS_ALERT_BOOK_H_
#define INNSYN_DAEMON_ALERTS_ALERT_BOOK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "anomaly/incidents.h"
#include "innsyn/v1/service.pb.h"

namespace innsyn::daemon {

struct AlertFilter {
  std::vector<v1::AlertState> states;  // empty: any
  std::string rule;
  std::string actor_id;
  std::string subject_id;
  std::optional<absl::Time> from;  // alert occurred_at >= from
  std::optional<absl::Time> to;    // occurred_at < to
};

class AlertBook {
 public:
  // Applies committed entry `seq` if it is an alert or a decision (others
  // are ignored) and was not applied before, and remembers `seq` as
  // applied; true if it changed the book. The ledger's order decides: a
  // decision on an unknown alert changes nothing here, and an
  // acknowledgement after a resolution is listed but does not reopen it.
  bool Apply(uint64_t seq, const v1::LedgerEntry& entry);
  // Every entry below `size` has been applied (entries that are not alerts
  // or decisions included).
  void AppliedThrough(uint64_t size);
  // Waits until entries below `size` are applied, or `timeout`.
  bool WaitApplied(uint64_t size, absl::Duration timeout) const;

  std::optional<v1::AlertView> Find(const std::string& alert_id) const;
  // Alerts matching `filter`, in the order raised, after the alert recorded
  // at `after_seq` (0: from the first); at most `limit`. `more` says whether
  // others follow.
  std::vector<v1::AlertView> List(const AlertFilter& filter, uint64_t after_seq, size_t limit,
                                  bool& more) const;
  // The days of this zone (the detectors') group alerts into incidents;
  // UTC until set.
  void SetIncidentTimeZone(absl::TimeZone zone);
  // The alerts matching `filter`, grouped into incidents, in the order of
  // each incident's first alert: those whose first alert was recorded
  // after `after_seq`; at most `limit`. `more` says whether others follow.
  std::vector<v1::Incident> ListIncidents(const AlertFilter& filter, uint64_t after_seq,
                                          size_t limit, bool& more) const;
  // The changes (alerts raised, decisions) recorded after `after_seq`, in
  // order; at most `limit`.
  std::vector<v1::AlertUpdate> UpdatesAfter(uint64_t after_seq, size_t limit) const;
  // Waits until a change after `after_seq` exists, or `timeout`.
  bool WaitForUpdatesAfter(uint64_t after_seq, absl::Duration timeout) const;
  // The ids of every alert raised, in the order raised.
  std::vector<std::string> AlertIds() const;
  // The seq at which the alert was raised.
  std::optional<uint64_t> SeqOf(const std::string& alert_id) const;
  // The seq of the latest change, 0 if none.
  uint64_t LatestUpdateSeq() const;
  // Open or acknowledged alerts by (rule, severity name).
  std::map<std::pair<std::string, std::string>, uint64_t> UnresolvedCounts() const;
  size_t size() const;

 private:
  struct Record {
    v1::AlertView view;
  };
  const Record* FindLocked(const std::string& alert_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Record> alerts_ ABSL_GUARDED_BY(mu_);  // in seq order
  absl::flat_hash_map<std::string, size_t> by_id_ ABSL_GUARDED_BY(mu_);
  // (seq of the change, index in alerts_), in seq order.
  std::vector<std::pair<uint64_t, size_t>> updates_ ABSL_GUARDED_BY(mu_);
  uint64_t applied_size_ ABSL_GUARDED_BY(mu_) = 0;
  absl::TimeZone incident_zone_ ABSL_GUARDED_BY(mu_) = absl::UTCTimeZone();
};

// Where an incident of alerts in `states` stands (see v1::Incident.state).
v1::AlertState IncidentState(const std::vector<v1::AlertState>& states);
// True for the states that close an alert.
bool IsResolved(v1::AlertState state);
// "open", "acknowledged", "justified", "violation", "false_positive".
std::string_view AlertStateName(v1::AlertState state);
// "low", "medium", "high", "critical".
std::string_view SeverityName(v1::AlertSeverity severity);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_ALERTS_ALERT_BOOK_H_
