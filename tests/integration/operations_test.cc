// Operations against the real innsynd: its /metrics as Prometheus's promtool
// reads it, systemd's notify protocol on a real datagram socket, SIGHUP
// reload with a stream open across it, self-verification finding a
// tampered entry, and an online backup taken during ingest, restored and
// proven a prefix of the live ledger.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "rocksdb/db.h"
#include "storage/internal/schema.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/daemon_process.h"
#include "tests/support/eventually.h"
#include "tests/support/http_get.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using testing::Contains;
using testing::DaemonProcess;
using testing::Eventually;
using testing::HttpGetBody;
using testing::JournalRead;
using testing::OpenTestLedger;
using testing::RunCommand;

class OperationsTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return dir_.path() + "/data"; }

  void Start(const std::vector<std::string>& extra_args = {}) {
    daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, data_dir(), extra_args);
    ASSERT_TRUE(daemon_->running());
    channel_ = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    ingest_ = v1::IngestService::NewStub(channel_);
  }

  grpc::Status Append(int first, int count) {
    v1::AppendRequest request;
    for (int i = first; i < first + count; ++i) {
      *request.add_events() = JournalRead(i, "patient-" + std::to_string(i % 11), "dr-2");
    }
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ingest_->Append(&context, request, &response);
  }

  std::string Metrics() { return HttpGetBody(daemon_->metrics_port(), "/metrics"); }

  testing::CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {INNSYNCTL_PATH, "--server", daemon_->grpc_address()});
    return RunCommand(args);
  }

  innsyn::testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
};

TEST_F(OperationsTest, MetricsEndpointPassesPromtoolCheckMetrics) {
  Start();
  ASSERT_TRUE(Append(0, 20).ok());
  // The full self-verification at start has run by the time it is exported.
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = Metrics();
    return Contains(metrics, "innsyn_verification_last_success_timestamp_seconds{mode=\"full\"}");
  })) << metrics;
  for (const char* expected :
       {"innsyn_events_appended_total{", "innsyn_group_commit_entries_count 1",
        "innsyn_ingest_queue_events ", "innsyn_ledger_entries ", "innsyn_ledger_disk_bytes ",
        "innsyn_source_last_event_timestamp_seconds{source=", "innsyn_rocksdb_write_stopped 0",
        "innsyn_verification_failing{mode=\"full\"} 0", "process_resident_memory_bytes ",
        "innsyn_config_reloads_total{result=\"ok\"} 1"}) {
    EXPECT_TRUE(Contains(metrics, expected)) << "missing " << expected << "\n" << metrics;
  }
  testing::CommandResult check = RunCommand({PROMTOOL_PATH, "check", "metrics"}, metrics);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "");
}

TEST_F(OperationsTest, LogsOneLineWithALevelPerEvent) {
  testing::CommandResult result =
      RunCommand({INNSYND_PATH, "--data-dir", data_dir(), "--listen", "10.1.2.3:50051"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.output, " innsynd error: listen 10.1.2.3:50051")) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
}

