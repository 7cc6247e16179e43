// The rules about what staff do: off_hours, volume_spike,
// unknown_or_dormant_actor, self_or_related, and those about any actor's
// exports, emergency access and network.
#include <fmt/format.h>

#include "anomaly/event_conventions.h"
#include "anomaly/internal/engine_state.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::ActorState;
using internal::EventContext;
using internal::VolumeState;

constexpr int64_t kHoursPerDay = 24;

absl::CivilDay ToCivilDay(int64_t day) { return absl::CivilDay(1970, 1, 1) + day; }

// Starts a new local clock hour of one kind of data for an actor: the
// finished hour joins the baseline, hours older than baseline_days leave
// it, and the limit for the hour is set.
void RollHour(VolumeState& volume, int64_t hour, const DetectionOptions::VolumeSpike& rule) {
  if (volume.hour != INT64_MIN && !volume.hour_subjects.empty()) {
    int count = static_cast<int>(volume.hour_subjects.size());
    volume.past_hours.emplace_back(volume.hour, count);
    volume.past_sum += count;
  }
  int64_t oldest = hour - rule.baseline_days * kHoursPerDay;
  while (!volume.past_hours.empty() && volume.past_hours.front().first < oldest) {
    volume.past_sum -= volume.past_hours.front().second;
    volume.past_hours.pop_front();
  }
  volume.hour = hour;
  volume.hour_subjects.clear();
  volume.threshold = rule.floor;
  size_t active = volume.past_hours.size();
  if (active > 0 && active >= static_cast<size_t>(rule.min_baseline_hours)) {
    double average = static_cast<double>(volume.past_sum) / static_cast<double>(active);
    volume.threshold = std::max<double>(rule.floor, rule.multiplier * average);
  }
}

// Issuing an invoice (a month-end run issues dozens in an hour): billing
// work, not reading.
bool IsInvoicing(const v1::AccessEvent& event) {
  bool write = event.action() == v1::ACTION_CODE_CREATE || event.action() == v1::ACTION_CODE_UPDATE;
  return write && event.data_object().type() == v1::DATA_OBJECT_TYPE_INVOICE &&
         event.purpose_of_use() == v1::PURPOSE_OF_USE_BILLING;
}

bool ConcernsPatientRecord(v1::DataObjectType type) {
  return type != v1::DATA_OBJECT_TYPE_APPOINTMENT && type != v1::DATA_OBJECT_TYPE_ACCOUNT &&
         type != v1::DATA_OBJECT_TYPE_WEB_FORM && type != v1::DATA_OBJECT_TYPE_CONSENT &&
         type != v1::DATA_OBJECT_TYPE_UNSPECIFIED;
}

}  // namespace

void Engine::State::CheckOffHours(EventContext& context, ActorState& actor) {
  const RuleOptions& rule = options.off_hours;
  if (!rule.enabled || actor.off_hours_day == context.local.day) return;
  if (clock.IsOpen(context.local)) return;
  actor.off_hours_day = context.local.day;
  const v1::AccessEvent& event = context.event;
  std::string date = LocalDate(context.local.day);
  v1::Alert* alert =
      RaiseFor(context, StrCat("off_hours/", event.actor().id(), "/", date), "off_hours", rule);
  if (alert == nullptr) return;
  alert->set_summary(StrCat(event.actor().id(), " used ", event.source().system(), " at ",
                            clock.FormatMinute(context.time), ", when the clinic is closed"));
}

void Engine::State::CheckVolume(EventContext& context, ActorState& actor) {
  const DetectionOptions::VolumeSpike& rule = options.volume_spike;
  const v1::AccessEvent& event = context.event;
  const v1::DataObjectType type = event.data_object().type();
  if (!rule.enabled || event.subject().id().empty()) return;
  if (type == v1::DATA_OBJECT_TYPE_ACCOUNT || type == v1::DATA_OBJECT_TYPE_WEB_FORM) return;
  if (IsInvoicing(event)) return;
  const bool health = internal::IsHealthData(type);
  VolumeState& volume = actor.volume[health ? 0 : 1];
  if (context.local.hour > volume.hour) RollHour(volume, context.local.hour, rule);
  if (context.local.hour == volume.hour) volume.hour_subjects.insert(event.subject().id());
  internal::BurstWindow& window = volume.window;
  window.ExpireBefore(context.time - rule.window);
  window.Add(context.time, context.seq, event.subject().id());
  const size_t count = window.distinct();
  if (static_cast<double>(count) <= volume.threshold) {
    window.in_burst = false;
    return;
  }
  if (window.in_burst) return;
  window.in_burst = true;
  std::string_view kind = health ? "health" : "administrative";
  v1::Alert* alert =
      Raise(StrCat("volume_spike/", event.actor().id(), "/", kind, "/", window.first_seq()),
            "volume_spike", rule, window.first_time());
  if (alert == nullptr) return;
  alert->set_actor_id(event.actor().id());
  alert->set_source_system(event.source().system());
  for (uint64_t seq : window.Evidence()) alert->add_evidence_seqs(seq);
  alert->set_summary(fmt::format(
      "{} ({}) opened the {} data of {} different patients within {} minutes from {}, more "
      "than their usual limit of {:.0f}",
      event.actor().id(), context.role, kind, count, absl::ToInt64Minutes(rule.window),
      clock.FormatMinute(window.first_time()), volume.threshold));
}

