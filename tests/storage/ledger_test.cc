#include "storage/ledger.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "rocksdb/db.h"
#include "storage/checkpoint.h"
#include "storage/internal/schema.h"
#include "storage/merkle.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;
using innsyn::testing::RawLedger;

class LedgerTest : public innsyn::testing::LedgerFixture {};

// Every key of `family`, with its value, in the closed ledger in `dir`.
std::map<std::string, std::string> StoredFamily(const std::string& dir, const char* family) {
  std::map<std::string, std::string> stored;
  std::unique_ptr<RawLedger> raw = RawLedger::Open(dir, /*read_only=*/true);
  EXPECT_NE(raw, nullptr);
  if (raw == nullptr) return stored;
  std::unique_ptr<rocksdb::Iterator> it(
      raw->db().NewIterator(rocksdb::ReadOptions(), raw->family(family)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    stored[it->key().ToString()] = it->value().ToString();
  }
  return stored;
}

TEST_F(LedgerTest, AppendAssignsConsecutiveSeqsAndChainsHashes) {
  std::vector<v1::AppendReceipt> receipts =
      Append({JournalRead(0, "p1", "a1"), JournalRead(1, "p2", "a1"), JournalRead(2, "p1", "a2")});
  ASSERT_EQ(receipts.size(), 3u);
  Hash chain = kZeroHash;
  std::vector<StoredEntry> stored = *ledger_->GetEntries(0, 10);
  ASSERT_EQ(stored.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(receipts[i].seq(), i);
    EXPECT_EQ(receipts[i].event_id(), "ev-" + std::to_string(i));
    EXPECT_FALSE(receipts[i].duplicate());
    // The receipt's leaf hash is the hash of exactly the stored bytes.
    EXPECT_EQ(receipts[i].leaf_hash(), AsBytes(LeafHash(stored[i].bytes)));
    chain = ChainHash(chain, stored[i].leaf_hash);
    EXPECT_EQ(receipts[i].chain_hash(), AsBytes(chain));
    v1::LedgerEntry entry;
    entry = stored[i].entry;
    EXPECT_EQ(entry.seq(), i);
    EXPECT_EQ(entry.access_event().event_id(), "ev-" + std::to_string(i));
  }
  EXPECT_EQ(ledger_->Size(), 3u);
}

TEST_F(LedgerTest, RestartKeepsEverythingAndTheChainContinues) {
  AppendMany(100);
  v1::Checkpoint before = *ledger_->Checkpoint();
  Reopen();
  EXPECT_EQ(ledger_->Size(), 100u);
  AppendMany(50, 100);
  std::vector<v1::AppendReceipt> more = Append({JournalRead(500, "p", "a")});
  EXPECT_EQ(more[0].seq(), 150u);
  // A repeat of an event from before the restart is still recognised.
  EXPECT_TRUE(Append({JournalRead(3, "patient-3", "dr-0")})[0].duplicate());
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 151u);
  // The tree before the restart is a prefix of the tree after it.
  v1::Checkpoint after = *ledger_->Checkpoint();
  std::vector<Hash> proof = *ledger_->ConsistencyProof(100, 151);
  EXPECT_TRUE(VerifyConsistency(100, 151, *HashFromBytes(before.root_hash()),
                                *HashFromBytes(after.root_hash()), proof)
                  .ok());
}

TEST_F(LedgerTest, TruncatedLedgerIsCaughtAndRefusedByTheWriter) {
  AppendMany(50);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  // Pretend the last 10 entries were never written.
  TamperWithStoredValue(internal::kMetaFamily, std::string(internal::kMetaSize),
                        [](std::string& size) {
                          size = internal::SeqKey(40);
                          return true;
                        });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("entries were removed"), std::string::npos) << report.problem;
  // The daemon's ledger will not open and sign on top of it.
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss) << reopened;
}

TEST_F(LedgerTest, ALedgerMissingItsLastEntryNamesWhatIsMissingAndWhatToDo) {
  AppendMany(5);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(4),
                        [](std::string&) { return false; });
  // Seq 4's chain hash is the last of chain tile 0.
  TamperWithStoredValue(internal::kChainFamily, internal::ChainTileKey(4), [](std::string& tile) {
    tile.resize(4 * kHashBytes);
    return true;
  });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kNotFound) << reopened;
  for (const char* part :
       {"cannot go on from the last entry (seq 4): the chain hash of seq 4 is missing",
        "records 5 entries; its latest signed checkpoint covers 5",
        "innsynctl verify --data-dir"}) {
    EXPECT_NE(reopened.message().find(part), std::string::npos) << reopened;
  }
}

