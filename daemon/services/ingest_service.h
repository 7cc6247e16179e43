// innsyn.v1.IngestService: validates a request whole, then appends it to the
// ledger and answers only once it is durable. A request with any invalid
// event is refused with INVALID_ARGUMENT and nothing of it is written.
// Requests arrive as raw bytes and are decoded here (request_decoding.h), so
// that even bytes protobuf refuses get an answer naming the field.
// AppendStream is pipelined: up to kStreamWindow batches of one stream are
// queued for the ledger at once, and their answers go back in order.
// Every call, and every batch on a stream, passes the CallGate first.
// Thread-safe; borrows the ledger, metrics and gate, which must outlive it.
#ifndef INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_

#include <grpcpp/support/byte_buffer.h>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "daemon/auth/call_gate.h"
#include "exporters/metrics.h"
#include "innsyn/v1/service.grpc.pb.h"
#include "storage/ledger.h"

namespace innsyn::daemon {

class IngestService final : public v1::IngestService::Service {
 public:
  IngestService(storage::Ledger& ledger, exporters::Metrics& metrics, CallGate& gate);

 private:
  // The handlers' bodies; the handlers registered in the constructor
  // convert the status each returns for gRPC, once.
  absl::Status Append(grpc::ServerContext& context,
                      grpc::ServerUnaryStreamer<grpc::ByteBuffer, v1::AppendResponse>& call);
  absl::Status AppendStream(grpc::ServerContext& context,
                            grpc::ServerReaderWriter<v1::AppendResponse, grpc::ByteBuffer>& stream);

  // Decodes one request, counting it if it is refused.
  absl::Status DecodeBatch(const grpc::ByteBuffer& bytes, v1::AppendRequest& request);
  // A batch read from a stream, before it is queued: charged to the caller's
  // rate limit (but the first, charged when the stream was admitted),
  // decoded and validated.
  absl::Status TakeStreamBatch(const CallGate::Pass& pass, bool first,
                               const grpc::ByteBuffer& bytes, v1::AppendRequest& request,
                               absl::Time now);
  absl::Status AppendBatch(const v1::AppendRequest& request, v1::AppendResponse& response);
  // The halves of AppendBatch around the ledger call: validation (counting
  // what it refuses), and the answer with its metrics.
  absl::Status CheckBatch(const v1::AppendRequest& request, absl::Time now);
  void CountRefused(const absl::Status& status, const v1::AppendRequest& request);
  void Answer(const v1::AppendRequest& request, std::vector<v1::AppendReceipt> receipts,
              absl::Time start, v1::AppendResponse& response);

  // The metrics label for a source: its name for the first
  // kMaxSourceLabels sources seen, "other" after that, so that clients cannot
  // grow the number of time series without bound.
  std::string SourceLabel(const std::string& system, const std::string& instance);

  storage::Ledger& ledger_;
  exporters::Metrics& metrics_;
  CallGate& gate_;
  absl::Mutex labels_mu_;
  absl::flat_hash_set<std::string> source_labels_ ABSL_GUARDED_BY(labels_mu_);
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_
