// The security section of the README, against the real innsynd with mTLS:
// certificates made by `innsynctl pki init`, every role against every
// method, refused clients, the portal's minimised answers, the auditor's
// verification without entry contents, and the limits.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>

#include "daemon/auth/pki.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "innsyn/v1/admin.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/hash.h"
#include "tests/support/curl.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using testing::DaemonProcess;
using testing::JournalRead;
using testing::ReadFile;
using testing::RunCommand;

constexpr char kPatient[] = "01017012345";

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
  chmod(path.c_str(), 0600);
}

// One PKI for the whole suite, made as the README says.
class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new testing::TempDir();
    testing::CommandResult init =
        RunCommand({INNSYNCTL_PATH, "pki", "init", "--dir", pki(), "--host", "innsyn.example.no"});
    ASSERT_EQ(init.exit_code, 0) << init.output;
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }
  static std::string pki() { return pki_dir_->path() + "/pki"; }
  static std::string PkiFile(const std::string& name) { return pki() + "/" + name; }

  void SetUp() override { Start(); }

  void Start(const std::vector<std::string>& extra = {}, std::string crl = "") {
    if (crl.empty()) crl = PkiFile("crl.pem");
    std::vector<std::string> args = {
        "--tls-cert",    PkiFile("server.pem"), "--tls-key", PkiFile("server.key"),
        "--tls-ca",      PkiFile("ca.pem"),     "--tls-crl", crl,
        "--http-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_.reset();
    daemon_ = std::make_unique<DaemonProcess>(INNSYND_PATH, dir_.path() + "/data", args);
    ASSERT_TRUE(daemon_->running());
  }

  // A channel presenting `name`.pem/.key from the PKI folder (or the given
  // PEM texts); an empty name presents no client certificate.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name) {
    if (name.empty()) return ChannelWith(ReadFile(PkiFile("ca.pem")), "", "");
    return ChannelWith(ReadFile(PkiFile("ca.pem")), ReadFile(PkiFile(name + ".pem")),
                       ReadFile(PkiFile(name + ".key")));
  }
  std::shared_ptr<grpc::Channel> ChannelWith(const std::string& ca, const std::string& cert,
                                             const std::string& key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca;
    ssl.pem_cert_chain = cert;
    ssl.pem_private_key = key;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a fresh handshake per channel
    return grpc::CreateCustomChannel(daemon_->grpc_address(), grpc::SslCredentials(ssl), args);
  }

  static std::unique_ptr<grpc::ClientContext> Context(const std::string& acting_for = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!acting_for.empty()) context->AddMetadata("innsyn-acting-for", acting_for);
    return context;
  }

  grpc::Status Append(const std::shared_ptr<grpc::Channel>& channel,
                      std::vector<v1::AccessEvent> events) {
    v1::AppendRequest request;
    for (auto& event : events) *request.add_events() = std::move(event);
    v1::AppendResponse response;
    return v1::IngestService::NewStub(channel)->Append(Context().get(), request, &response);
  }

  // Calls `method` with a request that succeeds when the role may call it.
  grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& method) {
    auto ingest = v1::IngestService::NewStub(channel);
    auto log = v1::AccessLogService::NewStub(channel);
    auto context = Context(kPatient);
    if (method == "Append") {
      v1::AppendRequest request;
      *request.add_events() = JournalRead(++event_number_, kPatient, "dr-a");
      v1::AppendResponse response;
      return ingest->Append(context.get(), request, &response);
    }
    if (method == "AppendStream") {
      auto stream = ingest->AppendStream(context.get());
      v1::AppendRequest request;
      *request.add_events() = JournalRead(++event_number_, kPatient, "dr-a");
      v1::AppendResponse response;
      if (stream->Write(request)) stream->Read(&response);
      stream->WritesDone();
      return stream->Finish();
    }
    if (method == "ListSubjectAccess") {
      v1::ListSubjectAccessRequest request;
      request.set_subject_id(kPatient);
      v1::ListSubjectAccessResponse response;
      return log->ListSubjectAccess(context.get(), request, &response);
    }
    if (method == "ListActorActivity") {
      v1::ListActorActivityRequest request;
      request.set_actor_id("dr-a");
      v1::ListActorActivityResponse response;
      return log->ListActorActivity(context.get(), request, &response);
    }
    if (method == "GetEntries") {
      v1::GetEntriesRequest request;
      v1::GetEntriesResponse response;
      return log->GetEntries(context.get(), request, &response);
    }
    if (method == "GetLeafHashes") {
      v1::GetLeafHashesRequest request;
      v1::GetLeafHashesResponse response;
      return log->GetLeafHashes(context.get(), request, &response);
    }
    if (method == "GetCheckpoint") {
      v1::GetCheckpointRequest request;
      v1::Checkpoint response;
      return log->GetCheckpoint(context.get(), request, &response);
    }
    if (method == "GetInclusionProof") {
      v1::GetInclusionProofRequest request;
      v1::InclusionProof response;
      return log->GetInclusionProof(context.get(), request, &response);
    }
    if (method == "GetConsistencyProof") {
      v1::GetConsistencyProofRequest request;
      request.set_first_size(1);
      v1::ConsistencyProof response;
      return log->GetConsistencyProof(context.get(), request, &response);
    }
    if (method == "Backup") {
      v1::BackupResponse response;
      return v1::AdminService::NewStub(channel)->Backup(context.get(), {}, &response);
    }
    if (method == "ImportBaseline") {
      // Checked only, so that the ledger stays as the other calls see it.
      v1::ImportBaselineRequest request;
      *request.add_events() = JournalRead(++event_number_, kPatient, "dr-a");
      request.set_validate_only(true);
      v1::ImportBaselineResponse response;
      return v1::AdminService::NewStub(channel)->ImportBaseline(context.get(), request, &response);
    }
    if (method == "Pseudonymize") {
      v1::PseudonymizeRequest request;
      request.add_subject_ids(kPatient);
      request.set_reason("roster");
      v1::PseudonymizeResponse response;
      return v1::AdminService::NewStub(channel)->Pseudonymize(context.get(), request, &response);
    }
    if (method == "GetStatus") {
      v1::GetStatusResponse response;
      return v1::AdminService::NewStub(channel)->GetStatus(context.get(), {}, &response);
    }
    if (method == "ListAlerts") {
      v1::ListAlertsResponse response;
      return v1::AlertService::NewStub(channel)->ListAlerts(context.get(), {}, &response);
    }
    if (method == "UpdateAlert") {
      // Admitted callers get NOT_FOUND: no alert has this id.
      v1::UpdateAlertRequest request;
      request.set_alert_id("break_glass/0");
      request.set_state(v1::ALERT_STATE_ACKNOWLEDGED);
      v1::UpdateAlertResponse response;
      return v1::AlertService::NewStub(channel)->UpdateAlert(context.get(), request, &response);
    }
    if (method == "WatchAlerts") {
      // An admitted watch waits for alerts until its deadline; a refused one
      // ends at once with the refusal (after recording it durably, well
      // within the deadline).
      grpc::ClientContext watch;
      watch.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
      auto reader = v1::AlertService::NewStub(channel)->WatchAlerts(&watch, {});
      v1::AlertUpdate update;
      while (reader->Read(&update)) {
      }
      grpc::Status status = reader->Finish();
      return status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? grpc::Status::OK : status;
    }
    if (method == "VerifyLedger") {
      v1::VerifyLedgerRequest request;
      v1::VerifyLedgerResponse response;
      return log->VerifyLedger(context.get(), request, &response);
    }
    ADD_FAILURE() << "no such method " << method;
    return grpc::Status::CANCELLED;
  }

  // GetTile is served on the HTTP listener only (README, "Tiles"): a tile
  // fetched with `role`'s certificate, its HTTP status as the gRPC one.
  grpc::Status GetTile(const std::string& role) {
    testing::HttpAnswer answer = testing::Curl(
        "https://127.0.0.1:" + std::to_string(daemon_->http_port()) + "/tile/0/000.p/1",
        {"--cacert", PkiFile("ca.pem"), "--cert", PkiFile(role + ".pem"), "--key",
         PkiFile(role + ".key")});
    if (answer.code == 200) return grpc::Status::OK;
    return grpc::Status(
        answer.code == 403 ? grpc::StatusCode::PERMISSION_DENIED : grpc::StatusCode::UNKNOWN,
        answer.body);
  }

  // Every entry the ledger held before this call, read as the controller.
  // (Each read is itself recorded, so the ledger grows as it is read.)
  std::vector<v1::LedgerEntry> AllEntries() {
    auto log = v1::AccessLogService::NewStub(Channel("controller"));
    std::vector<v1::LedgerEntry> all;
    uint64_t size = 0;
    do {
      v1::GetEntriesRequest request;
      request.set_from_seq(all.size());
      request.set_count(1000);
      v1::GetEntriesResponse response;
      grpc::Status status = log->GetEntries(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok() || response.entries().empty()) break;
      if (size == 0) size = response.tree_size();
      for (const auto& entry : response.entries()) {
        if (entry.seq() < size) all.push_back(entry.entry());
      }
    } while (all.size() < size);
    return all;
  }

  static inline testing::TempDir* pki_dir_ = nullptr;
  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  int event_number_ = 0;
};

