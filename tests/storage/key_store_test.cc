// The key store: keys made once, kept under the KEK and handed out from a
// bounded cache; what Open refuses; ids that move on once shredded.
#include "storage/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "base/strings.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/internal/key_cache.h"
#include "tests/storage/faulty_disk.h"
#include "tests/storage/key_store_test_support.h"

namespace innsyn::storage {
namespace {

namespace fs = std::filesystem;
using innsyn::testing::Bytes;
using innsyn::testing::KeyStoreTest;
using innsyn::testing::PutDirectly;
using innsyn::testing::ReadAll;
using innsyn::testing::StoredValue;
using innsyn::testing::TempDir;
using innsyn::testing::WriteAll;

// Counts the syncs of RocksDB's write-ahead logs.
class WalSyncCounter : public rocksdb::FileSystemWrapper {
 public:
  WalSyncCounter() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "WalSyncCounter"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && name.ends_with(".log")) {
      *file = std::make_unique<CountedFile>(std::move(*file), syncs);
    }
    return s;
  }
  std::atomic<int> syncs{0};

 private:
  class CountedFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    CountedFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::atomic<int>& syncs)
        : FSWritableFileOwnerWrapper(std::move(file)), syncs_(syncs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      ++syncs_;
      return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      ++syncs_;
      return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

   private:
    std::atomic<int>& syncs_;
  };
};

// `options` on a disk that counts the syncs of the write-ahead logs.
struct CountedSyncs {
  explicit CountedSyncs(KeyStoreOptions store_options) : options(std::move(store_options)) {
    options.env = env.get();
  }
  std::shared_ptr<WalSyncCounter> disk = std::make_shared<WalSyncCounter>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  KeyStoreOptions options;
};

