// `innsynctl forward`: follows a CSV or JSON-lines file and sends its
// records to innsynd as AccessEvents, losing and duplicating nothing across
// a restart of either side, an outage of innsynd or a rotated file.
//
// How:
// - Every event has a stable id: the mapped event-id column, or else
//   "f-" + the first 32 hex digits of SHA-256(fingerprint ":" line ":"
//   record bytes), where the fingerprint identifies the file by its first
//   data record. Sending a record again gives the same (source, event_id),
//   which innsynd answers as a duplicate.
// - The position (a Position) is saved only after innsynd acknowledged the
//   batch before it, and batches are delivered in file order even when
//   several are in flight, so at worst the batches in flight are sent
//   twice, as duplicates.
// - UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED and ABORTED are
//   retried with exponential backoff, for as long as it takes.
// - A file replaced under its name (a new inode) is read to its end first,
//   once it has been quiet for a moment; one that shrank (truncated in
//   place) is read again from its start. A file rotated while the
//   forwarder was stopped is found again in the same folder by its inode.
// - A bad record (malformed CSV, a missing column, a time that does not
//   parse, a value innsynd refuses) is reported naming the file, line and
//   column, counted, and appended with its reason to the rejects file; or,
//   with stop_on_bad_record, stops the forwarder before it.
//
// Runs on the calling thread, which alone touches the file, the position,
// the counts and the callbacks; only `send` runs on other threads (one a
// batch in flight), so it must be thread-safe. Stop() may be called from a
// signal handler.
#ifndef INNSYN_CTL_FORWARD_FORWARDER_H_
#define INNSYN_CTL_FORWARD_FORWARDER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/forward/mapping.h"
#include "ctl/forward/position.h"
#include "ctl/forward/record_file.h"
#include "innsyn/v1/service.pb.h"

namespace innsyn::ctl::forward {

inline constexpr size_t kDefaultBatchEvents = 500;
inline constexpr size_t kDefaultBatchesInFlight = 4;

struct ForwardOptions {
  std::string file;          // the file to follow
  std::string state_path;    // the position; empty: none kept (only with `once`)
  std::string rejects_path;  // bad records as JSON lines; empty: reported only
  bool once = false;         // read the file to its end, then return
  bool stop_on_bad_record = false;
  size_t batch_events = kDefaultBatchEvents;
  size_t in_flight = kDefaultBatchesInFlight;  // batches sent before the first is answered
  absl::Duration poll_interval = absl::Milliseconds(200);  // when the file has nothing new
  absl::Duration rotate_quiet = absl::Seconds(1);          // a replaced file's writer must be done
  absl::Duration first_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
};

// What the forwarder has done so far, for progress lines.
struct ForwardStats {
  uint64_t events = 0;      // acknowledged by innsynd in this run
  uint64_t duplicates = 0;  // of those, already recorded before
  uint64_t rejected = 0;    // bad records set aside in this run
  uint64_t lag_bytes = 0;   // written to the file but not yet acknowledged
  uint64_t lag_lines = 0;   // the same in lines (counted up to a limit)
  uint64_t bytes_done = 0;  // position in the file now read
  uint64_t file_bytes = 0;  // its size
  std::string file;
  std::string waiting;  // why it waits, if it does ("innsynd: UNAVAILABLE ...")
};

using SendFunction =
    std::function<absl::StatusOr<v1::AppendResponse>(const v1::AppendRequest& request)>;
using ReportFunction = std::function<void(const ForwardStats& stats, bool done)>;
// Where messages for people go (bad records, rotation, retries).
using LogFunction = std::function<void(const std::string& line)>;

class Forwarder {
 public:
  Forwarder(const Mapping& mapping, ForwardOptions options, SendFunction send,
            ReportFunction report, LogFunction log);
  ~Forwarder();

  // Forwards until the file is done (`once`), Stop() is called, or an error
  // that retrying cannot mend: a bad record with stop_on_bad_record, a
  // refused call (PERMISSION_DENIED ...), a file that cannot be read.
  absl::Status Run();
  // Ends Run() after the batch in flight is acknowledged (or, while innsynd
  // is away, at once: the batch is sent again next time).
  void Stop() { stopping_.store(true); }

  const ForwardStats& stats() const { return stats_; }

 private:
  struct Batch;

  absl::Status OpenAtStart();
  // Reads records into `batch`; true if there was anything to deliver
  // (events, rejects, or lines that only move the position on).
  absl::StatusOr<bool> CollectBatch(Batch& batch, bool final);
  // Finds the mapped columns in the CSV header once it is read.
  absl::Status ResolveColumns();
  absl::StatusOr<v1::AccessEvent> MapOne(const Record& record);
  void AddReject(Batch& batch, const Record& record, const std::string& message);
  // Records `batch` (with the answer to its call if one was made), sets
  // its bad rows aside, then saves the position after it.
  absl::Status Deliver(Batch& batch, std::optional<absl::StatusOr<v1::AppendResponse>> first);
  absl::StatusOr<v1::AppendResponse> SendWithRetry(const v1::AppendRequest& request);
  absl::Status SendEachAlone(Batch& batch);
  // Nothing new in the file: has it been replaced or truncated? True if
  // the forwarder moved to another file.
  absl::StatusOr<bool> FollowRotation();
  // Opens options_.file at `start`; false if it is not there (yet).
  absl::StatusOr<bool> SwitchTo(Start start);
  absl::Status SavePositionNow();
  void Report(bool done);
  void Wait(absl::Duration duration);

  const Mapping& mapping_;
  ForwardOptions options_;
  SendFunction send_;
  ReportFunction report_;
  LogFunction log_;
  std::atomic<bool> stopping_{false};

  std::unique_ptr<RecordFile> file_;
  // The CSV header's index of each mapped column, once the header is read.
  std::vector<std::optional<size_t>> column_index_;
  bool columns_resolved_ = false;
  Position position_;
  std::optional<absl::Time> replaced_since_;  // file_ is no longer under options_.file
  ForwardStats stats_;
  absl::Time last_report_ = absl::InfinitePast();
};

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_FORWARDER_H_
