#include "ctl/trust.h"

#include <fmt/format.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/checkpoint.h"
#include "storage/hash.h"

namespace innsyn::ctl {
namespace {

// Only the form: a wrong key is found when a signature fails to verify.
absl::Status CheckKeyShape(const std::string& key) {
  if (absl::StatusOr<storage::VerifierKey> parsed = storage::ParseVerifierKey(key); !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", key, "\" is not an Ed25519 verifier key (name+<8 hex digits>+<base64>): ",
        parsed.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

TrustOptions AddTrustFlags(CLI::App& command, TrustFlags& flags) {
  CLI::Option* key = command.add_option(
      "--key", flags.key, "Pinned verifier key name+keyid+base64 (default: trust the server's)");
  CLI::Option* key_file =
      command.add_option("--key-file", flags.key_file,
                         "File with the pinned verifier key, e.g. <data-dir>/checkpoint_key.pub");
  key->excludes(key_file);
  return {key, key_file};
}

void AddOfflineTrustFlags(CLI::App& command, TrustFlags& flags) {
  AddTrustFlags(command, flags);
  command.footer(
      "Needs no server. Give the clinic's verifier key (checkpoint_key.pub) with --key-file "
      "or --key.");
}

absl::Status RequirePinnedKey(const TrustFlags& flags, std::string_view command) {
  if (!flags.key.empty() || !flags.key_file.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(command), " needs --key-file or --key"));
}

absl::StatusOr<Trust> Trust::FromFlags(const TrustFlags& flags) {
  std::string key = flags.key;
  if (!flags.key_file.empty()) {
    absl::StatusOr<std::string> read = ReadWholeFile(flags.key_file);
    if (!read.ok()) return read.status();
    key = std::string(absl::StripAsciiWhitespace(*read));
  }
  if (!key.empty()) {
    if (absl::Status s = CheckKeyShape(key); !s.ok()) return s;
  }
  return Trust(std::move(key));
}

std::string Trust::KeyFor(const v1::Checkpoint& checkpoint) {
  if (pinned()) return pinned_key_;
  if (!warned_) {
    fmt::print(stderr,
               "innsynctl: warning: verifier key not pinned (--key or --key-file); trusting the "
               "key the server sent: {}\n",
               checkpoint.verifier_key());
    warned_ = true;
  }
  return checkpoint.verifier_key();
}

absl::StatusOr<storage::CheckpointBody> Trust::VerifyNote(std::string_view note,
                                                          const v1::Checkpoint& from_server) {
  std::string key = KeyFor(from_server);
  absl::StatusOr<storage::CheckpointBody> body = storage::VerifyCheckpointNote(note, key);
  if (body.ok()) return body;
  std::string failure = absl::StrCat("checkpoint does not verify against ",
                                     pinned() ? "the pinned key " : "the server's key ", key, ": ",
                                     body.status().message());
  if (pinned() && from_server.verifier_key() != key) {
    absl::StrAppend(&failure, " (the server's key is ", from_server.verifier_key(), ")");
  }
  return VerificationFailure(failure);
}

absl::StatusOr<VerifiedCheckpoint> Trust::FetchCheckpoint(Client& client, uint64_t tree_size) {
  v1::GetCheckpointRequest request;
  request.set_tree_size(tree_size);
  absl::StatusOr<v1::Checkpoint> checkpoint = client.GetCheckpoint(request);
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<storage::CheckpointBody> body = VerifyNote(checkpoint->note(), *checkpoint);
  if (!body.ok()) return body.status();
  if (tree_size != 0 && body->tree_size != tree_size) {
    return VerificationFailure(absl::StrCat("asked for a checkpoint of size ", tree_size,
                                            ", the server signed size ", body->tree_size));
  }
  return VerifiedCheckpoint{*std::move(checkpoint), *std::move(body)};
}

}  // namespace innsyn::ctl
