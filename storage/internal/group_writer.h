// The group-commit writer: the one thread that assigns sequence numbers,
// hashes entries and writes them. Callers queue a request and block until
// the group holding it is durable (one RocksDB batch, one WAL fsync for
// all requests that arrived while the previous group was being written).
//
// Thread ownership: the compact range, chain head and commit clock belong
// to the writer thread alone. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_
#define INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/ledger.h"
#include "storage/merkle.h"

namespace innsyn::storage::internal {

// How long a client refused by back-pressure is told to wait: about one
// group commit.
inline constexpr int kRetryHintMillis = 20;

class GroupWriter {
 public:
  // `impl` must outlive the writer.
  GroupWriter(Ledger::Impl& impl, CompactRange range, Hash chain_head,
              absl::Time last_commit);
  // Writes what is queued, then stops the thread.
  ~GroupWriter();

  // The events are borrowed until the call returns.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendEvents(
      std::vector<const v1::AccessEvent*> events);
  absl::StatusOr<v1::AppendReceipt> AppendQuery(const v1::QueryRecord& query);
  // Queues without waiting; `done` runs on the writer thread (see
  // Ledger::AppendEventsAsync).
  absl::Status AppendEventsAsync(std::vector<const v1::AccessEvent*> events,
                                 Ledger::AppendDone done);

 private:
  struct Request;
  // Puts the request in the queue, or says why not (then it is not queued).
  absl::Status Enqueue(Request& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<v1::AppendReceipt>> Submit(Request& request);
  void Run();
  void WriteGroup(std::vector<Request*>& group);

  Ledger::Impl& impl_;
  absl::Mutex mu_;
  std::deque<Request*> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_events_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Writer thread only.
  CompactRange range_;
  Hash chain_head_;
  absl::Time last_commit_;
  GroupCommitStats stats_;  // of the last group, for options.on_group_commit

  std::thread thread_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_
