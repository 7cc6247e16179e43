#include "daemon/services/validation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/message_differencer.h"

namespace innsyn::daemon {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Client strings quoted in error messages are cut to this many bytes.
constexpr size_t kMaxQuotedBytes = 64;

// The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr int32_t kNanosPerSecond = 1000000000;

constexpr bool kRequired = true;
constexpr bool kOptional = false;

// What a string field may contain besides valid UTF-8.
enum class Charset {
  // Identifiers, looked up and compared byte for byte (a patient finds her
  // accesses by subject.id): no control characters, no invisible or
  // direction-changing characters, no leading or trailing space, since any
  // of these makes two ids that look the same compare different.
  kId,
  // One line of display text: no control characters, which could forge
  // lines in logs or drive a terminal running innsynctl.
  kLine,
  // Free text: as kLine, but tab and line breaks are allowed.
  kText,
};

// absl::string_view rather than std::string_view throughout: Debian's Abseil
// is built with its own string_view type, which std::string_view does not
// convert to.
struct StringField {
  absl::string_view name;
  absl::string_view value;
  Charset charset;
  size_t max_bytes;
  bool required = kOptional;
};

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

std::string Quote(absl::string_view text) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxQuotedBytes)), "\"");
  if (text.size() > kMaxQuotedBytes) quoted.append("...");
  return quoted;
}

// The lead byte of a UTF-8 sequence: its length, its payload bits, and the
// range its second byte must fall in. The narrowed ranges after E0, ED, F0
// and F4 exclude overlong forms, UTF-16 surrogates and code points above
// U+10FFFF (RFC 3629 section 4).
struct LeadByte {
  size_t length;
  char32_t bits;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xBF;
};

std::optional<LeadByte> ClassifyLeadByte(uint8_t lead) {
  if (lead < 0x80) return LeadByte{1, lead};
  if (lead >= 0xC2 && lead <= 0xDF) return LeadByte{2, lead & 0x1Fu};
  if (lead == 0xE0) return LeadByte{3, 0, 0xA0, 0xBF};
  if (lead == 0xED) return LeadByte{3, 0x0D, 0x80, 0x9F};
  if (lead >= 0xE1 && lead <= 0xEF) return LeadByte{3, lead & 0x0Fu};
  if (lead == 0xF0) return LeadByte{4, 0, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return LeadByte{4, lead & 0x07u};
  if (lead == 0xF4) return LeadByte{4, 0x04, 0x80, 0x8F};
  return std::nullopt;  // continuation bytes, C0, C1 (overlong) and F5..FF
}

struct CodePoint {
  char32_t value;
  size_t length;
};

// Decodes the code point that `bytes` (not empty) starts with, or nullopt if
// it does not start with strict UTF-8.
std::optional<CodePoint> DecodeUtf8(absl::string_view bytes) {
  std::optional<LeadByte> lead = ClassifyLeadByte(static_cast<uint8_t>(bytes[0]));
  if (!lead || bytes.size() < lead->length) return std::nullopt;
  char32_t value = lead->bits;
  for (size_t i = 1; i < lead->length; ++i) {
    auto byte = static_cast<uint8_t>(bytes[i]);
    uint8_t min = i == 1 ? lead->second_min : 0x80;
    uint8_t max = i == 1 ? lead->second_max : 0xBF;
    if (byte < min || byte > max) return std::nullopt;
    value = value << 6 | (byte & 0x3Fu);
  }
  return CodePoint{value, lead->length};
}

// C0 controls, DEL and C1 controls.
bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

bool IsUnicodeLineBreak(char32_t c) { return c == 0x2028 || c == 0x2029; }

// Zero-width characters, direction marks, embeddings, overrides and isolates
// (the "Trojan Source" characters) and the byte order mark.
bool IsInvisibleFormat(char32_t c) {
  return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

bool IsAllowed(char32_t c, Charset charset) {
  switch (charset) {
    case Charset::kText: return !IsControl(c) || c == '\t' || c == '\n' || c == '\r';
    case Charset::kLine: return !IsControl(c) && !IsUnicodeLineBreak(c);
    case Charset::kId: return !IsControl(c) && !IsUnicodeLineBreak(c) && !IsInvisibleFormat(c);
  }
  return false;
}

// "U+000A", as the Unicode standard writes code points.
std::string CodePointName(char32_t c) {
  return absl::StrCat(
      "U+",
      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(static_cast<uint32_t>(c), absl::kZeroPad4))));
}

