// A failing disk for ledger tests: a wrapped RocksDB FileSystem whose
// writable files start failing writes or syncs, or sync slowly, when told.
#ifndef INNSYN_TESTS_STORAGE_FAULTY_DISK_H_
#define INNSYN_TESTS_STORAGE_FAULTY_DISK_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/ledger.h"
#include "tests/support/temp_dir.h"

namespace innsyn::testing {

// kHeldSync: every sync waits until the test releases it (FaultyDisk::
// ReleaseSyncs), so that a test can act while a write is in its fsync
// without guessing how long that takes.
enum class Fault { kNone, kWrite, kSync, kSlowSync, kSlowFailingSync, kHeldSync };

inline constexpr auto kSlowSyncDelay = std::chrono::milliseconds(50);

class FaultyDisk : public rocksdb::FileSystemWrapper {
 public:
  FaultyDisk() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyDisk"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override;

  // What files opened for writing do from now on, files already open too.
  std::atomic<Fault> fault{Fault::kNone};
  // If set before the files are opened: only files whose path contains it
  // fail (for example the key store's folder).
  std::string only_under;
  std::atomic<int> slow_sync_millis{static_cast<int>(kSlowSyncDelay.count())};

  // Under kHeldSync: how many syncs are waiting now, and letting them (and
  // every later one) go.
  int HeldSyncs();
  void ReleaseSyncs();
  // What a file's sync does first under kHeldSync.
  void WaitForRelease();

 private:
  absl::Mutex mu_;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// A temporary ledger folder on a FaultyDisk, with options for it.
struct OnFaultyDisk {
  OnFaultyDisk() {
    options.data_dir = dir.path();
    options.env = env.get();
  }
  TempDir dir;
  std::shared_ptr<FaultyDisk> disk = std::make_shared<FaultyDisk>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  storage::LedgerOptions options;
};

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_STORAGE_FAULTY_DISK_H_
