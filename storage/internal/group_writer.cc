#include "storage/internal/group_writer.h"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "base/strings.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/derived_keys.h"
#include "storage/internal/entry_codec.h"
#include "storage/internal/ledger_impl.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {
namespace {

absl::Status WriteFailedError() {
  return absl::UnavailableError(
      "an earlier ledger write failed; nothing more is recorded until innsynd is restarted on a "
      "working disk");
}

// The worker that stores and syncs new data keys, if there is a key store
// and a thread for it.
std::unique_ptr<SharedRuns> KeySyncs(KeyStore* keys) {
  if (keys == nullptr) return nullptr;
  try {
    return std::make_unique<SharedRuns>([keys] { return keys->SyncNewKeys(); });
  } catch (const std::system_error&) {
    return nullptr;
  }
}

}  // namespace

struct GroupWriter::Request {
  std::vector<const v1::AccessEvent*> events;
  // Set for an import at go-live: the events become baseline entries.
  const v1::Baseline* baseline = nullptr;
  // Records that are not access events (queries, alerts, decisions): the
  // bodies of the entries to write, whose seq and time the writer sets.
  std::vector<const v1::LedgerEntry*> records;
  // The record of AppendRecordAsync, which the request owns.
  std::unique_ptr<const v1::LedgerEntry> owned_record;
  size_t bytes = 0;  // serialized size of the events
  // The clear header and key base of each event (or record), described
  // once for the key lookup and the entry alike: an event's by its caller
  // (DescribeAhead), a record's by the preparing thread.
  std::vector<EntryHeader> described;
  // The data keys DescribeAhead found or made, by key base: the live id
  // then, and its key.
  struct AheadKey {
    std::string base;
    std::string id;
    std::shared_ptr<const DataKey> key;
  };
  std::vector<AheadKey> ahead_keys;
  // For an erasure or retention record: the keys to shred once written,
  // and whether the record is durable while its shred failed.
  std::vector<std::string> shred_ids;
  bool shred_pending = false;
  // The keys shred_ids must hold, checked when the record is prepared.
  std::optional<ShredScope> shred_scope;
  // Set when the record is prepared: shred_ids are then retiring, and no
  // entry after the record is sealed under them.
  bool retiring = false;
  // Set for AppendEventsAsync: the writer runs it, then deletes the request.
  Ledger::AppendDone done_callback;
  // Filled by the writer thread.
  absl::Status status;
  std::vector<v1::AppendReceipt> receipts;
  bool done = false;
};

// One group between the two stages: prepared (numbered, hashed, its batch
// built) by the preparing thread, then written and answered by the
// committing thread.
struct GroupWriter::Group {
  std::vector<Request*> requests;
  size_t events = 0;  // in the requests, counting a query as one
  rocksdb::WriteBatch batch;
  uint64_t first_seq = 0;  // entries [first_seq, end_seq) are new
  uint64_t end_seq = 0;
  absl::Status failure;  // a read failed while preparing
  // Keys of the events first recorded here, in `pending_` until written.
  std::vector<std::string> dedupe_keys;
  // The syncs of the data keys its drafts created (KeyStore::SyncNewKeys),
  // run while the group is sealed; each must succeed before it is written.
  std::vector<std::future<absl::Status>> key_syncs;
  // The new head of every history the group's entries join, and its map key.
  absl::flat_hash_map<HistoryKey, MapWriter::Change> map_changes;
};

GroupWriter::GroupWriter(LedgerImpl& impl, CompactRange range, TileEdge tiles, Hash chain_head,
                         absl::Time last_commit, std::unique_ptr<MapWriter> map)
    : impl_(impl),
      range_(std::move(range)),
      tiles_(std::move(tiles)),
      chain_head_(chain_head),
      last_commit_(last_commit),
      map_(std::move(map)),
      key_syncs_(KeySyncs(impl.keys.get())),
      preparing_([this] { Prepare(); }),
      committing_([this] { Commit(); }) {}

GroupWriter::~GroupWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  preparing_.join();
  committing_.join();
}

