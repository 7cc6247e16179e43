// `innsynctl history` (who accessed a subject's data) and `innsynctl
// activity` (what an actor did). Both follow page tokens up to --limit and
// end by saying where the query itself was recorded: every look at the log
// is logged, and the person asking should know that.
#include <fmt/format.h>

#include <fstream>
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
#include "ctl/completeness.h"
#include "ctl/format.h"
#include "ctl/trust.h"

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
  // Completeness (README, "Complete answers"), checked unless no_verify.
  bool no_verify = false;
  TrustFlags trust;
  std::string since;            // a checkpoint note seen before
  std::string save_checkpoint;  // where to keep the answer's checkpoint note
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
  uint64_t tree_size = 0;            // the tree every page is of
  std::optional<v1::HistoryProof> proof;
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

// With `prove`, the first page brings the proof and names its tree, which
// the pages after it are asked for.
template <typename Request, typename Response>
absl::StatusOr<QueryResult> FetchPages(Client& client, ListMethod<Request, Response> method,
                                       Request request, size_t limit, bool prove) {
  QueryResult result;
  request.set_prove(prove);
  while (result.entries.size() < limit) {
    request.set_page_size(
        static_cast<uint32_t>(std::min<size_t>(kMaxPageSize, limit - result.entries.size())));
    absl::StatusOr<Response> page = (client.*method)(request);
    if (!page.ok()) return page.status();
    if (request.prove()) {
      result.proof = page->proof();
      result.tree_size = page->tree_size();
      request.set_prove(false);
      request.set_tree_size(page->tree_size());
    }
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
    // The proof material last, as one JSON line of its own.
    if (result.proof) fmt::print("{}\n", ToJsonLine(*result.proof));
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

// Checks the answer complete against a checkpoint signed by the trusted
// key, and that this checkpoint extends the one seen before (--since).
absl::StatusOr<CompleteAnswer> Verify(Client& client, Trust& trust, const QueryFlags& flags,
                                      storage::MapSpace space, const QueryResult& result,
                                      const AnswerToCheck& period) {
  AnswerToCheck answer = period;
  answer.space = space;
  answer.id = flags.id;
  answer.tree_size = result.tree_size;
  answer.proof = &*result.proof;
  answer.entries = &result.entries;
  absl::StatusOr<CompleteAnswer> complete = CheckComplete(trust, answer);
  if (!complete.ok()) return complete.status();
  if (!flags.since.empty()) {
    absl::StatusOr<std::string> note = ReadWholeFile(flags.since);
    if (!note.ok()) return note.status();
    absl::StatusOr<storage::CheckpointBody> seen =
        trust.VerifyNote(*note, result.proof->checkpoint());
    if (!seen.ok()) return seen.status();
    if (absl::Status s = CheckExtends(client, *seen, complete->checkpoint); !s.ok()) return s;
  }
  if (!flags.save_checkpoint.empty()) {
    std::ofstream out(flags.save_checkpoint, std::ios::binary | std::ios::trunc);
    out << complete->note;
    if (!out.flush()) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write --save-checkpoint ", flags.save_checkpoint));
    }
  }
  return complete;
}

template <typename Request, typename Response>
int RunQuery(const GlobalOptions& global, const QueryFlags& flags, const QueryKind& kind,
             storage::MapSpace space, Request request, ListMethod<Request, Response> method) {
  if (absl::Status s = FillRequest(global, flags, request); !s.ok()) return ReportError(s);
  absl::StatusOr<Trust> trust = Trust::FromFlags(flags.trust);
  if (!trust.ok()) return ReportError(trust.status());
  AnswerToCheck period;
  if (request.has_from()) period.from = FromProto(request.from());
  if (request.has_to()) period.to = FromProto(request.to());
  Client client(global);
  absl::StatusOr<QueryResult> result =
      FetchPages(client, method, std::move(request), flags.limit, !flags.no_verify);
  if (!result.ok()) return ReportError(result.status());
  PrintResult(kind, *result, flags);
  if (flags.no_verify) return kExitOk;
  if (result->more) {
    fmt::print("complete: not checked, the answer was cut at --limit {}\n", flags.limit);
    return kExitOk;
  }
  absl::StatusOr<CompleteAnswer> complete = Verify(client, *trust, flags, space, *result, period);
  if (!complete.ok()) return ReportError(complete.status());
  fmt::print("complete: {} {}, verified against checkpoint of size {}{}\n", complete->entries,
             complete->entries == 1 ? "entry" : "entries", complete->checkpoint.tree_size,
             trust->pinned() ? "" : " (signed by the server's own key, not a pinned one)");
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
                    "Print each RecordedEntry as a JSON line, then the HistoryProof (summary to "
                    "stderr)");
  command->add_flag("--no-verify", flags.no_verify,
                    "Do not ask for and check the proof that the answer is complete");
  AddTrustFlags(*command, flags.trust);
  command->add_option("--since", flags.since,
                      "A checkpoint note seen before (see --save-checkpoint): the answer's "
                      "checkpoint must extend it, so that an old or forked tree is caught");
  command->add_option("--save-checkpoint", flags.save_checkpoint,
                      "Write the answer's signed checkpoint note here, for the next --since");
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
    context.exit_code = RunQuery(context.global, *flags, kind, storage::MapSpace::kSubject, request,
                                 &Client::ListSubjectAccess);
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
    context.exit_code = RunQuery(context.global, *flags, kind, storage::MapSpace::kActor, request,
                                 &Client::ListActorActivity);
  });
}

}  // namespace innsyn::ctl
