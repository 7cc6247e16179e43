// Ledgers for storage tests: opened on a temporary folder with a test
// origin, filled with journal reads, and their RocksDB opened behind their
// back, as an insider with access to the files could, to tamper with it.
#ifndef INNSYN_TESTS_STORAGE_LEDGER_TEST_SUPPORT_H_
#define INNSYN_TESTS_STORAGE_LEDGER_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "storage/ledger.h"
#include "tests/support/temp_dir.h"

namespace innsyn::testing {

inline constexpr char kTestOrigin[] = "test.clinic/innsyn";

// The ledger in `dir`, created if missing unless read-only; null, and a test
// failure, if it does not open.
std::unique_ptr<storage::Ledger> OpenTestLedger(const std::string& dir, bool read_only = false);

// Appends journal reads ev-<first> onwards, of patient-<i % 7> by
// dr-<i % 3>, as one request.
void AppendJournalReads(storage::Ledger& ledger, int count, int first = 0);

// The RocksDB of the closed ledger in `dir`, with every column family it
// has, each found by its name.
class RawLedger {
 public:
  // Null, and a test failure, if it does not open.
  static std::unique_ptr<RawLedger> Open(const std::string& dir, bool read_only = false);
  ~RawLedger();

  rocksdb::DB& db() { return *db_; }
  // The family named `name`, or null.
  rocksdb::ColumnFamilyHandle* family(std::string_view name) const;

 private:
  RawLedger() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Rewrites the stored value of `key` in `family` of the closed ledger in
// `dir` with `change` (given "" for a key not stored, which it then adds),
// or deletes it where `change` returns false.
void TamperWithStoredValue(const std::string& dir, std::string_view family, const std::string& key,
                           const std::function<bool(std::string&)>& change);

// A ledger on a temporary folder, opened writable before each test.
class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(bool read_only = false);
  std::vector<v1::AppendReceipt> Append(std::vector<v1::AccessEvent> events);
  void AppendMany(int count, int first = 0) { AppendJournalReads(*ledger_, count, first); }
  // Closes the ledger, tampers with one stored value (see above), then
  // reopens the ledger read-only as an auditor would.
  void TamperWithStoredValue(std::string_view family, const std::string& key,
                             const std::function<bool(std::string&)>& change);
  // Closes the ledger and tries to open it writable, as innsynd would.
  absl::Status OpenWritable();

  TempDir dir_;
  std::unique_ptr<storage::Ledger> ledger_;
};

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_STORAGE_LEDGER_TEST_SUPPORT_H_