// The systemd side of Type=notify: a datagram socket named by NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    timeval timeout{.tv_sec = 0, .tv_usec = 100 * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { close(fd_); }

  // Messages received until one contains `wanted` (true) or the timeout.
  bool WaitFor(const std::string& wanted, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    return Eventually(
        [&] {
          char buffer[4096];
          ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
          if (n <= 0) return false;
          received_.emplace_back(buffer, static_cast<size_t>(n));
          return Contains(received_.back(), wanted);
        },
        timeout);
  }
  std::string Received() const {
    std::string all;
    for (const std::string& message : received_) all += "[" + message + "] ";
    return all;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

TEST_F(OperationsTest, TellsSystemdReadyReloadingStoppingAndPingsTheWatchdog) {
  NotifySocket notify(dir_.path() + "/notify.sock");
  setenv("NOTIFY_SOCKET", (dir_.path() + "/notify.sock").c_str(), 1);
  setenv("WATCHDOG_USEC", "200000", 1);
  Start();
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  EXPECT_TRUE(notify.WaitFor("READY=1")) << notify.Received();
  // Pinged at half the 200 ms interval: several within a second.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(notify.WaitFor("WATCHDOG=1")) << notify.Received();
  kill(daemon_->pid(), SIGHUP);
  EXPECT_TRUE(notify.WaitFor("RELOADING=1")) << notify.Received();
  EXPECT_TRUE(notify.WaitFor("READY=1")) << notify.Received();
  const int pid = daemon_->pid();
  kill(pid, SIGTERM);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1")) << notify.Received();
  int status = daemon_->StopWith(0);  // already stopping: just wait
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(OperationsTest, SighupReloadsTheConfigWithoutDroppingAStream) {
  const std::string config = dir_.path() + "/innsynd.toml";
  std::ofstream(config) << "verify_interval_seconds = 3600\n";
  Start({"--config", config});
  grpc::ClientContext stream_context;
  auto stream = ingest_->AppendStream(&stream_context);
  auto send_batch = [&](int first) {
    v1::AppendRequest request;
    request.set_batch_id(static_cast<uint64_t>(first));
    *request.add_events() = JournalRead(first, "patient-1", "dr-1");
    v1::AppendResponse response;
    return stream->Write(request) && stream->Read(&response) && response.receipts_size() == 1;
  };
  ASSERT_TRUE(send_batch(0));

  std::ofstream(config) << "verify_interval_seconds = 1\ncheckpoint_interval_seconds = 2\n";
  kill(daemon_->pid(), SIGHUP);
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = Metrics();
    return Contains(metrics, "innsyn_config_reloads_total{result=\"ok\"} 2");
  })) << metrics;
  EXPECT_TRUE(Contains(metrics, "innsyn_verification_interval_seconds{mode=\"incremental\"} 1\n"))
      << metrics;
  // The new interval is in force: incremental passes now run every second.
  EXPECT_TRUE(Eventually([&] {
    return Contains(Metrics(), "innsyn_verification_runs_total{mode=\"incremental\"} 2");
  }));
  EXPECT_TRUE(send_batch(1)) << "the stream opened before the reload broke";

  // A config that does not parse is refused; the old settings stay.
  std::ofstream(config) << "verify_interval_seconds = \"soon\"\n";
  kill(daemon_->pid(), SIGHUP);
  ASSERT_TRUE(Eventually([&] {
    metrics = Metrics();
    return Contains(metrics, "innsyn_config_reloads_total{result=\"failed\"} 1");
  })) << metrics;
  EXPECT_TRUE(Contains(metrics, "innsyn_verification_interval_seconds{mode=\"incremental\"} 1\n"));
  EXPECT_TRUE(send_batch(2));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// An insider edits one stored entry while innsynd is stopped; the tree
