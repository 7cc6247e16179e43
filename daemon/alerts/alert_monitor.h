// Runs the anomaly detectors over the ledger, on a thread of its own: reads
// every committed entry in seq order (woken after each group commit), feeds
// the detection engine, appends the alerts it raises to the ledger, and
// applies alert and decision entries to the AlertBook.
//
// At start the book is rebuilt from the ledger's alert index, the engine is
// told which alert ids exist, and a window of the ledger (the detection
// options' replay_window) is replayed to rebuild the engine's state; alerts
// the replay finds again are not raised twice. How far the detectors had
// judged is stored (DetectionProgress, saved every second and at stop), so
// entries committed before a crash but never judged are judged now, however
// far behind the detectors were; without a stored mark (a restored backup)
// alerts are raised for the entries of the ledger's last minutes
// (kRejudgeWindow) and after.
//
// Thread-safe. Borrows the ledger and metrics, which must outlive it; the
// destructor stops the thread.
#ifndef INNSYN_DAEMON_ALERTS_ALERT_MONITOR_H_
#define INNSYN_DAEMON_ALERTS_ALERT_MONITOR_H_

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "anomaly/detection_options.h"
#include "anomaly/engine.h"
#include "anomaly/roster.h"
#include "daemon/alerts/alert_book.h"
#include "daemon/alerts/detection_progress.h"
#include "exporters/metrics.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class AlertMonitor {
 public:
  // Loads the roster named in `options` (if any); fails naming the file or
  // setting on bad input.
  // `progress_file` (in the data folder) keeps how far detection has
  // judged; empty: nothing is kept.
  static absl::StatusOr<std::unique_ptr<AlertMonitor>> Start(
      storage::Ledger& ledger, exporters::Metrics& metrics,
      const anomaly::DetectionOptions& options, const std::string& progress_file);
  ~AlertMonitor();
  AlertMonitor(const AlertMonitor&) = delete;
  AlertMonitor& operator=(const AlertMonitor&) = delete;

  // Entries were committed: read them soon. Cheap; any thread.
  void Notify();
  // Self-verification found a problem (`mode` "full" or "incremental").
  void VerificationFailed(const std::string& mode, uint64_t first_bad_seq,
                          const std::string& problem);
  // New detection settings and roster (on reload): the engine is rebuilt
  // and the window replayed, so the new rules apply from the next entry on
  // and nothing already raised is raised again. Fails, changing nothing,
  // if the roster or the settings are bad.
  absl::Status Reload(const anomaly::DetectionOptions& options);

  AlertBook& book() { return book_; }
  const AlertBook& book() const { return book_; }
  // How far behind detection is (as in the innsyn_detection_lag_* metrics).
  struct Lag {
    uint64_t entries = 0;
    absl::Duration time;
  };
  Lag lag() const;
  // The detection settings in force (the engine's), for explanations.
  anomaly::DetectionOptions options() const;

 private:
  struct Pending {
    std::string mode;
    uint64_t first_bad_seq;
    std::string problem;
  };
  AlertMonitor(storage::Ledger& ledger, exporters::Metrics& metrics,
               const std::string& progress_file);
  // Where judging starts after a restart: from the stored mark, or the
  // ledger's last minutes without one.
  absl::StatusOr<uint64_t> RaiseFrom(uint64_t size) const;
  absl::StatusOr<std::unique_ptr<anomaly::Engine>> NewEngine(
      const anomaly::DetectionOptions& options) const;
  // The first entry committed at most `window` before the ledger's last one
  // (binary search: commit times never decrease); 0 for an empty ledger.
  absl::StatusOr<uint64_t> FirstSeqWithin(absl::Duration window) const;
  void Run();
  // Reads and judges entries [next_seq_, Size()); false if a read failed.
  bool CatchUp();
  // Appends the alerts; false if they could not be recorded.
  bool Raise(const std::vector<v1::Alert>& alerts);
  // The lag metrics, after `observed` more entries were read; after each
  // batch, so that they show how far behind a long catch-up is.
  void PublishLag(uint64_t observed, absl::Time last_committed);
  void SaveProgress(bool force);
  // Exports the events from unknown roles the engine has counted since
  // unknown_roles_exported_ was taken.
  void PublishUnknownRoles();
  void PublishOpenCounts();

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  AlertBook book_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_{false};  // read by a replay, which then stops early
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Pending> verification_failures_ ABSL_GUARDED_BY(mu_);
  // A reload hands the thread a new engine and where to replay from.
  std::unique_ptr<anomaly::Engine> next_engine_ ABSL_GUARDED_BY(mu_);
  uint64_t next_replay_from_ ABSL_GUARDED_BY(mu_) = 0;
  anomaly::DetectionOptions options_ ABSL_GUARDED_BY(mu_);
  // Monitor thread only.
  std::unique_ptr<anomaly::Engine> engine_;  // null: detection is off
  uint64_t next_seq_ = 0;                    // the next entry to read
  uint64_t raise_from_seq_ = 0;              // entries below were judged before a restart or reload
  // Entries below were judged and their alerts are durable: what is stored.
  uint64_t judged_through_ = 0;
  bool mark_held_ = false;      // alerts not recorded, or an entry skipped: the mark stays
  uint64_t careful_until_ = 0;  // entries below are read one at a time (a damaged one is near)
  DetectionProgress progress_;
  absl::Time last_tick_ = absl::InfinitePast();
  // The engine's counts of events from unknown roles already exported, taken
  // when it reached the first entry to judge: what a replay reads again is
  // not counted twice.
  std::map<std::string, uint64_t> unknown_roles_exported_;
  bool counting_unknown_roles_ = false;
  std::set<std::pair<std::string, std::string>> exported_;  // innsyn_alerts_open series
  std::atomic<uint64_t> lag_entries_{0};
  std::atomic<int64_t> lag_micros_{0};
  std::thread thread_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_ALERTS_ALERT_MONITOR_H_
