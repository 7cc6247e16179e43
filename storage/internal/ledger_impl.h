// The state of an open ledger that its parts share: the database and its
// column families, the keys, the committed size and the latest signed
// checkpoint. Ledger owns it; the group writer and the verifier borrow it.
// Private to storage/; storage/ledger.h only names it.
//
// Thread safety: what Ledger::Open sets is read-only afterwards, but for the
// atomics (written by the group writer) and `latest_checkpoint`.
#ifndef INNSYN_STORAGE_INTERNAL_LEDGER_IMPL_H_
#define INNSYN_STORAGE_INTERNAL_LEDGER_IMPL_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "storage/checkpoint.h"
#include "storage/internal/group_writer.h"
#include "storage/internal/rocks_status.h"
#include "storage/key_store.h"
#include "storage/ledger.h"
#include "storage/merkle.h"
#include "storage/pseudonym.h"

namespace innsyn::storage::internal {

// "chain key of seq 7", "tree key of node (0, 7)", "meta key size": what a
// missing or unreadable key was, for error messages.
std::string DescribeKey(const rocksdb::ColumnFamilyHandle& family, std::string_view key);

struct LedgerImpl {
  // Opens the database in the data folder, creating it if the options say
  // so, with every column family of schema.h, each handle found by name.
  absl::Status OpenDatabase();
  // Reads the committed size and the latest stored checkpoint.
  absl::Status LoadCommittedState();
  // Checks that the entries are in the format this version writes, and
  // marks a new ledger so.
  absl::Status CheckFormat();
  // Opens the key store (created only for a ledger with no entries yet).
  // A read-only ledger without its key-encryption key opens without it:
  // verification needs no data key; reading contents then fails.
  absl::Status OpenKeyStore();
  // Shreds again every key an erasure or retention entry names that is
  // still in the key store: what a crash between the entry and its shred,
  // or a restored key-store backup, left behind.
  absl::Status FinishShreds();
  // With `flush`, first writes the memtables and the WAL out, which spares
  // the next open a replay of the WAL.
  void CloseDatabase(bool flush);
  // RocksDB's properties, and the sizes of the database and its filesystem.
  Ledger::StorageStats ReadStorageStats() const;

  LedgerOptions options;
  std::unique_ptr<rocksdb::DB> db;
  // Every handle, the default family's too; released before `db` is closed.
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> handles;
  // The ledger's families (see schema.h), borrowed from `handles`.
  rocksdb::ColumnFamilyHandle* entries = nullptr;
  rocksdb::ColumnFamilyHandle* chain = nullptr;
  rocksdb::ColumnFamilyHandle* tree = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* dedupe = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* map = nullptr;  // the subject map (map_store.h)

  std::unique_ptr<Pseudonymizer> pseudonymizer;
  // The data keys; null when entries are stored in the clear, or for a
  // read-only ledger opened without its key-encryption key.
  std::unique_ptr<KeyStore> keys;
  // Keys named by an erasure or retention entry that is prepared or being
  // written: no entry after it is sealed under them. Counted by the records
  // naming each, so that one record letting a key go leaves it retiring
  // for another.
  mutable absl::Mutex retiring_mu;
  absl::flat_hash_map<std::string, int> retiring ABSL_GUARDED_BY(retiring_mu);
  // The id of the key new entries of `base` are sealed under: `base`, or
  // its first generation that is neither shredded nor retiring.
  std::string LiveKeyId(const std::string& base) const;
  std::unique_ptr<CheckpointSigner> signer;  // null when read-only
  std::string verifier_key;                  // what checkpoints are checked against
  std::string checkpoint_problem;            // set if the stored one is unreadable
  // Entries [0, committed_size) are durable and visible to readers. Written
  // only by the group writer, after its batch is durable.
  std::atomic<uint64_t> committed_size{0};
  std::unique_ptr<GroupWriter> writer;  // null when read-only
  // Set once a write to RocksDB has failed. What is on disk may then differ
  // from what is in memory (a batch whose sync failed may still be in the
  // WAL), so nothing more is written until the ledger is opened again.
  std::atomic<bool> write_failed{false};

