// Keyed pseudonyms for index keys: HMAC-SHA-256 under a secret key kept in
// the data folder (mode 0600), so that index files copied without the key
// reveal no identity number or account name. Immutable and thread-safe.
#ifndef INNSYN_STORAGE_PSEUDONYM_H_
#define INNSYN_STORAGE_PSEUDONYM_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace innsyn::storage {

// What an identifier names; a subject and an actor with the same id get
// different pseudonyms.
// kEvent names an event: system '/' instance '\0' event_id.
enum class PseudonymDomain : char { kSubject = 's', kActor = 'a', kEvent = 'e' };

class Pseudonymizer {
 public:
  static constexpr size_t kPseudonymBytes = 16;
  static constexpr size_t kKeyBytes = 32;

  // Reads the key from `key_path`, creating a random one (mode 0600) if the
  // file is missing and `create` is set.
  static absl::StatusOr<std::unique_ptr<Pseudonymizer>> Load(const std::string& key_path,
                                                             bool create);
  // kPseudonymBytes bytes: the first bytes of HMAC-SHA-256(key, domain || id).
  std::string Pseudonym(PseudonymDomain domain, std::string_view id) const;

  ~Pseudonymizer();

 private:
  explicit Pseudonymizer(const std::string& key);
  struct DigestDeleter {
    void operator()(void* context) const;
  };
  // SHA-256 states after absorbing the key XOR ipad and XOR opad (RFC 2104),
  // copied for each pseudonym instead of keying HMAC afresh every time.
  std::unique_ptr<void, DigestDeleter> inner_;
  std::unique_ptr<void, DigestDeleter> outer_;
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_PSEUDONYM_H_