TEST_F(LedgerTest, RewrittenTreeIsRefusedByTheWriter) {
  AppendMany(32);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  // The first leaf hash in the level 0 tile, under node (5, 0).
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(0, 0), [](std::string& tile) {
    tile[0] ^= 1;
    return true;
  });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss) << reopened;
  EXPECT_NE(reopened.message().find("root signed at size 32"), std::string::npos) << reopened;
}

// The next group appends to the partial tiles: one wider than the committed
// size says would put its hashes in the wrong places, so the writer does
// not start.
TEST_F(LedgerTest, APartialTileWiderThanTheTreeIsRefusedByTheWriter) {
  AppendMany(100);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kTreeFamily, internal::TileKey(0, 0), [](std::string& tile) {
    tile.append(tile.substr(0, kHashBytes));
    return true;
  });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss) << reopened;
  EXPECT_NE(reopened.message().find("a partial tile of the tree of 100 entries is missing or not "
                                    "as wide as that size implies"),
            std::string::npos)
      << reopened;
}

// Index keys carry the hour an access occurred (the clear header's), so a
// history comes by hour, and within an hour as recorded.
TEST_F(LedgerTest, SubjectHistoryHasOnlyThatSubjectByHourAndPages) {
  absl::Time base = absl::FromUnixSeconds(1780000000);
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 50; ++i) {
    // Appended out of time order on purpose.
    events.push_back(JournalRead(i, i % 2 ? "odd" : "even", "dr-1", base + absl::Minutes(50 - i)));
  }
  Append(events);
  IndexQuery query;
  query.id = "odd";
  query.limit = 10;
  std::vector<uint64_t> seqs;
  absl::Time last = absl::InfinitePast();
  for (int page_count = 0; page_count < 10; ++page_count) {
    IndexPage page = *ledger_->ListSubject(query);
    for (const StoredEntry& stored : page.entries) {
      v1::LedgerEntry entry;
      entry = stored.entry;
      EXPECT_EQ(entry.access_event().subject().id(), "odd");
      absl::Time hour = absl::FromUnixSeconds(stored.header.hour());
      EXPECT_GE(hour, last);
      EXPECT_LE(hour, absl::FromUnixSeconds(entry.access_event().occurred_at().seconds()));
      EXPECT_GT(hour + absl::Hours(1),
                absl::FromUnixSeconds(entry.access_event().occurred_at().seconds()));
      last = hour;
      seqs.push_back(stored.seq);
    }
    if (page.next_page_token.empty()) break;
    query.page_token = page.next_page_token;
  }
  EXPECT_EQ(seqs.size(), 25u);
  EXPECT_EQ(std::set<uint64_t>(seqs.begin(), seqs.end()).size(), 25u);

  IndexQuery window;
  window.id = "even";
  window.from = base + absl::Minutes(10);
  window.to = base + absl::Minutes(20);
  IndexPage page = *ledger_->ListSubject(window);
  EXPECT_EQ(page.entries.size(), 5u);  // minutes 10, 12, 14, 16, 18
  EXPECT_TRUE(page.next_page_token.empty());
}

TEST_F(LedgerTest, ActorActivityListsWhatTheActorDid) {
  AppendMany(30);
  IndexQuery query;
  query.id = "dr-2";
  IndexPage page = *ledger_->ListActor(query);
  EXPECT_EQ(page.entries.size(), 10u);
  query.id = "nobody";
  EXPECT_TRUE(ledger_->ListActor(query)->entries.empty());
}

