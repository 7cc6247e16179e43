// Forgetting, against the real ledger and RocksDB: no personal data in any
// file the ledger writes, erasure on order and the retention job shred data
// keys and leave the headers, the hash tree and everyone else's entries
// whole, and restores do not bring a shredded key back.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rocksdb/db.h"
#include "storage/key_store.h"
#include "storage/ledger.h"
#include "storage/merkle.h"
#include "tests/storage/forgetting_test_support.h"
#include "tests/storage/key_store_test_support.h"
#include "tests/storage/ledger_test_support.h"

namespace innsyn::storage {
namespace {

namespace fs = std::filesystem;
using innsyn::testing::At;
using innsyn::testing::FilesContaining;
using innsyn::testing::History;
using innsyn::testing::KeyIds;
using innsyn::testing::kForgetSource;
using innsyn::testing::kIngrid;
using innsyn::testing::kJonas;
using innsyn::testing::kKari;
using innsyn::testing::kOla;
using innsyn::testing::kReason;
using innsyn::testing::kUserAgent;
using innsyn::testing::NamedKeys;
using innsyn::testing::NoneErased;
using innsyn::testing::PersonalRead;
using innsyn::testing::RawLedger;
using innsyn::testing::TempDir;

// Every string of the events below that tells something about a person.
const std::vector<std::string> kPersonalData = {
    kKari.id,     kKari.name, kOla.id,     kOla.name, kIngrid.id,
    kIngrid.name, kJonas.id,  kJonas.name, kReason,   kUserAgent,
};

// "file: string" for each personal string found in a file under `dir`.
std::vector<std::string> PersonalDataInFiles(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& needle : kPersonalData) {
    for (const std::string& file : FilesContaining(dir, needle)) {
      found.push_back(file + ": " + needle);
    }
  }
  return found;
}

// The same over every key and value in every column family of the closed
// ledger in `dir`, read through RocksDB: what compression hides from a
// search of the files. `source_found` is set if kForgetSource is in one.
std::vector<std::string> PersonalDataInDatabase(const std::string& dir, bool& source_found) {
  std::vector<std::string> found;
  std::unique_ptr<RawLedger> raw = RawLedger::Open(dir, /*read_only=*/true);
  if (raw == nullptr) return {"the ledger did not open"};
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir + "/ledger", &names).ok());
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyHandle* family = raw->family(name);
    std::unique_ptr<rocksdb::Iterator> it(raw->db().NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string record = it->key().ToString() + "\n" + it->value().ToString();
      if (record.find(kForgetSource) != std::string::npos) source_found = true;
      for (const std::string& needle : kPersonalData) {
        if (record.find(needle) != std::string::npos) found.push_back(name + ": " + needle);
      }
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  return found;
}

bool SomeFileHolds(const std::string& dir, std::string_view needle, std::string_view file_suffix) {
  for (const std::string& file : FilesContaining(dir, needle)) {
    if (file.ends_with(file_suffix)) return true;
  }
  return false;
}

std::string KeyStoreDir(const std::string& data_dir) { return data_dir + "/keystore"; }

