// innsynd's wiring: opens the ledger, starts the metrics endpoint and the
// gRPC server (innsyn services, grpc.health.v1, reflection), and signs a
// checkpoint periodically. Start, then Wait from one thread; Shutdown from
// another (a signal handler thread): it stops taking calls, lets calls in
// flight finish, signs a final checkpoint and closes the ledger.
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
