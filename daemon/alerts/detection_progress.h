// How far the anomaly detectors have judged the ledger, kept in a small file
// in the data folder so that after a crash or restart innsynd judges exactly
// the entries it had not judged yet, however far behind it was, and raises
// nothing twice.
//
// The file holds one line: "<seq> <hex leaf hash of entry seq-1>". Entries
// below seq have been read by the detectors and every alert they raised is
// durable in the ledger. The leaf hash ties the mark to this ledger: a mark
// that does not match (a restored or replaced ledger, a torn write) is
// refused, and innsynd falls back to judging the ledger's last minutes.
//
// Not thread-safe: owned by the alert monitor's thread.
#ifndef INNSYN_DAEMON_ALERTS_DETECTION_PROGRESS_H_
#define INNSYN_DAEMON_ALERTS_DETECTION_PROGRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class DetectionProgress {
 public:
  // `path` empty: nothing is stored (Load finds nothing, Save does nothing).
  DetectionProgress(std::string path, const storage::Ledger& ledger);

  // The stored mark, checked against the ledger. NotFound if there is none;
  // FailedPrecondition naming why if it does not belong to this ledger.
  absl::StatusOr<uint64_t> Load() const;
  // Stores `judged_through` if `now` is at least `interval` after the last
  // save (or `force`); a failure is returned, and retried at the next call.
  absl::Status Save(uint64_t judged_through, absl::Time now, absl::Duration interval,
                    bool force = false);

 private:
  const std::string path_;
  const storage::Ledger& ledger_;
  uint64_t saved_ = 0;
  absl::Time last_save_ = absl::InfinitePast();
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_ALERTS_DETECTION_PROGRESS_H_