absl::StatusOr<std::vector<v1::AppendReceipt>> GroupWriter::AppendEvents(
    std::vector<const v1::AccessEvent*> events, const v1::Baseline* baseline) {
  Request request;
  for (const v1::AccessEvent* event : events) request.bytes += event->ByteSizeLong();
  request.events = std::move(events);
  request.baseline = baseline;
  DescribeAhead(request);
  return Submit(request);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> GroupWriter::AppendRecords(
    std::vector<const v1::LedgerEntry*> records) {
  Request request;
  request.records = std::move(records);
  return Submit(request);
}

absl::StatusOr<v1::AppendReceipt> GroupWriter::AppendRecord(const v1::LedgerEntry& record) {
  Request request;
  request.records = {&record};
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = Submit(request);
  if (!receipts.ok()) return receipts.status();
  return std::move(receipts->front());
}

absl::StatusOr<v1::AppendReceipt> GroupWriter::AppendShredRecord(const v1::LedgerEntry& record,
                                                                 std::vector<std::string> key_ids,
                                                                 std::optional<ShredScope> scope) {
  Request request;
  request.records = {&record};
  request.shred_ids = std::move(key_ids);
  request.shred_scope = std::move(scope);
  shreds_in_flight_.fetch_add(1);
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = Submit(request);
  shreds_in_flight_.fetch_sub(1);
  if (request.retiring) {
    // A key leaves the retiring set once shredded (then LiveKeyId skips it
    // anyway), or if nothing was recorded. A record that is durable while
    // its shred failed keeps its keys retiring: the next start shreds them,
    // so nothing new may be sealed under them meanwhile.
    const bool recorded = receipts.ok() || request.shred_pending;
    absl::MutexLock lock(&impl_.retiring_mu);
    for (const std::string& id : request.shred_ids) {
      if (!recorded || impl_.keys == nullptr || impl_.keys->IsShredded(id)) {
        auto it = impl_.retiring.find(id);
        if (it != impl_.retiring.end() && --it->second == 0) impl_.retiring.erase(it);
      }
    }
  }
  if (!receipts.ok()) return receipts.status();
  return std::move(receipts->front());
}

absl::Status GroupWriter::AppendEventsAsync(std::vector<const v1::AccessEvent*> events,
                                            Ledger::AppendDone done) {
  auto request = std::make_unique<Request>();
  for (const v1::AccessEvent* event : events) request->bytes += event->ByteSizeLong();
  request->events = std::move(events);
  request->done_callback = std::move(done);
  DescribeAhead(*request);
  return EnqueueAnswered(std::move(request));
}

absl::Status GroupWriter::AppendRecordAsync(std::unique_ptr<const v1::LedgerEntry> record,
                                            Ledger::AppendDone done) {
  auto request = std::make_unique<Request>();
  request->records = {record.get()};
  request->owned_record = std::move(record);
  request->done_callback = std::move(done);
  return EnqueueAnswered(std::move(request));
}

absl::Status GroupWriter::EnqueueAnswered(std::unique_ptr<Request> request) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enqueue(*request); !s.ok()) return s;
  request.release();  // the writer thread deletes it once answered
  return absl::OkStatus();
}

size_t GroupWriter::QueuedEvents() {
  absl::MutexLock lock(&mu_);
  return queued_events_;
}

void GroupWriter::DescribeAhead(Request& request) {
  request.described.reserve(request.events.size());
  for (const v1::AccessEvent* event : request.events) {
    request.described.push_back(
        DescribeEvent(*event, request.baseline != nullptr, *impl_.pseudonymizer));
  }
  // The keys are a head start only: PrepareKeys takes one only if its id is
  // still the live one when the group is prepared (else it asks the key
  // store again), and has every key written here synced before the group.
  // While an erasure or retention record waits, none is made: a key made
  // after the record's keys were listed would have it refused and listed
  // again (see AppendShredRecord).
  // A request of a few events leaves its keys to the writer, which stores
  // all of a group's new keys in one write, not one per request.
  if (impl_.keys == nullptr || request.events.size() < impl_.options.keys_ahead_min_events ||
      shreds_in_flight_.load() > 0) {
    return;
  }
  absl::flat_hash_set<std::string_view> bases;
  std::vector<std::string> ids;
  for (const EntryHeader& described : request.described) {
    if (!described.key_base.empty() && bases.insert(described.key_base).second) {
      request.ahead_keys.push_back({described.key_base, impl_.LiveKeyId(described.key_base), {}});
      ids.push_back(request.ahead_keys.back().id);
    }
  }
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys =
      impl_.keys->GetOrCreate(ids, KeyStore::Sync::kLater);
  // A failure (a shred meanwhile, a disk error) is the preparing thread's
  // to meet again and answer.
  if (!keys.ok()) {
    request.ahead_keys.clear();
    return;
  }
  for (size_t i = 0; i < keys->size(); ++i) request.ahead_keys[i].key = std::move((*keys)[i]);
}

absl::StatusOr<std::vector<v1::AppendReceipt>> GroupWriter::Submit(Request& request) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enqueue(request); !s.ok()) return s;
  mu_.Await(absl::Condition(&request.done));
  if (!request.status.ok()) return request.status;
  return std::move(request.receipts);
}

absl::Status GroupWriter::Enqueue(Request& request) {
  if (impl_.write_failed.load()) return WriteFailedError();
  if (stopping_) return absl::UnavailableError("ledger is shutting down");
  // Back-pressure: a full queue refuses events rather than grow memory.
  // Query, alert and decision records are never refused; they are few and
  // small.
  const size_t events = request.events.size();
  if (request.records.empty() && (queued_events_ + events > impl_.options.max_queued_events ||
                                  queued_bytes_ + request.bytes > impl_.options.max_queued_bytes)) {
    return absl::ResourceExhaustedError(
        StrCat("ingest queue full (", queued_events_, " events, ", queued_bytes_,
               " bytes waiting to be written); nothing of this request was recorded, retry in ",
               kRetryHintMillis, " ms"));
  }
  queued_events_ += events + request.records.size();
  queued_bytes_ += request.bytes;
  queue_.push_back(&request);
  return absl::OkStatus();
}

