// A connection to innsynd: one channel with the ingest and access-log stubs.
// Every call carries the deadline from --timeout and returns an absl::Status
// with the gRPC code and message unchanged (the two share code numbers), so
// that the user sees exactly what the server said.
// Not thread-safe to construct; calls may be made from any thread.
#ifndef INNSYN_CTL_CLIENT_H_
#define INNSYN_CTL_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/command.h"
#include "innsyn/v1/admin.grpc.pb.h"
#include "innsyn/v1/report.grpc.pb.h"
#include "innsyn/v1/service.grpc.pb.h"

namespace innsyn::ctl {

class Client {
 public:
  // Connects lazily: a server that is down shows up as UNAVAILABLE on the
  // first call, not here. TLS if options.tls_ca is set (with a client
  // certificate if tls_cert and tls_key are); otherwise plaintext. Files that
  // cannot be read make every call fail with that reason.
  explicit Client(const GlobalOptions& options);

  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);
  absl::StatusOr<v1::ListSubjectAccessResponse> ListSubjectAccess(
      const v1::ListSubjectAccessRequest& request);
  absl::StatusOr<v1::ListActorActivityResponse> ListActorActivity(
      const v1::ListActorActivityRequest& request);
  absl::StatusOr<v1::GetSubjectProofResponse> GetSubjectProof(
      const v1::GetSubjectProofRequest& request);
  absl::StatusOr<v1::GetEntriesResponse> GetEntries(const v1::GetEntriesRequest& request);
  absl::StatusOr<v1::Checkpoint> GetCheckpoint(const v1::GetCheckpointRequest& request);
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(const v1::GetInclusionProofRequest& request);
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(
      const v1::GetConsistencyProofRequest& request);
  absl::StatusOr<v1::VerifyLedgerResponse> VerifyLedger(const v1::VerifyLedgerRequest& request);
  absl::StatusOr<v1::BackupResponse> Backup(const v1::BackupRequest& request);
  absl::StatusOr<v1::GetStatusResponse> GetStatus(const v1::GetStatusRequest& request);
  absl::StatusOr<v1::EraseResponse> Erase(const v1::EraseRequest& request);
  absl::StatusOr<v1::ImportBaselineResponse> ImportBaseline(
      const v1::ImportBaselineRequest& request);
  absl::StatusOr<v1::PseudonymizeResponse> Pseudonymize(const v1::PseudonymizeRequest& request);
  absl::StatusOr<v1::CreateReportResponse> CreateReport(const v1::CreateReportRequest& request);
  absl::StatusOr<v1::GetLeafHashesResponse> GetLeafHashes(const v1::GetLeafHashesRequest& request);
  absl::StatusOr<v1::ListAlertsResponse> ListAlerts(const v1::ListAlertsRequest& request);
  absl::StatusOr<v1::UpdateAlertResponse> UpdateAlert(const v1::UpdateAlertRequest& request);
  // Streams alert changes to `on_update` until the server ends the stream
  // or `on_update` returns false; no deadline (a watch runs until stopped).
  absl::Status WatchAlerts(const v1::WatchAlertsRequest& request,
                           const std::function<bool(const v1::AlertUpdate&)>& on_update);

 private:
  // Runs one unary call on `stub` with a fresh context and deadline.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request);

  std::string server_;
  absl::Duration timeout_;
  std::string acting_for_;
  absl::Status setup_;  // why the channel could not be made, if it could not
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::AccessLogService::Stub> access_log_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::AlertService::Stub> alerts_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
};

}  // namespace innsyn::ctl

#endif  // INNSYN_CTL_CLIENT_H_
