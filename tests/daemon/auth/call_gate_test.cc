#include "daemon/auth/call_gate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "base/strings.h"
#include "daemon/auth/pki.h"
#include "tests/daemon/auth/handler_server.h"
#include "tests/storage/faulty_disk.h"
#include "tests/support/eventually.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace innsyn::daemon {
namespace {

using ::innsyn::testing::EventuallyCancelled;
using ::innsyn::testing::HandlerServer;
using ::innsyn::testing::IsOk;
using ::innsyn::testing::kOtherCallTimeout;
using ::innsyn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPatient[] = "01017012345";
constexpr char kOtherPatient[] = "02028054321";

// Limits under which a caller may make `burst` calls in a test and no
// more: at one call in about eleven days, no token comes back meanwhile.
CallLimits BurstOnly(double burst) {
  CallLimits limits;
  limits.calls_per_second = 1e-6;
  limits.burst = burst;
  return limits;
}

// innsynd's gate, with the default roles, on a real ledger and real metrics
// in a temporary folder, admitting the calls of a loopback server.
class CallGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LedgerOptions options;
    options.data_dir = dir_.path();
    absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger = storage::Ledger::Open(options);
    ASSERT_THAT(ledger, IsOk());
    ledger_ = *std::move(ledger);
    absl::StatusOr<std::unique_ptr<exporters::Metrics>> metrics = exporters::Metrics::Start("");
    ASSERT_THAT(metrics, IsOk());
    metrics_ = *std::move(metrics);
  }

  // `mtls`: the gate identifies callers by certificate and the server
  // requires one; otherwise both are plaintext, as in development mode.
  void StartGate(CallLimits limits = {}, bool mtls = true) {
    gate_ = std::make_unique<CallGate>(mtls, DefaultRolePermissions(), limits, *ledger_, *metrics_);
    absl::StatusOr<std::unique_ptr<HandlerServer>> server =
        mtls ? HandlerServer::StartWithMtls() : HandlerServer::StartPlaintext();
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  // A channel presenting a certificate for `name` that grants `role`
  // (none if empty).
  std::shared_ptr<grpc::Channel> As(const std::string& name, std::string_view role) {
    std::vector<std::string> uris;
    if (!role.empty()) uris.push_back(StrCat(pki::kRoleUriPrefix, role));
    return server_->Channel(name, uris);
  }

  // Makes a call that is admitted as `method` asking `asked`, as innsyn's
  // handlers admit theirs, and answered with the gate's refusal if any;
  // the caller the gate saw if it admitted the call.
  absl::StatusOr<Caller> Admit(const std::shared_ptr<grpc::Channel>& channel, Method method,
                               const v1::QueryRecord& asked = {},
                               const HandlerServer::Metadata& metadata = {}) {
    auto admitted = std::make_shared<std::promise<Caller>>();
    std::future<Caller> caller = admitted->get_future();
    absl::Status status = server_->Call(
        channel,
        [this, method, asked, admitted](grpc::ServerContext& context) {
          absl::StatusOr<CallGate::Pass> pass = gate_->Admit(context, method, asked);
          if (pass.ok()) admitted->set_value(pass->caller());
          return pass.status();
        },
        metadata);
    if (!status.ok()) return status;
    return caller.get();
  }

  // Makes a call that is admitted as `method` and then runs until it is
  // cancelled; the status its client sees.
  absl::Status AdmitAndRunUntilCancelled(const std::shared_ptr<grpc::Channel>& channel,
                                         Method method) {
    return server_->Call(channel, [this, method](grpc::ServerContext& context) {
      absl::StatusOr<CallGate::Pass> pass = gate_->Admit(context, method);
      if (!pass.ok()) return pass.status();
      if (!EventuallyCancelled(context)) return absl::InternalError("never cancelled");
      return absl::OkStatus();
    });
  }

  // The query records in the ledger, in order.
  std::vector<v1::QueryRecord> RecordedQueries() const {
    absl::StatusOr<std::vector<storage::StoredEntry>> stored =
        ledger_->GetEntries(0, ledger_->Size());
    EXPECT_THAT(stored, IsOk());
    std::vector<v1::QueryRecord> queries;
    for (const storage::StoredEntry& bytes : stored.value_or(std::vector<storage::StoredEntry>{})) {
      v1::LedgerEntry entry;
      entry = bytes.entry;
      if (entry.has_query_record()) queries.push_back(entry.query_record());
    }
    return queries;
  }

  // The exposition line of the refused-calls counter for `reason`.
  static std::string Refused(std::string_view reason, int count) {
    return StrCat("innsyn_calls_refused_total{reason=\"", reason, "\"} ", count, "\n");
  }

  innsyn::testing::TempDir dir_;
  std::unique_ptr<storage::Ledger> ledger_;
  std::unique_ptr<exporters::Metrics> metrics_;
  std::unique_ptr<CallGate> gate_;
  std::unique_ptr<HandlerServer> server_;  // its handlers use the gate
};

