#include "daemon/services/event_ingest.h"

#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/services/validation.h"
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

std::string EventIngest::SourceLabel(const std::string& system, const std::string& instance) {
  std::string label = instance.empty() ? system : StrCat(system, "/", instance);
  absl::MutexLock lock(&labels_mu_);
  if (source_labels_.contains(label)) return label;
  if (source_labels_.size() >= kMaxSourceLabels) return "other";
  source_labels_.insert(label);
  return label;
}

void EventIngest::CountUndecodable() { metrics_.EventsRejected("undecodable", 1); }

absl::Status EventIngest::CheckBatch(const v1::AppendRequest& request, absl::Time now) {
  absl::Status s = ValidateAppendRequest(request, now);
  if (!s.ok()) {
    metrics_.EventsRejected("invalid_argument", static_cast<uint64_t>(request.events_size()));
  }
  return s;
}

void EventIngest::CountRefused(const absl::Status& status, const v1::AppendRequest& request) {
  const char* reason = absl::IsResourceExhausted(status) ? "queue_full"
                       : absl::IsAlreadyExists(status)   ? "event_id_reused"
                                                         : "storage_unavailable";
  metrics_.EventsRejected(reason, static_cast<uint64_t>(request.events_size()));
}

void EventIngest::Answer(const v1::AppendRequest& request, std::vector<v1::AppendReceipt> receipts,
                         absl::Time start, v1::AppendResponse& response) {
  response.set_batch_id(request.batch_id());
  // Counted per (source, action) and added once each: a batch of a thousand
  // events from one system touches the metrics a few times, not a thousand.
  absl::flat_hash_map<std::tuple<std::string, std::string, v1::ActionSubtype>, uint64_t> appended;
  for (size_t i = 0; i < receipts.size(); ++i) {
    const v1::AccessEvent& event = request.events(static_cast<int>(i));
    if (!receipts[i].duplicate()) {
      ++appended[{event.source().system(), event.source().instance(), event.action_subtype()}];
    }
    *response.add_receipts() = std::move(receipts[i]);
  }
  for (const auto& [key, count] : appended) {
    const auto& [system, instance, action] = key;
    metrics_.EventsAppended(SourceLabel(system, instance), ActionLabel(action), count);
  }
  metrics_.SetLedgerSize(ledger_.Size());
  metrics_.ObserveAppendLatency(Now() - start);
}

absl::Status EventIngest::AppendBatch(const v1::AppendRequest& request,
                                      v1::AppendResponse& response) {
  const absl::Time start = Now();
  RETURN_IF_ERROR(CheckBatch(request, start));
  absl::StatusOr<std::vector<v1::AppendReceipt>> receipts = ledger_.AppendEvents(request.events());
  if (!receipts.ok()) {
    CountRefused(receipts.status(), request);
    return receipts.status();
  }
  Answer(request, *std::move(receipts), start, response);
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
