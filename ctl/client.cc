#include "ctl/client.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace innsyn::ctl {
namespace {

constexpr int kMaxReceiveBytes = 256 << 20;
constexpr int kMaxReconnectBackoffMillis = 5000;

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& server) {
  if (status.ok()) return absl::OkStatus();
  // absl and gRPC share the canonical code numbers.
  auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  // "failed to connect to all addresses" alone does not say which address.
  if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
    absl::StrAppend(&message, " (server ", server, ")");
  }
  return absl::Status(code, message);
}

absl::Status ReadPem(const std::string& flag, const std::string& path, std::string& out) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  }
  out = text.str();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(
    const GlobalOptions& options) {
  if (options.tls_ca.empty()) {
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key need --tls-ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  grpc::SslCredentialsOptions ssl;
  for (auto [flag, path, out] : {std::tuple{"--tls-ca", &options.tls_ca, &ssl.pem_root_certs},
                                 {"--tls-cert", &options.tls_cert, &ssl.pem_cert_chain},
                                 {"--tls-key", &options.tls_key, &ssl.pem_private_key}}) {
    if (absl::Status s = ReadPem(flag, *path, *out); !s.ok()) return s;
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

Client::Client(const GlobalOptions& options)
    : server_(options.server),
      timeout_(absl::Seconds(options.timeout_seconds)),
      acting_for_(options.acting_for) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MakeCredentials(options);
  if (!credentials.ok()) {
    setup_ = credentials.status();
    credentials = grpc::InsecureChannelCredentials();  // never used: every call fails first
  }
  // A report of a long history, with its proofs, is larger than gRPC's
  // default 4 MiB.
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  // `forward` outlives innsynd's restarts: reconnect within seconds of its
  // return, not after gRPC's default backoff of up to two minutes.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMillis);
  channel_ = grpc::CreateCustomChannel(options.server, *credentials, arguments);
  ingest_ = v1::IngestService::NewStub(channel_);
  access_log_ = v1::AccessLogService::NewStub(channel_);
  admin_ = v1::AdminService::NewStub(channel_);
  alerts_ = v1::AlertService::NewStub(channel_);
  reports_ = v1::ReportService::NewStub(channel_);
}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Client::Call(Stub& stub,
                                      grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                   const Request&, Response*),
                                      const Request& request) {
  if (!setup_.ok()) return setup_;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  if (!acting_for_.empty()) context.AddMetadata("innsyn-acting-for", acting_for_);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, server_);
  return response;
}

absl::StatusOr<v1::BackupResponse> Client::Backup(const v1::BackupRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::Backup, request);
}

absl::StatusOr<v1::GetStatusResponse> Client::GetStatus(const v1::GetStatusRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::GetStatus, request);
}

absl::StatusOr<v1::EraseResponse> Client::Erase(const v1::EraseRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::Erase, request);
}

absl::StatusOr<v1::ImportBaselineResponse> Client::ImportBaseline(
    const v1::ImportBaselineRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::ImportBaseline, request);
}

absl::StatusOr<v1::PseudonymizeResponse> Client::Pseudonymize(
    const v1::PseudonymizeRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::Pseudonymize, request);
}

absl::StatusOr<v1::CreateReportResponse> Client::CreateReport(
    const v1::CreateReportRequest& request) {
  return Call(*reports_, &v1::ReportService::Stub::CreateReport, request);
}

absl::StatusOr<v1::AppendResponse> Client::Append(const v1::AppendRequest& request) {
  return Call(*ingest_, &v1::IngestService::Stub::Append, request);
}

absl::StatusOr<v1::ListSubjectAccessResponse> Client::ListSubjectAccess(
    const v1::ListSubjectAccessRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::ListSubjectAccess, request);
}

absl::StatusOr<v1::GetSubjectProofResponse> Client::GetSubjectProof(
    const v1::GetSubjectProofRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetSubjectProof, request);
}

absl::StatusOr<v1::ListActorActivityResponse> Client::ListActorActivity(
    const v1::ListActorActivityRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::ListActorActivity, request);
}

absl::StatusOr<v1::GetEntriesResponse> Client::GetEntries(const v1::GetEntriesRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetEntries, request);
}

absl::StatusOr<v1::Checkpoint> Client::GetCheckpoint(const v1::GetCheckpointRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetCheckpoint, request);
}

absl::StatusOr<v1::InclusionProof> Client::GetInclusionProof(
    const v1::GetInclusionProofRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetInclusionProof, request);
}

absl::StatusOr<v1::ConsistencyProof> Client::GetConsistencyProof(
    const v1::GetConsistencyProofRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetConsistencyProof, request);
}

absl::StatusOr<v1::GetLeafHashesResponse> Client::GetLeafHashes(
    const v1::GetLeafHashesRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::GetLeafHashes, request);
}

absl::StatusOr<v1::ListAlertsResponse> Client::ListAlerts(const v1::ListAlertsRequest& request) {
  return Call(*alerts_, &v1::AlertService::Stub::ListAlerts, request);
}

absl::StatusOr<v1::UpdateAlertResponse> Client::UpdateAlert(const v1::UpdateAlertRequest& request) {
  return Call(*alerts_, &v1::AlertService::Stub::UpdateAlert, request);
}

absl::Status Client::WatchAlerts(const v1::WatchAlertsRequest& request,
                                 const std::function<bool(const v1::AlertUpdate&)>& on_update) {
  if (!setup_.ok()) return setup_;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::AlertUpdate>> reader =
      alerts_->WatchAlerts(&context, request);
  v1::AlertUpdate update;
  while (reader->Read(&update)) {
    if (!on_update(update)) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return FromGrpcStatus(status, server_);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::VerifyLedgerResponse> Client::VerifyLedger(
    const v1::VerifyLedgerRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::VerifyLedger, request);
}

}  // namespace innsyn::ctl
