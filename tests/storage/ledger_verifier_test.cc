// Verification through the ledger: tampering with entries, tree, chain,
// indexes or checkpoints is found and reported by seq where there is one;
// incremental passes check only what is new and keep their progress.
#include "storage/ledger_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "base/proto_time.h"
#include "base/strings.h"
#include "storage/checkpoint.h"
#include "storage/internal/map_store.h"
#include "storage/internal/schema.h"
#include "storage/ledger.h"
#include "storage/pseudonym.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::AppendJournalReads;
using innsyn::testing::OpenTestLedger;
using innsyn::testing::TempDir;

class LedgerVerifierTest : public innsyn::testing::LedgerFixture {
 protected:
  // Two patients' reads by two dentists, checkpointed and verified, then
  // the ledger closed for tampering: four histories in the subject map.
  void FourHistoriesThenClose() {
    Append({testing::JournalRead(1, "01017012345", "dr-a"),
            testing::JournalRead(2, "01017012345", "dr-b"),
            testing::JournalRead(3, "02029012345", "dr-a")});
    ASSERT_TRUE(ledger_->Checkpoint().ok());
    ASSERT_TRUE(ledger_->Verify().ok);
    ledger_.reset();
  }

  // The map key of the first patient's stored head.
  std::string FirstPatientHead() {
    auto pseudonymizer = *Pseudonymizer::Load(dir_.path() + "/pseudonym.key", false);
    return internal::HeadKey(internal::View(internal::MakeHistoryKey(
        MapSpace::kSubject, pseudonymizer->Pseudonym(PseudonymDomain::kSubject, "01017012345"))));
  }
  // Stores `head` with its count one short; what it held goes to `original`.
  void LowerTheCountOf(const std::string& head, std::string& original) {
    TamperWithStoredValue(internal::kMapFamily, head, [&](std::string& value) {
      original = value;
      MapValue changed = *internal::DecodeMapValue(value);
      --changed.count;
      value = internal::EncodeMapValue(changed);
      return true;
    });
  }
};

// Flips a bit of stored entry `seq` of the closed ledger in `dir`.
void TamperWithEntry(const std::string& dir, uint64_t seq) {
  innsyn::testing::TamperWithStoredValue(dir, internal::kEntriesFamily, internal::SeqKey(seq),
                                         [](std::string& bytes) {
                                           bytes.back() ^= 1;
                                           return true;
                                         });
}

TEST_F(LedgerVerifierTest, VerifyPassesOnAnIntactLedgerAndChecksTheSignedCheckpoint) {
  AppendMany(300);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  AppendMany(10, 300);
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 310u);
  EXPECT_EQ(report.checkpoint_size, 300u);
}

TEST_F(LedgerVerifierTest, TamperedEntryIsReportedBySeq) {
  AppendMany(200);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(137), [](std::string& bytes) {
    bytes[bytes.size() / 2] ^= 1;  // one bit of the sealed contents
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.first_bad_seq.has_value());
  EXPECT_EQ(*report.first_bad_seq, 137u);
  EXPECT_EQ(report.problem, "entry bytes do not match the stored leaf hash");
}

// A tile is only as wide as the tree: hashes appended to a full tile, or
// a tile of level 1 cut short, are found by seq.
TEST_F(LedgerVerifierTest, ATileWiderOrNarrowerThanTheTreeIsCaught) {
  AppendMany(600);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(0, 0), [](std::string& tile) {
    tile.append(tile.substr(0, kHashBytes));
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 256u);
  EXPECT_EQ(report.problem, "tree tile (0, 0) holds 8224 bytes, not a full tile's 8192");
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(0, 0), [](std::string& tile) {
    tile.resize(256 * kHashBytes);
    return true;
  });
  ASSERT_TRUE(ledger_->Verify().ok);
  // Level 1 holds the roots of leaves [0, 256) and [256, 512).
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(1, 0), [](std::string& tile) {
    tile.resize(kHashBytes);
    return true;
  });
  report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 511u);
  EXPECT_EQ(report.problem, "tree node (8, 1) is missing");
}

