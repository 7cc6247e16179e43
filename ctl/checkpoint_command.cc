// `innsynctl checkpoint`: fetches a signed checkpoint, verifies it and shows
// it; --out saves the note byte for byte, for a later `prove --since`.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/trust.h"
#include "storage/hash.h"

namespace innsyn::ctl {
namespace {

struct CheckpointFlags {
  TrustFlags trust;
  uint64_t tree_size = 0;
  std::string out;
};

absl::Status WriteNote(const std::string& path, const std::string& note) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << note;
  file.close();
  if (!file) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int RunCheckpoint(const GlobalOptions& global, const CheckpointFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  Client client(global);
  absl::StatusOr<VerifiedCheckpoint> verified = trust->FetchCheckpoint(client, flags.tree_size);
  if (!verified.ok()) return ReportError(verified.status());
  const std::string& note = verified->checkpoint.note();
  fmt::print("{}", note);
  fmt::print("\nverifier key: {}{}\n", trust->KeyFor(verified->checkpoint),
             trust->pinned() ? " (pinned)" : " (from the server, not pinned)");
  fmt::print("verified: tree size {}, root {}\n", verified->body.tree_size,
             storage::ToHex(verified->body.root_hash));
  if (flags.out.empty()) return kExitOk;
  if (absl::Status s = WriteNote(flags.out, note); !s.ok()) return ReportError(s);
  fmt::print("note written to {}\n", flags.out);
  return kExitOk;
}

}  // namespace

void AddCheckpointCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<CheckpointFlags>();
  CLI::App* command =
      app.add_subcommand("checkpoint", "Fetch, verify and show a signed checkpoint (tree head)");
  command->add_option("--out", flags->out, "Also write the note to this file");
  command->add_option("--size", flags->tree_size, "Tree size to sign (default: the latest)");
  AddTrustFlags(*command, flags->trust);
  command->footer("Exit code 1 if the note's signature does not verify, 2 on usage or RPC errors.");
  command->callback(
      [flags, &context] { context.exit_code = RunCheckpoint(context.global, *flags); });
}

}  // namespace innsyn::ctl
