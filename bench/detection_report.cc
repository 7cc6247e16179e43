// innsyn-detection-report: how well the anomaly detectors find what they
// are for. Generates a simulated clinic (bench/clinic_sim.h) with labelled
// incidents, appends every event in time order to a real ledger in batches
// of one simulated hour, feeds the committed entries in seq order to the
// engine as innsynd does (Tick every simulated five minutes from the start
// of the period, raised alerts appended to the ledger and fed back), and
// scores the alerts against the labels: recall and precision per rule, and
// false alerts per 100 staff-days, from the same clinic run again with no
// incidents (the routine alone) and from the unmatched alerts of the run
// with incidents, and the time from each incident to its first alert by
// the detectors' clock. With --go-live it also runs the routine with the
// go-live state recorded as baseline entries and not imported, and compares
// the first weeks. Exits 1 if recall < 0.95 or either false-alert figure is
// above 1 per 100 staff-days, 2 on an error.
#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "anomaly/detection_options.h"
#include "anomaly/engine.h"
#include "anomaly/event_conventions.h"
#include "anomaly/roster.h"
#include "base/proto_time.h"
#include "base/strings.h"
#include "bench/clinic_sim.h"
#include "bench/detection_scoring.h"
#include "daemon/services/validation.h"
#include "storage/ledger.h"

