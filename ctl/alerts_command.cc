// `innsynctl alerts`: the anomaly detectors' alerts and their triage.
//   alerts list     ListAlerts, with filters; follows pages up to --limit;
//                   --incidents has them grouped into incidents
//   alerts watch    WatchAlerts: prints changes as they happen (--after ID resumes)
//   alerts ack      UpdateAlert to ACKNOWLEDGED
//   alerts resolve  UpdateAlert to a resolution, with a note
//                   (ack and resolve take --incident for all of an incident's)
// Every decision is a ledger entry naming who decided; list and watch are
// recorded as queries, like any look at personal data.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/client.h"
#include "ctl/command.h"
#include "ctl/format.h"

namespace innsyn::ctl {
namespace {

constexpr uint32_t kMaxPageSize = 1000;  // the server's limit

struct ListFlags {
  std::vector<std::string> states;
  std::string rule;
  std::string actor;
  std::string subject;
  std::string from;
  std::string to;
  size_t limit = 1000;
  bool json = false;
  bool incidents = false;
};

struct WatchFlags {
  std::string after;
  size_t count = 0;  // 0: until interrupted
  bool json = false;
};

struct DecisionFlags {
  std::string alert_id;
  std::string incident_id;
  std::string resolution;
  std::string note;
  bool json = false;
};

// "violation" -> RESOLVED_VIOLATION; the labels users type are the state
// labels without "resolved_", with "-" or "_".
absl::StatusOr<v1::AlertState> ParseState(const char* flag, std::string text) {
  for (char& c : text) c = c == '-' ? '_' : c;
  if (auto state = ParseLabel<v1::AlertState>(text)) return *state;
  if (auto state = ParseLabel<v1::AlertState>(absl::StrCat("resolved_", text))) return *state;
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": \"", text,
                   "\" is not an alert state (open, acknowledged, justified, violation, "
                   "false-positive)"));
}

std::string StateText(const v1::AlertView& view) {
  std::string state = Label(view.state());
  if (state.starts_with("resolved_")) state = state.substr(9);
  if (view.has_notify_authority_by()) {
    absl::StrAppend(&state, " (notify the supervisory authority by ",
                    LocalMinute(view.notify_authority_by()), ")");
  }
  return state;
}

std::vector<std::string> AlertRow(const v1::AlertView& view) {
  const v1::Alert& alert = view.alert();
  return {LocalMinute(alert.occurred_at()),
          alert.rule(),
          Label(alert.severity()),
          StateText(view),
          alert.actor_id().empty() ? "-" : alert.actor_id(),
          alert.subject_id().empty() ? "-" : alert.subject_id(),
          alert.summary(),
          alert.alert_id()};
}

const std::vector<std::string>& AlertHeader() {
  static const auto* const kHeader = new std::vector<std::string>{
      "occurred", "rule", "severity", "state", "actor", "subject", "summary", "id"};
  return *kHeader;
}

std::vector<std::string> IncidentRow(const v1::Incident& incident) {
  std::string state = Label(incident.state());
  if (state.starts_with("resolved_")) state = state.substr(9);
  return {incident.local_date(),
          incident.rule(),
          Label(incident.severity()),
          state,
          incident.actor_id().empty() ? "-" : incident.actor_id(),
          absl::StrCat(incident.alerts_size()),
          incident.subject_ids().empty() ? "-" : absl::StrJoin(incident.subject_ids(), ", "),
          incident.incident_id()};
}

absl::Status FillListRequest(const GlobalOptions& global, const ListFlags& flags,
                             v1::ListAlertsRequest& request) {
  request.set_reason(global.reason);
  request.set_incidents(flags.incidents);
  request.set_rule(flags.rule);
  request.set_actor_id(flags.actor);
  request.set_subject_id(flags.subject);
  for (const std::string& text : flags.states) {
    absl::StatusOr<v1::AlertState> state = ParseState("--state", text);
    if (!state.ok()) return state.status();
    request.add_states(*state);
  }
  for (auto [flag, text, field] : {std::tuple{"--from", &flags.from, request.mutable_from()},
                                   std::tuple{"--to", &flags.to, request.mutable_to()}}) {
    absl::StatusOr<std::optional<google::protobuf::Timestamp>> time = ParseTimeFlag(flag, *text);
    if (!time.ok()) return time.status();
    if (*time) *field = **time;
  }
  if (flags.from.empty()) request.clear_from();
  if (flags.to.empty()) request.clear_to();
  return absl::OkStatus();
}

