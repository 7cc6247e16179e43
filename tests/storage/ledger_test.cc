#include "storage/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "base/proto_time.h"
#include "rocksdb/db.h"
#include "storage/checkpoint.h"
#include "storage/internal/schema.h"
#include "storage/merkle.h"
#include "storage/pseudonym.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(bool read_only = false) {
    ledger_.reset();
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.read_only = read_only;
    options.origin = "test.clinic/innsyn";
    absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  std::vector<v1::AppendReceipt> Append(std::vector<v1::AccessEvent> events) {
    absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_->AppendEvents(events);
    EXPECT_TRUE(receipts.ok()) << receipts.status();
    return receipts.ok() ? *receipts : std::vector<v1::AppendReceipt>{};
  }

  void AppendMany(int count, int first = 0) {
    std::vector<v1::AccessEvent> events;
    for (int i = first; i < first + count; ++i) {
      events.push_back(
          JournalRead(i, "patient-" + std::to_string(i % 7), "dr-" + std::to_string(i % 3)));
    }
    Append(events);
  }

  // Rewrites (or with `change` returning false, deletes) one stored value
  // behind the ledger's back, as an insider with access to the files could,
  // then reopens the ledger read-only as an auditor would.
  void TamperWithStoredValue(const char* family, const std::string& key,
                             const std::function<bool(std::string&)>& change) {
    ledger_.reset();
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = OpenRaw(/*read_only=*/false, handles);
    ASSERT_NE(raw, nullptr);
    rocksdb::ColumnFamilyHandle* target = nullptr;
    for (auto* handle : handles) {
      if (handle->GetName() == family) target = handle;
    }
    std::string value;
    ASSERT_TRUE(raw->Get(rocksdb::ReadOptions(), target, key, &value).ok());
    if (change(value)) {
      ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), target, key, value).ok());
    } else {
      ASSERT_TRUE(raw->Delete(rocksdb::WriteOptions(), target, key).ok());
    }
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
    Reopen(/*read_only=*/true);
  }

  // The ledger's RocksDB itself, with every column family, in `handles`.
  rocksdb::DB* OpenRaw(bool read_only, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name :
         {"default", internal::kEntriesFamily, internal::kChainFamily, internal::kTreeFamily,
          internal::kIndexFamily, internal::kDedupeFamily, internal::kMetaFamily}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    const std::string path = dir_.path() + "/ledger";
    rocksdb::Status s =
        read_only
            ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles, &raw)
            : rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw);
    return s.ok() ? raw : nullptr;
  }

  absl::Status OpenWritable() {
    ledger_.reset();
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.origin = "test.clinic/innsyn";
    return Ledger::Open(options).status();
  }

  innsyn::testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

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
    ASSERT_TRUE(entry.ParseFromString(stored[i].bytes));
    EXPECT_EQ(entry.seq(), i);
    EXPECT_EQ(entry.access_event().event_id(), "ev-" + std::to_string(i));
  }
  EXPECT_EQ(ledger_->Size(), 3u);
}

TEST_F(LedgerTest, RepeatedEventIdReturnsTheOriginalReceipt) {
  v1::AppendReceipt first = Append({JournalRead(7, "p1", "a1")})[0];
  std::vector<v1::AppendReceipt> again =
      Append({JournalRead(8, "p1", "a1"), JournalRead(7, "p1", "a1"), JournalRead(8, "p1", "a1")});
  ASSERT_EQ(again.size(), 3u);
  EXPECT_TRUE(again[1].duplicate());
  EXPECT_EQ(again[1].seq(), first.seq());
  EXPECT_EQ(again[1].leaf_hash(), first.leaf_hash());
  EXPECT_EQ(again[1].chain_hash(), first.chain_hash());
  // A repeat within one request also maps to the first occurrence.
  EXPECT_FALSE(again[0].duplicate());
  EXPECT_TRUE(again[2].duplicate());
  EXPECT_EQ(again[2].seq(), again[0].seq());
  EXPECT_EQ(ledger_->Size(), 2u);
  // The same event_id from another source is a different event.
  v1::AccessEvent other = JournalRead(7, "p1", "a1");
  other.mutable_source()->set_system("website");
  EXPECT_FALSE(Append({other})[0].duplicate());
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

TEST_F(LedgerTest, VerifyPassesOnAnIntactLedgerAndChecksTheSignedCheckpoint) {
  AppendMany(300);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  AppendMany(10, 300);
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 310u);
  EXPECT_EQ(report.checkpoint_size, 300u);
}

TEST_F(LedgerTest, TamperedEntryIsReportedBySeq) {
  AppendMany(200);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(137), [](std::string& bytes) {
    size_t at = bytes.find("patient-");
    EXPECT_NE(at, std::string::npos);
    bytes[at] = 'q';  // one byte of the subject id
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.first_bad_seq.has_value());
  EXPECT_EQ(*report.first_bad_seq, 137u);
  EXPECT_EQ(report.problem, "entry bytes do not match the stored leaf hash");
}

