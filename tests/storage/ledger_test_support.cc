#include "tests/storage/ledger_test_support.h"

#include "storage/internal/schema.h"
#include "storage/internal/tree_tiles.h"
#include "tests/support/test_events.h"

namespace innsyn::testing {

std::unique_ptr<storage::Ledger> OpenTestLedger(const std::string& dir, bool read_only) {
  storage::LedgerOptions options;
  options.data_dir = dir;
  options.origin = kTestOrigin;
  options.read_only = read_only;
  options.create_if_missing = !read_only;
  absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
  EXPECT_TRUE(ledger.ok()) << ledger.status();
  return ledger.ok() ? *std::move(ledger) : nullptr;
}

void AppendJournalReads(storage::Ledger& ledger, int count, int first) {
  std::vector<v1::AccessEvent> events;
  for (int i = first; i < first + count; ++i) {
    events.push_back(
        JournalRead(i, "patient-" + std::to_string(i % 7), "dr-" + std::to_string(i % 3)));
  }
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger.AppendEvents(events);
  ASSERT_TRUE(receipts.ok()) << receipts.status();
}

std::unique_ptr<RawLedger> RawLedger::Open(const std::string& dir, bool read_only) {
  const std::string path = dir + "/ledger";
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    // Tiles and chain tiles are stored as appends (storage/internal/tree_tiles.h).
    if (name == storage::internal::kTreeFamily || name == storage::internal::kChainFamily) {
      families.back().options.merge_operator = storage::internal::TileAppend();
    }
  }
  auto raw = std::unique_ptr<RawLedger>(new RawLedger());
  rocksdb::DB* db = nullptr;
  s = read_only
          ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &raw->handles_, &db)
          : rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &raw->handles_, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return nullptr;
  raw->db_.reset(db);
  return raw;
}

RawLedger::~RawLedger() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
}

rocksdb::ColumnFamilyHandle* RawLedger::family(std::string_view name) const {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (handle->GetName() == name) return handle;
  }
  return nullptr;
}

void TamperWithStoredValue(const std::string& dir, std::string_view family, const std::string& key,
                           const std::function<bool(std::string&)>& change) {
  std::unique_ptr<RawLedger> raw = RawLedger::Open(dir);
  ASSERT_NE(raw, nullptr);
  rocksdb::ColumnFamilyHandle* target = raw->family(family);
  ASSERT_NE(target, nullptr) << family;
  std::string value;
  rocksdb::Status read = raw->db().Get(rocksdb::ReadOptions(), target, key, &value);
  ASSERT_TRUE(read.ok() || read.IsNotFound()) << read.ToString();  // absent: made by `change`
  if (change(value)) {
    ASSERT_TRUE(raw->db().Put(rocksdb::WriteOptions(), target, key, value).ok());
  } else {
    ASSERT_TRUE(raw->db().Delete(rocksdb::WriteOptions(), target, key).ok());
  }
}

void LedgerFixture::Reopen(bool read_only) {
  ledger_.reset();
  ledger_ = OpenTestLedger(dir_.path(), read_only);
  ASSERT_NE(ledger_, nullptr);
}

std::vector<v1::AppendReceipt> LedgerFixture::Append(std::vector<v1::AccessEvent> events) {
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_->AppendEvents(events);
  EXPECT_TRUE(receipts.ok()) << receipts.status();
  return receipts.ok() ? *receipts : std::vector<v1::AppendReceipt>{};
}

void LedgerFixture::TamperWithStoredValue(std::string_view family, const std::string& key,
                                          const std::function<bool(std::string&)>& change) {
  ledger_.reset();
  testing::TamperWithStoredValue(dir_.path(), family, key, change);
  Reopen(/*read_only=*/true);
}

absl::Status LedgerFixture::OpenWritable() {
  ledger_.reset();
  storage::LedgerOptions options;
  options.data_dir = dir_.path();
  options.origin = kTestOrigin;
  return storage::Ledger::Open(options).status();
}

}  // namespace innsyn::testing
