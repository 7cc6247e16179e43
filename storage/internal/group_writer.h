// The group-commit writer, in two stages. The preparing thread assigns
// sequence numbers, hashes entries and builds one RocksDB batch per group
// (all requests that arrived while the previous group was prepared); the
// committing thread writes the groups in order, each with one WAL fsync,
// and only then answers their requests. So a group is numbered and hashed
// while the one before it waits for the disk. Callers queue a request and
// block (or are called back) until the group holding it is durable.
//
// Thread ownership: the compact range, chain head and commit clock belong
// to the preparing thread alone. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_
#define INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/map_store.h"
#include "storage/internal/shared_runs.h"
#include "storage/internal/tree_tiles.h"
#include "storage/ledger.h"
#include "storage/merkle.h"

namespace innsyn::storage::internal {

struct LedgerImpl;

// How long a client refused by back-pressure is told to wait: about one
// group commit.
inline constexpr int kRetryHintMillis = 20;

class GroupWriter {
 public:
  // `impl` must outlive the writer.
  GroupWriter(LedgerImpl& impl, CompactRange range, TileEdge tiles, Hash chain_head,
              absl::Time last_commit, std::unique_ptr<MapWriter> map);
  // Writes what is queued, then stops the thread.
  ~GroupWriter();

  // The subject map as the last committed group left it.
  const MapWriter& map() const { return *map_; }

