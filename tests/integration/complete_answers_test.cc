// Complete answers against the real innsynd and the real innsynctl: `history`
// proves its answer complete by default, and each way a clinic or a
// compromised server could shorten or bend an answer is caught with its own
// message and exit code 1. The bending is done by a gRPC proxy between
// innsynctl and innsynd that changes the daemon's real responses, or on the
// daemon's RocksDB while it is stopped.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>

#include "innsyn/v1/service.grpc.pb.h"
#include "storage/internal/schema.h"
#include "tests/storage/ledger_test_support.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using testing::CommandResult;
using testing::DaemonProcess;
using testing::JournalRead;
using testing::RunCommand;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Passes innsynctl's calls on to innsynd, letting a test change the answers.
class TamperingProxy final : public v1::AccessLogService::Service {
 public:
  explicit TamperingProxy(const std::string& target)
      : stub_(v1::AccessLogService::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~TamperingProxy() override { server_->Shutdown(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Changes every ListSubjectAccess response from now on.
  void Tamper(std::function<void(v1::ListSubjectAccessResponse&)> change) {
    std::lock_guard<std::mutex> lock(mu_);
    change_ = std::move(change);
  }

  grpc::Status ListSubjectAccess(grpc::ServerContext*, const v1::ListSubjectAccessRequest* request,
                                 v1::ListSubjectAccessResponse* response) override {
    grpc::ClientContext context;
    grpc::Status status = stub_->ListSubjectAccess(&context, *request, response);
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok() && change_) change_(*response);
    return status;
  }
  // Changes every GetSubjectProof response from now on.
  void TamperProof(std::function<void(v1::GetSubjectProofResponse&)> change) {
    std::lock_guard<std::mutex> lock(mu_);
    change_proof_ = std::move(change);
  }
  grpc::Status GetSubjectProof(grpc::ServerContext*, const v1::GetSubjectProofRequest* request,
                               v1::GetSubjectProofResponse* response) override {
    grpc::ClientContext context;
    grpc::Status status = stub_->GetSubjectProof(&context, *request, response);
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok() && change_proof_) change_proof_(*response);
    return status;
  }
  grpc::Status GetConsistencyProof(grpc::ServerContext*,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::ConsistencyProof* response) override {
    grpc::ClientContext context;
    return stub_->GetConsistencyProof(&context, *request, response);
  }

 private:
  std::unique_ptr<v1::AccessLogService::Stub> stub_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex mu_;
  std::function<void(v1::ListSubjectAccessResponse&)> change_;
  std::function<void(v1::GetSubjectProofResponse&)> change_proof_;
};

class CompleteAnswersTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string key_file() const { return data_dir() + "/checkpoint_key.pub"; }

  void Start() {
    daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, data_dir());
    ASSERT_TRUE(daemon_->running());
    proxy_ = std::make_unique<TamperingProxy>(daemon_->grpc_address());
  }
  void Stop() {
    proxy_.reset();
    ASSERT_EQ(daemon_->StopWith(SIGTERM), 0);
    daemon_.reset();
  }

  // Accesses ev-<first>.. of patient-<i % 4> by dr-<i % 3>, in one request.
  void Append(int first, int count) {
    auto stub = v1::IngestService::NewStub(
        grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials()));
    v1::AppendRequest request;
    for (int i = first; i < first + count; ++i) {
      *request.add_events() =
          JournalRead(i, "patient-" + std::to_string(i % 4), "dr-" + std::to_string(i % 3));
    }
    v1::AppendResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->Append(&context, request, &response).ok());
  }

  // `innsynctl history` through the proxy, with the data folder's key pinned.
  CommandResult History(const std::string& subject, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {INNSYNCTL_PATH, "--server", proxy_->address(), "--reason",
                                     "test",         "history",  "--subject",       subject,
                                     "--key-file",   key_file()};
    args.insert(args.end(), more.begin(), more.end());
    return RunCommand(args);
  }

  // A real answer of the daemon (with its proof), asked directly.
  v1::ListSubjectAccessResponse Answer(const std::string& subject, bool entry_bytes = false) {
    auto stub = v1::AccessLogService::NewStub(
        grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials()));
    v1::ListSubjectAccessRequest request;
    request.set_subject_id(subject);
    request.set_reason("test");
    request.set_prove(true);
    request.set_include_entry_bytes(entry_bytes);
    v1::ListSubjectAccessResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub->ListSubjectAccess(&context, request, &response).ok());
    return response;
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<TamperingProxy> proxy_;
};