void GroupWriter::Prepare() {
  while (true) {
    std::unique_ptr<Group> group;
    std::vector<Request*> requests;
    {
      absl::MutexLock lock(&mu_);
      // One group waits prepared while the one before it is written, and
      // grows with the requests that arrive meanwhile, up to the group size.
      mu_.Await(absl::Condition(
          +[](GroupWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return (!w->queue_.empty() &&
                    (w->prepared_ == nullptr ||
                     w->prepared_->events < w->impl_.options.max_group_events)) ||
                   (w->stopping_ && w->queue_.empty());
          },
          this));
      if (queue_.empty()) {
        preparing_done_ = true;  // stopping, and nothing left to write
        return;
      }
      group = prepared_ ? std::move(prepared_) : std::make_unique<Group>();
      while (!queue_.empty() &&
             (group->requests.empty() || group->events < impl_.options.max_group_events)) {
        Request* next = queue_.front();
        group->events += next->records.size() + next->events.size();
        queued_events_ -= next->events.size() + next->records.size();
        queued_bytes_ -= next->bytes;
        group->requests.push_back(next);
        requests.push_back(next);
        queue_.pop_front();
        // The requests behind an erasure or retention record make their
        // keys after it is prepared (in the next call), so that none is
        // sealed under a key it retires.
        if (!next->shred_ids.empty()) break;
      }
    }
    PrepareRequests(*group, requests);
    absl::MutexLock lock(&mu_);
    prepared_ = std::move(group);
  }
}

void GroupWriter::Commit() {
  while (true) {
    std::unique_ptr<Group> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](GroupWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return w->prepared_ != nullptr || w->preparing_done_;
          },
          this));
      if (prepared_ == nullptr) return;
      group = std::move(prepared_);
    }
    GroupCommitStats stats = CommitGroup(*group);
    if (impl_.options.on_group_commit) {
      {
        absl::MutexLock lock(&mu_);
        stats.queued_events = queued_events_;
        stats.queued_bytes = queued_bytes_;
      }
      impl_.options.on_group_commit(stats);
    }
    Answer(*group);
  }
}

void GroupWriter::Answer(Group& group) {
  // Waiting callers wake; callbacks run here, in queue order, outside the
  // lock, and their requests are the writer's to delete.
  std::vector<std::unique_ptr<Request>> answered;
  {
    absl::MutexLock lock(&mu_);
    for (Request* request : group.requests) {
      if (request->done_callback) {
        answered.emplace_back(request);
      } else {
        request->done = true;
      }
    }
  }
  for (std::unique_ptr<Request>& request : answered) {
    if (request->status.ok()) {
      request->done_callback(std::move(request->receipts));
    } else {
      request->done_callback(request->status);
    }
  }
}

GroupCommitStats GroupWriter::CommitGroup(Group& group) {
  GroupCommitStats stats;
  stats.requests = group.requests.size();
  stats.entries = group.end_seq - group.first_seq;
  stats.batch_bytes = group.batch.GetDataSize();
  absl::Status failure = group.failure;
  // Nothing sealed under a new data key is written before that key is
  // durable.
  for (std::future<absl::Status>& synced : group.key_syncs) {
    absl::Status s = synced.get();
    if (failure.ok()) failure = s;
  }
  // Groups are written in order, and none after a failed one: a group
  // prepared on top of it may name its entries.
  if (failure.ok() && impl_.write_failed.load()) failure = WriteFailedError();
  if (failure.ok() && group.end_seq != group.first_seq && impl_.options.keep_histories) {
    // The subject map after this group, computed here because the nodes it
    // starts from are those the groups before committed.
    std::vector<MapWriter::Change> changes;
    changes.reserve(group.map_changes.size());
    for (const auto& [id, change] : group.map_changes) changes.push_back(change);
    failure = map_->Apply(std::move(changes), group.end_seq, group.batch, impl_.meta);
  }
  if (failure.ok() && group.end_seq != group.first_seq) {
    group.batch.Put(impl_.meta, kMetaSize, SeqKey(group.end_seq));
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    const absl::Time write_start = Now();
    failure = FromRocks(impl_.db->Write(write_options, &group.batch), "ledger write");
    stats.write_time = Now() - write_start;
  }
  if (!group.dedupe_keys.empty()) {
    absl::MutexLock lock(&pending_mu_);
    for (const std::string& key : group.dedupe_keys) pending_.erase(key);
  }
  if (!failure.ok()) {
    // Nothing of this group is acknowledged, and nothing is written after
    // it: whether its batch reached the disk is unknown until a restart
    // recovers the WAL.
    map_->Abandon();
    stats.ok = false;
    const bool first_failure = !impl_.write_failed.exchange(true);
    absl::Status unavailable =
        first_failure ? absl::UnavailableError(
                            StrCat("ledger write failed, nothing recorded: ", failure.message()))
                      : WriteFailedError();
    for (Request* request : group.requests) {
      request->receipts.clear();
      request->status = unavailable;
    }
    return stats;
  }
  // The size first: a proof taken between the two is of the map before
  // this group, whose tree the ledger already holds, never of a tree
  // larger than Size().
  impl_.committed_size.store(group.end_seq, std::memory_order_release);
  map_->Commit();
  if (absl::Status shredded = ShredAfterCommit(group); !shredded.ok()) {
    // The record is durable: the next start finishes the shred
    // (LedgerImpl::FinishShreds). Its caller learns that it is not done.
    for (Request* request : group.requests) {
      if (request->status.ok() && !request->shred_ids.empty()) {
        request->shred_pending = true;
        request->receipts.clear();
        request->status = absl::UnavailableError(
            StrCat("the erasure was recorded but its keys are not yet shredded (",
                   shredded.message(), "); innsynd finishes it when it starts again"));
      }
    }
  }
  return stats;
}

