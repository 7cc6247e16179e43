// The ingest path every listener shares, without any transport: validates a
// whole AppendRequest, hands it to the ledger, and counts what was appended
// or refused in the metrics. IngestService (gRPC) and the HTTP listener
// (daemon/http) both call it, so that an event gets the same checks, the
// same idempotency (the ledger's (source, event_id) receipts), the same
// back-pressure (RESOURCE_EXHAUSTED when the ledger's queue is full) and the
// same error messages whichever way it came.
// Thread-safe; borrows the ledger and metrics, which must outlive it.
#ifndef INNSYN_DAEMON_SERVICES_EVENT_INGEST_H_
#define INNSYN_DAEMON_SERVICES_EVENT_INGEST_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporters/metrics.h"
#include "innsyn/v1/service.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class EventIngest {
 public:
  EventIngest(storage::Ledger& ledger, exporters::Metrics& metrics)
      : ledger_(ledger), metrics_(metrics) {}

  storage::Ledger& ledger() { return ledger_; }

  // Validates `request` whole, appends it and waits until it is durable.
  // InvalidArgument (nothing written) names the event and field;
  // ResourceExhausted means the ledger's queue is full: retry later.
  absl::Status AppendBatch(const v1::AppendRequest& request, v1::AppendResponse& response);

  // The halves of AppendBatch around the ledger call, for a caller that
  // queues asynchronously (AppendStream): validation, counting what it
  // refuses; and the answer with its metrics.
  absl::Status CheckBatch(const v1::AppendRequest& request, absl::Time now);
  void Answer(const v1::AppendRequest& request, std::vector<v1::AppendReceipt> receipts,
              absl::Time start, v1::AppendResponse& response);
  // Counts a request refused by the ledger, or one that could not be decoded.
  void CountRefused(const absl::Status& status, const v1::AppendRequest& request);
  void CountUndecodable();

 private:
  // The metrics label for a source: its name for the first
  // kMaxSourceLabels sources seen, "other" after that, so that clients cannot
  // grow the number of time series without bound.
  std::string SourceLabel(const std::string& system, const std::string& instance);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  absl::Mutex labels_mu_;
  absl::flat_hash_set<std::string> source_labels_ ABSL_GUARDED_BY(labels_mu_);
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_EVENT_INGEST_H_
