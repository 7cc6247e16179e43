// innsyn.v1.IngestService: validates a request whole, then appends it to the
// ledger and answers only once it is durable. A request with any invalid
// event is refused with INVALID_ARGUMENT and nothing of it is written.
// Thread-safe; borrows the ledger and metrics, which must outlive it.
#ifndef INNSYN_DAEMON_INGEST_SERVICE_H_
#define INNSYN_DAEMON_INGEST_SERVICE_H_

#include "exporters/metrics.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class IngestService final : public v1::IngestService::Service {
 public:
  IngestService(storage::Ledger& ledger, exporters::Metrics& metrics)
      : ledger_(ledger), metrics_(metrics) {}

  grpc::Status Append(grpc::ServerContext* context, const v1::AppendRequest* request,
                      v1::AppendResponse* response) override;
  grpc::Status AppendStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::AppendResponse, v1::AppendRequest>* stream) override;

 private:
  absl::Status AppendBatch(const v1::AppendRequest& request, v1::AppendResponse& response);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_INGEST_SERVICE_H_
