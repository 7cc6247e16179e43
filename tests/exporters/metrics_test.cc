// The exposition innsynd serves: every metric the operations dashboards and
// alert rules use is present, and promtool (Prometheus's own linter)
// accepts it.
#include "exporters/metrics.h"

#include <gtest/gtest.h>

#include "base/allocator.h"
#include "base/strings.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn::exporters {
namespace {

using innsyn::testing::RunCommand;

std::unique_ptr<Metrics> StartMetrics() {
  absl::StatusOr<std::unique_ptr<Metrics>> metrics = Metrics::Start("");
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return *std::move(metrics);
}

// Every kind of sample the daemon produces, at least once.
void Exercise(Metrics& metrics) {
  metrics.EventsAppended("opus-dental/clinic-1", "read", 3);
  metrics.EventsRejected("invalid_argument", 1);
  metrics.EventsRejected("website", "execute", "queue_full", 2);
  metrics.ObserveAppendLatency(absl::Milliseconds(3));
  metrics.ObserveQueryLatency("ListSubjectAccess", absl::Milliseconds(2));
  metrics.SetLedgerSize(42);
  metrics.SetLastCheckpointTime(absl::Now());
  storage::GroupCommitStats group;
  group.entries = 100;
  group.requests = 4;
  group.write_time = absl::Microseconds(800);
  group.queued_events = 7;
  group.queued_bytes = 2800;
  metrics.ObserveGroupCommit(group);
  metrics.VerificationFinished("incremental", true, absl::Now(), absl::Milliseconds(5), 42);
  metrics.VerificationFinished("full", false, absl::Now(), absl::Seconds(1), 42);
  metrics.SetVerificationInterval("full", absl::Hours(24));
  metrics.ConfigReloaded(true, absl::Now());
  metrics.BackupFinished(true, absl::Now(), 1 << 20);
  metrics.UnknownRoleEvents("locum", 2);
}

TEST(Metrics, ExpositionPassesPromtoolCheckMetrics) {
  innsyn::testing::TempDir dir;
  storage::LedgerOptions options;
  options.data_dir = dir.path();
  absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  std::unique_ptr<Metrics> metrics = StartMetrics();
  metrics->WatchLedger(ledger->get());
  Exercise(*metrics);
  std::string text = metrics->Scrape();
  innsyn::testing::CommandResult check = RunCommand({PROMTOOL_PATH, "check", "metrics"}, text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(check.output, "") << "promtool lint findings";
  metrics->WatchLedger(nullptr);
}

TEST(Metrics, PromtoolCheckMetricsCanFail) {
  // The check above means something: promtool rejects a counter without
  // _total and a duplicate sample.
  innsyn::testing::CommandResult check = RunCommand(
      {PROMTOOL_PATH, "check", "metrics"},
      "# HELP innsyn_appended Events.\n# TYPE innsyn_appended counter\ninnsyn_appended 1\n");
  EXPECT_NE(check.exit_code, 0) << check.output;
}

TEST(Metrics, ProcessStartTimeIsThisProcesssStart) {
  std::unique_ptr<Metrics> metrics = StartMetrics();
  std::string text = metrics->Scrape();
  const std::string name = "\nprocess_start_time_seconds ";
  size_t at = text.find(name);
  ASSERT_NE(at, std::string::npos) << text;
  double start = std::stod(text.substr(at + name.size()));
  double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  // This test process started moments ago (clock ticks are 10 ms).
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 600);
}

TEST(Metrics, ExportsTheOperationsMetrics) {
  innsyn::testing::TempDir dir;
  storage::LedgerOptions options;
  options.data_dir = dir.path();
  absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  std::unique_ptr<Metrics> metrics = StartMetrics();
  metrics->WatchLedger(ledger->get());
  Exercise(*metrics);
  std::string text = metrics->Scrape();
  for (const char* expected : {
           "innsyn_events_appended_total{action=\"read\",source=\"opus-dental/clinic-1\"} 3",
           "innsyn_events_rejected_total{action=\"execute\",reason=\"queue_full\",source="
           "\"website\"} 2",
           "innsyn_append_duration_seconds_bucket{le=\"0.005\"} 1",
           "innsyn_query_duration_seconds_count{method=\"ListSubjectAccess\"} 1",
           "innsyn_ledger_entries 42",
           "innsyn_last_checkpoint_timestamp_seconds ",
           "innsyn_source_last_event_timestamp_seconds{source=\"opus-dental/clinic-1\"} ",
           "innsyn_group_commit_entries_bucket{le=\"256\"} 1",
           "innsyn_group_commit_write_duration_seconds_count 1",
           "innsyn_ingest_queue_events 7",
           "innsyn_ingest_queue_bytes 2800",
           "innsyn_verification_last_success_timestamp_seconds{mode=\"incremental\"} ",
           "innsyn_verification_failures_total{mode=\"full\"} 1",
           "innsyn_verification_failures_total{mode=\"incremental\"} 0",
           "innsyn_verification_failing{mode=\"full\"} 1",
           "innsyn_verification_interval_seconds{mode=\"full\"} 86400",
           "innsyn_config_reloads_total{result=\"ok\"} 1",
           "innsyn_backup_last_size_bytes 1048576",
           "innsyn_detection_unknown_role_events_total{role=\"locum\"} 2",
           "innsyn_ledger_disk_bytes ",
           "innsyn_rocksdb_pending_compaction_bytes ",
           "innsyn_rocksdb_write_stalls_total{kind=\"stop\"} 0",
           "innsyn_rocksdb_write_stopped 0",
           "innsyn_rocksdb_block_cache_bytes ",
           "innsyn_rocksdb_block_cache_capacity_bytes ",
           "innsyn_rocksdb_table_readers_bytes ",
           "innsyn_key_store_memtable_bytes ",
           "innsyn_key_store_cached_keys ",
           "process_cpu_seconds_total ",
           "process_resident_memory_bytes ",
           "process_open_fds ",
           "process_start_time_seconds ",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
  // tcmalloc's figures, where it is the allocator (not under the
  // sanitizers).
  const bool tcmalloc = ReadAllocatorStats().has_value();
  for (const char* state : {"allocated", "free_pages", "free_cached"}) {
    EXPECT_EQ(
        text.find(StrCat("innsyn_allocator_bytes{state=\"", state, "\"} ")) != std::string::npos,
        tcmalloc)
        << state << "\n"
        << text;
  }
  // No full verification has succeeded: its timestamp is absent, not 0.
  EXPECT_EQ(text.find("innsyn_verification_last_success_timestamp_seconds{mode=\"full\"}"),
            std::string::npos);
  // Once the ledger is closed, its metrics are simply left out.
  metrics->WatchLedger(nullptr);
  ledger->reset();
  EXPECT_EQ(metrics->Scrape().find("innsyn_ledger_disk_bytes"), std::string::npos);
}

TEST(Metrics, UnknownRolesBeyondTheLimitAreCountedAsOther) {
  std::unique_ptr<Metrics> metrics = StartMetrics();
  for (size_t i = 0; i < Metrics::kMaxUnknownRoles + 3; ++i) {
    metrics->UnknownRoleEvents("role-" + std::to_string(i), 1);
  }
  metrics->UnknownRoleEvents("role-0", 4);  // a role already exported keeps its series
  std::string text = metrics->Scrape();
  EXPECT_NE(text.find("innsyn_detection_unknown_role_events_total{role=\"role-0\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("innsyn_detection_unknown_role_events_total{role=\"other\"} 3"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("role=\"role-" + std::to_string(Metrics::kMaxUnknownRoles) + "\""),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace innsyn::exporters
