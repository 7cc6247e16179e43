#include "anomaly/engine.h"

#include <algorithm>
#include <cctype>

#include "anomaly/internal/engine_state.h"
#include "base/proto_time.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::ActorState;
using internal::EventContext;

// How often (in event time) state no rule can use any more is dropped;
// care links, whose windows are days, less often.
constexpr absl::Duration kSweepInterval = absl::Hours(1);
constexpr absl::Duration kCarePruneInterval = absl::Hours(24);
// Events arriving this late (in occurred_at, behind the latest seen) may
// still find their incident's alert id remembered.
constexpr absl::Duration kLateEventAllowance = absl::Hours(48);

// How long after the activity an alert id is remembered: no rule sees the
// same incident again later than a local day, or source_silent's known_days.
absl::Duration RaisedRetention(const DetectionOptions& options) {
  return absl::Hours(24 * std::max(options.source_silent.known_days, 1)) + kLateEventAllowance;
}

// A failed verification is reported again on every run until repaired: its
// id is never forgotten.
absl::Time KeepRaisedFrom(std::string_view rule, absl::Time occurred_at) {
  return rule == "verification_failed" ? absl::InfiniteFuture() : occurred_at;
}

// Lower case, no white space: "Storgata 1, 0155 Oslo" and
// "storgata 1 ,0155 OSLO" compare equal.
std::string Normalise(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool IsFailedLogin(const v1::AccessEvent& event) {
  if (event.action_subtype() == v1::ACTION_SUBTYPE_LOGIN_FAILED) return true;
  return event.action_subtype() == v1::ACTION_SUBTYPE_LOGIN &&
         event.outcome() != v1::OUTCOME_SUCCESS && event.outcome() != v1::OUTCOME_UNSPECIFIED;
}

bool IsKnownRole(const DetectionOptions& options, const std::string& role) {
  auto in = [&](const std::vector<std::string>& roles) {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  };
  return in(options.clinical_roles) || in(options.non_staff_roles) ||
         options.role_data.contains(role);
}

}  // namespace

namespace internal {

std::string ContactKey(std::string_view surname, std::string_view address) {
  if (surname.empty() || address.empty()) return std::string();
  return StrCat(Normalise(surname), "|", Normalise(address));
}

std::string_view DescribeData(v1::DataObjectType type) {
  switch (type) {
    case v1::DATA_OBJECT_TYPE_JOURNAL_NOTE: return "journal";
    case v1::DATA_OBJECT_TYPE_IMAGE: return "images";
    case v1::DATA_OBJECT_TYPE_CONTACT_DETAILS: return "contact details";
    case v1::DATA_OBJECT_TYPE_INVOICE: return "invoices";
    case v1::DATA_OBJECT_TYPE_REFERRAL: return "referrals";
    case v1::DATA_OBJECT_TYPE_APPOINTMENT: return "appointments";
    case v1::DATA_OBJECT_TYPE_TREATMENT_PLAN: return "treatment plan";
    case v1::DATA_OBJECT_TYPE_CONSENT: return "consents";
    case v1::DATA_OBJECT_TYPE_WEB_FORM: return "web form messages";
    case v1::DATA_OBJECT_TYPE_ACCOUNT: return "account";
    default: return "data";
  }
}

std::string_view DescribePurpose(v1::PurposeOfUse purpose) {
  switch (purpose) {
    case v1::PURPOSE_OF_USE_TREATMENT: return "treatment";
    case v1::PURPOSE_OF_USE_EMERGENCY: return "emergency treatment";
    case v1::PURPOSE_OF_USE_ADMINISTRATION: return "administration";
    case v1::PURPOSE_OF_USE_BILLING: return "billing";
    case v1::PURPOSE_OF_USE_QUALITY: return "quality improvement";
    case v1::PURPOSE_OF_USE_LEGAL: return "a legal request";
    case v1::PURPOSE_OF_USE_PATIENT_REQUEST: return "the patient's own request";
    case v1::PURPOSE_OF_USE_RESEARCH: return "research";
    case v1::PURPOSE_OF_USE_SYSTEM: return "system administration";
    default: return "an unstated purpose";
  }
}

}  // namespace internal

