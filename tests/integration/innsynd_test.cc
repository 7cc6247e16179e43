// Integration tests: the real innsynd binary on ephemeral ports, spoken to
// over real gRPC and HTTP sockets.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "base/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/checkpoint.h"
#include "storage/hash.h"
#include "storage/merkle.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using storage::Hash;
using testing::DaemonProcess;
using testing::JournalRead;

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) return "";
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

class InnsyndTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, data_dir());
    ASSERT_TRUE(daemon_->running());
    auto channel = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
    ingest_ = v1::IngestService::NewStub(channel);
    log_ = v1::AccessLogService::NewStub(channel);
    health_ = grpc::health::v1::Health::NewStub(channel);
  }

  std::string data_dir() const { return dir_.path() + "/data"; }

  grpc::Status Append(const std::vector<v1::AccessEvent>& events, v1::AppendResponse& response) {
    v1::AppendRequest request;
    for (const auto& event : events) *request.add_events() = event;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ingest_->Append(&context, request, &response);
  }

  v1::Checkpoint Checkpoint(uint64_t tree_size = 0) {
    v1::GetCheckpointRequest request;
    request.set_tree_size(tree_size);
    v1::Checkpoint checkpoint;
    grpc::ClientContext context;
    EXPECT_TRUE(log_->GetCheckpoint(&context, request, &checkpoint).ok());
    return checkpoint;
  }

  std::string PinnedVerifierKey() {
    std::ifstream file(data_dir() + "/checkpoint_key.pub");
    std::string key;
    std::getline(file, key);
    return key;
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::AccessLogService::Stub> log_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

TEST_F(InnsyndTest, AppendedAccessesAreListedForTheSubjectAndTheQueryIsRecorded) {
  v1::AppendResponse appended;
  ASSERT_TRUE(Append({JournalRead(1, "01017012345", "dr-a"), JournalRead(2, "02028054321", "dr-a"),
                      JournalRead(3, "01017012345", "dr-b")},
                     appended)
                  .ok());
  ASSERT_EQ(appended.receipts_size(), 3);

  v1::ListSubjectAccessRequest request;
  request.set_subject_id("01017012345");
  request.set_reason("patient asked for innsyn");
  v1::ListSubjectAccessResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(log_->ListSubjectAccess(&context, request, &response).ok());
  ASSERT_EQ(response.entries_size(), 2);
  EXPECT_EQ(response.entries(0).entry().access_event().actor().id(), "dr-a");
  EXPECT_EQ(response.entries(1).entry().access_event().actor().id(), "dr-b");
  EXPECT_EQ(response.query_seq(), 3u);

  v1::GetEntriesRequest entries_request;
  entries_request.set_from_seq(3);
  v1::GetEntriesResponse entries;
  grpc::ClientContext entries_context;
  ASSERT_TRUE(log_->GetEntries(&entries_context, entries_request, &entries).ok());
  const v1::QueryRecord& query = entries.entries(0).entry().query_record();
  EXPECT_EQ(query.method(), "ListSubjectAccess");
  EXPECT_EQ(query.subject_id(), "01017012345");
  EXPECT_EQ(query.reason(), "patient asked for innsyn");
  EXPECT_EQ(query.results(), 2u);
  // Raw bytes come back exactly as hashed.
  EXPECT_EQ(entries.entries(0).leaf_hash(),
            storage::AsBytes(storage::LeafHash(entries.entries(0).entry_bytes())));
}

TEST_F(InnsyndTest, InvalidEventRejectsTheWholeRequestNamingEventAndField) {
  v1::AppendResponse ignored;
  ASSERT_TRUE(Append({JournalRead(1, "p", "a")}, ignored).ok());
  v1::AccessEvent bad = JournalRead(3, "p", "a");
  bad.mutable_actor()->clear_id();
  v1::AppendResponse response;
  grpc::Status status = Append({JournalRead(2, "p", "a"), bad, JournalRead(4, "p", "a")}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("events[1]"), std::string::npos) << status.error_message();
  EXPECT_NE(status.error_message().find("actor.id"), std::string::npos) << status.error_message();
  // Nothing of the request was written: not even the valid first event.
  EXPECT_EQ(Checkpoint().tree_size(), 1u);
}

TEST_F(InnsyndTest, UnknownEnumAndFutureTimestampAreRejected) {
  v1::AccessEvent unknown = JournalRead(1, "p", "a");
  unknown.set_action(static_cast<v1::ActionCode>(42));
  v1::AppendResponse response;
  grpc::Status status = Append({unknown}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action"), std::string::npos) << status.error_message();

  v1::AccessEvent future = JournalRead(2, "p", "a", innsyn::Now() + absl::Hours(3));
  status = Append({future}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("occurred_at"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(Checkpoint().tree_size(), 0u);
}

TEST_F(InnsyndTest, InvalidUtf8IsRejectedNamingEventAndField) {
  v1::AccessEvent latin1 = JournalRead(2, "p", "a");
  latin1.mutable_actor()->set_display_name("Bj\xf8rn");  // Latin-1, not UTF-8
  v1::AppendResponse response;
  grpc::Status status = Append({JournalRead(1, "p", "a"), latin1}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "events[1]: actor.display_name is not valid UTF-8");
  EXPECT_EQ(Checkpoint().tree_size(), 0u);
}

TEST_F(InnsyndTest, RetriedEventGetsTheOriginalReceipt) {
  v1::AppendResponse first;
  ASSERT_TRUE(Append({JournalRead(9, "p", "a")}, first).ok());
  v1::AppendResponse retry;
  ASSERT_TRUE(Append({JournalRead(9, "p", "a")}, retry).ok());
  EXPECT_TRUE(retry.receipts(0).duplicate());
  EXPECT_EQ(retry.receipts(0).seq(), first.receipts(0).seq());
  EXPECT_EQ(retry.receipts(0).chain_hash(), first.receipts(0).chain_hash());
  EXPECT_EQ(Checkpoint().tree_size(), 1u);
}

// A reused event id with other contents is not a retry: it is refused,
// naming the event and the seq it would hide behind, recorded nowhere, and
// counted, never answered as a duplicate with the new contents lost.
TEST_F(InnsyndTest, AReusedEventIdWithOtherContentsIsRefusedNotSwallowed) {
  v1::AppendResponse first;
  ASSERT_TRUE(Append({JournalRead(9, "p", "a")}, first).ok());
  v1::AccessEvent other = JournalRead(9, "p", "a");
  other.mutable_data_object()->set_id("note-2231");  // another note read
  v1::AppendResponse response;
  grpc::Status status = Append({JournalRead(10, "p", "a"), other}, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "event 1: event_id ev-9 of source opus-dental/clinic-1 was recorded as seq 0 with "
            "other contents; a retry must resend the same event, and a new event needs a new "
            "event_id");
  EXPECT_EQ(Checkpoint().tree_size(), 1u);
  EXPECT_NE(HttpGet(daemon_->metrics_port(), "/metrics")
                .find("innsyn_events_rejected_total{reason=\"event_id_reused\"} 2"),
            std::string::npos);
}

TEST_F(InnsyndTest, StreamGivesOneReceiptPerBatchInOrder) {
  grpc::ClientContext context;
  auto stream = ingest_->AppendStream(&context);
  constexpr int kBatches = 20;
  constexpr int kBatchSize = 50;
  for (int b = 0; b < kBatches; ++b) {
    v1::AppendRequest request;
    request.set_batch_id(static_cast<uint64_t>(b) + 100);
    for (int i = 0; i < kBatchSize; ++i)
      *request.add_events() = JournalRead(b * kBatchSize + i, "p", "a");
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  v1::AppendResponse response;
  int batches = 0;
  uint64_t next_seq = 0;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.batch_id(), static_cast<uint64_t>(batches) + 100);
    ASSERT_EQ(response.receipts_size(), kBatchSize);
    for (const auto& receipt : response.receipts()) EXPECT_EQ(receipt.seq(), next_seq++);
    ++batches;
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(batches, kBatches);
}

TEST_F(InnsyndTest, BadBatchOnAStreamEndsItAfterTheBatchesBeforeItAreAnswered) {
  grpc::ClientContext context;
  auto stream = ingest_->AppendStream(&context);
  constexpr int kBatches = 10;
  constexpr int kBadBatch = 6;
  constexpr int kBatchSize = 30;
  for (int b = 0; b < kBatches; ++b) {
    v1::AppendRequest request;
    request.set_batch_id(static_cast<uint64_t>(b));
    for (int i = 0; i < kBatchSize; ++i)
      *request.add_events() = JournalRead(b * kBatchSize + i, "p", "a");
    if (b == kBadBatch) request.mutable_events(3)->mutable_subject()->clear_id();
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  v1::AppendResponse response;
  int answered = 0;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.batch_id(), static_cast<uint64_t>(answered));
    ++answered;
  }
  grpc::Status status = stream->Finish();
  EXPECT_EQ(answered, kBadBatch);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("batch_id 6: events[3]"), std::string::npos)
      << status.error_message();
  // The batches after the bad one were never read, so nothing of them or of
  // it is recorded.
  EXPECT_EQ(Checkpoint().tree_size(), static_cast<uint64_t>(kBadBatch * kBatchSize));
}

TEST_F(InnsyndTest, ProofsVerifyAgainstTheSignedCheckpointWithThePinnedKey) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 33; ++i) events.push_back(JournalRead(i, "p" + std::to_string(i % 4), "a"));
  v1::AppendResponse appended;
  ASSERT_TRUE(Append(events, appended).ok());
  v1::Checkpoint checkpoint = Checkpoint();
  absl::StatusOr<storage::CheckpointBody> body =
      storage::VerifyCheckpointNote(checkpoint.note(), PinnedVerifierKey());
  ASSERT_TRUE(body.ok()) << body.status();
  ASSERT_EQ(body->tree_size, 33u);
  for (uint64_t seq : {0, 17, 32}) {
    v1::GetInclusionProofRequest request;
    request.set_seq(seq);
    request.set_tree_size(33);
    v1::InclusionProof proof;
    grpc::ClientContext context;
    ASSERT_TRUE(log_->GetInclusionProof(&context, request, &proof).ok());
    std::vector<Hash> path;
    for (const std::string& h : proof.hashes()) path.push_back(*storage::HashFromBytes(h));
    EXPECT_EQ(proof.leaf_hash(), appended.receipts(static_cast<int>(seq)).leaf_hash());
    EXPECT_TRUE(storage::VerifyInclusion(seq, 33, *storage::HashFromBytes(proof.leaf_hash()), path,
                                         body->root_hash)
                    .ok());
  }
}

