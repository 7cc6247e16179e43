#include "storage/key_store.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/internal/key_cache.h"
#include "storage/internal/key_store_db.h"
#include "storage/internal/rocks_status.h"
#include "storage/internal/secret_file.h"

namespace innsyn::storage {
namespace {

namespace fs = std::filesystem;
using internal::FromRocks;

constexpr size_t kKekHexChars = 2 * kDataKeyBytes;
constexpr char kHexDigits[] = "0123456789abcdef";
// Backup metadata: when the backup was taken, by the caller's clock.
constexpr std::string_view kTakenMetadataKey = "taken=";

// Debian's Abseil has a string_view of its own, which its sets look up by.
absl::string_view View(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<DataKey> ParseKek(std::string_view text, const std::string& path) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.size() != kKekHexChars) {
    return absl::InvalidArgumentError(
        StrCat(path, " must hold a key-encryption key of ", kKekHexChars,
               " hexadecimal characters and a newline, not ", text.size(), " characters"));
  }
  std::string bytes(kDataKeyBytes, '\0');
  for (size_t i = 0; i < kDataKeyBytes; ++i) {
    const int high = HexValue(text[2 * i]);
    const int low = HexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return absl::InvalidArgumentError(
          StrCat(path, " must hold a key-encryption key of ", kKekHexChars,
                 " hexadecimal characters and a newline; it holds other characters"));
    }
    bytes[i] = static_cast<char>(high << 4 | low);
  }
  absl::StatusOr<DataKey> kek = DataKey::FromBytes(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return kek;
}

bool StoreExists(const std::string& dir) {
  std::error_code error;
  return fs::exists(StrCat(dir, "/CURRENT"), error);
}

// The KEK of the key store in `options.dir`, made afresh only when neither
// it nor the key store exists.
absl::StatusOr<DataKey> LoadKek(const KeyStoreOptions& options, bool store_exists) {
  absl::StatusOr<std::string> text = internal::ReadSecretFile(options.kek_file);
  if (absl::IsNotFound(text.status())) {
    if (store_exists) {
      return absl::FailedPreconditionError(
          StrCat("cannot open the key store: the key store ", options.dir,
                 " exists but its key-encryption key ", options.kek_file,
                 " is missing; restore the KEK from the copy you kept; without it no entry "
                 "can be read"));
    }
    if (!options.create_if_missing || options.read_only) {
      return absl::NotFoundError(StrCat("neither the key store ", options.dir,
                                        " nor its key-encryption key ", options.kek_file,
                                        " exists; check the paths, or open with create_if_missing "
                                        "to start a new ledger"));
    }
    RETURN_IF_ERROR(KeyStore::CreateKekFile(options.kek_file));
    text = internal::ReadSecretFile(options.kek_file);
  }
  if (!text.ok()) return text.status();
  absl::StatusOr<DataKey> kek = ParseKek(*text, options.kek_file);
  OPENSSL_cleanse(text->data(), text->size());
  return kek;
}

bool HoldsAnything(rocksdb::DB& db) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  return it->Valid() || !it->status().ok();
}

// Opens the stored check value with `kek`; writes it into a new key store.
absl::Status CheckKek(rocksdb::DB& db, const DataKey& kek, const KeyStoreOptions& options) {
  std::string sealed;
  rocksdb::Status got = db.Get(rocksdb::ReadOptions(), internal::kKekCheckKey, &sealed);
  if (got.IsNotFound()) {
    // Creation stopped between making the folder and writing the check.
    if (HoldsAnything(db)) {
      return absl::DataLossError(StrCat("the key store ", options.dir,
                                        " has lost its key-encryption key check; restore it "
                                        "from a backup"));
    }
    if (options.read_only) {
      return absl::FailedPreconditionError(
          StrCat("the key store ", options.dir, " was never finished; open it once read-write"));
    }
    rocksdb::WriteOptions write;
    write.sync = true;
    return FromRocks(db.Put(write, internal::kKekCheckKey,
                            Seal(kek, internal::kKekCheckPlaintext, internal::kKekCheckKey)),
                     StrCat("write the key-encryption key check of ", options.dir));
  }
  RETURN_IF_ERROR(FromRocks(got, StrCat("read the key-encryption key check of ", options.dir)));
  absl::StatusOr<std::string> opened = Unseal(kek, sealed, internal::kKekCheckKey);
  if (!opened.ok() || *opened != internal::kKekCheckPlaintext) {
    return absl::PermissionDeniedError(StrCat(options.kek_file,
                                              " is not the key-encryption key of the key store ",
                                              options.dir, "; use the KEK file made with it"));
  }
  return absl::OkStatus();
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions options(backup_dir);
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  options.sync = true;
  return options;
}

