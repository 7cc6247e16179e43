#include "storage/pseudonym.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>


#include "storage/internal/secret_file.h"
#include "storage/strings.h"

namespace innsyn::storage {

absl::StatusOr<std::unique_ptr<Pseudonymizer>> Pseudonymizer::Load(
    const std::string& key_path, bool create) {
  absl::StatusOr<std::string> key = internal::ReadSecretFile(key_path);
  if (key.ok()) {
    if (key->size() != kKeyBytes) {
      return absl::DataLossError(StrCat(key_path, ": pseudonym key must be ", kKeyBytes, " bytes"));
    }
    return std::unique_ptr<Pseudonymizer>(new Pseudonymizer(*std::move(key)));
  }
  if (!absl::IsNotFound(key.status())) return key.status();
  if (!create) return absl::NotFoundError(StrCat(key_path, ": pseudonym key missing"));
  std::string fresh(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(fresh.size())) !=
      1) {
    return absl::InternalError("no randomness for the pseudonym key");
  }
  if (absl::Status s = internal::WriteSecretFile(key_path, fresh); !s.ok()) return s;
  return std::unique_ptr<Pseudonymizer>(new Pseudonymizer(std::move(fresh)));
}

std::string Pseudonymizer::Pseudonym(PseudonymDomain domain, std::string_view id) const {
  std::string message(1, static_cast<char>(domain));
  message.append(id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), kPseudonymBytes);
}

}  // namespace innsyn::storage
