#include "daemon/services/history_proof.h"

#include "base/status_macros.h"
#include "base/strings.h"

namespace innsyn::daemon {
namespace {

// Whether the period's start or end falls inside the hour that begins at
// `hour`: then only the entry's own time says whether it is in the answer.
bool CutByPeriod(absl::Time hour, const storage::IndexQuery& query) {
  auto inside = [&](const std::optional<absl::Time>& edge) {
    return edge && *edge > hour && *edge < hour + absl::Hours(1);
  };
  return inside(query.from) || inside(query.to);
}

}  // namespace

absl::Status FillHistoryProof(storage::Ledger& ledger, const storage::HistoryProof& history,
                              const storage::IndexQuery& query, v1::HistoryProof& out) {
  ASSIGN_OR_RETURN(*out.mutable_checkpoint(), ledger.Checkpoint(history.tree_size));
  out.set_pseudonym(history.pseudonym);
  *out.mutable_map() = history.map;
  for (const storage::HistoryProof::Link& stored : history.chain) {
    v1::RecordedEntry& link = *out.add_chain();
    link.set_seq(stored.seq);
    link.set_header_bytes(stored.bytes.header);
    link.set_contents_hash(std::string(storage::AsBytes(stored.bytes.contents_hash)));
    link.set_kind(stored.header.kind());
    link.mutable_hour()->set_seconds(stored.header.hour());
    if (!CutByPeriod(absl::FromUnixSeconds(stored.header.hour()), query)) continue;
    ASSIGN_OR_RETURN(std::vector<storage::StoredEntry> opened, ledger.GetEntries(stored.seq, 1));
    if (opened.empty()) return absl::InternalError(StrCat("entry ", stored.seq, " is gone"));
    const storage::StoredEntry& entry = opened.front();
    link.set_erased(entry.erased);
    if (entry.erased) continue;
    if (entry.entry.has_access_event()) {
      *link.mutable_entry()->mutable_access_event()->mutable_occurred_at() =
          entry.entry.access_event().occurred_at();
    } else {
      *link.mutable_entry()->mutable_committed_at() = entry.entry.committed_at();
    }
  }
  return absl::OkStatus();
}

}  // namespace innsyn::daemon