TEST_F(CompleteAnswersTest, AnHonestAnswerIsProvenCompleteAndAnUnknownSubjectEmpty) {
  Start();
  // A new ledger has no signed tree to prove against yet, and says so.
  CommandResult empty = History("patient-1");
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_TRUE(Contains(empty.output, "the ledger has no entries yet")) << empty.output;
  Append(0, 40);
  CommandResult history = History("patient-1");
  EXPECT_EQ(history.exit_code, 0) << history.output;
  EXPECT_TRUE(Contains(history.output, "complete: 10 entries, verified against checkpoint of size"))
      << history.output;
  // Within a period: the entries outside it are proven to be outside.
  // The events are one a second from 08:00:00, so this start cuts their hour:
  // ev-21, 25, 29, 33 and 37 are in it.
  CommandResult period = History("patient-1", {"--from", "2026-03-02T08:00:20Z"});
  EXPECT_EQ(period.exit_code, 0) << period.output;
  EXPECT_TRUE(Contains(period.output, "complete: 5 entries")) << period.output;
  // "No one has accessed your data" is proven too.
  CommandResult nobody = History("patient-nobody");
  EXPECT_EQ(nobody.exit_code, 0) << nobody.output;
  EXPECT_TRUE(Contains(nobody.output, "complete: 0 entries")) << nobody.output;
  // An employee's own innsyn.
  CommandResult activity =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "--reason", "own innsyn",
                  "activity", "--actor", "dr-1", "--key-file", key_file()});
  EXPECT_EQ(activity.exit_code, 0) << activity.output;
  EXPECT_TRUE(Contains(activity.output, "complete: 13 entries")) << activity.output;
}

TEST_F(CompleteAnswersTest, ABentAnswerIsCaughtWithWhatWasBent) {
  Start();
  Append(0, 40);
  const v1::ListSubjectAccessResponse other = Answer("patient-2", /*entry_bytes=*/true);
  ASSERT_GT(other.entries_size(), 4);
  const v1::ListSubjectAccessResponse mine = Answer("patient-1", /*entry_bytes=*/true);
  struct Case {
    const char* name;
    std::function<void(v1::ListSubjectAccessResponse&)> change;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"one entry dropped",
       [](v1::ListSubjectAccessResponse& r) { r.mutable_entries()->DeleteSubrange(3, 1); },
       "is missing from the answer: the answer is incomplete"},
      {"two entries swapped",
       [](v1::ListSubjectAccessResponse& r) { r.mutable_entries()->SwapElements(2, 5); },
       "the answer is out of order"},
      {"another subject's entry put in",
       [&](v1::ListSubjectAccessResponse& r) { *r.mutable_entries(4) = other.entries(4); },
       "is not in the subject's signed history"},
      {"an entry and its history link dropped together",
       [](v1::ListSubjectAccessResponse& r) {
         r.mutable_entries()->DeleteSubrange(0, 1);
         r.mutable_proof()->mutable_chain()->DeleteSubrange(r.proof().chain_size() - 1, 1);
       },
       "entries, but 9 were given"},
      {"another subject's history, for the map key of this one",
       [&](v1::ListSubjectAccessResponse& r) {
         *r.mutable_entries() = other.entries();
         *r.mutable_proof()->mutable_chain() = other.proof().chain();
       },
       "does not hash to what the signed map names"},
      {"an entry's contents changed, its header kept (the proof's hash of them)",
       [](v1::ListSubjectAccessResponse& r) {
         std::string& hash = *r.mutable_proof()->mutable_chain(2)->mutable_contents_hash();
         hash[0] = static_cast<char>(hash[0] ^ 1);
       },
       "does not hash to what entry"},
      {"the newest entry given whole, contents and all, where its header belongs",
       [&](v1::ListSubjectAccessResponse& r) {
         v1::RecordedEntry& link = *r.mutable_proof()->mutable_chain(0);
         ASSERT_EQ(link.seq(), mine.entries(mine.entries_size() - 1).seq());
         link.set_header_bytes(mine.entries(mine.entries_size() - 1).entry_bytes());
       },
       "given does not hash to what the signed map names"},
      {"an answered entry's bytes taken from another entry",
       [&](v1::ListSubjectAccessResponse& r) {
         r.mutable_entries(4)->set_entry_bytes(other.entries(4).entry_bytes());
       },
       "in the answer is not the entry of that seq in the subject's signed history"},
      {"another subject's whole answer, with its own proof",
       [&](v1::ListSubjectAccessResponse& r) { r = other; },
       "in the answer is about another subject"},
  };
  for (const Case& c : cases) {
    proxy_->Tamper(c.change);
    CommandResult history = History("patient-1");
    EXPECT_EQ(history.exit_code, 1) << c.name << "\n" << history.output;
    EXPECT_TRUE(Contains(history.output, "FAILED: ")) << c.name << "\n" << history.output;
    EXPECT_TRUE(Contains(history.output, c.message)) << c.name << "\n" << history.output;
  }
}

