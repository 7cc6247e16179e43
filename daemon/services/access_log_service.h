// innsyn.v1.AccessLogService: who accessed a subject's data, what an actor
// did, raw entries, checkpoints, proofs and verification. Every call that
// returns entry contents is first recorded in the ledger as a QueryRecord
// (who asked about whom, and why); if that record cannot be made durable
// the call fails and returns nothing. Every call passes the CallGate first;
// a portal's answers are minimised (portal_view.h) and carry no entry bytes.
// With anomaly detection on, each access in a subject's list carries the
// detectors' explanation of why it was expected, from the subject's own
// history (appointments, treatment, consents).
// Thread-safe; borrows the ledger, metrics and gate, which must outlive it.
#ifndef INNSYN_DAEMON_SERVICES_ACCESS_LOG_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_ACCESS_LOG_SERVICE_H_

#include <functional>

#include "daemon/alerts/alert_monitor.h"
#include "daemon/auth/call_gate.h"
#include "exporters/metrics.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class AccessLogService final : public v1::AccessLogService::Service {
 public:
  // `monitor` (may be null: no explanations) gives the detection settings.
  AccessLogService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate,
                   const AlertMonitor* monitor = nullptr)
      : ledger_(ledger), metrics_(metrics), gate_(gate), monitor_(monitor) {}

  grpc::Status ListSubjectAccess(grpc::ServerContext* context,
                                 const v1::ListSubjectAccessRequest* request,
                                 v1::ListSubjectAccessResponse* response) override;
  grpc::Status ListActorActivity(grpc::ServerContext* context,
                                 const v1::ListActorActivityRequest* request,
                                 v1::ListActorActivityResponse* response) override;
  grpc::Status GetSubjectProof(grpc::ServerContext* context,
                               const v1::GetSubjectProofRequest* request,
                               v1::GetSubjectProofResponse* response) override;
  grpc::Status GetEntries(grpc::ServerContext* context, const v1::GetEntriesRequest* request,
                          v1::GetEntriesResponse* response) override;
  grpc::Status GetLeafHashes(grpc::ServerContext* context, const v1::GetLeafHashesRequest* request,
                             v1::GetLeafHashesResponse* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                             v1::Checkpoint* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::ConsistencyProof* response) override;
  grpc::Status VerifyLedger(grpc::ServerContext* context, const v1::VerifyLedgerRequest* request,
                            v1::VerifyLedgerResponse* response) override;

  // ListSubjectAccess for a caller that `admit` lets in: for another
  // listener (daemon/http's FHIR search), which identifies its callers
  // itself. The same checks, query record and answer as over gRPC.
  absl::Status ListSubjectAccessFor(const Admission& admit,
                                    const v1::ListSubjectAccessRequest& request,
                                    v1::ListSubjectAccessResponse& response);
  // ListActorActivity, likewise (the console's staff activity page).
  absl::Status ListActorActivityFor(const Admission& admit,
                                    const v1::ListActorActivityRequest& request,
                                    v1::ListActorActivityResponse& response);

 private:
  // The handlers' bodies. Each returns the one status its handler converts
  // for gRPC, and holds the caller's CallGate::Pass until it returns.
  absl::Status DoListSubjectAccess(grpc::ServerContext& context,
                                   const v1::ListSubjectAccessRequest& request,
                                   v1::ListSubjectAccessResponse& response);
  absl::Status DoGetSubjectProof(grpc::ServerContext& context,
                                 const v1::GetSubjectProofRequest& request,
                                 v1::GetSubjectProofResponse& response);
  absl::Status DoGetEntries(grpc::ServerContext& context, const v1::GetEntriesRequest& request,
                            v1::GetEntriesResponse& response);
  absl::Status DoGetLeafHashes(grpc::ServerContext& context,
                               const v1::GetLeafHashesRequest& request,
                               v1::GetLeafHashesResponse& response);
  absl::Status DoGetCheckpoint(grpc::ServerContext& context,
                               const v1::GetCheckpointRequest& request, v1::Checkpoint& response);
  absl::Status DoGetInclusionProof(grpc::ServerContext& context,
                                   const v1::GetInclusionProofRequest& request,
                                   v1::InclusionProof& response);
  absl::Status DoGetConsistencyProof(grpc::ServerContext& context,
                                     const v1::GetConsistencyProofRequest& request,
                                     v1::ConsistencyProof& response);
  absl::Status DoVerifyLedger(grpc::ServerContext& context, const v1::VerifyLedgerRequest& request,
                              v1::VerifyLedgerResponse& response);

  template <typename Request, typename Response>
  absl::Status ListIndexed(
      const Admission& admit, Method method, const Request& request,
      const absl::StatusOr<storage::IndexQuery>& query,
      absl::StatusOr<storage::IndexPage> (storage::Ledger::*list)(const storage::IndexQuery&) const,
      absl::StatusOr<storage::HistoryProof> (storage::Ledger::*prove)(std::string_view, uint64_t)
          const,
      v1::QueryRecord record, Response& response);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  CallGate& gate_;
  const AlertMonitor* monitor_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_ACCESS_LOG_SERVICE_H_
