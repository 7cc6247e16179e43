#include "daemon/auth/call_deadlines.h"

namespace innsyn::daemon {

CallDeadlines::CallDeadlines() : watchdog_([this] { Run(); }) {}

CallDeadlines::~CallDeadlines() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  watchdog_.join();
}

CallDeadlines::Ticket& CallDeadlines::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Forget(id_);
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

CallDeadlines::Ticket::~Ticket() {
  if (owner_ != nullptr) owner_->Forget(id_);
}

CallDeadlines::Ticket CallDeadlines::Watch(grpc::ServerContextBase& context, absl::Duration limit) {
  absl::Time deadline = absl::Now() + limit;
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  calls_.emplace(id, std::pair{deadline, &context});
  by_deadline_.emplace(deadline, id);
  return Ticket(this, id);
}

void CallDeadlines::Forget(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(id);
  if (it == calls_.end()) return;  // already cancelled
  by_deadline_.erase({it->second.first, id});
  calls_.erase(it);
}

void CallDeadlines::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = absl::Now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      uint64_t id = by_deadline_.begin()->second;
      by_deadline_.erase(by_deadline_.begin());
      auto it = calls_.find(id);
      // Under the lock, so the ticket (and so the call) is still alive.
      it->second.second->TryCancel();
      calls_.erase(it);
    }
    absl::Time wake = by_deadline_.empty() ? now + absl::Seconds(1) : by_deadline_.begin()->first;
    // Woken early by nothing: a new call's deadline is at least its limit
    // away, and the limits are seconds; waking each second is soon enough.
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), std::min(wake, now + absl::Seconds(1)));
  }
}

}  // namespace innsyn::daemon
