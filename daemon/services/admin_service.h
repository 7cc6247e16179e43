// AdminService: operations on the running daemon (online backup, status,
// erasure, the import at go-live, pseudonyms for the roster).
// Backups go only into the configured folder, never to a path a caller
// names. Every call passes the CallGate first.
// Thread-safe; the ledger, metrics and gate must outlive the service.
#ifndef INNSYN_DAEMON_SERVICES_ADMIN_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_ADMIN_SERVICE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "daemon/alerts/alert_monitor.h"
#include "daemon/auth/call_gate.h"
#include "exporters/metrics.h"
#include "innsyn/v1/admin.grpc.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class AdminService final : public v1::AdminService::Service {
 public:
  // `monitor` (borrowed) reports detection's lag; null: detection is not run.
  AdminService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate,
               const AlertMonitor* monitor, std::string backup_dir, uint32_t backup_keep);

  // On reload.
  void SetBackupSettings(std::string backup_dir, uint32_t backup_keep);

  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      v1::BackupResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status Erase(grpc::ServerContext* context, const v1::EraseRequest* request,
                     v1::EraseResponse* response) override;
  grpc::Status ImportBaseline(grpc::ServerContext* context,
                              const v1::ImportBaselineRequest* request,
                              v1::ImportBaselineResponse* response) override;
  grpc::Status Pseudonymize(grpc::ServerContext* context, const v1::PseudonymizeRequest* request,
                            v1::PseudonymizeResponse* response) override;

  // GetStatus for a caller that `admit` lets in (the console's health page).
  absl::Status GetStatusFor(const Admission& admit, v1::GetStatusResponse& response);

 private:
  // Backup's body: the one status it converts for gRPC.
  absl::Status DoBackup(grpc::ServerContext& context, v1::BackupResponse& response);
  absl::Status DoErase(grpc::ServerContext& context, const v1::EraseRequest& request,
                       v1::EraseResponse& response);
  absl::Status DoImportBaseline(grpc::ServerContext& context,
                                const v1::ImportBaselineRequest& request,
                                v1::ImportBaselineResponse& response);
  absl::Status DoPseudonymize(grpc::ServerContext& context, const v1::PseudonymizeRequest& request,
                              v1::PseudonymizeResponse& response);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  CallGate& gate_;
  const AlertMonitor* const monitor_;
  absl::Mutex mu_;
  std::string backup_dir_ ABSL_GUARDED_BY(mu_);
  uint32_t backup_keep_ ABSL_GUARDED_BY(mu_);
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_ADMIN_SERVICE_H_
