// A disk that starts failing writes or syncs (tests/storage/faulty_disk.h).
// Appends must then fail with UNAVAILABLE, nothing unwritten may be
// acknowledged, and what was acknowledged before must survive and verify.
#include <gtest/gtest.h>

#include "storage/ledger.h"
#include "tests/storage/faulty_disk.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::Fault;
using innsyn::testing::JournalRead;

class LedgerFaultTest : public ::testing::TestWithParam<Fault> {};

TEST_P(LedgerFaultTest, FailingDiskAcknowledgesNothingAndLosesNothing) {
  testing::OnFaultyDisk on_disk;
  std::shared_ptr<testing::FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);

  std::vector<v1::AccessEvent> before;
  for (int i = 0; i < 10; ++i) before.push_back(JournalRead(i, "p", "a"));
  std::vector<v1::AppendReceipt> acknowledged = *ledger->AppendEvents(before);

  disk->fault = GetParam();
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<std::vector<v1::AppendReceipt>> failed =
        ledger->AppendEvents({JournalRead(100 + attempt, "p", "a")});
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
    EXPECT_EQ(ledger->Size(), 10u);
  }
  ledger.reset();  // its last checkpoint and flush fail too; that is fine

  disk->fault = Fault::kNone;
  options.env = nullptr;
  ledger = *Ledger::Open(options);
  ASSERT_GE(ledger->Size(), 10u);
  std::vector<StoredEntry> stored = *ledger->GetEntries(0, 10);
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    EXPECT_EQ(stored[i].seq, acknowledged[i].seq());
    EXPECT_EQ(AsBytes(stored[i].leaf_hash), acknowledged[i].leaf_hash());
  }
  // A retry of what failed is recorded once, whether or not the failed
  // write reached the disk.
  v1::AppendReceipt retried = (*ledger->AppendEvents({JournalRead(100, "p", "a")}))[0];
  EXPECT_GE(retried.seq(), 10u);
  VerifyReport report = ledger->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

INSTANTIATE_TEST_SUITE_P(Faults, LedgerFaultTest, ::testing::Values(Fault::kWrite, Fault::kSync),
                         [](const auto& info) {
                           return info.param == Fault::kWrite ? "Write" : "Sync";
                         });

}  // namespace
}  // namespace innsyn::storage
