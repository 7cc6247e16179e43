// `innsynctl erase --subject ID --reason ... [--reference ...] [--before DATE]`:
// shreds the subject's data keys, so that what their entries said is
// unreadable for good, and records the erasure (controller role). Every
// entry keeps its place, hash and proofs; `history` then shows the erased
// entries and the erasure.
#include <fmt/format.h>

#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/format.h"

namespace innsyn::ctl {
namespace {

struct EraseFlags {
  std::string subject;
  std::string reason;
  std::string reference;
  std::string before;
};

int RunErase(const GlobalOptions& global, const EraseFlags& flags) {
  v1::EraseRequest request;
  request.set_subject_id(flags.subject);
  request.set_reason(flags.reason);
  request.set_reference(flags.reference);
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> before =
      ParseTimeFlag("--before", flags.before);
  if (!before.ok()) return ReportError(before.status());
  if (*before) *request.mutable_before() = **before;
  Client client(global);
  absl::StatusOr<v1::EraseResponse> response = client.Erase(request);
  if (!response.ok()) return ReportError(response.status());
  const v1::Erasure& erasure = response->erasure();
  fmt::print("erased: {} entries under {} data keys, recorded as entry {}\n",
             erasure.subject_entries(), erasure.keys_size(), response->receipt().seq());
  for (const v1::ShreddedKey& key : erasure.keys()) {
    fmt::print("  {}  {} entries\n", key.key_id(), key.entries());
  }
  fmt::print(
      "The keys are gone from the live store now; a key-store backup keeps them until it "
      "expires (key_backup_keep_days, see \"Forgetting\" in the README).\n");
  return kExitOk;
}

}  // namespace

void AddEraseCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<EraseFlags>();
  CLI::App* command = app.add_subcommand(
      "erase", "Erase a subject: shred their data keys and record the erasure (controller role)");
  command->add_option("--subject", flags->subject, "The subject's id (for example a national id)")
      ->required();
  command
      ->add_option("--reason", flags->reason,
                   "The legal ground, for example \"GDPR art. 17(1)(a)\"; kept in the clear, so "
                   "no personal data")
      ->required();
  command->add_option("--reference", flags->reference, "Your case number for the request");
  command->add_option("--before", flags->before,
                      "Only the calendar years that ended by then (default: everything)");
  command->footer(
      "Refused while an alert about the subject is open. Irreversible: the entries stay, with "
      "their hashes and proofs, but what they said cannot be read again.");
  command->callback([&context, flags] { context.exit_code = RunErase(context.global, *flags); });
}

}  // namespace innsyn::ctl
