#include "daemon/ops/retention_job.h"

#include "base/clock.h"
#include "daemon/ops/log.h"

namespace innsyn::daemon {

RetentionJob::RetentionJob(storage::Ledger& ledger, exporters::Metrics& metrics,
                           storage::RetentionPolicy policy, absl::Duration interval)
    : ledger_(ledger), metrics_(metrics), policy_(std::move(policy)), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

RetentionJob::~RetentionJob() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void RetentionJob::SetPolicy(storage::RetentionPolicy policy, absl::Duration interval) {
  absl::MutexLock lock(&mu_);
  policy_ = std::move(policy);
  interval_ = interval;
  rescheduled_ = true;
}

void RetentionJob::Run() {
  while (true) {
    RunOnce();
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || rescheduled_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), interval_);
    if (stop_) return;
    rescheduled_ = false;
  }
}

void RetentionJob::RunOnce() {
  storage::RetentionPolicy policy;
  {
    absl::MutexLock lock(&mu_);
    policy = policy_;
  }
  const absl::Time now = Now();
  if (ledger_.GetIntegrity().damaged) {
    LogError("retention: skipped, the ledger failed verification");
    metrics_.RetentionFinished(false, now, 0, 0);
    return;
  }
  absl::StatusOr<storage::RetentionResult> result = ledger_.RunRetention(policy, now);
  if (!result.ok()) {
    LogError("retention: ", result.status().message());
    metrics_.RetentionFinished(false, now, 0, 0);
    return;
  }
  if (result->keys_shredded > 0) {
    LogInfo("retention: shredded ", result->keys_shredded, " data keys of expired periods (",
            result->entries_erased, " entries), recorded at seq ", result->receipt->seq());
  }
  metrics_.RetentionFinished(true, now, result->keys_shredded, result->entries_erased);
  if (absl::StatusOr<storage::Ledger::KeyCounts> keys = ledger_.CountKeys(); keys.ok()) {
    metrics_.SetDataKeys(keys->live, keys->shredded);
  }
}

}  // namespace innsyn::daemon
