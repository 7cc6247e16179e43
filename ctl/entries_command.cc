// `innsynctl entries`: the ledger's entries from a seq on, as innsynd
// returns them (GetEntries), one JSON line each: for a controller who wants
// to see exactly what was recorded (the query records of look-ups, alert
// decisions, erasures), or to feed another tool. Reading entries is a
// query, recorded in the ledger with --reason.
#include <fmt/format.h>

#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/format.h"

namespace innsyn::ctl {
namespace {

struct EntriesFlags {
  uint64_t from = 0;
  uint32_t count = 100;
};

int RunEntries(const GlobalOptions& global, const EntriesFlags& flags) {
  Client client(global);
  v1::GetEntriesRequest request;
  request.set_from_seq(flags.from);
  request.set_count(flags.count);
  request.set_reason(global.reason);
  absl::StatusOr<v1::GetEntriesResponse> response = client.GetEntries(request);
  if (!response.ok()) return ReportError(response.status());
  for (v1::RecordedEntry& recorded : *response->mutable_entries()) {
    recorded.clear_entry_bytes();
    fmt::print("{}\n", ToJsonLine(recorded));
  }
  return kExitOk;
}

}  // namespace

void AddEntriesCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<EntriesFlags>();
  CLI::App* command = app.add_subcommand(
      "entries", "Print entries of the ledger as JSON lines (GetEntries; recorded as a query)");
  command->add_option("--from", flags->from, "The first seq")->capture_default_str();
  command->add_option("--count", flags->count, "How many (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->callback([flags, &context] { context.exit_code = RunEntries(context.global, *flags); });
}

}  // namespace innsyn::ctl
