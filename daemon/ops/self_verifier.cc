#include "daemon/ops/self_verifier.h"

#include "absl/time/clock.h"
#include "base/clock.h"
#include "daemon/ops/log.h"

namespace innsyn::daemon {
namespace {

constexpr char kIncremental[] = "incremental";
constexpr char kFull[] = "full";

std::string Describe(const storage::VerifyReport& report) {
  if (report.first_bad_seq) return StrCat("at seq ", *report.first_bad_seq, ": ", report.problem);
  return report.problem;
}

}  // namespace

SelfVerifier::SelfVerifier(storage::Ledger& ledger, exporters::Metrics& metrics,
                           absl::Duration interval, absl::Duration full_interval,
                           FailureHandler on_failure)
    : ledger_(ledger),
      metrics_(metrics),
      on_failure_(std::move(on_failure)),
      interval_(interval),
      full_interval_(full_interval) {
  metrics_.SetVerificationInterval(kIncremental, interval);
  metrics_.SetVerificationInterval(kFull, full_interval);
  thread_ = std::thread([this] { Run(); });
}

SelfVerifier::~SelfVerifier() {
  cancel_ = true;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void SelfVerifier::SetIntervals(absl::Duration interval, absl::Duration full_interval) {
  metrics_.SetVerificationInterval(kIncremental, interval);
  metrics_.SetVerificationInterval(kFull, full_interval);
  absl::MutexLock lock(&mu_);
  interval_ = interval;
  full_interval_ = full_interval;
  rescheduled_ = true;
}

void SelfVerifier::Run() {
  absl::Time next_full = absl::Now();  // a full pass at start
  absl::Time next_incremental = absl::InfiniteFuture();
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    if (rescheduled_) {
      rescheduled_ = false;
      next_full = std::min(next_full, absl::Now() + full_interval_);
      next_incremental = std::min(next_incremental, absl::Now() + interval_);
    }
    const absl::Time now = absl::Now();
    if (now >= next_full || now >= next_incremental) {
      const bool full = now >= next_full;
      mu_.Unlock();
      RunPass(full);
      mu_.Lock();
      if (full) next_full = absl::Now() + full_interval_;
      next_incremental = absl::Now() + interval_;
      continue;
    }
    mu_.AwaitWithDeadline(absl::Condition(this, &SelfVerifier::Woken),
                          std::min(next_full, next_incremental));
  }
}

void SelfVerifier::RunPass(bool full) {
  const char* mode = full ? kFull : kIncremental;
  storage::Ledger::VerifyProgress progress;
  storage::VerifyReport report;
  if (full) {
    report = ledger_.Verify(/*check_indexes=*/true, progress, &cancel_);
  } else {
    progress = progress_;
    report = ledger_.VerifyIncremental(progress, &cancel_);
  }
  if (report.cancelled) return;  // shutting down: no finding either way
  metrics_.VerificationFinished(mode, report.ok, Now(), absl::Seconds(report.seconds),
                                report.entries_checked);
  bool& failing = failing_[full ? 1 : 0];
  if (!report.ok) {
    // Once per failure, not once a minute: the metric stays set meanwhile.
    if (!failing) {
      LogError("self-verification (", mode, ") FAILED ", Describe(report),
               "; innsynd now takes no events and signs nothing; run innsynctl verify, and treat "
               "this as a possible breach (see \"When verification fails\" in the README)");
      ledger_.MarkDamaged(report.first_bad_seq, StrCat(mode, " verification: ", report.problem));
      if (on_failure_) on_failure_(mode, report);
    }
    failing = true;
    return;
  }
  if (failing) LogNotice("self-verification (", mode, ") passes again");
  failing = false;
  progress_ = std::move(progress);
  if (full) {
    ledger_.MarkVerified();
    LogInfo("self-verification (full): ", report.entries_checked,
            " entries and their indexes OK in ",
            absl::FormatDuration(absl::Seconds(report.seconds)));
  }
}

}  // namespace innsyn::daemon
