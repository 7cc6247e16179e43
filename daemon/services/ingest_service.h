// innsyn.v1.IngestService: validates a request whole, then appends it to the
// ledger and answers only once it is durable. A request with any invalid
// event is refused with INVALID_ARGUMENT and nothing of it is written.
// Requests arrive as raw bytes and are decoded here (request_decoding.h), so
// that even bytes protobuf refuses get an answer naming the field.
// AppendStream is pipelined: up to kStreamWindow batches of one stream are
// queued for the ledger at once, and their answers go back in order.
// Append runs on gRPC's callback API: its handler queues the events and
// returns, and the ledger's writer finishes the call once they are durable,
// so that no thread waits for each call's group commit.
// Every call, and every batch on a stream, passes the CallGate first; the
// checks, the append and the metrics are EventIngest's, shared with HTTP.
// Thread-safe; borrows the ingest path and gate, which must outlive it.
#ifndef INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_
#define INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "daemon/auth/call_gate.h"
#include "daemon/services/event_ingest.h"
#include "innsyn/v1/service.grpc.pb.h"

namespace innsyn::daemon {

class IngestService final : public v1::IngestService::Service {
 public:
  IngestService(EventIngest& ingest, CallGate& gate);

 private:
  // The handlers' bodies. AppendStream's handler converts the status it
  // returns for gRPC, once; Append finishes its call itself, once the ledger
  // answers (or at once when it refuses the request).
  // Starts the call; `response` is gRPC's, filled before the call finishes.
  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext& context,
                                   const grpc::ByteBuffer& bytes, v1::AppendResponse& response);
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

  EventIngest& ingest_;
  CallGate& gate_;
};

}  // namespace innsyn::daemon

#endif  // INNSYN_DAEMON_SERVICES_INGEST_SERVICE_H_
