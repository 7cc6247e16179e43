#include "daemon/services/admin_service.h"

#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/ops/log.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/validation.h"
#include "storage/hash.h"

namespace innsyn::daemon {
namespace {

// How long an erasure waits for anomaly detection to catch up.
constexpr absl::Duration kEraseWaitForDetection = absl::Seconds(10);
// Most subject ids one Pseudonymize call takes: a roster's worth.
constexpr int kMaxPseudonymsPerCall = 1000;

}  // namespace

AdminService::AdminService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate,
                           const AlertMonitor* monitor, std::string backup_dir,
                           uint32_t backup_keep)
    : ledger_(ledger), metrics_(metrics), gate_(gate), monitor_(monitor) {
  SetBackupSettings(std::move(backup_dir), backup_keep);
  // The age of the newest backup survives restarts, so that an alert on it
  // does not start from zero each time.
  absl::MutexLock lock(&mu_);
  if (backup_dir_.empty()) return;
  absl::StatusOr<std::vector<storage::Ledger::BackupInfo>> backups =
      storage::Ledger::ListBackups(backup_dir_);
  if (backups.ok() && !backups->empty()) {
    metrics_.BackupFinished(true, absl::FromUnixSeconds(backups->back().unix_seconds),
                            backups->back().bytes);
  }
}

void AdminService::SetBackupSettings(std::string backup_dir, uint32_t backup_keep) {
  absl::MutexLock lock(&mu_);
  backup_dir_ = std::move(backup_dir);
  backup_keep_ = backup_keep;
}

grpc::Status AdminService::Backup(grpc::ServerContext* context, const v1::BackupRequest*,
                                  v1::BackupResponse* response) {
  return ToGrpcStatus(DoBackup(*context, *response));
}

absl::Status AdminService::DoBackup(grpc::ServerContext& context, v1::BackupResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kBackup));
  std::string backup_dir;
  uint32_t keep = 0;
  {
    absl::MutexLock lock(&mu_);
    backup_dir = backup_dir_;
    keep = backup_keep_;
  }
  if (backup_dir.empty()) {
    return absl::FailedPreconditionError(
        "no backup_dir is configured; set backup_dir in innsynd.toml");
  }
  const absl::Time start = Now();
  absl::StatusOr<storage::Ledger::BackupInfo> info = ledger_.Backup(backup_dir, keep);
  const absl::Time end = Now();
  metrics_.BackupFinished(info.ok(), end, info.ok() ? info->bytes : 0);
  if (!info.ok()) {
    LogError("backup into ", backup_dir, " failed: ", info.status().ToString());
    return info.status();
  }
  LogInfo("backup ", info->backup_id, " into ", backup_dir, ": ", info->entries, " entries, ",
          info->bytes, " bytes in ", absl::FormatDuration(end - start));
  response.set_backup_id(info->backup_id);
  response.set_backup_dir(backup_dir);
  response.set_entries(info->entries);
  response.set_bytes(info->bytes);
  response.mutable_taken_at()->set_seconds(info->unix_seconds);
  response.set_seconds(absl::ToDoubleSeconds(end - start));
  if (std::optional<v1::Checkpoint> checkpoint = ledger_.LatestStoredCheckpoint()) {
    *response.mutable_checkpoint() = *checkpoint;
  }
  return absl::OkStatus();
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  return ToGrpcStatus(GetStatusFor(GrpcAdmission(gate_, *context), *response));
}

absl::Status AdminService::GetStatusFor(const Admission& admit, v1::GetStatusResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, admit(Method::kGetStatus, {}));
  response.set_ledger_size(ledger_.Size());
  if (std::optional<v1::Checkpoint> checkpoint = ledger_.LatestStoredCheckpoint()) {
    *response.mutable_latest_checkpoint() = *std::move(checkpoint);
  }
  const storage::Ledger::Integrity integrity = ledger_.GetIntegrity();
  response.set_verified_at_start(integrity.verified);
  response.set_read_only(integrity.damaged);
  if (integrity.damaged_seq) response.set_damaged_seq(*integrity.damaged_seq);
  response.set_problem(integrity.problem);
  if (monitor_ != nullptr) {
    const AlertMonitor::Lag lag = monitor_->lag();
    response.set_detection_lag_entries(lag.entries);
    response.set_detection_lag_seconds(absl::ToDoubleSeconds(lag.time));
  }
  *response.mutable_now() = ToProto(Now());
  return absl::OkStatus();
}

grpc::Status AdminService::Erase(grpc::ServerContext* context, const v1::EraseRequest* request,
                                 v1::EraseResponse* response) {
  return ToGrpcStatus(DoErase(*context, *request, *response));
}

