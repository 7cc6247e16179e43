// The ledger's operational side: RocksDB health for metrics, and online
// backup and restore with RocksDB's BackupEngine.
//
// A backup folder holds BackupEngine's own layout (shared, checksummed
// files; one numbered backup per run) and, beside it, `keys/<backup id>/`
// with a copy of the data folder's key files, without which a restored
// ledger could neither sign nor look up its pseudonymised indexes. Each
// backup's metadata names the database folder and the committed size.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <map>

#include "absl/synchronization/mutex.h"
#include "base/strings.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/internal/ledger_impl.h"

namespace innsyn::storage {
namespace {

namespace fs = std::filesystem;
using internal::FromRocks;

constexpr char kKeysFolder[] = "keys";
constexpr char kMetadataFolderKey[] = "folder=";
constexpr char kMetadataEntriesKey[] = "entries=";

// One backup at a time: BackupEngine allows one writer per backup folder.
absl::Mutex backup_mu;

uint64_t IntProperty(rocksdb::DB& db, const std::string& name) {
  uint64_t value = 0;
  return db.GetAggregatedIntProperty(name, &value) ? value : 0;
}

uint64_t FolderBytes(const std::string& path) {
  uint64_t bytes = 0;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(path, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) {
      uintmax_t size = it->file_size(size_error);
      if (!size_error) bytes += size;
    }
  }
  return bytes;
}

std::string Metadata(const std::string& folder, uint64_t entries) {
  return StrCat(kMetadataFolderKey, folder, "\n", kMetadataEntriesKey, entries, "\n");
}

// The value of `key` in metadata written by Metadata(), or "".
std::string MetadataValue(const std::string& metadata, std::string_view key) {
  for (std::string_view line : Split(metadata, '\n')) {
    if (line.starts_with(key)) return std::string(line.substr(key.size()));
  }
  return "";
}

Ledger::BackupInfo FromRocksInfo(const rocksdb::BackupInfo& info) {
  Ledger::BackupInfo out;
  out.backup_id = info.backup_id;
  out.bytes = info.size;
  out.unix_seconds = info.timestamp;
  out.entries = ParseDecimal(MetadataValue(info.app_metadata, kMetadataEntriesKey)).value_or(0);
  return out;
}

absl::Status FromIo(const rocksdb::IOStatus& status, std::string_view what) {
  return FromRocks(status, what);
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions options(StrCat(backup_dir, "/rocksdb"));
  options.share_files_with_checksum = true;
  options.sync = true;
  return options;
}

// Copies the regular files at the top of `from` (the key files; the
// database is a folder of its own) into `to`, owner-only.
absl::Status CopyKeyFiles(const std::string& from, const std::string& to) {
  std::error_code error;
  fs::create_directories(to, error);
  if (error || ::chmod(to.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot create ", to));
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(from, error)) {
    if (!entry.is_regular_file()) continue;
    std::string target = StrCat(to, "/", entry.path().filename().string());
    fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, error);
    if (error || ::chmod(target.c_str(), 0600) != 0) {
      return absl::PermissionDeniedError(
          StrCat("cannot copy ", entry.path().string(), " to ", target, ": ", error.message()));
    }
  }
  if (error)
    return absl::PermissionDeniedError(StrCat("cannot read ", from, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace

Ledger::StorageStats Ledger::GetStorageStats() const {
  rocksdb::DB& db = *impl_->db;
  StorageStats stats;
  stats.disk_bytes = FolderBytes(db.GetName());
  struct statvfs filesystem {};
  if (::statvfs(impl_->options.data_dir.c_str(), &filesystem) == 0) {
    stats.filesystem_bytes = static_cast<uint64_t>(filesystem.f_blocks) * filesystem.f_frsize;
    stats.filesystem_avail_bytes = static_cast<uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
  }
  stats.pending_compaction_bytes =
      IntProperty(db, rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  stats.running_compactions = IntProperty(db, rocksdb::DB::Properties::kNumRunningCompactions);
  stats.memtable_bytes = IntProperty(db, rocksdb::DB::Properties::kCurSizeAllMemTables);
  uint64_t value = 0;
  if (db.GetIntProperty(rocksdb::DB::Properties::kBackgroundErrors, &value)) {
    stats.background_errors = value;
  }
  if (db.GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
    stats.write_stopped = value != 0;
  }
  if (db.GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &value)) {
    stats.delayed_write_rate = value;
  }
  // Stall counts are kept per column family.
  for (const auto& handle : impl_->handles) {
    std::map<std::string, std::string> cf_stats;
    if (!db.GetMapProperty(handle.get(), rocksdb::DB::Properties::kCFStats, &cf_stats)) continue;
    stats.write_stall_stops += ParseDecimal(cf_stats["io_stalls.total_stop"]).value_or(0);
    stats.write_stall_slowdowns += ParseDecimal(cf_stats["io_stalls.total_slowdown"]).value_or(0);
  }
  return stats;
}

absl::StatusOr<Ledger::BackupInfo> Ledger::Backup(const std::string& backup_dir, uint32_t keep) {
  if (backup_dir.empty()) return absl::InvalidArgumentError("backup_dir is required");
  absl::MutexLock lock(&backup_mu);
  std::error_code error;
  fs::create_directories(backup_dir, error);
  if (error || ::chmod(backup_dir.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot create backup folder ", backup_dir));
  }
  rocksdb::BackupEngine* raw_engine = nullptr;
  rocksdb::IOStatus s =
      rocksdb::BackupEngine::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw_engine);
  if (!s.ok()) return FromIo(s, StrCat("open backup folder ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);

  // A checkpoint signed now is stored before the backup starts, so that the
  // backup carries a signed tree head over everything committed so far.
  // Groups committed while it runs may be included too, beyond that head.
  absl::StatusOr<v1::Checkpoint> head = Checkpoint();
  if (!head.ok()) return head.status();
  const uint64_t entries = head->tree_size();
  const std::string folder = fs::path(impl_->db->GetName()).filename().string();
  rocksdb::CreateBackupOptions create;
  // Memtables are flushed to table files first: tables are shared between
  // backups, the WAL is not, so a backup then copies only what is new.
  // Writes go on during the flush.
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackupWithMetadata(create, impl_->db.get(), Metadata(folder, entries), &id);
  if (!s.ok()) return FromIo(s, StrCat("backup into ", backup_dir));
  if (absl::Status copied =
          CopyKeyFiles(impl_->options.data_dir, StrCat(backup_dir, "/", kKeysFolder, "/", id));
      !copied.ok()) {
    engine->DeleteBackup(id);
    return copied;
  }
  rocksdb::BackupInfo info;
  if (rocksdb::Status got = engine->GetBackupInfo(id, &info); !got.ok()) {
    return FromRocks(got, "read the new backup");
  }
  if (keep > 0) {
    if (s = engine->PurgeOldBackups(keep); !s.ok()) return FromIo(s, "remove old backups");
    std::vector<rocksdb::BackupInfo> kept;
    engine->GetBackupInfo(&kept);
    for (const fs::directory_entry& entry :
         fs::directory_iterator(StrCat(backup_dir, "/", kKeysFolder), error)) {
      bool still_kept = false;
      for (const rocksdb::BackupInfo& k : kept) {
        still_kept |= entry.path().filename().string() == std::to_string(k.backup_id);
      }
      if (!still_kept) fs::remove_all(entry.path(), error);
    }
  }
  return FromRocksInfo(info);
}

absl::StatusOr<std::vector<Ledger::BackupInfo>> Ledger::ListBackups(const std::string& backup_dir) {
  std::error_code error;
  if (!fs::is_directory(StrCat(backup_dir, "/rocksdb"), error)) {
    return absl::NotFoundError(StrCat(backup_dir, " holds no innsyn backups"));
  }
  rocksdb::BackupEngineReadOnly* raw_engine = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir),
                                                            rocksdb::Env::Default(), &raw_engine);
  if (!s.ok()) return FromIo(s, StrCat("open backup folder ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw_engine);
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  for (const rocksdb::BackupInfo& info : infos) out.push_back(FromRocksInfo(info));
  return out;
}

absl::StatusOr<Ledger::BackupInfo> Ledger::Restore(const std::string& backup_dir,
                                                   uint32_t backup_id,
                                                   const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir is required");
  std::error_code error;
  if (fs::exists(data_dir, error) && !fs::is_empty(data_dir, error)) {
    return absl::FailedPreconditionError(
        StrCat("data folder ", data_dir, " is not empty; restore into a new folder"));
  }
  std::error_code missing;
  if (!fs::is_directory(StrCat(backup_dir, "/rocksdb"), missing)) {
    return absl::NotFoundError(StrCat(backup_dir, " holds no innsyn backups"));
  }
  rocksdb::BackupEngineReadOnly* raw_engine = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir),
                                                            rocksdb::Env::Default(), &raw_engine);
  if (!s.ok()) return FromIo(s, StrCat("open backup folder ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw_engine);
  rocksdb::BackupInfo info;
  rocksdb::Status got =
      backup_id == 0 ? engine->GetLatestBackupInfo(&info) : engine->GetBackupInfo(backup_id, &info);
  if (!got.ok()) {
    return absl::NotFoundError(backup_id == 0
                                   ? StrCat(backup_dir, " holds no backup")
                                   : StrCat("backup ", backup_id, " is not in ", backup_dir));
  }
  if (s = engine->VerifyBackup(info.backup_id, /*verify_with_checksum=*/true); !s.ok()) {
    return absl::DataLossError(StrCat("backup ", info.backup_id, " is damaged: ", s.ToString()));
  }
  const std::string folder = MetadataValue(info.app_metadata, kMetadataFolderKey);
  if (folder.empty() || folder.find('/') != std::string::npos || folder == "..") {
    return absl::DataLossError(StrCat("backup ", info.backup_id, " has no database folder name"));
  }
  if (absl::Status copied =
          CopyKeyFiles(StrCat(backup_dir, "/", kKeysFolder, "/", info.backup_id), data_dir);
      !copied.ok()) {
    return copied;
  }
  const std::string db_dir = StrCat(data_dir, "/", folder);
  s = engine->RestoreDBFromBackup(info.backup_id, db_dir, db_dir);
  if (!s.ok()) return FromIo(s, StrCat("restore backup ", info.backup_id, " into ", db_dir));
  return FromRocksInfo(info);
}

}  // namespace innsyn::storage
