// innsyn.v1.AlertService: the alerts the anomaly detectors raised, their
// triage, and a stream of changes. Listing and watching are recorded in the
// ledger as QueryRecords (alerts name actors and patients); a decision is
// itself an AlertDecision entry naming who decided, appended before the
// call answers. Every call passes the CallGate first.
// Thread-safe; borrows the ledger, metrics, gate and book, which must
// outlive it.
#ifndef INNSYN_DAEMON_SERVICES_ALERT_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_ALERT_SERVICE_H_

#include <atomic>

#include "daemon/alerts/alert_book.h"
#include "daemon/auth/call_gate.h"
#include "exporters/metrics.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class AlertService final : public v1::AlertService::Service {
 public:
  AlertService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate,
               const AlertBook& book)
      : ledger_(ledger), metrics_(metrics), gate_(gate), book_(book) {}

  grpc::Status ListAlerts(grpc::ServerContext* context, const v1::ListAlertsRequest* request,
                          v1::ListAlertsResponse* response) override;
  grpc::Status WatchAlerts(grpc::ServerContext* context, const v1::WatchAlertsRequest* request,
                           grpc::ServerWriter<v1::AlertUpdate>* writer) override;
  grpc::Status UpdateAlert(grpc::ServerContext* context, const v1::UpdateAlertRequest* request,
                           v1::UpdateAlertResponse* response) override;

  // Ends open watches (innsynd is stopping).
  void Stop() { stopping_ = true; }

  // ListAlerts and UpdateAlert for a caller that `admit` lets in (the
  // console): the same checks, records and answers as over gRPC. Each
  // holds the caller's CallGate::Pass until it returns.
  absl::Status ListAlertsFor(const Admission& admit, const v1::ListAlertsRequest& request,
                             v1::ListAlertsResponse& response);
  absl::Status UpdateAlertFor(const Admission& admit, const v1::UpdateAlertRequest& request,
                              v1::UpdateAlertResponse& response);

 private:
  // The handlers' bodies. Each returns the one status its handler converts
  // for gRPC, and holds the caller's CallGate::Pass until it returns.
  absl::Status DoWatchAlerts(grpc::ServerContext& context, const v1::WatchAlertsRequest& request,
                             grpc::ServerWriter<v1::AlertUpdate>& writer);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  CallGate& gate_;
  const AlertBook& book_;
  std::atomic<bool> stopping_{false};
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_ALERT_SERVICE_H_