  mutable absl::Mutex checkpoint_mu;
  std::optional<v1::Checkpoint> latest_checkpoint ABSL_GUARDED_BY(checkpoint_mu);

  // What verification has found (Ledger::MarkVerified, MarkDamaged).
  mutable absl::Mutex integrity_mu;
  mutable Ledger::Integrity integrity ABSL_GUARDED_BY(integrity_mu);
  // Records damage (the first finding is kept); const, so that a read that
  // finds it can say so.
  void NoteDamage(std::optional<uint64_t> seq, std::string problem) const;
  // Unavailable naming the damage once the ledger is damaged; OK before.
  absl::Status DamageError(std::string_view refused) const;
  // Whether a checkpoint not stored before may be signed now: OK, or why
  // not. Waits up to options.verification_wait for the start's verification.
  absl::Status MaySign() const;
  uint64_t LatestStoredSize() const;
  // The checkpoint of `tree_size` signed and stored before, if there is one.
  std::optional<v1::Checkpoint> StoredCheckpoint(uint64_t tree_size) const;

  // The subject map's root for a tree of `tree_size` entries: nullopt when
  // that size ends inside a group commit (no root was kept for it).
  absl::StatusOr<std::optional<Hash>> MapRootAt(uint64_t tree_size) const;
  // The subject map of the tree of `tree_size` entries, an older one than
  // the writer's: rebuilt from the stored heads, each taken back along its
  // history's links to the entry it had at that size, and checked against
  // the root kept for that size. FailedPrecondition when no root was kept.
  // The last one rebuilt is kept for the next proof of that size.
  absl::StatusOr<MapRoot> PastMap(uint64_t tree_size) const;
  mutable absl::Mutex past_map_mu;
  mutable std::optional<MapRoot> past_map ABSL_GUARDED_BY(past_map_mu);
  absl::StatusOr<Hash> Node(int level, uint64_t index) const;
  SubtreeHashFn NodeFn() const {
    return [this](int level, uint64_t index) { return Node(level, index); };
  }
  absl::StatusOr<std::string> Get(rocksdb::ColumnFamilyHandle* family, std::string_view key) const;
  // chain_seq, from its chain tile; NotFound if the tile does not reach it.
  // With `last`, DataLoss if the tile goes on past it: the next group
  // appends there.
  absl::StatusOr<Hash> ChainHead(uint64_t seq, bool last = false) const;
  // The receipt of entry `seq`, and the entry itself if `entry` is set.
  absl::StatusOr<v1::AppendReceipt> ReceiptFor(uint64_t seq,
                                               v1::LedgerEntry* entry = nullptr) const;
  // DataLoss unless the committed entries still extend the latest signed
  // checkpoint: at least as many, and the same root at its size.
  absl::Status CheckAgainstLatestCheckpoint() const;
  // The entries, each checked against its stored leaf hash (DataLoss
  // naming the first that does not match) and, with `open`, opened: an
  // entry whose key was shredded comes back erased.
  absl::StatusOr<std::vector<StoredEntry>> ReadEntries(const std::vector<uint64_t>& seqs,
                                                       bool open = true) const;
  // The seqs of the committed entries whose index key lies in [from, to),
  // in key order; every such key is `key_bytes` long and ends in the seq
  // (DataLoss otherwise).
  absl::StatusOr<std::vector<uint64_t>> IndexSeqs(std::string_view from, std::string_view to,
                                                  size_t key_bytes) const;
  // The seqs of the committed entries from `from_seq` on with an index key
  // of `prefix` that carries no pseudonym (alerts, erasures), in seq order.
  absl::StatusOr<std::vector<uint64_t>> ScanTimeIndex(char prefix, uint64_t from_seq) const;
  // Opens `stored.bytes` into its header and contents.
  absl::Status OpenStored(StoredEntry& stored, bool open) const;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_LEDGER_IMPL_H_