// GetSubjectProof, through `innsynctl prove`: a history's length proven
// from headers alone, and "no one has accessed your data" proven too.
TEST_F(CompleteAnswersTest, AHistoryIsProvenAloneAndNoHistoryIsProvenAbsent) {
  Start();
  Append(0, 40);  // 10 accesses of each patient; dr-1 made 13
  auto prove = [&](const std::string& flag, const std::string& id) {
    return RunCommand({INNSYNCTL_PATH, "--server", proxy_->address(), "--reason", "own innsyn",
                       "prove", flag, id, "--key-file", key_file()});
  };
  CommandResult patient = prove("--subject", "patient-1");
  EXPECT_EQ(patient.exit_code, 0) << patient.output;
  EXPECT_TRUE(Contains(patient.output, "complete: a history of 10 entries (the first entry "))
      << patient.output;
  CommandResult nobody = prove("--subject", "patient-9");
  EXPECT_EQ(nobody.exit_code, 0) << nobody.output;
  EXPECT_TRUE(Contains(nobody.output,
                       "complete: no history: no one has accessed this subject's data, verified "
                       "against checkpoint of size "))
      << nobody.output;
  CommandResult json =
      RunCommand({INNSYNCTL_PATH, "--server", proxy_->address(), "--reason", "own innsyn", "prove",
                  "--subject", "patient-1", "--json", "--key-file", key_file()});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_TRUE(Contains(json.output, "\"header_bytes\"")) << json.output;
  EXPECT_TRUE(Contains(json.output, "complete: a history of 10 entries")) << json.output;
  CommandResult actor = prove("--actor", "dr-1");
  EXPECT_EQ(actor.exit_code, 0) << actor.output;
  EXPECT_TRUE(Contains(actor.output, "complete: a history of 13 entries")) << actor.output;

  // The call is a query about the patient, recorded as one.
  const std::string marker = "this query was recorded as seq ";
  const size_t at = patient.output.find(marker);
  ASSERT_NE(at, std::string::npos) << patient.output;
  const uint64_t query_seq = std::stoull(patient.output.substr(at + marker.size()));
  auto stub = v1::AccessLogService::NewStub(
      grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials()));
  {
    v1::GetEntriesRequest request;
    request.set_from_seq(query_seq);
    request.set_count(1);
    request.set_reason("test");
    v1::GetEntriesResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->GetEntries(&context, request, &response).ok());
    ASSERT_EQ(response.entries_size(), 1);
    const v1::QueryRecord& record = response.entries(0).entry().query_record();
    EXPECT_EQ(record.method(), "GetSubjectProof");
    EXPECT_EQ(record.subject_id(), "patient-1");
    EXPECT_EQ(record.reason(), "own innsyn");
    EXPECT_EQ(record.results(), 10u);
  }
  // Bad requests name what is wrong.
  auto call = [&](const v1::GetSubjectProofRequest& request) {
    v1::GetSubjectProofResponse response;
    grpc::ClientContext context;
    return stub->GetSubjectProof(&context, request, &response);
  };
  v1::GetSubjectProofRequest both;
  both.set_subject_id("patient-1");
  both.set_actor_id("dr-1");
  grpc::Status refused = call(both);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(refused.error_message(), "exactly one of subject_id and actor_id"));

  // A history as of an older tree: the one the first proof was of, before
  // the accesses appended since.
  const std::string size_marker = "verified against checkpoint of size ";
  const size_t size_at = patient.output.find(size_marker);
  ASSERT_NE(size_at, std::string::npos) << patient.output;
  const uint64_t old_size = std::stoull(patient.output.substr(size_at + size_marker.size()));
  Append(40, 8);  // patient-1 twice more
  CommandResult newer = prove("--subject", "patient-1");
  EXPECT_EQ(newer.exit_code, 0) << newer.output;
  EXPECT_TRUE(Contains(newer.output, "complete: a history of 12 entries")) << newer.output;
  CommandResult older = RunCommand({INNSYNCTL_PATH, "--server", proxy_->address(), "--reason",
                                    "own innsyn", "prove", "--subject", "patient-1", "--size",
                                    std::to_string(old_size), "--key-file", key_file()});
  EXPECT_EQ(older.exit_code, 0) << older.output;
  EXPECT_TRUE(Contains(older.output, "complete: a history of 10 entries")) << older.output;
  EXPECT_TRUE(Contains(older.output, size_marker + std::to_string(old_size) + "\n"))
      << older.output;
  // A size inside a group commit has no map root, one beyond the ledger no
  // tree.
  v1::GetSubjectProofRequest inside;
  inside.set_subject_id("patient-1");
  inside.set_tree_size(old_size - 20);  // inside the group of the first 40 accesses
  refused = call(inside);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Contains(refused.error_message(), "no subject map root was kept for a tree of"))
      << refused.error_message();
  v1::GetSubjectProofRequest beyond;
  beyond.set_subject_id("patient-1");
  beyond.set_tree_size(old_size + 1000);
  refused = call(beyond);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(refused.error_message(), "is beyond the ledger's"))
      << refused.error_message();

  // A shortened history, or one link's header changed, is caught.
  proxy_->TamperProof([](v1::GetSubjectProofResponse& r) {
    r.mutable_proof()->mutable_chain()->DeleteSubrange(4, 1);
  });
  CommandResult shortened = prove("--subject", "patient-1");
  EXPECT_EQ(shortened.exit_code, 1) << shortened.output;
  EXPECT_TRUE(Contains(shortened.output, "has 12 entries, but 11 were given")) << shortened.output;
  proxy_->TamperProof([](v1::GetSubjectProofResponse& r) {
    std::string& header = *r.mutable_proof()->mutable_chain(3)->mutable_header_bytes();
    header.back() = static_cast<char>(header.back() ^ 1);
  });
  CommandResult changed = prove("--subject", "patient-1");
  EXPECT_EQ(changed.exit_code, 1) << changed.output;
  EXPECT_TRUE(Contains(changed.output, "does not hash to what entry")) << changed.output;
}

