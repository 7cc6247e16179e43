#include "storage/internal/index_digests.h"

#include <cstdlib>

#include "openssl/rand.h"
#include "storage/internal/schema.h"

namespace innsyn::storage::internal {

SipKey RandomDigestKey() {
  SipKey key;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof(key)) != 1) std::abort();
  return key;
}

void ExpectedKeys::Add(const v1::SealedEntry& header) {
  ForEachDerivedKey(
      header,
      [&](DerivedKind kind, std::string_view derived, std::string_view value) {
        if (value.empty()) {
          digests_[kind].Add(key_, derived);
          return;
        }
        scratch_key_and_value_.assign(derived);
        scratch_key_and_value_.append(value);
        digests_[kind].Add(key_, scratch_key_and_value_);
      },
      scratch_key_);
}

std::optional<DerivedKind> IndexKeyKind(char prefix) {
  switch (prefix) {
    case kSubjectIndex: return kSubjectKeys;
    case kActorIndex: return kActorKeys;
    case kSubjectQueryIndex: return kQueryKeys;
    case kAlertIndex: return kAlertKeys;
    case kDataKeyIndex: return kDataKeyKeys;
    case kErasureIndex: return kErasureKeys;
    case kBaselineIndex: return kBaselineKeys;
    default: return std::nullopt;
  }
}

}  // namespace innsyn::storage::internal
