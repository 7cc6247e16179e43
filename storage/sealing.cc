#include "storage/sealing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/strings.h"

namespace innsyn::storage {
namespace {

// EVP takes lengths as int; longer inputs go through in pieces this big.
constexpr size_t kMaxUpdateBytes = size_t{1} << 30;

const EVP_CIPHER* Aes256Gcm() {
  // Fetched once: a fetch per call would look the algorithm up in the
  // provider tables every time.
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) std::abort();  // OpenSSL without AES-GCM cannot keep a ledger.
  return cipher;
}

// A cipher context bound to AES-256-GCM for one direction, made once per
// thread. Passing no cipher to the per-call init keeps the provider's
// context and only sets the key and nonce.
class ThreadCipher {
 public:
  explicit ThreadCipher(int encrypt) : context_(EVP_CIPHER_CTX_new()) {
    if (context_ == nullptr ||
        EVP_CipherInit_ex2(context_, Aes256Gcm(), nullptr, nullptr, encrypt, nullptr) != 1) {
      std::abort();
    }
  }
  ~ThreadCipher() { EVP_CIPHER_CTX_free(context_); }
  ThreadCipher(const ThreadCipher&) = delete;
  ThreadCipher& operator=(const ThreadCipher&) = delete;
  EVP_CIPHER_CTX* get() { return context_; }

 private:
  EVP_CIPHER_CTX* context_;
};

EVP_CIPHER_CTX* SealContext() {
  thread_local ThreadCipher cipher(/*encrypt=*/1);
  return cipher.get();
}

EVP_CIPHER_CTX* UnsealContext() {
  thread_local ThreadCipher cipher(/*encrypt=*/0);
  return cipher.get();
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// Feeds `aad` to the context as associated data.
bool AddAad(EVP_CIPHER_CTX* context, std::string_view aad) {
  int ignored = 0;
  for (size_t done = 0; done < aad.size(); done += kMaxUpdateBytes) {
    const size_t piece = std::min(kMaxUpdateBytes, aad.size() - done);
    if (EVP_CipherUpdate(context, nullptr, &ignored, Bytes(aad) + done, static_cast<int>(piece)) !=
        1) {
      return false;
    }
  }
  return true;
}

// Runs `input` through the context into `output` (as long as `input`; GCM
// is a stream mode).
bool Crypt(EVP_CIPHER_CTX* context, std::string_view input, unsigned char* output) {
  for (size_t done = 0; done < input.size(); done += kMaxUpdateBytes) {
    const size_t piece = std::min(kMaxUpdateBytes, input.size() - done);
    int written = 0;
    if (EVP_CipherUpdate(context, output + done, &written, Bytes(input) + done,
                         static_cast<int>(piece)) != 1 ||
        static_cast<size_t>(written) != piece) {
      return false;
    }
  }
  return true;
}

// Counts forks, so that a child process never hands out random bytes its
// parent drew (the two would then share nonces and keys).
std::atomic<uint64_t> fork_generation{1};

void CountFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

uint64_t ForkGeneration() {
  static const bool counting = pthread_atfork(nullptr, nullptr, CountFork) == 0;
  if (!counting) std::abort();
  return fork_generation.load(std::memory_order_relaxed);
}

// Random bytes drawn from one of OpenSSL's DRBGs a block at a time. One
// call of the DRBG per 12-byte nonce costs more than sealing the entry (it
// locks, checks for a fork and updates its state on every call); one call
// per 4 KiB does not. Each thread keeps its own block, and every byte
// handed out is wiped from it at once.
class RandomBlock {
 public:
  using Source = int (*)(unsigned char*, int);
  explicit RandomBlock(Source source) : source_(source) {}
  ~RandomBlock() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  RandomBlock(const RandomBlock&) = delete;
  RandomBlock& operator=(const RandomBlock&) = delete;

  void Take(unsigned char* out, size_t size) {
    const uint64_t generation = ForkGeneration();
    if (generation != generation_ || size > bytes_.size() - used_) {
      // No randomness: no nonce and no key may be made.
      if (source_(bytes_.data(), static_cast<int>(bytes_.size())) != 1) std::abort();
      used_ = 0;
      generation_ = generation;
    }
    std::memcpy(out, bytes_.data() + used_, size);
    OPENSSL_cleanse(bytes_.data() + used_, size);
    used_ += size;
  }

 private:
  const Source source_;
  std::array<unsigned char, 4096> bytes_{};
  size_t used_ = bytes_.size();
  uint64_t generation_ = 0;
};

// Nonces come from the public DRBG, keys from the private one, as OpenSSL
// advises for values that must stay secret.
void RandomNonce(unsigned char (&nonce)[kSealNonceBytes]) {
  thread_local RandomBlock block(RAND_bytes);
  block.Take(nonce, sizeof(nonce));
}

}  // namespace

DataKey DataKey::Random() {
  thread_local RandomBlock block(RAND_priv_bytes);
  DataKey key;
  block.Take(key.bytes_.data(), key.bytes_.size());
  return key;
}

absl::StatusOr<DataKey> DataKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kDataKeyBytes) {
    return absl::InvalidArgumentError(
        StrCat("a data key is ", kDataKeyBytes, " bytes, not ", bytes.size()));
  }
  DataKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kDataKeyBytes);
  return key;
}

