// A folder of online backups of a ledger, taken with RocksDB's BackupEngine.
//
// It holds BackupEngine's own layout under rocksdb/ (shared, checksummed
// files; one numbered backup per run) and, beside it, keys/<backup id>/ with
// a copy of the data folder's key files, without which a restored ledger
// could neither sign nor look up its pseudonymised indexes. Each backup's
// metadata names the database folder and the committed size.
//
// Thread safety: BackupEngine allows one writer per folder, so one
// BackupFolder at a time is open for backup in the process; OpenForBackup
// waits until the one before is destroyed. List and Restore only read the
// folder and may run at any time.
#ifndef INNSYN_STORAGE_BACKUP_FOLDER_H_
#define INNSYN_STORAGE_BACKUP_FOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace rocksdb {
class BackupEngine;
class DB;
}  // namespace rocksdb

namespace innsyn::storage {

struct BackupInfo {
  uint32_t backup_id = 0;
  uint64_t entries = 0;      // committed entries when the backup started
  uint64_t bytes = 0;        // size of this backup's files
  int64_t unix_seconds = 0;  // when it was taken
};

class BackupFolder {
 public:
  // Opens `path` to add a backup, creating it owner-only if missing.
  static absl::StatusOr<std::unique_ptr<BackupFolder>> OpenForBackup(const std::string& path);
  ~BackupFolder();
  BackupFolder(const BackupFolder&) = delete;
  BackupFolder& operator=(const BackupFolder&) = delete;

  // Backs up the open database `db` (incremental: files already in the
  // folder are shared) with a copy of the key files at the top of
  // `data_dir`, recording `entries` as its committed size. Writes to `db`
  // go on meanwhile. Then keeps the newest `keep` backups (0: all).
  absl::StatusOr<BackupInfo> Add(rocksdb::DB& db, const std::string& data_dir, uint64_t entries,
                                 uint32_t keep);

  // The backups in `path`, oldest first.
  static absl::StatusOr<std::vector<BackupInfo>> List(const std::string& path);
  // Restores backup `backup_id` (0: the newest) from `path` into a new
  // `data_dir`, which must not exist or be empty. Checks the backup's file
  // checksums first. The ledger is not opened: verify it before use.
  static absl::StatusOr<BackupInfo> Restore(const std::string& path, uint32_t backup_id,
                                            const std::string& data_dir);

 private:
  explicit BackupFolder(std::string path);
  // Removes the key copies of backups BackupEngine no longer keeps.
  absl::Status KeepNewest(uint32_t keep);

  absl::MutexLock one_writer_;  // held from open to destruction
  const std::string path_;
  std::unique_ptr<rocksdb::BackupEngine> engine_;
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_BACKUP_FOLDER_H_
