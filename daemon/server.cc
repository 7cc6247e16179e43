#include "daemon/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/alerts/alert_monitor.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/server_tls.h"
#include "daemon/console/console.h"
#include "daemon/http/http_listener.h"
#include "daemon/ops/log.h"
#include "daemon/ops/retention_job.h"
#include "daemon/ops/self_verifier.h"
#include "daemon/services/access_log_service.h"
#include "daemon/services/admin_service.h"
#include "daemon/services/alert_service.h"
#include "daemon/services/event_ingest.h"
#include "daemon/services/ingest_service.h"
#include "daemon/services/report_service.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon {
namespace {

constexpr int kMinPollingThreads = 2;
constexpr int kMaxPollingThreads = 64;
constexpr int kMaxServerThreads = 512;
constexpr size_t kGrpcMemoryBytes = 256 << 20;
// In the data folder: how far anomaly detection has judged the ledger.
constexpr char kDetectionProgressFile[] = "detection-progress";
// The health service's name for the ingest service, NOT_SERVING once the
// ledger is damaged.
constexpr char kIngestServiceName[] = "innsyn.v1.IngestService";
// HTTP/2 streams (calls) one connection may have open at once.
constexpr int kMaxConcurrentStreamsPerConnection = 100;

}  // namespace

struct Server::State {
  DaemonOptions options;
  std::unique_ptr<storage::Ledger> ledger;
  std::unique_ptr<exporters::Metrics> metrics;
  std::unique_ptr<CallGate> gate;
  std::unique_ptr<EventIngest> event_ingest;  // shared by gRPC and HTTP
  std::unique_ptr<IngestService> ingest;
  std::unique_ptr<AccessLogService> access_log;
  std::unique_ptr<ReportService> reports;
  // Anomaly detection. The ledger's group-commit observer wakes the monitor
  // through `commit_signal`, which is cleared before the monitor goes.
  struct CommitSignal {
    absl::Mutex mu;
    AlertMonitor* monitor ABSL_GUARDED_BY(mu) = nullptr;
    void Notify() {
      absl::MutexLock lock(&mu);
      if (monitor != nullptr) monitor->Notify();
    }
    void Set(AlertMonitor* m) {
      absl::MutexLock lock(&mu);
      monitor = m;
    }
  };
  std::shared_ptr<CommitSignal> commit_signal = std::make_shared<CommitSignal>();
  std::unique_ptr<AlertMonitor> alert_monitor;
  std::unique_ptr<AlertService> alerts;
  std::unique_ptr<grpc::Server> server;
  int grpc_port = 0;
  std::unique_ptr<http::HttpListener> http;   // with http_listen
  std::unique_ptr<console::Console> console;  // with console_listen
  absl::Notification stopping;                // Shutdown was called
  absl::Notification stopped;                 // Shutdown has finished
  std::thread checkpointer;                   // signs checkpoints until `stopping`
  std::atomic<bool> ingest_stopped{false};
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
  // Operations: backups, self-verification, and the settings a reload may
  // change (`options` keeps those read at start).
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<SelfVerifier> self_verifier;
  std::unique_ptr<RetentionJob> retention;
  absl::Mutex reload_mu;
  absl::Duration checkpoint_interval ABSL_GUARDED_BY(reload_mu);

  // Closes the ledger while the metrics it reports to still exist, also
  // when Start fails halfway.
  ~State() {
    console.reset();
    http.reset();
    retention.reset();
    self_verifier.reset();
    StopAlertMonitor();
    if (metrics) metrics->WatchLedger(nullptr);
    ledger.reset();
  }

  // Judges what is left, then stops; before the ledger closes.
  void StopAlertMonitor() {
    commit_signal->Set(nullptr);
    alert_monitor.reset();
  }

  absl::Duration CheckpointInterval() {
    absl::MutexLock lock(&reload_mu);
    return checkpoint_interval;
  }

  // The size signed, or nullopt (logged) if signing failed: the next
  // round tries again.
  std::optional<uint64_t> SignCheckpoint() {
    absl::StatusOr<v1::Checkpoint> checkpoint = ledger->Checkpoint();
    if (!checkpoint.ok()) {
      LogError("cannot sign checkpoint: ", checkpoint.status().ToString());
      return std::nullopt;
    }
    metrics->SetLastCheckpointTime(Now());
    metrics->SetLedgerSize(checkpoint->tree_size());
    return checkpoint->tree_size();
  }