TEST_F(LedgerVerifierTest, RewrittenLeafHashIsStillCaughtAtItsSeq) {
  AppendMany(64);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  // An insider changes entry 10 and also its stored leaf hash.
  std::string changed;
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(10), [&](std::string& bytes) {
    bytes[bytes.size() / 2] ^= 1;
    changed = bytes;
    return true;
  });
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(0, 0), [&](std::string& tile) {
    tile.replace(10 * kHashBytes, kHashBytes, AsBytes(LeafHash(changed)));
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 10u);  // the chain no longer matches
}

TEST_F(LedgerVerifierTest, DeletedEntryIsReportedBySeq) {
  AppendMany(50);
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(20),
                        [](std::string&) { return false; });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 20u);
  EXPECT_EQ(report.problem, "entry 20 is missing");
}

TEST_F(LedgerVerifierTest, DeletedIndexKeyIsCaughtSoNoAccessCanBeHidden) {
  Append({testing::JournalRead(1, "01017012345", "dr-snoop"),
          testing::JournalRead(2, "01017012345", "dr-ok")});
  v1::QueryRecord query;
  query.set_method("ListSubjectAccess");
  query.set_subject_id("01017012345");
  ASSERT_TRUE(ledger_->AppendQuery(query).ok());
  ASSERT_TRUE(ledger_->Verify().ok);
  IndexQuery history;
  history.id = "01017012345";
  StoredEntry snooped = ledger_->ListSubject(history)->entries.front();
  v1::LedgerEntry entry;
  entry = snooped.entry;
  ASSERT_EQ(entry.access_event().actor().id(), "dr-snoop");
  // Find and delete the subject index key of the snooping access.
  ledger_.reset();
  auto pseudonymizer = *Pseudonymizer::Load(dir_.path() + "/pseudonym.key", false);
  std::string key = internal::IndexKey(
      internal::kSubjectIndex, pseudonymizer->Pseudonym(PseudonymDomain::kSubject, "01017012345"),
      absl::FromUnixSeconds(snooped.header.hour()), snooped.seq);
  TamperWithStoredValue(internal::kIndexFamily, key, [](std::string&) { return false; });
  EXPECT_EQ(ledger_->ListSubject(history)->entries.size(), 1u);  // hidden from the patient
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("subject index does not match"), std::string::npos)
      << report.problem;
  EXPECT_TRUE(ledger_->Verify(/*check_indexes=*/false).ok);
}

// The subject map is what the entries imply: a stored head changed or
// deleted (either would mislink that history's next entry) or a changed
// stored root is found by the full pass, and nothing else is.
TEST_F(LedgerVerifierTest, AChangedOrMissingMapHeadOrRootIsCaught) {
  ASSERT_NO_FATAL_FAILURE(FourHistoriesThenClose());
  const std::string head = FirstPatientHead();
  std::string original;
  LowerTheCountOf(head, original);
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem,
            "the subject map's stored head of a subject's history (entry 1, count 1) differs from "
            "the entries (entry 1, count 2) (at 3 entries)");
  auto restore = [&](std::string& value) {
    value = original;
    return true;
  };
  TamperWithStoredValue(internal::kMapFamily, head, restore);
  EXPECT_TRUE(ledger_->Verify().ok) << ledger_->Verify().problem;

  auto flip_root = [](std::string& root) {
    root.back() ^= 1;  // the root's hash ends the stored value
    return true;
  };
  TamperWithStoredValue(internal::kMetaFamily, std::string(internal::kMetaMap), flip_root);
  report = ledger_->Verify();
  EXPECT_EQ(report.problem,
            "the stored map root at 3 entries differs from the map the entries imply");
  EXPECT_FALSE(report.first_bad_seq.has_value());
  TamperWithStoredValue(internal::kMetaFamily, std::string(internal::kMetaMap), flip_root);
  EXPECT_TRUE(ledger_->Verify().ok) << ledger_->Verify().problem;

  TamperWithStoredValue(internal::kMapFamily, head, [](std::string&) { return false; });
  report = ledger_->Verify();
  EXPECT_EQ(report.problem,
            "the subject map stores 3 history heads; the entries begin 4 histories (at 3 entries)");
}

