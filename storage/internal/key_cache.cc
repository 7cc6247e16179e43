#include "storage/internal/key_cache.h"

#include <utility>

#include "absl/strings/string_view.h"

namespace innsyn::storage::internal {
namespace {

// Debian's Abseil has a string_view of its own, which its maps look up by.
absl::string_view View(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace

KeyCache::KeyCache(size_t capacity) : generation_capacity_((capacity + 1) / 2) {}

std::shared_ptr<const DataKey> KeyCache::Find(std::string_view id) {
  if (auto found = recent_.find(View(id)); found != recent_.end()) return found->second;
  auto found = older_.find(View(id));
  if (found == older_.end()) return nullptr;
  std::shared_ptr<const DataKey> key = found->second;
  older_.erase(found);
  Insert(id, key);
  return key;
}

void KeyCache::Insert(std::string_view id, std::shared_ptr<const DataKey> key) {
  if (generation_capacity_ == 0) return;
  if (recent_.size() >= generation_capacity_ && !recent_.contains(View(id))) {
    older_ = std::move(recent_);
    recent_ = Generation();
  }
  older_.erase(View(id));
  recent_.insert_or_assign(std::string(id), std::move(key));
}

void KeyCache::Erase(std::string_view id) {
  recent_.erase(View(id));
  older_.erase(View(id));
}

}  // namespace innsyn::storage::internal