// When a backup was taken: the caller's time recorded in it, else
// BackupEngine's own.
int64_t TakenUnixSeconds(const rocksdb::BackupInfo& info) {
  std::string_view metadata = info.app_metadata;
  if (metadata.starts_with(kTakenMetadataKey)) {
    metadata.remove_prefix(kTakenMetadataKey.size());
    if (std::optional<uint64_t> seconds = ParseDecimal(metadata)) {
      return static_cast<int64_t>(*seconds);
    }
  }
  return info.timestamp;
}

absl::Status MakeOwnerOnlyFolder(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || ::chmod(dir.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot create ", dir));
  }
  return absl::OkStatus();
}

}  // namespace

KeyStore::KeyStore(const KeyStoreOptions& options, DataKey kek, std::unique_ptr<rocksdb::DB> db,
                   absl::flat_hash_set<std::string> shredded)
    : options_(options),
      kek_(std::move(kek)),
      db_(std::move(db)),
      cache_(std::make_unique<internal::KeyCache>(options.cache_keys)),
      shredded_(std::move(shredded)) {}

KeyStore::~KeyStore() = default;

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(const KeyStoreOptions& options) {
  if (options.dir.empty() || options.kek_file.empty()) {
    return absl::InvalidArgumentError("the key store needs a dir and a kek_file");
  }
  const bool exists = StoreExists(options.dir);
  ASSIGN_OR_RETURN(DataKey kek, LoadKek(options, exists));
  if (!exists && (!options.create_if_missing || options.read_only)) {
    return absl::NotFoundError(StrCat("the key store ", options.dir, " does not exist",
                                      options.read_only ? " and is not created read-only" : ""));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                   internal::OpenKeyDatabase(options.dir, options.env, !exists, options.read_only));
  RETURN_IF_ERROR(CheckKek(*db, kek, options));
  ASSIGN_OR_RETURN(std::vector<std::string> shredded,
                   internal::ListIdsUnder(*db, internal::kShreddedPrefix, ""));
  std::string ignored;
  const bool purge_pending =
      db->Get(rocksdb::ReadOptions(), internal::kPurgePendingKey, &ignored).ok();
  std::unique_ptr<KeyStore> store(
      new KeyStore(options, std::move(kek), std::move(db),
                   absl::flat_hash_set<std::string>(shredded.begin(), shredded.end())));
  if (purge_pending && !options.read_only) RETURN_IF_ERROR(store->Purge());
  return store;
}

absl::Status KeyStore::CheckWritable(std::string_view what) const {
  if (!options_.read_only) return absl::OkStatus();
  return absl::FailedPreconditionError(
      StrCat("the key store ", options_.dir, " is open read-only; cannot ", what));
}

bool KeyStore::IsShreddedLocked(std::string_view id) const { return shredded_.contains(View(id)); }

absl::StatusOr<std::shared_ptr<const DataKey>> KeyStore::ReadKey(std::string_view id) const {
  std::string wrapped;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), internal::WrappedKeyKey(id), &wrapped);
  if (got.IsNotFound()) return nullptr;
  RETURN_IF_ERROR(FromRocks(got, StrCat("read the data key ", id, " from ", options_.dir)));
  return OpenWrapped(id, wrapped);
}

absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> KeyStore::ReadKeys(
    absl::Span<const std::string> ids) const {
  // One MultiGet for the lot: most ids are new (a subject's first entry of
  // a class and year), and the filters answer them in one pass.
  std::vector<std::string> names;
  names.reserve(ids.size());
  for (const std::string& id : ids) names.push_back(internal::WrappedKeyKey(id));
  std::vector<rocksdb::Slice> slices(names.begin(), names.end());
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> got(ids.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), slices.size(), slices.data(),
                values.data(), got.data());
  std::vector<std::shared_ptr<const DataKey>> keys(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (got[i].IsNotFound()) continue;
    RETURN_IF_ERROR(
        FromRocks(got[i], StrCat("read the data key ", ids[i], " from ", options_.dir)));
    ASSIGN_OR_RETURN(keys[i], OpenWrapped(ids[i], values[i].ToStringView()));
  }
  return keys;
}

absl::StatusOr<std::shared_ptr<const DataKey>> KeyStore::OpenWrapped(
    std::string_view id, std::string_view wrapped) const {
  auto damaged = [&](const absl::Status& why) {
    return absl::DataLossError(StrCat("the data key ", id, " in ", options_.dir,
                                      " does not open under the key-encryption key ",
                                      options_.kek_file,
                                      ": its stored bytes are damaged; restore the key store from "
                                      "a backup (",
                                      why.message(), ")"));
  };
  absl::StatusOr<std::string> bytes = Unseal(kek_, wrapped, internal::WrappedKeyAad(id));
  if (!bytes.ok()) return damaged(bytes.status());
  absl::StatusOr<DataKey> key = DataKey::FromBytes(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (!key.ok()) return damaged(key.status());
  return std::make_shared<const DataKey>(*std::move(key));
}

absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> KeyStore::GetOrCreate(
    absl::Span<const std::string> ids, Sync sync, bool* created) {
  RETURN_IF_ERROR(CheckWritable("create keys"));
  if (created != nullptr) *created = false;
  std::vector<std::shared_ptr<const DataKey>> keys(ids.size());
  std::vector<size_t> missing;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      keys[i] = cache_->Find(ids[i]);
      if (keys[i] == nullptr) missing.push_back(i);
    }
  }
  if (missing.empty()) return keys;

  absl::MutexLock create(&create_mu_);
  // Each id missing from the cache once, by its first place in `ids`.
  absl::flat_hash_map<std::string_view, size_t> first;
  std::vector<std::string> unique;
  for (size_t i : missing) {
    const std::string& id = ids[i];
    if (!first.try_emplace(id, unique.size()).second) continue;
    if (id.empty()) return absl::InvalidArgumentError("a data key id may not be empty");
    if (IsShredded(id)) {
      return absl::FailedPreconditionError(
          StrCat("the data key ", id, " was shredded; its next generation is ", LiveId(id)));
    }
    unique.push_back(id);
  }
  ASSIGN_OR_RETURN(std::vector<std::shared_ptr<const DataKey>> stored, ReadKeys(unique));
  std::vector<std::pair<std::string_view, std::string>> wrapped;
  for (size_t u = 0; u < unique.size(); ++u) {
    if (stored[u] != nullptr) continue;
    stored[u] = std::make_shared<const DataKey>(DataKey::Random());
    wrapped.emplace_back(unique[u],
                         Seal(kek_, stored[u]->bytes(), internal::WrappedKeyAad(unique[u])));
  }
  for (size_t i : missing) keys[i] = stored[first.at(ids[i])];
  if (!wrapped.empty()) {
    // Random ids go in sorted: the memtable's skip list then finds each
    // insert position from the last one instead of from its top.
    std::sort(wrapped.begin(), wrapped.end());
    rocksdb::WriteBatch batch;
    for (const auto& [id, bytes] : wrapped) batch.Put(internal::WrappedKeyKey(id), bytes);
    rocksdb::WriteOptions write;
    write.sync = sync == Sync::kNow;
    RETURN_IF_ERROR(FromRocks(db_->Write(write, &batch),
                              StrCat("store ", batch.Count(), " new data keys in ", options_.dir)));
    if (!write.sync) later_writes_.fetch_add(1, std::memory_order_acq_rel);
    if (created != nullptr) *created = true;
  }
  absl::MutexLock lock(&mu_);
  for (size_t u = 0; u < unique.size(); ++u) cache_->Insert(unique[u], stored[u]);
  return keys;
}