TEST_F(InnsyndTest, RestartKeepsEverythingAndTheNewTreeExtendsTheOld) {
  v1::AppendResponse appended;
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 10; ++i) events.push_back(JournalRead(i, "p", "a"));
  ASSERT_TRUE(Append(events, appended).ok());
  v1::Checkpoint before = Checkpoint();
  int status = daemon_->StopWith(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  Start();
  EXPECT_EQ(Checkpoint().tree_size(), 10u);
  ASSERT_TRUE(Append({JournalRead(100, "p", "a")}, appended).ok());
  EXPECT_EQ(appended.receipts(0).seq(), 10u);
  v1::Checkpoint after = Checkpoint();
  v1::GetConsistencyProofRequest request;
  request.set_first_size(10);
  request.set_second_size(after.tree_size());
  v1::ConsistencyProof proof;
  grpc::ClientContext context;
  ASSERT_TRUE(log_->GetConsistencyProof(&context, request, &proof).ok());
  std::vector<Hash> path;
  for (const std::string& h : proof.hashes()) path.push_back(*storage::HashFromBytes(h));
  EXPECT_TRUE(storage::VerifyConsistency(10, after.tree_size(),
                                         *storage::HashFromBytes(before.root_hash()),
                                         *storage::HashFromBytes(after.root_hash()), path)
                  .ok());

  v1::VerifyLedgerResponse verified;
  grpc::ClientContext verify_context;
  ASSERT_TRUE(log_->VerifyLedger(&verify_context, v1::VerifyLedgerRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_EQ(verified.entries_checked(), 11u);
}

TEST_F(InnsyndTest, HealthServiceReportsServing) {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(health_->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(InnsyndTest, MetricsEndpointCountsAppendsAndRejections) {
  v1::AppendResponse appended;
  ASSERT_TRUE(Append({JournalRead(1, "p", "a"), JournalRead(2, "p", "a")}, appended).ok());
  v1::AccessEvent bad = JournalRead(3, "p", "a");
  bad.clear_event_id();
  EXPECT_FALSE(Append({bad}, appended).ok());
  std::string page = HttpGet(daemon_->metrics_port(), "/metrics");
  EXPECT_NE(
      page.find("innsyn_events_appended_total{action=\"view\",source=\"opus-dental/clinic-1\"} 2"),
      std::string::npos)
      << page;
  EXPECT_NE(page.find("innsyn_events_rejected_total{reason=\"invalid_argument\"} 1"),
            std::string::npos);
  EXPECT_NE(page.find("innsyn_append_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(page.find("innsyn_ledger_entries 2"), std::string::npos);
  EXPECT_NE(page.find("innsyn_last_checkpoint_timestamp_seconds"), std::string::npos);
}

TEST_F(InnsyndTest, OfflineVerifyNamesTheTamperedSeq) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 40; ++i) events.push_back(JournalRead(i, "patient-x", "dr-y"));
  v1::AppendResponse appended;
  ASSERT_TRUE(Append(events, appended).ok());
  ASSERT_EQ(daemon_->StopWith(SIGTERM), 0);

  testing::CommandResult clean =
      testing::RunCommand({INNSYNCTL_PATH, "verify", "--data-dir", data_dir()});
  EXPECT_EQ(clean.exit_code, 0) << clean.output;

  // Flip one byte of entry 23's stored bytes with RocksDB's own ldb tool,
  // as someone with the files could.
  std::string key = "0x0000000000000017";
  testing::CommandResult got =
      testing::RunCommand({"/usr/bin/ldb", "--db=" + data_dir() + "/ledger",
                           "--column_family=entries", "--hex", "get", key});
  ASSERT_EQ(got.exit_code, 0) << got.output;
  std::string value = got.output.substr(0, got.output.find('\n'));
  ASSERT_TRUE(value.starts_with("0x"));
  // The contents are sealed: no name is there to find. One hex digit in
  // the middle of the ciphertext is changed.
  EXPECT_EQ(value.find("70617469656E742D78"), std::string::npos) << value;  // "patient-x"
  const size_t at = value.size() / 2;
  value[at] = value[at] == '0' ? '1' : '0';
  testing::CommandResult put =
      testing::RunCommand({"/usr/bin/ldb", "--db=" + data_dir() + "/ledger",
                           "--column_family=entries", "--hex", "put", key, value});
  ASSERT_EQ(put.exit_code, 0) << put.output;

  testing::CommandResult tampered =
      testing::RunCommand({INNSYNCTL_PATH, "verify", "--data-dir", data_dir()});
  EXPECT_EQ(tampered.exit_code, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("FAILED at seq 23:"), std::string::npos) << tampered.output;
  daemon_.reset();
}

}  // namespace
}  // namespace innsyn
