#include "storage/internal/shared_runs.h"

#include <utility>

namespace innsyn::storage::internal {

SharedRuns::SharedRuns(std::function<absl::Status()> work)
    : work_(std::move(work)), thread_([this] { Loop(); }) {}

SharedRuns::~SharedRuns() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

std::future<absl::Status> SharedRuns::Ask() {
  absl::MutexLock lock(&mu_);
  asks_.emplace_back();
  return asks_.back().get_future();
}

void SharedRuns::Loop() {
  for (;;) {
    std::vector<std::promise<absl::Status>> asks;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SharedRuns* runs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(runs->mu_) {
            return !runs->asks_.empty() || runs->stopping_;
          },
          this));
      if (asks_.empty()) return;  // stopping, and nothing left to answer
      asks.swap(asks_);
    }
    // Taken before the run begins: the run covers everything done before
    // each of these asks.
    const absl::Status status = work_();
    for (std::promise<absl::Status>& ask : asks) ask.set_value(status);
  }
}

}  // namespace innsyn::storage::internal
