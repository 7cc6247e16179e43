#include "report/fhir_report.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "report/answer.h"

namespace innsyn::report {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kDicom[] = "http://dicom.nema.org/resources/ontology/DCM";
constexpr char kRestful[] = "http://hl7.org/fhir/restful-interaction";
constexpr char kActReason[] = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr char kEntityType[] = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr char kObjectRole[] = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr char kParticipation[] = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr char kSourceType[] = "http://terminology.hl7.org/CodeSystem/security-source-type";
// innsyn's own codes where neither DICOM nor FHIR has one (print, consent,
// emergency access), and the DICOM/BALP code beside it where there is one.
constexpr char kInnsynSubtype[] = "urn:innsyn:action-subtype";
constexpr char kDataObjectType[] = "urn:innsyn:data-object-type";
constexpr char kSubjectKind[] = "urn:innsyn:subject-kind";
// Why innsyn expected an access, as an extension: it is no part of the
// event, so the feed, which ignores extensions, records the same event.
constexpr char kExplanationExtension[] = "urn:innsyn:explanation";
constexpr char kLegalBasisDetail[] = "legal_basis";

Json Coding(std::string_view system, std::string_view code, std::string_view display = "") {
  Json coding = {{"system", system}, {"code", code}};
  if (!display.empty()) coding["display"] = display;
  return coding;
}

// innsyn's own codes are the enum value's name without its type's prefix,
// in lower case (ACTION_SUBTYPE_BREAK_GLASS: "break_glass"), as the FHIR
// feed reads them (daemon/http/fhir_audit_event.h).
std::string LowerCode(std::string_view name, std::string_view prefix) {
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(std::string(name));
}

std::string Instant(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromProto(timestamp), absl::UTCTimeZone());
}

// AuditEvent.type and .subtype for an access, after BALP and DICOM.
void SetType(const v1::AccessEvent& event, Json& audit) {
  using enum v1::ActionSubtype;
  const auto subtype = event.action_subtype();
  if (subtype == ACTION_SUBTYPE_LOGIN || subtype == ACTION_SUBTYPE_LOGIN_FAILED ||
      subtype == ACTION_SUBTYPE_LOGOUT) {
    audit["type"] = Coding(kDicom, "110114", "User Authentication");
    audit["subtype"] = Json::array(
        {subtype == ACTION_SUBTYPE_LOGOUT ? Coding(kDicom, "110123", "Logout")
                                          : Coding(kDicom, "110122", "Login"),
         Coding(kInnsynSubtype, LowerCode(v1::ActionSubtype_Name(subtype), "ACTION_SUBTYPE_"))});
    return;
  }
  if (subtype == ACTION_SUBTYPE_EXPORT || subtype == ACTION_SUBTYPE_DISCLOSE ||
      subtype == ACTION_SUBTYPE_PRINT) {
    audit["type"] = Coding(kDicom, "110106", "Export");
  } else {
    audit["type"] = Coding(kDicom, "110110", "Patient Record");
  }
  Json subtypes = Json::array();
  switch (subtype) {
    case ACTION_SUBTYPE_VIEW: subtypes.push_back(Coding(kRestful, "read")); break;
    case ACTION_SUBTYPE_SEARCH: subtypes.push_back(Coding(kRestful, "search-type")); break;
    case ACTION_SUBTYPE_CREATE: subtypes.push_back(Coding(kRestful, "create")); break;
    case ACTION_SUBTYPE_UPDATE: subtypes.push_back(Coding(kRestful, "update")); break;
    case ACTION_SUBTYPE_DELETE: subtypes.push_back(Coding(kRestful, "delete")); break;
    default: break;
  }
  subtypes.push_back(
      Coding(kInnsynSubtype, LowerCode(v1::ActionSubtype_Name(subtype), "ACTION_SUBTYPE_")));
  audit["subtype"] = subtypes;
}

std::string_view ActionCode(v1::ActionCode action) {
  switch (action) {
    case v1::ACTION_CODE_CREATE: return "C";
    case v1::ACTION_CODE_READ: return "R";
    case v1::ACTION_CODE_UPDATE: return "U";
    case v1::ACTION_CODE_DELETE: return "D";
    default: return "E";
  }
}

// FHIR's outcome: 0 success, 4 minor failure, 8 serious, 12 major.
std::string_view OutcomeCode(v1::Outcome outcome) {
  switch (outcome) {
    case v1::OUTCOME_MINOR_FAILURE:
    case v1::OUTCOME_DENIED: return "4";
    case v1::OUTCOME_SERIOUS_FAILURE: return "8";
    case v1::OUTCOME_MAJOR_FAILURE: return "12";
    default: return "0";
  }
}

