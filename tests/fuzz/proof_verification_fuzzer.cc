// Fuzzes the verification of inclusion and consistency proofs, as innsynctl
// runs it on whatever a server sends: sizes, indexes and hashes are all
// taken from the input. Verification must refuse nonsense, never crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "storage/hash.h"
#include "storage/merkle.h"

namespace {

uint64_t TakeUint64(const uint8_t*& data, size_t& size) {
  uint64_t value = 0;
  size_t n = size < 8 ? size : 8;
  if (n > 0) std::memcpy(&value, data, n);  // data may be null when size is 0
  data += n;
  size -= n;
  return value;
}

innsyn::storage::Hash TakeHash(const uint8_t*& data, size_t& size) {
  innsyn::storage::Hash hash{};
  size_t n = size < hash.size() ? size : hash.size();
  if (n > 0) std::memcpy(hash.data(), data, n);
  data += n;
  size -= n;
  return hash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using innsyn::storage::Hash;
  // Small sizes are where the edge cases are; large ones exercise shifts.
  const uint64_t mode = TakeUint64(data, size);
  uint64_t first = TakeUint64(data, size);
  uint64_t second = TakeUint64(data, size);
  if (mode & 1) {
    first %= 4096;
    second %= 4096;
  }
  const Hash leaf_or_first_root = TakeHash(data, size);
  const Hash root = TakeHash(data, size);
  std::vector<Hash> path;
  while (size > 0 && path.size() < 130) path.push_back(TakeHash(data, size));
  (void)innsyn::storage::VerifyInclusion(first, second, leaf_or_first_root, path, root);
  (void)innsyn::storage::VerifyConsistency(first, second, leaf_or_first_root, root, path);
  return 0;
}
