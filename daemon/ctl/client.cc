#include "daemon/ctl/client.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"

namespace innsyn::ctl {
namespace {

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

}  // namespace

Client::Client(const GlobalOptions& options)
    : server_(options.server),
      timeout_(absl::Seconds(options.timeout_seconds)),
      channel_(grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials())),
      ingest_(v1::IngestService::NewStub(channel_)),
      access_log_(v1::AccessLogService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)) {}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Client::Call(Stub& stub,
                                      grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                   const Request&, Response*),
                                      const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, server_);
  return response;
}

absl::StatusOr<v1::BackupResponse> Client::Backup(const v1::BackupRequest& request) {
  return Call(*admin_, &v1::AdminService::Stub::Backup, request);
}

absl::StatusOr<v1::AppendResponse> Client::Append(const v1::AppendRequest& request) {
  return Call(*ingest_, &v1::IngestService::Stub::Append, request);
}

absl::StatusOr<v1::ListSubjectAccessResponse> Client::ListSubjectAccess(
    const v1::ListSubjectAccessRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::ListSubjectAccess, request);
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

absl::StatusOr<v1::VerifyLedgerResponse> Client::VerifyLedger(
    const v1::VerifyLedgerRequest& request) {
  return Call(*access_log_, &v1::AccessLogService::Stub::VerifyLedger, request);
}

}  // namespace innsyn::ctl