absl::Status GroupWriter::ShredAfterCommit(Group& group) {
  std::vector<std::string> ids;
  for (Request* request : group.requests) {
    if (request->status.ok()) {
      ids.insert(ids.end(), request->shred_ids.begin(), request->shred_ids.end());
    }
  }
  if (ids.empty() || impl_.keys == nullptr) return absl::OkStatus();
  return impl_.keys->Shred(ids).status();
}

// What one call of PrepareRequests adds to its group, built up one entry at
// a time. Preparing thread only.
struct GroupWriter::Draft {
  Draft(rocksdb::WriteBatch& batch, absl::Time now, uint64_t first_seq)
      : batch(batch), now(now), committed_at(ToProtoMicros(now)), first_seq(first_seq) {}

  rocksdb::WriteBatch& batch;
  const absl::Time now;
  const google::protobuf::Timestamp committed_at;
  // Events first recorded here, by dedupe key, for repeats within the draft.
  std::unordered_map<std::string, Recorded> fresh;
  // Index and event-id keys, put in sorted order once all entries are in.
  std::vector<std::string> index_keys;
  std::vector<std::pair<std::string, std::string>> dedupe_puts;
  // The nodes the entries completed at tree levels that tiles store.
  std::vector<CompactRange::Node> tile_nodes;
  // The chain hashes of the entries, from `first_seq` on, concatenated.
  const uint64_t first_seq;
  std::string chain_heads;
  std::string scratch;
  // Every head the draft changed, with its value before (nullopt: it was
  // not in heads_), oldest first.
  std::vector<std::pair<HistoryKey, std::optional<MapValue>>> head_undo;
  // The data key of each key base the draft's entries use: its live id
  // and the key.
  struct LiveKey {
    std::string id;
    std::shared_ptr<const DataKey> key;
  };
  absl::flat_hash_map<std::string, LiveKey> keys;
};

void GroupWriter::PrepareRequests(Group& group, const std::vector<Request*>& requests) {
  if (group.requests.size() == requests.size()) group.first_seq = group.end_seq = range_.size();
  // After a failure (here or in a group before) the commit answers it.
  if (impl_.write_failed.load() || !group.failure.ok()) return;
  const CompactRange saved_range = range_;
  const Hash saved_chain = chain_head_;
  Draft draft(group.batch, CommitTime(), saved_range.size());
  for (Request* request : requests) {
    // An event request comes described (DescribeAhead).
    request->described.reserve(request->records.size());
    for (const v1::LedgerEntry* record : request->records) {
      // A record's hour and key year are those of its commit.
      v1::LedgerEntry copy = *record;
      *copy.mutable_committed_at() = draft.committed_at;
      request->described.push_back(DescribeEntry(copy, *impl_.pseudonymizer));
    }
  }
  bool new_keys = false;
  absl::Status failure = PrepareKeys(draft, requests, new_keys);
  // The draft holds what it uses; no other copy of a key outlives it.
  for (Request* request : requests) request->ahead_keys.clear();
  if (new_keys) {
    // The new keys' fsync runs beside the sealing below, rather than
    // before it; CommitGroup waits for it. Without a thread for it, here.
    if (key_syncs_ != nullptr) {
      group.key_syncs.push_back(key_syncs_->Ask());
    } else {
      std::promise<absl::Status> synced;
      synced.set_value(impl_.keys->SyncNewKeys());
      group.key_syncs.push_back(synced.get_future());
    }
  }
  for (Request* request : requests) {
    if (!failure.ok()) break;
    failure =
        request->records.empty() ? PrepareEvents(draft, *request) : PrepareRecords(draft, *request);
  }
  if (!failure.ok()) {
    // The commit answers every request of the group with the failure.
    group.failure = failure;
    range_ = saved_range;
    chain_head_ = saved_chain;
    UndoHeads(draft, 0);
    return;
  }
  if (range_.size() != saved_range.size()) PutDerivedKeys(draft);
  KeepHeads(draft, group);
  group.end_seq = range_.size();
  last_commit_ = draft.now;
  AddPending(draft, group);
}