int RunList(const GlobalOptions& global, const ListFlags& flags) {
  v1::ListAlertsRequest request;
  if (absl::Status s = FillListRequest(global, flags, request); !s.ok()) return ReportError(s);
  Client client(global);
  std::vector<v1::AlertView> alerts;
  std::vector<v1::Incident> incidents;
  std::vector<uint64_t> query_seqs;
  bool more = false;
  // --limit counts what is listed: alerts, or incidents with --incidents.
  auto listed = [&] { return flags.incidents ? incidents.size() : alerts.size(); };
  while (listed() < flags.limit) {
    request.set_page_size(
        static_cast<uint32_t>(std::min<size_t>(kMaxPageSize, flags.limit - listed())));
    absl::StatusOr<v1::ListAlertsResponse> page = client.ListAlerts(request);
    if (!page.ok()) return ReportError(page.status());
    query_seqs.push_back(page->query_seq());
    for (v1::AlertView& view : *page->mutable_alerts()) alerts.push_back(std::move(view));
    for (v1::Incident& incident : *page->mutable_incidents()) {
      incidents.push_back(std::move(incident));
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
    more = listed() >= flags.limit;
  }
  size_t alert_count = alerts.size();
  for (const v1::Incident& incident : incidents) alert_count += incident.alerts_size();
  std::string summary = fmt::format("{} alert{}", alert_count, alert_count == 1 ? "" : "s");
  if (flags.incidents) {
    summary = fmt::format("{} incident{} from {}", incidents.size(),
                          incidents.size() == 1 ? "" : "s", summary);
  }
  if (more) absl::StrAppend(&summary, " (stopped at --limit ", flags.limit, "; there are more)");
  absl::StrAppend(&summary, "; this query was recorded as seq", query_seqs.size() == 1 ? " " : "s ",
                  absl::StrJoin(query_seqs, ", "));
  if (flags.json) {
    for (const v1::AlertView& view : alerts) fmt::print("{}\n", ToJsonLine(view));
    for (const v1::Incident& incident : incidents) fmt::print("{}\n", ToJsonLine(incident));
    fmt::print(stderr, "{}\n", summary);
    return kExitOk;
  }
  if (!alerts.empty()) {
    Table table(AlertHeader());
    for (const v1::AlertView& view : alerts) table.AddRow(AlertRow(view));
    table.Print(stdout);
  }
  if (!incidents.empty()) {
    Table table({"day", "rule", "severity", "state", "actor", "alerts", "patients", "incident"});
    for (const v1::Incident& incident : incidents) table.AddRow(IncidentRow(incident));
    table.Print(stdout);
  }
  fmt::print("{}\n", summary);
  return kExitOk;
}

int RunWatch(const GlobalOptions& global, const WatchFlags& flags) {
  v1::WatchAlertsRequest request;
  request.set_after_alert_id(flags.after);
  request.set_reason(global.reason);
  Client client(global);
  size_t seen = 0;
  absl::Status status = client.WatchAlerts(request, [&](const v1::AlertUpdate& update) {
    if (flags.json) {
      fmt::print("{}\n", ToJsonLine(update));
    } else {
      const v1::AlertView& view = update.alert();
      const bool raised = update.seq() == view.seq();
      fmt::print("seq {} {} {} [{}] {}: {}\n", update.seq(), raised ? "raised" : "decided",
                 view.alert().alert_id(), StateText(view), view.alert().rule(),
                 view.alert().summary());
    }
    std::fflush(stdout);
    return flags.count == 0 || ++seen < flags.count;
  });
  if (!status.ok()) return ReportError(status);
  return kExitOk;
}

bool Undecided(v1::AlertState state) {
  return state == v1::ALERT_STATE_OPEN || state == v1::ALERT_STATE_ACKNOWLEDGED;
}

// The alerts of incident `id` ("<rule>/<actor_id>/<YYYY-MM-DD>", or an
// alert id for an alert about no actor), found by listing the incidents of
// its rule and actor.
absl::StatusOr<std::vector<v1::AlertView>> IncidentAlerts(const GlobalOptions& global,
                                                          Client& client, const std::string& id) {
  const size_t first = id.find('/'), last = id.rfind('/');
  v1::ListAlertsRequest request;
  request.set_reason(global.reason);
  request.set_incidents(true);
  request.set_page_size(kMaxPageSize);
  if (first != std::string::npos && first != last) {
    request.set_rule(id.substr(0, first));
    request.set_actor_id(id.substr(first + 1, last - first - 1));
  }
  while (true) {
    absl::StatusOr<v1::ListAlertsResponse> page = client.ListAlerts(request);
    if (!page.ok()) return page.status();
    for (const v1::Incident& incident : page->incidents()) {
      if (incident.incident_id() == id) {
        return std::vector<v1::AlertView>(incident.alerts().begin(), incident.alerts().end());
      }
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return absl::NotFoundError(
      absl::StrCat("--incident: no incident ", id, " (see `innsynctl alerts list --incidents`)"));
}

// Decides every alert of an incident that is not decided yet, one
// UpdateAlert (one ledger entry) each, with the same state and note.
int RunIncidentDecision(const GlobalOptions& global, const DecisionFlags& flags,
                        v1::AlertState state) {
  Client client(global);
  absl::StatusOr<std::vector<v1::AlertView>> alerts =
      IncidentAlerts(global, client, flags.incident_id);
  if (!alerts.ok()) return ReportError(alerts.status());
  std::vector<uint64_t> seqs;
  size_t skipped = 0;
  for (const v1::AlertView& view : *alerts) {
    if (!Undecided(view.state()) || view.state() == state) {
      ++skipped;
      continue;
    }
    v1::UpdateAlertRequest request;
    request.set_alert_id(view.alert().alert_id());
    request.set_state(state);
    request.set_note(flags.note);
    absl::StatusOr<v1::UpdateAlertResponse> response = client.UpdateAlert(request);
    if (!response.ok()) return ReportError(response.status());
    if (flags.json) fmt::print("{}\n", ToJsonLine(*response));
    seqs.push_back(response->receipt().seq());
  }
  if (flags.json) return kExitOk;
  fmt::print(
      "incident {}: {} of its {} alert{} now {}{}; {}\n", flags.incident_id, seqs.size(),
      alerts->size(), alerts->size() == 1 ? "" : "s", Label(state),
      skipped == 0 ? "" : absl::StrCat(" (", skipped, " already decided, left as they were)"),
      seqs.empty() ? "nothing was recorded"
                   : absl::StrCat("the decisions were recorded as seq",
                                  seqs.size() == 1 ? " " : "s ", absl::StrJoin(seqs, ", ")));
  return kExitOk;
}

int RunDecision(const GlobalOptions& global, const DecisionFlags& flags, v1::AlertState state) {
  if (flags.alert_id.empty() == flags.incident_id.empty()) {
    return ReportError(absl::InvalidArgumentError(
        "give an alert_id or --incident (from `innsynctl alerts list --incidents`), not both"));
  }
  if (!flags.incident_id.empty()) return RunIncidentDecision(global, flags, state);
  v1::UpdateAlertRequest request;
  request.set_alert_id(flags.alert_id);
  request.set_state(state);
  request.set_note(flags.note);
  Client client(global);
  absl::StatusOr<v1::UpdateAlertResponse> response = client.UpdateAlert(request);
  if (!response.ok()) return ReportError(response.status());
  if (flags.json) {
    fmt::print("{}\n", ToJsonLine(*response));
    return kExitOk;
  }
  fmt::print("alert {} is now {}; the decision was recorded as seq {}\n", flags.alert_id,
             StateText(response->alert()), response->receipt().seq());
  return kExitOk;
}

void AddListCommand(CLI::App& alerts, CommandContext& context) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* command = alerts.add_subcommand("list", "Alerts, oldest first (ListAlerts)");
  command->add_option("--state", flags->states,
                      "Only alerts in these states: open, acknowledged, justified, violation, "
                      "false-positive (repeatable)");
  command->add_option("--rule", flags->rule, "Only this rule, e.g. no_care_relationship");
  command->add_option("--actor", flags->actor, "Only alerts about this actor");
  command->add_option("--subject", flags->subject, "Only alerts about this subject");
  command->add_option("--from", flags->from, "Only activity at or after this time");
  command->add_option("--to", flags->to, "Only activity before this time");
  command->add_option("--limit", flags->limit, "Most alerts to fetch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_flag("--json", flags->json, "Print each AlertView (or Incident) as a JSON line");
  command->add_flag("--incidents", flags->incidents,
                    "Group the alerts into incidents: one rule, one actor, one local day, with "
                    "its patients (--limit then counts incidents)");
  command->callback([flags, &context] { context.exit_code = RunList(context.global, *flags); });
}

void AddWatchCommand(CLI::App& alerts, CommandContext& context) {
  auto flags = std::make_shared<WatchFlags>();
  CLI::App* command =
      alerts.add_subcommand("watch", "Print alerts and decisions as they happen (WatchAlerts)");
  command->add_option("--after", flags->after,
                      "Resume after this alert id: first everything since it");
  command->add_option("--count", flags->count, "Stop after this many changes (0: never)")
      ->capture_default_str();
  command->add_flag("--json", flags->json, "Print each AlertUpdate as a JSON line");
  command->callback([flags, &context] { context.exit_code = RunWatch(context.global, *flags); });
}

void AddDecisionCommands(CLI::App& alerts, CommandContext& context) {
  auto ack = std::make_shared<DecisionFlags>();
  CLI::App* command = alerts.add_subcommand("ack", "Acknowledge an alert: someone is on it");
  command->add_option("alert_id", ack->alert_id, "The alert's id");
  command->add_option("--incident", ack->incident_id,
                      "Every alert of this incident instead (its id from `alerts list "
                      "--incidents`)");
  command->add_option("--note", ack->note, "A note for the record");
  command->add_flag("--json", ack->json, "Print the UpdateAlertResponse as JSON");
  command->callback([ack, &context] {
    context.exit_code = RunDecision(context.global, *ack, v1::ALERT_STATE_ACKNOWLEDGED);
  });

  auto resolve = std::make_shared<DecisionFlags>();
  command = alerts.add_subcommand("resolve", "Resolve an alert, saying why");
  command->add_option("alert_id", resolve->alert_id, "The alert's id");
  command->add_option("--incident", resolve->incident_id,
                      "Every undecided alert of this incident instead (its id from `alerts list "
                      "--incidents`), one decision entry each");
  command
      ->add_option("--as", resolve->resolution,
                   "justified (a lawful reason), violation (a confirmed breach: starts the "
                   "72-hour GDPR Art. 33 clock), or false-positive")
      ->required();
  command->add_option("--note", resolve->note, "Why; recorded in the ledger")->required();
  command->add_flag("--json", resolve->json, "Print the UpdateAlertResponse as JSON");
  command->callback([resolve, &context] {
    absl::StatusOr<v1::AlertState> state = ParseState("--as", resolve->resolution);
    if (state.ok() && (*state == v1::ALERT_STATE_OPEN || *state == v1::ALERT_STATE_ACKNOWLEDGED)) {
      state = absl::InvalidArgumentError("--as: must be justified, violation or false-positive");
    }
    context.exit_code =
        state.ok() ? RunDecision(context.global, *resolve, *state) : ReportError(state.status());
  });
}

}  // namespace

void AddAlertsCommand(CLI::App& app, CommandContext& context) {
  CLI::App* alerts = app.add_subcommand("alerts", "Anomaly alerts and their triage");
  alerts->require_subcommand(1);
  AddListCommand(*alerts, context);
  AddWatchCommand(*alerts, context);
  AddDecisionCommands(*alerts, context);
}

}  // namespace innsyn::ctl