absl::Status CheckCharacters(absl::string_view name, absl::string_view value, Charset charset) {
  for (size_t pos = 0; pos < value.size();) {
    std::optional<CodePoint> code_point = DecodeUtf8(value.substr(pos));
    if (!code_point) return Invalid(absl::StrCat(name, " is not valid UTF-8 (at byte ", pos, ")"));
    if (!IsAllowed(code_point->value, charset)) {
      return Invalid(absl::StrCat(name, " contains the character ",
                                  CodePointName(code_point->value), " (at byte ", pos,
                                  "), not allowed here"));
    }
    pos += code_point->length;
  }
  return absl::OkStatus();
}

absl::Status CheckString(const StringField& field) {
  if (field.value.empty()) {
    return field.required ? Invalid(absl::StrCat(field.name, " is required")) : absl::OkStatus();
  }
  if (field.value.size() > field.max_bytes) {
    return Invalid(absl::StrCat(field.name, " is ", field.value.size(), " bytes, more than ",
                                field.max_bytes));
  }
  RETURN_IF_ERROR(CheckCharacters(field.name, field.value, field.charset));
  if (field.charset == Charset::kId && (field.value.front() == ' ' || field.value.back() == ' ')) {
    return Invalid(absl::StrCat(field.name, " begins or ends with a space"));
  }
  return absl::OkStatus();
}

absl::Status CheckStrings(std::initializer_list<StringField> fields) {
  for (const StringField& field : fields) RETURN_IF_ERROR(CheckString(field));
  return absl::OkStatus();
}

// Every string field of the event except the attributes map.
absl::Status CheckStringFields(const v1::AccessEvent& e) {
  return CheckStrings({
      {"event_id", e.event_id(), Charset::kId, kMaxIdBytes, kRequired},
      {"source.system", e.source().system(), Charset::kId, kMaxIdBytes, kRequired},
      {"source.instance", e.source().instance(), Charset::kId, kMaxIdBytes},
      {"actor.id", e.actor().id(), Charset::kId, kMaxIdBytes, kRequired},
      {"actor.display_name", e.actor().display_name(), Charset::kLine, kMaxTextBytes},
      {"actor.role", e.actor().role(), Charset::kLine, kMaxTextBytes},
      {"actor.hpr_number", e.actor().hpr_number(), Charset::kId, kMaxIdBytes},
      {"actor.organisation", e.actor().organisation(), Charset::kLine, kMaxTextBytes},
      {"subject.id", e.subject().id(), Charset::kId, kMaxIdBytes, kRequired},
      {"subject.display_name", e.subject().display_name(), Charset::kLine, kMaxTextBytes},
      {"data_object.id", e.data_object().id(), Charset::kId, kMaxIdBytes},
      {"data_object.description", e.data_object().description(), Charset::kText, kMaxTextBytes},
      {"legal_basis", e.legal_basis(), Charset::kLine, kMaxTextBytes},
      {"network_address", e.network_address(), Charset::kId, kMaxNetworkAddressBytes},
      {"workstation", e.workstation(), Charset::kLine, kMaxTextBytes},
      {"user_agent", e.user_agent(), Charset::kLine, kMaxTextBytes},
      {"recipient.id", e.recipient().id(), Charset::kId, kMaxIdBytes},
      {"recipient.name", e.recipient().name(), Charset::kLine, kMaxTextBytes},
      {"reason", e.reason(), Charset::kText, kMaxReasonBytes},
  });
}

// The ledger copies the event, unknown fields included, into an entry that
// is kept and hashed forever, so fields this build does not know (from a
// newer client, or smuggled) would be stored unchecked and outside
// per-subject encryption. Map entries need no check: the parser drops
// unknown fields inside them.
//
// Checked on every event, so by the message-typed fields of each type
// (found once per type and thread) rather than by listing every field set.
const std::vector<const FieldDescriptor*>& MessageFields(const google::protobuf::Descriptor* type) {
  // Node-stable: a caller walks one type's list while a child's is added.
  thread_local std::unordered_map<const google::protobuf::Descriptor*,
                                  std::vector<const FieldDescriptor*>>
      by_type;
  auto [it, inserted] = by_type.try_emplace(type);
  if (inserted) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
        it->second.push_back(field);
      }
    }
    // In number order, as ListFields gives them: the first unknown field
    // found is the one it found.
    std::sort(it->second.begin(), it->second.end(),
              [](const FieldDescriptor* a, const FieldDescriptor* b) {
                return a->number() < b->number();
              });
  }
  return it->second;
}