absl::Time GroupWriter::CommitTime() const {
  // Whole microseconds, as committed_at stores it, so that the query index
  // key can be derived again from the entry; never before the last group.
  return absl::FromUnixMicros(absl::ToUnixMicros(std::max(Now(), last_commit_)));
}

absl::Status GroupWriter::PrepareRecords(Draft& draft, Request& request) {
  if (request.shred_scope && impl_.keys != nullptr) {
    // Every group queued before this record has made its keys by now: a
    // key made after its caller listed them is found here, not left live
    // under entries recorded before the erasure.
    absl::StatusOr<std::vector<std::string>> live =
        impl_.keys->ListIds(request.shred_scope->prefix);
    if (!live.ok()) return live.status();
    const absl::flat_hash_set<std::string> named(request.shred_ids.begin(),
                                                 request.shred_ids.end());
    for (const std::string& id : *live) {
      if (!named.contains(id) && request.shred_scope->due(id)) {
        request.status = absl::AbortedError(StrCat(
            "the data key ", id, " was made after the keys to shred were listed; list them again"));
        return absl::OkStatus();
      }
    }
  }
  if (!request.shred_ids.empty()) {
    absl::MutexLock lock(&impl_.retiring_mu);
    for (const std::string& id : request.shred_ids) ++impl_.retiring[id];
    request.retiring = true;
  }
  for (size_t i = 0; i < request.records.size(); ++i) {
    v1::LedgerEntry entry = *request.records[i];
    absl::StatusOr<v1::AppendReceipt> receipt =
        AddEntry(draft, entry, std::move(request.described[i]));
    if (!receipt.ok()) return receipt.status();
    request.receipts.push_back(*std::move(receipt));
  }
  return absl::OkStatus();
}

absl::Status GroupWriter::PrepareKeys(Draft& draft, const std::vector<Request*>& requests,
                                      bool& new_keys) {
  if (impl_.keys == nullptr) return absl::OkStatus();  // stored in the clear
  size_t entries = 0;
  for (const Request* request : requests) entries += request->described.size();
  draft.keys.reserve(entries);
  for (const Request* request : requests) {
    for (const EntryHeader& described : request->described) {
      // Erasure and retention records are stored in the clear.
      if (!described.key_base.empty()) draft.keys.try_emplace(described.key_base);
    }
  }
  if (draft.keys.empty()) return absl::OkStatus();
  // A key found ahead serves if its id is still the live one: an id names
  // one key for good, and a shredded or retiring id is not live.
  for (const Request* request : requests) {
    for (const Request::AheadKey& ahead : request->ahead_keys) {
      auto it = draft.keys.find(ahead.base);
      if (it == draft.keys.end() || it->second.key != nullptr) continue;
      it->second.id = impl_.LiveKeyId(ahead.base);
      if (it->second.id == ahead.id) it->second.key = ahead.key;
    }
  }
  // Keys made here, or ahead by the callers, are synced beside the group's
  // sealing: each write of new keys counts as unsynced until a sync begun
  // after it succeeds.
  absl::Cleanup owed_sync = [&] { new_keys = new_keys || impl_.keys->HasUnsyncedKeys(); };
  // A key shredded between choosing its live id and fetching it is asked
  // for again under its next generation.
  for (int attempt = 0;; ++attempt) {
    std::vector<std::string> ids;
    std::vector<Draft::LiveKey*> wanted;
    for (auto& [base, live] : draft.keys) {
      if (live.key != nullptr) continue;
      live.id = impl_.LiveKeyId(base);
      ids.push_back(live.id);
      wanted.push_back(&live);
    }
    if (ids.empty()) return absl::OkStatus();
    absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys =
        impl_.keys->GetOrCreate(ids, KeyStore::Sync::kLater);
    if (absl::IsFailedPrecondition(keys.status()) && attempt < 3) continue;
    if (!keys.ok()) return keys.status();
    for (size_t i = 0; i < wanted.size(); ++i) wanted[i]->key = std::move((*keys)[i]);
    return absl::OkStatus();
  }
}

