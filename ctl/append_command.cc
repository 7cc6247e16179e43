// `innsynctl append`: records one event given as flags, or many given as
// JSON lines on stdin. JSON input is parsed completely before anything is
// sent, so a typo on line 9000 does not leave 8999 events half-recorded.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/event_flags.h"
#include "ctl/format.h"
#include "ctl/json_events.h"
#include "storage/hash.h"

namespace innsyn::ctl {
namespace {

constexpr size_t kDefaultBatchEvents = 500;
constexpr size_t kMaxBatchEvents = 10000;

struct AppendFlags {
  EventFlags event;
  bool json = false;
  size_t batch = kDefaultBatchEvents;
};

void PrintReceipt(const v1::AppendReceipt& receipt, bool json) {
  if (json) {
    fmt::print("{}\n", ToJsonLine(receipt));
    return;
  }
  fmt::print("seq {}  {}  leaf {}{}\n", receipt.seq(), receipt.event_id(),
             storage::ToHex(receipt.leaf_hash()), receipt.duplicate() ? "  duplicate" : "");
}

// Sends one Append and prints its receipts. A response with fewer receipts
// than events would leave some events unaccounted for: an error.
absl::Status SendBatch(Client& client, const v1::AppendRequest& request, bool json) {
  absl::StatusOr<v1::AppendResponse> response = client.Append(request);
  if (!response.ok()) return response.status();
  if (response->receipts_size() != request.events_size()) {
    return absl::InternalError(absl::StrCat("server returned ", response->receipts_size(),
                                            " receipts for ", request.events_size(), " events"));
  }
  for (const v1::AppendReceipt& receipt : response->receipts()) PrintReceipt(receipt, json);
  return absl::OkStatus();
}

int RunFlagAppend(const GlobalOptions& global, const EventFlags& flags) {
  std::vector<std::string> missing = MissingEventFlags(flags);
  if (!missing.empty()) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat("append needs ", absl::StrJoin(missing, ", "), " (or --json to read stdin)")));
  }
  absl::StatusOr<v1::AccessEvent> event = BuildEvent(flags);
  if (!event.ok()) return ReportError(event.status());
  v1::AppendRequest request;
  *request.add_events() = *std::move(event);
  Client client(global);
  if (absl::Status s = SendBatch(client, request, /*json=*/false); !s.ok()) return ReportError(s);
  return kExitOk;
}

// Says where a failed run stopped. Each batch is all-or-nothing, and
// resending everything is safe: the server answers a repeated
// (source, event_id) with the original receipt.
void ReportUnsent(const std::vector<size_t>& lines, size_t first_unsent) {
  if (first_unsent == 0) {
    fmt::print(stderr, "innsynctl: nothing was recorded\n");
    return;
  }
  fmt::print(stderr,
             "innsynctl: events up to line {} were recorded, from line {} on were not; "
             "resending all of stdin is safe\n",
             lines[first_unsent - 1], lines[first_unsent]);
}

int RunJsonAppend(const GlobalOptions& global, size_t batch_events) {
  absl::StatusOr<JsonEvents> input = ReadJsonEvents(std::cin);
  if (!input.ok()) return ReportError(input.status());
  Client client(global);
  const size_t total = input->events.size();
  for (size_t begin = 0; begin < total; begin += batch_events) {
    size_t end = std::min(total, begin + batch_events);
    v1::AppendRequest request;
    request.set_batch_id(begin / batch_events);
    for (size_t i = begin; i < end; ++i) *request.add_events() = std::move(input->events[i]);
    absl::Status status = SendBatch(client, request, /*json=*/true);
    if (status.ok()) continue;
    ReportUnsent(input->lines, begin);
    return ReportError(status);
  }
  if (total == 0) fmt::print(stderr, "innsynctl: no events on stdin\n");
  return kExitOk;
}

}  // namespace

void AddAppendCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<AppendFlags>();
  CLI::App* command = app.add_subcommand("append", "Record an access event");
  command->footer(
      "With --json, stdin holds one AccessEvent per line in the proto3 JSON mapping, e.g.\n"
      "  {\"event_id\":\"e1\",\"source\":{\"system\":\"opus-dental\"},\"occurred_at\":"
      "\"2024-05-01T08:30:00Z\",...}\n"
      "and every receipt is printed as a JSON line.");
  CLI::Option* json = command->add_flag(
      "--json", flags->json, "Read events as JSON lines from stdin; print receipts as JSON lines");
  command->add_option("--batch", flags->batch, "Events per Append call with --json")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, kMaxBatchEvents));
  CLI::Option_group* event = command->add_option_group("Event", "The event, when not --json");
  AddEventFlags(*event, flags->event);
  event->excludes(json);
  command->callback([flags, &context] {
    context.exit_code = flags->json ? RunJsonAppend(context.global, flags->batch)
                                    : RunFlagAppend(context.global, flags->event);
  });
}

}  // namespace innsyn::ctl
