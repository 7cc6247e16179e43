// Authenticated encryption of ledger payloads and of wrapped keys:
// AES-256-GCM with a 96-bit nonce and a 128-bit tag (OpenSSL EVP).
//
// A sealed value is nonce (12 bytes) || ciphertext || tag (16 bytes); the
// ciphertext is as long as the plaintext. The associated data is not stored
// but bound in: the same bytes must be given to open it again, so a value
// copied under another key or id does not open.
//
// Thread safety: the functions are safe to call from any thread; each
// thread keeps its own cipher contexts. A DataKey is immutable once made.
#ifndef INNSYN_STORAGE_SEALING_H_
#define INNSYN_STORAGE_SEALING_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace innsyn::storage {

inline constexpr size_t kDataKeyBytes = 32;
inline constexpr size_t kSealNonceBytes = 12;
inline constexpr size_t kSealTagBytes = 16;
// What Seal adds to the plaintext's length.
inline constexpr size_t kSealOverheadBytes = kSealNonceBytes + kSealTagBytes;

// A 256-bit AES key. Its bytes are wiped when it is destroyed or moved
// from, so a key leaves no copy behind in freed memory; share one through
// std::shared_ptr<const DataKey> rather than copying it.
class DataKey {
 public:
  // A key from OpenSSL's private DRBG; aborts if it has no randomness.
  static DataKey Random();
  // InvalidArgument unless `bytes` is kDataKeyBytes long.
  static absl::StatusOr<DataKey> FromBytes(std::string_view bytes);

  DataKey(DataKey&& other) noexcept;
  DataKey& operator=(DataKey&& other) noexcept;
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  ~DataKey();

  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

 private:
  DataKey() = default;
  std::array<unsigned char, kDataKeyBytes> bytes_{};
};

// Encrypts and authenticates `plaintext`, and authenticates `aad`, under
// `key` with a fresh random nonce.
std::string Seal(const DataKey& key, std::string_view plaintext, std::string_view aad);
// The same with the given kSealNonceBytes-byte nonce, for known-answer
// tests. A nonce must never be used twice under one key.
std::string SealWithNonce(const DataKey& key, std::string_view nonce, std::string_view plaintext,
                          std::string_view aad);
// The plaintext of a value made by Seal. DataLoss when it does not open
// (wrong key, changed bytes or changed aad); InvalidArgument when it is
// shorter than a nonce and a tag.
absl::StatusOr<std::string> Unseal(const DataKey& key, std::string_view sealed,
                                   std::string_view aad);

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_SEALING_H_
