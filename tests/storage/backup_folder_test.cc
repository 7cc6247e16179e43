// Online backup of a live ledger and restore into a new data folder; the
// backup folder's refusals.
#include "storage/backup_folder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/strings.h"
#include "storage/ledger.h"
#include "storage/merkle.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/temp_dir.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::AppendJournalReads;
using innsyn::testing::OpenTestLedger;
using innsyn::testing::TempDir;

TEST(LedgerBackup, RestoredLedgerVerifiesAndIsAPrefixOfTheLiveOne) {
  TempDir live_dir, backup_dir, restore_parent;
  std::unique_ptr<Ledger> live = OpenTestLedger(live_dir.path());
  AppendJournalReads(*live, 50, 0);
  // Ingest goes on while the backup runs.
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread ingest([&] {
    for (int batch = 0; !stop.load(); ++batch) {
      AppendJournalReads(*live, 20, 1000 + batch * 20);
      appended += 20;
    }
  });
  absl::StatusOr<Ledger::BackupInfo> backup = live->Backup(backup_dir.path());
  stop = true;
  ingest.join();
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_GE(backup->entries, 50u);
  EXPECT_GT(backup->bytes, 0u);
  ASSERT_TRUE(live->Checkpoint().ok());

  const std::string restored_dir = restore_parent.path() + "/restored";
  absl::StatusOr<Ledger::BackupInfo> restored = Ledger::Restore(backup_dir.path(), 0, restored_dir);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->backup_id, backup->backup_id);
  EXPECT_EQ(std::filesystem::status(restored_dir + "/pseudonym.key").permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);

  std::unique_ptr<Ledger> copy = OpenTestLedger(restored_dir, /*read_only=*/true);
  ASSERT_NE(copy, nullptr);
  VerifyReport report = copy->Verify();
  ASSERT_TRUE(report.ok) << report.problem;
  EXPECT_GE(copy->Size(), backup->entries);
  // The backup signed a checkpoint over everything committed before it.
  EXPECT_EQ(copy->LatestStoredCheckpoint()->tree_size(), backup->entries);
  // The restored ledger's signed checkpoint is a prefix of the live tree.
  std::optional<v1::Checkpoint> restored_checkpoint = copy->LatestStoredCheckpoint();
  ASSERT_TRUE(restored_checkpoint.has_value());
  const uint64_t first = restored_checkpoint->tree_size();
  const uint64_t second = live->Size();
  ASSERT_GT(first, 0u);
  ASSERT_LE(first, second);
  absl::StatusOr<std::vector<Hash>> proof = live->ConsistencyProof(first, second);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(VerifyConsistency(first, second, *HashFromBytes(restored_checkpoint->root_hash()),
                                *live->RootAt(second), *proof)
                  .ok());
  // The backup holds no key-encryption key: without the operator's copy of
  // it the restored ledger does not open for use, and says which file.
  copy.reset();
  for (const auto& file : std::filesystem::recursive_directory_iterator(backup_dir.path())) {
    EXPECT_NE(file.path().extension(), ".kek") << file.path();
  }
  storage::LedgerOptions options;
  options.data_dir = restored_dir;
  options.origin = innsyn::testing::kTestOrigin;
  absl::StatusOr<std::unique_ptr<Ledger>> without_kek = Ledger::Open(options);
  ASSERT_FALSE(without_kek.ok());
  EXPECT_NE(without_kek.status().message().find("data.kek"), std::string::npos)
      << without_kek.status();
  // With it, a restored ledger opens writable, reads what it restored and
  // goes on from where it was.
  std::filesystem::copy_file(live_dir.path() + "/data.kek", restored_dir + "/data.kek");
  std::unique_ptr<Ledger> reopened = OpenTestLedger(restored_dir);
  ASSERT_NE(reopened, nullptr);
  absl::StatusOr<std::vector<storage::StoredEntry>> opened = reopened->GetEntries(0, 1);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->front().entry.has_access_event());
  AppendJournalReads(*reopened, 5, 5000);
  EXPECT_TRUE(reopened->Verify().ok);
}

TEST(LedgerBackup, KeepsOnlyTheNewestBackups) {
  TempDir live_dir, backup_dir;
  std::unique_ptr<Ledger> live = OpenTestLedger(live_dir.path());
  for (int i = 0; i < 3; ++i) {
    AppendJournalReads(*live, 5, i * 5);
    ASSERT_TRUE(live->Backup(backup_dir.path(), /*keep=*/2).ok());
  }
  absl::StatusOr<std::vector<Ledger::BackupInfo>> backups = Ledger::ListBackups(backup_dir.path());
  ASSERT_TRUE(backups.ok()) << backups.status();
  ASSERT_EQ(backups->size(), 2u);
  EXPECT_EQ((*backups)[0].backup_id, 2u);
  EXPECT_EQ((*backups)[1].entries, 15u);
  EXPECT_FALSE(std::filesystem::exists(backup_dir.path() + "/keys/1"));
  EXPECT_TRUE(std::filesystem::exists(backup_dir.path() + "/keys/3/checkpoint_key.pem"));
}

