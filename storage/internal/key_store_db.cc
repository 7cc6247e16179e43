#include "storage/internal/key_store_db.h"

#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "storage/internal/rocks_status.h"

namespace innsyn::storage::internal {
namespace {

constexpr size_t kWriteBufferBytes = 16 << 20;  // one key per new subject, class and year
constexpr size_t kKeptInfoLogs = 2;
// How often and how long a purge waits for files that a reader still pins.
constexpr int kPurgeAttempts = 50;
constexpr auto kPurgeRetryDelay = std::chrono::milliseconds(20);

rocksdb::Options DatabaseOptions(rocksdb::Env* env, bool create) {
  rocksdb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;
  options.info_log_level = rocksdb::WARN_LEVEL;
  options.keep_log_file_num = kKeptInfoLogs;
  options.write_buffer_size = kWriteBufferBytes;
  // A WAL that is obsolete is deleted at once: never reused for new
  // writes, never archived, so no log outlives the keys it held.
  options.recycle_log_file_num = 0;
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  // Wrapped keys are random and do not compress; stored as they are, a
  // shredded key can be searched for in the files (the tests do).
  options.compression = rocksdb::kNoCompression;
  options.bottommost_compression = rocksdb::kDisableCompressionOption;
  rocksdb::BlockBasedTableOptions table;
  table.no_block_cache = true;  // no shared cache keeps blocks of keys
  // Most lookups are of keys not created yet (a subject's first entry of a
  // year): the filter answers them without reading a block. Index and
  // filter blocks stay with their table, in memory.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The same for the memtable, where the keys made since the last flush
  // are: a lookup of an id not there skips the skip list's search.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  if (env != nullptr) options.env = env;
  return options;
}

std::string WithoutSlash(const std::string& name) {
  return name.starts_with('/') ? name.substr(1) : name;
}

// Table and log files in the database folder that the database does not
// use: tables not in its current version, logs older than the oldest it
// still needs for recovery.
absl::StatusOr<std::vector<std::string>> LeftoverFiles(rocksdb::DB& db) {
  std::vector<std::string> children;
  RETURN_IF_ERROR(
      FromRocks(db.GetEnv()->GetChildren(db.GetName(), &children), "list the key store"));
  absl::flat_hash_set<std::string> live_tables;
  std::vector<rocksdb::LiveFileMetaData> tables;
  db.GetLiveFilesMetaData(&tables);
  for (const rocksdb::LiveFileMetaData& table : tables) {
    live_tables.insert(WithoutSlash(table.name));
  }
  uint64_t oldest_live_log = 0;
  if (!db.GetIntProperty(rocksdb::DB::Properties::kMinLogNumberToKeep, &oldest_live_log)) {
    return absl::InternalError(StrCat("the key store ", db.GetName(), " names no live log"));
  }
  std::vector<std::string> leftover;
  for (const std::string& child : children) {
    if (child.ends_with(".sst") && !live_tables.contains(child)) leftover.push_back(child);
    if (!child.ends_with(".log")) continue;
    uint64_t number = 0;
    const char* end = child.data() + child.size() - std::string_view(".log").size();
    if (std::from_chars(child.data(), end, number).ptr != end || number < oldest_live_log) {
      leftover.push_back(child);
    }
  }
  return leftover;
}

}  // namespace

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenKeyDatabase(const std::string& dir,
                                                             rocksdb::Env* env, bool create,
                                                             bool read_only) {
  if (create) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error || ::chmod(dir.c_str(), 0700) != 0) {
      return absl::PermissionDeniedError(StrCat("cannot create the key store ", dir));
    }
  }
  const rocksdb::Options options = DatabaseOptions(env, create && !read_only);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &raw)
                                : rocksdb::DB::Open(options, dir, &raw);
  RETURN_IF_ERROR(FromRocks(s, StrCat("open the key store ", dir)));
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::Status WriteShredBatch(rocksdb::DB& db, absl::Span<const std::string> ids) {
  rocksdb::WriteBatch batch;
  for (const std::string& id : ids) {
    batch.Delete(WrappedKeyKey(id));
    batch.Put(ShreddedKey(id), "");
  }
  batch.Put(kPurgePendingKey, "");
  rocksdb::WriteOptions write;
  write.sync = true;
  return FromRocks(db.Write(write, &batch), StrCat("shred keys in ", db.GetName()));
}

absl::Status PurgeDeletedKeys(rocksdb::DB& db) {
  const std::string& dir = db.GetName();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  RETURN_IF_ERROR(FromRocks(db.Flush(flush), StrCat("flush the key store ", dir)));
  rocksdb::CompactRangeOptions compact;
  compact.exclusive_manual_compaction = true;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  RETURN_IF_ERROR(
      FromRocks(db.CompactRange(compact, nullptr, nullptr), StrCat("compact the key store ", dir)));
  // Compactions delete the files they replace in the background; a forced
  // enable scans the folder and deletes every obsolete file before it
  // returns. A file an open iterator still reads survives until it ends.
  for (int attempt = 1;; ++attempt) {
    RETURN_IF_ERROR(FromRocks(db.DisableFileDeletions(), "pause file deletions"));
    RETURN_IF_ERROR(FromRocks(db.EnableFileDeletions(/*force=*/true), "delete obsolete files"));
    ASSIGN_OR_RETURN(std::vector<std::string> leftover, LeftoverFiles(db));
    if (leftover.empty()) break;
    if (attempt == kPurgeAttempts) {
      return absl::UnavailableError(StrCat("the key store ", dir, " still holds ", leftover.front(),
                                           ", which it no longer uses; purge again"));
    }
    std::this_thread::sleep_for(kPurgeRetryDelay);
  }
  std::string ignored;
  rocksdb::Status pending = db.Get(rocksdb::ReadOptions(), kPurgePendingKey, &ignored);
  if (pending.IsNotFound()) return absl::OkStatus();
  RETURN_IF_ERROR(FromRocks(pending, StrCat("read the purge mark of ", dir)));
  rocksdb::WriteOptions write;
  write.sync = true;
  return FromRocks(db.Delete(write, kPurgePendingKey), StrCat("clear the purge mark of ", dir));
}

absl::StatusOr<std::vector<std::string>> ListIdsUnder(rocksdb::DB& db, std::string_view key_prefix,
                                                      std::string_view id_prefix) {
  const std::string start = std::string(key_prefix).append(id_prefix);
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  std::vector<std::string> ids;
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    ids.push_back(it->key().ToString().substr(key_prefix.size()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), StrCat("list the key store ", db.GetName())));
  return ids;
}

}  // namespace innsyn::storage::internal