TEST_F(CompleteAnswersTest, AReplayedOrForkedCheckpointIsCaught) {
  Start();
  Append(0, 20);
  const v1::ListSubjectAccessResponse old = Answer("patient-1");
  Append(20, 20);
  const std::string seen = dir_.path() + "/seen.note";
  CommandResult first = History("patient-1", {"--save-checkpoint", seen});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // Later: the proof still extends what was seen.
  Append(40, 4);
  CommandResult later = History("patient-1", {"--since", seen});
  EXPECT_EQ(later.exit_code, 0) << later.output;
  // The old answer, with its old but validly signed checkpoint, replayed.
  proxy_->Tamper([&](v1::ListSubjectAccessResponse& r) { r = old; });
  CommandResult replayed = History("patient-1", {"--since", seen});
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;
  EXPECT_TRUE(Contains(replayed.output, "an old checkpoint was replayed")) << replayed.output;

  // A fork: another ledger signed with the same key, grown to the same
  // size with other entries.
  proxy_->Tamper(nullptr);
  CommandResult now = History("patient-1", {"--save-checkpoint", seen});
  ASSERT_EQ(now.exit_code, 0) << now.output;
  Stop();
  const std::string fork_dir = dir_.path() + "/fork";
  std::filesystem::create_directories(fork_dir);
  for (const char* file : {"checkpoint_key.pem", "checkpoint_key.pub", "pseudonym.key"}) {
    std::filesystem::copy_file(data_dir() + "/" + file, fork_dir + "/" + file);
  }
  const std::string pinned = key_file();
  daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, fork_dir);
  ASSERT_TRUE(daemon_->running());
  proxy_ = std::make_unique<TamperingProxy>(daemon_->grpc_address());
  // The first ledger's size when `seen` was saved, reached with other events
  // (each history call also records its query, one entry).
  std::ifstream note_in(seen);
  std::string origin, size_line;
  std::getline(note_in, origin);
  std::getline(note_in, size_line);
  Append(1000, std::stoi(size_line));
  CommandResult forked =
      RunCommand({INNSYNCTL_PATH, "--server", proxy_->address(), "--reason", "test", "history",
                  "--subject", "patient-1", "--key-file", pinned, "--since", seen});
  EXPECT_EQ(forked.exit_code, 1) << forked.output;
  EXPECT_TRUE(Contains(forked.output, "the log was forked")) << forked.output;
}