TEST_F(LedgerTest, RewrittenLeafHashIsStillCaughtAtItsSeq) {
  AppendMany(64);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  // An insider changes entry 10 and also its stored leaf hash.
  std::string changed;
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(10), [&](std::string& bytes) {
    bytes[bytes.find("dr-")] = 'x';
    changed = bytes;
    return true;
  });
  TamperWithStoredValue(internal::kTreeFamily, internal::TreeKey(0, 10), [&](std::string& leaf) {
    leaf = std::string(AsBytes(LeafHash(changed)));
    return true;
  });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 10u);  // the chain no longer matches
}

TEST_F(LedgerTest, DeletedEntryIsReportedBySeq) {
  AppendMany(50);
  TamperWithStoredValue(internal::kEntriesFamily, internal::SeqKey(20),
                        [](std::string&) { return false; });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 20u);
  EXPECT_EQ(report.problem, "entry 20 is missing");
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

TEST_F(LedgerTest, RewrittenTreeIsRefusedByTheWriter) {
  AppendMany(32);
  ASSERT_TRUE(ledger_->Checkpoint().ok());
  TamperWithStoredValue(internal::kTreeFamily, internal::TreeKey(5, 0), [](std::string& node) {
    node[0] ^= 1;
    return true;
  });
  absl::Status reopened = OpenWritable();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss) << reopened;
  EXPECT_NE(reopened.message().find("root signed at size 32"), std::string::npos) << reopened;
}

TEST_F(LedgerTest, DeletedIndexKeyIsCaughtSoNoAccessCanBeHidden) {
  Append({JournalRead(1, "01017012345", "dr-snoop"), JournalRead(2, "01017012345", "dr-ok")});
  v1::QueryRecord query;
  query.set_method("ListSubjectAccess");
  query.set_subject_id("01017012345");
  ASSERT_TRUE(ledger_->AppendQuery(query).ok());
  ASSERT_TRUE(ledger_->Verify().ok);
  IndexQuery history;
  history.id = "01017012345";
  StoredEntry snooped = ledger_->ListSubject(history)->entries.front();
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(snooped.bytes));
  ASSERT_EQ(entry.access_event().actor().id(), "dr-snoop");
  // Find and delete the subject index key of the snooping access.
  ledger_.reset();
  auto pseudonymizer = *Pseudonymizer::Load(dir_.path() + "/pseudonym.key", false);
  std::string key = internal::IndexKey(
      internal::kSubjectIndex, pseudonymizer->Pseudonym(PseudonymDomain::kSubject, "01017012345"),
      FromProto(entry.access_event().occurred_at()), snooped.seq);
  TamperWithStoredValue(internal::kIndexFamily, key, [](std::string&) { return false; });
  EXPECT_EQ(ledger_->ListSubject(history)->entries.size(), 1u);  // hidden from the patient
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("subject index does not match"), std::string::npos)
      << report.problem;
  EXPECT_TRUE(ledger_->Verify(/*check_indexes=*/false).ok);
}

TEST_F(LedgerTest, RemovedCheckpointFailsVerification) {
  AppendMany(5);
  TamperWithStoredValue(internal::kMetaFamily, std::string(internal::kMetaCheckpoint),
                        [](std::string&) { return false; });
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("no signed checkpoint"), std::string::npos) << report.problem;
}

TEST_F(LedgerTest, OfflineVerificationUsesThePinnedKeyNotTheFolders) {
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

TEST_F(LedgerTest, SubjectHistoryHasOnlyThatSubjectInTimeOrderAndPages) {
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
      ASSERT_TRUE(entry.ParseFromString(stored.bytes));
      EXPECT_EQ(entry.access_event().subject().id(), "odd");
      absl::Time at = absl::FromUnixSeconds(entry.access_event().occurred_at().seconds());
      EXPECT_GE(at, last);
      last = at;
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
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = OpenRaw(/*read_only=*/true, handles);
  ASSERT_NE(raw, nullptr);
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), handles[4]));
  int keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++keys) {
    std::string key = it->key().ToString();
    EXPECT_EQ(key.find(national_id), std::string::npos);
    EXPECT_EQ(key.find(actor_id), std::string::npos);
  }
  EXPECT_EQ(keys, 2);  // subject, actor
  it.reset();
  for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
  delete raw;
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
  ASSERT_TRUE(entry.ParseFromString(ledger_->GetEntries(3, 1)->front().bytes));
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
  ASSERT_TRUE(entry.ParseFromString(records[1].bytes));
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
  ASSERT_TRUE(entry.ParseFromString(records[2].bytes));
  EXPECT_EQ(entry.alert().alert_id(), "bulk_export/dr-2/1");
  EXPECT_TRUE(ledger_->AppendAlerts({})->empty());
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, DeletedAlertIndexKeyIsCaughtSoNoAlertCanBeHidden) {
  v1::Alert alert;
  alert.set_alert_id("off_hours/dr-late/2026-11-20");
  v1::AppendReceipt raised = *ledger_->AppendAlert(alert);
  ASSERT_TRUE(ledger_->Verify().ok);
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(ledger_->GetEntries(raised.seq(), 1)->front().bytes));
  ledger_.reset();
  std::string key =
      internal::IndexKey(internal::kAlertIndex, "", FromProto(entry.committed_at()), raised.seq());
  TamperWithStoredValue(internal::kIndexFamily, key, [](std::string&) { return false; });
  EXPECT_TRUE(ledger_->ListAlertRecords()->empty());
  VerifyReport report = ledger_->Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("alert index does not match"), std::string::npos) << report.problem;
}