namespace {

using innsyn::FromProto;
using innsyn::bench::Clinic;
using innsyn::bench::IncidentLabel;
using innsyn::bench::RunResult;
using Clock = std::chrono::steady_clock;

constexpr absl::Duration kTickInterval = absl::Minutes(5);
constexpr double kRecallTarget = 0.95;
constexpr double kFalseAlertTarget = 1.0;  // per 100 staff-days
constexpr size_t kReadChunk = 4096;

struct Options {
  innsyn::bench::ClinicOptions clinic;
  std::string data_dir;
  std::string json_path;
  std::string roster_out;
  bool dump = false;
  bool normal_run = true;
  bool go_live = false;
  bool keep = false;
};

int Fail(const std::string& what) {
  fmt::print(stderr, "innsyn-detection-report: {}\n", what);
  return 2;
}

// Heap bytes in use (glibc), in MiB: finer than the resident set, which
// does not grow while the allocator reuses memory the ledger freed.
double HeapInUseMiB() {
  struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd) / (1024.0 * 1024.0);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// How the clinic's state at go-live (every patient's contact details, the
// appointments already booked) reaches innsyn.
enum class GoLive {
  kLiveEvents,  // sent by the journal system as events marked `import`
  kBaseline,    // recorded first as baseline entries, as `innsynctl import` does
  kNone,        // not at all: the detectors start knowing nothing
};

bool IsGoLiveImport(const innsyn::v1::AccessEvent& event) {
  return event.attributes().contains(std::string(innsyn::anomaly::kImport));
}

// Records the go-live state as baseline entries, in batches as innsynctl
// import does.
absl::Status AppendBaseline(innsyn::storage::Ledger& ledger,
                            const std::vector<innsyn::v1::AccessEvent>& imported) {
#ifdef INNSYN_DETECTION_BEFORE
  (void)ledger;
  (void)imported;
  return absl::UnimplementedError("this revision has no baseline entries");
#else
  constexpr size_t kImportBatch = 1000;
  innsyn::v1::Baseline meta;
  meta.set_imported_by("innsyn-detection-report");
  meta.set_imported_by_role("admin");
  for (size_t i = 0; i < imported.size(); i += kImportBatch) {
    google::protobuf::RepeatedPtrField<innsyn::v1::AccessEvent> batch(
        imported.begin() + static_cast<std::ptrdiff_t>(i),
        imported.begin() +
            static_cast<std::ptrdiff_t>(std::min(imported.size(), i + kImportBatch)));
    auto receipts = ledger.AppendBaseline(batch, meta);
    if (!receipts.ok()) return receipts.status();
  }
  return absl::OkStatus();
#endif
}

// Appends the clinic's events to a new ledger in `dir` hour by hour and runs
// the engine over the committed entries as innsynd's alert monitor does.
absl::StatusOr<RunResult> RunLive(const Clinic& clinic, const std::string& dir,
                                  const innsyn::anomaly::DetectionOptions& options,
                                  const innsyn::anomaly::Roster& roster,
                                  GoLive go_live = GoLive::kLiveEvents) {
  innsyn::storage::LedgerOptions ledger_options;
  ledger_options.data_dir = dir;
  auto opened = innsyn::storage::Ledger::Open(ledger_options);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<innsyn::storage::Ledger> ledger = *std::move(opened);
  auto created = innsyn::anomaly::Engine::Create(options, roster);
  if (!created.ok()) return created.status();
  std::unique_ptr<innsyn::anomaly::Engine> engine = *std::move(created);

  RunResult result;
  absl::Time next_tick = clinic.period_start;
  uint64_t next_seq = 0;
  double detect_seconds = 0;
  absl::Status failure;
  // The detectors' clock: the latest event judged or Tick given, as in
  // innsynd, which judges an event within a second of its append.
  absl::Time detector_now = absl::InfinitePast();
  auto raise = [&](std::vector<innsyn::v1::Alert> alerts) {
    for (innsyn::v1::Alert& alert : alerts) {
      auto receipt = ledger->AppendAlert(alert);
      if (!receipt.ok()) {
        failure = receipt.status();
        return;
      }
      result.alerts.push_back(std::move(alert));
      result.raised_at.push_back(detector_now);
    }
  };
  auto tick_until = [&](absl::Time t) {
    while (next_tick <= t) {
      detector_now = std::max(detector_now, next_tick);
      auto start = Clock::now();
      auto alerts = engine->Tick(next_tick);
      detect_seconds += SecondsSince(start);
      raise(std::move(alerts));
      next_tick += kTickInterval;
    }
  };
  // Feeds every committed entry not yet seen, including alerts just raised.
  auto drain = [&]() -> absl::Status {
    while (next_seq < ledger->Size() && failure.ok()) {
      auto entries = ledger->GetEntries(next_seq, kReadChunk);
      if (!entries.ok()) return entries.status();
      for (const innsyn::storage::StoredEntry& stored : *entries) {
        const innsyn::v1::LedgerEntry& entry = stored.entry;
        if (result.event_ids.size() <= stored.seq) result.event_ids.resize(stored.seq + 1);
        if (entry.has_access_event()) {
          const absl::Time occurred = FromProto(entry.access_event().occurred_at());
          if (clinic.period_start <= occurred) tick_until(occurred);
          detector_now = std::max(detector_now, occurred);
          result.event_ids[stored.seq] = entry.access_event().event_id();
          ++result.access_entries;
        }
        auto start = Clock::now();
        auto alerts = engine->Observe(stored.seq, entry);
        detect_seconds += SecondsSince(start);
        raise(std::move(alerts));
        next_seq = stored.seq + 1;
      }
    }
    return failure;
  };

  auto start = Clock::now();
  std::vector<innsyn::v1::AccessEvent> live;
  std::vector<innsyn::v1::AccessEvent> imported;
  if (go_live != GoLive::kLiveEvents) {
    for (const auto& event : clinic.events) {
      (IsGoLiveImport(event) ? imported : live).push_back(event);
    }
  }
  if (go_live == GoLive::kBaseline) {
    if (absl::Status s = AppendBaseline(*ledger, imported); !s.ok()) return s;
    if (absl::Status s = drain(); !s.ok()) return s;
  }
  const auto& events = go_live == GoLive::kLiveEvents ? clinic.events : live;
  for (size_t i = 0; i < events.size();) {
    absl::Time at = FromProto(events[i].occurred_at());
    absl::Time hour_end = absl::FromUnixSeconds((absl::ToUnixSeconds(at) / 3600 + 1) * 3600);
    size_t end = i;
    while (end < events.size() && FromProto(events[end].occurred_at()) < hour_end) ++end;
    auto receipts = ledger->AppendEvents(absl::MakeConstSpan(&events[i], end - i));
    if (!receipts.ok()) return receipts.status();
    i = end;
    if (absl::Status s = drain(); !s.ok()) return s;
    if (hour_end > clinic.period_start) tick_until(hour_end);
    if (absl::Status s = drain(); !s.ok()) return s;
  }
  tick_until(clinic.period_end);
  if (absl::Status s = drain(); !s.ok()) return s;
  result.live_seconds = SecondsSince(start);
  result.live_detect_seconds = detect_seconds;
  return result;
}

// Detection alone: the access entries of `dir` read back and replayed into a
// new engine with the same ticks, timed, with the engine's memory. The
// alerts must be the live run's, since the engine is deterministic.
absl::Status Replay(const Clinic& clinic, const std::string& dir,
                    const innsyn::anomaly::DetectionOptions& options,
                    const innsyn::anomaly::Roster& roster, RunResult& result) {
  std::vector<std::pair<uint64_t, innsyn::v1::LedgerEntry>> entries;
  {
    innsyn::storage::LedgerOptions ledger_options;
    ledger_options.data_dir = dir;
    ledger_options.read_only = true;
    ledger_options.create_if_missing = false;
    auto ledger = innsyn::storage::Ledger::Open(ledger_options);
    if (!ledger.ok()) return ledger.status();
    for (uint64_t seq = 0; seq < (*ledger)->Size(); seq += kReadChunk) {
      auto chunk = (*ledger)->GetEntries(seq, kReadChunk);
      if (!chunk.ok()) return chunk.status();
      for (auto& stored : *chunk) {
        if (stored.entry.has_access_event()) {
          entries.emplace_back(stored.seq, std::move(stored.entry));
        }
      }
    }
  }
  const double rss_before = HeapInUseMiB();
  auto created = innsyn::anomaly::Engine::Create(options, roster);
  if (!created.ok()) return created.status();
  std::unique_ptr<innsyn::anomaly::Engine> engine = *std::move(created);
  std::set<std::string> ids;
  absl::Time next_tick = clinic.period_start;
  auto start = Clock::now();
  for (const auto& [seq, entry] : entries) {
    absl::Time at = FromProto(entry.access_event().occurred_at());
    while (clinic.period_start <= at && next_tick <= at) {
      for (const auto& alert : engine->Tick(next_tick)) ids.insert(alert.alert_id());
      next_tick += kTickInterval;
    }
    for (const auto& alert : engine->Observe(seq, entry)) ids.insert(alert.alert_id());
  }
  for (; next_tick <= clinic.period_end; next_tick += kTickInterval) {
    for (const auto& alert : engine->Tick(next_tick)) ids.insert(alert.alert_id());
  }
  result.replay_seconds = SecondsSince(start);
  result.replay_events = entries.size();
  result.engine_mib = HeapInUseMiB() - rss_before;
  std::set<std::string> live;
  for (const auto& alert : result.alerts) live.insert(alert.alert_id());
  result.deterministic = live == ids;
  return absl::OkStatus();
}

// FNV-1a over the events' deterministic serialisation (map fields sorted),
// so that two runs with the same seed can be compared.
uint64_t Digest(const Clinic& clinic) {
  uint64_t hash = 0xcbf29ce484222325ull;
  std::string bytes;
  for (const auto& e : clinic.events) {
    bytes.clear();
    {
      google::protobuf::io::StringOutputStream stream(&bytes);
      google::protobuf::io::CodedOutputStream out(&stream);
      out.SetSerializationDeterministic(true);
      e.SerializeToCodedStream(&out);
    }
    for (char c : bytes) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  }
  for (const IncidentLabel& label : clinic.incidents) {
    for (const std::string& id : label.event_ids) {
      for (char c : label.id + id) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    }
  }
  return hash;
}

// The routine (no incidents) with its go-live state sent as live events,
// recorded as baseline entries, and not imported at all: the alerts of the
// first weeks, and explanation coverage, of each.
absl::Status CompareGoLive(const Options& options,
                           const innsyn::anomaly::DetectionOptions& detection,
                           const innsyn::anomaly::Roster& roster,
                           innsyn::bench::GoLiveComparison& out) {
  innsyn::bench::ClinicOptions routine_options = options.clinic;
  routine_options.incidents = false;
  auto routine = innsyn::bench::GenerateClinic(routine_options);
  if (!routine.ok()) return routine.status();
  const absl::Time first_weeks_end =
      routine->period_start + absl::Hours(24 * innsyn::bench::GoLiveComparison::kFirstDays);
  struct Mode {
    GoLive go_live;
    const char* folder;
    innsyn::bench::GoLiveComparison::Run& result;
  };
  for (const Mode& mode : {Mode{GoLive::kLiveEvents, "golive-events", out.live_events},
                           Mode{GoLive::kBaseline, "golive-baseline", out.baseline},
                           Mode{GoLive::kNone, "golive-none", out.none}}) {
    std::filesystem::remove_all(options.data_dir + "/" + mode.folder);
    auto run =
        RunLive(*routine, options.data_dir + "/" + mode.folder, detection, roster, mode.go_live);
    if (!run.ok()) return run.status();
    for (const innsyn::v1::Alert& alert : run->alerts) {
      if (alert.rule() == "covering") continue;
      ++mode.result.alerts;
      if (FromProto(alert.occurred_at()) < first_weeks_end) {
        ++mode.result.first_weeks_alerts;
        ++mode.result.first_weeks_by_rule[alert.rule()];
      }
    }
    // Explanations from what innsynd holds: the patients' histories, with
    // the imported state (live or baseline alike) or without it.
    Clinic held = *routine;
    if (mode.go_live == GoLive::kNone) std::erase_if(held.events, IsGoLiveImport);
    innsyn::bench::Report coverage;
    innsyn::bench::MeasureCoverage(held, detection, coverage);
    mode.result.coverage = coverage.coverage.ratio();
  }
  out.ran = true;
  return absl::OkStatus();
}

void Dump(const Clinic& clinic) {
  std::map<std::string, size_t> by_kind;
  std::map<std::string, size_t> by_day;
  for (const auto& e : clinic.events) {
    by_kind[innsyn::StrCat(e.source().system(), " ",
                           innsyn::v1::DataObjectType_Name(e.data_object().type()), " ",
                           innsyn::v1::ActionSubtype_Name(e.action_subtype()))]++;
    absl::Time at = FromProto(e.occurred_at());
    by_day[absl::FormatTime("%Y-%m-%d %a", at, absl::UTCTimeZone())]++;
  }
  fmt::print("{} events, {} working staff, {} roster entries, {} incident labels, digest {:016x}\n",
             clinic.events.size(), clinic.working_staff, clinic.roster.size(),
             clinic.incidents.size(), Digest(clinic));
  for (const auto& [kind, n] : by_kind) fmt::print("  {:>8}  {}\n", n, kind);
  for (const auto& [day, n] : by_day) fmt::print("  {}  {}\n", day, n);
  for (const IncidentLabel& label : clinic.incidents) {
    fmt::print("  {:<34} {:<14} {:<12} {} events  {}\n", label.id, label.actor_id, label.subject_id,
               label.event_ids.size(), label.scenario);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "innsyn-detection-report: recall, precision and false alerts of the anomaly "
      "detectors on a simulated clinic"};
  app.add_option("--seed", options.clinic.seed, "the simulation's seed");
  app.add_option("--staff", options.clinic.staff, "working staff")->check(CLI::Range(6, 200));
  app.add_option("--patients", options.clinic.patients, "patients")
      ->check(CLI::Range(100, 1'000'000));
  app.add_option("--days", options.clinic.days, "days simulated")->check(CLI::Range(14, 730));
  app.add_option("--data-dir", options.data_dir,
                 "folder for the two ledgers, routine/ and incidents/ (default: a new temporary "
                 "folder, removed after)");
  app.add_option("--json", options.json_path, "also write the figures here as JSON");
  app.add_option("--roster-out", options.roster_out, "also write the roster TOML file here");
  app.add_flag("--dump", options.dump, "print the generated clinic's event counts and incidents");
  app.add_flag("!--no-normal-run", options.normal_run,
               "skip the run without incidents (false alerts then come from the unmatched "
               "alerts alone)");
  app.add_flag("--go-live", options.go_live,
               "also run the routine with the go-live state imported as baseline entries and "
               "with no import, and compare the alerts of the first weeks");
  app.add_flag("--keep", options.keep, "keep the ledgers");
  CLI11_PARSE(app, argc, argv);

  auto clinic = innsyn::bench::GenerateClinic(options.clinic);
  if (!clinic.ok()) return Fail(clinic.status().ToString());
  for (const auto& event : clinic->events) {
    absl::Status valid = innsyn::daemon::ValidateEvent(event, clinic->period_end + absl::Hours(1));
    if (!valid.ok()) return Fail(innsyn::StrCat("generated an invalid event: ", valid.ToString()));
  }
  if (options.dump) {
    Dump(*clinic);
    return 0;
  }
  const bool temporary = options.data_dir.empty();
  if (temporary) {
    options.data_dir =
        (std::filesystem::temp_directory_path() / fmt::format("innsyn-detection-{}", getpid()))
            .string();
  }
  // Only the report's own folders are replaced, never the rest of a given
  // folder.
  std::filesystem::create_directories(options.data_dir);
  std::filesystem::remove_all(options.data_dir + "/routine");
  std::filesystem::remove_all(options.data_dir + "/incidents");
  std::string roster_path =
      options.roster_out.empty() ? options.data_dir + "/roster.toml" : options.roster_out;
  std::ofstream(roster_path) << innsyn::bench::RosterToml(clinic->roster);
  auto roster = innsyn::anomaly::LoadRoster(roster_path);
  if (!roster.ok()) return Fail(roster.status().ToString());

  innsyn::anomaly::DetectionOptions detection;
  detection.time_zone = clinic->options.time_zone;
  detection.closed_dates = clinic->closed_dates;
  detection.disallowed_network.networks_by_source = clinic->networks_by_source;
#ifndef INNSYN_DETECTION_BEFORE
  // What a clinic configures: when its X-ray system works.
  detection.source_silent.schedules = clinic->source_schedules;
#endif

  innsyn::bench::Report report;
  report.staff_days = static_cast<double>(clinic->working_staff) * clinic->options.days;
  report.events = clinic->events.size();
  report.normal_run = options.normal_run;
  if (options.normal_run) {
    innsyn::bench::ClinicOptions routine = options.clinic;
    routine.incidents = false;
    auto normal = innsyn::bench::GenerateClinic(routine);
    if (!normal.ok()) return Fail(normal.status().ToString());
    auto run = RunLive(*normal, options.data_dir + "/routine", detection, *roster);
    if (!run.ok()) return Fail(innsyn::StrCat("routine run: ", run.status().ToString()));
    report.normal = *std::move(run);
    report.normal_events = normal->events.size();
    innsyn::bench::MeasureCoverage(*normal, detection, report);
  }
  if (options.go_live) {
    if (absl::Status s = CompareGoLive(options, detection, *roster, report.go_live); !s.ok()) {
      return Fail(innsyn::StrCat("go-live runs: ", s.ToString()));
    }
  }
  auto run = RunLive(*clinic, options.data_dir + "/incidents", detection, *roster);
  if (!run.ok()) return Fail(innsyn::StrCat("incident run: ", run.status().ToString()));
  report.with_incidents = *std::move(run);
  if (absl::Status s = Replay(*clinic, options.data_dir + "/incidents", detection, *roster,
                              report.with_incidents);
      !s.ok()) {
    return Fail(innsyn::StrCat("replay: ", s.ToString()));
  }
  if (!options.normal_run) innsyn::bench::MeasureCoverage(*clinic, detection, report);
  innsyn::bench::Score(*clinic, report);
  innsyn::bench::PrintReport(*clinic, report, stdout);
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << innsyn::bench::ReportJson(*clinic, report);
  }
  if (temporary && !options.keep) std::filesystem::remove_all(options.data_dir);
  const bool met =
      report.recall >= kRecallTarget && report.false_per_100_staff_days <= kFalseAlertTarget &&
      (!options.normal_run || report.normal_false_per_100_staff_days <= kFalseAlertTarget);
  if (!met) {
    fmt::print("targets missed: recall >= {:.2f} and false alerts <= {:.1f} per 100 staff-days\n",
               kRecallTarget, kFalseAlertTarget);
  }
  return met ? 0 : 1;
}
