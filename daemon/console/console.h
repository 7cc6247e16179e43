// The privacy officer's console: server-rendered HTML pages, served by
// innsynd on its own listener (console_listen), for answering requests for
// innsyn, triaging alerts, the monthly review of staff activity and the
// log's health. No script at all; one stylesheet from innsynd itself.
//
// People sign in with their own account (accounts.h: argon2id password and
// a TOTP code); only the controller and admin roles may, and admin sees the
// health page only. Every page that shows personal data is a call through
// the CallGate as that person (identity "console:<name>", their role) and
// is recorded in the ledger as a query with the reason they gave, exactly
// as the same call over gRPC.
//
// Threads: one accepting thread and a pool of `threads`; Stop (or the
// destructor) joins them. Borrows everything in Services.
#ifndef INNSYN_DAEMON_CONSOLE_CONSOLE_H_
#define INNSYN_DAEMON_CONSOLE_CONSOLE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/server_tls.h"
#include "daemon/services/access_log_service.h"
#include "daemon/services/admin_service.h"
#include "daemon/services/alert_service.h"
#include "daemon/services/report_service.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon::console {

struct ConsoleOptions {
  std::string listen;  // "host:port"; port 0 picks one
  // The server's certificate and key (no client certificate is asked
  // for); no cert_file: plaintext, loopback only (options.cc).
  ServerTlsFiles tls;
  std::string users_file;  // accounts.h
  absl::Duration idle_timeout = absl::Minutes(15);
  absl::Duration session_lifetime = absl::Hours(10);
  std::string time_zone = "Europe/Oslo";  // the times pages show
  int threads = 8;
};

class Console {
 public:
  struct Services {
    CallGate& gate;
    AccessLogService& access_log;
    AlertService& alerts;
    ReportService& reports;
    AdminService& admin;
    storage::Ledger& ledger;            // for the staff review's record
    const exporters::Metrics& metrics;  // the health page's recent runs
  };

  // InvalidArgument if the accounts file cannot be read (naming it).
  static absl::StatusOr<std::unique_ptr<Console>> Start(const ConsoleOptions& options,
                                                        Services services);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  int port() const;
  // Reads the accounts file again; sessions of removed accounts end. On
  // error the accounts stay as they were.
  absl::Status ReloadAccounts();
  void Stop();

 private:
  struct State;
  explicit Console(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace innsyn::daemon::console

#endif  // INNSYN_DAEMON_CONSOLE_CONSOLE_H_