v1::QueryRecord AskingAbout(const std::string& subject_id, const std::string& reason = "") {
  v1::QueryRecord asked;
  asked.set_subject_id(subject_id);
  asked.set_reason(reason);
  return asked;
}

TEST_F(CallGateTest, ACallOutsideTheCallersRoleIsDeniedNamingRoleAndMethod) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  EXPECT_THAT(Admit(As("auditor-datatilsynet", kAuditorRole), Method::kGetEntries),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("role auditor may not call GetEntries")));
}

TEST_F(CallGateTest, ADeniedCallIsRecordedInTheLedgerWithWhoAskedWhatAndWhy) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  ASSERT_THAT(Admit(As("auditor-datatilsynet", kAuditorRole), Method::kListSubjectAccess,
                    AskingAbout(kPatient, "checking a complaint")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  std::vector<v1::QueryRecord> queries = RecordedQueries();
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].caller(), "auditor-datatilsynet");
  EXPECT_EQ(queries[0].caller_role(), "auditor");
  EXPECT_EQ(queries[0].method(), "ListSubjectAccess");
  EXPECT_EQ(queries[0].subject_id(), kPatient);
  EXPECT_EQ(queries[0].reason(), "checking a complaint");
  EXPECT_TRUE(queries[0].denied());
}

// The same gate on a ledger whose disk holds every fsync until the test
// lets it go.
class CallGateOnAHeldDiskTest : public CallGateTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<storage::Ledger>> ledger =
        storage::Ledger::Open(on_disk_.options);
    ASSERT_THAT(ledger, IsOk());
    ledger_ = *std::move(ledger);
    absl::StatusOr<std::unique_ptr<exporters::Metrics>> metrics = exporters::Metrics::Start("");
    ASSERT_THAT(metrics, IsOk());
    metrics_ = *std::move(metrics);
  }
  void TearDown() override {
    on_disk_.disk->fault = testing::Fault::kNone;
    on_disk_.disk->ReleaseSyncs();
    server_.reset();
    gate_.reset();
    ledger_.reset();  // before the disk it is on
  }
  testing::OnFaultyDisk on_disk_;
};

// A handler on gRPC's callback API, whose few threads serve every such call,
// must not wait for the ledger: a call denied by AdmitWithoutWaiting is
// refused while the ledger's fsync is still held, and its record is written
// once the disk lets it.
TEST_F(CallGateOnAHeldDiskTest, ACallDeniedWithoutWaitingIsRefusedAtOnceAndRecordedAfter) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  on_disk_.disk->fault = testing::Fault::kHeldSync;
  std::future<absl::Status> denied =
      server_->CallInBackground(As("auditor-datatilsynet", kAuditorRole), [this](auto& context) {
        return gate_->AdmitWithoutWaiting(context, Method::kAppend).status();
      });
  ASSERT_EQ(denied.wait_for(absl::ToChronoSeconds(kOtherCallTimeout)), std::future_status::ready)
      << "the denied call waited for the ledger's fsync";
  EXPECT_THAT(denied.get(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("may not call Append")));
  EXPECT_EQ(ledger_->Size(), 0u);  // its record waits for the disk
  on_disk_.disk->fault = testing::Fault::kNone;
  on_disk_.disk->ReleaseSyncs();
  ASSERT_TRUE(testing::Eventually([&] { return ledger_->Size() == 1; }));
  std::vector<v1::QueryRecord> queries = RecordedQueries();
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].caller(), "auditor-datatilsynet");
  EXPECT_EQ(queries[0].method(), "Append");
  EXPECT_TRUE(queries[0].denied());
}

