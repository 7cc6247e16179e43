#include "daemon/services/ingest_service.h"

#include <deque>
#include <memory>
#include <thread>

#include "base/clock.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/services/grpc_status.h"
#include "daemon/services/request_decoding.h"

namespace innsyn::daemon {
namespace {

// Batches, and events, of one stream queued for the ledger at once (at least
// one batch). More keep the writer busy while earlier batches wait for their
// fsync; beyond them the stream is not read, so gRPC flow control slows the
// client down instead of the ledger's full queue refusing it.
constexpr size_t kStreamWindow = 16;
constexpr size_t kStreamWindowEvents = 4096;

}  // namespace

// Method indexes in innsyn.v1.IngestService, in the order of service.proto.
constexpr int kAppendMethod = 0;
constexpr int kAppendStreamMethod = 1;

IngestService::IngestService(EventIngest& ingest, CallGate& gate) : ingest_(ingest), gate_(gate) {
  MarkMethodCallback(
      kAppendMethod,
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, v1::AppendResponse>(
          [this](grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
                 v1::AppendResponse* response) { return Append(*context, *bytes, *response); }));
  MarkMethodStreamed(
      kAppendStreamMethod,
      new grpc::internal::BidiStreamingHandler<IngestService, grpc::ByteBuffer, v1::AppendResponse>(
          [](IngestService* service, grpc::ServerContext* context,
             grpc::ServerReaderWriter<v1::AppendResponse, grpc::ByteBuffer>* stream) {
            return ToGrpcStatus(service->AppendStream(*context, *stream));
          },
          this));
}

absl::Status IngestService::DecodeBatch(const grpc::ByteBuffer& bytes, v1::AppendRequest& request) {
  absl::Status s = DecodeAppendRequest(bytes, request);
  if (!s.ok()) ingest_.CountUndecodable();
  return s;
}

absl::Status IngestService::TakeStreamBatch(const CallGate::Pass& pass, bool first,
                                            const grpc::ByteBuffer& bytes,
                                            v1::AppendRequest& request, absl::Time now) {
  if (!first) RETURN_IF_ERROR(gate_.ChargeCall(pass));
  RETURN_IF_ERROR(DecodeBatch(bytes, request));
  return ingest_.CheckBatch(request, now);
}

namespace {

// One unary Append from its admission until the ledger answers it. The
// ledger borrows `request.events()` until then; the pass (the caller's slot
// and its deadline watch) is held as long.
struct UnaryAppend {
  explicit UnaryAppend(CallGate::Pass pass) : pass(std::move(pass)) {}
  CallGate::Pass pass;
  v1::AppendRequest request;
  absl::Time start;
};

}  // namespace

grpc::ServerUnaryReactor* IngestService::Append(grpc::CallbackServerContext& context,
                                                const grpc::ByteBuffer& bytes,
                                                v1::AppendResponse& response) {
  grpc::ServerUnaryReactor* reactor = context.DefaultReactor();
  absl::StatusOr<CallGate::Pass> pass = gate_.AdmitWithoutWaiting(context, Method::kAppend);
  if (!pass.ok()) {
    reactor->Finish(ToGrpcStatus(pass.status()));
    return reactor;
  }
  auto call = std::make_unique<UnaryAppend>(*std::move(pass));
  call->start = Now();
  absl::Status s = DecodeBatch(bytes, call->request);
  if (s.ok()) s = ingest_.CheckBatch(call->request, call->start);
  if (s.ok()) {
    // The ledger's callback owns the call once it is queued.
    UnaryAppend* queued = call.release();
    s = ingest_.ledger().AppendEventsAsync(
        queued->request.events(),
        [this, queued, reactor, &response](absl::StatusOr<std::vector<v1::AppendReceipt>> result) {
          std::unique_ptr<UnaryAppend> done(queued);
          absl::Status status = result.status();
          if (result.ok()) {
            ingest_.Answer(done->request, *std::move(result), done->start, response);
          } else {
            ingest_.CountRefused(status, done->request);
          }
          // The deadline watch ends before the call does (the context goes
          // with the call).
          done.reset();
          reactor->Finish(ToGrpcStatus(status));
        });
    if (s.ok()) return reactor;
    // Never queued, so no callback will come for it.
    call.reset(queued);
    ingest_.CountRefused(s, call->request);
  }
  call.reset();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

namespace {

// One batch of a stream, from its read until its answer is written. The
// ledger borrows `request.events()` until `done`.
struct StreamBatch {
  v1::AppendRequest request;
  absl::Time start;
  absl::StatusOr<std::vector<v1::AppendReceipt>> result;
  bool done = false;
};

// Shared by the stream's reading thread, its answering thread and the
// ledger's callbacks, which may outlive the call by a moment.
struct StreamState {
  absl::Mutex mu;
  std::deque<std::unique_ptr<StreamBatch>> in_flight ABSL_GUARDED_BY(mu);
  size_t in_flight_events ABSL_GUARDED_BY(mu) = 0;
  bool reading_done ABSL_GUARDED_BY(mu) = false;
  // A batch the ledger failed: the batches before it are answered, those
  // after it are not, and the stream ends with its status.
  absl::Status write_failure ABSL_GUARDED_BY(mu);
  // A batch refused when read (undecodable, invalid, queue full): it was
  // never queued, so every batch before it is answered first.
  absl::Status read_failure ABSL_GUARDED_BY(mu);
};

absl::Status NameBatch(const v1::AppendRequest& request, const absl::Status& s) {
  return absl::Status(s.code(), StrCat("batch_id ", request.batch_id(), ": ", s.message()));
}

}  // namespace

absl::Status IngestService::AppendStream(
    grpc::ServerContext& context,
    grpc::ServerReaderWriter<v1::AppendResponse, grpc::ByteBuffer>& stream) {
  ASSIGN_OR_RETURN(CallGate::Pass pass, gate_.Admit(context, Method::kAppendStream));
  auto state = std::make_shared<StreamState>();
  // Answers batches in the order they were read, as each becomes durable.
  std::thread answering([this, state, &stream] {
    bool client_gone = false;
    while (true) {
      std::unique_ptr<StreamBatch> batch;
      {
        absl::MutexLock lock(&state->mu);
        state->mu.Await(absl::Condition(
            +[](StreamState* st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(st->mu) {
              return st->in_flight.empty() ? st->reading_done : st->in_flight.front()->done;
            },
            state.get()));
        if (state->in_flight.empty()) return;
        batch = std::move(state->in_flight.front());
        state->in_flight.pop_front();
        state->in_flight_events -= static_cast<size_t>(batch->request.events_size());
        if (!batch->result.ok()) {
          ingest_.CountRefused(batch->result.status(), batch->request);
          if (state->write_failure.ok()) {
            state->write_failure = NameBatch(batch->request, batch->result.status());
          }
        }
        // After a failure the rest are drained but not answered.
        if (!state->write_failure.ok() || client_gone) continue;
      }
      v1::AppendResponse response;
      ingest_.Answer(batch->request, *std::move(batch->result), batch->start, response);
      if (!stream.Write(response)) client_gone = true;
    }
  });

  grpc::ByteBuffer bytes;
  for (bool first = true;; first = false) {
    {
      absl::MutexLock lock(&state->mu);
      state->mu.Await(absl::Condition(
          +[](StreamState* st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(st->mu) {
            return st->in_flight.empty() ||
                   (st->in_flight.size() < kStreamWindow &&
                    st->in_flight_events < kStreamWindowEvents) ||
                   !st->write_failure.ok();
          },
          state.get()));
      if (!state->write_failure.ok()) break;
      // innsynd is stopping: answer what was read, then end the stream, so
      // that an active stream does not hold the stop up for its grace.
      if (gate_.draining()) {
        state->read_failure =
            absl::UnavailableError("innsynd is stopping; send the rest again once it is back");
        break;
      }
    }
    if (!stream.Read(&bytes)) break;
    auto batch = std::make_unique<StreamBatch>();
    batch->start = Now();
    absl::Status s = TakeStreamBatch(pass, first, bytes, batch->request, batch->start);
    StreamBatch* queued = batch.get();
    absl::MutexLock lock(&state->mu);
    if (s.ok()) {
      state->in_flight_events += static_cast<size_t>(queued->request.events_size());
      state->in_flight.push_back(std::move(batch));
      s = ingest_.ledger().AppendEventsAsync(
          queued->request.events(),
          [state, queued](absl::StatusOr<std::vector<v1::AppendReceipt>> result) {
            absl::MutexLock lock(&state->mu);
            queued->result = std::move(result);
            queued->done = true;
          });
      if (!s.ok()) {
        // Never queued, so no callback will come for it.
        ingest_.CountRefused(s, queued->request);
        batch = std::move(state->in_flight.back());
        state->in_flight.pop_back();
        state->in_flight_events -= static_cast<size_t>(queued->request.events_size());
      }
    }
    if (!s.ok()) {
      state->read_failure = NameBatch(queued->request, s);
      break;
    }
  }
  {
    absl::MutexLock lock(&state->mu);
    state->reading_done = true;
  }
  answering.join();
  absl::MutexLock lock(&state->mu);
  return state->write_failure.ok() ? state->read_failure : state->write_failure;
}

}  // namespace innsyn::daemon
