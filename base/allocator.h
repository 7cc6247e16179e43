// What tcmalloc holds, when innsyn's programs are linked with it (README,
// "The allocator"). Without tcmalloc (the sanitizer builds) there is
// nothing to read.
#ifndef INNSYN_BASE_ALLOCATOR_H_
#define INNSYN_BASE_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>

// gperftools' C interface (malloc_extension_c.h), declared weak: null
// unless tcmalloc is linked in.
extern "C" int MallocExtension_GetNumericProperty(const char* property, size_t* value)
    __attribute__((weak));

namespace innsyn {

struct AllocatorStats {
  uint64_t allocated = 0;    // in use by the program
  uint64_t free_pages = 0;   // whole free pages, not yet returned to the system
  uint64_t free_cached = 0;  // small free blocks in its central and thread caches
};

// Nullopt without tcmalloc.
inline std::optional<AllocatorStats> ReadAllocatorStats() {
  if (MallocExtension_GetNumericProperty == nullptr) return std::nullopt;
  auto read = [](const char* name) -> uint64_t {
    size_t value = 0;
    return MallocExtension_GetNumericProperty(name, &value) != 0 ? value : 0;
  };
  AllocatorStats stats;
  stats.allocated = read("generic.current_allocated_bytes");
  stats.free_pages = read("tcmalloc.pageheap_free_bytes");
  stats.free_cached = read("tcmalloc.central_cache_free_bytes") +
                      read("tcmalloc.transfer_cache_free_bytes") +
                      read("tcmalloc.thread_cache_free_bytes");
  return stats;
}

}  // namespace innsyn

#endif  // INNSYN_BASE_ALLOCATOR_H_
