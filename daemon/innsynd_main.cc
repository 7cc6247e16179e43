// innsynd: the innsyn audit-log daemon. Runs until SIGTERM or SIGINT, then
// stops taking calls, finishes those in flight, signs a last checkpoint and
// closes the ledger. SIGHUP re-reads the configuration (the same flags and
// config file) and applies what can change while serving, keeping every
// connection. Under systemd (Type=notify) it reports READY, RELOADING and
// STOPPING, and pings the watchdog while the ledger answers.
#include <signal.h>

#include <cstring>
#include <thread>

#include "base/clock.h"
#include "base/program.h"
#include "daemon/ops/log.h"
#include "daemon/ops/systemd_notify.h"
#include "daemon/options.h"
#include "daemon/server.h"

namespace {

using innsyn::daemon::LogError;
using innsyn::daemon::LogInfo;
using innsyn::daemon::LogNotice;

// Waits for signals until a stop signal; reloads on SIGHUP.
void HandleSignals(const sigset_t& signals, int argc, char** argv, innsyn::daemon::Server& server) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) {
      LogNotice(strsignal(signal), ", shutting down");
      innsyn::daemon::NotifyStopping();
      return;
    }
    innsyn::daemon::NotifyReloading();
    bool help_shown = false;
    absl::StatusOr<innsyn::daemon::DaemonOptions> options =
        innsyn::daemon::ParseDaemonOptions(argc, argv, help_shown);
    if (options.ok()) {
      server.Reload(*options);
    } else {
      server.ReloadFailed(options.status());
    }
    innsyn::daemon::NotifyReady(innsyn::StrCat("serving gRPC on port ", server.grpc_port()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  innsyn::StartProgram();
  // Block the signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  bool help_shown = false;
  absl::StatusOr<innsyn::daemon::DaemonOptions> options =
      innsyn::daemon::ParseDaemonOptions(argc, argv, help_shown);
  if (help_shown) return 0;
  if (!options.ok()) {
    LogError(options.status().message());
    return 2;
  }
  if (std::optional<absl::Duration> offset = innsyn::ClockOffset()) {
    innsyn::daemon::LogWarning("the clock is shifted by ", absl::FormatDuration(*offset), " (",
                               innsyn::kClockOffsetVariable, "): for tests only; it is now ",
                               absl::FormatTime(innsyn::Now()));
  }
  absl::StatusOr<std::unique_ptr<innsyn::daemon::Server>> server =
      innsyn::daemon::Server::Start(*options);
  if (!server.ok()) {
    LogError("cannot start: ", server.status().ToString());
    return 1;
  }
  innsyn::daemon::Server& running = **server;
  LogInfo("serving gRPC on port ", running.grpc_port(), ", metrics on port ",
          running.metrics_port(), ", data in ", options->data_dir);
  {
    innsyn::daemon::Watchdog watchdog([&running] { return running.Healthy(); });
    innsyn::daemon::NotifyReady(innsyn::StrCat("serving gRPC on port ", running.grpc_port()));
    std::thread signal_handler([&] { HandleSignals(signals, argc, argv, running); });
    signal_handler.join();
  }
  running.Shutdown();
  LogInfo("stopped cleanly");
  return 0;
}
