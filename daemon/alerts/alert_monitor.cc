#include "daemon/alerts/alert_monitor.h"

#include <algorithm>

#include "base/clock.h"
#include "base/proto_time.h"
#include "base/strings.h"
#include "daemon/ops/log.h"
#include "storage/hash.h"

namespace innsyn::daemon {
namespace {

// Entries read and judged at a time.
constexpr size_t kReadBatchEntries = 1024;
// Time-driven rules (a silent source) are checked this often.
constexpr absl::Duration kTickInterval = absl::Seconds(5);
// Without a wake-up the thread still looks this often for new entries.
constexpr absl::Duration kIdleWait = absl::Seconds(1);
// After a restart without a stored mark, entries committed this long before
// the ledger's last one are judged again (alerts they raised already are not
// repeated), so that what a crash left unread is not missed.
constexpr absl::Duration kRejudgeWindow = absl::Minutes(10);
// How often the mark of what has been judged is stored (one small fsync).
constexpr absl::Duration kProgressSaveInterval = absl::Seconds(1);

absl::StatusOr<v1::LedgerEntry> ReadEntry(const storage::Ledger& ledger, uint64_t seq) {
  absl::StatusOr<std::vector<storage::StoredEntry>> stored = ledger.GetEntries(seq, 1);
  if (!stored.ok()) return stored.status();
  if (stored->empty()) return absl::DataLossError(StrCat("entry ", seq, " cannot be read"));
  return std::move(stored->front().entry);
}

// Incidents are days of the detectors' zone. A zone that does not load
// (detection off, so never checked) leaves the book's as it was.
void UseIncidentZone(AlertBook& book, const std::string& name) {
  absl::TimeZone zone;
  if (absl::LoadTimeZone(name, &zone)) book.SetIncidentTimeZone(zone);
}

}  // namespace

AlertMonitor::AlertMonitor(storage::Ledger& ledger, exporters::Metrics& metrics,
                           const std::string& progress_file)
    : ledger_(ledger), metrics_(metrics), progress_(progress_file, ledger) {}

absl::StatusOr<uint64_t> AlertMonitor::RaiseFrom(uint64_t size) const {
  absl::StatusOr<uint64_t> mark = progress_.Load();
  if (mark.ok()) return *mark;
  if (!absl::IsNotFound(mark.status())) {
    LogWarning("anomaly detection: ", mark.status().message(),
               "; judging again the entries of the ", "ledger's last ",
               absl::FormatDuration(kRejudgeWindow));
  }
  if (size == 0) return 0;
  return FirstSeqWithin(kRejudgeWindow);
}

absl::StatusOr<std::unique_ptr<anomaly::Engine>> AlertMonitor::NewEngine(
    const anomaly::DetectionOptions& options) const {
  if (!options.enabled) return nullptr;
  anomaly::Roster roster;
  if (!options.roster_file.empty()) {
    absl::StatusOr<anomaly::Roster> loaded = anomaly::LoadRoster(options.roster_file);
    if (!loaded.ok()) return loaded.status();
    roster = *std::move(loaded);
  }
  absl::StatusOr<std::unique_ptr<anomaly::Engine>> engine =
      anomaly::Engine::Create(options, std::move(roster));
  if (!engine.ok()) return engine.status();
  // A roster may name records by pseudonym: the ledger's key computes them.
  (*engine)->SetSubjectPseudonyms([&ledger = ledger_](std::string_view subject_id) {
    absl::StatusOr<std::string> pseudonym = ledger.SubjectPseudonym(subject_id);
    return pseudonym.ok() ? storage::ToHex(*pseudonym) : std::string();
  });
  for (const std::string& id : book_.AlertIds()) (*engine)->MarkRaised(id);
  return engine;
}

absl::StatusOr<uint64_t> AlertMonitor::FirstSeqWithin(absl::Duration window) const {
  uint64_t low = 0;
  uint64_t high = ledger_.Size();
  if (high == 0) return 0;
  absl::StatusOr<v1::LedgerEntry> last = ReadEntry(ledger_, high - 1);
  if (!last.ok()) return last.status();
  const absl::Time time = FromProto(last->committed_at()) - window;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    absl::StatusOr<v1::LedgerEntry> entry = ReadEntry(ledger_, middle);
    if (!entry.ok()) return entry.status();
    if (FromProto(entry->committed_at()) < time) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

absl::StatusOr<std::unique_ptr<AlertMonitor>> AlertMonitor::Start(
    storage::Ledger& ledger, exporters::Metrics& metrics, const anomaly::DetectionOptions& options,
    const std::string& progress_file) {
  std::unique_ptr<AlertMonitor> monitor(new AlertMonitor(ledger, metrics, progress_file));
  const uint64_t size = ledger.Size();
  absl::StatusOr<std::vector<storage::StoredEntry>> records = ledger.ListAlertRecords();
  if (absl::IsDataLoss(records.status())) {
    // A damaged alert entry: innsynd still starts, read-only (the read has
    // marked the ledger damaged), with the alerts the replay finds again.
    LogError("the book of alerts cannot be rebuilt (", records.status().message(),
             "); it starts empty");
    records = std::vector<storage::StoredEntry>();
  }
  if (!records.ok()) return records.status();
  for (const storage::StoredEntry& stored : *records) {
    if (stored.seq >= size) break;
    monitor->book_.Apply(stored.seq, stored.entry);
  }
  monitor->book_.AppliedThrough(size);
  absl::StatusOr<std::unique_ptr<anomaly::Engine>> engine = monitor->NewEngine(options);
  if (!engine.ok()) return engine.status();
  UseIncidentZone(monitor->book_, options.time_zone);
  monitor->engine_ = *std::move(engine);
  monitor->next_seq_ = size;
  monitor->raise_from_seq_ = size;
  if (monitor->engine_ && size > 0) {
    absl::StatusOr<uint64_t> replay_from = monitor->FirstSeqWithin(options.replay_window);
    absl::StatusOr<uint64_t> raise_from = monitor->RaiseFrom(size);
    if (replay_from.ok() && raise_from.ok()) {
      monitor->next_seq_ = std::min(*replay_from, *raise_from);
      monitor->raise_from_seq_ = *raise_from;
      LogInfo("anomaly detection: replaying entries ", monitor->next_seq_, " to ", *raise_from,
              " to rebuild the detectors' state, judging entries ", *raise_from, " to ", size, "; ",
              monitor->book_.size(), " alerts on record");
    } else if (raise_from.ok()) {
      // No state to rebuild from (a damaged entry in the way): judge from
      // the mark all the same; rules that need history see less of it.
      monitor->next_seq_ = *raise_from;
      monitor->raise_from_seq_ = *raise_from;
      LogError("anomaly detection cannot replay the ledger (", replay_from.status().message(),
               "); it judges entries ", *raise_from, " to ", size, " without their history");
    } else {
      // A damaged ledger: judge what comes from now on; self-verification
      // reports the damage (and raises verification_failed).
      LogError("anomaly detection cannot replay the ledger (", raise_from.status().message(),
               "); it judges new entries only");
    }
  }
  monitor->judged_through_ = monitor->raise_from_seq_;
  {
    absl::MutexLock lock(&monitor->mu_);
    monitor->options_ = options;
  }
  monitor->PublishOpenCounts();
  monitor->thread_ = std::thread([m = monitor.get()] { m->Run(); });
  return monitor;
}

AlertMonitor::~AlertMonitor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void AlertMonitor::Notify() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void AlertMonitor::VerificationFailed(const std::string& mode, uint64_t first_bad_seq,
                                      const std::string& problem) {
  absl::MutexLock lock(&mu_);
  verification_failures_.push_back({mode, first_bad_seq, problem});
  woken_ = true;
}

absl::Status AlertMonitor::Reload(const anomaly::DetectionOptions& options) {
  absl::StatusOr<std::unique_ptr<anomaly::Engine>> engine = NewEngine(options);
  if (!engine.ok()) return engine.status();
  UseIncidentZone(book_, options.time_zone);
  const uint64_t size = ledger_.Size();
  uint64_t replay_from = size;
  if (*engine && size > 0) {
    absl::StatusOr<uint64_t> from = FirstSeqWithin(options.replay_window);
    if (from.ok()) {
      replay_from = *from;
    } else {
      LogError("anomaly detection cannot replay the ledger on reload (", from.status().message(),
               "); the new settings judge new entries only");
    }
  }
  absl::MutexLock lock(&mu_);
  next_engine_ = *std::move(engine);
  next_replay_from_ = replay_from;
  options_ = options;
  woken_ = true;
  return absl::OkStatus();
}

AlertMonitor::Lag AlertMonitor::lag() const {
  return {lag_entries_.load(), absl::Microseconds(lag_micros_.load())};
}

anomaly::DetectionOptions AlertMonitor::options() const {
  absl::MutexLock lock(&mu_);
  return options_;
}

void AlertMonitor::Run() {
  while (true) {
    std::vector<Pending> failures;
    bool swap_engine = false;
    std::unique_ptr<anomaly::Engine> next_engine;
    uint64_t replay_from = 0;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || woken_; };
      mu_.AwaitWithTimeout(absl::Condition(&wake), kIdleWait);
      woken_ = false;
      stopping = stop_;
      failures.swap(verification_failures_);
      if (next_engine_ || options_.enabled != (engine_ != nullptr)) {
        swap_engine = true;
        next_engine = std::move(next_engine_);
        replay_from = next_replay_from_;
      }
    }
    if (stopping) {
      // Appends have stopped: judge what is left, then end.
      CatchUp();
      SaveProgress(/*force=*/true);
      return;
    }
    if (swap_engine) {
      // The new rules judge entries from here on (or from where a replay
      // still under way would have started judging); the replay only
      // rebuilds their state.
      raise_from_seq_ = std::max(raise_from_seq_, next_seq_);
      engine_ = std::move(next_engine);
      counting_unknown_roles_ = false;
      unknown_roles_exported_.clear();
      if (engine_) next_seq_ = std::min(next_seq_, replay_from);
      LogInfo("anomaly detection: settings reloaded; ", engine_ ? "on" : "off");
    }
    CatchUp();
    SaveProgress(/*force=*/false);
    const absl::Time now = Now();
    if (!engine_) continue;
    for (const Pending& failure : failures) {
      Raise(engine_->VerificationFailed(failure.mode, failure.first_bad_seq, failure.problem, now));
    }
    if (now - last_tick_ >= kTickInterval) {
      last_tick_ = now;
      Raise(engine_->Tick(now));
    }
  }
}

