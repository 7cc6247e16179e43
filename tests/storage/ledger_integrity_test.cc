// What the ledger does once its bytes no longer match what it signed: every
// read is checked against the stored leaf hash, and a damaged ledger takes
// no more events and signs nothing, while reads and the records of queries
// and alerts go on. And what innsynd's ledger signs before the full
// verification at start has passed: nothing new.
#include <gtest/gtest.h>

#include "storage/internal/schema.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using ::innsyn::testing::AppendJournalReads;
using ::innsyn::testing::IsOk;
using ::innsyn::testing::StatusIs;
using ::testing::HasSubstr;

// Opens the ledger in `dir` as innsynd does.
std::unique_ptr<Ledger> OpenAsInnsynd(const std::string& dir,
                                      absl::Duration verification_wait = absl::Seconds(30)) {
  LedgerOptions options;
  options.data_dir = dir;
  options.origin = ::innsyn::testing::kTestOrigin;
  options.sign_after_verification = true;
  options.verification_wait = verification_wait;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(options);
  EXPECT_THAT(ledger, IsOk());
  return ledger.ok() ? *std::move(ledger) : nullptr;
}

void FlipFirstByte(const std::string& dir, uint64_t seq) {
  ::innsyn::testing::TamperWithStoredValue(dir, internal::kEntriesFamily, internal::SeqKey(seq),
                                           [](std::string& bytes) {
                                             bytes[bytes.size() / 2] ^= 0x01;
                                             return true;
                                           });
}

class LedgerIntegrityTest : public ::testing::Test {
 protected:
  // A ledger of `count` entries, signed and closed.
  void Fill(int count) {
    std::unique_ptr<Ledger> ledger = ::innsyn::testing::OpenTestLedger(dir_.path());
    ASSERT_NE(ledger, nullptr);
    AppendJournalReads(*ledger, count);
    ASSERT_THAT(ledger->Checkpoint(), IsOk());
  }

  ::innsyn::testing::TempDir dir_;
};

TEST_F(LedgerIntegrityTest, AChangedEntryFailsToReadWithDataLossNamingItsSeq) {
  ASSERT_NO_FATAL_FAILURE(Fill(5));
  FlipFirstByte(dir_.path(), 2);
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path());
  ASSERT_NE(ledger, nullptr);
  EXPECT_THAT(ledger->GetEntries(0, 2), IsOk());  // the entries before it still read
  EXPECT_THAT(ledger->GetEntries(0, 5),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 2 does not match")));
  const Ledger::Integrity integrity = ledger->GetIntegrity();
  EXPECT_TRUE(integrity.damaged);
  EXPECT_EQ(integrity.damaged_seq, 2u);
}

// A retry of an event whose stored copy was changed: the first read of it
// is in the writer. That request is refused with DATA_LOSS and the ledger
// marked damaged, but the writer goes on, so that queries are still
// recorded.
TEST_F(LedgerIntegrityTest, ARetryOfAChangedEntryRefusesItsRequestButNotTheWriter) {
  ASSERT_NO_FATAL_FAILURE(Fill(5));
  FlipFirstByte(dir_.path(), 2);
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path());
  ASSERT_NE(ledger, nullptr);
  const v1::AccessEvent retry = testing::JournalRead(2, "patient-2", "dr-2");
  EXPECT_THAT(ledger->AppendEvents(std::vector<v1::AccessEvent>{retry}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("event 0: entry 2 does not match")));
  EXPECT_TRUE(ledger->GetIntegrity().damaged);
  v1::QueryRecord query;
  query.set_method("ListSubjectAccess");
  EXPECT_THAT(ledger->AppendQuery(query), IsOk());
}

TEST_F(LedgerIntegrityTest, ADamagedLedgerTakesNoEventsAndSignsNothingButRecordsQueries) {
  ASSERT_NO_FATAL_FAILURE(Fill(5));
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path());
  ASSERT_NE(ledger, nullptr);
  ledger->MarkVerified();
  ledger->MarkDamaged(3, "entry 3: leaf hash differs");
  EXPECT_THAT(ledger->AppendEvents(std::vector<v1::AccessEvent>{testing::JournalRead(9, "p", "a")}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("at entry 3")));
  v1::QueryRecord query;
  query.set_method("ListSubjectAccess");
  query.set_subject_id("patient-1");
  ASSERT_THAT(ledger->AppendQuery(query), IsOk());  // looking is still recorded
  EXPECT_THAT(ledger->Checkpoint(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("failed verification")));
  // The tree heads signed before the damage was found can still be given,
  // as stored; no other is signed, not even of an older size.
  EXPECT_THAT(ledger->Checkpoint(5), IsOk());
  EXPECT_THAT(ledger->Checkpoint(4), StatusIs(absl::StatusCode::kFailedPrecondition));
  ledger.reset();  // no last checkpoint is signed on close either
  std::unique_ptr<Ledger> reopened = ::innsyn::testing::OpenTestLedger(dir_.path(), true);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Size(), 6u);
  EXPECT_EQ(reopened->LatestStoredCheckpoint()->tree_size(), 5u);
}

TEST_F(LedgerIntegrityTest, AChangedLastEntryIsFoundAtOpen) {
  ASSERT_NO_FATAL_FAILURE(Fill(4));
  FlipFirstByte(dir_.path(), 3);
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path());
  ASSERT_NE(ledger, nullptr);
  EXPECT_TRUE(ledger->GetIntegrity().damaged);
  EXPECT_EQ(ledger->GetIntegrity().damaged_seq, 3u);
}

TEST_F(LedgerIntegrityTest, NothingNewIsSignedBeforeTheVerificationAtStartHasPassed) {
  ASSERT_NO_FATAL_FAILURE(Fill(3));
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path(), absl::Milliseconds(20));
  ASSERT_NE(ledger, nullptr);
  AppendJournalReads(*ledger, 2, 100);
  EXPECT_THAT(ledger->Checkpoint(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("still running")));
  EXPECT_THAT(ledger->Checkpoint(3), IsOk());  // signed and stored before this start
  EXPECT_THAT(ledger->Checkpoint(2), StatusIs(absl::StatusCode::kUnavailable));
  ledger->MarkVerified();
  absl::StatusOr<v1::Checkpoint> signed_now = ledger->Checkpoint();
  ASSERT_THAT(signed_now, IsOk());
  EXPECT_EQ(signed_now->tree_size(), 5u);
}

TEST_F(LedgerIntegrityTest, EntriesAppendedBeforeACrashAreSignedOnlyAfterVerification) {
  ASSERT_NO_FATAL_FAILURE(Fill(3));
  {
    std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path(), absl::Milliseconds(20));
    ASSERT_NE(ledger, nullptr);
    AppendJournalReads(*ledger, 2, 100);
    // Closed before the start's verification passed: no last checkpoint.
  }
  std::unique_ptr<Ledger> ledger = OpenAsInnsynd(dir_.path(), absl::Milliseconds(20));
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->LatestStoredCheckpoint()->tree_size(), 3u);  // opening signed nothing new
}

}  // namespace
}  // namespace innsyn::storage
