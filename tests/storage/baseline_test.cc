// Baseline entries (go-live state): hashed, chained and indexed like every
// entry, found by subject in their own index, in no subject's or actor's
// history and so not in the map; imported again, answered as duplicates;
// their index keys checked by verification like any others.
#include <gtest/gtest.h>

#include "storage/internal/schema.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;

class BaselineTest : public innsyn::testing::LedgerFixture {
 protected:
  std::vector<v1::AppendReceipt> Import(std::vector<v1::AccessEvent> events) {
    google::protobuf::RepeatedPtrField<v1::AccessEvent> field(events.begin(), events.end());
    v1::Baseline imported;
    imported.set_imported_by("admin-1");
    absl::StatusOr<std::vector<v1::AppendReceipt>> receipts =
        ledger_->AppendBaseline(field, imported);
    EXPECT_TRUE(receipts.ok()) << receipts.status();
    return receipts.ok() ? *receipts : std::vector<v1::AppendReceipt>{};
  }

  std::vector<uint64_t> Seqs(const IndexPage& page) {
    std::vector<uint64_t> seqs;
    for (const StoredEntry& stored : page.entries) seqs.push_back(stored.seq);
    return seqs;
  }
};

TEST_F(BaselineTest, BaselineEntriesAreInNoHistoryButInTheirOwnIndex) {
  Import({JournalRead(0, "patient-1", "dr-1"), JournalRead(1, "patient-1", "dr-2")});
  Append({JournalRead(2, "patient-1", "dr-1")});
  ASSERT_EQ(ledger_->Size(), 3u);

  std::vector<StoredEntry> stored = *ledger_->GetEntries(0, 3);
  EXPECT_EQ(stored[0].header.kind(), v1::ENTRY_KIND_BASELINE);
  EXPECT_TRUE(stored[0].entry.has_baseline());
  EXPECT_EQ(stored[0].entry.baseline().imported_by(), "admin-1");
  EXPECT_FALSE(stored[0].header.key_id().empty());  // sealed under the patient's key
  EXPECT_EQ(stored[0].header.subject_count(), 0u);  // no history link
  EXPECT_EQ(stored[0].header.actor_count(), 0u);
  EXPECT_EQ(stored[2].header.subject_count(), 1u);  // the live read is the history's first

  IndexQuery query;
  query.id = "patient-1";
  EXPECT_EQ(Seqs(*ledger_->ListSubject(query)), std::vector<uint64_t>{2});
  EXPECT_EQ(Seqs(*ledger_->ListSubjectBaseline(query)), (std::vector<uint64_t>{0, 1}));
  query.id = "dr-2";
  EXPECT_TRUE(ledger_->ListActor(query)->entries.empty());

  absl::StatusOr<HistoryProof> proof = ledger_->ProveSubjectHistory("patient-1");
  ASSERT_TRUE(proof.ok()) << proof.status();
  ASSERT_EQ(proof->chain.size(), 1u);
  EXPECT_EQ(proof->chain[0].seq, 2u);
  std::vector<GivenHeader> chain;
  for (const HistoryProof::Link& link : proof->chain) {
    chain.push_back({link.bytes.header, AsBytes(link.bytes.contents_hash)});
  }
  EXPECT_TRUE(
      VerifyHistory(proof->map_root, MapSpace::kSubject, proof->pseudonym, proof->map, chain).ok());
  // An actor known only from a baseline entry has no history.
  absl::StatusOr<HistoryProof> none = ledger_->ProveActorHistory("dr-2");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->chain.empty());

  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(BaselineTest, ImportingAgainGivesTheOriginalReceiptsAndALiveEventMayNotReuseTheId) {
  std::vector<v1::AppendReceipt> first = Import({JournalRead(0, "patient-1", "dr-1")});
  std::vector<v1::AppendReceipt> again = Import({JournalRead(0, "patient-1", "dr-1")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].duplicate());
  EXPECT_EQ(again[0].seq(), first[0].seq());
  EXPECT_EQ(ledger_->Size(), 1u);

  std::vector<v1::AccessEvent> live = {JournalRead(0, "patient-1", "dr-1")};
  absl::StatusOr<std::vector<v1::AppendReceipt>> refused = ledger_->AppendEvents(live);
  EXPECT_TRUE(absl::IsAlreadyExists(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("a baseline entry"), std::string::npos)
      << refused.status();
  EXPECT_EQ(ledger_->Size(), 1u);
}

TEST_F(BaselineTest, ADeletedBaselineIndexKeyFailsVerification) {
  Import({JournalRead(0, "patient-1", "dr-1")});
  Append({JournalRead(1, "patient-1", "dr-1")});
  std::string baseline_key;
  {
    std::vector<StoredEntry> stored = *ledger_->GetEntries(0, 1);
    baseline_key = internal::IndexKey(internal::kBaselineIndex, stored[0].header.subject(),
                                      absl::FromUnixSeconds(stored[0].header.hour()), 0);
  }
  TamperWithStoredValue(internal::kIndexFamily, baseline_key, [](std::string&) { return false; });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("baseline index"), std::string::npos) << report.problem;
}

}  // namespace
}  // namespace innsyn::storage