// The gRPC methods, and those of the HTTP listener that have no gRPC call.
const std::vector<std::string> kGrpcMethods = {
    "Append",         "AppendStream",  "ListSubjectAccess", "ListActorActivity",   "GetEntries",
    "GetLeafHashes",  "GetCheckpoint", "GetInclusionProof", "GetConsistencyProof", "VerifyLedger",
    "Backup",         "ListAlerts",    "WatchAlerts",       "UpdateAlert",         "GetStatus",
    "ImportBaseline", "Pseudonymize"};
const std::vector<std::string> kHttpOnlyMethods = {"GetTile"};

// The README's table of roles, written out here rather than taken from the
// code, so that a change to either is caught.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"ingest", {"Append", "AppendStream"}},
    {"controller",
     {"ListSubjectAccess", "ListActorActivity", "GetEntries", "GetLeafHashes", "GetTile",
      "GetCheckpoint", "GetInclusionProof", "GetConsistencyProof", "VerifyLedger", "ListAlerts",
      "WatchAlerts", "UpdateAlert", "GetStatus"}},
    {"portal", {"ListSubjectAccess", "GetCheckpoint", "GetInclusionProof", "GetConsistencyProof"}},
    {"auditor",
     {"GetLeafHashes", "GetTile", "GetCheckpoint", "GetInclusionProof", "GetConsistencyProof",
      "VerifyLedger", "GetStatus"}},
    {"admin",
     {"GetCheckpoint", "VerifyLedger", "Backup", "GetStatus", "ImportBaseline", "Pseudonymize"}},
};