Engine::State::State(DetectionOptions options_in, Roster roster_in, internal::LocalClock clock_in)
    : options(std::move(options_in)),
      roster(std::move(roster_in)),
      clock(std::move(clock_in)),
      clinical_roles(options.clinical_roles.begin(), options.clinical_roles.end()),
      non_staff_roles(options.non_staff_roles.begin(), options.non_staff_roles.end()),
      care(options) {
  for (const auto& [role, kinds] : options.role_data) {
    absl::flat_hash_set<int>& set = role_data_kinds[role];
    for (const std::string& kind : kinds) {
      if (std::optional<v1::DataObjectType> type = DataKindFromName(kind)) set.insert(*type);
    }
  }
  auto add_purposes = [](const std::vector<std::string>& names, absl::flat_hash_set<int>& set) {
    for (const std::string& name : names) {
      if (std::optional<v1::PurposeOfUse> purpose = PurposeFromName(name)) set.insert(*purpose);
    }
  };
  add_purposes(options.clinical_purposes, clinical_purposes);
  for (const auto& [role, names] : options.role_purposes) {
    add_purposes(names, role_purposes[role]);
  }
  IndexRoster();
}

void Engine::State::IndexRoster() {
  staff_contact_key.clear();
  related_by_actor.clear();
  related_pseudonyms_by_actor.clear();
  for (const StaffMember& member : roster.staff()) {
    std::string key = internal::ContactKey(member.surname, member.address);
    if (!key.empty()) staff_contact_key[member.id] = std::move(key);
    if (!member.related_subject_ids.empty()) {
      related_by_actor[member.id].insert(member.related_subject_ids.begin(),
                                         member.related_subject_ids.end());
    }
    if (!member.related_subject_pseudonyms.empty()) {
      related_pseudonyms_by_actor[member.id].insert(member.related_subject_pseudonyms.begin(),
                                                    member.related_subject_pseudonyms.end());
    }
  }
}

v1::Alert* Engine::State::Raise(std::string id, std::string_view rule,
                                const RuleOptions& rule_options, absl::Time occurred_at) {
  if (raised.contains(id)) return nullptr;
  raised.emplace(id, KeepRaisedFrom(rule, occurred_at));
  v1::Alert& alert = out.emplace_back();
  alert.set_alert_id(std::move(id));
  alert.set_rule(std::string(rule));
  alert.set_severity(rule_options.severity);
  *alert.mutable_occurred_at() = ToProto(occurred_at);
  return &alert;
}

v1::Alert* Engine::State::RaiseFor(const EventContext& context, std::string id,
                                   std::string_view rule, const RuleOptions& rule_options) {
  v1::Alert* alert = Raise(std::move(id), rule, rule_options, context.time);
  if (alert == nullptr) return nullptr;
  const v1::AccessEvent& event = context.event;
  alert->set_actor_id(event.actor().id());
  alert->set_subject_id(event.subject().id());
  alert->set_source_system(event.source().system());
  alert->add_evidence_seqs(context.seq);
  return alert;
}