TEST_F(CallGateTest, ADeniedCallIsCountedAsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  ASSERT_THAT(Admit(As("auditor-datatilsynet", kAuditorRole), Method::kGetEntries),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(metrics_->Scrape(), HasSubstr(Refused("permission_denied", 1)));
}

TEST_F(CallGateTest, ACallWithinTheCallersRoleIsAdmittedAsItsCertificateNamesIt) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  absl::StatusOr<Caller> caller =
      Admit(As("controller-personvern", kControllerRole), Method::kGetEntries);
  ASSERT_THAT(caller, IsOk());
  EXPECT_EQ(caller->identity, "controller-personvern");
  EXPECT_EQ(caller->role, kControllerRole);
  // What an admitted call asked and got is its handler's to record.
  EXPECT_EQ(ledger_->Size(), 0u);
}

TEST_F(CallGateTest, ACertificateThatNamesNoRoleMayCallNothingAndItsCallsAreRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  EXPECT_THAT(Admit(As("stray-client", ""), Method::kGetCheckpoint),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("the certificate of stray-client names no role")));
  std::vector<v1::QueryRecord> queries = RecordedQueries();
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].caller(), "stray-client");
  EXPECT_EQ(queries[0].caller_role(), "");
  EXPECT_EQ(queries[0].method(), "GetCheckpoint");
  EXPECT_TRUE(queries[0].denied());
}

TEST_F(CallGateTest, APortalAskingAboutAnyoneButThePatientItActsForIsDenied) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  std::shared_ptr<grpc::Channel> portal = As("portal-helsenorge", kPortalRole);
  EXPECT_THAT(Admit(portal, Method::kListSubjectAccess, AskingAbout(kPatient),
                    {{kActingForMetadata, kOtherPatient}}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kActingForMetadata)));
  // Naming no patient is no better.
  EXPECT_THAT(Admit(portal, Method::kListSubjectAccess, AskingAbout(kPatient)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kActingForMetadata)));
  std::vector<v1::QueryRecord> queries = RecordedQueries();
  ASSERT_EQ(queries.size(), 2u);
  for (const v1::QueryRecord& query : queries) {
    EXPECT_EQ(query.caller(), "portal-helsenorge");
    EXPECT_EQ(query.subject_id(), kPatient);
    EXPECT_TRUE(query.denied());
  }
}

TEST_F(CallGateTest, APortalAskingAboutThePatientItActsForIsAdmitted) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  EXPECT_THAT(Admit(As("portal-helsenorge", kPortalRole), Method::kListSubjectAccess,
                    AskingAbout(kPatient), {{kActingForMetadata, kPatient}}),
              IsOk());
  EXPECT_THAT(Admit(As("portal-helsenorge", kPortalRole), Method::kCreateReport,
                    AskingAbout(kPatient), {{kActingForMetadata, kPatient}}),
              IsOk());
}

TEST_F(CallGateTest, APortalReportAboutAnotherPatientIsDenied) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  EXPECT_THAT(Admit(As("portal-helsenorge", kPortalRole), Method::kCreateReport,
                    AskingAbout(kOtherPatient), {{kActingForMetadata, kPatient}}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(kActingForMetadata)));
  std::vector<v1::QueryRecord> queries = RecordedQueries();
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].method(), "CreateReport");
  EXPECT_TRUE(queries[0].denied());
}