std::string_view PurposeCode(v1::PurposeOfUse purpose) {
  switch (purpose) {
    case v1::PURPOSE_OF_USE_TREATMENT: return "TREAT";
    case v1::PURPOSE_OF_USE_EMERGENCY: return "ETREAT";
    case v1::PURPOSE_OF_USE_ADMINISTRATION: return "HOPERAT";
    case v1::PURPOSE_OF_USE_BILLING: return "HPAYMT";
    case v1::PURPOSE_OF_USE_QUALITY: return "HQUALIMP";
    case v1::PURPOSE_OF_USE_LEGAL: return "HLEGAL";
    case v1::PURPOSE_OF_USE_PATIENT_REQUEST: return "PATRQT";
    case v1::PURPOSE_OF_USE_RESEARCH: return "HRESCH";
    case v1::PURPOSE_OF_USE_SYSTEM: return "SYSADMIN";
    default: return "";
  }
}

// The one who acted (BALP's user agent): identified by HPR number with the
// user id as altId, or by the user id alone; the organisation as the
// identifier's assigner. A report that shows staff by role only carries no
// identifier, and such an AuditEvent cannot be recorded again.
Json Agent(const v1::AccessEvent& event) {
  const v1::Actor& actor = event.actor();
  Json identifier = Json::object();
  if (!actor.hpr_number().empty()) {
    identifier = {{"system", kHprNumberSystem}, {"value", actor.hpr_number()}};
  } else if (!actor.id().empty()) {
    identifier = {{"value", actor.id()}};
  }
  if (!actor.organisation().empty()) identifier["assigner"] = {{"display", actor.organisation()}};
  Json who = Json::object();
  if (!identifier.empty()) who["identifier"] = identifier;
  if (!actor.display_name().empty()) who["display"] = actor.display_name();
  Json agent = Json::object();
  if (!actor.role().empty()) agent["role"] = Json::array({{{"text", actor.role()}}});
  if (!who.empty()) agent["who"] = who;
  if (!actor.hpr_number().empty() && !actor.id().empty()) agent["altId"] = actor.id();
  agent["requestor"] = true;
  if (event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) {
    agent["purposeOfUse"] = Json::array(
        {{{"coding", Json::array({Coding(kActReason, PurposeCode(event.purpose_of_use()))})}}});
  }
  return agent;
}

// The patient entity by national identity number; another kind of subject
// (a website visitor, an applicant) by innsyn's subject-kind code.
Json PatientEntity(const v1::Subject& subject) {
  const bool patient = subject.kind() == v1::SUBJECT_KIND_PATIENT;
  Json identifier = {{"value", subject.id()}};
  if (patient) identifier = {{"system", kNationalIdentityNumberSystem}, {"value", subject.id()}};
  Json what = {{"identifier", identifier}};
  if (!subject.display_name().empty()) what["display"] = subject.display_name();
  return {{"what", what},
          {"type", Coding(kEntityType, "1", "Person")},
          {"role", patient ? Coding(kObjectRole, "1", "Patient")
                           : Coding(kSubjectKind, LowerCode(v1::SubjectKind_Name(subject.kind()),
                                                            "SUBJECT_KIND_"))}};
}

// The data object: its kind as innsyn's data-object-type code, its id, and
// the legal basis of the access as a detail.
Json DataEntity(const v1::AccessEvent& event) {
  const v1::DataObject& object = event.data_object();
  Json data = Json::object();
  if (!object.id().empty()) data["what"] = {{"identifier", {{"value", object.id()}}}};
  data["type"] = Coding(kDataObjectType,
                        LowerCode(v1::DataObjectType_Name(object.type()), "DATA_OBJECT_TYPE_"));
  data["role"] = Coding(kObjectRole, "4", "Domain Resource");
  if (!object.description().empty()) data["description"] = object.description();
  if (!event.legal_basis().empty()) {
    data["detail"] =
        Json::array({{{"type", kLegalBasisDetail}, {"valueString", event.legal_basis()}}});
  }
  return data;
}

Json AuditEvent(const v1::ReportRow& row) {
  const v1::AccessEvent& event = row.entry().access_event();
  Json audit = {{"resourceType", "AuditEvent"}, {"id", StrCat("seq-", row.seq())}};
  if (!row.explanation().empty()) {
    audit["extension"] =
        Json::array({{{"url", kExplanationExtension}, {"valueString", row.explanation()}}});
  }
  SetType(event, audit);
  audit["action"] = ActionCode(event.action());
  audit["period"] = {{"start", Instant(event.occurred_at())},
                     {"end", Instant(event.occurred_at())}};
  audit["recorded"] = Instant(row.entry().committed_at());
  audit["outcome"] = OutcomeCode(event.outcome());
  if (event.outcome() == v1::OUTCOME_DENIED) audit["outcomeDesc"] = "denied";
  if (event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) {
    audit["purposeOfEvent"] = Json::array(
        {{{"coding", Json::array({Coding(kActReason, PurposeCode(event.purpose_of_use()))})}}});
  }
  Json agents = Json::array({Agent(event)});
  if (event.has_recipient()) {
    Json recipient = Json::object();
    if (!event.recipient().id().empty()) {
      recipient["identifier"] = {{"value", event.recipient().id()}};
    }
    if (!event.recipient().name().empty()) recipient["display"] = event.recipient().name();
    agents.push_back(
        {{"type",
          {{"coding", Json::array({Coding(kParticipation, "IRCP", "information recipient")})}}},
         {"who", recipient},
         {"requestor", false}});
  }
  audit["agent"] = agents;
  Json source = Json::object();
  if (!event.source().instance().empty()) source["site"] = event.source().instance();
  source["observer"] = {{"identifier", {{"value", event.source().system()}}},
                        {"display", event.source().system()}};
  source["type"] = Json::array({Coding(kSourceType, "4", "Application Server")});
  audit["source"] = source;
  audit["entity"] = Json::array({PatientEntity(event.subject()), DataEntity(event)});
  return audit;
}