// nodes still match the signed checkpoint, so innsynd starts. Its full
// verification at start finds the change: from then on it serves reads
// only. The changed entry cannot be read (DATA_LOSS naming it, rather than
// its changed bytes with a leaf hash computed from them), no event is taken,
// no checkpoint is signed over it, the health service and the metrics say
// so, and the finding is an alert to triage.
TEST_F(OperationsTest, ATamperedEntryIsNeverServedAndStopsIngestAndSigning) {
  Start();
  ASSERT_TRUE(Append(0, 30).ok());
  EXPECT_EQ(daemon_->StopWith(SIGTERM), 0);
  testing::TamperWithStoredValue(data_dir(), storage::internal::kEntriesFamily,
                                 storage::internal::SeqKey(7), [](std::string& value) {
                                   value.back() ^= 1;
                                   return true;
                                 });
  Start({"--detection", "true"});
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = Metrics();
    return Contains(metrics, "innsyn_verification_failing{mode=\"full\"} 1") &&
           Contains(metrics, "innsyn_ledger_read_only 1");
  })) << metrics;
  EXPECT_TRUE(Contains(metrics, "innsyn_verification_failures_total{mode=\"full\"} 1"));
  EXPECT_TRUE(Contains(metrics, "innsyn_ledger_verified_at_start 0"));
  EXPECT_FALSE(
      Contains(metrics, "innsyn_verification_last_success_timestamp_seconds{mode=\"full\"}"));

  auto log = v1::AccessLogService::NewStub(channel_);
  v1::GetEntriesRequest entries_request;
  entries_request.set_from_seq(0);
  entries_request.set_count(10);
  v1::GetEntriesResponse entries_response;
  grpc::ClientContext read;
  const grpc::Status read_status = log->GetEntries(&read, entries_request, &entries_response);
  EXPECT_EQ(read_status.error_code(), grpc::StatusCode::DATA_LOSS) << read_status.error_message();
  EXPECT_TRUE(Contains(read_status.error_message(), "entry 7 does not match"))
      << read_status.error_message();

  const grpc::Status append = Append(100, 1);
  EXPECT_EQ(append.error_code(), grpc::StatusCode::UNAVAILABLE) << append.error_message();
  EXPECT_TRUE(Contains(append.error_message(), "failed verification")) << append.error_message();

  // The finding is recorded as an alert, so the ledger has grown past the
  // last signed tree head. That head is still given as it was signed (a
  // read), but no new one is signed over the changed entry.
  testing::CommandResult alerts;
  ASSERT_TRUE(Eventually([&] {
    alerts = Ctl({"alerts", "list", "--rule", "verification_failed"});
    return Contains(alerts.output, "1 alert;");
  })) << alerts.output;
  EXPECT_TRUE(Contains(alerts.output, "critical")) << alerts.output;

  v1::GetCheckpointRequest checkpoint_request;
  v1::Checkpoint checkpoint;
  grpc::ClientContext sign;
  const grpc::Status signing = log->GetCheckpoint(&sign, checkpoint_request, &checkpoint);
  EXPECT_EQ(signing.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << signing.error_message();
  checkpoint_request.set_tree_size(30);
  grpc::ClientContext stored;
  const grpc::Status given = log->GetCheckpoint(&stored, checkpoint_request, &checkpoint);
  ASSERT_TRUE(given.ok()) << given.error_message();
  EXPECT_EQ(checkpoint.tree_size(), 30u);

  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest health_request;
  health_request.set_service("innsyn.v1.IngestService");
  grpc::health::v1::HealthCheckResponse health_response;
  EXPECT_TRUE(Eventually([&] {
    grpc::ClientContext context;
    return health->Check(&context, health_request, &health_response).ok() &&
           health_response.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  }));

  testing::CommandResult status = Ctl({"status"});
  EXPECT_EQ(status.exit_code, 1) << status.output;
  EXPECT_TRUE(Contains(status.output, "READ-ONLY: the ledger failed verification at entry 7"))
      << status.output;

  // The alert and the queries above were recorded, but no checkpoint
  // covers them: the newest signed one is still the one from before.
  EXPECT_EQ(daemon_->StopWith(SIGTERM), 0);
  std::unique_ptr<storage::Ledger> ledger = OpenTestLedger(data_dir(), /*read_only=*/true);
  ASSERT_NE(ledger, nullptr);
  EXPECT_GT(ledger->Size(), 30u);
  EXPECT_EQ(ledger->LatestStoredCheckpoint()->tree_size(), 30u);
}

