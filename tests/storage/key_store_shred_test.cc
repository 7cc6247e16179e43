// Shredding leaves a key in no file of the key store, even when a crash
// cut a shred short; key-store backups forget shredded keys once they are
// older than `keep`, and restores shred again what was shredded since.
#include <gtest/gtest.h>

#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/key_store.h"
#include "tests/storage/key_store_test_support.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::Bytes;
using innsyn::testing::FilesContaining;
using innsyn::testing::KeyStoreTest;
using innsyn::testing::OpenDirectly;
using innsyn::testing::StoredValue;
using innsyn::testing::TempDir;

// The wrapped and the raw bytes of a key, from a store opened and closed.
struct KeyOnDisk {
  std::string wrapped;
  std::string raw;
};

TEST_F(KeyStoreTest, ShredLeavesTheKeyInNoFile) {
  KeyOnDisk in_table, in_log;
  std::string kept;
  {
    std::unique_ptr<KeyStore> store = Open();
    in_table.raw = Bytes(Make(*store, "in-table"));
    kept = Bytes(Make(*store, "kept"));
  }
  {
    // Reopening replays the log into a table file.
    std::unique_ptr<KeyStore> store = Open();
    in_log.raw = Bytes(Make(*store, "in-log"));
  }
  in_table.wrapped = StoredValue(dir_, "k/in-table");
  in_log.wrapped = StoredValue(dir_, "k/in-log");
  ASSERT_GT(in_table.wrapped.size(), kDataKeyBytes);
  for (const KeyOnDisk& key : {in_table, in_log}) {
    // The search finds a stored key; a raw key is never stored.
    EXPECT_FALSE(FilesContaining(dir_, key.wrapped).empty());
    EXPECT_TRUE(FilesContaining(dir_, key.raw).empty());
  }

  std::unique_ptr<KeyStore> store = Open();
  EXPECT_EQ(*store->Shred({"in-table", "in-log"}), 2u);
  for (const KeyOnDisk& key : {in_table, in_log}) {
    EXPECT_EQ(FilesContaining(dir_, key.wrapped), std::vector<std::string>{});
    EXPECT_EQ(FilesContaining(dir_, key.raw), std::vector<std::string>{});
  }
  EXPECT_EQ(Bytes(*store->Get("kept")), kept);
  store.reset();
  EXPECT_EQ(Bytes(*Open()->Get("kept")), kept);
}

TEST_F(KeyStoreTest, ShredInterruptedBeforeItsPurgeIsFinishedByOpen) {
  {
    std::unique_ptr<KeyStore> store = Open();
    Make(*store, "victim");
  }
  const std::string wrapped = StoredValue(dir_, "k/victim");
  {
    // The first step of a shred, as a crash right after it leaves it.
    std::unique_ptr<rocksdb::DB> db = OpenDirectly(dir_);
    rocksdb::WriteBatch batch;
    batch.Delete("k/victim");
    batch.Put("x/victim", "");
    batch.Put("purge-pending", "");
    rocksdb::WriteOptions write;
    write.sync = true;
    ASSERT_TRUE(db->Write(write, &batch).ok());
  }
  ASSERT_FALSE(FilesContaining(dir_, wrapped).empty());
  std::unique_ptr<KeyStore> store = Open();
  EXPECT_EQ(FilesContaining(dir_, wrapped), std::vector<std::string>{});
  EXPECT_TRUE(store->IsShredded("victim"));
  EXPECT_EQ(store->Get("victim").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, DeletedKeyLeftInFilesIsRemovedByPurgeOrShred) {
  for (const bool by_shred : {false, true}) {
    SCOPED_TRACE(by_shred ? "Shred again" : "Purge");
    const std::string id = by_shred ? "victim-2" : "victim-1";
    Make(*Open(), id);
    const std::string wrapped = StoredValue(dir_, "k/" + id);
    {
      rocksdb::WriteOptions write;
      write.sync = true;
      ASSERT_TRUE(OpenDirectly(dir_)->Delete(write, "k/" + id).ok());
    }
    std::unique_ptr<KeyStore> store = Open();
    ASSERT_FALSE(FilesContaining(dir_, wrapped).empty());
    if (by_shred) {
      EXPECT_EQ(*store->Shred({id}), 0u);
    } else {
      ASSERT_TRUE(store->Purge().ok());
    }
    EXPECT_EQ(FilesContaining(dir_, wrapped), std::vector<std::string>{});
  }
}

// The ids of the backups in `backup_dir`, oldest first.
std::vector<uint32_t> BackupIds(const std::string& backup_dir) {
  rocksdb::BackupEngineReadOnly* engine = nullptr;
  EXPECT_TRUE(rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                  rocksdb::Env::Default(), &engine)
                  .ok());
  std::unique_ptr<rocksdb::BackupEngineReadOnly> owned(engine);
  std::vector<rocksdb::BackupInfo> infos;
  owned->GetBackupInfo(&infos);
  std::vector<uint32_t> ids;
  for (const rocksdb::BackupInfo& info : infos) ids.push_back(info.backup_id);
  return ids;
}

