#include "ctl/event_flags.h"

#include <fmt/format.h>

#include <array>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "ctl/format.h"

namespace innsyn::ctl {
namespace {

// FHIR's one-letter action codes, as an alternative to the names.
constexpr std::array<std::pair<char, v1::ActionCode>, 5> kActionLetters = {{
    {'C', v1::ACTION_CODE_CREATE},
    {'R', v1::ACTION_CODE_READ},
    {'U', v1::ACTION_CODE_UPDATE},
    {'D', v1::ACTION_CODE_DELETE},
    {'E', v1::ACTION_CODE_EXECUTE},
}};

template <typename Enum>
absl::StatusOr<Enum> ParseFlagEnum(const char* flag, const std::string& value) {
  std::optional<Enum> parsed = ParseLabel<Enum>(value);
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", value, "\" is not one of ",
                                                   absl::StrJoin(Labels<Enum>(), ", ")));
  }
  return *parsed;
}

absl::StatusOr<v1::ActionCode> ParseAction(const std::string& value) {
  if (value.size() == 1) {
    char letter = absl::ascii_toupper(static_cast<unsigned char>(value[0]));
    for (const auto& [code_letter, code] : kActionLetters) {
      if (letter == code_letter) return code;
    }
  }
  return ParseFlagEnum<v1::ActionCode>("--action", value);
}

absl::Status SetSource(const std::string& value, v1::Source& source) {
  size_t slash = value.find('/');
  source.set_system(value.substr(0, slash));
  if (slash != std::string::npos) source.set_instance(value.substr(slash + 1));
  if (source.system().empty()) {
    return absl::InvalidArgumentError(
        "--source: want \"system/instance\", e.g. opus-dental/clinic-1");
  }
  return absl::OkStatus();
}

absl::Status SetAttributes(const std::vector<std::string>& pairs, v1::AccessEvent& event) {
  for (const std::string& pair : pairs) {
    size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--attr: want key=value, got \"", pair, "\""));
    }
    auto [it, inserted] =
        event.mutable_attributes()->insert({pair.substr(0, equals), pair.substr(equals + 1)});
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("--attr: key \"", it->first, "\" given twice"));
    }
  }
  return absl::OkStatus();
}

void SetIdentities(const EventFlags& flags, v1::AccessEvent& event) {
  v1::Actor& actor = *event.mutable_actor();
  actor.set_id(flags.actor_id);
  actor.set_display_name(flags.actor_name);
  actor.set_role(flags.actor_role);
  actor.set_hpr_number(flags.hpr);
  actor.set_organisation(flags.org);
  event.mutable_subject()->set_id(flags.subject_id);
  event.mutable_data_object()->set_id(flags.object_id);
  if (!flags.recipient_id.empty() || !flags.recipient_name.empty()) {
    event.mutable_recipient()->set_id(flags.recipient_id);
    event.mutable_recipient()->set_name(flags.recipient_name);
  }
  event.set_legal_basis(flags.legal_basis);
  event.set_network_address(flags.network_address);
  event.set_workstation(flags.workstation);
  event.set_user_agent(flags.user_agent);
  event.set_reason(flags.reason_text);
}

// The enum-valued flags; each error names its flag.
absl::Status SetCodes(const EventFlags& flags, v1::AccessEvent& event) {
  absl::StatusOr<v1::SubjectKind> kind =
      ParseFlagEnum<v1::SubjectKind>("--subject-kind", flags.subject_kind);
  if (!kind.ok()) return kind.status();
  event.mutable_subject()->set_kind(*kind);
  absl::StatusOr<v1::ActionCode> action = ParseAction(flags.action);
  if (!action.ok()) return action.status();
  event.set_action(*action);
  absl::StatusOr<v1::ActionSubtype> subtype =
      ParseFlagEnum<v1::ActionSubtype>("--subtype", flags.subtype);
  if (!subtype.ok()) return subtype.status();
  event.set_action_subtype(*subtype);
  absl::StatusOr<v1::DataObjectType> type =
      ParseFlagEnum<v1::DataObjectType>("--object-type", flags.object_type);
  if (!type.ok()) return type.status();
  event.mutable_data_object()->set_type(*type);
  absl::StatusOr<v1::Outcome> outcome = ParseFlagEnum<v1::Outcome>("--outcome", flags.outcome);
  if (!outcome.ok()) return outcome.status();
  event.set_outcome(*outcome);
  if (flags.purpose.empty()) return absl::OkStatus();
  absl::StatusOr<v1::PurposeOfUse> purpose =
      ParseFlagEnum<v1::PurposeOfUse>("--purpose", flags.purpose);
  if (!purpose.ok()) return purpose.status();
  event.set_purpose_of_use(*purpose);
  return absl::OkStatus();
}

