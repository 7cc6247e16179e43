// The key store's RocksDB: its layout (documented in storage/key_store.h),
// its options, and the two steps of a shred, which KeyStore and
// KeyStore::Restore share. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_KEY_STORE_DB_H_
#define INNSYN_STORAGE_INTERNAL_KEY_STORE_DB_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rocksdb/db.h"

namespace innsyn::storage::internal {

inline constexpr std::string_view kWrappedKeyPrefix = "k/";
inline constexpr std::string_view kShreddedPrefix = "x/";
inline constexpr std::string_view kKekCheckKey = "kek-check";
inline constexpr std::string_view kKekCheckPlaintext = "innsyn key-encryption key check";
inline constexpr std::string_view kPurgePendingKey = "purge-pending";
inline constexpr std::string_view kWrappedKeyAadPrefix = "innsyn data key ";

inline std::string WrappedKeyKey(std::string_view id) {
  return std::string(kWrappedKeyPrefix).append(id);
}
inline std::string ShreddedKey(std::string_view id) {
  return std::string(kShreddedPrefix).append(id);
}
inline std::string WrappedKeyAad(std::string_view id) {
  return std::string(kWrappedKeyAadPrefix).append(id);
}

// Opens (or with `create`, creates owner-only) the database in `dir`.
// `env` may be null for the default.
absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenKeyDatabase(const std::string& dir,
                                                             rocksdb::Env* env, bool create,
                                                             bool read_only);

// The first step of a shred, in one synced write: deletes the wrapped keys
// of `ids`, records them as shredded and marks a purge as pending.
absl::Status WriteShredBatch(rocksdb::DB& db, absl::Span<const std::string> ids);

// The second step: flushes the memtable (so the WAL that held deleted keys
// is obsolete), compacts the whole key space down to the bottommost level
// with a forced rewrite (so tombstones meet the values they delete and both
// are dropped), deletes every obsolete file, checks that only live files
// remain, and clears the pending mark. Safe to repeat.
absl::Status PurgeDeletedKeys(rocksdb::DB& db);

// The ids (keys without `key_prefix`) of the keys starting with
// `key_prefix` + `id_prefix`, in order.
absl::StatusOr<std::vector<std::string>> ListIdsUnder(rocksdb::DB& db, std::string_view key_prefix,
                                                      std::string_view id_prefix);

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_KEY_STORE_DB_H_
