// The ledger: an append-only, hash-chained, Merkle-tree-backed log of
// LedgerEntry records in RocksDB, with secondary indexes by subject, actor
// and time whose keys carry HMAC pseudonyms, never raw identifiers.
//
// Invariants:
//  - Entry n is stored as the exact bytes that were hashed (see hash.h);
//    nothing is re-serialised for hashing.
//  - Appends go through one group-commit writer thread, which assigns
//    sequence numbers, hashes, and writes each group as one RocksDB batch
//    with a WAL fsync. An append returns only after its group is durable;
//    a failed write acknowledges nothing and leaves memory unchanged.
//  - A request's events are recorded all together or not at all.
//  - (source, event_id) is unique; a repeat returns the original receipt.
//  - Readers see only committed entries: seq < Size().
// Thread safety: all methods may be called concurrently.
#ifndef INNSYN_STORAGE_LEDGER_H_
#define INNSYN_STORAGE_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/backup_folder.h"
#include "storage/hash.h"
#include "storage/ledger_verifier.h"
#include "storage/merkle.h"
#include "storage/subject_map.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace innsyn::storage {

namespace internal {
struct LedgerImpl;
}  // namespace internal

// What one group commit wrote, for metrics.
struct GroupCommitStats {
  size_t entries = 0;         // new entries in the group's batch
  size_t requests = 0;        // append and query requests it answered
  size_t batch_bytes = 0;     // size of the RocksDB write batch
  absl::Duration write_time;  // the batch write with its WAL fsync
  size_t queued_events = 0;   // events and records still waiting behind the group
  size_t queued_bytes = 0;
  bool ok = true;  // false: the write failed, nothing acknowledged
};

struct LedgerOptions {
  // Folder holding the RocksDB files and the keys. Required.
  std::string data_dir;
  // The checkpoint origin line and signing key name.
  std::string origin = "innsyn.local/ledger";
  // Create the folder, database and keys if missing.
  bool create_if_missing = true;
  // Open without the writer and without the private key; appends and
  // signing fail. For offline verification.
  bool read_only = false;
  // The Ed25519 verifier key ("name+keyid+base64") checkpoints must verify
  // against. Empty: the key of this data folder. An auditor pins the key the
  // clinic gave them, so that a swapped key in the folder is noticed.
  std::string verifier_key;
  // Most events the writer puts in one RocksDB batch (one fsync).
  size_t max_group_events = 8192;
  // An append of at least this many events finds or makes their data keys
  // on the caller's thread before it queues them, so that the writer's one
  // preparing thread finds them ready. A smaller one (a unary call) leaves
  // that to the writer, which stores a group's new keys in one write.
  size_t keys_ahead_min_events = 32;
  // Back-pressure: events (records counted too) and serialized event bytes
  // that may wait for the writer. An append of events that would exceed
  // either fails at once with RESOURCE_EXHAUSTED and records nothing;
  // records are never refused. A request larger than these never fits.
  size_t max_queued_events = 100000;
  size_t max_queued_bytes = 64 << 20;
  // RocksDB block cache for entries and indexes; the memtables (64 MiB at
  // most) are charged to it, so the two together stay within it.
  size_t block_cache_bytes = 128 << 20;
  // The RocksDB environment; null for the default. Tests inject disk faults
  // through an Env over a wrapped rocksdb::FileSystem. Not owned.
  rocksdb::Env* env = nullptr;
  // Called on the writer thread after each group commit; must be cheap and
  // must not call back into the ledger. May be empty.
  std::function<void(const GroupCommitStats&)> on_group_commit;
  // innsynd: sign no checkpoint beyond the latest stored one until the
  // full verification at start has passed (Ledger::MarkVerified), so that
  // no signature ever covers bytes changed while innsynd was stopped. A
  // Checkpoint() meanwhile waits up to `verification_wait`.
  bool sign_after_verification = false;
  absl::Duration verification_wait = absl::Seconds(10);

