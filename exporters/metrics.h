// Prometheus metrics for innsynd, served on /metrics by prometheus-cpp's
// exposer. Metric names follow Prometheus conventions (innsyn_ prefix,
// _total counters, _seconds histograms). Thread-safe: every method may be
// called from any thread.
#ifndef INNSYN_EXPORTERS_METRICS_H_
#define INNSYN_EXPORTERS_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/ledger.h"

namespace innsyn::exporters {

class Metrics {
 public:
  // Serves /metrics on `listen` ("host:port"; port 0 picks one); an empty
  // `listen` keeps the metrics in memory only.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& listen);
  ~Metrics();

  void EventsAppended(std::string_view source, std::string_view action, uint64_t count);
  void EventsRejected(std::string_view reason, uint64_t count);
  // A call refused before it did anything: permission_denied,
  // unauthenticated, rate_limited or too_many_streams.
  void CallRefused(std::string_view reason);
  // An answer of the HTTP listener: its route (never the raw path, which a
  // client chooses) and status code.
  void HttpRequest(std::string_view route, int code);
  void ObserveAppendLatency(absl::Duration latency);
  void ObserveQueryLatency(std::string_view method, absl::Duration latency);
  void SetLedgerSize(uint64_t entries);
  void SetLastCheckpointTime(absl::Time time);

  // Operations. Events refused, by the source and action they named ("" if
  // the request could not say).
  void EventsRejected(std::string_view source, std::string_view action, std::string_view reason,
                      uint64_t count);
  // From the ledger's group-commit observer (the writer thread).
  void ObserveGroupCommit(const storage::GroupCommitStats& stats);
  // A verification pass, `mode` "incremental" or "full", ended at `finished`.
  void VerificationFinished(std::string_view mode, bool ok, absl::Time finished,
                            absl::Duration took, uint64_t entries_checked);
  // How often each mode runs, so that staleness alerts follow the config.
  void SetVerificationInterval(std::string_view mode, absl::Duration interval);
  // The config was loaded (at start, and on each SIGHUP) or refused.
  void ConfigReloaded(bool ok, absl::Time at);
  void BackupFinished(bool ok, absl::Time at, uint64_t bytes);
  // Forgetting: a run of the retention job (keys shredded, entries they
  // sealed), an erasure on order, and the key store's size.
  void RetentionFinished(bool ok, absl::Time at, size_t keys, uint64_t entries);
  void ErasureFinished(bool ok);
  void SetDataKeys(uint64_t live, uint64_t shredded);

  // Anomaly detection. Alerts not yet resolved (open or acknowledged), by
  // rule and severity ("low" ... "critical"); a count that falls to 0 stays
  // exported at 0.
  void SetAlertsOpen(std::string_view rule, std::string_view severity, uint64_t count);
  void AlertRaised(std::string_view rule, std::string_view severity);
  // A triage decision, by the state it set ("acknowledged", "violation", ...).
  void AlertDecided(std::string_view state);
  // `count` more events judged (not replayed) whose actor's role no
  // detection setting names, so that the rules treated them as a
  // clinician's; by that role ("" when neither roster nor event gives one).
  // Roles are the event's own words: past kMaxUnknownRoles of them, the
  // rest are counted under role "other".
  static constexpr size_t kMaxUnknownRoles = 16;
  void UnknownRoleEvents(std::string_view role, uint64_t count);
  // Committed entries the detectors have read, and those still to read.
  // `lag_time`: how long ago the last entry judged was committed, while
  // entries wait; zero once caught up.
  void DetectionProgress(uint64_t observed, uint64_t lag_entries, absl::Duration lag_time);
  // Scrapes read disk use and RocksDB health from `ledger` (not owned) until
  // WatchLedger(nullptr), which must come before the ledger closes.
  void WatchLedger(const storage::Ledger* ledger);
  // The port /metrics listens on, or 0 without an endpoint.
  int port() const;
  // The exposition text, as a scrape would see it.
  std::string Scrape() const;

  // The latest of what was reported here, for the console's health page.
  struct Recent {
    struct Source {
      std::string name;  // the source's metrics label
      absl::Time last_event;
      uint64_t events = 0;  // appended since innsynd started
    };
    std::vector<Source> sources;  // by name
    absl::Time checkpoint = absl::InfinitePast();
    absl::Time verification = absl::InfinitePast();
    std::string verification_result;  // for example "full: ok"
    absl::Time backup = absl::InfinitePast();
    std::string backup_result;
    absl::Time retention = absl::InfinitePast();
    std::string retention_result;
  };
  Recent recent() const;

 private:
  struct State;
  explicit Metrics(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace innsyn::exporters

#endif  // INNSYN_EXPORTERS_METRICS_H_
