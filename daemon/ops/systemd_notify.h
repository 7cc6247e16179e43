// innsynd's side of systemd's Type=notify protocol, through libsystemd's
// sd_notify: READY=1 once serving, RELOADING=1 / READY=1 around a reload,
// STOPPING=1 on shutdown, and, when the unit sets WatchdogSec=, WATCHDOG=1
// pings from a thread of their own for as long as a health check passes.
// Without NOTIFY_SOCKET (not under systemd) every call does nothing.
#ifndef INNSYN_DAEMON_OPS_SYSTEMD_NOTIFY_H_
#define INNSYN_DAEMON_OPS_SYSTEMD_NOTIFY_H_

#include <functional>
#include <string_view>
#include <thread>

#include "absl/synchronization/notification.h"

namespace innsyn::daemon {

void NotifyReady(std::string_view status);
void NotifyReloading();
void NotifyStopping();

// Pings the watchdog at half the interval systemd asked for while
// `healthy()` returns true; a failed check skips the ping, so a wedged
// innsynd is restarted by systemd. Stops on destruction.
class Watchdog {
 public:
  explicit Watchdog(std::function<bool()> healthy);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::function<bool()> healthy_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_OPS_SYSTEMD_NOTIFY_H_
