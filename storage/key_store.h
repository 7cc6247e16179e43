// The data keys that seal the personal part of ledger entries, one per
// (subject, class, year) id, and their shredding.
//
// Data keys are random 256-bit AES keys. They are stored wrapped under a
// key-encryption key (KEK) that is kept in a file outside the key store's
// RocksDB folder, so a copy of that folder alone opens nothing. Shredding
// a key removes its wrapped bytes from every file of the key store; the
// entries sealed under it can then never be read again (crypto-shredding).
// Key-store backups still hold a shredded key until they are older than
// the `keep` given to Backup.
//
// Layout of the key store's own RocksDB folder (no other data lives there):
//   "k/" + id    -> Seal(KEK, data key, aad "innsyn data key " + id)
//   "x/" + id    -> ""   the id was shredded (ids only, never key bytes)
//   "kek-check"  -> Seal(KEK, "innsyn key-encryption key check",
//                        aad "kek-check"); written at creation, opened at
//                        every open to tell a wrong KEK from a right one
//   "purge-pending" -> ""   a shred deleted keys whose old bytes may still
//                        be in files; Open finishes the purge
// Tables are stored uncompressed and read without a block cache, and an
// obsolete WAL is deleted at once (never archived or reused).
//
// KEK file: 64 hexadecimal characters and a newline, mode 0600.
//
// Thread safety: every method may be called from any thread. Keys are made
// one id at a time: concurrent callers never create two keys for one id.
// Durability: new keys and shreds are synced before the call returns.
#ifndef INNSYN_STORAGE_KEY_STORE_H_
#define INNSYN_STORAGE_KEY_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/sealing.h"

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace innsyn::storage {

namespace internal {
class KeyCache;
}  // namespace internal

struct KeyStoreOptions {
  // The key store's own RocksDB folder, e.g. <data_dir>/keys.
  std::string dir;
  // The KEK file; keep a copy apart from the data and its backups.
  std::string kek_file;
  // Creates a missing `dir`, and the KEK too if it is missing as well (a
  // fresh ledger). A KEK is never made for an existing key store.
  bool create_if_missing = true;
  // Opens the RocksDB read-only (offline tools): GetOrCreate, Shred, Purge
  // and Backup fail with FailedPrecondition.
  bool read_only = false;
  // The RocksDB Env (tests inject faults); not owned; null for the default.
  rocksdb::Env* env = nullptr;
  // Unwrapped keys kept in memory; 0 unwraps on every call.
  size_t cache_keys = 200000;
};

class KeyStore {
 public:
  // Errors name the path at fault and what to do:
  //   FailedPrecondition  the key store exists but the KEK file is missing
  //   InvalidArgument     the KEK file is not 64 hex characters
  //   PermissionDenied    the KEK file may be read by others, or it is not
  //                       the KEK of this key store
  //   NotFound            nothing to open and !create_if_missing (or
  //                       read_only)
  // A shred that a crash interrupted is finished here (not read-only).
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(const KeyStoreOptions& options);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // When GetOrCreate's write of new keys reaches the disk: before it
  // returns (kNow), or at the next SyncNewKeys (kLater), which the caller
  // must then call, and see succeed, before it stores anything sealed under
  // them. The group writer syncs while it seals the group, not before.
  enum class Sync { kNow, kLater };
  // The keys of `ids`, in order, creating the missing ones: all new keys
  // go into one write, synced as `sync` says; `created` (if given) tells
  // whether there were any. FailedPrecondition naming the id if one was
  // shredded (ask LiveId for its next generation); DataLoss if a stored key
  // does not open (it is never replaced by a new one).
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> GetOrCreate(
      absl::Span<const std::string> ids, Sync sync = Sync::kNow, bool* created = nullptr);
  // Makes every key created so far durable: one fsync of the key store's
  // write-ahead log.
  absl::Status SyncNewKeys();
  // Whether a key written with Sync::kLater (by any caller) may not be
  // durable yet: no SyncNewKeys that began after its write has succeeded.
  bool HasUnsyncedKeys() const;
  // NotFound if the key was never created or was shredded (the message says
  // which); DataLoss naming the id if its wrapped bytes do not open.
  absl::StatusOr<std::shared_ptr<const DataKey>> Get(std::string_view id) const;
  bool IsShredded(std::string_view id) const;
  // `base` unless it was shredded, else the first of base#2, base#3, ...
  // not shredded: a subject erased who comes back gets a fresh key.
  std::string LiveId(std::string_view base) const;
  // The ids of live keys starting with `prefix`, sorted.
  absl::StatusOr<std::vector<std::string>> ListIds(std::string_view prefix = "") const;
  // The ids shredded so far, sorted.
  absl::StatusOr<std::vector<std::string>> ListShredded() const;

  // Deletes the wrapped keys of `ids` and records them as shredded in one
  // synced write, forgets them in memory, then purges (below). Idempotent:
  // unknown ids are recorded as shredded too, and after a crash the same
  // call finishes the job. Returns how many of the ids held a live key.
  absl::StatusOr<size_t> Shred(absl::Span<const std::string> ids);
  // Makes sure no file of the key store holds a deleted key any more:
  // flush, forced compaction of the whole key space, deletion of every
  // obsolete file. Unavailable if a file stays pinned (purge again).
  absl::Status Purge();

  struct MemoryStats {
    uint64_t memtable_bytes = 0;  // the key store's memtables
    uint64_t cached_keys = 0;     // unwrapped keys held (at most cache_keys)
  };
  MemoryStats Memory() const;

  // An online backup into `backup_dir`, a BackupEngine folder of the key
  // store's own (apart from the ledger's backups); then deletes the backups
  // there taken before `now` - `keep` (never the new one), so a shredded key
  // is in no backup once `keep` has passed. Returns the new backup's id.
  absl::StatusOr<uint32_t> Backup(const std::string& backup_dir, absl::Duration keep,
                                  absl::Time now);
  // Restores the newest backup in `backup_dir` into `dir` (which must not
  // exist or must be empty) after checking its checksums, then shreds
  // `also_shredded` (ids shredded after that backup) there again. Needs no
  // KEK: open the result with the KEK of the backed-up store.
  static absl::Status Restore(const std::string& backup_dir, const std::string& dir,
                              absl::Span<const std::string> also_shredded);

  // Writes a fresh random KEK to `path` (mode 0600); AlreadyExists if a
  // file is there.
  static absl::Status CreateKekFile(const std::string& path);

 private:
  KeyStore(const KeyStoreOptions& options, DataKey kek, std::unique_ptr<rocksdb::DB> db,
           absl::flat_hash_set<std::string> shredded);
  absl::Status CheckWritable(std::string_view what) const;
  // The stored key of `id`, or nullptr if there is none.
  absl::StatusOr<std::shared_ptr<const DataKey>> ReadKey(std::string_view id) const;
  // The same for each of `ids`, in one read.
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> ReadKeys(
      absl::Span<const std::string> ids) const;
  // The key in `wrapped`, the stored bytes of `id`; DataLoss naming the id
  // if they do not open.
  absl::StatusOr<std::shared_ptr<const DataKey>> OpenWrapped(std::string_view id,
                                                             std::string_view wrapped) const;
  bool IsShreddedLocked(std::string_view id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KeyStoreOptions options_;
  const DataKey kek_;
  const std::unique_ptr<rocksdb::DB> db_;
  // Held while keys are made or shredded, so that the check for a stored
  // key and the write of a new one are one step for each id.
  absl::Mutex create_mu_;
  // Held by Purge and Backup: a purge re-enables file deletions that a
  // backup in progress has paused.
  absl::Mutex files_mu_;
  mutable absl::Mutex mu_;
  const std::unique_ptr<internal::KeyCache> cache_ ABSL_PT_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> shredded_ ABSL_GUARDED_BY(mu_);
  // Counts shreds, so that a key read before a shred is not cached after it.
  uint64_t shreds_ ABSL_GUARDED_BY(mu_) = 0;
  // Writes of new keys with Sync::kLater so far, and how many of them the
  // last successful SyncNewKeys covered.
  std::atomic<uint64_t> later_writes_{0};
  std::atomic<uint64_t> synced_writes_{0};
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_KEY_STORE_H_