  void CheckpointLoop() {
    uint64_t signed_size = 0;
    if (std::optional<v1::Checkpoint> latest = ledger->LatestStoredCheckpoint()) {
      signed_size = latest->tree_size();
    }
    while (!stopping.WaitForNotificationWithTimeout(CheckpointInterval())) {
      const storage::Ledger::Integrity integrity = ledger->GetIntegrity();
      if (integrity.damaged) {
        StopIngest(integrity);
        continue;
      }
      // Until the verification at start has passed there is nothing new
      // to sign; Checkpoint() would wait for it.
      if (!integrity.verified || ledger->Size() == signed_size) continue;
      if (std::optional<uint64_t> size = SignCheckpoint()) signed_size = *size;
    }
  }

  // The ledger is damaged: the ingest service reports NOT_SERVING to load
  // balancers (reads go on), and the log says so, once.
  void StopIngest(const storage::Ledger::Integrity& integrity) {
    if (ingest_stopped.exchange(true)) return;
    server->GetHealthCheckService()->SetServingStatus(kIngestServiceName, false);
    LogError("the ledger failed verification",
             integrity.damaged_seq ? StrCat(" at entry ", *integrity.damaged_seq) : "", " (",
             integrity.problem,
             "): innsynd takes no events and signs no checkpoint; reads go on. See \"When "
             "verification fails\" in the README");
  }
};

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}

namespace {

// The key-encryption key: as configured; else the systemd credential
// innsyn-kek (LoadCredential= or LoadCredentialEncrypted=), which systemd
// puts in $CREDENTIALS_DIRECTORY; else data.kek in the data folder.
std::string KekFile(const DaemonOptions& options) {
  if (!options.kek_file.empty()) return options.kek_file;
  if (const char* credentials = std::getenv("CREDENTIALS_DIRECTORY")) {
    const std::filesystem::path credential = std::filesystem::path(credentials) / "innsyn-kek";
    std::error_code error;
    if (std::filesystem::exists(credential, error)) return credential.string();
  }
  return "";
}

}  // namespace

