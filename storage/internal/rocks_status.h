// RocksDB's statuses as absl::Status, converted once at the storage edge.
// Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_ROCKS_STATUS_H_
#define INNSYN_STORAGE_INTERNAL_ROCKS_STATUS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "base/strings.h"
#include "rocksdb/status.h"

namespace innsyn::storage::internal {

// NotFound, DataLoss (corruption), Unavailable (I/O error, busy, try again)
// or Internal, with `what` failed and RocksDB's reason as the message.
inline absl::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  // RocksDB's NotFound says nothing more than "NotFound: ".
  if (status.IsNotFound()) return absl::NotFoundError(StrCat(what, " is missing"));
  std::string message = StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_ROCKS_STATUS_H_
