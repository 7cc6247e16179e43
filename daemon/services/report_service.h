// innsyn.v1.ReportService: the innsyn report a patient receives, as a PDF,
// FHIR AuditEvents or the signed machine-readable answer (report/). Making
// one is a query: it is recorded in the ledger as a QueryRecord with its
// reason before the answer is signed, and the answer proves that record
// too. The controller may ask about anyone; a portal only about the
// patient it acts for. The events are shown as the portal shows them
// (portal_view.h) to every caller: a report leaves the clinic.
// Thread-safe; borrows the ledger, metrics, gate and monitor.
#ifndef INNSYN_DAEMON_SERVICES_REPORT_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_REPORT_SERVICE_H_

#include "daemon/alerts/alert_monitor.h"
#include "daemon/auth/call_gate.h"
#include "exporters/metrics.h"
#include "innsyn/v1/report.grpc.pb.h"
#include "report/answer.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class ReportService final : public v1::ReportService::Service {
 public:
  // `monitor` (may be null: no explanations) gives the detection settings.
  ReportService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate,
                const AlertMonitor* monitor, report::ReportSettings settings,
                storage::RetentionPolicy retention)
      : ledger_(ledger),
        metrics_(metrics),
        gate_(gate),
        monitor_(monitor),
        settings_(std::move(settings)),
        retention_(std::move(retention)) {}

  grpc::Status CreateReport(grpc::ServerContext* context, const v1::CreateReportRequest* request,
                            v1::CreateReportResponse* response) override;

  // CreateReport for a caller that `admit` lets in (the console): the same
  // checks, query record and document as over gRPC.
  absl::Status CreateReportFor(const Admission& admit, const v1::CreateReportRequest& request,
                               v1::CreateReportResponse& response);

 private:
  // The subject's entries in the query's period, as of its tree, explained,
  // oldest first.
  absl::StatusOr<google::protobuf::RepeatedPtrField<v1::RecordedEntry>> Collect(
      storage::IndexQuery query) const;
  // Rows with their proofs in the tree of `tree_size`, shown as a patient sees them.
  absl::Status AddRows(const google::protobuf::RepeatedPtrField<v1::RecordedEntry>& entries,
                       uint64_t tree_size, v1::InnsynAnswer& answer) const;

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  CallGate& gate_;
  const AlertMonitor* monitor_;
  const report::ReportSettings settings_;
  const storage::RetentionPolicy retention_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_REPORT_SERVICE_H_