Server::~Server() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const DaemonOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->checkpoint_interval = options.checkpoint_interval;
  ASSIGN_OR_RETURN(state->metrics, exporters::Metrics::Start(options.metrics_listen));
  state->metrics->ConfigReloaded(true, Now());
  storage::LedgerOptions ledger_options;
  ledger_options.on_group_commit = [m = state->metrics.get(), signal = state->commit_signal](
                                       const storage::GroupCommitStats& stats) {
    m->ObserveGroupCommit(stats);
    if (stats.ok && stats.entries > 0) signal->Notify();
  };
  ledger_options.data_dir = options.data_dir;
  ledger_options.origin = options.origin;
  ledger_options.max_group_events = options.max_group_events;
  ledger_options.max_queued_events = options.max_queued_events;
  ledger_options.max_queued_bytes = options.max_queued_bytes;
  // No signature covers entries the full verification at start has not
  // checked: they may have been changed while innsynd was stopped.
  ledger_options.sign_after_verification = true;
  ledger_options.kek_file = KekFile(options);
  ledger_options.key_backup_keep = absl::Hours(24) * options.key_backup_keep_days;
  ASSIGN_OR_RETURN(state->ledger, storage::Ledger::Open(ledger_options));
  state->metrics->WatchLedger(state->ledger.get());
  state->metrics->SetLedgerSize(state->ledger->Size());
  // Opening signed a checkpoint if the latest one covers every entry;
  // entries beyond it wait for the verification at start.
  if (std::optional<v1::Checkpoint> latest = state->ledger->LatestStoredCheckpoint();
      latest && latest->tree_size() == state->ledger->Size()) {
    state->metrics->SetLastCheckpointTime(Now());
  }

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials({.cert_file = options.tls_cert_file,
                                          .key_file = options.tls_key_file,
                                          .ca_file = options.tls_ca_file,
                                          .crl_file = options.tls_crl_file,
                                          .data_dir = options.data_dir}));
  state->gate = std::make_unique<CallGate>(options.mtls(), options.roles, options.limits,
                                           *state->ledger, *state->metrics);
  state->event_ingest = std::make_unique<EventIngest>(*state->ledger, *state->metrics);
  state->ingest = std::make_unique<IngestService>(*state->event_ingest, *state->gate);
  ASSIGN_OR_RETURN(
      state->alert_monitor,
      AlertMonitor::Start(
          *state->ledger, *state->metrics, options.detection,
          (std::filesystem::path(options.data_dir) / kDetectionProgressFile).string()));
  state->commit_signal->Set(state->alert_monitor.get());
  state->alerts = std::make_unique<AlertService>(*state->ledger, *state->metrics, *state->gate,
                                                 state->alert_monitor->book());
  state->access_log = std::make_unique<AccessLogService>(*state->ledger, *state->metrics,
                                                         *state->gate, state->alert_monitor.get());
  state->reports = std::make_unique<ReportService>(*state->ledger, *state->metrics, *state->gate,
                                                   state->alert_monitor.get(), options.report,
                                                   options.retention);
  state->admin = std::make_unique<AdminService>(*state->ledger, *state->metrics, *state->gate,
                                                state->alert_monitor.get(), options.backup_dir,
                                                options.backup_keep);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &state->grpc_port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, options.max_metadata_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreamsPerConnection);
  // A call on the sync server blocks its thread until it ends (a stream
  // until its last batch is durable); unary Append runs on the callback API
  // and holds no thread while it waits. Keeping enough threads polling
  // avoids creating and destroying a thread per call under concurrent load;
  // the quota bounds them all.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              kMinPollingThreads);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              kMaxPollingThreads);
  grpc::ResourceQuota quota("innsynd");
  quota.SetMaxThreads(kMaxServerThreads);
  // Bytes gRPC may hold in its own buffers (requests arriving, answers
  // leaving), beside the ledger's bounded queue; under pressure it reads
  // less from its connections, so memory stays bounded under any load.
  quota.Resize(kGrpcMemoryBytes);
  builder.SetResourceQuota(quota);
  builder.RegisterService(state->ingest.get());
  builder.RegisterService(state->access_log.get());
  builder.RegisterService(state->reports.get());
  builder.RegisterService(state->admin.get());
  builder.RegisterService(state->alerts.get());
  state->server = builder.BuildAndStart();
  if (!state->server || state->grpc_port == 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", options.listen));
  }
  state->server->GetHealthCheckService()->SetServingStatus(kIngestServiceName, true);
  if (const storage::Ledger::Integrity integrity = state->ledger->GetIntegrity();
      integrity.damaged) {
    state->StopIngest(integrity);  // a damaged entry found while opening
  }
  if (!options.http_listen.empty()) {
    ASSIGN_OR_RETURN(state->http,
                     http::HttpListener::Start(
                         {.listen = options.http_listen,
                          .tls = {.cert_file = options.tls_cert_file,
                                  .key_file = options.tls_key_file,
                                  .ca_file = options.tls_ca_file,
                                  .crl_file = options.tls_crl_file,
                                  .data_dir = options.data_dir},
                          .max_body_bytes = static_cast<size_t>(options.max_message_bytes),
                          .read_timeout = options.http_read_timeout,
                          .threads = options.http_threads},
                         {.ingest = *state->event_ingest,
                          .gate = *state->gate,
                          .metrics = *state->metrics,
                          .access_log = *state->access_log,
                          .ledger = *state->ledger,
                          .ready = [s = state.get()] { return !s->ingest_stopped.load(); }}));
  }
  if (!options.console_listen.empty()) {
    ASSIGN_OR_RETURN(
        state->console,
        console::Console::Start(
            {.listen = options.console_listen,
             .tls = {.cert_file = options.tls_cert_file,
                     .key_file = options.tls_key_file,
                     .ca_file = "",
                     .crl_file = "",
                     .data_dir = options.data_dir},
             .users_file =
                 options.console_users_file.empty()
                     ? (std::filesystem::path(options.data_dir) / "console-users.toml").string()
                     : options.console_users_file,
             .idle_timeout = options.console_idle_timeout,
             .time_zone = options.detection.time_zone},
            {.gate = *state->gate,
             .access_log = *state->access_log,
             .alerts = *state->alerts,
             .reports = *state->reports,
             .admin = *state->admin,
             .ledger = *state->ledger,
             .metrics = *state->metrics}));
  }
  state->checkpointer = std::thread([s = state.get()] { s->CheckpointLoop(); });
  state->self_verifier = std::make_unique<SelfVerifier>(
      *state->ledger, *state->metrics, options.verify_interval, options.full_verify_interval,
      [s = state.get(), monitor = state->alert_monitor.get()](std::string_view mode,
                                                              const storage::VerifyReport& report) {
        s->StopIngest(s->ledger->GetIntegrity());
        monitor->VerificationFailed(std::string(mode), report.first_bad_seq.value_or(0),
                                    report.problem);
      });
  state->retention = std::make_unique<RetentionJob>(*state->ledger, *state->metrics,
                                                    options.retention, options.retention_interval);
  if (!options.port_file.empty()) {
    std::string tmp = options.port_file + ".tmp";
    std::ofstream(tmp) << state->grpc_port << "\n"
                       << state->metrics->port() << "\n"
                       << (state->http ? state->http->port() : 0) << "\n"
                       << (state->console ? state->console->port() : 0) << "\n";
    std::rename(tmp.c_str(), options.port_file.c_str());
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

int Server::grpc_port() const { return state_->grpc_port; }

void Server::Reload(const DaemonOptions& options) {
  const DaemonOptions& running = state_->options;
  // What the listeners, the ledger and the TLS context were built with
  // stays until a restart; say so rather than pretend.
  for (auto [name, changed] :
       {std::pair{"listen", options.listen != running.listen},
        {"metrics_listen", options.metrics_listen != running.metrics_listen},
        {"http_listen", options.http_listen != running.http_listen},
        {"http_read_timeout_seconds", options.http_read_timeout != running.http_read_timeout},
        {"http_threads", options.http_threads != running.http_threads},
        {"console_listen", options.console_listen != running.console_listen},
        {"console_users_file", options.console_users_file != running.console_users_file},
        {"console_idle_minutes", options.console_idle_timeout != running.console_idle_timeout},
        {"data_dir", options.data_dir != running.data_dir},
        {"origin", options.origin != running.origin},
        {"max_group_events", options.max_group_events != running.max_group_events},
        {"max_queued_events", options.max_queued_events != running.max_queued_events},
        {"max_queued_bytes", options.max_queued_bytes != running.max_queued_bytes},
        {"max_message_bytes", options.max_message_bytes != running.max_message_bytes},
        {"max_metadata_bytes", options.max_metadata_bytes != running.max_metadata_bytes},
        {"tls_cert_file", options.tls_cert_file != running.tls_cert_file},
        {"tls_key_file", options.tls_key_file != running.tls_key_file},
        {"tls_ca_file", options.tls_ca_file != running.tls_ca_file},
        {"tls_crl_file", options.tls_crl_file != running.tls_crl_file},
        {"roles", options.roles != running.roles},
        {"limits", !(options.limits == running.limits)}}) {
    if (changed) LogWarning("reload: ", name, " changed; it takes effect when innsynd restarts");
  }
  // The one part that can still refuse (a bad roster file): first, so that
  // a refused reload changes nothing.
  if (absl::Status s = state_->alert_monitor->Reload(options.detection); !s.ok()) {
    ReloadFailed(s);
    return;
  }
  // The console's accounts: a person added or removed takes effect now.
  if (state_->console) {
    if (absl::Status s = state_->console->ReloadAccounts(); !s.ok()) {
      LogWarning("reload: console accounts kept as they were: ", s.message());
    }
  }
  {
    absl::MutexLock lock(&state_->reload_mu);
    state_->checkpoint_interval = options.checkpoint_interval;
  }
  state_->self_verifier->SetIntervals(options.verify_interval, options.full_verify_interval);
  state_->admin->SetBackupSettings(options.backup_dir, options.backup_keep);
  state_->retention->SetPolicy(options.retention, options.retention_interval);
  state_->metrics->ConfigReloaded(true, Now());
  LogInfo("reload: checkpoint every ", absl::FormatDuration(options.checkpoint_interval),
          ", verification every ", absl::FormatDuration(options.verify_interval), " (full every ",
          absl::FormatDuration(options.full_verify_interval), "), backups into ",
          options.backup_dir.empty() ? "(none)" : options.backup_dir);
}

void Server::ReloadFailed(const absl::Status& status) {
  state_->metrics->ConfigReloaded(false, Now());
  LogWarning("reload refused, keeping the running configuration: ", status.message());
}

bool Server::Healthy() const {
  // A read through RocksDB: a wedged database or disk fails or hangs here.
  const uint64_t size = state_->ledger->Size();
  return state_->ledger->RootAt(size).ok();
}
int Server::metrics_port() const { return state_->metrics->port(); }

void Server::Wait() { state_->stopped.WaitForNotification(); }

void Server::Shutdown() {
  absl::MutexLock lock(&state_->shutdown_mu);
  if (state_->shut_down) return;
  state_->shut_down = true;
  state_->stopping.Notify();
  state_->alerts->Stop();  // open watches end now rather than at the deadline
  // New calls are refused; calls in flight get a few seconds to finish.
  // Their appends are durable or failed either way, so cancelling the rest
  // loses nothing acknowledged. Then the connections are closed at once:
  // gRPC would otherwise wait for idle clients to hang up.
  state_->gate->Drain(state_->options.shutdown_grace);
  state_->server->Shutdown(std::chrono::system_clock::now());
  if (state_->http) state_->http->Stop();
  if (state_->console) state_->console->Stop();
  state_->checkpointer.join();
  state_->retention.reset();
  state_->self_verifier.reset();
  state_->StopAlertMonitor();
  state_->metrics->WatchLedger(nullptr);
  state_->ledger.reset();  // signs a last checkpoint as it closes
  state_->stopped.Notify();
}

}  // namespace innsyn::daemon
