// innsynd's periodic self-verification, on a thread of its own: a full pass
// (hashes, chain, tree, signed checkpoint and indexes) at start and then
// every `full_interval`, and in between, every `interval`, an incremental
// pass over the entries committed since the previous pass. Results go to
// the innsyn_verification_* metrics, to the ledger (the first full pass
// that passes lets it sign; any failure marks it damaged, so that it takes
// no more events and signs nothing) and, on failure, to the log at error
// level. Entries changed after an incremental pass has covered them are
// caught by the next full pass.
// Thread-safe. The ledger and metrics must outlive the verifier; the
// destructor cancels a pass in progress and waits for it to stop.
#ifndef INNSYN_DAEMON_OPS_SELF_VERIFIER_H_
#define INNSYN_DAEMON_OPS_SELF_VERIFIER_H_

#include <atomic>
#include <functional>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class SelfVerifier {
 public:
  // Called on the verifier's thread when a pass first finds a problem
  // (once per failure, like the log line), with the mode and the report.
  using FailureHandler =
      std::function<void(std::string_view mode, const storage::VerifyReport& report)>;
  SelfVerifier(storage::Ledger& ledger, exporters::Metrics& metrics, absl::Duration interval,
               absl::Duration full_interval, FailureHandler on_failure = nullptr);
  ~SelfVerifier();
  SelfVerifier(const SelfVerifier&) = delete;
  SelfVerifier& operator=(const SelfVerifier&) = delete;

  // New intervals (on reload); the next passes are scheduled from now.
  void SetIntervals(absl::Duration interval, absl::Duration full_interval);

 private:
  void Run();
  void RunPass(bool full);
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || rescheduled_; }

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  const FailureHandler on_failure_;
  absl::Mutex mu_;
  absl::Duration interval_ ABSL_GUARDED_BY(mu_);
  absl::Duration full_interval_ ABSL_GUARDED_BY(mu_);
  bool rescheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};  // set once, by the destructor
  // Verifier thread only.
  storage::Ledger::VerifyProgress progress_;
  bool failing_[2] = {false, false};  // incremental, full
  std::thread thread_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_OPS_SELF_VERIFIER_H_
