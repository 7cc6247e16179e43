// Hashing of the ledger, exactly as a verifier with independent code must
// compute it (RFC 6962 / RFC 9162 section 2.1, plus innsyn's hash chain):
//   leaf  = SHA-256(0x00 || entry bytes)
//   node  = SHA-256(0x01 || left || right)
//   chain_n = SHA-256(chain_{n-1} || leaf_n), chain_{-1} = 32 zero bytes.
// All functions are pure and thread-safe.
#ifndef INNSYN_STORAGE_HASH_H_
#define INNSYN_STORAGE_HASH_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace innsyn::storage {

inline constexpr size_t kHashBytes = 32;
using Hash = std::array<uint8_t, kHashBytes>;

Hash Sha256(std::string_view data);
// SHA-256 of the parts one after the other, without joining them.
Hash Sha256(std::initializer_list<std::string_view> parts);
Hash LeafHash(std::string_view entry_bytes);
Hash NodeHash(const Hash& left, const Hash& right);
Hash ChainHash(const Hash& previous_chain, const Hash& leaf);
// SHA-256 of the empty string: the root of the empty tree.
Hash EmptyTreeRoot();
inline constexpr Hash kZeroHash{};

std::string_view AsBytes(const Hash& hash);
// Fails unless `bytes` is exactly 32 bytes.
std::optional<Hash> HashFromBytes(std::string_view bytes);
std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Hash& hash) { return ToHex(AsBytes(hash)); }
std::optional<std::string> FromHex(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_HASH_H_