// The operator's copy of the key-encryption key, put beside a restore.
void CopyKek(const std::string& from_dir, const std::string& to_dir) {
  fs::copy_file(from_dir + "/data.kek", to_dir + "/data.kek");
  fs::permissions(to_dir + "/data.kek", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
}

ErasureOrder OrderFor(const std::string& subject_id) {
  ErasureOrder order;
  order.subject_id = subject_id;
  order.reason = "GDPR art. 17(1)(a)";
  order.reference = "case 2026-117";
  order.requested_by = "cn=dpo";
  order.requested_by_role = "dpo";
  return order;
}

void ExpectVerifies(const Ledger& ledger) {
  VerifyReport report = ledger.Verify(/*check_indexes=*/true);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_TRUE(report.indexes_checked);
}

class ForgettingTest : public testing::LedgerFixture {
 protected:
  std::vector<StoredEntry> Read(const std::vector<uint64_t>& seqs) {
    std::vector<StoredEntry> out;
    for (uint64_t seq : seqs) {
      absl::StatusOr<std::vector<StoredEntry>> read = ledger_->GetEntries(seq, 1);
      EXPECT_TRUE(read.ok() && read->size() == 1) << seq << ": " << read.status();
      if (read.ok() && read->size() == 1) out.push_back(std::move(read->front()));
    }
    return out;
  }
  std::vector<uint64_t> Seqs(const std::vector<v1::AppendReceipt>& receipts) {
    std::vector<uint64_t> seqs;
    for (const v1::AppendReceipt& receipt : receipts) seqs.push_back(receipt.seq());
    return seqs;
  }

  TempDir elsewhere_;  // backups and restores
};

TEST_F(ForgettingTest, NoPersonalDataInAnyFileOpenClosedOrBackedUp) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 12; ++i) {
    events.push_back(PersonalRead(i, i % 2 ? kKari : kOla, i % 3 ? kIngrid : kJonas,
                                  At(2025 + i % 2, 1 + i % 12)));
  }
  Append(events);

  // Open: the entries are in the WAL, perhaps nowhere else yet.
  EXPECT_TRUE(SomeFileHolds(dir_.path(), kForgetSource, ".log")) << "the search finds nothing";
  EXPECT_EQ(PersonalDataInFiles(dir_.path()), std::vector<std::string>{});

  const std::string backups = elsewhere_.path() + "/backups";
  ASSERT_TRUE(ledger_->Backup(backups).ok());
  ledger_.reset();  // flushes the memtables into tables

  EXPECT_TRUE(SomeFileHolds(dir_.path(), kForgetSource, ".sst"));
  EXPECT_EQ(PersonalDataInFiles(dir_.path()), std::vector<std::string>{});
  EXPECT_FALSE(FilesContaining(backups, kForgetSource).empty());
  EXPECT_EQ(PersonalDataInFiles(backups), std::vector<std::string>{});
  bool source_found = false;
  EXPECT_EQ(PersonalDataInDatabase(dir_.path(), source_found), std::vector<std::string>{});
  EXPECT_TRUE(source_found);

  // And the backup's database, read through RocksDB after a restore.
  const std::string restored = elsewhere_.path() + "/restored";
  ASSERT_TRUE(Ledger::Restore(backups, 0, restored).ok());
  source_found = false;
  EXPECT_EQ(PersonalDataInDatabase(restored, source_found), std::vector<std::string>{});
  EXPECT_TRUE(source_found);
}