// The map family holds the heads and nothing else: the inner nodes are
// built in memory from the heads, so a key left over beside them (an inner
// node as an older innsyn stored it, say) is found by the full pass.
TEST_F(LedgerVerifierTest, AStrayKeyInTheMapFamilyIsCaught) {
  ASSERT_NO_FATAL_FAILURE(FourHistoriesThenClose());
  const std::string stray = "N" + std::string(1, '\0');
  TamperWithStoredValue(internal::kMapFamily, stray, [](std::string& value) {
    value = std::string(66, '\x02');
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem,
            "the subject map's family holds a key that is not a history head (4e00) (at 3 "
            "entries)");
  TamperWithStoredValue(internal::kMapFamily, stray, [](std::string&) { return false; });
  EXPECT_TRUE(ledger_->Verify().ok) << ledger_->Verify().problem;

  // A ledger of an innsyn that stored its inner nodes: opened writable, it
  // drops them, and then verifies.
  TamperWithStoredValue(internal::kMapFamily, stray, [](std::string& value) {
    value = std::string(66, '\x02');
    return true;
  });
  ASSERT_TRUE(OpenWritable().ok());
  Reopen(/*read_only=*/true);
  EXPECT_TRUE(ledger_->Verify().ok) << ledger_->Verify().problem;
}

// A writable ledger builds its map from the stored heads, and refuses to
// open when they do not give the stored root, which the checkpoints sign:
// its proofs would fail every client.
TEST_F(LedgerVerifierTest, AWritableLedgerWhoseHeadsDoNotGiveItsRootDoesNotOpen) {
  ASSERT_NO_FATAL_FAILURE(FourHistoriesThenClose());
  const std::string head = FirstPatientHead();
  std::string original;
  LowerTheCountOf(head, original);
  absl::Status status = OpenWritable();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), ::testing::HasSubstr("the subject map's 4 stored history heads "
                                                     "give the root "));
  EXPECT_THAT(status.message(), ::testing::HasSubstr(", not the stored root "));
  TamperWithStoredValue(internal::kMapFamily, head, [&](std::string& value) {
    value = original;
    return true;
  });
  EXPECT_TRUE(OpenWritable().ok());
}

TEST_F(LedgerVerifierTest, RemovedCheckpointFailsVerification) {
  AppendMany(5);
  TamperWithStoredValue(internal::kMetaFamily, std::string(internal::kMetaCheckpoint),
                        [](std::string&) { return false; });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("no signed checkpoint"), std::string::npos) << report.problem;
}

TEST_F(LedgerVerifierTest, OfflineVerificationUsesThePinnedKeyNotTheFolders) {
  AppendMany(5);
  ledger_.reset();
  innsyn::testing::TempDir other;
  auto stranger = *CheckpointSigner::Load(other.path() + "/k.pem", "test.clinic/innsyn", true);
  LedgerOptions options;
  options.data_dir = dir_.path();
  options.origin = "test.clinic/innsyn";
  options.read_only = true;
  options.verifier_key = stranger->verifier_key();
  std::unique_ptr<Ledger> pinned = *Ledger::Open(options);
  VerifyReport report = pinned->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("no signature by"), std::string::npos) << report.problem;
}

TEST_F(LedgerVerifierTest, DeletedAlertIndexKeyIsCaughtSoNoAlertCanBeHidden) {
  v1::Alert alert;
  alert.set_alert_id("off_hours/dr-late/2026-11-20");
  v1::AppendReceipt raised = *ledger_->AppendAlert(alert);
  ASSERT_TRUE(ledger_->Verify().ok);
  v1::LedgerEntry entry;
  const int64_t hour = ledger_->GetEntries(raised.seq(), 1)->front().header.hour();
  ledger_.reset();
  std::string key =
      internal::IndexKey(internal::kAlertIndex, "", absl::FromUnixSeconds(hour), raised.seq());
  TamperWithStoredValue(internal::kIndexFamily, key, [](std::string&) { return false; });
  EXPECT_TRUE(ledger_->ListAlertRecords()->empty());
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("alert index does not match"), std::string::npos) << report.problem;
}