absl::Status KeyStore::SyncNewKeys() {
  // The writes counted before the fsync began are in the log it syncs.
  const uint64_t written = later_writes_.load(std::memory_order_acquire);
  RETURN_IF_ERROR(
      FromRocks(db_->SyncWAL(), StrCat("make the new data keys in ", options_.dir, " durable")));
  uint64_t synced = synced_writes_.load(std::memory_order_acquire);
  while (synced < written &&
         !synced_writes_.compare_exchange_weak(synced, written, std::memory_order_acq_rel)) {
  }
  return absl::OkStatus();
}

bool KeyStore::HasUnsyncedKeys() const {
  return synced_writes_.load(std::memory_order_acquire) <
         later_writes_.load(std::memory_order_acquire);
}

absl::StatusOr<std::shared_ptr<const DataKey>> KeyStore::Get(std::string_view id) const {
  uint64_t shreds_before = 0;
  {
    absl::MutexLock lock(&mu_);
    if (std::shared_ptr<const DataKey> key = cache_->Find(id)) return key;
    if (IsShreddedLocked(id)) {
      return absl::NotFoundError(StrCat("the data key ", id, " was shredded"));
    }
    shreds_before = shreds_;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const DataKey> key, ReadKey(id));
  absl::MutexLock lock(&mu_);
  if (key == nullptr) {
    return absl::NotFoundError(IsShreddedLocked(id)
                                   ? StrCat("the data key ", id, " was shredded")
                                   : StrCat("the data key ", id, " was never created"));
  }
  // A key read before a shred that ran meanwhile is handed out, not kept.
  if (shreds_ == shreds_before) cache_->Insert(id, key);
  return key;
}

bool KeyStore::IsShredded(std::string_view id) const {
  absl::MutexLock lock(&mu_);
  return IsShreddedLocked(id);
}

std::string KeyStore::LiveId(std::string_view base) const {
  absl::MutexLock lock(&mu_);
  if (!IsShreddedLocked(base)) return std::string(base);
  for (uint64_t generation = 2;; ++generation) {
    std::string id = StrCat(base, "#", generation);
    if (!IsShreddedLocked(id)) return id;
  }
}

absl::StatusOr<std::vector<std::string>> KeyStore::ListIds(std::string_view prefix) const {
  return internal::ListIdsUnder(*db_, internal::kWrappedKeyPrefix, prefix);
}

absl::StatusOr<std::vector<std::string>> KeyStore::ListShredded() const {
  return internal::ListIdsUnder(*db_, internal::kShreddedPrefix, "");
}

KeyStore::MemoryStats KeyStore::Memory() const {
  MemoryStats stats;
  uint64_t bytes = 0;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes)) {
    stats.memtable_bytes = bytes;
  }
  absl::MutexLock lock(&mu_);
  stats.cached_keys = cache_->size();
  return stats;
}

absl::StatusOr<size_t> KeyStore::Shred(absl::Span<const std::string> ids) {
  RETURN_IF_ERROR(CheckWritable("shred keys"));
  if (ids.empty()) return 0;
  size_t live = 0;
  {
    absl::MutexLock create(&create_mu_);
    absl::flat_hash_set<std::string> counted;
    for (const std::string& id : ids) {
      if (!counted.insert(id).second) continue;
      std::string ignored;
      rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), internal::WrappedKeyKey(id), &ignored);
      if (got.ok()) {
        ++live;
      } else if (!got.IsNotFound()) {
        return FromRocks(got, StrCat("read the data key ", id, " from ", options_.dir));
      }
    }
    RETURN_IF_ERROR(internal::WriteShredBatch(*db_, ids));
    absl::MutexLock lock(&mu_);
    for (const std::string& id : ids) {
      shredded_.insert(id);
      cache_->Erase(id);
    }
    ++shreds_;
  }
  RETURN_IF_ERROR(Purge());
  return live;
}

absl::Status KeyStore::Purge() {
  RETURN_IF_ERROR(CheckWritable("purge"));
  absl::MutexLock files(&files_mu_);
  return internal::PurgeDeletedKeys(*db_);
}

