#include "daemon/services/alert_service.h"

#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/services/grpc_status.h"

namespace innsyn::daemon {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxReasonBytes = 1024;
constexpr size_t kMaxNoteBytes = 4096;
// GDPR Art. 33(1): notify the supervisory authority within 72 hours of
// becoming aware of a personal data breach.
constexpr absl::Duration kBreachNotificationDeadline = absl::Hours(72);
// How long an UpdateAlert waits for the monitor to apply its decision.
constexpr absl::Duration kApplyWait = absl::Seconds(5);
// Changes sent per write burst, and how often a quiet watch looks again.
constexpr size_t kUpdatesPerBurst = 100;
constexpr absl::Duration kWatchPoll = absl::Milliseconds(500);

absl::Status CheckLength(std::string_view field, const std::string& value, size_t most) {
  if (value.size() <= most) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(field, " is longer than ", most, " bytes"));
}

absl::StatusOr<AlertFilter> MakeFilter(const v1::ListAlertsRequest& request) {
  AlertFilter filter;
  for (int state : request.states()) {
    if (!v1::AlertState_IsValid(state) || state == v1::ALERT_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(StrCat("states: ", state, " is not an alert state"));
    }
    filter.states.push_back(static_cast<v1::AlertState>(state));
  }
  RETURN_IF_ERROR(CheckLength("rule", request.rule(), kMaxIdBytes));
  RETURN_IF_ERROR(CheckLength("actor_id", request.actor_id(), kMaxIdBytes));
  RETURN_IF_ERROR(CheckLength("subject_id", request.subject_id(), kMaxIdBytes));
  RETURN_IF_ERROR(CheckLength("reason", request.reason(), kMaxReasonBytes));
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(StrCat("page_size is above ", kMaxPageSize));
  }
  filter.rule = request.rule();
  filter.actor_id = request.actor_id();
  filter.subject_id = request.subject_id();
  if (request.has_from()) filter.from = FromProto(request.from());
  if (request.has_to()) filter.to = FromProto(request.to());
  if (filter.from && filter.to && *filter.from >= *filter.to) {
    return absl::InvalidArgumentError("from must be before to");
  }
  return filter;
}

// The page token is the seq of the last alert of the page before.
absl::StatusOr<uint64_t> ParsePageToken(const std::string& page_token) {
  if (page_token.empty()) return 0;
  std::optional<uint64_t> after_seq = ParseDecimal(page_token);
  if (!after_seq) return absl::InvalidArgumentError("page_token is not one this server issued");
  return *after_seq;
}

v1::QueryRecord Asked(std::string_view method, const std::string& subject_id,
                      const std::string& actor_id, const std::string& reason) {
  v1::QueryRecord record;
  record.set_method(std::string(method));
  record.set_subject_id(subject_id);
  record.set_actor_id(actor_id);
  record.set_reason(reason);
  return record;
}

void SetCaller(const Caller& caller, v1::QueryRecord& record) {
  record.set_caller(caller.identity);
  record.set_caller_role(caller.role);
}

