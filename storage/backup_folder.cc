#include "storage/backup_folder.h"

#include <sys/stat.h>

#include <filesystem>

#include "base/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/internal/rocks_status.h"

namespace innsyn::storage {
namespace {

namespace fs = std::filesystem;
using internal::FromRocks;

constexpr char kEngineFolder[] = "rocksdb";
constexpr char kKeysFolder[] = "keys";
constexpr char kMetadataFolderKey[] = "folder=";
constexpr char kMetadataEntriesKey[] = "entries=";

// Held by the one BackupFolder open for backup.
absl::Mutex backup_mu;

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

BackupInfo FromRocksInfo(const rocksdb::BackupInfo& info) {
  BackupInfo out;
  out.backup_id = info.backup_id;
  out.bytes = info.size;
  out.unix_seconds = info.timestamp;
  out.entries = ParseDecimal(MetadataValue(info.app_metadata, kMetadataEntriesKey)).value_or(0);
  return out;
}

absl::Status FromIo(const rocksdb::IOStatus& status, std::string_view what) {
  return FromRocks(status, what);
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& path) {
  rocksdb::BackupEngineOptions options(StrCat(path, "/", kEngineFolder));
  options.share_files_with_checksum = true;
  options.sync = true;
  return options;
}

std::string KeysFolder(const std::string& path, uint32_t backup_id) {
  return StrCat(path, "/", kKeysFolder, "/", backup_id);
}

// Copies the regular files at the top of `from` (the key files; the
// database and the key store are folders of their own) into `to`,
// owner-only. A key-encryption key (*.kek) is never copied: a backup must
// not carry what opens the data keys.
absl::Status CopyKeyFiles(const std::string& from, const std::string& to) {
  std::error_code error;
  fs::create_directories(to, error);
  if (error || ::chmod(to.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot create ", to));
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(from, error)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".kek") continue;
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

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenToRead(const std::string& path) {
  std::error_code error;
  if (!fs::is_directory(StrCat(path, "/", kEngineFolder), error)) {
    return absl::NotFoundError(StrCat(path, " holds no innsyn backups"));
  }
  rocksdb::BackupEngineReadOnly* engine = nullptr;
  rocksdb::IOStatus s =
      rocksdb::BackupEngineReadOnly::Open(EngineOptions(path), rocksdb::Env::Default(), &engine);
  if (!s.ok()) return FromIo(s, StrCat("open backup folder ", path));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(engine);
}

// Backup `backup_id` of `engine`, or its newest with 0.
absl::StatusOr<rocksdb::BackupInfo> FindBackup(rocksdb::BackupEngineReadOnly& engine,
                                               const std::string& path, uint32_t backup_id) {
  rocksdb::BackupInfo info;
  rocksdb::Status got =
      backup_id == 0 ? engine.GetLatestBackupInfo(&info) : engine.GetBackupInfo(backup_id, &info);
  if (!got.ok()) {
    return absl::NotFoundError(backup_id == 0 ? StrCat(path, " holds no backup")
                                              : StrCat("backup ", backup_id, " is not in ", path));
  }
  return info;
}

}  // namespace

BackupFolder::BackupFolder(std::string path) : one_writer_(&backup_mu), path_(std::move(path)) {}

BackupFolder::~BackupFolder() = default;

absl::StatusOr<std::unique_ptr<BackupFolder>> BackupFolder::OpenForBackup(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("backup_dir is required");
  auto folder = std::unique_ptr<BackupFolder>(new BackupFolder(path));
  std::error_code error;
  fs::create_directories(path, error);
  if (error || ::chmod(path.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot create backup folder ", path));
  }
  rocksdb::BackupEngine* engine = nullptr;
  rocksdb::IOStatus s =
      rocksdb::BackupEngine::Open(EngineOptions(path), rocksdb::Env::Default(), &engine);
  if (!s.ok()) return FromIo(s, StrCat("open backup folder ", path));
  folder->engine_.reset(engine);
  return folder;
}

absl::StatusOr<BackupInfo> BackupFolder::Add(rocksdb::DB& db, const std::string& data_dir,
                                             uint64_t entries, uint32_t keep) {
  const std::string folder = fs::path(db.GetName()).filename().string();
  rocksdb::CreateBackupOptions create;
  // Memtables are flushed to table files first: tables are shared between
  // backups, the WAL is not, so a backup then copies only what is new.
  // Writes go on during the flush.
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  rocksdb::IOStatus s =
      engine_->CreateNewBackupWithMetadata(create, &db, Metadata(folder, entries), &id);
  if (!s.ok()) return FromIo(s, StrCat("backup into ", path_));
  if (absl::Status copied = CopyKeyFiles(data_dir, KeysFolder(path_, id)); !copied.ok()) {
    engine_->DeleteBackup(id);
    return copied;
  }
  rocksdb::BackupInfo info;
  if (rocksdb::Status got = engine_->GetBackupInfo(id, &info); !got.ok()) {
    return FromRocks(got, "read the new backup");
  }
  if (keep > 0) {
    if (absl::Status kept = KeepNewest(keep); !kept.ok()) return kept;
  }
  return FromRocksInfo(info);
}

absl::Status BackupFolder::KeepNewest(uint32_t keep) {
  if (rocksdb::IOStatus s = engine_->PurgeOldBackups(keep); !s.ok()) {
    return FromIo(s, "remove old backups");
  }
  std::vector<rocksdb::BackupInfo> kept;
  engine_->GetBackupInfo(&kept);
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(StrCat(path_, "/", kKeysFolder), error)) {
    bool still_kept = false;
    for (const rocksdb::BackupInfo& k : kept) {
      still_kept |= entry.path().filename().string() == std::to_string(k.backup_id);
    }
    if (!still_kept) fs::remove_all(entry.path(), error);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BackupInfo>> BackupFolder::List(const std::string& path) {
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine = OpenToRead(path);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  for (const rocksdb::BackupInfo& info : infos) out.push_back(FromRocksInfo(info));
  return out;
}

absl::StatusOr<BackupInfo> BackupFolder::Restore(const std::string& path, uint32_t backup_id,
                                                 const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir is required");
  std::error_code error;
  if (fs::exists(data_dir, error) && !fs::is_empty(data_dir, error)) {
    return absl::FailedPreconditionError(
        StrCat("data folder ", data_dir, " is not empty; restore into a new folder"));
  }
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine = OpenToRead(path);
  if (!engine.ok()) return engine.status();
  absl::StatusOr<rocksdb::BackupInfo> info = FindBackup(**engine, path, backup_id);
  if (!info.ok()) return info.status();
  const uint32_t id = info->backup_id;
  if (rocksdb::IOStatus s = (*engine)->VerifyBackup(id, /*verify_with_checksum=*/true); !s.ok()) {
    return absl::DataLossError(StrCat("backup ", id, " is damaged: ", s.ToString()));
  }
  const std::string folder = MetadataValue(info->app_metadata, kMetadataFolderKey);
  if (folder.empty() || folder.find('/') != std::string::npos || folder == "..") {
    return absl::DataLossError(StrCat("backup ", id, " has no database folder name"));
  }
  if (absl::Status copied = CopyKeyFiles(KeysFolder(path, id), data_dir); !copied.ok()) {
    return copied;
  }
  const std::string db_dir = StrCat(data_dir, "/", folder);
  if (rocksdb::IOStatus s = (*engine)->RestoreDBFromBackup(id, db_dir, db_dir); !s.ok()) {
    return FromIo(s, StrCat("restore backup ", id, " into ", db_dir));
  }
  return FromRocksInfo(*info);
}

}  // namespace innsyn::storage