absl::Status GroupWriter::PrepareEvents(Draft& draft, Request& request) {
  // What the request adds, so that a refused request adds nothing.
  draft.batch.SetSavePoint();
  const CompactRange saved_range = range_;
  const Hash saved_chain = chain_head_;
  const size_t saved_index_keys = draft.index_keys.size();
  const size_t saved_dedupe_puts = draft.dedupe_puts.size();
  const size_t saved_tile_nodes = draft.tile_nodes.size();
  const size_t saved_chain_heads = draft.chain_heads.size();
  const size_t saved_heads = draft.head_undo.size();
  std::vector<std::string> added;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const v1::AccessEvent& event = *request.events[i];
    std::string key = request.described[i].header.event();
    const bool baseline = request.baseline != nullptr;
    absl::StatusOr<std::optional<v1::AppendReceipt>> original =
        OriginalReceipt(draft, key, event, baseline);
    if (!original.ok()) {
      // A read that failed (a disk error) fails the group. A reused event
      // id, or a first copy that no longer matches its leaf hash (the
      // ledger is then marked damaged), refuses this request, all of it,
      // and the requests beside it in the group go on.
      if (!absl::IsAlreadyExists(original.status()) && !absl::IsDataLoss(original.status())) {
        (void)draft.batch.PopSavePoint();
        return original.status();
      }
      (void)draft.batch.RollbackToSavePoint();
      range_ = saved_range;
      chain_head_ = saved_chain;
      draft.index_keys.resize(saved_index_keys);
      draft.dedupe_puts.resize(saved_dedupe_puts);
      draft.tile_nodes.resize(saved_tile_nodes);
      draft.chain_heads.resize(saved_chain_heads);
      UndoHeads(draft, saved_heads);
      for (const std::string& fresh : added) draft.fresh.erase(fresh);
      request.receipts.clear();
      request.status = absl::Status(original.status().code(),
                                    StrCat("event ", i, ": ", original.status().message()));
      return absl::OkStatus();
    }
    if (original->has_value()) {
      v1::AppendReceipt& receipt = **original;
      receipt.set_event_id(event.event_id());
      receipt.set_duplicate(true);
      request.receipts.push_back(std::move(receipt));
      continue;
    }
    v1::LedgerEntry entry;
    if (baseline) {
      *entry.mutable_baseline() = *request.baseline;
      *entry.mutable_baseline()->mutable_event() = event;
    }
    // An access event is encoded as the entry's body where it is, not
    // copied into it.
    absl::StatusOr<v1::AppendReceipt> added_receipt =
        AddEntry(draft, entry, std::move(request.described[i]), baseline ? nullptr : &event);
    if (!added_receipt.ok()) {
      (void)draft.batch.PopSavePoint();
      return added_receipt.status();
    }
    v1::AppendReceipt receipt = *std::move(added_receipt);
    receipt.set_event_id(event.event_id());
    added.push_back(key);
    draft.fresh.emplace(std::move(key), Recorded{receipt, &event, baseline});
    request.receipts.push_back(std::move(receipt));
  }
  (void)draft.batch.PopSavePoint();
  return absl::OkStatus();
}

namespace {

// Whether a resent event is the one recorded: byte for byte, as the
// ledger serialises it.
bool SameEvent(const v1::AccessEvent& a, const v1::AccessEvent& b) {
  return SerializeDeterministic(a) == SerializeDeterministic(b);
}

// An access event sent with the id of a baseline entry, or the reverse, is
// not a retry either.
absl::Status OtherKindError(const v1::AccessEvent& event, uint64_t seq, bool baseline) {
  return absl::AlreadyExistsError(StrCat(
      "event_id ", event.event_id(), " of source ", event.source().system(),
      " was recorded as seq ", seq, baseline ? ", an access event" : ", a baseline entry (go-live)",
      "; a new event needs a new event_id"));
}

absl::Status ReusedIdError(const v1::AccessEvent& event, uint64_t seq) {
  return absl::AlreadyExistsError(
      StrCat("event_id ", event.event_id(), " of source ", event.source().system(),
             event.source().instance().empty() ? "" : "/", event.source().instance(),
             " was recorded as seq ", seq,
             " with other contents; a retry must resend the same event, and a new event needs a "
             "new event_id"));
}

}  // namespace

