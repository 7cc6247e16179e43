// A failing disk: a wrapped RocksDB FileSystem that starts failing writes or
// syncs. Appends must then fail with UNAVAILABLE, nothing unwritten may be
// acknowledged, and what was acknowledged before must survive and verify.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/ledger.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::JournalRead;

enum class Fault { kNone, kWrite, kSync, kSlowSync, kSlowFailingSync };

constexpr auto kSlowSyncDelay = std::chrono::milliseconds(50);

class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<Fault>& fault,
             const std::atomic<int>& slow_sync_millis)
      : FSWritableFileOwnerWrapper(std::move(file)),
        fault_(fault),
        slow_sync_millis_(slow_sync_millis) {}

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
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (!SyncAllowed()) return rocksdb::IOStatus::IOError("injected sync failure");
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  bool SyncAllowed() const {
    if (fault_ == Fault::kSlowSync || fault_ == Fault::kSlowFailingSync) {
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_sync_millis_.load()));
    }
    return fault_ == Fault::kNone || fault_ == Fault::kSlowSync;
  }
  const std::atomic<Fault>& fault_;
  const std::atomic<int>& slow_sync_millis_;
};

class FaultyDisk : public rocksdb::FileSystemWrapper {
 public:
  FaultyDisk() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyDisk"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok()) *file = std::make_unique<FaultyFile>(std::move(*file), fault, slow_sync_millis);
    return s;
  }

  std::atomic<Fault> fault{Fault::kNone};
  std::atomic<int> slow_sync_millis{static_cast<int>(kSlowSyncDelay.count())};
};

// A temporary ledger folder on a FaultyDisk, with options for it.
struct OnFaultyDisk {
  OnFaultyDisk() {
    options.data_dir = dir.path();
    options.env = env.get();
  }
  testing::TempDir dir;
  std::shared_ptr<FaultyDisk> disk = std::make_shared<FaultyDisk>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  LedgerOptions options;
};

class LedgerFaultTest : public ::testing::TestWithParam<Fault> {};

TEST_P(LedgerFaultTest, FailingDiskAcknowledgesNothingAndLosesNothing) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
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

// Collects the answers of AppendEventsAsync.
struct Answers {
  absl::Mutex mu;
  std::vector<absl::StatusOr<std::vector<v1::AppendReceipt>>> results ABSL_GUARDED_BY(mu);
  Ledger::AppendDone Collect() {
    return [this](absl::StatusOr<std::vector<v1::AppendReceipt>> result) {
      absl::MutexLock lock(&mu);
      results.push_back(std::move(result));
    };
  }
  void AwaitCount(size_t n) {
    std::pair<Answers*, size_t> want(this, n);
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::pair<Answers*, size_t>* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->first->mu) {
          return a->first->results.size() >= a->second;
        },
        &want));
  }
};

google::protobuf::RepeatedPtrField<v1::AccessEvent> Events(std::initializer_list<int> ids) {
  google::protobuf::RepeatedPtrField<v1::AccessEvent> events;
  for (int id : ids) *events.Add() = JournalRead(id, "p", "a");
  return events;
}

// A group is prepared while the one before it waits for its fsync; a repeat
// of an event in that earlier group must still get the original receipt.
TEST(LedgerPipeline, RepeatWhileTheFirstCopyIsBeingWrittenGetsTheOriginalReceipt) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);
  disk->fault = Fault::kSlowSync;

  auto first = Events({1});
  Answers answers;
  ASSERT_TRUE(ledger->AppendEventsAsync(first, answers.Collect()).ok());
  std::this_thread::sleep_for(kSlowSyncDelay / 5);  // the first group is in its fsync
  absl::StatusOr<std::vector<v1::AppendReceipt>> second = ledger->AppendEvents(Events({1, 2}));
  answers.AwaitCount(1);
  ASSERT_TRUE(second.ok()) << second.status();
  absl::MutexLock lock(&answers.mu);
  ASSERT_TRUE(answers.results[0].ok());
  const v1::AppendReceipt& original = answers.results[0]->front();
  EXPECT_TRUE((*second)[0].duplicate());
  EXPECT_EQ((*second)[0].seq(), original.seq());
  EXPECT_EQ((*second)[0].chain_hash(), original.chain_hash());
  EXPECT_FALSE((*second)[1].duplicate());
  EXPECT_EQ(ledger->Size(), 2u);
  disk->fault = Fault::kNone;
  EXPECT_TRUE(ledger->Verify().ok);
}

// Requests that arrive while a group is written all go in the next group,
// however they trickle in, so that a slow fsync is paid once for them.
TEST(LedgerPipeline, RequestsArrivingDuringAWriteShareTheNextGroup) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  disk->slow_sync_millis = 400;
  std::atomic<int> groups{0};
  options.on_group_commit = [&](const GroupCommitStats&) { ++groups; };
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);
  disk->fault = Fault::kSlowSync;

  constexpr int kLater = 10;
  std::vector<google::protobuf::RepeatedPtrField<v1::AccessEvent>> requests;
  for (int i = 0; i <= kLater; ++i) requests.push_back(Events({i}));
  Answers answers;
  ASSERT_TRUE(ledger->AppendEventsAsync(requests[0], answers.Collect()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the first is being written
  for (int i = 1; i <= kLater; ++i) {
    ASSERT_TRUE(ledger->AppendEventsAsync(requests[i], answers.Collect()).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  answers.AwaitCount(kLater + 1);
  disk->fault = Fault::kNone;
  EXPECT_EQ(groups.load(), 2);
  EXPECT_EQ(ledger->Size(), static_cast<uint64_t>(kLater + 1));
}

// A group prepared on top of one whose fsync fails is not written either,
// and neither is acknowledged.
TEST(LedgerPipeline, GroupAfterAFailedOneFailsToo) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);
  ASSERT_TRUE(ledger->AppendEvents(Events({0})).ok());
  disk->fault = Fault::kSlowFailingSync;

  auto first = Events({1});
  auto second = Events({2, 1});
  Answers answers;
  ASSERT_TRUE(ledger->AppendEventsAsync(first, answers.Collect()).ok());
  std::this_thread::sleep_for(kSlowSyncDelay / 5);
  absl::Status queued = ledger->AppendEventsAsync(second, answers.Collect());
  answers.AwaitCount(queued.ok() ? 2 : 1);
  {
    absl::MutexLock lock(&answers.mu);
    for (const auto& result : answers.results) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
    }
  }
  EXPECT_EQ(ledger->Size(), 1u);
  ledger.reset();

  disk->fault = Fault::kNone;
  options.env = nullptr;
  ledger = *Ledger::Open(options);
  // Retried, each is recorded exactly once whatever reached the disk.
  std::vector<v1::AppendReceipt> retried = *ledger->AppendEvents(Events({1, 2}));
  std::set<uint64_t> seqs = {retried[0].seq(), retried[1].seq()};
  EXPECT_EQ(seqs.size(), 2u);
  EXPECT_EQ(ledger->Size(), 3u);
  VerifyReport report = ledger->Verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST(LedgerBackPressure, FullQueueRefusesAtOnceAndRecordsNothingOfTheRequest) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  disk->fault = Fault::kSlowSync;
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
          events.push_back(
              JournalRead((t * kRequestsPerThread + r) * kEventsPerRequest + i, "p", "a"));
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
