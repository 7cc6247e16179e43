// `innsynctl forward`: sends the records of a CSV or JSON-lines file to
// innsynd as they are written (or, with --once, the whole file), by a
// mapping file; see ctl/forward/forwarder.h for what it guarantees and the
// README ("forward set up for a CSV export") for the mapping.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
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

constexpr size_t kMaxForwardBatchEvents = 10000;
constexpr size_t kMaxBatchesInFlight = 64;

struct ForwardFlags {
  std::string mapping;
  std::string file;
  std::string state;
  std::string rejects;
  bool once = false;
  bool stop_on_bad_row = false;
  size_t batch = forward::kDefaultBatchEvents;
  size_t in_flight = forward::kDefaultBatchesInFlight;
  double max_backoff_seconds = 30;
};

std::atomic<forward::Forwarder*> running_forwarder{nullptr};

void StopForwarder(int) {
  if (forward::Forwarder* forwarder = running_forwarder.load()) forwarder->Stop();
}

int RunForward(const GlobalOptions& global, const ForwardFlags& flags) {
  absl::StatusOr<forward::Mapping> mapping = forward::LoadMapping(flags.mapping);
  if (!mapping.ok()) return ReportError(mapping.status());
  forward::ForwardOptions options;
  options.file = flags.file.empty() ? mapping->file : flags.file;
  if (options.file.empty()) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat("forward: which file? Give FILE, or `file` in ", flags.mapping)));
  }
  if (flags.state.empty() && !flags.once) {
    return ReportError(absl::InvalidArgumentError(
        "forward: following a file needs --state (where to remember the position)"));
  }
  options.state_path = flags.state;
  options.rejects_path = !flags.rejects.empty()
                             ? flags.rejects
                             : (flags.state.empty() ? "" : flags.state + ".rejected");
  options.once = flags.once;
  options.stop_on_bad_record = flags.stop_on_bad_row;
  options.batch_events = flags.batch;
  options.in_flight = flags.in_flight;
  options.max_backoff = absl::Seconds(flags.max_backoff_seconds);

  Client client(global);
  forward::Progress progress(stderr, flags.once);
  forward::Forwarder forwarder(
      *mapping, options,
      [&client](const v1::AppendRequest& request) { return client.Append(request); },
      [&progress](const forward::ForwardStats& stats, bool done) { progress.Show(stats, done); },
      [&progress](const std::string& line) { progress.Log(line); });
  running_forwarder.store(&forwarder);
  std::signal(SIGINT, StopForwarder);
  std::signal(SIGTERM, StopForwarder);
  absl::Status status = forwarder.Run();
  running_forwarder.store(nullptr);
  if (!status.ok()) return ReportError(status);
  if (flags.once && forwarder.stats().rejected > 0) {
    return ReportError(absl::InvalidArgumentError(absl::StrCat(
        forwarder.stats().rejected, " bad rows were not sent",
        options.rejects_path.empty() ? "" : absl::StrCat("; they are in ", options.rejects_path))));
  }
  return kExitOk;
}

}  // namespace

void AddForwardCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<ForwardFlags>();
  CLI::App* command = app.add_subcommand(
      "forward", "Send the rows of a CSV or JSON-lines file as they are written, by a mapping");
  command->footer(
      "Follows FILE (or the mapping's `file`) like `tail -F`: a rotated or truncated file is\n"
      "followed, the position is kept in --state once innsynd has acknowledged each batch,\n"
      "and every event id is derived from the file, so nothing is lost or recorded twice.\n"
      "A bad row is reported with its line and column, counted and kept in the rejects\n"
      "file; with --stop-on-bad-row forward stops before it instead.");
  command->add_option("--mapping", flags->mapping, "Mapping file (TOML): columns to event fields")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("file", flags->file, "The file to follow (default: the mapping's `file`)");
  command->add_option("--state", flags->state,
                      "Where the position is remembered (needed unless --once)");
  command->add_option("--rejects", flags->rejects,
                      "Where bad rows go, as JSON lines (default: STATE.rejected)");
  command->add_flag("--once", flags->once,
                    "Send the whole file, then exit (with a progress bar on a terminal)");
  command->add_flag("--stop-on-bad-row", flags->stop_on_bad_row,
                    "Stop before a bad row instead of setting it aside");
  command->add_option("--batch", flags->batch, "Events per Append call")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, kMaxForwardBatchEvents));
  command
      ->add_option("--in-flight", flags->in_flight,
                   "Batches sent before the first is answered (delivered in order)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, kMaxBatchesInFlight));
  command
      ->add_option("--max-backoff", flags->max_backoff_seconds,
                   "Longest wait between retries while innsynd is away, in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->callback([flags, &context] { context.exit_code = RunForward(context.global, *flags); });
}

}  // namespace innsyn::ctl
