// The rules that need to know why a patient's data is being handled:
// no_care_relationship and disclosure_without_consent, both answered by
// CareLinks.
#include <fmt/format.h>

#include "anomaly/internal/engine_state.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::EventContext;
using internal::PendingAccess;

std::string_view Verb(const v1::AccessEvent& event) {
  if (event.action_subtype() == v1::ACTION_SUBTYPE_PRINT) return "printed";
  if (event.action_subtype() == v1::ACTION_SUBTYPE_EXPORT) return "exported";
  switch (event.action()) {
    case v1::ACTION_CODE_CREATE: return "wrote in";
    case v1::ACTION_CODE_UPDATE: return "changed";
    default: return "read";
  }
}

}  // namespace

void Engine::State::CheckCareRelationship(EventContext& context) {
  const DetectionOptions::NoCareRelationship& rule = options.no_care_relationship;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled || !context.clinician || context.self_or_related) return;
  if (!internal::NeedsCareLink(event) || internal::IsBreakGlass(event)) return;
  const std::string& actor = event.actor().id();
  const std::string& subject = event.subject().id();
  bool treatment = internal::IsTreatment(event);
  if (care.Find(subject, actor, context.time, context.time)) {
    if (treatment) care.RecordTreatment(subject, actor, context.time);
    return;
  }
  key_buffer.assign(actor);
  key_buffer.push_back('\x1f');
  key_buffer.append(subject);
  key_buffer.push_back('\x1f');
  key_buffer.append(std::to_string(context.local.day));
  if (auto found = pending_by_key.find(key_buffer); found != pending_by_key.end()) {
    PendingAccess& access = *found->second;
    if (access.evidence.size() < internal::kMaxEvidence) access.evidence.push_back(context.seq);
    if (treatment) access.treatment = std::max(access.treatment, context.time);
    return;
  }
  PendingAccess& access = pending.emplace_back();
  access.key = key_buffer;
  access.actor = actor;
  access.subject = subject;
  access.source_system = event.source().system();
  access.what = StrCat(Verb(event), " the ", internal::DescribeData(event.data_object().type()));
  access.day = context.local.day;
  access.first_time = context.time;
  access.evidence.push_back(context.seq);
  if (treatment) access.treatment = context.time;
  pending_by_key.emplace(access.key, &access);
}

void Engine::State::ResolvePending(absl::Time now) {
  while (!pending.empty() && pending.front().first_time + internal::kLateBookingGrace <= now) {
    PendingAccess& access = pending.front();
    absl::Time booked_by = access.first_time + internal::kLateBookingGrace;
    if (care.Find(access.subject, access.actor, access.first_time, booked_by)) {
      if (access.treatment != absl::InfinitePast()) {
        care.RecordTreatment(access.subject, access.actor, access.treatment);
      }
    } else {
      JudgeUnlinked(access);
    }
    pending_by_key.erase(access.key);
    pending.pop_front();
  }
}

void Engine::State::JudgeUnlinked(const PendingAccess& access) {
  const DetectionOptions::NoCareRelationship& rule = options.no_care_relationship;
  const bool treated = access.treatment != absl::InfinitePast();
  if (std::optional<internal::BookedSlot> slot =
          care.ColleagueSlot(access.subject, access.actor, access.first_time)) {
    auto colleague = actors.find(slot->clinician);
    const bool absent = colleague == actors.end() ||
                        colleague->second.last_seen == absl::InfinitePast() ||
                        clock.At(colleague->second.last_seen).day < access.day;
    if (absent) {
      // Covering for a colleague not at work today: one low notice a day.
      if (treated) care.RecordTreatment(access.subject, access.actor, access.treatment);
      if (!options.covering.enabled) return;
      if (v1::Alert* alert = Raise(StrCat("covering/", access.actor, "/", LocalDate(access.day)),
                                   "covering", options.covering, access.first_time)) {
        alert->set_actor_id(access.actor);
        alert->set_source_system(access.source_system);
        for (uint64_t seq : access.evidence) alert->add_evidence_seqs(seq);
        alert->set_summary(fmt::format(
            "{} saw patients booked with {}, who has not been at work on {} (covering; this "
            "first patient at {})",
            access.actor, slot->clinician, LocalDate(access.day), clock.FormatMinute(slot->start)));
      }
      return;
    }
    if (treated) {
      // Called in by the colleague: their own treatment entry is the link.
      care.RecordTreatment(access.subject, access.actor, access.treatment);
      return;
    }
  }
  if (!rule.enabled) return;
  v1::Alert* alert = Raise(StrCat("no_care_relationship/", access.actor, "/", access.subject, "/",
                                  LocalDate(access.day)),
                           "no_care_relationship", rule, access.first_time);
  if (alert == nullptr) return;
  alert->set_actor_id(access.actor);
  alert->set_subject_id(access.subject);
  alert->set_source_system(access.source_system);
  for (uint64_t seq : access.evidence) alert->add_evidence_seqs(seq);
  alert->set_summary(fmt::format(
      "{} {} of a patient with no appointment with them from {} days before to {} days "
      "after, no treatment by them in the {} days before, no referral to them and no "
      "colleague's appointment they were called in to or covered",
      access.actor, access.what, rule.days_before, rule.days_after, rule.treatment_days));
}

void Engine::State::CheckDisclosure(EventContext& context) {
  const RuleOptions& rule = options.disclosure_without_consent;
  const v1::AccessEvent& event = context.event;
  if (!rule.enabled || !internal::IsDisclosure(event) || !event.legal_basis().empty()) return;
  if (care.ActiveConsent(event.subject().id(), event.recipient().id(), context.time)) return;
  v1::Alert* alert = RaiseFor(context, StrCat("disclosure_without_consent/", context.seq),
                              "disclosure_without_consent", rule);
  if (alert == nullptr) return;
  const v1::Recipient& recipient = event.recipient();
  std::string_view to = !recipient.name().empty() ? std::string_view(recipient.name())
                        : !recipient.id().empty() ? std::string_view(recipient.id())
                                                  : std::string_view("an unnamed recipient");
  alert->set_summary(StrCat(event.actor().id(), " disclosed a patient's ",
                            internal::DescribeData(event.data_object().type()), " to ", to,
                            " with neither the patient's consent nor a legal basis recorded"));
}

}  // namespace innsyn::anomaly