absl::StatusOr<std::optional<v1::AppendReceipt>> GroupWriter::OriginalReceipt(
    const Draft& draft, const std::string& key, const v1::AccessEvent& event, bool baseline) {
  using Found = std::optional<v1::AppendReceipt>;
  if (auto it = draft.fresh.find(key); it != draft.fresh.end()) {
    if (it->second.baseline != baseline) {
      return OtherKindError(event, it->second.receipt.seq(), baseline);
    }
    if (!SameEvent(*it->second.event, event)) return ReusedIdError(event, it->second.receipt.seq());
    return Found(it->second.receipt);
  }
  {
    // Recorded by an earlier group still being written. Its event is
    // compared under the lock: the commit erases the key under it before
    // the request is answered and its event let go.
    absl::MutexLock lock(&pending_mu_);
    if (auto it = pending_.find(key); it != pending_.end()) {
      if (it->second.baseline != baseline) {
        return OtherKindError(event, it->second.receipt.seq(), baseline);
      }
      if (!SameEvent(*it->second.event, event)) {
        return ReusedIdError(event, it->second.receipt.seq());
      }
      return Found(it->second.receipt);
    }
  }
  absl::StatusOr<std::string> stored = ReadDedupe(key);
  if (absl::IsNotFound(stored.status())) return Found();
  if (!stored.ok()) return stored.status();
  v1::LedgerEntry entry;
  absl::StatusOr<v1::AppendReceipt> receipt = impl_.ReceiptFor(ReadBigEndian64(*stored), &entry);
  if (!receipt.ok()) return receipt.status();
  // An erased event cannot be compared. A retry comes within minutes, long
  // before anything is erased; an event id met again after its first event
  // was erased is a reused id, refused rather than taken for a retry.
  if (entry.has_access_event() == baseline || entry.has_baseline() != baseline) {
    if (entry.has_access_event() || entry.has_baseline()) {
      return OtherKindError(event, receipt->seq(), baseline);
    }
    return absl::AlreadyExistsError(
        StrCat("event_id ", event.event_id(), " of source ", event.source().system(),
               " was recorded as seq ", receipt->seq(),
               " and that entry has since been erased; a new event needs a new event_id"));
  }
  const v1::AccessEvent& recorded = baseline ? entry.baseline().event() : entry.access_event();
  if (!SameEvent(recorded, event)) return ReusedIdError(event, receipt->seq());
  return Found(*std::move(receipt));
}

absl::StatusOr<v1::AppendReceipt> GroupWriter::AddEntry(Draft& draft, v1::LedgerEntry& entry,
                                                        EntryHeader described,
                                                        const v1::AccessEvent* access_event) {
  const uint64_t seq = range_.size();
  entry.set_seq(seq);
  *entry.mutable_committed_at() = draft.committed_at;
  described.header.set_seq(seq);
  const Draft::LiveKey* live = nullptr;
  if (!described.key_base.empty() && impl_.keys != nullptr) {
    auto it = draft.keys.find(described.key_base);
    // PrepareKeys found the key of every entry; never store one in the clear.
    if (it == draft.keys.end()) {
      std::abort();
    }
    live = &it->second;
  }
  // The entry names the one before it in its subject's history and in its
  // actor's, and becomes their head.
  v1::SealedEntry& header = described.header;
  const bool histories = impl_.options.keep_histories;
  const bool in_subject_history = histories && InHistory(header, MapSpace::kSubject);
  const bool in_actor_history = histories && InHistory(header, MapSpace::kActor);
  HistoryKey subject_history, actor_history;
  MapValue subject_head, actor_head;
  auto link = [&](MapSpace space, std::string_view pseudonym, HistoryKey& history,
                  MapValue& head) -> absl::Status {
    history = MakeHistoryKey(space, pseudonym);
    absl::StatusOr<MapValue> found = Head(draft, history);
    if (!found.ok()) return found.status();
    head = *found;
    LinkAfter(header, space, head);
    return absl::OkStatus();
  };
  if (in_subject_history) {
    if (absl::Status s = link(MapSpace::kSubject, header.subject(), subject_history, subject_head);
        !s.ok()) {
      return s;
    }
  }
  if (in_actor_history) {
    if (absl::Status s = link(MapSpace::kActor, header.actor(), actor_history, actor_head);
        !s.ok()) {
      return s;
    }
  }
  const EncodedEntry encoded =
      live == nullptr
          ? EncodeEntry(described.header, entry, "", nullptr, access_event)
          : EncodeEntry(described.header, entry, live->id, live->key.get(), access_event);
  const std::string& bytes = encoded.bytes;
  const Hash leaf = LeafHash(bytes);
  auto become_head = [&](const HistoryKey& id, const MapValue& before) {
    auto [it, inserted] = heads_.try_emplace(id);
    if (inserted) it->second.map_key = MapKey(static_cast<MapSpace>(id[0]), View(id).substr(1));
    it->second.value = {seq, before.count + 1, encoded.header_hash};
  };
  if (in_subject_history) become_head(subject_history, subject_head);
  if (in_actor_history) become_head(actor_history, actor_head);
  chain_head_ = ChainHash(chain_head_, leaf);
  for (const CompactRange::Node& node : range_.Append(leaf)) {
    if (node.level % kTreeTileHeight == 0) draft.tile_nodes.push_back(node);
  }
  draft.batch.Put(impl_.entries, SeqKey(seq), bytes);
  draft.chain_heads.append(AsBytes(chain_head_));
  if (live != nullptr) described.header.set_key_id(live->id);
  CollectDerivedKeys(draft, described.header);
  v1::AppendReceipt receipt;
  receipt.set_seq(seq);
  receipt.set_leaf_hash(std::string(AsBytes(leaf)));
  receipt.set_chain_hash(std::string(AsBytes(chain_head_)));
  *receipt.mutable_committed_at() = draft.committed_at;
  return receipt;
}