TEST_F(LedgerTest, BadPageTokenIsRejected) {
  IndexQuery query;
  query.id = "p";
  query.page_token = "not-a-token";
  EXPECT_EQ(ledger_->ListSubject(query).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, IndexFilesCarryNoRawIdentifiers) {
  const std::string national_id = "01017012345";
  const std::string actor_id = "employee-4711";
  Append({JournalRead(1, national_id, actor_id)});
  ledger_.reset();
  Reopen(/*read_only=*/true);
  // Read the index family's keys directly.
  ledger_.reset();
  std::unique_ptr<RawLedger> raw = RawLedger::Open(dir_.path(), /*read_only=*/true);
  ASSERT_NE(raw, nullptr);
  std::unique_ptr<rocksdb::Iterator> it(
      raw->db().NewIterator(rocksdb::ReadOptions(), raw->family(internal::kIndexFamily)));
  int keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++keys) {
    std::string key = it->key().ToString();
    EXPECT_EQ(key.find(national_id), std::string::npos);
    EXPECT_EQ(key.find(actor_id), std::string::npos);
  }
  EXPECT_EQ(keys, 2);  // subject and actor; the subject index finds it by its data key too
}

TEST_F(LedgerTest, QueriesAreRecordedAsEntries) {
  AppendMany(3);
  v1::QueryRecord query;
  query.set_method("ListSubjectAccess");
  query.set_caller("controller@clinic");
  query.set_subject_id("patient-1");
  v1::AppendReceipt receipt = *ledger_->AppendQuery(query);
  EXPECT_EQ(receipt.seq(), 3u);
  v1::LedgerEntry entry;
  entry = ledger_->GetEntries(3, 1)->front().entry;
  EXPECT_EQ(entry.query_record().caller(), "controller@clinic");
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, AlertsAndDecisionsAreEntriesListedInSeqOrder) {
  AppendMany(2);
  v1::Alert alert;
  alert.set_alert_id("break_glass/7");
  alert.set_rule("break_glass");
  v1::AppendReceipt raised = *ledger_->AppendAlert(alert);
  AppendMany(1, /*first=*/10);
  v1::AlertDecision decision;
  decision.set_alert_id("break_glass/7");
  decision.set_state(v1::ALERT_STATE_RESOLVED_JUSTIFIED);
  v1::AppendReceipt decided = *ledger_->AppendAlertDecision(decision);
  std::vector<StoredEntry> records = *ledger_->ListAlertRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].seq, raised.seq());
  EXPECT_EQ(records[1].seq, decided.seq());
  v1::LedgerEntry entry;
  entry = records[1].entry;
  EXPECT_EQ(entry.alert_decision().state(), v1::ALERT_STATE_RESOLVED_JUSTIFIED);
  EXPECT_EQ(ledger_->ListAlertRecords(decided.seq())->size(), 1u);
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, SeveralAlertsAreRecordedTogetherInOrder) {
  AppendMany(1);
  std::vector<v1::Alert> alerts(3);
  for (int i = 0; i < 3; ++i) alerts[i].set_alert_id("bulk_export/dr-" + std::to_string(i) + "/1");
  std::vector<v1::AppendReceipt> receipts = *ledger_->AppendAlerts(alerts);
  ASSERT_EQ(receipts.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(receipts[i].seq(), 1u + i);
  std::vector<StoredEntry> records = *ledger_->ListAlertRecords();
  ASSERT_EQ(records.size(), 3u);
  v1::LedgerEntry entry;
  entry = records[2].entry;
  EXPECT_EQ(entry.alert().alert_id(), "bulk_export/dr-2/1");
  EXPECT_TRUE(ledger_->AppendAlerts({})->empty());
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, ProofsVerifyAgainstTheSignedCheckpoint) {
  AppendMany(77);
  v1::Checkpoint checkpoint = *ledger_->Checkpoint();
  absl::StatusOr<CheckpointBody> body =
      VerifyCheckpointNote(checkpoint.note(), ledger_->VerifierKey());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->tree_size, 77u);
  for (uint64_t seq : {0, 1, 40, 76}) {
    StoredEntry entry = ledger_->GetEntries(seq, 1)->front();
    std::vector<Hash> path = *ledger_->InclusionProof(seq, 77);
    EXPECT_TRUE(VerifyInclusion(seq, 77, LeafHash(entry.bytes), path, body->root_hash).ok());
  }
  EXPECT_EQ(ledger_->InclusionProof(77, 77).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->InclusionProof(1, 78).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(LedgerTest, TilesHoldTheTreeLevelsTlogTilesNames) {
  AppendMany(300);
  const std::vector<Hash> leaf_hashes = *ledger_->LeafHashes(0, 300);
  std::string leaves;
  for (const Hash& leaf : leaf_hashes) leaves.append(AsBytes(leaf));
  // Level 0: the leaf hashes, a full tile and a partial one of 44.
  EXPECT_EQ(*ledger_->Tile(0, 0, 256), leaves.substr(0, 256 * kHashBytes));
  EXPECT_EQ(*ledger_->Tile(0, 1, 44), leaves.substr(256 * kHashBytes));
  EXPECT_EQ(*ledger_->Tile(0, 1, 3), leaves.substr(256 * kHashBytes, 3 * kHashBytes));
  // Level 1: one hash so far, the root of the first 256 entries.
  EXPECT_EQ(*ledger_->Tile(1, 0, 1), AsBytes(*ledger_->RootAt(256)));
  for (auto [level, index, width] : {std::tuple{0, 1, 45}, {0, 2, 1}, {1, 0, 2}, {2, 0, 1}}) {
    EXPECT_EQ(ledger_->Tile(level, index, width).status().code(), absl::StatusCode::kNotFound)
        << level << "/" << index << " width " << width;
  }
  for (auto [level, index, width] : {std::tuple{-1, 0, 1}, {6, 0, 1}, {0, 0, 0}, {0, 0, 257}}) {
    EXPECT_EQ(ledger_->Tile(level, index, width).status().code(),
              absl::StatusCode::kInvalidArgument)
        << level << "/" << index << " width " << width;
  }
  EXPECT_EQ(ledger_->Tile(0, uint64_t{1} << 60, 256).status().code(), absl::StatusCode::kNotFound);
}

// The tree family holds the tiles and nothing else: a group writes the
// tiles it filled and rewrites the partial ones, also after a reopen in the
// middle of a tile.
TEST_F(LedgerTest, TheTreeIsStoredAsTheTilesOfItsEdge) {
  AppendMany(100);
  AppendMany(150, 100);
  Reopen(/*read_only=*/false);
  AppendMany(750, 250);
  ASSERT_EQ(ledger_->Size(), 1000u);
  const std::vector<Hash> leaf_hashes = *ledger_->LeafHashes(0, 1000);
  std::string leaves;
  for (const Hash& leaf : leaf_hashes) leaves.append(AsBytes(leaf));
  // Level 8's nodes, the roots of leaves [0, 256), [256, 512), [512, 768).
  std::string level_one;
  for (size_t first : {0, 256, 512}) {
    std::vector<Hash> level(leaf_hashes.begin() + first, leaf_hashes.begin() + first + 256);
    while (level.size() > 1) {
      for (size_t i = 0; i < level.size() / 2; ++i) {
        level[i] = NodeHash(level[2 * i], level[2 * i + 1]);
      }
      level.resize(level.size() / 2);
    }
    level_one.append(AsBytes(level[0]));
  }
  ledger_.reset();
  const std::map<std::string, std::string> stored =
      StoredFamily(dir_.path(), internal::kTreeFamily);
  const std::map<std::string, std::string> expected = {
      {internal::TileKey(0, 0), leaves.substr(0, 256 * kHashBytes)},
      {internal::TileKey(0, 1), leaves.substr(256 * kHashBytes, 256 * kHashBytes)},
      {internal::TileKey(0, 2), leaves.substr(512 * kHashBytes, 256 * kHashBytes)},
      {internal::TileKey(0, 3), leaves.substr(768 * kHashBytes)},  // 232 leaves
      {internal::TileKey(1, 0), level_one},                        // 3 nodes of level 8
  };
  EXPECT_EQ(stored, expected);
  Reopen(/*read_only=*/true);
  EXPECT_TRUE(ledger_->Verify().ok);
}

// The chain family holds each entry's chain hash in tiles of 256, appended
// to by each group, also across a reopen in the middle of a tile and by a
// group that fills one tile and starts the next.
TEST_F(LedgerTest, TheChainIsStoredInTilesOfTwoHundredFiftySixHashes) {
  std::string chain;
  Hash head = kZeroHash;
  auto append = [&](int count, int first) {
    std::vector<v1::AccessEvent> events;
    for (int i = first; i < first + count; ++i) events.push_back(JournalRead(i, "p", "a"));
    for (const v1::AppendReceipt& receipt : Append(events)) {
      head = ChainHash(head, *HashFromBytes(receipt.leaf_hash()));
      ASSERT_EQ(receipt.chain_hash(), AsBytes(head));
      chain.append(receipt.chain_hash());
    }
  };
  append(100, 0);
  Reopen(/*read_only=*/false);
  append(200, 100);  // fills tile 0, begins tile 1
  append(1, 300);
  ASSERT_EQ(ledger_->Size(), 301u);
  ledger_.reset();
  const std::map<std::string, std::string> stored =
      StoredFamily(dir_.path(), internal::kChainFamily);
  const std::map<std::string, std::string> expected = {
      {internal::SeqKey(0), chain.substr(0, 256 * kHashBytes)},
      {internal::SeqKey(1), chain.substr(256 * kHashBytes)},  // 45 hashes
  };
  EXPECT_EQ(stored, expected);
  Reopen(/*read_only=*/true);
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(*ledger_->ChainAt(300), *HashFromBytes(chain.substr(299 * kHashBytes, kHashBytes)));
}

TEST_F(LedgerTest, VerificationFindsAChangedChainHashInItsTile) {
  AppendMany(300);
  TamperWithStoredValue(internal::kChainFamily, internal::ChainTileKey(100), [](std::string& tile) {
    tile[100 * kHashBytes + 7] ^= 1;
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 100u);
  EXPECT_EQ(report.problem, "stored chain hash differs from the recomputed chain");
}

// A chain tile with a hash too many would put every later hash one place
// off; verification names the tile, and the writer does not append to it.
TEST_F(LedgerTest, AChainTileOfTheWrongWidthIsCaught) {
  AppendMany(300);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kChainFamily, internal::ChainTileKey(0), [](std::string& tile) {
    tile.append(tile.substr(0, kHashBytes));
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 256u);
  EXPECT_EQ(report.problem, "chain tile 0 holds 8224 bytes, not a full tile's 8192");

  TamperWithStoredValue(internal::kChainFamily, internal::ChainTileKey(299), [](std::string& tile) {
    tile.append(tile.substr(0, kHashBytes));
    return true;
  });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss) << reopened;
  EXPECT_NE(
      reopened.message().find(
          "the chain tile of seq 299 holds 45 hashes; a ledger of 300 entries ends it with 44"),
      std::string::npos)
      << reopened;
}

// Format 6 kept a chain key per entry, which this version does not read.
TEST_F(LedgerTest, ALedgerOfAnEarlierFormatIsRefusedNamingBothFormats) {
  AppendMany(3);
  ledger_.reset();
  testing::TamperWithStoredValue(dir_.path(), internal::kMetaFamily,
                                 std::string(internal::kMetaFormat), [](std::string& format) {
                                   format = "6";
                                   return true;
                                 });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kFailedPrecondition) << reopened;
  EXPECT_NE(reopened.message().find("has entry format 6; this innsyn reads format 7"),
            std::string::npos)
      << reopened;
}

TEST_F(LedgerTest, ReadOnlyLedgerRefusesAppends) {
  AppendMany(2);
  Reopen(/*read_only=*/true);
  EXPECT_EQ(ledger_->AppendEvents({JournalRead(9, "p", "a")}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST(LedgerStorageStats, CountsTheBytesOnDisk) {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger = testing::OpenTestLedger(dir.path());
  testing::AppendJournalReads(*ledger, 100, 0);
  Ledger::StorageStats stats = ledger->GetStorageStats();
  EXPECT_GT(stats.disk_bytes, 100u * 100);
  EXPECT_FALSE(stats.write_stopped);
  EXPECT_EQ(stats.background_errors, 0u);
}

TEST(LedgerStorageStats, MemtablesAreChargedToTheBlockCache) {
  testing::TempDir dir;
  std::unique_ptr<Ledger> ledger = testing::OpenTestLedger(dir.path());
  testing::AppendJournalReads(*ledger, 100, 0);
  Ledger::StorageStats stats = ledger->GetStorageStats();
  // Nothing is flushed yet, so nothing but the memtables' charge is in the
  // cache: one bound holds both.
  EXPECT_GT(stats.memtable_bytes, 0u);
  EXPECT_GE(stats.block_cache_bytes, stats.memtable_bytes);
  EXPECT_LE(stats.block_cache_bytes, stats.block_cache_capacity_bytes);
  EXPECT_GT(stats.cached_data_keys, 0u);  // the test ledger seals its entries
}

}  // namespace
}  // namespace innsyn::storage