DataKey::DataKey(DataKey&& other) noexcept : bytes_(other.bytes_) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
}

DataKey& DataKey::operator=(DataKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

DataKey::~DataKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string Seal(const DataKey& key, std::string_view plaintext, std::string_view aad) {
  unsigned char nonce[kSealNonceBytes];
  RandomNonce(nonce);
  return SealWithNonce(key, std::string_view(reinterpret_cast<const char*>(nonce), sizeof(nonce)),
                       plaintext, aad);
}

std::string SealWithNonce(const DataKey& key, std::string_view nonce, std::string_view plaintext,
                          std::string_view aad) {
  if (nonce.size() != kSealNonceBytes) std::abort();  // a caller's bug, never data
  std::string sealed(kSealNonceBytes + plaintext.size() + kSealTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  std::memcpy(out, nonce.data(), kSealNonceBytes);
  EVP_CIPHER_CTX* context = SealContext();
  int final_bytes = 0;
  if (EVP_CipherInit_ex2(context, nullptr, Bytes(key.bytes()), Bytes(nonce), 1, nullptr) != 1 ||
      !AddAad(context, aad) || !Crypt(context, plaintext, out + kSealNonceBytes) ||
      EVP_CipherFinal_ex(context, out + kSealNonceBytes + plaintext.size(), &final_bytes) != 1 ||
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, kSealTagBytes,
                          out + kSealNonceBytes + plaintext.size()) != 1) {
    std::abort();  // encryption with a valid key and nonce cannot fail
  }
  return sealed;
}

absl::StatusOr<std::string> Unseal(const DataKey& key, std::string_view sealed,
                                   std::string_view aad) {
  if (sealed.size() < kSealOverheadBytes) {
    return absl::InvalidArgumentError(
        StrCat("a sealed value is at least ", kSealOverheadBytes, " bytes, not ", sealed.size()));
  }
  const std::string_view nonce = sealed.substr(0, kSealNonceBytes);
  const std::string_view ciphertext =
      sealed.substr(kSealNonceBytes, sealed.size() - kSealOverheadBytes);
  std::string tag(sealed.substr(sealed.size() - kSealTagBytes));
  std::string plaintext(ciphertext.size(), '\0');
  EVP_CIPHER_CTX* context = UnsealContext();
  int final_bytes = 0;
  const bool opened =
      EVP_CipherInit_ex2(context, nullptr, Bytes(key.bytes()), Bytes(nonce), 0, nullptr) == 1 &&
      AddAad(context, aad) &&
      Crypt(context, ciphertext, reinterpret_cast<unsigned char*>(plaintext.data())) &&
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, kSealTagBytes, tag.data()) == 1 &&
      EVP_CipherFinal_ex(context, reinterpret_cast<unsigned char*>(plaintext.data()),
                         &final_bytes) == 1;
  if (!opened) {
    // What was decrypted is not authentic; it is not handed out.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::DataLossError(
        "sealed value does not open: wrong key, or its bytes or associated data changed");
  }
  return plaintext;
}

}  // namespace innsyn::storage