bool AlertMonitor::CatchUp() {
  absl::Time last_committed = Now();  // of the last entry judged
  while (next_seq_ < ledger_.Size()) {
    // Stopping in the middle of a replay loses nothing: those entries were
    // judged before, and the next start replays them again.
    if (stopping_ && next_seq_ < raise_from_seq_) break;
    // Past a damaged entry one at a time, so that one entry stops no more.
    const size_t count = next_seq_ < careful_until_ ? 1 : kReadBatchEntries;
    absl::StatusOr<std::vector<storage::StoredEntry>> stored = ledger_.GetEntries(next_seq_, count);
    if (absl::IsDataLoss(stored.status()) && count > 1) {
      careful_until_ = next_seq_ + count;
      continue;
    }
    if (absl::IsDataLoss(stored.status())) {
      // Self-verification reports it (and raises verification_failed). The
      // mark stays before it, so that a start on a repaired ledger judges it.
      LogError("anomaly detection skips entry ", next_seq_, ": ", stored.status().message());
      mark_held_ = true;
      ++next_seq_;
      continue;
    }
    if (!stored.ok()) {
      LogError("anomaly detection cannot read entry ", next_seq_, ": ", stored.status().message());
      PublishLag(0, last_committed);
      return false;
    }
    bool book_changed = false;
    std::vector<v1::Alert> raised;  // appended together, one group commit
    for (const storage::StoredEntry& record : *stored) {
      next_seq_ = record.seq + 1;
      // Detection works on what is live: an erased entry says nothing.
      if (record.erased) continue;
      const v1::LedgerEntry& entry = record.entry;
      if ((entry.has_alert() || entry.has_alert_decision()) && book_.Apply(record.seq, entry)) {
        book_changed = true;
        if (entry.has_alert_decision()) {
          metrics_.AlertDecided(AlertStateName(entry.alert_decision().state()));
        }
      }
      if (engine_) {
        if (!counting_unknown_roles_ && record.seq >= raise_from_seq_) {
          unknown_roles_exported_ = engine_->UnknownRoleEvents();
          counting_unknown_roles_ = true;
        }
        std::vector<v1::Alert> alerts = engine_->Observe(record.seq, entry);
        if (record.seq >= raise_from_seq_) {
          raised.insert(raised.end(), std::make_move_iterator(alerts.begin()),
                        std::make_move_iterator(alerts.end()));
        }
      }
    }
    book_.AppliedThrough(next_seq_);
    if (book_changed) PublishOpenCounts();
    PublishUnknownRoles();
    // Alerts that could not be recorded hold the mark back, so that the
    // next start judges their entries again.
    if (!Raise(raised)) mark_held_ = true;
    if (!mark_held_ && next_seq_ > judged_through_) judged_through_ = next_seq_;
    if (!stored->empty() && stored->back().entry.has_committed_at()) {
      last_committed = FromProto(stored->back().entry.committed_at());
    }
    PublishLag(stored->size(), last_committed);
  }
  PublishLag(0, last_committed);
  return true;
}