TEST_F(OperationsTest, BackupDuringIngestRestoresToAVerifiedPrefixOfTheLiveLedger) {
  const std::string backup_dir = dir_.path() + "/backups";
  Start({"--backup-dir", backup_dir});
  ASSERT_TRUE(Append(0, 200).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread ingest([&] {
    for (int first = 1000; !stop.load(); first += 50) {
      if (!Append(first, 50).ok()) ++failures;
    }
  });
  testing::CommandResult backup = Ctl({"backup"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  ingest.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(backup.exit_code, 0) << backup.output;
  EXPECT_TRUE(Contains(backup.output, "backup 1 written to " + backup_dir)) << backup.output;
  EXPECT_TRUE(Contains(Metrics(), "innsyn_backups_total{result=\"ok\"} 1"));

  testing::CommandResult list = RunCommand({INNSYNCTL_PATH, "backup", "--list", backup_dir});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_TRUE(Contains(list.output, "backup 1: ")) << list.output;

  const std::string restored = dir_.path() + "/restored";
  const std::string checkpoint = dir_.path() + "/restored-checkpoint.txt";
  testing::CommandResult restore =
      RunCommand({INNSYNCTL_PATH, "restore", "--backup-dir", backup_dir, "--data-dir", restored,
                  "--checkpoint-out", checkpoint});
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_TRUE(Contains(restore.output, "OK: ")) << restore.output;
  // Offline verification agrees, with the live ledger's key pinned.
  const std::string key_file = data_dir() + "/checkpoint_key.pub";
  testing::CommandResult verify =
      RunCommand({INNSYNCTL_PATH, "verify", "--data-dir", restored, "--key-file", key_file});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  // The restored ledger's signed checkpoint is a prefix of the live tree:
  // the live server proves it with a consistency proof.
  testing::CommandResult prove = Ctl({"prove", "--since", checkpoint, "--key-file", key_file});
  EXPECT_EQ(prove.exit_code, 0) << prove.output;

  // Restoring over a folder in use is refused and changes nothing.
  testing::CommandResult again =
      RunCommand({INNSYNCTL_PATH, "restore", "--backup-dir", backup_dir, "--data-dir", data_dir()});
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_TRUE(Contains(again.output, "is not empty")) << again.output;
}

// A connection that opens HTTP/2 (the client preface, an empty SETTINGS
// frame and the acknowledgement of the server's) and then sends nothing,
// and never hangs up by itself.
int OpenIdleHttp2Connection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return -1;
  }
  const std::string preface(
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
      "\0\0\0\x04\0\0\0\0\0"     // SETTINGS, empty
      "\0\0\0\x04\x01\0\0\0\0",  // SETTINGS with ACK
      42);
  if (write(fd, preface.data(), preface.size()) != static_cast<ssize_t>(preface.size())) return -1;
  return fd;
}

// An idle client's open connection does not hold innsynd's stop up: with no
// call in flight it closes connections at once. Waiting for the client
// instead takes gRPC's own 20 s (the graceful GOAWAY's ping timeout) or the
// 240 s grace; a clean stop takes well under a second, so the 10 s bound
// leaves a wide margin for a slow machine.
TEST_F(OperationsTest, StopsWithoutWaitingForAnIdleClientToHangUp) {
  Start({"--shutdown-grace-seconds", "240"});
  ASSERT_TRUE(Append(0, 1).ok());
  const int idle = OpenIdleHttp2Connection(daemon_->grpc_port());
  ASSERT_GE(idle, 0);
  const auto start = std::chrono::steady_clock::now();
  const int status = daemon_->StopWith(SIGTERM);
  const auto took = std::chrono::steady_clock::now() - start;
  close(idle);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(took, std::chrono::seconds(10));
}

// A unary Append is answered by the ledger's writer once its events are
// durable (gRPC's callback API), with no thread waiting for it. A stop with
// many such calls in flight ends cleanly, no call is left unanswered until
// its deadline, and every event acknowledged is in the ledger afterwards.
TEST_F(OperationsTest, AStopWithUnaryCallsInFlightKeepsEveryAcknowledgedEvent) {
  Start();
  constexpr int kClients = 16;
  std::atomic<bool> stopped{false};
  std::atomic<int> acknowledged_calls{0};
  std::vector<std::vector<int>> acknowledged(kClients);
  std::vector<int> timed_out(kClients, 0);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int n = c * 100'000; !stopped.load(); ++n) {
        const grpc::Status status = Append(n, 1);
        if (status.ok()) {
          acknowledged[c].push_back(n);
          ++acknowledged_calls;
        } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          ++timed_out[c];
        } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
          return;  // innsynd is stopping or gone
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return acknowledged_calls.load() >= 500; }));
  EXPECT_EQ(daemon_->StopWith(SIGTERM), 0);
  stopped = true;
  for (std::thread& client : clients) client.join();

  std::unique_ptr<storage::Ledger> ledger = OpenTestLedger(data_dir(), /*read_only=*/true);
  ASSERT_NE(ledger, nullptr);
  absl::StatusOr<std::vector<storage::StoredEntry>> entries = ledger->GetEntries(0, ledger->Size());
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::set<std::string> stored;
  for (const storage::StoredEntry& entry : *entries) {
    if (entry.entry.has_access_event()) stored.insert(entry.entry.access_event().event_id());
  }
  size_t checked = 0;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(timed_out[c], 0) << "client " << c;
    for (int n : acknowledged[c]) {
      EXPECT_TRUE(stored.contains("ev-" + std::to_string(n))) << "acknowledged ev-" << n;
      ++checked;
    }
  }
  EXPECT_GE(checked, 500u);
}

