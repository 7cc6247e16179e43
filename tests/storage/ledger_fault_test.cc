// A failing disk: a wrapped RocksDB FileSystem that starts failing writes or
// syncs. Appends must then fail with UNAVAILABLE, nothing unwritten may be
// acknowledged, and what was acknowledged before must survive and verify.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/ledger.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;

enum class Fault { kNone, kWrite, kSync, kSlowSync };

constexpr auto kSlowSyncDelay = std::chrono::milliseconds(50);

class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<Fault>& fault)
      : FSWritableFileOwnerWrapper(std::move(file)), fault_(fault) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (fault_ == Fault::kWrite) return rocksdb::IOStatus::IOError("injected write failure");
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (fault_ == Fault::kWrite) return rocksdb::IOStatus::IOError("injected write failure");
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (!SyncAllowed()) return rocksdb::IOStatus::IOError("injected sync failure");
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (!SyncAllowed()) return rocksdb::IOStatus::IOError("injected sync failure");
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  bool SyncAllowed() const {
    if (fault_ == Fault::kSlowSync) std::this_thread::sleep_for(kSlowSyncDelay);
    return fault_ == Fault::kNone || fault_ == Fault::kSlowSync;
  }
  const std::atomic<Fault>& fault_;
};

class FaultyDisk : public rocksdb::FileSystemWrapper {
 public:
  FaultyDisk() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyDisk"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok()) *file = std::make_unique<FaultyFile>(std::move(*file), fault);
    return s;
  }

  std::atomic<Fault> fault{Fault::kNone};
};

class LedgerFaultTest : public ::testing::TestWithParam<Fault> {};

TEST_P(LedgerFaultTest, FailingDiskAcknowledgesNothingAndLosesNothing) {
  testing::TempDir dir;
  auto disk = std::make_shared<FaultyDisk>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  LedgerOptions options;
  options.data_dir = dir.path();
  options.env = env.get();
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

TEST(LedgerBackPressure, FullQueueRefusesAtOnceAndRecordsNothingOfTheRequest) {
  testing::TempDir dir;
  auto disk = std::make_shared<FaultyDisk>();
  disk->fault = Fault::kSlowSync;
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  LedgerOptions options;
  options.data_dir = dir.path();
  options.env = env.get();
  options.max_queued_events = 50;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);

  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 5;
  constexpr int kEventsPerRequest = 20;
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> refused{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequestsPerThread; ++r) {
        std::vector<v1::AccessEvent> events;
        for (int i = 0; i < kEventsPerRequest; ++i) {
          events.push_back(JournalRead((t * kRequestsPerThread + r) * kEventsPerRequest + i, "p", "a"));
        }
        absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger->AppendEvents(events);
        if (absl::IsResourceExhausted(receipts.status())) {
          ++refused;
          EXPECT_NE(receipts.status().message().find("retry in"), std::string::npos);
        } else if (!receipts.ok()) {
          ++other_errors;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          for (const auto& receipt : *receipts) acknowledged.insert(receipt.event_id());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(other_errors.load(), 0);
  // Exactly the acknowledged events were recorded: a refused request left
  // nothing behind.
  EXPECT_EQ(ledger->Size(), acknowledged.size());
  EXPECT_EQ(acknowledged.size() + static_cast<size_t>(refused.load()) * kEventsPerRequest,
            static_cast<size_t>(kThreads * kRequestsPerThread * kEventsPerRequest));
}

}  // namespace
}  // namespace innsyn::storage
