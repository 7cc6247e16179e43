// The daily retention job, on a thread of its own: at start and then every
// `interval`, it shreds the data keys whose period has expired under the
// policy (storage::Ledger::RunRetention), which records one RetentionRun
// entry naming them. Results go to the innsyn_retention_* metrics and the
// log. A damaged ledger is left alone until it is repaired.
// Thread-safe. The ledger and metrics must outlive the job; the destructor
// waits for a run in progress.
#ifndef INNSYN_DAEMON_OPS_RETENTION_JOB_H_
#define INNSYN_DAEMON_OPS_RETENTION_JOB_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class RetentionJob {
 public:
  RetentionJob(storage::Ledger& ledger, exporters::Metrics& metrics,
               storage::RetentionPolicy policy, absl::Duration interval);
  ~RetentionJob();
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  // A new policy (on reload); applied at once.
  void SetPolicy(storage::RetentionPolicy policy, absl::Duration interval);

 private:
  void Run();
  void RunOnce();

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  absl::Mutex mu_;
  storage::RetentionPolicy policy_ ABSL_GUARDED_BY(mu_);
  absl::Duration interval_ ABSL_GUARDED_BY(mu_);
  bool rescheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_OPS_RETENTION_JOB_H_
