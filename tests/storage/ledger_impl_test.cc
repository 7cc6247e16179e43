// The ledger's shared state on its own: the database opens with each column
// family's handle found by its name, and the committed state is read back
// from the meta family.
#include "storage/internal/ledger_impl.h"

#include <gtest/gtest.h>

#include "rocksdb/write_batch.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "tests/support/temp_dir.h"

namespace innsyn::storage::internal {
namespace {

using innsyn::testing::TempDir;

class LedgerImplTest : public ::testing::Test {
 protected:
  void SetUp() override {
    impl_.options.data_dir = dir_.path();
    absl::Status opened = impl_.OpenDatabase();
    ASSERT_TRUE(opened.ok()) << opened;
  }
  void TearDown() override { impl_.CloseDatabase(/*flush=*/false); }

  void PutMeta(std::string_view key, std::string_view value) {
    ASSERT_TRUE(impl_.db->Put(rocksdb::WriteOptions(), impl_.meta, key, value).ok());
  }

  TempDir dir_;
  LedgerImpl impl_;
};

TEST_F(LedgerImplTest, EachFamilyHandleIsTheFamilyOfItsName) {
  EXPECT_EQ(impl_.entries->GetName(), kEntriesFamily);
  EXPECT_EQ(impl_.chain->GetName(), kChainFamily);
  EXPECT_EQ(impl_.tree->GetName(), kTreeFamily);
  EXPECT_EQ(impl_.index->GetName(), kIndexFamily);
  EXPECT_EQ(impl_.dedupe->GetName(), kDedupeFamily);
  EXPECT_EQ(impl_.meta->GetName(), kMetaFamily);
  EXPECT_EQ(impl_.map->GetName(), kMapFamily);
  EXPECT_EQ(impl_.handles.size(), 8u);  // and RocksDB's default family
}

TEST_F(LedgerImplTest, ANewDatabaseIsEmptyAndUnsigned) {
  ASSERT_TRUE(impl_.LoadCommittedState().ok());
  EXPECT_EQ(impl_.committed_size.load(), 0u);
  EXPECT_TRUE(impl_.checkpoint_problem.empty());
  absl::MutexLock lock(&impl_.checkpoint_mu);
  EXPECT_FALSE(impl_.latest_checkpoint.has_value());
}

TEST_F(LedgerImplTest, ReadsTheStoredSizeAndCheckpoint) {
  v1::Checkpoint checkpoint;
  checkpoint.set_tree_size(42);
  PutMeta(kMetaSize, SeqKey(42));
  PutMeta(kMetaCheckpoint, checkpoint.SerializeAsString());
  ASSERT_TRUE(impl_.LoadCommittedState().ok());
  EXPECT_EQ(impl_.committed_size.load(), 42u);
  absl::MutexLock lock(&impl_.checkpoint_mu);
  ASSERT_TRUE(impl_.latest_checkpoint.has_value());
  EXPECT_EQ(impl_.latest_checkpoint->tree_size(), 42u);
}

TEST_F(LedgerImplTest, ACorruptSizeIsDataLoss) {
  PutMeta(kMetaSize, "abc");
  absl::Status loaded = impl_.LoadCommittedState();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kDataLoss) << loaded;
}

TEST_F(LedgerImplTest, AnUnreadableCheckpointIsNotedForVerification) {
  PutMeta(kMetaCheckpoint, "\xff\xff not a checkpoint");
  ASSERT_TRUE(impl_.LoadCommittedState().ok());
  EXPECT_EQ(impl_.checkpoint_problem, "the stored checkpoint is unreadable");
}

}  // namespace
}  // namespace innsyn::storage::internal
