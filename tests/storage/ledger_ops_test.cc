// Storage health, and online backup and restore.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/ledger.h"
#include "storage/merkle.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;
using innsyn::testing::TempDir;

constexpr char kOrigin[] = "test.clinic/innsyn";

std::unique_ptr<Ledger> OpenLedger(const std::string& dir, bool read_only = false) {
  LedgerOptions options;
  options.data_dir = dir;
  options.origin = kOrigin;
  options.read_only = read_only;
  options.create_if_missing = !read_only;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(options);
  EXPECT_TRUE(ledger.ok()) << ledger.status();
  return ledger.ok() ? *std::move(ledger) : nullptr;
}

void AppendMany(Ledger& ledger, int count, int first) {
  std::vector<v1::AccessEvent> events;
  for (int i = first; i < first + count; ++i) {
    events.push_back(JournalRead(i, "patient-" + std::to_string(i % 7), "dr-1"));
  }
  ASSERT_TRUE(ledger.AppendEvents(events).ok());
}

TEST(LedgerStorageStats, CountsTheBytesOnDisk) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  AppendMany(*ledger, 100, 0);
  Ledger::StorageStats stats = ledger->GetStorageStats();
  EXPECT_GT(stats.disk_bytes, 100u * 100);
  EXPECT_FALSE(stats.write_stopped);
  EXPECT_EQ(stats.background_errors, 0u);
}

TEST(LedgerBackup, RestoredLedgerVerifiesAndIsAPrefixOfTheLiveOne) {
  TempDir live_dir, backup_dir, restore_parent;
  std::unique_ptr<Ledger> live = OpenLedger(live_dir.path());
  AppendMany(*live, 50, 0);
  // Ingest goes on while the backup runs.
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread ingest([&] {
    for (int batch = 0; !stop.load(); ++batch) {
      AppendMany(*live, 20, 1000 + batch * 20);
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

  std::unique_ptr<Ledger> copy = OpenLedger(restored_dir, /*read_only=*/true);
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
  // A restored ledger opens writable and goes on from where it was.
  copy.reset();
  std::unique_ptr<Ledger> reopened = OpenLedger(restored_dir);
  ASSERT_NE(reopened, nullptr);
  AppendMany(*reopened, 5, 5000);
  EXPECT_TRUE(reopened->Verify().ok);
}

TEST(LedgerBackup, KeepsOnlyTheNewestBackups) {
  TempDir live_dir, backup_dir;
  std::unique_ptr<Ledger> live = OpenLedger(live_dir.path());
  for (int i = 0; i < 3; ++i) {
    AppendMany(*live, 5, i * 5);
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

TEST(LedgerBackup, RestoreRefusesAFolderInUseAndAMissingBackup) {
  TempDir live_dir, backup_dir, other;
  std::unique_ptr<Ledger> live = OpenLedger(live_dir.path());
  AppendMany(*live, 5, 0);
  ASSERT_TRUE(live->Backup(backup_dir.path()).ok());
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
  std::unique_ptr<Ledger> live = OpenLedger(live_dir.path());
  AppendMany(*live, 200, 0);
  ASSERT_TRUE(live->Backup(backup_dir.path()).ok());
  // Flip a byte in the largest file of the backup.
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
  std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(largest_size / 2));
  file.put('\x5a');
  file.close();
  absl::StatusOr<Ledger::BackupInfo> restored =
      Ledger::Restore(backup_dir.path(), 0, other.path() + "/restored");
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
}

}  // namespace
}  // namespace innsyn::storage
