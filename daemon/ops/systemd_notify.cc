#include "daemon/ops/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "daemon/ops/log.h"

namespace innsyn::daemon {
namespace {

void Notify(const std::string& state) {
  if (int r = sd_notify(/*unset_environment=*/0, state.c_str()); r < 0) {
    LogWarning("cannot notify systemd (", state, "): error ", -r);
  }
}

}  // namespace

void NotifyReady(std::string_view status) { Notify(StrCat("READY=1\nSTATUS=", status)); }

void NotifyReloading() { Notify("RELOADING=1\nSTATUS=reloading configuration"); }

void NotifyStopping() { Notify("STOPPING=1\nSTATUS=stopping"); }

Watchdog::Watchdog(std::function<bool()> healthy) : healthy_(std::move(healthy)) {
  uint64_t interval_micros = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &interval_micros) <= 0) return;
  const absl::Duration period = absl::Microseconds(static_cast<int64_t>(interval_micros)) / 2;
  LogInfo("systemd watchdog on: pinging every ", absl::FormatDuration(period));
  thread_ = std::thread([this, period] {
    bool was_healthy = true;
    do {
      bool healthy = healthy_();
      if (healthy) Notify("WATCHDOG=1");
      if (!healthy && was_healthy) LogError("health check failed: not pinging the watchdog");
      was_healthy = healthy;
    } while (!stop_.WaitForNotificationWithTimeout(period));
  });
}

Watchdog::~Watchdog() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace innsyn::daemon