  // ---- Forgetting: the personal part of every entry is sealed under a
  // data key of its subject, class and year (see ledger.proto). ----
  // The key-encryption key that wraps the data keys: 64 hex digits, mode
  // 0600, never in the RocksDB files nor in a backup. Empty: data.kek in
  // the data folder.
  std::string kek_file;
  // Seal entries. Off only to measure what sealing costs (innsyn-bench):
  // then entries are stored in the clear and cannot be forgotten.
  bool seal_entries = true;
  // Link every entry into its subject's and actor's histories and keep the
  // subject map (README, "Complete answers"). Off only to measure what that
  // costs (innsyn-bench): then no answer can be proven complete.
  bool keep_histories = true;
  // Key-store backups are kept this long, so that a shredded key has left
  // every backup this long after it was shredded.
  absl::Duration key_backup_keep = absl::Hours(24 * 35);
};

// One committed entry, as stored, and opened.
struct StoredEntry {
  uint64_t seq = 0;
  std::string bytes;       // E_seq
  Hash leaf_hash{};        // SHA-256(0x00 || bytes), equal to the leaf hash stored when written
  v1::SealedEntry header;  // E_seq's clear header (its `sealed` and `clear` left out)
  // The contents. When `erased`, only its seq is set: the data key it was
  // sealed under has been shredded, and what it said is gone for good.
  v1::LedgerEntry entry;
  bool erased = false;
};

// When a data key's period has expired: years after the end of the
// calendar year (UTC) it covers, by class (the data-object type of access
// events, "query" or "alert"). 0 keeps a class for ever.
struct RetentionPolicy {
  int default_years = 10;
  std::map<std::string, int> years_by_class;
  int YearsFor(std::string_view key_class) const;
};

// Whether `name` is a class of data key: a data-object type in lower case
// ("journal_note"), "query" or "alert".
bool IsRetentionClass(std::string_view name);

// What the retention job did in one run.
struct RetentionResult {
  size_t keys_shredded = 0;
  uint64_t entries_erased = 0;
  std::optional<v1::AppendReceipt> receipt;  // the RetentionRun entry, if anything expired
};

// An erasure on order (Ledger::Erase).
struct ErasureOrder {
  std::string subject_id;            // required
  std::optional<absl::Time> before;  // only periods that ended by then; unset: all
  std::string reason;                // required; no personal data
  std::string reference;
  std::string requested_by;
  std::string requested_by_role;
};

struct IndexQuery {
  std::string id;                  // subject or actor id, as the clients send it
  std::optional<absl::Time> from;  // occurred_at >= from
  std::optional<absl::Time> to;    // occurred_at < to
  size_t limit = 100;
  std::string page_token;  // from a previous IndexPage
  // Answer as of the tree of this many entries (0: the newest), so that
  // every page of an answer, and its HistoryProof, are of one tree.
  uint64_t tree_size = 0;
};

struct IndexPage {
  // By the hour each occurred (UTC; the clear header's), then by seq:
  // within one hour, as recorded, not by time.
  std::vector<StoredEntry> entries;
  std::string next_page_token;  // empty at the end
};

// What proves a subject's (or an actor's) history complete, as of one tree
// (README, "Complete answers"): the subject map's proof for the history's
// key, and every entry of the history, which link back to the first.
struct HistoryProof {
  uint64_t tree_size = 0;  // the tree it is of, a group commit's end
  Hash map_root{};         // the map root a checkpoint of tree_size signs
  std::string pseudonym;   // the history's 16-byte pseudonym
  v1::MapProof map;
  // The history's entries, newest first, as a proof carries them: the
  // clear header without the contents, and the contents' hash.
  struct Link {
    uint64_t seq = 0;
    v1::SealedEntry header;  // `sealed` and `clear` absent
    EntryHeaderBytes bytes;
  };
  std::vector<Link> chain;
};

class Ledger {
 public:
  // What verification has found. Damage lasts until the ledger is opened
  // again: then the start's verification decides anew.
  struct Integrity {
    bool verified = false;                // MarkVerified: the start's verification passed
    bool damaged = false;                 // MarkDamaged, or an entry that failed its check
    std::optional<uint64_t> damaged_seq;  // the first entry found damaged, if one was named
    std::string problem;                  // what was found, when damaged
  };

