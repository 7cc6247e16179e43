// Why each access in a subject's list was expected, as the anomaly
// detectors can tell from the subject's own history (appointments,
// treatment, consents): shared by ListSubjectAccess and the innsyn report.
// Thread-safe; reads the ledger.
#ifndef INNSYN_DAEMON_SERVICES_EXPLANATIONS_H_
#define INNSYN_DAEMON_SERVICES_EXPLANATIONS_H_

#include <string>

#include "absl/status/status.h"
#include "daemon/alerts/alert_monitor.h"
#include "innsyn/v1/service.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

// Sets RecordedEntry.explanation on the access events in `entries`, all
// about `subject_id`. Nothing when `monitor` is null or detection is off.
absl::Status ExplainAccesses(const storage::Ledger& ledger, const AlertMonitor* monitor,
                             const std::string& subject_id,
                             google::protobuf::RepeatedPtrField<v1::RecordedEntry>& entries);

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_EXPLANATIONS_H_