// The number of the first unknown field in `message` or below, with the
// path to the message holding it ("" for `message` itself); false if none.
bool FindUnknownField(const Message& message, std::string& path, int& number) {
  const Reflection& reflection = *message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection.GetUnknownFields(message);
  if (!unknown.empty()) {
    number = unknown.field(0).number();
    return true;
  }
  auto below = [&](std::string step) {
    path = path.empty() ? std::move(step) : absl::StrCat(step, ".", path);
    return true;
  };
  for (const FieldDescriptor* field : MessageFields(message.GetDescriptor())) {
    if (field->is_repeated()) {
      const int count = reflection.FieldSize(message, field);
      for (int i = 0; i < count; ++i) {
        if (FindUnknownField(reflection.GetRepeatedMessage(message, field, i), path, number)) {
          return below(absl::StrCat(field->name(), "[", i, "]"));
        }
      }
    } else if (reflection.HasField(message, field) &&
               FindUnknownField(reflection.GetMessage(message, field), path, number)) {
      return below(field->name());
    }
  }
  return false;
}

absl::Status CheckNoUnknownFields(const Message& message) {
  std::string path;
  int number = 0;
  if (!FindUnknownField(message, path, number)) return absl::OkStatus();
  return Invalid(absl::StrCat(path, path.empty() ? "" : " has ", "unknown field ", number,
                              " (from a newer client?)"));
}

// innsyn shows a source as "system/instance" and keys its dedupe table on
// that, so a '/' inside either part would make two sources collide.
absl::Status CheckSource(const v1::Source& source) {
  if (source.system().find('/') != std::string::npos) {
    return Invalid("source.system must not contain '/'");
  }
  if (source.instance().find('/') != std::string::npos) {
    return Invalid("source.instance must not contain '/'");
  }
  return absl::OkStatus();
}

// RFC 3339 in UTC with a "Z", as protobuf's JSON mapping writes timestamps.
std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

absl::Status CheckOccurredAt(const v1::AccessEvent& event, absl::Time now) {
  const google::protobuf::Timestamp& at = event.occurred_at();
  // An all-zero timestamp is what a client gets by touching the field and
  // forgetting to fill it; no clinic event happened at the epoch.
  if (!event.has_occurred_at() || (at.seconds() == 0 && at.nanos() == 0)) {
    return Invalid("occurred_at is required");
  }
  if (at.seconds() < kMinTimestampSeconds || at.seconds() > kMaxTimestampSeconds ||
      at.nanos() < 0 || at.nanos() >= kNanosPerSecond) {
    return Invalid(absl::StrCat("occurred_at (seconds ", at.seconds(), ", nanos ", at.nanos(),
                                ") is not a valid timestamp"));
  }
  absl::Time time = FromProto(at);
  if (time < absl::UnixEpoch()) {
    return Invalid(absl::StrCat("occurred_at ", FormatUtc(time), " is before 1970-01-01"));
  }
  if (time > now + kMaxClockSkew) {
    return Invalid(absl::StrCat("occurred_at ", FormatUtc(time), " is more than ",
                                absl::FormatDuration(kMaxClockSkew), " in the future"));
  }
  return absl::OkStatus();
}

// Proto3 enums are open: the wire may carry numbers this build has no name
// for, which no query, detector or portal could interpret.
absl::Status CheckEnum(absl::string_view name, int value, bool (*is_valid)(int),
                       absl::string_view type, bool required) {
  if (!is_valid(value)) {
    return Invalid(absl::StrCat(name, " ", value, " is not a known ", type, " value"));
  }
  if (required && value == 0) return Invalid(absl::StrCat(name, " is required"));
  return absl::OkStatus();
}

