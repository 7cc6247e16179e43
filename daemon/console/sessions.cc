#include "daemon/console/internal/sessions.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"

namespace innsyn::daemon::console {
namespace {

constexpr int kTokenBytes = 32;

}  // namespace

std::string RandomToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, kTokenBytes) != 1) std::abort();  // no randomness: nothing safe to do
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), kTokenBytes));
}

Session SessionStore::Create(const Account& account, absl::Time now) {
  Session session{.id = RandomToken(),
                  .csrf = RandomToken(),
                  .user = account.name,
                  .display_name = account.display_name,
                  .role = account.role,
                  .reason = "",
                  .created = now,
                  .last_seen = now};
  absl::MutexLock lock(&mu_);
  // Expired sessions go as new ones come, so the map stays small.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Session& old = it->second;
    if (now - old.last_seen > idle_timeout_ || now - old.created > lifetime_) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  sessions_[session.id] = session;
  return session;
}

std::optional<Session> SessionStore::Find(std::string_view id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  Session& session = it->second;
  if (now - session.last_seen > idle_timeout_ || now - session.created > lifetime_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  session.last_seen = now;
  return session;
}

void SessionStore::SetReason(std::string_view id, std::string reason) {
  absl::MutexLock lock(&mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.reason = std::move(reason);
}

void SessionStore::Remove(std::string_view id) {
  absl::MutexLock lock(&mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

void SessionStore::Retain(const std::map<std::string, Account>& accounts) {
  absl::MutexLock lock(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto account = accounts.find(it->second.user);
    if (account == accounts.end() || account->second.role != it->second.role) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

bool SessionStore::Locked(const std::string& user, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = throttles_.find(user);
  return it != throttles_.end() && now < it->second.locked_until;
}

void SessionStore::Failed(const std::string& user, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Throttle& throttle = throttles_[user];
  if (++throttle.failures >= kMaxFailures) {
    throttle.failures = 0;
    throttle.locked_until = now + kLockout;
  }
}

bool SessionStore::TakeStep(const std::string& user, int64_t step) {
  absl::MutexLock lock(&mu_);
  Throttle& throttle = throttles_[user];
  if (step <= throttle.last_step) return false;
  throttle.last_step = step;
  throttle.failures = 0;
  return true;
}

}  // namespace innsyn::daemon::console