  static absl::StatusOr<std::unique_ptr<Ledger>> Open(const LedgerOptions& options);
  // Stops the writer after the queued appends are written.
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends access events all-or-nothing; returns one receipt per event, in
  // order, once durable. Events must already be validated. ResourceExhausted
  // when the queue is full (retry later), Unavailable when the disk failed.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendEvents(
      absl::Span<const v1::AccessEvent> events);
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendEvents(
      const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events);
  // Records the clinic's state at go-live: each event as a baseline entry
  // (v1::Baseline: `imported` with the event), which the detectors learn
  // from and which is in no subject's or actor's history, so no answer
  // lists it. As AppendEvents otherwise, duplicates included: an event
  // imported before with the same contents gets its original receipt.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendBaseline(
      const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events,
      const v1::Baseline& imported);
  // The same without waiting, so that one caller can have many requests in
  // flight: queues the events and returns. `done` runs once they are durable
  // (with the receipts) or have failed (with the status), on the writer
  // thread, so it must be quick and must not call into the ledger (but
  // Size, a lock-free read). The events are borrowed until `done` has run.
  // Requests queued one after another are committed, and `done` runs, in
  // that order. A full queue (ResourceExhausted) or a failed or closing
  // ledger is returned at once; then nothing is queued and `done` never
  // runs.
  using AppendDone = std::function<void(absl::StatusOr<std::vector<v1::AppendReceipt>>)>;
  absl::Status AppendEventsAsync(const google::protobuf::RepeatedPtrField<v1::AccessEvent>& events,
                                 AppendDone done);
  // Records a query of the ledger; returns once durable.
  absl::StatusOr<v1::AppendReceipt> AppendQuery(const v1::QueryRecord& query);
  // The same without waiting, for a caller that must not block (a denied
  // call on gRPC's callback API): queues a copy of the record and returns;
  // `done` runs as AppendEventsAsync's does, with one receipt. Never
  // refused by back-pressure; a failed or closing ledger is returned at once.
  absl::Status AppendQueryAsync(const v1::QueryRecord& query, AppendDone done);
  // Records an alert, or a triage decision on one; returns once durable.
  // Like queries, these are never refused by back-pressure.
  absl::StatusOr<v1::AppendReceipt> AppendAlert(const v1::Alert& alert);
  // Several alerts in one group commit, all or none, in order.
  absl::StatusOr<std::vector<v1::AppendReceipt>> AppendAlerts(absl::Span<const v1::Alert> alerts);
  absl::StatusOr<v1::AppendReceipt> AppendAlertDecision(const v1::AlertDecision& decision);

  // Number of committed entries (the tree size).
  uint64_t Size() const;
  // Events and records (queries, alerts, erasures: one each) queued and not
  // yet taken into a group (0 when read-only).
  size_t QueuedEvents() const;
  absl::StatusOr<std::vector<StoredEntry>> GetEntries(uint64_t from_seq, size_t count) const;
  // The stored leaf hashes of entries [from_seq, from_seq + count), cut at
  // Size(): no entry is read.
  absl::StatusOr<std::vector<Hash>> LeafHashes(uint64_t from_seq, size_t count) const;
  // A tile of the tree as C2SP tlog-tiles lays it out: the `width` hashes
  // (1 to 256) at tree level 8 × `level` starting at node 256 × `index`,
  // concatenated, each the root of a perfect subtree of 256^level leaves.
  // The hashes carry no personal data. NotFound while the committed tree
  // is too small to hold them all (README, "Tiles").
  static constexpr int kTileHeight = 8;
  static constexpr int kTileWidth = 1 << kTileHeight;
  static constexpr int kMaxTileLevel = 5;
  absl::StatusOr<std::string> Tile(int level, uint64_t index, int width) const;
  // Access events about a subject, and what an actor did.
  absl::StatusOr<IndexPage> ListSubject(const IndexQuery& query) const;
  absl::StatusOr<IndexPage> ListActor(const IndexQuery& query) const;
  // A subject's baseline entries (go-live state), as ListSubject lists
  // access events; for the detectors' explanations, never for an answer.
  absl::StatusOr<IndexPage> ListSubjectBaseline(const IndexQuery& query) const;
  // The 16-byte pseudonym of a subject id under the pseudonym key, as the
  // clear headers carry it.
  absl::StatusOr<std::string> SubjectPseudonym(std::string_view subject_id) const;
  // The proof that a subject's history (access events and erasures) or an
  // actor's (access events) is complete, as of the tree of `tree_size`
  // entries (0: the newest). An older tree must end where a group commit
  // ended (its checkpoint has a map line); its map is rebuilt, which reads
  // the entries since about every history that has grown.
  absl::StatusOr<HistoryProof> ProveSubjectHistory(std::string_view subject_id,
                                                   uint64_t tree_size = 0) const;
  absl::StatusOr<HistoryProof> ProveActorHistory(std::string_view actor_id,
                                                 uint64_t tree_size = 0) const;
  // Every alert and alert decision entry with seq >= from_seq, in seq order.
  absl::StatusOr<std::vector<StoredEntry>> ListAlertRecords(uint64_t from_seq = 0) const;
  // Every erasure and retention run, in seq order.
  absl::StatusOr<std::vector<StoredEntry>> ListErasures() const;

  // ---- Forgetting ----
  // Shreds the subject's data keys (those of periods ended by `before`, or
  // all) after recording an Erasure entry that names them; returns that
  // entry's receipt and contents. NotFound for a subject with no entries,
  // FailedPrecondition when everything is already erased, InvalidArgument
  // for a missing reason or a `before` in the future.
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> Erase(const ErasureOrder& order);
  // Shreds every data key whose period expired by `now` under `policy`,
  // after recording a RetentionRun entry that names them. Nothing expired:
  // no entry. Safe to run again after a crash: it finishes what was begun.
  absl::StatusOr<RetentionResult> RunRetention(const RetentionPolicy& policy, absl::Time now);
  // Live and shredded data keys, for metrics and tests.
  struct KeyCounts {
    size_t live = 0;
    size_t shredded = 0;
  };
  absl::StatusOr<KeyCounts> CountKeys() const;
  // The entries sealed under `key_id` (committed ones), for tests and
  // erasure records.
  absl::StatusOr<uint64_t> CountEntriesUnderKey(std::string_view key_id) const;

  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;
  absl::StatusOr<Hash> ChainAt(uint64_t tree_size) const;  // chain_{tree_size-1}
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t seq, uint64_t tree_size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first_size,
                                                     uint64_t second_size) const;
  // A signed checkpoint for `tree_size` (0: the current size). One stored
  // before is returned as stored; otherwise it is signed now, if
  // MarkDamaged and sign_after_verification allow. Signing the current size
  // also stores it as the latest checkpoint.
  absl::StatusOr<v1::Checkpoint> Checkpoint(uint64_t tree_size = 0);
  // The latest stored checkpoint, if any.
  std::optional<v1::Checkpoint> LatestStoredCheckpoint() const;
  const std::string& VerifierKey() const;
  const std::string& Origin() const;
  // A signed note, by the checkpoint key, of a statement that is not a
  // checkpoint (CheckpointSigner::SignStatement), such as the digest of an
  // innsyn report; refused when signing checkpoints is.
  absl::StatusOr<std::string> SignStatement(std::string_view text) const;

  // ---- Integrity: innsynd's self-verification reports here. ----
  // The full verification at start passed: signing may go on (see
  // LedgerOptions::sign_after_verification).
  void MarkVerified();
  // Verification found the ledger changed. From now on it takes no access
  // events (Unavailable, naming the damage) and signs no checkpoint beyond
  // the latest stored one (FailedPrecondition); reads go on, so that the
  // controller can investigate, and records of queries and alerts are still
  // appended. Entries that no longer match their leaf hash fail to read
  // with DataLoss either way.
  void MarkDamaged(std::optional<uint64_t> first_bad_seq, std::string problem);
  Integrity GetIntegrity() const;

  // Verification, by a LedgerVerifier (storage/ledger_verifier.h): every
  // hash recomputed from the stored entry bytes and compared with what is
  // stored and signed; with `check_indexes`, also the index and dedupe keys,
  // so that no access can be hidden from a subject's history.
  VerifyReport Verify(bool check_indexes = true) const;
  // A full Verify that, if it succeeds, leaves `progress` at its end.
  using VerifyProgress = storage::VerifyProgress;
  VerifyReport Verify(bool check_indexes, VerifyProgress& progress,
                      const std::atomic<bool>* cancel = nullptr) const;
  // Verifies only the entries committed since `progress`, and advances it
  // on success; a failure leaves it unchanged. Both stop early, `cancelled`,
  // once `*cancel` is true.
  VerifyReport VerifyIncremental(VerifyProgress& progress,
                                 const std::atomic<bool>* cancel = nullptr) const;

  // RocksDB's own health and the ledger's footprint, for metrics.
  struct StorageStats {
    uint64_t disk_bytes = 0;                // the RocksDB folder, WAL included
    uint64_t filesystem_bytes = 0;          // the data folder's filesystem: size
    uint64_t filesystem_avail_bytes = 0;    // and what is left for innsynd
    uint64_t pending_compaction_bytes = 0;  // estimate, all column families
    uint64_t running_compactions = 0;
    uint64_t memtable_bytes = 0;
    // Memory: the block cache (blocks, indexes and filters, and the
    // memtables' charge) and its capacity, index and filter blocks held
    // outside it, and the key store's memtables and unwrapped keys (0 in
    // the clear).
    uint64_t block_cache_bytes = 0;
    uint64_t block_cache_capacity_bytes = 0;
    uint64_t table_readers_bytes = 0;
    uint64_t key_store_memtable_bytes = 0;
    uint64_t cached_data_keys = 0;
    uint64_t background_errors = 0;
    uint64_t write_stall_stops = 0;      // writes stopped, since open
    uint64_t write_stall_slowdowns = 0;  // writes slowed down, since open
    bool write_stopped = false;          // writes are stopped right now
    uint64_t delayed_write_rate = 0;     // bytes/s while slowed, else 0
  };
  StorageStats GetStorageStats() const;

  // A consistent online backup into the BackupFolder `backup_dir` (see
  // storage/backup_folder.h), with a copy of the keys, while appends go on.
  // The key store is backed up apart, into `backup_dir`/keystore, where
  // each backup is kept only key_backup_keep; the key-encryption key is
  // never copied.
  // It first signs a checkpoint of the current size, so the backup holds a
  // signed tree head over every entry committed before it, perhaps a few
  // more. Keeps the newest `keep` backups (0: all).
  using BackupInfo = storage::BackupInfo;
  absl::StatusOr<BackupInfo> Backup(const std::string& backup_dir, uint32_t keep = 0);
  // BackupFolder::List and BackupFolder::Restore, for callers of the ledger.
  static absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);
  // Restore also puts back the newest key-store backup, and then shreds
  // again every key that the restored entries or `shredded_since` say was
  // shredded, so that a restore never brings an erased key back.
  static absl::StatusOr<BackupInfo> Restore(const std::string& backup_dir, uint32_t backup_id,
                                            const std::string& data_dir,
                                            absl::Span<const std::string> shredded_since = {});

 private:
  // Writes one entry whose body is not an access event.
  absl::StatusOr<v1::AppendReceipt> AppendRecord(const v1::LedgerEntry& record);
  // Writes an erasure or retention record, then shreds `key_ids`.
  absl::StatusOr<v1::AppendReceipt> AppendShredRecord(const v1::LedgerEntry& record,
                                                      std::vector<std::string> key_ids);
  explicit Ledger(std::unique_ptr<internal::LedgerImpl> impl);
  std::unique_ptr<internal::LedgerImpl> impl_;
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_LEDGER_H_