absl::Status CheckCodes(const v1::AccessEvent& e) {
  RETURN_IF_ERROR(CheckEnum("subject.kind", e.subject().kind(), v1::SubjectKind_IsValid,
                            "SubjectKind", kRequired));
  RETURN_IF_ERROR(CheckEnum("action", e.action(), v1::ActionCode_IsValid, "ActionCode", kRequired));
  RETURN_IF_ERROR(CheckEnum("action_subtype", e.action_subtype(), v1::ActionSubtype_IsValid,
                            "ActionSubtype", kRequired));
  RETURN_IF_ERROR(CheckEnum("data_object.type", e.data_object().type(), v1::DataObjectType_IsValid,
                            "DataObjectType", kRequired));
  RETURN_IF_ERROR(CheckEnum("purpose_of_use", e.purpose_of_use(), v1::PurposeOfUse_IsValid,
                            "PurposeOfUse", kOptional));
  return CheckEnum("outcome", e.outcome(), v1::Outcome_IsValid, "Outcome", kRequired);
}

absl::Status CheckNetworkAddress(absl::string_view address) {
  if (address.empty()) return absl::OkStatus();
  // inet_pton reads a C string: a NUL would hide whatever follows it.
  if (address.find('\0') != absl::string_view::npos) {
    return Invalid("network_address is not an IPv4 or IPv6 address");
  }
  std::string terminated(address);
  in6_addr parsed;  // large enough for either family
  if (inet_pton(AF_INET, terminated.c_str(), &parsed) == 1 ||
      inet_pton(AF_INET6, terminated.c_str(), &parsed) == 1) {
    return absl::OkStatus();
  }
  return Invalid("network_address is not an IPv4 or IPv6 address");
}

absl::Status CheckAttributes(const google::protobuf::Map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return Invalid(
        absl::StrCat("attributes has ", attributes.size(), " entries, more than ", kMaxAttributes));
  }
  // Map order is unspecified; sorting makes the reported problem repeatable.
  std::vector<std::pair<absl::string_view, absl::string_view>> entries;
  entries.reserve(attributes.size());
  for (const auto& [key, value] : attributes) entries.emplace_back(key, value);
  std::sort(entries.begin(), entries.end());
  for (const auto& [key, value] : entries) {
    if (key.empty()) return Invalid("attributes has an empty key");
    RETURN_IF_ERROR(CheckString(
        {absl::StrCat("attributes key ", Quote(key)), key, Charset::kId, kMaxAttributeKeyBytes}));
    RETURN_IF_ERROR(CheckString({absl::StrCat("attributes[", Quote(key), "]"), value,
                                 Charset::kText, kMaxAttributeValueBytes}));
  }
  return absl::OkStatus();
}

bool IsBlank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

absl::Status RequireAction(const v1::AccessEvent& e, v1::ActionCode action) {
  if (e.action() == action) return absl::OkStatus();
  return Invalid(absl::StrCat("action must be ", v1::ActionCode_Name(action), " for ",
                              v1::ActionSubtype_Name(e.action_subtype()), ", not ",
                              v1::ActionCode_Name(e.action())));
}

// Rules between fields that the anomaly detectors and the patient's view
// rely on: a disclosure names who received the data, a break-the-glass access
// says why, login events are executions, consent events concern consent.
absl::Status CheckConsistency(const v1::AccessEvent& e) {
  switch (e.action_subtype()) {
    case v1::ACTION_SUBTYPE_DISCLOSE:
      if (IsBlank(e.recipient().id()) && IsBlank(e.recipient().name())) {
        return Invalid("recipient.id or recipient.name is required for ACTION_SUBTYPE_DISCLOSE");
      }
      return absl::OkStatus();
    case v1::ACTION_SUBTYPE_BREAK_GLASS:
      if (IsBlank(e.reason())) return Invalid("reason is required for ACTION_SUBTYPE_BREAK_GLASS");
      return absl::OkStatus();
    case v1::ACTION_SUBTYPE_LOGIN_FAILED:
      // The failed-login detector counts these; a "successful failure" is a
      // client bug that would hide or fake a burst.
      if (e.outcome() == v1::OUTCOME_SUCCESS) {
        return Invalid("outcome must not be OUTCOME_SUCCESS for ACTION_SUBTYPE_LOGIN_FAILED");
      }
      return RequireAction(e, v1::ACTION_CODE_EXECUTE);
    case v1::ACTION_SUBTYPE_LOGIN:
    case v1::ACTION_SUBTYPE_LOGOUT: return RequireAction(e, v1::ACTION_CODE_EXECUTE);
    case v1::ACTION_SUBTYPE_CONSENT_GIVEN:
    case v1::ACTION_SUBTYPE_CONSENT_WITHDRAWN:
      if (e.data_object().type() != v1::DATA_OBJECT_TYPE_CONSENT) {
        return Invalid(absl::StrCat("data_object.type must be DATA_OBJECT_TYPE_CONSENT for ",
                                    v1::ActionSubtype_Name(e.action_subtype())));
      }
      return absl::OkStatus();
    default: return absl::OkStatus();
  }
}

