// innsynctl: the command-line client of innsynd. Records events, answers
// "who has accessed my data?", and checks the ledger's signed checkpoints,
// proofs and hashes. See `innsynctl --help` and command.h for exit codes.
#include <CLI/CLI.hpp>

#include "base/program.h"
#include "ctl/command.h"

namespace {

void AddGlobalFlags(CLI::App& app, innsyn::ctl::GlobalOptions& global) {
  app.add_option("--server", global.server, "innsynd address HOST:PORT")
      ->envname("INNSYN_SERVER")
      ->capture_default_str();
  app.add_option("--reason", global.reason,
                 "Why you ask; recorded in the ledger with your queries");
  app.add_option("--timeout", global.timeout_seconds, "Deadline of each call, in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--tls-ca", global.tls_ca, "CA certificate (PEM) to check innsynd's against")
      ->envname("INNSYN_TLS_CA");
  app.add_option("--tls-cert", global.tls_cert, "This client's certificate (PEM), for mTLS")
      ->envname("INNSYN_TLS_CERT");
  app.add_option("--tls-key", global.tls_key, "This client's private key (PEM)")
      ->envname("INNSYN_TLS_KEY");
  app.add_option("--acting-for", global.acting_for,
                 "As a portal: the patient it acts for (must be the subject asked about)");
}

}  // namespace

int main(int argc, char** argv) {
  innsyn::StartProgram();
  innsyn::ctl::CommandContext context;
  CLI::App app("innsynctl: client for the innsyn audit-log daemon", "innsynctl");
  // Global flags may also follow the subcommand: `innsynctl history --subject X --reason Y`.
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 a verification or proof failed, 2 usage, input or RPC error.\n"
      "Run `innsynctl COMMAND --help` for a command's flags.");
  AddGlobalFlags(app, context.global);
  innsyn::ctl::AddAppendCommand(app, context);
  innsyn::ctl::AddHistoryCommand(app, context);
  innsyn::ctl::AddActivityCommand(app, context);
  innsyn::ctl::AddCheckpointCommand(app, context);
  innsyn::ctl::AddProveCommand(app, context);
  innsyn::ctl::AddVerifyCommand(app, context);
  innsyn::ctl::AddBackupCommand(app, context);
  innsyn::ctl::AddRestoreCommand(app, context);
  innsyn::ctl::AddPkiCommand(app, context);
  innsyn::ctl::AddAlertsCommand(app, context);
  innsyn::ctl::AddStatusCommand(app, context);
  innsyn::ctl::AddEraseCommand(app, context);
  innsyn::ctl::AddReportCommand(app, context);
  innsyn::ctl::AddVerifyReportCommand(app, context);
  innsyn::ctl::AddVerifySearchCommand(app, context);
  innsyn::ctl::AddForwardCommand(app, context);
  innsyn::ctl::AddConsoleUserCommand(app, context);
  innsyn::ctl::AddEntriesCommand(app, context);
  innsyn::ctl::AddImportCommand(app, context);
  innsyn::ctl::AddRosterCommand(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help is reported as a "success" parse error; any other is usage.
    return app.exit(error) == 0 ? innsyn::ctl::kExitOk : innsyn::ctl::kExitError;
  }
  return context.exit_code;
}
