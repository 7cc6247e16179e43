#include "report/fhir_report.h"

#include <nlohmann/json.hpp>

#include "base/proto_time.h"
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

Json Coding(std::string_view system, std::string_view code, std::string_view display = "") {
  Json coding = {{"system", system}, {"code", code}};
  if (!display.empty()) coding["display"] = display;
  return coding;
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
    audit["subtype"] =
        Json::array({subtype == ACTION_SUBTYPE_LOGOUT ? Coding(kDicom, "110123", "Logout")
                                                      : Coding(kDicom, "110122", "Login")});
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
  std::string own = v1::ActionSubtype_Name(subtype);
  subtypes.push_back(
      Coding(kInnsynSubtype, own.substr(std::string_view("ACTION_SUBTYPE_").size())));
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

Json Agent(const v1::AccessEvent& event) {
  const v1::Actor& actor = event.actor();
  Json who = Json::object();
  if (!actor.hpr_number().empty()) {
    who["identifier"] = {{"system", kHprNumberSystem}, {"value", actor.hpr_number()}};
  } else if (!actor.id().empty()) {
    who["identifier"] = {{"value", actor.id()}};
  }
  std::string display = actor.display_name().empty() ? actor.role() : actor.display_name();
  if (!display.empty()) who["display"] = display;
  Json agent = {{"who", who}, {"requestor", true}};
  if (!actor.role().empty()) agent["role"] = Json::array({{{"text", actor.role()}}});
  if (!actor.display_name().empty()) agent["name"] = actor.display_name();
  if (!actor.organisation().empty()) {
    agent["location"] = {{"display", actor.organisation()}};
  }
  if (event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) {
    agent["purposeOfUse"] = Json::array(
        {{{"coding", Json::array({Coding(kActReason, PurposeCode(event.purpose_of_use()))})}}});
  }
  return agent;
}

Json AuditEvent(const v1::ReportRow& row, const v1::InnsynAnswer& answer) {
  const v1::AccessEvent& event = row.entry().access_event();
  Json audit = {{"resourceType", "AuditEvent"}, {"id", StrCat("seq-", row.seq())}};
  SetType(event, audit);
  audit["action"] = ActionCode(event.action());
  audit["period"] = {{"start", Instant(event.occurred_at())},
                     {"end", Instant(event.occurred_at())}};
  audit["recorded"] = Instant(row.entry().committed_at());
  audit["outcome"] = OutcomeCode(event.outcome());
  if (!row.explanation().empty()) audit["outcomeDesc"] = row.explanation();
  if (event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) {
    audit["purposeOfEvent"] = Json::array(
        {{{"coding", Json::array({Coding(kActReason, PurposeCode(event.purpose_of_use()))})}}});
  }
  Json agents = Json::array({Agent(event)});
  if (event.action_subtype() == v1::ACTION_SUBTYPE_DISCLOSE) {
    Json recipient = {{"display", event.recipient().name()}};
    if (!event.recipient().id().empty())
      recipient["identifier"] = {{"value", event.recipient().id()}};
    agents.push_back(
        {{"type",
          {{"coding", Json::array({Coding(kParticipation, "IRCP", "information recipient")})}}},
         {"who", recipient},
         {"requestor", false}});
  }
  audit["agent"] = agents;
  std::string system = event.source().system();
  if (!event.source().instance().empty()) system += "/" + event.source().instance();
  audit["source"] = {{"site", answer.controller().name()},
                     {"observer", {{"display", system}}},
                     {"type", Json::array({Coding(kSourceType, "4", "Application Server")})}};
  Json patient = {
      {"what",
       {{"identifier",
         {{"system", kNationalIdentityNumberSystem}, {"value", event.subject().id()}}}}},
      {"type", Coding(kEntityType, "1", "Person")},
      {"role", Coding(kObjectRole, "1", "Patient")}};
  std::string type = v1::DataObjectType_Name(event.data_object().type());
  Json data = {{"type", Coding(kEntityType, "2", "System Object")},
               {"role", Coding(kObjectRole, "4", "Domain Resource")},
               {"name", type.substr(std::string_view("DATA_OBJECT_TYPE_").size())}};
  if (!event.data_object().id().empty()) {
    data["what"] = {{"identifier", {{"value", event.data_object().id()}}}};
  }
  if (!event.legal_basis().empty()) {
    data["detail"] = Json::array({{{"type", "legal_basis"}, {"valueString", event.legal_basis()}}});
  }
  audit["entity"] = Json::array({patient, data});
  return audit;
}

}  // namespace

absl::StatusOr<std::string> RenderFhir(const v1::SignedAnswer& signed_answer) {
  const v1::InnsynAnswer& answer = signed_answer.answer();
  Json entries = Json::array();
  for (const v1::ReportRow& row : answer.rows()) {
    if (row.erased() || !row.entry().has_access_event()) continue;
    entries.push_back(
        {{"fullUrl", StrCat("urn:innsyn:seq:", row.seq())}, {"resource", AuditEvent(row, answer)}});
  }
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

}  // namespace innsyn::report
