// Crash safety: innsynd is killed with SIGKILL at random moments while
// several clients append (half in unary calls, half on pipelined streams with
// many batches in flight), then restarted. Every acknowledged event must be
// present exactly once, and the ledger must verify.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "innsyn/v1/service.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

constexpr int kRounds = 20;
constexpr int kClients = 4;
constexpr int kEventsPerRequest = 20;
constexpr int kMinRunMillis = 50;
constexpr int kMaxRunMillis = 400;

struct Acknowledged {
  std::mutex mu;
  std::map<std::string, uint64_t> seq_by_event;  // event_id -> seq
  std::atomic<int> stream_batches{0};            // acknowledged on streams
};

v1::AppendRequest Batch(int client, int round, int batch) {
  v1::AppendRequest request;
  request.set_batch_id(static_cast<uint64_t>(batch));
  for (int i = 0; i < kEventsPerRequest; ++i) {
    v1::AccessEvent event = testing::JournalRead(0, "patient-" + std::to_string(i), "dr-crash");
    event.set_event_id("r" + std::to_string(round) + "-c" + std::to_string(client) + "-b" +
                       std::to_string(batch) + "-" + std::to_string(i));
    *request.add_events() = event;
  }
  return request;
}

void Record(const v1::AppendResponse& response, Acknowledged& acked) {
  std::lock_guard<std::mutex> lock(acked.mu);
  for (const v1::AppendReceipt& receipt : response.receipts()) {
    acked.seq_by_event[receipt.event_id()] = receipt.seq();
  }
}

// Streams batches without waiting for their receipts until the daemon dies;
// records what was acknowledged.
void StreamUntilFailure(const std::string& address, int client, int round, Acknowledged& acked) {
  auto stub =
      v1::IngestService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->AppendStream(&context);
  std::thread writer([&] {
    for (int batch = 0; stream->Write(Batch(client, round, batch)); ++batch) {
    }
  });
  v1::AppendResponse response;
  while (stream->Read(&response)) {
    Record(response, acked);
    ++acked.stream_batches;
  }
  context.TryCancel();
  writer.join();
  stream->Finish().IgnoreError();
}

// Appends batches in unary calls until the daemon dies; records what was
// acknowledged.
void AppendUntilFailure(const std::string& address, int client, int round, Acknowledged& acked) {
  if (client % 2 == 1) return StreamUntilFailure(address, client, round, acked);
  auto stub =
      v1::IngestService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int batch = 0;; ++batch) {
    v1::AppendRequest request = Batch(client, round, batch);
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!stub->Append(&context, request, &response).ok()) return;
    Record(response, acked);
  }
}

TEST(Crash, AcknowledgedEventsSurviveSigkillExactlyOnce) {
  testing::TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  Acknowledged acked;
  std::mt19937 random(2026);
  for (int round = 0; round < kRounds; ++round) {
    testing::DaemonProcess daemon(INNSYND_PATH, data_dir);
    ASSERT_TRUE(daemon.running()) << "round " << round;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(AppendUntilFailure, daemon.grpc_address(), c, round, std::ref(acked));
    }
    std::uniform_int_distribution<int> run_millis(kMinRunMillis, kMaxRunMillis);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_millis(random)));
    daemon.StopWith(SIGKILL);
    for (auto& client : clients) client.join();
  }
  ASSERT_GT(acked.seq_by_event.size(), 0u);
  ASSERT_GT(acked.stream_batches.load(), 0);

  testing::DaemonProcess daemon(INNSYND_PATH, data_dir);
  ASSERT_TRUE(daemon.running());
  auto channel = grpc::CreateChannel(daemon.grpc_address(), grpc::InsecureChannelCredentials());
  auto log = v1::AccessLogService::NewStub(channel);

  // Read the whole ledger: each event at most once, every acknowledged one
  // at the seq its receipt named.
  std::map<std::string, uint64_t> found;
  uint64_t next = 0;
  while (true) {
    v1::GetEntriesRequest request;
    request.set_from_seq(next);
    request.set_count(1000);
    v1::GetEntriesResponse response;
    grpc::ClientContext context;
    grpc::Status status = log->GetEntries(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) break;
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (response.entries().empty()) break;
    for (const v1::RecordedEntry& entry : response.entries()) {
      next = entry.seq() + 1;
      if (!entry.entry().has_access_event()) continue;
      const std::string& id = entry.entry().access_event().event_id();
      EXPECT_TRUE(found.emplace(id, entry.seq()).second) << id << " recorded twice";
    }
    if (next >= response.tree_size()) break;
  }
  for (const auto& [event_id, seq] : acked.seq_by_event) {
    auto it = found.find(event_id);
    ASSERT_NE(it, found.end()) << "acknowledged " << event_id << " was lost";
    EXPECT_EQ(it->second, seq) << event_id;
  }

  v1::VerifyLedgerResponse verified;
  grpc::ClientContext context;
  ASSERT_TRUE(log->VerifyLedger(&context, v1::VerifyLedgerRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  std::cout << "crash test: " << kRounds << " SIGKILLs, " << acked.seq_by_event.size()
            << " acknowledged events (" << acked.stream_batches.load() << " batches on streams), "
            << found.size() << " events in the ledger\n";
}

}  // namespace
}  // namespace innsyn
