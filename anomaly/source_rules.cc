// The rules about the log's own health and the website's front door:
// login_failures, source_sequence_gap and source_silent.
#include "anomaly/internal/engine_state.h"
#include "base/strings.h"

namespace innsyn::anomaly {
namespace {

using internal::BurstWindow;
using internal::EventContext;
using internal::LocalTime;
using internal::SourceState;

// A source's usual working hours: for each kind of day (weekday, Saturday,
// Sunday) and local hour of the day, whether it sent events in that hour on
// at least kUsualShare of the days of that kind in the last known_days on
// which the clinic was open then, seen on at least kMinUsualDays of them.
constexpr int kDayKinds = 3;
constexpr int kHoursPerDay = 24;
constexpr int kMinutesPerHour = 60;
constexpr int kMinutesPerQuarter = 15;
constexpr int kMinUsualDays = 2;
constexpr double kUsualShare = 0.75;
constexpr int kWeekdayOfDayZero = 3;  // 1970-01-01 was a Thursday
using UsualHours = std::array<std::array<bool, kHoursPerDay>, kDayKinds>;

int Weekday(int64_t day) { return static_cast<int>(((day + kWeekdayOfDayZero) % 7 + 7) % 7); }

int DayKind(int weekday) { return weekday < 5 ? 0 : weekday == 5 ? 1 : 2; }

UsualHours LearnUsualHours(const SourceState& source, const internal::LocalClock& clock,
                           int64_t today, int known_days) {
  std::array<std::array<int, kHoursPerDay>, kDayKinds> open{};
  std::array<std::array<int, kHoursPerDay>, kDayKinds> active{};
  for (int64_t day = today - known_days; day < today; ++day) {
    const int weekday = Weekday(day);
    const int kind = DayKind(weekday);
    for (int hour = 0; hour < kHoursPerDay; ++hour) {
      const LocalTime middle{day, day * kHoursPerDay + hour,
                             hour * kMinutesPerHour + kMinutesPerHour / 2, weekday};
      if (!clock.IsOpen(middle)) continue;
      ++open[kind][hour];
      if (source.active_hours.contains(middle.hour)) ++active[kind][hour];
    }
  }
  UsualHours usual{};
  for (int kind = 0; kind < kDayKinds; ++kind) {
    for (int hour = 0; hour < kHoursPerDay; ++hour) {
      usual[kind][hour] =
          open[kind][hour] >= kMinUsualDays && active[kind][hour] >= kUsualShare * open[kind][hour];
    }
  }
  return usual;
}

// Minutes in [from, to) when the clinic was open, the source usually works,
// its schedule, if it has one, says it works, and (unless null) the clinic
// was at work by `clinic_at_work`; counting stops at `enough`.
int64_t QuietUsualMinutes(const internal::LocalClock& clock, const UsualHours& usual,
                          const OpeningHours* schedule,
                          const absl::flat_hash_set<int64_t>* clinic_at_work, absl::Time from,
                          absl::Time to, int64_t enough) {
  int64_t minutes = 0;
  for (absl::Time t = from; t < to && minutes < enough;) {
    const LocalTime local = clock.At(t);
    if (!usual[DayKind(local.weekday)][local.minute_of_day / kMinutesPerHour] ||
        (clinic_at_work != nullptr && !clinic_at_work->contains(local.hour))) {
      // Usual hours are whole hours: on to the next.
      t += absl::Minutes(kMinutesPerHour - local.minute_of_day % kMinutesPerHour);
    } else if (!clock.IsOpen(local) || (schedule != nullptr && !clock.IsOpen(local, *schedule))) {
      // Closed: on to the next quarter hour, where opening hours begin,
      // so that a long weekend costs a few hundred steps, not thousands.
      t += absl::Minutes(kMinutesPerQuarter - local.minute_of_day % kMinutesPerQuarter);
    } else {
      ++minutes;
      t += absl::Minutes(1);
    }
  }
  return minutes;
}

// Open by the clinic's hours and the source's schedule, if it has one, in
// the middle of local `hour` of `day`.
bool ScheduledAt(const internal::LocalClock& clock, const OpeningHours* schedule, int64_t day,
                 int hour) {
  const LocalTime middle{day, day * kHoursPerDay + hour,
                         hour * kMinutesPerHour + kMinutesPerHour / 2, Weekday(day)};
  return clock.IsOpen(middle) && (schedule == nullptr || clock.IsOpen(middle, *schedule));
}

// The source worked on `day` (sent something in some hour of it) but sent
// nothing in `hours` of it, all of which were open.
bool QuietThrough(const SourceState& source, const internal::LocalClock& clock,
                  const OpeningHours* schedule, int64_t day, const std::vector<int>& hours) {
  bool worked = false;
  for (int hour = 0; hour < kHoursPerDay && !worked; ++hour) {
    worked = source.active_hours.contains(day * kHoursPerDay + hour);
  }
  if (!worked) return false;  // not there yet, or lost that day too: tells nothing
  for (int hour : hours) {
    if (!ScheduledAt(clock, schedule, day, hour) ||
        source.active_hours.contains(day * kHoursPerDay + hour)) {
      return false;
    }
  }
  return true;
}

// Whether the source was, on some recent day, as quiet as it has been
// today since `last_seen`: among the last known_days - 1 days of the same
// kind (weekday, Saturday, Sunday) without a raised silence, one on which it
// worked but sent nothing in the whole usual hours of today that the
// silence has covered so far. A tiny clinic's X-ray system, idle on some
// mornings while the journal is busy, is then quiet as usual. Hours are
// whole local hours, as the source's activity is kept; an hour the silence
// covers only in part does not count yet.
bool QuietAsOnARecentDay(const SourceState& source, const internal::LocalClock& clock,
                         const UsualHours& usual, const OpeningHours* schedule, absl::Time now,
                         int known_days) {
  const LocalTime today = clock.At(now);
  const LocalTime since = clock.At(source.last_seen);
  const int first_hour = since.day == today.day ? since.minute_of_day / kMinutesPerHour + 1 : 0;
  const int kind = DayKind(today.weekday);
  std::vector<int> hours;  // today's usual hours the silence has covered
  for (int hour = first_hour; hour < today.minute_of_day / kMinutesPerHour; ++hour) {
    if (usual[kind][hour] && ScheduledAt(clock, schedule, today.day, hour)) hours.push_back(hour);
  }
  if (hours.empty()) return true;  // no whole usual hour yet: wait for one
  // From the first day whose activity is wholly kept.
  for (int64_t day = today.day - known_days + 1; day < today.day; ++day) {
    if (DayKind(Weekday(day)) != kind || source.alerted_days.contains(day)) continue;
    if (QuietThrough(source, clock, schedule, day, hours)) return true;
  }
  return false;
}

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
  if (source.silence_alerted_from && context.time > source.last_seen) {
    // Back after a raised silence: its days were an outage.
    for (int64_t day = *source.silence_alerted_from; day <= context.local.day; ++day) {
      source.alerted_days.insert(day);
    }
    source.silence_alerted_from.reset();
  }
  source.last_seen = std::max(source.last_seen, context.time);
  source.last_ledger_seq = context.seq;
  if (options.source_silent.enabled) {
    source.active_hours.insert(context.local.hour);
    if (context.staff) source.staff_hours.insert(context.local.hour);
  }
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

std::optional<absl::flat_hash_set<int64_t>> Engine::State::ClinicAtWork(
    const internal::SourceState& silent, int64_t first_hour, int64_t last_hour) const {
  bool other_staff_source = false;
  absl::flat_hash_set<int64_t> hours;
  for (const auto& [key, other] : sources) {
    if (&other == &silent || other.staff_hours.empty()) continue;
    other_staff_source = true;
    for (int64_t hour = first_hour; hour <= last_hour; ++hour) {
      if (other.staff_hours.contains(hour)) hours.insert(hour);
    }
  }
  if (!other_staff_source) return std::nullopt;
  return hours;
}

void Engine::State::CheckSilence(absl::Time now) {
  const DetectionOptions::SourceSilent& rule = options.source_silent;
  if (!rule.enabled) return;
  absl::Time known_since = now - absl::Hours(24 * rule.known_days);
  int64_t max_silence_minutes = absl::ToInt64Minutes(rule.max_silence);
  const int64_t today = clock.At(now).day;
  for (auto& [key, source] : sources) {
    if (source.last_seen < known_since || source.last_seen >= now) continue;
    // Cheap first: not even the open minutes add up to the limit.
    if (clock.OpenMinutesBetween(source.last_seen, now) < max_silence_minutes) continue;
    auto scheduled = rule.schedules.find(source.system);
    const OpeningHours* schedule = scheduled == rule.schedules.end() ? nullptr : &scheduled->second;
    const UsualHours usual = LearnUsualHours(source, clock, today, rule.known_days);
    const std::optional<absl::flat_hash_set<int64_t>> at_work =
        ClinicAtWork(source, clock.At(source.last_seen).hour, clock.At(now).hour);
    const int64_t open_minutes =
        QuietUsualMinutes(clock, usual, schedule, at_work ? &*at_work : nullptr, source.last_seen,
                          now, max_silence_minutes);
    if (open_minutes < max_silence_minutes) continue;
    if (QuietAsOnARecentDay(source, clock, usual, schedule, now, rule.known_days)) continue;
    // Also when already raised (a replay), so that the state is the same.
    source.silence_alerted_from = clock.At(source.last_seen).day;
    v1::Alert* alert = Raise(StrCat("source_silent/", source.system, "/", source.instance, "/",
                                    absl::ToUnixSeconds(source.last_seen)),
                             "source_silent", rule, source.last_seen);
    if (alert == nullptr) continue;
    alert->set_source_system(source.system);
    alert->add_evidence_seqs(source.last_ledger_seq);
    alert->set_summary(StrCat(source.system, " (", source.instance, ") has sent nothing since ",
                              clock.FormatMinute(source.last_seen), ", for ", open_minutes,
                              " minutes of the hours it usually works",
                              schedule != nullptr ? " by its schedule" : "",
                              " while the clinic was open"));
  }
}

}  // namespace innsyn::anomaly