void Engine::State::CheckRoleData(EventContext& context) {
  const RuleOptions& rule = options.role_data_access;
  const v1::AccessEvent& event = context.event;
  const v1::DataObjectType type = event.data_object().type();
  if (!rule.enabled || context.clinician || type == v1::DATA_OBJECT_TYPE_UNSPECIFIED) return;
  auto kinds = role_data_kinds.find(context.role);
  if (kinds == role_data_kinds.end() || kinds->second.contains(type)) return;
  v1::Alert* alert = RaiseFor(context,
                              StrCat("role_data_access/", event.actor().id(), "/",
                                     event.subject().id(), "/", LocalDate(context.local.day)),
                              "role_data_access", rule);
  if (alert == nullptr) return;
  alert->set_summary(StrCat(event.actor().id(), ", a ", context.role, ", opened a patient's ",
                            internal::DescribeData(type), ", which the role does not work with"));
}

void Engine::State::CheckRolePurpose(EventContext& context) {
  const RuleOptions& rule = options.role_purpose;
  const v1::AccessEvent& event = context.event;
  const v1::PurposeOfUse purpose = event.purpose_of_use();
  if (!rule.enabled || purpose == v1::PURPOSE_OF_USE_UNSPECIFIED) return;
  // A non-clinical role with no purposes named has none.
  static const absl::flat_hash_set<int> kNone;
  auto named = role_purposes.find(context.role);
  const absl::flat_hash_set<int>& allowed = named != role_purposes.end() ? named->second
                                            : context.clinician          ? clinical_purposes
                                                                         : kNone;
  if (allowed.contains(purpose)) return;
  v1::Alert* alert = RaiseFor(context,
                              StrCat("role_purpose/", event.actor().id(), "/", event.subject().id(),
                                     "/", LocalDate(context.local.day)),
                              "role_purpose", rule);
  if (alert == nullptr) return;
  alert->set_summary(StrCat(event.actor().id(), ", a ", context.role, ", opened a patient's ",
                            internal::DescribeData(event.data_object().type()), " for ",
                            internal::DescribePurpose(purpose),
                            ", which is not a purpose the role has"));
}

void Engine::State::CheckUnknownOrDormant(EventContext& context, ActorState& actor) {
  const DetectionOptions::UnknownOrDormantActor& rule = options.unknown_or_dormant_actor;
  if (!rule.enabled || actor.unknown_day == context.local.day) return;
  const StaffMember* member = context.member;
  absl::CivilDay today = ToCivilDay(context.local.day);
  std::string reason;
  if (!roster.empty() && member == nullptr) {
    reason = "is not in the staff roster";
  } else if (member != nullptr && member->start && today < *member->start) {
    reason =
        StrCat("was used before its holder's start date ", absl::FormatCivilTime(*member->start));
  } else if (member != nullptr && member->end && today > *member->end) {
    reason = StrCat("was used after its holder's last working day ",
                    absl::FormatCivilTime(*member->end));
  } else if (actor.last_seen != absl::InfinitePast() &&
             context.time - actor.last_seen > absl::Hours(kHoursPerDay * rule.dormant_days)) {
    reason =
        StrCat("was used after ", absl::ToInt64Hours(context.time - actor.last_seen) / kHoursPerDay,
               " days unused");
  }
  if (reason.empty()) return;
  actor.unknown_day = context.local.day;
  const v1::AccessEvent& event = context.event;
  v1::Alert* alert = RaiseFor(
      context,
      StrCat("unknown_or_dormant_actor/", event.actor().id(), "/", LocalDate(context.local.day)),
      "unknown_or_dormant_actor", rule);
  if (alert == nullptr) return;
  alert->set_summary(
      StrCat("The account ", event.actor().id(), " ", reason, ", in ", event.source().system()));
}