// The checks of ValidateEvent, with messages that do not yet name the event.
absl::Status CheckEvent(const v1::AccessEvent& event, absl::Time now) {
  RETURN_IF_ERROR(CheckNoUnknownFields(event));
  RETURN_IF_ERROR(CheckStringFields(event));
  RETURN_IF_ERROR(CheckSource(event.source()));
  RETURN_IF_ERROR(CheckOccurredAt(event, now));
  RETURN_IF_ERROR(CheckCodes(event));
  RETURN_IF_ERROR(CheckNetworkAddress(event.network_address()));
  RETURN_IF_ERROR(CheckAttributes(event.attributes()));
  return CheckConsistency(event);
}

absl::Status NameEvent(absl::string_view where, const v1::AccessEvent& event,
                       const absl::Status& status) {
  std::string label = event.event_id().empty()
                          ? "(no event_id)"
                          : absl::StrCat("(event_id ", Quote(event.event_id()), ")");
  return Invalid(absl::StrCat(where, " ", label, ": ", status.message()));
}

// The ledger's dedupe key. Unambiguous once the event is valid: system has
// no '/' and instance no NUL.
std::string DedupeKey(const v1::AccessEvent& event) {
  return absl::StrCat(event.source().system(), "/", event.source().instance(),
                      absl::string_view("\0", 1), event.event_id());
}

// Within one request the ledger treats a repeated (source, event_id) as a
// retry and keeps only the first event; if the two differ, the second would
// be silently dropped.
absl::Status CheckNotConflicting(const AccessEvents& events, int index,
                                 std::unordered_map<std::string, int>& first_index_by_key) {
  const v1::AccessEvent& event = events[index];
  auto [it, inserted] = first_index_by_key.try_emplace(DedupeKey(event), index);
  if (inserted) return absl::OkStatus();
  const v1::AccessEvent& first = events[it->second];
  if (google::protobuf::util::MessageDifferencer::Equals(first, event)) return absl::OkStatus();
  return Invalid(absl::StrCat("repeats the source and event_id of events[", it->second,
                              "] with different contents"));
}

}  // namespace

absl::Status ValidateEvent(const v1::AccessEvent& event, absl::Time now) {
  absl::Status s = CheckEvent(event, now);
  return s.ok() ? s : NameEvent("event", event, s);
}

absl::Status ValidateEvents(const AccessEvents& events, absl::Time now) {
  if (events.empty()) return Invalid("request has no events");
  if (static_cast<size_t>(events.size()) > kMaxEventsPerRequest) {
    return Invalid(
        absl::StrCat("request has ", events.size(), " events, more than ", kMaxEventsPerRequest));
  }
  std::unordered_map<std::string, int> first_index_by_key;
  first_index_by_key.reserve(static_cast<size_t>(events.size()));
  for (int i = 0; i < events.size(); ++i) {
    absl::Status s = CheckEvent(events[i], now);
    if (s.ok()) s = CheckNotConflicting(events, i, first_index_by_key);
    if (!s.ok()) return NameEvent(absl::StrCat("events[", i, "]"), events[i], s);
  }
  return absl::OkStatus();
}

absl::Status ValidateAppendRequest(const v1::AppendRequest& request, absl::Time now) {
  return ValidateEvents(request.events(), now);
}

bool IsValidUtf8(std::string_view text) {
  absl::string_view bytes(text.data(), text.size());
  for (size_t pos = 0; pos < bytes.size();) {
    std::optional<CodePoint> code_point = DecodeUtf8(bytes.substr(pos));
    if (!code_point) return false;
    pos += code_point->length;
  }
  return true;
}

}  // namespace innsyn::daemon
