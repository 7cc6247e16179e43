#include "daemon/http/fhir_audit_event.h"

#include <google/protobuf/descriptor.h>

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "base/strings.h"

namespace innsyn::daemon::http {
namespace {

namespace protobuf = google::protobuf;
using protobuf::Value;

constexpr char kRestfulInteraction[] = "http://hl7.org/fhir/restful-interaction";
constexpr char kAuditEventType[] = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr char kDicom[] = "http://dicom.nema.org/resources/ontology/DCM";
constexpr char kActReason[] = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr char kObjectRole[] = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr char kEntityType[] = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr char kParticipation[] = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
// The information recipient (v3-ParticipationType IRCP): whom data was
// disclosed to, as the innsyn report writes it.
constexpr char kRecipientParticipation[] = "IRCP";
// The data entity's detail that carries the legal basis of the access.
constexpr char kLegalBasisDetail[] = "legal_basis";
// DICOM codes BALP uses: event types, and the roles of agents that are not
// the person acting.
constexpr char kUserAuthentication[] = "110114";
constexpr char kLogin[] = "110122";
constexpr char kLogout[] = "110123";
constexpr char kExport[] = "110106";
constexpr char kSourceRole[] = "110153";
constexpr char kDestinationRole[] = "110152";
constexpr char kPatientRole[] = "1";  // object-role and audit-entity-type "Person"
constexpr char kIpAddress[] = "2";    // AuditEvent.agent.network.type
// The outcome BALP has no code for; innsyn writes it as a minor failure.
constexpr char kDeniedDescription[] = "denied";

// ---- Reading JSON ----

const Value* Field(const Value* object, std::string_view key) {
  if (object == nullptr || !object->has_struct_value()) return nullptr;
  const auto& fields = object->struct_value().fields();
  auto it = fields.find(std::string(key));
  return it == fields.end() ? nullptr : &it->second;
}

std::string Text(const Value* value) {
  return value != nullptr && value->kind_case() == Value::kStringValue ? value->string_value() : "";
}

// An array's items; a lone object counts as one.
std::vector<const Value*> Items(const Value* value) {
  std::vector<const Value*> items;
  if (value == nullptr) return items;
  if (!value->has_list_value()) return {value};
  for (const Value& item : value->list_value().values()) items.push_back(&item);
  return items;
}

// The code of the coding in `system` of a Coding or CodeableConcept.
std::optional<std::string> CodeIn(const Value* coding_or_concept, std::string_view system) {
  std::vector<const Value*> codings = Items(Field(coding_or_concept, "coding"));
  if (codings.empty() && coding_or_concept != nullptr) codings.push_back(coding_or_concept);
  for (const Value* coding : codings) {
    if (Text(Field(coding, "system")) == system) return Text(Field(coding, "code"));
  }
  return std::nullopt;
}

absl::Status Bad(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(StrCat(path, ": ", why));
}

std::string At(std::string_view path, std::string_view element, size_t index) {
  return StrCat(path, ".", element, "[", index, "]");
}

// innsyn enums as codes: ACTION_SUBTYPE_BREAK_GLASS <-> "break_glass"
// (the value's name without its type's, in lower case).
std::string EnumCode(const protobuf::EnumDescriptor& type, int number) {
  const protobuf::EnumValueDescriptor* value = type.FindValueByNumber(number);
  if (value == nullptr) return "";
  std::string prefix;  // "ActionSubtype" -> "ACTION_SUBTYPE_"
  for (char c : type.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  prefix += '_';
  std::string_view name = value->name();
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(std::string(name));
}
std::optional<int> EnumFromCode(const protobuf::EnumDescriptor& type, std::string_view code) {
  for (int i = 0; i < type.value_count(); ++i) {
    const int number = type.value(i)->number();
    if (number != 0 && EnumCode(type, number) == code) return number;
  }
  return std::nullopt;
}

// ---- Codes ----

struct PurposeCode {
  v1::PurposeOfUse purpose;
  const char* code;
};
constexpr PurposeCode kPurposes[] = {
    {v1::PURPOSE_OF_USE_TREATMENT, "TREAT"},        {v1::PURPOSE_OF_USE_EMERGENCY, "ETREAT"},
    {v1::PURPOSE_OF_USE_ADMINISTRATION, "HOPERAT"}, {v1::PURPOSE_OF_USE_BILLING, "HPAYMT"},
    {v1::PURPOSE_OF_USE_QUALITY, "HQUALIMP"},       {v1::PURPOSE_OF_USE_LEGAL, "HLEGAL"},
    {v1::PURPOSE_OF_USE_PATIENT_REQUEST, "PATRQT"}, {v1::PURPOSE_OF_USE_RESEARCH, "HRESCH"},
    {v1::PURPOSE_OF_USE_SYSTEM, "SYSADMIN"}};

struct OutcomeCode {
  v1::Outcome outcome;
  const char* code;
};
constexpr OutcomeCode kOutcomes[] = {{v1::OUTCOME_SUCCESS, "0"},
                                     {v1::OUTCOME_MINOR_FAILURE, "4"},
                                     {v1::OUTCOME_SERIOUS_FAILURE, "8"},
                                     {v1::OUTCOME_MAJOR_FAILURE, "12"},
                                     {v1::OUTCOME_DENIED, "4"}};

struct ActionLetter {
  v1::ActionCode action;
  const char* letter;
};
constexpr ActionLetter kActions[] = {{v1::ACTION_CODE_CREATE, "C"},
                                     {v1::ACTION_CODE_READ, "R"},
                                     {v1::ACTION_CODE_UPDATE, "U"},
                                     {v1::ACTION_CODE_DELETE, "D"},
                                     {v1::ACTION_CODE_EXECUTE, "E"}};

std::optional<v1::ActionSubtype> FromRestfulInteraction(std::string_view code) {
  if (code == "read" || code == "vread") return v1::ACTION_SUBTYPE_VIEW;
  if (code.starts_with("search") || code.starts_with("history")) return v1::ACTION_SUBTYPE_SEARCH;
  if (code == "create") return v1::ACTION_SUBTYPE_CREATE;
  if (code == "update" || code == "patch") return v1::ACTION_SUBTYPE_UPDATE;
  if (code == "delete") return v1::ACTION_SUBTYPE_DELETE;
  return std::nullopt;
}

std::optional<v1::ActionSubtype> FromAction(v1::ActionCode action) {
  switch (action) {
    case v1::ACTION_CODE_READ: return v1::ACTION_SUBTYPE_VIEW;
    case v1::ACTION_CODE_CREATE: return v1::ACTION_SUBTYPE_CREATE;
    case v1::ACTION_CODE_UPDATE: return v1::ACTION_SUBTYPE_UPDATE;
    case v1::ACTION_CODE_DELETE: return v1::ACTION_SUBTYPE_DELETE;
    default: return std::nullopt;
  }
}

// The data object's type from the FHIR resource a reference names
// ("Observation/17", or a full URL, perhaps with _history).
std::optional<v1::DataObjectType> FromResourceType(std::string_view reference) {
  struct Known {
    std::string_view resource;
    v1::DataObjectType type;
  };
  static constexpr Known kKnown[] = {
      {"Observation", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"DocumentReference", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"Composition", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"Condition", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"Procedure", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"Encounter", v1::DATA_OBJECT_TYPE_JOURNAL_NOTE},
      {"ImagingStudy", v1::DATA_OBJECT_TYPE_IMAGE},
      {"Media", v1::DATA_OBJECT_TYPE_IMAGE},
      {"Binary", v1::DATA_OBJECT_TYPE_IMAGE},
      {"Patient", v1::DATA_OBJECT_TYPE_CONTACT_DETAILS},
      {"Invoice", v1::DATA_OBJECT_TYPE_INVOICE},
      {"Claim", v1::DATA_OBJECT_TYPE_INVOICE},
      {"ServiceRequest", v1::DATA_OBJECT_TYPE_REFERRAL},
      {"Appointment", v1::DATA_OBJECT_TYPE_APPOINTMENT},
      {"CarePlan", v1::DATA_OBJECT_TYPE_TREATMENT_PLAN},
      {"Consent", v1::DATA_OBJECT_TYPE_CONSENT},
      {"QuestionnaireResponse", v1::DATA_OBJECT_TYPE_WEB_FORM},
      {"Account", v1::DATA_OBJECT_TYPE_ACCOUNT},
  };
  std::optional<v1::DataObjectType> found;
  while (!reference.empty()) {
    const size_t slash = reference.find('/');
    const std::string_view segment = reference.substr(0, slash);
    for (const Known& known : kKnown) {
      if (segment == known.resource) found = known.type;
    }
    if (slash == std::string_view::npos) break;
    reference.remove_prefix(slash + 1);
  }
  return found;
}

bool IsPatientEntity(const Value* entity) {
  const Value* role = Field(entity, "role");
  if (CodeIn(role, kObjectRole) == kPatientRole || CodeIn(role, kSubjectKindSystem)) return true;
  const Value* what = Field(entity, "what");
  const std::string system = Text(Field(Field(what, "identifier"), "system"));
  return Text(Field(what, "reference")).starts_with("Patient/") || system == kNationalIdSystem ||
         system == kDNumberSystem;
}

bool AgentHasRole(const Value* agent, std::string_view dicom_code) {
  return CodeIn(Field(agent, "type"), kDicom) == dicom_code;
}

bool IsRecipient(const Value* agent) {
  return CodeIn(Field(agent, "type"), kParticipation) == kRecipientParticipation;
}

// ---- AuditEvent to AccessEvent, one part at a time ----

absl::Status ReadWhen(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  std::string element = "period.start";
  std::string when = Text(Field(Field(&resource, "period"), "start"));
  if (when.empty()) {
    element = "recorded";
    when = Text(Field(&resource, "recorded"));
  }
  if (when.empty()) return Bad(StrCat(path, ".recorded"), "is required");
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, when, &time, &error)) {
    return Bad(StrCat(path, ".", element),
               "is not a FHIR instant with a time zone (for example 2026-11-20T10:15:00+01:00)");
  }
  *event.mutable_occurred_at() = ToProto(time);
  return absl::OkStatus();
}

absl::Status ReadAction(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  const std::string letter = Text(Field(&resource, "action"));
  for (const ActionLetter& known : kActions) {
    if (letter == known.letter) event.set_action(known.action);
  }
  if (event.action() == v1::ACTION_CODE_UNSPECIFIED) {
    return Bad(StrCat(path, ".action"), "is required: C, R, U, D or E");
  }
  const std::vector<const Value*> subtypes = Items(Field(&resource, "subtype"));
  const std::optional<std::string> type = CodeIn(Field(&resource, "type"), kDicom);
  std::optional<v1::ActionSubtype> subtype;
  for (const Value* coding : subtypes) {  // innsyn's own code first: it says most
    if (Text(Field(coding, "system")) != kActionSubtypeSystem) continue;
    std::optional<int> number =
        EnumFromCode(*v1::ActionSubtype_descriptor(), Text(Field(coding, "code")));
    if (!number) return Bad(StrCat(path, ".subtype"), "has an unknown urn:innsyn:action-subtype");
    subtype = static_cast<v1::ActionSubtype>(*number);
  }
  for (const Value* coding : subtypes) {
    if (subtype) break;
    const std::string system = Text(Field(coding, "system"));
    const std::string code = Text(Field(coding, "code"));
    if (system == kDicom && type == kUserAuthentication && code == kLogin) {
      subtype = Text(Field(&resource, "outcome")) == "0" ? v1::ACTION_SUBTYPE_LOGIN
                                                         : v1::ACTION_SUBTYPE_LOGIN_FAILED;
    } else if (system == kDicom && type == kUserAuthentication && code == kLogout) {
      subtype = v1::ACTION_SUBTYPE_LOGOUT;
    } else if (system == kRestfulInteraction) {
      subtype = FromRestfulInteraction(code);
    }
  }
  if (!subtype && type == kExport) subtype = v1::ACTION_SUBTYPE_EXPORT;
  if (!subtype) subtype = FromAction(event.action());
  if (!subtype) {
    return Bad(StrCat(path, ".subtype"),
               "says no action innsyn knows (a restful-interaction, DCM 110122/110123 with type "
               "110114, or urn:innsyn:action-subtype)");
  }
  event.set_action_subtype(*subtype);
  return absl::OkStatus();
}

absl::Status ReadOutcome(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  const std::string code = Text(Field(&resource, "outcome"));
  for (const OutcomeCode& known : kOutcomes) {
    if (code == known.code) {
      event.set_outcome(known.outcome);
      break;
    }
  }
  if (event.outcome() == v1::OUTCOME_UNSPECIFIED) {
    return Bad(StrCat(path, ".outcome"), "is required: 0, 4, 8 or 12");
  }
  if (code == "4" && Text(Field(&resource, "outcomeDesc")) == kDeniedDescription) {
    event.set_outcome(v1::OUTCOME_DENIED);
  }
  return absl::OkStatus();
}

absl::Status ReadPurpose(const Value* concepts, std::string_view path, v1::AccessEvent& event) {
  const std::vector<const Value*> items = Items(concepts);
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::string text = Text(Field(items[i], "text")); !text.empty() && event.reason().empty()) {
      event.set_reason(text);
    }
    std::optional<std::string> code = CodeIn(items[i], kActReason);
    if (!code || event.purpose_of_use() != v1::PURPOSE_OF_USE_UNSPECIFIED) continue;
    for (const PurposeCode& known : kPurposes) {
      if (*code == known.code) event.set_purpose_of_use(known.purpose);
    }
    if (event.purpose_of_use() == v1::PURPOSE_OF_USE_UNSPECIFIED) {
      return Bad(StrCat(path, "[", i, "]"),
                 StrCat("v3-ActReason ", *code, " is not a purpose innsyn knows"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadActor(const Value* agent, const std::string& path, v1::AccessEvent& event) {
  const Value* who = Field(agent, "who");
  const Value* identifier = Field(who, "identifier");
  const std::string value = Text(Field(identifier, "value"));
  const std::string alt_id = Text(Field(agent, "altId"));
  if (Text(Field(identifier, "system")) == kHprSystem) event.mutable_actor()->set_hpr_number(value);
  event.mutable_actor()->set_id(alt_id.empty() ? value : alt_id);
  if (event.actor().id().empty()) {
    return Bad(StrCat(path, ".who.identifier"),
               "is required: the user's id (or altId, with an HPR number as the identifier)");
  }
  event.mutable_actor()->set_organisation(Text(Field(Field(identifier, "assigner"), "display")));
  std::string name = Text(Field(who, "display"));
  event.mutable_actor()->set_display_name(name.empty() ? Text(Field(agent, "name")) : name);
  if (std::vector<const Value*> roles = Items(Field(agent, "role")); !roles.empty()) {
    std::string role = Text(Field(roles[0], "text"));
    std::vector<const Value*> codings = Items(Field(roles[0], "coding"));
    if (role.empty() && !codings.empty()) role = Text(Field(codings[0], "display"));
    if (role.empty() && !codings.empty()) role = Text(Field(codings[0], "code"));
    event.mutable_actor()->set_role(role);
  }
  const Value* network = Field(agent, "network");
  const std::string network_type = Text(Field(network, "type"));
  if (network_type.empty() || network_type == kIpAddress) {
    event.set_network_address(Text(Field(network, "address")));
  }
  return ReadPurpose(Field(agent, "purposeOfUse"), StrCat(path, ".purposeOfUse"), event);
}

absl::Status ReadAgents(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  const std::vector<const Value*> agents = Items(Field(&resource, "agent"));
  bool found = false;
  std::string source_address;
  for (size_t i = 0; i < agents.size(); ++i) {
    const Value* agent = agents[i];
    const Value* who = Field(agent, "who");
    const Value* requestor = Field(agent, "requestor");
    if (requestor != nullptr && requestor->bool_value() && !found) {
      found = true;
      if (absl::Status s = ReadActor(agent, At(path, "agent", i), event); !s.ok()) return s;
    } else if (AgentHasRole(agent, kSourceRole)) {
      // BALP's client machine: its name, and its address when the person
      // acting gave none.
      event.set_workstation(Text(Field(who, "display")));
      const Value* network = Field(agent, "network");
      if (source_address.empty() && Text(Field(network, "type")) == kIpAddress) {
        source_address = Text(Field(network, "address"));
      }
    } else if (IsRecipient(agent) || (AgentHasRole(agent, kDestinationRole) &&
                                      event.action_subtype() == v1::ACTION_SUBTYPE_DISCLOSE)) {
      // An information recipient, for any event (a consent names whom it
      // allows); BALP's destination machine only for a disclosure.
      event.mutable_recipient()->set_id(Text(Field(Field(who, "identifier"), "value")));
      event.mutable_recipient()->set_name(Text(Field(who, "display")));
    }
  }
  if (!found) {
    return Bad(StrCat(path, ".agent"), "no agent has requestor true (the one who acted)");
  }
  if (event.network_address().empty()) event.set_network_address(source_address);
  return absl::OkStatus();
}

absl::Status ReadSubject(const Value* entity, const std::string& path, v1::AccessEvent& event) {
  const Value* what = Field(entity, "what");
  v1::Subject& subject = *event.mutable_subject();
  subject.set_id(Text(Field(Field(what, "identifier"), "value")));
  if (subject.id().empty()) {
    return Bad(StrCat(path, ".what.identifier"),
               StrCat("the patient needs an identifier, for example the national identity "
                      "number (system ",
                      kNationalIdSystem, ")"));
  }
  subject.set_display_name(Text(Field(what, "display")));
  subject.set_kind(v1::SUBJECT_KIND_PATIENT);
  if (std::optional<std::string> code = CodeIn(Field(entity, "role"), kSubjectKindSystem)) {
    std::optional<int> kind = EnumFromCode(*v1::SubjectKind_descriptor(), *code);
    if (!kind) return Bad(StrCat(path, ".role"), "has an unknown urn:innsyn:subject-kind");
    subject.set_kind(static_cast<v1::SubjectKind>(*kind));
  }
  return absl::OkStatus();
}

absl::Status ReadDataObject(const Value* entity, const std::string& path, v1::AccessEvent& event) {
  const Value* what = Field(entity, "what");
  v1::DataObject& data = *event.mutable_data_object();
  const std::string reference = Text(Field(what, "reference"));
  std::string id = Text(Field(Field(what, "identifier"), "value"));
  data.set_id(id.empty() ? reference : id);
  data.set_description(Text(Field(entity, "description")));
  for (const Value* detail : Items(Field(entity, "detail"))) {
    if (Text(Field(detail, "type")) == kLegalBasisDetail) {
      event.set_legal_basis(Text(Field(detail, "valueString")));
    }
  }
  if (std::optional<std::string> code = CodeIn(Field(entity, "type"), kDataObjectTypeSystem)) {
    std::optional<int> type = EnumFromCode(*v1::DataObjectType_descriptor(), *code);
    if (!type) return Bad(StrCat(path, ".type"), "has an unknown urn:innsyn:data-object-type");
    data.set_type(static_cast<v1::DataObjectType>(*type));
    return absl::OkStatus();
  }
  if (std::optional<v1::DataObjectType> type = FromResourceType(reference)) {
    data.set_type(*type);
    return absl::OkStatus();
  }
  return Bad(StrCat(path, ".what.reference"),
             "cannot tell what kind of data this is: name a FHIR resource (for example "
             "Observation/17) or give a urn:innsyn:data-object-type in type");
}

absl::Status ReadEntities(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  const std::vector<const Value*> entities = Items(Field(&resource, "entity"));
  const Value* patient = nullptr;
  const Value* data = nullptr;
  for (size_t i = 0; i < entities.size(); ++i) {
    const std::string at = At(path, "entity", i);
    if (patient == nullptr && IsPatientEntity(entities[i])) {
      patient = entities[i];
      if (absl::Status s = ReadSubject(entities[i], at, event); !s.ok()) return s;
    } else if (data == nullptr) {
      data = entities[i];
      if (absl::Status s = ReadDataObject(entities[i], at, event); !s.ok()) return s;
    }
  }
  if (patient == nullptr) {
    return Bad(StrCat(path, ".entity"),
               "no entity is the patient (role object-role 1, what.reference Patient/..., or "
               "what.identifier with the national identity number)");
  }
  if (data != nullptr) return absl::OkStatus();
  // Nothing but the patient: a login names the account, any other event the
  // Patient resource itself.
  const v1::ActionSubtype subtype = event.action_subtype();
  if (subtype == v1::ACTION_SUBTYPE_LOGIN || subtype == v1::ACTION_SUBTYPE_LOGIN_FAILED ||
      subtype == v1::ACTION_SUBTYPE_LOGOUT) {
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_ACCOUNT);
  } else {
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_CONTACT_DETAILS);
    event.mutable_data_object()->set_id(Text(Field(Field(patient, "what"), "reference")));
  }
  return absl::OkStatus();
}

absl::Status ReadSource(const Value& resource, std::string_view path, v1::AccessEvent& event) {
  const Value* source = Field(&resource, "source");
  const Value* observer = Field(source, "observer");
  std::string system = Text(Field(Field(observer, "identifier"), "value"));
  if (system.empty()) system = Text(Field(observer, "display"));
  if (system.empty()) {  // "Device/ex-device": the device's id
    const std::string reference = Text(Field(observer, "reference"));
    system = reference.substr(reference.rfind('/') + 1);
  }
  if (system.empty()) {
    return Bad(StrCat(path, ".source.observer"),
               "is required: its identifier.value, display or reference names the system that "
               "recorded");
  }
  event.mutable_source()->set_system(system);
  event.mutable_source()->set_instance(Text(Field(source, "site")));
  return absl::OkStatus();
}

// ---- Writing JSON ----

Value Str(std::string_view text) {
  Value value;
  value.set_string_value(std::string(text));
  return value;
}

// An object from (key, value) pairs, leaving out empty strings and objects.
Value Object(std::initializer_list<std::pair<const char*, Value>> fields) {
  Value object;
  auto& out = *object.mutable_struct_value()->mutable_fields();
  for (const auto& [key, value] : fields) {
    if (value.kind_case() == Value::kStringValue && value.string_value().empty()) continue;
    if (value.has_struct_value() && value.struct_value().fields().empty()) continue;
    if (value.kind_case() == Value::KIND_NOT_SET) continue;
    out[key] = value;
  }
  return object;
}

Value List(std::initializer_list<Value> items) {
  Value list;
  for (const Value& item : items) {
    if (item.has_struct_value() && item.struct_value().fields().empty()) continue;
    *list.mutable_list_value()->add_values() = item;
  }
  return list;
}

Value Coding(std::string_view system, std::string_view code) {
  return Object({{"system", Str(system)}, {"code", Str(code)}});
}

Value Bool(bool b) {
  Value value;
  value.set_bool_value(b);
  return value;
}

Value WriteActor(const v1::AccessEvent& event) {
  const v1::Actor& actor = event.actor();
  const bool hpr = !actor.hpr_number().empty();
  Value identifier = Object({{"system", Str(hpr ? kHprSystem : "")},
                             {"value", Str(hpr ? actor.hpr_number() : actor.id())},
                             {"assigner", Object({{"display", Str(actor.organisation())}})}});
  Value purpose;
  for (const PurposeCode& known : kPurposes) {
    if (event.purpose_of_use() == known.purpose) {
      purpose = List({Object({{"coding", List({Coding(kActReason, known.code)})}})});
    }
  }
  return Object(
      {{"who", Object({{"identifier", identifier}, {"display", Str(actor.display_name())}})},
       {"altId", Str(hpr ? actor.id() : "")},
       {"requestor", Bool(true)},
       {"role", actor.role().empty() ? Value() : List({Object({{"text", Str(actor.role())}})})},
       {"network",
        event.network_address().empty()
            ? Value()
            : Object({{"address", Str(event.network_address())}, {"type", Str(kIpAddress)}})},
       {"purposeOfUse", purpose}});
}

Value AgentOfRole(std::string_view dicom_code, Value who) {
  return Object({{"type", Object({{"coding", List({Coding(kDicom, dicom_code)})}})},
                 {"who", who},
                 {"requestor", Bool(false)}});
}

}  // namespace

absl::StatusOr<v1::AccessEvent> AuditEventToAccessEvent(const Value& resource,
                                                        std::string_view path) {
  if (!resource.has_struct_value()) return Bad(path, "is not a JSON object");
  const std::string type = Text(Field(&resource, "resourceType"));
  if (type != "AuditEvent") {
    return Bad(StrCat(path, ".resourceType"),
               StrCat(type.empty() ? "is missing" : "is " + type, "; expected AuditEvent"));
  }
  v1::AccessEvent event;
  for (auto read : {ReadWhen, ReadAction, ReadOutcome, ReadSource}) {
    if (absl::Status s = read(resource, path, event); !s.ok()) return s;
  }
  if (absl::Status s =
          ReadPurpose(Field(&resource, "purposeOfEvent"), StrCat(path, ".purposeOfEvent"), event);
      !s.ok()) {
    return s;
  }
  for (auto read : {ReadAgents, ReadEntities}) {
    if (absl::Status s = read(resource, path, event); !s.ok()) return s;
  }
  std::string id = Text(Field(&resource, "id"));
  if (id.empty()) id = event.data_object().id();
  if (id.empty()) {
    return Bad(StrCat(path, ".id"),
               "is required: it is the idempotency key (or give the data entity a "
               "what.identifier)");
  }
  event.set_event_id(id);
  return event;
}

Value AccessEventToAuditEvent(const v1::AccessEvent& event) {
  const v1::ActionSubtype subtype = event.action_subtype();
  const bool authentication = subtype == v1::ACTION_SUBTYPE_LOGIN ||
                              subtype == v1::ACTION_SUBTYPE_LOGIN_FAILED ||
                              subtype == v1::ACTION_SUBTYPE_LOGOUT;
  Value subtypes =
      List({Coding(kActionSubtypeSystem, EnumCode(*v1::ActionSubtype_descriptor(), subtype))});
  if (authentication) {
    *subtypes.mutable_list_value()->add_values() =
        Coding(kDicom, subtype == v1::ACTION_SUBTYPE_LOGOUT ? kLogout : kLogin);
  }
  std::string action;
  for (const ActionLetter& known : kActions) {
    if (event.action() == known.action) action = known.letter;
  }
  std::string outcome;
  for (const OutcomeCode& known : kOutcomes) {
    if (event.outcome() == known.outcome) outcome = known.code;
  }
  Value agents = List({WriteActor(event)});
  if (!event.workstation().empty()) {
    *agents.mutable_list_value()->add_values() =
        AgentOfRole(kSourceRole, Object({{"display", Str(event.workstation())}}));
  }
  if (event.has_recipient()) {
    *agents.mutable_list_value()->add_values() = Object(
        {{"type", Object({{"coding", List({Coding(kParticipation, kRecipientParticipation)})}})},
         {"who", Object({{"identifier", Object({{"value", Str(event.recipient().id())}})},
                         {"display", Str(event.recipient().name())}})},
         {"requestor", Bool(false)}});
  }
  const v1::Subject& subject = event.subject();
  const bool patient = subject.kind() == v1::SUBJECT_KIND_PATIENT;
  Value patient_entity = Object(
      {{"what", Object({{"identifier", Object({{"system", Str(patient ? kNationalIdSystem : "")},
                                               {"value", Str(subject.id())}})},
                        {"display", Str(subject.display_name())}})},
       {"type", Coding(kEntityType, kPatientRole)},
       {"role", patient ? Coding(kObjectRole, kPatientRole)
                        : Coding(kSubjectKindSystem,
                                 EnumCode(*v1::SubjectKind_descriptor(), subject.kind()))}});
  const v1::DataObject& data = event.data_object();
  Value data_entity =
      Object({{"what", Object({{"identifier", Object({{"value", Str(data.id())}})}})},
              {"type", Coding(kDataObjectTypeSystem,
                              EnumCode(*v1::DataObjectType_descriptor(), data.type()))},
              {"description", Str(data.description())},
              {"detail", event.legal_basis().empty()
                             ? Value()
                             : List({Object({{"type", Str(kLegalBasisDetail)},
                                             {"valueString", Str(event.legal_basis())}})})}});
  return Object(
      {{"resourceType", Str("AuditEvent")},
       {"id", Str(event.event_id())},
       {"type",
        authentication ? Coding(kDicom, kUserAuthentication) : Coding(kAuditEventType, "rest")},
       {"subtype", subtypes},
       {"action", Str(action)},
       {"recorded", Str(absl::FormatTime(absl::RFC3339_full, FromProto(event.occurred_at()),
                                         absl::UTCTimeZone()))},
       {"outcome", Str(outcome)},
       {"outcomeDesc", Str(event.outcome() == v1::OUTCOME_DENIED ? kDeniedDescription : "")},
       {"purposeOfEvent",
        event.reason().empty() ? Value() : List({Object({{"text", Str(event.reason())}})})},
       {"agent", agents},
       {"source", Object({{"site", Str(event.source().instance())},
                          {"observer", Object({{"identifier",
                                                Object({{"value", Str(event.source().system())}})},
                                               {"display", Str(event.source().system())}})}})},
       {"entity", List({patient_entity, data_entity})}});
}

}  // namespace innsyn::daemon::http
