// `innsynctl verify`: recomputes every hash of the ledger, either on the
// server (VerifyLedger) or, with --data-dir, here on a stopped daemon's
// files, so that a check does not depend on the running server's honesty.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/trust.h"
#include "storage/ledger.h"
#include "storage/merkle.h"

namespace innsyn::ctl {
namespace {

// Written by the ledger beside its database; its key name is the origin.
constexpr char kVerifierKeyFile[] = "checkpoint_key.pub";

// Leaf hashes fetched per GetLeafHashes call (2 MiB).
constexpr uint32_t kLeafHashesPerCall = 65536;

struct VerifyFlags {
  TrustFlags trust;
  std::string data_dir;
  std::string origin;
  bool skip_indexes = false;
  bool leaves = false;
};

// One report format for both ways of verifying.
int PrintReport(const storage::VerifyReport& report) {
  if (!report.ok) {
    if (report.first_bad_seq) {
      fmt::print("FAILED at seq {}: {}\n", *report.first_bad_seq, report.problem);
    } else {
      fmt::print("FAILED: {}\n", report.problem);
    }
    return kExitFailed;
  }
  const char* indexes = report.indexes_checked ? ", indexes complete" : "";
  if (report.checkpoint_size == 0) {
    fmt::print("OK: {} entries verified (no signed checkpoint to check against){} in {:.3f} s\n",
               report.entries_checked, indexes, report.seconds);
  } else {
    fmt::print("OK: {} entries verified against signed checkpoint of size {}{} in {:.3f} s\n",
               report.entries_checked, report.checkpoint_size, indexes, report.seconds);
  }
  return kExitOk;
}

// The checkpoint key name the daemon used, so that the stored checkpoint
// verifies; the ledger's default if the key file is missing.
std::string OriginFromKeyFile(const std::string& data_dir) {
  absl::StatusOr<std::string> key = ReadWholeFile(absl::StrCat(data_dir, "/", kVerifierKeyFile));
  if (!key.ok()) return storage::LedgerOptions().origin;
  std::string text(absl::StripAsciiWhitespace(*key));
  return text.substr(0, text.find('+'));
}

int VerifyOffline(const VerifyFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  storage::LedgerOptions options;
  options.data_dir = flags.data_dir;
  options.read_only = true;
  options.create_if_missing = false;
  // A pinned key is what an auditor holds; without it the folder's own
  // verifier key is used, which an insider could have replaced.
  options.verifier_key = trust->pinned_key();
  std::string key_origin = trust->pinned()
                               ? trust->pinned_key().substr(0, trust->pinned_key().find('+'))
                               : OriginFromKeyFile(flags.data_dir);
  options.origin = flags.origin.empty() ? key_origin : flags.origin;
  absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
  if (!ledger.ok()) {
    std::string message(ledger.status().message());
    // RocksDB's lock error alone does not say what to do about it.
    bool locked = absl::StrContains(absl::AsciiStrToLower(message), "lock");
    return ReportError(absl::Status(ledger.status().code(),
                                    absl::StrCat("cannot open the ledger in ", flags.data_dir, ": ",
                                                 message, locked ? " (stop innsynd first)" : "")));
  }
  return PrintReport((*ledger)->Verify(/*check_indexes=*/!flags.skip_indexes));
}

int VerifyOnline(const GlobalOptions& global, const VerifyFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  Client client(global);
  v1::VerifyLedgerRequest request;
  request.set_skip_indexes(flags.skip_indexes);
  absl::StatusOr<v1::VerifyLedgerResponse> response = client.VerifyLedger(request);
  if (!response.ok()) return ReportError(response.status());
  storage::VerifyReport report;
  report.ok = response->ok();
  report.entries_checked = response->entries_checked();
  if (response->has_bad_seq()) report.first_bad_seq = response->first_bad_seq();
  report.problem = response->problem();
  report.checkpoint_size = response->checkpoint().tree_size();
  report.seconds = response->seconds();
  report.indexes_checked = response->indexes_checked();
  // Only a pinned key makes the server's checkpoint worth checking here.
  if (trust->pinned() && report.ok) {
    absl::StatusOr<storage::CheckpointBody> body =
        trust->VerifyNote(response->checkpoint().note(), response->checkpoint());
    if (!body.ok()) return ReportError(body.status());
    report.checkpoint_size = body->tree_size;
  }
  return PrintReport(report);
}

// Recomputes the signed tree's root and chain head here from its leaf
// hashes alone: what an auditor, who may not read entries, can check
// without trusting the server's own verification.
int VerifyLeaves(const GlobalOptions& global, const VerifyFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  Client client(global);
  absl::StatusOr<VerifiedCheckpoint> signed_tree = trust->FetchCheckpoint(client, 0);
  if (!signed_tree.ok()) return ReportError(signed_tree.status());
  const storage::CheckpointBody& body = signed_tree->body;
  absl::Time start = absl::Now();
  storage::CompactRange tree;
  storage::Hash chain = storage::kZeroHash;
  while (tree.size() < body.tree_size) {
    v1::GetLeafHashesRequest request;
    request.set_from_seq(tree.size());
    request.set_count(static_cast<uint32_t>(
        std::min<uint64_t>(kLeafHashesPerCall, body.tree_size - tree.size())));
    absl::StatusOr<v1::GetLeafHashesResponse> page = client.GetLeafHashes(request);
    if (!page.ok()) return ReportError(page.status());
    if (page->from_seq() != tree.size() || page->leaf_hashes().empty()) {
      return ReportError(absl::InternalError(
          absl::StrCat("asked for leaf hashes from ", tree.size(), ", got none or others")));
    }
    for (const std::string& bytes : page->leaf_hashes()) {
      if (tree.size() == body.tree_size) break;
      std::optional<storage::Hash> leaf = storage::HashFromBytes(bytes);
      if (!leaf) {
        return ReportError(VerificationFailure(
            absl::StrCat("leaf ", tree.size(), " is ", bytes.size(), " bytes, not 32")));
      }
      chain = storage::ChainHash(chain, *leaf);
      tree.Append(*leaf);
    }
  }
  const storage::Hash root = body.tree_size == 0 ? storage::EmptyTreeRoot() : tree.Root();
  if (root != body.root_hash) {
    return ReportError(VerificationFailure(
        absl::StrCat("the ", body.tree_size, " leaf hashes give root ", storage::ToHex(root),
                     ", but the signed checkpoint says ", storage::ToHex(body.root_hash))));
  }
  if (chain != body.chain_head) {
    return ReportError(VerificationFailure(
        absl::StrCat("the ", body.tree_size, " leaf hashes give chain head ", storage::ToHex(chain),
                     ", but the signed checkpoint says ", storage::ToHex(body.chain_head))));
  }
  fmt::print(
      "OK: {} leaf hashes give the root and chain head of the signed checkpoint of size {}"
      " (no entry read) in {:.3f} s\n",
      body.tree_size, body.tree_size, absl::ToDoubleSeconds(absl::Now() - start));
  return kExitOk;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* command = app.add_subcommand("verify", "Recompute and check every hash of the ledger");
  CLI::Option* data_dir = command->add_option("--data-dir", flags->data_dir,
                                              "Verify offline, reading this data folder");
  command
      ->add_option("--origin", flags->origin,
                   "With --data-dir: checkpoint origin (default: the name in checkpoint_key.pub)")
      ->needs(data_dir);
  command
      ->add_flag("--leaves", flags->leaves,
                 "Recompute the signed root and chain head here from the leaf hashes alone "
                 "(no entry is read: what an auditor may do)")
      ->excludes(data_dir);
  command->add_flag("--skip-indexes", flags->skip_indexes,
                    "Check hashes, chain, tree and checkpoint only, not that the indexes are "
                    "complete");
  AddTrustFlags(*command, flags->trust);
  command->footer(
      "A pinned --key or --key-file is what checkpoints must verify against: offline, instead of\n"
      "the key file in the data folder; online, to check the checkpoint the server verified\n"
      "against. Online verification reads the whole ledger on the server: raise --timeout for a\n"
      "large one.");
  command->callback([flags, &context] {
    if (flags->leaves) {
      context.exit_code = VerifyLeaves(context.global, *flags);
    } else {
      context.exit_code =
          flags->data_dir.empty() ? VerifyOnline(context.global, *flags) : VerifyOffline(*flags);
    }
  });
}

}  // namespace innsyn::ctl