TEST_F(OperationsTest, StatusSaysTheLedgerIsVerifiedAndDetectionCaughtUp) {
  Start();
  ASSERT_TRUE(Append(0, 5).ok());
  testing::CommandResult status;
  ASSERT_TRUE(Eventually([&] {
    status = Ctl({"status"});
    return Contains(status.output, "integrity: verified at start; taking events");
  })) << status.output;
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_TRUE(Contains(status.output, "ledger: 5 entries")) << status.output;
  EXPECT_TRUE(Contains(status.output, "anomaly detection: caught up")) << status.output;
}

TEST_F(OperationsTest, BackupWithoutABackupFolderIsRefused) {
  Start();
  testing::CommandResult backup = Ctl({"backup"});
  EXPECT_EQ(backup.exit_code, 2);
  EXPECT_TRUE(Contains(backup.output, "FAILED_PRECONDITION")) << backup.output;
  EXPECT_TRUE(Contains(backup.output, "backup_dir")) << backup.output;
}

// An erasure through the real daemon and innsynctl: the patient's history
// then shows the erased entries in their places and the erasure itself, the
// ledger still verifies, and a second erasure or an unknown subject is
// refused with the reason.
TEST_F(OperationsTest, EraseShredsASubjectAndHistorySaysSo) {
  Start();
  ASSERT_TRUE(Append(0, 22).ok());  // two accesses to each of patient-0 ... patient-10
  testing::CommandResult before = Ctl({"history", "--subject", "patient-3", "--reason", "test"});
  ASSERT_EQ(before.exit_code, 0) << before.output;
  EXPECT_TRUE(Contains(before.output, "dr-2")) << before.output;

  testing::CommandResult erase = Ctl({"erase", "--subject", "patient-3", "--reason",
                                      "GDPR art. 17(1)(a)", "--reference", "case 2026-17"});
  ASSERT_EQ(erase.exit_code, 0) << erase.output;
  // The two accesses, and the query of the history above: all about her.
  EXPECT_TRUE(Contains(erase.output, "erased: 3 entries under 2 data keys")) << erase.output;
  EXPECT_TRUE(Contains(erase.output, "/journal_note/")) << erase.output;
  testing::CommandResult again =
      Ctl({"erase", "--subject", "patient-3", "--reason", "GDPR art. 17(1)(a)"});
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_TRUE(Contains(again.output, "already erased")) << again.output;

  testing::CommandResult after = Ctl({"history", "--subject", "patient-3", "--reason", "test"});
  ASSERT_EQ(after.exit_code, 0) << after.output;
  EXPECT_TRUE(Contains(after.output, "(erased: its data key was shredded)")) << after.output;
  EXPECT_TRUE(Contains(after.output, "ERASURE")) << after.output;
  EXPECT_TRUE(Contains(after.output, "GDPR art. 17(1)(a)")) << after.output;
  EXPECT_FALSE(Contains(after.output, "dr-2")) << after.output;
  // Another patient's history is whole.
  testing::CommandResult other = Ctl({"history", "--subject", "patient-4", "--reason", "test"});
  EXPECT_TRUE(Contains(other.output, "dr-2")) << other.output;

  testing::CommandResult unknown =
      Ctl({"erase", "--subject", "nobody", "--reason", "GDPR art. 17(1)(a)"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_TRUE(Contains(unknown.output, "NOT_FOUND")) << unknown.output;
  testing::CommandResult future =
      Ctl({"erase", "--subject", "patient-4", "--reason", "x", "--before", "2999-01-01T00:00:00Z"});
  EXPECT_EQ(future.exit_code, 2) << future.output;
  EXPECT_TRUE(Contains(future.output, "before")) << future.output;

  const std::string metrics = Metrics();
  EXPECT_TRUE(Contains(metrics, "innsyn_erasures_total{result=\"ok\"} 1")) << metrics;
  EXPECT_TRUE(Contains(metrics, "innsyn_retention_runs_total{result=\"ok\"}")) << metrics;
  testing::CommandResult verify = Ctl({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

}  // namespace
}  // namespace innsyn
