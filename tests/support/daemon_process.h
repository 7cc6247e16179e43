// Runs the real innsynd binary as a child process on ephemeral ports, for
// integration tests that talk to it over real sockets.
#ifndef INNSYN_TESTS_SUPPORT_DAEMON_PROCESS_H_
#define INNSYN_TESTS_SUPPORT_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace innsyn::testing {

class DaemonProcess {
 public:
  // Starts `binary` with a data folder and port 0 for gRPC and metrics, plus
  // `extra_args`; returns once it has written its port file (or aborts the
  // test after a timeout). `extra_args` may give --listen: a fixed address
  // for a test that restarts innsynd. Anomaly detection is off unless `extra_args`
  // name --detection: other tests count entries exactly, and alerts would
  // be appended among them.
  DaemonProcess(const std::string& binary, const std::string& data_dir,
                const std::vector<std::string>& extra_args = {});
  // Kills the process if it still runs.
  ~DaemonProcess();

  bool running() const { return pid_ > 0; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // 0 unless `extra_args` gave --http-listen.
  int http_port() const { return http_port_; }
  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  // Sends `signal` and waits; returns the exit status as from waitpid.
  int StopWith(int signal);
  // For signals that do not stop it (SIGHUP).
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int http_port_ = 0;
};

// Runs a command to completion; returns its exit code and what it printed
// on stdout and stderr together.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_DAEMON_PROCESS_H_
