// Order-independent digests of the index and event-id keys, so that
// verification can compare the keys the entries imply with the keys stored
// without holding either set in memory. Private to storage/.
//
// A digest is the sum of the SipHash-2-4 values of a set's keys, and their
// count. The SipHash key is drawn at random for each verification, so a set
// changed beforehand sums the same only by chance (about 2^-64).
#ifndef INNSYN_STORAGE_INTERNAL_INDEX_DIGESTS_H_
#define INNSYN_STORAGE_INTERNAL_INDEX_DIGESTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "innsyn/v1/ledger.pb.h"
#include "storage/internal/derived_keys.h"
#include "storage/internal/siphash.h"

namespace innsyn::storage::internal {

// A key for one verification, drawn from OpenSSL's random generator.
SipKey RandomDigestKey();

struct KeySetDigest {
  uint64_t sum = 0;
  uint64_t count = 0;

  void Add(const SipKey& key, std::string_view member) {
    sum += SipHash24(key, member);
    ++count;
  }
  bool operator==(const KeySetDigest&) const = default;
};

// One digest for each kind of derived key.
using IndexDigests = std::array<KeySetDigest, kDerivedKinds>;

// The digests of the keys that entries imply, one entry at a time. Not
// thread-safe: one reader fills it.
class ExpectedKeys {
 public:
  explicit ExpectedKeys(const SipKey& key) : key_(key) {}

  // Adds the index and event-id keys the entry with this clear header
  // must have.
  void Add(const v1::SealedEntry& header);
  const IndexDigests& digests() const { return digests_; }

 private:
  const SipKey key_;
  std::string scratch_key_;  // reused between entries, so that a key need not allocate
  std::string scratch_key_and_value_;
  IndexDigests digests_;
};

// The kind of a stored index key, by its first byte; nullopt if unknown.
std::optional<DerivedKind> IndexKeyKind(char prefix);

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_INDEX_DIGESTS_H_