TEST_F(ForgettingTest, EraseShredsTheSubjectsKeysAndKeepsTheTreeWhole) {
  std::vector<v1::AppendReceipt> first = Append({
      PersonalRead(1, kKari, kIngrid, At(2025)),
      PersonalRead(2, kOla, kIngrid, At(2025)),
      PersonalRead(3, kKari, kJonas, At(2025, 6)),
  });
  const v1::Checkpoint early = *ledger_->Checkpoint();
  std::vector<v1::AppendReceipt> second = Append({
      PersonalRead(4, kKari, kIngrid, At(2026)),
      PersonalRead(5, kOla, kJonas, At(2026)),
  });
  const v1::Checkpoint late = *ledger_->Checkpoint();
  const std::vector<v1::AppendReceipt> karis = {first[0], first[2], second[0]};
  const std::set<std::string> kari_keys = KeyIds(Read(Seqs(karis)));
  ASSERT_EQ(kari_keys.size(), 2u);  // 2025 and 2026

  // Kari's data keys, raw and as wrapped in the key store, read behind the
  // closed ledger's back.
  ledger_.reset();
  std::map<std::string, std::string> raw_keys, wrapped_keys;
  {
    KeyStoreOptions options;
    options.dir = KeyStoreDir(dir_.path());
    options.kek_file = dir_.path() + "/data.kek";
    options.create_if_missing = false;
    std::unique_ptr<KeyStore> store = *KeyStore::Open(options);
    for (const std::string& id : kari_keys) raw_keys[id] = testing::Bytes(*store->Get(id));
  }
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::OpenForReadOnly(rocksdb::Options(), KeyStoreDir(dir_.path()), &db).ok());
    std::unique_ptr<rocksdb::DB> owned(db);
    for (const std::string& id : kari_keys) {
      ASSERT_TRUE(owned->Get(rocksdb::ReadOptions(), "k/" + id, &wrapped_keys[id]).ok()) << id;
    }
  }
  for (const std::string& id : kari_keys) {
    EXPECT_FALSE(FilesContaining(KeyStoreDir(dir_.path()), wrapped_keys[id]).empty()) << id;
  }
  Reopen();

  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased =
      ledger_->Erase(OrderFor(kKari.id));
  ASSERT_TRUE(erased.ok()) << erased.status();
  const v1::Erasure& erasure = erased->second;
  std::set<std::string> named;
  for (const v1::ShreddedKey& key : erasure.keys()) {
    named.insert(key.key_id());
    EXPECT_TRUE(key.key_id().starts_with("s.")) << key.key_id();
    EXPECT_EQ(key.entries(), key.key_id().ends_with("/2025") ? 2u : 1u) << key.key_id();
  }
  EXPECT_EQ(named, kari_keys);
  EXPECT_EQ(erasure.subject_entries(), 3u);
  EXPECT_EQ(erasure.reason(), "GDPR art. 17(1)(a)");

  // The key store keeps neither the wrapped nor the raw bytes in any file,
  // while the ledger is still open.
  for (const std::string& id : kari_keys) {
    EXPECT_EQ(FilesContaining(dir_.path(), wrapped_keys[id]), std::vector<std::string>{}) << id;
    EXPECT_EQ(FilesContaining(dir_.path(), raw_keys[id]), std::vector<std::string>{}) << id;
  }
  EXPECT_EQ(ledger_->CountKeys()->shredded, 2u);

  // Kari's history: the old entries' headers, erased, and the erasure.
  std::vector<StoredEntry> history = History(*ledger_, kKari.id);
  ASSERT_EQ(history.size(), 4u);
  for (const StoredEntry& entry : history) {
    if (entry.seq == erased->first.seq()) {
      EXPECT_FALSE(entry.erased);
      EXPECT_EQ(entry.header.kind(), v1::ENTRY_KIND_ERASURE);
      EXPECT_EQ(entry.entry.erasure().reason(), erasure.reason());
      EXPECT_EQ(entry.entry.erasure().keys_size(), 2);
      EXPECT_EQ(entry.entry.erasure().subject_entries(), 3u);
      continue;
    }
    EXPECT_TRUE(entry.erased) << entry.seq;
    EXPECT_EQ(entry.header.kind(), v1::ENTRY_KIND_ACCESS_EVENT);
    EXPECT_EQ(entry.header.source_system(), kForgetSource);
    EXPECT_EQ(entry.header.subject().size(), 16u);
    EXPECT_TRUE(named.contains(entry.header.key_id()));
    EXPECT_EQ(entry.entry.seq(), entry.seq);
    EXPECT_FALSE(entry.entry.has_access_event());
  }
  for (const StoredEntry& entry : Read(Seqs(karis))) EXPECT_TRUE(entry.erased) << entry.seq;

  // Ola is untouched.
  std::vector<StoredEntry> olas = History(*ledger_, kOla.id);
  ASSERT_EQ(olas.size(), 2u);
  for (const StoredEntry& entry : olas) {
    EXPECT_FALSE(entry.erased);
    EXPECT_EQ(entry.entry.access_event().subject().display_name(), kOla.name);
  }
  ExpectVerifies(*ledger_);

  // The tree: every earlier checkpoint is a prefix of today's, and the
  // erased entries are still proven in it by their leaf hashes.
  const uint64_t size = ledger_->Size();
  const Hash root = *ledger_->RootAt(size);
  for (const v1::Checkpoint& checkpoint : {early, late}) {
    std::vector<Hash> proof = *ledger_->ConsistencyProof(checkpoint.tree_size(), size);
    EXPECT_TRUE(VerifyConsistency(checkpoint.tree_size(), size,
                                  *HashFromBytes(checkpoint.root_hash()), root, proof)
                    .ok())
        << checkpoint.tree_size();
  }
  for (const v1::AppendReceipt& receipt : karis) {
    StoredEntry entry = Read({receipt.seq()}).front();
    EXPECT_EQ(AsBytes(entry.leaf_hash), receipt.leaf_hash());
    std::vector<Hash> path = *ledger_->InclusionProof(receipt.seq(), size);
    EXPECT_TRUE(VerifyInclusion(receipt.seq(), size, entry.leaf_hash, path, root).ok())
        << receipt.seq();
  }

  // Kari comes back: her new entries are sealed under a fresh key.
  const uint64_t back = Append({PersonalRead(6, kKari, kIngrid, At(2026, 9))}).front().seq();
  auto expect_back = [&] {
    StoredEntry entry = Read({back}).front();
    EXPECT_FALSE(entry.erased);
    EXPECT_EQ(entry.entry.access_event().subject().id(), kKari.id);
    EXPECT_TRUE(entry.header.key_id().ends_with("/2026#2")) << entry.header.key_id();
  };
  expect_back();
  Reopen();
  for (const StoredEntry& entry : Read(Seqs(karis))) EXPECT_TRUE(entry.erased) << entry.seq;
  expect_back();
  EXPECT_EQ(History(*ledger_, kKari.id).size(), 5u);
  ExpectVerifies(*ledger_);
}