TEST_F(CompleteAnswersTest, ADeletedIndexKeyIsCaught) {
  Start();
  Append(0, 40);
  ASSERT_EQ(History("patient-3").exit_code, 0);
  // The newest tree signed and stored, so that innsynd, which signs nothing
  // new once it has found damage, still serves a signed tree for it.
  CommandResult checkpoint =
      RunCommand({INNSYNCTL_PATH, "--server", daemon_->grpc_address(), "checkpoint"});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.output;
  Stop();
  // An insider deletes one of patient-3's index keys from the RocksDB files.
  {
    std::unique_ptr<testing::RawLedger> raw = testing::RawLedger::Open(data_dir());
    ASSERT_NE(raw, nullptr);
    rocksdb::ColumnFamilyHandle* index = raw->family(storage::internal::kIndexFamily);
    std::unique_ptr<rocksdb::Iterator> it(raw->db().NewIterator(rocksdb::ReadOptions(), index));
    // Access events of patient-3: ev-3, ev-7, ... (seq 3, 7, ...); find one.
    std::string victim;
    for (it->Seek("S"); it->Valid() && it->key().starts_with("S"); it->Next()) {
      const std::string key = it->key().ToString();
      if (storage::internal::ReadBigEndian64(key.substr(key.size() - 8)) == 7) victim = key;
    }
    ASSERT_FALSE(victim.empty());
    ASSERT_TRUE(raw->db().Delete(rocksdb::WriteOptions(), index, victim).ok());
  }
  Start();
  CommandResult history = History("patient-3");
  EXPECT_EQ(history.exit_code, 1) << history.output;
  EXPECT_TRUE(Contains(history.output, "entry 7 of the subject's signed history"))
      << history.output;
  EXPECT_TRUE(Contains(history.output, "is missing from the answer")) << history.output;
}

}  // namespace
}  // namespace innsyn
