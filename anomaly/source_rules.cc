// The rules about the log's own health and the website's front door:
// login_failures, source_sequence_gap and source_silent.
#include "anomaly/internal/engine_state.h"
#include "storage/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::BurstWindow;
using internal::EventContext;
using internal::SourceState;

// Marks source sequence number `n` as arrived; false if no gap held it.
bool FillGap(SourceState& source, uint64_t n) {
  for (auto gap = source.gaps.begin(); gap != source.gaps.end(); ++gap) {
    auto& ranges = gap->missing;
    for (auto range = ranges.begin(); range != ranges.end(); ++range) {
      auto [first, last] = *range;
      if (n < first || n > last) continue;
      if (first == last) {
        ranges.erase(range);
      } else if (n == first) {
        range->first = n + 1;
      } else if (n == last) {
        range->second = n - 1;
      } else {
        range->second = n - 1;
        ranges.insert(range + 1, {n + 1, last});
      }
      if (ranges.empty()) source.gaps.erase(gap);
      return true;
    }
  }
  return false;
}

void TrackSequence(SourceState& source, uint64_t n, const EventContext& context) {
  constexpr uint64_t kFirstSourceSeq = 1;
  if (source.next_source_seq == 0 || n == source.next_source_seq) {
    source.next_source_seq = n + 1;
    return;
  }
  if (n > source.next_source_seq) {
    source.gaps.push_back({context.time, context.seq, {{source.next_source_seq, n - 1}}});
    source.next_source_seq = n + 1;
    return;
  }
  // Earlier than expected: a late arrival, a repeat, or the source started
  // counting again.
  if (!FillGap(source, n) && n == kFirstSourceSeq) source.next_source_seq = n + 1;
}

}  // namespace

void Engine::State::CheckLoginFailure(EventContext& context) {
  const DetectionOptions::LoginFailures& rule = options.login_failures;
  if (!rule.enabled) return;
  const v1::AccessEvent& event = context.event;
  const std::string& account = !event.actor().id().empty()         ? event.actor().id()
                               : !event.data_object().id().empty() ? event.data_object().id()
                                                                   : event.subject().id();
  static const std::string kNoKey;
  struct By {
    std::string_view kind;
    const std::string& key;
    absl::flat_hash_map<std::string, BurstWindow>& windows;
  };
  for (const By& by : {By{"account", account, login_failures_by_account},
                       By{"address", event.network_address(), login_failures_by_address}}) {
    if (by.key.empty()) continue;
    BurstWindow& window = by.windows[by.key];
    window.ExpireBefore(context.time - rule.window);
    window.Add(context.time, context.seq, kNoKey);
    if (window.size() <= static_cast<size_t>(rule.max_failures)) {
      window.in_burst = false;
      continue;
    }
    if (window.in_burst) continue;
    window.in_burst = true;
    v1::Alert* alert =
        Raise(StrCat("login_failures/", by.kind, "/", by.key, "/", window.first_seq()),
              "login_failures", rule, window.first_time());
    if (alert == nullptr) continue;
    if (by.kind == "account") alert->set_actor_id(account);
    alert->set_source_system(event.source().system());
    for (uint64_t seq : window.Evidence()) alert->add_evidence_seqs(seq);
    alert->set_summary(StrCat(window.size(), " failed logins ",
                              by.kind == "account" ? "to the account " : "from the address ",
                              by.key, " within ", absl::ToInt64Minutes(rule.window), " minutes"));
  }
}

void Engine::State::ObserveSource(EventContext& context) {
  const v1::AccessEvent& event = context.event;
  key_buffer.assign(event.source().system());
  key_buffer.push_back('\x1f');
  key_buffer.append(event.source().instance());
  auto found = sources.find(key_buffer);
  if (found == sources.end()) {
    SourceState fresh;
    fresh.system = event.source().system();
    fresh.instance = event.source().instance();
    found = sources.emplace(key_buffer, std::move(fresh)).first;
  }
  SourceState& source = found->second;
  source.last_seen = std::max(source.last_seen, context.time);
  source.last_ledger_seq = context.seq;
  if (options.source_sequence_gap.enabled && event.source_seq() > 0) {
    TrackSequence(source, event.source_seq(), context);
  }
  if (!source.gaps.empty()) ExpireGaps(source, source.last_seen);
}

void Engine::State::ExpireGaps(SourceState& source, absl::Time now) {
  const DetectionOptions::SourceSequenceGap& rule = options.source_sequence_gap;
  while (!source.gaps.empty() && source.gaps.front().noticed + rule.grace <= now) {
    const SourceState::Gap& gap = source.gaps.front();
    uint64_t first = gap.missing.front().first;
    uint64_t count = 0;
    for (auto [lo, hi] : gap.missing) count += hi - lo + 1;
    if (v1::Alert* alert =
            Raise(StrCat("source_sequence_gap/", source.system, "/", source.instance, "/", first),
                  "source_sequence_gap", rule, gap.noticed)) {
      alert->set_source_system(source.system);
      alert->add_evidence_seqs(gap.revealed_by);
      alert->set_summary(StrCat(source.system, " (", source.instance, ") skipped ", count,
                                " of its own sequence numbers from ", first,
                                ", and they have not arrived within ",
                                absl::ToInt64Minutes(rule.grace), " minutes"));
    }
    source.gaps.erase(source.gaps.begin());
  }
}

void Engine::State::CheckSilence(absl::Time now) {
  const DetectionOptions::SourceSilent& rule = options.source_silent;
  if (!rule.enabled) return;
  absl::Time known_since = now - absl::Hours(24 * rule.known_days);
  int64_t max_silence_minutes = absl::ToInt64Minutes(rule.max_silence);
  for (const auto& [key, source] : sources) {
    if (source.last_seen < known_since || source.last_seen >= now) continue;
    int64_t open_minutes = clock.OpenMinutesBetween(source.last_seen, now);
    if (open_minutes < max_silence_minutes) continue;
    v1::Alert* alert = Raise(StrCat("source_silent/", source.system, "/", source.instance, "/",
                                    absl::ToUnixSeconds(source.last_seen)),
                             "source_silent", rule, source.last_seen);
    if (alert == nullptr) continue;
    alert->set_source_system(source.system);
    alert->add_evidence_seqs(source.last_ledger_seq);
    alert->set_summary(StrCat(source.system, " (", source.instance, ") has sent nothing since ",
                              clock.FormatMinute(source.last_seen), ", for ", open_minutes,
                              " minutes while the clinic was open"));
  }
}

}  // namespace innsyn::anomaly
