#include "daemon/ingest_service.h"

#include "storage/strings.h"
#include "daemon/grpc_status.h"
#include "daemon/request_decoding.h"
#include "daemon/validation.h"
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::daemon {
namespace {

constexpr size_t kMaxSourceLabels = 64;

std::string ActionLabel(v1::ActionSubtype subtype) {
  std::string name = v1::ActionSubtype_Name(subtype);
  constexpr std::string_view kPrefix = "ACTION_SUBTYPE_";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

// Method indexes in innsyn.v1.IngestService, in the order of service.proto.
constexpr int kAppendMethod = 0;
constexpr int kAppendStreamMethod = 1;

IngestService::IngestService(storage::Ledger& ledger, exporters::Metrics& metrics)
    : ledger_(ledger), metrics_(metrics) {
  MarkMethodStreamed(
      kAppendMethod,
      new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, v1::AppendResponse>(
          [this](grpc::ServerContext*,
                 grpc::ServerUnaryStreamer<grpc::ByteBuffer, v1::AppendResponse>* call) {
            return Append(*call);
          }));
  MarkMethodStreamed(
      kAppendStreamMethod,
      new grpc::internal::BidiStreamingHandler<IngestService, grpc::ByteBuffer, v1::AppendResponse>(
          [](IngestService* service, grpc::ServerContext*,
             grpc::ServerReaderWriter<v1::AppendResponse, grpc::ByteBuffer>* stream) {
            return service->AppendStream(*stream);
          },
          this));
}

std::string IngestService::SourceLabel(const std::string& system, const std::string& instance) {
  std::string label = instance.empty() ? system : StrCat(system, "/", instance);
  absl::MutexLock lock(&labels_mu_);
  if (source_labels_.contains(label)) return label;
  if (source_labels_.size() >= kMaxSourceLabels) return "other";
  source_labels_.insert(label);
  return label;
}

absl::Status IngestService::AppendBatch(const v1::AppendRequest& request,
                                        v1::AppendResponse& response) {
  absl::Time start = absl::Now();
  response.set_batch_id(request.batch_id());
  if (absl::Status s = ValidateAppendRequest(request, start); !s.ok()) {
    metrics_.EventsRejected("invalid_argument", static_cast<uint64_t>(request.events_size()));
    return s;
  }
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_.AppendEvents(request.events());
  if (!receipts.ok()) {
    metrics_.EventsRejected(
        absl::IsResourceExhausted(receipts.status()) ? "queue_full" : "storage_unavailable",
        static_cast<uint64_t>(request.events_size()));
    return receipts.status();
  }
  // Counted per (source, action) and added once each: a batch of a thousand
  // events from one system touches the metrics a few times, not a thousand.
  absl::flat_hash_map<std::tuple<std::string, std::string, v1::ActionSubtype>, uint64_t> appended;
  for (size_t i = 0; i < receipts->size(); ++i) {
    const v1::AccessEvent& event = request.events(static_cast<int>(i));
    if (!(*receipts)[i].duplicate()) {
      ++appended[{event.source().system(), event.source().instance(), event.action_subtype()}];
    }
    *response.add_receipts() = std::move((*receipts)[i]);
  }
  for (const auto& [key, count] : appended) {
    const auto& [system, instance, action] = key;
    metrics_.EventsAppended(SourceLabel(system, instance), ActionLabel(action), count);
  }
  metrics_.SetLedgerSize(ledger_.Size());
  metrics_.ObserveAppendLatency(absl::Now() - start);
  return absl::OkStatus();
}

grpc::Status IngestService::Append(
    grpc::ServerUnaryStreamer<grpc::ByteBuffer, v1::AppendResponse>& call) {
  grpc::ByteBuffer bytes;
  if (!call.Read(&bytes)) return grpc::Status(grpc::StatusCode::CANCELLED, "no request");
  v1::AppendRequest request;
  if (absl::Status s = DecodeAppendRequest(bytes, request); !s.ok()) {
    metrics_.EventsRejected("undecodable", 1);
    return ToGrpcStatus(s);
  }
  v1::AppendResponse response;
  if (absl::Status s = AppendBatch(request, response); !s.ok()) return ToGrpcStatus(s);
  call.Write(response);
  return grpc::Status::OK;
}

grpc::Status IngestService::AppendStream(
    grpc::ServerReaderWriter<v1::AppendResponse, grpc::ByteBuffer>& stream) {
  grpc::ByteBuffer bytes;
  while (stream.Read(&bytes)) {
    v1::AppendRequest request;
    v1::AppendResponse response;
    absl::Status s = DecodeAppendRequest(bytes, request);
    if (s.ok()) s = AppendBatch(request, response);
    // A bad batch ends the stream with its status; the batches acknowledged
    // before it stay recorded.
    if (!s.ok()) {
      return ToGrpcStatus(
          absl::Status(s.code(), StrCat("batch_id ", request.batch_id(), ": ", s.message())));
    }
    if (!stream.Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace innsyn::daemon