// The ledger in `dir` with ten entries, verified incrementally into
// `progress`.
std::unique_ptr<Ledger> OpenVerifiedLedger(const std::string& dir,
                                           Ledger::VerifyProgress& progress) {
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir);
  AppendJournalReads(*ledger, 10, 0);
  EXPECT_TRUE(ledger->VerifyIncremental(progress).ok);
  return ledger;
}

TEST(LedgerIncrementalVerify, ChecksOnlyEntriesSinceTheLastPass) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path());
  AppendJournalReads(*ledger, 10, 0);
  Ledger::VerifyProgress progress;
  VerifyReport first = ledger->VerifyIncremental(progress);
  ASSERT_TRUE(first.ok) << first.problem;
  EXPECT_EQ(first.entries_checked, 10u);
  EXPECT_EQ(progress.range.size(), 10u);

  AppendJournalReads(*ledger, 7, 10);
  ASSERT_TRUE(ledger->Checkpoint().ok());
  VerifyReport second = ledger->VerifyIncremental(progress);
  ASSERT_TRUE(second.ok) << second.problem;
  EXPECT_EQ(second.entries_checked, 7u);
  EXPECT_EQ(second.checkpoint_size, 17u);
  EXPECT_EQ(progress.range.Root(), *ledger->RootAt(17));

  VerifyReport nothing_new = ledger->VerifyIncremental(progress);
  EXPECT_TRUE(nothing_new.ok) << nothing_new.problem;
  EXPECT_EQ(nothing_new.entries_checked, 0u);
}

TEST(LedgerIncrementalVerify, ReportsATamperedNewEntryAndKeepsItsProgress) {
  TempDir dir;
  Ledger::VerifyProgress progress;
  AppendJournalReads(*OpenVerifiedLedger(dir.path(), progress), 10, 10);
  TamperWithEntry(dir.path(), 15);
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path(), /*read_only=*/true);
  VerifyReport report = ledger->VerifyIncremental(progress);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 15u);
  EXPECT_EQ(progress.range.size(), 10u);
}

TEST(LedgerIncrementalVerify, LeavesOlderEntriesToTheFullPass) {
  TempDir dir;
  Ledger::VerifyProgress progress;
  OpenVerifiedLedger(dir.path(), progress);  // and closed at once
  TamperWithEntry(dir.path(), 3);
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path(), /*read_only=*/true);
  EXPECT_TRUE(ledger->VerifyIncremental(progress).ok);
  VerifyReport full = ledger->Verify();
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.first_bad_seq, 3u);
}

TEST(LedgerIncrementalVerify, StopsWhenCancelledWithoutAFinding) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenTestLedger(dir.path());
  AppendJournalReads(*ledger, 10000, 0);
  std::atomic<bool> cancel{true};
  Ledger::VerifyProgress progress;
  VerifyReport full = ledger->Verify(/*check_indexes=*/true, progress, &cancel);
  EXPECT_TRUE(full.cancelled);
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(progress.range.size(), 0u);
  VerifyReport incremental = ledger->VerifyIncremental(progress, &cancel);
  EXPECT_TRUE(incremental.cancelled);
  EXPECT_LT(incremental.entries_checked, 10000u);
  cancel = false;
  VerifyReport done = ledger->Verify(/*check_indexes=*/true, progress, &cancel);
  EXPECT_TRUE(done.ok) << done.problem;
  EXPECT_FALSE(done.cancelled);
  EXPECT_EQ(progress.range.size(), 10000u);
}

}  // namespace
}  // namespace innsyn::storage