// A key's entries are counted whichever index finds them: access events
// and queries about a subject through the subject's indexes, by the year of
// their hour to its last second; alerts and decisions about the subject,
// and a query about no one, through the data-key index. The counts are
// checked against a tally of every stored header, read in seq order.
TEST_F(ForgettingTest, EveryEntryUnderAKeyIsCountedWhicheverIndexFindsIt) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time last_of_2025 = absl::FromCivil(absl::CivilSecond(2025, 12, 31, 23, 59, 59), utc);
  const absl::Time first_of_2026 = absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 0), utc);
  Append({
      PersonalRead(1, kKari, kIngrid, last_of_2025),
      PersonalRead(2, kKari, kIngrid, first_of_2026),
      PersonalRead(3, kKari, kJonas, At(2025)),
      PersonalRead(4, kKari, kIngrid, At(2025), v1::DATA_OBJECT_TYPE_IMAGE),
      PersonalRead(5, kOla, kIngrid, At(2025)),
  });
  v1::QueryRecord about_kari;
  about_kari.set_method("ListSubjectAccess");
  about_kari.set_caller("cn=dpo");
  about_kari.set_subject_id(kKari.id);
  ASSERT_TRUE(ledger_->AppendQuery(about_kari).ok());
  ASSERT_TRUE(ledger_->AppendQuery(about_kari).ok());
  v1::QueryRecord about_no_one;
  about_no_one.set_method("GetCheckpoint");
  about_no_one.set_caller("cn=auditor");
  ASSERT_TRUE(ledger_->AppendQuery(about_no_one).ok());
  v1::Alert alert;
  alert.set_alert_id("break_glass/7");
  alert.set_rule("break_glass");
  alert.set_subject_id(kKari.id);
  alert.set_actor_id(kJonas.id);
  ASSERT_TRUE(ledger_->AppendAlert(alert).ok());
  v1::AlertDecision decision;
  decision.set_alert_id("break_glass/7");
  decision.set_state(v1::ALERT_STATE_RESOLVED_JUSTIFIED);
  decision.set_subject_id(kKari.id);
  ASSERT_TRUE(ledger_->AppendAlertDecision(decision).ok());
  v1::Alert clinic_alert;
  clinic_alert.set_alert_id("volume/8");
  clinic_alert.set_rule("volume");
  ASSERT_TRUE(ledger_->AppendAlert(clinic_alert).ok());

  std::map<std::string, uint64_t> tally;
  absl::StatusOr<std::vector<StoredEntry>> all = ledger_->GetEntries(0, ledger_->Size());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), ledger_->Size());
  for (const StoredEntry& entry : *all) {
    if (!entry.header.key_id().empty()) ++tally[entry.header.key_id()];
  }
  for (const auto& [key_id, count] : tally) {
    EXPECT_EQ(*ledger_->CountEntriesUnderKey(key_id), count) << key_id;
  }
  // Kari's entries: her reads, the queries about her, the alert and the
  // decision. The last four are sealed under keys of the year they were
  // committed in, which is today's (two, if the year turned in between).
  const std::vector<StoredEntry> kari = Read({0, 1, 2, 3, 5, 6, 8, 9});
  const std::string owner = kari[0].header.key_id().substr(0, kari[0].header.key_id().find('/'));
  std::set<std::string> kari_keys;
  for (const StoredEntry& entry : kari) {
    EXPECT_TRUE(entry.header.key_id().starts_with(owner + "/")) << entry.header.key_id();
    kari_keys.insert(entry.header.key_id());
  }
  EXPECT_EQ(kari[0].header.key_id(), owner + "/journal_note/2025");
  EXPECT_EQ(tally[owner + "/journal_note/2025"], 2u);
  EXPECT_EQ(kari[1].header.key_id(), owner + "/journal_note/2026");
  EXPECT_EQ(tally[owner + "/journal_note/2026"], 1u);
  EXPECT_EQ(tally[owner + "/image/2025"], 1u);
  EXPECT_TRUE(kari[4].header.key_id().starts_with(owner + "/query/")) << kari[4].header.key_id();
  EXPECT_TRUE(kari[6].header.key_id().starts_with(owner + "/alert/")) << kari[6].header.key_id();
  // Two entries under one key, or one under each of two.
  auto expect_pair = [&](const StoredEntry& first, const StoredEntry& second) {
    const std::string& a = first.header.key_id();
    const std::string& b = second.header.key_id();
    EXPECT_EQ(tally[a], a == b ? 2u : 1u) << a;
    EXPECT_EQ(tally[b], a == b ? 2u : 1u) << b;
  };
  expect_pair(kari[4], kari[5]);  // the queries about her
  expect_pair(kari[6], kari[7]);  // the alert and its decision
  // And Ola's, the auditor's and the clinic's.
  EXPECT_EQ(tally.size(), kari_keys.size() + 3);
  EXPECT_EQ(*ledger_->CountEntriesUnderKey(owner + "/journal_note/2024"), 0u);

  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased =
      ledger_->Erase(OrderFor(kKari.id));
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(static_cast<size_t>(erased->second.keys_size()), kari_keys.size());
  EXPECT_EQ(erased->second.subject_entries(), 8u);
  for (const v1::ShreddedKey& key : erased->second.keys()) {
    EXPECT_EQ(key.entries(), tally[key.key_id()]) << key.key_id();
  }

  // A new key for her year and class: each generation counts its own.
  const uint64_t seq = Append({PersonalRead(6, kKari, kIngrid, first_of_2026)}).front().seq();
  const std::string renewed = Read({seq}).front().header.key_id();
  EXPECT_EQ(renewed, owner + "/journal_note/2026#2");
  EXPECT_EQ(*ledger_->CountEntriesUnderKey(renewed), 1u);
  EXPECT_EQ(*ledger_->CountEntriesUnderKey(owner + "/journal_note/2026"), 1u);
  ExpectVerifies(*ledger_);
}