void Engine::State::Sweep(absl::Time now) {
  next_sweep = now + kSweepInterval;
  if (now >= next_care_prune) {
    next_care_prune = now + kCarePruneInterval;
    care.Prune(now);
  }
  absl::Time raised_cutoff = now - RaisedRetention(options);
  absl::erase_if(raised, [&](const auto& item) { return item.second < raised_cutoff; });
  absl::Time export_cutoff = now - options.bulk_export.window;
  absl::erase_if(exports_by_actor, [&](const auto& item) {
    return item.second.empty() || item.second.last_time() < export_cutoff;
  });
  absl::Time login_cutoff = now - options.login_failures.window;
  for (auto* windows : {&login_failures_by_account, &login_failures_by_address}) {
    absl::erase_if(*windows, [&](const auto& item) {
      return item.second.empty() || item.second.last_time() < login_cutoff;
    });
  }
  absl::Time source_cutoff = now - absl::Hours(24 * options.source_silent.known_days);
  absl::erase_if(sources, [&](const auto& item) {
    return item.second.last_seen < source_cutoff && item.second.gaps.empty();
  });
  const int64_t hour_cutoff = clock.At(source_cutoff).hour;
  for (auto& [key, source] : sources) {
    absl::erase_if(source.active_hours, [&](int64_t hour) { return hour < hour_cutoff; });
    absl::erase_if(source.staff_hours, [&](int64_t hour) { return hour < hour_cutoff; });
    const int64_t day_cutoff = clock.At(source_cutoff).day;
    absl::erase_if(source.alerted_days, [&](int64_t day) { return day < day_cutoff; });
  }
  absl::Time actor_cutoff = now - options.replay_window;
  absl::erase_if(actors, [&](const auto& item) { return item.second.last_seen < actor_cutoff; });
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(DetectionOptions options, Roster roster) {
  for (const StaffMember& member : roster.staff()) {
    if (member.role.empty() || IsKnownRole(options, member.role)) continue;
    return absl::InvalidArgumentError(
        StrCat("roster: staff ", member.id, " has role \"", member.role,
               "\", which no detection setting names: add it to detection.clinical_roles, "
               "detection.non_staff_roles or detection.role_data, or it would go unchecked"));
  }
  absl::StatusOr<internal::LocalClock> clock = internal::LocalClock::Create(options);
  if (!clock.ok()) return clock.status();
  absl::flat_hash_map<std::string, internal::NetworkList> networks;
  for (const auto& [source, list] : options.disallowed_network.networks_by_source) {
    absl::StatusOr<internal::NetworkList> parsed = internal::NetworkList::Parse(list);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(StrCat("config: detection.disallowed_network.networks.",
                                               source, ": ", parsed.status().message()));
    }
    networks.emplace(source, std::move(*parsed));
  }
  auto state = std::make_unique<State>(std::move(options), std::move(roster), std::move(*clock));
  state->networks_by_source = std::move(networks);
  return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

void Engine::MarkRaised(std::string_view alert_id) {
  state_->raised.try_emplace(std::string(alert_id), absl::InfiniteFuture());
}

const DetectionOptions& Engine::options() const { return state_->options; }

const std::map<std::string, uint64_t>& Engine::UnknownRoleEvents() const {
  return state_->unknown_role_events;
}

void Engine::SetRoster(Roster roster) {
  state_->roster = std::move(roster);
  state_->IndexRoster();
}

void Engine::SetSubjectPseudonyms(SubjectPseudonymFunction pseudonym) {
  state_->subject_pseudonym = std::move(pseudonym);
}

std::string Engine::State::PseudonymIfNeeded(const std::string& subject_id) const {
  if (!roster.has_pseudonyms() || !subject_pseudonym) return std::string();
  return subject_pseudonym(subject_id);
}

const StaffMember* Engine::State::OwnerOfRecord(const std::string& subject_id) {
  if (roster.empty()) return nullptr;
  return roster.OwnerOf(subject_id, PseudonymIfNeeded(subject_id));
}

void Engine::State::ObserveBaseline(const v1::AccessEvent& event) {
  const absl::Time time = internal::EventTime(event);
  care.Observe(event, time);
  if (internal::IsTreatment(event)) {
    care.RecordTreatment(event.subject().id(), event.actor().id(), time);
  }
  if (event.data_object().type() == v1::DATA_OBJECT_TYPE_CONTACT_DETAILS) {
    ObserveContactDetails(event);
  }
}

std::vector<v1::Alert> Engine::Observe(uint64_t seq, const v1::LedgerEntry& entry) {
  State& s = *state_;
  if (entry.has_baseline()) {
    if (s.options.enabled) s.ObserveBaseline(entry.baseline().event());
    return {};
  }
  if (entry.has_alert()) {
    // From now on the ledger holds it: forget it once no rule can see the
    // incident again.
    const v1::Alert& alert = entry.alert();
    absl::Time occurred_at = absl::FromUnixSeconds(alert.occurred_at().seconds());
    s.raised[alert.alert_id()] = alert.has_occurred_at() ? KeepRaisedFrom(alert.rule(), occurred_at)
                                                         : absl::InfiniteFuture();
    return {};
  }
  if (!entry.has_access_event() || !s.options.enabled) return {};
  const v1::AccessEvent& event = entry.access_event();
  absl::Time time = internal::EventTime(event);
  const StaffMember* member = s.roster.empty() ? nullptr : s.roster.Find(event.actor().id());
  const std::string& role =
      member != nullptr && !member->role.empty() ? member->role : event.actor().role();
  bool staff = !s.non_staff_roles.contains(role) && event.actor().id() != event.subject().id();
  bool clinician = staff && s.clinical_roles.contains(role);
  if (staff && !clinician && !s.role_data_kinds.contains(role)) {
    // Unknown: judged by the strictest rule, as a clinician without a link.
    ++s.unknown_role_events[role];
    clinician = true;
  }
  EventContext context{seq, event, time, s.clock.At(time), member, role, staff, clinician, false};
  s.latest = std::max(s.latest, time);

  s.care.Observe(event, time);
  if (event.data_object().type() == v1::DATA_OBJECT_TYPE_CONTACT_DETAILS) {
    s.ObserveContactDetails(event);
  }
  s.ObserveSource(context);
  s.CheckNetwork(context);
  s.CheckDisclosure(context);
  s.CheckBulkExport(context);
  s.CheckBreakGlass(context);
  if (IsFailedLogin(event)) {
    s.CheckLoginFailure(context);
  } else if (staff) {
    ActorState& actor = s.actors[event.actor().id()];
    s.CheckUnknownOrDormant(context, actor);
    s.CheckOffHours(context, actor);
    s.CheckVolume(context, actor);
    s.CheckSelfOrRelated(context);
    s.CheckRoleData(context);
    s.CheckRolePurpose(context);
    s.CheckCareRelationship(context);
    actor.last_seen = std::max(actor.last_seen, time);
  }
  s.ResolvePending(s.latest);
  if (s.latest >= s.next_sweep) s.Sweep(s.latest);
  std::vector<v1::Alert> alerts;
  alerts.swap(s.out);
  return alerts;
}

std::vector<v1::Alert> Engine::Tick(absl::Time now) {
  State& s = *state_;
  if (!s.options.enabled) return {};
  s.ResolvePending(now);
  for (auto& [key, source] : s.sources) s.ExpireGaps(source, now);
  s.CheckSilence(now);
  std::vector<v1::Alert> alerts;
  alerts.swap(s.out);
  // Sources are visited in hash order; the alerts go out in id order.
  std::sort(alerts.begin(), alerts.end(),
            [](const v1::Alert& a, const v1::Alert& b) { return a.alert_id() < b.alert_id(); });
  return alerts;
}

std::vector<v1::Alert> Engine::VerificationFailed(std::string_view mode, uint64_t first_bad_seq,
                                                  std::string_view problem, absl::Time now) {
  State& s = *state_;
  const RuleOptions& rule = s.options.verification_failed;
  if (!s.options.enabled || !rule.enabled) return {};
  v1::Alert* alert = s.Raise(StrCat("verification_failed/", mode, "/", first_bad_seq),
                             "verification_failed", rule, now);
  if (alert == nullptr) return {};
  alert->set_summary(StrCat("innsynd's ", mode,
                            " verification found the ledger damaged from entry ", first_bad_seq,
                            ": ", problem));
  alert->add_evidence_seqs(first_bad_seq);
  std::vector<v1::Alert> alerts;
  alerts.swap(s.out);
  return alerts;
}

}  // namespace innsyn::anomaly
