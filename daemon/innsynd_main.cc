// innsynd: the innsyn audit-log daemon. Runs until SIGTERM or SIGINT, then
// stops taking calls, finishes those in flight, signs a last checkpoint and
// closes the ledger.
#include <signal.h>

#include <iostream>
#include <thread>

#include "daemon/options.h"
#include "daemon/server.h"

int main(int argc, char** argv) {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  bool help_shown = false;
  absl::StatusOr<innsyn::daemon::DaemonOptions> options =
      innsyn::daemon::ParseDaemonOptions(argc, argv, help_shown);
  if (help_shown) return 0;
  if (!options.ok()) {
    std::cerr << "innsynd: " << options.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<innsyn::daemon::Server>> server =
      innsyn::daemon::Server::Start(*options);
  if (!server.ok()) {
    std::cerr << "innsynd: " << server.status() << "\n";
    return 1;
  }
  std::cerr << "innsynd: serving gRPC on port " << (*server)->grpc_port()
            << ", metrics on port " << (*server)->metrics_port() << ", data in "
            << options->data_dir << "\n";
  std::thread signal_waiter([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    std::cerr << "innsynd: " << strsignal(signal) << ", shutting down\n";
    (*server)->Shutdown();
  });
  (*server)->Wait();
  signal_waiter.join();
  std::cerr << "innsynd: stopped cleanly\n";
  return 0;
}