// A ledger in `live_dir` with `count` entries, backed up into `backup_dir`.
std::unique_ptr<Ledger> BackedUpLedger(const TempDir& live_dir, const TempDir& backup_dir,
                                       int count) {
  std::unique_ptr<Ledger> live = OpenTestLedger(live_dir.path());
  AppendJournalReads(*live, count, 0);
  absl::StatusOr<BackupInfo> backup = live->Backup(backup_dir.path());
  EXPECT_TRUE(backup.ok()) << backup.status();
  return live;
}

TEST(LedgerBackup, RestoreRefusesAFolderInUseAndAMissingBackup) {
  TempDir live_dir, backup_dir, other;
  std::unique_ptr<Ledger> live = BackedUpLedger(live_dir, backup_dir, 5);
  absl::StatusOr<Ledger::BackupInfo> into_live =
      Ledger::Restore(backup_dir.path(), 0, live_dir.path());
  EXPECT_EQ(into_live.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Ledger::Restore(backup_dir.path(), 9, other.path() + "/x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Ledger::Restore(other.path(), 0, other.path() + "/y").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(other.path() + "/x"));
}

TEST(LedgerBackup, RestoreRefusesADamagedBackup) {
  TempDir live_dir, backup_dir, other;
  std::unique_ptr<Ledger> live = BackedUpLedger(live_dir, backup_dir, 200);
  // Change a byte in the largest file of the backup.
  std::filesystem::path largest;
  uintmax_t largest_size = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(backup_dir.path() + "/rocksdb")) {
    if (entry.is_regular_file() && entry.file_size() > largest_size) {
      largest = entry.path();
      largest_size = entry.file_size();
    }
  }
  ASSERT_GT(largest_size, 0u);
  std::filesystem::permissions(largest, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  // Its complement, so that the byte changes whatever it was (a fixed
  // value left it as it was once in 256 runs).
  std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(largest_size / 2);
  file.seekg(middle);
  const int byte = file.get();
  ASSERT_NE(byte, std::char_traits<char>::eof());
  file.seekp(middle);
  file.put(static_cast<char>(~byte));
  file.close();
  absl::StatusOr<Ledger::BackupInfo> restored =
      Ledger::Restore(backup_dir.path(), 0, other.path() + "/restored");
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
}

TEST(BackupFolder, AddsABackupOfAnOpenDatabaseWithItsKeys) {
  TempDir data_dir, backup_dir;
  AppendJournalReads(*OpenTestLedger(data_dir.path()), 5, 0);
  std::unique_ptr<innsyn::testing::RawLedger> raw =
      innsyn::testing::RawLedger::Open(data_dir.path());
  ASSERT_NE(raw, nullptr);
  absl::StatusOr<std::unique_ptr<BackupFolder>> folder =
      BackupFolder::OpenForBackup(backup_dir.path());
  ASSERT_TRUE(folder.ok()) << folder.status();
  absl::StatusOr<BackupInfo> added = (*folder)->Add(raw->db(), data_dir.path(), 5, /*keep=*/0);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->entries, 5u);
  EXPECT_TRUE(std::filesystem::exists(
      StrCat(backup_dir.path(), "/keys/", added->backup_id, "/pseudonym.key")));
  folder->reset();
  absl::StatusOr<std::vector<BackupInfo>> listed = BackupFolder::List(backup_dir.path());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().backup_id, added->backup_id);
}

TEST(BackupFolder, IsOpenForOneBackupAtATime) {
  TempDir backup_dir;
  auto first = BackupFolder::OpenForBackup(backup_dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  std::atomic<bool> second_open{false};
  std::thread second([&] {
    EXPECT_TRUE(BackupFolder::OpenForBackup(backup_dir.path()).ok());
    second_open = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_open.load());
  first->reset();
  second.join();
  EXPECT_TRUE(second_open.load());
}

TEST(BackupFolder, RefusesNoPathAndListsNoBackupsWhereNoneWereTaken) {
  TempDir empty;
  EXPECT_EQ(BackupFolder::OpenForBackup("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BackupFolder::List(empty.path()).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace innsyn::storage
