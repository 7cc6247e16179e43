#include "storage/pseudonym.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "base/strings.h"
#include "storage/internal/secret_file.h"

namespace innsyn::storage {

absl::StatusOr<std::unique_ptr<Pseudonymizer>> Pseudonymizer::Load(const std::string& key_path,
                                                                   bool create) {
  absl::StatusOr<std::string> key = internal::ReadSecretFile(key_path);
  if (key.ok()) {
    if (key->size() != kKeyBytes) {
      return absl::DataLossError(StrCat(key_path, ": pseudonym key must be ", kKeyBytes, " bytes"));
    }
    std::unique_ptr<Pseudonymizer> loaded(new Pseudonymizer(*key));
    OPENSSL_cleanse(key->data(), key->size());
    return loaded;
  }
  if (!absl::IsNotFound(key.status())) return key.status();
  if (!create) return absl::NotFoundError(StrCat(key_path, ": pseudonym key missing"));
  std::string fresh(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(fresh.size())) !=
      1) {
    return absl::InternalError("no randomness for the pseudonym key");
  }
  if (absl::Status s = internal::WriteSecretFile(key_path, fresh); !s.ok()) return s;
  std::unique_ptr<Pseudonymizer> made(new Pseudonymizer(fresh));
  OPENSSL_cleanse(fresh.data(), fresh.size());
  return made;
}

namespace {

constexpr size_t kSha256BlockBytes = 64;
constexpr uint8_t kInnerPad = 0x36;
constexpr uint8_t kOuterPad = 0x5c;

EVP_MD_CTX* KeyedState(const std::string& key, uint8_t pad) {
  uint8_t block[kSha256BlockBytes] = {};
  std::memcpy(block, key.data(), key.size());  // key is shorter than a block
  for (uint8_t& byte : block) byte ^= pad;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (context == nullptr || EVP_DigestInit_ex(context, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context, block, sizeof(block)) != 1) {
    std::abort();  // OpenSSL without SHA-256 cannot keep a ledger.
  }
  OPENSSL_cleanse(block, sizeof(block));
  return context;
}

}  // namespace

void Pseudonymizer::DigestDeleter::operator()(void* context) const {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context));
}

Pseudonymizer::Pseudonymizer(const std::string& key)
    : inner_(KeyedState(key, kInnerPad)), outer_(KeyedState(key, kOuterPad)) {}

Pseudonymizer::~Pseudonymizer() = default;

std::string Pseudonymizer::Pseudonym(PseudonymDomain domain, std::string_view id) const {
  thread_local struct Work {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    ~Work() { EVP_MD_CTX_free(context); }
  } work;
  const char domain_byte = static_cast<char>(domain);
  unsigned char inner_digest[EVP_MAX_MD_SIZE];
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX_copy_ex(work.context, static_cast<EVP_MD_CTX*>(inner_.get()));
  EVP_DigestUpdate(work.context, &domain_byte, 1);
  EVP_DigestUpdate(work.context, id.data(), id.size());
  EVP_DigestFinal_ex(work.context, inner_digest, &length);
  EVP_MD_CTX_copy_ex(work.context, static_cast<EVP_MD_CTX*>(outer_.get()));
  EVP_DigestUpdate(work.context, inner_digest, length);
  EVP_DigestFinal_ex(work.context, mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), kPseudonymBytes);
}

}  // namespace innsyn::storage
