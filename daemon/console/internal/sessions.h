// The console's signed-in sessions, in memory (a restart signs everyone
// out): a random id in an HttpOnly cookie, a CSRF token every form
// carries, the reason the person gave for looking (remembered for routine
// reviews), and expiry after idling and after a working day. Failed
// sign-ins lock an account for a while, and a one-time code is taken once.
// Thread-safe. Private to daemon/console.
#ifndef INNSYN_DAEMON_CONSOLE_INTERNAL_SESSIONS_H_
#define INNSYN_DAEMON_CONSOLE_INTERNAL_SESSIONS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/console/accounts.h"

namespace innsyn::daemon::console {

// 32 random bytes, base64url: session ids and CSRF tokens.
std::string RandomToken();

struct Session {
  std::string id;    // 32 random bytes, base64url
  std::string csrf;  // likewise; every form posts it back
  std::string user;
  std::string display_name;
  std::string role;
  std::string reason;  // the last reason given, offered again
  absl::Time created;
  absl::Time last_seen;
};

class SessionStore {
 public:
  static constexpr int kMaxFailures = 5;  // in a row, then locked
  static constexpr absl::Duration kLockout = absl::Minutes(5);

  SessionStore(absl::Duration idle_timeout, absl::Duration lifetime)
      : idle_timeout_(idle_timeout), lifetime_(lifetime) {}

  Session Create(const Account& account, absl::Time now);
  // The live session of `id`, touched; nullopt if unknown or expired.
  std::optional<Session> Find(std::string_view id, absl::Time now);
  void SetReason(std::string_view id, std::string reason);
  void Remove(std::string_view id);
  // Ends the sessions of accounts no longer in `accounts`, or whose role
  // changed (on reload).
  void Retain(const std::map<std::string, Account>& accounts);

  // Sign-in throttling, per account name: whether it is locked now.
  bool Locked(const std::string& user, absl::Time now);
  void Failed(const std::string& user, absl::Time now);
  // A good sign-in with the code of TOTP step `step`: false if that step's
  // code (or a later one) was taken before (a replayed code).
  bool TakeStep(const std::string& user, int64_t step);

 private:
  struct Throttle {
    int failures = 0;
    absl::Time locked_until = absl::InfinitePast();
    int64_t last_step = -1;
  };
  const absl::Duration idle_timeout_;
  const absl::Duration lifetime_;
  absl::Mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Throttle> throttles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace innsyn::daemon::console

#endif  // INNSYN_DAEMON_CONSOLE_INTERNAL_SESSIONS_H_
