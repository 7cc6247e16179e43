// The key store's bounded memory of unwrapped data keys. Two generations
// stand in for least-recently-used order: new keys go into the recent one;
// when it is full it becomes the older one and the older one is dropped,
// and a key found in the older one moves back into the recent one. At most
// `capacity` keys are held (rounded up to an even number), the recently
// used ones surviving.
//
// Not thread-safe: the KeyStore holds its mutex around every call. Private
// to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_KEY_CACHE_H_
#define INNSYN_STORAGE_INTERNAL_KEY_CACHE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "storage/sealing.h"

namespace innsyn::storage::internal {

class KeyCache {
 public:
  // Holds nothing with a capacity of 0.
  explicit KeyCache(size_t capacity);

  // The key for `id`, or nullptr.
  std::shared_ptr<const DataKey> Find(std::string_view id);
  void Insert(std::string_view id, std::shared_ptr<const DataKey> key);
  void Erase(std::string_view id);
  size_t size() const { return recent_.size() + older_.size(); }

 private:
  using Generation = absl::flat_hash_map<std::string, std::shared_ptr<const DataKey>>;

  const size_t generation_capacity_;
  Generation recent_;
  Generation older_;
};

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_KEY_CACHE_H_