absl::StatusOr<MapValue> GroupWriter::Head(Draft& draft, const HistoryKey& id) {
  if (auto it = heads_.find(id); it != heads_.end()) {
    draft.head_undo.emplace_back(id, it->second.value);
    return it->second.value;
  }
  MapValue head;
  absl::StatusOr<std::string> stored = impl_.Get(impl_.map, HeadKey(View(id)));
  if (stored.ok()) {
    std::optional<MapValue> value = DecodeMapValue(*stored);
    if (!value) return absl::DataLossError("a stored head of the subject map is corrupt");
    head = *value;
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  draft.head_undo.emplace_back(id, std::nullopt);
  return head;
}

void GroupWriter::UndoHeads(Draft& draft, size_t undo_size) {
  while (draft.head_undo.size() > undo_size) {
    auto& [id, before] = draft.head_undo.back();
    if (before) {
      heads_.at(id).value = *before;
    } else {
      heads_.erase(id);
    }
    draft.head_undo.pop_back();
  }
}

void GroupWriter::KeepHeads(Draft& draft, Group& group) {
  // Heads stay in memory while their group is not yet durable, so that the
  // next group links to them; beyond a bound, the durable ones are let go.
  std::vector<HistoryKey> ids;
  ids.reserve(draft.head_undo.size());
  for (const auto& [id, before] : draft.head_undo) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string key, value;
  for (const HistoryKey& id : ids) {
    const KnownHead& head = heads_.at(id);
    SetHeadKey(key, View(id));
    value.clear();
    AppendMapValue(value, head.value);
    draft.batch.Put(impl_.map, key, value);
    group.map_changes.insert_or_assign(id, MapWriter::Change{head.map_key, head.value});
  }
  constexpr size_t kMaxHeads = 1 << 18;
  if (heads_.size() > kMaxHeads) {
    const uint64_t durable = impl_.committed_size.load(std::memory_order_acquire);
    for (auto it = heads_.begin(); it != heads_.end();) {
      if (it->second.value.seq < durable) {
        heads_.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

void GroupWriter::CollectDerivedKeys(Draft& draft, const v1::SealedEntry& header) {
  ForEachDerivedKey(
      header,
      [&](DerivedKind kind, std::string_view key, std::string_view value) {
        if (kind == kDedupeKeys) {
          draft.dedupe_puts.emplace_back(key, value);
        } else {
          draft.index_keys.emplace_back(key);
        }
      },
      draft.scratch);
}

void GroupWriter::PutDerivedKeys(Draft& draft) {
  for (const CompactRange::Node& node : draft.tile_nodes) {
    tiles_.Add(node.level / kTreeTileHeight, node.index, node.hash);
  }
  tiles_.TakeAdded([&](int tile_level, uint64_t tile_index, std::string_view hashes) {
    draft.batch.Merge(impl_.tree, TileKey(tile_level, tile_index), hashes);
  });
  // Each chain tile the entries reach gets their hashes in it, appended.
  const std::string_view heads = draft.chain_heads;
  for (uint64_t seq = draft.first_seq, done = 0; done < heads.size();) {
    const uint64_t room = kChainTileWidth - seq % kChainTileWidth;
    const size_t take = std::min<size_t>(heads.size() - done, room * kHashBytes);
    draft.batch.Merge(impl_.chain, ChainTileKey(seq), heads.substr(done, take));
    done += take;
    seq += take / kHashBytes;
  }
  // Random keys go in sorted: the memtable's skip list then finds each
  // insert position from the last one instead of from its top.
  std::sort(draft.index_keys.begin(), draft.index_keys.end());
  for (const std::string& key : draft.index_keys) draft.batch.Put(impl_.index, key, "");
  std::sort(draft.dedupe_puts.begin(), draft.dedupe_puts.end());
  for (const auto& [key, value] : draft.dedupe_puts) draft.batch.Put(impl_.dedupe, key, value);
}

void GroupWriter::AddPending(Draft& draft, Group& group) {
  if (draft.fresh.empty()) return;
  group.dedupe_keys.reserve(group.dedupe_keys.size() + draft.fresh.size());
  absl::MutexLock lock(&pending_mu_);
  for (auto& [key, recorded] : draft.fresh) {
    group.dedupe_keys.push_back(key);
    pending_.emplace(key, std::move(recorded));
  }
}

absl::StatusOr<std::string> GroupWriter::ReadDedupe(const std::string& key) const {
  // Almost every lookup is of a new event id, which the Bloom filter
  // answers. The read must fill the block cache: with fill_cache off, a
  // filter block once evicted is read from its file (and its checksum
  // computed) on every lookup, which grows with the ledger until ingest
  // collapses.
  std::string value;
  rocksdb::Status s = impl_.db->Get(rocksdb::ReadOptions(), impl_.dedupe, key, &value);
  if (!s.ok()) return FromRocks(s, "event-id read");
  return value;
}

}  // namespace innsyn::storage::internal
