// The group-commit writer, through the ledger that owns it: repeats get the
// original receipt, every request is answered once durable and in order,
// groups share one write, and back-pressure refuses whole requests.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "storage/ledger.h"
#include "tests/storage/faulty_disk.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/eventually.h"
#include "tests/support/test_events.h"

namespace innsyn::storage {
namespace {

using innsyn::testing::Eventually;
using innsyn::testing::Fault;
using innsyn::testing::FaultyDisk;
using innsyn::testing::JournalRead;
using innsyn::testing::kSlowSyncDelay;
using innsyn::testing::OnFaultyDisk;

class GroupWriterTest : public innsyn::testing::LedgerFixture {};

TEST_F(GroupWriterTest, RepeatedEventIdReturnsTheOriginalReceipt) {
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

TEST_F(GroupWriterTest, AReusedEventIdWithOtherContentsIsRefusedNamingTheSeq) {
  Append({JournalRead(7, "p1", "a1")});
  AppendMany(3, 100);
  // Another event under the same (source, event_id): not a retry.
  absl::StatusOr<std::vector<v1::AppendReceipt>> reused =
      ledger_->AppendEvents(std::vector<v1::AccessEvent>{JournalRead(7, "p2", "a1")});
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists) << reused.status();
  EXPECT_NE(reused.status().message().find("event 0: event_id ev-7 of source opus-dental/clinic-1 "
                                           "was recorded as seq 0 with other contents"),
            std::string::npos)
      << reused.status();
  EXPECT_EQ(ledger_->Size(), 4u);
}

TEST_F(GroupWriterTest, AReusedEventIdRefusesItsWholeRequestAndAddsNothingOfIt) {
  Append({JournalRead(7, "p1", "a1")});
  absl::StatusOr<std::vector<v1::AppendReceipt>> refused = ledger_->AppendEvents(
      std::vector<v1::AccessEvent>{JournalRead(20, "p1", "a1"), JournalRead(7, "p9", "a1")});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
  EXPECT_NE(refused.status().message().find("event 1:"), std::string::npos) << refused.status();
  EXPECT_EQ(ledger_->Size(), 1u);
  // The new event of the refused request was not recorded: sent alone, it is new.
  std::vector<v1::AppendReceipt> alone = Append({JournalRead(20, "p1", "a1")});
  EXPECT_FALSE(alone[0].duplicate());
  EXPECT_EQ(alone[0].seq(), 1u);
  EXPECT_TRUE(ledger_->Verify().ok);
}

TEST_F(GroupWriterTest, ConcurrentAppendsAreAllDurableAndDistinct) {
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

TEST_F(GroupWriterTest, GroupCommitObserverSeesEveryEntryOnce) {
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

TEST_F(GroupWriterTest, AsyncAppendsAreAnsweredInOrderOnceDurable) {
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

TEST_F(GroupWriterTest, AsyncAppendRefusedByBackPressureNeverCallsBack) {
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

// Nothing sealed under a new data key is written before that key is
// durable: when the key store's sync fails, the group that created the key
// fails, and nothing of it is recorded.
TEST(LedgerPipeline, AGroupWhoseNewDataKeyDoesNotSyncIsNotWritten) {
  OnFaultyDisk on_disk;
  on_disk.disk->only_under = "/keystore/";
  // The append makes the key, not the writer: the group must still wait
  // for its sync.
  on_disk.options.keys_ahead_min_events = 1;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(on_disk.options);
  ASSERT_TRUE(ledger->AppendEvents(Events({1})).ok());
  const uint64_t size = ledger->Size();
  on_disk.disk->fault = Fault::kSync;
  google::protobuf::RepeatedPtrField<v1::AccessEvent> fresh;
  *fresh.Add() = JournalRead(2, "a patient never seen", "a");
  absl::StatusOr<std::vector<v1::AppendReceipt>> failed = ledger->AppendEvents(fresh);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_NE(failed.status().message().find("make the new data keys"), std::string::npos)
      << failed.status();
  EXPECT_EQ(ledger->Size(), size);
  // Nothing is written after it until the ledger is opened again.
  on_disk.disk->fault = Fault::kNone;
  EXPECT_FALSE(ledger->AppendEvents(Events({3})).ok());
  ledger.reset();
  ledger = *Ledger::Open(on_disk.options);
  EXPECT_EQ(ledger->Size(), size);
  EXPECT_TRUE(ledger->AppendEvents(fresh).ok());
  EXPECT_TRUE(ledger->Verify().ok);
}

// The same for an event id reused while its first event is being written.
TEST(LedgerPipeline, ReuseWhileTheFirstCopyIsBeingWrittenIsRefused) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  std::unique_ptr<Ledger> ledger = *Ledger::Open(on_disk.options);
  disk->fault = Fault::kSlowSync;
  auto first = Events({1});
  Answers answers;
  ASSERT_TRUE(ledger->AppendEventsAsync(first, answers.Collect()).ok());
  std::this_thread::sleep_for(kSlowSyncDelay / 5);  // the first group is in its fsync
  google::protobuf::RepeatedPtrField<v1::AccessEvent> other;
  *other.Add() = JournalRead(1, "another patient", "a");
  absl::StatusOr<std::vector<v1::AppendReceipt>> reused = ledger->AppendEvents(other);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists) << reused.status();
  answers.AwaitCount(1);
  EXPECT_EQ(ledger->Size(), 1u);
  disk->fault = Fault::kNone;
}

// Requests that arrive while a group is written all go in the next group,
// however they trickle in, so that a slow fsync is paid once for them.
TEST(LedgerPipeline, RequestsArrivingDuringAWriteShareTheNextGroup) {
  OnFaultyDisk on_disk;
  std::shared_ptr<FaultyDisk>& disk = on_disk.disk;
  LedgerOptions& options = on_disk.options;
  std::atomic<int> groups{0};
  options.on_group_commit = [&](const GroupCommitStats&) { ++groups; };
  std::unique_ptr<Ledger> ledger = *Ledger::Open(options);
  // The subject's data key exists before, so that no group waits for the
  // key store's own sync.
  ASSERT_TRUE(ledger->AppendEvents(Events({100})).ok());
  groups = 0;
  disk->fault = Fault::kHeldSync;

  constexpr int kLater = 10;
  std::vector<google::protobuf::RepeatedPtrField<v1::AccessEvent>> requests;
  for (int i = 0; i <= kLater; ++i) requests.push_back(Events({i}));
  Answers answers;
  // Whatever fails below, the ledger can still write and close.
  absl::Cleanup release = [&] { disk->ReleaseSyncs(); };
  ASSERT_TRUE(ledger->AppendEventsAsync(requests[0], answers.Collect()).ok());
  ASSERT_TRUE(Eventually([&] { return disk->HeldSyncs() > 0; }));  // the first is being written
  for (int i = 1; i <= kLater; ++i) {
    ASSERT_TRUE(ledger->AppendEventsAsync(requests[i], answers.Collect()).ok());
  }
  // Every later request has left the queue for the group that waits.
  ASSERT_TRUE(Eventually([&] { return ledger->QueuedEvents() == 0; }));
  EXPECT_EQ(groups.load(), 0);
  disk->ReleaseSyncs();
  answers.AwaitCount(kLater + 1);
  disk->fault = Fault::kNone;
  EXPECT_EQ(groups.load(), 2);
  EXPECT_EQ(ledger->Size(), static_cast<uint64_t>(kLater + 2));
}

// A ledger whose writer is kept busy, so that what is appended next waits
// in the queue: one group in its held fsync, and a full group (of
// `waiting_ids`) waiting prepared behind it. The subject "erased" has one
// journal read before (seq 1); "p" has its key. The ledger is closed before
// the events the caller borrows to it, if they are declared first.
struct HeldPipeline {
  HeldPipeline(size_t max_group_events, std::initializer_list<int> waiting_ids,
               bool make_keys_ahead = true)
      : waiting(Events(waiting_ids)) {
    on_disk.options.max_group_events = max_group_events;
    on_disk.options.keys_ahead_min_events = make_keys_ahead ? 1 : SIZE_MAX;
    ledger = *Ledger::Open(on_disk.options);
  }
  ~HeldPipeline() {
    on_disk.disk->fault = Fault::kNone;
    on_disk.disk->ReleaseSyncs();
    if (eraser.joinable()) eraser.join();
    ledger.reset();
  }
  void Hold() {
    ASSERT_TRUE(ledger->AppendEvents(Events({1})).ok());
    google::protobuf::RepeatedPtrField<v1::AccessEvent> journal;
    *journal.Add() = JournalRead(2, "erased", "a");
    ASSERT_TRUE(ledger->AppendEvents(journal).ok());
    on_disk.disk->fault = Fault::kHeldSync;
    ASSERT_TRUE(ledger->AppendEventsAsync(written, answers.Collect()).ok());
    ASSERT_TRUE(Eventually([&] { return on_disk.disk->HeldSyncs() > 0; }));  // being written
    ASSERT_TRUE(ledger->AppendEventsAsync(waiting, answers.Collect()).ok());
    ASSERT_TRUE(Eventually([&] { return ledger->QueuedEvents() == 0; }));  // waits prepared
  }
  // Erases "erased" on a thread of its own; `erased` holds the answer
  // once Release has returned.
  void StartErasure() {
    eraser = std::thread([this] {
      ErasureOrder order;
      order.subject_id = "erased";
      order.reason = "GDPR art. 17(1)(a)";
      erased = ledger->Erase(order);
    });
  }
  // Lets the writer go on, and waits for the erasure and `answers` answers.
  void Release(size_t answers_expected) {
    on_disk.disk->fault = Fault::kNone;
    on_disk.disk->ReleaseSyncs();
    eraser.join();
    answers.AwaitCount(answers_expected);
  }

  OnFaultyDisk on_disk;
  std::unique_ptr<Ledger> ledger;
  const google::protobuf::RepeatedPtrField<v1::AccessEvent> written = Events({3});
  const google::protobuf::RepeatedPtrField<v1::AccessEvent> waiting;
  Answers answers;
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased;
  std::thread eraser;
};

// An erasure lists the subject's keys, then queues its record. A group
// queued before the record but prepared after the listing may make a new
// key of the subject (its first entry of a class and year): the record is
// then refused and the keys listed again, so that it names that key too and
// no entry recorded before the erasure stays readable. An append makes its
// events' keys before it queues them (keys_ahead_min_events), so that with keys
// made ahead, a key made after the listing takes an append racing it, or
// one made while another erasure was in flight; without, the writer makes
// the image's key after the listing here. Either way the erasure names it.
TEST(LedgerPipeline, AnErasureAlsoShredsAKeyMadeAfterItListedTheKeys) {
  for (bool make_keys_ahead : {false, true}) {
    SCOPED_TRACE(make_keys_ahead ? "keys made ahead" : "keys made by the writer");
    // The subject's first image, which will wait in the queue.
    google::protobuf::RepeatedPtrField<v1::AccessEvent> image;
    *image.Add() = JournalRead(5, "erased", "a");
    image[0].mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_IMAGE);
    // A group waiting prepared takes no more.
    HeldPipeline held(/*max_group_events=*/1, {4}, make_keys_ahead);
    ASSERT_NO_FATAL_FAILURE(held.Hold());
    Ledger& ledger = *held.ledger;
    // The image stays queued behind it.
    ASSERT_TRUE(ledger.AppendEventsAsync(image, held.answers.Collect()).ok());
    EXPECT_EQ(ledger.QueuedEvents(), 1u);

    held.StartErasure();
    // Its record is queued behind the image, the keys listed before it.
    EXPECT_TRUE(Eventually([&] { return ledger.QueuedEvents() == 2; }));
    held.Release(3);
    absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>>& erased = held.erased;
    ASSERT_TRUE(erased.ok()) << erased.status();
    EXPECT_EQ(erased->second.keys_size(), 2) << erased->second.DebugString();
    absl::StatusOr<std::vector<StoredEntry>> entries = ledger.GetEntries(0, ledger.Size());
    ASSERT_TRUE(entries.ok()) << entries.status();
    std::vector<uint64_t> erased_seqs;
    for (const StoredEntry& entry : *entries) {
      if (entry.erased) erased_seqs.push_back(entry.seq);
    }
    // The journal read and the image, both before the erasure record.
    ASSERT_EQ(erased_seqs.size(), 2u);
    EXPECT_EQ(erased_seqs[0], 1u);
    EXPECT_LT(erased_seqs[1], erased->first.seq());
    EXPECT_TRUE(ledger.Verify().ok);
  }
}

// An event queued behind an erasure is prepared after it, under a fresh key
// of its subject: it is kept, and the erasure, which names only the keys
// of what came before it, is written at its first attempt.
TEST(LedgerPipeline, AnEventQueuedBehindAnErasureIsKeptUnderAFreshKey) {
  google::protobuf::RepeatedPtrField<v1::AccessEvent> later;
  *later.Add() = JournalRead(5, "erased", "a");
  // The group waiting prepared is full; the erasure and the event behind it
  // then wait in the queue and fit in one group together.
  HeldPipeline held(/*max_group_events=*/2, {4, 6});
  ASSERT_NO_FATAL_FAILURE(held.Hold());
  Ledger& ledger = *held.ledger;

  held.StartErasure();
  EXPECT_TRUE(Eventually([&] { return ledger.QueuedEvents() == 1; }));  // its record
  EXPECT_TRUE(ledger.AppendEventsAsync(later, held.answers.Collect()).ok());
  held.Release(3);
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>>& erased = held.erased;
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->second.keys_size(), 1) << erased->second.DebugString();
  absl::StatusOr<std::vector<StoredEntry>> entries = ledger.GetEntries(0, ledger.Size());
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 7u);
  EXPECT_TRUE((*entries)[1].erased);  // the journal read before the order
  const StoredEntry& kept = entries->back();
  EXPECT_GT(kept.seq, erased->first.seq());
  EXPECT_FALSE(kept.erased);
  EXPECT_EQ(kept.entry.access_event().event_id(), later[0].event_id());
  EXPECT_NE(kept.header.key_id().find("#2"), std::string::npos) << kept.header.key_id();
  EXPECT_TRUE(ledger.Verify().ok);
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
