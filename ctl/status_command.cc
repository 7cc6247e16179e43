// `innsynctl status`: innsynd's state in a few lines: the ledger, its latest
// checkpoint, whether it passed verification or serves reads only after
// failing it, and how far behind anomaly detection is. Exit code 1 when the
// ledger is read-only, so that a cron job or a monitoring check notices.
#include <fmt/format.h>

#include "ctl/client.h"
#include "ctl/command.h"

namespace innsyn::ctl {
namespace {

int RunStatus(const GlobalOptions& global) {
  Client client(global);
  absl::StatusOr<v1::GetStatusResponse> status = client.GetStatus(v1::GetStatusRequest());
  if (!status.ok()) return ReportError(status.status());
  fmt::print("ledger: {} entries; latest signed checkpoint: {}\n", status->ledger_size(),
             status->has_latest_checkpoint()
                 ? fmt::format("tree size {}", status->latest_checkpoint().tree_size())
                 : std::string("none"));
  if (status->read_only()) {
    fmt::print(
        "READ-ONLY: the ledger failed verification{} ({}); innsynd takes no events and signs "
        "nothing until it is restarted on a repaired ledger (see \"When verification fails\" in "
        "the README)\n",
        status->has_damaged_seq() ? fmt::format(" at entry {}", status->damaged_seq()) : "",
        status->problem());
  } else {
    fmt::print("integrity: {}; taking events\n",
               status->verified_at_start()
                   ? "verified at start"
                   : "verification at start still running (nothing new is signed until it passes)");
  }
  if (status->detection_lag_entries() == 0) {
    fmt::print("anomaly detection: caught up\n");
  } else {
    fmt::print("anomaly detection: {} entries behind ({:.1f} s)\n", status->detection_lag_entries(),
               status->detection_lag_seconds());
  }
  return status->read_only() ? kExitFailed : kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command =
      app.add_subcommand("status", "Show innsynd's state: ledger, integrity, detection");
  command->footer("Exit code 1 if the ledger is read-only after failing verification.");
  command->callback([&context] { context.exit_code = RunStatus(context.global); });
}

}  // namespace innsyn::ctl
