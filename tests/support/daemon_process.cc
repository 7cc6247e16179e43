#include "tests/support/daemon_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace innsyn::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

std::vector<char*> ToArgv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& binary, const std::string& data_dir,
                             const std::vector<std::string>& extra_args) {
  std::string port_file = data_dir + ".ports";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {binary,        "--data-dir",  data_dir, "--metrics-listen",
                                   "127.0.0.1:0", "--port-file", port_file};
  // A test that restarts innsynd and needs the same address again gives its own.
  if (std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  if (std::find(extra_args.begin(), extra_args.end(), "--detection") == extra_args.end()) {
    args.insert(args.end(), {"--detection", "false"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv = ToArgv(args);
  pid_ = fork();
  if (pid_ == 0) {
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream ports(port_file);
    if (ports >> grpc_port_ >> metrics_port_ >> http_port_) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "innsynd exited during start with status " << status;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "innsynd did not start within the timeout";
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) StopWith(SIGKILL);
}

int DaemonProcess::StopWith(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

CommandResult RunCommand(const std::vector<std::string>& command, const std::string& input) {
  std::vector<std::string> args = command;
  std::vector<char*> argv = ToArgv(args);
  int to_child[2];
  int from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    dup2(from_child[1], STDERR_FILENO);
    close(to_child[1]);
    close(from_child[0]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  std::thread writer([&] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = write(to_child[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(to_child[1]);
  });
  CommandResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = read(from_child[0], buffer, sizeof(buffer))) > 0) result.output.append(buffer, n);
  close(from_child[0]);
  writer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace innsyn::testing