TEST_F(ForgettingTest, EraseRefusalsChangeNothing) {
  Append({PersonalRead(1, kKari, kIngrid, At(2024)), PersonalRead(2, kKari, kIngrid, At(2026)),
          PersonalRead(3, kOla, kIngrid, At(2026))});
  const uint64_t size = ledger_->Size();
  auto refused = [&](const ErasureOrder& order) {
    absl::Status status = ledger_->Erase(order).status();
    EXPECT_EQ(ledger_->Size(), size);
    EXPECT_EQ(ledger_->CountKeys()->shredded, 0u);
    return status;
  };

  EXPECT_EQ(refused(OrderFor("31129912345")).code(), absl::StatusCode::kNotFound);
  ErasureOrder future = OrderFor(kKari.id);
  future.before = At(3000);
  absl::Status status = refused(future);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::string(status.message()).starts_with("before")) << status;
  ErasureOrder no_reason = OrderFor(kKari.id);
  no_reason.reason.clear();
  status = refused(no_reason);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("reason"), std::string::npos) << status;
  ErasureOrder no_subject = OrderFor("");
  EXPECT_EQ(refused(no_subject).code(), absl::StatusCode::kInvalidArgument);
  ErasureOrder too_early = OrderFor(kKari.id);
  too_early.before = At(2020);  // no period of hers had ended
  EXPECT_EQ(refused(too_early).code(), absl::StatusCode::kFailedPrecondition);

  // Erasing her periods that ended before 2025 takes 2024 only; asked
  // again, nothing is left to do.
  ErasureOrder before_2025 = OrderFor(kKari.id);
  before_2025.before = At(2025, 1, 1) - absl::Hours(9);  // 2025-01-01T00:00Z
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased = ledger_->Erase(before_2025);
  ASSERT_TRUE(erased.ok()) << erased.status();
  ASSERT_EQ(erased->second.keys_size(), 1);
  EXPECT_TRUE(erased->second.keys(0).key_id().ends_with("/journal_note/2024"));
  const uint64_t after = ledger_->Size();
  status = ledger_->Erase(before_2025).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(ledger_->Size(), after);

  // All of her; then once more.
  ASSERT_TRUE(ledger_->Erase(OrderFor(kKari.id)).ok());
  const uint64_t all = ledger_->Size();
  status = ledger_->Erase(OrderFor(kKari.id)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(ledger_->Size(), all);
  EXPECT_EQ(ledger_->CountKeys()->shredded, 2u);
  EXPECT_TRUE(NoneErased(History(*ledger_, kOla.id)));
  ExpectVerifies(*ledger_);
}

