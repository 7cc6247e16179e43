// What every innsynctl subcommand shares: the global flags, the exit codes
// scripts rely on, and how an error reaches the user. Each subcommand lives
// in its own *_command.cc and registers itself on the CLI11 app with one of
// the Add*Command functions below; its callback sets `exit_code`.
#ifndef INNSYN_CTL_COMMAND_H_
#define INNSYN_CTL_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace innsyn::ctl {

// Exit codes are part of innsynctl's interface: a cron job that runs
// `innsynctl verify` must tell a broken ledger (1) from a down server (2).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a verification or proof failed
inline constexpr int kExitError = 2;   // bad usage or input, or an RPC error

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";
inline constexpr double kDefaultTimeoutSeconds = 10;

struct GlobalOptions {
  std::string server = kDefaultServer;              // HOST:PORT
  std::string reason;                               // recorded in the ledger with queries
  double timeout_seconds = kDefaultTimeoutSeconds;  // deadline of each call
  // mTLS: the CA that signed innsynd's certificate, and this client's
  // certificate and key. All empty: plaintext (innsynd's development mode).
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // For a portal: the patient it acts for, sent as innsyn-acting-for.
  std::string acting_for;
};

// Filled by CLI11 while parsing; read by the subcommand callbacks, which
// run after all flags (global ones included) are parsed.
struct CommandContext {
  GlobalOptions global;
  int exit_code = kExitOk;
};

// A check that did not pass (a bad signature, a proof that does not
// verify, a damaged ledger), as opposed to an error that kept the check from
// running. Marked with a status payload so it survives being passed up.
absl::Status VerificationFailure(std::string_view what);
bool IsVerificationFailure(const absl::Status& status);

// Reports `status` and returns the exit code for it: a verification failure
// prints "FAILED: <what>" to stdout and returns kExitFailed; anything else
// prints "innsynctl: <CODE>: <message>" to stderr and returns kExitError.
// RPC errors keep their gRPC code, so the code name is the gRPC one.
int ReportError(const absl::Status& status);

// The whole file, byte for byte (a signed note must not gain or lose a
// newline); NotFound naming the path if it cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

void AddAppendCommand(CLI::App& app, CommandContext& context);
void AddHistoryCommand(CLI::App& app, CommandContext& context);
void AddActivityCommand(CLI::App& app, CommandContext& context);
void AddCheckpointCommand(CLI::App& app, CommandContext& context);
void AddProveCommand(CLI::App& app, CommandContext& context);
void AddVerifyCommand(CLI::App& app, CommandContext& context);
void AddBackupCommand(CLI::App& app, CommandContext& context);
void AddRestoreCommand(CLI::App& app, CommandContext& context);
void AddPkiCommand(CLI::App& app, CommandContext& context);
void AddAlertsCommand(CLI::App& app, CommandContext& context);
void AddStatusCommand(CLI::App& app, CommandContext& context);
void AddEraseCommand(CLI::App& app, CommandContext& context);
void AddReportCommand(CLI::App& app, CommandContext& context);
void AddVerifyReportCommand(CLI::App& app, CommandContext& context);
void AddVerifySearchCommand(CLI::App& app, CommandContext& context);
void AddForwardCommand(CLI::App& app, CommandContext& context);
void AddConsoleUserCommand(CLI::App& app, CommandContext& context);
void AddEntriesCommand(CLI::App& app, CommandContext& context);
void AddImportCommand(CLI::App& app, CommandContext& context);
void AddRosterCommand(CLI::App& app, CommandContext& context);

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_COMMAND_H_