TEST_F(SecurityTest, PkiInitWritesEveryFileReadableByItsOwnerOnly) {
  for (const char* name : {"ca.pem", "ca.key", "crl.pem", "server.pem", "server.key", "ingest.pem",
                           "ingest.key", "controller.pem", "controller.key", "portal.pem",
                           "portal.key", "auditor.pem", "auditor.key", "admin.pem", "admin.key"}) {
    struct stat info {};
    ASSERT_EQ(stat(PkiFile(name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
  absl::StatusOr<pki::CertificateInfo> portal =
      pki::ReadCertificate(ReadFile(PkiFile("portal.pem")));
  ASSERT_TRUE(portal.ok());
  EXPECT_EQ(portal->common_name, "portal");
  EXPECT_EQ(pki::RoleFromUris(portal->uris), "portal");
  // A second init into the same folder overwrites nothing.
  testing::CommandResult again = RunCommand({INNSYNCTL_PATH, "pki", "init", "--dir", pki()});
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("exists already"), std::string::npos) << again.output;
}

TEST_F(SecurityTest, EachRoleMayCallItsMethodsAndEveryOtherCallIsDeniedAndRecorded) {
  ASSERT_TRUE(Call(Channel("ingest"), "Append").ok());  // something to read and prove
  std::map<std::string, int> denials;
  for (const auto& [role, allowed] : kAllowed) {
    std::shared_ptr<grpc::Channel> channel = Channel(role);
    std::vector<std::string> methods = kGrpcMethods;
    methods.insert(methods.end(), kHttpOnlyMethods.begin(), kHttpOnlyMethods.end());
    for (const std::string& method : methods) {
      grpc::Status status = method == "GetTile" ? GetTile(role) : Call(channel, method);
      if (allowed.contains(method) && method == "Backup") {
        // Admitted; it fails only because this innsynd has no backup_dir.
        EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << role;
      } else if (allowed.contains(method) && method == "UpdateAlert") {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << role;
      } else if (allowed.contains(method)) {
        EXPECT_TRUE(status.ok()) << role << " " << method << ": " << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << role << " " << method;
        ++denials[role + " " + method];
      }
    }
  }
  // Each denied call is in the ledger, with who made it.
  std::map<std::string, int> recorded;
  for (const v1::LedgerEntry& entry : AllEntries()) {
    if (!entry.has_query_record() || !entry.query_record().denied()) continue;
    const v1::QueryRecord& query = entry.query_record();
    EXPECT_EQ(query.caller(), query.caller_role());  // pki init names each client by its role
    ++recorded[query.caller_role() + " " + query.method()];
  }
  EXPECT_EQ(recorded, denials);
}

TEST_F(SecurityTest, ClientsWithoutACertificateOfThisCaAreRefused) {
  // Plaintext, TLS without a client certificate, and a certificate of
  // another CA that claims the controller role.
  auto plaintext = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(Call(plaintext, "GetCheckpoint").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(Channel(""), "GetCheckpoint").error_code(), grpc::StatusCode::UNAVAILABLE);

  absl::Time now = absl::Now();
  absl::StatusOr<pki::KeyAndCertificate> foreign_ca = pki::CreateCertificateAuthority(
      "someone else's CA", now - absl::Hours(1), now + absl::Hours(24));
  ASSERT_TRUE(foreign_ca.ok());
  pki::CertificateRequest request;
  request.common_name = "controller";
  request.uris = {"innsyn:role/controller"};
  request.not_before = now - absl::Hours(1);
  request.not_after = now + absl::Hours(24);
  absl::StatusOr<pki::KeyAndCertificate> foreign = pki::IssueCertificate(*foreign_ca, request);
  ASSERT_TRUE(foreign.ok());
  auto channel =
      ChannelWith(ReadFile(PkiFile("ca.pem")), foreign->certificate_pem, foreign->key_pem);
  EXPECT_EQ(Call(channel, "GetCheckpoint").error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, HealthAnswersAnyClientOfTheCaButNoOneElse) {
  for (const char* role : {"ingest", "portal", "auditor"}) {
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    auto health = grpc::health::v1::Health::NewStub(Channel(role));
    ASSERT_TRUE(health->Check(Context().get(), request, &response).ok()) << role;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::health::v1::HealthCheckResponse response;
  auto health = grpc::health::v1::Health::NewStub(Channel(""));
  EXPECT_EQ(health->Check(Context().get(), {}, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, ExpiredCertificateIsRefused) {
  pki::KeyAndCertificate ca{ReadFile(PkiFile("ca.key")), ReadFile(PkiFile("ca.pem"))};
  pki::CertificateRequest request;
  request.common_name = "old-controller";
  request.uris = {"innsyn:role/controller"};
  request.not_before = absl::Now() - absl::Hours(48);
  request.not_after = absl::Now() - absl::Hours(24);
  absl::StatusOr<pki::KeyAndCertificate> expired = pki::IssueCertificate(ca, request);
  ASSERT_TRUE(expired.ok());
  auto channel = ChannelWith(ca.certificate_pem, expired->certificate_pem, expired->key_pem);
  EXPECT_EQ(Call(channel, "GetCheckpoint").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(Channel("controller"), "GetCheckpoint").ok());
}

TEST_F(SecurityTest, RevokedCertificateIsRefusedAfterRestart) {
  // A copy of the PKI, so that the revocation stays in this test.
  std::string copy = dir_.path() + "/pki";
  ASSERT_EQ(RunCommand({"/bin/cp", "-a", pki(), copy}).exit_code, 0);
  testing::CommandResult issued = RunCommand({INNSYNCTL_PATH, "pki", "issue", "--dir", copy,
                                              "--role", "controller", "--name", "laptop-7"});
  ASSERT_EQ(issued.exit_code, 0) << issued.output;
  testing::CommandResult revoked =
      RunCommand({INNSYNCTL_PATH, "pki", "revoke", "--dir", copy, copy + "/laptop-7.pem"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  Start({}, copy + "/crl.pem");
  auto channel = ChannelWith(ReadFile(copy + "/ca.pem"), ReadFile(copy + "/laptop-7.pem"),
                             ReadFile(copy + "/laptop-7.key"));
  EXPECT_EQ(Call(channel, "GetCheckpoint").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Call(Channel("controller"), "GetCheckpoint").ok());
}

TEST_F(SecurityTest, CertificateWithoutARoleMayCallNothing) {
  pki::KeyAndCertificate ca{ReadFile(PkiFile("ca.key")), ReadFile(PkiFile("ca.pem"))};
  pki::CertificateRequest request;
  request.common_name = "no-role";
  request.not_before = absl::Now() - absl::Hours(1);
  request.not_after = absl::Now() + absl::Hours(1);
  absl::StatusOr<pki::KeyAndCertificate> cert = pki::IssueCertificate(ca, request);
  ASSERT_TRUE(cert.ok());
  auto channel = ChannelWith(ca.certificate_pem, cert->certificate_pem, cert->key_pem);
  for (const std::string& method : kGrpcMethods) {
    EXPECT_EQ(Call(channel, method).error_code(), grpc::StatusCode::PERMISSION_DENIED) << method;
  }
}

TEST_F(SecurityTest, PortalAnswersCarryNoInternalFields) {
  v1::AccessEvent event = JournalRead(1, kPatient, "dr-hansen");
  event.set_reason("checked the wrong patient first");
  event.set_workstation("surgery-2");
  event.set_network_address("10.1.0.12");
  event.set_user_agent("OpusDental/9");
  (*event.mutable_attributes())["ward"] = "b";
  event.mutable_data_object()->set_description("note about the root canal");
  event.mutable_actor()->set_display_name("Kari Hansen");
  ASSERT_TRUE(Append(Channel("ingest"), {event}).ok());

  auto portal = v1::AccessLogService::NewStub(Channel("portal"));
  v1::ListSubjectAccessRequest request;
  request.set_subject_id(kPatient);
  request.set_include_entry_bytes(true);
  v1::ListSubjectAccessResponse response;
  ASSERT_TRUE(portal->ListSubjectAccess(Context(kPatient).get(), request, &response).ok());
  ASSERT_EQ(response.entries_size(), 1);
  const v1::RecordedEntry& seen = response.entries(0);
  EXPECT_TRUE(seen.entry_bytes().empty());
  const v1::AccessEvent& shown = seen.entry().access_event();
  EXPECT_EQ(shown.actor().display_name(), "Kari Hansen");
  EXPECT_EQ(shown.actor().role(), event.actor().role());
  EXPECT_EQ(shown.purpose_of_use(), event.purpose_of_use());
  EXPECT_EQ(shown.source().system(), event.source().system());
  for (const std::string& text :
       {event.reason(), event.workstation(), event.network_address(), event.user_agent(),
        event.data_object().description(), event.event_id()}) {
    EXPECT_EQ(seen.SerializeAsString().find(text), std::string::npos) << text;
  }
  EXPECT_TRUE(shown.attributes().empty());

  // The controller sees the whole entry.
  auto controller = v1::AccessLogService::NewStub(Channel("controller"));
  v1::ListSubjectAccessResponse full;
  ASSERT_TRUE(controller->ListSubjectAccess(Context().get(), request, &full).ok());
  EXPECT_EQ(full.entries(0).entry().access_event().workstation(), "surgery-2");
  EXPECT_FALSE(full.entries(0).entry_bytes().empty());
}

TEST_F(SecurityTest, PortalMayAskOnlyAboutThePatientItActsFor) {
  auto portal = v1::AccessLogService::NewStub(Channel("portal"));
  v1::ListSubjectAccessRequest request;
  request.set_subject_id(kPatient);
  v1::ListSubjectAccessResponse response;
  EXPECT_EQ(portal->ListSubjectAccess(Context().get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      portal->ListSubjectAccess(Context("02028054321").get(), request, &response).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(portal->ListSubjectAccess(Context(kPatient).get(), request, &response).ok());
}

TEST_F(SecurityTest, AuditorVerifiesTheWholeLedgerWithoutReadingAnEntry) {
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < 300; ++i) events.push_back(JournalRead(i, kPatient, "dr-a"));
  ASSERT_TRUE(Append(Channel("ingest"), events).ok());
  ASSERT_TRUE(Call(Channel("controller"), "ListSubjectAccess").ok());  // a query record too

  std::vector<std::string> as_auditor = {
      INNSYNCTL_PATH,        "--server",   daemon_->grpc_address(), "--tls-ca",
      PkiFile("ca.pem"),     "--tls-cert", PkiFile("auditor.pem"),  "--tls-key",
      PkiFile("auditor.key")};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> command = as_auditor;
    command.insert(command.end(), args.begin(), args.end());
    return RunCommand(command);
  };
  const std::string key_file = dir_.path() + "/data/checkpoint_key.pub";
  testing::CommandResult leaves = run({"verify", "--leaves", "--key-file", key_file});
  EXPECT_EQ(leaves.exit_code, 0) << leaves.output;
  EXPECT_NE(leaves.output.find("OK: 301 leaf hashes"), std::string::npos) << leaves.output;
  testing::CommandResult server = run({"verify", "--key-file", key_file});
  EXPECT_EQ(server.exit_code, 0) << server.output;
  testing::CommandResult proof =
      run({"prove", "--seq", "7", "--leaf-hash-only", "--key-file", key_file});
  EXPECT_EQ(proof.exit_code, 0) << proof.output;
  testing::CommandResult history = run({"history", "--subject", kPatient});
  EXPECT_EQ(history.exit_code, 2) << history.output;
  EXPECT_NE(history.output.find("PERMISSION_DENIED"), std::string::npos) << history.output;

  // No call of the auditor's read an entry: the only record of it is the
  // denied history.
  int auditor_records = 0;
  for (const v1::LedgerEntry& entry : AllEntries()) {
    if (entry.query_record().caller_role() != "auditor") continue;
    ++auditor_records;
    EXPECT_TRUE(entry.query_record().denied());
  }
  EXPECT_EQ(auditor_records, 1);
}

TEST_F(SecurityTest, CallsBeyondTheRateLimitGetResourceExhausted) {
  Start({"--rate-limit-calls-per-second", "0.5", "--rate-limit-burst", "3"});
  auto admin = Channel("admin");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Call(admin, "GetCheckpoint").ok()) << i;
  grpc::Status limited = Call(admin, "GetCheckpoint");
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(limited.error_message().find("admin"), std::string::npos) << limited.error_message();
  // Another identity has its own bucket.
  EXPECT_TRUE(Call(Channel("auditor"), "GetCheckpoint").ok());
}

TEST_F(SecurityTest, StreamsPerClientAreBounded) {
  const std::string config = dir_.path() + "/innsynd.toml";
  WriteFile(config, "max_streams_per_client = 2\n");
  Start({"--config", config});
  auto ingest = v1::IngestService::NewStub(Channel("ingest"));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::AppendRequest, v1::AppendResponse>>>
      streams;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(Context());
    streams.push_back(ingest->AppendStream(contexts.back().get()));
    v1::AppendRequest request;
    *request.add_events() = JournalRead(i, kPatient, "dr-a");
    v1::AppendResponse response;
    bool answered = streams.back()->Write(request) && streams.back()->Read(&response);
    EXPECT_EQ(answered, i < 2) << "stream " << i;
  }
  EXPECT_EQ(streams[2]->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Closing one makes room again.
  streams[0]->WritesDone();
  EXPECT_TRUE(streams[0]->Finish().ok());
  EXPECT_TRUE(Call(Channel("ingest"), "AppendStream").ok());
  for (int i = 1; i < 2; ++i) {
    streams[i]->WritesDone();
    streams[i]->Finish();
  }
}

TEST_F(SecurityTest, AStreamWithoutADeadlineIsEndedAtTheServersLimit) {
  Start({"--max-stream-seconds", "1"});
  auto ingest = v1::IngestService::NewStub(Channel("ingest"));
  grpc::ClientContext context;  // no deadline
  auto stream = ingest->AppendStream(&context);
  auto start = std::chrono::steady_clock::now();
  v1::AppendResponse response;
  EXPECT_FALSE(stream->Read(&response));  // the server ends it
  EXPECT_FALSE(stream->Finish().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(SecurityTest, OversizedRequestsAndMetadataAreRefused) {
  auto ingest = v1::IngestService::NewStub(Channel("ingest"));
  v1::AppendRequest request;
  v1::AccessEvent event = JournalRead(1, kPatient, "dr-a");
  for (int i = 0; i < 20000; ++i) {
    (*event.mutable_attributes())["k" + std::to_string(i)] = std::string(1000, 'x');
  }
  *request.add_events() = event;  // about 20 MB, over the 16 MiB default
  v1::AppendResponse response;
  EXPECT_EQ(ingest->Append(Context().get(), request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto context = Context();
  context->AddMetadata("x-padding", std::string(64 << 10, 'p'));
  v1::Checkpoint checkpoint;
  auto log = v1::AccessLogService::NewStub(Channel("admin"));
  EXPECT_FALSE(log->GetCheckpoint(context.get(), v1::GetCheckpointRequest(), &checkpoint).ok());
  EXPECT_TRUE(Call(Channel("admin"), "GetCheckpoint").ok());
}

}  // namespace
}  // namespace innsyn