absl::Status SetOccurredAt(const std::string& value, v1::AccessEvent& event) {
  if (value.empty()) {
    *event.mutable_occurred_at() = ToProto(Now());
    return absl::OkStatus();
  }
  absl::StatusOr<absl::Time> time = ParseUserTime(value);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--occurred-at: ", time.status().message()));
  }
  *event.mutable_occurred_at() = ToProto(*time);
  return absl::OkStatus();
}

template <typename Enum>
std::string ChoicesHelp(std::string_view what) {
  return fmt::format("{} (one of: {})", what, absl::StrJoin(Labels<Enum>(), ", "));
}

}  // namespace

void AddEventFlags(CLI::Option_group& group, EventFlags& flags) {
  group.add_option("--event-id", flags.event_id,
                   "Client-chosen id, unique per source (default: a random UUID)");
  group.add_option("--source", flags.source,
                   "Reporting system as system/instance, e.g. opus-dental/clinic-1");
  group.add_option("--source-seq", flags.source_seq, "The source's own sequence number");
  group.add_option("--occurred-at", flags.occurred_at, "When it happened, RFC 3339 (default: now)");
  group.add_option("--actor-id", flags.actor_id, "Who: account or employee id");
  group.add_option("--actor-name", flags.actor_name, "Who: display name");
  group.add_option("--actor-role", flags.actor_role, "Who: role, e.g. dentist, receptionist");
  group.add_option("--hpr", flags.hpr, "Who: HPR number (Helsepersonellregisteret)");
  group.add_option("--org", flags.org, "Who: organisation or department");
  group.add_option("--subject-id", flags.subject_id, "Whose data: e.g. national identity number");
  group.add_option("--subject-kind", flags.subject_kind,
                   ChoicesHelp<v1::SubjectKind>("Whose data: kind"));
  group.add_option("--action", flags.action,
                   "C, R, U, D, E or create, read, update, delete, execute");
  group.add_option("--subtype", flags.subtype, ChoicesHelp<v1::ActionSubtype>("Kind of action"));
  group.add_option("--object-type", flags.object_type,
                   ChoicesHelp<v1::DataObjectType>("What was touched"));
  group.add_option("--object-id", flags.object_id, "What was touched: its id");
  group.add_option("--purpose", flags.purpose, ChoicesHelp<v1::PurposeOfUse>("Why"));
  group.add_option("--legal-basis", flags.legal_basis,
                   "Why: legal basis, e.g. \"pasientjournalloven § 6\"");
  group.add_option("--outcome", flags.outcome, ChoicesHelp<v1::Outcome>("Result"))
      ->capture_default_str();
  group.add_option("--network-address", flags.network_address, "Actor's IPv4 or IPv6 address");
  group.add_option("--workstation", flags.workstation, "Actor's workstation");
  group.add_option("--user-agent", flags.user_agent, "Actor's user agent");
  group.add_option("--recipient-id", flags.recipient_id, "Disclosed to: id, e.g. org number");
  group.add_option("--recipient-name", flags.recipient_name, "Disclosed to: name, e.g. NAV");
  group.add_option("--reason-text", flags.reason_text,
                   "Free-text reason, e.g. for break-the-glass");
  group.add_option("--attr", flags.attributes, "Extra attribute key=value (repeatable)")
      ->allow_extra_args(false);
}

std::vector<std::string> MissingEventFlags(const EventFlags& flags) {
  const std::pair<const std::string*, const char*> required[] = {
      {&flags.source, "--source"},          {&flags.actor_id, "--actor-id"},
      {&flags.subject_id, "--subject-id"},  {&flags.subject_kind, "--subject-kind"},
      {&flags.action, "--action"},          {&flags.subtype, "--subtype"},
      {&flags.object_type, "--object-type"}};
  std::vector<std::string> missing;
  for (const auto& [value, name] : required) {
    if (value->empty()) missing.push_back(name);
  }
  return missing;
}

absl::StatusOr<v1::AccessEvent> BuildEvent(const EventFlags& flags) {
  v1::AccessEvent event;
  event.set_event_id(flags.event_id.empty() ? NewEventId() : flags.event_id);
  event.set_source_seq(flags.source_seq);
  SetIdentities(flags, event);
  if (absl::Status s = SetSource(flags.source, *event.mutable_source()); !s.ok()) return s;
  if (absl::Status s = SetOccurredAt(flags.occurred_at, event); !s.ok()) return s;
  if (absl::Status s = SetCodes(flags, event); !s.ok()) return s;
  if (absl::Status s = SetAttributes(flags.attributes, event); !s.ok()) return s;
  return event;
}

std::string NewEventId() {
  std::random_device random;  // the kernel's generator: ids from two hosts must not collide
  std::uniform_int_distribution<uint64_t> any;
  uint64_t high = any(random);
  uint64_t low = any(random);
  high = (high & ~0xF000ULL) | 0x4000ULL;      // version 4
  low = (low & ~(3ULL << 62)) | (2ULL << 62);  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xFFFF,
                     high & 0xFFFF, low >> 48, low & 0xFFFFFFFFFFFFULL);
}

}  // namespace innsyn::ctl