TEST_F(ForgettingTest, RetentionShredsOnlyExpiredKeysAndRecordsThemOnce) {
  constexpr auto kWebForm = v1::DATA_OBJECT_TYPE_WEB_FORM;
  const std::vector<v1::AppendReceipt> receipts = Append({
      PersonalRead(1, kKari, kIngrid, At(2020, 2), kWebForm),  // expired
      PersonalRead(2, kKari, kJonas, At(2020, 11), kWebForm),  // expired
      PersonalRead(3, kOla, kIngrid, At(2020, 5), kWebForm),   // expired
      PersonalRead(4, kKari, kIngrid, At(2026, 1), kWebForm),  // web form, this year
      PersonalRead(5, kKari, kIngrid, At(2020, 2)),            // journal note, 10 years
      PersonalRead(6, kOla, kJonas, At(2026, 1)),
  });
  const std::vector<StoredEntry> stored = Read(Seqs(receipts));
  const std::set<std::string> expired = {stored[0].header.key_id(), stored[2].header.key_id()};
  ASSERT_EQ(stored[1].header.key_id(), stored[0].header.key_id());
  RetentionPolicy policy;
  policy.default_years = 10;
  policy.years_by_class = {{"web_form", 1}};
  const absl::Time now = At(2026, 12, 1);

  absl::StatusOr<RetentionResult> run = ledger_->RunRetention(policy, now);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->keys_shredded, 2u);
  EXPECT_EQ(run->entries_erased, 3u);
  ASSERT_TRUE(run->receipt.has_value());
  std::vector<StoredEntry> records = *ledger_->ListErasures();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].seq, run->receipt->seq());
  EXPECT_EQ(records[0].header.kind(), v1::ENTRY_KIND_RETENTION_RUN);
  const v1::RetentionRun& retention = records[0].entry.retention_run();
  EXPECT_EQ(absl::FromUnixSeconds(retention.ran_at().seconds()), now);
  std::set<std::string> named;
  for (const v1::ShreddedKey& key : retention.keys()) {
    named.insert(key.key_id());
    EXPECT_EQ(key.rule(), "web_form: 1 year");
    EXPECT_EQ(key.entries(), key.key_id() == stored[0].header.key_id() ? 2u : 1u);
  }
  EXPECT_EQ(named, expired);
  for (const StoredEntry& entry : Read(Seqs(receipts))) {
    EXPECT_EQ(entry.erased, expired.contains(entry.header.key_id())) << entry.seq;
  }

  // Run again: nothing more has expired, nothing is recorded.
  const uint64_t size = ledger_->Size();
  run = ledger_->RunRetention(policy, now);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->keys_shredded, 0u);
  EXPECT_FALSE(run->receipt.has_value());
  EXPECT_EQ(ledger_->Size(), size);
  EXPECT_EQ(ledger_->ListErasures()->size(), 1u);

  // Two years on, this year's web form has expired; the 2020 journal note
  // lasts to the end of 2030.
  const absl::Time end_of_2030 = At(2031, 1, 1) - absl::Hours(9);
  run = ledger_->RunRetention(policy, end_of_2030 - absl::Seconds(1));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->keys_shredded, 1u);
  EXPECT_TRUE(Read({receipts[3].seq()}).front().erased);
  EXPECT_FALSE(Read({receipts[4].seq()}).front().erased);
  run = ledger_->RunRetention(policy, end_of_2030);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->keys_shredded, 1u);
  EXPECT_EQ(ledger_->ListErasures()->back().entry.retention_run().keys(0).rule(),
            "journal_note: 10 years");
  EXPECT_TRUE(Read({receipts[4].seq()}).front().erased);
  EXPECT_FALSE(Read({receipts[5].seq()}).front().erased);
  EXPECT_EQ(NamedKeys(*ledger_).size(), 4u);
  ExpectVerifies(*ledger_);
}