  // The events are borrowed until the call returns.
  // With `baseline` (borrowed too), each event is recorded as a baseline
  // entry: `baseline` with the event.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendEvents(
      std::vector<const v1::AccessEvent*> events, const v1::Baseline* baseline = nullptr);
  // `record` has a body other than an access event; borrowed until return.
  absl::StatusOr<v1::AppendReceipt> AppendRecord(const v1::LedgerEntry& record);
  // Several such records in one group, all or none; borrowed until return.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendRecords(
      std::vector<const v1::LedgerEntry*> records);
  // Which keys a shred must name: when its record is prepared (after every
  // group queued before it has made its keys), each live key whose id
  // starts with `prefix` and that `due` accepts.
  struct ShredScope {
    std::string prefix;
    std::function<bool(const std::string& id)> due;
  };
  // Writes `record` (an erasure or a retention run), then shreds `key_ids`
  // once it is durable, before answering. No entry after the record is
  // sealed under those keys: the requests behind it make their keys after
  // it is prepared. With a `scope`, Aborted (and nothing written) if a key
  // due by it is not among `key_ids`: list the keys again and retry.
  absl::StatusOr<v1::AppendReceipt> AppendShredRecord(const v1::LedgerEntry& record,
                                                      std::vector<std::string> key_ids,
                                                      std::optional<ShredScope> scope = {});
  // Queues without waiting; `done` runs on the writer thread (see
  // Ledger::AppendEventsAsync).
  absl::Status AppendEventsAsync(std::vector<const v1::AccessEvent*> events,
                                 Ledger::AppendDone done);
  // The same for one record (as AppendRecord), which the writer keeps until
  // `done` has run.
  absl::Status AppendRecordAsync(std::unique_ptr<const v1::LedgerEntry> record,
                                 Ledger::AppendDone done);
  // Events and records (one each) queued and not yet taken into a group.
  size_t QueuedEvents();

 private:
  struct Request;
  struct Group;
  // Puts the request in the queue, or says why not (then it is not queued).
  absl::Status Enqueue(Request& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same for a request with a done_callback, which the writer then owns.
  absl::Status EnqueueAnswered(std::unique_ptr<Request> request);
  absl::StatusOr<std::vector<v1::AppendReceipt>> Submit(Request& request);
  // On the caller's thread, before the request is queued: describes its
  // events and finds or makes their data keys, so that the preparing
  // thread, which every group passes one at a time, finds both ready.
  void DescribeAhead(Request& request);
  // The preparing thread: takes queued requests as a group, numbers and
  // hashes its entries and builds its batch, while the group before it is
  // being written.
  void Prepare();
  // Adds `requests` (the last ones in group.requests) to the group: all of
  // them, or on a failed read none, leaving the failure for the commit.
  void PrepareRequests(Group& group, const std::vector<Request*>& requests);
  // The steps of PrepareRequests, on what it adds to the group so far.
  struct Draft;
  // Now, in whole microseconds and never before the group before.
  absl::Time CommitTime() const;
  // Stops at the first read that fails, with its status.
  absl::Status PrepareRecords(Draft& draft, Request& request);
  // Stops at the first read that fails, with its status.
  absl::Status PrepareEvents(Draft& draft, Request& request);
  // An event recorded under one dedupe key, and where: its receipt and,
  // while it is borrowed from its request (until its group is durable),
  // the event itself.
  struct Recorded {
    v1::AppendReceipt receipt;
    const v1::AccessEvent* event = nullptr;
    bool baseline = false;  // recorded as a baseline entry
  };
  // The receipt of the event with dedupe key `key` if it was recorded
  // before: earlier in this draft, by a group still being written, or in
  // RocksDB. Nullopt for a new event; AlreadyExists, naming the seq, if it
  // was recorded with other contents than `event` (a reused event id, not
  // a retry); DataLoss if the first copy no longer matches its leaf hash;
  // another error if a read failed.
  absl::StatusOr<std::optional<v1::AppendReceipt>> OriginalReceipt(const Draft& draft,
                                                                   const std::string& key,
                                                                   const v1::AccessEvent& event,
                                                                   bool baseline);
  // The data key of every entry the requests add, in one key-store call;
  // `new_keys` is set if a key written without a sync (here or ahead, by
  // any thread) may not be durable yet (KeyStore::HasUnsyncedKeys).
  absl::Status PrepareKeys(Draft& draft, const std::vector<Request*>& requests, bool& new_keys);
  // Numbers, seals and hashes `entry` and adds it to the batch; returns its
  // receipt, or the status of a head read that failed. `described` is the
  // entry's header and key base, from DescribeEvent or DescribeEntry. With
  // `access_event`, that is the entry's body (see EncodeEntry).
  absl::StatusOr<v1::AppendReceipt> AddEntry(Draft& draft, v1::LedgerEntry& entry,
                                             EntryHeader described,
                                             const v1::AccessEvent* access_event = nullptr);
  // The head of history `id`: from heads_, else read from
  // RocksDB (count 0 for a history not begun). Records in `draft` what to
  // undo before the caller changes it.
  absl::StatusOr<MapValue> Head(Draft& draft, const HistoryKey& id);
  // Undoes the head changes of `draft` from its `undo_size`-th on.
  void UndoHeads(Draft& draft, size_t undo_size);
  // Hands the heads `draft` changed to `group`, for its batch and the map.
  void KeepHeads(Draft& draft, Group& group);
  void CollectDerivedKeys(Draft& draft, const v1::SealedEntry& header);
  // Shreds the keys of the group's erasure and retention records.
  absl::Status ShredAfterCommit(Group& group);
  // Puts the collected index and event-id keys in the batch, sorted.
  void PutDerivedKeys(Draft& draft);
  // Makes the events first recorded in `draft` known to the groups after
  // `group` until it is written.
  void AddPending(Draft& draft, Group& group);
  // The committing thread: writes prepared groups in order, one batch and
  // one fsync each, then answers their requests.
  void Commit();
  GroupCommitStats CommitGroup(Group& group);
  // Wakes the group's waiting callers and runs its callbacks.
  void Answer(Group& group);
  absl::StatusOr<std::string> ReadDedupe(const std::string& key) const;

  LedgerImpl& impl_;
  absl::Mutex mu_;
  std::deque<Request*> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_events_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The group prepared and waiting for the committing thread, if any.
  std::unique_ptr<Group> prepared_ ABSL_GUARDED_BY(mu_);
  bool preparing_done_ ABSL_GUARDED_BY(mu_) = false;

  // Event ids recorded by groups prepared but not yet written, with their
  // receipts and events, so that a repeat in the next group is found before
  // its first copy reaches RocksDB. A key leaves once its group is durable
  // or has failed, before its request is answered and its event let go.
  absl::Mutex pending_mu_;
  std::unordered_map<std::string, Recorded> pending_ ABSL_GUARDED_BY(pending_mu_);

  // Preparing thread only. The head of every history that a group not yet
  // durable changed, and of others read since (see KeepHeads), by
  // HistoryKey, with its map key (a hash, computed once).
  struct KnownHead {
    MapValue value;
    Hash map_key{};
  };
  absl::flat_hash_map<HistoryKey, KnownHead> heads_;
  CompactRange range_;
  // The partial tiles at range_'s edge as the last prepared group left them.
  TileEdge tiles_;
  Hash chain_head_;
  absl::Time last_commit_;

  // Changed by the committing thread only; read by any (map()).
  std::unique_ptr<MapWriter> map_;

  // Erasure and retention records submitted and not yet answered; while
  // there are any, DescribeAhead makes no keys (see there).
  std::atomic<int> shreds_in_flight_{0};

  // Stores and syncs the data keys a group created, beside its sealing
  // (KeyStore::SyncNewKeys); null without a key store, or without a thread
  // for it (then the preparing thread syncs them itself).
  std::unique_ptr<SharedRuns> key_syncs_;

  std::thread preparing_;
  std::thread committing_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_GROUP_WRITER_H_
