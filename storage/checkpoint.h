// Signed checkpoints in the C2SP tlog-checkpoint format, signed as a C2SP
// signed-note with Ed25519:
//
//   <origin>\n<tree size>\n<base64 root hash>\nchain <base64 chain head>\n
//   map <base64 subject map root>\n
//   \n
//   — <key name> <base64(key id || signature)>\n
//
// The key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || pubkey).
// The verifier key string is "<name>+<hex key id>+<base64(0x01 || pubkey)>",
// the format Go's golang.org/x/mod/sumdb/note reads.
// CheckpointSigner is immutable after Load and thread-safe.
#ifndef INNSYN_STORAGE_CHECKPOINT_H_
#define INNSYN_STORAGE_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/hash.h"

namespace innsyn::storage {

struct CheckpointBody {
  std::string origin;
  uint64_t tree_size = 0;
  Hash root_hash{};
  Hash chain_head{};  // chain_{tree_size-1}; zero for the empty tree
  // The subject map's root after entry tree_size-1 (storage/subject_map.h);
  // unset for a tree that ends inside a group commit, which has none.
  std::optional<Hash> map_root;
};

// The note text (body) of a checkpoint, newline-terminated.
std::string FormatCheckpointBody(const CheckpointBody& body);

class CheckpointSigner {
 public:
  // Loads the Ed25519 private key from `key_path` (PEM), creating it with
  // mode 0600 if it does not exist and `create` is set.
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> Load(const std::string& key_path,
                                                                std::string key_name, bool create);
  ~CheckpointSigner();

  // A signed note for `body`.
  absl::StatusOr<std::string> Sign(const CheckpointBody& body) const;
  // A signed note for any other newline-terminated `text`, such as an
  // innsyn report's statement. Refused for a text whose second line is a
  // decimal number, so that nothing signed here reads as a checkpoint.
  absl::StatusOr<std::string> SignStatement(std::string_view text) const;
  const std::string& verifier_key() const { return verifier_key_; }
  const std::string& key_name() const { return key_name_; }

 private:
  CheckpointSigner() = default;
  absl::StatusOr<std::string> SignText(std::string_view text) const;
  struct KeyDeleter {
    void operator()(void* key) const;
  };
  std::unique_ptr<void, KeyDeleter> key_;  // EVP_PKEY
  std::string key_name_;
  std::string key_id_;  // 4 bytes
  std::string verifier_key_;
};

// A parsed "<name>+<hex key id>+<base64(0x01 || pubkey)>" verifier key.
struct VerifierKey {
  std::string name;
  std::string key_id;      // 4 bytes
  std::string public_key;  // 32 bytes, Ed25519
};
// Fails with InvalidArgument unless `text` is a well-formed Ed25519 note
// verifier key whose key id matches its name and key.
absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text);

// Checks the note's Ed25519 signature against `verifier_key` and parses
// the checkpoint it carries; fails with a reason a person can act on.
absl::StatusOr<CheckpointBody> VerifyCheckpointNote(std::string_view note,
                                                    std::string_view verifier_key);
// Checks the note's Ed25519 signature against `verifier_key` and returns
// its text (everything before the signature block), unparsed.
absl::StatusOr<std::string> VerifyNoteText(std::string_view note, std::string_view verifier_key);

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_CHECKPOINT_H_
