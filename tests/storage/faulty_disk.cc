#include "tests/storage/faulty_disk.h"

#include <thread>

namespace innsyn::testing {
namespace {

class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultyDisk& disk)
      : FSWritableFileOwnerWrapper(std::move(file)), disk_(disk) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (disk_.fault == Fault::kWrite) return rocksdb::IOStatus::IOError("injected write failure");
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (disk_.fault == Fault::kWrite) return rocksdb::IOStatus::IOError("injected write failure");
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
    const Fault fault = disk_.fault;
    if (fault == Fault::kSlowSync || fault == Fault::kSlowFailingSync) {
      std::this_thread::sleep_for(std::chrono::milliseconds(disk_.slow_sync_millis.load()));
    }
    if (fault == Fault::kHeldSync) disk_.WaitForRelease();
    return fault == Fault::kNone || fault == Fault::kSlowSync || fault == Fault::kHeldSync;
  }
  FaultyDisk& disk_;
};

}  // namespace

rocksdb::IOStatus FaultyDisk::NewWritableFile(const std::string& name,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* file,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
  if (s.ok() && name.find(only_under) != std::string::npos) {
    *file = std::make_unique<FaultyFile>(std::move(*file), *this);
  }
  return s;
}

int FaultyDisk::HeldSyncs() {
  absl::MutexLock lock(&mu_);
  return held_;
}

void FaultyDisk::ReleaseSyncs() {
  absl::MutexLock lock(&mu_);
  released_ = true;
}

void FaultyDisk::WaitForRelease() {
  absl::MutexLock lock(&mu_);
  ++held_;
  mu_.Await(absl::Condition(&released_));
  --held_;
}

}  // namespace innsyn::testing
