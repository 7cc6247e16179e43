#include "storage/pseudonym.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>

#include "storage/strings.h"

namespace innsyn::storage {

absl::StatusOr<std::unique_ptr<Pseudonymizer>> Pseudonymizer::Load(
    const std::string& key_path, bool create) {
  std::string key(kKeyBytes, '\0');
  int fd = ::open(key_path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(kKeyBytes)) {
      return absl::DataLossError(StrCat(key_path, ": pseudonym key must be ", kKeyBytes, " bytes"));
    }
    return std::unique_ptr<Pseudonymizer>(new Pseudonymizer(std::move(key)));
  }
  if (!create) return absl::NotFoundError(StrCat(key_path, ": pseudonym key missing"));
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("no randomness for the pseudonym key");
  }
  std::string tmp = key_path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(StrCat("cannot create ", tmp));
  bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), key_path.c_str()) != 0) {
    return absl::InternalError(StrCat("cannot write ", key_path));
  }
  return std::unique_ptr<Pseudonymizer>(new Pseudonymizer(std::move(key)));
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
