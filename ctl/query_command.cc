// `innsynctl history` (who accessed a subject's data) and `innsynctl
// activity` (what an actor did). Both follow page tokens up to --limit and
// end by saying where the query itself was recorded: every look at the log
// is logged, and the person asking should know that.
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/proto_time.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/format.h"

namespace innsyn::ctl {
namespace {

constexpr size_t kDefaultLimit = 1000;
constexpr uint32_t kMaxPageSize = 1000;  // the server's limit

struct QueryFlags {
  std::string id;
  std::string from;
  std::string to;
  size_t limit = kDefaultLimit;
  bool json = false;
};

// What a subcommand queries and how it shows a row.
struct QueryKind {
  std::string_view noun_singular;  // "access"
  std::string_view noun_plural;    // "accesses"
  std::vector<std::string> header;
  std::function<std::vector<std::string>(const v1::RecordedEntry&)> row;
};

struct QueryResult {
  std::vector<v1::RecordedEntry> entries;
  std::vector<uint64_t> query_seqs;  // one per page fetched
  bool more = false;                 // stopped at the limit with pages left
};

// "Kari Nordmann (dentist, kari)": the name a patient recognises, then the
// role and the account id that make it unambiguous.
std::string Who(const v1::Actor& actor) {
  std::vector<std::string> details;
  if (!actor.role().empty()) details.push_back(actor.role());
  std::string name = actor.display_name();
  if (name.empty()) {
    name = actor.id();
  } else {
    details.push_back(actor.id());
  }
  if (details.empty()) return name;
  return absl::StrCat(name, " (", absl::StrJoin(details, ", "), ")");
}

std::string Action(const v1::AccessEvent& event) {
  std::string action = absl::StrCat(Label(event.action()), "/", Label(event.action_subtype()));
  if (event.outcome() != v1::OUTCOME_SUCCESS) {
    absl::StrAppend(&action, " (", Label(event.outcome()), ")");
  }
  return action;
}

// Disclosures name their recipient: the patient is owed that, too.
std::string What(const v1::AccessEvent& event) {
  std::string what = Label(event.data_object().type());
  if (!event.data_object().id().empty()) absl::StrAppend(&what, " ", event.data_object().id());
  const v1::Recipient& recipient = event.recipient();
  if (!recipient.name().empty() || !recipient.id().empty()) {
    absl::StrAppend(&what, " to ", recipient.name().empty() ? recipient.id() : recipient.name());
  }
  return what;
}

std::string Why(const v1::AccessEvent& event) {
  std::vector<std::string> parts;
  if (event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) {
    parts.push_back(Label(event.purpose_of_use()));
  }
  if (!event.legal_basis().empty()) parts.push_back(event.legal_basis());
  if (!event.reason().empty()) parts.push_back(absl::StrCat("\"", event.reason(), "\""));
  return parts.empty() ? "-" : absl::StrJoin(parts, "; ");
}

std::string Source(const v1::Source& source) {
  return source.instance().empty() ? source.system()
                                   : absl::StrCat(source.system(), "/", source.instance());
}

// An erased entry keeps its place (its hour and seq); an erasure says what
// was erased, when and why; anything else is shown, not hidden.
std::vector<std::string> OtherEntryRow(const v1::RecordedEntry& recorded, size_t columns) {
  std::vector<std::string> row(columns, "-");
  row.front() = LocalMinute(recorded.entry().committed_at());
  row[3] = "(not an access event)";
  if (recorded.erased()) {
    row.front() = absl::StrCat(LocalMinute(recorded.hour()), " hour");
    row[3] = "(erased: its data key was shredded)";
  } else if (recorded.entry().has_erasure()) {
    const v1::Erasure& erasure = recorded.entry().erasure();
    row[2] = "ERASURE";
    row[3] = absl::StrCat(erasure.subject_entries(), " entries erased (", erasure.keys_size(),
                          erasure.keys_size() == 1 ? " key)" : " keys)");
    row[4] = absl::StrCat("\"", erasure.reason(), "\"",
                          erasure.reference().empty() ? "" : " ref. " + erasure.reference());
  }
  row.back() = absl::StrCat(recorded.seq());
  return row;
}

std::vector<std::string> HistoryRow(const v1::RecordedEntry& recorded) {
  if (!recorded.entry().has_access_event()) return OtherEntryRow(recorded, 8);
  const v1::AccessEvent& event = recorded.entry().access_event();
  return {LocalMinute(event.occurred_at()),
          Who(event.actor()),
          Action(event),
          What(event),
          Why(event),
          recorded.explanation().empty() ? "-" : recorded.explanation(),
          Source(event.source()),
          absl::StrCat(recorded.seq())};
}

std::vector<std::string> ActivityRow(const v1::RecordedEntry& recorded) {
  if (!recorded.entry().has_access_event()) return OtherEntryRow(recorded, 7);
  const v1::AccessEvent& event = recorded.entry().access_event();
  return {LocalMinute(event.occurred_at()),
          event.subject().id(),
          Action(event),
          What(event),
          Why(event),
          Source(event.source()),
          absl::StrCat(recorded.seq())};
}

// Fills the fields both list requests share.
template <typename Request>
absl::Status FillRequest(const GlobalOptions& global, const QueryFlags& flags, Request& request) {
  request.set_reason(global.reason);
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> from =
      ParseTimeFlag("--from", flags.from);
  if (!from.ok()) return from.status();
  absl::StatusOr<std::optional<google::protobuf::Timestamp>> to = ParseTimeFlag("--to", flags.to);
  if (!to.ok()) return to.status();
  if (*from) *request.mutable_from() = **from;
  if (*to) *request.mutable_to() = **to;
  return absl::OkStatus();
}

template <typename Request, typename Response>
using ListMethod = absl::StatusOr<Response> (Client::*)(const Request&);

template <typename Request, typename Response>
absl::StatusOr<QueryResult> FetchPages(Client& client, ListMethod<Request, Response> method,
                                       Request request, size_t limit) {
  QueryResult result;
  while (result.entries.size() < limit) {
    request.set_page_size(
        static_cast<uint32_t>(std::min<size_t>(kMaxPageSize, limit - result.entries.size())));
    absl::StatusOr<Response> page = (client.*method)(request);
    if (!page.ok()) return page.status();
    result.query_seqs.push_back(page->query_seq());
    for (v1::RecordedEntry& entry : *page->mutable_entries()) {
      result.entries.push_back(std::move(entry));
    }
    if (page->next_page_token().empty()) return result;
    request.set_page_token(page->next_page_token());
  }
  result.more = true;
  return result;
}

std::string Summary(const QueryKind& kind, const QueryResult& result, size_t limit) {
  size_t n = result.entries.size();
  std::string summary = fmt::format("{} {}", n, n == 1 ? kind.noun_singular : kind.noun_plural);
  if (result.more) absl::StrAppend(&summary, " (stopped at --limit ", limit, "; there are more)");
  if (result.query_seqs.size() == 1) {
    absl::StrAppend(&summary, "; this query was recorded as seq ", result.query_seqs[0]);
  } else {
    absl::StrAppend(&summary, "; this query was recorded as seqs ",
                    absl::StrJoin(result.query_seqs, ", "));
  }
  return summary;
}

void PrintResult(const QueryKind& kind, const QueryResult& result, const QueryFlags& flags) {
  if (flags.json) {
    for (const v1::RecordedEntry& entry : result.entries) fmt::print("{}\n", ToJsonLine(entry));
    // stdout stays pure JSON lines for the next program in the pipe.
    fmt::print(stderr, "{}\n", Summary(kind, result, flags.limit));
    return;
  }
  if (!result.entries.empty()) {
    Table table(kind.header);
    for (const v1::RecordedEntry& entry : result.entries) table.AddRow(kind.row(entry));
    table.Print(stdout);
  }
  fmt::print("{}\n", Summary(kind, result, flags.limit));
}

template <typename Request, typename Response>
int RunQuery(const GlobalOptions& global, const QueryFlags& flags, const QueryKind& kind,
             Request request, ListMethod<Request, Response> method) {
  if (absl::Status s = FillRequest(global, flags, request); !s.ok()) return ReportError(s);
  Client client(global);
  absl::StatusOr<QueryResult> result = FetchPages(client, method, std::move(request), flags.limit);
  if (!result.ok()) return ReportError(result.status());
  PrintResult(kind, *result, flags);
  return kExitOk;
}

CLI::App* AddQueryFlags(CLI::App& app, std::string_view name, std::string_view description,
                        std::string_view id_flag, std::string_view id_help, QueryFlags& flags) {
  CLI::App* command = app.add_subcommand(std::string(name), std::string(description));
  command->add_option(std::string(id_flag), flags.id, std::string(id_help))->required();
  command->add_option("--from", flags.from,
                      "Only events at or after this time (RFC 3339 or local YYYY-MM-DD)");
  command->add_option("--to", flags.to,
                      "Only events before this time (RFC 3339 or local YYYY-MM-DD)");
  command->add_option("--limit", flags.limit, "Most entries to fetch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_flag("--json", flags.json,
                    "Print each RecordedEntry as a JSON line (summary to stderr)");
  command->footer(
      "Times are shown in the local time zone. The query is itself recorded in the "
      "ledger, with --reason.");
  return command;
}

}  // namespace

void AddHistoryCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* command =
      AddQueryFlags(app, "history", "Who accessed a subject's data (ListSubjectAccess)",
                    "--subject", "Subject id, e.g. a national identity number", *flags);
  command->callback([flags, &context] {
    static const QueryKind kind{
        "access",
        "accesses",
        {"time", "who", "action", "what", "why", "expected because", "source", "seq"},
        HistoryRow};
    v1::ListSubjectAccessRequest request;
    request.set_subject_id(flags->id);
    context.exit_code = RunQuery(context.global, *flags, kind, request, &Client::ListSubjectAccess);
  });
}

void AddActivityCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* command = AddQueryFlags(app, "activity", "What an actor did (ListActorActivity)",
                                    "--actor", "Actor id: account or employee id", *flags);
  command->callback([flags, &context] {
    static const QueryKind kind{"action",
                                "actions",
                                {"time", "subject", "action", "what", "why", "source", "seq"},
                                ActivityRow};
    v1::ListActorActivityRequest request;
    request.set_actor_id(flags->id);
    context.exit_code = RunQuery(context.global, *flags, kind, request, &Client::ListActorActivity);
  });
}

}  // namespace innsyn::ctl