// A backup holds the keys it was taken with. Restored after an erasure,
// it brings the erased subject's keys back unless the restore is told which
// keys were shredded since (Restore's `shredded_since`, from the erasure
// records of the ledger being replaced): the README's restore procedure
// must say so.
TEST_F(ForgettingTest, RestoreOfAnOlderBackupNeedsTheKeysShreddedSince) {
  Append({PersonalRead(1, kKari, kIngrid, At(2025)), PersonalRead(2, kOla, kIngrid, At(2025)),
          PersonalRead(3, kKari, kJonas, At(2026))});
  const std::string backups = elsewhere_.path() + "/backups";
  ASSERT_TRUE(ledger_->Backup(backups).ok());
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased =
      ledger_->Erase(OrderFor(kKari.id));
  ASSERT_TRUE(erased.ok()) << erased.status();
  std::vector<std::string> shredded_since;
  for (const v1::ShreddedKey& key : erased->second.keys()) shredded_since.push_back(key.key_id());

  auto kari_erased_after_restore = [&](const std::string& name,
                                       const std::vector<std::string>& shredded) {
    const std::string restored = elsewhere_.path() + "/" + name;
    EXPECT_TRUE(Ledger::Restore(backups, 1, restored, shredded).ok());
    CopyKek(dir_.path(), restored);
    std::unique_ptr<Ledger> ledger = testing::OpenTestLedger(restored);
    if (ledger == nullptr) return false;
    ExpectVerifies(*ledger);
    EXPECT_TRUE(NoneErased(History(*ledger, kOla.id)));
    std::vector<StoredEntry> history = History(*ledger, kKari.id);
    EXPECT_EQ(history.size(), 2u);
    for (const StoredEntry& entry : history) EXPECT_EQ(entry.erased, history[0].erased);
    return history[0].erased;
  };
  // Without the ids: Kari's keys come back from the older key-store backup.
  EXPECT_FALSE(kari_erased_after_restore("without-ids", {}));
  EXPECT_TRUE(kari_erased_after_restore("with-ids", shredded_since));
}

// A backup taken after the erasure carries the erasure record: restored,
// even over a key store from before the erasure, the keys are shredded
// again when the ledger opens (FinishShreds).
TEST_F(ForgettingTest, RestoredBackupTakenAfterAnErasureKeepsItErased) {
  Append({PersonalRead(1, kKari, kIngrid, At(2025)), PersonalRead(2, kOla, kIngrid, At(2025))});
  const std::string before_erasure = elsewhere_.path() + "/before";
  ASSERT_TRUE(ledger_->Backup(before_erasure).ok());
  ASSERT_TRUE(ledger_->Erase(OrderFor(kKari.id)).ok());
  const std::string backups = elsewhere_.path() + "/backups";
  ASSERT_TRUE(ledger_->Backup(backups).ok());

  auto expect_kari_erased = [&](const std::string& restored) {
    CopyKek(dir_.path(), restored);
    std::unique_ptr<Ledger> ledger = testing::OpenTestLedger(restored);
    ASSERT_NE(ledger, nullptr);
    std::vector<StoredEntry> history = History(*ledger, kKari.id);
    ASSERT_EQ(history.size(), 2u);  // her read and the erasure
    for (const StoredEntry& entry : history) {
      const bool erasure = entry.header.kind() == v1::ENTRY_KIND_ERASURE;
      EXPECT_EQ(entry.erased, !erasure) << entry.seq;
    }
    EXPECT_TRUE(NoneErased(History(*ledger, kOla.id)));
    EXPECT_EQ(ledger->CountKeys()->shredded, 1u);
    ExpectVerifies(*ledger);
  };
  const std::string restored = elsewhere_.path() + "/restored";
  ASSERT_TRUE(Ledger::Restore(backups, 0, restored).ok());
  expect_kari_erased(restored);

  // The same ledger backup over the key store of the backup before.
  const std::string mixed = elsewhere_.path() + "/mixed";
  ASSERT_TRUE(Ledger::Restore(backups, 0, mixed).ok());
  fs::remove_all(KeyStoreDir(mixed));
  ASSERT_TRUE(KeyStore::Restore(before_erasure + "/keystore", KeyStoreDir(mixed), {}).ok());
  expect_kari_erased(mixed);
}

}  // namespace
}  // namespace innsyn::storage
