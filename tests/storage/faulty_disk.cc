#include "tests/storage/faulty_disk.h"

#include <thread>

namespace innsyn::testing {
namespace {

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

}  // namespace

rocksdb::IOStatus FaultyDisk::NewWritableFile(const std::string& name,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* file,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
  if (s.ok()) *file = std::make_unique<FaultyFile>(std::move(*file), fault, slow_sync_millis);
  return s;
}

}  // namespace innsyn::testing
