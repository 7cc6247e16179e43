#include "exporters/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "base/strings.h"
#include "exporters/ledger_collector.h"
#include "exporters/process_collector.h"

namespace innsyn::exporters {
namespace {

// Append latency is dominated by the WAL fsync: buckets from 100 us to 10 s.
const prometheus::Histogram::BucketBoundaries kLatencyBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
// Group sizes in entries, powers of four up to the largest default group.
const prometheus::Histogram::BucketBoundaries kGroupEntriesBuckets = {1,   4,    16,   64,
                                                                      256, 1024, 4096, 16384};

double UnixSeconds(absl::Time time) { return absl::ToDoubleSeconds(time - absl::UnixEpoch()); }

prometheus::Family<prometheus::Gauge>& Gauges(prometheus::Registry& registry, const char* name,
                                              const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Counter>& Counters(prometheus::Registry& registry, const char* name,
                                                  const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

}  // namespace

struct Metrics::State {
  mutable absl::Mutex recent_mu;
  Recent recent ABSL_GUARDED_BY(recent_mu);
  std::map<std::string, Recent::Source, std::less<>> sources ABSL_GUARDED_BY(recent_mu);
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  prometheus::Family<prometheus::Counter>& appended =
      prometheus::BuildCounter()
          .Name("innsyn_events_appended_total")
          .Help("Access events durably appended to the ledger, by source and action.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& rejected =
      prometheus::BuildCounter()
          .Name("innsyn_events_rejected_total")
          .Help("Access events refused and not recorded, by reason.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& refused =
      prometheus::BuildCounter()
          .Name("innsyn_calls_refused_total")
          .Help("Calls refused before doing anything, by reason.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& http_requests =
      Counters(*registry, "innsyn_http_requests_total",
               "Requests answered by the HTTP listener, by route and status code.");
  prometheus::Histogram& append_latency =
      prometheus::BuildHistogram()
          .Name("innsyn_append_duration_seconds")
          .Help("Time from receiving an append request to its durable acknowledgement.")
          .Register(*registry)
          .Add({}, kLatencyBucketsSeconds);
  prometheus::Family<prometheus::Histogram>& query_latency =
      prometheus::BuildHistogram()
          .Name("innsyn_query_duration_seconds")
          .Help("Time to answer a query of the ledger, by method.")
          .Register(*registry);
  prometheus::Gauge& ledger_size = prometheus::BuildGauge()
                                       .Name("innsyn_ledger_entries")
                                       .Help("Entries in the ledger (the Merkle tree size).")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Gauge& last_checkpoint =
      prometheus::BuildGauge()
          .Name("innsyn_last_checkpoint_timestamp_seconds")
          .Help("Unix time at which the latest checkpoint was signed.")
          .Register(*registry)
          .Add({});

  // Operations.
  prometheus::Family<prometheus::Gauge>& source_last_event =
      Gauges(*registry, "innsyn_source_last_event_timestamp_seconds",
             "Unix time at which the latest event from each source was appended.");
  prometheus::Histogram& group_entries =
      prometheus::BuildHistogram()
          .Name("innsyn_group_commit_entries")
          .Help("Entries written per group commit (one RocksDB batch, one WAL fsync).")
          .Register(*registry)
          .Add({}, kGroupEntriesBuckets);
  prometheus::Histogram& group_write =
      prometheus::BuildHistogram()
          .Name("innsyn_group_commit_write_duration_seconds")
          .Help("Time to write one group commit's batch, WAL fsync included.")
          .Register(*registry)
          .Add({}, kLatencyBucketsSeconds);
  prometheus::Counter& group_failures =
      Counters(*registry, "innsyn_group_commit_failures_total",
               "Group commits whose write failed; nothing of them was acknowledged.")
          .Add({});
  prometheus::Gauge& queued_events =
      Gauges(*registry, "innsyn_ingest_queue_events",
             "Events and records waiting for the group-commit writer after its latest group.")
          .Add({});
  prometheus::Gauge& queued_bytes =
      Gauges(*registry, "innsyn_ingest_queue_bytes",
             "Bytes of events waiting for the group-commit writer after its latest group.")
          .Add({});
  prometheus::Family<prometheus::Gauge>& verify_last_success =
      Gauges(*registry, "innsyn_verification_last_success_timestamp_seconds",
             "Unix time at which the latest successful self-verification ended, by mode.");
  prometheus::Family<prometheus::Gauge>& verify_failing =
      Gauges(*registry, "innsyn_verification_failing",
             "1 if the latest self-verification of this mode found a problem, else 0.");
  prometheus::Family<prometheus::Counter>& verify_runs =
      Counters(*registry, "innsyn_verification_runs_total", "Self-verification passes, by mode.");
  prometheus::Family<prometheus::Counter>& verify_failures =
      Counters(*registry, "innsyn_verification_failures_total",
               "Self-verification passes that found a problem, by mode.");
  prometheus::Family<prometheus::Gauge>& verify_duration =
      Gauges(*registry, "innsyn_verification_last_duration_seconds",
             "How long the latest self-verification pass took, by mode.");
  prometheus::Family<prometheus::Counter>& verify_entries =
      Counters(*registry, "innsyn_verification_entries_total",
               "Entries recomputed by self-verification, by mode.");
  prometheus::Family<prometheus::Gauge>& verify_interval =
      Gauges(*registry, "innsyn_verification_interval_seconds",
             "Configured time between self-verification passes, by mode.");
  prometheus::Family<prometheus::Counter>& reloads =
      Counters(*registry, "innsyn_config_reloads_total",
               "Configuration loads, at start and on each SIGHUP, by result.");
  prometheus::Gauge& last_reload =
      Gauges(*registry, "innsyn_config_last_reload_success_timestamp_seconds",
             "Unix time of the latest successful configuration load (start or reload).")
          .Add({});
  prometheus::Family<prometheus::Counter>& backups =
      Counters(*registry, "innsyn_backups_total", "Online backups taken, by result.");
  prometheus::Gauge& last_backup =
      Gauges(*registry, "innsyn_backup_last_success_timestamp_seconds",
             "Unix time at which the latest successful backup finished.")
          .Add({});
  prometheus::Gauge& last_backup_bytes =
      Gauges(*registry, "innsyn_backup_last_size_bytes", "Size of the latest successful backup.")
          .Add({});
  prometheus::Family<prometheus::Counter>& retention_runs =
      Counters(*registry, "innsyn_retention_runs_total", "Runs of the retention job, by result.");
  prometheus::Gauge& retention_last_success =
      Gauges(*registry, "innsyn_retention_last_success_timestamp_seconds",
             "Unix time at which the retention job last finished without error.")
          .Add({});
  prometheus::Counter& retention_keys =
      Counters(*registry, "innsyn_retention_keys_shredded_total",
               "Data keys shredded because their retention period had expired.")
          .Add({});
  prometheus::Counter& retention_entries =
      Counters(*registry, "innsyn_retention_entries_erased_total",
               "Entries made unreadable because their retention period had expired.")
          .Add({});
  prometheus::Family<prometheus::Counter>& erasures = Counters(
      *registry, "innsyn_erasures_total", "Erasures on order (innsynctl erase), by result.");
  prometheus::Family<prometheus::Gauge>& data_keys =
      Gauges(*registry, "innsyn_data_keys", "Data keys in the key store, by state.");
  prometheus::Family<prometheus::Gauge>& alerts_open =
      Gauges(*registry, "innsyn_alerts_open",
             "Alerts raised by the anomaly detectors and not yet resolved, by rule and severity.");
  prometheus::Family<prometheus::Counter>& alerts_raised =
      Counters(*registry, "innsyn_alerts_raised_total",
               "Alerts raised by the anomaly detectors, by rule and severity.");
  prometheus::Family<prometheus::Counter>& alert_decisions =
      Counters(*registry, "innsyn_alert_decisions_total",
               "Triage decisions recorded on alerts, by the state they set.");
  prometheus::Family<prometheus::Counter>& unknown_role_events =
      Counters(*registry, "innsyn_detection_unknown_role_events_total",
               "Events judged by the anomaly detectors from actors whose role no detection "
               "setting names (judged by the strictest rule, as a clinician's), by role.");
  std::set<std::string, std::less<>> unknown_roles ABSL_GUARDED_BY(recent_mu);
  prometheus::Counter& detection_entries =
      Counters(*registry, "innsyn_detection_entries_total",
               "Committed ledger entries read by the anomaly detectors.")
          .Add({});
  prometheus::Gauge& detection_lag =
      Gauges(*registry, "innsyn_detection_lag_entries",
             "Committed ledger entries the anomaly detectors have not read yet.")
          .Add({});
  prometheus::Gauge& detection_lag_seconds =
      Gauges(*registry, "innsyn_detection_lag_seconds",
             "While entries wait for the anomaly detectors: how long ago the last entry they "
             "judged was committed; 0 when they have caught up.")
          .Add({});
  std::shared_ptr<LedgerCollector> ledger_collector = std::make_shared<LedgerCollector>();
  std::shared_ptr<ProcessCollector> process_collector = std::make_shared<ProcessCollector>();
};

Metrics::Metrics(std::unique_ptr<State> state) : state_(std::move(state)) {}
Metrics::~Metrics() = default;

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& listen) {
  auto state = std::make_unique<State>();
  if (!listen.empty()) {
    try {
      state->exposer = std::make_unique<prometheus::Exposer>(listen);
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("metrics listener ", listen, ": ", e.what()));
    }
    state->exposer->RegisterCollectable(state->registry);
    state->exposer->RegisterCollectable(state->ledger_collector);
    state->exposer->RegisterCollectable(state->process_collector);
  }
  return std::unique_ptr<Metrics>(new Metrics(std::move(state)));
}

void Metrics::EventsAppended(std::string_view source, std::string_view action, uint64_t count) {
  state_->appended.Add({{"source", std::string(source)}, {"action", std::string(action)}})
      .Increment(static_cast<double>(count));
  const absl::Time now = Now();
  state_->source_last_event.Add({{"source", std::string(source)}}).Set(UnixSeconds(now));
  absl::MutexLock lock(&state_->recent_mu);
  Recent::Source& seen = state_->sources[std::string(source)];
  seen.name = std::string(source);
  seen.last_event = now;
  seen.events += count;
}

void Metrics::EventsRejected(std::string_view reason, uint64_t count) {
  state_->rejected.Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(count));
}

void Metrics::CallRefused(std::string_view reason) {
  state_->refused.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::HttpRequest(std::string_view route, int code) {
  state_->http_requests.Add({{"route", std::string(route)}, {"code", std::to_string(code)}})
      .Increment();
}

void Metrics::ObserveAppendLatency(absl::Duration latency) {
  state_->append_latency.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::ObserveQueryLatency(std::string_view method, absl::Duration latency) {
  state_->query_latency.Add({{"method", std::string(method)}}, kLatencyBucketsSeconds)
      .Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::SetLedgerSize(uint64_t entries) {
  state_->ledger_size.Set(static_cast<double>(entries));
}

void Metrics::SetLastCheckpointTime(absl::Time time) {
  state_->last_checkpoint.Set(absl::ToDoubleSeconds(time - absl::UnixEpoch()));
  absl::MutexLock lock(&state_->recent_mu);
  state_->recent.checkpoint = time;
}

int Metrics::port() const {
  if (!state_->exposer) return 0;
  std::vector<int> ports = state_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void Metrics::EventsRejected(std::string_view source, std::string_view action,
                             std::string_view reason, uint64_t count) {
  state_->rejected
      .Add({{"source", std::string(source)},
            {"action", std::string(action)},
            {"reason", std::string(reason)}})
      .Increment(static_cast<double>(count));
}

void Metrics::ObserveGroupCommit(const storage::GroupCommitStats& stats) {
  state_->queued_events.Set(static_cast<double>(stats.queued_events));
  state_->queued_bytes.Set(static_cast<double>(stats.queued_bytes));
  if (!stats.ok) {
    state_->group_failures.Increment();
    return;
  }
  if (stats.entries > 0) state_->group_entries.Observe(static_cast<double>(stats.entries));
  state_->group_write.Observe(absl::ToDoubleSeconds(stats.write_time));
}

void Metrics::VerificationFinished(std::string_view mode, bool ok, absl::Time finished,
                                   absl::Duration took, uint64_t entries_checked) {
  const prometheus::Labels labels = {{"mode", std::string(mode)}};
  state_->verify_runs.Add(labels).Increment();
  state_->verify_failures.Add(labels);  // present, at 0, from the first run
  state_->verify_duration.Add(labels).Set(absl::ToDoubleSeconds(took));
  state_->verify_entries.Add(labels).Increment(static_cast<double>(entries_checked));
  state_->verify_failing.Add(labels).Set(ok ? 0 : 1);
  if (ok) {
    state_->verify_last_success.Add(labels).Set(UnixSeconds(finished));
  } else {
    state_->verify_failures.Add(labels).Increment();
  }
  absl::MutexLock lock(&state_->recent_mu);
  state_->recent.verification = finished;
  state_->recent.verification_result =
      StrCat(mode, ": ", ok ? "ok" : "FAILED", ", ", entries_checked, " entries");
}

void Metrics::SetVerificationInterval(std::string_view mode, absl::Duration interval) {
  state_->verify_interval.Add({{"mode", std::string(mode)}}).Set(absl::ToDoubleSeconds(interval));
}

void Metrics::ConfigReloaded(bool ok, absl::Time at) {
  state_->reloads.Add({{"result", ok ? "ok" : "failed"}}).Increment();
  if (ok) state_->last_reload.Set(UnixSeconds(at));
}

void Metrics::BackupFinished(bool ok, absl::Time at, uint64_t bytes) {
  state_->backups.Add({{"result", ok ? "ok" : "failed"}}).Increment();
  {
    absl::MutexLock lock(&state_->recent_mu);
    state_->recent.backup = at;
    state_->recent.backup_result = ok ? StrCat("ok, ", bytes, " bytes") : "FAILED";
  }
  if (!ok) return;
  state_->last_backup.Set(UnixSeconds(at));
  state_->last_backup_bytes.Set(static_cast<double>(bytes));
}

void Metrics::RetentionFinished(bool ok, absl::Time at, size_t keys, uint64_t entries) {
  state_->retention_runs.Add({{"result", ok ? "ok" : "failed"}}).Increment();
  state_->retention_keys.Increment(static_cast<double>(keys));
  state_->retention_entries.Increment(static_cast<double>(entries));
  if (ok) state_->retention_last_success.Set(UnixSeconds(at));
  absl::MutexLock lock(&state_->recent_mu);
  state_->recent.retention = at;
  state_->recent.retention_result =
      ok ? StrCat("ok, ", keys, " keys shredded, ", entries, " entries") : "FAILED";
}

Metrics::Recent Metrics::recent() const {
  absl::MutexLock lock(&state_->recent_mu);
  Recent recent = state_->recent;
  for (const auto& [name, source] : state_->sources) recent.sources.push_back(source);
  return recent;
}

void Metrics::ErasureFinished(bool ok) {
  state_->erasures.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::SetDataKeys(uint64_t live, uint64_t shredded) {
  state_->data_keys.Add({{"state", "live"}}).Set(static_cast<double>(live));
  state_->data_keys.Add({{"state", "shredded"}}).Set(static_cast<double>(shredded));
}

void Metrics::SetAlertsOpen(std::string_view rule, std::string_view severity, uint64_t count) {
  state_->alerts_open.Add({{"rule", std::string(rule)}, {"severity", std::string(severity)}})
      .Set(static_cast<double>(count));
}

void Metrics::AlertRaised(std::string_view rule, std::string_view severity) {
  state_->alerts_raised.Add({{"rule", std::string(rule)}, {"severity", std::string(severity)}})
      .Increment();
}

void Metrics::AlertDecided(std::string_view state) {
  state_->alert_decisions.Add({{"state", std::string(state)}}).Increment();
}

void Metrics::UnknownRoleEvents(std::string_view role, uint64_t count) {
  std::string label(role);
  {
    absl::MutexLock lock(&state_->recent_mu);
    if (!state_->unknown_roles.contains(label)) {
      if (state_->unknown_roles.size() < kMaxUnknownRoles) {
        state_->unknown_roles.insert(label);
      } else {
        label = "other";
      }
    }
  }
  state_->unknown_role_events.Add({{"role", label}}).Increment(static_cast<double>(count));
}

void Metrics::DetectionProgress(uint64_t observed, uint64_t lag_entries, absl::Duration lag_time) {
  state_->detection_entries.Increment(static_cast<double>(observed));
  state_->detection_lag.Set(static_cast<double>(lag_entries));
  state_->detection_lag_seconds.Set(absl::ToDoubleSeconds(lag_time));
}

void Metrics::WatchLedger(const storage::Ledger* ledger) {
  state_->ledger_collector->Watch(ledger);
}

std::string Metrics::Scrape() const {
  std::vector<prometheus::MetricFamily> families = state_->registry->Collect();
  for (const prometheus::Collectable* collector :
       {static_cast<const prometheus::Collectable*>(state_->ledger_collector.get()),
        static_cast<const prometheus::Collectable*>(state_->process_collector.get())}) {
    std::vector<prometheus::MetricFamily> more = collector->Collect();
    families.insert(families.end(), more.begin(), more.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace innsyn::exporters