void AlertMonitor::PublishUnknownRoles() {
  if (!engine_ || !counting_unknown_roles_) return;
  for (const auto& [role, count] : engine_->UnknownRoleEvents()) {
    uint64_t& exported = unknown_roles_exported_[role];
    if (count > exported) metrics_.UnknownRoleEvents(role, count - exported);
    exported = count;
  }
}

void AlertMonitor::PublishLag(uint64_t observed, absl::Time last_committed) {
  const uint64_t size = ledger_.Size();
  const uint64_t lag = size - std::min(size, next_seq_);
  const absl::Duration lag_time = lag == 0 ? absl::ZeroDuration() : Now() - last_committed;
  lag_entries_ = lag;
  lag_micros_ = absl::ToInt64Microseconds(lag_time);
  metrics_.DetectionProgress(observed, lag, lag_time);
}

void AlertMonitor::SaveProgress(bool force) {
  if (absl::Status s = progress_.Save(judged_through_, Now(), kProgressSaveInterval, force);
      !s.ok()) {
    LogError("anomaly detection cannot store how far it has judged: ", s.message());
  }
}

bool AlertMonitor::Raise(const std::vector<v1::Alert>& alerts) {
  if (alerts.empty()) return true;
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_.AppendAlerts(alerts);
  if (!receipts.ok()) {
    // The engine has them marked raised; a restart replays and raises them.
    LogError("cannot record ", alerts.size(), " alerts (the first: ", alerts.front().rule(),
             "): ", receipts.status().message());
    return false;
  }
  for (size_t i = 0; i < alerts.size(); ++i) {
    const v1::Alert& alert = alerts[i];
    metrics_.AlertRaised(alert.rule(), SeverityName(alert.severity()));
    // No names or ids: the log is not the place for who looked at whom.
    LogNotice("alert raised: ", alert.rule(), " (", SeverityName(alert.severity()),
              "), recorded as seq ", (*receipts)[i].seq(), "; see innsynctl alerts list");
  }
  return true;
}

void AlertMonitor::PublishOpenCounts() {
  // A (rule, severity) once exported stays, at 0 when all are resolved.
  std::map<std::pair<std::string, std::string>, uint64_t> counts = book_.UnresolvedCounts();
  for (const auto& [key, count] : counts) exported_.insert(key);
  for (const auto& key : exported_) {
    auto found = counts.find(key);
    metrics_.SetAlertsOpen(key.first, key.second, found == counts.end() ? 0 : found->second);
  }
}

}  // namespace innsyn::daemon