absl::Status AdminService::DoErase(grpc::ServerContext& context, const v1::EraseRequest& request,
                                   v1::EraseResponse& response) {
  v1::QueryRecord asked;
  asked.set_method("Erase");
  asked.set_subject_id(request.subject_id());
  asked.set_reason(request.reason());
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kErase, asked));
  if (request.subject_id().empty()) return absl::InvalidArgumentError("subject_id is required");
  // No one erases what is being investigated, themselves included: an
  // erasure waits until every alert about the subject is resolved.
  if (monitor_ != nullptr) {
    // What was just recorded about the subject is judged first, so that an
    // erasure cannot outrun the alert it would have raised.
    const absl::Time give_up = absl::Now() + kEraseWaitForDetection;
    while (monitor_->lag().entries > 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (monitor_->lag().entries > 0) {
      return absl::UnavailableError(
          StrCat("anomaly detection has not yet judged the latest ", monitor_->lag().entries,
                 " entries; erase again once it has caught up (innsynctl status)"));
    }
    AlertFilter open;
    open.subject_id = request.subject_id();
    open.states = {v1::ALERT_STATE_OPEN, v1::ALERT_STATE_ACKNOWLEDGED};
    bool more = false;
    std::vector<v1::AlertView> alerts = monitor_->book().List(open, 0, 1, more);
    if (!alerts.empty()) {
      return absl::FailedPreconditionError(
          StrCat("alert ", alerts.front().alert().alert_id(),
                 " about this subject is not resolved; resolve it before erasing"));
    }
  }
  storage::ErasureOrder order;
  order.subject_id = request.subject_id();
  if (request.has_before()) order.before = FromProto(request.before());
  order.reason = request.reason();
  order.reference = request.reference();
  order.requested_by = pass.caller().identity;
  order.requested_by_role = pass.caller().role;
  absl::StatusOr<std::pair<v1::AppendReceipt, v1::Erasure>> erased = ledger_.Erase(order);
  metrics_.ErasureFinished(erased.ok());
  if (!erased.ok()) return erased.status();
  LogInfo("erasure recorded at seq ", erased->first.seq(), ": ", erased->second.keys_size(),
          " data keys shredded (", erased->second.subject_entries(), " entries), by ",
          order.requested_by.empty() ? "(local)" : order.requested_by);
  *response.mutable_receipt() = erased->first;
  *response.mutable_erasure() = erased->second;
  if (absl::StatusOr<storage::Ledger::KeyCounts> keys = ledger_.CountKeys(); keys.ok()) {
    metrics_.SetDataKeys(keys->live, keys->shredded);
  }
  return absl::OkStatus();
}

grpc::Status AdminService::ImportBaseline(grpc::ServerContext* context,
                                          const v1::ImportBaselineRequest* request,
                                          v1::ImportBaselineResponse* response) {
  return ToGrpcStatus(DoImportBaseline(*context, *request, *response));
}

absl::Status AdminService::DoImportBaseline(grpc::ServerContext& context,
                                            const v1::ImportBaselineRequest& request,
                                            v1::ImportBaselineResponse& response) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kImportBaseline));
  RETURN_IF_ERROR(ValidateEvents(request.events(), Now()));
  if (request.validate_only()) return absl::OkStatus();
  v1::Baseline imported;
  imported.set_imported_by(pass.caller().identity);
  imported.set_imported_by_role(pass.caller().role);
  ASSIGN_OR_RETURN(std::vector<v1::AppendReceipt> receipts,
                   ledger_.AppendBaseline(request.events(), imported));
  for (v1::AppendReceipt& receipt : receipts) *response.add_receipts() = std::move(receipt);
  return absl::OkStatus();
}

grpc::Status AdminService::Pseudonymize(grpc::ServerContext* context,
                                        const v1::PseudonymizeRequest* request,
                                        v1::PseudonymizeResponse* response) {
  return ToGrpcStatus(DoPseudonymize(*context, *request, *response));
}

absl::Status AdminService::DoPseudonymize(grpc::ServerContext& context,
                                          const v1::PseudonymizeRequest& request,
                                          v1::PseudonymizeResponse& response) {
  v1::QueryRecord record;
  record.set_method(std::string(MethodName(Method::kPseudonymize)));
  record.set_reason(request.reason());
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kPseudonymize, record));
  if (request.subject_ids().empty()) return absl::InvalidArgumentError("subject_ids is empty");
  if (request.subject_ids_size() > kMaxPseudonymsPerCall) {
    return absl::InvalidArgumentError(StrCat("subject_ids has ", request.subject_ids_size(),
                                             " ids, more than ", kMaxPseudonymsPerCall));
  }
  for (int i = 0; i < request.subject_ids_size(); ++i) {
    const std::string& id = request.subject_ids(i);
    if (id.empty()) return absl::InvalidArgumentError(StrCat("subject_ids[", i, "] is empty"));
    ASSIGN_OR_RETURN(std::string pseudonym, ledger_.SubjectPseudonym(id));
    response.add_subject_pseudonyms(storage::ToHex(pseudonym));
  }
  // Recorded before the answer, like every query: who learned which
  // pseudonyms link to identity numbers, and how many.
  record.set_caller(pass.caller().identity);
  record.set_caller_role(pass.caller().role);
  record.set_results(static_cast<uint64_t>(request.subject_ids_size()));
  return ledger_.AppendQuery(record).status();
}

}  // namespace innsyn::daemon
