// innsynd's settings: defaults here, filled from the TOML config file and
// then the command-line flags (flags win) by ParseDaemonOptions, in one place.
#ifndef INNSYN_DAEMON_OPTIONS_H_
#define INNSYN_DAEMON_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "anomaly/detection_options.h"
#include "daemon/auth/call_gate.h"
#include "daemon/auth/roles.h"
#include "report/answer.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

struct DaemonOptions {
  // gRPC listen address. Loopback by default: without TLS innsynd must not
  // be reachable from the network.
  std::string listen = "127.0.0.1:50051";
  // mTLS. With the server's certificate, its key and the CA set, gRPC is
  // served over TLS only, every client must present a certificate signed by
  // that CA, and the listen address may be any. Without them innsynd is in
  // development mode: plaintext, loopback only, every caller may call
  // everything. `tls_crl_file`, if set, is a CRL of that CA: the client
  // certificates it lists are refused.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  std::string tls_crl_file;
  // Which methods each certificate role may call.
  RolePermissions roles = DefaultRolePermissions();
  // Rate limits, streams per client and the longest call.
  CallLimits limits;
  // HTTP listener (daemon/http: JSON append, FHIR AuditEvent, /healthz and
  // /readyz); empty: none. It uses the same TLS files and roles as gRPC,
  // and without them must be a loopback address too. Its bodies are limited
  // to max_message_bytes (413 beyond); a client silent for
  // http_read_timeout is disconnected; http_threads serve connections.
  std::string http_listen;
  absl::Duration http_read_timeout = absl::Seconds(10);
  int http_threads = 32;
  // The privacy officer's console (daemon/console); empty: none. HTTPS with
  // tls_cert_file and tls_key_file when TLS is set (no client certificate:
  // people sign in with an account from console_users_file), else
  // plaintext on a loopback address only. Empty console_users_file:
  // console-users.toml in data_dir. A session ends after
  // console_idle_timeout without a request.
  std::string console_listen;
  std::string console_users_file;
  absl::Duration console_idle_timeout = absl::Minutes(15);
  // Prometheus /metrics address; empty disables the endpoint.
  std::string metrics_listen = "127.0.0.1:9464";
  // RocksDB files and keys.
  std::string data_dir = "./innsyn-data";
  // Checkpoint origin line and key name; a clinic sets its own.
  std::string origin = "innsyn.local/ledger";
  // If set, innsynd writes "<grpc port>\n<metrics port>\n<http port>\n
  // <console port>\n" here once serving (for tests and scripts that listen
  // on port 0; the HTTP and console ports are 0 without their listeners).
  std::string port_file;
  // Most events per group commit (one RocksDB batch, one fsync).
  size_t max_group_events = 8192;
  // Back-pressure: events and bytes that may wait for the group-commit
  // writer; beyond them appends fail at once with RESOURCE_EXHAUSTED.
  size_t max_queued_events = 100000;
  size_t max_queued_bytes = 64 << 20;
  // How often a new checkpoint is signed and stored while entries arrive.
  absl::Duration checkpoint_interval = absl::Seconds(10);
  // Self-verification: incremental passes (entries since the last pass) and
  // full passes (everything, indexes too; also one at start).
  absl::Duration verify_interval = absl::Seconds(60);
  absl::Duration full_verify_interval = absl::Hours(24);
  // Where `innsynctl backup` has innsynd write backups; empty: backups are
  // refused. Keep it off the data folder's disk. backup_keep: how many of
  // the newest to keep (0: all).
  std::string backup_dir;
  uint32_t backup_keep = 0;
  // When innsynd stops, how long calls in flight may take to finish before
  // they are cancelled (what they appended is durable or failed either
  // way). Keep it well under systemd's TimeoutStopSec (60 s).
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Largest gRPC message accepted, and largest request metadata.
  int max_message_bytes = 16 << 20;
  int max_metadata_bytes = 16 << 10;
  // The anomaly detectors: rules, opening hours, roster (the [detection]
  // table). A reload applies them, replaying the ledger's recent window.
  anomaly::DetectionOptions detection;
  // The key-encryption key that wraps the data keys (see the README's
  // "Forgetting"). Empty: the systemd credential "innsyn-kek" when innsynd
  // runs with LoadCredential=, else data.kek in the data folder.
  std::string kek_file;
  // How long each key-store backup is kept: a shredded key has left every
  // backup this many days after the shred.
  int key_backup_keep_days = 35;
  // The [retention] table: years after the end of the calendar year an
  // entry's data key covers, by default and by class (data-object type,
  // "query", "alert"). The daily job shreds what has expired.
  storage::RetentionPolicy retention;
  absl::Duration retention_interval = absl::Hours(24);
  // The [report] table: the controller named in innsyn reports, and
  // whether staff are shown by name or by role.
  report::ReportSettings report;

  bool mtls() const { return !tls_cert_file.empty(); }
};

// Parses flags, applying the TOML file given by --config under them.
// Returns InvalidArgument naming the setting on bad input (an unknown key, a
// wrong type, a config file that cannot be read). `help_shown` is set when
// the flags asked only for --help, which has then been printed.
absl::StatusOr<DaemonOptions> ParseDaemonOptions(int argc, char** argv, bool& help_shown);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_OPTIONS_H_
