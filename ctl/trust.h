// Which checkpoint signatures innsynctl believes. A verifier key pinned with
// --key or --key-file (for example <data-dir>/checkpoint_key.pub, copied
// once by the auditor) makes the proofs mean something against a server
// that lies; without it, innsynctl falls back to the key the server sends
// and says so on stderr, which only catches accidents, not tampering.
// A Trust is used by one thread.
#ifndef INNSYN_CTL_TRUST_H_
#define INNSYN_CTL_TRUST_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ctl/client.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/checkpoint.h"

namespace innsyn::ctl {

struct TrustFlags {
  std::string key;       // "name+hex key id+base64 key"
  std::string key_file;  // a file holding that string
};

struct TrustOptions {
  CLI::Option* key;
  CLI::Option* key_file;
};
// Registers --key and --key-file; returns them for further constraints.
TrustOptions AddTrustFlags(CLI::App& command, TrustFlags& flags);
// The same for a command that checks offline, which needs one of them: it
// says so in the command's help. RequirePinnedKey is its check.
void AddOfflineTrustFlags(CLI::App& command, TrustFlags& flags);
// InvalidArgument ("`command` needs --key-file or --key") if neither is set.
absl::Status RequirePinnedKey(const TrustFlags& flags, std::string_view command);

// A checkpoint whose note verified; trust `body`, which the signature
// covers, rather than the message's convenience fields.
struct VerifiedCheckpoint {
  v1::Checkpoint checkpoint;
  storage::CheckpointBody body;
};

class Trust {
 public:
  // Reads and checks the pinned key, if any; InvalidArgument for a key that
  // is not a verifier key (a usage error, not a verification failure).
  static absl::StatusOr<Trust> FromFlags(const TrustFlags& flags);

  bool pinned() const { return !pinned_key_.empty(); }
  const std::string& pinned_key() const { return pinned_key_; }
  // The pinned key, or else the server's (warning once that it is not pinned).
  std::string KeyFor(const v1::Checkpoint& checkpoint);

  // Checks `note` against KeyFor(from_server); a bad note is a verification
  // failure whose message says which key was used.
  absl::StatusOr<storage::CheckpointBody> VerifyNote(std::string_view note,
                                                     const v1::Checkpoint& from_server);

  // GetCheckpoint(tree_size; 0 for the latest) and verify it; a note for a
  // size other than the one asked for is a verification failure.
  absl::StatusOr<VerifiedCheckpoint> FetchCheckpoint(Client& client, uint64_t tree_size);

 private:
  explicit Trust(std::string pinned_key) : pinned_key_(std::move(pinned_key)) {}

  std::string pinned_key_;
  bool warned_ = false;
};

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_TRUST_H_