TEST_F(LedgerTest, ConcurrentAppendsAreAllDurableAndDistinct) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto receipts = ledger_->AppendEvents({JournalRead(t * kPerThread + i, "p", "a")});
        ASSERT_TRUE(receipts.ok());
        seqs[t].push_back(receipts->front().seq());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const auto& s : seqs) all.insert(s.begin(), s.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kPerThread - 1));
  Reopen();
  EXPECT_EQ(ledger_->Size(), static_cast<uint64_t>(kThreads * kPerThread));
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

TEST_F(LedgerTest, ReadOnlyLedgerRefusesAppends) {
  AppendMany(2);
  Reopen(/*read_only=*/true);
  EXPECT_EQ(ledger_->AppendEvents({JournalRead(9, "p", "a")}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, GroupCommitObserverSeesEveryEntryOnce) {
  ledger_.reset();
  std::atomic<size_t> entries{0}, requests{0}, groups{0};
  std::atomic<bool> all_ok{true};
  LedgerOptions options;
  options.data_dir = dir_.path();
  options.on_group_commit = [&](const GroupCommitStats& stats) {
    entries += stats.entries;
    requests += stats.requests;
    ++groups;
    if (!stats.ok || stats.batch_bytes == 0) all_ok = false;
  };
  ledger_ = *Ledger::Open(options);
  AppendMany(5);
  Append({JournalRead(2, "patient-2", "dr-2")});  // a repeat: no new entry
  ASSERT_TRUE(ledger_->AppendQuery(v1::QueryRecord()).ok());
  ledger_.reset();
  EXPECT_EQ(entries.load(), 6u);
  EXPECT_EQ(requests.load(), 3u);
  EXPECT_GE(groups.load(), 1u);
  EXPECT_TRUE(all_ok.load());
}

TEST_F(LedgerTest, AsyncAppendsAreAnsweredInOrderOnceDurable) {
  constexpr int kRequests = 40;
  std::vector<google::protobuf::RepeatedPtrField<v1::AccessEvent>> requests(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    for (int j = 0; j < 3; ++j) *requests[i].Add() = JournalRead(i * 3 + j, "patient-a", "dr-b");
  }
  absl::Mutex mu;
  std::vector<uint64_t> first_seqs;
  int answered = 0;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(ledger_
                    ->AppendEventsAsync(requests[i],
                                        [&](absl::StatusOr<std::vector<v1::AppendReceipt>> r) {
                                          absl::MutexLock lock(&mu);
                                          ++answered;
                                          if (r.ok() && r->size() == 3) {
                                            first_seqs.push_back(r->front().seq());
                                          }
                                        })
                    .ok());
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == kRequests; }, &answered));
  }
  ASSERT_EQ(first_seqs.size(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(first_seqs[i], static_cast<uint64_t>(i * 3));
  EXPECT_EQ(ledger_->Size(), static_cast<uint64_t>(kRequests * 3));
  // Answered means durable: a reopened ledger has them all.
  Reopen();
  EXPECT_EQ(ledger_->Size(), static_cast<uint64_t>(kRequests * 3));
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(LedgerTest, AsyncAppendRefusedByBackPressureNeverCallsBack) {
  ledger_.reset();
  LedgerOptions options;
  options.data_dir = dir_.path();
  options.max_queued_events = 2;
  ledger_ = *Ledger::Open(options);
  google::protobuf::RepeatedPtrField<v1::AccessEvent> events;
  for (int i = 0; i < 3; ++i) *events.Add() = JournalRead(i, "patient-a", "dr-b");
  bool called = false;
  absl::Status s = ledger_->AppendEventsAsync(events, [&](auto) { called = true; });
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  ledger_.reset();  // the writer has stopped: any callback would have run
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace innsyn::storage
