// SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit PRF: fast on short
// inputs. Verification sums it over a set of keys under a key drawn at
// random for that run, so that whoever changed the files beforehand cannot
// aim for an equal sum. Private to storage/.
#ifndef INNSYN_STORAGE_INTERNAL_SIPHASH_H_
#define INNSYN_STORAGE_INTERNAL_SIPHASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace innsyn::storage::internal {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

struct SipState {
  uint64_t v0, v1, v2, v3;

  static uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
  [[gnu::always_inline]] inline void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }
  [[gnu::always_inline]] inline void Absorb(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

inline uint64_t SipHash24(const SipKey& key, std::string_view data) {
  SipState s{0x736f6d6570736575ULL ^ key.k0, 0x646f72616e646f6dULL ^ key.k1,
             0x6c7967656e657261ULL ^ key.k0, 0x7465646279746573ULL ^ key.k1};
  const size_t full = data.size() / 8 * 8;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m;
    std::memcpy(&m, data.data() + i, 8);  // little-endian hosts only (x86-64, arm64)
    s.Absorb(m);
  }
  uint64_t last = static_cast<uint64_t>(data.size()) << 56;
  for (size_t i = full; i < data.size(); ++i) {
    last |= static_cast<uint64_t>(static_cast<uint8_t>(data[i])) << (8 * (i - full));
  }
  s.Absorb(last);
  s.v2 ^= 0xff;
  s.Round();
  s.Round();
  s.Round();
  s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace innsyn::storage::internal

#endif  // INNSYN_STORAGE_INTERNAL_SIPHASH_H_