TEST_F(CallGateTest, ACallerPastItsBurstIsRateLimitedByCertificateName) {
  ASSERT_NO_FATAL_FAILURE(StartGate(BurstOnly(2)));
  std::shared_ptr<grpc::Channel> dips = As("ingest-dips", kIngestRole);
  EXPECT_THAT(Admit(dips, Method::kAppend), IsOk());
  EXPECT_THAT(Admit(dips, Method::kAppend), IsOk());
  EXPECT_THAT(Admit(dips, Method::kAppend),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("rate limit: ingest-dips")));
  // The bucket is the name's, not the connection's.
  EXPECT_THAT(Admit(As("ingest-dips", kIngestRole), Method::kAppend),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Admit(As("ingest-lab", kIngestRole), Method::kAppend), IsOk());
  EXPECT_THAT(metrics_->Scrape(), HasSubstr(Refused("rate_limited", 2)));
}

TEST_F(CallGateTest, RateLimitedCallsAreNotRecordedSoThatNoCallerCanFloodTheLedger) {
  ASSERT_NO_FATAL_FAILURE(StartGate(BurstOnly(1)));
  std::shared_ptr<grpc::Channel> auditor = As("auditor-datatilsynet", kAuditorRole);
  EXPECT_THAT(Admit(auditor, Method::kGetEntries), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Admit(auditor, Method::kGetEntries), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(RecordedQueries().size(), 1u);
}

TEST_F(CallGateTest, EachChargedBatchOfAStreamTakesFromItsCallersRateLimit) {
  ASSERT_NO_FATAL_FAILURE(StartGate(BurstOnly(2)));
  EXPECT_THAT(server_->Call(As("ingest-dips", kIngestRole),
                            [this](grpc::ServerContext& context) -> absl::Status {
                              absl::StatusOr<CallGate::Pass> pass =
                                  gate_->Admit(context, Method::kAppendStream);
                              if (!pass.ok()) return pass.status();
                              EXPECT_THAT(gate_->ChargeCall(*pass), IsOk());
                              return gate_->ChargeCall(*pass);
                            }),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("rate limit")));
}

TEST_F(CallGateTest, ACallerMayHoldNoMoreStreamsThanItsLimitUntilOneEnds) {
  CallLimits limits;
  limits.max_streams_per_client = 1;
  ASSERT_NO_FATAL_FAILURE(StartGate(limits));
  std::shared_ptr<grpc::Channel> dips = As("ingest-dips", kIngestRole);
  absl::Notification holding, checked;
  std::future<absl::Status> held =
      server_->CallInBackground(dips, [&](grpc::ServerContext& context) {
        absl::StatusOr<CallGate::Pass> pass = gate_->Admit(context, Method::kAppendStream);
        holding.Notify();
        checked.WaitForNotificationWithTimeout(kOtherCallTimeout);
        return pass.status();
      });
  ASSERT_TRUE(holding.WaitForNotificationWithTimeout(kOtherCallTimeout));
  EXPECT_THAT(
      Admit(dips, Method::kAppendStream),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("ingest-dips has 1 streams open")));
  EXPECT_THAT(Admit(dips, Method::kAppend), IsOk());  // a unary call holds no stream
  EXPECT_THAT(Admit(As("ingest-lab", kIngestRole), Method::kAppendStream), IsOk());
  checked.Notify();
  EXPECT_THAT(held.get(), IsOk());
  EXPECT_THAT(Admit(dips, Method::kAppendStream), IsOk());
  EXPECT_THAT(metrics_->Scrape(), HasSubstr(Refused("too_many_streams", 1)));
}

