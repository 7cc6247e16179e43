// innsynd's wiring: opens the ledger, starts the metrics endpoint and the
// gRPC server (innsyn services, grpc.health.v1, reflection), and signs a
// checkpoint periodically. Start, then Wait from one thread; Shutdown from
// another (a signal handler thread): it stops taking calls, lets calls in
// flight finish, signs a final checkpoint and closes the ledger.
//
// Threads. Every long-lived thread innsynd runs, who owns it and how it stops,
// in the order they stop:
//  - main (innsynd_main.cc): parses options, starts the Server, then joins
//    the signal thread and calls Shutdown.
//  - signal thread (innsynd_main.cc): sigwait()s for SIGTERM/SIGINT (returns,
//    so main shuts down) and SIGHUP (reload); owned by main.
//  - watchdog thread (ops/systemd_notify.h, Watchdog): pings systemd while
//    Server::Healthy(); owned by main, joined when main leaves its scope.
//  - gRPC's polling and handler threads: gRPC's own, at most
//    kMaxServerThreads. Shutdown refuses new calls, lets those in flight
//    finish for up to 5 s (CallGate::Drain), then cancels what is left and
//    closes every connection. An AppendStream call also runs one
//    answering thread (services/ingest_service.cc), joined before the call
//    returns.
//  - HTTP listener (http/http_listener.h, with http_listen): its accepting
//    thread and pool of http_threads; stopped after gRPC in Shutdown (the
//    CallGate's drain covers its calls too).
//  - console (console/console.h, with console_listen): its accepting thread
//    and pool; stopped after the HTTP listener in Shutdown.
//  - call deadlines watchdog (auth/call_deadlines.h): cancels calls that
//    outlive the server's limit; joined when the CallGate is destroyed.
//  - checkpointer (State::CheckpointLoop): signs a checkpoint every
//    checkpoint_interval; stops on `stopping`, joined in Shutdown.
//  - self-verifier (ops/self_verifier.h): incremental and full verification
//    on their intervals (a full run scans the indexes on one more thread of
//    its own); cancelled and joined when the SelfVerifier is destroyed.
//  - alert monitor (alerts/alert_monitor.h): runs the detectors over every
//    committed entry, woken by each group commit; judges what is left, then
//    stops when the AlertMonitor is destroyed.
//  - metrics endpoint (exporters/metrics.h): prometheus-cpp's HTTP server
//    threads; stop when Metrics is destroyed, after the ledger closes.
//  - group writer (storage/internal/group_writer.h): the preparing and the
//    committing thread of the group commit; they write what is queued and
//    stop when the Ledger is destroyed, the last step of Shutdown.
//  - RocksDB's flush and compaction threads: RocksDB's own, closed with the
//    Ledger.
#ifndef INNSYN_DAEMON_SERVER_H_
#define INNSYN_DAEMON_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/options.h"

namespace innsyn::daemon {

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const DaemonOptions& options);
  ~Server();

  int grpc_port() const;
  // Applies the settings that can change while serving (intervals, backup
  // folder) without touching connections; logs those that need a restart.
  void Reload(const DaemonOptions& options);
  // A reload whose config could not be read: counted and logged.
  void ReloadFailed(const absl::Status& status);
  // For the systemd watchdog: the ledger still answers reads.
  bool Healthy() const;
  int metrics_port() const;
  // Blocks until Shutdown has finished.
  void Wait();
  void Shutdown();

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVER_H_