absl::Status CheckDecision(const v1::UpdateAlertRequest& request) {
  if (request.alert_id().empty()) return absl::InvalidArgumentError("alert_id is required");
  RETURN_IF_ERROR(CheckLength("alert_id", request.alert_id(), kMaxIdBytes));
  RETURN_IF_ERROR(CheckLength("note", request.note(), kMaxNoteBytes));
  const v1::AlertState state = request.state();
  if (state != v1::ALERT_STATE_ACKNOWLEDGED && !IsResolved(state)) {
    return absl::InvalidArgumentError(
        "state must be ACKNOWLEDGED or one of RESOLVED_JUSTIFIED, RESOLVED_VIOLATION, "
        "RESOLVED_FALSE_POSITIVE");
  }
  if (IsResolved(state) && request.note().empty()) {
    return absl::InvalidArgumentError("note is required to resolve an alert: say why");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status AlertService::ListAlerts(grpc::ServerContext* context,
                                      const v1::ListAlertsRequest* request,
                                      v1::ListAlertsResponse* response) {
  return ToGrpcStatus(ListAlertsFor(GrpcAdmission(gate_, *context), *request, *response));
}

absl::Status AlertService::ListAlertsFor(const Admission& admit,
                                         const v1::ListAlertsRequest& request,
                                         v1::ListAlertsResponse& response) {
  const absl::Time start = Now();
  v1::QueryRecord record =
      Asked("ListAlerts", request.subject_id(), request.actor_id(), request.reason());
  ASSIGN_OR_RETURN(CallGate::Pass pass, admit(Method::kListAlerts, record));
  ASSIGN_OR_RETURN(AlertFilter filter, MakeFilter(request));
  ASSIGN_OR_RETURN(uint64_t after_seq, ParsePageToken(request.page_token()));
  const size_t limit = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  bool more = false;
  std::vector<v1::AlertView> alerts;
  std::vector<v1::Incident> incidents;
  size_t results = 0;
  if (request.incidents()) {
    incidents = book_.ListIncidents(filter, after_seq, limit, more);
    for (const v1::Incident& incident : incidents) results += incident.alerts_size();
  } else {
    alerts = book_.List(filter, after_seq, limit, more);
    results = alerts.size();
  }
  SetCaller(pass.caller(), record);
  if (request.has_from()) *record.mutable_range_from() = request.from();
  if (request.has_to()) *record.mutable_range_to() = request.to();
  record.set_results(results);
  ASSIGN_OR_RETURN(v1::AppendReceipt receipt, ledger_.AppendQuery(record));
  for (v1::AlertView& view : alerts) *response.add_alerts() = std::move(view);
  for (v1::Incident& incident : incidents) *response.add_incidents() = std::move(incident);
  // The token is the seq of the last alert, or of the last incident's
  // first alert, on this page.
  if (more && request.incidents()) {
    response.set_next_page_token(StrCat(response.incidents().rbegin()->alerts(0).seq()));
  } else if (more) {
    response.set_next_page_token(StrCat(response.alerts().rbegin()->seq()));
  }
  response.set_query_seq(receipt.seq());
  metrics_.ObserveQueryLatency("ListAlerts", Now() - start);
  return absl::OkStatus();
}

grpc::Status AlertService::WatchAlerts(grpc::ServerContext* context,
                                       const v1::WatchAlertsRequest* request,
                                       grpc::ServerWriter<v1::AlertUpdate>* writer) {
  return ToGrpcStatus(DoWatchAlerts(*context, *request, *writer));
}

absl::Status AlertService::DoWatchAlerts(grpc::ServerContext& context,
                                         const v1::WatchAlertsRequest& request,
                                         grpc::ServerWriter<v1::AlertUpdate>& writer) {
  v1::QueryRecord record = Asked("WatchAlerts", "", "", request.reason());
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kWatchAlerts, record));
  RETURN_IF_ERROR(CheckLength("after_alert_id", request.after_alert_id(), kMaxIdBytes));
  RETURN_IF_ERROR(CheckLength("reason", request.reason(), kMaxReasonBytes));
  uint64_t cursor = book_.LatestUpdateSeq();
  if (!request.after_alert_id().empty()) {
    std::optional<uint64_t> seq = book_.SeqOf(request.after_alert_id());
    if (!seq) {
      return absl::NotFoundError(
          StrCat("after_alert_id: no alert \"", request.after_alert_id(), "\" has been raised"));
    }
    cursor = *seq;
  }
  SetCaller(pass.caller(), record);
  RETURN_IF_ERROR(ledger_.AppendQuery(record).status());
  // Headers go out now, so a client knows the watch has started.
  writer.SendInitialMetadata();
  while (!context.IsCancelled() && !stopping_) {
    std::vector<v1::AlertUpdate> updates = book_.UpdatesAfter(cursor, kUpdatesPerBurst);
    if (updates.empty()) {
      book_.WaitForUpdatesAfter(cursor, kWatchPoll);
      continue;
    }
    for (const v1::AlertUpdate& update : updates) {
      if (!writer.Write(update)) return absl::OkStatus();  // the client went away
      cursor = update.seq();
    }
  }
  if (stopping_) return absl::UnavailableError("innsynd is stopping");
  return absl::OkStatus();
}

grpc::Status AlertService::UpdateAlert(grpc::ServerContext* context,
                                       const v1::UpdateAlertRequest* request,
                                       v1::UpdateAlertResponse* response) {
  return ToGrpcStatus(UpdateAlertFor(GrpcAdmission(gate_, *context), *request, *response));
}

absl::Status AlertService::UpdateAlertFor(const Admission& admit,
                                          const v1::UpdateAlertRequest& request,
                                          v1::UpdateAlertResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass,
                   admit(Method::kUpdateAlert, Asked("UpdateAlert", "", "", request.note())));
  RETURN_IF_ERROR(CheckDecision(request));
  std::optional<v1::AlertView> current = book_.Find(request.alert_id());
  if (!current) {
    return absl::NotFoundError(
        StrCat("alert_id: no alert \"", request.alert_id(), "\" has been raised"));
  }
  if (IsResolved(current->state()) && request.state() == v1::ALERT_STATE_ACKNOWLEDGED) {
    return absl::FailedPreconditionError(
        StrCat("alert ", request.alert_id(), " is already resolved (",
               AlertStateName(current->state()), "); a new resolution with a note may replace it"));
  }
  v1::AlertDecision decision;
  decision.set_alert_id(request.alert_id());
  decision.set_state(request.state());
  decision.set_note(request.note());
  decision.set_decided_by(pass.caller().identity);
  decision.set_decided_by_role(pass.caller().role);
  decision.set_subject_id(current->alert().subject_id());
  decision.set_actor_id(current->alert().actor_id());
  if (request.state() == v1::ALERT_STATE_RESOLVED_VIOLATION) {
    *decision.mutable_notify_authority_by() = ToProtoMicros(Now() + kBreachNotificationDeadline);
  }
  ASSIGN_OR_RETURN(*response.mutable_receipt(), ledger_.AppendAlertDecision(decision));
  // The decision is durable; the book shows it once the monitor reads it.
  book_.WaitApplied(response.receipt().seq() + 1, kApplyWait);
  std::optional<v1::AlertView> updated = book_.Find(request.alert_id());
  *response.mutable_alert() = updated ? *updated : *current;
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
