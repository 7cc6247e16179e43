// Runs one piece of work on a thread of its own whenever it is asked for;
// everyone who asked before a run began shares that run and its status.
// The group writer stores and syncs new data keys this way, beside the
// sealing of their group, without a thread per group. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_SHARED_RUNS_H_
#define INNSYN_STORAGE_INTERNAL_SHARED_RUNS_H_

#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace innsyn::storage::internal {

class SharedRuns {
 public:
  // Starts the thread: std::system_error if there is none to be had.
  explicit SharedRuns(std::function<absl::Status()> work);
  // Answers every ask made so far (by a run), then stops the thread.
  ~SharedRuns();
  SharedRuns(const SharedRuns&) = delete;
  SharedRuns& operator=(const SharedRuns&) = delete;

  // The status of a run of the work that begins after this call.
  std::future<absl::Status> Ask();

 private:
  void Loop();

  const std::function<absl::Status()> work_;
  absl::Mutex mu_;
  std::vector<std::promise<absl::Status>> asks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_SHARED_RUNS_H_