TEST_F(CallGateTest, AnAdmittedCallIsCancelledOnceItOutlivesMaxCallDuration) {
  CallLimits limits;
  limits.max_call_duration = absl::ZeroDuration();
  ASSERT_NO_FATAL_FAILURE(StartGate(limits));
  EXPECT_THAT(
      AdmitAndRunUntilCancelled(As("controller-personvern", kControllerRole), Method::kGetEntries),
      StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(CallGateTest, AnAdmittedStreamIsCancelledOnceItOutlivesMaxStreamDuration) {
  CallLimits limits;
  limits.max_stream_duration = absl::ZeroDuration();
  ASSERT_NO_FATAL_FAILURE(StartGate(limits));
  EXPECT_THAT(AdmitAndRunUntilCancelled(As("ingest-dips", kIngestRole), Method::kAppendStream),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(CallGateTest, WithoutTlsEveryCallerIsLocalAndMayCallEveryMethod) {
  ASSERT_NO_FATAL_FAILURE(StartGate({}, /*mtls=*/false));
  std::shared_ptr<grpc::Channel> channel = server_->Channel();
  for (size_t i = 0; i < kMethodCount; ++i) {
    absl::StatusOr<Caller> caller = Admit(channel, static_cast<Method>(i));
    ASSERT_THAT(caller, IsOk()) << MethodName(static_cast<Method>(i));
    EXPECT_EQ(caller->role, kLocalRole);
    EXPECT_THAT(caller->identity, HasSubstr("127.0.0.1:"));  // the peer's address
  }
  EXPECT_EQ(ledger_->Size(), 0u);
}

TEST_F(CallGateTest, WithTlsACallWithoutAClientCertificateIsUnauthenticated) {
  // innsynd's handshake refuses such a client before any handler runs; the
  // gate guards a server built without that requirement, as this plaintext
  // one is.
  ASSERT_NO_FATAL_FAILURE(StartGate({}, /*mtls=*/false));
  CallGate requires_certificate(/*mtls=*/true, DefaultRolePermissions(), {}, *ledger_, *metrics_);
  EXPECT_THAT(
      server_->Call(server_->Channel(),
                    [&](grpc::ServerContext& context) {
                      return requires_certificate.Admit(context, Method::kGetCheckpoint).status();
                    }),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("client certificate")));
  EXPECT_EQ(ledger_->Size(), 0u);
  EXPECT_THAT(metrics_->Scrape(), HasSubstr(Refused("unauthenticated", 1)));
}

TEST_F(CallGateTest, DrainingRefusesNewCallsAsUnavailableAndWaitsForThoseInFlight) {
  ASSERT_NO_FATAL_FAILURE(StartGate({}, /*mtls=*/false));
  std::shared_ptr<grpc::Channel> channel = server_->Channel();
  absl::Notification admitted;
  absl::Notification finish;
  std::future<absl::Status> in_flight =
      server_->CallInBackground(channel, [&](grpc::ServerContext& context) {
        absl::StatusOr<CallGate::Pass> pass = gate_->Admit(context, Method::kAppend);
        admitted.Notify();
        if (!finish.WaitForNotificationWithTimeout(kOtherCallTimeout)) {
          return absl::InternalError("never told to finish");
        }
        return pass.status();
      });
  ASSERT_TRUE(admitted.WaitForNotificationWithTimeout(kOtherCallTimeout));
  // The call in flight holds the drain up for as long as it runs.
  EXPECT_FALSE(gate_->Drain(absl::Milliseconds(50)));
  EXPECT_TRUE(gate_->draining());
  EXPECT_THAT(Admit(channel, Method::kAppend),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
  EXPECT_THAT(metrics_->Scrape(), HasSubstr(Refused("shutting_down", 1)));
  finish.Notify();
  EXPECT_THAT(in_flight.get(), IsOk());
  EXPECT_TRUE(gate_->Drain(kOtherCallTimeout));
}

TEST_F(CallGateTest, RefusedCallsDoNotCountAsInFlight) {
  ASSERT_NO_FATAL_FAILURE(StartGate());
  EXPECT_THAT(Admit(As("auditor-1", kAuditorRole), Method::kGetEntries),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(gate_->Drain(absl::ZeroDuration()));
}

}  // namespace
}  // namespace innsyn::daemon
