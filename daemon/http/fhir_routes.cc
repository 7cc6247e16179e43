#include "daemon/http/internal/fhir_routes.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/http/fhir_audit_event.h"
#include "daemon/http/json_codec.h"
#include "google/protobuf/util/json_util.h"
#include "storage/hash.h"

namespace innsyn::daemon::http {
namespace {

namespace protobuf = google::protobuf;
using protobuf::Value;

// A portal names the patient it acts for in this header, as in the gRPC
// metadata kActingForMetadata.
constexpr char kActingForHeader[] = "Innsyn-Acting-For";

Value Str(std::string_view text) {
  Value value;
  value.set_string_value(std::string(text));
  return value;
}

Value& Set(Value& object, const char* key, Value value) {
  return (*object.mutable_struct_value()->mutable_fields())[key] = std::move(value);
}

Value& AddItem(Value& list, Value item) {
  return *list.mutable_list_value()->add_values() = std::move(item);
}

const Value* Field(const Value& object, const char* key) {
  if (!object.has_struct_value()) return nullptr;
  auto it = object.struct_value().fields().find(key);
  return it == object.struct_value().fields().end() ? nullptr : &it->second;
}

std::string Text(const Value* value) {
  return value != nullptr && value->kind_case() == Value::kStringValue ? value->string_value() : "";
}

// The OperationOutcome issue type for a status, from FHIR's IssueType.
const char* IssueType(int http_code) {
  switch (http_code) {
    case 400: return "invalid";
    case 401: return "security";
    case 403: return "forbidden";
    case 409: return "duplicate";
    case 413: return "too-long";
    case kUnsupportedMediaType: return "not-supported";
    case 429: return "throttled";
    case 503: return "transient";
    default: return "exception";
  }
}

// A refusal as FHIR says: an OperationOutcome whose issue names the
// element at fault in `expression` (messages of the mapper begin with it).
Reply Outcome(const absl::Status& status, int http_code, std::string expression = "") {
  const std::string message(status.message());
  if (expression.empty() && (message.starts_with("AuditEvent") || message.starts_with("Bundle"))) {
    expression = std::string(message.substr(0, message.find(": ")));
  }
  Value issue;
  Set(issue, "severity", Str("error"));
  Set(issue, "code", Str(IssueType(http_code)));
  Set(issue, "diagnostics", Str(message));
  if (!expression.empty()) AddItem(Set(issue, "expression", Value()), Str(expression));
  Value outcome;
  Set(outcome, "resourceType", Str("OperationOutcome"));
  AddItem(Set(outcome, "issue", Value()), std::move(issue));
  return Reply{http_code, kFhirJson, EncodeJsonValue(outcome)};
}
Reply Outcome(const absl::Status& status) { return Outcome(status, HttpStatusFor(status.code())); }

// The validation names the event as "events[i]"; FHIR names the resource.
std::string ResourceOfEvent(std::string_view message, const std::vector<std::string>& paths) {
  constexpr std::string_view kEvents = "events[";
  if (!message.starts_with(kEvents)) return "";
  size_t index = 0;
  std::string digits(message.substr(kEvents.size(), message.find(']') - kEvents.size()));
  if (!absl::SimpleAtoi(digits, &index) || index >= paths.size()) return "";
  return paths[index];
}

// A FHIR date or dateTime search value with its prefix (ge, gt, le, lt, eq),
// as the [from, to) range of ListSubjectAccess. A date without a time is a
// UTC day.
absl::Status AddDateBound(std::string_view value, v1::ListSubjectAccessRequest& request) {
  std::string_view prefix = "eq";
  if (value.size() > 2 && absl::ascii_isalpha(value[0]) && absl::ascii_isalpha(value[1])) {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  absl::Time start;
  absl::Duration precision = absl::Nanoseconds(1);
  std::string error;
  if (value.size() == 10 &&
      absl::ParseTime("%Y-%m-%d", std::string(value), absl::UTCTimeZone(), &start, &error)) {
    precision = absl::Hours(24);
  } else if (!absl::ParseTime(absl::RFC3339_full, std::string(value), &start, &error)) {
    return absl::InvalidArgumentError(
        "date: give a date (2026-11-20) or an instant with a time zone, after ge, gt, le or lt");
  }
  const auto set_from = [&](absl::Time t) { *request.mutable_from() = ToProto(t); };
  const auto set_to = [&](absl::Time t) { *request.mutable_to() = ToProto(t); };
  if (prefix == "ge") {
    set_from(start);
  } else if (prefix == "gt") {
    set_from(start + precision);
  } else if (prefix == "le") {
    set_to(start + precision);
  } else if (prefix == "lt") {
    set_to(start);
  } else if (prefix == "eq") {
    set_from(start);
    set_to(start + precision);
  } else {
    return absl::InvalidArgumentError(
        StrCat("date: prefix ", prefix, " is not one of eq, ge, gt, le, lt"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListSubjectAccessRequest> SearchRequest(const httplib::Request& http) {
  v1::ListSubjectAccessRequest request;
  for (const auto& [name, value] : http.params) {
    if (name == "patient" || name == "patient.identifier" || name == "entity.identifier") {
      // A token search may carry its system: "urn:oid:...|01017012345".
      request.set_subject_id(value.substr(value.find('|') + 1));
    } else if (name == "date") {
      RETURN_IF_ERROR(AddDateBound(value, request));
    } else if (name == "_count") {
      uint32_t count = 0;
      if (!absl::SimpleAtoi(value, &count)) {
        return absl::InvalidArgumentError("_count must be a whole number");
      }
      request.set_page_size(count);
    } else if (name == "_page_token") {
      request.set_page_token(value);
    } else if (name == "reason") {
      request.set_reason(value);
    } else if (name == "proof") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError("proof must be true or false");
      }
      request.set_prove(value == "true");
    } else if (name == "tree_size") {
      uint64_t size = 0;
      if (!absl::SimpleAtoi(value, &size)) {
        return absl::InvalidArgumentError("tree_size must be a whole number");
      }
      request.set_tree_size(size);
    } else if (name != "_format") {
      return absl::InvalidArgumentError(
          StrCat("search parameter ", name,
                 " is not supported (patient, date, _count, _page_token, reason, proof, "
                 "tree_size)"));
    }
  }
  if (request.subject_id().empty()) {
    return absl::InvalidArgumentError("patient is required: whose accesses to search");
  }
  return request;
}

// The searchset's link to the next page: the same search, one page on, of
// the same tree.
std::string NextPageUrl(const httplib::Request& http, const std::string& token,
                        uint64_t tree_size) {
  std::string url = "AuditEvent?";
  for (const auto& [name, value] : http.params) {
    if (name == "_page_token" || name == "tree_size") continue;
    url += StrCat(httplib::detail::encode_query_param(name), "=",
                  httplib::detail::encode_query_param(value), "&");
  }
  return StrCat(url, "tree_size=", tree_size,
                "&_page_token=", httplib::detail::encode_query_param(token));
}

// What proves a page complete (README, "Complete answers over HTTP"): the
// gRPC answer of the page without the entries' contents (each entry's seq,
// kind, hour and whether it is erased), with its HistoryProof and tree
// size, as JSON in a Binary resource.
absl::StatusOr<Value> AnswerProof(const v1::ListSubjectAccessResponse& response) {
  v1::ListSubjectAccessResponse index;
  for (const v1::RecordedEntry& recorded : response.entries()) {
    v1::RecordedEntry& entry = *index.add_entries();
    entry.set_seq(recorded.seq());
    entry.set_kind(recorded.kind());
    *entry.mutable_hour() = recorded.hour();
    entry.set_erased(recorded.erased());
  }
  *index.mutable_proof() = response.proof();
  index.set_tree_size(response.tree_size());
  index.set_query_seq(response.query_seq());
  index.set_next_page_token(response.next_page_token());
  std::string json;
  protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (auto s = protobuf::util::MessageToJsonString(index, &json, options); !s.ok()) {
    return absl::InternalError(StrCat("the answer proof does not encode: ", s.ToString()));
  }
  Value binary;
  Set(binary, "resourceType", Str("Binary"));
  Set(binary, "contentType", Str(kAnswerProofType));
  Set(binary, "data", Str(storage::Base64Encode(json)));
  Value entry;
  Set(entry, "fullUrl", Str("urn:innsyn:answer-proof"));
  Set(entry, "resource", std::move(binary));
  Value mode;
  Set(mode, "mode", Str("include"));
  Set(entry, "search", std::move(mode));
  return entry;
}

}  // namespace

absl::Status FhirRoutes::Append(const httplib::Request& request,
                                const std::vector<const Value*>& resources,
                                const std::vector<std::string>& paths, v1::AppendResponse& response,
                                std::vector<v1::AccessEvent>& events) const {
  ASSIGN_OR_RETURN(CallGate::Pass pass,
                   gate_->Admit(CallerOf(request, gate_->mtls()), Method::kAppend));
  v1::AppendRequest append;
  for (size_t i = 0; i < resources.size(); ++i) {
    absl::StatusOr<v1::AccessEvent> event = AuditEventToAccessEvent(*resources[i], paths[i]);
    if (!event.ok()) {
      ingest_->CountUndecodable();
      return event.status();
    }
    *append.add_events() = *event;
  }
  RETURN_IF_ERROR(ingest_->AppendBatch(append, response));
  events.assign(append.events().begin(), append.events().end());
  return absl::OkStatus();
}

Reply FhirRoutes::CreateAuditEvent(const httplib::Request& request) const {
  if (absl::Status s = CheckContentType(request, {kFhirJson, kJson}); !s.ok()) {
    return Outcome(s, kUnsupportedMediaType);
  }
  absl::StatusOr<Value> resource = ParseJsonValue(request.body);
  if (!resource.ok()) return Outcome(resource.status());
  v1::AppendResponse response;
  std::vector<v1::AccessEvent> events;
  const std::vector<std::string> paths = {"AuditEvent"};
  if (absl::Status s = Append(request, {&*resource}, paths, response, events); !s.ok()) {
    return Outcome(s, HttpStatusFor(s.code()), ResourceOfEvent(std::string(s.message()), paths));
  }
  const bool duplicate = response.receipts(0).duplicate();
  return Reply{duplicate ? 200 : 201,
               kFhirJson,
               EncodeJsonValue(AccessEventToAuditEvent(events[0])),
               {{"Location", StrCat("AuditEvent/", events[0].event_id())}}};
}

Reply FhirRoutes::PostBundle(const httplib::Request& request) const {
  if (absl::Status s = CheckContentType(request, {kFhirJson, kJson}); !s.ok()) {
    return Outcome(s, kUnsupportedMediaType);
  }
  absl::StatusOr<Value> bundle = ParseJsonValue(request.body);
  if (!bundle.ok()) return Outcome(bundle.status());
  if (Text(Field(*bundle, "resourceType")) != "Bundle") {
    return Outcome(absl::InvalidArgumentError("Bundle.resourceType: POST /fhir takes a Bundle"));
  }
  const std::string type = Text(Field(*bundle, "type"));
  if (type != "transaction" && type != "batch") {
    return Outcome(absl::InvalidArgumentError(
        "Bundle.type: must be transaction or batch (either is recorded all or nothing)"));
  }
  std::vector<const Value*> resources;
  std::vector<std::string> paths;
  if (const Value* entries = Field(*bundle, "entry"); entries != nullptr) {
    for (const Value& entry : entries->list_value().values()) {
      const std::string at = StrCat("Bundle.entry[", paths.size(), "]");
      const Value* entry_request = Field(entry, "request");
      if (entry_request != nullptr && (Text(Field(*entry_request, "method")) != "POST" ||
                                       Text(Field(*entry_request, "url")) != "AuditEvent")) {
        return Outcome(absl::InvalidArgumentError(
            StrCat(at, ".request: only POST AuditEvent (ITI-20) is accepted")));
      }
      const Value* resource = Field(entry, "resource");
      if (resource == nullptr) {
        return Outcome(absl::InvalidArgumentError(StrCat(at, ".resource: is required")));
      }
      resources.push_back(resource);
      paths.push_back(StrCat(at, ".resource"));
    }
  }
  if (resources.empty()) {
    return Outcome(absl::InvalidArgumentError("Bundle.entry: holds no AuditEvent"));
  }
  v1::AppendResponse response;
  std::vector<v1::AccessEvent> events;
  if (absl::Status s = Append(request, resources, paths, response, events); !s.ok()) {
    return Outcome(s, HttpStatusFor(s.code()), ResourceOfEvent(std::string(s.message()), paths));
  }
  Value answer;
  Set(answer, "resourceType", Str("Bundle"));
  Set(answer, "type", Str(type + "-response"));
  Value& entries = Set(answer, "entry", Value());
  entries.mutable_list_value();
  for (int i = 0; i < response.receipts_size(); ++i) {
    Value result;
    Set(result, "status", Str(response.receipts(i).duplicate() ? "200 OK" : "201 Created"));
    Set(result, "location", Str(StrCat("AuditEvent/", events[static_cast<size_t>(i)].event_id())));
    Value entry;
    Set(entry, "response", std::move(result));
    AddItem(entries, std::move(entry));
  }
  return Reply{200, kFhirJson, EncodeJsonValue(answer)};
}

Reply FhirRoutes::SearchAuditEvents(const httplib::Request& request) const {
  absl::StatusOr<v1::ListSubjectAccessRequest> search = SearchRequest(request);
  std::optional<std::string> acting_for;
  if (request.has_header(kActingForHeader)) {
    acting_for = request.get_header_value(kActingForHeader);
  }
  const absl::StatusOr<Caller> caller = CallerOf(request, gate_->mtls());
  v1::ListSubjectAccessResponse response;
  // A bad search is refused after the gate, as over gRPC, so that a caller
  // without the right is refused (and recorded) whatever it asked.
  absl::Status status = access_log_->ListSubjectAccessFor(
      [&](Method method, const v1::QueryRecord& asked) -> absl::StatusOr<CallGate::Pass> {
        ASSIGN_OR_RETURN(CallGate::Pass pass, gate_->Admit(caller, method, asked, acting_for));
        RETURN_IF_ERROR(search.status());
        return pass;
      },
      search.ok() ? *search : v1::ListSubjectAccessRequest(), response);
  if (!status.ok()) return Outcome(status);
  Value bundle;
  Set(bundle, "resourceType", Str("Bundle"));
  Set(bundle, "type", Str("searchset"));
  // The seq at which this search was itself recorded in the ledger.
  Value identifier;
  Set(identifier, "system", Str("urn:innsyn:query-seq"));
  Set(identifier, "value", Str(std::to_string(response.query_seq())));
  Set(bundle, "identifier", std::move(identifier));
  if (!response.next_page_token().empty()) {
    Value next;
    Set(next, "relation", Str("next"));
    Set(next, "url", Str(NextPageUrl(request, response.next_page_token(), response.tree_size())));
    AddItem(Set(bundle, "link", Value()), std::move(next));
  }
  Value& entries = Set(bundle, "entry", Value());
  entries.mutable_list_value();
  size_t erased = 0;
  for (const v1::RecordedEntry& recorded : response.entries()) {
    if (recorded.erased()) ++erased;
    if (!recorded.entry().has_access_event()) continue;
    Value entry;
    Set(entry, "fullUrl", Str(StrCat("urn:innsyn:seq:", recorded.seq())));
    Set(entry, "resource", AccessEventToAuditEvent(recorded.entry().access_event()));
    Value mode;
    Set(mode, "mode", Str("match"));
    Set(entry, "search", std::move(mode));
    AddItem(entries, std::move(entry));
  }
  if (erased > 0) {
    Value issue;
    Set(issue, "severity", Str("information"));
    Set(issue, "code", Str("deleted"));
    Set(issue, "diagnostics",
        Str(StrCat(erased,
                   " entries on this page were erased (their keys shredded); the "
                   "gRPC ListSubjectAccess names them")));
    Value entry;
    Value resource;
    Set(resource, "resourceType", Str("OperationOutcome"));
    AddItem(Set(resource, "issue", Value()), std::move(issue));
    Set(entry, "resource", std::move(resource));
    Value mode;
    Set(mode, "mode", Str("outcome"));
    Set(entry, "search", std::move(mode));
    AddItem(entries, std::move(entry));
  }
  if (response.has_proof()) {
    absl::StatusOr<Value> proof = AnswerProof(response);
    if (!proof.ok()) return Outcome(proof.status());
    AddItem(entries, *std::move(proof));
  }
  return Reply{200, kFhirJson, EncodeJsonValue(bundle)};
}

}  // namespace innsyn::daemon::http
