#include "daemon/options.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <limits>

#include "base/status_macros.h"
#include "base/strings.h"
#include "base/toml_file.h"

namespace innsyn::daemon {
namespace {

// Copies `key` from the table into `out` if present; fails if it has the
// wrong type, naming the key.
template <typename T>
absl::Status Read(const toml::table& table, std::string_view key, T& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return absl::OkStatus();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto value = node->value<std::string>()) {
      out = *value;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(StrCat("config: ", key, " must be a string"));
  } else if constexpr (std::is_same_v<T, double>) {
    // Integers are numbers too: `rate_limit_calls_per_second = 50`.
    if (auto value = node->value<double>(); value && *value >= 0) {
      out = *value;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(StrCat("config: ", key, " must be a number, 0 or more"));
  } else {
    if (auto value = node->value<int64_t>();
        value && *value > 0 && static_cast<uint64_t>(*value) <= std::numeric_limits<T>::max()) {
      out = static_cast<T>(*value);
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(StrCat("config: ", key, " must be a positive integer"));
  }
}

// True for addresses only this machine can reach: 127.0.0.0/8, [::1],
// localhost, or a Unix socket.
bool IsLoopbackAddress(std::string_view address) {
  if (address.starts_with("unix:")) return true;
  size_t colon = address.rfind(':');
  std::string_view host = address.substr(0, colon);
  return host.starts_with("127.") || host == "[::1]" || host == "localhost";
}

// The [roles] table: each key a role, each value the list of methods it may
// call, replacing that role's defaults.
absl::Status ReadRoles(const toml::table& table, RolePermissions& roles) {
  const toml::node* node = table.get("roles");
  if (node == nullptr) return absl::OkStatus();
  const toml::table* roles_table = node->as_table();
  if (roles_table == nullptr) return absl::InvalidArgumentError("config: roles must be a table");
  for (const auto& [key, value] : *roles_table) {
    std::string role(key.str());
    if (absl::Status s = CheckRole(role); !s.ok()) {
      return absl::InvalidArgumentError(StrCat("config: roles: ", s.message()));
    }
    const toml::array* methods = value.as_array();
    if (methods == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("config: roles.", role, " must be a list of method names"));
    }
    MethodSet granted;
    for (const toml::node& item : *methods) {
      std::optional<std::string> name = item.value<std::string>();
      std::optional<Method> method = name ? MethodFromName(*name) : std::nullopt;
      if (!method) {
        return absl::InvalidArgumentError(StrCat("config: roles.", role, ": ",
                                                 name ? "\"" + *name + "\"" : "an entry",
                                                 " is not a method name"));
      }
      if (absl::Status s = CheckGrant(role, *method); !s.ok()) {
        return absl::InvalidArgumentError(StrCat("config: roles.", role, ": ", s.message()));
      }
      granted.set(static_cast<size_t>(*method));
    }
    roles[role] = granted;
  }
  return absl::OkStatus();
}

// The [detection] table: the anomaly detectors' settings.
absl::Status ReadDetection(const toml::table& table, anomaly::DetectionOptions& detection) {
  const toml::node* node = table.get("detection");
  if (node == nullptr) return absl::OkStatus();
  const toml::table* detection_table = node->as_table();
  if (detection_table == nullptr) {
    return absl::InvalidArgumentError("config: detection must be a table");
  }
  return anomaly::ReadDetectionOptions(*detection_table, detection);
}

// [retention]: default_years and a table of years by class.
absl::Status ReadRetention(const toml::table& table, storage::RetentionPolicy& policy) {
  const toml::node* node = table.get("retention");
  if (node == nullptr) return absl::OkStatus();
  const toml::table* retention = node->as_table();
  if (retention == nullptr) return absl::InvalidArgumentError("config: retention must be a table");
  auto years = [](const toml::node& value, std::string_view name) -> absl::StatusOr<int> {
    std::optional<int64_t> number = value.value<int64_t>();
    if (!number || *number < 0 || *number > 100) {
      return absl::InvalidArgumentError(
          StrCat("config: retention.", name, " must be a whole number of years from 0 to 100"));
    }
    return static_cast<int>(*number);
  };
  for (const auto& [key, value] : *retention) {
    if (key.str() == "default_years") {
      ASSIGN_OR_RETURN(policy.default_years, years(value, "default_years"));
    } else if (key.str() == "years") {
      const toml::table* by_class = value.as_table();
      if (by_class == nullptr) {
        return absl::InvalidArgumentError("config: retention.years must be a table");
      }
      for (const auto& [name, class_years] : *by_class) {
        if (!storage::IsRetentionClass(name.str())) {
          return absl::InvalidArgumentError(StrCat(
              "config: retention.years.", name.str(),
              " is not a class: use a data-object type (journal_note, image, contact_details, "
              "invoice, referral, appointment, treatment_plan, consent, web_form, account), query "
              "or alert"));
        }
        ASSIGN_OR_RETURN(policy.years_by_class[std::string(name.str())],
                         years(class_years, StrCat("years.", name.str())));
      }
    } else {
      return absl::InvalidArgumentError(
          StrCat("config: retention: unknown setting ", key.str(), " (default_years, years)"));
    }
  }
  return absl::OkStatus();
}

// [report]: the controller's details and how staff are shown.
absl::Status ReadReport(const toml::table& table, report::ReportSettings& settings) {
  const toml::node* node = table.get("report");
  if (node == nullptr) return absl::OkStatus();
  const toml::table* report = node->as_table();
  if (report == nullptr) return absl::InvalidArgumentError("config: report must be a table");
  v1::ReportController& controller = settings.controller;
  const std::vector<std::pair<std::string_view, std::string*>> texts = {
      {"controller_name", controller.mutable_name()},
      {"organisation_number", controller.mutable_organisation_number()},
      {"address", controller.mutable_address()},
      {"contact", controller.mutable_contact()},
      {"data_protection_officer", controller.mutable_data_protection_officer()}};
  for (const auto& [key, value] : *report) {
    const std::string_view name = key.str();  // clang 14 captures no structured binding
    auto text = std::find_if(texts.begin(), texts.end(),
                             [&](const auto& known) { return known.first == name; });
    if (text != texts.end()) {
      std::optional<std::string> read = value.value<std::string>();
      if (!read)
        return absl::InvalidArgumentError(
            StrCat("config: report.", key.str(), " must be a string"));
      *text->second = *read;
    } else if (key.str() == "staff") {
      std::optional<std::string> staff = value.value<std::string>();
      if (!staff || (*staff != "named" && *staff != "role")) {
        return absl::InvalidArgumentError("config: report.staff must be \"named\" or \"role\"");
      }
      settings.staff_by_role = *staff == "role";
    } else {
      return absl::InvalidArgumentError(
          StrCat("config: report: unknown setting ", key.str(),
                 " (controller_name, organisation_number, address, contact, "
                 "data_protection_officer, staff)"));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, DaemonOptions& options) {
  ASSIGN_OR_RETURN(const toml::table table, ParseTomlFile("config", path));
  static const std::vector<std::string_view> kKnownKeys = {"listen",
                                                           "http_listen",
                                                           "http_read_timeout_seconds",
                                                           "http_threads",
                                                           "console_listen",
                                                           "console_users_file",
                                                           "console_idle_minutes",
                                                           "metrics_listen",
                                                           "data_dir",
                                                           "origin",
                                                           "max_group_events",
                                                           "max_queued_events",
                                                           "max_queued_bytes",
                                                           "checkpoint_interval_seconds",
                                                           "verify_interval_seconds",
                                                           "full_verify_interval_seconds",
                                                           "backup_dir",
                                                           "backup_keep",
                                                           "max_message_bytes",
                                                           "max_metadata_bytes",
                                                           "tls_cert_file",
                                                           "tls_key_file",
                                                           "tls_ca_file",
                                                           "tls_crl_file",
                                                           "roles",
                                                           "rate_limit_calls_per_second",
                                                           "rate_limit_burst",
                                                           "max_streams_per_client",
                                                           "max_call_seconds",
                                                           "max_stream_seconds",
                                                           "shutdown_grace_seconds",
                                                           "detection",
                                                           "kek_file",
                                                           "key_backup_keep_days",
                                                           "retention",
                                                           "report"};
  for (const auto& [key, value] : table) {
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key.str()) == kKnownKeys.end()) {
      return absl::InvalidArgumentError(StrCat("config ", path, ": unknown setting ", key.str()));
    }
  }
  int64_t checkpoint_seconds = absl::ToInt64Seconds(options.checkpoint_interval);
  int64_t verify_seconds = absl::ToInt64Seconds(options.verify_interval);
  int64_t full_verify_seconds = absl::ToInt64Seconds(options.full_verify_interval);
  int64_t call_seconds = absl::ToInt64Seconds(options.limits.max_call_duration);
  int64_t stream_seconds = absl::ToInt64Seconds(options.limits.max_stream_duration);
  int64_t grace_seconds = absl::ToInt64Seconds(options.shutdown_grace);
  int64_t http_read_seconds = absl::ToInt64Seconds(options.http_read_timeout);
  int64_t console_idle_minutes = absl::ToInt64Minutes(options.console_idle_timeout);
  for (absl::Status s :
       {Read(table, "listen", options.listen),
        Read(table, "http_listen", options.http_listen),
        Read(table, "http_read_timeout_seconds", http_read_seconds),
        Read(table, "http_threads", options.http_threads),
        Read(table, "console_listen", options.console_listen),
        Read(table, "console_users_file", options.console_users_file),
        Read(table, "console_idle_minutes", console_idle_minutes),
        Read(table, "tls_cert_file", options.tls_cert_file),
        Read(table, "tls_key_file", options.tls_key_file),
        Read(table, "tls_ca_file", options.tls_ca_file),
        Read(table, "tls_crl_file", options.tls_crl_file),
        ReadRoles(table, options.roles),
        ReadDetection(table, options.detection),
        ReadRetention(table, options.retention),
        ReadReport(table, options.report),
        Read(table, "kek_file", options.kek_file),
        Read(table, "key_backup_keep_days", options.key_backup_keep_days),
        Read(table, "rate_limit_calls_per_second", options.limits.calls_per_second),
        Read(table, "rate_limit_burst", options.limits.burst),
        Read(table, "max_streams_per_client", options.limits.max_streams_per_client),
        Read(table, "max_call_seconds", call_seconds),
        Read(table, "max_stream_seconds", stream_seconds),
        Read(table, "shutdown_grace_seconds", grace_seconds),
        Read(table, "max_metadata_bytes", options.max_metadata_bytes),
        Read(table, "metrics_listen", options.metrics_listen),
        Read(table, "data_dir", options.data_dir),
        Read(table, "origin", options.origin),
        Read(table, "max_group_events", options.max_group_events),
        Read(table, "max_queued_events", options.max_queued_events),
        Read(table, "max_queued_bytes", options.max_queued_bytes),
        Read(table, "checkpoint_interval_seconds", checkpoint_seconds),
        Read(table, "verify_interval_seconds", verify_seconds),
        Read(table, "full_verify_interval_seconds", full_verify_seconds),
        Read(table, "backup_dir", options.backup_dir),
        Read(table, "backup_keep", options.backup_keep),
        Read(table, "max_message_bytes", options.max_message_bytes)}) {
    if (!s.ok()) return s;
  }
  options.checkpoint_interval = absl::Seconds(checkpoint_seconds);
  options.verify_interval = absl::Seconds(verify_seconds);
  options.full_verify_interval = absl::Seconds(full_verify_seconds);
  options.limits.max_call_duration = absl::Seconds(call_seconds);
  options.limits.max_stream_duration = absl::Seconds(stream_seconds);
  options.shutdown_grace = absl::Seconds(grace_seconds);
  options.http_read_timeout = absl::Seconds(http_read_seconds);
  if (console_idle_minutes <= 0) {
    return absl::InvalidArgumentError("console_idle_minutes must be at least 1");
  }
  options.console_idle_timeout = absl::Minutes(console_idle_minutes);
  return absl::OkStatus();
}

// With TLS all three files are needed; without, the listener stays on
// this machine.
absl::Status CheckTransport(const DaemonOptions& options) {
  const bool any_tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty() ||
                       !options.tls_ca_file.empty() || !options.tls_crl_file.empty();
  if (any_tls) {
    for (auto [key, value] : {std::pair{"tls_cert_file", &options.tls_cert_file},
                              {"tls_key_file", &options.tls_key_file},
                              {"tls_ca_file", &options.tls_ca_file}}) {
      if (value->empty()) {
        return absl::InvalidArgumentError(
            StrCat(key,
                   " is required with TLS (tls_cert_file, tls_key_file and tls_ca_file "
                   "go together)"));
      }
    }
    return absl::OkStatus();
  }
  // Without TLS and client certificates anyone who can connect could read
  // every patient's history: plaintext stays on this machine.
  if (!IsLoopbackAddress(options.listen)) {
    return absl::InvalidArgumentError(
        StrCat("listen ", options.listen,
               " is not a loopback address; without tls_cert_file, tls_key_file and "
               "tls_ca_file innsynd serves plaintext gRPC, which must not be reachable from "
               "the network"));
  }
  if (!options.http_listen.empty() && !IsLoopbackAddress(options.http_listen)) {
    return absl::InvalidArgumentError(
        StrCat("http_listen ", options.http_listen,
               " is not a loopback address; without tls_cert_file, tls_key_file and "
               "tls_ca_file innsynd serves plaintext HTTP, which must not be reachable from "
               "the network"));
  }
  if (!options.console_listen.empty() && !IsLoopbackAddress(options.console_listen)) {
    return absl::InvalidArgumentError(
        StrCat("console_listen ", options.console_listen,
               " is not a loopback address; without tls_cert_file and tls_key_file the console "
               "is plaintext HTTP, and passwords must not cross the network in the clear"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DaemonOptions> ParseDaemonOptions(int argc, char** argv, bool& help_shown) {
  help_shown = false;
  DaemonOptions options;
  CLI::App app{"innsynd: the innsyn audit-log daemon"};
  std::string config_path;
  app.add_option("--config", config_path,
                 "TOML config file (for example /etc/innsyn/innsynd.toml)");
  // Flags are stored aside, the config file applied, and then the flags
  // given on the command line applied over it.
  std::string listen, http_listen, console_listen, metrics_listen, data_dir, origin, port_file;
  std::string tls_cert, tls_key, tls_ca, tls_crl;
  size_t max_group_events = 0;
  int64_t checkpoint_seconds = 0, call_seconds = 0, stream_seconds = 0;
  double calls_per_second = 0, burst = 0;
  app.add_option("--listen", listen, StrCat("gRPC address (default ", options.listen, ")"));
  app.add_option("--http-listen", http_listen,
                 "HTTP/JSON and FHIR address, \"\" for none (default none)");
  app.add_option("--console-listen", console_listen,
                 "the privacy officer's console address, \"\" for none (default none)");
  app.add_option("--metrics-listen", metrics_listen,
                 StrCat("Prometheus /metrics address, \"\" to disable (default ",
                        options.metrics_listen, ")"));
  app.add_option("--data-dir", data_dir, StrCat("data folder (default ", options.data_dir, ")"));
  app.add_option("--origin", origin, "checkpoint origin and key name");
  app.add_option("--port-file", port_file,
                 "write the gRPC, metrics and HTTP ports here once serving");
  int64_t verify_seconds = 0, full_verify_seconds = 0;
  std::string backup_dir;
  app.add_option("--verify-interval-seconds", verify_seconds,
                 "how often to verify the entries added since the last pass")
      ->check(CLI::PositiveNumber);
  app.add_option("--full-verify-interval-seconds", full_verify_seconds,
                 "how often to verify the whole ledger and its indexes")
      ->check(CLI::PositiveNumber);
  app.add_option("--backup-dir", backup_dir, "where innsynctl backup has backups written");
  app.add_option("--max-group-events", max_group_events, "most events per group commit")
      ->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-interval-seconds", checkpoint_seconds,
                 "how often to sign a checkpoint")
      ->check(CLI::PositiveNumber);
  app.add_option("--tls-cert", tls_cert, "server certificate (PEM); turns on mTLS");
  app.add_option("--tls-key", tls_key, "server private key (PEM)");
  app.add_option("--tls-ca", tls_ca, "CA certificate that client certificates must be signed by");
  app.add_option("--tls-crl", tls_crl, "CRL of that CA: revoked client certificates");
  app.add_option("--rate-limit-calls-per-second", calls_per_second,
                 "calls a second each client identity may make; 0 for no limit")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate-limit-burst", burst, "calls a client identity may make in a row")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-call-seconds", call_seconds, "longest a unary call may run")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-stream-seconds", stream_seconds, "longest a stream may stay open")
      ->check(CLI::PositiveNumber);
  int64_t grace_seconds = 0;
  app.add_option("--shutdown-grace-seconds", grace_seconds,
                 "how long calls in flight may take to finish when innsynd stops")
      ->check(CLI::PositiveNumber);
  bool detection = true;
  std::string roster_file;
  app.add_option("--detection", detection,
                 "run the anomaly detectors (true or false; config: detection.enabled)");
  app.add_option("--roster", roster_file, "staff roster file (config: detection.roster_file)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    help_shown = true;
    return options;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  if (!config_path.empty()) {
    if (absl::Status s = LoadConfigFile(config_path, options); !s.ok()) return s;
  }
  if (app.count("--listen")) options.listen = listen;
  if (app.count("--http-listen")) options.http_listen = http_listen;
  if (app.count("--console-listen")) options.console_listen = console_listen;
  if (app.count("--metrics-listen")) options.metrics_listen = metrics_listen;
  if (app.count("--data-dir")) options.data_dir = data_dir;
  if (app.count("--origin")) options.origin = origin;
  if (app.count("--port-file")) options.port_file = port_file;
  if (app.count("--verify-interval-seconds"))
    options.verify_interval = absl::Seconds(verify_seconds);
  if (app.count("--full-verify-interval-seconds")) {
    options.full_verify_interval = absl::Seconds(full_verify_seconds);
  }
  if (app.count("--backup-dir")) options.backup_dir = backup_dir;
  if (app.count("--max-group-events")) options.max_group_events = max_group_events;
  if (app.count("--checkpoint-interval-seconds")) {
    options.checkpoint_interval = absl::Seconds(checkpoint_seconds);
  }
  if (app.count("--tls-cert")) options.tls_cert_file = tls_cert;
  if (app.count("--tls-key")) options.tls_key_file = tls_key;
  if (app.count("--tls-ca")) options.tls_ca_file = tls_ca;
  if (app.count("--tls-crl")) options.tls_crl_file = tls_crl;
  if (app.count("--rate-limit-calls-per-second"))
    options.limits.calls_per_second = calls_per_second;
  if (app.count("--rate-limit-burst")) options.limits.burst = burst;
  if (app.count("--max-call-seconds"))
    options.limits.max_call_duration = absl::Seconds(call_seconds);
  if (app.count("--max-stream-seconds")) {
    options.limits.max_stream_duration = absl::Seconds(stream_seconds);
  }
  if (app.count("--shutdown-grace-seconds")) options.shutdown_grace = absl::Seconds(grace_seconds);
  if (app.count("--detection")) options.detection.enabled = detection;
  if (app.count("--roster")) options.detection.roster_file = roster_file;
  if (options.listen.empty()) return absl::InvalidArgumentError("listen must not be empty");
  if (absl::Status s = CheckTransport(options); !s.ok()) return s;
  if (!options.metrics_listen.empty() && !IsLoopbackAddress(options.metrics_listen)) {
    return absl::InvalidArgumentError(
        StrCat("metrics_listen ", options.metrics_listen, " is not a loopback address"));
  }
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir must not be empty");
  return options;
}

}  // namespace innsyn::daemon
