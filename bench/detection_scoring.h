// Scoring the anomaly engine's alerts against a simulated clinic's labelled
// incidents, and printing the result, for innsyn-detection-report.
//
// An alert is about an incident when it has the incident's rule and either
// its evidence includes one of the incident's events, or it names the same
// actor (and subject and source, where the incident has them) and happened
// within the incident's window (plus an hour). An alert about no incident is
// a false alert.
#ifndef INNSYN_BENCH_DETECTION_SCORING_H_
#define INNSYN_BENCH_DETECTION_SCORING_H_

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "anomaly/detection_options.h"
#include "bench/clinic_sim.h"
#include "innsyn/v1/ledger.pb.h"

namespace innsyn::bench {

// One run of the engine over a clinic's ledger.
struct RunResult {
  std::vector<v1::Alert> alerts;
  // Beside each alert, when the detectors raised it by their own clock:
  // the occurred_at of the entry whose Observe returned it, or the `now` of
  // the Tick that did.
  std::vector<absl::Time> raised_at;
  std::vector<std::string> event_ids;  // by ledger seq; empty for other entries
  uint64_t access_entries = 0;
  double live_seconds = 0;         // append, read back and detect
  double live_detect_seconds = 0;  // Observe and Tick within it
  // Detection alone, replayed from the ledger into a new engine.
  double replay_seconds = 0;
  uint64_t replay_events = 0;
  double engine_mib = 0;  // heap the replaying engine holds at the end
  bool deterministic = false;
};

struct RuleScore {
  int incidents = 0;
  int detected = 0;
  int alerts = 0;
  int true_alerts = 0;
  int normal_alerts = 0;  // in the run without incidents
  // For each incident detected: from when it began (IncidentLabel::began)
  // to when its first alert was raised (RunResult::raised_at).
  std::vector<absl::Duration> times_to_alert;
  absl::Duration MedianTimeToAlert() const;
  absl::Duration MaxTimeToAlert() const;
};

// The routine run three ways at go-live (see innsyn-detection-report
// --go-live): alerts in the first kFirstDays days and in the whole period
// (covering notices left out), and explanation coverage of staff accesses.
struct GoLiveComparison {
  static constexpr int kFirstDays = 14;
  struct Run {
    int first_weeks_alerts = 0;
    int alerts = 0;
    std::map<std::string, int> first_weeks_by_rule;
    double coverage = 0;
  };
  bool ran = false;
  Run live_events;  // the go-live state sent as events marked `import`
  Run baseline;     // recorded as baseline entries (innsynctl import)
  Run none;         // not imported
};

struct Report {
  double staff_days = 0;
  uint64_t events = 0;
  uint64_t normal_events = 0;
  bool normal_run = false;
  RunResult normal;  // empty without the routine run
  RunResult with_incidents;
  // Filled by Score.
  std::map<std::string, RuleScore> rules;
  std::vector<int> missed;           // indexes into the clinic's incidents
  std::vector<size_t> false_alerts;  // indexes into with_incidents.alerts
  double recall = 0;
  double precision = 0;
  double false_per_100_staff_days = 0;         // unmatched alerts, run with incidents
  double normal_false_per_100_staff_days = 0;  // every alert of the run without
  // Low "covering" notices (one per covering clinician and day) are
  // expected of the routine: counted here, not as false alerts.
  int covering_notices = 0;
  int normal_covering_notices = 0;
  // Explanation coverage of staff accesses (actor neither a non-staff role
  // nor the patient) in the routine, overall and by role: how many of them
  // anomaly::Explain accounts for from the patient's history.
  struct Coverage {
    uint64_t explained = 0;
    uint64_t total = 0;
    double ratio() const { return total ? static_cast<double>(explained) / total : 1.0; }
  };
  Coverage coverage;
  std::map<std::string, Coverage> coverage_by_role;
  std::map<std::string, uint64_t> unexplained_examples;  // "role data kind" -> count
  GoLiveComparison go_live;
};

void Score(const Clinic& clinic, Report& report);
// Explains every staff access of `clinic` as innsynd's access log does,
// from the patient's whole history, and fills the report's coverage.
void MeasureCoverage(const Clinic& clinic, const anomaly::DetectionOptions& options,
                     Report& report);
void PrintReport(const Clinic& clinic, const Report& report, std::FILE* out);
std::string ReportJson(const Clinic& clinic, const Report& report);

}  // namespace innsyn::bench

#endif  // INNSYN_BENCH_DETECTION_SCORING_H_
