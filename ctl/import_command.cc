// `innsynctl import`: records the state a clinic already holds at go-live
// (contact details, consents, booked appointments, past treatment) as
// baseline entries, from a CSV or JSON-lines export read by a mapping file
// (the same as `innsynctl forward`'s).
//
// All or nothing for the file: a first pass maps every row and has innsynd
// check every event without recording it (ImportBaseline with
// validate_only); any bad row is named with its line and field, and then
// nothing is recorded. Only a file without a bad row is recorded, in a
// second pass. Event ids are derived from the file as forward derives them
// (or taken from the mapped event-id column), so running the import again
// records nothing twice.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/forward/forwarder.h"
#include "ctl/forward/mapping.h"
#include "ctl/forward/progress.h"

namespace innsyn::ctl {
namespace {

constexpr size_t kImportBatchEvents = 1000;

struct ImportFlags {
  std::string mapping;
  std::string file;
  std::string rejects;
};

// Sends a batch as an import; the answer has the shape of an Append's.
absl::StatusOr<v1::AppendResponse> SendImport(Client& client, const v1::AppendRequest& batch,
                                              bool validate_only) {
  v1::ImportBaselineRequest request;
  *request.mutable_events() = batch.events();
  request.set_validate_only(validate_only);
  absl::StatusOr<v1::ImportBaselineResponse> response = client.ImportBaseline(request);
  if (!response.ok()) return response.status();
  v1::AppendResponse answer;
  if (validate_only) {
    for (int i = 0; i < batch.events_size(); ++i) answer.add_receipts();
  } else {
    *answer.mutable_receipts() = std::move(*response->mutable_receipts());
  }
  return answer;
}

// One pass over the whole file: checking every row, or recording them.
absl::StatusOr<forward::ForwardStats> RunPass(Client& client, const forward::Mapping& mapping,
                                              const ImportFlags& flags, bool validate_only) {
  forward::ForwardOptions options;
  options.file = flags.file.empty() ? mapping.file : flags.file;
  options.once = true;
  options.in_flight = 1;
  options.batch_events = kImportBatchEvents;
  // The check names every bad row; the recording pass meets none (the file
  // passed the check), and would stop at one rather than skip it.
  options.stop_on_bad_record = !validate_only;
  options.rejects_path = validate_only ? flags.rejects : "";
  forward::Progress progress(stderr, true);
  forward::Forwarder forwarder(
      mapping, options,
      [&client, validate_only](const v1::AppendRequest& request) {
        return SendImport(client, request, validate_only);
      },
      [](const forward::ForwardStats&, bool) {},
      [&progress](const std::string& line) { progress.Log(line); });
  if (absl::Status status = forwarder.Run(); !status.ok()) return status;
  return forwarder.stats();
}

int RunImport(const GlobalOptions& global, const ImportFlags& flags) {
  absl::StatusOr<forward::Mapping> mapping = forward::LoadMapping(flags.mapping);
  if (!mapping.ok()) return ReportError(mapping.status());
  if (flags.file.empty() && mapping->file.empty()) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat("import: which file? Give FILE, or `file` in ", flags.mapping)));
  }
  Client client(global);
  absl::StatusOr<forward::ForwardStats> checked = RunPass(client, *mapping, flags, true);
  if (!checked.ok()) return ReportError(checked.status());
  if (checked->rejected > 0) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(checked->rejected,
                     " bad rows (named above); nothing was imported. Mend them and import "
                     "the file again")));
  }
  absl::StatusOr<forward::ForwardStats> recorded = RunPass(client, *mapping, flags, false);
  if (!recorded.ok()) return ReportError(recorded.status());
  std::printf("imported %llu rows as baseline entries: %llu new, %llu already imported\n",
              static_cast<unsigned long long>(recorded->events),
              static_cast<unsigned long long>(recorded->events - recorded->duplicates),
              static_cast<unsigned long long>(recorded->duplicates));
  return kExitOk;
}

}  // namespace

void AddImportCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* command = app.add_subcommand(
      "import", "Record a clinic's state at go-live as baseline entries, from a CSV or JSON file");
  command->footer(
      "Each row (a patient's contact details, a consent, a booked appointment, a past\n"
      "treatment) becomes a baseline entry: the detectors learn from it, and no innsyn answer\n"
      "lists it. The mapping file is forward's. Every row is checked first; a bad row is\n"
      "named with its line and field, and then nothing is recorded. Running the import again\n"
      "records nothing twice. Needs the admin role.");
  command->add_option("--mapping", flags->mapping, "Mapping file (TOML): columns to event fields")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("file", flags->file, "The exported file (default: the mapping's `file`)");
  command->add_option("--rejects", flags->rejects, "Also write the bad rows here, as JSON lines");
  command->callback([flags, &context] { context.exit_code = RunImport(context.global, *flags); });
}

}  // namespace innsyn::ctl