absl::StatusOr<uint32_t> KeyStore::Backup(const std::string& backup_dir, absl::Duration keep,
                                          absl::Time now) {
  RETURN_IF_ERROR(CheckWritable("back up"));
  if (backup_dir.empty()) return absl::InvalidArgumentError("a key-store backup needs a folder");
  absl::MutexLock files(&files_mu_);
  RETURN_IF_ERROR(MakeOwnerOnlyFolder(backup_dir));
  rocksdb::BackupEngine* opened = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::BackupEngine::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &opened),
      StrCat("open the key-store backup folder ", backup_dir)));
  std::unique_ptr<rocksdb::BackupEngine> engine(opened);
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;  // tables are shared between backups, logs are not
  rocksdb::BackupID id = 0;
  RETURN_IF_ERROR(
      FromRocks(engine->CreateNewBackupWithMetadata(
                    create, db_.get(), StrCat(kTakenMetadataKey, absl::ToUnixSeconds(now)), &id),
                StrCat("back up the key store into ", backup_dir)));
  std::vector<rocksdb::BackupInfo> backups;
  engine->GetBackupInfo(&backups);
  const int64_t oldest_kept = absl::ToUnixSeconds(now - keep);
  for (const rocksdb::BackupInfo& backup : backups) {
    if (backup.backup_id == id || TakenUnixSeconds(backup) >= oldest_kept) continue;
    RETURN_IF_ERROR(
        FromRocks(engine->DeleteBackup(backup.backup_id),
                  StrCat("delete key-store backup ", backup.backup_id, " in ", backup_dir)));
  }
  RETURN_IF_ERROR(
      FromRocks(engine->GarbageCollect(),
                StrCat("delete unused files of the key-store backups in ", backup_dir)));
  return id;
}

absl::Status KeyStore::Restore(const std::string& backup_dir, const std::string& dir,
                               absl::Span<const std::string> also_shredded) {
  if (dir.empty()) return absl::InvalidArgumentError("a key-store restore needs a folder");
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_empty(dir, error)) {
    return absl::FailedPreconditionError(
        StrCat("the key store folder ", dir, " is not empty; restore into a new folder"));
  }
  if (!fs::is_directory(backup_dir, error)) {
    return absl::NotFoundError(StrCat(backup_dir, " holds no key-store backups"));
  }
  rocksdb::BackupEngineReadOnly* opened = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir),
                                                                rocksdb::Env::Default(), &opened),
                            StrCat("open the key-store backup folder ", backup_dir)));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(opened);
  rocksdb::BackupInfo newest;
  if (!engine->GetLatestBackupInfo(&newest).ok()) {
    return absl::NotFoundError(StrCat(backup_dir, " holds no key-store backup"));
  }
  if (rocksdb::IOStatus s = engine->VerifyBackup(newest.backup_id, /*verify_with_checksum=*/true);
      !s.ok()) {
    return absl::DataLossError(StrCat("key-store backup ", newest.backup_id, " in ", backup_dir,
                                      " is damaged: ", s.ToString()));
  }
  RETURN_IF_ERROR(MakeOwnerOnlyFolder(dir));
  RETURN_IF_ERROR(FromRocks(engine->RestoreDBFromBackup(newest.backup_id, dir, dir),
                            StrCat("restore key-store backup ", newest.backup_id, " into ", dir)));
  if (also_shredded.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                   internal::OpenKeyDatabase(dir, nullptr, /*create=*/false, /*read_only=*/false));
  RETURN_IF_ERROR(internal::WriteShredBatch(*db, also_shredded));
  return internal::PurgeDeletedKeys(*db);
}

absl::Status KeyStore::CreateKekFile(const std::string& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) == 0) {
    return absl::AlreadyExistsError(
        StrCat(path, " already exists; a key-encryption key is never replaced"));
  }
  const DataKey kek = DataKey::Random();
  std::string text;
  for (unsigned char byte : kek.bytes()) {
    text.push_back(kHexDigits[byte >> 4]);
    text.push_back(kHexDigits[byte & 0xf]);
  }
  text.push_back('\n');
  absl::Status written = internal::WriteSecretFile(path, text);
  OPENSSL_cleanse(text.data(), text.size());
  return written;
}

}  // namespace innsyn::storage