// The AuditEvents of the answer's accesses, as bundle entries, in its order.
Json AuditEventEntries(const v1::InnsynAnswer& answer) {
  Json entries = Json::array();
  for (const v1::ReportRow& row : answer.rows()) {
    if (row.erased() || !row.entry().has_access_event()) continue;
    entries.push_back(
        {{"fullUrl", StrCat("urn:innsyn:seq:", row.seq())}, {"resource", AuditEvent(row)}});
  }
  return entries;
}

bool IsAnswerEntry(const Json& entry) {
  const Json* resource =
      entry.is_object() && entry.contains("resource") ? &entry["resource"] : nullptr;
  return resource != nullptr && resource->is_object() &&
         resource->value("resourceType", "") == "Binary" &&
         resource->value("id", "") == kAnswerBinaryId;
}

}  // namespace

absl::StatusOr<std::string> RenderFhir(const v1::SignedAnswer& signed_answer) {
  const v1::InnsynAnswer& answer = signed_answer.answer();
  ASSIGN_OR_RETURN(std::string answer_json, AnswerToJson(signed_answer));
  Json entries = AuditEventEntries(answer);
  entries.push_back({{"fullUrl", StrCat("urn:innsyn:answer:", AnswerDigest(answer))},
                     {"resource",
                      {{"resourceType", "Binary"},
                       {"id", kAnswerBinaryId},
                       {"contentType", "application/json"},
                       {"data", absl::Base64Escape(answer_json)}}}});
  Json bundle = {
      {"resourceType", "Bundle"},
      {"id", StrCat("innsyn-", AnswerDigest(answer).substr(0, 32))},
      {"meta",
       {{"tag",
         Json::array({{{"system", "urn:innsyn:answer-sha256"}, {"code", AnswerDigest(answer)}}})}}},
      {"type", "collection"},
      {"timestamp", Instant(answer.generated_at())},
      {"entry", entries}};
  return bundle.dump(2) + "\n";
}

absl::StatusOr<std::optional<std::string>> AnswerInBundle(std::string_view bundle_json) {
  Json bundle = Json::parse(bundle_json, nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded() || !bundle.is_object() ||
      bundle.value("resourceType", "") != "Bundle") {
    return absl::InvalidArgumentError("not a FHIR Bundle in JSON");
  }
  if (!bundle.contains("entry")) return std::nullopt;
  for (const Json& entry : bundle["entry"]) {
    if (!IsAnswerEntry(entry)) continue;
    const Json& data = entry["resource"]["data"];
    std::string json;
    if (!data.is_string() || !absl::Base64Unescape(data.get<std::string>(), &json)) {
      return absl::InvalidArgumentError(
          StrCat("the Bundle's Binary ", kAnswerBinaryId, " holds no base64 data"));
    }
    return json;
  }
  return std::nullopt;
}

absl::Status CheckBundleEvents(std::string_view bundle_json, const v1::InnsynAnswer& answer) {
  Json bundle = Json::parse(bundle_json, nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded() || !bundle.is_object() || !bundle.contains("entry") ||
      !bundle["entry"].is_array()) {
    return absl::InvalidArgumentError("not a FHIR Bundle with entries");
  }
  Json given = Json::array();
  for (const Json& entry : bundle["entry"]) {
    if (!IsAnswerEntry(entry)) given.push_back(entry);
  }
  const Json expected = AuditEventEntries(answer);
  if (given.size() != expected.size()) {
    return absl::DataLossError(StrCat("the Bundle holds ", given.size(),
                                      " entries besides the answer, the signed answer gives ",
                                      expected.size(), " AuditEvents"));
  }
  for (size_t i = 0; i < given.size(); ++i) {
    if (given[i] != expected[i]) {
      return absl::DataLossError(
          StrCat("Bundle.entry[", i, "] is not the AuditEvent the signed answer gives for it"));
    }
  }
  return absl::OkStatus();
}

}  // namespace innsyn::report