const absl::Time kStart = absl::FromUnixSeconds(1'780'000'000);

TEST_F(KeyStoreTest, BackupRestoresIntoANewFolder) {
  TempDir backups, target;
  const std::string restored = target.path() + "/keys";
  std::unique_ptr<KeyStore> store = Open();
  std::vector<std::shared_ptr<const DataKey>> keys = *store->GetOrCreate({"a", "b"});
  absl::StatusOr<uint32_t> id = store->Backup(backups.path(), absl::Hours(1), kStart);
  ASSERT_TRUE(id.ok()) << id.status();
  Make(*store, "after-the-backup");

  ASSERT_TRUE(KeyStore::Restore(backups.path(), restored, {}).ok());
  KeyStoreOptions options = Options();
  options.dir = restored;
  options.create_if_missing = false;
  std::unique_ptr<KeyStore> copy = Open(options);
  EXPECT_EQ(Bytes(*copy->Get("a")), Bytes(keys[0]));
  EXPECT_EQ(Bytes(*copy->Get("b")), Bytes(keys[1]));
  EXPECT_EQ(copy->Get("after-the-backup").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(KeyStore::Restore(backups.path(), restored, {}).code(),
            absl::StatusCode::kFailedPrecondition);
  TempDir empty;
  EXPECT_EQ(KeyStore::Restore(empty.path() + "/none", target.path() + "/other", {}).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, BackupsOlderThanKeepAreDeletedAndShreddedKeysLeaveThem) {
  TempDir backups;
  std::unique_ptr<KeyStore> store = Open();
  Make(*store, "victim");
  Make(*store, "kept");
  const uint32_t first = *store->Backup(backups.path(), absl::Hours(1), kStart);
  store.reset();
  const std::string wrapped = StoredValue(dir_, "k/victim");
  store = Open();
  ASSERT_FALSE(FilesContaining(backups.path(), wrapped).empty());

  EXPECT_EQ(*store->Shred({"victim"}), 1u);
  const uint32_t second =
      *store->Backup(backups.path(), absl::Hours(1), kStart + absl::Minutes(50));
  EXPECT_EQ(BackupIds(backups.path()), (std::vector<uint32_t>{first, second}));
  EXPECT_FALSE(FilesContaining(backups.path(), wrapped).empty());

  const uint32_t third = *store->Backup(backups.path(), absl::Hours(1), kStart + absl::Minutes(90));
  EXPECT_EQ(BackupIds(backups.path()), (std::vector<uint32_t>{second, third}));
  EXPECT_EQ(FilesContaining(backups.path(), wrapped), std::vector<std::string>{});
}

TEST_F(KeyStoreTest, RestoreShredsAgainWhatWasShreddedAfterTheBackup) {
  TempDir backups, target;
  const std::string restored = target.path() + "/keys";
  std::unique_ptr<KeyStore> store = Open();
  std::vector<std::shared_ptr<const DataKey>> keys = *store->GetOrCreate({"a", "b"});
  ASSERT_TRUE(store->Backup(backups.path(), absl::Hours(1), kStart).ok());
  store.reset();
  const std::string wrapped = StoredValue(dir_, "k/a");

  ASSERT_TRUE(KeyStore::Restore(backups.path(), restored, {"a"}).ok());
  EXPECT_EQ(FilesContaining(restored, wrapped), std::vector<std::string>{});
  KeyStoreOptions options = Options();
  options.dir = restored;
  std::unique_ptr<KeyStore> copy = Open(options);
  EXPECT_TRUE(copy->IsShredded("a"));
  EXPECT_EQ(copy->Get("a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(copy->LiveId("a"), "a#2");
  EXPECT_EQ(Bytes(*copy->Get("b")), Bytes(keys[1]));
}

}  // namespace
}  // namespace innsyn::storage