void Engine::State::CheckSelfOrRelated(EventContext& context) {
  const RuleOptions& rule = options.self_or_related;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled || roster.empty() || !ConcernsPatientRecord(event.data_object().type())) return;
  const std::string& actor_id = event.actor().id();
  const std::string& subject_id = event.subject().id();
  std::string relation;
  const std::string pseudonym = PseudonymIfNeeded(subject_id);
  const StaffMember* owner = roster.OwnerOf(subject_id, pseudonym);
  auto listed = [&](const auto& by_actor, const std::string& key) {
    auto related = by_actor.find(actor_id);
    return !key.empty() && related != by_actor.end() && related->second.contains(key);
  };
  // The roster's surname and address, else those of the staff member's own
  // record, from its contact details.
  auto household = [&]() -> const std::string* {
    if (auto it = staff_contact_key.find(actor_id); it != staff_contact_key.end()) {
      return &it->second;
    }
    auto it = household_by_staff.find(actor_id);
    return it == household_by_staff.end() ? nullptr : &it->second;
  };
  if (owner != nullptr && owner->id == actor_id) {
    relation = "their own record";
  } else if (owner != nullptr) {
    relation = StrCat("the record of their co-worker ", owner->id);
  } else if (listed(related_by_actor, subject_id) ||
             listed(related_pseudonyms_by_actor, pseudonym)) {
    relation = "the record of a relative named in the staff roster";
  } else if (const std::string* staff_key = household(); staff_key != nullptr) {
    auto subject_key = subject_contact_key.find(subject_id);
    if (subject_key != subject_contact_key.end() && subject_key->second == *staff_key) {
      relation = "the record of a patient with their surname and address";
    }
  }
  if (relation.empty()) return;
  context.self_or_related = true;
  v1::Alert* alert = RaiseFor(
      context,
      StrCat("self_or_related/", actor_id, "/", subject_id, "/", LocalDate(context.local.day)),
      "self_or_related", rule);
  if (alert == nullptr) return;
  alert->set_summary(StrCat(actor_id, " opened ", relation, " (",
                            internal::DescribeData(event.data_object().type()), ")"));
}

void Engine::State::ObserveContactDetails(const v1::AccessEvent& event) {
  if (event.action() != v1::ACTION_CODE_CREATE && event.action() != v1::ACTION_CODE_UPDATE) return;
  auto surname = event.attributes().find(std::string(kContactSurname));
  auto address = event.attributes().find(std::string(kContactAddress));
  if (surname == event.attributes().end() || address == event.attributes().end()) return;
  std::string key = internal::ContactKey(surname->second, address->second);
  if (const StaffMember* owner = OwnerOfRecord(event.subject().id()); owner != nullptr) {
    if (key.empty()) {
      household_by_staff.erase(owner->id);
    } else {
      household_by_staff[owner->id] = key;
    }
  }
  if (key.empty()) {
    subject_contact_key.erase(event.subject().id());
  } else {
    subject_contact_key[event.subject().id()] = std::move(key);
  }
}

void Engine::State::CheckBulkExport(EventContext& context) {
  const DetectionOptions::BulkExport& rule = options.bulk_export;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled) return;
  if (event.action_subtype() != v1::ACTION_SUBTYPE_PRINT &&
      event.action_subtype() != v1::ACTION_SUBTYPE_EXPORT) {
    return;
  }
  internal::BurstWindow& window = exports_by_actor[event.actor().id()];
  window.ExpireBefore(context.time - rule.window);
  window.Add(context.time, context.seq, event.subject().id());
  if (window.distinct() <= static_cast<size_t>(rule.max_subjects)) {
    window.in_burst = false;
    return;
  }
  if (window.in_burst) return;
  window.in_burst = true;
  v1::Alert* alert = Raise(StrCat("bulk_export/", event.actor().id(), "/", window.first_seq()),
                           "bulk_export", rule, window.first_time());
  if (alert == nullptr) return;
  alert->set_actor_id(event.actor().id());
  alert->set_source_system(event.source().system());
  for (uint64_t seq : window.Evidence()) alert->add_evidence_seqs(seq);
  alert->set_summary(StrCat(event.actor().id(), " printed or exported the data of ",
                            window.distinct(), " different patients within ",
                            absl::ToInt64Minutes(rule.window), " minutes"));
}

void Engine::State::CheckBreakGlass(EventContext& context) {
  const RuleOptions& rule = options.break_glass;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled || !internal::IsBreakGlass(event)) return;
  v1::Alert* alert = RaiseFor(context,
                              StrCat("break_glass/", event.actor().id(), "/", event.subject().id(),
                                     "/", LocalDate(context.local.day)),
                              "break_glass", rule);
  if (alert == nullptr) return;
  std::string reason = event.reason().empty()
                           ? std::string(", giving no reason")
                           : StrCat(", giving the reason \"", event.reason(), "\"");
  alert->set_summary(StrCat(event.actor().id(),
                            " used emergency access (break the glass) to a patient's ",
                            internal::DescribeData(event.data_object().type()), reason));
}

void Engine::State::CheckNetwork(EventContext& context) {
  const RuleOptions& rule = options.disallowed_network;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled || networks_by_source.empty() || event.network_address().empty()) return;
  auto networks = networks_by_source.find(event.source().system());
  if (networks == networks_by_source.end()) return;
  std::optional<internal::IpAddress> address = internal::ParseIpAddress(event.network_address());
  if (address && networks->second.Contains(*address)) return;
  v1::Alert* alert = RaiseFor(context,
                              StrCat("disallowed_network/", event.source().system(), "/",
                                     event.actor().id(), "/", LocalDate(context.local.day)),
                              "disallowed_network", rule);
  if (alert == nullptr) return;
  alert->set_summary(StrCat(event.actor().id(), " used ", event.source().system(), " from ",
                            event.network_address(), ", outside the networks allowed for it"));
}

}  // namespace innsyn::anomaly
