// Key files in the data folder: written atomically with mode 0600 and never
// through a symlink; read only if no one but the owner can read them.
// Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_SECRET_FILE_H_
#define INNSYN_STORAGE_INTERNAL_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace innsyn::storage::internal {

inline constexpr size_t kMaxSecretFileBytes = 64 << 10;

// NotFound if missing; PermissionDenied if group or others may read it or
// it is not a regular file.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);
// Writes `contents` to `path` + ".tmp" (created afresh, 0600, no symlink
// followed), fsyncs it, renames it over `path` and fsyncs the folder.
absl::Status WriteSecretFile(const std::string& path, const std::string& contents);

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_SECRET_FILE_H_