TEST_F(KeyStoreTest, FreshStoreMakesAnOwnerOnlyHexKek) {
  ASSERT_NE(Open(), nullptr);
  const std::string kek = ReadAll(kek_);
  ASSERT_EQ(kek.size(), 65u);
  EXPECT_EQ(kek.find_first_not_of("0123456789abcdef"), 64u);
  EXPECT_EQ(kek.back(), '\n');
  struct stat info;
  ASSERT_EQ(::stat(kek_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST_F(KeyStoreTest, ReopenedStoreGivesTheSameKeys) {
  std::string a, b;
  {
    std::unique_ptr<KeyStore> store = Open();
    a = Bytes(Make(*store, "s1/journal/2026"));
    b = Bytes(Make(*store, "s2/journal/2026"));
    EXPECT_NE(a, b);
    EXPECT_EQ(Bytes(*store->Get("s1/journal/2026")), a);
  }
  std::unique_ptr<KeyStore> store = Open();
  EXPECT_EQ(Bytes(*store->Get("s1/journal/2026")), a);
  EXPECT_EQ(Bytes(Make(*store, "s2/journal/2026")), b);
  EXPECT_EQ(*store->ListIds(), (std::vector<std::string>{"s1/journal/2026", "s2/journal/2026"}));
  EXPECT_EQ(*store->ListIds("s2/"), (std::vector<std::string>{"s2/journal/2026"}));
}

TEST_F(KeyStoreTest, GetOrCreateWritesAllNewKeysInOneSync) {
  CountedSyncs counted(Options());
  std::shared_ptr<WalSyncCounter>& disk = counted.disk;
  std::unique_ptr<KeyStore> store = Open(counted.options);
  std::vector<std::string> ids;
  for (int i = 0; i < 500; ++i) ids.push_back(StrCat("s", 499 - i, "/journal/2026"));
  ids.push_back(ids.front());  // asked twice, made once

  const int syncs_before = disk->syncs.load();
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys = store->GetOrCreate(ids);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(disk->syncs.load() - syncs_before, 1);
  ASSERT_EQ(keys->size(), ids.size());
  EXPECT_EQ(Bytes(keys->front()), Bytes(keys->back()));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(Bytes(*store->Get(ids[i])), Bytes((*keys)[i]));
  std::vector<std::string> sorted(ids.begin(), ids.end() - 1);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(*store->ListIds(), sorted);

  // Nothing new: nothing written.
  const int syncs_after = disk->syncs.load();
  ASSERT_TRUE(store->GetOrCreate(ids).ok());
  EXPECT_EQ(disk->syncs.load(), syncs_after);
}

TEST_F(KeyStoreTest, KeysCreatedToSyncLaterAreDurableAfterOneSyncOfTheirOwn) {
  CountedSyncs counted(Options());
  std::shared_ptr<WalSyncCounter>& disk = counted.disk;
  std::unique_ptr<KeyStore> store = Open(counted.options);
  const std::vector<std::string> ids = {"s1/journal/2026", "s2/journal/2026"};
  const int syncs_before = disk->syncs.load();
  bool created = false;
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys =
      store->GetOrCreate(ids, KeyStore::Sync::kLater, &created);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(created);
  EXPECT_EQ(disk->syncs.load(), syncs_before);  // the caller syncs, while it seals
  // Any caller can tell that a sync is owed, also one that made no key.
  EXPECT_TRUE(store->HasUnsyncedKeys());
  ASSERT_TRUE(store->SyncNewKeys().ok());
  EXPECT_EQ(disk->syncs.load() - syncs_before, 1);
  EXPECT_FALSE(store->HasUnsyncedKeys());
  // A key synced as it is made owes nothing.
  ASSERT_TRUE(store->GetOrCreate({"s3/journal/2026"}, KeyStore::Sync::kNow).ok());
  EXPECT_FALSE(store->HasUnsyncedKeys());
  // Keys that exist are not created again.
  ASSERT_TRUE(store->GetOrCreate(ids, KeyStore::Sync::kLater, &created).ok());
  EXPECT_FALSE(created);
  const std::string first = Bytes((*keys)[0]);
  store.reset();
  store = Open(counted.options);
  absl::StatusOr<std::shared_ptr<const DataKey>> again = store->Get(ids[0]);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Bytes(*again), first);
}

TEST_F(KeyStoreTest, KeysNotYetSyncedAreLiveToEveryCallAndAShredOfOneHoldsAfterTheSync) {
  KeyStoreOptions options = Options();
  options.cache_keys = 0;  // every call goes past the cache
  std::unique_ptr<KeyStore> store = Open(options);
  const std::vector<std::string> ids = {"s1/journal/2026", "s2/journal/2026"};
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys =
      store->GetOrCreate(ids, KeyStore::Sync::kLater);
  ASSERT_TRUE(keys.ok()) << keys.status();
  const std::string first = Bytes((*keys)[0]);
  // Not durable yet, and still the one key of its id for every caller.
  EXPECT_EQ(*store->ListIds(), ids);
  EXPECT_EQ(Bytes(*store->Get(ids[0])), first);
  bool created = true;
  absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> again =
      store->GetOrCreate({ids[0]}, KeyStore::Sync::kNow, &created);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(Bytes(again->front()), first);
  // Shredded before the sync: it counts as live, and the sync does not
  // bring it back.
  EXPECT_EQ(*store->Shred({ids[1]}), 1u);
  ASSERT_TRUE(store->SyncNewKeys().ok());
  EXPECT_EQ(*store->ListIds(), (std::vector<std::string>{ids[0]}));

  store.reset();
  store = Open(options);
  EXPECT_EQ(Bytes(*store->Get(ids[0])), first);
  EXPECT_EQ(*store->ListIds(), (std::vector<std::string>{ids[0]}));
  absl::Status got = store->Get(ids[1]).status();
  EXPECT_EQ(got.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.message().find("shredded"), std::string::npos) << got;
}

TEST_F(KeyStoreTest, ConcurrentCallersGetOneKeyForOneId) {
  KeyStoreOptions options = Options();
  options.cache_keys = 0;  // every caller goes to the database
  std::unique_ptr<KeyStore> store = Open(options);
  constexpr int kThreads = 8;
  std::vector<std::string> seen(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) {
      }
      absl::StatusOr<std::vector<std::shared_ptr<const DataKey>>> keys =
          store->GetOrCreate({StrCat("own/", t), "shared/journal/2026"});
      if (keys.ok()) seen[t] = Bytes(keys->back());
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& key : seen) EXPECT_EQ(key, seen.front());
  EXPECT_EQ(seen.front().size(), kDataKeyBytes);
  store.reset();
  EXPECT_EQ(Bytes(*Open()->Get("shared/journal/2026")), seen.front());
}

TEST_F(KeyStoreTest, ShreddedIdIsGoneAndMovesToItsNextGeneration) {
  std::unique_ptr<KeyStore> store = Open();
  const std::string first = Bytes(Make(*store, "s1/journal/2026"));
  Make(*store, "s2/journal/2026");
  EXPECT_EQ(*store->Shred({"s1/journal/2026", "s9/journal/2026"}), 1u);

  absl::Status got = store->Get("s1/journal/2026").status();
  EXPECT_EQ(got.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.message().find("shredded"), std::string::npos) << got;
  got = store->Get("s3/journal/2026").status();
  EXPECT_EQ(got.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.message().find("never created"), std::string::npos) << got;
  got = store->GetOrCreate({"s2/journal/2026", "s1/journal/2026"}).status();
  EXPECT_EQ(got.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(got.message().find("s1/journal/2026"), std::string::npos) << got;
  EXPECT_TRUE(store->IsShredded("s1/journal/2026"));
  EXPECT_TRUE(store->IsShredded("s9/journal/2026"));  // unknown ids are recorded too
  EXPECT_FALSE(store->IsShredded("s2/journal/2026"));

  EXPECT_EQ(store->LiveId("s1/journal/2026"), "s1/journal/2026#2");
  EXPECT_EQ(store->LiveId("s2/journal/2026"), "s2/journal/2026");
  EXPECT_NE(Bytes(Make(*store, "s1/journal/2026#2")), first);
  EXPECT_EQ(*store->Shred({"s1/journal/2026#2"}), 1u);
  EXPECT_EQ(store->LiveId("s1/journal/2026"), "s1/journal/2026#3");
  // Shredding again is fine and finds nothing live.
  EXPECT_EQ(*store->Shred({"s1/journal/2026", "s1/journal/2026"}), 0u);

  store.reset();
  store = Open();
  EXPECT_EQ(store->LiveId("s1/journal/2026"), "s1/journal/2026#3");
  EXPECT_EQ(*store->ListShredded(),
            (std::vector<std::string>{"s1/journal/2026", "s1/journal/2026#2", "s9/journal/2026"}));
  EXPECT_EQ(*store->ListIds(), (std::vector<std::string>{"s2/journal/2026"}));
  EXPECT_EQ(store->Get("s1/journal/2026").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, MissingKekOfAnExistingStoreIsFailedPrecondition) {
  Open();
  fs::remove(kek_);
  absl::Status opened = OpenError(Options());
  EXPECT_EQ(opened.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.message().find(dir_), std::string::npos) << opened;
  EXPECT_NE(opened.message().find(kek_), std::string::npos) << opened;
  EXPECT_NE(opened.message().find("restore the KEK"), std::string::npos) << opened;
  EXPECT_FALSE(fs::exists(kek_));  // never replaced by a new one
}

TEST_F(KeyStoreTest, KekOfAnotherStoreIsRefused) {
  Make(*Open(), "a");
  fs::remove(kek_);
  ASSERT_TRUE(KeyStore::CreateKekFile(kek_).ok());
  absl::Status opened = OpenError(Options());
  EXPECT_EQ(opened.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(opened.message().find("is not the key-encryption key of"), std::string::npos) << opened;
  EXPECT_NE(opened.message().find(dir_), std::string::npos) << opened;
}

TEST_F(KeyStoreTest, KekReadableByOthersIsRefused) {
  Open();
  ASSERT_EQ(::chmod(kek_.c_str(), 0644), 0);
  absl::Status opened = OpenError(Options());
  EXPECT_EQ(opened.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(opened.message().find(kek_), std::string::npos) << opened;
  EXPECT_NE(opened.message().find("0600"), std::string::npos) << opened;
}

TEST_F(KeyStoreTest, KekThatIsNotHexIsInvalidArgument) {
  Open();
  const std::string good = ReadAll(kek_);
  for (const std::string& bad :
       {std::string(64, 'z') + "\n", good.substr(0, 40) + "\n", good + good, std::string()}) {
    WriteAll(kek_, bad);
    absl::Status opened = OpenError(Options());
    EXPECT_EQ(opened.code(), absl::StatusCode::kInvalidArgument) << opened;
    EXPECT_NE(opened.message().find(kek_), std::string::npos) << opened;
  }
  WriteAll(kek_, good.substr(0, 64));  // without the newline
  EXPECT_NE(Open(), nullptr);
}

TEST_F(KeyStoreTest, MissingStoreWithAKekIsCreatedUnderThatKek) {
  ASSERT_TRUE(KeyStore::CreateKekFile(kek_).ok());
  const std::string kek = ReadAll(kek_);
  std::string key;
  {
    std::unique_ptr<KeyStore> store = Open();
    key = Bytes(Make(*store, "a"));
  }
  EXPECT_EQ(ReadAll(kek_), kek);
  EXPECT_EQ(Bytes(*Open()->Get("a")), key);
}

TEST_F(KeyStoreTest, NothingToOpenWithoutCreateIsNotFound) {
  KeyStoreOptions options = Options();
  options.create_if_missing = false;
  EXPECT_EQ(OpenError(options).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(kek_));
  EXPECT_FALSE(fs::exists(dir_));
  ASSERT_TRUE(KeyStore::CreateKekFile(kek_).ok());
  EXPECT_EQ(OpenError(options).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(KeyStoreTest, CreateKekFileNeverReplacesOne) {
  ASSERT_TRUE(KeyStore::CreateKekFile(kek_).ok());
  const std::string kek = ReadAll(kek_);
  EXPECT_EQ(KeyStore::CreateKekFile(kek_).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(kek_), kek);
}

TEST_F(KeyStoreTest, DamagedWrappedKeyIsDataLossAndNeverReplaced) {
  const std::string key = Bytes(Make(*Open(), "a"));
  Make(*Open(), "b");
  std::string damaged = StoredValue(dir_, "k/a");
  damaged[damaged.size() / 2] ^= 0x01;
  PutDirectly(dir_, "k/a", damaged);
  // A key copied under another id does not open either: its id is bound in.
  PutDirectly(dir_, "k/b", StoredValue(dir_, "k/a"));

  std::unique_ptr<KeyStore> store = Open();
  for (const std::string id : {"a", "b"}) {
    absl::Status got = store->Get(id).status();
    EXPECT_EQ(got.code(), absl::StatusCode::kDataLoss) << got;
    EXPECT_NE(got.message().find("data key " + id), std::string::npos) << got;
    EXPECT_EQ(store->GetOrCreate({"c", id}).status().code(), absl::StatusCode::kDataLoss);
  }
  store.reset();
  EXPECT_EQ(StoredValue(dir_, "k/a"), damaged);
  EXPECT_EQ(Open()->Get("c").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyStoreTest, ReadOnlyStoreReadsButChangesNothing) {
  const std::string key = Bytes(Make(*Open(), "a"));
  KeyStoreOptions options = Options();
  options.read_only = true;
  std::unique_ptr<KeyStore> store = Open(options);
  EXPECT_EQ(Bytes(*store->Get("a")), key);
  EXPECT_EQ(store->GetOrCreate({"b"}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Shred({"a"}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Purge().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Bytes(*store->Get("a")), key);
}

TEST_F(KeyStoreTest, FailedWriteHandsOutNoKey) {
  innsyn::testing::OnFaultyDisk disk;
  KeyStoreOptions options = Options();
  options.env = disk.env.get();
  std::unique_ptr<KeyStore> store = Open(options);
  disk.disk->fault = innsyn::testing::Fault::kSync;
  EXPECT_FALSE(store->GetOrCreate({"a"}).ok());
  EXPECT_EQ(store->Get("a").status().code(), absl::StatusCode::kNotFound);
}

// A sync that fails leaves the keys owed, so that the next group asks for
// a sync again (which fails too: the key store's RocksDB then refuses
// writes until it is opened again) rather than write what they seal.
TEST_F(KeyStoreTest, KeysWhoseSyncFailedAreStillOwedASync) {
  innsyn::testing::OnFaultyDisk disk;
  KeyStoreOptions options = Options();
  options.env = disk.env.get();
  std::unique_ptr<KeyStore> store = Open(options);
  ASSERT_TRUE(store->GetOrCreate({"a"}, KeyStore::Sync::kLater).ok());
  disk.disk->fault = innsyn::testing::Fault::kSync;
  EXPECT_FALSE(store->SyncNewKeys().ok());
  EXPECT_TRUE(store->HasUnsyncedKeys());
  disk.disk->fault = innsyn::testing::Fault::kNone;
  EXPECT_FALSE(store->SyncNewKeys().ok());
  EXPECT_TRUE(store->HasUnsyncedKeys());
}

TEST_F(KeyStoreTest, SmallCacheStillGivesEveryKey) {
  for (size_t cache_keys : {0, 1, 3}) {
    TempDir root;
    KeyStoreOptions options = Options();
    options.dir = root.path() + "/keys";
    options.kek_file = root.path() + "/kek";
    options.cache_keys = cache_keys;
    std::unique_ptr<KeyStore> store = Open(options);
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(StrCat("id", i));
    std::vector<std::shared_ptr<const DataKey>> keys = *store->GetOrCreate(ids);
    for (int round = 0; round < 2; ++round) {
      for (size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(Bytes(*store->Get(ids[i])), Bytes(keys[i]));
      }
    }
    // Stored keys the cache dropped, read back in one call beside a new one.
    std::vector<std::string> more = ids;
    more.insert(more.begin() + 5, "new");
    std::vector<std::shared_ptr<const DataKey>> again = *store->GetOrCreate(more);
    ASSERT_EQ(again.size(), more.size());
    for (size_t i = 0; i < more.size(); ++i) {
      if (more[i] == "new") continue;
      EXPECT_EQ(Bytes(again[i]), Bytes(keys[i < 5 ? i : i - 1])) << more[i];
    }
    EXPECT_EQ(Bytes(*store->Get("new")), Bytes(again[5]));
  }
}

TEST(KeyStoreCache, KeepsRecentKeysWithinItsCapacity) {
  internal::KeyCache cache(4);
  auto key = std::make_shared<const DataKey>(DataKey::Random());
  for (int i = 0; i < 100; ++i) {
    cache.Insert(StrCat(i), key);
    EXPECT_LE(cache.size(), 4u);
    EXPECT_NE(cache.Find(StrCat(i)), nullptr);
    EXPECT_NE(cache.Find("0"), nullptr) << "a key used all along stays";
  }
  EXPECT_EQ(cache.Find("50"), nullptr);
  cache.Erase("0");
  EXPECT_EQ(cache.Find("0"), nullptr);
  internal::KeyCache none(0);
  none.Insert("a", key);
  EXPECT_EQ(none.Find("a"), nullptr);
}

}  // namespace
}  // namespace innsyn::storage
