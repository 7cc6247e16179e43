#include "daemon/alerts/detection_progress.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/ledger.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::daemon {
namespace {

constexpr absl::Duration kEverySecond = absl::Seconds(1);
const absl::Time kNoon = absl::FromUnixSeconds(1'790'000'000);

class DetectionProgressTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Ledger> OpenLedger(const std::string& folder, int events) {
    storage::LedgerOptions options;
    options.data_dir = folder;
    std::unique_ptr<storage::Ledger> ledger = *storage::Ledger::Open(options);
    std::vector<v1::AccessEvent> batch;
    for (int i = 0; i < events; ++i) {
      batch.push_back(testing::JournalRead(i, "01017012345", "dr-hansen", kNoon));
    }
    if (events > 0) {
      EXPECT_TRUE(ledger->AppendEvents(batch).ok());
    }
    return ledger;
  }
  std::string MarkPath() const { return dir_.path() + "/detection-progress"; }

  testing::TempDir dir_;
  testing::TempDir other_dir_;
};

TEST_F(DetectionProgressTest, ASavedMarkLoadsBackForTheSameLedger) {
  std::unique_ptr<storage::Ledger> ledger = OpenLedger(dir_.path() + "/ledger", 5);
  DetectionProgress progress(MarkPath(), *ledger);
  EXPECT_TRUE(absl::IsNotFound(progress.Load().status()));
  ASSERT_TRUE(progress.Save(3, kNoon, kEverySecond).ok());
  EXPECT_EQ(*progress.Load(), 3u);
}

TEST_F(DetectionProgressTest, SavesAtMostOncePerIntervalUnlessForced) {
  std::unique_ptr<storage::Ledger> ledger = OpenLedger(dir_.path() + "/ledger", 5);
  DetectionProgress progress(MarkPath(), *ledger);
  ASSERT_TRUE(progress.Save(2, kNoon, kEverySecond).ok());
  ASSERT_TRUE(progress.Save(4, kNoon + absl::Milliseconds(500), kEverySecond).ok());
  EXPECT_EQ(*progress.Load(), 2u);
  ASSERT_TRUE(progress.Save(4, kNoon + absl::Milliseconds(500), kEverySecond, true).ok());
  EXPECT_EQ(*progress.Load(), 4u);
  ASSERT_TRUE(progress.Save(5, kNoon + absl::Seconds(2), kEverySecond).ok());
  EXPECT_EQ(*progress.Load(), 5u);
}

TEST_F(DetectionProgressTest, AMarkOfAnotherLedgerIsRefused) {
  std::unique_ptr<storage::Ledger> ledger = OpenLedger(dir_.path() + "/ledger", 5);
  ASSERT_TRUE(DetectionProgress(MarkPath(), *ledger).Save(4, kNoon, kEverySecond).ok());
  // Another ledger of the same size, whose entries differ.
  storage::LedgerOptions options;
  options.data_dir = other_dir_.path() + "/ledger";
  std::unique_ptr<storage::Ledger> other = *storage::Ledger::Open(options);
  std::vector<v1::AccessEvent> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(testing::JournalRead(i + 100, "02028054321", "dr-berg", kNoon));
  }
  ASSERT_TRUE(other->AppendEvents(batch).ok());
  absl::StatusOr<uint64_t> loaded = DetectionProgress(MarkPath(), *other).Load();
  EXPECT_TRUE(absl::IsFailedPrecondition(loaded.status())) << loaded.status();
  EXPECT_NE(loaded.status().message().find("another ledger"), std::string::npos);
}

TEST_F(DetectionProgressTest, AMarkBeyondTheLedgerOrATornFileIsRefused) {
  std::unique_ptr<storage::Ledger> ledger = OpenLedger(dir_.path() + "/ledger", 3);
  std::ofstream(MarkPath()) << "7 " << std::string(64, 'a') << "\n";
  absl::StatusOr<uint64_t> beyond = DetectionProgress(MarkPath(), *ledger).Load();
  EXPECT_TRUE(absl::IsFailedPrecondition(beyond.status())) << beyond.status();
  std::ofstream(MarkPath(), std::ios::trunc) << "2 abc";
  absl::StatusOr<uint64_t> torn = DetectionProgress(MarkPath(), *ledger).Load();
  EXPECT_TRUE(absl::IsFailedPrecondition(torn.status())) << torn.status();
}

TEST_F(DetectionProgressTest, WithoutAPathNothingIsStored) {
  std::unique_ptr<storage::Ledger> ledger = OpenLedger(dir_.path() + "/ledger", 2);
  DetectionProgress progress("", *ledger);
  EXPECT_TRUE(progress.Save(2, kNoon, kEverySecond, true).ok());
  EXPECT_TRUE(absl::IsNotFound(progress.Load().status()));
  EXPECT_FALSE(std::filesystem::exists(MarkPath()));
}

}  // namespace
}  // namespace innsyn::daemon
