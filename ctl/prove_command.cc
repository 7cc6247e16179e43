// `innsynctl prove`: checks the server's inclusion and consistency proofs
// against signed checkpoints, and its proofs that a history is complete,
// recomputing every hash locally (storage/merkle.h, storage/subject_map.h) so
// that nothing the server says is taken on trust but the signature key.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/completeness.h"
#include "ctl/format.h"
#include "ctl/trust.h"
#include "innsyn/v1/ledger.pb.h"
#include "storage/hash.h"
#include "storage/merkle.h"

namespace innsyn::ctl {
namespace {

struct ProveFlags {
  TrustFlags trust;
  std::string subject;
  std::string actor;
  bool json = false;
  uint64_t size = 0;  // with subject or actor: the tree to prove against (0: the newest)
  std::optional<uint64_t> seq;
  std::optional<uint64_t> from;
  std::optional<uint64_t> to;
  std::string since;
  bool leaf_hash_only = false;
};

absl::StatusOr<std::vector<storage::Hash>> ProofHashes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  std::vector<storage::Hash> path;
  for (const std::string& bytes : hashes) {
    std::optional<storage::Hash> hash = storage::HashFromBytes(bytes);
    if (!hash) {
      return VerificationFailure(absl::StrCat("proof holds a ", bytes.size(), "-byte hash"));
    }
    path.push_back(*hash);
  }
  return path;
}

// Fetches entry `seq` with its exact bytes and returns its leaf hash,
// computed here: the proof's own leaf hash is only a claim.
absl::StatusOr<storage::Hash> FetchLeafHash(Client& client, const GlobalOptions& global,
                                            uint64_t seq) {
  v1::GetEntriesRequest request;
  request.set_from_seq(seq);
  request.set_count(1);
  request.set_reason(global.reason);
  absl::StatusOr<v1::GetEntriesResponse> response = client.GetEntries(request);
  if (!response.ok()) return response.status();
  if (response->entries_size() != 1 || response->entries(0).seq() != seq) {
    return absl::InternalError(absl::StrCat("GetEntries(", seq, ", 1) did not return entry ", seq));
  }
  const std::string& bytes = response->entries(0).entry_bytes();
  v1::SealedEntry entry;
  if (!entry.ParseFromString(bytes) || entry.seq() != seq) {
    return VerificationFailure(
        absl::StrCat("the bytes of entry ", seq, " do not hold a sealed entry with seq ", seq));
  }
  return storage::LeafHash(bytes);
}

// The leaf hash the server stores for entry `seq`, without the entry: all an
// auditor may read. It proves that this leaf is in the signed tree, not what
// the entry says.
absl::StatusOr<storage::Hash> FetchStoredLeafHash(Client& client, uint64_t seq) {
  v1::GetLeafHashesRequest request;
  request.set_from_seq(seq);
  request.set_count(1);
  absl::StatusOr<v1::GetLeafHashesResponse> response = client.GetLeafHashes(request);
  if (!response.ok()) return response.status();
  std::optional<storage::Hash> hash;
  if (response->from_seq() == seq && response->leaf_hashes_size() == 1) {
    hash = storage::HashFromBytes(response->leaf_hashes(0));
  }
  if (!hash) {
    return absl::InternalError(absl::StrCat("GetLeafHashes(", seq, ", 1) did not return one hash"));
  }
  return *hash;
}

int ProveInclusion(const GlobalOptions& global, Trust& trust, uint64_t seq, bool leaf_hash_only) {
  Client client(global);
  absl::StatusOr<VerifiedCheckpoint> latest = trust.FetchCheckpoint(client, 0);
  if (!latest.ok()) return ReportError(latest.status());
  const uint64_t size = latest->body.tree_size;
  if (seq >= size) {
    return ReportError(absl::OutOfRangeError(
        absl::StrCat("entry ", seq, " is not in the latest signed tree, of size ", size)));
  }
  v1::GetInclusionProofRequest request;
  request.set_seq(seq);
  request.set_tree_size(size);
  absl::StatusOr<v1::InclusionProof> proof = client.GetInclusionProof(request);
  if (!proof.ok()) return ReportError(proof.status());
  if (proof->leaf_index() != seq || proof->tree_size() != size) {
    return ReportError(VerificationFailure(
        absl::StrCat("asked for a proof of entry ", seq, " in size ", size, ", got entry ",
                     proof->leaf_index(), " in size ", proof->tree_size())));
  }
  absl::StatusOr<storage::Hash> leaf =
      leaf_hash_only ? FetchStoredLeafHash(client, seq) : FetchLeafHash(client, global, seq);
  if (!leaf.ok()) return ReportError(leaf.status());
  if (proof->leaf_hash() != storage::AsBytes(*leaf)) {
    return ReportError(VerificationFailure(
        absl::StrCat("entry ", seq, " hashes to leaf ", storage::ToHex(*leaf),
                     " but the proof is for leaf ", storage::ToHex(proof->leaf_hash()))));
  }
  absl::StatusOr<std::vector<storage::Hash>> path = ProofHashes(proof->hashes());
  if (!path.ok()) return ReportError(path.status());
  const storage::Hash& root = latest->body.root_hash;
  if (absl::Status s = storage::VerifyInclusion(seq, size, *leaf, *path, root); !s.ok()) {
    return ReportError(VerificationFailure(
        absl::StrCat("entry ", seq, " is NOT proven included in the signed tree of size ", size,
                     ": ", s.message())));
  }
  fmt::print("entry {} is included in the signed tree of size {} (root {})\n", seq, size,
             storage::ToHex(root));
  return kExitOk;
}

// Checks that the first signed tree is a prefix of the second.
int ProveConsistency(Client& client, const storage::CheckpointBody& first,
                     const storage::CheckpointBody& second) {
  if (first.origin != second.origin) {
    return ReportError(VerificationFailure(absl::StrCat(
        "checkpoints are of different logs: \"", first.origin, "\" and \"", second.origin, "\"")));
  }
  if (first.tree_size > second.tree_size) {
    return ReportError(
        VerificationFailure(absl::StrCat("the log shrank: a signed tree of size ", first.tree_size,
                                         " but now only ", second.tree_size)));
  }
  std::vector<storage::Hash> path;
  if (first.tree_size != 0 && first.tree_size != second.tree_size) {
    v1::GetConsistencyProofRequest request;
    request.set_first_size(first.tree_size);
    request.set_second_size(second.tree_size);
    absl::StatusOr<v1::ConsistencyProof> proof = client.GetConsistencyProof(request);
    if (!proof.ok()) return ReportError(proof.status());
    absl::StatusOr<std::vector<storage::Hash>> hashes = ProofHashes(proof->hashes());
    if (!hashes.ok()) return ReportError(hashes.status());
    path = *std::move(hashes);
  }
  // The empty tree is a prefix of every tree; equal sizes need equal roots,
  // which VerifyConsistency checks with an empty path.
  if (first.tree_size != 0) {
    if (absl::Status s = storage::VerifyConsistency(first.tree_size, second.tree_size,
                                                    first.root_hash, second.root_hash, path);
        !s.ok()) {
      return ReportError(
          VerificationFailure(absl::StrCat("the signed tree of size ", first.tree_size,
                                           " is NOT proven a prefix of the signed tree of size ",
                                           second.tree_size, ": ", s.message())));
    }
  }
  if (first.tree_size == second.tree_size) {
    fmt::print("the signed trees of size {} are the same (root {})\n", first.tree_size,
               storage::ToHex(first.root_hash));
    return kExitOk;
  }
  fmt::print(
      "the signed tree of size {} (root {}) is a prefix of the signed tree of size {} (root {})\n",
      first.tree_size, storage::ToHex(first.root_hash), second.tree_size,
      storage::ToHex(second.root_hash));
  return kExitOk;
}

int ProveRange(const GlobalOptions& global, Trust& trust, uint64_t from,
               std::optional<uint64_t> to) {
  if (from == 0 || (to && *to < from)) {
    return ReportError(absl::InvalidArgumentError("want 0 < --from <= --to"));
  }
  Client client(global);
  absl::StatusOr<VerifiedCheckpoint> first = trust.FetchCheckpoint(client, from);
  if (!first.ok()) return ReportError(first.status());
  absl::StatusOr<VerifiedCheckpoint> second = trust.FetchCheckpoint(client, to.value_or(0));
  if (!second.ok()) return ReportError(second.status());
  return ProveConsistency(client, first->body, second->body);
}

int ProveSince(const GlobalOptions& global, Trust& trust, const std::string& path) {
  absl::StatusOr<std::string> note = ReadWholeFile(path);
  if (!note.ok()) return ReportError(note.status());
  Client client(global);
  // The latest first: without a pinned key, its key checks the saved note.
  absl::StatusOr<VerifiedCheckpoint> latest = trust.FetchCheckpoint(client, 0);
  if (!latest.ok()) return ReportError(latest.status());
  absl::StatusOr<storage::CheckpointBody> saved = trust.VerifyNote(*note, latest->checkpoint);
  if (!saved.ok()) {
    return ReportError(VerificationFailure(absl::StrCat(path, ": ", saved.status().message())));
  }
  return ProveConsistency(client, *saved, latest->body);
}

// Checks the proof that a subject's (or actor's) history is complete, with
// no entry's contents: its length, or that it has none.
int ProveHistory(const GlobalOptions& global, Trust& trust, const ProveFlags& flags) {
  const bool subject = !flags.subject.empty();
  v1::GetSubjectProofRequest request;
  if (subject) {
    request.set_subject_id(flags.subject);
  } else {
    request.set_actor_id(flags.actor);
  }
  request.set_reason(global.reason);
  request.set_tree_size(flags.size);
  Client client(global);
  absl::StatusOr<v1::GetSubjectProofResponse> response = client.GetSubjectProof(request);
  if (!response.ok()) return ReportError(response.status());
  if (flags.size != 0 && response->tree_size() != flags.size) {
    return ReportError(
        VerificationFailure(absl::StrCat("asked for a proof against the tree of ", flags.size,
                                         " entries, given one of ", response->tree_size())));
  }
  absl::StatusOr<ProvenHistory> proven =
      CheckHistory(trust, subject ? storage::MapSpace::kSubject : storage::MapSpace::kActor,
                   response->tree_size(), response->proof());
  if (!proven.ok()) return ReportError(proven.status());
  // With --json, stdout holds the proof alone, as one JSON line, and the
  // verdict goes to stderr, as for `history --json`.
  std::FILE* const verdict = flags.json ? stderr : stdout;
  if (flags.json) fmt::print("{}\n", ToJsonLine(response->proof()));
  const std::string against =
      absl::StrCat("verified against checkpoint of size ", proven->checkpoint.tree_size,
                   trust.pinned() ? "" : " (signed by the server's own key, not a pinned one)");
  const size_t n = proven->entries.size();
  if (n == 0) {
    fmt::print(verdict, "complete: no history: {}, {}\n",
               subject ? "no one has accessed this subject's data"
                       : "this actor has accessed no one's data",
               against);
  } else {
    fmt::print(verdict, "complete: a history of {} {} (the first entry {}, the newest {}), {}\n", n,
               n == 1 ? "entry" : "entries", proven->entries.back().seq,
               proven->entries.front().seq, against);
  }
  fmt::print(verdict, "this query was recorded as seq {}\n", response->query_seq());
  return kExitOk;
}

int RunProve(const GlobalOptions& global, const ProveFlags& flags) {
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  if (!flags.subject.empty() || !flags.actor.empty()) return ProveHistory(global, *trust, flags);
  if (flags.seq) return ProveInclusion(global, *trust, *flags.seq, flags.leaf_hash_only);
  if (flags.from) return ProveRange(global, *trust, *flags.from, flags.to);
  if (!flags.since.empty()) return ProveSince(global, *trust, flags.since);
  return ReportError(absl::InvalidArgumentError(
      "prove needs --subject, --actor, --seq, --from or --since (see --help)"));
}

}  // namespace

void AddProveCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<ProveFlags>();
  CLI::App* command = app.add_subcommand(
      "prove",
      "Verify inclusion or consistency proofs, or that a history is complete, against signed "
      "checkpoints");
  CLI::Option* subject = command->add_option(
      "--subject", flags->subject,
      "Prove this subject's history complete, from headers alone (GetSubjectProof): its "
      "length, or that no one has accessed the subject's data");
  CLI::Option* actor =
      command->add_option("--actor", flags->actor, "Prove this actor's history complete, likewise");
  CLI::Option* json =
      command->add_flag("--json", flags->json, "With --subject or --actor: print the proof too");
  CLI::Option* size = command->add_option(
      "--size", flags->size,
      "With --subject or --actor: prove against the signed tree of this size, an older one "
      "(default: the newest)");
  CLI::Option* seq =
      command->add_option("--seq", flags->seq, "Prove entry N is in the latest signed tree");
  CLI::Option* from =
      command->add_option("--from", flags->from, "Prove the signed tree of size A ...");
  CLI::Option* to = command->add_option(
      "--to", flags->to, "... is a prefix of the signed tree of size B (default: latest)");
  CLI::Option* since =
      command->add_option("--since", flags->since,
                          "Prove the tree in this saved checkpoint note is a prefix of the latest");
  command
      ->add_flag("--leaf-hash-only", flags->leaf_hash_only,
                 "With --seq: prove the stored leaf hash, without reading the entry (for "
                 "auditors, who may not read entries)")
      ->needs(seq);
  to->needs(from);
  seq->excludes(from)->excludes(since);
  from->excludes(since);
  subject->excludes(seq)->excludes(from)->excludes(since);
  actor->excludes(subject)->excludes(seq)->excludes(from)->excludes(since);
  json->excludes(seq)->excludes(from)->excludes(since);
  size->excludes(seq)->excludes(from)->excludes(since);
  AddTrustFlags(*command, flags->trust);
  command->footer("Exit code 1 if a signature or proof does not verify, 2 on usage or RPC errors.");
  command->callback([flags, &context] { context.exit_code = RunProve(context.global, *flags); });
}

}  // namespace innsyn::ctl
