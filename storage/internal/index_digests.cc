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

void ExpectedKeys::Add(const v1::LedgerEntry& entry, uint64_t seq) {
  ForEachDerivedKey(
      entry, seq,
      [&](PseudonymDomain domain, const std::string& id) -> const std::string& {
        return Pseudonym(domain, id);
      },
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

const std::string& ExpectedKeys::Pseudonym(PseudonymDomain domain, const std::string& id) {
  auto& cache = domain == PseudonymDomain::kSubject ? subjects_ : actors_;
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedIds) cache.clear();
  return cache.emplace(id, pseudonymizer_.Pseudonym(domain, id)).first->second;
}

std::optional<DerivedKind> IndexKeyKind(char prefix) {
  switch (prefix) {
    case kSubjectIndex: return kSubjectKeys;
    case kActorIndex: return kActorKeys;
    case kSubjectQueryIndex: return kQueryKeys;
    case kAlertIndex: return kAlertKeys;
    default: return std::nullopt;
  }
}

}  // namespace innsyn::storage::internal
