#include "bench/detection_scoring.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "anomaly/detection_options.h"
#include "anomaly/engine.h"
#include "base/proto_time.h"
#include "base/strings.h"

namespace innsyn::bench {
namespace {

// How long after an incident's window an alert about it may say it happened.
constexpr absl::Duration kMatchSlack = absl::Hours(1);
constexpr std::string_view kCoveringRule = "covering";
// How many false alerts and missed incidents the report lists.
constexpr size_t kExamples = 12;

bool SameSource(const std::string& alert_source, const std::string& label_source) {
  return alert_source == label_source || alert_source.starts_with(label_source + "/");
}

bool Matches(const v1::Alert& alert, const IncidentLabel& label,
             const std::set<std::string>& label_events, const RunResult& run) {
  if (alert.rule() != label.rule) return false;
  for (uint64_t seq : alert.evidence_seqs()) {
    if (seq < run.event_ids.size() && label_events.count(run.event_ids[seq])) return true;
  }
  if (!label.actor_id.empty() && alert.actor_id() != label.actor_id) return false;
  if (!label.subject_id.empty() && alert.subject_id() != label.subject_id) return false;
  if (!label.source_system.empty() && !SameSource(alert.source_system(), label.source_system)) {
    return false;
  }
  absl::Time at = FromProto(alert.occurred_at());
  return at >= label.from - absl::Minutes(1) && at <= label.to + kMatchSlack;
}

double Ratio(double a, double b) { return b > 0 ? a / b : 1.0; }

// Whole minutes, rounded to the nearest.
int64_t Minutes(absl::Duration d) { return absl::ToInt64Minutes(d + absl::Seconds(30)); }

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string FormatLocal(absl::Time t, const Clinic& clinic) {
  absl::TimeZone tz;
  absl::LoadTimeZone(clinic.options.time_zone, &tz);
  return absl::FormatTime("%Y-%m-%d %H:%M %Ez", t, tz);
}

}  // namespace

absl::Duration RuleScore::MedianTimeToAlert() const {
  if (times_to_alert.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted = times_to_alert;
  std::sort(sorted.begin(), sorted.end());
  const size_t middle = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

absl::Duration RuleScore::MaxTimeToAlert() const {
  if (times_to_alert.empty()) return absl::ZeroDuration();
  return *std::max_element(times_to_alert.begin(), times_to_alert.end());
}

void Score(const Clinic& clinic, Report& report) {
  for (std::string_view rule : anomaly::kRuleNames) report.rules[std::string(rule)];
  const RunResult& run = report.with_incidents;
  std::vector<bool> detected(clinic.incidents.size(), false);
  std::vector<absl::Time> first_alert(clinic.incidents.size(), absl::InfiniteFuture());
  std::vector<std::set<std::string>> label_events;
  for (const IncidentLabel& label : clinic.incidents) {
    label_events.emplace_back(label.event_ids.begin(), label.event_ids.end());
    report.rules[label.rule].incidents++;
  }
  for (size_t a = 0; a < run.alerts.size(); ++a) {
    const v1::Alert& alert = run.alerts[a];
    RuleScore& score = report.rules[alert.rule()];
    score.alerts++;
    if (alert.rule() == kCoveringRule) {
      report.covering_notices++;
      continue;
    }
    bool matched = false;
    for (size_t i = 0; i < clinic.incidents.size(); ++i) {
      if (!Matches(alert, clinic.incidents[i], label_events[i], run)) continue;
      matched = true;
      if (a < run.raised_at.size()) first_alert[i] = std::min(first_alert[i], run.raised_at[a]);
      if (!detected[i]) {
        detected[i] = true;
        report.rules[clinic.incidents[i].rule].detected++;
      }
    }
    if (matched) {
      score.true_alerts++;
    } else {
      report.false_alerts.push_back(a);
    }
  }
  int normal_false = 0;
  for (const v1::Alert& alert : report.normal.alerts) {
    report.rules[alert.rule()].normal_alerts++;
    if (alert.rule() == kCoveringRule) {
      report.normal_covering_notices++;
    } else {
      ++normal_false;
    }
  }
  int found = 0;
  for (size_t i = 0; i < detected.size(); ++i) {
    if (detected[i]) {
      ++found;
      const IncidentLabel& label = clinic.incidents[i];
      if (first_alert[i] != absl::InfiniteFuture()) {
        absl::Time began = label.began != absl::InfiniteFuture() ? label.began : label.from;
        report.rules[label.rule].times_to_alert.push_back(first_alert[i] - began);
      }
    } else {
      report.missed.push_back(static_cast<int>(i));
    }
  }
  report.recall = Ratio(found, static_cast<double>(clinic.incidents.size()));
  const double judged = static_cast<double>(run.alerts.size()) - report.covering_notices;
  report.precision = Ratio(judged - static_cast<double>(report.false_alerts.size()), judged);
  report.false_per_100_staff_days =
      100.0 * static_cast<double>(report.false_alerts.size()) / report.staff_days;
  report.normal_false_per_100_staff_days =
      100.0 * static_cast<double>(normal_false) / report.staff_days;
}

void MeasureCoverage(const Clinic& clinic, const anomaly::DetectionOptions& options,
                     Report& report) {
  const std::set<std::string> non_staff(options.non_staff_roles.begin(),
                                        options.non_staff_roles.end());
  std::map<std::string, std::vector<v1::AccessEvent>> by_subject;
  for (const v1::AccessEvent& event : clinic.events) {
    if (!event.subject().id().empty()) by_subject[event.subject().id()].push_back(event);
  }
  for (const auto& [subject, history] : by_subject) {
    for (const v1::AccessEvent& event : history) {
      const std::string& role = event.actor().role();
      if (non_staff.contains(role) || event.actor().id() == subject) continue;
      const bool explained = !anomaly::Explain(event, history, options).empty();
      for (Report::Coverage* c : {&report.coverage, &report.coverage_by_role[role]}) {
        c->total++;
        if (explained) c->explained++;
      }
      if (!explained) {
        report.unexplained_examples[StrCat(role, " ", v1::ActionCode_Name(event.action()), " ",
                                           v1::DataObjectType_Name(event.data_object().type()))]++;
      }
    }
  }
}

void PrintReport(const Clinic& clinic, const Report& report, std::FILE* out) {
  const ClinicOptions& o = clinic.options;
  const RunResult& run = report.with_incidents;
  fmt::print(out,
             "innsyn-detection-report seed={} staff={} patients={} days={} from {} ({}): "
             "{} events, {} incidents\n\n",
             o.seed, clinic.working_staff, o.patients, o.days, absl::FormatCivilTime(o.first_day),
             o.time_zone, report.events, clinic.incidents.size());
  fmt::print(out, "{:<28} {:>9} {:>8} {:>7} {:>7} {:>6} {:>9} {:>8} {:>17}\n", "rule", "incidents",
             "detected", "recall", "alerts", "true", "precision", "routine", "to alert med/max");
  for (const auto& [rule, s] : report.rules) {
    std::string recall = s.incidents ? fmt::format("{:.2f}", Ratio(s.detected, s.incidents)) : "-";
    std::string precision = s.alerts ? fmt::format("{:.2f}", Ratio(s.true_alerts, s.alerts)) : "-";
    std::string to_alert =
        s.times_to_alert.empty()
            ? "-"
            : fmt::format("{}/{}", Minutes(s.MedianTimeToAlert()), Minutes(s.MaxTimeToAlert()));
    fmt::print(out, "{:<28} {:>9} {:>8} {:>7} {:>7} {:>6} {:>9} {:>8} {:>17}\n", rule, s.incidents,
               s.detected, recall, s.alerts, s.true_alerts, precision, s.normal_alerts, to_alert);
  }
  fmt::print(out, "{:<28} {:>9} {:>8} {:>7.2f} {:>7} {:>6} {:>9.2f} {:>8}\n", "all",
             clinic.incidents.size(), clinic.incidents.size() - report.missed.size(), report.recall,
             run.alerts.size(), run.alerts.size() - report.false_alerts.size(), report.precision,
             report.normal.alerts.size());
  fmt::print(
      out,
      "to alert: median/max minutes from an incident's first event (for a silent source, the first "
      "event it did not send) to its first alert, by the detectors' clock (the event "
      "judged, or the Tick every 5 simulated minutes)\n\n");
  fmt::print(out,
             "verification_failed has no incidents: it comes from self-verification of the "
             "ledger, not from events.\n");
  fmt::print(out, "false alerts per 100 staff-days ({:.0f} staff-days):\n", report.staff_days);
  if (report.normal_run) {
    fmt::print(out, "  routine alone (same clinic, no incidents; column 'routine'): {} = {:.2f}\n",
               report.normal.alerts.size() - report.normal_covering_notices,
               report.normal_false_per_100_staff_days);
  } else {
    fmt::print(out, "  routine alone: not run (--no-normal-run)\n");
  }
  fmt::print(out, "  run with incidents, alerts about no incident:                 {} = {:.2f}\n",
             report.false_alerts.size(), report.false_per_100_staff_days);
  fmt::print(out,
             "covering notices (low; one per covering clinician and day, not counted as false): "
             "routine {}, run with incidents {}\n",
             report.normal_covering_notices, report.covering_notices);
  fmt::print(out, "explanation coverage of staff accesses in the routine: {:.3f} ({} of {})\n",
             report.coverage.ratio(), report.coverage.explained, report.coverage.total);
  for (const auto& [role, c] : report.coverage_by_role) {
    fmt::print(out, "  {:<16} {:.3f} ({} of {})\n", role, c.ratio(), c.explained, c.total);
  }
  std::vector<std::pair<uint64_t, std::string>> unexplained;
  for (const auto& [what, n] : report.unexplained_examples) unexplained.emplace_back(n, what);
  std::sort(unexplained.rbegin(), unexplained.rend());
  for (size_t i = 0; i < unexplained.size() && i < kExamples / 2; ++i) {
    fmt::print(out, "  unexplained: {} x {}\n", unexplained[i].first, unexplained[i].second);
  }
  std::map<std::string, int> false_by_rule;
  for (size_t a : report.false_alerts) false_by_rule[run.alerts[a].rule()]++;
  std::string by_rule;
  for (const auto& [rule, n] : false_by_rule) by_rule += fmt::format(" {} {}", rule, n);
  if (!by_rule.empty()) fmt::print(out, "  of which, by rule:{}\n", by_rule);
  if (report.go_live.ran) {
    const GoLiveComparison& g = report.go_live;
    fmt::print(out,
               "go-live, the routine alone: alerts in the first {} days (whole period), "
               "explanation coverage of staff accesses:\n",
               GoLiveComparison::kFirstDays);
    for (const auto& [name, run] : {std::pair<const char*, const GoLiveComparison::Run&>{
                                        "imported as baseline entries", g.baseline},
                                    {"sent as live events marked import", g.live_events},
                                    {"not imported", g.none}}) {
      std::string by_rule;
      for (const auto& [rule, n] : run.first_weeks_by_rule)
        by_rule += fmt::format(" {} {}", rule, n);
      fmt::print(out, "  {:<34} {:>4} ({:>4}), coverage {:.3f}{}{}\n", name, run.first_weeks_alerts,
                 run.alerts, run.coverage, by_rule.empty() ? "" : ";", by_rule);
    }
  }
  fmt::print(out,
             "detection alone (replay of {} access entries into a new engine, Observe and Tick): "
             "{:.3f} s, {:.0f} events/s, engine heap +{:.1f} MiB; same alerts as the live "
             "run: {}\n",
             run.replay_events, run.replay_seconds,
             Ratio(static_cast<double>(run.replay_events), run.replay_seconds), run.engine_mib,
             run.deterministic ? "yes" : "NO");
  fmt::print(out,
             "live run (ledger appends per simulated hour, read back, detect): {:.2f} s, of "
             "which Observe and Tick {:.3f} s\n",
             run.live_seconds, run.live_detect_seconds);
  size_t shown = 0;
  for (int i : report.missed) {
    if (shown++ == kExamples) break;
    const IncidentLabel& l = clinic.incidents[static_cast<size_t>(i)];
    fmt::print(out, "missed {} actor={} subject={} {}: {}\n", l.id, l.actor_id, l.subject_id,
               FormatLocal(l.from, clinic), l.scenario);
  }
  shown = 0;
  for (size_t a : report.false_alerts) {
    if (shown++ == kExamples) break;
    const v1::Alert& alert = run.alerts[a];
    fmt::print(out, "false alert {} ({}, raised {}): {}\n", alert.alert_id(),
               FormatLocal(FromProto(alert.occurred_at()), clinic),
               FormatLocal(run.raised_at[a], clinic), alert.summary());
  }
  shown = 0;
  for (const v1::Alert& alert : report.normal.alerts) {
    if (shown++ == kExamples) break;
    fmt::print(out, "routine alert {} ({}): {}\n", alert.alert_id(),
               FormatLocal(FromProto(alert.occurred_at()), clinic), alert.summary());
  }
}

std::string ReportJson(const Clinic& clinic, const Report& report) {
  const RunResult& run = report.with_incidents;
  std::string out = fmt::format(
      "{{\n  \"seed\": {}, \"staff\": {}, \"patients\": {}, \"days\": {}, \"events\": {},\n"
      "  \"staff_days\": {:.0f}, \"incidents\": {}, \"detected\": {}, \"recall\": {:.4f},\n"
      "  \"alerts\": {}, \"true_alerts\": {}, \"precision\": {:.4f},\n"
      "  \"false_alerts\": {}, \"false_alerts_per_100_staff_days\": {:.3f},\n"
      "  \"routine_alerts\": {}, \"routine_alerts_per_100_staff_days\": {:.3f},\n"
      "  \"detect_seconds\": {:.4f}, \"detect_events_per_second\": {:.0f}, \"engine_mib\": "
      "{:.1f},\n"
      "  \"deterministic\": {}, \"covering_notices\": {}, \"routine_covering_notices\": {},\n"
      "  \"explanation_coverage\": {:.4f},\n  \"rules\": {{",
      clinic.options.seed, clinic.working_staff, clinic.options.patients, clinic.options.days,
      report.events, report.staff_days, clinic.incidents.size(),
      clinic.incidents.size() - report.missed.size(), report.recall, run.alerts.size(),
      run.alerts.size() - report.false_alerts.size(), report.precision, report.false_alerts.size(),
      report.false_per_100_staff_days, report.normal.alerts.size(),
      report.normal_false_per_100_staff_days, run.replay_seconds,
      Ratio(static_cast<double>(run.replay_events), run.replay_seconds), run.engine_mib,
      run.deterministic ? "true" : "false", report.covering_notices, report.normal_covering_notices,
      report.coverage.ratio());
  bool first = true;
  for (const auto& [rule, s] : report.rules) {
    out += fmt::format(
        "{}\n    \"{}\": {{\"incidents\": {}, \"detected\": {}, \"alerts\": {}, \"true_alerts\": "
        "{}, \"routine_alerts\": {}, \"median_seconds_to_alert\": {}, "
        "\"max_seconds_to_alert\": {}}}",
        first ? "" : ",", rule, s.incidents, s.detected, s.alerts, s.true_alerts, s.normal_alerts,
        s.times_to_alert.empty() ? "null"
                                 : std::to_string(absl::ToInt64Seconds(s.MedianTimeToAlert())),
        s.times_to_alert.empty() ? "null"
                                 : std::to_string(absl::ToInt64Seconds(s.MaxTimeToAlert())));
    first = false;
  }
  out += "\n  },\n  \"explanation_coverage_by_role\": {";
  first = true;
  for (const auto& [role, c] : report.coverage_by_role) {
    out +=
        fmt::format("{}\n    \"{}\": {{\"explained\": {}, \"accesses\": {}, \"coverage\": {:.4f}}}",
                    first ? "" : ",", Escape(role), c.explained, c.total, c.ratio());
    first = false;
  }
  out += "\n  },\n  \"missed\": [";
  first = true;
  for (int i : report.missed) {
    const IncidentLabel& l = clinic.incidents[static_cast<size_t>(i)];
    out += fmt::format(
        "{}\n    {{\"id\": \"{}\", \"actor\": \"{}\", \"subject\": \"{}\", "
        "\"scenario\": \"{}\"}}",
        first ? "" : ",", Escape(l.id), Escape(l.actor_id), Escape(l.subject_id),
        Escape(l.scenario));
    first = false;
  }
  out += "\n  ],\n  \"false_alerts\": [";
  first = true;
  for (size_t a : report.false_alerts) {
    out += fmt::format("{}\n    \"{}\"", first ? "" : ",", Escape(run.alerts[a].alert_id()));
    first = false;
  }
  if (report.go_live.ran) {
    const GoLiveComparison& g = report.go_live;
    out += "\n  ],\n  \"go_live\": {";
    first = true;
    for (const auto& [name, run] :
         {std::pair<const char*, const GoLiveComparison::Run&>{"baseline", g.baseline},
          {"live_events", g.live_events},
          {"none", g.none}}) {
      out += fmt::format(
          "{}\n    \"{}\": {{\"first_days\": {}, \"first_days_alerts\": {}, \"alerts\": {}, "
          "\"explanation_coverage\": {:.4f}}}",
          first ? "" : ",", name, GoLiveComparison::kFirstDays, run.first_weeks_alerts, run.alerts,
          run.coverage);
      first = false;
    }
    out += "\n  },\n  \"routine_alerts\": [";
  } else {
    out += "\n  ],\n  \"routine_alerts\": [";
  }
  first = true;
  for (const v1::Alert& alert : report.normal.alerts) {
    out += fmt::format("{}\n    \"{}\"", first ? "" : ",", Escape(alert.alert_id()));
    first = false;
  }
  return out + "\n  ]\n}\n";
}

}  // namespace innsyn::bench
