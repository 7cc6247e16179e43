#include "daemon/services/explanations.h"

#include <algorithm>
#include <vector>

#include "anomaly/engine.h"
#include "anomaly/event_conventions.h"
#include "base/proto_time.h"
#include "base/status_macros.h"

namespace innsyn::daemon {
namespace {

// Most events of a subject's history read to explain one list of accesses.
constexpr size_t kMaxExplainedHistory = 50'000;
constexpr size_t kHistoryPageSize = 1000;

}  // namespace

absl::Status ExplainAccesses(const storage::Ledger& ledger, const AlertMonitor* monitor,
                             const std::string& subject_id,
                             google::protobuf::RepeatedPtrField<v1::RecordedEntry>& entries) {
  if (monitor == nullptr || entries.empty()) return absl::OkStatus();
  const anomaly::DetectionOptions options = monitor->options();
  if (!options.enabled) return absl::OkStatus();
  // The history that can explain these accesses: from the longest look
  // back (earlier treatment) before the first to the longest look ahead
  // (a coming appointment) after the last.
  absl::Time first = absl::InfiniteFuture();
  absl::Time last = absl::InfinitePast();
  for (const v1::RecordedEntry& recorded : entries) {
    if (!recorded.entry().has_access_event()) continue;
    const absl::Time at = FromProto(recorded.entry().access_event().occurred_at());
    first = std::min(first, at);
    last = std::max(last, at);
  }
  if (first > last) return absl::OkStatus();
  const auto& care = options.no_care_relationship;
  storage::IndexQuery query;
  query.id = subject_id;
  query.from = first - absl::Hours(24) * std::max(care.treatment_days, care.days_before);
  query.to = last + absl::Hours(24) * (care.days_after + 1);
  query.limit = kHistoryPageSize;
  // The subject's accesses, and what the clinic held at go-live (baseline
  // entries, which explain without being listed).
  std::vector<v1::AccessEvent> history;
  for (auto list : {&storage::Ledger::ListSubject, &storage::Ledger::ListSubjectBaseline}) {
    query.page_token.clear();
    while (history.size() < kMaxExplainedHistory) {
      ASSIGN_OR_RETURN(storage::IndexPage page, (ledger.*list)(query));
      for (storage::StoredEntry& stored : page.entries) {
        if (stored.entry.has_access_event()) {
          history.push_back(std::move(*stored.entry.mutable_access_event()));
        } else if (stored.entry.has_baseline()) {
          // Marked as go-live state, which Explain trusts as the detector
          // does (a treatment imported is a care link of its own).
          v1::AccessEvent& event = *stored.entry.mutable_baseline()->mutable_event();
          (*event.mutable_attributes()).try_emplace(std::string(anomaly::kImport), "baseline");
          history.push_back(std::move(event));
        }
      }
      if (page.next_page_token.empty()) break;
      query.page_token = page.next_page_token;
    }
  }
  for (v1::RecordedEntry& recorded : entries) {
    if (!recorded.entry().has_access_event()) continue;
    recorded.set_explanation(anomaly::Explain(recorded.entry().access_event(), history, options));
  }
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
